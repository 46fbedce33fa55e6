//! SQLite: bind one value, decode one column (by the value's storage class: a column's
//! declared type says little), classify a constraint error, connect.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value as Json;
use sqlx::query::Query;
use std::sync::Arc;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow,
};
use sqlx::{AssertSqlSafe, Connection, Row, Sqlite, TypeInfo, ValueRef};

use super::Settings;
use super::driver::Executed;
use super::error::{Violation, ViolationKind};
use super::pool::{Connect, Pool};
use super::sql::Sql;
use crate::schema::value::{date_to_json, datetime_to_json, int_to_json, time_to_json};
use crate::schema::{FieldType, Value};

pub(super) fn query(sql: &Sql) -> Query<'static, Sqlite, SqliteArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.text.clone()));
    for value in &sql.binds {
        query = bind(query, value);
    }
    query
}

/// Runs a statement without rows; an insert reports its rowid (the integer key).
pub(super) async fn execute(
    conn: &mut SqliteConnection,
    sql: &Sql,
) -> Result<Executed, sqlx::Error> {
    let done = query(sql).execute(conn).await?;
    Ok(Executed {
        last_insert_id: Some(done.last_insert_rowid()),
        rows_affected: done.rows_affected(),
    })
}

fn bind<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    value: &Value,
) -> Query<'q, Sqlite, SqliteArguments> {
    match value {
        Value::Null(_) => query.bind(None::<String>),
        Value::Bool(b) => query.bind(i64::from(*b)),
        Value::Int(i) => query.bind(*i),
        Value::Float(f) => query.bind(*f),
        Value::Decimal(text) | Value::Text(text) => query.bind(text.clone()),
        Value::Date(d) => query.bind(d.format("%Y-%m-%d").to_string()),
        // SQLite's own CURRENT_TIMESTAMP format, so stored values compare as text.
        Value::DateTime(dt) => {
            query.bind(dt.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string())
        }
        Value::Time(t) => query.bind(t.format("%H:%M:%S%.f").to_string()),
        Value::Uuid(u) => query.bind(u.hyphenated().to_string()),
        Value::Json(json) => query.bind(json.to_string()),
        // Written by the statement builder as the column keeps it (a SET's text, JSON);
        // as JSON here, should one reach a bind as it is.
        Value::Texts(texts) => query.bind(Json::from(texts.clone()).to_string()),
    }
}

/// Decodes column `i` as a field of `field_type`, by the stored value's class.
pub(super) fn decode(
    row: &SqliteRow,
    i: usize,
    field_type: FieldType,
) -> Result<Json, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let info = raw.type_info();
    let bad = |what: &str| sqlx::Error::Decode(format!("column {i}: {what}").into());
    Ok(match (field_type, info.name()) {
        (FieldType::Boolean, "INTEGER") => Json::Bool(row.try_get::<i64, _>(i)? != 0),
        (FieldType::Boolean, _) => {
            let text = row.try_get_unchecked::<&str, _>(i)?;
            Json::Bool(matches!(text, "1" | "true" | "TRUE" | "t"))
        }
        (FieldType::Integer | FieldType::Reference, "INTEGER") => {
            int_to_json(row.try_get::<i64, _>(i)?)
        }
        (FieldType::Integer | FieldType::Float, "REAL") => {
            serde_json::Number::from_f64(row.try_get::<f64, _>(i)?).map_or(Json::Null, Json::Number)
        }
        (FieldType::Float, "INTEGER") => Json::from(row.try_get::<i64, _>(i)? as f64),
        (FieldType::Date, _) => {
            let text = row.try_get_unchecked::<&str, _>(i)?;
            let date = NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d")
                .map_err(|_| bad("not a date"))?;
            date_to_json(date)
        }
        (FieldType::Datetime, "INTEGER") => {
            let seconds = row.try_get::<i64, _>(i)?;
            let datetime = chrono::DateTime::from_timestamp(seconds, 0)
                .ok_or_else(|| bad("not a timestamp"))?;
            datetime_to_json(datetime)
        }
        (FieldType::Datetime, _) => {
            let text = row.try_get_unchecked::<&str, _>(i)?;
            datetime_to_json(parse_datetime(text).ok_or_else(|| bad("not a date and time"))?)
        }
        (FieldType::Time, _) => {
            let text = row.try_get_unchecked::<&str, _>(i)?;
            let time = NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
                .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
                .map_err(|_| bad("not a time"))?;
            time_to_json(time)
        }
        (FieldType::Json, "TEXT") => {
            let text = row.try_get::<String, _>(i)?;
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        }
        (_, "INTEGER") => Json::String(row.try_get::<i64, _>(i)?.to_string()),
        (_, "REAL") => Json::String(row.try_get::<f64, _>(i)?.to_string()),
        _ => Json::String(row.try_get_unchecked::<String, _>(i)?),
    })
}

fn parse_datetime(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Some(naive) = sqlite_datetime(text) {
        return Some(naive.and_utc());
    }
    if let Ok(with_offset) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.to_utc());
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(|naive| naive.and_utc())
}

/// SQLite's own `YYYY-MM-DD HH:MM:SS[.fff]` (what CURRENT_TIMESTAMP and this crate write),
/// read without a format string: exports decode one per row, and chrono's strftime parser
/// was a tenth of their time.
fn sqlite_datetime(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &b[range];
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = number(20..b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(date.and_time(time))
}

/// SQLite names `table.column` in its messages: `UNIQUE constraint failed: authors.email`.
pub(super) fn classify(error: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<Violation> {
    let message = error.message();
    let column = || {
        let rest = message.split(": ").nth(1)?;
        let first = rest.split(", ").next()?;
        Some(first.rsplit('.').next()?.to_owned())
    };
    let code = error.code().map(|c| c.into_owned()).unwrap_or_default();
    let kind = if message.starts_with("UNIQUE constraint failed") {
        ViolationKind::Unique
    } else if message.starts_with("FOREIGN KEY constraint failed") {
        // SQLite does not say which key, nor whether the row is referenced or referencing;
        // the caller knows which from the operation.
        return Some(Violation {
            kind: ViolationKind::ForeignKey,
            column: None,
        });
    } else if message.starts_with("NOT NULL constraint failed") {
        ViolationKind::NotNull
    } else if message.starts_with("CHECK constraint failed") {
        return Some(Violation {
            kind: ViolationKind::BadValue,
            column: None,
        });
    } else if code == "5" || code == "6" || code == "517" || code == "261" {
        return Some(Violation {
            kind: ViolationKind::Unavailable,
            column: None,
        });
    } else {
        return None;
    };
    Some(Violation {
        kind,
        column: column(),
    })
}

pub(super) async fn connect(
    url: &str,
    settings: &Settings,
    create: bool,
) -> Result<Pool<SqliteConnection>, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(create)
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(settings.statement_timeout)
        // REGEXP: case-insensitive search beyond ASCII, which SQLite's LIKE folds only in
        // (see `Dialect::contains`).
        .with_regexp()
        // sqlx's worker thread hands rows over one by one through this channel; the
        // default (50) makes a long read wake the reader far more often.
        .row_buffer_size(256);
    // One connection first: it fails at once with the real cause (no such file, not a
    // database) where a pool would retry until its timeout.
    let first = SqliteConnection::connect_with(&options).await?;
    let connect: Connect<SqliteConnection> = Arc::new(move || {
        let options = options.clone();
        Box::pin(async move { SqliteConnection::connect_with(&options).await })
    });
    Ok(Pool::new(
        first,
        connect,
        settings.max_connections,
        settings.acquire_timeout,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<String> {
        parse_datetime(text).map(|dt| dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    #[test]
    fn reads_sqlite_timestamps_without_a_format_string() {
        let fast = |text| sqlite_datetime(text).map(|n| n.and_utc().to_rfc3339());
        assert_eq!(
            fast("2024-05-01 10:00:00").as_deref(),
            Some("2024-05-01T10:00:00+00:00")
        );
        assert_eq!(
            fast("2024-05-01 10:00:00.25").as_deref(),
            Some("2024-05-01T10:00:00.250+00:00")
        );
        assert_eq!(
            at("2024-05-01 10:00:00.123456789").as_deref(),
            Some("2024-05-01T10:00:00.123456789Z")
        );
        // Not the fast path's shape: the other formats still apply.
        for other in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00",
            "2024-05-01 10:00",
        ] {
            assert_eq!(sqlite_datetime(other), None, "{other}");
            assert!(at(other).is_some(), "{other}");
        }
        // More digits than nanoseconds: chrono's parser (which truncates) decides.
        assert_eq!(sqlite_datetime("2024-05-01 10:00:00.1234567890"), None);
        // Impossible or malformed values are refused, not wrapped around.
        for bad in [
            "2024-02-30 10:00:00",
            "2024-05-01 24:00:00",
            "2024-05-01 10:00:00.",
            "2024-05-01 10:00:00x",
            "2024-0a-01 10:00:00",
            "2024-05-01 +1:00:00",
            "",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }
}
