//! Writes finish when their client goes away; shutdown finishes in-flight requests; health.

use std::time::Duration;

use serde_json::json;

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
    let mut title = None;
    for _ in 0..100 {
        title = app
            .db
            .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
            .await;
        if title.as_deref() == Some("After") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(title.as_deref(), Some("After"));
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
