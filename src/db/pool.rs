//! A connection pool that lends and takes back a connection without a round trip.
//!
//! sqlx's pool pings every connection it takes back (and, by default, every one it lends):
//! one or two extra round trips per statement, which cost a third of PostgreSQL's
//! throughput on a point read (see docs/performance.md). This pool keeps a connection
//! when the work on it finished cleanly, and closes it otherwise: a request dropped
//! mid-statement, a broken socket, a connection the server ended. Instead of testing every
//! connection, the callers retry a read (or a BEGIN) on another connection when the one
//! they got turns out dead ([`is_dead`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Opens one ready-to-use connection (options, session settings).
pub(super) type Connect<C> =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<C, sqlx::Error>> + Send>> + Send + Sync>;

/// An idle connection is closed after this long without use...
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// ...and any connection after this long, so that server-side memory does not grow forever.
const MAX_LIFETIME: Duration = Duration::from_secs(1800);

pub(super) struct Pool<C> {
    inner: Arc<Inner<C>>,
}

impl<C> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Pool {
            inner: self.inner.clone(),
        }
    }
}

impl<C> std::fmt::Debug for Pool<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max_connections", &self.inner.max_connections)
            .field("available", &self.inner.permits.available_permits())
            .finish()
    }
}

struct Inner<C> {
    connect: Connect<C>,
    /// Most recently used last: the busy connections stay warm, the others time out.
    idle: Mutex<Vec<Idle<C>>>,
    /// One per lent connection; closed when the pool is.
    permits: Arc<Semaphore>,
    max_connections: usize,
    acquire_timeout: Duration,
}

struct Idle<C> {
    conn: C,
    created: Instant,
    since: Instant,
}

/// A lent connection. It goes back to the pool only if [`Lease::finished`] saw its last
/// piece of work end cleanly; dropped in the middle of one, it is closed.
pub(super) struct Lease<C: sqlx::Connection> {
    conn: Option<C>,
    created: Instant,
    reusable: bool,
    pool: Arc<Inner<C>>,
    // Dropped after `drop` has put the connection back, so a waiter finds it.
    _permit: OwnedSemaphorePermit,
}

impl<C: sqlx::Connection> Pool<C> {
    /// A pool holding `first` (a connection already open), opening more with `connect`.
    pub fn new(
        first: C,
        connect: Connect<C>,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Pool<C> {
        let max_connections = max_connections.max(1) as usize;
        let now = Instant::now();
        Pool {
            inner: Arc::new(Inner {
                connect,
                idle: Mutex::new(vec![Idle {
                    conn: first,
                    created: now,
                    since: now,
                }]),
                permits: Arc::new(Semaphore::new(max_connections)),
                max_connections,
                acquire_timeout,
            }),
        }
    }

    pub fn max_connections(&self) -> usize {
        self.inner.max_connections
    }

    /// A connection: an idle one, or a new one while fewer than `max_connections` are lent.
    /// Waiting and connecting together are bounded by the acquire timeout.
    pub async fn acquire(&self) -> Result<Lease<C>, sqlx::Error> {
        let inner = self.inner.clone();
        let lend = async move {
            let permit = inner
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            let now = Instant::now();
            let idle = {
                let mut idle = inner.idle.lock().unwrap_or_else(|e| e.into_inner());
                // Connections idle too long are dropped here; the loop stays short.
                idle.retain(|i| now - i.since < IDLE_TIMEOUT && now - i.created < MAX_LIFETIME);
                idle.pop()
            };
            let (conn, created) = match idle {
                Some(idle) => (idle.conn, idle.created),
                None => ((inner.connect)().await?, now),
            };
            Ok(Lease {
                conn: Some(conn),
                created,
                reusable: false,
                pool: inner,
                _permit: permit,
            })
        };
        tokio::time::timeout(self.inner.acquire_timeout, lend)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// Lends no more connections and closes the idle ones. Lent ones close when they come
    /// back.
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(&mut *self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for idle in idle {
            let _ = idle.conn.close().await;
        }
    }
}

impl<C: sqlx::Connection> Lease<C> {
    pub fn raw(&mut self) -> &mut C {
        self.reusable = false;
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    /// Records how the last piece of work ended: the connection is kept if it ended well
    /// or with an error the database answered (a constraint, a bad value), and closed
    /// after anything else.
    pub fn finished<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.reusable = match result {
            Ok(_) => true,
            Err(sqlx::Error::Database(_)) => !is_dead(result.as_ref().err()),
            Err(_) => false,
        };
    }
}

impl<C: sqlx::Connection> Drop for Lease<C> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.reusable && !self.pool.permits.is_closed() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(Idle {
                conn,
                created: self.created,
                since: Instant::now(),
            });
        }
        // Otherwise the connection is dropped: its socket closes, and the server rolls back
        // whatever it had open.
    }
}

/// Whether an error says the connection is gone (the socket broke, the server ended the
/// session), so that the same work may be tried again on another connection.
pub(crate) fn is_dead(error: Option<&sqlx::Error>) -> bool {
    match error {
        Some(sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)) => true,
        Some(sqlx::Error::Database(error)) => {
            let code = error.code().unwrap_or_default();
            // PostgreSQL: 57P01-57P03 (administrator or crash shutdown), class 08
            // (connection exception); MySQL/MariaDB: 70100 (connection killed), 08S01.
            code.starts_with("57P") || code.starts_with("08") || code == "70100"
        }
        _ => false,
    }
}
