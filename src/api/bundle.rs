//! The app's ES modules as one script, so that a cold load is one request for the code, not
//! one per module (35 of them over HTTP/1.1 took most of the time to the first row). No build
//! step: the server joins the modules it embeds, in the order a browser would evaluate them.
//!
//! Each module becomes a function run once, whose exports are an object; an import becomes a
//! `const` taken from that object. This holds for the forms the app's modules are written in
//! (one statement per line): `import { a, b as c } from './x.js';`, `import * as x from …;`,
//! `import x from …;` (a default export), and `export function`, `export async function`,
//! `export const`, `export class`, `export default`. Anything else, or a cycle of imports, is
//! an error naming the module and the line (the app's own tests bundle it), never a broken
//! app: the server then serves the modules one by one.

use std::collections::BTreeMap;

/// `modules` (path → source, e.g. `assets/main.js`) joined into one script from `entry`.
pub fn bundle(modules: &BTreeMap<String, String>, entry: &str) -> Result<String, String> {
    let mut order = Vec::new();
    visit(modules, entry, &mut Vec::new(), &mut order)?;
    let mut out = String::from("const __modules = {};\n");
    for path in &order {
        out.push_str(&wrap(path, &modules[path])?);
    }
    Ok(out)
}

/// Puts `path`'s imports (depth first) and then `path` in `order`, once each.
fn visit(
    modules: &BTreeMap<String, String>,
    path: &str,
    stack: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), String> {
    if order.iter().any(|p| p == path) {
        return Ok(());
    }
    if stack.iter().any(|p| p == path) {
        return Err(format!(
            "{path}: imports form a cycle ({})",
            stack.join(" → ")
        ));
    }
    let source = modules
        .get(path)
        .ok_or_else(|| format!("{}: imports {path}, which is not there", stack.join(" → ")))?;
    stack.push(path.to_owned());
    for line in source.lines() {
        if let Some(Import { from, .. }) = import(path, line)? {
            visit(modules, &from, stack, order)?;
        }
    }
    stack.pop();
    order.push(path.to_owned());
    Ok(())
}

/// One import: the module it names (as a path like `assets/dom.js`) and what it binds.
struct Import {
    from: String,
    binds: String,
}

/// The import on `line` of the module `path`, if it is one.
fn import(path: &str, line: &str) -> Result<Option<Import>, String> {
    let Some(rest) = line.strip_prefix("import ") else {
        return Ok(None);
    };
    let unsupported = || format!("{path}: an import of a form the bundle does not know: {line}");
    let (what, from) = rest.rsplit_once(" from ").ok_or_else(unsupported)?;
    let from = from
        .trim_end_matches(';')
        .trim_matches('\'')
        .trim_matches('"');
    let directory = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let from = resolve(directory, from).ok_or_else(unsupported)?;
    let binds = if let Some(names) = what.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
        let names: Vec<String> = names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.replace(" as ", ": "))
            .collect();
        format!("const {{ {} }} = __modules[\"{from}\"];", names.join(", "))
    } else if let Some(name) = what.strip_prefix("* as ") {
        format!("const {} = __modules[\"{from}\"];", name.trim())
    } else if is_identifier(what) {
        format!("const {what} = __modules[\"{from}\"].default;")
    } else {
        return Err(unsupported());
    };
    Ok(Some(Import { from, binds }))
}

/// `./x.js` or `../x.js` from `directory` (`assets/views`) as a path (`assets/x.js`).
fn resolve(directory: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = directory.split('/').filter(|p| !p.is_empty()).collect();
    if !relative.starts_with("./") && !relative.starts_with("../") {
        return None;
    }
    for part in relative.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The module `path` as a function run once, its exports the object it returns.
fn wrap(path: &str, source: &str) -> Result<String, String> {
    let mut body = String::with_capacity(source.len() + 256);
    let mut exports = Vec::new();
    for line in source.lines() {
        if let Some(Import { binds, .. }) = import(path, line)? {
            body.push_str(&binds);
        } else if let Some(rest) = line.strip_prefix("export default ") {
            body.push_str("const __default = ");
            body.push_str(rest);
            exports.push("default: __default".to_owned());
        } else if let Some(rest) = line.strip_prefix("export ") {
            let declared = ["async function ", "function ", "const ", "class "]
                .iter()
                .find_map(|keyword| rest.strip_prefix(keyword));
            let name: String = declared
                .map(|d| {
                    d.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                        .collect()
                })
                .filter(|n: &String| !n.is_empty())
                .ok_or_else(|| {
                    format!("{path}: an export of a form the bundle does not know: {line}")
                })?;
            body.push_str(rest);
            exports.push(name);
        } else {
            body.push_str(line);
        }
        body.push('\n');
    }
    Ok(format!(
        "__modules[\"{path}\"] = (() => {{\n{body}return {{ {} }};\n}})();\n",
        exports.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
            .collect()
    }

    #[test]
    fn modules_come_in_evaluation_order_with_their_exports() {
        let files = modules(&[
            (
                "assets/main.js",
                "import { h, mount as put } from './dom.js';\nimport * as list from './views/list.js';\nimport en from './i18n/en.js';\nput(h(list.title, en.hi));\n",
            ),
            (
                "assets/dom.js",
                "export function h(x) { return x; }\nexport async function mount() {}\n",
            ),
            (
                "assets/views/list.js",
                "import { h } from '../dom.js';\nexport const title = h('t');\nexport class Row {}\n",
            ),
            ("assets/i18n/en.js", "export default {\n  hi: 'Hi',\n};\n"),
        ]);
        let script = bundle(&files, "assets/main.js").unwrap();
        let dom = script.find("__modules[\"assets/dom.js\"] =").unwrap();
        let list = script
            .find("__modules[\"assets/views/list.js\"] =")
            .unwrap();
        let main = script.find("__modules[\"assets/main.js\"] =").unwrap();
        assert!(dom < list && list < main, "{script}");
        assert!(script.contains("const { h, mount: put } = __modules[\"assets/dom.js\"];"));
        assert!(script.contains("const list = __modules[\"assets/views/list.js\"];"));
        assert!(script.contains("const en = __modules[\"assets/i18n/en.js\"].default;"));
        assert!(script.contains("return { h, mount };"));
        assert!(script.contains("return { title, Row };"));
        assert!(
            script.contains("const __default = {\n  hi: 'Hi',\n};\nreturn { default: __default };")
        );
        assert!(
            !script
                .lines()
                .any(|l| l.starts_with("import ") || l.starts_with("export "))
        );
    }

    #[test]
    fn unknown_forms_and_cycles_are_errors() {
        let one = |source: &str| bundle(&modules(&[("assets/main.js", source)]), "assets/main.js");
        assert!(
            one("export { a };\n")
                .unwrap_err()
                .contains("export of a form")
        );
        assert!(
            one("import './side.js';\n")
                .unwrap_err()
                .contains("import of a form")
        );
        assert!(
            one("import x from 'https://cdn/x.js';\n")
                .unwrap_err()
                .contains("import of a form")
        );
        assert!(
            one("import { a } from './nowhere.js';\n")
                .unwrap_err()
                .contains("not there")
        );
        let cycle = modules(&[
            (
                "assets/a.js",
                "import { b } from './b.js';\nexport const a = 1;\n",
            ),
            (
                "assets/b.js",
                "import { a } from './a.js';\nexport const b = 1;\n",
            ),
        ]);
        assert!(bundle(&cycle, "assets/a.js").unwrap_err().contains("cycle"));
    }
}
