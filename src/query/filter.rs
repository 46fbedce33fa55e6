//! Filter conditions: the JSON filter objects of ng-admin (`_filters`) and react-admin
//! (`filter`), and json-server's plain `field=value` / `field_gte=value` parameters.

use serde_json::Value as Json;

use super::{Comparison, Condition, Error, Filter, readable_field};
use crate::schema::{Entity, Field, FieldType, value};

/// Operators that may end a json-server parameter name (`views_gte`), longest first.
const SUFFIXES: [&str; 11] = [
    "is_null", "ilike", "like", "gte", "lte", "nin", "ne", "eq", "gt", "lt", "in",
];

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
                Json::String(s) if s.contains('\0') => {
                    return Err(bad_value("must not contain the NUL character".into()));
                }
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

/// A filter object of `_filters` or `filter`: returns the filters and, from react-admin's
/// full-text convention, the `q` key as a search.
pub(super) fn parse_object(
    entity: &Entity,
    name: &str,
    text: &str,
) -> Result<(Vec<Filter>, Option<String>), Error> {
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
    for (key, condition) in object {
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
    Ok((filters, search))
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
        (index, if values.len() > 1 { "in" } else { "eq" })
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
        "in" | "nin" => condition_for(field, operator, &strings())?,
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
    SUFFIXES.iter().find_map(|suffix| {
        let field = name.strip_suffix(suffix)?.strip_suffix('_')?;
        let index = readable_field(entity, field, "filter").ok()?;
        Some((index, *suffix))
    })
}
