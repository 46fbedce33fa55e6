//! Saved views, `/_views` and `/_views/{id}`: the usual protocol (list with the three
//! dialects, get, create, update, delete, ETags and `If-Match`), each limited to the views
//! the user asking may reach. A user sees their own views and those shared with one of
//! their roles (or with everyone, `"*"`), and changes only their own. A view of another user
//! that is not shared is 404, as if it did not exist; a shared one is 403 to change.
//!
//! The server sets `owner` (the user who saves) and `updated_at`; `state` is checked against
//! its entity by the list's own parsers (`query::check_view_state`), so a stored view always
//! opens. An open admin (no authentication) has one set of views, shared by all.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value as JsonValue;

use super::body::JsonObject;
use super::error::ApiError;
use super::extract::IfMatch;
use super::record::{self, actor};
use super::{AppState, list};
use crate::auth::{Action, Principal};
use crate::db::{self, EntityRef, Record};
use crate::query::{self, Comparison, Condition, Filter};
use crate::schema::Value;

type Result<T> = std::result::Result<T, ApiError>;

/// Keys of a body the server sets itself.
const SERVER_SET: [&str; 2] = ["id", "updated_at"];

fn views(state: &AppState) -> EntityRef {
    EntityRef::new(&state.schema, db::views::ENTITY).expect("the builder adds the views entity")
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// `owner = <user>` (`owner IS NULL` for a user without a name).
fn owned_by(entity: &EntityRef, who: &Principal) -> Filter {
    Filter {
        field: db::field_index(entity, "owner"),
        condition: match &who.user {
            Some(user) => Condition::Compare(Comparison::Eq, text(user)),
            None => Condition::IsNull(true),
        },
    }
}

/// The views `who` may read: their own, and those shared with everyone or one of their roles.
/// `None` on an open admin: there, every view is everyone's.
fn readable(state: &AppState, entity: &EntityRef, who: &Principal) -> Option<Vec<Vec<Filter>>> {
    if state.open {
        return None;
    }
    let audiences = std::iter::once("*")
        .chain(who.roles.iter().map(String::as_str))
        .map(text)
        .collect();
    let shared = Filter {
        field: db::field_index(entity, "shared_with"),
        condition: Condition::In(audiences),
    };
    Some(vec![vec![owned_by(entity, who)], vec![shared]])
}

/// `GET /_views`: the list protocol, over the views the user may read.
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query_string): RawQuery,
    OriginalUri(uri): OriginalUri,
    request_headers: HeaderMap,
) -> Result<Response> {
    let entity = views(&state);
    let query_string = query_string.unwrap_or_default();
    let range = request_headers
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let limits = list::limits(&state, &entity);
    let mut list_query = query::parse(&entity, &query_string, range, limits)?;
    list_query.scope = readable(&state, &entity, &who);
    list::respond(
        &state,
        &state.db,
        &entity,
        list_query,
        uri.path(),
        &query_string,
    )
    .await
}

/// The view `id` as `who` may read it, or 404.
async fn find(state: &AppState, entity: &EntityRef, who: &Principal, id: &str) -> Result<Record> {
    let key = query::parse_id(entity, id)?;
    let limits = list::limits(state, entity);
    let mut list_query = query::parse(entity, "_page=1&_perPage=1&_count=none", None, limits)?;
    list_query.filters.push(Filter {
        field: db::field_index(entity, &entity.primary_key),
        condition: Condition::Compare(Comparison::Eq, key),
    });
    list_query.scope = readable(state, entity, who);
    let page = state.db.list(entity, &list_query, 0).await?;
    let rows: Vec<Record> = serde_json::from_slice(&page.json)
        .map_err(|err| ApiError::internal(format!("a page of views is not JSON: {err}")))?;
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("there is no saved view with id \"{id}\"")))
}

/// The view `id`, if `who` may change it: 404 when they may not see it, 403 when it is
/// another user's, shared with them.
async fn find_own(
    state: &AppState,
    entity: &EntityRef,
    who: &Principal,
    id: &str,
) -> Result<Record> {
    let record = find(state, entity, who, id).await?;
    let owner = record.get("owner").and_then(JsonValue::as_str);
    if !state.open && owner != who.user.as_deref() {
        return Err(ApiError::forbidden(format!(
            "saved view \"{id}\" is {}'s, shared with you: only its owner changes it",
            owner.unwrap_or("another user")
        )));
    }
    Ok(record)
}

/// The one unique index of the table is (owner, entity, name).
fn named_twice(error: db::Error) -> ApiError {
    match error {
        db::Error::Conflict { .. } => ApiError::from(db::Error::Conflict {
            field: Some("name".into()),
            message: "you have a view of this entity with this name already".into(),
        }),
        other => other.into(),
    }
}

/// `GET /_views/{id}`.
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    let entity = views(&state);
    let record = find(&state, &entity, &who, &id).await?;
    Ok(record::with_etag(&entity, StatusCode::OK, &record))
}

/// `POST /_views`: `{"entity", "name", "state", "shared_with"?}`, saved as the user's.
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let entity = views(&state);
    let body = checked(&state, &who, body, None)?;
    let record = state.db.create(entity.clone(), body, actor(&who)).await;
    let record = record.map_err(named_twice)?;
    Ok(record::created(&entity, &record, uri.path()))
}

/// `PUT`/`PATCH /_views/{id}`: the owner's changes; with `If-Match`, only if the view still
/// has that version.
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    IfMatch(precondition): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let entity = views(&state);
    let current = find_own(&state, &entity, &who, &id).await?;
    let body = checked(&state, &who, body, Some(&current))?;
    let key = query::parse_id(&entity, &id)?;
    let record = state
        .db
        .update(entity.clone(), key, body, actor(&who), precondition)
        .await
        .map_err(named_twice)?;
    Ok(record::with_etag(&entity, StatusCode::OK, &record))
}

/// `DELETE /_views/{id}`: the owner's; with `If-Match`, only if unchanged since read.
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    IfMatch(precondition): IfMatch,
) -> Result<Json<Record>> {
    let entity = views(&state);
    find_own(&state, &entity, &who, &id).await?;
    let key = query::parse_id(&entity, &id)?;
    let record = state
        .db
        .delete(entity.clone(), key, actor(&who), precondition)
        .await?;
    Ok(Json(record))
}

/// The body to write: the fields the client may set, checked (the view's entity readable by
/// `who`, its state valid for that entity, shared only with everyone or a role of `who`),
/// with `owner` and `updated_at` set. `current`: the stored view, for an update.
fn checked(
    state: &AppState,
    who: &Principal,
    mut body: Record,
    current: Option<&Record>,
) -> Result<Record> {
    let mut errors = BTreeMap::new();
    for key in SERVER_SET {
        let Some(given) = body.remove(key) else {
            continue;
        };
        // A client that sends back the record it read may keep the id; nothing else.
        let same = current
            .and_then(|c| c.get(key))
            .is_some_and(|c| *c == given);
        if key == "id" && !same && (current.is_some() || !given.is_null()) {
            errors.insert(key.to_owned(), "is set by the server".to_owned());
        }
    }
    let caller = who.user.clone().map_or(JsonValue::Null, JsonValue::String);
    match body.get("owner") {
        None => {}
        Some(owner) if *owner == caller => {}
        Some(_) => {
            errors.insert(
                "owner".into(),
                "is always the user who saves the view".into(),
            );
        }
    }
    body.insert("owner".into(), caller);
    let field = |name: &str| {
        body.get(name)
            .or_else(|| current.and_then(|c| c.get(name)))
            .cloned()
            .unwrap_or(JsonValue::Null)
    };
    // On an update, the entity and the state go together: a state is valid only for its
    // entity, which the OpenAPI document can say only of the one body.
    if current.is_some() && body.contains_key("entity") != body.contains_key("state") {
        let missing = if body.contains_key("entity") {
            "state"
        } else {
            "entity"
        };
        errors.insert(
            missing.to_owned(),
            "is required with entity and state (they are changed together)".into(),
        );
    }
    let (target, view_state, shared_with) = (field("entity"), field("state"), field("shared_with"));
    match target {
        // Checked against the entity as the user sees it: a view of theirs names no field
        // hidden from them.
        JsonValue::String(name) => match EntityRef::new(&state.schema_for(who), &name) {
            Some(target) if !target.per_user && !who.can(&name, Action::View) => {
                return Err(ApiError::forbidden(format!(
                    "you may not view \"{name}\", so you may not save a view of it"
                )));
            }
            Some(target) if !target.per_user => {
                let limits = list::limits(state, &target);
                match query::check_view_state(&target, &view_state, limits) {
                    Ok(state) => {
                        body.insert("state".into(), state);
                    }
                    Err(error) if error.key.is_empty() => {
                        errors.insert("state".into(), error.message);
                    }
                    Err(error) => {
                        errors.insert("state".into(), format!("{}: {}", error.key, error.message));
                    }
                }
            }
            _ => {
                errors.insert(
                    "entity".into(),
                    format!("\"{name}\" is not an entity with a list"),
                );
            }
        },
        JsonValue::Null => {} // the entity's own rules say it is required.
        _ => {
            errors.insert("entity".into(), "must be a string".into());
        }
    }
    match shared_with {
        JsonValue::Null => {}
        JsonValue::String(role) if role == "*" || who.roles.contains(&role) => {}
        // Sharing with a role of someone else's is a matter of permission, not of form.
        JsonValue::String(role) => {
            let roles: Vec<String> = std::iter::once("\"*\" (everyone)".to_owned())
                .chain(who.roles.iter().map(|r| format!("\"{r}\"")))
                .collect();
            return Err(ApiError::forbidden(format!(
                "you may share a view only with {}, not with \"{role}\"",
                roles.join(" or ")
            )));
        }
        _ => {
            errors.insert(
                "shared_with".into(),
                "must be a role, \"*\" (everyone) or null".into(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    body.insert(
        "updated_at".into(),
        JsonValue::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
    );
    Ok(body)
}
