//! Inline children (issue #14): a one-to-many relation marked `inline` is part of its
//! parent's record: single records carry the children, and a write takes them in the same
//! body and transaction (a key updates, no key creates, left out deletes with
//! `inline_delete`), each child audited, errors at their path, the parent's version covering
//! them.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, conditional, spawn_app, urlencode};

fn schema(backend: Backend) -> String {
    let (key, int) = backend.key_types();
    [
        format!("CREATE TABLE threads (id {key}, title VARCHAR(50) NOT NULL)"),
        format!(
            "CREATE TABLE replies (id {key}, thread_id {int} NOT NULL, author VARCHAR(50) NOT NULL, body VARCHAR(200) NOT NULL, FOREIGN KEY (thread_id) REFERENCES threads (id) ON DELETE CASCADE)"
        ),
    ]
    .join(";\n")
}

const CONFIG: &str = r#"
[[entity]]
name = "threads"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  required = true
  [[entity.relation]]
  name = "replies"
  target = "replies"
  foreign_key = "thread_id"
  inline = true
  inline_delete = true
  inline_max = 3

[[entity]]
name = "kept"
table = "threads"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  [[entity.relation]]
  name = "replies"
  target = "replies"
  foreign_key = "thread_id"
  inline = true

[[entity]]
name = "replies"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "thread_id"
  type = "reference"
  target = "threads"
  required = true
  [[entity.field]]
  name = "author"
  type = "string"
  required = true
  [[entity.field]]
  name = "body"
  type = "string"
  required = true
  min_length = 1
"#;

fn ids(replies: &Json) -> Vec<i64> {
    replies
        .as_array()
        .unwrap_or_else(|| panic!("{replies}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// A thread "T" with one reply: their keys.
async fn one_thread(app: &TestApp) -> (i64, i64) {
    let thread = app
        .create(
            "threads",
            json!({"title": "T", "replies": [{"author": "ann", "body": "x"}]}),
        )
        .await;
    (
        thread["id"].as_i64().unwrap(),
        thread["replies"][0]["id"].as_i64().unwrap(),
    )
}

/// The audit rows of one request, oldest first: (entity, action, record).
async fn audited(app: &TestApp, request: &str) -> Vec<(String, String, String)> {
    let filter = urlencode(&json!({"request_id": request}).to_string());
    let reply = app
        .get(&format!("/_audit?_sortField=id&_filters={filter}"))
        .await;
    reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |name: &str| r[name].as_str().unwrap_or_default().to_owned();
            (text("entity"), text("action"), text("record_id"))
        })
        .collect()
}

pub async fn children_are_written_with_their_parent(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&schema(backend)], CONFIG).await else {
        return;
    };
    // Created with two children, which belong to it whatever they say.
    let reply = app
        .post(
            "/threads",
            json!({"title": "T", "replies": [
                {"author": "ann", "body": "first"},
                {"author": "bob", "body": "second", "thread_id": 999},
            ]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let thread = reply.body["id"].as_i64().unwrap();
    let replies = reply.body["replies"].clone();
    let [first, second] = ids(&replies)[..] else {
        panic!("{replies}");
    };
    assert!(
        replies
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["thread_id"] == thread)
    );
    assert_eq!(replies[0]["body"], "first");
    let request = reply.header("x-request-id").unwrap().to_owned();
    assert_eq!(
        audited(&app, &request).await,
        [
            ("threads".into(), "create".into(), thread.to_string()),
            ("replies".into(), "create".into(), first.to_string()),
            ("replies".into(), "create".into(), second.to_string()),
        ]
    );
    // A single record carries them; a list does not.
    let read = app.get(&format!("/threads/{thread}")).await;
    assert_eq!(ids(&read.body["replies"]), [first, second]);
    assert!(app.get("/threads").await.body[0].get("replies").is_none());

    // One edit, one new, one left out (and deleted): in one transaction.
    let reply = app
        .patch(
            &format!("/threads/{thread}"),
            json!({"replies": [{"id": first, "body": "first, edited"}, {"author": "cy", "body": "third"}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let replies = reply.body["replies"].clone();
    let third = ids(&replies)[1];
    assert_eq!(ids(&replies), [first, third]);
    assert_eq!(replies[0]["body"], "first, edited");
    assert_eq!(replies[0]["author"], "ann", "what a row leaves out stays");
    assert_eq!(app.get(&format!("/replies/{second}")).await.status, 404);
    let request = reply.header("x-request-id").unwrap().to_owned();
    let mut rows = audited(&app, &request).await;
    rows.sort();
    assert_eq!(
        rows,
        [
            ("replies".into(), "create".into(), third.to_string()),
            ("replies".into(), "delete".into(), second.to_string()),
            ("replies".into(), "update".into(), first.to_string()),
        ],
        "each child audited, and no empty row for the unchanged parent"
    );
    // The same rows again: nothing written, nothing audited.
    let count = app.db.count("autoadmin_audit").await;
    let same = app
        .patch(
            &format!("/threads/{thread}"),
            json!({"replies": [{"id": first, "body": "first, edited"}, {"id": third}]}),
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(app.db.count("autoadmin_audit").await, count);

    // Without inline_delete, rows left out stay.
    let reply = app
        .patch(
            &format!("/kept/{thread}"),
            json!({"replies": [{"author": "dee", "body": "fourth"}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["replies"].as_array().unwrap().len(), 3);

    // Deleting the parent takes the children (the database's cascade, audited); a restore
    // brings them back.
    let reply = app.delete(&format!("/threads/{thread}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.db.count("replies").await, 0);
    let audit = app
        .get(&format!(
            "/_audit?_filters={}",
            urlencode(&json!({"entity": "threads", "action": "delete"}).to_string())
        ))
        .await;
    let entry = &audit.body[0];
    assert!(
        entry["before"].get("replies").is_none(),
        "children are their own rows: {entry}"
    );
    let reply = app
        .post(&format!("/_audit/{}/restore", entry["id"]), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        ids(&app.get(&format!("/threads/{thread}")).await.body["replies"]).len(),
        3
    );
}

pub async fn children_errors_come_back_at_their_path(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&schema(backend)], CONFIG).await else {
        return;
    };
    let (id, first) = one_thread(&app).await;
    let path = format!("/threads/{id}");
    // A row naming a child the record does not have conflicts with what is stored: 409,
    // at its path (with a rule broken too, the body is invalid first: 422 with both).
    let reply = app
        .patch(&path, json!({"replies": [{"id": 99999, "body": "x"}]}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(reply.error().0, "conflict");
    assert_eq!(
        reply.body["errors"]["replies.0.id"],
        "99999 is not one of this record's replies"
    );
    let reply = app
        .patch(
            &path,
            json!({"title": "", "replies": [{"id": 99999, "body": "x"}]}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["replies.0.id"],
        "99999 is not one of this record's replies"
    );
    for (body, errors) in [
        (
            json!({"title": "", "replies": [{"id": first, "body": ""}, {"author": "bob"}]}),
            json!({"title": "is required", "replies.0.body": "is required", "replies.1.body": "is required"}),
        ),
        (
            json!({"replies": [{"id": first}, {"id": first}]}),
            json!({"replies.1.id": format!("{first} is given twice")}),
        ),
        (
            json!({"replies": [{"author": "a", "body": "b", "nope": 1}]}),
            json!({"replies.0.nope": "is not a field"}),
        ),
        (
            json!({"replies": "x"}),
            json!({"replies": "must be a list of records"}),
        ),
        (
            json!({"replies": [1]}),
            json!({"replies.0": "must be an object"}),
        ),
        (
            json!({"replies": [{"id": first}, {"author": "a", "body": "1"}, {"author": "a", "body": "2"}, {"author": "a", "body": "3"}]}),
            json!({"replies": "holds at most 3 replies (this write leaves 4)"}),
        ),
    ] {
        let reply = app.patch(&path, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        let (code, _) = reply.error();
        assert_eq!(code, "validation_failed", "{body}");
        for (name, message) in errors.as_object().unwrap() {
            assert_eq!(
                &reply.body["errors"][name], message,
                "{body}: {}",
                reply.body
            );
        }
    }
    // Nothing of any of them was written.
    let stored = app.get(&path).await.body;
    assert_eq!(stored["title"], "T");
    assert_eq!(ids(&stored["replies"]), [first]);
    assert_eq!(stored["replies"][0]["body"], "x");
    // A create's errors, its fields' and its children's, together.
    let reply = app
        .post("/threads", json!({"replies": [{"body": "x"}]}))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"]["replies.0.author"], "is required");
    assert_eq!(app.db.count("threads").await, 1);
}

pub async fn the_parents_version_covers_its_children(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&schema(backend)], CONFIG).await else {
        return;
    };
    let (id, reply_id) = one_thread(&app).await;
    let path = format!("/threads/{id}");
    let etag = app.get(&path).await.header("etag").unwrap().to_owned();
    // Someone edits the child on its own: the parent is another version now.
    let reply = app
        .patch(&format!("/replies/{reply_id}"), json!({"body": "changed"}))
        .await;
    assert_eq!(reply.status, 200);
    let now = app.get(&path).await;
    assert_ne!(now.header("etag").unwrap(), etag);
    // A form loaded before cannot overwrite it.
    let stale = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &etag,
        Some(json!({"replies": [{"id": reply_id, "body": "mine"}]})),
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["current"]["replies"][0]["body"], "changed");
    let fresh = now.header("etag").unwrap().to_owned();
    let ok = conditional(
        &app,
        reqwest::Method::PATCH,
        &path,
        &fresh,
        Some(json!({"replies": [{"id": reply_id, "body": "mine"}]})),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["replies"][0]["body"], "mine");
    assert_ne!(ok.header("etag").unwrap(), fresh);
    assert_eq!(app.get(&path).await.header("etag"), ok.header("etag"));
}
