//! The only place that talks to a database.
//!
//! [`Db`] is an enum over the three sqlx pools. Each operation (list, count, get, create,
//! update, delete) exists once: [`sql`] builds backend-neutral SQL with the [`Dialect`]'s
//! differences, and the per-backend modules only bind one value, decode one column and
//! classify one error. This module knows nothing of HTTP.

/// Runs a read on a pooled connection: `read!(db, fail, |conn| future)`. A connection
/// found dead (the server restarted or ended it) is closed and the read runs again on
/// another: at most once per pooled connection, so this ends, and a read changes nothing,
/// so it may run twice. (A macro: an async closure here makes the futures that call it
/// lose `Send` to a compiler limitation.)
macro_rules! read {
    ($db:expr, $fail:expr, |$conn:ident| $work:expr) => {{
        let db: &$crate::db::Db = $db;
        let mut retries = 0;
        loop {
            let mut pooled = db.acquire().await?;
            let result = {
                let $conn = &mut pooled.conn();
                $work.await
            };
            pooled.finished(&result);
            match result {
                Err(error)
                    if $crate::db::pool::is_dead(Some(&error))
                        && retries < db.max_connections() =>
                {
                    retries += 1;
                }
                result => break result.map_err($fail),
            }
        }
    }};
}

pub mod audit;
mod dialect;
pub mod introspect;
mod mysql;
pub(crate) mod pool;
mod postgres;
mod sessions;
pub mod sql;
mod sqlite;
mod stream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Map, Value as Json};
use sqlx::{MySqlConnection, PgConnection, SqliteConnection};
use tokio_util::task::TaskTracker;

pub use dialect::Dialect;
use sql::Sql;
pub use stream::{Batches, Column};

use crate::query::ListQuery;
use crate::schema::{self, AdminSettings, Entity, FieldType, Schema, Value, WriteError};

/// A record as the API sends it: field name → JSON value.
pub type Record = Map<String, Json>;

/// Connection settings taken from the admin's settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl From<&AdminSettings> for Settings {
    fn from(admin: &AdminSettings) -> Settings {
        Settings {
            max_connections: admin.max_connections,
            acquire_timeout: admin.acquire_timeout,
            statement_timeout: admin.statement_timeout,
        }
    }
}

/// Column types that take a value only through a cast (PostgreSQL enums, json...), by
/// table and column. Read from the database's catalog at start.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    casts: HashMap<(String, String), String>,
    /// MySQL ENUM columns and their values in declaration order: MySQL sorts an ENUM by
    /// that order but compares it with text alphabetically, so keyset paging compares by
    /// the value's index instead.
    enums: HashMap<(String, String), Vec<String>>,
}

impl Catalog {
    pub fn insert(&mut self, table: &str, column: &str, sql_type: &str) {
        self.casts
            .insert((table.to_owned(), column.to_owned()), sql_type.to_owned());
    }

    pub fn insert_enum(&mut self, table: &str, column: &str, values: Vec<String>) {
        self.enums
            .insert((table.to_owned(), column.to_owned()), values);
    }

    /// The 1-based index of `value` in a MySQL ENUM column.
    pub fn enum_index(&self, table: &str, column: &str, value: &str) -> Option<i64> {
        let table = table.rsplit('.').next().unwrap_or(table);
        let values = self.enums.get(&(table.to_owned(), column.to_owned()))?;
        values.iter().position(|v| v == value).map(|i| i as i64 + 1)
    }

    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        let table = table.rsplit('.').next().unwrap_or(table);
        self.casts
            .get(&(table.to_owned(), column.to_owned()))
            .map(String::as_str)
    }
}

/// What went wrong in the database layer, in terms a client can be told.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Some of the records a batch names do not exist (their keys, as sent).
    #[error("not found: {0:?}")]
    KeysNotFound(Vec<Json>),
    #[error("the record is invalid")]
    Rejected(WriteError),
    /// A unique or foreign-key violation; `field` when the database named the column.
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// The database refused a value (too long, out of range, a CHECK constraint).
    #[error("{message}")]
    InvalidValue {
        field: Option<String>,
        message: String,
    },
    /// Pool exhausted, database down, timeout, deadlock: worth a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected database answer; details are logged, never sent.
    #[error("database error: {0}")]
    Internal(String),
}

const MISSING_REFERENCE: &str = "the referenced record does not exist";

/// A constraint error, as read by a backend's `classify`.
#[derive(Debug)]
struct Violation {
    kind: ViolationKind,
    /// The column the database named; `PRIMARY_KEY` when it named the primary key index.
    column: Option<String>,
}

/// What a backend's `classify` says when the violated index is the primary key.
const PRIMARY_KEY: &str = "\0primary key";

#[derive(Debug, PartialEq)]
enum ViolationKind {
    Unique,
    ForeignKey,
    Referenced,
    NotNull,
    BadValue,
    Unavailable,
}

/// What a write was doing when the database refused it: SQLite cannot say whether a
/// foreign-key failure is about the row's own references or rows referencing it.
#[derive(Clone, Copy, PartialEq)]
enum Operation {
    Read,
    Write,
    Delete,
}

impl Error {
    fn from_sqlx(
        error: sqlx::Error,
        dialect: Dialect,
        entity: &Entity,
        operation: Operation,
    ) -> Error {
        match error {
            sqlx::Error::PoolTimedOut => {
                Error::Unavailable("no database connection was free in time".into())
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Error::Unavailable("the database cannot be reached".into())
            }
            sqlx::Error::Database(db_error) => {
                let violation = match dialect {
                    Dialect::Postgres => postgres::classify(db_error.as_ref()),
                    Dialect::MySql => mysql::classify(db_error.as_ref()),
                    Dialect::Sqlite => sqlite::classify(db_error.as_ref()),
                };
                match violation {
                    Some(violation) => violation.into_error(entity, operation),
                    None => Error::Internal(db_error.to_string()),
                }
            }
            other => Error::Internal(other.to_string()),
        }
    }
}

impl Violation {
    fn into_error(self, entity: &Entity, operation: Operation) -> Error {
        // The database names columns; the client knows fields.
        let field = self.column.as_deref().map(|column| {
            if column == PRIMARY_KEY {
                return entity.primary_key.clone();
            }
            entity
                .fields
                .iter()
                .find(|f| f.column == column)
                .map_or_else(|| column.to_owned(), |f| f.name.clone())
        });
        let kind = match self.kind {
            ViolationKind::ForeignKey if operation == Operation::Delete => {
                ViolationKind::Referenced
            }
            kind => kind,
        };
        match kind {
            ViolationKind::Unique => Error::Conflict {
                message: "a record with this value already exists".into(),
                field,
            },
            ViolationKind::ForeignKey => Error::Conflict {
                message: MISSING_REFERENCE.into(),
                field,
            },
            ViolationKind::Referenced => Error::Conflict {
                message: "the record is still referenced by other records".into(),
                field: None,
            },
            ViolationKind::NotNull => Error::InvalidValue {
                message: "is required".into(),
                field,
            },
            ViolationKind::BadValue => Error::InvalidValue {
                message: "the database rejected a value".into(),
                field,
            },
            ViolationKind::Unavailable => {
                Error::Unavailable("the database is busy or timed out".into())
            }
        }
    }
}

/// A page of records, already written as the JSON array the API sends (each row straight
/// from the driver's buffer into this one: no map per record), and the total number of
/// matching rows.
#[derive(Debug)]
pub struct Page {
    pub json: Vec<u8>,
    pub rows: usize,
    /// The last record, whose sort values make the next page's cursor.
    pub last: Option<Record>,
    pub total: Total,
}

/// A list's total, as exact as its count mode allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    Exact(u64),
    Estimated(u64),
    Unknown,
}

/// An entity of a schema, cheap to clone and to move into a task.
#[derive(Clone, Debug)]
pub struct EntityRef {
    schema: Schema,
    index: usize,
}

impl EntityRef {
    pub fn new(schema: &Schema, name: &str) -> Option<EntityRef> {
        let index = schema.entities().iter().position(|e| e.name == name)?;
        Some(EntityRef {
            schema: schema.clone(),
            index,
        })
    }
}

impl std::ops::Deref for EntityRef {
    type Target = Entity;
    fn deref(&self) -> &Entity {
        &self.schema.entities()[self.index]
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Postgres(pool::Pool<PgConnection>),
    MySql(pool::Pool<MySqlConnection>),
    Sqlite(pool::Pool<SqliteConnection>),
}

/// The database: a pool of one of the three backends, the catalog read at start, and the
/// tracker of its tasks (writes, which must finish even if their request is dropped, and
/// streams), which shutdown waits for.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    catalog: Arc<Catalog>,
    tasks: TaskTracker,
    /// SQLite has one writer at a time. Writes wait for it here, first come first served,
    /// rather than in SQLite's busy handler, which sleeps and retries: with 16 writers a
    /// request could wait 1.8 s (p99 of W4) while the file was free most of the time.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// How long a write waits for its turn (the statement timeout).
    write_wait: Duration,
}

impl Db {
    /// Connects to `url` (`postgres://`, `mysql://`/`mariadb://` or `sqlite:`). A SQLite file
    /// is created only if `create_sqlite` says so.
    pub async fn connect(url: &str, settings: &Settings, create_sqlite: bool) -> Result<Db, Error> {
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        let pool = match url.split(':').next().unwrap_or_default() {
            "postgres" | "postgresql" => Pool::Postgres(
                postgres::connect(url, settings)
                    .await
                    .map_err(unavailable)?,
            ),
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                Pool::MySql(mysql::connect(&url, settings).await.map_err(unavailable)?)
            }
            "sqlite" => Pool::Sqlite(
                sqlite::connect(url, settings, create_sqlite)
                    .await
                    .map_err(unavailable)?,
            ),
            other => {
                return Err(Error::Unavailable(format!(
                    "unsupported database URL scheme \"{other}\" (use postgres://, mysql://, mariadb:// or sqlite:)"
                )));
            }
        };
        Ok(Db {
            pool,
            catalog: Arc::new(Catalog::default()),
            tasks: TaskTracker::new(),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            write_wait: settings.statement_timeout,
        })
    }

    /// Reads the column types that need casts for the schema's tables.
    pub async fn load_catalog(&mut self, schema: &Schema) -> Result<(), Error> {
        let tables: Vec<String> = schema.entities().iter().map(|e| e.table.clone()).collect();
        let mut pooled = self.acquire().await?;
        let catalog = match &mut pooled {
            Pooled::Postgres(lease) => postgres::load_catalog(lease.raw(), &tables).await,
            Pooled::MySql(lease) => mysql::load_catalog(lease.raw(), &tables).await,
            Pooled::Sqlite(_) => Ok(Catalog::default()),
        };
        pooled.finished(&catalog);
        self.catalog = Arc::new(catalog.map_err(|err| Error::Unavailable(err.to_string()))?);
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs SQL the caller wrote itself (migrations, seeds): never request input.
    pub async fn execute_script(&self, script: &str) -> Result<(), Error> {
        let mut pooled = self.acquire().await?;
        let done = pooled.conn().execute_raw(script).await;
        pooled.finished(&done);
        done.map_err(|err| Error::Internal(err.to_string()))
    }

    /// 200-worthy when the database answers a trivial query.
    pub async fn health(&self) -> Result<(), Error> {
        let sql = Sql {
            text: "SELECT 1".to_owned(),
            binds: Vec::new(),
        };
        read!(
            self,
            |err| Error::Unavailable(err.to_string()),
            |conn| async { conn.execute(&sql).await.map(drop) }
        )
    }

    /// Stops accepting writes and streams, waits for the running ones, then closes the pool.
    pub async fn close(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        match &self.pool {
            Pool::Postgres(pool) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }

    async fn acquire(&self) -> Result<Pooled, Error> {
        let result = match &self.pool {
            Pool::Postgres(pool) => pool.acquire().await.map(Pooled::Postgres),
            Pool::MySql(pool) => pool.acquire().await.map(Pooled::MySql),
            Pool::Sqlite(pool) => pool.acquire().await.map(Pooled::Sqlite),
        };
        result.map_err(connection_error)
    }

    fn max_connections(&self) -> usize {
        match &self.pool {
            Pool::Postgres(pool) => pool.max_connections(),
            Pool::MySql(pool) => pool.max_connections(),
            Pool::Sqlite(pool) => pool.max_connections(),
        }
    }

    /// BEGIN on a pooled connection; like a read, it moves on from dead connections.
    /// [`Tx::end`] commits or rolls back.
    async fn begin(&self, fail: impl Fn(sqlx::Error) -> Error) -> Result<Tx, Error> {
        // IMMEDIATE takes SQLite's write lock up front, so a read-then-write transaction
        // cannot deadlock against another writer.
        let begin = match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres | Dialect::MySql => "BEGIN",
        };
        let writer = self.turn_to_write().await?;
        let mut retries = 0;
        loop {
            let mut pooled = self.acquire().await?;
            let started = pooled.conn().execute_raw(begin).await;
            pooled.finished(&started);
            match started {
                Ok(()) => {
                    return Ok(Tx {
                        pooled,
                        _writer: writer,
                    });
                }
                Err(error) if pool::is_dead(Some(&error)) && retries < self.max_connections() => {
                    retries += 1;
                }
                Err(error) => return Err(fail(error)),
            }
        }
    }

    /// On SQLite, this process's turn to write (the `writer` field says why); elsewhere nothing.
    async fn turn_to_write(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, Error> {
        if self.dialect() != Dialect::Sqlite {
            return Ok(None);
        }
        let turn = self.writer.clone().lock_owned();
        match tokio::time::timeout(self.write_wait, turn).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => Err(Error::Unavailable(format!(
                "the database is busy: the writes before this one took more than {} s",
                self.write_wait.as_secs()
            ))),
        }
    }

    /// One page of an entity's records and the total count.
    pub async fn list(
        &self,
        entity: &Entity,
        list_query: &ListQuery,
        threshold: u64,
    ) -> Result<Page, Error> {
        let dialect = self.dialect();
        let page_sql = sql::list(dialect, &self.catalog, entity, list_query);
        let fail = |err| Error::from_sqlx(err, dialect, entity, Operation::Read);
        // The page and its total on two connections at once.
        let page = async { read!(self, fail, |conn| conn.write_page(&page_sql, entity)) };
        let ((json, rows, last), total) =
            tokio::try_join!(page, self.total(entity, list_query, threshold))?;
        Ok(Page {
            json,
            rows,
            last,
            total,
        })
    }

    /// The total of `list_query` in its count mode: exact; estimated (exact below
    /// `threshold`, the planner's estimate above it; SQLite has none: unknown); or unknown.
    pub async fn total(
        &self,
        entity: &Entity,
        list_query: &ListQuery,
        threshold: u64,
    ) -> Result<Total, Error> {
        use crate::schema::CountMode;
        let dialect = self.dialect();
        let fail = |err| Error::from_sqlx(err, dialect, entity, Operation::Read);
        match list_query.count {
            CountMode::None => Ok(Total::Unknown),
            CountMode::Exact => Ok(Total::Exact(self.count(entity, list_query).await?)),
            CountMode::Estimated if dialect == Dialect::Sqlite => {
                let capped = sql::capped_count(
                    dialect,
                    &self.catalog,
                    entity,
                    list_query,
                    threshold.saturating_add(1),
                );
                let n = read!(self, fail, |conn| conn.fetch_count(&capped))?;
                Ok(if n > threshold {
                    Total::Unknown
                } else {
                    Total::Exact(n)
                })
            }
            CountMode::Estimated => {
                let explain = sql::explain_count(dialect, &self.catalog, entity, list_query);
                let count = sql::count(dialect, &self.catalog, entity, list_query);
                read!(self, fail, |conn| async {
                    let estimate = {
                        let mut rows = conn.fetch(&explain);
                        let first = rows.try_next().await?;
                        while rows.try_next().await?.is_some() {}
                        first.and_then(|row| row.estimated_rows())
                    };
                    Ok(match estimate {
                        Some(n) if n >= threshold => Total::Estimated(n),
                        // Few rows: counting them is cheap and exact.
                        _ => Total::Exact(conn.fetch_count(&count).await?),
                    })
                })
            }
        }
    }

    /// The number of rows matching `list_query`'s filters and search.
    pub async fn count(&self, entity: &Entity, list_query: &ListQuery) -> Result<u64, Error> {
        let dialect = self.dialect();
        let count_sql = sql::count(dialect, &self.catalog, entity, list_query);
        read!(
            self,
            |err| Error::from_sqlx(err, dialect, entity, Operation::Read),
            |conn| conn.fetch_count(&count_sql)
        )
    }

    /// One record by key.
    pub async fn get(&self, entity: &Entity, key: Value) -> Result<Record, Error> {
        let dialect = self.dialect();
        let sql = sql::get(dialect, &self.catalog, entity, key, false);
        read!(
            self,
            |err| Error::from_sqlx(err, dialect, entity, Operation::Read),
            |conn| conn.fetch_optional(&sql, entity)
        )?
        .ok_or(Error::NotFound)
    }

    /// [`Db::get`] as the JSON object the API sends, written straight from the row.
    pub async fn get_json(&self, entity: &Entity, key: Value) -> Result<Vec<u8>, Error> {
        let dialect = self.dialect();
        let sql = sql::get(dialect, &self.catalog, entity, key, false);
        read!(
            self,
            |err| Error::from_sqlx(err, dialect, entity, Operation::Read),
            |conn| conn.fetch_optional_json(&sql, entity)
        )?
        .ok_or(Error::NotFound)
    }

    /// Validates and inserts a record; returns it as stored. `actor` is recorded in the
    /// audit log with the change, in the same transaction.
    pub async fn create(
        &self,
        entity: EntityRef,
        body: Record,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        let db = self.clone();
        self.run_write(async move {
            let changes = schema::prepare_create(&entity, &body).map_err(Error::Rejected)?;
            let written = changes.clone();
            let result = db.insert(&entity, changes, actor.as_deref()).await;
            db.name_missing_reference(&entity, &written, result).await
        })
        .await
    }

    async fn insert(
        &self,
        entity: &EntityRef,
        changes: schema::Changes,
        actor: Option<&str>,
    ) -> Result<Record, Error> {
        let key = changes
            .iter()
            .find(|(i, _)| entity.fields[*i].name == entity.primary_key)
            .map(|(_, v)| v.clone());
        let passwords = audit::passwords(entity, &changes);
        let dialect = self.dialect();
        let fail = |err| Error::from_sqlx(err, dialect, entity, Operation::Write);
        let insert = sql::insert(dialect, &self.catalog, entity, changes);
        let mut tx = self.begin(fail).await?;
        let result = async {
            let record = if dialect.has_returning() {
                tx.conn()
                    .fetch_optional(&insert, entity)
                    .await
                    .map_err(fail)?
            } else {
                let done = tx.conn().execute(&insert).await.map_err(fail)?;
                let key = key.or(done.last_insert_id.map(Value::Int)).ok_or_else(|| {
                    Error::Internal("the database did not report the new key".into())
                })?;
                let get = sql::get(dialect, &self.catalog, entity, key, false);
                tx.conn().fetch_optional(&get, entity).await.map_err(fail)?
            };
            let record =
                record.ok_or_else(|| Error::Internal("the inserted row was not found".into()))?;
            let change = audit::Change {
                actor,
                action: "create",
                before: None,
                after: Some(&record),
                passwords,
            };
            audit::record(&mut tx.conn(), self, entity, &change)
                .await
                .map_err(fail)?;
            Ok(record)
        }
        .await;
        tx.end(result, fail).await
    }

    /// A foreign-key failure whose column the database did not name (SQLite never does):
    /// finds the reference that points nowhere, after the failed transaction is gone.
    async fn name_missing_reference(
        &self,
        entity: &EntityRef,
        written: &[(usize, Value)],
        result: Result<Record, Error>,
    ) -> Result<Record, Error> {
        let Err(Error::Conflict {
            field: None,
            message,
        }) = result
        else {
            return result;
        };
        if message != MISSING_REFERENCE {
            return Err(Error::Conflict {
                field: None,
                message,
            });
        }
        for (index, value) in written {
            let field = &entity.fields[*index];
            let Some(target) = field
                .target
                .as_deref()
                .and_then(|t| EntityRef::new(&entity.schema, t))
            else {
                continue;
            };
            if !value.is_null()
                && matches!(self.get(&target, value.clone()).await, Err(Error::NotFound))
            {
                return Err(Error::Conflict {
                    field: Some(field.name.clone()),
                    message,
                });
            }
        }
        Err(Error::Conflict {
            field: None,
            message,
        })
    }

    /// Merges `body` into the stored record, validates the result, and writes the fields
    /// the body names. Returns the record as stored.
    pub async fn update(
        &self,
        entity: EntityRef,
        key: Value,
        body: Record,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        let db = self.clone();
        self.run_write(async move {
            let mut written = Vec::new();
            let result = db
                .merge_and_update(&entity, key, &body, &mut written, actor.as_deref())
                .await;
            db.name_missing_reference(&entity, &written, result).await
        })
        .await
    }

    /// The transaction of [`Db::update`]; `written` receives the values it tried to write.
    async fn merge_and_update(
        &self,
        entity: &EntityRef,
        key: Value,
        body: &Record,
        written: &mut schema::Changes,
        actor: Option<&str>,
    ) -> Result<Record, Error> {
        let dialect = self.dialect();
        let fail = |err| Error::from_sqlx(err, dialect, entity, Operation::Write);
        let mut tx = self.begin(fail).await?;
        let result = async {
            let get = sql::get(dialect, &self.catalog, entity, key.clone(), true);
            let existing = tx
                .conn()
                .fetch_optional(&get, entity)
                .await
                .map_err(fail)?
                .ok_or(Error::NotFound)?;
            let changes =
                schema::prepare_update(entity, body, &existing).map_err(Error::Rejected)?;
            if changes.is_empty() {
                return Ok(existing);
            }
            written.clone_from(&changes);
            let passwords = audit::passwords(entity, &changes);
            let update = sql::update(dialect, &self.catalog, entity, key.clone(), changes);
            let record = if dialect.has_returning() {
                tx.conn()
                    .fetch_optional(&update, entity)
                    .await
                    .map_err(fail)?
            } else {
                tx.conn().execute(&update).await.map_err(fail)?;
                let get = sql::get(dialect, &self.catalog, entity, key, false);
                tx.conn().fetch_optional(&get, entity).await.map_err(fail)?
            };
            let record = record.ok_or(Error::NotFound)?;
            let change = audit::Change {
                actor,
                action: "update",
                before: Some(&existing),
                after: Some(&record),
                passwords,
            };
            audit::record(&mut tx.conn(), self, entity, &change)
                .await
                .map_err(fail)?;
            Ok(record)
        }
        .await;
        tx.end(result, fail).await
    }

    /// Deletes one record; returns it as it was.
    pub async fn delete(
        &self,
        entity: EntityRef,
        key: Value,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        let db = self.clone();
        self.run_write(async move {
            let dialect = db.dialect();
            let fail = |err| Error::from_sqlx(err, dialect, &entity, Operation::Delete);
            let mut tx = db.begin(fail).await?;
            let result = async {
                let get = sql::get(dialect, &db.catalog, &entity, key.clone(), true);
                let existing = tx
                    .conn()
                    .fetch_optional(&get, &entity)
                    .await
                    .map_err(fail)?
                    .ok_or(Error::NotFound)?;
                let delete = sql::delete(dialect, &db.catalog, &entity, key);
                tx.conn().execute(&delete).await.map_err(fail)?;
                let change = audit::Change::deleted(actor.as_deref(), &existing);
                audit::record(&mut tx.conn(), &db, &entity, &change)
                    .await
                    .map_err(fail)?;
                Ok(existing)
            }
            .await;
            tx.end(result, fail).await
        })
        .await
    }

    /// Deletes every record of `keys` in one transaction, or none if any is missing.
    /// Returns the keys as the API sends them.
    pub async fn delete_many(
        &self,
        entity: EntityRef,
        keys: Vec<Value>,
        actor: Option<String>,
    ) -> Result<Vec<Json>, Error> {
        // `IN ()` is not SQL; an empty batch deletes nothing.
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.clone();
        let deleted = self
            .run_write(async move {
                let dialect = db.dialect();
                let fail = |err| Error::from_sqlx(err, dialect, &entity, Operation::Delete);
                let mut tx = db.begin(fail).await?;
                let result = async {
                    let select = sql::existing_records(dialect, &db.catalog, &entity, &keys, true);
                    let records = tx.conn().fetch_all(&select, &entity).await.map_err(fail)?;
                    let found: std::collections::HashSet<String> = records
                        .iter()
                        .filter_map(|r| r.get(&entity.primary_key).map(key_text))
                        .collect();
                    let requested: Vec<Json> = keys.iter().map(key_json).collect();
                    let missing: Vec<Json> = requested
                        .iter()
                        .filter(|k| !found.contains(&key_text(k)))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        return Err(Error::KeysNotFound(missing));
                    }
                    let delete = sql::delete_keys(dialect, &db.catalog, &entity, &keys);
                    tx.conn().execute(&delete).await.map_err(fail)?;
                    for record in &records {
                        let change = audit::Change::deleted(actor.as_deref(), record);
                        audit::record(&mut tx.conn(), &db, &entity, &change)
                            .await
                            .map_err(fail)?;
                    }
                    Ok(requested)
                }
                .await;
                tx.end(result, fail).await
            })
            .await?;
        Ok(deleted)
    }

    /// Runs a write in its own task: if the client goes away and the handler is dropped,
    /// the transaction still finishes (commit or rollback), never half-way.
    async fn run_write<T, F>(&self, write: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        if self.tasks.is_closed() {
            return Err(Error::Unavailable("the server is shutting down".into()));
        }
        self.tasks
            .spawn(write)
            .await
            .map_err(|err| Error::Internal(format!("write task failed: {err}")))?
    }
}

/// A key as the API sends it.
fn key_json(key: &Value) -> Json {
    match key {
        Value::Int(i) => schema::value::int_to_json(*i),
        Value::Uuid(u) => Json::String(u.to_string()),
        Value::Text(t) => Json::String(t.clone()),
        other => Json::String(format!("{other:?}")),
    }
}

/// A key's text, to compare keys sent with keys read.
fn key_text(key: &Json) -> String {
    match key {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Getting a connection failed: never the client's fault.
fn connection_error(error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::PoolTimedOut => {
            Error::Unavailable("no database connection was free in time".into())
        }
        other => Error::Unavailable(other.to_string()),
    }
}

/// A connection lent by the pool; see [`pool::Lease`] for when it goes back.
enum Pooled {
    Postgres(pool::Lease<PgConnection>),
    MySql(pool::Lease<MySqlConnection>),
    Sqlite(pool::Lease<SqliteConnection>),
}

impl Pooled {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Postgres(c) => Conn::Postgres(c.raw()),
            Pooled::MySql(c) => Conn::MySql(c.raw()),
            Pooled::Sqlite(c) => Conn::Sqlite(c.raw()),
        }
    }

    /// Records how the work on the connection ended, which decides whether it is reused.
    fn finished<T>(&mut self, result: &Result<T, sqlx::Error>) {
        match self {
            Pooled::Postgres(c) => c.finished(result),
            Pooled::MySql(c) => c.finished(result),
            Pooled::Sqlite(c) => c.finished(result),
        }
    }
}

/// A connection inside BEGIN; [`Db::transaction`] ends it. Dropped before that (it cannot
/// be, writes run to the end in their own task), the connection is closed, which rolls
/// back.
struct Tx {
    pooled: Pooled,
    /// SQLite: this process's turn to write, held until COMMIT or ROLLBACK.
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        self.pooled.conn()
    }

    /// Commits after `result` succeeded, rolls back after it failed.
    async fn end<T>(
        mut self,
        result: Result<T, Error>,
        fail: impl Fn(sqlx::Error) -> Error,
    ) -> Result<T, Error> {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let done = self.pooled.conn().execute_raw(end).await;
        self.pooled.finished(&done);
        let value = result?;
        done.map_err(fail)?;
        Ok(value)
    }
}

/// One connection of any backend: the only place where a statement meets a driver.
enum Conn<'a> {
    Postgres(&'a mut PgConnection),
    MySql(&'a mut MySqlConnection),
    Sqlite(&'a mut SqliteConnection),
}

struct Executed {
    last_insert_id: Option<i64>,
}

/// A row of any backend; columns decode by field type.
enum Row {
    Postgres(sqlx::postgres::PgRow),
    MySql(sqlx::mysql::MySqlRow),
    Sqlite(sqlx::sqlite::SqliteRow),
}

impl Row {
    fn decode(&self, i: usize, field_type: FieldType) -> Result<Json, sqlx::Error> {
        let value = match self {
            Row::Postgres(row) => postgres::decode(row, i, field_type),
            Row::MySql(row) => mysql::decode(row, i, field_type),
            Row::Sqlite(row) => sqlite::decode(row, i, field_type),
        }?;
        Ok(match value {
            // SQLite keeps decimals as REAL, whose text can be `1.5e-07`: send plain digits.
            Json::String(text) if field_type == FieldType::Decimal && text.contains(['e', 'E']) => {
                Json::String(schema::value::plain_decimal(&text).unwrap_or(text))
            }
            other => other,
        })
    }

    /// A row whose columns are the entity's readable fields, in order.
    fn record(&self, entity: &Entity) -> Result<Record, sqlx::Error> {
        let mut record = Record::with_capacity(entity.fields.len());
        for (i, field) in entity.readable_fields().enumerate() {
            record.insert(field.name.clone(), self.decode(i, field.value_type())?);
        }
        Ok(record)
    }

    /// Writes the row as a JSON object of the entity's readable fields, in order.
    fn write_json(&self, entity: &Entity, out: &mut Vec<u8>) -> Result<(), sqlx::Error> {
        out.push(b'{');
        for (i, field) in entity.readable_fields().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let value = self.decode(i, field.value_type())?;
            // Writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, field.name.as_str());
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, &value);
        }
        out.push(b'}');
        Ok(())
    }

    /// The row estimate of an EXPLAIN: PostgreSQL's JSON plan, MySQL's `rows` column.
    fn estimated_rows(&self) -> Option<u64> {
        use sqlx::Row as _;
        match self {
            Row::Postgres(row) => {
                let plan: sqlx::types::Json<Json> = row.try_get(0).ok()?;
                plan.0
                    .get(0)?
                    .get("Plan")?
                    .get("Plan Rows")?
                    .as_f64()
                    .map(|n| n as u64)
            }
            Row::MySql(row) => {
                use sqlx::{TypeInfo, ValueRef};
                // EXPLAIN's columns arrive as integers on MySQL and as text on MariaDB.
                let number = |name: &str| -> Option<f64> {
                    let raw = row.try_get_raw(name).ok()?;
                    if raw.is_null() {
                        return None;
                    }
                    let type_name = raw.type_info().name().to_owned();
                    if type_name.contains("INT") {
                        row.try_get_unchecked::<i64, _>(name).ok().map(|n| n as f64)
                    } else if type_name == "FLOAT"
                        || type_name == "DOUBLE"
                        || type_name == "DECIMAL"
                    {
                        row.try_get_unchecked::<f64, _>(name).ok()
                    } else {
                        row.try_get_unchecked::<String, _>(name)
                            .ok()?
                            .trim()
                            .parse()
                            .ok()
                    }
                };
                let rows = number("rows")?;
                // MySQL also estimates how much of that the conditions keep.
                let filtered = number("filtered").unwrap_or(100.0);
                Some((rows * filtered / 100.0).max(0.0) as u64)
            }
            Row::Sqlite(_) => None,
        }
    }

    fn count(&self) -> Result<u64, sqlx::Error> {
        use sqlx::Row as _;
        let n: i64 = match self {
            Row::Postgres(row) => row.try_get(0)?,
            Row::MySql(row) => row.try_get(0)?,
            Row::Sqlite(row) => row.try_get(0)?,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl Conn<'_> {
    /// The rows of a query, as they arrive.
    fn fetch<'c>(&'c mut self, sql: &Sql) -> BoxStream<'c, Result<Row, sqlx::Error>> {
        match self {
            Conn::Postgres(c) => postgres::query(sql)
                .fetch(&mut **c)
                .map_ok(Row::Postgres)
                .boxed(),
            Conn::MySql(c) => mysql::query(sql).fetch(&mut **c).map_ok(Row::MySql).boxed(),
            Conn::Sqlite(c) => sqlite::query(sql)
                .fetch(&mut **c)
                .map_ok(Row::Sqlite)
                .boxed(),
        }
    }

    async fn fetch_all(&mut self, sql: &Sql, entity: &Entity) -> Result<Vec<Record>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut records = Vec::new();
        while let Some(row) = rows.try_next().await? {
            records.push(row.record(entity)?);
        }
        Ok(records)
    }

    /// The rows of a page as a JSON array, their number and the last one as a record.
    async fn write_page(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<(Vec<u8>, usize, Option<Record>), sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut json = Vec::with_capacity(8192);
        json.push(b'[');
        let mut count = 0;
        let mut last = None;
        while let Some(row) = rows.try_next().await? {
            if count > 0 {
                json.push(b',');
            }
            row.write_json(entity, &mut json)?;
            count += 1;
            last = Some(row);
        }
        json.push(b']');
        let last = last.map(|row| row.record(entity)).transpose()?;
        Ok((json, count, last))
    }

    async fn fetch_optional(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<Option<Record>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let first = rows.try_next().await?;
        // Drain, so the connection is ready for the next statement.
        while rows.try_next().await?.is_some() {}
        first.map(|row| row.record(entity)).transpose()
    }

    /// The first row as a JSON object (see [`Row::write_json`]), without a record between.
    async fn fetch_optional_json(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut json = None;
        if let Some(row) = rows.try_next().await? {
            let mut out = Vec::with_capacity(512);
            row.write_json(entity, &mut out)?;
            json = Some(out);
        }
        while rows.try_next().await?.is_some() {}
        Ok(json)
    }

    async fn fetch_count(&mut self, sql: &Sql) -> Result<u64, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let row = rows.try_next().await?.ok_or(sqlx::Error::RowNotFound)?;
        while rows.try_next().await?.is_some() {}
        row.count()
    }

    /// Runs SQL without parameters through the simple protocol: transaction control
    /// (which MySQL will not prepare) and scripts the program wrote itself.
    async fn execute_raw(&mut self, script: &str) -> Result<(), sqlx::Error> {
        let script = sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()));
        match self {
            Conn::Postgres(c) => script.execute(&mut **c).await.map(drop),
            Conn::MySql(c) => script.execute(&mut **c).await.map(drop),
            Conn::Sqlite(c) => script.execute(&mut **c).await.map(drop),
        }
    }

    async fn execute(&mut self, sql: &Sql) -> Result<Executed, sqlx::Error> {
        Ok(match self {
            Conn::Postgres(c) => {
                postgres::query(sql).execute(&mut **c).await?;
                Executed {
                    last_insert_id: None,
                }
            }
            Conn::MySql(c) => {
                let done = mysql::query(sql).execute(&mut **c).await?;
                Executed {
                    last_insert_id: i64::try_from(done.last_insert_id())
                        .ok()
                        .filter(|id| *id != 0),
                }
            }
            Conn::Sqlite(c) => {
                let done = sqlite::query(sql).execute(&mut **c).await?;
                Executed {
                    last_insert_id: Some(done.last_insert_rowid()),
                }
            }
        })
    }
}
