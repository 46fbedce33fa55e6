//! Filter conditions: the JSON filter objects of ng-admin (`_filters`) and react-admin
//! (`filter`), and json-server's plain `field=value` / `field_gte=value` parameters.

use serde_json::Value as Json;

use super::params::{Params, Purpose};
use super::{Comparison, Condition, Error, Filter, SetFilter, readable_field};
use crate::schema::{Entity, Field, FieldType, value};

/// Which fields an operator applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Every field but json.
    Comparable,
    /// Fields with an order: not boolean, not json.
    Ordered,
    /// Text and uuid fields.
    Textual,
    /// Every field.
    Any,
    /// Multi-choice fields.
    Lists,
}

/// An operator of the filter language.
#[derive(Clone, Copy, Debug)]
pub struct Operator {
    pub name: &'static str,
    pub applies: Applies,
    pub doc: &'static str,
}

const fn operator(name: &'static str, applies: Applies, doc: &'static str) -> Operator {
    Operator { name, applies, doc }
}

/// Every operator of a filter object (`{"views": {"gte": 10}}`), which also ends
/// json-server's parameters (`views_gte=10`). `le` and `ge` are accepted for `lte`, `gte`.
pub const OPERATORS: &[Operator] = &[
    operator("eq", Applies::Comparable, "equals"),
    operator(
        "ne",
        Applies::Comparable,
        "differs from (rows without a value included)",
    ),
    operator("lt", Applies::Ordered, "less than"),
    operator("lte", Applies::Ordered, "at most"),
    operator("gt", Applies::Ordered, "greater than"),
    operator("gte", Applies::Ordered, "at least"),
    operator("in", Applies::Comparable, "any of (a list)"),
    operator(
        "nin",
        Applies::Comparable,
        "none of (a list; rows without a value included)",
    ),
    operator("like", Applies::Textual, "contains (case-sensitive)"),
    operator("ilike", Applies::Textual, "contains (case-insensitive)"),
    operator(
        "is_null",
        Applies::Any,
        "has no value (true) or has one (false)",
    ),
    operator("any", Applies::Lists, "holds any of (a list, or one value)"),
    operator("all", Applies::Lists, "holds all of (a list)"),
];

/// The names of the operators that apply to `field`, for messages.
fn operator_names(field: &Field) -> String {
    OPERATORS
        .iter()
        .filter(|o| o.applies.to(field))
        .map(|o| o.name)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Applies {
    pub fn to(self, field: &Field) -> bool {
        let value_type = field.value_type();
        let list = value_type == FieldType::MultiChoice;
        match self {
            Applies::Comparable => value_type != FieldType::Json && !list,
            Applies::Ordered => {
                !matches!(value_type, FieldType::Boolean | FieldType::Json) && !list
            }
            Applies::Textual => field.field_type.is_textual() || value_type == FieldType::Uuid,
            Applies::Any => true,
            Applies::Lists => list,
        }
    }
}

/// Builds one condition, checking that the operator applies to the field's type and
/// converting the operand to it.
pub fn condition_for(field: &Field, operator: &str, operand: &Json) -> Result<Condition, Error> {
    let name = match operator {
        "le" => "lte",
        "ge" => "gte",
        other => other,
    };
    let Some(known) = OPERATORS.iter().find(|o| o.name == name) else {
        return Err(Error::UnknownOperator {
            field: field.name.clone(),
            operator: operator.to_owned(),
            known: operator_names(field),
        });
    };
    if !known.applies.to(field) {
        return Err(Error::OperatorNotApplicable {
            field: field.name.clone(),
            operator: operator.to_owned(),
            field_type: field.field_type,
        });
    }
    let bad_value = |message: String| Error::BadValue {
        field: field.name.clone(),
        message,
    };
    let convert = |json: &Json| {
        value::from_json(field.value_type(), json, &field.choices).map_err(&bad_value)
    };
    let comparison = match name {
        "eq" => Some(Comparison::Eq),
        "ne" => Some(Comparison::Ne),
        "lt" => Some(Comparison::Lt),
        "lte" => Some(Comparison::Lte),
        "gt" => Some(Comparison::Gt),
        "gte" => Some(Comparison::Gte),
        _ => None,
    };
    if let Some(comparison) = comparison {
        let value = convert(operand)?;
        return Ok(match (comparison, value.is_null()) {
            (Comparison::Eq, true) => Condition::IsNull(true),
            (Comparison::Ne, true) => Condition::IsNull(false),
            (_, true) => return Err(bad_value(format!("cannot be null for \"{operator}\""))),
            (_, false) => Condition::Compare(comparison, value),
        });
    }
    match name {
        "any" | "all" => {
            // One value or a list of them, each one of the choices.
            let items = match operand {
                Json::Array(items) => items.clone(),
                one => vec![one.clone()],
            };
            let mut values: Vec<String> = Vec::with_capacity(items.len());
            for item in &items {
                match item {
                    Json::String(text) if field.choices.contains(text) => {
                        if !values.contains(text) {
                            values.push(text.clone());
                        }
                    }
                    _ => {
                        return Err(bad_value(format!(
                            "holds values of: {}",
                            field.choices.join(", ")
                        )));
                    }
                }
            }
            Ok(if name == "any" {
                Condition::HasAny(values)
            } else {
                Condition::HasAll(values)
            })
        }
        "in" | "nin" => {
            let Json::Array(items) = operand else {
                return Err(bad_value(format!("must be a list for \"{operator}\"")));
            };
            let values = items
                .iter()
                .filter(|item| !item.is_null())
                .map(convert)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if name == "in" {
                Condition::In(values)
            } else {
                Condition::NotIn(values)
            })
        }
        "like" | "ilike" => {
            let text = match operand {
                Json::String(s) if s.contains('\0') => {
                    return Err(bad_value("must not contain the NUL character".into()));
                }
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err(bad_value(format!("must be a string for \"{operator}\""))),
            };
            Ok(Condition::Contains {
                text,
                case_sensitive: name == "like",
            })
        }
        // is_null
        _ => match operand {
            Json::Bool(b) => Ok(Condition::IsNull(*b)),
            _ => Err(bad_value("must be true or false for \"is_null\"".into())),
        },
    }
}

/// The filter objects (`_filters` and `filter`: both apply when both are given) and the
/// quick search (`q`, else the filter object's `q` key, as react-admin sends it).
pub(super) fn parse(entity: &Entity, params: &mut Params) -> Result<Conditions, Error> {
    let mut taken = params.purpose(Purpose::Filter)?;
    let mut object = Conditions::default();
    for name in ["_filters", "filter"] {
        if let Some(text) = taken.get(name) {
            let more = parse_object(entity, name, &text)?;
            object.filters.extend(more.filters);
            object.sets.extend(more.sets);
            object.search = object.search.or(more.search);
        }
    }
    let search = params
        .purpose(Purpose::Search)?
        .get("q")
        .or(object.search)
        .filter(|text| !text.is_empty());
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
    Ok(Conditions {
        filters: object.filters,
        sets: object.sets,
        search,
    })
}

/// The filters of a row scope (`Entity::row_scope`, a role's `where`): a filter object of
/// fields alone, without a search or conditions on many-to-many relations.
pub fn scope_filters(entity: &Entity, scope: &Json) -> Result<Vec<Filter>, Error> {
    let conditions = parse_object(entity, "where", &scope.to_string())?;
    if conditions.search.is_some() || !conditions.sets.is_empty() {
        return Err(Error::BadParameter {
            name: "where".into(),
            message: "takes conditions on fields only (no q, no many-to-many relation)".into(),
        });
    }
    Ok(conditions.filters)
}

/// What a list's filter parameters ask for.
#[derive(Default)]
pub(super) struct Conditions {
    pub filters: Vec<Filter>,
    pub sets: Vec<SetFilter>,
    pub search: Option<String>,
}

/// A filter object of `_filters` or `filter`: returns the filters of fields and of
/// relations and, from react-admin's full-text convention, the `q` key as a search.
fn parse_object(entity: &Entity, name: &str, text: &str) -> Result<Conditions, Error> {
    let json: Json = serde_json::from_str(text).map_err(|err| Error::BadParameter {
        name: name.into(),
        message: format!("is not valid JSON: {err}"),
    })?;
    let Json::Object(mut object) = json else {
        return Err(Error::BadParameter {
            name: name.into(),
            message: "must be a JSON object of field: condition".into(),
        });
    };
    let search = match object.remove("q") {
        None | Some(Json::Null) => None,
        Some(Json::String(q)) => Some(q),
        Some(_) => {
            return Err(Error::BadParameter {
                name: format!("{name}.q"),
                message: "must be a string".into(),
            });
        }
    };
    let mut filters = Vec::new();
    let mut sets = Vec::new();
    for (key, condition) in object {
        if let Some(index) = super::sets::find(entity, &key) {
            sets.extend(super::sets::from_object(entity, index, &condition)?);
            continue;
        }
        // A key that is not a field may be `field_operator` (`views_gte`), as react-admin
        // users write filters for json-server back ends.
        let (index, implied) = match readable_field(entity, &key, "filter") {
            Ok(index) => (index, None),
            Err(unknown) => match split_suffix(entity, &key) {
                Some((index, operator)) => (index, Some(operator)),
                None => return Err(unknown),
            },
        };
        let field = &entity.fields[index];
        match (implied, condition) {
            (Some(operator), operand) => filters.push(Filter {
                field: index,
                condition: condition_for(field, operator, &operand)?,
            }),
            (None, Json::Object(operators)) => {
                if operators.is_empty() {
                    return Err(Error::BadValue {
                        field: key,
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
            // A multi-choice field: a value or a list is "holds any", null "has none".
            (None, operand) if field.value_type() == FieldType::MultiChoice => {
                let condition = if operand.is_null() {
                    Condition::IsNull(true)
                } else {
                    condition_for(field, "any", &operand)?
                };
                filters.push(Filter {
                    field: index,
                    condition,
                });
            }
            (None, list @ Json::Array(_)) => filters.push(Filter {
                field: index,
                condition: condition_for(field, "in", &list)?,
            }),
            (None, operand) => filters.push(Filter {
                field: index,
                condition: condition_for(field, "eq", &operand)?,
            }),
        }
    }
    Ok(Conditions {
        filters,
        sets,
        search,
    })
}

/// json-server's plain parameters: `field=v` (repeated: any of the values), `field_op=v`.
pub(super) fn parse_plain(
    entity: &Entity,
    name: &str,
    values: &[String],
) -> Result<Vec<Filter>, Error> {
    let (index, operator) = if name.starts_with('_') {
        return Err(Error::UnknownParameter(name.to_owned()));
    } else if let Ok(index) = readable_field(entity, name, "filter") {
        let list = entity.fields[index].value_type() == FieldType::MultiChoice;
        let operator = match (list, values.len() > 1) {
            (true, _) => "any",
            (false, true) => "in",
            (false, false) => "eq",
        };
        (index, operator)
    } else {
        split_suffix(entity, name).ok_or_else(|| Error::UnknownParameter(name.to_owned()))?
    };
    // json-server's `_like` is a case-insensitive match.
    let operator = if operator == "like" {
        "ilike"
    } else {
        operator
    };
    let field = &entity.fields[index];
    let strings = || Json::Array(values.iter().cloned().map(Json::String).collect());
    let condition = match operator {
        "in" | "nin" | "any" | "all" => condition_for(field, operator, &strings())?,
        // `views_ne=1&views_ne=2`: none of them.
        "ne" if values.len() > 1 => condition_for(field, "nin", &strings())?,
        "is_null" => {
            let flag = match values {
                [one] if one == "true" => true,
                [one] if one == "false" => false,
                _ => {
                    return Err(Error::BadValue {
                        field: field.name.clone(),
                        message: "must be true or false for \"is_null\"".into(),
                    });
                }
            };
            Condition::IsNull(flag)
        }
        _ => match values {
            [one] => condition_for(field, operator, &Json::String(one.clone()))?,
            _ => return Err(Error::Repeated(name.to_owned())),
        },
    };
    Ok(vec![Filter {
        field: index,
        condition,
    }])
}

/// `views_gte` → (views, "gte"), when `views` is a readable field.
fn split_suffix(entity: &Entity, name: &str) -> Option<(usize, &'static str)> {
    OPERATORS.iter().find_map(|operator| {
        let field = name.strip_suffix(operator.name)?.strip_suffix('_')?;
        let index = readable_field(entity, field, "filter").ok()?;
        Some((index, operator.name))
    })
}
