//! `POST /{entity}/actions/{name}?ids=[…]`: runs an action the entity's descriptor declares
//! on the records of `ids` (one, from a record's page, or a selection): the values it sets,
//! written as a bulk update (one transaction, all or nothing, each record validated), each
//! change audited with the action as its cause.

use axum::Json;
use axum::extract::{RawQuery, State};

use super::AppState;
use super::error::ApiError;
use super::extract::ActionPath;
use super::record::{writable, write_batch};
use crate::auth::{Action, Principal};
use crate::db::Record;

pub async fn run(
    State(state): State<AppState>,
    who: Principal,
    ActionPath { entity, action }: ActionPath,
    RawQuery(query_string): RawQuery,
) -> Result<Json<Vec<Record>>, ApiError> {
    let permission = Action::from_name(&action.permission).unwrap_or(Action::Edit);
    who.require(&entity.name, permission)?;
    writable(&entity)?;
    let body = action.body(&entity, chrono::Utc::now());
    let cause = format!("action {}", action.name);
    write_batch(&state, entity, &who, query_string, body, Some(cause)).await
}
