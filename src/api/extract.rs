//! Extractors that resolve what a request names, each owning its rejection in the error
//! shape: the entity of `/{entity}` (404 when there is none), the record of
//! `/{entity}/{id}` (and 400 for an id that is not of the key's type), and who is asking
//! ([`Principal`], 401/403 from the admin's policy).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;
use crate::db::EntityRef;
use crate::query::{self, Precondition};
use crate::schema::Value;

/// The entity a `/{entity}…` route names.
pub struct EntityPath(pub EntityRef);

/// The record a `/{entity}/{id}…` route names: its entity, its key, and the id as sent
/// (for messages).
pub struct RecordPath {
    pub entity: EntityRef,
    pub key: Value,
    pub id: String,
}

/// An entity of the generic routes, as the user asking sees it (their field permissions):
/// never one whose rows belong to users (saved views have routes of their own, each limited
/// to the user's rows).
async fn entity(parts: &mut Parts, state: &AppState, name: &str) -> Result<EntityRef, ApiError> {
    let who = Principal::from_request_parts(parts, state).await?;
    EntityRef::restricted(&state.schema_for(&who), &state.schema, name)
        .filter(|entity| !entity.per_user)
        .ok_or_else(|| ApiError::not_found(format!("unknown entity \"{name}\"")))
}

async fn path<T>(parts: &mut Parts, state: &AppState) -> Result<T, ApiError>
where
    T: serde::de::DeserializeOwned + Send,
{
    Path::<T>::from_request_parts(parts, state)
        .await
        .map(|Path(value)| value)
        .map_err(|rejection| ApiError::bad_request(format!("bad path: {}", rejection.body_text())))
}

impl FromRequestParts<AppState> for EntityPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let name: String = path(parts, state).await?;
        entity(parts, state, &name).await.map(EntityPath)
    }
}

impl FromRequestParts<AppState> for RecordPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (name, id): (String, String) = path(parts, state).await?;
        let entity = entity(parts, state, &name).await?;
        let key = query::parse_id(&entity, &id)?;
        Ok(RecordPath { entity, key, id })
    }
}

/// The action a `/{entity}/actions/{name}` route names, and its entity.
pub struct ActionPath {
    pub entity: EntityRef,
    pub action: crate::schema::EntityAction,
}

impl FromRequestParts<AppState> for ActionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (name, action): (String, String) = path(parts, state).await?;
        let entity = entity(parts, state, &name).await?;
        let Some(action) = entity.actions.iter().find(|a| a.name == action).cloned() else {
            return Err(ApiError::not_found(format!(
                "entity \"{name}\" has no action \"{action}\""
            )));
        };
        Ok(ActionPath { entity, action })
    }
}

impl RecordPath {
    /// The db layer's "not found", naming the record.
    pub fn error(&self, error: crate::db::Error) -> ApiError {
        ApiError::from(error).with_not_found(|| {
            format!(
                "no record of \"{}\" has id \"{}\"",
                self.entity.name, self.id
            )
        })
    }
}

/// The `If-Match` of a write: the versions of the record the client read. Without it, the
/// write does not check versions (as react-admin's and json-server's clients expect).
pub struct IfMatch(pub Option<Precondition>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let precondition = match header.to_str() {
            Ok(text) => Precondition::read(text),
            Err(_) => Precondition::Malformed("If-Match must be text".into()),
        };
        Ok(IfMatch(Some(precondition)))
    }
}

/// The principal of a request, as the admin's policy sees it; rejects with 401/403, and
/// with 403 `second_factor_required` a user whose role wants a second factor they have not
/// set up yet.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Signed(who) = Signed::from_request_parts(parts, state).await?;
        if who.second_factor_pending {
            return Err(ApiError::second_factor_required());
        }
        Ok(who)
    }
}

/// Whoever signed in, a user who still has to set up their second factor among them: what
/// that set-up, logging out and the app's config.json take.
pub struct Signed(pub Principal);

impl FromRequestParts<AppState> for Signed {
    type Rejection = ApiError;

    /// Authenticated once per request: the entity extractors ask for it too.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(who) = parts.extensions.get::<Principal>() {
            return Ok(Signed(who.clone()));
        }
        let who = state.auth.authenticate(parts).await?;
        parts.extensions.insert(who.clone());
        Ok(Signed(who))
    }
}
