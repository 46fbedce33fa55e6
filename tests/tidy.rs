//! Tidy checks over the source tree: invariants that are easier to keep than to restore.

use std::path::{Path, PathBuf};

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// SQL text is made only in src/db/: everywhere else, user input cannot get near it.
#[test]
fn sql_only_in_the_db_layer() {
    let mut sources = Vec::new();
    files(&root().join("src"), "rs", &mut sources);
    let db = root().join("src").join("db");
    let mut offenders = Vec::new();
    for path in sources.iter().filter(|p| !p.starts_with(&db)) {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if ["\"SELECT ", "\"INSERT ", "\"UPDATE ", "\"DELETE FROM"]
                .iter()
                .any(|sql| line.contains(sql))
            {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL text outside src/db/:\n{}",
        offenders.join("\n")
    );
}

/// No stubs pretending to be done.
#[test]
fn no_stubs_in_src() {
    let mut sources = Vec::new();
    files(&root().join("src"), "rs", &mut sources);
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        for stub in ["todo!(", "unimplemented!("] {
            assert!(!text.contains(stub), "{} contains {stub}", path.display());
        }
    }
}

/// The front end never turns data into HTML.
#[test]
fn no_inner_html_in_the_front_end() {
    let mut scripts = Vec::new();
    files(&root().join("frontend"), "js", &mut scripts);
    for path in scripts {
        let text = std::fs::read_to_string(&path).unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!text.contains(sink), "{} uses {sink}", path.display());
        }
    }
}

/// The server sends the app's scripts without their comment lines (`api/app.rs`), which is
/// only safe while no line of them starts inside a string: no template literal spans lines.
#[test]
fn no_string_in_the_front_end_spans_lines() {
    let mut scripts = Vec::new();
    files(&root().join("frontend"), "js", &mut scripts);
    for path in scripts {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            // Backticks in a regex literal (markdown's fences) are not strings.
            let code = line.split(" // ").next().unwrap_or(line);
            let quotes = code.matches('`').count() - code.matches("/^(```").count() * 3;
            assert!(
                quotes % 2 == 0,
                "{}:{}: a template literal spans lines",
                path.display(),
                n + 1
            );
        }
    }
}

/// Files below src/, with their text and their path relative to src/.
fn sources() -> Vec<(String, String)> {
    let src = root().join("src");
    let mut paths = Vec::new();
    files(&src, "rs", &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let relative = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (relative, text)
        })
        .collect()
}

/// The lines of `text` that are code, not comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim()))
        .filter(|(_, line)| !line.starts_with("//"))
}

/// Every difference between the backends lives in `Dialect`, in the dispatch to the backend
/// files (`driver.rs`), or in a backend's own file: a `match` on the backend, or a test of
/// which backend it is, anywhere else is a second place to keep in step.
#[test]
fn backend_branches_only_in_dialect_driver_and_backend_files() {
    let allowed = [
        "db/dialect.rs",
        "db/driver.rs",
        "db/postgres.rs",
        "db/mysql.rs",
        "db/sqlite.rs",
        "db/introspect/postgres.rs",
        "db/introspect/mysql.rs",
        "db/introspect/sqlite.rs",
    ];
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        // Tests of every dialect name them.
        if allowed.contains(&path.as_str()) || path.ends_with("tests.rs") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if ["::Postgres", "::MySql", "::Sqlite"]
                .iter()
                .any(|variant| line.contains(variant))
            {
                offenders.push(format!("src/{path}:{n}: {line}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "a backend branch outside Dialect, driver.rs and the backend files:\n{}",
        offenders.join("\n")
    );
}

/// The top-level module a file of src/ belongs to (`db` for `db/sql/mod.rs`).
fn module_of(path: &str) -> String {
    path.split('/')
        .next()
        .unwrap()
        .trim_end_matches(".rs")
        .to_owned()
}

/// What each layer may not know, read from its code: the paths it names.
#[test]
fn layers_name_only_what_they_may_know() {
    let rules: [(&str, &[&str]); 8] = [
        (
            "schema",
            &[
                "axum",
                "sqlx",
                "tower",
                "http::",
                "crate::auth",
                "crate::api",
                "crate::db",
                "crate::config",
                "crate::query",
            ],
        ),
        (
            "query",
            &[
                "axum",
                "sqlx",
                "tower",
                "http::",
                "crate::auth",
                "crate::api",
                "crate::db",
                "crate::config",
            ],
        ),
        (
            "db",
            &[
                "axum",
                "tower",
                "http::",
                "crate::auth",
                "crate::api",
                "crate::config",
            ],
        ),
        ("auth", &["crate::api", "crate::ui", "crate::openapi"]),
        ("ui", &["axum", "sqlx", "crate::api", "crate::db"]),
        (
            "dashboard",
            &[
                "axum",
                "sqlx",
                "tower",
                "http::",
                "crate::api",
                "crate::db",
                "crate::auth",
            ],
        ),
        ("openapi", &["axum", "sqlx", "crate::api", "crate::db"]),
        ("import", &["axum", "tower", "http::", "crate::api"]),
    ];
    let mut offenders = Vec::new();
    // Unit tests (`tests.rs`) may reach anything: they are not part of the layer.
    for (path, text) in sources()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("tests.rs"))
    {
        let module = module_of(&path);
        let Some((_, forbidden)) = rules.iter().find(|(m, _)| *m == module) else {
            continue;
        };
        for (n, line) in code_lines(&text) {
            for name in *forbidden {
                let named = line.contains(&format!("{name}::"))
                    || line.contains(&format!("{name}}}"))
                    || line.contains(&format!("{name};"))
                    || (name.ends_with("::") && line.contains(name))
                    || line.starts_with(&format!("use {name}"));
                if named {
                    offenders.push(format!("src/{path}:{n}: {module}/ names {name}: {line}"));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "layers reaching what they may not know (docs/architecture.md, Invariants):\n{}",
        offenders.join("\n")
    );
}

/// The modules below lib.rs use each other without circles: each can be understood (and
/// tested) with only what is below it.
#[test]
fn no_import_circles_between_modules() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("tests.rs"))
    {
        let module = module_of(&path);
        if module == "lib" || module == "main" {
            continue;
        }
        let targets = edges.entry(module.clone()).or_default();
        for (_, line) in code_lines(&text) {
            for (i, _) in line.match_indices("crate::") {
                let rest = &line[i + "crate::".len()..];
                let target: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !target.is_empty() && target != module {
                    targets.insert(target);
                }
            }
        }
    }
    // Depth-first search for a path back to where it started.
    fn circle(
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        let last = path.last().unwrap().clone();
        for next in edges.get(&last).into_iter().flatten() {
            if let Some(start) = path.iter().position(|m| m == next) {
                let mut found = path[start..].to_vec();
                found.push(next.clone());
                return Some(found);
            }
            path.push(next.clone());
            if let Some(found) = circle(edges, path) {
                return Some(found);
            }
            path.pop();
        }
        None
    }
    for module in edges.keys() {
        if let Some(found) = circle(&edges, &mut vec![module.clone()]) {
            panic!("an import circle: {}", found.join(" → "));
        }
    }
}

/// Past about 600 lines a file holds more than one concept: split it (tests go in their
/// own files).
#[test]
fn source_files_stay_small() {
    let big: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 600)
        .map(|(path, text)| format!("src/{path}: {} lines", text.lines().count()))
        .collect();
    assert!(big.is_empty(), "files over 600 lines:\n{}", big.join("\n"));
}

/// The front end's shape: every request goes through api.js, what a user may do is read in
/// access.js only, and no module but main.js keeps state of its own (a top-level `let`).
#[test]
fn front_end_requests_permissions_and_state_each_in_one_place() {
    let mut scripts = Vec::new();
    files(&root().join("frontend"), "js", &mut scripts);
    let mut offenders = Vec::new();
    for path in scripts {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                continue;
            }
            let at = format!("{}:{}: {}", path.display(), n + 1, line.trim());
            if name != "api.js" && (code.contains("fetch(") || code.contains("XMLHttpRequest")) {
                offenders.push(format!("{at} (requests go through api.js)"));
            }
            if name != "access.js" && code.contains("permissions") {
                offenders.push(format!("{at} (permissions are read by access.js's can())"));
            }
            let top_level = !line.starts_with(' ') && !line.starts_with('\t');
            if name != "main.js"
                && top_level
                && (code.starts_with("let ") || code.starts_with("var "))
            {
                offenders.push(format!("{at} (module state belongs to main.js)"));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}
