//! `GET /{entity}/aggregate`: a metric (count, sum or average of a field) of the records a
//! list's filters select, for each value of a field (`group_by`), or for each day, week or
//! month of a date or datetime (`bucket`). Bounded: at most `limit` groups (default 50).

use super::params::Params;
use super::{Condition, Error, Filter, Limits, ListQuery, Page, parse};
use crate::schema::{Entity, Field, FieldType};

/// The parameters of an aggregate, beside the list's filters.
pub const PARAMETERS: [&str; 4] = ["group_by", "metric", "bucket", "limit"];

/// Groups an aggregate answers with when `limit` is not given.
pub const DEFAULT_GROUPS: u64 = 50;

#[derive(Clone, Debug)]
pub struct Aggregate {
    /// The field whose values make the groups; `None`: one group of every record.
    pub group_by: Option<Field>,
    /// For a date or datetime `group_by`: the period each group spans.
    pub bucket: Option<Bucket>,
    pub metric: Metric,
    pub limit: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// From Monday.
    Week,
    Month,
}

impl Bucket {
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Metric {
    Count,
    Sum(Field),
    Avg(Field),
}

/// The groups a field's values can make: few distinct values, or periods.
pub fn groupable(field_type: FieldType) -> bool {
    use FieldType::*;
    matches!(
        field_type,
        Choice | Boolean | Reference | String | Email | Url | Integer | Date | Datetime
    )
}

/// The aggregate a query string asks for, and the list query of its other parameters (the
/// filters and search of a list; no paging, no cursor).
pub fn parse_aggregate(
    entity: &Entity,
    query_string: &str,
    limits: Limits,
) -> Result<(Aggregate, ListQuery), Error> {
    let (own, rest): (Vec<&str>, Vec<&str>) = query_string
        .split('&')
        .filter(|pair| !pair.is_empty())
        .partition(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            PARAMETERS.contains(&name)
        });
    let mut params = Params::decode(&own.join("&"))?;
    let bad = |name: &str, message: String| Error::BadParameter {
        name: name.into(),
        message,
    };
    let field = |name: &str, param: &str| {
        entity
            .find_field(name)
            .filter(|f| f.is_readable())
            .cloned()
            .ok_or_else(|| Error::UnknownField {
                field: name.into(),
                place: if param == "group_by" {
                    "group_by"
                } else {
                    "metric"
                },
                entity: entity.name.clone(),
            })
    };
    let group_by = match params.one("group_by")? {
        None => None,
        Some(name) => {
            let found = field(&name, "group_by")?;
            if !groupable(found.field_type) {
                return Err(bad(
                    "group_by",
                    format!("cannot group by {} field \"{name}\"", found.field_type),
                ));
            }
            Some(found)
        }
    };
    let dated = group_by
        .as_ref()
        .is_some_and(|f| matches!(f.field_type, FieldType::Date | FieldType::Datetime));
    let bucket = params
        .one("bucket")?
        .map(|name| {
            [Bucket::Day, Bucket::Week, Bucket::Month]
                .into_iter()
                .find(|b| b.name() == name)
                .ok_or_else(|| {
                    bad(
                        "bucket",
                        format!("must be day, week or month, not \"{name}\""),
                    )
                })
        })
        .transpose()?;
    // Periods group dates (by day unless asked); any other group_by ignores a bucket, as the
    // OpenAPI document cannot say that one parameter needs another.
    let bucket = if dated {
        bucket.or(Some(Bucket::Day))
    } else {
        None
    };
    let metric = match params.one("metric")?.as_deref() {
        None | Some("count") => Metric::Count,
        Some(spec) => {
            let (kind, name) = spec.split_once(':').ok_or_else(|| {
                bad(
                    "metric",
                    format!("must be count, sum:field or avg:field, not \"{spec}\""),
                )
            })?;
            let found = field(name, "metric")?;
            if !matches!(
                found.field_type,
                FieldType::Integer | FieldType::Float | FieldType::Decimal
            ) {
                return Err(bad(
                    "metric",
                    format!(
                        "{kind} takes a number field, not {} field \"{name}\"",
                        found.field_type
                    ),
                ));
            }
            match kind {
                "sum" => Metric::Sum(found),
                "avg" => Metric::Avg(found),
                _ => {
                    return Err(bad(
                        "metric",
                        format!("must be count, sum:field or avg:field, not \"{spec}\""),
                    ));
                }
            }
        }
    };
    let limit = match params.one("limit")? {
        None => DEFAULT_GROUPS.min(limits.max_per_page),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=limits.max_per_page).contains(n))
            .ok_or_else(|| {
                bad(
                    "limit",
                    format!(
                        "must be a number of groups from 1 to {}, not \"{text}\"",
                        limits.max_per_page
                    ),
                )
            })?,
    };
    let mut list_query = parse(entity, &rest.join("&"), None, limits)?;
    if !matches!(list_query.page, Page::All { .. }) || list_query.after.is_some() {
        return Err(Error::BadParameter {
            name: "_page".into(),
            message: "and the other paging parameters do not apply to an aggregate: it reads every matching row".into(),
        });
    }
    // A period of no date is not a period: those rows are left out.
    if let (Some(field), Some(_)) = (&group_by, bucket)
        && let Some(index) = entity.fields.iter().position(|f| f.name == field.name)
    {
        list_query.filters.push(Filter {
            field: index,
            condition: Condition::IsNull(false),
        });
    }
    let aggregate = Aggregate {
        group_by,
        bucket,
        metric,
        limit,
    };
    Ok((aggregate, list_query))
}
