//! List-query parsing: a query string into a typed [`ListQuery`], checked against an
//! [`Entity`]. Pure: no HTTP, no SQL. This module owns the whole list protocol: its
//! parameters ([`params::PARAMETERS`], which the OpenAPI document lists too), filters, sort,
//! paging, keyset cursors and the next page's link, and the ids of batch requests.
//!
//! Three wire dialects are accepted, so that existing admin front ends work unchanged:
//! ng-admin / aiohttp_admin (`_page`, `_perPage`, `_sortField`, `_sortDir`, `_filters`),
//! react-admin simple-rest (`range`, `sort`, `filter`, the `Range` header) and react-admin
//! json-server (`_start`, `_end`, `_sort`, `_order`, `field=value`, `field_gte`...), plus `q`
//! in all of them. Dialects may meet in one request: filters all apply, and for the rest one
//! dialect decides, in the order [`params::Purpose`] gives.
//!
//! Every parameter, field and operator is checked; anything unknown is an [`Error`] naming
//! it, never silently ignored. Values are converted to the field's type here, so the db
//! layer binds typed values only.

mod aggregate;
mod cursor;
mod export;
mod filter;
mod ids;
mod import;
mod page;
pub mod params;
mod precondition;
#[cfg(test)]
mod proptests;
mod sets;
mod sort;
#[cfg(test)]
mod tests;
mod view;

use crate::schema::{CountMode, Direction, Entity, FieldType, Value};

pub use aggregate::{Aggregate, Bucket, Metric, groupable, parse_aggregate};
pub use cursor::{cursor, next_link};
pub use export::{CsvFormat, DELIMITERS};
pub use filter::{Applies, OPERATORS, Operator, condition_for, scope_filters};
pub use ids::{Batch, parse_id, parse_ids};
pub use import::{
    IMPORT_DELIMITERS, ImportMode, ImportOptions, MAX_LISTED_IMPORTS, MAX_PREVIEW, MAX_WAIT_SECS,
    OnError, parse_import, parse_imports_list,
};
use params::{Params, Purpose};
pub use precondition::Precondition;
pub use sets::SET_OPERATORS;
pub use view::{STATE_KEYS, StateError, check_declared_views, check_view_state};

/// A parsed list request.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// Conditions on many-to-many relations.
    pub sets: Vec<SetFilter>,
    /// Quick search: case-insensitive substring over the entity's search fields.
    pub search: Option<String>,
    /// Always ends with the primary key, so that paging is deterministic.
    pub sort: Vec<SortKey>,
    pub page: Page,
    /// How the total is counted: the entity's mode, or less if the request asked.
    pub count: CountMode,
    /// Keyset paging: the rows after these values of the sort keys (from `_cursor`).
    pub after: Option<Vec<Value>>,
    /// The rows this requester may reach at all, whatever they ask: any of these groups of
    /// filters (each group all of its filters); `None`: every row. Set by the server (never
    /// parsed from a request), e.g. to the views a user owns or that are shared with them.
    pub scope: Option<Vec<Vec<Filter>>>,
}

impl ListQuery {
    /// The rows matching all of `filters`, by the field at `sort` in `direction`, at most
    /// `max_rows`, not counted: the query autoadmin makes of its own tables and relations.
    pub fn rows(
        filters: Vec<Filter>,
        sort: usize,
        direction: Direction,
        max_rows: u64,
    ) -> ListQuery {
        ListQuery {
            filters,
            sets: Vec::new(),
            search: None,
            sort: vec![SortKey {
                field: sort,
                direction,
                shown: false,
            }],
            page: Page::All { max_rows },
            count: CountMode::None,
            after: None,
            scope: None,
        }
    }
}

/// One condition on a many-to-many relation (an index into `entity.relations`).
#[derive(Clone, Debug, PartialEq)]
pub struct SetFilter {
    pub relation: usize,
    pub condition: SetCondition,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetCondition {
    /// Holds any of these keys (none: no record matches).
    Any(Vec<Value>),
    /// Holds all of them (none: every record matches).
    All(Vec<Value>),
    /// Holds no key (`true`) or some (`false`).
    Empty(bool),
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
    /// A multi-choice field holds any of these values (each once).
    HasAny(Vec<String>),
    /// ...holds every one of them.
    HasAll(Vec<String>),
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
    /// By the value the reference `field` shows (its target's display field), not its key.
    pub shown: bool,
}

impl SortKey {
    /// The sort name: `title`, or `author_id.name` for the value a reference shows.
    pub fn name(&self, entity: &Entity) -> String {
        let field = &entity.fields[self.field];
        match (&field.display, self.shown) {
            (Some(display), true) => format!("{}.{display}", field.name),
            _ => field.name.clone(),
        }
    }

    /// The field whose type the sort values have: the shown field, or the field itself.
    pub fn value_field<'a>(&self, entity: &'a Entity) -> &'a crate::schema::Field {
        let field = &entity.fields[self.field];
        match field.shown() {
            Some(shown) if self.shown => &shown.field,
            _ => field,
        }
    }
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
        "cannot sort entity \"{entity}\" by \"{name}\": a reference sorts by the value it shows as reference.display{}",
        if hint.is_empty() { String::new() } else { format!(" ({hint})") }
    )]
    BadSortPath {
        name: String,
        entity: String,
        hint: String,
    },
    #[error("unknown operator \"{operator}\" for field \"{field}\" (operators: {known})")]
    UnknownOperator {
        field: String,
        operator: String,
        /// The operators that apply to the field.
        known: String,
    },
    #[error(
        "unknown operator \"{operator}\" for relation \"{relation}\" (operators: {})",
        sets::SET_OPERATORS.iter().map(|(o, _)| *o).collect::<Vec<_>>().join(" ")
    )]
    UnknownSetOperator { relation: String, operator: String },
    #[error("operator \"{operator}\" does not apply to {field_type} field \"{field}\"")]
    OperatorNotApplicable {
        field: String,
        operator: String,
        field_type: FieldType,
    },
    #[error("filter value for field \"{field}\" {message}")]
    BadValue { field: String, message: String },
    #[error("the Range header {0}")]
    BadRange(String),
    #[error("the query string cannot be decoded: {0}")]
    Undecodable(String),
    #[error("id \"{id}\" of entity \"{entity}\" {message}")]
    BadId {
        id: String,
        entity: String,
        message: String,
    },
    #[error("a batch delete needs ids=[...] (to delete one record: DELETE /{{entity}}/{{id}})")]
    NoIds,
    #[error("a batch delete takes at most {0} ids")]
    TooManyIds(u64),
}

/// Parses the raw query string of a list request; `range_header` is the `Range` header
/// (react-admin simple-rest sends `Range: posts=0-24`).
pub fn parse(
    entity: &Entity,
    query_string: &str,
    range_header: Option<&str>,
    limits: Limits,
) -> Result<ListQuery, Error> {
    parse_params(entity, Params::decode(query_string)?, range_header, limits)
}

/// Parses the raw query string of a CSV export: the list's filters, search and sort, and the
/// file's format (`_delimiter`, `_bom`).
pub fn parse_export(
    entity: &Entity,
    query_string: &str,
    limits: Limits,
) -> Result<(ListQuery, CsvFormat), Error> {
    let mut params = Params::decode(query_string)?;
    let format = export::parse(&mut params)?;
    Ok((parse_params(entity, params, None, limits)?, format))
}

fn parse_params(
    entity: &Entity,
    mut params: Params,
    range_header: Option<&str>,
    limits: Limits,
) -> Result<ListQuery, Error> {
    let filter::Conditions {
        mut filters,
        mut sets,
        search,
    } = filter::parse(entity, &mut params)?;
    let sort = sort::parse(entity, &mut params)?;
    let page = page::parse(entity, &mut params, range_header, limits)?;
    let count = parse_count(entity, &mut params)?;
    let cursor_text = params.purpose(Purpose::Cursor)?.get("_cursor");
    // What is left are json-server's plain filters: `field=value`, `field_gte=value`...
    for (name, values) in params.rest() {
        match sets::from_plain(entity, &name, &values)? {
            Some(set) => sets.push(set),
            None => filters.extend(filter::parse_plain(entity, &name, &values)?),
        }
    }
    let after = cursor_text
        .map(|text| cursor::parse(entity, &sort, &text))
        .transpose()?;
    if after.is_some() && page.offset() > 0 {
        return Err(Error::BadParameter {
            name: "_cursor".into(),
            message: "replaces the page number or offset: ask for the page size only".into(),
        });
    }
    Ok(ListQuery {
        filters,
        sets,
        search,
        sort,
        page,
        count,
        after,
        scope: None,
    })
}

/// `_count`: the entity's mode, or a less exact one.
fn parse_count(entity: &Entity, params: &mut Params) -> Result<CountMode, Error> {
    let Some(text) = params.purpose(Purpose::Count)?.get("_count") else {
        return Ok(entity.count);
    };
    match CountMode::from_name(&text) {
        Some(mode) if mode <= entity.count => Ok(mode),
        Some(mode) => Err(Error::BadParameter {
            name: "_count".into(),
            message: format!(
                "\"{}\" is more than entity \"{}\" allows ({})",
                mode.name(),
                entity.name,
                entity.count.name()
            ),
        }),
        None => Err(Error::BadParameter {
            name: "_count".into(),
            message: format!("must be exact, estimated or none, not \"{text}\""),
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
