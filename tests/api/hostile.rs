//! A corpus of hostile inputs through every parameter: filters (values, field names,
//! operators), sort, search, json-server parameters, ids, body keys and values, batch ids.
//! Every answer must be a 2xx or a 4xx in the error shape, never a 5xx, and the database must
//! be exactly as before.

use reqwest::Method;
use serde_json::json;

use crate::common::{Backend, TestApp, blog_app, urlencode};

/// Injection attempts, metacharacters, encodings, oversized and odd values.
fn corpus() -> Vec<String> {
    let mut inputs: Vec<String> = [
        "' OR '1'='1",
        "' OR 1=1 --",
        "1; DROP TABLE posts; --",
        "\"; DROP TABLE authors; --",
        "1 OR 1=1",
        "') OR ('a'='a",
        "%' OR '1'='1",
        "\\' OR 1=1 --",
        "admin'--",
        "' /*",
        "1' UNION SELECT generation FROM autoadmin_sessions --",
        "UNION SELECT 1,2,3,4,5,6,7,8,9,10",
        "1)) OR 1=1 --",
        "`; DROP TABLE tags; --",
        "$1",
        "$2::text",
        "?",
        "??",
        "%",
        "%%",
        "_",
        "\\",
        "\\\\",
        "'",
        "''",
        "\"",
        "`",
        ";",
        "--",
        "/*",
        "*/",
        "0x414243",
        "CHAR(65)",
        "SLEEP(5)",
        "pg_sleep(5)",
        "'; SELECT pg_sleep(5); --",
        "1' AND SLEEP(5) AND '1'='1",
        "randomblob(100000000)",
        "\u{202e}",
        "😀",
        "NULL",
        "null",
        "true",
        "-1",
        "9999999999999999999999",
        "1e309",
        "NaN",
        "Infinity",
        "{\"$gt\": \"\"}",
        "[1,2]",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "${7*7}",
        "{{7*7}}",
        "\r\nX-Injected: 1",
        "id desc",
        "id; DROP TABLE posts",
        "title ASC, (SELECT 1)",
        "\"title\"",
        "posts.title",
        "*",
        "title COLLATE \"C\"",
        "\u{0}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    inputs.push("a".repeat(10_000));
    inputs
}

/// The error shape, and no SQL or internals in it. Messages quote the input they refuse
/// (between double quotes): that part is the client's own text, so it is left out.
fn error_shape(reply: &crate::common::Reply, input: &str) {
    if reply.status < 400 {
        return;
    }
    for key in ["code", "message", "request_id"] {
        assert!(
            reply.body[key].is_string(),
            "{key} in {} for {input:?}",
            reply.body
        );
    }
    let message = reply.body["message"].as_str().unwrap_or_default();
    let ours: String = message
        .split('"')
        .step_by(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    for leak in [
        "select ",
        "insert ",
        "delete from",
        "syntax",
        "sqlx",
        "panicked",
        ".rs:",
    ] {
        assert!(
            !ours.contains(leak),
            "the error leaks {leak:?}: {}",
            reply.body
        );
    }
}

async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut state = Vec::new();
    for table in ["authors", "posts", "comments", "tags"] {
        state.push(format!("{table}:{}", app.db.count(table).await));
    }
    let titles = app.db.scalar("SELECT MAX(title) FROM posts").await;
    let views = app.db.scalar("SELECT SUM(views) FROM posts").await;
    let names = app.db.scalar("SELECT MAX(name) FROM tags").await;
    state.push(format!("{titles:?} {views:?} {names:?}"));
    state
}

pub async fn hostile_inputs_are_rejected_or_harmless(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    for i in 0..3 {
        app.create(
            "posts",
            json!({"title": format!("Post {i}"), "author_id": author["id"], "views": i}),
        )
        .await;
    }
    app.create("tags", json!({"name": "kept"})).await;
    let before = snapshot(&app).await;
    let inputs = corpus();
    assert!(inputs.len() >= 50, "{} inputs", inputs.len());
    let mut n_requests = 0;
    for input in &inputs {
        let e = urlencode(input);
        let as_json = serde_json::to_string(input).unwrap();
        let filter = |object: serde_json::Value| urlencode(&object.to_string());
        let gets = [
            format!("/posts?_filters={}", filter(json!({"title": input}))),
            format!(
                "/posts?_filters={}",
                filter(json!({"title": {"like": input}, "views": {"gte": input}}))
            ),
            format!(
                "/posts?_filters={}",
                filter(json!({"title": {"ilike": input}, "id": {"in": [input]}}))
            ),
            format!("/posts?_filters={}", filter(json!({input: "x"}))),
            format!("/posts?_filters={}", filter(json!({"title": {input: "x"}}))),
            format!("/posts?_filters={e}"),
            format!("/posts?_sortField={e}&_sortDir={e}"),
            format!("/posts?sort={}", urlencode(&format!("[{as_json},\"ASC\"]"))),
            format!("/posts?_sort={e}&_order=desc"),
            format!("/posts?q={e}"),
            format!("/posts?title_like={e}&views_gte={e}"),
            format!("/posts?{e}=1"),
            format!("/posts?range={e}"),
            format!("/posts?_page={e}&_perPage={e}"),
            format!("/posts/{e}"),
            format!("/posts/export.csv?q={e}"),
            format!("/{e}"),
        ];
        for path in gets {
            let reply = app.get(&path).await;
            n_requests += 1;
            assert!(
                reply.status < 500,
                "GET {path}: {} {}",
                reply.status,
                reply.body
            );
            if reply.status >= 400 {
                error_shape(&reply, input);
            }
        }
        let writes = [
            (
                Method::POST,
                "/tags".to_owned(),
                json!({ input.clone(): "x" }),
            ),
            (
                Method::POST,
                "/posts".to_owned(),
                json!({"title": "t", "author_id": input, "views": input}),
            ),
            (Method::PUT, format!("/posts/{e}"), json!({"title": "t"})),
            (
                Method::PATCH,
                "/posts/1".to_owned(),
                json!({"views": input, "published_at": input, "status": input}),
            ),
            (
                Method::DELETE,
                format!("/tags?ids={}", urlencode(&format!("[{as_json}]"))),
                json!({}),
            ),
            (Method::DELETE, format!("/tags/{e}"), json!({})),
        ];
        for (method, path, body) in writes {
            let reply = app.request(method.clone(), &path, Some(&body)).await;
            n_requests += 1;
            assert!(
                reply.status < 500,
                "{method} {path}: {} {}",
                reply.status,
                reply.body
            );
            assert!(
                reply.status >= 400 || method == Method::DELETE && reply.status == 200,
                "{method} {path} must not succeed: {}",
                reply.body
            );
            error_shape(&reply, input);
        }
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "the database is unchanged after {n_requests} hostile requests"
    );
    assert!(n_requests > 1000);
}
