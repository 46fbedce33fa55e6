//! `[admin] transaction_pooler = true`: every piece of work in a transaction of its own, with
//! unnamed statements (`src/db/pooler.rs`). The whole suite runs through a real PgBouncer in
//! CI (`AUTOADMIN_TEST_POSTGRES_POOLER_URL`, where the mode is detected); this test says the
//! mode in the config, so it also runs where there is no pooler, straight on PostgreSQL.

use serde_json::json;

use crate::common::{Backend, TestDb, spawn_app};

/// Reads (a page, an unpaged list, a record, an export, counts), writes (one, many, with a
/// cascade) and the database's own types (the posts' status is an enum on PostgreSQL) all
/// work, at once from many clients, and leave what they say in the database.
pub async fn a_declared_pooler_serves_every_kind_of_work(backend: Backend) {
    if backend != Backend::Postgres {
        return; // The key is PostgreSQL's; elsewhere it changes nothing.
    }
    let config =
        autoadmin::demo::CONFIG.replacen("[admin]\n", "[admin]\ntransaction_pooler = true\n", 1);
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let author = app.an_author().await;
    let creates = (0..20).map(|n| {
        app.post(
            "/posts",
            json!({"title": format!("Post {n}"), "author_id": author,
                   "status": if n % 2 == 0 { "published" } else { "draft" }}),
        )
    });
    for reply in futures_util::future::join_all(creates).await {
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(app.db.count("posts").await, 20);
    let reads = (0..20).map(|n| match n % 4 {
        0 => app.get("/posts?_page=1&_perPage=5&_sortField=title"),
        1 => app.get("/posts"),
        2 => app.get(r#"/posts?_filters={"status":"published"}"#),
        _ => app.get("/posts/1"),
    });
    for reply in futures_util::future::join_all(reads).await {
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let published = app.get(r#"/posts?_filters={"status":"published"}"#).await;
    assert_eq!(published.body.as_array().unwrap().len(), 10);
    let export = app
        .client
        .get(format!("{}/posts/export.csv", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(export.text().await.unwrap().lines().count(), 21);
    let updated = app.put("/posts/1", json!({"status": "published"})).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        app.db
            .scalar("SELECT status FROM posts WHERE id = 1")
            .await
            .as_deref(),
        Some("published")
    );
    // A failed write inside its transaction leaves the connection fit for the next.
    let refused = app
        .post(
            "/posts",
            json!({"title": "No author", "author_id": 999_999}),
        )
        .await;
    assert_eq!(refused.status / 100, 4, "{}", refused.body);
    let deleted = app.delete(&format!("/authors/{author}")).await;
    assert!(
        deleted.status == 409 || deleted.status == 200,
        "{}",
        deleted.body
    );
    assert_eq!(app.get("/posts/2").await.status, 200);
    assert_eq!(app.get("/health").await.status, 200);
}

/// Behind a pooler, `transaction_pooler = false` (detection turned off) cannot connect: the
/// error says why and what to change. Runs where the suite runs through a pooler (CI).
pub async fn a_pooler_said_to_be_absent_is_named_in_the_error(backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    if !db.behind_pooler() {
        return;
    }
    let config =
        autoadmin::demo::CONFIG.replacen("[admin]\n", "[admin]\ntransaction_pooler = false\n", 1);
    db.execute(backend.blog_schema()).await;
    let built = autoadmin::Admin::builder()
        .database_url(&db.admin_url)
        .config_toml(config, "blog.toml")
        .build()
        .await;
    let error = built.err().expect("no connection without the pooler mode");
    // The message and its causes, as the command line prints them.
    let mut cause: &dyn std::error::Error = &error;
    let mut error = cause.to_string();
    while let Some(next) = cause.source() {
        error = format!("{error}: {next}");
        cause = next;
    }
    assert!(
        error.contains("remove `transaction_pooler = false`"),
        "{error}"
    );
}
