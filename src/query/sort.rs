//! Sorting in the three dialects: ng-admin's `_sortField`/`_sortDir`, simple-rest's
//! `sort=["title","ASC"]`, json-server's `_sort=a,-b`/`_order=asc,desc`. The primary key is
//! always the last key, so that the order is total and paging deterministic.

use super::params::{Params, Purpose};
use super::{Error, SortKey, key_index, readable_field};
use crate::schema::{Direction, Entity};

pub(super) fn parse(entity: &Entity, params: &mut Params) -> Result<Vec<SortKey>, Error> {
    let mut taken = params.purpose(Purpose::Sort)?;
    let ng_field = taken.get("_sortField");
    let ng_direction = taken.get("_sortDir");
    let ra_sort = taken.get("sort");
    let js_sort = taken.get("_sort");
    let js_order = taken.get("_order");
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
        let (field, shown) = target(entity, &name)?;
        if keys
            .iter()
            .all(|k: &SortKey| (k.field, k.shown) != (field, shown))
        {
            keys.push(SortKey {
                field,
                direction: direction.unwrap_or(default_direction),
                shown,
            });
        }
    }
    // The primary key last, in the direction of the first key, makes the order total.
    let key = key_index(entity);
    if keys.iter().all(|k| k.field != key || k.shown) {
        let direction = keys.first().map_or(Direction::Asc, |k| k.direction);
        keys.push(SortKey {
            field: key,
            direction,
            shown: false,
        });
    }
    Ok(keys)
}

/// The field a sort name orders by (see [`Entity::sort_target`]), or why it cannot.
fn target(entity: &Entity, name: &str) -> Result<(usize, bool), Error> {
    if let Some(found) = entity.sort_target(name) {
        return Ok(found);
    }
    let Some((reference, _)) = name.split_once('.') else {
        return readable_field(entity, name, "sort").map(|i| (i, false));
    };
    let hint = match entity.find_field(reference) {
        Some(field) if field.is_readable() => match &field.display {
            Some(display) => format!("{reference}.{display}"),
            None => format!("\"{reference}\" has no display field"),
        },
        Some(_) | None => String::new(),
    };
    if hint.is_empty() {
        return Err(Error::UnknownField {
            field: name.to_owned(),
            place: "sort",
            entity: entity.name.clone(),
        });
    }
    Err(Error::BadSortPath {
        name: name.to_owned(),
        entity: entity.name.clone(),
        hint,
    })
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
