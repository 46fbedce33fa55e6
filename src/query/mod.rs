//! List-query parsing: a query string into a typed [`ListQuery`], checked against an
//! [`Entity`]. Pure: no HTTP, no SQL.
//!
//! Three wire dialects are accepted, so that existing admin front ends work unchanged:
//! ng-admin / aiohttp_admin (`_page`, `_perPage`, `_sortField`, `_sortDir`, `_filters`),
//! react-admin simple-rest (`range`, `sort`, `filter`, the `Range` header) and react-admin
//! json-server (`_start`, `_end`, `_sort`, `_order`, `field=value`, `field_gte`...), plus `q`
//! in all of them. Parameters of two dialects for the same purpose (paging, sorting,
//! filtering) cannot be combined.
//!
//! Every parameter, field and operator is checked; anything unknown is an [`Error`] naming
//! it, never silently ignored. Values are converted to the field's type here, so the db
//! layer binds typed values only.

mod filter;

use crate::schema::{Direction, Entity, FieldType, Value};

pub use filter::condition_for;

/// A parsed list request.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// Quick search: case-insensitive substring over the entity's search fields.
    pub search: Option<String>,
    /// Always ends with the primary key, so that paging is deterministic.
    pub sort: Vec<SortKey>,
    pub page: Page,
    /// How the total is counted: the entity's mode, or less if the request asked.
    pub count: crate::schema::CountMode,
    /// Keyset paging: the rows after these values of the sort keys (from `_cursor`).
    pub after: Option<Vec<Value>>,
}

/// One condition on one field (an index into `entity.fields`).
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub field: usize,
    pub condition: Condition,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare(Comparison, Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    /// Contains `text`; `%` and `_` in it are matched literally.
    Contains {
        text: String,
        case_sensitive: bool,
    },
    IsNull(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "<>",
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub field: usize,
    pub direction: Direction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// One page: `limit` rows from `offset`.
    Window { limit: u64, offset: u64 },
    /// No paging parameter: every matching row, at most `max_rows`.
    All { max_rows: u64 },
}

impl Page {
    pub fn offset(self) -> u64 {
        match self {
            Page::Window { offset, .. } => offset,
            Page::All { .. } => 0,
        }
    }
    pub fn limit(self) -> u64 {
        match self {
            Page::Window { limit, .. } => limit,
            Page::All { max_rows } => max_rows,
        }
    }
}

/// Bounds from the admin's settings.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_per_page: u64,
    pub max_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_per_page: 1000,
            max_rows: 10_000,
        }
    }
}

/// A list request that cannot be understood; always the client's mistake (400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("unknown query parameter \"{0}\"")]
    UnknownParameter(String),
    #[error("query parameter \"{0}\" is given more than once")]
    Repeated(String),
    #[error("query parameter \"{name}\" {message}")]
    BadParameter { name: String, message: String },
    #[error("unknown field \"{field}\" in {place} of entity \"{entity}\"")]
    UnknownField {
        field: String,
        place: &'static str,
        entity: String,
    },
    #[error(
        "unknown operator \"{operator}\" for field \"{field}\" (operators: eq ne lt lte gt gte in nin like ilike is_null)"
    )]
    UnknownOperator { field: String, operator: String },
    #[error("operator \"{operator}\" does not apply to {field_type} field \"{field}\"")]
    OperatorNotApplicable {
        field: String,
        operator: String,
        field_type: FieldType,
    },
    #[error("filter value for field \"{field}\" {message}")]
    BadValue { field: String, message: String },
    #[error(
        "query parameters \"{0}\" and \"{1}\" cannot be combined (they belong to different dialects)"
    )]
    Conflict(String, String),
    #[error("the Range header {0}")]
    BadRange(String),
}

/// Parses the raw query string of a list request; `range_header` is the `Range` header
/// (react-admin simple-rest sends `Range: posts=0-24`).
pub fn parse(
    entity: &Entity,
    query_string: &str,
    range_header: Option<&str>,
    limits: Limits,
) -> Result<ListQuery, Error> {
    let mut params = Params::decode(query_string)?;
    let ng_filters = params.one("_filters")?;
    let ra_filter = params.one("filter")?;
    let (mut filters, filter_search) = match (ng_filters, ra_filter) {
        (Some(_), Some(_)) => return Err(Error::Conflict("_filters".into(), "filter".into())),
        (Some(text), None) => filter::parse_object(entity, "_filters", &text)?,
        (None, Some(text)) => filter::parse_object(entity, "filter", &text)?,
        (None, None) => (Vec::new(), None),
    };
    let search = match (params.one("q")?, filter_search) {
        (Some(_), Some(_)) => return Err(Error::Conflict("q".into(), "filter.q".into())),
        (q, from_filter) => q.or(from_filter).filter(|text| !text.is_empty()),
    };
    if search.as_deref().is_some_and(|q| q.contains('\0')) {
        return Err(Error::BadParameter {
            name: "q".into(),
            message: "must not contain the NUL character".into(),
        });
    }
    if search.is_some() && entity.search.is_empty() {
        return Err(Error::BadParameter {
            name: "q".into(),
            message: format!(
                "cannot be used: entity \"{}\" has no search fields",
                entity.name
            ),
        });
    }
    let sort = parse_sort(entity, &mut params)?;
    let page = parse_page(entity, &mut params, range_header, limits)?;
    let count = match params.one("_count")? {
        None => entity.count,
        Some(text) => match crate::schema::CountMode::from_name(&text) {
            Some(mode) if mode <= entity.count => mode,
            Some(mode) => {
                return Err(Error::BadParameter {
                    name: "_count".into(),
                    message: format!(
                        "\"{}\" is more than entity \"{}\" allows ({})",
                        mode.name(),
                        entity.name,
                        entity.count.name()
                    ),
                });
            }
            None => {
                return Err(Error::BadParameter {
                    name: "_count".into(),
                    message: format!("must be exact, estimated or none, not \"{text}\""),
                });
            }
        },
    };
    let cursor_text = params.one("_cursor")?;
    // What is left are json-server's plain filters: `field=value`, `field_gte=value`...
    for (name, values) in params.0 {
        filters.extend(filter::parse_plain(entity, &name, &values)?);
    }
    let after = cursor_text
        .map(|text| parse_cursor(entity, &sort, &text))
        .transpose()?;
    if after.is_some() && page.offset() > 0 {
        return Err(Error::BadParameter {
            name: "_cursor".into(),
            message: "replaces the page number or offset: ask for the page size only".into(),
        });
    }
    Ok(ListQuery {
        filters,
        search,
        sort,
        page,
        count,
        after,
    })
}

/// The decoded query string: name → values, in order of appearance.
struct Params(Vec<(String, Vec<String>)>);

impl Params {
    fn decode(query_string: &str) -> Result<Params, Error> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_string).map_err(|err| Error::BadParameter {
                name: "(query string)".into(),
                message: format!("cannot be decoded: {err}"),
            })?;
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (name, value) in pairs {
            match params.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => params.push((name, vec![value])),
            }
        }
        Ok(Params(params))
    }

    /// Takes a parameter that may appear at most once.
    fn one(&mut self, name: &str) -> Result<Option<String>, Error> {
        let Some(position) = self.0.iter().position(|(n, _)| n == name) else {
            return Ok(None);
        };
        let (name, mut values) = self.0.remove(position);
        if values.len() > 1 {
            return Err(Error::Repeated(name));
        }
        Ok(values.pop())
    }
}

/// Fails when parameters of two dialects are present: `present` lists (name, dialect, set).
fn one_dialect(present: &[(&str, u8, bool)]) -> Result<(), Error> {
    let mut first: Option<(&str, u8)> = None;
    for &(name, dialect, set) in present {
        if !set {
            continue;
        }
        match first {
            Some((other, d)) if d != dialect => {
                return Err(Error::Conflict(other.into(), name.into()));
            }
            Some(_) => {}
            None => first = Some((name, dialect)),
        }
    }
    Ok(())
}

fn parse_page(
    entity: &Entity,
    params: &mut Params,
    range_header: Option<&str>,
    limits: Limits,
) -> Result<Page, Error> {
    // ng-admin: _page, _perPage (json-server: _page, _limit); simple-rest: range=[0,24];
    // json-server: _start, _end (exclusive).
    let page = params.one("_page")?;
    let per_page = params.one("_perPage")?;
    let limit = params.one("_limit")?;
    let range = params.one("range")?;
    let start = params.one("_start")?;
    let end = params.one("_end")?;
    one_dialect(&[
        ("_page", 0, page.is_some()),
        ("_perPage", 0, per_page.is_some()),
        ("_limit", 0, limit.is_some()),
        ("range", 1, range.is_some()),
        ("_start", 2, start.is_some()),
        ("_end", 2, end.is_some()),
    ])?;
    if per_page.is_some() && limit.is_some() {
        return Err(Error::Conflict("_perPage".into(), "_limit".into()));
    }
    // A larger page is capped; Content-Range then tells the client what it got.
    let window = |offset: u64, limit: u64| Page::Window {
        offset,
        limit: limit.min(limits.max_per_page),
    };
    if let Some(text) = range {
        let (first, last) = parse_range_list(&text)?;
        return Ok(window(first, last - first + 1));
    }
    if start.is_some() || end.is_some() {
        let first = whole("_start", start, 0)?.unwrap_or(0);
        return match whole("_end", end, 0)? {
            Some(last) if last < first => Err(Error::BadParameter {
                name: "_end".into(),
                message: format!("must not be less than _start ({first})"),
            }),
            Some(last) => Ok(window(first, last - first)),
            None => Ok(window(first, entity.per_page)),
        };
    }
    if page.is_none() && per_page.is_none() && limit.is_none() {
        return match range_header {
            // react-admin simple-rest may send the window as a header only.
            Some(header) => {
                let (first, last) = parse_range_header(header)?;
                Ok(window(first, last - first + 1))
            }
            None => Ok(Page::All {
                max_rows: limits.max_rows,
            }),
        };
    }
    let number = whole("_page", page, 1)?.unwrap_or(1);
    let size = match (whole("_perPage", per_page, 1)?, whole("_limit", limit, 1)?) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => entity.per_page,
    }
    .min(limits.max_per_page);
    let offset = (number - 1)
        .checked_mul(size)
        .ok_or_else(|| Error::BadParameter {
            name: "_page".into(),
            message: "is too large".into(),
        })?;
    Ok(Page::Window {
        limit: size,
        offset,
    })
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
            format!("{}:{direction}", entity.fields[k.field].name)
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

fn parse_cursor(entity: &Entity, sort: &[SortKey], text: &str) -> Result<Vec<Value>, Error> {
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
            let field = &entity.fields[key.field];
            crate::schema::value::from_json(field.value_type(), json, &[])
                .or_else(|_| {
                    crate::schema::value::from_json(field.value_type(), json, &field.choices)
                })
                .map_err(|_| bad("is not a cursor of this API"))
        })
        .collect()
}

/// A whole number of at least `min`.
fn whole(name: &str, text: Option<String>, min: u64) -> Result<Option<u64>, Error> {
    text.map(|t| match t.trim().parse::<u64>() {
        Ok(n) if n >= min && n <= i64::MAX as u64 => Ok(n),
        _ => Err(Error::BadParameter {
            name: name.into(),
            message: format!("must be a whole number from {min}, not \"{t}\""),
        }),
    })
    .transpose()
}

/// `range=[0,24]`: first and last row, both included.
fn parse_range_list(text: &str) -> Result<(u64, u64), Error> {
    let bad = || Error::BadParameter {
        name: "range".into(),
        message: format!("must be [first, last] with 0 <= first <= last, not \"{text}\""),
    };
    let bounds: Vec<u64> = serde_json::from_str(text).map_err(|_| bad())?;
    match bounds[..] {
        [first, last] if first <= last && last <= i64::MAX as u64 => Ok((first, last)),
        _ => Err(bad()),
    }
}

/// `Range: posts=0-24`: first and last row, both included.
fn parse_range_header(header: &str) -> Result<(u64, u64), Error> {
    let bad = || Error::BadRange(format!("must be like \"posts=0-24\", not \"{header}\""));
    let (_unit, span) = header.split_once('=').ok_or_else(bad)?;
    let (first, last) = span.split_once('-').ok_or_else(bad)?;
    let first: u64 = first.trim().parse().map_err(|_| bad())?;
    let last: u64 = last.trim().parse().map_err(|_| bad())?;
    if first > last || last > i64::MAX as u64 {
        return Err(bad());
    }
    Ok((first, last))
}

fn parse_sort(entity: &Entity, params: &mut Params) -> Result<Vec<SortKey>, Error> {
    // ng-admin: _sortField, _sortDir; simple-rest: sort=["title","ASC"];
    // json-server: _sort=a,b (or -a for descending), _order=asc,desc.
    let ng_field = params.one("_sortField")?;
    let ng_direction = params.one("_sortDir")?;
    let ra_sort = params.one("sort")?;
    let js_sort = params.one("_sort")?;
    let js_order = params.one("_order")?;
    one_dialect(&[
        ("_sortField", 0, ng_field.is_some()),
        ("_sortDir", 0, ng_direction.is_some()),
        ("sort", 1, ra_sort.is_some()),
        ("_sort", 2, js_sort.is_some()),
        ("_order", 2, js_order.is_some()),
    ])?;
    let mut requested: Vec<(String, Option<Direction>)> = Vec::new();
    if let Some(text) = ra_sort {
        let pair: (String, String) =
            serde_json::from_str(&text).map_err(|_| Error::BadParameter {
                name: "sort".into(),
                message: format!("must be [\"field\", \"ASC\" or \"DESC\"], not \"{text}\""),
            })?;
        requested.push((pair.0, Some(direction("sort", &pair.1)?)));
    } else if js_sort.is_some() || js_order.is_some() {
        let orders: Vec<String> = js_order
            .map(|o| o.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let names: Vec<String> = js_sort
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        if names.is_empty() && !orders.is_empty() {
            requested.push((String::new(), Some(direction("_order", &orders[0])?)));
        }
        for (i, name) in names.iter().enumerate() {
            let (name, minus) = match name.strip_prefix('-') {
                Some(name) => (name, true),
                None => (name.as_str(), false),
            };
            let direction = match orders.get(i) {
                Some(order) => Some(direction("_order", order)?),
                None if minus => Some(Direction::Desc),
                None => None,
            };
            requested.push((name.to_owned(), direction));
        }
    } else {
        let direction = ng_direction
            .filter(|d| !d.is_empty())
            .map(|d| direction("_sortDir", &d))
            .transpose()?;
        requested.push((ng_field.unwrap_or_default(), direction));
    }
    let mut keys = Vec::new();
    for (name, direction) in requested {
        let (name, default_direction) = if name.is_empty() {
            entity
                .default_sort
                .clone()
                .unwrap_or_else(|| (entity.primary_key.clone(), Direction::Asc))
        } else {
            (name, Direction::Asc)
        };
        let field = readable_field(entity, &name, "sort")?;
        if keys.iter().all(|k: &SortKey| k.field != field) {
            keys.push(SortKey {
                field,
                direction: direction.unwrap_or(default_direction),
            });
        }
    }
    // The primary key last, in the direction of the first key, makes the order total.
    let key = key_index(entity);
    if keys.iter().all(|k| k.field != key) {
        let direction = keys.first().map_or(Direction::Asc, |k| k.direction);
        keys.push(SortKey {
            field: key,
            direction,
        });
    }
    Ok(keys)
}

fn direction(name: &str, text: &str) -> Result<Direction, Error> {
    match text.to_ascii_uppercase().as_str() {
        "ASC" => Ok(Direction::Asc),
        "DESC" => Ok(Direction::Desc),
        _ => Err(Error::BadParameter {
            name: name.into(),
            message: format!("must be ASC or DESC, not \"{text}\""),
        }),
    }
}

pub(crate) fn key_index(entity: &Entity) -> usize {
    entity
        .fields
        .iter()
        .position(|f| f.name == entity.primary_key)
        .expect("primary key checked by Schema::new")
}

fn readable_field(entity: &Entity, name: &str, place: &'static str) -> Result<usize, Error> {
    entity
        .fields
        .iter()
        .position(|f| f.name == name && f.is_readable())
        .ok_or_else(|| Error::UnknownField {
            field: name.to_owned(),
            place,
            entity: entity.name.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, Schema};

    fn users() -> Entity {
        Schema::new(vec![
            Entity::new("users")
                .per_page(10)
                .search(["name"])
                .field(Field::integer("id"))
                .field(Field::string("name"))
                .field(Field::integer("age"))
                .field(Field::boolean("active"))
                .field(Field::choice("role", ["admin", "staff"]))
                .field(Field::json("prefs"))
                .field(Field::password("password")),
        ])
        .unwrap()
        .entity("users")
        .unwrap()
        .clone()
    }

    /// Renders a ListQuery compactly, so cases read as one line each.
    fn render(entity: &Entity, q: &ListQuery) -> String {
        let mut parts = Vec::new();
        for filter in &q.filters {
            let name = &entity.fields[filter.field].name;
            parts.push(match &filter.condition {
                Condition::Compare(c, v) => format!("filter {name} {} {v:?}", c.symbol()),
                Condition::In(vs) => format!("filter {name} in {vs:?}"),
                Condition::NotIn(vs) => format!("filter {name} nin {vs:?}"),
                Condition::Contains {
                    text,
                    case_sensitive,
                } => {
                    format!(
                        "filter {name} contains{} {text}",
                        if *case_sensitive { "" } else { "/i" }
                    )
                }
                Condition::IsNull(b) => format!("filter {name} is_null {b}"),
            });
        }
        if let Some(s) = &q.search {
            parts.push(format!("search {s}"));
        }
        let sort: Vec<String> = q
            .sort
            .iter()
            .map(|k| format!("{} {:?}", entity.fields[k.field].name, k.direction).to_lowercase())
            .collect();
        parts.push(format!("sort {}", sort.join(", ")));
        parts.push(match q.page {
            Page::Window { limit, offset } => format!("limit {limit} offset {offset}"),
            Page::All { max_rows } => format!("all {max_rows}"),
        });
        parts.join("; ")
    }

    fn check(qs: &str, want: Result<&str, &str>) {
        check_with_range(qs, None, want)
    }

    fn check_with_range(qs: &str, range: Option<&str>, want: Result<&str, &str>) {
        let entity = users();
        let got = parse(
            &entity,
            qs,
            range,
            Limits {
                max_per_page: 100,
                max_rows: 500,
            },
        )
        .map(|q| render(&entity, &q))
        .map_err(|e| e.to_string());
        assert_eq!(
            got.as_deref().map_err(String::as_str),
            want,
            "query string: {qs}"
        );
    }

    #[test]
    fn paging_and_sorting() {
        check("", Ok("sort id asc; all 500"));
        check("_page=3", Ok("sort id asc; limit 10 offset 20"));
        check("_page=2&_perPage=25", Ok("sort id asc; limit 25 offset 25"));
        check("_perPage=5000", Ok("sort id asc; limit 100 offset 0"));
        check(
            "_sortField=age&_sortDir=DESC",
            Ok("sort age desc, id desc; all 500"),
        );
        check(
            "_sortField=age&_sortDir=asc",
            Ok("sort age asc, id asc; all 500"),
        );
        check("_sortDir=DESC", Ok("sort id desc; all 500"));
        check(
            "_page=0",
            Err("query parameter \"_page\" must be a whole number from 1, not \"0\""),
        );
        check(
            "_perPage=x",
            Err("query parameter \"_perPage\" must be a whole number from 1, not \"x\""),
        );
        check(
            "_sortDir=sideways",
            Err("query parameter \"_sortDir\" must be ASC or DESC, not \"sideways\""),
        );
        check(
            "_sortField=emial",
            Err("unknown field \"emial\" in sort of entity \"users\""),
        );
        check(
            "_sortField=password",
            Err("unknown field \"password\" in sort of entity \"users\""),
        );
        check(
            "_page=1&_page=2",
            Err("query parameter \"_page\" is given more than once"),
        );
        check("_pagee=1", Err("unknown query parameter \"_pagee\""));
        check(
            "_page=99999999999999999999",
            Err(
                "query parameter \"_page\" must be a whole number from 1, not \"99999999999999999999\"",
            ),
        );
    }

    #[test]
    fn filters() {
        check(
            r#"_filters={"age":{"gt":30}}"#,
            Ok("filter age > Int(30); sort id asc; all 500"),
        );
        check(
            r#"_filters={"age":{"gte":"30","le":40}}"#,
            Ok("filter age >= Int(30); filter age <= Int(40); sort id asc; all 500"),
        );
        check(
            r#"_filters={"name":{"ilike":"a%"}}"#,
            Ok("filter name contains/i a%; sort id asc; all 500"),
        );
        check(
            r#"_filters={"name":"Ann+Lee"}"#,
            Ok("filter name = Text(\"Ann Lee\"); sort id asc; all 500"),
        );
        check(
            r#"_filters={"id":[1,2,3]}"#,
            Ok("filter id in [Int(1), Int(2), Int(3)]; sort id asc; all 500"),
        );
        check(
            r#"_filters={"role":{"nin":["admin"]}}"#,
            Ok("filter role nin [Text(\"admin\")]; sort id asc; all 500"),
        );
        check(
            r#"_filters={"age":null}"#,
            Ok("filter age is_null true; sort id asc; all 500"),
        );
        check(
            r#"_filters={"age":{"ne":null}}"#,
            Ok("filter age is_null false; sort id asc; all 500"),
        );
        check(
            r#"_filters={"active":true}"#,
            Ok("filter active = Bool(true); sort id asc; all 500"),
        );
        check(
            r#"_filters={"prefs":{"is_null":false}}"#,
            Ok("filter prefs is_null false; sort id asc; all 500"),
        );
        check("q=bob", Ok("search bob; sort id asc; all 500"));
        check(
            r#"_filters={"emial":"x"}"#,
            Err("unknown field \"emial\" in filter of entity \"users\""),
        );
        check(
            r#"_filters={"password":"x"}"#,
            Err("unknown field \"password\" in filter of entity \"users\""),
        );
        check(
            r#"_filters={"age":{"between":1}}"#,
            Err(
                "unknown operator \"between\" for field \"age\" (operators: eq ne lt lte gt gte in nin like ilike is_null)",
            ),
        );
        check(
            r#"_filters={"age":{"like":"1"}}"#,
            Err("operator \"like\" does not apply to integer field \"age\""),
        );
        check(
            r#"_filters={"active":{"gt":true}}"#,
            Err("operator \"gt\" does not apply to boolean field \"active\""),
        );
        check(
            r#"_filters={"prefs":{"a":1}}"#,
            Err(
                "unknown operator \"a\" for field \"prefs\" (operators: eq ne lt lte gt gte in nin like ilike is_null)",
            ),
        );
        check(
            r#"_filters={"age":"old"}"#,
            Err("filter value for field \"age\" must be an integer"),
        );
        check(
            r#"_filters={"role":"boss"}"#,
            Err("filter value for field \"role\" must be one of: admin, staff"),
        );
        check(
            r#"_filters={"age":{}}"#,
            Err("filter value for field \"age\" has no operator"),
        );
        check(
            r#"_filters={"age":{"in":5}}"#,
            Err("filter value for field \"age\" must be a list for \"in\""),
        );
        check(
            r#"_filters=[1]"#,
            Err("query parameter \"_filters\" must be a JSON object of field: condition"),
        );
        check(
            r#"_filters={"age""#,
            Err(
                "query parameter \"_filters\" is not valid JSON: EOF while parsing an object at line 1 column 6",
            ),
        );
    }

    #[test]
    fn react_admin_simple_rest() {
        check(r#"range=[0,24]"#, Ok("sort id asc; limit 25 offset 0"));
        check(
            r#"range=[10,19]&sort=["age","DESC"]"#,
            Ok("sort age desc, id desc; limit 10 offset 10"),
        );
        check(
            r#"filter={"id":[1,2]}"#,
            Ok("filter id in [Int(1), Int(2)]; sort id asc; all 500"),
        );
        check(
            r#"filter={"q":"bo","role":"admin"}"#,
            Ok("filter role = Text(\"admin\"); search bo; sort id asc; all 500"),
        );
        check(
            r#"filter={"age_gte":30}"#,
            Ok("filter age >= Int(30); sort id asc; all 500"),
        );
        check(r#"range=[0,5000]"#, Ok("sort id asc; limit 100 offset 0"));
        check_with_range("", Some("users=5-9"), Ok("sort id asc; limit 5 offset 5"));
        check_with_range(
            r#"range=[0,4]"#,
            Some("users=5-9"),
            Ok("sort id asc; limit 5 offset 0"),
        );
        check_with_range(
            "",
            Some("users=9-5"),
            Err("the Range header must be like \"posts=0-24\", not \"users=9-5\""),
        );
        check(
            r#"range=[5,1]"#,
            Err(
                "query parameter \"range\" must be [first, last] with 0 <= first <= last, not \"[5,1]\"",
            ),
        );
        check(
            r#"range=[0]"#,
            Err(
                "query parameter \"range\" must be [first, last] with 0 <= first <= last, not \"[0]\"",
            ),
        );
        check(
            r#"sort=["age","UP"]"#,
            Err("query parameter \"sort\" must be ASC or DESC, not \"UP\""),
        );
        check(
            r#"sort=age"#,
            Err("query parameter \"sort\" must be [\"field\", \"ASC\" or \"DESC\"], not \"age\""),
        );
        check(
            r#"filter={"q":1}"#,
            Err("query parameter \"filter.q\" must be a string"),
        );
    }

    #[test]
    fn react_admin_json_server() {
        check("_start=0&_end=10", Ok("sort id asc; limit 10 offset 0"));
        check(
            "_start=20&_end=25&_sort=age&_order=DESC",
            Ok("sort age desc, id desc; limit 5 offset 20"),
        );
        check(
            "_sort=role,age&_order=asc,desc",
            Ok("sort role asc, age desc, id asc; all 500"),
        );
        check("_sort=-age", Ok("sort age desc, id desc; all 500"));
        check("_page=2&_limit=5", Ok("sort id asc; limit 5 offset 5"));
        check(
            "role=admin",
            Ok("filter role = Text(\"admin\"); sort id asc; all 500"),
        );
        check(
            "id=1&id=3",
            Ok("filter id in [Int(1), Int(3)]; sort id asc; all 500"),
        );
        check(
            "age_gte=30&age_lte=40",
            Ok("filter age >= Int(30); filter age <= Int(40); sort id asc; all 500"),
        );
        check(
            "age_ne=3&age_ne=4",
            Ok("filter age nin [Int(3), Int(4)]; sort id asc; all 500"),
        );
        check(
            "name_like=An",
            Ok("filter name contains/i An; sort id asc; all 500"),
        );
        check(
            "active=true&q=x",
            Ok("filter active = Bool(true); search x; sort id asc; all 500"),
        );
        check(
            "age_is_null=true",
            Ok("filter age is_null true; sort id asc; all 500"),
        );
        check(
            "_start=5&_end=2",
            Err("query parameter \"_end\" must not be less than _start (5)"),
        );
        check(
            "_end=x",
            Err("query parameter \"_end\" must be a whole number from 0, not \"x\""),
        );
        check("agee=3", Err("unknown query parameter \"agee\""));
        check(
            "age_between=3",
            Err("unknown query parameter \"age_between\""),
        );
        check("password=x", Err("unknown query parameter \"password\""));
        check(
            "age=old",
            Err("filter value for field \"age\" must be an integer"),
        );
        check(
            "name_like=a&name_like=b",
            Err("query parameter \"name_like\" is given more than once"),
        );
        check(
            "_order=sideways&_sort=age",
            Err("query parameter \"_order\" must be ASC or DESC, not \"sideways\""),
        );
    }

    #[test]
    fn dialects_do_not_mix() {
        check(
            "_page=1&range=[0,9]",
            Err(
                "query parameters \"_page\" and \"range\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            "_start=0&_perPage=5",
            Err(
                "query parameters \"_perPage\" and \"_start\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            r#"_sortField=age&sort=["age","ASC"]"#,
            Err(
                "query parameters \"_sortField\" and \"sort\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            "_sort=age&_sortDir=ASC",
            Err(
                "query parameters \"_sortDir\" and \"_sort\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            r#"_filters={}&filter={}"#,
            Err(
                "query parameters \"_filters\" and \"filter\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            r#"q=a&filter={"q":"b"}"#,
            Err(
                "query parameters \"q\" and \"filter.q\" cannot be combined (they belong to different dialects)",
            ),
        );
        check(
            "_perPage=5&_limit=5",
            Err(
                "query parameters \"_perPage\" and \"_limit\" cannot be combined (they belong to different dialects)",
            ),
        );
    }
}
