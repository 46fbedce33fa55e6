//! `PUT /_presence/{entity}/{id}/{viewer}`: an open form of the record says it is open (again:
//! every few seconds), and learns who else has the record open; `DELETE` the same path: the
//! form closed. `viewer` is the form's own random id (16 to 64 hex digits), so one user's two
//! tabs are two forms. Only for users who may view the entity (and have no row scope on it,
//! as for the live updates).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value as JsonValue, json};

use super::AppState;
use super::error::ApiError;
use crate::auth::{Action, Principal};

/// How long a form counts as open after it last said so (it says so every 10 s).
pub const OPEN_FOR_MS: i64 = 30_000;

type Result<T> = std::result::Result<T, ApiError>;

/// The path's parts, checked.
fn checked(state: &AppState, who: &Principal, entity: &str, id: &str, viewer: &str) -> Result<()> {
    if state.event_streams.is_none() {
        return Err(ApiError::not_found(
            "live updates are off on this server (max_event_streams = 0)",
        ));
    }
    let described = state
        .schema
        .entity(entity)
        .is_some_and(|e| !e.per_user && e.name != crate::db::audit::ENTITY);
    if !described || !who.can(entity, Action::View) {
        return Err(ApiError::not_found(format!("no entity \"{entity}\" here")));
    }
    if !who.follows(entity) {
        return Err(ApiError::forbidden(
            "your role reaches some records of this entity only: who has one open is not said",
        ));
    }
    let sane = (16..=64).contains(&viewer.len()) && viewer.bytes().all(|b| b.is_ascii_hexdigit());
    let id_sane = (1..=200).contains(&id.chars().count()) && !id.chars().any(char::is_control);
    if !id_sane || !sane {
        return Err(ApiError::bad_request(
            "the path is /_presence/{entity}/{record id: 1 to 200 characters, none a control character}/{viewer: 16 to 64 hex digits}",
        ));
    }
    Ok(())
}

/// `PUT`: 200 `{"others": [{"user": "bob"}, …]}` (`user` null on an open admin).
pub async fn open(
    State(state): State<AppState>,
    who: Principal,
    Path((entity, id, viewer)): Path<(String, String, String)>,
) -> Result<Json<JsonValue>> {
    checked(&state, &who, &entity, &id, &viewer)?;
    let now = chrono::Utc::now().timestamp_millis();
    let others = state
        .db
        .present(
            &entity,
            &id,
            &viewer,
            who.user.as_deref(),
            now,
            now + OPEN_FOR_MS,
        )
        .await?;
    let others: Vec<JsonValue> = others.iter().map(|v| json!({"user": v.user})).collect();
    Ok(Json(json!({"others": others})))
}

/// `DELETE`: 200 `{"closed": true}`.
pub async fn close(
    State(state): State<AppState>,
    who: Principal,
    Path((entity, id, viewer)): Path<(String, String, String)>,
) -> Result<Json<JsonValue>> {
    checked(&state, &who, &entity, &id, &viewer)?;
    state.db.absent(&entity, &id, &viewer).await?;
    Ok(Json(json!({"closed": true})))
}
