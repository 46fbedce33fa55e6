//! One record: `GET`, `PUT`/`PATCH` and `DELETE /{entity}/{id}`, and `POST /{entity}`.
//! DELETE takes no body: whatever a client sends (ng-admin sends `{}` as text/plain) is
//! ignored.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use super::extract::{EntityPath, RecordPath};
use crate::auth::{Action, Principal};
use crate::db::{EntityRef, Record};

type Result<T> = std::result::Result<T, ApiError>;

/// Writes go to entities that take them: a read-only one answers 405.
fn writable(entity: &EntityRef) -> Result<()> {
    if entity.read_only {
        Err(ApiError::method_not_allowed(format!(
            "entity \"{}\" is read-only",
            entity.name
        )))
    } else {
        Ok(())
    }
}

pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
) -> Result<Response> {
    who.require(&target.entity.name, Action::View)?;
    let record = state.db.get_json(&target.entity, target.key.clone()).await;
    let json = record.map_err(|err| target.error(err))?;
    let content_type = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, content_type)], json).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    EntityPath(entity): EntityPath,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    writable(&entity)?;
    who.require(&entity.name, Action::Add)?;
    let record = state
        .db
        .create(entity.clone(), body, who.user.clone())
        .await?;
    let mut response = (StatusCode::CREATED, Json(&record)).into_response();
    let id = match record.get(&entity.primary_key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let location = format!(
        "{}/{}",
        uri.path().trim_end_matches('/'),
        percent_encode(&id)
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
    JsonObject(body): JsonObject,
) -> Result<Json<Record>> {
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Edit)?;
    let record = state
        .db
        .update(
            target.entity.clone(),
            target.key.clone(),
            body,
            who.user.clone(),
        )
        .await;
    Ok(Json(record.map_err(|err| target.error(err))?))
}

pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
) -> Result<Json<Record>> {
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Delete)?;
    let record = state
        .db
        .delete(target.entity.clone(), target.key.clone(), who.user.clone())
        .await;
    Ok(Json(record.map_err(|err| target.error(err))?))
}

/// `DELETE /{entity}?ids=[1,2,3]`: all in one transaction, or nothing when any is missing.
/// Answers the deleted ids.
pub async fn delete_many(
    State(state): State<AppState>,
    who: Principal,
    EntityPath(entity): EntityPath,
    axum::extract::RawQuery(query_string): axum::extract::RawQuery,
) -> Result<Json<Vec<serde_json::Value>>> {
    writable(&entity)?;
    who.require(&entity.name, Action::Delete)?;
    let query_string = query_string.unwrap_or_default();
    let keys = crate::query::parse_ids(&entity, &query_string, state.settings.max_per_page)?;
    let deleted = state
        .db
        .delete_many(entity.clone(), keys, who.user.clone())
        .await?;
    Ok(Json(deleted))
}

/// Encodes a key for use as one path segment.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
