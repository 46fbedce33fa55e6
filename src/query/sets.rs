//! Filters on many-to-many relations: `{"tags": 3}` and `{"tags": [3, 5]}` (holds any of
//! them), `{"tags": {"all": [3, 5]}}`, `{"tags": {"is_empty": true}}`; as json-server
//! parameters `tags=3&tags=5`, `tags_all=3&tags_all=5`, `tags_is_empty=true`.

use serde_json::Value as Json;

use super::{Error, SetCondition, SetFilter};
use crate::schema::{Entity, Relation, value};

/// The operators of a filter on a relation, for messages and the OpenAPI document.
pub const SET_OPERATORS: &[(&str, &str)] = &[
    ("any", "holds any of these keys (a list, or one key)"),
    ("all", "holds all of these keys (a list)"),
    ("is_empty", "holds no key (true) or some (false)"),
];

/// The index of the many-to-many relation called `name`.
pub(super) fn find(entity: &Entity, name: &str) -> Option<usize> {
    entity
        .relations
        .iter()
        .position(|r| r.name == name && r.is_many_to_many())
}

/// The filter of a filter object's key that names a relation.
pub(super) fn from_object(
    entity: &Entity,
    index: usize,
    condition: &Json,
) -> Result<Vec<SetFilter>, Error> {
    let relation = &entity.relations[index];
    let filter = |condition| SetFilter {
        relation: index,
        condition,
    };
    match condition {
        Json::Object(operators) => {
            if operators.is_empty() {
                return Err(bad(relation, "has no operator".into()));
            }
            operators
                .iter()
                .map(|(operator, operand)| condition_for(relation, operator, operand).map(filter))
                .collect()
        }
        Json::Null => Ok(vec![filter(SetCondition::Empty(true))]),
        operand => Ok(vec![filter(condition_for(relation, "any", operand)?)]),
    }
}

/// The filter of a json-server parameter (`tags`, `tags_all`, `tags_is_empty`) whose name
/// names a relation; `None` when it names none.
pub(super) fn from_plain(
    entity: &Entity,
    name: &str,
    values: &[String],
) -> Result<Option<SetFilter>, Error> {
    let (index, operator) = match find(entity, name) {
        Some(index) => (index, "any"),
        None => {
            let Some(found) = SET_OPERATORS.iter().find_map(|(operator, _)| {
                let base = name.strip_suffix(operator)?.strip_suffix('_')?;
                Some((find(entity, base)?, *operator))
            }) else {
                return Ok(None);
            };
            found
        }
    };
    let relation = &entity.relations[index];
    let operand = match operator {
        "is_empty" => match values {
            [one] if one == "true" => Json::Bool(true),
            [one] if one == "false" => Json::Bool(false),
            _ => {
                return Err(bad(
                    relation,
                    "must be true or false for \"is_empty\"".into(),
                ));
            }
        },
        _ => Json::Array(values.iter().cloned().map(Json::String).collect()),
    };
    Ok(Some(SetFilter {
        relation: index,
        condition: condition_for(relation, operator, &operand)?,
    }))
}

fn condition_for(
    relation: &Relation,
    operator: &str,
    operand: &Json,
) -> Result<SetCondition, Error> {
    let keys = |operand: &Json| -> Result<Vec<crate::schema::Value>, Error> {
        let items = match operand {
            Json::Array(items) => items.as_slice(),
            one => std::slice::from_ref(one),
        };
        items
            .iter()
            .map(|item| {
                if item.is_null() {
                    return Err(bad(relation, "holds keys, never null".into()));
                }
                value::from_json(relation.key_type(), item, &[])
                    .map_err(|message| bad(relation, message))
            })
            .collect()
    };
    match operator {
        "any" | "eq" | "in" => Ok(SetCondition::Any(keys(operand)?)),
        "all" => Ok(SetCondition::All(keys(operand)?)),
        "is_empty" => match operand {
            Json::Bool(empty) => Ok(SetCondition::Empty(*empty)),
            _ => Err(bad(
                relation,
                "must be true or false for \"is_empty\"".into(),
            )),
        },
        _ => Err(Error::UnknownSetOperator {
            relation: relation.name.clone(),
            operator: operator.to_owned(),
        }),
    }
}

fn bad(relation: &Relation, message: String) -> Error {
    Error::BadValue {
        field: relation.name.clone(),
        message,
    }
}
