//! Multi-choice fields (issue #14): a set of values from `choices`, kept as a PostgreSQL
//! array (of an enum or of text), a MySQL SET or JSON array, a SQLite JSON array; written in
//! one canonical order, checked against the choices, filtered by "holds any" and "holds
//! all", exported as text.

use serde_json::{Value as Json, json};

use crate::common::{Backend, spawn_app, urlencode};

fn schema(backend: Backend) -> String {
    let (key, _) = backend.key_types();
    match backend {
        Backend::Postgres => format!(
            "CREATE TYPE role AS ENUM ('admin', 'editor', 'viewer');
             CREATE TABLE members (id {key}, name VARCHAR(50) NOT NULL, roles role[] NOT NULL DEFAULT '{{}}', labels TEXT[])"
        ),
        Backend::MySql => format!(
            "CREATE TABLE members (id {key}, name VARCHAR(50) NOT NULL, roles SET('admin', 'editor', 'viewer') NOT NULL DEFAULT '', labels JSON)"
        ),
        Backend::Sqlite => format!(
            "CREATE TABLE members (id {key}, name VARCHAR(50) NOT NULL, roles TEXT NOT NULL DEFAULT '[]', labels TEXT)"
        ),
    }
}

const CONFIG: &str = r#"
[[entity]]
name = "members"
filters = ["roles", "labels"]
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  required = true
  [[entity.field]]
  name = "roles"
  type = "multichoice"
  choices = ["admin", "editor", "viewer"]
  required = true
  [[entity.field]]
  name = "labels"
  type = "multichoice"
  choices = ["red", "green", "blue"]
"#;

fn names(body: &Json) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn multichoice_fields_hold_sets_of_choices(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&schema(backend)], CONFIG).await else {
        return;
    };
    // Written in the choices' order, each once, whatever order the client gives.
    let ann = app
        .create(
            "members",
            json!({"name": "ann", "roles": ["viewer", "admin", "admin"], "labels": ["blue", "red"]}),
        )
        .await;
    assert_eq!(ann["roles"], json!(["admin", "viewer"]), "{ann}");
    assert_eq!(ann["labels"], json!(["red", "blue"]));
    let id = ann["id"].as_i64().unwrap();
    for (name, roles, labels) in [
        ("bob", json!(["editor"]), json!(null)),
        ("cy", json!(["admin", "editor"]), json!([])),
        ("dee", json!(["viewer"]), json!(["green"])),
    ] {
        app.create(
            "members",
            json!({"name": name, "roles": roles, "labels": labels}),
        )
        .await;
    }
    let read = app.get(&format!("/members/{id}")).await;
    assert_eq!(read.body["roles"], json!(["admin", "viewer"]));
    let etag = read.header("etag").unwrap().to_owned();
    // The same set in another order is no change: 200, the same version, no audit row.
    let audited = app.db.count("autoadmin_audit").await;
    let reply = app
        .patch(
            &format!("/members/{id}"),
            json!({"roles": ["viewer", "admin"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    assert_eq!(app.db.count("autoadmin_audit").await, audited);
    let reply = app
        .patch(
            &format!("/members/{id}"),
            json!({"roles": ["editor", "admin", "viewer"]}),
        )
        .await;
    assert_eq!(reply.body["roles"], json!(["admin", "editor", "viewer"]));

    // Filters: holds any, holds all, holds none; in every dialect.
    let filtered = |filter: Json| {
        let app = &app;
        async move { names(&Json::Array(app.filtered("members", &filter).await)) }
    };
    assert_eq!(filtered(json!({"roles": "viewer"})).await, ["ann", "dee"]);
    assert_eq!(
        filtered(json!({"roles": ["viewer", "editor"]})).await,
        ["ann", "bob", "cy", "dee"]
    );
    assert_eq!(
        filtered(json!({"roles": {"all": ["admin", "editor"]}})).await,
        ["ann", "cy"]
    );
    assert_eq!(
        filtered(json!({"roles": {"any": ["admin"]}, "labels": {"any": ["red", "green"]}})).await,
        ["ann"]
    );
    assert_eq!(
        filtered(json!({"labels": {"is_null": true}})).await,
        ["bob"]
    );
    assert_eq!(filtered(json!({"labels": null})).await, ["bob"]);
    assert_eq!(
        filtered(json!({"roles": {"any": []}})).await,
        Vec::<String>::new()
    );
    assert_eq!(filtered(json!({"roles": {"all": []}})).await.len(), 4);
    let reply = app
        .get("/members?_sort=id&roles_all=admin&roles_all=editor")
        .await;
    assert_eq!(names(&reply.body), ["ann", "cy"]);
    let reply = app.get("/members?_sort=id&roles=viewer&roles=editor").await;
    assert_eq!(names(&reply.body), ["ann", "bob", "cy", "dee"]);

    // What is not a set of the choices is refused, at the field.
    for (body, says) in [
        (
            json!({"name": "x", "roles": ["root"]}),
            "holds \"root\", which is not one of: admin, editor, viewer",
        ),
        (
            json!({"name": "x", "roles": "admin"}),
            "must be a list of: admin, editor, viewer",
        ),
        (json!({"name": "x", "roles": [1]}), "must be a list of"),
        (
            json!({"name": "x", "roles": []}),
            "is required: choose at least one",
        ),
        (json!({"name": "x"}), "is required"),
    ] {
        let reply = app.post("/members", body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert!(
            reply.body["errors"]["roles"]
                .as_str()
                .unwrap()
                .starts_with(says),
            "{body}: {}",
            reply.body
        );
    }
    for (filter, says) in [
        (
            json!({"roles": {"any": ["root"]}}),
            "holds values of: admin, editor, viewer",
        ),
        (
            json!({"roles": {"gte": "admin"}}),
            "does not apply to multichoice field",
        ),
        (
            json!({"roles": {"like": "adm"}}),
            "does not apply to multichoice field",
        ),
    ] {
        let reply = app
            .get(&format!(
                "/members?_filters={}",
                urlencode(&filter.to_string())
            ))
            .await;
        assert_eq!(reply.status, 400, "{filter}: {}", reply.body);
        assert!(reply.error().1.contains(says), "{filter}: {}", reply.body);
    }
    // Exported as text, the values joined.
    let csv = app.text("/members/export.csv?_sortField=id").await;
    let ann_line = csv.lines().nth(1).unwrap();
    assert!(
        ann_line.ends_with(",admin; editor; viewer,red; blue"),
        "{ann_line}"
    );
}
