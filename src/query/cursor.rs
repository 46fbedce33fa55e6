//! Keyset paging: the opaque cursor of the page after a row (its sort keys' values, signed
//! by the sort they belong to), and the link to that page that a full page carries.

use serde_json::{Map, Value as Json};

use super::params::PARAMETERS;
use super::params::Purpose;
use super::{Error, ListQuery, Page, SortKey};
use crate::schema::{Direction, Entity, Value};

/// The address of the page after a full page (`path?…&_perPage=n&_cursor=…`), by keyset:
/// fast however deep. `None` when the page is not full (there is no next one) or the list is
/// not paged. `last` is the page's last record, and `shown` the values its references show
/// for the sort keys that sort by them, in order; `query_string` is this page's own.
pub fn next_link(
    entity: &Entity,
    list_query: &ListQuery,
    rows: usize,
    last: Option<&Map<String, Json>>,
    shown: &[Json],
    path: &str,
    query_string: &str,
) -> Option<String> {
    let (Page::Window { limit, .. }, Some(last)) = (list_query.page, last) else {
        return None;
    };
    if rows as u64 != limit {
        return None;
    }
    let mut shown = shown.iter();
    let values = list_query
        .sort
        .iter()
        .map(|key| {
            let value = if key.shown {
                shown.next()
            } else {
                last.get(&entity.fields[key.field].name)
            };
            value.cloned().unwrap_or(Json::Null)
        })
        .collect();
    let cursor = cursor(entity, &list_query.sort, values);
    // This request's parameters, but the ones that say where the page starts or how long
    // it is: the cursor and the page size replace them.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string).unwrap_or_default();
    let replaced = |name: &str| {
        PARAMETERS
            .iter()
            .any(|p| p.name == name && matches!(p.purpose, Purpose::Page | Purpose::Cursor))
    };
    let mut kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(name, _)| !replaced(name))
        .collect();
    kept.push(("_perPage".into(), limit.to_string()));
    kept.push(("_cursor".into(), cursor));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    Some(format!("{path}?{query}"))
}

/// The sort a cursor belongs to: `views:desc,id:desc`.
fn sort_signature(entity: &Entity, sort: &[SortKey]) -> String {
    sort.iter()
        .map(|k| {
            let direction = if k.direction == Direction::Asc {
                "asc"
            } else {
                "desc"
            };
            format!("{}:{direction}", k.name(entity))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The opaque cursor of the page after a row whose sort-key values are `values` (as the
/// API sends them).
pub fn cursor(entity: &Entity, sort: &[SortKey], values: Vec<serde_json::Value>) -> String {
    use base64::Engine;
    let body = serde_json::json!({"s": sort_signature(entity, sort), "v": values});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
}

pub(super) fn parse(entity: &Entity, sort: &[SortKey], text: &str) -> Result<Vec<Value>, Error> {
    use base64::Engine;
    let bad = |message: &str| Error::BadParameter {
        name: "_cursor".into(),
        message: message.into(),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| bad("is not a cursor of this API"))?;
    let body: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| bad("is not a cursor of this API"))?;
    if body["s"].as_str() != Some(sort_signature(entity, sort).as_str()) {
        return Err(bad(
            "belongs to another sort order: keep the sort of the page it came from",
        ));
    }
    let serde_json::Value::Array(values) = &body["v"] else {
        return Err(bad("is not a cursor of this API"));
    };
    if values.len() != sort.len() {
        return Err(bad("is not a cursor of this API"));
    }
    sort.iter()
        .zip(values)
        .map(|(key, json)| {
            let field = key.value_field(entity);
            crate::schema::value::from_json(field.value_type(), json, &[])
                .or_else(|_| {
                    crate::schema::value::from_json(field.value_type(), json, &field.choices)
                })
                .map_err(|_| bad("is not a cursor of this API"))
        })
        .collect()
}
