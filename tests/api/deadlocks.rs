//! A write the database rolls back for another's sake (a deadlock; on Galera, a certification
//! failure, which MariaDB reports the same way) wrote nothing, and is run again once
//! (`Db::write`): the client sees its write made, not a 503.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{AssertSqlSafe, Connection};

use crate::common::{Backend, blog_app};

/// A transaction of the test's own locks post 2, autoadmin's batch update of posts 1 and 2
/// locks post 1 and waits for post 2, then the test's asks for post 1: a deadlock. The
/// database ends one of them; the test's goes on (checked), so autoadmin's was the one, and
/// its client still gets 200 with both posts written, each audited once.
pub async fn a_deadlocked_write_is_run_again(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app.an_author().await;
    for n in 1..=2 {
        app.create(
            "posts",
            json!({"title": format!("Post {n}"), "author_id": author, "views": 0}),
        )
        .await;
    }
    let client = app.client.clone();
    let batch = format!("{}/posts?ids=[1,2]", app.api);
    let script = |sql: &str| AssertSqlSafe(sql.to_owned());
    let (waited, written) = match backend {
        // One writer at a time: no deadlock can be; the batch waits for the test's write.
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            sqlx::raw_sql(script(
                "BEGIN IMMEDIATE; UPDATE posts SET views = 7 WHERE id = 2",
            ))
            .execute(&mut conn)
            .await
            .unwrap();
            let write = tokio::spawn(client.patch(&batch).json(&json!({"views": 5})).send());
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::raw_sql(script("COMMIT"))
                .execute(&mut conn)
                .await
                .unwrap();
            (Duration::ZERO, write.await.unwrap().unwrap())
        }
        Backend::Postgres | Backend::MySql => {
            let begin = if backend == Backend::Postgres {
                "BEGIN"
            } else {
                "START TRANSACTION"
            };
            let url = &app.db.url;
            let mut conn: Box<dyn Held> = if backend == Backend::Postgres {
                Box::new(sqlx::PgConnection::connect(url).await.unwrap())
            } else {
                Box::new(sqlx::MySqlConnection::connect(url).await.unwrap())
            };
            conn.run(begin).await.unwrap();
            conn.run("UPDATE posts SET views = 7 WHERE id = 2")
                .await
                .unwrap();
            let write = tokio::spawn(client.patch(&batch).json(&json!({"views": 5})).send());
            // The batch has post 1 and waits for post 2. PostgreSQL ends the transaction
            // whose deadlock_timeout (1 s) runs out first, so the test's must begin to wait
            // after the batch's: asked of the server rather than slept on (a fixed 500 ms was
            // once too short on a loaded machine, and the test's was ended). InnoDB ends the
            // lighter transaction whenever each began to wait.
            if backend == Backend::Postgres {
                let waiting = "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'";
                let deadline = Instant::now() + Duration::from_secs(10);
                while app.db.scalar(waiting).await.as_deref() != Some("1") {
                    assert!(
                        Instant::now() < deadline,
                        "the batch never waited for post 2"
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            } else {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let started = Instant::now();
            conn.run("UPDATE posts SET views = 8 WHERE id = 1")
                .await
                .expect("the test's transaction is not the one ended");
            let waited = started.elapsed();
            conn.run("COMMIT").await.unwrap();
            (waited, write.await.unwrap().unwrap())
        }
    };
    assert_eq!(written.status(), 200, "{:?}", written.text().await);
    if backend == Backend::Postgres {
        // It waited for the batch's lock of post 1 until PostgreSQL found the deadlock: the
        // batch's own check fires deadlock_timeout (1 s) after it began to wait, just before
        // this update, so this one waits nearly 1 s (never at once).
        assert!(waited > Duration::from_millis(200), "{waited:?}");
    }
    assert_eq!(
        app.db
            .scalar("SELECT views FROM posts WHERE id = 1")
            .await
            .as_deref(),
        Some("5")
    );
    assert_eq!(
        app.db
            .scalar("SELECT views FROM posts WHERE id = 2")
            .await
            .as_deref(),
        Some("5")
    );
    let audited = app
        .db
        .scalar("SELECT COUNT(*) FROM autoadmin_audit WHERE action = 'update'")
        .await;
    assert_eq!(audited.as_deref(), Some("2"), "each post audited once");
}

/// A connection of the test's, of either server, that runs a statement.
trait Held: Send {
    fn run<'a>(
        &'a mut self,
        sql: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), sqlx::Error>>;
}

/// The same for each server's connection type.
macro_rules! held {
    ($($connection:ty),*) => {$(
        impl Held for $connection {
            fn run<'a>(
                &'a mut self,
                sql: &'a str,
            ) -> futures_util::future::BoxFuture<'a, Result<(), sqlx::Error>> {
                Box::pin(async move {
                    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                        .execute(self)
                        .await
                        .map(drop)
                })
            }
        }
    )*};
}

held!(sqlx::PgConnection, sqlx::MySqlConnection);
