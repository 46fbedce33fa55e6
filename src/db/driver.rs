//! The driver dispatch: the enums over the three backends' pools, connections and rows, and
//! the only place where one of them is matched to call its backend's code. What each backend
//! does differently lives in its own file (`postgres.rs`, `mysql.rs`, `sqlite.rs`); the SQL
//! text it needs differently, in [`Dialect`].

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value as Json;
use sqlx::{MySqlConnection, PgConnection, SqliteConnection};

use super::error::Violation;
use super::introspect::{self, Table};
use super::pooler::Statements;
use super::sql::Sql;
use super::{Catalog, Dialect, Error, Record, Settings, mysql, pool, postgres, sqlite};
use crate::schema::{self, Entity, FieldType};

#[derive(Clone, Debug)]
pub(super) enum Pool {
    Postgres(pool::Pool<PgConnection>, Statements),
    MySql(pool::Pool<MySqlConnection>),
    Sqlite(pool::Pool<SqliteConnection>),
}

/// What wakes a follower of the audit log besides its interval: on PostgreSQL (reached
/// directly), the notification of a commit of audit rows by any instance; elsewhere nothing.
pub struct Wakeups(Option<sqlx::postgres::PgListener>);

impl Wakeups {
    /// Resolves at the next notification (never, where there are none). A lost connection is
    /// made again at the next call, after `pause` (the notifications meanwhile are lost: the
    /// interval finds their rows).
    pub async fn next(&mut self, pause: std::time::Duration) {
        match &mut self.0 {
            Some(listener) => {
                if listener.recv().await.is_err() {
                    tokio::time::sleep(pause).await;
                }
            }
            None => std::future::pending().await,
        }
    }
}

impl Pool {
    /// The wake-ups of a follower of the audit log: a listening connection to `url` on a
    /// PostgreSQL reached directly (its error, when it cannot be made); none elsewhere.
    pub async fn wakeups(&self, url: &str) -> Result<Wakeups, sqlx::Error> {
        match self {
            Pool::Postgres(_, Statements::Named) => Ok(Wakeups(Some(postgres::listen(url).await?))),
            _ => Ok(Wakeups(None)),
        }
    }

    /// Connects to `url` (`postgres://`, `mysql://`/`mariadb://` or `sqlite:`). A SQLite file
    /// is created only if `create_sqlite` says so.
    pub async fn connect(
        url: &str,
        settings: &Settings,
        create_sqlite: bool,
    ) -> Result<Pool, Error> {
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        Ok(match url.split(':').next().unwrap_or_default() {
            "postgres" | "postgresql" => {
                let (pool, statements) = postgres::connect(url, settings)
                    .await
                    .map_err(unavailable)?;
                Pool::Postgres(pool, statements)
            }
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
        })
    }

    /// How statements reach the server (a pooler's PostgreSQL takes only unnamed ones).
    pub fn statements(&self) -> Statements {
        match self {
            Pool::Postgres(_, statements) => *statements,
            Pool::MySql(_) | Pool::Sqlite(_) => Statements::Named,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Postgres(..) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub async fn acquire(&self) -> Result<Pooled, Error> {
        let result = match self {
            Pool::Postgres(pool, statements) => pool
                .acquire()
                .await
                .map(|lease| Pooled::Postgres(lease, *statements)),
            Pool::MySql(pool) => pool.acquire().await.map(Pooled::MySql),
            Pool::Sqlite(pool) => pool.acquire().await.map(Pooled::Sqlite),
        };
        result.map_err(Error::from_connection)
    }

    pub fn max_connections(&self) -> usize {
        match self {
            Pool::Postgres(pool, _) => pool.max_connections(),
            Pool::MySql(pool) => pool.max_connections(),
            Pool::Sqlite(pool) => pool.max_connections(),
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Postgres(pool, _) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }
}

/// A backend's reading of a constraint error.
pub(super) fn classify(
    dialect: Dialect,
    error: &(dyn sqlx::error::DatabaseError + 'static),
) -> Option<Violation> {
    match dialect {
        Dialect::Postgres => postgres::classify(error),
        Dialect::MySql => mysql::classify(error),
        Dialect::Sqlite => sqlite::classify(error),
    }
}

/// A connection lent by the pool; see [`pool::Lease`] for when it goes back.
pub(super) enum Pooled {
    Postgres(pool::Lease<PgConnection>, Statements),
    MySql(pool::Lease<MySqlConnection>),
    Sqlite(pool::Lease<SqliteConnection>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Postgres(c, statements) => Conn::Postgres(c.raw(), *statements),
            Pooled::MySql(c) => Conn::MySql(c.raw()),
            Pooled::Sqlite(c) => Conn::Sqlite(c.raw()),
        }
    }

    /// Records how the work on the connection ended, which decides whether it is reused.
    pub fn finished<T>(&mut self, result: &Result<T, sqlx::Error>) {
        match self {
            Pooled::Postgres(c, _) => c.finished(result),
            Pooled::MySql(c) => c.finished(result),
            Pooled::Sqlite(c) => c.finished(result),
        }
    }

    /// The column types that need casts for `tables` (SQLite has none).
    pub async fn load_catalog(&mut self, tables: &[String]) -> Result<Catalog, sqlx::Error> {
        let catalog = match self {
            Pooled::Postgres(lease, _) => postgres::load_catalog(lease.raw(), tables).await,
            Pooled::MySql(lease) => mysql::load_catalog(lease.raw(), tables).await,
            Pooled::Sqlite(_) => Ok(Catalog::default()),
        };
        self.finished(&catalog);
        catalog
    }

    /// Every table and view of the database (PostgreSQL: of `schema`).
    pub async fn introspect(&mut self, schema: &str) -> Result<Vec<Table>, sqlx::Error> {
        let read = match self {
            Pooled::Postgres(lease, _) => introspect::postgres::read(lease.raw(), schema).await,
            Pooled::MySql(lease) => introspect::mysql::read(lease.raw()).await,
            Pooled::Sqlite(lease) => introspect::sqlite::read(lease.raw()).await,
        };
        self.finished(&read);
        read
    }
}

/// One connection of any backend: the only place where a statement meets a driver.
pub(super) enum Conn<'a> {
    Postgres(&'a mut PgConnection, Statements),
    MySql(&'a mut MySqlConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// What a statement without rows reports.
pub(super) struct Executed {
    /// The key the database generated for an inserted row, where the backend says it.
    pub last_insert_id: Option<i64>,
    /// The rows the statement changed.
    pub rows_affected: u64,
}

/// A row of any backend; columns decode by field type.
pub(super) enum Row {
    Postgres(sqlx::postgres::PgRow),
    MySql(sqlx::mysql::MySqlRow),
    Sqlite(sqlx::sqlite::SqliteRow),
}

impl Row {
    pub fn decode(&self, i: usize, field_type: FieldType) -> Result<Json, sqlx::Error> {
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
            // A multi-choice value kept as JSON text, or as a MySQL SET's comma-joined text.
            Json::String(text) if field_type == FieldType::MultiChoice => {
                match serde_json::from_str::<Json>(&text) {
                    Ok(Json::Array(items)) => Json::Array(items),
                    _ => Json::Array(
                        text.split(',')
                            .filter(|s| !s.is_empty())
                            .map(|s| Json::String(s.to_owned()))
                            .collect(),
                    ),
                }
            }
            other => other,
        })
    }

    /// A row whose columns are the entity's readable fields, in order.
    pub fn record(&self, entity: &Entity) -> Result<Record, sqlx::Error> {
        let mut record = Record::with_capacity(entity.fields.len());
        for (i, field) in entity.readable_fields().enumerate() {
            record.insert(field.name.clone(), self.decode(i, field.value_type())?);
        }
        Ok(record)
    }

    /// Writes the row as a JSON object of the entity's readable fields, in order.
    pub fn write_json(&self, entity: &Entity, out: &mut Vec<u8>) -> Result<(), sqlx::Error> {
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

    /// The row estimate of an EXPLAIN (SQLite's plans have none).
    pub fn estimated_rows(&self) -> Option<u64> {
        match self {
            Row::Postgres(row) => postgres::estimated_rows(row),
            Row::MySql(row) => mysql::estimated_rows(row),
            Row::Sqlite(_) => None,
        }
    }

    /// The first column as a whole number (a count, a generation).
    pub fn count(&self) -> Result<u64, sqlx::Error> {
        use sqlx::Row as _;
        let n: i64 = match self {
            Row::Postgres(row) => row.try_get(0)?,
            Row::MySql(row) => row.try_get(0)?,
            Row::Sqlite(row) => row.try_get(0)?,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A page written as the JSON array the API sends.
#[derive(Debug, Default)]
pub struct PageRows {
    pub json: Vec<u8>,
    pub rows: usize,
    /// The last record, and the values of its columns after the record's.
    pub last: Option<Record>,
    pub shown: Vec<Json>,
    /// For an entity with many-to-many relations: each record's key, and the position of its
    /// object's closing brace in `json`.
    pub ends: Vec<(Json, usize)>,
}

/// The position of the key among an entity's readable fields (the select list's order).
pub fn key_position(entity: &Entity) -> usize {
    entity
        .readable_fields()
        .position(|f| f.name == entity.primary_key)
        .unwrap_or(0)
}

impl Conn<'_> {
    /// The rows of a query, as they arrive.
    pub fn fetch<'c>(&'c mut self, sql: &Sql) -> BoxStream<'c, Result<Row, sqlx::Error>> {
        match self {
            Conn::Postgres(c, statements) => postgres::query(sql, *statements)
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

    /// Runs SQL without parameters through the simple protocol: transaction control
    /// (which MySQL will not prepare) and scripts the program wrote itself.
    pub async fn execute_raw(&mut self, script: &str) -> Result<(), sqlx::Error> {
        let script = sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()));
        match self {
            Conn::Postgres(c, _) => script.execute(&mut **c).await.map(drop),
            Conn::MySql(c) => script.execute(&mut **c).await.map(drop),
            Conn::Sqlite(c) => script.execute(&mut **c).await.map(drop),
        }
    }

    pub async fn execute(&mut self, sql: &Sql) -> Result<Executed, sqlx::Error> {
        match self {
            Conn::Postgres(c, statements) => postgres::execute(c, sql, *statements).await,
            Conn::MySql(c) => mysql::execute(c, sql).await,
            Conn::Sqlite(c) => sqlite::execute(c, sql).await,
        }
    }

    pub async fn fetch_all(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<Vec<Record>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut records = Vec::new();
        while let Some(row) = rows.try_next().await? {
            records.push(row.record(entity)?);
        }
        Ok(records)
    }

    /// The rows of a page as a JSON array (see [`PageRows`]); `after` are the types of the
    /// columns after the record's, whose values the last row gives.
    pub async fn write_page(
        &mut self,
        sql: &Sql,
        entity: &Entity,
        after: &[FieldType],
    ) -> Result<PageRows, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut page = PageRows {
            json: Vec::with_capacity(8192),
            ..PageRows::default()
        };
        page.json.push(b'[');
        // With many-to-many relations, each record's key and end, to add them after.
        let key = entity
            .sets()
            .next()
            .map(|_| (key_position(entity), entity.key_field().value_type()));
        let mut last = None;
        while let Some(row) = rows.try_next().await? {
            if page.rows > 0 {
                page.json.push(b',');
            }
            row.write_json(entity, &mut page.json)?;
            if let Some((position, key_type)) = key {
                page.ends
                    .push((row.decode(position, key_type)?, page.json.len() - 1));
            }
            page.rows += 1;
            last = Some(row);
        }
        page.json.push(b']');
        if let Some(row) = &last {
            let start = entity.readable_fields().count();
            for (i, field_type) in after.iter().enumerate() {
                page.shown.push(row.decode(start + i, *field_type)?);
            }
        }
        page.last = last.map(|row| row.record(entity)).transpose()?;
        Ok(page)
    }

    /// The first row, as a record; the rest (there should be none) is drained, so the
    /// connection is ready for the next statement.
    pub async fn fetch_optional(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<Option<Record>, sqlx::Error> {
        let first = self.first_row(sql, |row| row.record(entity)).await?;
        first.transpose()
    }

    /// The first row as a JSON object (see [`Row::write_json`]), without a record between.
    pub async fn fetch_optional_json(
        &mut self,
        sql: &Sql,
        entity: &Entity,
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        let first = self
            .first_row(sql, |row| {
                let mut out = Vec::with_capacity(512);
                row.write_json(entity, &mut out).map(|()| out)
            })
            .await?;
        first.transpose()
    }

    /// The first column of the first row as a whole number; `None` without a row.
    pub async fn fetch_number(&mut self, sql: &Sql) -> Result<Option<u64>, sqlx::Error> {
        let first = self.first_row(sql, Row::count).await?;
        first.transpose()
    }

    pub async fn fetch_count(&mut self, sql: &Sql) -> Result<u64, sqlx::Error> {
        self.fetch_number(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// The first two columns of the first row, as whole numbers; `None` without a row.
    pub async fn fetch_ints(&mut self, sql: &Sql) -> Result<Option<(i64, i64)>, sqlx::Error> {
        let int = |row: &Row, i| {
            let value = row.decode(i, FieldType::Integer)?;
            value
                .as_i64()
                .ok_or_else(|| sqlx::Error::Decode("not a whole number".into()))
        };
        let first = self
            .first_row(sql, |row| Ok((int(row, 0)?, int(row, 1)?)))
            .await?;
        first.transpose()
    }

    /// The first column of every row, as text.
    pub async fn fetch_texts(&mut self, sql: &Sql) -> Result<Vec<String>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let mut texts = Vec::new();
        while let Some(row) = rows.try_next().await? {
            if let Json::String(text) = row.decode(0, FieldType::String)? {
                texts.push(text);
            }
        }
        Ok(texts)
    }

    /// The estimate of an EXPLAIN's first row.
    pub async fn fetch_estimate(&mut self, sql: &Sql) -> Result<Option<u64>, sqlx::Error> {
        let first = self.first_row(sql, Row::estimated_rows).await?;
        Ok(first.flatten())
    }

    /// Reads the first row with `read`, then drains the rest.
    async fn first_row<T>(
        &mut self,
        sql: &Sql,
        read: impl FnOnce(&Row) -> T,
    ) -> Result<Option<T>, sqlx::Error> {
        let mut rows = self.fetch(sql);
        let first = rows.try_next().await?.map(|row| read(&row));
        while rows.try_next().await?.is_some() {}
        Ok(first)
    }
}
