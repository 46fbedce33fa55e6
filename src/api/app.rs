//! The admin app over HTTP: the static files of `frontend/`, embedded in the binary, and the
//! `config.json` the app reads (the document itself is `crate::ui`'s).
//!
//! Files are served with their MIME type, a strong ETag (their SHA-256) and `no-cache`, so a
//! browser revalidates cheaply and never runs a stale file; compression is the router's job.
//! HTML gets a strict Content-Security-Policy: the app has no inline script or style.

use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::Embed;

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;

#[derive(Embed)]
#[folder = "frontend/"]
struct Assets;

/// The policy of every HTML page: only this origin's scripts, styles, images and API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET {base}/`: the app's page. `{base}` without the slash redirects to it, as the app's
/// relative URLs need it. For a user the admin knows, the page carries their `config.json`
/// (a JSON data block, never run), which saves the app a request before its first view; for
/// anyone else the app asks for it, and gets the 401 that shows the login form.
pub async fn index(
    State(state): State<AppState>,
    who: Result<Principal, ApiError>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    if !uri.path().ends_with('/') {
        return Redirect::permanent(&format!("{}/", uri.path())).into_response();
    }
    let (page, etag) = index_page();
    let Ok(who) = who else {
        return respond("index.html", || page.clone(), etag, &headers);
    };
    let config = config_for(&state, &who, uri.path().trim_end_matches('/'));
    // `<` escaped, the data block cannot end early, whatever a label holds.
    let data = config.to_string().replace('<', "\\u003c");
    let html = String::from_utf8_lossy(page).replacen(
        "</head>",
        &format!("  <script type=\"application/json\" id=\"config\">{data}</script>\n</head>"),
        1,
    );
    let digest = <sha2::Sha256 as sha2::Digest>::digest(html.as_bytes());
    let etag = format!("\"{}\"", hex(&digest));
    let mut response = respond("index.html", || html.into_bytes(), &etag, &headers);
    // It is this user's page: no shared cache keeps it.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    response
}

/// The app's configuration for `who`, with the API under `base`.
fn config_for(state: &AppState, who: &Principal, base: &str) -> serde_json::Value {
    let schema = state.schema_for(who);
    let mut config = crate::ui::config(&schema, &state.settings, &format!("{base}/api"));
    let session = state.builtin.is_some() && !who.signed_in_elsewhere;
    let own = state.builtin.as_ref().is_some_and(|policy| {
        who.user
            .as_deref()
            .is_some_and(|name| policy.is_own_user(name))
    });
    crate::ui::restrict(&mut config, who, session, session && own);
    config
}

/// Where the app's modules are served as one script (`bundle.rs`).
const BUNDLE: &str = "assets/bundle.js";

/// The app's modules (without comment lines) joined into one script, and its ETag; `None`
/// when they cannot be (the page then loads them one by one). Made once, but for a debug
/// build, which reads `frontend/` from the disk on every request.
fn app_bundle() -> Option<(Vec<u8>, String)> {
    static BUILT: std::sync::OnceLock<Option<(Vec<u8>, String)>> = std::sync::OnceLock::new();
    let build = || {
        let modules = Assets::iter()
            .filter(|path| path.starts_with("assets/") && path.ends_with(".js"))
            .filter_map(|path| {
                let file = Assets::get(&path)?;
                let text = without_comments(&String::from_utf8_lossy(&file.data), false);
                Some((path.into_owned(), text))
            })
            .collect();
        match super::bundle::bundle(&modules, "assets/main.js") {
            Ok(script) => {
                let digest = <sha2::Sha256 as sha2::Digest>::digest(script.as_bytes());
                Some((script.into_bytes(), format!("\"{}\"", hex(&digest))))
            }
            Err(error) => {
                tracing::error!("the app's modules are served one by one: {error}");
                None
            }
        }
    };
    if cfg!(debug_assertions) {
        build()
    } else {
        BUILT.get_or_init(build).clone()
    }
}

/// `index.html` loading the app as one script or, when the modules cannot be joined, with a
/// `modulepreload` link per module: the browser fetches them all at once, not one level of
/// imports after another (made once).
fn index_page() -> &'static (Vec<u8>, String) {
    static PAGE: std::sync::OnceLock<(Vec<u8>, String)> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| {
        let html = Assets::get("index.html")
            .map(|f| f.data.into_owned())
            .unwrap_or_default();
        let html = String::from_utf8_lossy(&html).into_owned();
        if app_bundle().is_some() {
            let html = html.replacen("src=\"assets/main.js\"", &format!("src=\"{BUNDLE}\""), 1);
            let digest = <sha2::Sha256 as sha2::Digest>::digest(html.as_bytes());
            return (html.into_bytes(), format!("\"{}\"", hex(&digest)));
        }
        let mut modules: Vec<String> = Assets::iter()
            .filter(|path| path.starts_with("assets/") && path.ends_with(".js"))
            .map(|path| format!("  <link rel=\"modulepreload\" href=\"{path}\">\n"))
            .collect();
        modules.sort();
        let html = html.replacen("</head>", &format!("{}</head>", modules.concat()), 1);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(html.as_bytes());
        (html.into_bytes(), format!("\"{}\"", hex(&digest)))
    })
}

/// `GET {base}/assets/{*path}`.
pub async fn assets(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return ApiError::not_found(format!("no asset \"{path}\"")).into_response();
    }
    asset(&format!("assets/{path}"), &headers)
}

fn asset(path: &str, request_headers: &HeaderMap) -> Response {
    if path == BUNDLE
        && let Some((script, etag)) = app_bundle()
    {
        return respond(path, || script, &etag, request_headers);
    }
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found(format!("no asset \"{path}\"")).into_response();
    };
    // What is sent is a function of the file, so the file's hash names it: a revalidation
    // (304) costs no work, and a file is stripped of comments only when it is sent.
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let kind = path.rsplit('.').next();
    let data = move || match kind {
        Some(kind @ ("js" | "css")) => {
            without_comments(&String::from_utf8_lossy(&file.data), kind == "css").into_bytes()
        }
        _ => file.data.into_owned(),
    };
    respond(path, data, &etag, request_headers)
}

/// A script or stylesheet as sent: without its comment lines (lines that are `//` comments,
/// and comment blocks that start a line), a fifth less to download with no build step. Code
/// is untouched: no line of the app starts inside a string (`tests/tidy.rs` checks it).
fn without_comments(text: &str, css: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut code = line.trim();
        if in_block || code.starts_with("/*") {
            match code.find("*/") {
                None => {
                    in_block = true;
                    continue;
                }
                Some(end) => {
                    in_block = false;
                    // Code after the comment's end stays.
                    code = code[end + 2..].trim();
                    if code.is_empty() {
                        continue;
                    }
                }
            }
        } else if !css && code.starts_with("//") {
            continue;
        } else {
            code = line;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// A file's response: 304 when the client has its version (`etag`), else its bytes (made by
/// `data` only then).
fn respond(
    path: &str,
    data: impl FnOnce() -> Vec<u8>,
    etag: &str,
    request_headers: &HeaderMap,
) -> Response {
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from(data()).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET {base}/config.json`.
pub async fn config_json(
    State(state): State<AppState>,
    who: Result<super::extract::Signed, ApiError>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let who = match who {
        Ok(super::extract::Signed(who)) => who,
        // The app shows its login form on 401; it needs the title and the API's address.
        Err(error) => return error.into_response(),
    };
    let base = uri.path().strip_suffix("/config.json").unwrap_or("");
    let mut response = axum::Json(config_for(&state, &who, base)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::{Assets, app_bundle, index_page, without_comments};

    #[test]
    fn the_app_is_one_script_of_every_module() {
        let (script, etag) = app_bundle().expect("the app's modules join into one script");
        let script = String::from_utf8(script).unwrap();
        for path in Assets::iter().filter(|p| p.starts_with("assets/") && p.ends_with(".js")) {
            assert!(
                script.contains(&format!("__modules[\"{path}\"] = ")),
                "{path} is left out"
            );
        }
        assert!(etag.starts_with('"'));
        let page = String::from_utf8(index_page().0.clone()).unwrap();
        assert!(page.contains("src=\"assets/bundle.js\""), "{page}");
    }

    #[test]
    fn comment_lines_go_and_code_stays() {
        let script = "// a module\n/** A doc\n * comment. */\nconst a = 'http://x'; // trailing stays\n  /* one line */\n/* a block */ const b = 2;\nconst c = `// not a comment`;\n";
        assert_eq!(
            without_comments(script, false),
            "const a = 'http://x'; // trailing stays\nconst b = 2;\nconst c = `// not a comment`;\n"
        );
        let sheet = "/* theme */\n:root { --a: 1; }\n/* two\n   lines */\na { color: red; }\n";
        assert_eq!(
            without_comments(sheet, true),
            ":root { --a: 1; }\na { color: red; }\n"
        );
    }
}
