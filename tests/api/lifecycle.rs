//! Writes finish when their client goes away; shutdown finishes in-flight requests; health.

use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, blog_app};

/// Holds a lock that blocks writes to `posts` until dropped, using a connection of the
/// test's own.
struct Blocker {
    release: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn block_post_writes(app: &TestApp, id: i64) -> Blocker {
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (release, release_rx) = tokio::sync::oneshot::channel::<()>();
    let url = app.db.url.clone();
    let backend = app.db.backend;
    let done = tokio::spawn(async move {
        macro_rules! hold {
            ($pool:ty, $lock:expr) => {{
                let pool = <$pool>::connect(&url).await.unwrap();
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe($lock))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                locked_tx.send(()).unwrap();
                let _ = release_rx.await;
                tx.commit().await.unwrap();
                pool.close().await;
            }};
        }
        match backend {
            Backend::Postgres => hold!(
                sqlx::PgPool,
                format!("SELECT id FROM posts WHERE id = {id} FOR UPDATE")
            ),
            Backend::MySql => hold!(
                sqlx::MySqlPool,
                format!("SELECT id FROM posts WHERE id = {id} FOR UPDATE")
            ),
            // SQLite locks the whole database for a writer.
            Backend::Sqlite => hold!(
                sqlx::SqlitePool,
                format!("UPDATE posts SET views = views WHERE id = {id}")
            ),
        }
    });
    locked_rx.await.unwrap();
    Blocker { release, done }
}

impl Blocker {
    async fn release(self) {
        self.release.send(()).unwrap();
        self.done.await.unwrap();
    }
}

/// The stored title of post `id` once it is `want`, or whatever it is after 5 s: a write the
/// client gave up on finishes in the background.
async fn eventual_title(app: &TestApp, id: i64, want: &str) -> String {
    let mut stored = None;
    for _ in 0..100 {
        stored = app
            .db
            .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
            .await;
        if stored.as_deref() == Some(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stored.unwrap_or_default()
}

async fn one_post(app: &TestApp) -> i64 {
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    app.create(
        "posts",
        json!({"title": "Before", "author_id": author["id"]}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

pub async fn write_finishes_after_client_disconnects(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let id = one_post(&app).await;
    let blocker = block_post_writes(&app, id).await;
    // The client gives up while the write waits for the lock.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = impatient
        .put(format!("{}/posts/{id}", app.api))
        .json(&json!({"title": "After"}))
        .send()
        .await;
    assert!(sent.is_err(), "the client timed out");
    blocker.release().await;
    // The write still completes, whole.
    assert_eq!(eventual_title(&app, id, "After").await, "After");
}

pub async fn shutdown_finishes_in_flight_requests(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let id = one_post(&app).await;
    let blocker = block_post_writes(&app, id).await;
    let client = app.client.clone();
    let url = format!("{}/posts/{id}", app.api);
    let in_flight = tokio::spawn(async move {
        client
            .put(url)
            .json(&json!({"title": "During shutdown"}))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let api = app.api.clone();
    let db_url = app.db.url.clone();
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    blocker.release().await;
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    stopping.await.unwrap().expect("server stopped cleanly");
    // Stopped: no longer accepting.
    assert!(reqwest::get(format!("{api}/health")).await.is_err());
    drop(db_url);
}

pub async fn health_answers(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let reply = app.get("/health").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"status": "ok"}));
}

/// The blog with tight limits: one connection, 1 s to get it, `statement` s per statement,
/// `request` s per request.
async fn tight_app(backend: Backend, statement: u64, request: u64) -> Option<TestApp> {
    let config = autoadmin::demo::CONFIG.replace(
        "base_path = \"/admin\"",
        &format!(
            "base_path = \"/admin\"\nmax_connections = 1\nacquire_timeout_secs = 1\nstatement_timeout_secs = {statement}\nrequest_timeout_secs = {request}"
        ),
    );
    crate::common::spawn_app(backend, &[backend.blog_schema()], &config).await
}

pub async fn timeouts_answer_503_and_change_nothing(backend: Backend) {
    let Some(app) = tight_app(backend, 3, 30).await else {
        return;
    };
    let id = one_post(&app).await;
    let blocker = block_post_writes(&app, id).await;
    // The write waits for the lock until the statement timeout; meanwhile it holds the only
    // connection, so a read cannot get one within the acquire timeout.
    let writer = {
        let (client, url) = (app.client.clone(), format!("{}/posts/{id}", app.api));
        tokio::spawn(async move { client.put(url).json(&json!({"title": "Lost"})).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = app.get("/posts").await;
    assert_eq!(read.status, 503, "{}", read.body);
    assert_eq!(read.header("retry-after"), Some("1"));
    assert_eq!(read.error().0, "unavailable");
    let write = writer.await.unwrap().unwrap();
    assert_eq!(write.status(), 503);
    assert_eq!(write.headers()["retry-after"], "1");
    blocker.release().await;
    // The timed-out write rolled back as a whole; the service is fine again.
    assert_eq!(
        app.db
            .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
            .await
            .as_deref(),
        Some("Before")
    );
    assert_eq!(app.get("/posts").await.status, 200);
}

pub async fn request_timeout_answers_503_and_the_write_still_completes(backend: Backend) {
    let Some(app) = tight_app(backend, 30, 1).await else {
        return;
    };
    let id = one_post(&app).await;
    let blocker = block_post_writes(&app, id).await;
    let reply = app
        .put(&format!("/posts/{id}"), json!({"title": "Late"}))
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(
        reply.error().1,
        "the request took longer than 1 s; a write it started still completes or rolls back as a whole"
    );
    blocker.release().await;
    assert_eq!(eventual_title(&app, id, "Late").await, "Late");
}

/// Connections killed by the server are replaced without the client noticing; a database
/// that refuses connections is a 503 until it is back. (SQLite is a file in the process: it
/// has no server to lose.)
pub async fn database_outage_is_503_then_recovers(backend: Backend) {
    if backend == Backend::Sqlite {
        return;
    }
    let Some(app) = blog_app(backend).await else {
        return;
    };
    one_post(&app).await;
    app.db.kill_connections().await;
    let reply = app.get("/posts").await;
    assert_eq!(
        reply.status, 200,
        "killed connections are replaced: {}",
        reply.body
    );
    if backend == Backend::Postgres {
        app.db.allow_connections(false).await;
        app.db.kill_connections().await;
        let reply = app.get("/posts").await;
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.error().0, "unavailable");
        assert_eq!(app.get("/health").await.status, 503);
        app.db.allow_connections(true).await;
        if app.db.behind_pooler() {
            // A pooler tries the server again only after its `server_login_retry` (1 s in
            // deploy/local/pgbouncer.sh), refusing logins until one succeeds: meanwhile
            // requests are still a clean 503, and the service is back within seconds.
            for _ in 0..50 {
                let reply = app.get("/posts").await;
                if reply.status == 200 {
                    break;
                }
                assert_eq!(reply.status, 503, "{}", reply.body);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        assert_eq!(app.get("/posts").await.status, 200);
        assert_eq!(app.get("/health").await.status, 200);
    }
}

/// The pool keeps its connections: sequential requests reuse them, concurrent ones never
/// open more than `max_connections` (10 by default), and once the server has ended them all,
/// reads and writes carry on, on new ones.
pub async fn connections_are_reused_bounded_and_replaced(backend: Backend) {
    if backend == Backend::Sqlite {
        return;
    }
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let id = one_post(&app).await;
    for _ in 0..30 {
        assert_eq!(app.get(&format!("/posts/{id}")).await.status, 200);
    }
    let open = app.db.server_connections().await;
    assert!(
        (1..=2).contains(&open),
        "sequential requests reuse their connections: {open} open"
    );
    let replies = futures_util::future::join_all((0..40).map(|_| app.get("/posts"))).await;
    assert!(replies.iter().all(|r| r.status == 200));
    let open = app.db.server_connections().await;
    assert!(
        (1..=10).contains(&open),
        "40 concurrent lists use at most max_connections: {open} open"
    );
    app.db.kill_connections().await;
    let created = app
        .post("/posts", json!({"title": "After", "author_id": 1}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(app.get(&format!("/posts/{id}")).await.status, 200);
}

/// The OpenAPI document is generated from the descriptors and names the path it is served at.
pub async fn openapi_document_is_served(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    let doc = &reply.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/admin/api");
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for path in [
        "/health",
        "/posts",
        "/posts/{id}",
        "/posts/export.csv",
        "/authors",
        "/comments",
        "/tags",
    ] {
        assert!(
            paths.iter().any(|p| p.as_str() == path),
            "{path} in {paths:?}"
        );
    }
    // The descriptor's pattern, besides the text rules every required text has.
    assert_eq!(
        doc["components"]["schemas"]["TagsCreate"]["properties"]["name"]["allOf"][0]["pattern"],
        "^[a-z0-9-]+$"
    );
}

/// The admin app: its page with a strict CSP, its files with ETags (304 on revalidation) and
/// compression, and config.json generated from the descriptors.
pub async fn admin_app_is_served(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let root = app.api.trim_end_matches("/api").to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(&root).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/admin/");
    let response = client.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !response.text().await.unwrap().contains("<script>"),
        "no inline script"
    );
    let response = client
        .get(format!("{root}/assets/main.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let response = client
        .get(format!("{root}/assets/main.js"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let response = client
        .get(format!("{root}/assets/app.css"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(
        client
            .get(format!("{root}/assets/nope.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(format!("{root}/assets/../Cargo.toml"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let config: serde_json::Value = client
        .get(format!("{root}/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["title"], "Blog admin");
    assert_eq!(config["api"], "/admin/api");
    let posts = config["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "posts")
        .unwrap();
    assert_eq!(
        posts["list_columns"],
        serde_json::json!(["id", "title", "status", "author_id", "tags", "published_at"])
    );
    let author = posts["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "author_id")
        .unwrap();
    assert_eq!(author["target"], "authors");
    assert_eq!(author["display"], "name");
    assert_eq!(posts["relations"][0]["foreign_key"], "post_id");
}

/// Many writers at once: every write lands, once, with its audit row (on SQLite they take
/// turns for its single writer lock).
pub async fn concurrent_writes_all_land(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let id = one_post(&app).await;
    let creates = (0..24).map(|i| {
        app.post(
            "/posts",
            json!({"title": format!("Post {i}"), "author_id": 1}),
        )
    });
    let path = format!("/posts/{id}");
    // Each a different value, none the stored one: every update changes the record (one
    // that changes nothing is not audited).
    let updates = (1..=16).map(|i| app.patch(&path, json!({"views": i})));
    let (created, updated) = tokio::join!(
        futures_util::future::join_all(creates),
        futures_util::future::join_all(updates)
    );
    for reply in &created {
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    for reply in &updated {
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    assert_eq!(app.db.count("posts").await, 25);
    // The author, the first post, then 24 creates and 16 updates.
    assert_eq!(app.db.count("autoadmin_audit").await, 2 + 24 + 16);
}

/// A write that cannot get SQLite's lock (another process holds it) fails with 503 within
/// the statement timeout, and so do the writes queued behind it; none is half-done, and
/// once the lock is free, writes go through again.
pub async fn a_locked_sqlite_file_gives_503(backend: Backend) {
    use sqlx::Connection;
    if backend != Backend::Sqlite {
        return;
    }
    let config =
        autoadmin::demo::CONFIG.replacen("[admin]\n", "[admin]\nstatement_timeout_secs = 1\n", 1);
    let Some(app) = crate::common::spawn_app(backend, &[backend.blog_schema()], &config).await
    else {
        return;
    };
    let id = one_post(&app).await;
    let mut other = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let path = format!("/posts/{id}");
    let writes = (0..3).map(|i| app.patch(&path, json!({"views": 10 + i})));
    let replies = futures_util::future::join_all(writes).await;
    for reply in &replies {
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.error().0, "unavailable");
    }
    // Reads are not blocked by a writer (WAL).
    assert_eq!(app.get(&format!("/posts/{id}")).await.body["views"], 0);
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    let reply = app
        .patch(&format!("/posts/{id}"), json!({"views": 7}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.db.count("autoadmin_audit").await, 3);
}

/// What the columns hold joins the descriptors' rules: a value beyond them is a 422 naming
/// the field (not the database's refusal), and the document states the limit. The blog's
/// `views` is an `INTEGER` (32 bits on PostgreSQL and MariaDB, 64 on SQLite); `authors.active`
/// is `NOT NULL` with a default, which its descriptor does not say.
pub async fn column_limits_are_rules(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app
        .post(
            "/authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(author.status, 201, "{}", author.body);
    let big = json!({"title": "Big", "author_id": author.body["id"], "views": 1_u64 << 40});
    let reply = app.post("/posts", big).await;
    let doc = app.get("/openapi.json").await.body;
    let views = &doc["components"]["schemas"]["PostsCreate"]["properties"]["views"];
    if matches!(backend, Backend::Sqlite) {
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(views["maximum"], json!(i64::MAX));
    } else {
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.body["errors"]["views"], "must be at most 2147483647");
        assert_eq!(views["maximum"], json!(2147483647));
        // A reference held in an integer column too.
        let far = json!({"title": "Far", "author_id": i64::MAX});
        let reply = app.post("/posts", far).await;
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(
            reply.body["errors"]["author_id"],
            "must be at most 2147483647"
        );
    }
    let reply = app
        .patch(
            &format!("/authors/{}", author.body["id"]),
            json!({"active": null}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"]["active"], "must not be null");
    let active = &doc["components"]["schemas"]["AuthorsUpdate"]["properties"]["active"];
    assert!(
        !active["enum"].as_array().unwrap().contains(&Json::Null),
        "{active}"
    );
}
