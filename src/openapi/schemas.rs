//! The JSON Schemas of records: as the API sends them, and as a create or an update takes
//! them (with the descriptors' rules), many-to-many relations included.

use serde_json::{Map, Value as Json, json};

use crate::schema::{Entity, Field, FieldType, Relation, Schema};

/// The JSON Schema of a field's value on the wire, as the API sends it.
fn output_type(field: &Field) -> Json {
    let mut schema = match field.value_type() {
        // Integers beyond 2^53 travel as strings.
        FieldType::Integer => json!({"type": ["integer", "string"], "pattern": "^-?[0-9]+$"}),
        FieldType::Float => json!({"type": "number"}),
        FieldType::Decimal => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
        FieldType::Time => {
            json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?$"})
        }
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        FieldType::Json => json!({}),
        FieldType::Choice => json!({"type": "string", "enum": field.choices}),
        FieldType::MultiChoice => {
            json!({"type": "array", "items": {"type": "string", "enum": field.choices}, "uniqueItems": true})
        }
        _ => json!({"type": "string"}),
    };
    if field.is_nullable() && field.value_type() != FieldType::Json {
        allow_null(&mut schema);
    }
    describe(&mut schema, field);
    schema
}

/// The JSON Schema of a field's value as a client may send it, with its rules.
fn input_type(field: &Field) -> Json {
    let mut schema = match field.value_type() {
        FieldType::Integer => {
            let mut s = super::parameters::integer();
            bounds(&mut s, field);
            s
        }
        FieldType::Float => {
            let mut s = json!({"type": "number"});
            bounds(&mut s, field);
            s
        }
        // Decimals as strings (exact) or numbers, the strings bounded by pattern.
        FieldType::Decimal => decimal_input(field),
        FieldType::Boolean => super::parameters::boolean(),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
        FieldType::Time => {
            json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$"})
        }
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        FieldType::Json => json!({}),
        FieldType::Choice => json!({"type": "string", "enum": field.choices}),
        // A set, in any order, each value once or more (it is stored once).
        FieldType::MultiChoice => {
            let mut list =
                json!({"type": "array", "items": {"type": "string", "enum": field.choices}});
            if field.required {
                list["minItems"] = 1.into();
            }
            list
        }
        FieldType::Email => json!({"type": "string", "format": "email"}),
        FieldType::Url => json!({"type": "string", "format": "uri"}),
        _ => json!({"type": "string"}),
    };
    if field.field_type.is_textual() {
        text_rules(&mut schema, field);
    }
    if field.field_type == FieldType::Password {
        schema["writeOnly"] = true.into();
    }
    if field.is_nullable() && !field.required && field.value_type() != FieldType::Json {
        allow_null(&mut schema);
    }
    describe(&mut schema, field);
    schema
}

/// A decimal field's input: a number within its bounds, or a string that is one. A string's
/// bounds are a pattern: whole bounds from 0 up to 1,000 apart, the common case (a rating
/// from 0 to 5); other bounds leave strings to the server's check.
fn decimal_input(field: &Field) -> Json {
    let limit = super::parameters::DECIMAL_LIMIT;
    let mut number =
        json!({"type": "number", "exclusiveMinimum": -limit, "exclusiveMaximum": limit});
    bounds(&mut number, field);
    let (min, max) = (field.min, field.max);
    if min.is_none() && max.is_none() {
        return super::parameters::decimal();
    }
    let whole = |n: f64| n.fract() == 0.0 && n >= 0.0;
    let text = match (min, max) {
        (Some(low), Some(high))
            if whole(low) && whole(high) && high > low && high - low <= 1000.0 =>
        {
            let (low, high) = (low as u64, high as u64);
            let below: Vec<String> = (low..high).map(|i| i.to_string()).collect();
            let pattern = format!(
                "^0*(({})(\\.[0-9]{{1,14}})?|{high}(\\.0{{1,14}})?)$",
                below.join("|")
            );
            json!({"type": "string", "pattern": pattern})
        }
        _ => json!({"type": "string", "pattern": super::parameters::DECIMAL}),
    };
    json!({"anyOf": [number, text]})
}

/// Rust's `char::is_whitespace` (Unicode White_Space), which `trim` removes: a required text
/// must hold something else.
const SPACE: &str =
    "\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/// The rules of a text: lengths, no NUL (no backend stores it), something besides spaces when
/// required (unless `blank`), and the descriptor's pattern and the type's format, which apply
/// to a text that is not empty.
fn text_rules(schema: &mut Json, field: &Field) {
    let object = schema.as_object_mut().expect("an object");
    if let Some(n) = field.min_length {
        object.insert("minLength".into(), n.into());
    }
    if let Some(n) = field.max_length {
        object.insert("maxLength".into(), n.into());
    }
    let filled = field.required && !field.blank;
    if field.field_type != FieldType::Choice {
        let pattern = if filled {
            format!("^[^\\u0000]*[^\\u0000{SPACE}][^\\u0000]*$")
        } else {
            "^[^\\u0000]*$".to_owned()
        };
        object.insert("pattern".into(), pattern.into());
    }
    let mut shape = Map::new();
    if let Some(pattern) = &field.pattern {
        shape.insert("pattern".into(), pattern.source.clone().into());
    }
    if let Some(format) = object.remove("format") {
        shape.insert("format".into(), format);
    }
    if shape.is_empty() {
        return;
    }
    let shape = Json::Object(shape);
    let rule = if filled {
        shape
    } else {
        json!({"anyOf": [{"maxLength": 0}, shape]})
    };
    object.insert("allOf".into(), json!([rule]));
}

/// The field's `min` and `max`, within what a 64-bit integer holds.
fn bounds(schema: &mut Json, field: &Field) {
    let integer = schema["type"] == "integer";
    if let Some(min) = field.min {
        schema["minimum"] = match integer {
            true => json!(min.max(i64::MIN as f64).ceil() as i64),
            false => json!(min),
        };
    }
    if let Some(max) = field.max {
        schema["maximum"] = match integer {
            true => json!(max.min(i64::MAX as f64).floor() as i64),
            false => json!(max),
        };
    }
}

fn allow_null(schema: &mut Json) {
    let object = schema.as_object_mut().expect("an object");
    match object.get_mut("type") {
        Some(Json::Array(types)) => types.push("null".into()),
        Some(single) => *single = json!([single.clone(), "null"]),
        None => {}
    }
    if let Some(Json::Array(values)) = object.get_mut("enum") {
        values.push(Json::Null);
    }
    if let Some(Json::Array(choices)) = object.get_mut("anyOf") {
        choices.push(json!({"type": "null"}));
    }
}

fn describe(schema: &mut Json, field: &Field) {
    schema["title"] = field.label.clone().into();
    if let (Some(target), FieldType::Reference) = (&field.target, field.field_type) {
        schema["description"] = format!("The key of a record of \"{target}\".").into();
    }
}

/// A record as the API sends it; single records also carry their inline children (lists do
/// not), whose records are those of their entity in `schema`.
pub(super) fn record_schema(entity: &Entity, schema: &Schema) -> Json {
    let mut record = own_record(entity);
    for relation in entity.inlines() {
        let Some(child) = schema.entity(&relation.target) else {
            continue;
        };
        record["properties"][&relation.name] = json!({
            "type": "array", "title": relation.label, "items": own_record(child),
            "description": format!("The \"{}\" records of this record, in key order: in single records, not in lists.", relation.target),
        });
    }
    record
}

/// A record's fields and sets.
fn own_record(entity: &Entity) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in entity.readable_fields() {
        properties.insert(field.name.clone(), output_type(field));
        required.push(field.name.clone());
    }
    for relation in entity.sets() {
        properties.insert(relation.name.clone(), set_type(relation, false));
        required.push(relation.name.clone());
    }
    json!({"type": "object", "title": entity.label, "properties": properties, "required": required, "additionalProperties": false})
}

/// The body of a create (`creating`) or of an update (every field optional), with the
/// inline children it may write.
pub(super) fn input_schema(entity: &Entity, creating: bool, schema: &Schema) -> Json {
    let mut body = own_input(entity, creating);
    for relation in entity.inlines() {
        let Some(child) = schema.entity(&relation.target) else {
            continue;
        };
        // A row with the child's key updates that child; without, it creates one, and has
        // what a create of it needs.
        let mut row = own_input(child, false);
        row["properties"][&child.primary_key] = input_type(child.key_field());
        let mut creates = own_input(child, true)["required"].clone();
        if let Some(required) = creates.as_array_mut() {
            required.retain(|name| *name != *relation.foreign_key);
        }
        let key = &child.primary_key;
        row["anyOf"] = json!([
            {"required": [key], "properties": {key: {"not": {"type": "null"}}}},
            {"required": creates}]);
        row["properties"][&relation.foreign_key] =
            json!({"description": "ignored: the children are this record's"});
        let kept = if relation.inline_delete {
            "rows left out are deleted"
        } else {
            "rows left out stay"
        };
        let mut rows = json!({
            "type": "array", "title": relation.label, "items": row,
            "description": format!("The \"{}\" records of this record: a row with a key updates that one, a row without creates one; {kept}.", relation.target),
        });
        if let Some(max) = relation.inline_max {
            rows["maxItems"] = max.into();
        }
        body["properties"][&relation.name] = rows;
    }
    body
}

/// The body of a bulk update: an update's own fields and sets (inline children are written
/// one record at a time).
pub(super) fn bulk_schema(entity: &Entity) -> Json {
    own_input(entity, false)
}

/// A body's own fields and sets.
fn own_input(entity: &Entity, creating: bool) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in &entity.fields {
        let is_key = field.name == entity.primary_key;
        // Nor what field permissions keep from the user the document is for.
        if field.read_only || field.hidden || field.locked || (is_key && entity.key_is_generated())
        {
            continue;
        }
        if is_key && !creating {
            continue;
        }
        properties.insert(field.name.clone(), input_type(field));
        if creating && (field.required || is_key) && field.default.is_none() {
            required.push(field.name.clone());
        }
    }
    for relation in entity.sets() {
        properties.insert(relation.name.clone(), set_type(relation, true));
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// A many-to-many relation on the wire: the keys of the target's records the record holds
/// (as a client sends them, the set replaces the stored one; null empties it).
fn set_type(relation: &Relation, input: bool) -> Json {
    let key = match relation.key_type() {
        FieldType::Integer if input => super::parameters::integer(),
        FieldType::Integer => json!({"type": ["integer", "string"], "pattern": "^-?[0-9]+$"}),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        _ => json!({"type": "string", "pattern": "^[^\\u0000]*$"}),
    };
    let description = if input {
        format!(
            "The keys of the \"{}\" records the record holds: replaces the stored set (the difference is written); keys that do not exist are a 409.",
            relation.target
        )
    } else {
        format!(
            "The keys of the \"{}\" records the record holds, in order.",
            relation.target
        )
    };
    let kind = if input {
        json!(["array", "null"])
    } else {
        json!("array")
    };
    json!({"type": kind, "items": key, "uniqueItems": !input, "title": relation.label, "description": description})
}
