//! Record versions (issue #13): every single-record response has an `ETag`; `If-Match` on
//! PUT, PATCH and DELETE writes only that version (412 with the current record otherwise);
//! concurrent writers with the same `If-Match` cannot both win; `version_field` counts
//! writes; a batch takes a version per id.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, blog_app, conditional, spawn_app};

async fn post(app: &TestApp) -> (i64, String) {
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    let reply = app
        .post(
            "/posts",
            json!({"title": "First", "author_id": author["id"], "views": 1}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let etag = reply
        .header("etag")
        .expect("POST answers an ETag")
        .to_owned();
    (reply.body["id"].as_i64().unwrap(), etag)
}

pub async fn if_match_writes_only_the_version_read(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let (id, created) = post(&app).await;
    let path = format!("/posts/{id}");
    // GET names the same version as the POST that made it, and 304 on If-None-Match.
    let got = app.get(&path).await;
    let first = got.header("etag").unwrap().to_owned();
    assert_eq!(first, created);
    assert!(first.starts_with('"') && first.ends_with('"') && first.len() > 10);
    let unchanged = app
        .client
        .get(format!("{}{path}", app.api))
        .header("if-none-match", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    // A write with the version read: 200 and a new version.
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &first,
        Some(json!({"title": "Second"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let second = reply.header("etag").unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(app.get(&path).await.header("etag"), Some(second.as_str()));
    // The old version no longer matches: 412 with the current record, nothing written.
    for (method, body) in [
        (reqwest::Method::PATCH, Some(json!({"views": 99}))),
        (reqwest::Method::PUT, Some(json!({"views": 99}))),
        (reqwest::Method::DELETE, None),
    ] {
        let reply = conditional(&app, method.clone(), &path, &first, body).await;
        assert_eq!(reply.status, 412, "{method} {}", reply.body);
        let (code, _) = reply.error();
        assert_eq!(code, "precondition_failed");
        assert_eq!(reply.body["current"]["title"], "Second");
        assert_eq!(reply.body["etag"], second.as_str());
        assert_eq!(reply.header("etag"), Some(second.as_str()));
    }
    // A body that breaks a rule is told so first, whatever its version: sending it again
    // after a reload would fail again.
    for method in [reqwest::Method::PATCH, reqwest::Method::PUT] {
        let body = Some(json!({"views": "many"}));
        let reply = conditional(&app, method.clone(), &path, &first, body).await;
        assert_eq!(reply.status, 422, "{method} {}", reply.body);
    }
    assert_eq!(
        app.db
            .scalar(&format!("SELECT views FROM posts WHERE id = {id}"))
            .await
            .as_deref(),
        Some("1")
    );
    // Weak tags never match a write; `*` matches any version; a list matches any of it.
    let weak = format!("W/{second}");
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &weak,
        Some(json!({"views": 2})),
    )
    .await;
    assert_eq!(reply.status, 412);
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        "*",
        Some(json!({"views": 2})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let third = reply.header("etag").unwrap().to_owned();
    let list = format!("{first}, {third}");
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &list,
        Some(json!({"views": 3})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let fourth = reply.header("etag").unwrap().to_owned();
    // Malformed: it names no version, so 412 with the current record and why, and nothing
    // is written; a missing record: 404 whatever If-Match says.
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        "abc",
        Some(json!({"views": 4})),
    )
    .await;
    assert_eq!(reply.status, 412, "{}", reply.body);
    assert!(
        reply.error().1.contains("quoted entity tags"),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["current"]["views"], 3);
    assert_eq!(reply.header("etag"), Some(fourth.as_str()));
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        "/posts/999999",
        "*",
        Some(json!({"views": 4})),
    )
    .await;
    assert_eq!(reply.status, 404);
    // Without If-Match, writes go through as before (react-admin, json-server).
    let reply = app.patch(&path, json!({"views": 5})).await;
    assert_eq!(reply.status, 200);
    let fifth = reply.header("etag").unwrap().to_owned();
    assert_ne!(fifth, fourth);
    // A write that changes nothing: 200, the same version, no audit row.
    let audited = app.db.count("autoadmin_audit").await;
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &fifth,
        Some(json!({"views": 5, "title": "Second"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some(fifth.as_str()));
    assert_eq!(app.db.count("autoadmin_audit").await, audited);
    // DELETE with the current version.
    let reply = conditional(&app, reqwest::Method::DELETE, &path, &fifth, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.get(&path).await.status, 404);
}

/// N writers × M rounds on one row, all with the same `If-Match` each round: exactly one
/// write per round lands, the others are told (412), and the row ends with the last winner's
/// value. Prints the figures for docs and the closing note.
pub async fn concurrent_writers_with_the_same_version_one_wins(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let (id, mut etag) = post(&app).await;
    let path = format!("{}/posts/{id}", app.api);
    const WRITERS: usize = 8;
    const ROUNDS: usize = 5;
    let (mut attempts, mut successes, mut refused) = (0, 0, 0);
    let mut last_winner = String::new();
    for round in 0..ROUNDS {
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let client = app.client.clone();
            let path = path.clone();
            let etag = etag.clone();
            let title = format!("round {round} writer {writer}");
            tasks.push(tokio::spawn(async move {
                let response = client
                    .patch(&path)
                    .header("if-match", &etag)
                    .json(&json!({"title": title}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let tag = response
                    .headers()
                    .get("etag")
                    .map(|v| v.to_str().unwrap().to_owned());
                (status, tag, title)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (status, tag, title) = task.await.unwrap();
            attempts += 1;
            match status {
                200 => {
                    successes += 1;
                    winners.push((tag.unwrap(), title));
                }
                412 => refused += 1,
                other => panic!("{backend:?}: a writer got {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "{backend:?} round {round}: {winners:?}");
        let (tag, title) = winners.pop().unwrap();
        etag = tag;
        last_winner = title;
    }
    let stored = app
        .db
        .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
        .await;
    assert_eq!(stored.as_deref(), Some(last_winner.as_str()));
    assert_eq!(successes, ROUNDS);
    assert_eq!(attempts, successes + refused);
    // One audit row per landed write, none for the refused ones.
    let audited: i64 = app
        .db
        .scalar(&format!(
            "SELECT COUNT(*) FROM autoadmin_audit WHERE entity = 'posts' AND record_id = '{id}' AND action = 'update'"
        ))
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(audited as usize, successes);
    eprintln!(
        "{backend:?}: {WRITERS} writers x {ROUNDS} rounds, If-Match: {attempts} attempts, {successes} landed, {refused} refused with 412 (lost updates detected: {}), final title = the last winner's",
        attempts - successes
    );
}

const NOTES: &str = r#"
[[entity]]
name = "notes"
version_field = "version"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "body"
  type = "string"
  [[entity.field]]
  name = "version"
  type = "integer"
"#;

fn notes_table(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "CREATE TABLE notes (id SERIAL PRIMARY KEY, body VARCHAR(100), version INTEGER NOT NULL DEFAULT 0)"
        }
        Backend::MySql => {
            "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100), version INT NOT NULL DEFAULT 0)"
        }
        Backend::Sqlite => {
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR(100), version INTEGER NOT NULL DEFAULT 0)"
        }
    }
}

pub async fn version_field_counts_writes(backend: Backend) {
    let Some(app) = spawn_app(backend, &[notes_table(backend)], NOTES).await else {
        return;
    };
    // The client cannot set the version.
    let reply = app
        .post("/notes", json!({"body": "a", "version": 40}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["version"], 1);
    assert_eq!(reply.header("etag"), Some("\"v1\""));
    let id = reply.body["id"].as_i64().unwrap();
    let path = format!("/notes/{id}");
    assert_eq!(app.get(&path).await.header("etag"), Some("\"v1\""));
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        "\"v1\"",
        Some(json!({"body": "b", "version": 7})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.header("etag"), Some("\"v2\""));
    let reply = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        "\"v1\"",
        Some(json!({"body": "c"})),
    )
    .await;
    assert_eq!(reply.status, 412);
    assert_eq!(reply.body["etag"], "\"v2\"");
    assert_eq!(reply.body["current"]["body"], "b");
    // A write that changes nothing does not count.
    let reply = app.patch(&path, json!({"body": "b"})).await;
    assert_eq!(reply.body["version"], 2);
    // A write outside autoadmin that does not count is not seen: the version says so.
    assert_eq!(
        app.db
            .scalar(&format!("SELECT version FROM notes WHERE id = {id}"))
            .await
            .as_deref(),
        Some("2")
    );
}

pub async fn a_batch_takes_a_version_per_id(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let mut tags = BTreeMap::new();
    for name in ["a", "b", "c"] {
        let reply = app.post("/tags", json!({"name": name})).await;
        tags.insert(
            reply.body["id"].as_i64().unwrap(),
            reply.header("etag").unwrap().to_owned(),
        );
    }
    let ids: Vec<i64> = tags.keys().copied().collect();
    // Tag b changes after it was read.
    let changed = app
        .patch(&format!("/tags/{}", ids[1]), json!({"name": "b2"}))
        .await;
    let changed_etag = changed.header("etag").unwrap().to_owned();
    let versions: serde_json::Map<String, Json> = tags
        .iter()
        .map(|(id, tag)| (id.to_string(), Json::String(tag.clone())))
        .collect();
    let query = format!(
        "/tags?ids={}&versions={}",
        crate::common::urlencode(&json!(ids).to_string()),
        crate::common::urlencode(&Json::Object(versions.clone()).to_string())
    );
    let reply = app.delete(&query).await;
    assert_eq!(reply.status, 412, "{}", reply.body);
    assert_eq!(reply.error().0, "precondition_failed");
    assert_eq!(
        reply.body["etags"][ids[1].to_string()],
        changed_etag.as_str()
    );
    assert_eq!(reply.body["current"][0]["name"], "b2");
    assert_eq!(app.db.count("tags").await, 3, "nothing deleted");
    // With the version read again (its quotes optional), all go.
    let mut fresh = versions;
    fresh.insert(
        ids[1].to_string(),
        Json::String(changed_etag.trim_matches('"').to_owned()),
    );
    let query = format!(
        "/tags?ids={}&versions={}",
        crate::common::urlencode(&json!(ids).to_string()),
        crate::common::urlencode(&Json::Object(fresh).to_string())
    );
    let reply = app.delete(&query).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.db.count("tags").await, 0);
    // A version for an id the batch does not name has nothing to check (tag 1 is gone:
    // 404); If-Match on a batch: 400.
    let reply = app
        .delete(&format!(
            "/tags?ids=[1]&versions={}",
            crate::common::urlencode("{\"2\":\"x\"}")
        ))
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = conditional(&app, reqwest::Method::DELETE, "/tags?ids=[1]", "*", None).await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().1.contains("versions="));
}
