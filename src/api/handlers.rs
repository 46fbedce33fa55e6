//! Thin handlers: each reads as the pipeline entity → parse → db → JSON. No SQL here.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::body::JsonObject;
use super::error::ApiError;
use super::{export, request_id};
use crate::auth::{Action, Principal};
use crate::db::{EntityRef, Record, Total};
use crate::query::{self, Limits, Page};
use crate::schema::{Value, value};

type Result<T> = std::result::Result<T, ApiError>;

fn entity(state: &AppState, name: &str) -> Result<EntityRef> {
    EntityRef::new(&state.schema, name)
        .ok_or_else(|| ApiError::not_found(format!("unknown entity \"{name}\"")))
}

fn writable(entity: &EntityRef) -> Result<()> {
    if entity.read_only {
        Err(ApiError::method_not_allowed(format!(
            "entity \"{}\" is read-only",
            entity.name
        )))
    } else {
        Ok(())
    }
}

fn key(entity: &EntityRef, id: &str) -> Result<Value> {
    value::parse_key(entity.key_field().field_type, id).map_err(|message| {
        ApiError::bad_request(format!(
            "id \"{id}\" of entity \"{}\" {message}",
            entity.name
        ))
    })
}

fn path<T>(path: PathParams<T>) -> Result<T> {
    path.map(|Path(p)| p)
        .map_err(|rejection| ApiError::bad_request(format!("bad path: {}", rejection.body_text())))
}

type PathParams<T> = std::result::Result<Path<T>, PathRejection>;

/// The record a `/{entity}/{id}` route names.
struct Target {
    entity: EntityRef,
    key: Value,
    id: String,
}

impl Target {
    fn resolve(state: &AppState, params: PathParams<(String, String)>) -> Result<Target> {
        let (name, id) = path(params)?;
        let entity = entity(state, &name)?;
        let key = key(&entity, &id)?;
        Ok(Target { entity, key, id })
    }

    /// The db layer's "not found", naming the record.
    fn error(&self, error: crate::db::Error) -> ApiError {
        ApiError::from(error).with_not_found(|| {
            format!(
                "no record of \"{}\" has id \"{}\"",
                self.entity.name, self.id
            )
        })
    }
}

/// `GET /openapi.json`: generated from the schema, with this server's path as its base.
pub async fn openapi(
    State(state): State<AppState>,
    _who: Principal,
    OriginalUri(uri): OriginalUri,
) -> Json<serde_json::Value> {
    let server = uri.path().strip_suffix("/openapi.json").unwrap_or("");
    Json(crate::openapi::document(
        &state.schema,
        &state.settings.title,
        server,
    ))
}

pub async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>> {
    state.db.health().await?;
    Ok(Json(json!({"status": "ok"})))
}

fn limits(state: &AppState, entity: &EntityRef) -> Limits {
    Limits {
        max_per_page: state.settings.max_per_page,
        max_rows: entity.max_rows.unwrap_or(state.settings.max_rows),
    }
}

pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    name: PathParams<String>,
    RawQuery(query_string): RawQuery,
    OriginalUri(uri): OriginalUri,
    request_headers: HeaderMap,
) -> Result<Response> {
    let entity = entity(&state, &path(name)?)?;
    who.require(&entity.name, Action::View)?;
    let range = request_headers
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let query_string = query_string.as_deref().unwrap_or("");
    let list_query = query::parse(&entity, query_string, range, limits(&state, &entity))?;
    let threshold = state.settings.count_threshold;
    if let Page::All { max_rows } = list_query.page {
        // No paging parameter: every row (up to max_rows), streamed.
        let total = state.db.total(&entity, &list_query, threshold).await?;
        let batches = state.db.stream_list(&entity, &list_query).await?;
        let names = entity.readable_fields().map(|f| f.name.clone()).collect();
        let body = export::json_array(names, batches, request_id::current());
        let n_rows = match total {
            Total::Exact(n) | Total::Estimated(n) => Some(n.min(max_rows)),
            Total::Unknown => None,
        };
        let headers = list_headers(&entity.name, Some(0), n_rows, total);
        let json = HeaderValue::from_static("application/json");
        return Ok((headers, [(header::CONTENT_TYPE, json)], body).into_response());
    }
    let page = state.db.list(&entity, &list_query, threshold).await?;
    // After a cursor the offset is unknown.
    let start = list_query.after.is_none().then(|| list_query.page.offset());
    let mut headers = list_headers(&entity.name, start, Some(page.rows as u64), page.total);
    // A full page may have a next one: its link, by keyset (fast however deep).
    if let (Page::Window { limit, .. }, Some(last)) = (list_query.page, &page.last)
        && page.rows as u64 == limit
    {
        let values = list_query
            .sort
            .iter()
            .map(|key| {
                last.get(&entity.fields[key.field].name)
                    .cloned()
                    .unwrap_or(serde_json::Value::Null)
            })
            .collect();
        let cursor = query::cursor(&entity, &list_query.sort, values);
        if let Ok(value) = HeaderValue::from_str(&format!(
            "<{}>; rel=\"next\"",
            next_link(&uri, limit, &cursor)
        )) {
            headers.insert(header::LINK, value);
        }
    }
    let json = HeaderValue::from_static("application/json");
    Ok((headers, [(header::CONTENT_TYPE, json)], page.json).into_response())
}

/// This request's address with its offset replaced by `cursor`.
fn next_link(uri: &axum::http::Uri, limit: u64, cursor: &str) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let offsets = [
        "_cursor", "_page", "_perPage", "_limit", "_start", "_end", "range",
    ];
    let mut kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(name, _)| !offsets.contains(&name.as_str()))
        .collect();
    kept.push(("_perPage".into(), limit.to_string()));
    kept.push(("_cursor".into(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{}?{query}", uri.path())
}

/// `Content-Range: posts 0-24/319` (`posts */0` for an empty page, `.../*` when the total is
/// unknown), and when there is a total, `X-Total-Count` and `X-Total-Count-Kind`.
fn list_headers(entity: &str, start: Option<u64>, n_rows: Option<u64>, total: Total) -> HeaderMap {
    let (total_text, kind) = match total {
        Total::Exact(n) => (n.to_string(), Some("exact")),
        Total::Estimated(n) => (n.to_string(), Some("estimated")),
        Total::Unknown => ("*".to_owned(), None),
    };
    let content_range = match (n_rows, start) {
        (Some(0) | None, _) | (_, None) => format!("{entity} */{total_text}"),
        (Some(n), Some(start)) => format!("{entity} {start}-{}/{total_text}", start + n - 1),
    };
    let mut headers = HeaderMap::new();
    if let Some(kind) = kind {
        headers.insert(
            "x-total-count",
            HeaderValue::from_str(&total_text).unwrap_or(HeaderValue::from_static("0")),
        );
        headers.insert("x-total-count-kind", HeaderValue::from_static(kind));
    }
    if let Ok(value) = HeaderValue::from_str(&content_range) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    headers
}

/// `GET /{entity}/export.csv`: every row matching the list's filters, search and sort.
pub async fn export_csv(
    State(state): State<AppState>,
    who: Principal,
    name: PathParams<String>,
    RawQuery(query_string): RawQuery,
) -> Result<Response> {
    let entity = entity(&state, &path(name)?)?;
    who.require(&entity.name, Action::View)?;
    let query_string = query_string.as_deref().unwrap_or("");
    let list_query = query::parse(&entity, query_string, None, limits(&state, &entity))?;
    if !matches!(list_query.page, Page::All { .. }) || list_query.after.is_some() {
        return Err(ApiError::bad_request(
            "export.csv takes no paging parameters: it exports every matching row",
        ));
    }
    let (columns, batches) = state.db.stream_export(&entity, &list_query).await?;
    Ok(export::csv_response(
        &entity,
        columns,
        batches,
        request_id::current(),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    params: PathParams<(String, String)>,
) -> Result<Response> {
    let target = Target::resolve(&state, params)?;
    who.require(&target.entity.name, Action::View)?;
    let record = state.db.get_json(&target.entity, target.key.clone()).await;
    let json = record.map_err(|err| target.error(err))?;
    let content_type = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, content_type)], json).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    OriginalUri(uri): OriginalUri,
    name: PathParams<String>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let entity = entity(&state, &path(name)?)?;
    writable(&entity)?;
    who.require(&entity.name, Action::Add)?;
    let record = state
        .db
        .create(entity.clone(), body, who.user.clone())
        .await?;
    let mut response = (StatusCode::CREATED, Json(&record)).into_response();
    let id = match record.get(&entity.primary_key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let location = format!(
        "{}/{}",
        uri.path().trim_end_matches('/'),
        percent_encode(&id)
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    params: PathParams<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Record>> {
    let target = Target::resolve(&state, params)?;
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Edit)?;
    let record = state
        .db
        .update(
            target.entity.clone(),
            target.key.clone(),
            body,
            who.user.clone(),
        )
        .await;
    Ok(Json(record.map_err(|err| target.error(err))?))
}

/// DELETE takes no body: whatever a client sends (ng-admin sends `{}` as text/plain) is
/// ignored.
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    params: PathParams<(String, String)>,
) -> Result<Json<Record>> {
    let target = Target::resolve(&state, params)?;
    writable(&target.entity)?;
    who.require(&target.entity.name, Action::Delete)?;
    let record = state
        .db
        .delete(target.entity.clone(), target.key.clone(), who.user.clone())
        .await;
    Ok(Json(record.map_err(|err| target.error(err))?))
}

/// `DELETE /{entity}?ids=[1,2,3]`: all in one transaction, or nothing when any is missing.
/// Answers the deleted ids.
pub async fn delete_many(
    State(state): State<AppState>,
    who: Principal,
    name: PathParams<String>,
    RawQuery(query_string): RawQuery,
) -> Result<Json<Vec<serde_json::Value>>> {
    let entity = entity(&state, &path(name)?)?;
    writable(&entity)?;
    who.require(&entity.name, Action::Delete)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query_string.as_deref().unwrap_or("")).map_err(|err| {
            ApiError::bad_request(format!("the query string cannot be decoded: {err}"))
        })?;
    let mut ids = None;
    for (name, value) in pairs {
        match name.as_str() {
            "ids" if ids.is_none() => ids = Some(value),
            "ids" => {
                return Err(ApiError::bad_request(
                    "query parameter \"ids\" is given more than once",
                ));
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter \"{name}\""
                )));
            }
        }
    }
    let ids = ids.ok_or_else(|| {
        ApiError::bad_request(
            "a batch delete needs ids=[...] (to delete one record: DELETE /{entity}/{id})",
        )
    })?;
    let bad_ids = || {
        ApiError::bad_request(format!(
            "query parameter \"ids\" must be a JSON list of ids, not \"{ids}\""
        ))
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(&ids).map_err(|_| bad_ids())?;
    if list.len() as u64 > state.settings.max_per_page {
        return Err(ApiError::bad_request(format!(
            "a batch delete takes at most {} ids",
            state.settings.max_per_page
        )));
    }
    let mut keys: Vec<Value> = Vec::with_capacity(list.len());
    for id in &list {
        let text = match id {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(bad_ids()),
        };
        let key = key(&entity, &text)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(Json(
        state
            .db
            .delete_many(entity.clone(), keys, who.user.clone())
            .await?,
    ))
}

pub async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("method not allowed on this route")
}

/// Encodes a key for use as one path segment.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
