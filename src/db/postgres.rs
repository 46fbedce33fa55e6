//! PostgreSQL: bind one value, decode one column, classify a constraint error, connect.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::Value as Json;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgDatabaseError, PgRow};
use sqlx::query::Query;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Column, Connection, Postgres, Row, TypeInfo, ValueRef};

use super::driver::Executed;
use super::error::{Violation, ViolationKind};
use super::pool::{Connect, Pool};
use super::pooler::Statements;
use super::{Catalog, Settings};
use crate::schema::value::{date_to_json, datetime_to_json, int_to_json, time_to_json};
use crate::schema::{FieldType, Kind, Value};

use super::sql::Sql;

pub(super) fn query(sql: &Sql, statements: Statements) -> Query<'static, Postgres, PgArguments> {
    let mut query =
        sqlx::query(AssertSqlSafe(sql.text.clone())).persistent(statements == Statements::Named);
    for value in &sql.binds {
        query = bind(query, value);
    }
    query
}

/// Runs a statement without rows. PostgreSQL reports generated keys only through RETURNING.
pub(super) async fn execute(
    conn: &mut PgConnection,
    sql: &Sql,
    statements: Statements,
) -> Result<Executed, sqlx::Error> {
    let done = query(sql, statements).execute(conn).await?;
    Ok(Executed {
        last_insert_id: None,
        rows_affected: done.rows_affected(),
    })
}

/// The row estimate of `EXPLAIN (FORMAT JSON)`: the top plan node's.
pub(super) fn estimated_rows(row: &PgRow) -> Option<u64> {
    let plan: sqlx::types::Json<Json> = row.try_get(0).ok()?;
    plan.0
        .get(0)?
        .get("Plan")?
        .get("Plan Rows")?
        .as_f64()
        .map(|n| n as u64)
}

fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    value: &Value,
) -> Query<'q, Postgres, PgArguments> {
    match value {
        Value::Null(kind) => match kind {
            Kind::Bool => query.bind(None::<bool>),
            Kind::Int => query.bind(None::<i64>),
            Kind::Float => query.bind(None::<f64>),
            Kind::Decimal | Kind::Text => query.bind(None::<String>),
            Kind::Date => query.bind(None::<NaiveDate>),
            Kind::DateTime => query.bind(None::<DateTime<Utc>>),
            Kind::Time => query.bind(None::<NaiveTime>),
            Kind::Uuid => query.bind(None::<uuid::Uuid>),
            Kind::Json => query.bind(None::<sqlx::types::Json<Json>>),
            Kind::Texts => query.bind(None::<Vec<String>>),
        },
        Value::Bool(b) => query.bind(*b),
        Value::Int(i) => query.bind(*i),
        Value::Float(f) => query.bind(*f),
        Value::Decimal(text) | Value::Text(text) => query.bind(text.clone()),
        Value::Date(d) => query.bind(*d),
        Value::DateTime(dt) => query.bind(*dt),
        Value::Time(t) => query.bind(*t),
        Value::Uuid(u) => query.bind(*u),
        Value::Json(json) => query.bind(sqlx::types::Json(json.clone())),
        // A text[], cast by the statement to the column's array type.
        Value::Texts(texts) => query.bind(texts.clone()),
    }
}

/// Decodes column `i` as a field of `field_type`, by the column's actual type.
pub(super) fn decode(row: &PgRow, i: usize, field_type: FieldType) -> Result<Json, sqlx::Error> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Json::Null);
    }
    let type_name = row.column(i).type_info().name();
    Ok(match (field_type, type_name) {
        (_, "INT2") => int_to_json(row.try_get::<i16, _>(i)?.into()),
        (_, "INT4") => int_to_json(row.try_get::<i32, _>(i)?.into()),
        (_, "INT8") => int_to_json(row.try_get::<i64, _>(i)?),
        (_, "FLOAT4") => float_to_json(row.try_get::<f32, _>(i)?.into()),
        (_, "FLOAT8") => float_to_json(row.try_get::<f64, _>(i)?),
        (_, "BOOL") => Json::Bool(row.try_get::<bool, _>(i)?),
        (_, "DATE") => date_to_json(row.try_get::<NaiveDate, _>(i)?),
        (_, "TIMESTAMPTZ") => datetime_to_json(row.try_get::<DateTime<Utc>, _>(i)?),
        (_, "TIMESTAMP") => datetime_to_json(row.try_get::<NaiveDateTime, _>(i)?.and_utc()),
        (_, "TIME") => time_to_json(row.try_get::<NaiveTime, _>(i)?),
        (_, "UUID") => Json::String(row.try_get::<uuid::Uuid, _>(i)?.to_string()),
        (_, "JSON" | "JSONB") => row.try_get::<sqlx::types::Json<Json>, _>(i)?.0,
        (FieldType::Json, _) => parse_json(&row.try_get_unchecked::<String, _>(i)?),
        (FieldType::Boolean, _) => Json::Bool(row.try_get_unchecked::<String, _>(i)? == "t"),
        // Text, varchar, char, name, citext, enums and the decimal cast all arrive as text.
        _ => Json::String(row.try_get_unchecked::<String, _>(i)?),
    })
}

fn float_to_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_owned()))
}

/// Reads the column named in a constraint error's detail: `Key (email)=(a@b) already exists.`
pub(super) fn classify(error: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<Violation> {
    let error = error.try_downcast_ref::<PgDatabaseError>()?;
    let key_column = || {
        let detail = error.detail()?;
        let start = detail.find("Key (")? + 5;
        let end = start + detail[start..].find(")=")?;
        Some(detail[start..end].to_owned())
    };
    let kind = match error.code() {
        "23505" => ViolationKind::Unique,
        "23503"
            if error
                .detail()
                .is_some_and(|d| d.contains("is still referenced")) =>
        {
            ViolationKind::Referenced
        }
        "23503" => ViolationKind::ForeignKey,
        "23502" => {
            return Some(Violation {
                kind: ViolationKind::NotNull,
                column: error.column().map(str::to_owned),
            });
        }
        "23514" | "22001" | "22003" | "22007" | "22008" | "22P02" | "22023" | "22P05" | "22021" => {
            ViolationKind::BadValue
        }
        // Deadlocks and serialization failures; timeouts, lock waits, and a server or
        // database that went away.
        "40001" | "40P01" => ViolationKind::RolledBack,
        "57014" | "55P03" | "55000" | "57P01" | "57P02" | "57P03" | "3D000" => {
            ViolationKind::Unavailable
        }
        code if code.starts_with("08") || code.starts_with("53") => ViolationKind::Unavailable,
        _ => return None,
    };
    Some(Violation {
        kind,
        column: key_column(),
    })
}

/// Connects, directly or through a transaction pooler (`pooler.rs`: said by the settings, or
/// detected by its refusal of the startup options).
pub(super) async fn connect(
    url: &str,
    settings: &Settings,
) -> Result<(Pool<PgConnection>, Statements), sqlx::Error> {
    let base = PgConnectOptions::from_str(url)?;
    let statement_timeout = settings.statement_timeout.as_millis().to_string();
    // Columns without a time zone are read and written as UTC: sqlx asks for TimeZone=UTC
    // at startup, which poolers pass on.
    let direct = base
        .clone()
        .options([("statement_timeout", statement_timeout.as_str())]);
    // A pooler keeps track of few startup parameters and refuses the others.
    let pooled = base.extra_float_digits(None).statement_cache_capacity(0);
    // One connection first: it fails at once with the real cause (refused, bad password,
    // unknown database) where a pool would retry until its timeout.
    let (mut first, options, statements) = match settings.transaction_pooler {
        Some(true) => (
            PgConnection::connect_with(&pooled).await?,
            pooled,
            Statements::Unnamed,
        ),
        Some(false) => {
            let first = PgConnection::connect_with(&direct).await.map_err(|error| {
                if super::pooler::refused_startup_options(&error) {
                    sqlx::Error::Configuration(
                        format!(
                            "{error}: the server refuses startup options, as a transaction \
                             pooler does; remove `transaction_pooler = false` from [admin]"
                        )
                        .into(),
                    )
                } else {
                    error
                }
            })?;
            (first, direct, Statements::Named)
        }
        None => match PgConnection::connect_with(&direct).await {
            Ok(first) => (first, direct, Statements::Named),
            Err(error) if super::pooler::refused_startup_options(&error) => {
                tracing::info!(
                    "the PostgreSQL server refused startup options: taken for a transaction \
                     pooler (unnamed statements, each in a transaction)"
                );
                let first = PgConnection::connect_with(&pooled).await?;
                (first, pooled, Statements::Unnamed)
            }
            Err(error) => return Err(error),
        },
    };
    if statements == Statements::Unnamed {
        super::pooler::learn_types(&mut first).await?;
    }
    let connect: Connect<PgConnection> = Arc::new(move || {
        let options = options.clone();
        Box::pin(async move {
            let mut conn = PgConnection::connect_with(&options).await?;
            if statements == Statements::Unnamed {
                super::pooler::learn_types(&mut conn).await?;
            }
            Ok(conn)
        })
    });
    let pool = Pool::new(
        first,
        connect,
        settings.max_connections,
        settings.acquire_timeout,
    );
    Ok((pool, statements))
}

/// For each column of the given tables whose type takes text only through a cast (enums,
/// domains, json, inet...), the type to cast to.
pub(super) async fn load_catalog(
    conn: &mut PgConnection,
    tables: &[String],
) -> Result<Catalog, sqlx::Error> {
    // `schema.table` names its schema; a bare name is found on the search path.
    let names: Vec<String> = tables
        .iter()
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .collect();
    let schemas: Vec<String> = tables
        .iter()
        .filter_map(|t| t.split_once('.').map(|(schema, _)| schema.to_owned()))
        .collect();
    let rows = sqlx::query(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, NULL), t.typname::text
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         WHERE c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
           AND (pg_table_is_visible(c.oid) OR n.nspname = ANY($2))",
    )
    .bind(names)
    .bind(schemas)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    let mut catalog = Catalog::default();
    for row in rows {
        let table: String = row.try_get(0)?;
        let column: String = row.try_get(1)?;
        let sql_type: String = row.try_get(2)?;
        let type_name: String = row.try_get(3)?;
        let takes_text = matches!(
            type_name.as_str(),
            "text" | "varchar" | "bpchar" | "name" | "jsonb" | "numeric"
        );
        if !takes_text {
            catalog.insert(&table, &column, &sql_type);
        }
    }
    Ok(catalog)
}

/// A connection of its own that listens for commits of audit rows (each instance notifies
/// `autoadmin_audit` after its commits, `changes.rs`; so does the trigger of writes made
/// outside autoadmin): live updates' early wake-up. Not through a transaction pooler, which
/// does not carry `LISTEN`.
pub(super) async fn listen(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen("autoadmin_audit").await?;
    Ok(listener)
}

/// The script that puts `autoadmin_external`'s trigger on `table` (quoted) with `arguments`,
/// unless it is there with them already (a trigger made again takes a lock on the table).
pub(super) fn watch_script(table: &str, arguments: &[String]) -> String {
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    // pg_trigger keeps the arguments as bytes, each ended by a zero byte.
    let mut bytes = String::new();
    for argument in arguments {
        for byte in argument.as_bytes().iter().chain([&0u8]) {
            bytes.push_str(&format!("{byte:02x}"));
        }
    }
    let listed: Vec<String> = arguments.iter().map(|a| literal(a)).collect();
    format!(
        "DO $d$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'autoadmin_external'
                 AND tgrelid = {regclass}::regclass AND tgargs = decode('{bytes}', 'hex')) THEN
    DROP TRIGGER IF EXISTS autoadmin_external ON {table};
    CREATE TRIGGER autoadmin_external AFTER INSERT OR UPDATE OR DELETE ON {table}
      FOR EACH ROW EXECUTE FUNCTION autoadmin_external({listed});
  END IF;
END $d$",
        regclass = literal(table),
        listed = listed.join(", "),
    )
}
