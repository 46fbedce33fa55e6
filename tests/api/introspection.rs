//! Introspection on all three backends: a schema with every column type, composite keys,
//! views, enums, a self-reference and a link table becomes descriptors that match the golden
//! file of the backend, load back unchanged, serve every entity, and `check` against the
//! database.

use serde_json::json;

use crate::common::{Backend, TestDb, spawn_app_with};

fn golden_path(backend: Backend) -> String {
    format!(
        "{}/tests/golden/introspect-{backend:?}.toml",
        env!("CARGO_MANIFEST_DIR")
    )
    .to_lowercase()
}

pub async fn introspection_matches_the_golden_file(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    db.execute(&backend.fixture("introspect.sql")).await;
    let options = autoadmin::db::introspect::Options::default();
    let printed = autoadmin::introspect_toml(&db.admin_url, &options)
        .await
        .expect("introspects");
    let path = golden_path(backend);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, &printed).unwrap();
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_GOLDEN=1 writes it)"));
    assert_eq!(
        printed, golden,
        "introspection of {backend:?} differs from {path}"
    );

    // It loads back without edits, and printing what was loaded gives the same file.
    let loaded = autoadmin::config::load_str(&printed, "introspected.toml").expect("loads back");
    let again = autoadmin::config::print_toml(Some(&loaded.admin), loaded.schema.entities(), &[]);
    let without_notes: String = printed
        .lines()
        .skip_while(|l| l.starts_with('#') || l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(again.trim_end(), without_notes.trim_end());

    // And it fits the database it came from.
    let problems =
        autoadmin::check_against_database(&loaded.schema, &db.admin_url, "introspected.toml")
            .await
            .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

/// With no config at all, the admin serves every table introspection found.
pub async fn serving_without_a_config(backend: Backend) {
    let fixture = backend.fixture("introspect.sql");
    let Some(app) =
        spawn_app_with(backend, &[&fixture], |b| b.introspect(Default::default())).await
    else {
        return;
    };
    let person = app
        .create(
            "people",
            json!({"full_name": "Ada", "email": "ada@example.com", "level": "senior"}),
        )
        .await;
    let id = person["id"].as_i64().unwrap();
    assert_eq!(person["mood"], "ok", "the database default");
    let report = app
        .create("people", json!({"full_name": "Alan", "manager_id": id}))
        .await;
    assert_eq!(report["manager_id"], id);
    let group = app
        .create("groups", json!({"code": "core", "title": "Core team"}))
        .await;
    assert_eq!(group["code"], "core");
    if backend != Backend::Sqlite {
        // PostgreSQL and MySQL generate the uuid key themselves.
        let document = app
            .create("documents", json!({"owner_id": id, "title": "Plan"}))
            .await;
        assert!(uuid::Uuid::parse_str(document["id"].as_str().unwrap()).is_ok());
    }
    for entity in ["people", "groups", "documents", "senior_people"] {
        let reply = app.get(&format!("/{entity}")).await;
        assert_eq!(reply.status, 200, "{entity}: {}", reply.body);
    }
    assert_eq!(app.get("/senior_people").await.body[0]["full_name"], "Ada");
    // Views are read-only; left-out tables are not served.
    assert_eq!(
        app.post("/senior_people", json!({"full_name": "x"}))
            .await
            .status,
        405
    );
    for missing in ["memberships", "logs", "people_count"] {
        assert_eq!(
            app.get(&format!("/{missing}")).await.status,
            404,
            "{missing}"
        );
    }
    // Every column type round-trips through the API.
    let reply = app.put(&format!("/people/{id}"), json!({
        "salary": "1234.50", "score": 0.5, "ratio": 0.25, "born": "1990-02-03",
        "seen_at": "2024-01-02T03:04:05Z", "wakes": "07:30:00", "prefs": {"a": 1}, "raw": [1, 2],
        "bio": "line\nline", "tiny": 7, "active": false,
    })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["born"], "1990-02-03");
    assert_eq!(reply.body["prefs"], json!({"a": 1}));
    assert_eq!(reply.body["active"], false);
    // Arrays of an enum or of checked text (PostgreSQL), SETs (MySQL): multi-choice fields.
    if backend != Backend::Sqlite {
        let reply = app
            .patch(&format!("/people/{id}"), json!({"skills": ["rust", "sql"]}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["skills"], json!(["sql", "rust"]));
    }
    if backend == Backend::Postgres {
        let reply = app
            .patch(&format!("/people/{id}"), json!({"moods": ["sad", "happy"]}))
            .await;
        assert_eq!(
            reply.body["moods"],
            json!(["happy", "sad"]),
            "{}",
            reply.body
        );
        let found = app
            .get(&format!(
                "/people?_filters={}",
                crate::common::urlencode(r#"{"moods":{"all":["sad"]},"skills":"rust"}"#)
            ))
            .await;
        assert_eq!(found.body.as_array().unwrap().len(), 1, "{}", found.body);
    }
    // The link table is a many-to-many relation of both sides, edited as one.
    app.create("groups", json!({"code": "ops", "title": "Operations"}))
        .await;
    let reply = app
        .patch(&format!("/people/{id}"), json!({"groups": ["ops", "core"]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["groups"], json!(["core", "ops"]));
    assert_eq!(app.db.count("memberships").await, 2);
    assert_eq!(app.get("/groups/ops").await.body["people"], json!([id]));
    let members = app
        .get(&format!(
            "/people?_filters={}",
            crate::common::urlencode(r#"{"groups":{"all":["core","ops"]}}"#)
        ))
        .await;
    assert_eq!(
        members.body.as_array().unwrap().len(),
        1,
        "{}",
        members.body
    );
    let reply = app
        .patch(&format!("/people/{id}"), json!({"groups": ["nope"]}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.body["errors"]["groups"],
        "groups has no record with key nope"
    );
}

/// `check` names every mismatch between a config and the database.
pub async fn check_reports_every_mismatch(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    db.execute(&backend.fixture("introspect.sql")).await;
    let config = r#"
[[entity]]
name = "people"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "nickname"
  type = "string"
  [[entity.field]]
  name = "born"
  type = "boolean"
  [[entity.field]]
  name = "email"
  type = "email"
  required = true
  max_length = 500

[[entity]]
name = "ghosts"
  [[entity.field]]
  name = "id"
  type = "integer"

[[entity]]
name = "logs"
primary_key = "line"
  [[entity.field]]
  name = "line"
  type = "string"

[[entity]]
name = "notes"
table = "people"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "log"
  column = "full_name"
  type = "reference"
  target = "logs"
  [[entity.relation]]
  name = "teams"
  target = "logs"
  through = "teams"
  foreign_key = "person_id"
  target_key = "line"
  [[entity.relation]]
  name = "groups"
  target = "logs"
  through = "memberships"
  foreign_key = "person_id"
  target_key = "line_code"
  [[entity.relation]]
  name = "documents"
  target = "logs"
  through = "documents"
  foreign_key = "owner_id"
  target_key = "title"
"#;
    let loaded = autoadmin::config::load_str(config, "bad.toml").unwrap();
    let problems: Vec<String> =
        autoadmin::check_against_database(&loaded.schema, &db.admin_url, "bad.toml")
            .await
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
    let expected = [
        "bad.toml: entity \"people\", field \"nickname\": column \"nickname\" does not exist in \"people\"",
        "bad.toml: entity \"people\", field \"born\": a boolean field does not fit the column type",
        "bad.toml: entity \"people\", field \"email\": is required, but column \"email\" accepts NULL",
        "bad.toml: entity \"people\", field \"email\": max_length 500 is more than the column holds (120)",
        "bad.toml: entity \"ghosts\": table \"ghosts\" does not exist",
        "bad.toml: entity \"notes\", field \"log\": references \"logs.line\", which is not unique in the database",
        "bad.toml: entity \"notes\", field \"teams\": junction table \"teams\" does not exist",
        "bad.toml: entity \"notes\", field \"groups\": column \"line_code\" does not exist in \"memberships\"",
        "bad.toml: entity \"notes\", field \"groups\": \"memberships\" is not unique on (person_id, line_code): a set could hold a key twice",
        "bad.toml: entity \"notes\", field \"groups\": column \"memberships.group_code\" must be given, but the relation writes only person_id and line_code",
        "bad.toml: entity \"notes\", field \"documents\": \"documents\" is not unique on (owner_id, title): a set could hold a key twice",
    ];
    for want in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "missing {want:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

/// --tables and --exclude choose tables; --schema reads another PostgreSQL schema, whose
/// tables are then named `schema.table` in SQL.
pub async fn options_choose_tables_and_schema(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    db.execute(&backend.fixture("introspect.sql")).await;
    let only = autoadmin::db::introspect::Options {
        tables: vec!["people".into(), "groups".into()],
        ..Default::default()
    };
    let printed = autoadmin::introspect_toml(&db.admin_url, &only)
        .await
        .unwrap();
    assert_eq!(printed.matches("[[entity]]").count(), 2, "{printed}");
    let without = autoadmin::db::introspect::Options {
        exclude: vec!["logs".into(), "documents".into()],
        ..Default::default()
    };
    let printed = autoadmin::introspect_toml(&db.admin_url, &without)
        .await
        .unwrap();
    assert!(
        !printed.contains("\"logs\"") && !printed.contains("name = \"documents\""),
        "{printed}"
    );
    assert!(printed.contains("name = \"people\""));
    if backend == Backend::Postgres {
        // An enum in the other schema needs its cast to be found there too.
        db.execute("CREATE SCHEMA shop; CREATE TYPE shop.size AS ENUM ('s', 'm'); CREATE TABLE shop.items (id SERIAL PRIMARY KEY, label TEXT NOT NULL, size shop.size);").await;
        let shop = autoadmin::db::introspect::Options {
            schema: Some("shop".into()),
            ..Default::default()
        };
        let printed = autoadmin::introspect_toml(&db.admin_url, &shop)
            .await
            .unwrap();
        assert!(
            printed.contains("name = \"items\"\ntable = \"shop.items\""),
            "{printed}"
        );
        let admin = autoadmin::Admin::builder()
            .database_url(&db.admin_url)
            .introspect(shop)
            .build()
            .await
            .unwrap();
        // The shop's table, and the audit log and saved views every admin has.
        let names: Vec<&str> = admin
            .schema()
            .entities()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["items", "_audit", "_views"]);
        let created = admin
            .db()
            .create(
                autoadmin::db::EntityRef::new(admin.schema(), "items").unwrap(),
                json!({"label": "pen", "size": "m"})
                    .as_object()
                    .unwrap()
                    .clone(),
                autoadmin::db::Actor {
                    user: Some("test".to_owned()),
                    request_id: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(created["label"], "pen");
        assert_eq!(created["size"], "m");
        admin.close().await;
    }
}

/// Index advice names the filtered, sorted and searched fields without an index, and its
/// statements work: once run, the advice is gone.
pub async fn index_advice_and_its_statements(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    db.execute(backend.blog_schema()).await;
    // A second entity over `posts` gets no second statement for the same index.
    let config = format!(
        "{}\n[[entity]]\nname = \"popular\"\ntable = \"posts\"\nfilters = [\"views\"]\n\n  [[entity.field]]\n  name = \"id\"\n  type = \"integer\"\n\n  [[entity.field]]\n  name = \"views\"\n  type = \"integer\"\n",
        autoadmin::demo::CONFIG
    );
    let loaded = autoadmin::config::load_str(&config, "blog.toml").unwrap();
    let advice = autoadmin::index_advice(&loaded.schema, &db.admin_url)
        .await
        .unwrap();
    assert!(
        advice.contains(&"entity \"popular\", field \"views\": filtered on without an index: the index advised for entity \"posts\"".to_owned()),
        "{advice:#?}"
    );
    assert_eq!(
        advice.iter().filter(|a| a.contains("CREATE INDEX")).count(),
        advice
            .iter()
            .filter_map(|a| a.split_once("CREATE INDEX").map(|(_, s)| s))
            .collect::<std::collections::HashSet<_>>()
            .len(),
        "{advice:#?}"
    );
    let about = |entity: &str, field: &str| {
        advice
            .iter()
            .find(|a| a.starts_with(&format!("entity \"{entity}\", field \"{field}\": ")))
            .cloned()
    };
    let views = about("posts", "views").expect("views is filtered without an index");
    // InnoDB indexes every foreign key by itself; the others do not.
    assert_eq!(
        about("posts", "tag_id").is_some(),
        backend != Backend::MySql
    );
    assert!(
        about("authors", "name")
            .unwrap()
            .contains("sorted on by default")
    );
    for indexed in ["status", "author_id", "published_at"] {
        assert!(!advice.iter().any(|a| a.starts_with(&format!("entity \"posts\", field \"{indexed}\": filtered"))), "{indexed} has an index");
    }
    // PostgreSQL sorts NULLs where it is told: the default sort by a nullable column wants
    // an index in that order (and with the key, for keyset pages); the plain one is not.
    let ordered = about("posts", "published_at");
    match backend {
        Backend::Postgres => assert!(
            ordered.as_deref().is_some_and(|a| a.ends_with(
                "CREATE INDEX \"posts_published_at_id_idx\" ON \"posts\" (\"published_at\" DESC NULLS LAST, \"id\" DESC);"
            )),
            "{advice:#?}"
        ),
        _ => assert_eq!(ordered, None, "an index serves either order"),
    }
    // Run the advised statements; the advice goes away.
    db.execute(views.split(": ").last().unwrap()).await;
    if let Some(ordered) = &ordered {
        db.execute(ordered.split(": ").last().unwrap()).await;
    }
    if backend == Backend::Postgres {
        let search = advice
            .iter()
            .find(|a| a.starts_with("entity \"posts\", field \"title\": quick search"))
            .expect("trigram advice");
        db.execute(search.split(": ").last().unwrap()).await;
    }
    let after = autoadmin::index_advice(&loaded.schema, &db.admin_url)
        .await
        .unwrap();
    assert!(
        !after
            .iter()
            .any(|a| a.contains("field \"views\"") || a.contains("field \"published_at\"")),
        "{after:#?}"
    );
    if backend == Backend::Postgres {
        assert!(
            !after
                .iter()
                .any(|a| a.starts_with("entity \"posts\", field \"title\"")),
            "{after:#?}"
        );
    } else {
        assert!(
            after
                .iter()
                .any(|a| a.contains("no index of this database helps it"))
        );
    }
}

/// A table whose name is the path of one of autoadmin's routes (`health`, `_events`) is
/// served under another name (`table-health`), and the route keeps working.
pub async fn a_table_named_like_a_route_is_served_under_another_name(backend: Backend) {
    let key = backend.key_types().0;
    let tables = format!(
        "CREATE TABLE health (id {key}, status VARCHAR(20));
         CREATE TABLE _events (id {key}, what VARCHAR(20));"
    );
    let Some(app) = spawn_app_with(backend, &[&tables], |b| b.introspect(Default::default())).await
    else {
        return;
    };
    let made = app.create("table-health", json!({"status": "green"})).await;
    assert_eq!(made["status"], "green");
    assert_eq!(app.get("/table-health").await.body[0]["status"], "green");
    app.create("table-events", json!({"what": "a row"})).await;
    assert_eq!(app.get("/health").await.body, json!({"status": "ok"}));
}
