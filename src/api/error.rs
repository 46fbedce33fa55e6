//! The one error type of the API and its JSON shape: the only place where an error becomes
//! an HTTP status.
//!
//! ```json
//! {"code": "validation_failed", "message": "2 fields are invalid",
//!  "errors": {"title": "is required"}, "request_id": "..."}
//! ```
//!
//! Client errors are returned as they are; server errors (500, 503) are logged with the
//! request id, and their body says nothing about SQL or code.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id;
use super::summary::Summary;
use crate::db;
use crate::query;
use crate::schema::WriteError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: BTreeMap<String, String>,
    /// More members of the body and the `ETag` header (412: the current record and its
    /// version); boxed, as most errors have none.
    extra: Option<Box<Extra>>,
    /// For 500 and 503: what is logged (never sent).
    detail: Option<String>,
    /// Seconds for `Retry-After` (429); 503 always says 1.
    retry_after: Option<u64>,
}

#[derive(Debug, Default)]
struct Extra {
    body: serde_json::Map<String, serde_json::Value>,
    etag: Option<String>,
    /// For 405: the methods the resource has, for `Allow` (RFC 9110; empty when none).
    allow: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    errors: &'a BTreeMap<String, String>,
    /// Per field of `errors` whose message has a known form: its code and parameters, for a
    /// client to say it in its own language.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    error_codes: BTreeMap<&'a str, serde_json::Value>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    more: Option<&'a serde_json::Map<String, serde_json::Value>>,
    request_id: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: BTreeMap::new(),
            extra: None,
            detail: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        )
    }

    /// A write to read-only `entity`; `allow` lists the methods the resource has.
    pub fn read_only(entity: &str, allow: &'static str) -> ApiError {
        let message = format!("entity \"{entity}\" is read-only");
        let extra = Extra {
            allow: Some(allow),
            ..Extra::default()
        };
        ApiError {
            extra: Some(Box::new(extra)),
            ..ApiError::method_not_allowed(message)
        }
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn request_timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    pub fn unavailable(message: impl Into<String>, detail: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        error.detail = Some(detail.into());
        error
    }

    /// The same answer, without its line in the log (the caller logged what matters).
    pub fn unlogged(mut self) -> ApiError {
        self.detail = None;
        self
    }

    pub fn internal(detail: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the request id identifies it in the server's log",
        );
        error.detail = Some(detail.into());
        error
    }

    /// 503 for a request the server has no room for now: nothing went wrong, nothing is
    /// logged (the admission control counts them).
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 403 for a user whose role requires a second factor they have not set up.
    pub fn second_factor_required() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            "your role requires two-factor login: set it up first (POST /_2fa)",
        )
    }

    /// 422 with a message per field.
    pub fn invalid(errors: BTreeMap<String, String>) -> ApiError {
        let message = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        );
        error.errors = errors;
        error
    }

    /// The error with one more member in its body (beside `code`, `message`...).
    pub fn with_member(mut self, name: &str, value: serde_json::Value) -> ApiError {
        let extra = self.extra.get_or_insert_with(Box::default);
        extra.body.insert(name.to_owned(), value);
        self
    }

    /// 422 for a request whose content is refused as a whole (no field to name).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }

    /// 409 for an `Idempotency-Key` that made a record from another body: the key is
    /// taken, as a unique value is.
    pub fn key_reused() -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "this Idempotency-Key made a record from another body: a new create needs a new key",
        )
    }

    /// Replaces the generic "not found" of the db layer with one naming the record.
    pub fn with_not_found(self, message: impl FnOnce() -> String) -> ApiError {
        if self.status == StatusCode::NOT_FOUND {
            ApiError::not_found(message())
        } else {
            self
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<crate::auth::Error> for ApiError {
    fn from(error: crate::auth::Error) -> ApiError {
        match error {
            crate::auth::Error::Unauthorized(message) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            }
            crate::auth::Error::Forbidden(message) => ApiError::forbidden(message),
            crate::auth::Error::NotFound(message) => ApiError::not_found(message),
            crate::auth::Error::Unavailable(detail) => ApiError::unavailable(
                "the authentication store is unavailable; try again shortly",
                detail,
            ),
            crate::auth::Error::TooManyAttempts(seconds) => {
                let mut error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    format!("too many login attempts; try again in {seconds} s"),
                );
                error.retry_after = Some(seconds);
                error
            }
        }
    }
}

impl From<query::Error> for ApiError {
    fn from(error: query::Error) -> ApiError {
        ApiError::bad_request(error.to_string())
    }
}

impl From<db::Error> for ApiError {
    fn from(error: db::Error) -> ApiError {
        match error {
            db::Error::NotFound => ApiError::not_found("record not found"),
            db::Error::KeysNotFound(keys) => {
                let listed: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                ApiError::not_found(format!(
                    "no record has id {}; nothing was written",
                    listed.join(", ")
                ))
            }
            db::Error::Rejected(WriteError::UnknownKeys(keys)) => {
                let quoted: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
                let mut api_error = ApiError::bad_request(format!(
                    "unknown field(s) in body: {}",
                    quoted.join(", ")
                ));
                api_error.errors = keys
                    .into_iter()
                    .map(|k| (k, "is not a field".to_owned()))
                    .collect();
                api_error
            }
            db::Error::Rejected(WriteError::Invalid(errors)) => ApiError::invalid(errors),
            db::Error::Rejected(WriteError::Forbidden(errors)) => {
                let names: Vec<String> = errors.keys().map(|k| format!("\"{k}\"")).collect();
                let mut error = ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("you may not change {}", names.join(", ")),
                );
                error.errors = errors;
                error
            }
            db::Error::Missing(errors) => {
                let mut error = ApiError::invalid(errors);
                error.status = StatusCode::CONFLICT;
                error.code = "conflict";
                error.message = format!(
                    "{}: they name records that do not exist",
                    error
                        .message
                        .replace(" is invalid", "")
                        .replace(" are invalid", "")
                );
                error
            }
            db::Error::Conflict { field, message } => {
                let mut api_error =
                    ApiError::new(StatusCode::CONFLICT, "conflict", message.clone());
                if let Some(field) = field {
                    api_error.message = format!("{field}: {message}");
                    api_error.errors.insert(field, message);
                }
                api_error
            }
            db::Error::PreconditionFailed {
                current,
                etag,
                malformed,
            } => {
                let message = match malformed {
                    Some(why) => format!(
                        "{why}: it names no version of the record, whose version is {etag}; \
                         the current record is in \"current\""
                    ),
                    None => format!(
                        "the record was changed since you read it: its version is now {etag}; \
                         the current record is in \"current\""
                    ),
                };
                let mut error = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    message,
                );
                let mut extra = Extra::default();
                extra.body.insert("current".into(), current.into());
                extra.body.insert("etag".into(), etag.clone().into());
                extra.etag = Some(etag);
                error.extra = Some(Box::new(extra));
                error
            }
            db::Error::PreconditionsFailed(changed) => {
                let ids: Vec<String> = changed.iter().map(|(key, _, _)| key.to_string()).collect();
                let mut error = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    format!(
                        "records {} were changed since you read them; nothing was written",
                        ids.join(", ")
                    ),
                );
                let mut etags = serde_json::Map::new();
                let mut current = Vec::new();
                for (key, record, etag) in changed {
                    etags.insert(crate::db::key_text(&key), etag.into());
                    current.push(serde_json::Value::Object(record));
                }
                let mut extra = Extra::default();
                extra.body.insert("current".into(), current.into());
                extra.body.insert("etags".into(), etags.into());
                error.extra = Some(Box::new(extra));
                error
            }
            db::Error::InvalidValue { field, message } => match field {
                Some(field) => ApiError::invalid([(field, message)].into()),
                None => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                ),
            },
            db::Error::Unavailable(detail) => {
                ApiError::unavailable("the database is unavailable; try again shortly", detail)
            }
            // Nothing was written (`Db::write` has run it twice already).
            db::Error::RolledBack(detail) => ApiError::unavailable(
                "the write collided with a concurrent one and was not made; try again",
                detail,
            ),
            db::Error::Internal(detail) => ApiError::internal(detail),
        }
    }
}

/// The 503s with a cause (database down, a pool or statement timeout, a write that collided
/// twice) since the last line that counted them: while the database is down every request
/// has one, and a line each would be thousands a minute saying the same.
static UNAVAILABLE: Summary = Summary::new(std::time::Duration::from_secs(10));

/// Logs the cause of a server-side error: each 500 (a bug, each its own); 503s counted in
/// `unavailable`, a line when one is due.
fn log_cause(unavailable: &Summary, status: StatusCode, detail: &str, request_id: &str) {
    if status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(request_id, status = status.as_u16(), "{detail}");
    } else if let Some(count) = unavailable.add() {
        tracing::error!(
            request_id,
            status = status.as_u16(),
            count,
            "requests answered 503 since the last such line (one per 10 s at most): {count}; \
             the cause of this one: {detail}"
        );
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id::current();
        if let Some(detail) = &self.detail {
            log_cause(&UNAVAILABLE, self.status, detail, &request_id);
        }
        let body = Body {
            code: self.code,
            message: &self.message,
            errors: &self.errors,
            error_codes: self
                .errors
                .iter()
                .filter_map(|(field, message)| {
                    crate::schema::field_error_code(message).map(|code| (field.as_str(), code))
                })
                .collect(),
            more: self.extra.as_ref().map(|extra| &extra.body),
            request_id,
        };
        let mut response = (self.status, Json(body)).into_response();
        let etag = self.extra.as_ref().and_then(|extra| extra.etag.as_deref());
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(allow) = self.extra.as_ref().and_then(|extra| extra.allow) {
            let allow = HeaderValue::from_static(allow);
            response.headers_mut().insert(header::ALLOW, allow);
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    /// The log lines written while `f` runs.
    fn logged(f: impl FnOnce()) -> Vec<String> {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(writer.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_database_outage_logs_a_line_per_interval_and_each_bug_its_own() {
        let unavailable = Summary::new(Duration::from_millis(200));
        let unavailable_503 = |n| {
            for _ in 0..n {
                log_cause(
                    &unavailable,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "connection refused",
                    "r1",
                );
            }
        };
        let lines = logged(|| {
            unavailable_503(1000);
            log_cause(
                &unavailable,
                StatusCode::INTERNAL_SERVER_ERROR,
                "a bug",
                "r2",
            );
            log_cause(
                &unavailable,
                StatusCode::INTERNAL_SERVER_ERROR,
                "another",
                "r3",
            );
        });
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(
            lines[0].contains("such line (one per 10 s at most): 1;"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("connection refused"), "{}", lines[0]);
        assert!(lines[1].contains("a bug") && lines[2].contains("another"));
        // The next interval's first line counts the 999 since.
        std::thread::sleep(Duration::from_millis(250));
        let lines = logged(|| unavailable_503(10));
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(lines[0].contains(": 1000;"), "{}", lines[0]);
    }
}
