//! List-query parsing: a query string (ng-admin / aiohttp_admin dialect) into a typed
//! [`ListQuery`], checked against an [`Entity`]. Pure: no HTTP, no SQL.
//!
//! Every parameter, field and operator is checked; anything unknown is an [`Error`] naming
//! it, never silently ignored. Values are converted to the field's type here, so the db
//! layer binds typed values only.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::schema::{Direction, Entity, Field, FieldType, Value, value};

/// A parsed list request.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// Quick search: case-insensitive substring over the entity's search fields.
    pub search: Option<String>,
    /// Always ends with the primary key, so that paging is deterministic.
    pub sort: Vec<SortKey>,
    pub page: Page,
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
}

/// Parses the raw query string of a list request.
pub fn parse(entity: &Entity, query_string: &str, limits: Limits) -> Result<ListQuery, Error> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query_string).map_err(|err| Error::BadParameter {
            name: "(query string)".into(),
            message: format!("cannot be decoded: {err}"),
        })?;
    let mut params = BTreeMap::new();
    for (name, value) in pairs {
        if params.insert(name.clone(), value).is_some() {
            return Err(Error::Repeated(name));
        }
    }
    let mut take = |name: &str| params.remove(name);
    let filters = match take("_filters") {
        Some(text) => parse_filters(entity, &text)?,
        None => Vec::new(),
    };
    let search = match take("q") {
        Some(text) if !text.is_empty() => {
            if entity.search.is_empty() {
                return Err(Error::BadParameter {
                    name: "q".into(),
                    message: format!(
                        "cannot be used: entity \"{}\" has no search fields",
                        entity.name
                    ),
                });
            }
            Some(text)
        }
        _ => None,
    };
    let sort = parse_sort(entity, take("_sortField"), take("_sortDir"))?;
    let page = parse_page(entity, take("_page"), take("_perPage"), limits)?;
    if let Some(name) = params.into_keys().next() {
        return Err(Error::UnknownParameter(name));
    }
    Ok(ListQuery {
        filters,
        search,
        sort,
        page,
    })
}

fn parse_page(
    entity: &Entity,
    page: Option<String>,
    per_page: Option<String>,
    limits: Limits,
) -> Result<Page, Error> {
    if page.is_none() && per_page.is_none() {
        return Ok(Page::All {
            max_rows: limits.max_rows,
        });
    }
    let positive = |name: &str, text: Option<String>| -> Result<Option<u64>, Error> {
        text.map(|t| match t.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Error::BadParameter {
                name: name.into(),
                message: format!("must be a whole number from 1, not \"{t}\""),
            }),
        })
        .transpose()
    };
    let page = positive("_page", page)?.unwrap_or(1);
    // A larger page size is capped; Content-Range then tells the client what it got.
    let limit = positive("_perPage", per_page)?
        .unwrap_or(entity.per_page)
        .min(limits.max_per_page);
    let offset = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| Error::BadParameter {
            name: "_page".into(),
            message: "is too large".into(),
        })?;
    Ok(Page::Window { limit, offset })
}

fn parse_sort(
    entity: &Entity,
    field: Option<String>,
    direction: Option<String>,
) -> Result<Vec<SortKey>, Error> {
    let direction = match direction.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("") => None,
        Some("ASC") => Some(Direction::Asc),
        Some("DESC") => Some(Direction::Desc),
        Some(_) => {
            return Err(Error::BadParameter {
                name: "_sortDir".into(),
                message: format!(
                    "must be ASC or DESC, not \"{}\"",
                    direction.unwrap_or_default()
                ),
            });
        }
    };
    let (name, default_direction) = match field.filter(|f| !f.is_empty()) {
        Some(name) => (name, Direction::Asc),
        None => entity
            .default_sort
            .clone()
            .unwrap_or_else(|| (entity.primary_key.clone(), Direction::Asc)),
    };
    let index = readable_field(entity, &name, "sort")?;
    let direction = direction.unwrap_or(default_direction);
    Ok(sort_keys(entity, index, direction))
}

/// The requested key, then the primary key (same direction) to make the order total.
pub fn sort_keys(entity: &Entity, field: usize, direction: Direction) -> Vec<SortKey> {
    let mut keys = vec![SortKey { field, direction }];
    let key = key_index(entity);
    if field != key {
        keys.push(SortKey {
            field: key,
            direction,
        });
    }
    keys
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

/// `_filters` is a JSON object: field → value (equals), list (in), or {operator: value}.
pub fn parse_filters(entity: &Entity, text: &str) -> Result<Vec<Filter>, Error> {
    let json: Json = serde_json::from_str(text).map_err(|err| Error::BadParameter {
        name: "_filters".into(),
        message: format!("is not valid JSON: {err}"),
    })?;
    let Json::Object(object) = json else {
        return Err(Error::BadParameter {
            name: "_filters".into(),
            message: "must be a JSON object of field: condition".into(),
        });
    };
    let mut filters = Vec::new();
    for (name, condition) in object {
        let index = readable_field(entity, &name, "filter")?;
        let field = &entity.fields[index];
        match condition {
            Json::Object(operators) => {
                if operators.is_empty() {
                    return Err(Error::BadValue {
                        field: name,
                        message: "has no operator".into(),
                    });
                }
                for (operator, operand) in operators {
                    filters.push(Filter {
                        field: index,
                        condition: condition_for(field, &operator, &operand)?,
                    });
                }
            }
            Json::Array(_) => filters.push(Filter {
                field: index,
                condition: condition_for(field, "in", &condition)?,
            }),
            operand => filters.push(Filter {
                field: index,
                condition: condition_for(field, "eq", &operand)?,
            }),
        }
    }
    Ok(filters)
}

/// Builds one condition, checking that the operator applies to the field's type and
/// converting the operand to it.
pub fn condition_for(field: &Field, operator: &str, operand: &Json) -> Result<Condition, Error> {
    let value_type = field.value_type();
    let not_applicable = || Error::OperatorNotApplicable {
        field: field.name.clone(),
        operator: operator.to_owned(),
        field_type: field.field_type,
    };
    let bad_value = |message: String| Error::BadValue {
        field: field.name.clone(),
        message,
    };
    let convert =
        |json: &Json| value::from_json(value_type, json, &field.choices).map_err(&bad_value);
    let ordered = !matches!(value_type, FieldType::Boolean | FieldType::Json);
    let comparable = value_type != FieldType::Json;
    let comparison = match operator {
        "eq" => Some(Comparison::Eq),
        "ne" => Some(Comparison::Ne),
        "lt" => Some(Comparison::Lt),
        "lte" | "le" => Some(Comparison::Lte),
        "gt" => Some(Comparison::Gt),
        "gte" | "ge" => Some(Comparison::Gte),
        _ => None,
    };
    if let Some(comparison) = comparison {
        if !comparable || (!ordered && !matches!(comparison, Comparison::Eq | Comparison::Ne)) {
            return Err(not_applicable());
        }
        let value = convert(operand)?;
        return Ok(match (comparison, value.is_null()) {
            (Comparison::Eq, true) => Condition::IsNull(true),
            (Comparison::Ne, true) => Condition::IsNull(false),
            (_, true) => return Err(bad_value(format!("cannot be null for \"{operator}\""))),
            (_, false) => Condition::Compare(comparison, value),
        });
    }
    match operator {
        "in" | "nin" => {
            if !comparable {
                return Err(not_applicable());
            }
            let Json::Array(items) = operand else {
                return Err(bad_value(format!("must be a list for \"{operator}\"")));
            };
            let values = items
                .iter()
                .filter(|item| !item.is_null())
                .map(convert)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if operator == "in" {
                Condition::In(values)
            } else {
                Condition::NotIn(values)
            })
        }
        "like" | "ilike" => {
            if !(field.field_type.is_textual() || value_type == FieldType::Uuid) {
                return Err(not_applicable());
            }
            let text = match operand {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err(bad_value(format!("must be a string for \"{operator}\""))),
            };
            Ok(Condition::Contains {
                text,
                case_sensitive: operator == "like",
            })
        }
        "is_null" => match operand {
            Json::Bool(b) => Ok(Condition::IsNull(*b)),
            _ => Err(bad_value("must be true or false for \"is_null\"".into())),
        },
        _ => Err(Error::UnknownOperator {
            field: field.name.clone(),
            operator: operator.to_owned(),
        }),
    }
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
        let entity = users();
        let got = parse(
            &entity,
            qs,
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
}
