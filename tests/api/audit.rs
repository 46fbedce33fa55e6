//! The audit log on every backend: each write leaves one row in its own transaction (who,
//! when, what, the changed fields before and after, passwords redacted); a failed write leaves
//! none; `_audit` is read-only and guarded like any entity.

use serde_json::{Value as Json, json};

use crate::auth::{config, token};
use crate::common::{Backend, TestApp, spawn_app};

async fn audit_rows(app: &TestApp, bearer: &str) -> Vec<Json> {
    let response = app
        .client
        .get(format!("{}/_audit?_sortField=id", app.api))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Json,
) -> (u16, Json) {
    let response = app
        .client
        .request(method, format!("{}{path}", app.api))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Json::Null),
    )
}

pub async fn every_write_is_audited(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let (root, ed) = (token(&app, "root").await, token(&app, "ed").await);
    use reqwest::Method as M;
    let (_, author) = send(
        &app,
        M::POST,
        "/authors",
        &root,
        json!({"name": "Ann", "email": "ann@example.com"}),
    )
    .await;
    let (_, post) = send(
        &app,
        M::POST,
        "/posts",
        &ed,
        json!({"title": "Draft", "author_id": author["id"]}),
    )
    .await;
    let post_id = post["id"].as_i64().unwrap();
    let (status, _) = send(
        &app,
        M::PATCH,
        &format!("/posts/{post_id}"),
        &ed,
        json!({"title": "Final", "views": 0}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &app,
        M::DELETE,
        &format!("/posts/{post_id}"),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let mut tags = Vec::new();
    for name in ["a", "b"] {
        tags.push(
            send(&app, M::POST, "/tags", &root, json!({"name": name}))
                .await
                .1["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (status, _) = send(
        &app,
        M::DELETE,
        &format!("/tags?ids=[{},{}]", tags[0], tags[1]),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);

    let rows = audit_rows(&app, &root).await;
    let summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap().to_owned(),
                r["entity"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |a: &str, e: &str, x: &str| (a.to_owned(), e.to_owned(), x.to_owned());
    assert_eq!(
        summary,
        [
            expect("root", "authors", "create"),
            expect("ed", "posts", "create"),
            expect("ed", "posts", "update"),
            expect("root", "posts", "delete"),
            expect("root", "tags", "create"),
            expect("root", "tags", "create"),
            expect("root", "tags", "delete"),
            expect("root", "tags", "delete"),
        ]
    );
    let update = &rows[2];
    assert_eq!(update["record_id"], post_id.to_string());
    // Only what changed (views was 0 already).
    assert_eq!(update["before"], json!({"title": "Draft"}));
    assert_eq!(update["after"], json!({"title": "Final"}));
    assert_eq!(rows[1]["before"], Json::Null);
    assert_eq!(rows[1]["after"]["title"], "Draft");
    assert_eq!(rows[3]["before"]["title"], "Final");
    assert_eq!(rows[3]["after"], Json::Null);
    assert!(chrono::DateTime::parse_from_rfc3339(rows[0]["at"].as_str().unwrap()).is_ok());
    // The history of one record, newest first, as the app asks for it.
    let response = app
        .client
        .get(format!(
            "{}/_audit?_sortField=id&_sortDir=DESC&_filters={}",
            app.api,
            crate::common::urlencode(
                &json!({"entity": "posts", "record_id": post_id.to_string()}).to_string()
            )
        ))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    let history: Vec<Json> = response.json().await.unwrap();
    let actions: Vec<&str> = history
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "update", "create"]);

    // Guarded like any entity, and read-only.
    let response = app
        .client
        .get(format!("{}/_audit", app.api))
        .bearer_auth(&ed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, _) = send(&app, M::POST, "/_audit", &root, json!({"entity": "x"})).await;
    assert_eq!(status, 405);
    let (status, _) = send(
        &app,
        M::DELETE,
        &format!("/_audit/{}", rows[0]["id"]),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(status, 405);
}

pub async fn failed_writes_leave_no_audit_row(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = token(&app, "root").await;
    use reqwest::Method as M;
    let (_, author) = send(
        &app,
        M::POST,
        "/authors",
        &root,
        json!({"name": "Ann", "email": "ann@example.com"}),
    )
    .await;
    send(
        &app,
        M::POST,
        "/posts",
        &root,
        json!({"title": "Kept", "author_id": author["id"]}),
    )
    .await;
    let before = app.db.count("autoadmin_audit").await;
    let failures = [
        (M::POST, "/posts".to_owned(), json!({"title": ""})),
        (
            M::POST,
            "/posts".to_owned(),
            json!({"title": "x", "author_id": 4242}),
        ),
        (
            M::POST,
            "/authors".to_owned(),
            json!({"name": "Dup", "email": "ann@example.com"}),
        ),
        (M::DELETE, format!("/authors/{}", author["id"]), json!({})),
        (
            M::DELETE,
            format!("/authors?ids=[{},4242]", author["id"]),
            json!({}),
        ),
        (M::PUT, "/posts/4242".to_owned(), json!({"title": "x"})),
    ];
    for (method, path, body) in failures {
        let (status, reply) = send(&app, method.clone(), &path, &root, body).await;
        assert!(
            (400..500).contains(&status),
            "{method} {path}: {status} {reply}"
        );
    }
    assert_eq!(
        app.db.count("autoadmin_audit").await,
        before,
        "a failed write leaves no audit row"
    );
}

const SECRETS: &str = r#"
[[entity]]
name = "kitchen"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  [[entity.field]]
  name = "secret"
  type = "password"
"#;

pub async fn passwords_are_redacted(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], SECRETS).await else {
        return;
    };
    let created = app
        .create("kitchen", json!({"name": "n", "secret": "hunter2"}))
        .await;
    let id = created["id"].as_i64().unwrap();
    app.put(&format!("/kitchen/{id}"), json!({"secret": "hunter3"}))
        .await;
    let rows = app.get("/_audit?_sortField=id").await.body;
    assert_eq!(rows[0]["after"]["secret"], "(changed)");
    assert_eq!(rows[1]["after"], json!({"secret": "(changed)"}));
    let text = |column: &str| {
        if backend == Backend::Postgres {
            format!("{column}::text")
        } else {
            column.to_owned()
        }
    };
    let stored = app
        .db
        .scalar(&format!(
            "SELECT COUNT(*) FROM autoadmin_audit WHERE {} LIKE '%hunter%' OR {} LIKE '%hunter%'",
            text("new_values"),
            text("old_values")
        ))
        .await;
    assert_eq!(
        stored.as_deref(),
        Some("0"),
        "no password reaches the audit table"
    );
}
