//! Typed values: what a JSON value from a client becomes once it is checked against a field's
//! type, and what the db layer binds. Backend-neutral: each backend has one small function that
//! binds a [`Value`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::Value as Json;

use super::FieldType;

/// How a value is carried to the database; also the type of a NULL, which PostgreSQL needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Decimal,
    Text,
    Date,
    DateTime,
    Time,
    Uuid,
    Json,
    /// A list of texts (a multi-choice value).
    Texts,
}

impl Kind {
    pub fn of(field_type: FieldType) -> Kind {
        match field_type {
            FieldType::Integer => Kind::Int,
            FieldType::Float => Kind::Float,
            FieldType::Decimal => Kind::Decimal,
            FieldType::Boolean => Kind::Bool,
            FieldType::Date => Kind::Date,
            FieldType::Datetime => Kind::DateTime,
            FieldType::Time => Kind::Time,
            FieldType::Uuid => Kind::Uuid,
            FieldType::Json => Kind::Json,
            FieldType::MultiChoice => Kind::Texts,
            // A reference's value type is resolved by the caller (Field::value_type).
            FieldType::Reference => Kind::Int,
            FieldType::String
            | FieldType::Text
            | FieldType::Email
            | FieldType::Url
            | FieldType::Choice
            | FieldType::Password => Kind::Text,
        }
    }
}

/// A value ready to bind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null(Kind),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Canonical decimal text (checked by rust_decimal), bound as text with a numeric cast so
    /// no precision is lost on the way.
    Decimal(String),
    Text(String),
    Date(NaiveDate),
    /// Always UTC: columns without a time zone are read and written as UTC.
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Uuid(uuid::Uuid),
    Json(Json),
    /// A multi-choice value: each once, in the order of the field's choices.
    Texts(Vec<String>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null(_))
    }
}

/// Converts a client's JSON value to a field's type. The error is a short phrase that reads
/// after the field name ("must be an integer").
pub fn from_json(field_type: FieldType, json: &Json, choices: &[String]) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null(Kind::of(field_type)));
    }
    match field_type {
        FieldType::Integer => to_int(json).map(Value::Int),
        FieldType::Float => to_float(json).map(Value::Float),
        FieldType::Decimal => to_decimal(json).map(Value::Decimal),
        FieldType::Boolean => to_bool(json).map(Value::Bool),
        FieldType::Date => to_date(json).map(Value::Date),
        FieldType::Datetime => to_datetime(json).map(Value::DateTime),
        FieldType::Time => to_time(json).map(Value::Time),
        FieldType::Uuid => to_uuid(json).map(Value::Uuid),
        FieldType::Json => Ok(Value::Json(json.clone())),
        FieldType::Choice => {
            let text = to_text(json)?;
            if choices.contains(&text) {
                Ok(Value::Text(text))
            } else {
                Err(format!("must be one of: {}", choices.join(", ")))
            }
        }
        FieldType::MultiChoice => {
            let Json::Array(items) = json else {
                return Err(format!("must be a list of: {}", choices.join(", ")));
            };
            let mut chosen = Vec::with_capacity(items.len());
            for item in items {
                let text = to_text(item)
                    .map_err(|_| format!("must be a list of: {}", choices.join(", ")))?;
                if !choices.contains(&text) {
                    return Err(format!(
                        "holds \"{text}\", which is not one of: {}",
                        choices.join(", ")
                    ));
                }
                chosen.push(text);
            }
            // One canonical form: each once, in the choices' order.
            Ok(Value::Texts(
                choices
                    .iter()
                    .filter(|c| chosen.contains(c))
                    .cloned()
                    .collect(),
            ))
        }
        FieldType::Reference => Err("reference values are converted by their key type".into()),
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Url
        | FieldType::Password => to_text(json).map(Value::Text),
    }
}

fn to_text(json: &Json) -> Result<String, String> {
    match json {
        // PostgreSQL cannot store NUL in text; no backend gets one, so all behave alike.
        Json::String(s) if s.contains('\0') => Err("must not contain the NUL character".into()),
        Json::String(s) => Ok(s.clone()),
        _ => Err("must be a string".into()),
    }
}

/// Integers arrive as JSON numbers, or as strings beyond 2^53 (that is how we send them).
fn to_int(json: &Json) -> Result<i64, String> {
    const MESSAGE: &str = "must be an integer";
    match json {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
                _ => Err(MESSAGE.into()),
            }
        }
        Json::String(s) => s.trim().parse::<i64>().map_err(|_| MESSAGE.into()),
        _ => Err(MESSAGE.into()),
    }
}

fn to_float(json: &Json) -> Result<f64, String> {
    const MESSAGE: &str = "must be a number";
    let f = match json {
        Json::Number(n) => n.as_f64().ok_or(MESSAGE)?,
        Json::String(s) => s.trim().parse::<f64>().map_err(|_| MESSAGE)?,
        _ => return Err(MESSAGE.into()),
    };
    if f.is_finite() {
        Ok(f)
    } else {
        Err(MESSAGE.into())
    }
}

/// Decimals arrive as strings (how we send them) or numbers; the result is canonical text.
fn to_decimal(json: &Json) -> Result<String, String> {
    const MESSAGE: &str = "must be a decimal number";
    let text = match json {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.trim().to_owned(),
        _ => return Err(MESSAGE.into()),
    };
    let parsed = text
        .parse::<rust_decimal::Decimal>()
        .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
        .or_else(|error| match json {
            // A number of more digits than a decimal holds (3.9e-143): rounded to them.
            Json::Number(n) => n
                .as_f64()
                .and_then(<rust_decimal::Decimal as rust_decimal::prelude::FromPrimitive>::from_f64)
                .ok_or(error),
            _ => Err(error),
        })
        .map_err(|_| MESSAGE.to_owned())?;
    Ok(parsed.to_string())
}

/// `1.5e-7` → `0.00000015`; `None` when it does not fit a decimal.
pub fn plain_decimal(text: &str) -> Option<String> {
    rust_decimal::Decimal::from_scientific(text)
        .ok()
        .map(|d| d.normalize().to_string())
}

/// A decimal's text compared exactly with a bound written in config: the bound's shortest
/// text (`0.1`, not 0.1000000000000000055…) as a decimal. `None` if either does not parse.
pub(crate) fn compare_decimal(text: &str, bound: f64) -> Option<std::cmp::Ordering> {
    let value = text.parse::<rust_decimal::Decimal>().ok()?;
    let bound = format!("{bound}").parse::<rust_decimal::Decimal>().ok()?;
    Some(value.cmp(&bound))
}

/// Whether two decimals' texts are the same number (`4.50` and `4.5` are).
pub(crate) fn same_decimal(a: &str, b: &str) -> bool {
    match (
        a.parse::<rust_decimal::Decimal>(),
        b.parse::<rust_decimal::Decimal>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn to_bool(json: &Json) -> Result<bool, String> {
    match json {
        Json::Bool(b) => Ok(*b),
        // Query strings and HTML forms speak in strings and 0/1.
        Json::String(s) => match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("must be true or false".into()),
        },
        Json::Number(n) => match n.as_i64() {
            Some(1) => Ok(true),
            Some(0) => Ok(false),
            _ => Err("must be true or false".into()),
        },
        _ => Err("must be true or false".into()),
    }
}

fn to_date(json: &Json) -> Result<NaiveDate, String> {
    let text = to_text(json).map_err(|_| "must be a date (YYYY-MM-DD)".to_owned())?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| "must be a date (YYYY-MM-DD)".into())
}

/// RFC 3339 with an offset; a value without one (or a bare date) is taken as UTC.
fn to_datetime(json: &Json) -> Result<DateTime<Utc>, String> {
    const MESSAGE: &str = "must be a date and time (RFC 3339, e.g. 2024-05-01T12:00:00Z)";
    let text = to_text(json).map_err(|_| MESSAGE.to_owned())?;
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(&text) {
        return Ok(with_offset.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&text, format) {
            return Ok(naive.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    Err(MESSAGE.into())
}

fn to_time(json: &Json) -> Result<NaiveTime, String> {
    const MESSAGE: &str = "must be a time (HH:MM:SS)";
    let text = to_text(json).map_err(|_| MESSAGE.to_owned())?;
    NaiveTime::parse_from_str(&text, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M"))
        .map_err(|_| MESSAGE.into())
}

fn to_uuid(json: &Json) -> Result<uuid::Uuid, String> {
    let text = to_text(json).map_err(|_| "must be a UUID".to_owned())?;
    uuid::Uuid::parse_str(&text).map_err(|_| "must be a UUID".into())
}

/// Integers beyond 2^53 lose precision in JavaScript, so they travel as strings.
pub fn int_to_json(i: i64) -> Json {
    const SAFE: i64 = (1 << 53) - 1;
    if (-SAFE..=SAFE).contains(&i) {
        Json::from(i)
    } else {
        Json::String(i.to_string())
    }
}

pub fn datetime_to_json(datetime: DateTime<Utc>) -> Json {
    Json::String(datetime.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

pub fn date_to_json(date: NaiveDate) -> Json {
    Json::String(date.format("%Y-%m-%d").to_string())
}

pub fn time_to_json(time: NaiveTime) -> Json {
    Json::String(time.format("%H:%M:%S%.f").to_string())
}

/// Converts an id from a URL path to the key field's type.
pub fn parse_key(key_type: FieldType, text: &str) -> Result<Value, String> {
    match key_type {
        FieldType::Integer => text
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| "is not an integer".to_owned()),
        FieldType::Uuid => uuid::Uuid::parse_str(text)
            .map(Value::Uuid)
            .map_err(|_| "is not a UUID".to_owned()),
        _ if text.contains('\0') => Err("must not contain the NUL character".to_owned()),
        _ => Ok(Value::Text(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(t: FieldType, input: Json, want: Result<Value, &str>) {
        let got = from_json(t, &input, &["a".to_owned(), "b".to_owned()]);
        assert_eq!(got, want.map_err(str::to_owned), "{t} {input}");
    }

    #[test]
    fn converts_by_type() {
        use FieldType as T;
        check(T::Integer, json!(5), Ok(Value::Int(5)));
        check(
            T::Integer,
            json!("9007199254740993"),
            Ok(Value::Int(9007199254740993)),
        );
        check(T::Integer, json!(1.5), Err("must be an integer"));
        // A whole float read exactly (serde_json's float_roundtrip): not ...614.5.
        let whole: Json = serde_json::from_str("-4370051776452614.0").unwrap();
        check(T::Integer, whole, Ok(Value::Int(-4370051776452614)));
        check(T::Integer, json!("x"), Err("must be an integer"));
        check(T::Float, json!(1.5), Ok(Value::Float(1.5)));
        // A number with more digits than a decimal holds is rounded to them.
        check(T::Decimal, json!(3.9e-143), Ok(Value::Decimal("0".into())));
        check(
            T::Decimal,
            json!("12.50"),
            Ok(Value::Decimal("12.50".into())),
        );
        check(T::Decimal, json!(3), Ok(Value::Decimal("3".into())));
        check(T::Decimal, json!("1e3"), Ok(Value::Decimal("1000".into())));
        check(T::Decimal, json!("abc"), Err("must be a decimal number"));
        check(T::Boolean, json!("true"), Ok(Value::Bool(true)));
        check(T::Boolean, json!(2), Err("must be true or false"));
        check(
            T::Date,
            json!("2024-02-29"),
            Ok(Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())),
        );
        check(
            T::Date,
            json!("2023-02-29"),
            Err("must be a date (YYYY-MM-DD)"),
        );
        let noon = NaiveDate::from_ymd_opt(2024, 5, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc();
        check(
            T::Datetime,
            json!("2024-05-01T14:00:00+02:00"),
            Ok(Value::DateTime(noon)),
        );
        check(
            T::Datetime,
            json!("2024-05-01T12:00:00"),
            Ok(Value::DateTime(noon)),
        );
        check(T::Time, json!("25:00:00"), Err("must be a time (HH:MM:SS)"));
        check(T::Choice, json!("b"), Ok(Value::Text("b".into())));
        check(T::Choice, json!("c"), Err("must be one of: a, b"));
        check(T::String, json!(5), Err("must be a string"));
        check(T::Uuid, json!("nope"), Err("must be a UUID"));
        check(
            T::Json,
            json!({"a": [1]}),
            Ok(Value::Json(json!({"a": [1]}))),
        );
        check(T::Integer, json!(null), Ok(Value::Null(Kind::Int)));
    }

    #[test]
    fn exponents_become_plain_decimals() {
        assert_eq!(
            plain_decimal("1.192092896e-07").as_deref(),
            Some("0.0000001192092896")
        );
        assert_eq!(plain_decimal("2.5E3").as_deref(), Some("2500"));
    }

    #[test]
    fn big_integers_travel_as_strings() {
        assert_eq!(int_to_json(42), json!(42));
        assert_eq!(int_to_json(i64::MAX), json!("9223372036854775807"));
    }
}
