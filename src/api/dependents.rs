//! What a delete would take, asked before deleting: `GET /{entity}/{id}/dependents` and
//! `GET /{entity}/dependents?ids=[…]`. Per foreign key reached (transitively), how many rows
//! the delete would delete by cascade, set to NULL (or to their default), or be refused by,
//! with up to ten of them by label.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value as Json_, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{EntityPath, RecordPath};
use crate::auth::{Action, Principal};
use crate::db::{Dependent, EntityRef, key_json};
use crate::schema::Value;

type Result<T> = std::result::Result<T, ApiError>;

/// `GET /{entity}/{id}/dependents`.
pub async fn one(
    State(state): State<AppState>,
    who: Principal,
    target: RecordPath,
) -> Result<Json<Json_>> {
    who.require(&target.entity.name, Action::View)?;
    // Asking about a record that is not there is a 404, as deleting it would be.
    let exists = state.db.get(&target.entity, target.key.clone()).await;
    exists.map_err(|err| target.error(err))?;
    report(&state, &who, &target.entity, vec![target.key.clone()]).await
}

/// `GET /{entity}/dependents?ids=[…]`.
pub async fn many(
    State(state): State<AppState>,
    who: Principal,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
) -> Result<Json<Json_>> {
    who.require(&entity.name, Action::View)?;
    let query_string = query_string.unwrap_or_default();
    let batch = crate::query::parse_ids(&entity, &query_string, state.settings.max_per_page)?;
    if !batch.versions.is_empty() {
        return Err(ApiError::bad_request(
            "dependents takes ids only (versions are for the delete itself)",
        ));
    }
    report(&state, &who, &entity, batch.keys).await
}

async fn report(
    state: &AppState,
    who: &Principal,
    entity: &EntityRef,
    keys: Vec<Value>,
) -> Result<Json<Json_>> {
    let dependents = if keys.is_empty() {
        Vec::new()
    } else {
        state
            .db
            .dependents(entity, &keys)
            .await
            .map_err(|error| match error {
                crate::db::Error::KeysNotFound(missing) => {
                    let listed: Vec<String> = missing.iter().map(Json_::to_string).collect();
                    ApiError::not_found(format!("no record has id {}", listed.join(", ")))
                }
                other => other.into(),
            })?
    };
    let ids: Vec<Json_> = keys.iter().map(key_json).collect();
    let blocked = dependents
        .iter()
        .any(|d| d.action.name() == "restrict" && d.count > 0);
    let schema = state.schema_for(who);
    let lines: Vec<Json_> = dependents
        .iter()
        .filter(|d| d.count > 0)
        .map(|d| line(d, who, &schema, &ids))
        .collect();
    Ok(Json(json!({
        "entity": entity.name,
        "ids": ids,
        "blocked": blocked,
        "dependents": lines,
    })))
}

/// One foreign key's line. Its labels only for a user who may view that entity; a filter
/// that lists the rows, when they reference the deleted records directly by one field.
fn line(
    dependent: &Dependent,
    who: &Principal,
    schema: &crate::schema::Schema,
    ids: &[Json_],
) -> Json_ {
    let entity = schema
        .entity(&dependent.entity)
        .filter(|_| dependent.declared);
    let visible = entity.is_some() && who.can(&dependent.entity, Action::View);
    let filter = match (entity, dependent.via.as_slice()) {
        (Some(entity), [column]) if dependent.depth == 1 && visible => entity
            .fields
            .iter()
            .find(|f| &f.column == column && f.is_readable())
            .map(|f| json!({ f.name.clone(): {"in": ids} })),
        _ => None,
    };
    json!({
        "entity": dependent.entity,
        "declared": dependent.declared,
        "table": dependent.table,
        "via": dependent.via,
        "of": dependent.of,
        "action": dependent.action.name(),
        "count": dependent.count,
        "depth": dependent.depth,
        "labels": if visible {
            dependent.labels.iter().map(|(id, label)| json!({"id": id, "label": label})).collect()
        } else {
            Vec::<Json_>::new()
        },
        "filter": filter,
    })
}
