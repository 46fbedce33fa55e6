//! Deletes say what they take (issue #13): `dependents` counts, per foreign key (those no
//! entity declares too, transitively, through a table that references itself), what a
//! delete would delete, set to NULL, or be refused by; a refused delete names who refuses;
//! a delete audits every row the database takes with it, under its request and cause; and
//! `max_cascade_rows` refuses a delete that would take too much.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, spawn_app};

fn schema(backend: Backend) -> String {
    let (key, int) = backend.key_types();
    let engine = if backend == Backend::MySql {
        " ENGINE = InnoDB"
    } else {
        ""
    };
    [
        format!("CREATE TABLE writers (id {key}, name VARCHAR(50) NOT NULL){engine}"),
        format!(
            "CREATE TABLE articles (id {key}, title VARCHAR(50) NOT NULL, status VARCHAR(10) NOT NULL DEFAULT 'draft', writer_id {int} NOT NULL REFERENCES writers (id)){engine}"
        ),
        format!(
            "CREATE TABLE remarks (id {key}, article_id {int} NOT NULL REFERENCES articles (id) ON DELETE CASCADE, parent_id {int} REFERENCES remarks (id) ON DELETE CASCADE, body VARCHAR(50) NOT NULL){engine}"
        ),
        format!("CREATE TABLE labels (id {key}, name VARCHAR(50) NOT NULL){engine}"),
        format!(
            "CREATE TABLE article_labels (article_id {int} NOT NULL REFERENCES articles (id) ON DELETE CASCADE, label_id {int} NOT NULL REFERENCES labels (id) ON DELETE CASCADE, PRIMARY KEY (article_id, label_id)){engine}"
        ),
        format!(
            "CREATE TABLE pins (id {key}, remark_id {int} REFERENCES remarks (id) ON DELETE SET NULL, note VARCHAR(50)){engine}"
        ),
    ]
    .join(";\n")
}

fn config(max_cascade_rows: Option<u64>) -> String {
    let admin = max_cascade_rows.map_or(String::new(), |n| {
        format!("[admin]\nmax_cascade_rows = {n}\n\n")
    });
    format!(
        r#"{admin}
[[entity]]
name = "writers"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  required = true

[[entity]]
name = "articles"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  required = true
  [[entity.field]]
  name = "status"
  type = "choice"
  choices = ["draft", "published"]
  [[entity.field]]
  name = "writer_id"
  type = "reference"
  target = "writers"
  display = "name"
  required = true

[[entity]]
name = "remarks"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "article_id"
  type = "reference"
  target = "articles"
  required = true
  [[entity.field]]
  name = "parent_id"
  type = "reference"
  target = "remarks"
  [[entity.field]]
  name = "body"
  type = "string"
  required = true

[[entity]]
name = "labels"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"

[[entity]]
name = "pins"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "remark_id"
  type = "reference"
  target = "remarks"
  [[entity.field]]
  name = "note"
  type = "string"
"#
    )
}

/// A writer with two articles: the first with three remarks (a thread: r1, r2 replying to
/// r1, r3 replying to r2), two labels and a pin on r3; the second with one remark.
struct World {
    app: TestApp,
    writer: i64,
    first: i64,
    second: i64,
    remarks: Vec<i64>,
    pin: i64,
}

async fn world(backend: Backend, max_cascade_rows: Option<u64>) -> Option<World> {
    let schema = schema(backend);
    let app = spawn_app(backend, &[&schema], &config(max_cascade_rows)).await?;
    let id = |reply: Json| reply["id"].as_i64().unwrap();
    let writer = id(app.create("writers", json!({"name": "Ann"})).await);
    let first = id(app
        .create("articles", json!({"title": "First", "writer_id": writer}))
        .await);
    let second = id(app
        .create("articles", json!({"title": "Second", "writer_id": writer}))
        .await);
    let r1 = id(app
        .create("remarks", json!({"article_id": first, "body": "r1"}))
        .await);
    let r2 = id(app
        .create(
            "remarks",
            json!({"article_id": first, "parent_id": r1, "body": "r2"}),
        )
        .await);
    let r3 = id(app
        .create(
            "remarks",
            json!({"article_id": first, "parent_id": r2, "body": "r3"}),
        )
        .await);
    let r4 = id(app
        .create("remarks", json!({"article_id": second, "body": "r4"}))
        .await);
    for name in ["x", "y"] {
        let label = id(app.create("labels", json!({"name": name})).await);
        app.db
            .execute(&format!(
                "INSERT INTO article_labels (article_id, label_id) VALUES ({first}, {label})"
            ))
            .await;
    }
    let pin = id(app
        .create("pins", json!({"remark_id": r3, "note": "see"}))
        .await);
    Some(World {
        app,
        writer,
        first,
        second,
        remarks: vec![r1, r2, r3, r4],
        pin,
    })
}

/// The line of `dependents` for `entity` via `column`.
fn line<'a>(report: &'a Json, entity: &str, column: &str) -> Option<&'a Json> {
    report["dependents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["entity"] == entity && d["via"][0] == column)
}

pub async fn dependents_say_what_a_delete_takes(backend: Backend) {
    let Some(w) = world(backend, None).await else {
        return;
    };
    let app = &w.app;
    // An article: its remarks (every generation of the thread counted once), its labels'
    // rows (a table no entity declares) and, two steps away, a pin set to NULL.
    let reply = app.get(&format!("/articles/{}/dependents", w.first)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report = &reply.body;
    assert_eq!(report["blocked"], false);
    let remarks = line(report, "remarks", "article_id").expect("remarks");
    assert_eq!(remarks["action"], "cascade");
    assert_eq!(remarks["count"], 3);
    assert_eq!(remarks["depth"], 1);
    assert_eq!(remarks["declared"], true);
    assert_eq!(remarks["filter"], json!({"article_id": {"in": [w.first]}}));
    let labels: Vec<&Json> = remarks["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["label"])
        .collect();
    assert_eq!(labels, [&json!("r1"), &json!("r2"), &json!("r3")]);
    assert!(
        line(report, "remarks", "parent_id").is_none(),
        "replies are counted once: {report}"
    );
    let links = line(report, "article_labels", "article_id").expect("the link table");
    assert_eq!(links["count"], 2);
    assert_eq!(links["declared"], false);
    let pins = line(report, "pins", "remark_id").expect("pins");
    assert_eq!(pins["action"], "set_null");
    assert_eq!(pins["count"], 1);
    assert_eq!(pins["depth"], 2);
    // A remark: its replies, every generation.
    let reply = app
        .get(&format!("/remarks/{}/dependents", w.remarks[0]))
        .await;
    let replies = line(&reply.body, "remarks", "parent_id").expect("replies");
    assert_eq!(replies["count"], 2, "{}", reply.body);
    // A writer: refused by the articles that reference it, which are named.
    let reply = app.get(&format!("/writers/{}/dependents", w.writer)).await;
    assert_eq!(reply.body["blocked"], true);
    let articles = line(&reply.body, "articles", "writer_id").expect("articles");
    assert_eq!(articles["action"], "restrict");
    assert_eq!(articles["count"], 2);
    assert_eq!(articles["filter"], json!({"writer_id": {"in": [w.writer]}}));
    // Several at once.
    let reply = app
        .get(&format!(
            "/articles/dependents?ids=[{},{}]",
            w.first, w.second
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        line(&reply.body, "remarks", "article_id").unwrap()["count"],
        4
    );
    // Errors: a missing record, a bad id, no ids.
    assert_eq!(app.get("/articles/999999/dependents").await.status, 404);
    assert_eq!(app.get("/articles/x/dependents").await.status, 400);
    assert_eq!(app.get("/articles/dependents").await.status, 400);
    // The 409 of the refused delete says who refuses, and nothing was deleted.
    let reply = app.delete(&format!("/writers/{}", w.writer)).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.error().1,
        "cannot delete: 2 records of articles reference this record (by writer_id)"
    );
    assert_eq!(app.db.count("writers").await, 1);
}

pub async fn cascades_are_audited(backend: Backend) {
    let Some(w) = world(backend, None).await else {
        return;
    };
    let app = &w.app;
    let request_id = "cascade-test-1";
    let reply = app
        .client
        .delete(format!("{}/articles/{}", app.api, w.first))
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // The database did what its keys say...
    assert_eq!(app.db.count("remarks").await, 1);
    assert_eq!(app.db.count("article_labels").await, 0);
    let pinned = app
        .db
        .scalar(&format!("SELECT remark_id FROM pins WHERE id = {}", w.pin))
        .await;
    assert_eq!(pinned, None);
    // ...and the audit log says all of it, under the request, with the cause.
    let log = app
        .get(&format!(
            "/_audit?_filters={}&_sortField=id&_sortDir=ASC",
            crate::common::urlencode(&json!({"request_id": request_id}).to_string())
        ))
        .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let rows = log.body.as_array().unwrap();
    let summary: Vec<(String, String, String, Json)> = rows
        .iter()
        .map(|r| {
            (
                r["entity"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
                r["record_id"].as_str().unwrap().to_owned(),
                r["cause"].clone(),
            )
        })
        .collect();
    let cause = json!(format!("articles/{}", w.first));
    assert_eq!(
        summary[0],
        (
            "articles".into(),
            "delete".into(),
            w.first.to_string(),
            Json::Null
        )
    );
    for remark in &w.remarks[..3] {
        assert!(
            summary.contains(&(
                "remarks".into(),
                "delete".into(),
                remark.to_string(),
                cause.clone()
            )),
            "{summary:?}"
        );
    }
    assert_eq!(
        summary
            .iter()
            .filter(|s| s.0 == "article_labels" && s.1 == "delete" && s.3 == cause)
            .count(),
        2,
        "{summary:?}"
    );
    let pin = rows
        .iter()
        .find(|r| r["entity"] == "pins")
        .expect("the pin's change");
    assert_eq!(pin["action"], "update");
    assert_eq!(pin["cause"], cause);
    assert_eq!(pin["before"]["remark_id"], w.remarks[2]);
    assert_eq!(pin["after"]["remark_id"], Json::Null);
    assert_eq!(rows.len(), 1 + 3 + 2 + 1);
    // A batch: each row's cause is the record it belonged to.
    let reply = app.delete(&format!("/articles?ids=[{}]", w.second)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let log = app
        .get(&format!(
            "/_audit?_filters={}",
            crate::common::urlencode(
                &json!({"entity": "remarks", "record_id": w.remarks[3].to_string()}).to_string()
            )
        ))
        .await;
    assert_eq!(log.body[0]["cause"], format!("articles/{}", w.second));
}

pub async fn too_big_a_cascade_is_refused(backend: Backend) {
    let Some(w) = world(backend, Some(3)).await else {
        return;
    };
    let app = &w.app;
    // Three remarks, two label rows and a pin: six rows, more than three.
    let reply = app.delete(&format!("/articles/{}", w.first)).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert!(
        reply.error().1.contains("max_cascade_rows"),
        "{}",
        reply.body
    );
    assert_eq!(app.db.count("remarks").await, 4, "nothing was deleted");
    assert_eq!(app.db.count("articles").await, 2);
    // One remark: within the limit.
    let reply = app.delete(&format!("/articles/{}", w.second)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The audit entry of the delete of `entity` `id`.
async fn delete_entry(app: &TestApp, entity: &str, id: i64) -> i64 {
    let filters = json!({"entity": entity, "record_id": id.to_string(), "action": "delete"});
    let log = app
        .get(&format!(
            "/_audit?_filters={}",
            crate::common::urlencode(&filters.to_string())
        ))
        .await;
    log.body[0]["id"].as_i64().expect("a delete entry")
}

pub async fn a_delete_is_restored_with_its_cascade(backend: Backend) {
    let Some(w) = world(backend, None).await else {
        return;
    };
    let app = &w.app;
    let article = app.get(&format!("/articles/{}", w.first)).await.body;
    assert_eq!(
        app.delete(&format!("/articles/{}", w.first)).await.status,
        200
    );
    let entry = delete_entry(app, "articles", w.first).await;
    let reply = app
        .post(&format!("/_audit/{entry}/restore"), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["record"], article, "back with its id and values");
    assert!(reply.header("etag").is_some());
    let restored = &reply.body["restored"];
    assert!(
        restored
            .as_array()
            .unwrap()
            .contains(&json!({"entity": "remarks", "count": 3})),
        "{restored}"
    );
    assert!(
        restored
            .as_array()
            .unwrap()
            .contains(&json!({"entity": "article_labels", "count": 2})),
        "{restored}"
    );
    // Everything as it was: the thread, the link rows, the pin.
    assert_eq!(app.db.count("remarks").await, 4);
    assert_eq!(app.db.count("article_labels").await, 2);
    let parent = app
        .db
        .scalar(&format!(
            "SELECT parent_id FROM remarks WHERE id = {}",
            w.remarks[2]
        ))
        .await;
    assert_eq!(parent, Some(w.remarks[1].to_string()));
    let pinned = app
        .db
        .scalar(&format!("SELECT remark_id FROM pins WHERE id = {}", w.pin))
        .await;
    assert_eq!(pinned, Some(w.remarks[2].to_string()));
    // The restore is audited too: a create per row (two articles and four remarks were
    // made at first; one article, three remarks and two link rows came back).
    let created = app
        .db
        .scalar("SELECT COUNT(*) FROM autoadmin_audit WHERE action = 'create' AND entity IN ('articles', 'remarks', 'article_labels')")
        .await;
    assert_eq!(
        created.as_deref(),
        Some(&*((2 + 4) + (1 + 3 + 2)).to_string())
    );
    // Once back, it cannot come back again.
    let reply = app
        .post(&format!("/_audit/{entry}/restore"), json!({}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert!(reply.error().1.contains("taken again"), "{}", reply.body);
    assert_eq!(app.db.count("remarks").await, 4, "nothing half-restored");
    // A record whose reference is gone cannot come back: it says so.
    let other = app.create("writers", json!({"name": "Bo"})).await["id"]
        .as_i64()
        .unwrap();
    let third = app
        .create("articles", json!({"title": "Third", "writer_id": other}))
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.delete(&format!("/articles/{third}")).await.status, 200);
    assert_eq!(app.delete(&format!("/writers/{other}")).await.status, 200);
    let entry = delete_entry(app, "articles", third).await;
    let reply = app
        .post(&format!("/_audit/{entry}/restore"), json!({}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert!(
        reply.error().1.contains("references is gone"),
        "{}",
        reply.body
    );
    // Only deletes are restored, and only entries of the audit log.
    let update = app
        .patch(&format!("/articles/{}", w.second), json!({"title": "S2"}))
        .await;
    assert_eq!(update.status, 200);
    let log = app
        .get("/_audit?_sortField=id&_sortDir=DESC&_perPage=1")
        .await;
    let reply = app
        .post(&format!("/_audit/{}/restore", log.body[0]["id"]), json!({}))
        .await;
    assert_eq!(reply.status, 409);
    assert!(reply.error().1.contains("not a delete"));
    assert_eq!(app.post("/articles/1/restore", json!({})).await.status, 404);
    assert_eq!(
        app.post("/_audit/999999/restore", json!({})).await.status,
        404
    );
}
