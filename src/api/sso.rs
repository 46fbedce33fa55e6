//! Single sign-on with an OpenID provider (`[auth.oidc]`, `auth/oidc.rs`): `GET
//! /login/oidc` sends the browser to the provider, with the flow's state, nonce and PKCE
//! verifier in a signed cookie of its own (`SameSite=Lax`: it must come back with the
//! provider's redirect); `GET /login/oidc/callback` checks the answer against it and opens
//! a session, then sends the browser to the app. A refusal sends it to the app's login page
//! with `?sso_error=<code>`, never with the provider's words.

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::session::{base_path, cookie};
use crate::auth::oidc::{FLOW_SECS, Refusal};

/// The flow's cookie (its path: the two routes' own).
const FLOW_COOKIE: &str = "autoadmin_sso";

fn sso(state: &AppState) -> Result<&crate::auth::builtin::Shared, ApiError> {
    state
        .builtin
        .as_ref()
        .filter(|policy| policy.oidc.is_some())
        .ok_or_else(|| ApiError::not_found("this admin has no single sign-on (see [auth.oidc])"))
}

/// The flow's cookie: `value` for `max_age` seconds (0: cleared).
fn flow_cookie(parts: &Parts, value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let path = format!("{}/api/login/oidc", base_path(parts).trim_end_matches('/'));
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// 303 to `location`, never cached, with `cookies`.
fn see_other(location: &str, cookies: impl IntoIterator<Item = Option<HeaderValue>>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    super::session::no_store(&mut response);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    for cookie in cookies.into_iter().flatten() {
        headers.append(SET_COOKIE, cookie);
    }
    response
}

/// The app's address (`{base}/`), with `?sso_error=` when `refusal` is given.
fn app_address(parts: &Parts, refusal: Option<&Refusal>) -> String {
    let base = base_path(parts);
    let app = format!("{}/", base.trim_end_matches('/'));
    match refusal {
        Some(refusal) => format!("{app}?sso_error={}", refusal.code()),
        None => app,
    }
}

/// `GET /login/oidc`: to the provider.
pub async fn start(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    let policy = sso(&state)?;
    let secure = policy.secure_cookie(&parts);
    match policy.sso_start().await {
        Ok((url, flow)) => {
            let cookie = flow_cookie(&parts, &flow, FLOW_SECS, secure);
            Ok(see_other(&url, [cookie]))
        }
        Err(refusal) => {
            tracing::warn!(reason = ?refusal, "single sign-on could not start");
            Ok(see_other(&app_address(&parts, Some(&refusal)), []))
        }
    }
}

/// The provider's answer: a code and the state, or an error.
#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/oidc/callback`: the session, then to the app.
pub async fn callback(
    State(state): State<AppState>,
    parts: Parts,
    Query(answer): Query<Answer>,
) -> Result<Response, ApiError> {
    let policy = sso(&state)?;
    let secure = policy.secure_cookie(&parts);
    // The flow's cookie is good once, whatever happens now.
    let cleared = flow_cookie(&parts, "", 0, secure);
    let flow = crate::auth::cookie_value(&parts, FLOW_COOKIE).map(str::to_owned);
    let outcome = policy
        .sso_finish(
            flow.as_deref(),
            answer.code.as_deref(),
            answer.state.as_deref(),
            answer.error.as_deref(),
        )
        .await;
    match outcome {
        Ok((identity, login)) => {
            tracing::info!(user = %identity.name, role = %identity.role, "signed in by the OpenID provider");
            let session = cookie(
                &login.token,
                &base_path(&parts),
                policy.ttl_seconds(),
                secure,
            );
            Ok(see_other(&app_address(&parts, None), [cleared, session]))
        }
        Err(refusal) => {
            tracing::warn!(reason = ?refusal, "single sign-on refused");
            Ok(see_other(&app_address(&parts, Some(&refusal)), [cleared]))
        }
    }
}
