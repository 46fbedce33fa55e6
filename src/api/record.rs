//! One record: `GET`, `PUT`/`PATCH` and `DELETE /{entity}/{id}`, and `POST /{entity}`.
//! DELETE takes no body: whatever a client sends (ng-admin sends `{}` as text/plain) is
//! ignored.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body::JsonObject;
use super::error::ApiError;
use super::extract::{EntityPath, IfMatch, RecordPath};
use super::once::{self, IdempotencyKey};
use super::replicas::ReadFrom;
use super::{AppState, request_id};
use crate::auth::{Action, Principal};
use crate::db::once::Created;
use crate::db::{self, EntityRef, Record};

type Result<T> = std::result::Result<T, ApiError>;

/// Who writes, in which request: what the audit log records (a request with an API key as
/// `alice (key deploy)`).
pub fn actor(who: &Principal) -> db::Actor {
    let user = match (&who.user, &who.key) {
        (Some(user), Some(key)) => Some(format!("{user} (key {key})").chars().take(200).collect()),
        (user, _) => user.clone(),
    };
    db::Actor {
        user,
        request_id: Some(request_id::current()),
    }
}

/// Writes go to entities that take them: a read-only one answers 405.
pub(super) fn writable(entity: &EntityRef) -> Result<()> {
    if entity.read_only {
        Err(ApiError::read_only(&entity.name, READ_ONLY_ALLOWS))
    } else {
        Ok(())
    }
}

/// What a read-only entity's collection and records allow.
const READ_ONLY_ALLOWS: &str = "GET, HEAD";

/// A write to a read-only entity is 405 whatever its body: refused before the body is read
/// (a missing or malformed body would otherwise answer first). Restoring from the audit log
/// is not a write to it.
pub async fn refuse_read_only(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let reads = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !reads && let Some(refusal) = read_only_refusal(&state, request.uri().path()) {
        return refusal.into_response();
    }
    next.run(request).await
}

/// The 405 of a method that a path of a read-only entity does not take, with the `Allow` of
/// that entity (the route's would list the writes other entities take there); `None` when
/// the path is not a read-only entity's, or is a restore from its audit log.
pub(super) fn read_only_refusal(state: &AppState, path: &str) -> Option<ApiError> {
    let mut segments = path.trim_start_matches('/').split('/');
    let name = segments.next().unwrap_or("");
    let rest: Vec<&str> = segments.collect();
    let allow = match rest.as_slice() {
        [_, "restore"] => return None,
        // An action only writes: on a read-only entity its resource has no method.
        ["actions", _] => "",
        _ => READ_ONLY_ALLOWS,
    };
    let read_only = state.schema.entity(name).is_some_and(|e| e.read_only);
    read_only.then(|| ApiError::read_only(name, allow))
}

/// `GET /{entity}/{id}`: the record, with its version as `ETag`; 304 when `If-None-Match`
/// names that version.
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    reads: ReadFrom,
    target: RecordPath,
    request_headers: HeaderMap,
) -> Result<Response> {
    who.require(&target.entity.name, Action::View)?;
    let (json, etag) = if target.entity.version_field.is_some() {
        let record = reads
            .db(&state)
            .get(&target.entity, target.key.clone())
            .await;
        let record = record.map_err(|err| target.error(err))?;
        let etag = db::etag(&target.entity, &record);
        (serde_json::to_vec(&record).unwrap_or_default(), etag)
    } else {
        // The row goes straight into JSON; its version is that JSON's.
        let json = reads
            .db(&state)
            .get_json(&target.entity, target.key.clone())
            .await;
        let json = json.map_err(|err| target.error(err))?;
        let etag = db::etag_of_json(&json);
        (json, etag)
    };
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        });
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let content_type = HeaderValue::from_static("application/json");
    Ok((
        [(header::CONTENT_TYPE, content_type), (header::ETAG, etag)],
        json,
    )
        .into_response())
}

/// A record as a response, with its version as `ETag`.
pub(super) fn with_etag(entity: &EntityRef, status: StatusCode, record: &Record) -> Response {
    let mut response = (status, Json(record)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&db::etag(entity, record)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `POST /{entity}`; with an `Idempotency-Key`, made once (`once.rs`).
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    EntityPath(entity): EntityPath,
    IdempotencyKey(key): IdempotencyKey,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    writable(&entity)?;
    who.require(&entity.name, Action::Add)?;
    let Some(key) = key else {
        let record = state.db.create(entity.clone(), body, actor(&who)).await?;
        return Ok(created(&entity, &record, uri.path()));
    };
    let once = db::once::Once::new(&entity.name, &once::owner(&who), &key, &body);
    match state
        .db
        .create_once(entity.clone(), body, actor(&who), once)
        .await?
    {
        Created::New(record) => Ok(created(&entity, &record, uri.path())),
        Created::Replayed(id) => {
            let key = crate::query::parse_id(&entity, &id)?;
            let record = state.db.get(&entity, key).await.map_err(|err| match err {
                db::Error::NotFound => ApiError::not_found(format!(
                    "the record this Idempotency-Key made ({} {id}) has been deleted since",
                    entity.name
                )),
                other => other.into(),
            })?;
            let mut response = created(&entity, &record, uri.path());
            let replayed = HeaderValue::from_static("true");
            response.headers_mut().insert(once::REPLAYED, replayed);
            Ok(response)
        }
        Created::KeyReused => Err(ApiError::key_reused()),
    }
}

/// 201 with the record created, its version as `ETag` and its address (under `path`, the
/// collection's) as `Location`.
pub(super) fn created(entity: &EntityRef, record: &Record, path: &str) -> Response {
    let mut response = with_etag(entity, StatusCode::CREATED, record);
    let id = match record.get(&entity.primary_key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let location = format!(
        "{}/{}",
        path.trim_end_matches('/'),
        crate::query::params::encode_component(&id)
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `PUT`/`PATCH /{entity}/{id}`: with `If-Match`, only if the record still has that version
/// (412 with the current record otherwise).
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
    IfMatch(precondition): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Edit)?;
    let record = state
        .db
        .update(
            target.entity.clone(),
            target.key.clone(),
            body,
            actor(&who),
            precondition,
        )
        .await;
    let record = record.map_err(|err| target.error(err))?;
    Ok(with_etag(&target.entity, StatusCode::OK, &record))
}

/// `DELETE /{entity}/{id}`: with `If-Match`, only if the record still has that version.
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
    IfMatch(precondition): IfMatch,
) -> Result<Json<Record>> {
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Delete)?;
    let record = state
        .db
        .delete(
            target.entity.clone(),
            target.key.clone(),
            actor(&who),
            precondition,
        )
        .await;
    Ok(Json(record.map_err(|err| target.error(err))?))
}

/// `DELETE /{entity}?ids=[1,2,3]`: all in one transaction, or nothing when any is missing
/// (404) or, with `versions={"1": "<etag>", …}`, changed (412). Answers the deleted ids.
pub async fn delete_many(
    State(state): State<AppState>,
    who: Principal,
    EntityPath(entity): EntityPath,
    IfMatch(precondition): IfMatch,
    axum::extract::RawQuery(query_string): axum::extract::RawQuery,
) -> Result<Json<Vec<serde_json::Value>>> {
    writable(&entity)?;
    who.require(&entity.name, Action::Delete)?;
    if precondition.is_some() {
        return Err(ApiError::bad_request(
            "a batch takes the version of each record in versions={\"id\": \"<etag>\", …}, not If-Match",
        ));
    }
    let query_string = query_string.unwrap_or_default();
    let batch = crate::query::parse_ids(&entity, &query_string, state.settings.max_per_page)?;
    let deleted = state
        .db
        .delete_many(entity.clone(), batch.keys, batch.versions, actor(&who))
        .await?;
    Ok(Json(deleted))
}

/// `PATCH /{entity}?ids=[1,2,3]`: the body's fields and many-to-many sets written to every
/// record, in one transaction; nothing when any is missing (404), changed since the
/// `versions={"1": "<etag>", …}` given (412) or invalid (422, errors at `{id}.{field}`).
/// Answers the records as stored.
pub async fn update_many(
    State(state): State<AppState>,
    who: Principal,
    EntityPath(entity): EntityPath,
    IfMatch(precondition): IfMatch,
    axum::extract::RawQuery(query_string): axum::extract::RawQuery,
    JsonObject(body): JsonObject,
) -> Result<Json<Vec<Record>>> {
    writable(&entity)?;
    who.require(&entity.name, Action::Edit)?;
    if precondition.is_some() {
        return Err(ApiError::bad_request(
            "a batch takes the version of each record in versions={\"id\": \"<etag>\", …}, not If-Match",
        ));
    }
    if let Some(inline) = entity
        .relations
        .iter()
        .find(|r| r.inline && body.contains_key(&r.name))
    {
        return Err(ApiError::bad_request(format!(
            "\"{}\" holds inline children, which are written one record at a time, not in a bulk update",
            inline.name
        )));
    }
    write_batch(&state, entity, &who, query_string, body, None).await
}

/// Writes `body` to the records of a batch (`ids`, and `versions`, in `query_string`) in one
/// transaction: a bulk update, or an action's (whose name is the audit's `cause`).
pub(super) async fn write_batch(
    state: &AppState,
    entity: EntityRef,
    who: &Principal,
    query_string: Option<String>,
    body: Record,
    cause: Option<String>,
) -> Result<Json<Vec<Record>>> {
    let query_string = query_string.unwrap_or_default();
    let batch = crate::query::parse_ids(&entity, &query_string, state.settings.max_per_page)?;
    let records = state
        .db
        .update_many(
            entity.clone(),
            batch.keys,
            batch.versions,
            body,
            actor(who),
            cause,
        )
        .await?;
    Ok(Json(records))
}
