//! Read replicas (`[admin] replica_urls`): what holds without a replica to read from — a
//! replica that is down or is no replica at all serves nothing, every read still answers, and
//! writes say their position. That reads go to a replica that has replayed them is tested
//! against a real streaming replica in tests/cluster/.

use serde_json::json;

use crate::common::{Backend, TestDb, reply, spawn_on};

/// `replica_urls` on PostgreSQL: reads fall back to the database; writes give
/// `X-Write-Position`; a malformed `X-Read-After` is a 400. Elsewhere: refused at start.
pub async fn replicas_that_cannot_serve_leave_reads_to_the_database(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    db.execute(backend.blog_schema()).await;
    // The database itself (not in recovery: no replica) and a server that is not there.
    let admin = format!(
        "[admin]\nreplica_urls = [\"{}\", \"postgres://postgres@127.0.0.1:1/none\"]\nreplica_max_lag_ms = 500\n",
        if backend == Backend::Postgres {
            db.url.as_str()
        } else {
            "postgres://127.0.0.1/x"
        },
    );
    let configure = |builder: autoadmin::AdminBuilder| {
        builder
            .config_toml(&admin, "admin.toml")
            .config_toml(autoadmin::demo::CONFIG, "blog.toml")
    };
    if backend != Backend::Postgres {
        let built = configure(autoadmin::Admin::builder().database_url(&db.admin_url))
            .build()
            .await;
        let error = built.err().expect("replica_urls refused").to_string();
        assert!(
            error.contains("replica_urls") && error.contains("PostgreSQL"),
            "{error}"
        );
        return;
    }
    let app = spawn_on(db, configure).await;
    // Long enough for the monitor to have tried both (every 100 ms; 1 s to answer).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let made = app
        .post(
            "/authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let position = made
        .header("x-write-position")
        .expect("a write says its position")
        .to_owned();
    let (high, low) = position.split_once('/').expect("a position: hex/hex");
    assert!(
        u64::from_str_radix(high, 16).is_ok() && u64::from_str_radix(low, 16).is_ok(),
        "{position}"
    );
    let id = made.body["id"].as_i64().unwrap();

    // Read at once, by this client and by one that sends the position: from the database.
    assert_eq!(app.get(&format!("/authors/{id}")).await.status, 200);
    let read = |after: &str| {
        app.client
            .get(format!("{}/authors/{id}", app.api))
            .header("x-read-after", after)
            .send()
    };
    let got = reply(read(&position).await.unwrap()).await;
    assert_eq!((got.status, got.body["name"].clone()), (200, json!("Ann")));
    // A position no database has reached yet: no replica can serve it; the database does.
    assert_eq!(reply(read("FFFFFFFF/0").await.unwrap()).await.status, 200);
    let list = app.get("/authors").await;
    assert_eq!(
        (list.status, list.body.as_array().map(Vec::len)),
        (200, Some(1))
    );
    assert!(
        app.get("/authors")
            .await
            .header("x-write-position")
            .is_none(),
        "reads have none"
    );

    for bad in ["16", "x/1", "1/123456789", "1/2/3"] {
        let refused = reply(read(bad).await.unwrap()).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        let (code, message) = refused.error();
        assert_eq!(code, "bad_request");
        assert!(message.contains("X-Read-After"), "{message}");
    }
    // The document says both headers.
    let document = app.get("/openapi.json").await.body;
    let list = &document["paths"]["/authors"];
    let takes = list["get"]["parameters"].as_array().unwrap();
    assert!(
        takes.iter().any(|p| p["name"] == "X-Read-After"),
        "{takes:?}"
    );
    assert!(list["post"]["responses"]["201"]["headers"]["X-Write-Position"].is_object());
    // A refused write leaves no position.
    let refused = app.post("/authors", json!({"name": ""})).await;
    assert_eq!(refused.status, 422);
    assert!(refused.header("x-write-position").is_none());
    app.stop().await.unwrap();
}
