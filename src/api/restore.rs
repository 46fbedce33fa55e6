//! `POST /_audit/{id}/restore`: brings back what the delete that audit entry records took,
//! the record with its id and the rows its delete took with it (see `crate::db`'s
//! `restore.rs`). Needs the `add` permission on the record's entity.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::RecordPath;
use super::record::actor;
use crate::auth::{Action, Principal};
use crate::db::{self, audit};

pub async fn restore(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
) -> Result<Response, ApiError> {
    if target.entity.name != audit::ENTITY {
        return Err(ApiError::not_found(format!(
            "no route for restore on \"{}\": restore an entry of {}",
            target.entity.name,
            audit::ENTITY
        )));
    }
    who.require(audit::ENTITY, Action::View)?;
    // The entry with its values, and the record brought back whole: a restore undoes what
    // was done to every field, also those hidden from the user (who is not shown them).
    let log = target.entity.whole();
    let entry = state.db.get(&log, target.key.clone()).await;
    let entry = entry.map_err(|err| target.error(err))?;
    let entity = entry
        .get("entity")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    who.require(&entity, Action::Add)?;
    if !who.scopes.is_empty() {
        // A restore brings back a record whole, from the log, with the rows its delete took
        // (of any entity): that cannot be checked against a user's row scopes beforehand.
        return Err(ApiError::forbidden(
            "you may reach only some records: restoring is for a user who may reach them all",
        ));
    }
    if state.schema.entity(&entity).is_some_and(|e| e.read_only) {
        return Err(ApiError::method_not_allowed(format!(
            "entity \"{entity}\" is read-only"
        )));
    }
    let mut restored = state.db.restore(&log, entry, actor(&who)).await?;
    if let Some(seen) = target.entity.sibling(&restored.entity) {
        for field in seen.fields.iter().filter(|f| f.hidden) {
            restored.record.remove(&field.name);
        }
    }
    let rows: Vec<serde_json::Value> = restored
        .rows
        .iter()
        .map(|(entity, count)| json!({"entity": entity, "count": count}))
        .collect();
    let etag = state
        .schema
        .entity(&restored.entity)
        .map(|entity| db::etag(entity, &restored.record));
    let mut response = Json(json!({
        "entity": restored.entity,
        "record": restored.record,
        "restored": rows,
    }))
    .into_response();
    if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
