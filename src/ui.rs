//! The admin single-page app: the static files of `frontend/` embedded in the binary, and
//! the `config.json` the app reads, generated from the [`Schema`] (the app reads nothing else).
//!
//! Files are served with their MIME type, a strong ETag (their SHA-256) and `no-cache`, so a
//! browser revalidates cheaply and never runs a stale file; compression is the router's job.
//! HTML gets a strict Content-Security-Policy: the app has no inline script or style.

use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::Embed;
use serde_json::{Value as Json, json};

use crate::api::{ApiError, AppState};
use crate::auth::{Action, Principal};
use crate::schema::{AdminSettings, Direction, Entity, Field, Schema};

#[derive(Embed)]
#[folder = "frontend/"]
struct Assets;

/// The policy of every HTML page: only this origin's scripts, styles, images and API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET {base}/`: the app's page. `{base}` without the slash redirects to it, as the app's
/// relative URLs need it.
pub async fn index(OriginalUri(uri): OriginalUri, headers: HeaderMap) -> Response {
    if !uri.path().ends_with('/') {
        return Redirect::permanent(&format!("{}/", uri.path())).into_response();
    }
    asset("index.html", &headers)
}

/// `GET {base}/assets/{*path}`.
pub async fn assets(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return ApiError::not_found(format!("no asset \"{path}\"")).into_response();
    }
    asset(&format!("assets/{path}"), &headers)
}

fn asset(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found(format!("no asset \"{path}\"")).into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from(file.data.into_owned()).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET {base}/config.json`.
pub async fn config_json(
    State(state): State<AppState>,
    who: Result<Principal, ApiError>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let who = match who {
        Ok(who) => who,
        // The app shows its login form on 401; it needs the title and the API's address.
        Err(error) => return error.into_response(),
    };
    let base = uri.path().strip_suffix("/config.json").unwrap_or("");
    let mut body = config(&state.schema, &state.settings, &format!("{base}/api"));
    restrict(&mut body, &who, state.builtin.is_some());
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The app's configuration: everything it shows comes from here.
pub fn config(schema: &Schema, settings: &AdminSettings, api: &str) -> Json {
    json!({
        "title": settings.title,
        "api": api,
        "locale": settings.locale,
        "max_per_page": settings.max_per_page,
        "entities": schema.entities().iter().map(entity_config).collect::<Vec<_>>(),
    })
}

/// Only the entities `who` may see, each with what `who` may do; and who `who` is.
fn restrict(config: &mut Json, who: &Principal, can_log_out: bool) {
    if let Some(Json::Array(entities)) = config.get_mut("entities") {
        entities.retain(|e| {
            e["name"]
                .as_str()
                .is_some_and(|name| who.can(name, Action::View))
        });
        for entity in entities.iter_mut() {
            let name = entity["name"].as_str().unwrap_or_default().to_owned();
            let read_only = entity["read_only"].as_bool().unwrap_or(false);
            entity["permissions"] = json!({
                "view": true,
                "add": !read_only && who.can(&name, Action::Add),
                "edit": !read_only && who.can(&name, Action::Edit),
                "delete": !read_only && who.can(&name, Action::Delete),
            });
        }
    }
    config["user"] = json!({"name": who.user, "can_log_out": can_log_out});
}

fn entity_config(entity: &Entity) -> Json {
    let readable: Vec<&Field> = entity.readable_fields().collect();
    // Without list_columns, the first few readable fields that fit a table.
    let list_columns: Vec<String> = if entity.list_columns.is_empty() {
        readable
            .iter()
            .filter(|f| {
                !matches!(
                    f.field_type,
                    crate::FieldType::Text | crate::FieldType::Json
                )
            })
            .take(6)
            .map(|f| f.name.clone())
            .collect()
    } else {
        entity.list_columns.clone()
    };
    let (sort_field, sort_direction) = entity
        .default_sort
        .clone()
        .unwrap_or_else(|| (entity.primary_key.clone(), Direction::Asc));
    json!({
        "name": entity.name,
        "label": entity.label,
        "primary_key": entity.primary_key,
        "key_type": entity.key_field().field_type.name(),
        "key_generated": entity.key_is_generated(),
        "per_page": entity.per_page,
        "default_sort": {"field": sort_field, "direction": if sort_direction == Direction::Desc { "DESC" } else { "ASC" }},
        "list_columns": list_columns,
        "search": entity.search,
        "filters": entity.filters,
        "read_only": entity.read_only,
        "fields": entity.fields.iter().map(field_config).collect::<Vec<_>>(),
        "relations": entity.relations.iter().map(|r| json!({
            "name": r.name, "label": r.label, "target": r.target, "foreign_key": r.foreign_key,
        })).collect::<Vec<_>>(),
    })
}

fn field_config(field: &Field) -> Json {
    json!({
        "name": field.name,
        "label": field.label,
        "type": field.field_type.name(),
        "value_type": field.value_type().name(),
        "required": field.required,
        "nullable": field.is_nullable(),
        "min_length": field.min_length,
        "max_length": field.max_length,
        "min": field.min,
        "max": field.max,
        "pattern": field.pattern.as_ref().map(|p| p.source.clone()),
        "choices": field.choices,
        "read_only": field.read_only,
        "default": field.default,
        "unique": field.unique,
        "target": field.target,
        "display": field.display,
    })
}
