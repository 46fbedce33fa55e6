//! Many-to-many relations through a junction table (issue #14): records carry them as lists
//! of keys (one statement per relation per page), writes replace the set by its difference
//! in the record's transaction (audited, versioned), unknown keys are refused at the
//! relation, filters say "holds any", "holds all", "holds none", deletes take their junction
//! rows with them, exports show the members' labels, a restore brings the set back.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, conditional, spawn_app, urlencode};

fn schema(backend: Backend) -> String {
    let (key, int) = backend.key_types();
    // The junction's keys are NO ACTION, as Django makes them: the admin deletes a
    // record's junction rows itself.
    [
        format!("CREATE TABLE notes (id {key}, title VARCHAR(50) NOT NULL, version {int} NOT NULL DEFAULT 1)"),
        format!("CREATE TABLE topics (id {key}, name VARCHAR(50) NOT NULL)"),
        format!(
            "CREATE TABLE note_topics (note_id {int} NOT NULL, topic_id {int} NOT NULL, PRIMARY KEY (note_id, topic_id), FOREIGN KEY (note_id) REFERENCES notes (id), FOREIGN KEY (topic_id) REFERENCES topics (id))"
        ),
    ]
    .join(";\n")
}

const CONFIG: &str = r#"
[[entity]]
name = "notes"
filters = ["topics"]
list_columns = ["id", "title", "topics"]
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  required = true
  [[entity.relation]]
  name = "topics"
  target = "topics"
  through = "note_topics"
  foreign_key = "note_id"
  target_key = "topic_id"

[[entity]]
name = "versioned"
table = "notes"
version_field = "version"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  [[entity.field]]
  name = "version"
  type = "integer"
  [[entity.relation]]
  name = "topics"
  target = "topics"
  through = "note_topics"
  foreign_key = "note_id"
  target_key = "topic_id"

[[entity]]
name = "topics"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  required = true
  [[entity.relation]]
  name = "notes"
  target = "notes"
  through = "note_topics"
  foreign_key = "topic_id"
  target_key = "note_id"
"#;

async fn app(backend: Backend) -> Option<(TestApp, Vec<i64>)> {
    let app = spawn_app(backend, &[&schema(backend)], CONFIG).await?;
    let mut topics = Vec::new();
    for name in ["rust", "sql", "web", "ops"] {
        let topic = app.create("topics", json!({"name": name})).await;
        topics.push(topic["id"].as_i64().unwrap());
    }
    Some((app, topics))
}

fn ids(body: &Json) -> Vec<i64> {
    body.as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

pub async fn records_carry_and_write_their_sets(backend: Backend) {
    let Some((app, t)) = app(backend).await else {
        return;
    };
    // Created with a set (given out of order, one key twice): stored once each, in order.
    let note = app
        .create("notes", json!({"title": "A", "topics": [t[1], t[0], t[1]]}))
        .await;
    assert_eq!(note["topics"], json!([t[0], t[1]]), "{note}");
    let id = note["id"].as_i64().unwrap();
    assert_eq!(app.db.count("note_topics").await, 2);
    // Without one: an empty set.
    let bare = app.create("notes", json!({"title": "B"})).await;
    assert_eq!(bare["topics"], json!([]));
    let reply = app.get(&format!("/notes/{id}")).await;
    assert_eq!(reply.body["topics"], json!([t[0], t[1]]));
    let etag = reply.header("etag").unwrap().to_owned();
    // The other side sees it too.
    assert_eq!(
        app.get(&format!("/topics/{}", t[0])).await.body["notes"],
        json!([id])
    );
    // Lists carry the sets, paged and not.
    for query in ["_page=1&_perPage=10", "", "_sortField=title&_sortDir=DESC"] {
        let reply = app.get(&format!("/notes?{query}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let sets: Vec<&Json> = reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["topics"])
            .collect();
        assert!(
            sets.contains(&&json!([t[0], t[1]])) && sets.contains(&&json!([])),
            "{query}: {}",
            reply.body
        );
    }

    // Replaced by its difference: one row deleted, one inserted, the shared one untouched.
    let before_rows = junction_rows(&app).await;
    let reply = app
        .patch(&format!("/notes/{id}"), json!({"topics": [t[1], t[2]]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["topics"], json!([t[1], t[2]]));
    let after_rows = junction_rows(&app).await;
    assert!(before_rows.contains(&(id, t[1])) && after_rows.contains(&(id, t[1])));
    assert!(!after_rows.contains(&(id, t[0])) && after_rows.contains(&(id, t[2])));
    // A new version, and the old one is refused.
    assert_ne!(reply.header("etag").unwrap(), etag);
    let stale = conditional(
        &app,
        reqwest::Method::PATCH,
        &format!("/notes/{id}"),
        &etag,
        Some(json!({"topics": []})),
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["current"]["topics"], json!([t[1], t[2]]));
    // The audit row says what the set was and is.
    let audit = app
        .get(&format!(
            "/_audit?_filters={}&_sortField=id&_sortDir=DESC",
            urlencode(
                &json!({"entity": "notes", "record_id": id.to_string(), "action": "update"})
                    .to_string()
            )
        ))
        .await;
    let last = &audit.body[0];
    assert_eq!(
        last["before"],
        json!({"topics": [t[0], t[1]]}),
        "{}",
        audit.body
    );
    assert_eq!(last["after"], json!({"topics": [t[1], t[2]]}));
    // The same set again is no write: 200, no audit row.
    let count = app.db.count("autoadmin_audit").await;
    let reply = app
        .patch(&format!("/notes/{id}"), json!({"topics": [t[2], t[1]]}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.db.count("autoadmin_audit").await, count);

    // Keys the target does not have conflict with what is stored (as a foreign key to
    // nothing does): 409 at the relation, and nothing changes.
    let reply = app
        .patch(
            &format!("/notes/{id}"),
            json!({"title": "changed", "topics": [t[0], 99999]}),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["topics"],
        "topics has no record with key 99999"
    );
    let stored = app.get(&format!("/notes/{id}")).await.body;
    assert_eq!(
        (stored["title"].clone(), stored["topics"].clone()),
        (json!("A"), json!([t[1], t[2]]))
    );
    for (bad, says) in [
        (json!("rust"), "must be a list of keys"),
        (json!([null]), "holds keys, never null"),
        (json!(["x"]), "holds keys"),
    ] {
        let reply = app
            .patch(&format!("/notes/{id}"), json!({"topics": bad}))
            .await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.body);
        assert!(
            reply.body["errors"]["topics"]
                .as_str()
                .unwrap()
                .starts_with(says),
            "{}",
            reply.body
        );
    }
    let reply = app.post("/notes", json!({"topics": "x"})).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.body["errors"]["title"].is_string() && reply.body["errors"]["topics"].is_string(),
        "{}",
        reply.body
    );

    // With a version field, a change to the set alone is a new version.
    let versioned = app.get(&format!("/versioned/{id}")).await;
    let version = versioned.body["version"].as_i64().unwrap();
    let reply = app
        .patch(&format!("/versioned/{id}"), json!({"topics": [t[3]]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["version"], json!(version + 1));
    assert_eq!(
        reply.header("etag"),
        Some(format!("\"v{}\"", version + 1).as_str())
    );
}

/// The junction's rows, (note, topic), in order.
async fn junction_rows(app: &TestApp) -> Vec<(i64, i64)> {
    let mut rows = Vec::new();
    let n = app.db.count("note_topics").await;
    for i in 0..n {
        let note = app
            .db
            .scalar(&format!(
                "SELECT note_id FROM note_topics ORDER BY note_id, topic_id LIMIT 1 OFFSET {i}"
            ))
            .await
            .unwrap();
        let topic = app
            .db
            .scalar(&format!(
                "SELECT topic_id FROM note_topics ORDER BY note_id, topic_id LIMIT 1 OFFSET {i}"
            ))
            .await
            .unwrap();
        rows.push((note.parse().unwrap(), topic.parse().unwrap()));
    }
    rows
}

pub async fn lists_filter_by_sets(backend: Backend) {
    let Some((app, t)) = app(backend).await else {
        return;
    };
    let mut notes = Vec::new();
    for (title, topics) in [
        ("none", vec![]),
        ("rust", vec![t[0]]),
        ("rust sql", vec![t[0], t[1]]),
        ("sql web", vec![t[1], t[2]]),
        ("all", vec![t[0], t[1], t[2], t[3]]),
    ] {
        let note = app
            .create("notes", json!({"title": title, "topics": topics}))
            .await;
        notes.push(note["id"].as_i64().unwrap());
    }
    let filtered = |filter: Json| {
        let app = &app;
        async move { ids(&Json::Array(app.filtered("notes", &filter).await)) }
    };
    let n = |i: &[usize]| i.iter().map(|i| notes[*i]).collect::<Vec<_>>();
    assert_eq!(filtered(json!({"topics": t[0]})).await, n(&[1, 2, 4]));
    assert_eq!(
        filtered(json!({"topics": [t[0], t[2]]})).await,
        n(&[1, 2, 3, 4])
    );
    assert_eq!(filtered(json!({"topics": {"any": [t[3]]}})).await, n(&[4]));
    assert_eq!(
        filtered(json!({"topics": {"all": [t[0], t[1]]}})).await,
        n(&[2, 4])
    );
    assert_eq!(
        filtered(json!({"topics": {"all": [t[1], t[1]]}})).await,
        n(&[2, 3, 4])
    );
    assert_eq!(
        filtered(json!({"topics": {"is_empty": true}})).await,
        n(&[0])
    );
    assert_eq!(
        filtered(json!({"topics": {"is_empty": false}})).await,
        n(&[1, 2, 3, 4])
    );
    assert_eq!(filtered(json!({"topics": []})).await, n(&[]));
    assert_eq!(
        filtered(json!({"topics": {"all": []}})).await,
        n(&[0, 1, 2, 3, 4])
    );
    assert_eq!(filtered(json!({"topics": null})).await, n(&[0]));
    assert_eq!(
        filtered(json!({"topics": {"all": [t[1]]}, "title": {"ilike": "sql"}})).await,
        n(&[2, 3])
    );
    // react-admin's filter, json-server's parameters.
    let reply = app
        .get(&format!(
            "/notes?sort={}&filter={}",
            urlencode("[\"id\",\"ASC\"]"),
            urlencode(&json!({"topics": [t[2]]}).to_string())
        ))
        .await;
    assert_eq!(ids(&reply.body), n(&[3, 4]));
    for (query, want) in [
        (format!("topics={}&topics={}", t[0], t[3]), n(&[1, 2, 4])),
        (
            format!("topics_all={}&topics_all={}", t[1], t[2]),
            n(&[3, 4]),
        ),
        ("topics_is_empty=true".to_owned(), n(&[0])),
    ] {
        let reply = app.get(&format!("/notes?_sort=id&{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(ids(&reply.body), want, "{query}");
    }
    // Bad filters are 400s that say why.
    for (filter, says) in [
        (
            json!({"topics": {"gte": 3}}),
            "unknown operator \"gte\" for relation \"topics\" (operators: any all is_empty)",
        ),
        (
            json!({"topics": ["x"]}),
            "filter value for field \"topics\"",
        ),
        (json!({"topics": {"is_empty": 1}}), "must be true or false"),
        (json!({"topics": [null]}), "never null"),
    ] {
        let reply = app
            .get(&format!(
                "/notes?_filters={}",
                urlencode(&filter.to_string())
            ))
            .await;
        assert_eq!(reply.status, 400, "{filter}: {}", reply.body);
        let (_, message) = reply.error();
        assert!(message.contains(says), "{filter}: {message}");
    }
    let reply = app.get("/notes?topics_is_empty=maybe").await;
    assert_eq!(reply.status, 400);
}

pub async fn deletes_exports_and_restores_take_the_sets(backend: Backend) {
    let Some((app, t)) = app(backend).await else {
        return;
    };
    let note = app
        .create(
            "notes",
            json!({"title": "Sets, exported", "topics": [t[2], t[0]]}),
        )
        .await;
    let id = note["id"].as_i64().unwrap();
    // The export shows the members by name, in name order.
    let csv = app.text("/notes/export.csv?_sortField=id").await;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Id,Title,Topics"));
    assert_eq!(
        lines.next(),
        Some(format!("{id},\"Sets, exported\",rust; web").as_str())
    );
    // What a delete takes does not list the junction: the rows go with the record.
    let dependents = app.get(&format!("/notes/{id}/dependents")).await;
    assert_eq!(dependents.status, 200, "{}", dependents.body);
    assert_eq!(
        dependents.body["dependents"],
        json!([]),
        "{}",
        dependents.body
    );
    // The junction's keys are NO ACTION: the admin deletes the record's rows itself.
    let reply = app.delete(&format!("/notes/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["topics"], json!([t[0], t[2]]));
    assert_eq!(app.db.count("note_topics").await, 0);
    // The delete's audit row keeps the set; a restore brings it back.
    let audit = app
        .get(&format!(
            "/_audit?_filters={}",
            urlencode(&json!({"entity": "notes", "action": "delete"}).to_string())
        ))
        .await;
    let entry = &audit.body[0];
    assert_eq!(
        entry["before"]["topics"],
        json!([t[0], t[2]]),
        "{}",
        audit.body
    );
    let reply = app
        .post(&format!("/_audit/{}/restore", entry["id"]), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        app.get(&format!("/notes/{id}")).await.body["topics"],
        json!([t[0], t[2]])
    );
    // Deleting a topic (the other side) takes its junction rows too, and the note stays.
    let reply = app.delete(&format!("/topics/{}", t[0])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        app.get(&format!("/notes/{id}")).await.body["topics"],
        json!([t[2]])
    );
    // A restore whose member is gone since says so.
    app.delete(&format!("/notes/{id}")).await;
    app.delete(&format!("/topics/{}", t[2])).await;
    let audit = app
        .get(&format!(
            "/_audit?_sortField=id&_sortDir=DESC&_filters={}",
            urlencode(&json!({"entity": "notes", "action": "delete"}).to_string())
        ))
        .await;
    let reply = app
        .post(
            &format!("/_audit/{}/restore", audit.body[0]["id"]),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    let (_, message) = reply.error();
    assert!(
        message.contains("topics has no record with key"),
        "{message}"
    );
    assert_eq!(app.get(&format!("/notes/{id}")).await.status, 404);
}
