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
use crate::auth::builtin::{COOKIE, Whose};

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

/// Ends sessions: without a body (or `{}`), the request's own, and clears the cookie;
/// `{"everywhere": true}`, every session of the user (other devices, API tokens);
/// `{"user": "bob"}`, every session of bob (the `admin` role only; the caller's own
/// session goes on).
pub async fn logout(
    State(state): State<AppState>,
    who: Principal,
    parts: Parts,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    if who.key.is_some() {
        return Err(ApiError::forbidden(
            "an API key has no session to end: revoke the key instead",
        ));
    }
    let request: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| ApiError::bad_request(format!("the body is not valid JSON: {err}")))?
    };
    let Some(request) = request.as_object() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    if let Some(key) = request
        .keys()
        .find(|k| !matches!(k.as_str(), "everywhere" | "user"))
    {
        return Err(ApiError::bad_request(format!(
            "unknown key \"{key}\" (everywhere, user)"
        )));
    }
    let whose = match (request.get("everywhere"), request.get("user")) {
        (None | Some(serde_json::Value::Bool(false)), None) => Whose::This,
        (Some(serde_json::Value::Bool(true)), None) => Whose::Mine,
        (None, Some(serde_json::Value::String(user))) if !user.is_empty() => {
            Whose::User(user.clone())
        }
        _ => {
            return Err(ApiError::bad_request(
                "the body is {} (this session), {\"everywhere\": true} (every session of yours) or {\"user\": \"name\"} (every session of that user)",
            ));
        }
    };
    let ends_own = !matches!(whose, Whose::User(_));
    let ended = match &whose {
        Whose::This => json!("this session"),
        Whose::Mine => json!("every session"),
        Whose::User(user) => json!(format!("every session of {user}")),
    };
    policy.logout(&parts, whose).await?;
    let mut response = Json(json!({"logged_out": true, "ended": ended})).into_response();
    if ends_own && let Some(value) = cookie("", &base_path(&parts), 0, policy.secure_cookie(&parts))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
