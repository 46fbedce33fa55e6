//! What is not about records: the health check, the OpenAPI document, and the answers to a
//! path or method the API does not have.

use axum::Json;
use axum::extract::{OriginalUri, State};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;

/// `GET /health`: 200 while the database answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.db.health().await?;
    Ok(Json(json!({"status": "ok"})))
}

/// `GET /openapi.json`: generated from the schema, with this server's path as its base.
pub async fn openapi(
    State(state): State<AppState>,
    _who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Json<serde_json::Value> {
    let server = uri.path().strip_suffix("/openapi.json").unwrap_or("");
    Json(crate::openapi::document(
        &state.schema,
        &state.settings.title,
        server,
    ))
}

pub async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("method not allowed on this route")
}
