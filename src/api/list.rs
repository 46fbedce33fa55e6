//! `GET /{entity}` (a page, or every row streamed), `GET /{entity}/export.csv` and
//! `GET /{entity}/aggregate`: each reads as resolve → authorize → parse → db → respond.

use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::EntityPath;
use super::replicas::ReadFrom;
use super::{AppState, export, request_id};
use crate::auth::{Action, Principal};
use crate::db::{Batches, EntityRef, Page, Total};
use crate::query::{self, Limits, ListQuery};
use crate::xlsx::MAX_ROWS;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    reads: ReadFrom,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
    OriginalUri(uri): OriginalUri,
    request_headers: HeaderMap,
) -> Result<Response> {
    who.require(&entity.name, Action::View)?;
    let query_string = query_string.unwrap_or_default();
    let range = request_headers
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let list_query = query::parse(&entity, &query_string, range, limits(&state, &entity))?;
    respond(
        &state,
        reads.db(&state),
        &entity,
        list_query,
        uri.path(),
        &query_string,
    )
    .await
}

/// The rows `list_query` selects: a page (with its range, total and next link) or, without
/// paging parameters, every row streamed.
pub(super) async fn respond(
    state: &AppState,
    db: &crate::db::Db,
    entity: &EntityRef,
    list_query: ListQuery,
    path: &str,
    query_string: &str,
) -> Result<Response> {
    let threshold = state.settings.count_threshold;
    if let query::Page::All { max_rows } = list_query.page {
        let total = db.total(entity, &list_query, threshold).await?;
        let batches = db.stream_list(entity, &list_query).await?;
        return Ok(every_row(entity, total, max_rows, batches));
    }
    let page = db.list(entity, &list_query, threshold).await?;
    let next = query::next_link(
        entity,
        &list_query,
        page.rows,
        page.last.as_ref(),
        &page.shown,
        path,
        query_string,
    );
    Ok(one_page(entity, &list_query, page, next))
}

/// `GET /{entity}/export.csv`: every row matching the list's filters, search and sort.
pub async fn export_csv(
    State(state): State<AppState>,
    who: Principal,
    reads: ReadFrom,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
) -> Result<Response> {
    let (list_query, format) = export_query(&state, &who, &entity, query_string, "export.csv")?;
    let (columns, batches) = reads.db(&state).stream_export(&entity, &list_query).await?;
    Ok(export::csv_response(
        &entity,
        columns,
        batches,
        format,
        request_id::current(),
    ))
}

/// An export's query: the list's filters, search and sort, and the CSV format; no paging.
fn export_query(
    state: &AppState,
    who: &Principal,
    entity: &EntityRef,
    query_string: Option<String>,
    route: &str,
) -> Result<(query::ListQuery, query::CsvFormat)> {
    who.require(&entity.name, Action::View)?;
    let query_string = query_string.unwrap_or_default();
    let (list_query, format) = query::parse_export(entity, &query_string, limits(state, entity))?;
    if !matches!(list_query.page, query::Page::All { .. }) || list_query.after.is_some() {
        return Err(ApiError::bad_request(format!(
            "{route} takes no paging parameters: it exports every matching row"
        )));
    }
    Ok((list_query, format))
}

/// `GET /{entity}/export.xlsx`: the same rows as `export.csv`, as an Excel workbook. A sheet
/// holds at most [`MAX_ROWS`] rows: an export of more is refused before it starts (422).
pub async fn export_xlsx(
    State(state): State<AppState>,
    who: Principal,
    reads: ReadFrom,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
) -> Result<Response> {
    let (list_query, format) = export_query(&state, &who, &entity, query_string, "export.xlsx")?;
    if format != query::CsvFormat::default() {
        return Err(ApiError::bad_request(
            "_delimiter and _bom are options of export.csv: a workbook has neither",
        ));
    }
    let rows = reads.db(&state).count(&entity, &list_query).await?;
    if rows >= MAX_ROWS {
        return Err(ApiError::unprocessable(format!(
            "{rows} rows match: a sheet holds at most {} below its header row; narrow the \
             filters, or export CSV (export.csv), which has no bound",
            MAX_ROWS - 1
        )));
    }
    let (columns, batches) = reads.db(&state).stream_export(&entity, &list_query).await?;
    Ok(export::xlsx_response(
        &entity,
        columns,
        batches,
        request_id::current(),
    ))
}

/// `GET /{entity}/aggregate?group_by=status&metric=count`: a metric per group of the rows the
/// list's filters and search select (`query::Aggregate`), as `[{"key", "value"}, …]`.
pub async fn aggregate(
    State(state): State<AppState>,
    who: Principal,
    reads: ReadFrom,
    EntityPath(entity): EntityPath,
    RawQuery(query_string): RawQuery,
) -> Result<axum::Json<Vec<serde_json::Value>>> {
    who.require(&entity.name, Action::View)?;
    let query_string = query_string.unwrap_or_default();
    let (aggregate, list_query) =
        query::parse_aggregate(&entity, &query_string, limits(&state, &entity))?;
    let groups = reads
        .db(&state)
        .aggregate(&entity, &aggregate, &list_query)
        .await?;
    Ok(axum::Json(groups))
}

pub(super) fn limits(state: &AppState, entity: &EntityRef) -> Limits {
    Limits {
        max_per_page: state.settings.max_per_page,
        max_rows: entity.max_rows.unwrap_or(state.settings.max_rows),
    }
}

/// A page, with its range and total, and the next page's link.
fn one_page(
    entity: &EntityRef,
    list_query: &ListQuery,
    page: Page,
    next: Option<String>,
) -> Response {
    // After a cursor the offset is unknown.
    let start = list_query.after.is_none().then(|| list_query.page.offset());
    let mut headers = list_headers(&entity.name, start, Some(page.rows as u64), page.total);
    if let Some(value) =
        next.and_then(|link| HeaderValue::from_str(&format!("<{link}>; rel=\"next\"")).ok())
    {
        headers.insert(header::LINK, value);
    }
    let json = HeaderValue::from_static("application/json");
    (headers, [(header::CONTENT_TYPE, json)], page.json).into_response()
}

/// Every matching row (up to `max_rows`), streamed as a JSON array.
fn every_row(entity: &EntityRef, total: Total, max_rows: u64, batches: Batches) -> Response {
    let fields = entity.readable_fields().map(|f| f.name.clone());
    let names = fields
        .chain(entity.sets().map(|r| r.name.clone()))
        .collect();
    let body = export::json_array(names, batches, request_id::current());
    let n_rows = match total {
        Total::Exact(n) | Total::Estimated(n) => Some(n.min(max_rows)),
        Total::Unknown => None,
    };
    let headers = list_headers(&entity.name, Some(0), n_rows, total);
    let json = HeaderValue::from_static("application/json");
    (headers, [(header::CONTENT_TYPE, json)], body).into_response()
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
