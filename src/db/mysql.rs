//! MySQL and MariaDB: bind one value, decode one column, classify a constraint error,
//! connect.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value as Json;
use sqlx::mysql::{
    MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlRow,
};
use sqlx::query::Query;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Column, Connection, Executor, MySql, Row, TypeInfo, ValueRef};

use super::driver::Executed;
use super::error::{PRIMARY_KEY, Violation, ViolationKind};
use super::pool::{Connect, Pool};
use super::sql::Sql;
use super::{Catalog, Settings};
use crate::schema::value::{date_to_json, datetime_to_json, int_to_json, time_to_json};
use crate::schema::{FieldType, Value};

pub(super) fn query(sql: &Sql) -> Query<'static, MySql, MySqlArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.text.clone()));
    for value in &sql.binds {
        query = bind(query, value);
    }
    query
}

/// Runs a statement without rows; an insert reports the key it generated (0: none).
pub(super) async fn execute(
    conn: &mut MySqlConnection,
    sql: &Sql,
) -> Result<Executed, sqlx::Error> {
    let done = query(sql).execute(conn).await?;
    Ok(Executed {
        last_insert_id: i64::try_from(done.last_insert_id())
            .ok()
            .filter(|id| *id != 0),
        rows_affected: done.rows_affected(),
    })
}

/// The row estimate of `EXPLAIN`: its `rows` times the share `filtered` keeps.
pub(super) fn estimated_rows(row: &MySqlRow) -> Option<u64> {
    // EXPLAIN's columns arrive as integers on MySQL and as text on MariaDB.
    let number = |name: &str| -> Option<f64> {
        let raw = row.try_get_raw(name).ok()?;
        if raw.is_null() {
            return None;
        }
        let type_name = raw.type_info().name().to_owned();
        if type_name.contains("INT") {
            row.try_get_unchecked::<i64, _>(name).ok().map(|n| n as f64)
        } else if type_name == "FLOAT" || type_name == "DOUBLE" || type_name == "DECIMAL" {
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
    let filtered = number("filtered").unwrap_or(100.0);
    Some((rows * filtered / 100.0).max(0.0) as u64)
}

fn bind<'q>(
    query: Query<'q, MySql, MySqlArguments>,
    value: &Value,
) -> Query<'q, MySql, MySqlArguments> {
    match value {
        // MySQL converts a NULL of any type.
        Value::Null(_) => query.bind(None::<String>),
        Value::Bool(b) => query.bind(*b),
        Value::Int(i) => query.bind(*i),
        Value::Float(f) => query.bind(*f),
        Value::Decimal(text) | Value::Text(text) => query.bind(text.clone()),
        Value::Date(d) => query.bind(*d),
        // The session time zone is UTC, so DATETIME and TIMESTAMP both hold UTC.
        Value::DateTime(dt) => query.bind(dt.naive_utc()),
        Value::Time(t) => query.bind(*t),
        Value::Uuid(u) => query.bind(u.hyphenated().to_string()),
        Value::Json(json) => query.bind(json.to_string()),
        // Written by the statement builder as the column keeps it (a SET's text, JSON);
        // as JSON here, should one reach a bind as it is.
        Value::Texts(texts) => query.bind(Json::from(texts.clone()).to_string()),
    }
}

/// Decodes column `i` as a field of `field_type`, by the column's actual type.
pub(super) fn decode(row: &MySqlRow, i: usize, field_type: FieldType) -> Result<Json, sqlx::Error> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Json::Null);
    }
    let type_name = row.column(i).type_info().name();
    let is_int = matches!(
        type_name.split(' ').next(),
        Some("TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "BOOLEAN" | "YEAR")
    );
    Ok(match field_type {
        FieldType::Boolean if is_int => Json::Bool(row.try_get_unchecked::<i64, _>(i)? != 0),
        _ if is_int && type_name.ends_with("UNSIGNED") => {
            let n = row.try_get_unchecked::<u64, _>(i)?;
            match i64::try_from(n) {
                Ok(n) => int_to_json(n),
                Err(_) => Json::String(n.to_string()),
            }
        }
        _ if is_int => int_to_json(row.try_get_unchecked::<i64, _>(i)?),
        _ => match type_name {
            "FLOAT" => float_to_json(row.try_get::<f32, _>(i)?.into()),
            "DOUBLE" => float_to_json(row.try_get::<f64, _>(i)?),
            "DATE" => date_to_json(row.try_get::<NaiveDate, _>(i)?),
            "DATETIME" | "TIMESTAMP" => {
                datetime_to_json(row.try_get_unchecked::<NaiveDateTime, _>(i)?.and_utc())
            }
            "TIME" => time_to_json(row.try_get::<NaiveTime, _>(i)?),
            _ => {
                let text = row.try_get_unchecked::<String, _>(i)?;
                match field_type {
                    // MariaDB's JSON is LONGTEXT; MySQL's arrives as text too.
                    FieldType::Json => serde_json::from_str(&text).unwrap_or(Json::String(text)),
                    FieldType::Boolean => Json::Bool(text == "1" || text == "true"),
                    _ => Json::String(text),
                }
            }
        },
    })
}

fn float_to_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// MySQL names the column in its messages: `Column 'x' cannot be null`,
/// `Duplicate entry 'a' for key 'email'`, `... FOREIGN KEY (`author_id`) REFERENCES ...`.
pub(super) fn classify(error: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<Violation> {
    let error = error.try_downcast_ref::<MySqlDatabaseError>()?;
    let message = error.message();
    let quoted_after = |marker: &str, quote: char| {
        let start = message.find(marker)? + marker.len();
        let rest = &message[start..];
        let rest = rest.strip_prefix(quote).unwrap_or(rest);
        let end = rest.find(quote)?;
        Some(rest[..end].to_owned())
    };
    let (kind, column) = match error.number() {
        // The key name of a one-column unique index is the column's name by default.
        1062 => (
            ViolationKind::Unique,
            quoted_after("for key ", '\'').map(|k| match k.rsplit('.').next().unwrap_or(&k) {
                "PRIMARY" => PRIMARY_KEY.to_owned(),
                name => name.to_owned(),
            }),
        ),
        1452 => (
            ViolationKind::ForeignKey,
            quoted_after("FOREIGN KEY (", '`'),
        ),
        1451 => (ViolationKind::Referenced, None),
        1048 => (ViolationKind::NotNull, quoted_after("Column ", '\'')),
        1406 | 1264 | 1265 | 1366 | 1292 | 4025 | 3819 => (
            ViolationKind::BadValue,
            quoted_after("column ", '\'').or_else(|| {
                // `for column `db`.`t`.`c`` (MariaDB's 1366)
                quoted_after("column ", '`').and_then(|_| {
                    let end = message.rfind('`')?;
                    let start = message[..end].rfind('`')? + 1;
                    Some(message[start..end].to_owned())
                })
            }),
        ),
        // A deadlock, or Galera's certification failure (which says the same).
        1213 => (ViolationKind::RolledBack, None),
        // Lock wait, statement timeouts (MariaDB, MySQL), too many connections, unknown
        // database, connection killed, server shutdown.
        1205 | 1969 | 3024 | 1040 | 1049 | 1927 | 1053 => (ViolationKind::Unavailable, None),
        _ => return None,
    };
    Some(Violation { kind, column })
}

pub(super) async fn connect(
    url: &str,
    settings: &Settings,
) -> Result<Pool<MySqlConnection>, sqlx::Error> {
    let options = MySqlConnectOptions::from_str(url)?.timezone(Some("+00:00".to_owned()));
    let statement_timeout = settings.statement_timeout;
    // One connection first: it fails at once with the real cause (refused, bad password,
    // unknown database) where a pool would retry until its timeout.
    let first = open(&options, statement_timeout).await?;
    let connect: Connect<MySqlConnection> = Arc::new(move || {
        let options = options.clone();
        Box::pin(async move { open(&options, statement_timeout).await })
    });
    Ok(Pool::new(
        first,
        connect,
        settings.max_connections,
        settings.acquire_timeout,
    ))
}

async fn open(
    options: &MySqlConnectOptions,
    statement_timeout: std::time::Duration,
) -> Result<MySqlConnection, sqlx::Error> {
    let mut connection = MySqlConnection::connect_with(options).await?;
    // Strict mode turns silent truncation into errors. An index-merge intersection is
    // what MariaDB picks for two equality filters on two indexed columns (an admin's every
    // day: `author_id = 17 AND status = 'published'`), and it reads all of the less selective
    // index: 10 ms where the one index and a filter take 0.7 (docs/performance.md).
    // The statement timeout has a different name on MariaDB (seconds) and MySQL
    // (milliseconds, SELECT only).
    connection
        .execute(
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), \
             optimizer_switch = 'index_merge_intersection=off'",
        )
        .await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut connection)
        .await?;
    let set_timeout = if version.contains("MariaDB") {
        format!(
            "SET SESSION max_statement_time = {}",
            statement_timeout.as_secs_f64()
        )
    } else {
        format!(
            "SET SESSION max_execution_time = {}",
            statement_timeout.as_millis()
        )
    };
    connection.execute(AssertSqlSafe(set_timeout)).await?;
    Ok(connection)
}

/// The ENUM columns of the given tables, with their values in declaration order.
pub(super) async fn load_catalog(
    conn: &mut MySqlConnection,
    tables: &[String],
) -> Result<Catalog, sqlx::Error> {
    let mut catalog = Catalog::default();
    let rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR)
         FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN ('enum', 'set')",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get_unchecked(0)?;
        if !tables
            .iter()
            .any(|t| t.rsplit('.').next() == Some(table.as_str()))
        {
            continue;
        }
        let column: String = row.try_get_unchecked(1)?;
        let column_type: String = row.try_get_unchecked(2)?;
        if column_type.to_ascii_lowercase().starts_with("set(") {
            // A multi-choice column kept as a SET: its values travel joined by commas.
            catalog.insert(&table, &column, "set");
            continue;
        }
        catalog.insert_enum(
            &table,
            &column,
            super::introspect::quoted_literals(&column_type),
        );
    }
    Ok(catalog)
}
