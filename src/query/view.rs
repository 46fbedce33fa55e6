//! A saved view's state: what a list shows (filters, quick search, sort, page size, columns)
//! as one JSON object, `{"filter": {…}, "q": "…", "sort": "-published_at", "per_page": 50,
//! "columns": ["title", "status"]}`, every key optional. It is checked here against its
//! entity by the same parsers a list request goes through, so a view that is stored (or
//! declared in a descriptor) always opens.

use serde_json::{Map, Value as Json};

use super::{Limits, params};
use crate::schema::Entity;

/// The keys a view's state may have.
pub const STATE_KEYS: [&str; 5] = ["filter", "q", "sort", "per_page", "columns"];

/// A part of a state that is wrong: its key (`filter`, `columns`…) and why.
#[derive(Debug, PartialEq)]
pub struct StateError {
    pub key: String,
    pub message: String,
}

fn wrong(key: &str, message: impl Into<String>) -> StateError {
    StateError {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Checks `state` against `entity`; the state as it is stored (keys that are absent stay so).
pub fn check_view_state(entity: &Entity, state: &Json, limits: Limits) -> Result<Json, StateError> {
    let Some(object) = state.as_object() else {
        return Err(wrong("", "must be a JSON object"));
    };
    if let Some(key) = object.keys().find(|k| !STATE_KEYS.contains(&k.as_str())) {
        return Err(wrong(
            key,
            format!("is not a key of a view ({})", STATE_KEYS.join(", ")),
        ));
    }
    let mut checked = Map::new();
    if let Some(filter) = object.get("filter") {
        if !filter.is_object() {
            return Err(wrong("filter", "must be a JSON object of field: condition"));
        }
        let query = format!("_filters={}", params::encode_component(&filter.to_string()));
        super::parse(entity, &query, None, limits).map_err(|e| wrong("filter", e.to_string()))?;
        checked.insert("filter".into(), filter.clone());
    }
    match object.get("q") {
        None | Some(Json::Null) => {}
        Some(Json::String(q)) if entity.search.is_empty() && !q.is_empty() => {
            return Err(wrong(
                "q",
                format!("entity \"{}\" has no quick search", entity.name),
            ));
        }
        Some(Json::String(q)) => {
            checked.insert("q".into(), Json::String(q.clone()));
        }
        Some(_) => return Err(wrong("q", "must be a string")),
    }
    match object.get("sort") {
        None | Some(Json::Null) => {}
        Some(Json::String(sort)) => {
            let (field, direction) = match sort.strip_prefix('-') {
                Some(field) => (field, "DESC"),
                None => (sort.as_str(), "ASC"),
            };
            let query = format!(
                "_sortField={}&_sortDir={direction}",
                params::encode_component(field)
            );
            super::parse(entity, &query, None, limits).map_err(|e| wrong("sort", e.to_string()))?;
            checked.insert("sort".into(), Json::String(sort.clone()));
        }
        Some(_) => {
            return Err(wrong(
                "sort",
                "must be a string: a field, -field for descending",
            ));
        }
    }
    match object.get("per_page") {
        None | Some(Json::Null) => {}
        // JSON has one kind of number: 50.0 is the integer 50.
        Some(value) => match value
            .as_f64()
            .filter(|n| n.fract() == 0.0)
            .map(|n| n as u64)
        {
            Some(n) if (1..=limits.max_per_page).contains(&n) => {
                checked.insert("per_page".into(), Json::from(n));
            }
            _ => {
                return Err(wrong(
                    "per_page",
                    format!("must be an integer from 1 to {}", limits.max_per_page),
                ));
            }
        },
    }
    if let Some(columns) = object.get("columns") {
        checked.insert("columns".into(), check_columns(entity, columns)?);
    }
    Ok(Json::Object(checked))
}

/// Names of fields a list can show (readable ones: never a password) or many-to-many relations, each once.
fn check_columns(entity: &Entity, columns: &Json) -> Result<Json, StateError> {
    let Some(names) = columns.as_array() else {
        return Err(wrong("columns", "must be an array of field names"));
    };
    if names.is_empty() {
        return Err(wrong("columns", "must name at least one column"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        let Some(name) = name.as_str() else {
            return Err(wrong("columns", "must be an array of field names"));
        };
        let field = entity.find_field(name).filter(|f| f.is_readable());
        let relation = entity.sets().any(|r| r.name == name);
        if field.is_none() && !relation {
            return Err(wrong(
                "columns",
                format!("\"{name}\" is not a field of entity \"{}\"", entity.name),
            ));
        }
        if seen.contains(&name) {
            return Err(wrong("columns", format!("\"{name}\" is named twice")));
        }
        seen.push(name);
    }
    Ok(columns.clone())
}

/// Checks the views `entity` declares (`[[entity.view]]`); the message of the first that is
/// wrong names it (`view "Drafts": filter: …`).
pub fn check_declared_views(entity: &Entity, limits: Limits) -> Result<(), String> {
    for (i, view) in entity.views.iter().enumerate() {
        let name = &view.name;
        if name.trim().is_empty() {
            return Err(format!("view #{}: the name is empty", i + 1));
        }
        if entity.views[..i].iter().any(|v| v.name == *name) {
            return Err(format!("view \"{name}\" is declared twice"));
        }
        check_view_state(entity, &view.state, limits).map_err(|e| {
            format!("view \"{name}\": {}: {}", e.key, e.message).replace(": : ", ": ")
        })?;
    }
    Ok(())
}
