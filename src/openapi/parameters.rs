//! The parameters of the document's operations, as exactly as JSON Schema can say them: the
//! list parameters of the three dialects (from `crate::query`'s table), json-server's field
//! filters, the filter objects of `_filters` and `filter`, ids in paths and batches.

use serde_json::{Map, Value as Json, json};

use crate::query::OPERATORS;
use crate::query::params::{PARAMETERS, Shape};
use crate::schema::{CountMode, Entity, Field, FieldType, Relation};

/// What the document's parameters depend on besides the schema.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_per_page: u64,
    /// Whether `GET /_events` is served (`max_event_streams` > 0).
    pub live_updates: bool,
}

/// A 64-bit integer: what every backend's keys and integers hold.
pub(super) fn integer() -> Json {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// Text without NUL, which no backend stores.
pub(super) fn text() -> Json {
    json!({"type": "string", "pattern": "^[^\\u0000]*$"})
}

/// An integer in JSON: a number, or a string of digits (integers beyond 2^53 travel as
/// strings; 18 digits always fit).
pub(super) fn integer_or_digits() -> Json {
    json!({"type": ["integer", "string"], "minimum": i64::MIN, "maximum": i64::MAX,
        "pattern": "^-?[0-9]{1,18}$"})
}

/// A decimal as text, within what the server's decimals hold (28 digits).
pub(super) const DECIMAL: &str = "^-?[0-9]{1,14}(\\.[0-9]{1,14})?$";

/// What a decimal's magnitude stays below: 2^96 (the largest decimal is 2^96 − 1), which a
/// JSON number states exactly, as an exclusive bound.
pub(super) const DECIMAL_LIMIT: f64 = 79_228_162_514_264_337_593_543_950_336.0;

/// A decimal as a JSON number or a string, within what the server's decimals hold.
pub(super) fn decimal() -> Json {
    json!({"type": ["string", "number"], "pattern": DECIMAL,
        "exclusiveMinimum": -DECIMAL_LIMIT, "exclusiveMaximum": DECIMAL_LIMIT})
}

/// A boolean in the forms the server reads: JSON's, and the strings and 0/1 of query strings
/// and HTML forms.
pub(super) fn boolean() -> Json {
    json!({"type": ["boolean", "string", "integer"], "enum": [true, false, "true", "false", "1", "0", 1, 0]})
}

/// A key of type `key_type` inside JSON (a batch's ids, a set's keys).
pub(super) fn json_key(key_type: FieldType) -> Json {
    match key_type {
        FieldType::Integer => integer_or_digits(),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        _ => text(),
    }
}

/// `ASC` or `DESC`, in any case.
const DIRECTION: &str = "[Aa][Ss][Cc]|[Dd][Ee][Ss][Cc]";

/// `name` in a regular expression.
fn escape(name: &str) -> String {
    regex::escape(name)
}

fn query(name: &str, schema: Json, description: &str) -> Json {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// A parameter whose value is JSON text.
fn json_query(name: &str, schema: Json, required: bool, description: &str) -> Json {
    json!({"name": name, "in": "query", "required": required,
        "content": {"application/json": {"schema": schema}}, "description": description})
}

/// A filter operand of `field` in JSON (not null): its type, without the write rules (a
/// filter may look for any value).
fn operand(field: &Field) -> Json {
    match field.value_type() {
        FieldType::Integer => integer_or_digits(),
        FieldType::Float => json!({"type": "number"}),
        FieldType::Decimal => decimal(),
        FieldType::Boolean => boolean(),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
        FieldType::Time => {
            json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$"})
        }
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        FieldType::Choice | FieldType::MultiChoice => {
            json!({"type": "string", "enum": field.choices})
        }
        _ => text(),
    }
}

/// The operand of `operator` on `field` in a filter object.
fn operator_operand(field: &Field, operator: &str) -> Json {
    let one = operand(field);
    let nullable = || {
        let mut any = one.clone();
        if let Some(Json::Array(types)) = any.get_mut("type") {
            types.push("null".into());
        } else if let Some(single) = any.get("type").cloned() {
            any["type"] = json!([single, "null"]);
        }
        if let Some(Json::Array(values)) = any.get_mut("enum") {
            values.push(Json::Null);
        }
        any
    };
    match operator {
        "is_null" => json!({"type": "boolean"}),
        "like" | "ilike" => json!({"type": ["string", "number"], "pattern": "^[^\\u0000]*$"}),
        "eq" | "ne" => nullable(),
        "in" | "nin" => json!({"type": "array", "items": nullable()}),
        "any" => json!({"anyOf": [one.clone(), {"type": "array", "items": one}]}),
        "all" => json!({"type": "array", "items": one}),
        _ => one,
    }
}

/// What `{"field": …}` may hold in a filter object.
fn field_condition(field: &Field) -> Json {
    let mut operators = Map::new();
    for operator in OPERATORS.iter().filter(|o| o.applies.to(field)) {
        operators.insert(operator.name.into(), operator_operand(field, operator.name));
    }
    let object = json!({"type": "object", "properties": operators, "additionalProperties": false, "minProperties": 1});
    match field.value_type() {
        FieldType::Json => object,
        FieldType::MultiChoice => json!({"anyOf": [
            {"type": "null"}, operand(field), {"type": "array", "items": operand(field)}, object]}),
        _ => json!({"anyOf": [
            operator_operand(field, "eq"), {"type": "array", "items": operator_operand(field, "eq")}, object]}),
    }
}

/// What `{"relation": …}` may hold: a key or keys (holds any), null (holds none), or
/// operators.
fn set_condition(relation: &Relation) -> Json {
    let key = json_key(relation.key_type());
    let keys = json!({"anyOf": [key.clone(), {"type": "array", "items": key}]});
    json!({"anyOf": [
        {"type": "null"}, keys.clone(),
        {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "any": keys.clone(), "eq": keys.clone(), "in": keys.clone(), "all": keys,
            "is_empty": {"type": "boolean"}}},
    ]})
}

/// The JSON object of `_filters` and `filter`: a condition per field or relation (also as
/// `field_operator`), and `q`, the quick search, when the entity has search fields.
pub(super) fn filter_object(entity: &Entity) -> Json {
    let mut properties = Map::new();
    for field in entity.readable_fields() {
        properties.insert(field.name.clone(), field_condition(field));
        for operator in OPERATORS.iter().filter(|o| o.applies.to(field)) {
            let name = format!("{}_{}", field.name, operator.name);
            properties
                .entry(name)
                .or_insert_with(|| operator_operand(field, operator.name));
        }
    }
    for relation in entity.sets() {
        properties.insert(relation.name.clone(), set_condition(relation));
    }
    if !entity.search.is_empty() {
        properties.insert(
            "q".into(),
            json!({"type": ["string", "null"], "pattern": "^[^\\u0000]*$"}),
        );
    }
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

/// The filter object of `entity`, as the document's components hold it (once: lists,
/// exports, aggregates and saved views refer to it).
pub(super) fn filter_reference(entity: &Entity) -> Json {
    super::reference(&filter_name(entity))
}

/// The component name of `entity`'s filter object.
pub(super) fn filter_name(entity: &Entity) -> String {
    format!("{}Filter", super::type_name(&entity.name))
}

/// The modes of `_count` an entity allows: its own, or less exact.
fn count_modes(entity: &Entity) -> Vec<&'static str> {
    [CountMode::None, CountMode::Estimated, CountMode::Exact]
        .into_iter()
        .filter(|mode| *mode <= entity.count)
        .map(CountMode::name)
        .collect()
}

/// Query parameters of a list: the parameter table of `crate::query` (all three dialects;
/// `_cursor` only through the `Link` header) and json-server's per-field filters, one per
/// field and operator that applies to it.
pub(super) fn list_parameters(entity: &Entity, paging: bool, limits: Limits) -> Vec<Json> {
    let sortable = entity.sort_names();
    let names = sortable
        .iter()
        .map(|n| escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let mut parameters = Vec::new();
    for parameter in PARAMETERS.iter().filter(|p| paging || p.unpaged) {
        let dialects = parameter.dialects.names().join(", ");
        let description = format!("{dialects}: {}", parameter.doc);
        let schema = match (parameter.name, parameter.shape) {
            // A cursor is only ever one the server gave in a Link header (see its text).
            ("_cursor", _) => continue,
            ("q", _) if entity.search.is_empty() => continue,
            ("_filters" | "filter", _) => {
                parameters.push(json_query(
                    parameter.name,
                    filter_reference(entity),
                    false,
                    &description,
                ));
                continue;
            }
            ("sort", _) => {
                let pair = json!({"type": "array", "minItems": 2, "maxItems": 2, "prefixItems": [
                    {"type": "string", "enum": sortable}, {"type": "string", "pattern": format!("^({DIRECTION})$")}]});
                parameters.push(json_query("sort", pair, false, &description));
                continue;
            }
            ("range", _) => {
                let row = json!({"type": "integer", "minimum": 0, "maximum": i64::MAX});
                let pair = json!({"type": "array", "minItems": 2, "maxItems": 2, "prefixItems": [row, row]});
                parameters.push(json_query("range", pair, false, &description));
                continue;
            }
            ("_sort", _) => json!({"type": "string",
                "pattern": format!("^-?({names})?(,-?({names})?)*$")}),
            ("_order", _) => {
                json!({"type": "string", "pattern": format!("^({DIRECTION})(,({DIRECTION}))*$")})
            }
            ("_page", _) => {
                // (page - 1) × page size must be an offset the databases take.
                let most = i64::MAX as u64 / limits.max_per_page.max(1);
                json!({"type": "integer", "minimum": 1, "maximum": most})
            }
            (_, Shape::Whole { min }) => {
                json!({"type": "integer", "minimum": min, "maximum": i64::MAX})
            }
            (_, Shape::Text) => text(),
            (_, Shape::SortField) => json!({"type": "string", "enum": sortable}),
            (_, Shape::Direction) => {
                json!({"type": "string", "pattern": format!("^({DIRECTION})?$")})
            }
            (_, Shape::CountMode) => json!({"type": "string", "enum": count_modes(entity)}),
        };
        parameters.push(query(parameter.name, schema, &description));
    }
    let taken = |name: &str| PARAMETERS.iter().any(|p| p.name == name);
    for field in entity.readable_fields() {
        if field.value_type() == FieldType::Json || taken(&field.name) {
            continue;
        }
        let value = match field.value_type() {
            FieldType::Integer => integer(),
            FieldType::Float => json!({"type": "number"}),
            other => {
                let mut value = operand(field);
                if other == FieldType::Decimal {
                    value = json!({"type": "string", "pattern": DECIMAL});
                }
                value
            }
        };
        let name = &field.name;
        let plain = if field.value_type() == FieldType::MultiChoice {
            "holds any of these (repeat for several)"
        } else {
            "equals (repeat for any of several)"
        };
        parameters.push(query(
            name,
            value.clone(),
            &format!("json-server: {name} {plain}."),
        ));
        for operator in OPERATORS
            .iter()
            .filter(|o| o.name != "eq" && o.applies.to(field))
        {
            let schema = match operator.name {
                "is_null" => json!({"type": "boolean"}),
                "like" | "ilike" => text(),
                "any" | "all" | "in" | "nin" => json!({"type": "array", "items": value.clone()}),
                _ => value.clone(),
            };
            let plain = format!("{name}_{}", operator.name);
            if !taken(&plain) {
                parameters.push(query(
                    &plain,
                    schema,
                    &format!("json-server: {name} {}.", operator.doc),
                ));
            }
        }
    }
    for relation in entity.sets() {
        let key = match relation.key_type() {
            FieldType::Integer => integer(),
            FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
            _ => text(),
        };
        let name = &relation.name;
        let list = json!({"type": "array", "items": key});
        parameters.push(query(
            name,
            list.clone(),
            &format!("json-server: {name} holds any of these keys (repeat the parameter)."),
        ));
        parameters.push(query(
            &format!("{name}_all"),
            list,
            &format!("json-server: {name} holds all of these keys (repeat the parameter)."),
        ));
        parameters.push(query(
            &format!("{name}_is_empty"),
            json!({"type": "boolean"}),
            &format!("json-server: {name} holds no key (true) or some (false)."),
        ));
    }
    parameters
}

/// `{id}` in a path: the entity's key.
pub(super) fn key_parameter(entity: &Entity) -> Json {
    let schema = match entity.key_field().field_type {
        FieldType::Integer => integer(),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        _ => json!({"type": "string", "minLength": 1, "pattern": "^[^\\u0000]*$"}),
    };
    json!({"name": "id", "in": "path", "required": true, "schema": schema})
}

/// `ids=[…]` of a batch (at most a page of them), and `versions={id: version}` when the
/// batch writes.
pub(super) fn batch_parameters(entity: &Entity, versions: bool, limits: Limits) -> Json {
    let key_type = entity.key_field().field_type;
    // Comma-separated (OpenAPI's form style, not exploded): a text key holds no comma.
    let key = match key_type {
        FieldType::Integer => integer(),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        _ => json!({"type": "string", "pattern": "^[^,\\u0000]*$"}),
    };
    let ids = json!({"type": "array", "items": key, "maxItems": limits.max_per_page});
    let mut parameters = vec![json!({"name": "ids", "in": "query", "required": true,
        "style": "form", "explode": false, "schema": ids,
        "description": "The ids, comma-separated (ids=1,2,3), or as a JSON list (ids=[1,2,3], for text keys with commas); each counts once."})];
    if versions {
        let id = match key_type {
            FieldType::Integer => json!({"pattern": "^-?[0-9]{1,18}$"}),
            FieldType::Uuid => json!({"format": "uuid"}),
            _ => json!({"pattern": "^[^\\u0000]*$"}),
        };
        parameters.push(json_query("versions", json!({"type": "object", "propertyNames": id, "additionalProperties": {"type": "string"}}), false,
            "A JSON object of id: version (the ETag read, its quotes optional), e.g. {\"1\": \"AbC12\"}: write only if every one still has that version (412 otherwise). Versions of ids the batch does not name are ignored."));
    }
    Json::Array(parameters)
}
