//! A built-in user's second factor (`/_2fa`): where it stands, setting it up (a secret and
//! its QR code; confirmed with the first code, which gives the recovery codes, shown once,
//! and a new session), new recovery codes, turning it off; and an administrator removing
//! another user's. A user whose role requires one and who has none yet may come here (and
//! nowhere else but logout); a request with an API key may not (403).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as JsonValue, json};

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use super::extract::Signed;
use super::session::{proof_of, signed_in};
use crate::auth::second_factor::{FactorError, Proof};

type Result<T> = std::result::Result<T, ApiError>;

fn builtin(state: &AppState) -> Result<&crate::auth::builtin::Shared> {
    state.builtin.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "this admin has no built-in login, so no second factor (see its [auth])",
        )
    })
}

fn refused(error: FactorError) -> ApiError {
    match error {
        FactorError::Auth(error) => error.into(),
        FactorError::Invalid(field, message) => ApiError::invalid([(field.into(), message)].into()),
        FactorError::Conflict(message) => ApiError::conflict(message),
    }
}

/// Refuses keys other than `allowed`.
fn only(body: &Map<String, JsonValue>, allowed: &[&str]) -> Result<()> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::bad_request(format!(
            "unknown key \"{key}\" ({})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// The `code` of a body that has nothing else.
fn code_of(body: &Map<String, JsonValue>) -> Result<String> {
    only(body, &["code"])?;
    match proof_of(body)? {
        Proof::Code(code) => Ok(code),
        Proof::Recovery(_) => Err(ApiError::bad_request("the body needs a \"code\"")),
    }
}

/// `GET /_2fa`: `{"enabled", "enrolling", "required", "recovery_codes_left"}`.
pub async fn status(State(state): State<AppState>, Signed(who): Signed) -> Result<Json<JsonValue>> {
    let status = builtin(&state)?
        .factor_status(&who)
        .await
        .map_err(refused)?;
    Ok(Json(json!({
        "enabled": status.enabled,
        "enrolling": status.enrolling,
        "required": status.required,
        "recovery_codes_left": status.recovery_codes_left,
    })))
}

/// `POST /_2fa` (no body, or `{}`): starts the set-up: 201 with the secret, its
/// `otpauth://` address and the QR code's modules (409 when it is on already).
pub async fn start(
    State(state): State<AppState>,
    Signed(who): Signed,
    body: axum::body::Bytes,
) -> Result<Response> {
    if !body.is_empty() {
        let value: JsonValue = serde_json::from_slice(&body)
            .map_err(|err| ApiError::bad_request(format!("the body is not valid JSON: {err}")))?;
        if value.as_object().is_none_or(|o| !o.is_empty()) {
            return Err(ApiError::bad_request("the body is empty, or {}"));
        }
    }
    let enrolment = builtin(&state)?
        .start_factor(&who, &state.settings.title)
        .await
        .map_err(refused)?;
    let answer = json!({
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.uri,
        "qr": enrolment.qr,
        "digits": crate::auth::totp::DIGITS,
        "period": crate::auth::totp::STEP,
    });
    let mut response = (StatusCode::CREATED, Json(answer)).into_response();
    super::session::no_store(&mut response);
    Ok(response)
}

/// `POST /_2fa/confirm` `{"code"}`: the set-up is done; every other session of the user
/// ends; the answer is a new session (token and cookie) and the recovery codes, shown once.
pub async fn confirm(
    State(state): State<AppState>,
    Signed(who): Signed,
    parts: Parts,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let policy = builtin(&state)?;
    let code = code_of(&body)?;
    let (login, codes) = policy.confirm_factor(&who, &code).await.map_err(refused)?;
    Ok(signed_in(
        policy,
        &parts,
        &login,
        json!({"enabled": true, "recovery_codes": codes}),
    ))
}

/// `POST /_2fa/recovery-codes` `{"code"}`: new recovery codes (the old ones stop working).
pub async fn recovery_codes(
    State(state): State<AppState>,
    Signed(who): Signed,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let code = code_of(&body)?;
    let codes = builtin(&state)?
        .renew_recovery_codes(&who, &code)
        .await
        .map_err(refused)?;
    let mut response = Json(json!({"recovery_codes": codes})).into_response();
    super::session::no_store(&mut response);
    Ok(response)
}

/// `DELETE /_2fa` `{"code"}` or `{"recovery_code"}`: turns the user's own second factor
/// off (or forgets a set-up not finished); `{"user": name}`: removes that user's and ends
/// their sessions (the `admin` role only).
pub async fn turn_off(
    State(state): State<AppState>,
    Signed(who): Signed,
    JsonObject(body): JsonObject,
) -> Result<Json<JsonValue>> {
    let policy = builtin(&state)?;
    if let Some(user) = body.get("user") {
        only(&body, &["user"])?;
        let Some(user) = user.as_str().filter(|u| !u.is_empty()) else {
            return Err(ApiError::bad_request("\"user\" must be a user's name"));
        };
        policy.remove_factor(&who, user).await.map_err(refused)?;
        return Ok(Json(json!({"enabled": false, "user": user})));
    }
    only(&body, &["code", "recovery_code"])?;
    let proof = proof_of(&body)?;
    policy.turn_factor_off(&who, proof).await.map_err(refused)?;
    Ok(Json(json!({"enabled": false, "user": who.user})))
}
