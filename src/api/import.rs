//! `POST /{entity}/import`: a CSV file or an Excel workbook (XLSX) into the entity's records,
//! as the request body (`Content-Type: text/csv`, or the XLSX media type) or as the `file`
//! part of a multipart form (what a browser's file input sends). A CSV body is read as it
//! arrives, a row at a time, never whole; a workbook is kept on disk until it has arrived
//! (its directory is at its end), then read a row at a time. The import is a job named by
//! the request's id (`GET /_imports/{id}`, `jobs.rs`): once the file has arrived, the request waits `wait` seconds for its end and answers the report (200, or
//! 422 when an `abort` import had an invalid row: nothing is written then), or 202 with the
//! job while it goes on.
//!
//! Imports take no admission place (they run long, and are bounded on their own: at most
//! `max_imports` at once, the file at most `max_import_bytes`, no pause of more than the
//! request timeout between two pieces of it) and no request timeout (a large file takes
//! longer to send than any request should).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{BoxStream, StreamExt};

use super::error::ApiError;
use super::extract::EntityPath;
use super::record::{actor, writable};
use super::{AppState, request_id};
use crate::auth::{Action, Principal};
use crate::db::{FileError, ImportError};
use crate::import::{Format, Report, SourceError, file_rows};
use crate::query::{ImportMode, parse_import};
use crate::xlsx::MEDIA_TYPE as XLSX_TYPE;

type Result<T> = std::result::Result<T, ApiError>;

/// The media types read as CSV: what browsers and curl send for a `.csv` file (Windows
/// browsers say `application/vnd.ms-excel`).
const CSV_TYPES: [&str; 6] = [
    "text/csv",
    "application/csv",
    "text/plain",
    "text/comma-separated-values",
    "text/tab-separated-values",
    "application/vnd.ms-excel",
];

pub async fn import(
    State(state): State<AppState>,
    who: Principal,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Result<Response> {
    writable(&entity)?;
    let options = parse_import(&entity, query_string.as_deref().unwrap_or(""))?;
    if options.mode != ImportMode::Update {
        who.require(&entity.name, Action::Add)?;
    }
    if options.mode != ImportMode::Insert {
        who.require(&entity.name, Action::Edit)?;
    }
    let idle = state.settings.request_timeout;
    let (parts, body) = request.into_parts();
    let (file, workbook) = file(&parts.headers, body, idle).await?;
    let Ok(place) = state.imports.clone().try_acquire_owned() else {
        return Err(ApiError::busy(format!(
            "{} imports are running, the most at once; try again when one has finished",
            state.settings.max_imports
        )));
    };
    // The import is named by the request's id (a client may choose it, to follow the
    // import from its start): one that names another import is refused.
    let id = request_id::current();
    let started = state
        .db
        .start_import(
            &state.jobs,
            &id,
            &entity.name,
            who.user.clone(),
            Some(place),
        )
        .await?;
    let Some((job, context)) = started else {
        return Err(ApiError::conflict(format!(
            "an import is named {id} already: send another X-Request-Id, or none"
        )));
    };
    let progress = job.progress.clone();
    let limits = crate::import::csv::Limits::default();
    let format = Format {
        workbook,
        delimiter: options.delimiter,
        sheet: options.sheet.clone(),
    };
    let source = file_rows(file, format, limits, state.settings.max_import_bytes);
    let wait = options.wait;
    let import = state
        .db
        .import(entity, options, source, actor(&who), context);
    tokio::pin!(import);
    let waited = async {
        progress.received().await;
        tokio::time::sleep(wait).await;
    };
    let imported = tokio::select! {
        imported = &mut import => imported,
        () = waited => {
            // The import goes on in its task; the job says how it goes.
            let location = super::jobs::location(uri.path(), &id);
            let mut response =
                (StatusCode::ACCEPTED, axum::Json(super::jobs::running(&job))).into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            return Ok(response);
        }
    };
    match imported {
        Ok(report) if report.aborted() => {
            Err(ApiError::unprocessable(report.refusal()).with_member("report", to_json(&report)))
        }
        Ok(report) => Ok((StatusCode::OK, axum::Json(report)).into_response()),
        Err(ImportError::File { error, report }) => {
            let refusal = match &error {
                FileError::Source(SourceError::TooLarge { .. } | SourceError::Unpacked { .. }) => {
                    ApiError::payload_too_large(error.to_string())
                }
                _ => ApiError::bad_request(error.to_string()),
            };
            // What was done before, when the file broke after some rows; with a preview,
            // the header row (the columns a mapping can name) even when it is refused.
            Err(if report.rows > 0 || !report.columns.is_empty() {
                refusal.with_member("report", to_json(&report))
            } else {
                refusal
            })
        }
        Err(ImportError::Cancelled(report)) => {
            let message = if report.committed {
                "the import was cancelled: the rows before were written"
            } else {
                "the import was cancelled: nothing was written"
            };
            Err(ApiError::conflict(message).with_member("report", to_json(&report)))
        }
        Err(ImportError::Db(error)) => Err(error.into()),
    }
}

fn to_json(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_default()
}

/// A file's bytes as they arrive.
type FileBytes = BoxStream<'static, std::result::Result<Bytes, String>>;

/// The bytes of the file: the body itself, or the `file` part of a multipart form; each
/// piece within `idle` of the one before; and whether the request says it is a workbook
/// (else the file's first bytes tell).
async fn file(headers: &HeaderMap, body: Body, idle: Duration) -> Result<(FileBytes, bool)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = super::body::essence(content_type);
    let stream = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(|err| err.to_string()));
    let mut workbook = essence == XLSX_TYPE;
    let bytes: FileBytes = if CSV_TYPES.contains(&essence.as_str()) || workbook {
        stream.boxed()
    } else if essence == "multipart/form-data" {
        let boundary = multer::parse_boundary(content_type).map_err(|err| {
            ApiError::bad_request(format!("the multipart body has no boundary: {err}"))
        })?;
        let mut form = multer::Multipart::new(with_idle(stream.boxed(), idle), boundary);
        loop {
            let field = form.next_field().await.map_err(|err| {
                ApiError::bad_request(format!("the multipart body cannot be read: {err}"))
            })?;
            let Some(field) = field else {
                return Err(ApiError::bad_request(
                    "the multipart body has no part named \"file\"",
                ));
            };
            if field.name() == Some("file") {
                workbook = field
                    .content_type()
                    .is_some_and(|t| t.essence_str() == XLSX_TYPE)
                    || field
                        .file_name()
                        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".xlsx"));
                break field
                    .map(|chunk| chunk.map_err(|err| err.to_string()))
                    .boxed();
            }
        }
    } else {
        return Err(ApiError::unsupported_media_type(format!(
            "an import takes a CSV file (Content-Type: text/csv), an Excel workbook \
                 ({XLSX_TYPE}) or a multipart form with a \"file\" part, not \"{content_type}\""
        )));
    };
    Ok((with_idle(bytes, idle), workbook))
}

/// `stream`, ended with an error when nothing of it arrives for `idle`.
fn with_idle(
    stream: BoxStream<'static, std::result::Result<Bytes, String>>,
    idle: Duration,
) -> BoxStream<'static, std::result::Result<Bytes, String>> {
    futures_util::stream::unfold(Some(stream), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(item)) => Some((item, Some(stream))),
            Ok(None) => None,
            Err(_) => Some((
                Err(format!(
                    "nothing of the file arrived for {} s",
                    idle.as_secs()
                )),
                None,
            )),
        }
    })
    .boxed()
}
