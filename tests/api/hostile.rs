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

/// Amy reaches the posts of author 1, and never their `views` (hidden); root reaches all.
fn boxed_config() -> String {
    format!(
        r#"{auth}
  [[auth.role]]
  name = "boxed"
  permissions = {{ posts = {{ actions = ["view", "add", "edit", "delete"], where = {{ author_id = "$user.author" }}, fields = {{ views = "hidden" }} }}, authors = ["view"] }}

  [[auth.user]]
  name = "amy"
  role = "boxed"
  attributes = {{ author = 1 }}
  password_hash = "{amy}"
"#,
        auth = crate::auth::config(),
        amy = autoadmin::auth::builtin::hash_password("amy-pass"),
    )
}

/// Attempts to reach rows outside a user's scope, or a field hidden from them: ids of other
/// rows through every route, batches mixing them with the user's, filters in every dialect
/// that would widen the scope, a cursor from another user's page, and the hidden field named
/// wherever a field can be. Every answer is a 4xx in the error shape or rows of the user's
/// alone, without the hidden field; nothing changes.
pub async fn scope_escapes_reach_nothing(backend: Backend) {
    let Some(app) =
        crate::common::spawn_app(backend, &[backend.blog_schema()], &boxed_config()).await
    else {
        return;
    };
    let root = crate::auth::as_user(&app, "root").await;
    let amy = crate::auth::as_user(&app, "amy").await;
    let mut theirs = Vec::new();
    for (author, name) in [(1, "Ann"), (2, "Bob")] {
        let body = json!({"name": name, "email": format!("{name}@example.com")});
        let (status, _) = root.call(Method::POST, "/authors", Some(body)).await;
        assert_eq!(status, 201);
        for n in 0..3 {
            let body =
                json!({"title": format!("{name} {n}"), "author_id": author, "views": 1000 + n});
            let (_, post) = root.call(Method::POST, "/posts", Some(body)).await;
            if author == 2 {
                theirs.push(post["id"].as_i64().unwrap());
            }
        }
    }
    let before = snapshot(&app).await;
    let other = theirs[0];
    let (_, page) = root.get("/posts?_perPage=1&_sortField=id").await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let cursor = root.next_cursor("/posts?_perPage=1&_sortField=id").await;
    let filter = |object: serde_json::Value| urlencode(&object.to_string());
    let reads = [
        format!("/posts/{other}"),
        format!("/posts/{other}/dependents"),
        format!("/posts/dependents?ids=[{other}]"),
        format!("/posts?id={other}"),
        format!("/posts?_filters={}", filter(json!({"id": {"in": theirs}}))),
        format!("/posts?filter={}", filter(json!({"id": theirs}))),
        format!(
            "/posts?_filters={}",
            filter(json!({"author_id": {"in": [1, 2]}}))
        ),
        format!(
            "/posts?_filters={}",
            filter(json!({"author_id": {"ne": 1}}))
        ),
        format!(
            "/posts?_filters={}",
            filter(json!({"author_id": {"is_null": false}}))
        ),
        "/posts?author_id=2&_sort=id".to_owned(),
        "/posts?author_id_ne=1".to_owned(),
        format!("/posts?q={}", urlencode("' OR 1=1 --")),
        "/posts?q=Bob".to_owned(),
        format!("/posts?_perPage=10&_sortField=id&_cursor={cursor}"),
        format!(
            "/posts/export.csv?_filters={}",
            filter(json!({"author_id": 2}))
        ),
        "/posts/aggregate?group_by=author_id".to_owned(),
        format!("/posts?_filters={}", filter(json!({"views": {"gte": 0}}))),
        format!("/posts?filter={}", filter(json!({"views": 1000}))),
        "/posts?views_gte=0&_sort=id".to_owned(),
        "/posts?_sortField=views".to_owned(),
        format!("/posts?sort={}", urlencode("[\"views\",\"ASC\"]")),
        "/posts?_sort=views&_order=desc".to_owned(),
        "/posts/aggregate?group_by=views".to_owned(),
        "/posts/aggregate?metric=sum%3Aviews".to_owned(),
        "/posts/export.xlsx?_sortField=views".to_owned(),
    ];
    for path in reads {
        let (status, body) = amy.get(&path).await;
        assert!(status < 500, "GET {path}: {status} {body}");
        // The request id is random hex, which may hold "1001".
        let mut said = body.clone();
        if let Some(object) = said.as_object_mut() {
            object.remove("request_id");
        }
        let text = said.to_string();
        if status < 400 {
            assert!(
                !text.contains("Bob") && !text.contains("views") && !text.contains("1001"),
                "GET {path} reaches another's row or the hidden field: {text}"
            );
        } else {
            // A refusal may quote what was asked (the field's name), nothing stored.
            assert!(
                body["code"].is_string() && body["request_id"].is_string(),
                "{path}: {body}"
            );
            assert!(
                !text.contains("Bob") && !text.contains("1001"),
                "{path}: {text}"
            );
        }
    }
    let writes = [
        (
            Method::PATCH,
            format!("/posts/{other}"),
            Some(json!({"title": "taken"})),
        ),
        (
            Method::PUT,
            format!("/posts/{other}"),
            Some(json!({"title": "taken", "author_id": 1})),
        ),
        (Method::DELETE, format!("/posts/{other}"), None),
        (Method::DELETE, format!("/posts?ids=[1,{other}]"), None),
        (
            Method::PATCH,
            format!("/posts?ids=[1,{other}]"),
            Some(json!({"title": "taken"})),
        ),
        (
            Method::POST,
            format!("/posts/actions/publish?ids=[{other}]"),
            None,
        ),
        (
            Method::POST,
            "/posts".to_owned(),
            Some(json!({"title": "as Bob", "author_id": 2})),
        ),
        (
            Method::PATCH,
            "/posts/1".to_owned(),
            Some(json!({"author_id": 2})),
        ),
        (
            Method::PATCH,
            "/posts/1".to_owned(),
            Some(json!({"views": 0})),
        ),
        (
            Method::POST,
            "/posts".to_owned(),
            Some(json!({"title": "t", "author_id": 1, "views": 5})),
        ),
    ];
    for (method, path, body) in writes {
        let (status, answer) = amy.call(method.clone(), &path, body).await;
        assert!(
            (400..500).contains(&status),
            "{method} {path} must be refused: {status} {answer}"
        );
        assert!(answer["code"].is_string(), "{method} {path}: {answer}");
    }
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    app.stop().await.unwrap();
}
