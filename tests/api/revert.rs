//! `POST /_imports/{id}/revert`: what an import wrote is undone from the audit log, in one
//! transaction, once; a record changed since stops it whole. On every backend; rows are
//! counted in the database itself.

use serde_json::json;

use crate::common::Backend;
use crate::import::{blog, import_as};

pub async fn an_import_is_reverted_from_the_audit_log(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let ann = app.filtered("authors", &json!({"name": "Ann"})).await[0]["id"].clone();
    let old = app
        .create(
            "posts",
            json!({"title": "Old title", "status": "draft", "author_id": ann, "views": 3}),
        )
        .await;
    let id = old["id"].clone();
    let posts = app.db.count("posts").await;
    let rust = app.filtered("tags", &json!({"name": "rust"})).await[0]["id"].clone();
    let tagged = app
        .patch(&format!("/posts/{id}"), json!({"tags": [rust]}))
        .await;
    assert_eq!(tagged.status, 200, "{}", tagged.body);
    // The import changes the old post's fields and its tags too.
    let csv = format!(
        "Id,Title,Status,Author,Tags\r\n{id},New title,published,Ann,sql\r\n,Fresh one,draft,Bob,\r\n,Fresh two,draft,Ann,\r\n"
    );
    let reply = import_as(&app, "rev-one", "posts", "mode=upsert", &csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            reply.body["inserted"].clone(),
            reply.body["updated"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(app.db.count("posts").await, posts + 2);
    // A comment on a record the import created goes with it (its key cascades), audited.
    let fresh = app.filtered("posts", &json!({"title": "Fresh one"})).await[0]["id"].clone();
    app.create(
        "comments",
        json!({"post_id": fresh, "author_name": "Cy", "body": "hi"}),
    )
    .await;

    let reply = app.post("/_imports/rev-one/revert", json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["reverted"],
        json!({"deleted": 2, "restored": 1, "gone": 0})
    );
    assert_eq!(reply.body["import"]["status"], "reverted");
    assert_eq!(app.db.count("posts").await, posts);
    assert_eq!(app.db.count("comments").await, 0);
    let restored = app.get(&format!("/posts/{id}")).await.body;
    assert_eq!(
        (
            restored["title"].clone(),
            restored["status"].clone(),
            restored["views"].clone()
        ),
        (json!("Old title"), json!("draft"), json!(3))
    );
    assert_eq!(restored["tags"], json!([rust]), "its tags as they were");
    let undone = app.filtered("_audit", &json!({"cause": "revert"})).await;
    assert_eq!(undone.len(), 3, "{undone:?}");
    let cascaded = app
        .filtered("_audit", &json!({"entity": "comments", "action": "delete"}))
        .await;
    assert_eq!(cascaded.len(), 1);
    assert_eq!(cascaded[0]["cause"], format!("posts/{fresh}"));
    assert_eq!(
        app.get("/_imports/rev-one").await.body["status"],
        "reverted"
    );

    // Once only.
    let again = app.post("/_imports/rev-one/revert", json!({})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.error().1.contains("reverted already"),
        "{}",
        again.body
    );
    let unknown = app.post("/_imports/nope/revert", json!({})).await;
    assert_eq!(unknown.status, 404);

    // A record changed since the import: nothing is undone, and the import can be reverted
    // once that is settled.
    let reply = import_as(&app, "rev-two", "tags", "", "name\r\nt-one\r\nt-two\r\n").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tags = app.db.count("tags").await;
    let renamed = app.filtered("tags", &json!({"name": "t-two"})).await[0]["id"].clone();
    let put = app
        .put(&format!("/tags/{renamed}"), json!({"name": "t-renamed"}))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let refused = app.post("/_imports/rev-two/revert", json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        refused.error().1,
        format!(
            "cannot revert: 1 record(s) of tags changed since the import ({renamed}); nothing was reverted"
        )
    );
    assert_eq!(app.db.count("tags").await, tags, "nothing was undone");
    assert_eq!(app.get("/_imports/rev-two").await.body["status"], "done");
    let put = app
        .put(&format!("/tags/{renamed}"), json!({"name": "t-two"}))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let reply = app.post("/_imports/rev-two/revert", json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["reverted"]["deleted"], 2);
    assert_eq!(app.db.count("tags").await, tags - 2);
}
