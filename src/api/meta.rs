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

/// The OpenAPI documents made so far, by the path they were asked at: one is made once (it
/// is large, and the schema does not change while the admin runs).
#[derive(Default)]
pub struct Documents(std::sync::Mutex<std::collections::HashMap<String, axum::body::Bytes>>);

/// `GET /openapi.json`: generated from the schema, with this server's path as its base.
pub async fn openapi(
    State(state): State<AppState>,
    _who: Principal,
    OriginalUri(uri): OriginalUri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let server = uri.path().strip_suffix("/openapi.json").unwrap_or("");
    let made = state
        .documents
        .0
        .lock()
        .ok()
        .and_then(|d| d.get(server).cloned());
    let body = match made {
        Some(body) => body,
        None => {
            let body = axum::body::Bytes::from(document(&state, server).to_string());
            if let Ok(mut documents) = state.documents.0.lock() {
                documents.insert(server.to_owned(), body.clone());
            }
            body
        }
    };
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn document(state: &AppState, server: &str) -> serde_json::Value {
    let access = match (state.open, &state.builtin) {
        (true, _) => crate::openapi::Access::Open,
        (false, Some(_)) => crate::openapi::Access::Login,
        (false, None) => crate::openapi::Access::Policy,
    };
    let limits = crate::openapi::Limits {
        max_per_page: state.settings.max_per_page,
    };
    crate::openapi::document(&state.schema, &state.settings.title, server, access, limits)
}

pub async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// A method the route does not take (`Allow`: the route's methods, set by axum, or the
/// entity's when it is read-only).
pub async fn method_not_allowed(State(state): State<AppState>, uri: axum::http::Uri) -> ApiError {
    super::record::read_only_refusal(&state, uri.path())
        .unwrap_or_else(|| ApiError::method_not_allowed("method not allowed on this route"))
}
