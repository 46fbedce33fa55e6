//! API keys (`/_keys`): a built-in user, signed in with a password, lists their keys, makes
//! one (named, with an expiry and a subset of their permissions: the key is in this answer
//! alone) and revokes one. A request with a key may not come here (403).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as JsonValue, json};

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use crate::auth::Principal;
use crate::auth::keys::{self, KeyError};
use crate::db::KeyRow;
use crate::schema::FieldErrors;

type Result<T> = std::result::Result<T, ApiError>;

/// The longest key name.
const MAX_NAME: usize = 60;

fn builtin(state: &AppState) -> Result<&crate::auth::builtin::Shared> {
    state.builtin.as_ref().ok_or_else(|| {
        ApiError::not_found("this admin has no built-in login, so no API keys (see its [auth])")
    })
}

fn refused(error: KeyError) -> ApiError {
    match error {
        KeyError::Auth(error) => error.into(),
        KeyError::Invalid(message) => ApiError::invalid([("permissions".into(), message)].into()),
        KeyError::Conflict(message) => ApiError::conflict(message),
    }
}

/// `GET /_keys`: the user's keys, newest first (never their secrets).
pub async fn list(State(state): State<AppState>, who: Principal) -> Result<Json<JsonValue>> {
    let keys = builtin(&state)?.keys(&who).await.map_err(refused)?;
    let now = chrono::Utc::now().timestamp();
    Ok(Json(keys.iter().map(|k| shown(k, now)).collect()))
}

/// `POST /_keys` `{"name", "expires_in_days", "permissions"?}`: 201 with the key, shown once.
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let policy = builtin(&state)?;
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "expires_in_days" | "permissions"))
    {
        let unknown = crate::schema::WriteError::UnknownKeys(vec![key.clone()]);
        return Err(crate::db::Error::Rejected(unknown).into());
    }
    let mut errors = FieldErrors::new();
    let name = match body.get("name") {
        Some(JsonValue::String(name))
            if !name.trim().is_empty()
                && name.chars().count() <= MAX_NAME
                && !name.chars().any(char::is_control) =>
        {
            name.trim().to_owned()
        }
        Some(JsonValue::String(_)) => {
            errors.insert(
                "name".into(),
                format!("must be 1 to {MAX_NAME} characters, none of them control characters"),
            );
            String::new()
        }
        Some(_) => {
            errors.insert("name".into(), "must be a string".into());
            String::new()
        }
        None => {
            errors.insert("name".into(), "is required".into());
            String::new()
        }
    };
    let days = match body.get("expires_in_days") {
        // A whole number, as JSON Schema counts them (`30.0` is one).
        Some(JsonValue::Number(n)) => match n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }) {
            Some(days) if (1..=keys::MAX_DAYS).contains(&days) => days,
            _ => {
                errors.insert(
                    "expires_in_days".into(),
                    format!(
                        "must be a whole number of days from 1 to {}",
                        keys::MAX_DAYS
                    ),
                );
                0
            }
        },
        Some(_) => {
            errors.insert("expires_in_days".into(), "must be a number".into());
            0
        }
        None => {
            errors.insert(
                "expires_in_days".into(),
                "is required: every key expires".into(),
            );
            0
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let (row, key) = policy
        .create_key(&who, &name, days, body.get("permissions"))
        .await
        .map_err(refused)?;
    let mut answer = shown(&row, row.created_at);
    answer["key"] = JsonValue::String(key);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /_keys/{id}`: revokes one of the user's keys, at once on every instance.
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>> {
    let revoked = builtin(&state)?
        .revoke_key(&who, &id)
        .await
        .map_err(refused)?;
    if !revoked {
        return Err(ApiError::not_found(format!(
            "you have no key \"{id}\" that is not revoked"
        )));
    }
    Ok(Json(json!({"id": id, "revoked": true})))
}

/// A key as the user sees it (times in RFC 3339).
fn shown(key: &KeyRow, now: i64) -> JsonValue {
    let time = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    json!({
        "id": key.id,
        "name": key.name,
        "permissions": serde_json::from_str::<JsonValue>(&key.permissions).unwrap_or_default(),
        "created_at": time(key.created_at),
        "expires_at": time(key.expires_at),
        "last_used_at": key.last_used_at.and_then(time),
        "revoked_at": key.revoked_at.and_then(time),
        "active": key.revoked_at.is_none() && key.expires_at > now,
    })
}
