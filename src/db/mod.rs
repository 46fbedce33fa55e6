//! The only place that talks to a database. It knows nothing of HTTP or of who is asking.
//!
//! | file | concept |
//! |---|---|
//! | `mod.rs` | [`Db`]: connect, catalog, health, close |
//! | `read.rs` | reads (list, total, count, get) and the `read!` retry on a dead connection |
//! | `tx.rs` | the one transaction path every write takes |
//! | `write.rs` | the writes on it: create, update, delete, batch delete |
//! | `bulk.rs` | a bulk update: the same change to every record of a batch |
//! | `graph.rs`, `cascade.rs` | the foreign keys, and what a delete takes through them |
//! | `restore.rs` | a delete brought back from the audit log, with its cascade |
//! | `stream.rs` | streamed reads (unpaged lists, CSV export) |
//! | `sets.rs`, `inline.rs` | many-to-many relations and inline children, part of records |
//! | `sql/` | statements built once for every backend |
//! | `dialect.rs` | every difference in SQL text between the backends |
//! | `driver.rs` | the enums over the three drivers, and the dispatch to a backend's file |
//! | `postgres.rs`, `mysql.rs`, `sqlite.rs` | per backend: bind a value, decode a column, read an error, connect |
//! | `pool.rs` | the connection pool |
//! | `version.rs` | record versions (ETags) |
//! | `error.rs`, `catalog.rs` | errors in client terms; what the catalog says about columns |
//! | `audit.rs`, `sessions.rs` | autoadmin's own tables |
//! | `once.rs` | creates made once (`Idempotency-Key`) |
//! | `introspect/` | reading a database's catalog into descriptors |

#[macro_use]
mod read;

pub mod audit;
mod bulk;
mod cascade;
mod catalog;
mod changes;
mod dialect;
mod driver;
mod error;
mod external;
mod graph;
mod import;
mod inline;
pub mod introspect;
mod jobs;
mod keys;
mod logins;
mod mysql;
pub mod once;
pub(crate) mod pool;
mod pooler;
mod postgres;
mod presence;
mod replicas;
mod restore;
mod revert;
mod sessions;
mod sets;
pub mod sql;
mod sqlite;
pub mod storage;
mod stream;
mod totp;
mod tx;
mod version;
pub mod views;
mod write;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use tokio_util::task::TaskTracker;

pub use audit::Actor;
pub use cascade::Dependent;
pub use catalog::Catalog;
pub use dialect::Dialect;
pub use driver::Wakeups;
pub use error::Error;
pub use import::{FileError, ImportError, JobContext};
pub use jobs::JobRow;
pub use keys::{KeyRow, MAX_KEYS_PER_USER, sha256_hex};
pub use presence::Viewer;
pub use read::{Page, Total};
pub use replicas::{Replicas, format_position, parse_position};
pub use restore::Restored;
pub use revert::Reverted;
pub use stream::{Batches, Column};
pub use totp::TotpRow;
pub use version::{etag, etag_of_json};
pub use write::{key_json, key_text};

use crate::schema::{Entity, Schema, Value};
use sql::Sql;

/// A record as the API sends it: field name → JSON value.
pub type Record = Map<String, serde_json::Value>;

/// Connection settings, and the limits of writes.
#[derive(Clone, Debug)]
pub struct Settings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// A delete that would take more rows with it (cascades, SET NULL) is refused.
    pub max_cascade_rows: u64,
    /// PostgreSQL through a transaction pooler: `Some(true)` says so, `None` detects it.
    pub transaction_pooler: Option<bool>,
}

/// An entity of a schema, cheap to clone and to move into a task.
#[derive(Clone, Debug)]
pub struct EntityRef {
    schema: Schema,
    index: usize,
    /// Where `schema` is restricted by a user's field permissions: the whole one, whose
    /// entities what must not lose a hidden value reads and writes (the snapshot a delete
    /// keeps in the audit log, a restore from it).
    whole: Option<Schema>,
}

impl EntityRef {
    pub fn new(schema: &Schema, name: &str) -> Option<EntityRef> {
        let index = schema.entities().iter().position(|e| e.name == name)?;
        Some(EntityRef {
            schema: schema.clone(),
            index,
            whole: None,
        })
    }

    /// The entity `name` of `restricted` (the schema as a user sees it), which knows its
    /// twin in `whole`.
    pub fn restricted(restricted: &Schema, whole: &Schema, name: &str) -> Option<EntityRef> {
        let mut entity = EntityRef::new(restricted, name)?;
        if !restricted.same(whole) {
            entity.whole = Some(whole.clone());
        }
        Some(entity)
    }

    /// Another entity of the same schema.
    pub fn sibling(&self, name: &str) -> Option<EntityRef> {
        let mut sibling = EntityRef::new(&self.schema, name)?;
        sibling.whole = self.whole.clone();
        Some(sibling)
    }

    /// Whether fields of this entity are hidden from the user it is restricted for.
    pub fn hides_fields(&self) -> bool {
        self.whole.is_some() && self.fields.iter().any(|f| f.hidden)
    }

    /// The same entity with every field: unrestricted by the user's field permissions.
    pub fn whole(&self) -> EntityRef {
        match &self.whole {
            Some(whole) => EntityRef::new(whole, &self.name).unwrap_or_else(|| self.clone()),
            None => self.clone(),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

impl std::ops::Deref for EntityRef {
    type Target = Entity;
    fn deref(&self) -> &Entity {
        &self.schema.entities()[self.index]
    }
}

/// The database: a pool of one of the three backends, the catalog read at start, and the
/// tracker of its tasks (writes, which must finish even if their request is dropped, and
/// streams), which shutdown waits for.
#[derive(Clone, Debug)]
pub struct Db {
    pool: driver::Pool,
    catalog: Arc<Catalog>,
    tasks: TaskTracker,
    /// SQLite has one writer at a time. Writes wait for it here, first come first served,
    /// rather than in SQLite's busy handler, which sleeps and retries: with 16 writers W4's
    /// p99 was 1.3–1.8 s across runs (9 ms since), while the file was free most of the time.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// How long a write waits for its turn (the statement timeout).
    write_wait: Duration,
    /// The foreign keys of the database (read when the admin is built).
    graph: Arc<graph::Graph>,
    max_cascade_rows: u64,
    /// Behind a transaction pooler, what each piece of work's transaction starts with
    /// (`pooler.rs`); `None` on a direct connection.
    pooler_begin: Option<Arc<str>>,
    /// Told of every commit of a write on this instance (`changes.rs`): the follower of the
    /// audit log here, and what tells the other instances.
    committed: Arc<tokio::sync::Notify>,
    announce: Arc<tokio::sync::Notify>,
    /// Where the pool connects, for a connection of its own (`changes.rs`).
    url: Url,
    /// The keyed creates since expired keys were last swept (`once.rs`).
    claims_since_sweep: Arc<std::sync::atomic::AtomicU32>,
}

/// A database URL, which may hold a password: never in a `Debug` output.
#[derive(Clone)]
struct Url(Arc<str>);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Url(…)")
    }
}

impl Db {
    /// Connects to `url` (`postgres://`, `mysql://`/`mariadb://` or `sqlite:`). A SQLite file
    /// is created only if `create_sqlite` says so.
    pub async fn connect(url: &str, settings: &Settings, create_sqlite: bool) -> Result<Db, Error> {
        let pool = driver::Pool::connect(url, settings, create_sqlite).await?;
        let pooler_begin = (pool.statements() == pooler::Statements::Unnamed)
            .then(|| Arc::from(pooler::begin_script(settings.statement_timeout)));
        Ok(Db {
            pool,
            catalog: Arc::new(Catalog::default()),
            tasks: TaskTracker::new(),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            write_wait: settings.statement_timeout,
            graph: Arc::new(graph::Graph::default()),
            max_cascade_rows: settings.max_cascade_rows,
            pooler_begin,
            committed: Arc::default(),
            claims_since_sweep: Arc::default(),
            announce: Arc::default(),
            url: Url(Arc::from(url)),
        })
    }

    /// A connection pool to the replica at `url` of this database, which reads as this one
    /// does (the same catalog and foreign keys).
    pub async fn connect_replica(&self, url: &str, settings: &Settings) -> Result<Db, Error> {
        let settings = Settings {
            transaction_pooler: None,
            ..settings.clone()
        };
        let replica = Db::connect(url, &settings, false).await?;
        Ok(Db {
            pool: replica.pool,
            pooler_begin: replica.pooler_begin,
            url: replica.url,
            tasks: replica.tasks,
            ..self.clone()
        })
    }

    /// Keeps the database's foreign keys (all of them, those no entity declares too, as
    /// `tables` read them), so that deletes say and audit what they take.
    pub fn load_graph(&mut self, entities: &Schema, tables: &[introspect::Table]) {
        self.graph = Arc::new(graph::Graph::new(tables, entities.entities()));
    }

    /// Reads the column types that need casts for the schema's tables.
    pub async fn load_catalog(&mut self, schema: &Schema) -> Result<(), Error> {
        let tables: Vec<String> = schema.entities().iter().map(|e| e.table.clone()).collect();
        let mut pooled = self.pool.acquire().await?;
        let catalog = self
            .read_on(&mut pooled, |p| {
                Box::pin(async move { p.load_catalog(&tables).await })
            })
            .await;
        self.catalog = Arc::new(catalog.map_err(|err| Error::Unavailable(err.to_string()))?);
        Ok(())
    }

    /// `Sql` of `text`, where each `?` is replaced by the dialect's next placeholder.
    pub(super) fn numbered(&self, text: &str, binds: Vec<Value>) -> Sql {
        let mut out = String::with_capacity(text.len() + 8);
        for (n, piece) in text.split('?').enumerate() {
            if n > 0 {
                self.dialect().placeholder(n, &mut out);
            }
            out.push_str(piece);
        }
        Sql::new(out, binds)
    }

    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Runs SQL the caller wrote itself (migrations, seeds): never request input.
    pub async fn execute_script(&self, script: &str) -> Result<(), Error> {
        let mut pooled = self.pool.acquire().await?;
        let done = pooled.conn().execute_raw(script).await;
        pooled.finished(&done);
        done.map_err(|err| Error::Internal(err.to_string()))
    }

    /// Makes index `name` on `table (column)` of autoadmin's own tables if it is not there.
    /// MySQL cannot say "if not exists": there an index made before fails, harmlessly.
    async fn ensure_index(&self, name: &str, table: &str, column: &str) {
        let index = self.dialect().create_index_if_missing(name, table, column);
        let _ = self.execute_script(&index).await;
    }

    /// Stops accepting writes and streams, waits for the running ones, then closes the pool.
    pub async fn close(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.pool.close().await;
    }
}

/// The index of the field `name` of one of autoadmin's own tables (the audit log, presence,
/// saved views), whose fields are known.
pub fn field_index(table: &Entity, name: &str) -> usize {
    table
        .fields
        .iter()
        .position(|f| f.name == name)
        .expect("a field of autoadmin's own table")
}

/// A condition on the field `name` of one of autoadmin's own tables: `comparison` with
/// `value`.
fn compare(
    table: &Entity,
    name: &str,
    comparison: crate::query::Comparison,
    value: Value,
) -> crate::query::Filter {
    crate::query::Filter {
        field: field_index(table, name),
        condition: crate::query::Condition::Compare(comparison, value),
    }
}
