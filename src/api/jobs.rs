//! `/_imports/{id}`: an import as a job (`GET /_imports` lists the latest). `GET` says how
//! it goes (its counts, live from the instance that runs it, else from autoadmin's table of
//! imports, which every instance reads) and, once it has ended, its report; `DELETE` cancels it (an `abort` import rolls
//! back whole, a `skip` import keeps the batches it committed); `GET …/rejected.csv` is its
//! rejected rows, to fix and import again; `POST …/revert` undoes what it wrote, from the audit
//! log (`db/revert.rs`). An import is its owner's: another user's is 404.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::AppState;
use super::error::ApiError;
use super::record::{actor, writable};
use crate::auth::{Action, Principal};
use crate::db::{EntityRef, JobRow};
use crate::import::job::now_millis;
use crate::import::{Counts, Job};
use crate::query::parse_imports_list;

type Result<T> = std::result::Result<T, ApiError>;

/// A running import whose row has not moved for this long has lost its server (a running
/// one's row moves every second, on PostgreSQL and MySQL).
pub const STALE_IMPORT_MS: i64 = 60_000;

/// Where the job of import `id` is, from the path of the import's request
/// (`…/api/{entity}/import`).
pub(super) fn location(import_path: &str, id: &str) -> String {
    let api = import_path
        .trim_end_matches('/')
        .rsplitn(3, '/')
        .nth(2)
        .unwrap_or("");
    format!("{api}/_imports/{id}")
}

/// A job running on this instance, as `GET` shows it.
pub(super) fn running(job: &Job) -> Json {
    let counts = job.progress.counts();
    let mut shown = shown(&job.id, &job.entity, "running", counts);
    shown["started_at"] = time(job.started_at);
    shown["cancelling"] = json!(job.progress.cancelled());
    shown
}

fn shown(id: &str, entity: &str, status: &str, counts: Counts) -> Json {
    json!({
        "id": id, "entity": entity, "status": status,
        "rows": counts.rows, "inserted": counts.inserted, "updated": counts.updated,
        "unchanged": counts.unchanged, "failed": counts.failed,
    })
}

fn time(millis: i64) -> Json {
    chrono::DateTime::from_timestamp_millis(millis).map_or(Json::Null, |t| {
        json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    })
}

/// A job as its row says; `path` is the job's own.
fn from_row(row: JobRow, path: &str) -> Json {
    let stale = row.status == "running" && now_millis() - row.updated_at > STALE_IMPORT_MS;
    let status = if stale { "failed" } else { row.status.as_str() };
    let mut shown = shown(&row.id, &row.entity, status, row.counts);
    shown["started_at"] = time(row.started_at);
    shown["updated_at"] = time(row.updated_at);
    if stale {
        shown["report"] = json!({"stopped": "the server that ran it stopped"});
    } else if let Some(report) = row.report {
        shown["report"] = report;
    }
    if row.rejected.is_some() {
        shown["rejected"] = json!(format!("{}/rejected.csv", path.trim_end_matches('/')));
    }
    shown
}

/// The row of import `id`, if `who` may see it.
async fn owned(state: &AppState, who: &Principal, id: &str) -> Result<JobRow> {
    let row = state.db.job(id).await?;
    row.filter(|row| row.owner.is_none() || row.owner == who.user)
        .ok_or_else(|| ApiError::not_found(format!("no import is named {id}")))
}

/// Import `id` running on this instance, if `who` may see it.
fn running_here(state: &AppState, who: &Principal, id: &str) -> Option<std::sync::Arc<Job>> {
    state
        .jobs
        .get(id)
        .filter(|job| job.owner.is_none() || job.owner == who.user)
}

/// `GET /_imports`: the latest imports `who` may see, newest first (`entity=`, `limit=`);
/// each as `GET /_imports/{id}` shows it, without its report.
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query_string): RawQuery,
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    let (entity, limit) = parse_imports_list(query_string.as_deref().unwrap_or(""))?;
    let rows = state
        .db
        .jobs(who.user.as_deref(), entity.as_deref(), limit)
        .await?;
    let base = uri.path().trim_end_matches('/');
    let shown: Vec<Json> = rows
        .into_iter()
        .map(|row| match running_here(&state, &who, &row.id) {
            Some(job) => running(&job),
            None => {
                let path = format!("{base}/{}", row.id);
                from_row(row, &path)
            }
        })
        .collect();
    Ok(axum::Json(shown).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    if let Some(job) = running_here(&state, &who, &id) {
        return Ok(axum::Json(running(&job)).into_response());
    }
    let row = owned(&state, &who, &id).await?;
    Ok(axum::Json(from_row(row, uri.path())).into_response())
}

/// `DELETE /_imports/{id}`: asks the import to stop (202); 409 once it has ended.
pub async fn cancel(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    if let Some(job) = running_here(&state, &who, &id) {
        job.progress.cancel();
        return Ok((StatusCode::ACCEPTED, axum::Json(running(&job))).into_response());
    }
    let row = owned(&state, &who, &id).await?;
    let shown = from_row(row, uri.path());
    if shown["status"] != "running" {
        return Err(ApiError::conflict(format!(
            "the import has ended ({}): there is nothing to cancel",
            shown["status"].as_str().unwrap_or("")
        ))
        .with_member("import", shown));
    }
    // Another instance runs it: it reads the request within a second.
    state.db.job_request_cancel(&id).await?;
    let mut shown = shown;
    shown["cancelling"] = json!(true);
    Ok((StatusCode::ACCEPTED, axum::Json(shown)).into_response())
}

/// `GET /_imports/{id}/rejected.csv`: the rows the import rejected, as they were read.
pub async fn rejected(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    let row = owned(&state, &who, &id).await?;
    let Some(file) = row.rejected else {
        return Err(ApiError::not_found(format!(
            "import {id} rejected no row (or has not ended)"
        )));
    };
    let mut response = file.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{}-rejected.csv\"", row.entity);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `POST /_imports/{id}/revert`: undoes what an ended import wrote (the records it created
/// deleted, those it updated given their old values back), in one transaction, once; 409,
/// nothing undone, when a record changed since. Needs the `delete` permission on the entity
/// when the import created records, and `edit` when it updated some.
pub async fn revert(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    if running_here(&state, &who, &id).is_some() {
        return Err(ApiError::conflict(format!(
            "import {id} is running: cancel it, or wait for its end, then revert it"
        )));
    }
    let row = owned(&state, &who, &id).await?;
    let Some(entity) = EntityRef::new(&state.schema, &row.entity) else {
        return Err(ApiError::not_found(format!(
            "import {id} was into \"{}\", which is no longer an entity of this admin",
            row.entity
        )));
    };
    writable(&entity)?;
    if row.counts.inserted > 0 {
        who.require(&entity.name, Action::Delete)?;
    }
    if row.counts.updated > 0 {
        who.require(&entity.name, Action::Edit)?;
    }
    let path = uri.path().trim_end_matches("/revert").to_owned();
    let reverted = state
        .db
        .revert_import(entity, id.clone(), actor(&who))
        .await?;
    let import = owned(&state, &who, &id)
        .await
        .map(|row| from_row(row, &path))?;
    Ok(axum::Json(json!({"reverted": reverted, "import": import})).into_response())
}
