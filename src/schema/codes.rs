//! The code of a field error, with the parameters a client needs to say it in its own language
//! (`"must be at most 200 characters long"` → `{"code": "too_long", "max": 200}`). The API sends
//! them beside the messages (`error_codes`); the app translates by them. Every message the
//! checks of this crate make has its code here; the tests hold the two together.

use serde_json::{Value as Json, json};

/// The code and parameters of `message`, or `None` for a message of no known form (a typed
/// validator's own, or a database's refusal), which a client shows as it is.
pub fn field_error_code(message: &str) -> Option<Json> {
    let plain = |code: &str| Some(json!({ "code": code }));
    let number = |text: &str| -> Json {
        text.parse::<i64>()
            .map(Json::from)
            .or_else(|_| text.parse::<f64>().map(Json::from))
            .unwrap_or_else(|_| Json::String(text.to_owned()))
    };
    let list = |text: &str| -> Json {
        text.split(", ")
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into()
    };
    match message {
        "is required" | "is required: choose at least one" => return plain("required"),
        "must be an email address" => return plain("email"),
        "must be a URL" => return plain("url"),
        "is not a field" => return plain("unknown_field"),
        "a record with this value already exists" => return plain("unique"),
        "the referenced record does not exist" => return plain("missing_reference"),
        _ => {}
    }
    let kinds = [
        ("must be an integer", "integer"),
        ("must be a number", "number"),
        ("must be a decimal number", "decimal"),
        ("must be true or false", "boolean"),
        ("must be a date (YYYY-MM-DD)", "date"),
        ("must be a date and time", "datetime"),
        ("must be a time (HH:MM:SS)", "time"),
        ("must be a UUID", "uuid"),
        ("must be a string", "string"),
    ];
    if let Some((_, kind)) = kinds.iter().find(|(text, _)| message.starts_with(text)) {
        return Some(json!({"code": "type", "type": kind}));
    }
    if let Some(rest) = message.strip_prefix("must be at least ") {
        return Some(match rest.strip_suffix(" characters long") {
            Some(n) => json!({"code": "too_short", "min": number(n)}),
            None => json!({"code": "too_small", "min": number(rest)}),
        });
    }
    if let Some(rest) = message.strip_prefix("must be at most ") {
        return Some(match rest.strip_suffix(" characters long") {
            Some(n) => json!({"code": "too_long", "max": number(n)}),
            None => json!({"code": "too_large", "max": number(rest)}),
        });
    }
    if let Some(pattern) = message.strip_prefix("must match the pattern ") {
        return Some(json!({"code": "pattern", "pattern": pattern}));
    }
    if let Some(choices) = message.strip_prefix("must be one of: ") {
        return Some(json!({"code": "one_of", "choices": list(choices)}));
    }
    if let Some(choices) = message.strip_prefix("must be a list of: ") {
        return Some(json!({"code": "list_of", "choices": list(choices)}));
    }
    if let Some((target, keys)) = message.split_once(" has no record with key ") {
        return Some(json!({"code": "missing_keys", "target": target, "keys": list(keys)}));
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::field_error_code;
    use crate::schema::{Entity, Field, WriteError, prepare_create};

    /// The messages the checks make, for a body wrong in every way, each with its code.
    #[test]
    fn every_message_of_the_checks_has_its_code() {
        let entity = Entity::new("things")
            .field(Field::integer("id").read_only())
            .field(Field::string("name").required().max_length(3))
            .field(Field::string("code").min_length(4).pattern("^[a-z]+$"))
            .field(Field::integer("size").min(1.0).max(10.0))
            .field(Field::email("contact"))
            .field(Field::url("site"))
            .field(Field::choice("kind", ["a", "b"]))
            .field(Field::date("day"))
            .field(Field::boolean("on"));
        let body = |value: serde_json::Value| -> Map<String, serde_json::Value> {
            value.as_object().unwrap().clone()
        };
        let errors = |value| match prepare_create(&entity, &body(value)) {
            Err(WriteError::Invalid(errors)) => errors,
            other => panic!("{other:?}"),
        };
        let codes = |value| {
            errors(value)
                .into_iter()
                .map(|(field, message)| {
                    let code = field_error_code(&message)
                        .unwrap_or_else(|| panic!("no code for {message:?}"));
                    (field, code)
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let found = codes(json!({
            "name": "long", "code": "ab", "size": 11, "contact": "x", "site": "nope",
            "kind": "c", "day": "tomorrow", "on": "maybe",
        }));
        assert_eq!(found["name"], json!({"code": "too_long", "max": 3}));
        assert_eq!(found["code"], json!({"code": "too_short", "min": 4}));
        assert_eq!(found["size"], json!({"code": "too_large", "max": 10}));
        assert_eq!(found["contact"], json!({"code": "email"}));
        assert_eq!(found["site"], json!({"code": "url"}));
        assert_eq!(
            found["kind"],
            json!({"code": "one_of", "choices": ["a", "b"]})
        );
        assert_eq!(found["day"], json!({"code": "type", "type": "date"}));
        assert_eq!(found["on"], json!({"code": "type", "type": "boolean"}));
        let found = codes(json!({"code": "ABCDE", "size": 0}));
        assert_eq!(found["name"], json!({"code": "required"}));
        assert_eq!(
            found["code"],
            json!({"code": "pattern", "pattern": "^[a-z]+$"})
        );
        assert_eq!(found["size"], json!({"code": "too_small", "min": 1}));
        assert_eq!(
            field_error_code("tags has no record with key 7, 9"),
            Some(json!({"code": "missing_keys", "target": "tags", "keys": ["7", "9"]}))
        );
        assert_eq!(field_error_code("my own rule says no"), None);
    }
}
