//! `POST /login` and `POST /logout` of the built-in policy.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use crate::auth::Principal;
use crate::auth::builtin::COOKIE;

fn builtin(state: &AppState) -> Result<&crate::auth::builtin::Shared, ApiError> {
    state.builtin.as_ref().ok_or_else(|| {
        ApiError::not_found("this admin has no built-in login (see its [auth] configuration)")
    })
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends
/// it), scoped to the admin's path, Secure behind https.
fn cookie(value: &str, path: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The admin's base path, from the path this handler was reached at (`{base}/api/login`).
fn base_path(parts: &Parts) -> String {
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path());
    let base = path.rsplit_once("/api/").map_or("", |(base, _)| base);
    if base.is_empty() {
        "/".to_owned()
    } else {
        base.to_owned()
    }
}

/// `{"username": ..., "password": ...}` → `{"token": ..., "expires_at": ...}` and the cookie.
pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    let text = |key: &str| match body.get(key) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(ApiError::bad_request(format!(
            "the body needs a \"{key}\" string"
        ))),
    };
    let (username, password) = (text("username")?, text("password")?);
    // The peer address when the server provides it (autoadmin::serve does).
    let address = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
    let login = policy.login(&username, &password, &address).await?;
    let body = json!({"token": login.token, "expires_at": login.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
    let mut response = Json(body).into_response();
    if let Some(value) = cookie(
        &login.token,
        &base_path(&parts),
        policy.ttl_seconds(),
        policy.secure_cookie(&parts),
    ) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes every token of the user, on every instance, and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    who: Principal,
    parts: Parts,
) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    if let Some(user) = &who.user {
        policy.logout(user).await?;
    }
    let mut response = Json(json!({"logged_out": true})).into_response();
    if let Some(value) = cookie("", &base_path(&parts), 0, policy.secure_cookie(&parts)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
