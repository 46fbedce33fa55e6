//! What is not about records: the health check, the OpenAPI document, and the answers to a
//! path or method the API does not have.

use axum::Json;
use axum::extract::{OriginalUri, State};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;
use crate::schema::{FieldRules, Schema};

/// `GET /health`: 200 while the database answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    use std::sync::atomic::Ordering::Relaxed;
    // A load balancer asks every second or so: a line when the database stops answering and
    // one when it answers again, not an error per check.
    match state.db.health().await {
        Ok(()) => {
            if state.health_failing.swap(false, Relaxed) {
                tracing::info!("health: the database answers again");
            }
            Ok(Json(json!({"status": "ok"})))
        }
        Err(error) => {
            if !state.health_failing.swap(true, Relaxed) {
                tracing::warn!("health: the database does not answer: {error}");
            }
            Err(ApiError::from(error).unlogged())
        }
    }
}

/// The OpenAPI documents made so far, by the path they were asked at and the field
/// permissions of the user who asked: one is made once (it is large, and the schema does not
/// change while the admin runs).
#[derive(Default)]
pub struct Documents(
    std::sync::Mutex<std::collections::HashMap<(String, FieldRules), axum::body::Bytes>>,
);

/// At most this many documents are kept (a host app's policy may make many sets of rules).
const KEPT: usize = 64;

/// `GET /openapi.json`: generated from the schema as the user asking sees it (without the
/// fields hidden from them), with this server's path as its base.
pub async fn openapi(
    State(state): State<AppState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let server = uri.path().strip_suffix("/openapi.json").unwrap_or("");
    let key = (server.to_owned(), who.fields.clone());
    let made = state
        .documents
        .0
        .lock()
        .ok()
        .and_then(|d| d.get(&key).cloned());
    let body = match made {
        Some(body) => body,
        None => {
            let schema = state.schema_for(&who);
            let body = axum::body::Bytes::from(document(&state, &schema, server).to_string());
            if let Ok(mut documents) = state.documents.0.lock()
                && documents.len() < KEPT
            {
                documents.insert(key, body.clone());
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

fn document(state: &AppState, schema: &Schema, server: &str) -> serde_json::Value {
    let access = match (state.open, &state.builtin) {
        (true, _) => crate::openapi::Access::Open,
        (false, Some(policy)) if policy.sso_label().is_some() => {
            crate::openapi::Access::SingleSignOn
        }
        (false, Some(_)) => crate::openapi::Access::Login,
        (false, None) => crate::openapi::Access::Policy,
    };
    let limits = crate::openapi::Limits {
        max_per_page: state.settings.max_per_page,
        live_updates: state.event_streams.is_some(),
    };
    let mut document =
        crate::openapi::document(schema, &state.settings.title, server, access, limits);
    if state.replicas.is_some() {
        let served: Vec<&str> = (schema.entities().iter())
            .filter(|e| !e.per_user)
            .map(|e| e.name.as_str())
            .collect();
        crate::openapi::replicas::describe(&mut document, &served);
    }
    document
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
