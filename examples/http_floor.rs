//! The HTTP floor of `bench/run.sh`: the least an axum server does for its W3 (one post by id
//! from PostgreSQL, as JSON) with no admin in between. It has the same SQL as autoadmin, ten
//! connections handed out by a semaphore, each statement prepared once per connection
//! (sqlx's cache), and the row turned into JSON by serde. autoadmin's W3 compared with this
//! says what the admin itself costs. This compared with pgbench says what the HTTP hop costs.
//!
//! ```sh
//! cargo run --release --example http_floor -- postgres://postgres@127.0.0.1:5432/aa_bench 127.0.0.1:18310
//! curl http://127.0.0.1:18310/posts/1
//! ```

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What autoadmin sends for `GET /admin/api/posts/{id}` (docs/performance.md).
const SQL: &str = r#"SELECT "id", "title", "body", "status", "author_id", "tag_id", "views", CAST("rating" AS TEXT), "published_at", "created_at" FROM "posts" WHERE "id" = $1"#;

const CONNECTIONS: usize = 10;

/// The smallest pool there is: idle connections, and a permit per connection.
struct Connections {
    url: String,
    idle: Mutex<Vec<PgConnection>>,
    permits: Arc<Semaphore>,
}

/// A lent connection. It goes back when its statement finished. A request dropped half-way
/// (wrk closes its connections at the end of a run) leaves it in an unknown state: a new
/// one replaces it, and the permit waits for that.
struct Lease {
    conn: Option<PgConnection>,
    finished: bool,
    permit: Option<OwnedSemaphorePermit>,
    connections: Arc<Connections>,
}

impl Connections {
    fn give_back(&self, conn: PgConnection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let connections = self.connections.clone();
        let permit = self.permit.take();
        match self.conn.take() {
            Some(conn) if self.finished => {
                connections.give_back(conn);
                drop(permit);
            }
            _ => drop(tokio::spawn(async move {
                if let Ok(conn) = PgConnection::connect(&connections.url).await {
                    connections.give_back(conn);
                }
                drop(permit);
            })),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(bind)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: http_floor POSTGRES_URL ADDRESS");
    };
    let mut idle = Vec::new();
    for _ in 0..CONNECTIONS {
        idle.push(PgConnection::connect(&url).await?);
    }
    let connections = Arc::new(Connections {
        url,
        idle: Mutex::new(idle),
        permits: Arc::new(Semaphore::new(CONNECTIONS)),
    });
    let app = Router::new()
        .route("/posts/{id}", get(post))
        .with_state(connections);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn post(
    State(connections): State<Arc<Connections>>,
    Path(id): Path<i32>,
) -> Result<Json<Value>, StatusCode> {
    let permit = connections.permits.clone().acquire_owned().await;
    let mut lease = Lease {
        conn: connections
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop(),
        finished: false,
        permit: permit.ok(),
        connections: connections.clone(),
    };
    let conn = lease.conn.as_mut().ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let row = sqlx::query(SQL).bind(id).fetch_optional(conn).await;
    lease.finished = true;
    drop(lease);
    let row = row
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::NOT_FOUND)?;
    let json = (|| -> Result<Value, sqlx::Error> {
        let at = |dt: chrono::DateTime<chrono::Utc>| {
            dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        };
        Ok(json!({
            "id": row.try_get::<i32, _>(0)?,
            "title": row.try_get::<&str, _>(1)?,
            "body": row.try_get::<Option<&str>, _>(2)?,
            "status": row.try_get_unchecked::<&str, _>(3)?,
            "author_id": row.try_get::<i32, _>(4)?,
            "tag_id": row.try_get::<Option<i32>, _>(5)?,
            "views": row.try_get::<i32, _>(6)?,
            "rating": row.try_get::<Option<&str>, _>(7)?,
            "published_at": row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(8)?.map(at),
            "created_at": at(row.try_get::<chrono::NaiveDateTime, _>(9)?.and_utc()),
        }))
    })()
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json))
}
