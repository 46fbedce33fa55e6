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
