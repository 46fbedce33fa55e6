//! The built-in policy's sessions: `GET /login` (how one logs in), `POST /login`,
//! `POST /login/second-factor` and `POST /logout`.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use super::extract::Signed;
use crate::auth::builtin::{COOKIE, Login, Outcome, Whose};
use crate::auth::second_factor::Proof;

fn builtin(state: &AppState) -> Result<&crate::auth::builtin::Shared, ApiError> {
    state.builtin.as_ref().ok_or_else(|| {
        ApiError::not_found("this admin has no built-in login (see its [auth] configuration)")
    })
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends
/// it), scoped to the admin's path, Secure behind https.
pub(super) fn cookie(value: &str, path: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The admin's base path, from the path this handler was reached at (`{base}/api/login`).
pub(super) fn base_path(parts: &Parts) -> String {
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

/// `GET /login`: how one logs in here, for the app's login page: `{"password": bool,
/// "oidc": {"label", "path"} or null}` (`path` under the API, to send the browser to).
pub async fn methods(State(state): State<AppState>) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    let oidc = policy
        .sso_label()
        .map(|label| json!({"label": label, "path": "/login/oidc"}));
    let body = json!({"password": policy.has_password_users(), "oidc": oidc});
    Ok(Json(body).into_response())
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
    let address = client_address(&state, &parts);
    match policy.login(&username, &password, &address).await? {
        Outcome::Signed(login) => Ok(signed_in(policy, &parts, &login, json!({}))),
        Outcome::SecondFactor(challenge) => {
            let body = json!({
                "second_factor": "totp",
                "challenge": challenge.token,
                "expires_at": rfc3339(&challenge.expires_at),
            });
            let mut response = Json(body).into_response();
            no_store(&mut response);
            Ok(response)
        }
    }
}

/// `POST /login/second-factor` `{"challenge", "code"}` (or `"recovery_code"`): the session,
/// as `POST /login` gives it to a user without a second factor.
pub async fn second_factor(
    State(state): State<AppState>,
    parts: Parts,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    let challenge = match body.get("challenge") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "the body needs a \"challenge\" string",
            ));
        }
    };
    let proof = proof_of(&body)?;
    let login = policy
        .second_factor(&challenge, proof, &client_address(&state, &parts))
        .await?;
    Ok(signed_in(policy, &parts, &login, json!({})))
}

/// The proof a body gives: exactly one of `code` and `recovery_code`, a non-empty string,
/// and nothing else but `challenge`.
pub fn proof_of(body: &serde_json::Map<String, serde_json::Value>) -> Result<Proof, ApiError> {
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "challenge" | "code" | "recovery_code"))
    {
        return Err(ApiError::bad_request(format!(
            "unknown key \"{key}\" (code, recovery_code)"
        )));
    }
    let text = |key: &str| match body.get(key) {
        Some(serde_json::Value::String(s)) if is_code(s) => Ok(Some(s.clone())),
        None => Ok(None),
        Some(_) => Err(ApiError::bad_request(format!(
            "\"{key}\" must be a code: up to 64 letters, digits, spaces and hyphens"
        ))),
    };
    match (text("code")?, text("recovery_code")?) {
        (Some(code), None) => Ok(Proof::Code(code)),
        (None, Some(code)) => Ok(Proof::Recovery(code)),
        _ => Err(ApiError::bad_request(
            "the body needs either a \"code\" (from the authenticator app) or a \"recovery_code\"",
        )),
    }
}

/// What a code (or a recovery code) may look like, as the OpenAPI document says
/// (`CODE_PATTERN`): letters, digits, spaces and hyphens, up to 64, one a letter or digit.
fn is_code(text: &str) -> bool {
    text.len() <= 64
        && text.bytes().any(|b| b.is_ascii_alphanumeric())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
}

/// The client's address, for rate limiting: the peer's (when the server provides it:
/// autoadmin::serve does), or the one a trusted proxy says it saw (`trusted_proxies`).
fn client_address(state: &AppState, parts: &Parts) -> String {
    let Some(info) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    else {
        return "unknown".to_owned();
    };
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let trusted = &state.settings.trusted_proxies;
    crate::auth::addresses::client_address(info.0.ip(), &forwarded, trusted).to_string()
}

fn rfc3339(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The answer that opens a session: `{"token", "expires_at"}` (and `extra`'s members) with
/// the app's cookie, never cached.
pub fn signed_in(
    policy: &crate::auth::builtin::Shared,
    parts: &Parts,
    login: &Login,
    extra: serde_json::Value,
) -> Response {
    let mut body = json!({"token": login.token, "expires_at": rfc3339(&login.expires_at)});
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let mut response = Json(body).into_response();
    if let Some(value) = cookie(
        &login.token,
        &base_path(parts),
        policy.ttl_seconds(),
        policy.secure_cookie(parts),
    ) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    no_store(&mut response);
    response
}

/// Marks a response that carries credentials (a session, a challenge, a secret) as one no
/// cache may keep.
pub(super) fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Ends sessions: without a body (or `{}`), the request's own, and clears the cookie;
/// `{"everywhere": true}`, every session of the user (other devices, API tokens);
/// `{"user": "bob"}`, every session of bob (the `admin` role only; the caller's own
/// session goes on).
pub async fn logout(
    State(state): State<AppState>,
    Signed(who): Signed,
    parts: Parts,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let policy = builtin(&state)?;
    if who.key.is_some() {
        return Err(ApiError::forbidden(
            "an API key has no session to end: revoke the key instead",
        ));
    }
    let request: serde_json::Value = if body.is_empty() {
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
