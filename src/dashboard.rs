//! The dashboard's panels, declared in the config file (`[[dashboard.panel]]`): a count, the
//! latest records of an entity, counts (or sums) per value of a field, and a time series.
//! Each panel is one request the app makes, to `GET /{entity}/aggregate` or a list; its query
//! string is made here from the declaration and checked by the same parser the API uses, so
//! a panel that would be refused is a config error (naming the file and the panel), never a
//! broken dashboard.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::query::{self, Limits};
use crate::schema::{Entity, Schema};

/// What a panel shows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One number: the metric of every record the filters select.
    Count,
    /// The first records of a list (its sort, its filters).
    Latest,
    /// The metric per value of `group_by`, biggest first, as bars.
    Groups,
    /// The metric per day, week or month of a date or datetime `group_by`, as a chart.
    Series,
}

/// A panel as declared.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPanel {
    title: String,
    kind: Kind,
    entity: String,
    metric: Option<String>,
    group_by: Option<String>,
    bucket: Option<String>,
    /// The list's filters, as the API's `_filters` object.
    filters: Option<toml::Table>,
    /// `latest`: the sort (`-published_at`); the entity's by default.
    sort: Option<String>,
    limit: Option<u64>,
}

/// A checked panel, as `config.json` gives it to the app: the request it makes is
/// `{entity}/{path}?{query}` under the API.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Panel {
    pub title: String,
    pub kind: Kind,
    pub entity: String,
    /// `aggregate`, or empty for a list.
    pub path: String,
    pub query: String,
    pub group_by: Option<String>,
    /// The list filters, for the links from the panel to the list.
    pub filters: Json,
}

/// The `[dashboard]` table: its panels, in order.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDashboard {
    #[serde(default)]
    panel: Vec<RawPanel>,
}

/// Checks every panel against `schema`; the message of the first that is wrong names it
/// (`[[dashboard.panel]] #2 "Posts by status": …`).
pub fn check(raw: RawDashboard, schema: &Schema, limits: Limits) -> Result<Vec<Panel>, String> {
    raw.panel
        .into_iter()
        .enumerate()
        .map(|(i, panel)| {
            let name = format!("[[dashboard.panel]] #{} \"{}\"", i + 1, panel.title);
            let entity = schema
                .entity(&panel.entity)
                .ok_or_else(|| format!("{name}: entity \"{}\" is not an entity", panel.entity))?;
            checked(panel, entity, limits).map_err(|message| format!("{name}: {message}"))
        })
        .collect()
}

fn checked(raw: RawPanel, entity: &Entity, limits: Limits) -> Result<Panel, String> {
    let filters = match raw.filters {
        Some(table) => serde_json::to_value(table).map_err(|err| err.to_string())?,
        None => Json::Object(Default::default()),
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    let filtered = filters.as_object().is_some_and(|f| !f.is_empty());
    if filtered {
        params.push(("_filters", filters.to_string()));
    }
    let needs = |what: &str, kinds: &[Kind]| -> Result<(), String> {
        if kinds.contains(&raw.kind) {
            Ok(())
        } else {
            Err(format!("{what} does not apply to a {:?} panel", raw.kind).to_lowercase())
        }
    };
    let path = if raw.kind == Kind::Latest {
        for (what, given) in [
            ("metric", raw.metric.is_some()),
            ("group_by", raw.group_by.is_some()),
            ("bucket", raw.bucket.is_some()),
        ] {
            if given {
                return Err(format!("{what} does not apply to a latest panel"));
            }
        }
        let sort = raw.sort.clone().or_else(|| {
            entity.default_sort.as_ref().map(|(field, direction)| {
                let sign = if *direction == crate::schema::Direction::Desc {
                    "-"
                } else {
                    ""
                };
                format!("{sign}{field}")
            })
        });
        if let Some(sort) = sort {
            let (field, dir) = match sort.strip_prefix('-') {
                Some(field) => (field.to_owned(), "DESC"),
                None => (sort.clone(), "ASC"),
            };
            params.push(("_sortField", field));
            params.push(("_sortDir", dir.to_owned()));
        }
        params.push(("_page", "1".to_owned()));
        params.push(("_perPage", raw.limit.unwrap_or(5).to_string()));
        String::new()
    } else {
        if raw.sort.is_some() {
            needs("sort", &[Kind::Latest])?;
        }
        if let Some(metric) = &raw.metric {
            params.push(("metric", metric.clone()));
        }
        match (&raw.group_by, raw.kind) {
            (Some(_), Kind::Count) => needs("group_by", &[Kind::Groups, Kind::Series])?,
            (None, Kind::Groups | Kind::Series) => {
                return Err(format!("a {:?} panel needs group_by", raw.kind).to_lowercase());
            }
            (Some(field), _) => params.push(("group_by", field.clone())),
            (None, _) => {}
        }
        if let Some(bucket) = &raw.bucket {
            needs("bucket", &[Kind::Series])?;
            params.push(("bucket", bucket.clone()));
        }
        if raw.kind != Kind::Count {
            params.push((
                "limit",
                raw.limit
                    .unwrap_or(if raw.kind == Kind::Series { 12 } else { 10 })
                    .to_string(),
            ));
        } else if raw.limit.is_some() {
            needs("limit", &[Kind::Latest, Kind::Groups, Kind::Series])?;
        }
        "aggregate".to_owned()
    };
    let query: String = params
        .iter()
        .map(|(name, value)| format!("{name}={}", query::params::encode_component(value)))
        .collect::<Vec<_>>()
        .join("&");
    // The API's own parsers: what they refuse, the config refuses.
    if path.is_empty() {
        query::parse(entity, &query, None, limits).map_err(|err| err.to_string())?;
    } else {
        let (aggregate, _) =
            query::parse_aggregate(entity, &query, limits).map_err(|err| err.to_string())?;
        if raw.kind == Kind::Series && aggregate.bucket.is_none() {
            return Err("a series panel groups by a date or datetime field".into());
        }
    }
    Ok(Panel {
        title: raw.title,
        kind: raw.kind,
        entity: entity.name.clone(),
        path,
        query,
        group_by: raw.group_by,
        filters,
    })
}
