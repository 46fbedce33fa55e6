//! Turns a client's JSON body into the values to write, checking every rule of the
//! descriptor and reporting every failing field at once.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use validator::{ValidateEmail, ValidateUrl};

use super::value::{self, Value};
use super::{Entity, Field, FieldType};

/// Field name → message, in a stable order.
pub type FieldErrors = BTreeMap<String, String>;

/// Why a body cannot be written.
#[derive(Debug, PartialEq)]
pub enum WriteError {
    /// Keys that are not fields of the entity: a client bug, reported as 400.
    UnknownKeys(Vec<String>),
    /// Rule violations, reported as 422 with every field.
    Invalid(FieldErrors),
    /// Fields the writer may read and not change (field permissions): 403, naming them.
    Forbidden(FieldErrors),
}

/// What a write that changes a field locked for its writer is told.
const LOCKED: &str = "is read-only for you";

/// The columns a write sets: index into `entity.fields`, and the value.
pub type Changes = Vec<(usize, Value)>;

/// Prepares an insert: defaults applied, generated keys left out (or made, for uuids).
/// A value given to a field locked for the writer is refused (403).
pub fn prepare_create(entity: &Entity, body: &Map<String, Json>) -> Result<Changes, WriteError> {
    let locked: FieldErrors = entity
        .fields
        .iter()
        .filter(|f| f.locked && body.get(&f.name).is_some_and(|v| !v.is_null()))
        .map(|f| (f.name.clone(), LOCKED.to_owned()))
        .collect();
    if !locked.is_empty() {
        return Err(WriteError::Forbidden(locked));
    }
    prepare(entity, body, None)
}

/// Prepares an update of `existing` (the stored record as we send it): only the fields in the
/// body are checked and written, and of those only the ones whose value differs from the
/// stored one (none: nothing to write). A field the body does not touch is never checked:
/// its stored value is one the database holds.
pub fn prepare_update(
    entity: &Entity,
    body: &Map<String, Json>,
    existing: &Map<String, Json>,
) -> Result<Changes, WriteError> {
    // A field locked for the writer may be sent back as it is stored (a client that sends
    // the whole record), not changed.
    let locked: FieldErrors = entity
        .fields
        .iter()
        .filter(|f| f.locked)
        .filter_map(|field| {
            let given = body.get(&field.name)?;
            let same = value::from_json(field.value_type(), given, &field.choices)
                .ok()
                .is_some_and(|given| !changes(field, &given, existing));
            (!same).then(|| (field.name.clone(), LOCKED.to_owned()))
        })
        .collect();
    if !locked.is_empty() {
        return Err(WriteError::Forbidden(locked));
    }
    let mut changed = prepare(entity, body, Some(existing))?;
    changed.retain(|(index, value)| changes(&entity.fields[*index], value, existing));
    Ok(changed)
}

/// Checks an update's body with no record at hand (a batch that names none): its fields and
/// their values, as [`prepare_update`] would, so that a body no record could take is refused
/// however many records it goes to.
pub fn check_update(entity: &Entity, body: &Map<String, Json>) -> Result<(), WriteError> {
    prepare(entity, body, Some(&Map::new())).map(drop)
}

/// Whether writing `value` to `field` changes what `existing` holds.
fn changes(field: &Field, value: &Value, existing: &Map<String, Json>) -> bool {
    let stored = existing
        .get(&field.name)
        .and_then(|json| value::from_json(field.value_type(), json, &field.choices).ok());
    match (value, stored) {
        // A password is never read back: setting one is always a change.
        (_, None) => true,
        (Value::Decimal(new), Some(Value::Decimal(old))) => !value::same_decimal(new, &old),
        (new, Some(old)) => *new != old,
    }
}

fn prepare(
    entity: &Entity,
    body: &Map<String, Json>,
    existing: Option<&Map<String, Json>>,
) -> Result<Changes, WriteError> {
    let unknown: Vec<String> = body
        .keys()
        .filter(|k| entity.find_field(k).is_none_or(|f| f.hidden))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(WriteError::UnknownKeys(unknown));
    }
    let creating = existing.is_none();
    let mut errors = FieldErrors::new();
    let mut changes = Changes::new();
    for (index, field) in entity.fields.iter().enumerate() {
        if field.hidden {
            // Not the writer's: the database's default, or what is stored, stays.
            continue;
        }
        let is_key = field.name == entity.primary_key;
        if is_key && creating && entity.key_is_generated() {
            if field.field_type == FieldType::Uuid {
                changes.push((index, Value::Uuid(uuid::Uuid::new_v4())));
            }
            continue;
        }
        // Keys are immutable through the API, and read-only fields are the database's.
        let writable = !field.read_only && (!is_key || creating);
        let provided = body.get(&field.name).filter(|_| writable);
        let candidate = match (provided, existing) {
            (Some(json), _) => Some(json),
            (None, None) if writable => field.default.as_ref(),
            // An update checks only what it writes.
            (None, Some(_)) => continue,
            (None, None) => None,
        };
        if field.read_only && !is_key {
            continue;
        }
        if is_key && creating && candidate.is_none_or(Json::is_null) {
            errors.insert(field.name.clone(), "is required".into());
            continue;
        }
        match check_field(field, candidate, creating || provided.is_some()) {
            Ok(Some(value)) if provided.is_some() || (creating && writable) => {
                changes.push((index, value));
            }
            Ok(_) => {}
            Err(message) => {
                errors.insert(field.name.clone(), message);
            }
        }
    }
    if let Some(typed) = entity.typed_validator() {
        let mut merged = existing.cloned().unwrap_or_default();
        for (key, json) in body {
            merged.insert(key.clone(), json.clone());
        }
        for (name, message) in typed.validate(&merged) {
            if entity.find_field(&name).is_some_and(|f| f.hidden) {
                // Not the writer's to see, nor to fix.
                continue;
            }
            // On update, an untouched field's stored value is not the writer's to fix.
            if creating || body.contains_key(&name) || entity.find_field(&name).is_none() {
                errors.entry(name).or_insert(message);
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(WriteError::Invalid(errors))
    }
}

/// Checks one field's value against its rules. `None` is an absent value; `must_have` says
/// whether absence counts as missing (it does not for a password left unchanged on update).
fn check_field(
    field: &Field,
    json: Option<&Json>,
    must_have: bool,
) -> Result<Option<Value>, String> {
    let json = match json {
        None if field.required && must_have => return Err("is required".into()),
        None => return Ok(None),
        Some(json) => json,
    };
    let value = value::from_json(field.value_type(), json, &field.choices)?;
    match &value {
        Value::Null(_) if field.required => return Err("is required".into()),
        Value::Null(_) if !field.is_nullable() => return Err("must not be null".into()),
        Value::Text(text) => check_text(field, text)?,
        Value::Texts(texts) if field.required && texts.is_empty() => {
            return Err("is required: choose at least one".into());
        }
        Value::Int(i) => check_range(field, *i as f64)?,
        Value::Float(f) => check_range(field, *f)?,
        Value::Decimal(text) => check_decimal_range(field, text)?,
        _ => {}
    }
    Ok(Some(value))
}

fn check_text(field: &Field, text: &str) -> Result<(), String> {
    if field.required && !field.blank && text.trim().is_empty() {
        return Err("is required".into());
    }
    let n_chars = text.chars().count() as u64;
    if let Some(min) = field.min_length
        && n_chars < min
    {
        return Err(format!("must be at least {min} characters long"));
    }
    if let Some(max) = field.max_length
        && n_chars > max
    {
        return Err(format!("must be at most {max} characters long"));
    }
    // An empty optional value is "no value": format rules do not apply to it.
    if text.is_empty() {
        return Ok(());
    }
    if let Some(pattern) = &field.pattern
        && !pattern.regex.is_match(text)
    {
        return Err(format!("must match the pattern {}", pattern.source));
    }
    match field.field_type {
        FieldType::Email if !text.validate_email() => Err("must be an email address".into()),
        FieldType::Url if !text.validate_url() => Err("must be a URL".into()),
        _ => Ok(()),
    }
}

fn check_range(field: &Field, n: f64) -> Result<(), String> {
    if let Some(min) = field.min
        && n < min
    {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = field.max
        && n > max
    {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// `min`/`max` of a decimal, compared exactly (not as floats: 5.000000000000000001 is more
/// than 5).
fn check_decimal_range(field: &Field, text: &str) -> Result<(), String> {
    use std::cmp::Ordering;
    if let Some(min) = field.min
        && value::compare_decimal(text, min) == Some(Ordering::Less)
    {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = field.max
        && value::compare_decimal(text, max) == Some(Ordering::Greater)
    {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// Validates a full record for callers that only want the verdict.
pub fn validate_record(entity: &Entity, record: &Map<String, Json>) -> Result<(), FieldErrors> {
    match prepare_create(entity, record) {
        Ok(_) => Ok(()),
        Err(WriteError::Invalid(errors) | WriteError::Forbidden(errors)) => Err(errors),
        Err(WriteError::UnknownKeys(keys)) => Err(keys
            .into_iter()
            .map(|k| (k, "is not a field".to_owned()))
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Entity, Field, Schema};
    use serde_json::json;

    fn posts() -> Entity {
        let schema = Schema::new(vec![
            Entity::new("posts")
                .field(Field::integer("id"))
                .field(Field::string("title").required().max_length(10))
                .field(
                    Field::choice("status", ["draft", "published"]).default_value(json!("draft")),
                )
                .field(Field::integer("rating").min(1.0).max(5.0))
                .field(Field::email("contact"))
                .field(Field::string("code").pattern("^[A-Z]{3}$"))
                .field(Field::datetime("created_at").read_only()),
        ])
        .unwrap();
        schema.entity("posts").unwrap().clone()
    }

    fn body(json: Json) -> Map<String, Json> {
        json.as_object().unwrap().clone()
    }

    fn names(entity: &Entity, changes: &Changes) -> Vec<String> {
        changes
            .iter()
            .map(|(i, v)| format!("{}={v:?}", entity.fields[*i].name))
            .collect()
    }

    #[test]
    fn create_applies_defaults_and_ignores_generated_and_read_only() {
        let entity = posts();
        let changes = prepare_create(
            &entity,
            &body(json!({"id": 99, "title": "Hi", "created_at": "2024-01-01"})),
        )
        .unwrap();
        assert_eq!(
            names(&entity, &changes),
            ["title=Text(\"Hi\")", "status=Text(\"draft\")"]
        );
    }

    #[test]
    fn every_failing_field_is_reported() {
        let entity = posts();
        let err = prepare_create(
            &entity,
            &body(json!({"rating": 9, "contact": "nope", "code": "abc", "status": "gone"})),
        )
        .unwrap_err();
        let WriteError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        assert_eq!(errors["title"], "is required");
        assert_eq!(errors["rating"], "must be at most 5");
        assert_eq!(errors["contact"], "must be an email address");
        assert_eq!(errors["code"], "must match the pattern ^[A-Z]{3}$");
        assert_eq!(errors["status"], "must be one of: draft, published");
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = prepare_create(&posts(), &body(json!({"title": "x", "titel": "y"}))).unwrap_err();
        assert_eq!(err, WriteError::UnknownKeys(vec!["titel".into()]));
    }

    #[test]
    fn decimal_bounds_compare_exactly() {
        let schema = Schema::new(vec![
            Entity::new("prices")
                .field(Field::integer("id"))
                .field(Field::decimal("price").min(0.1).max(5.0)),
        ])
        .unwrap();
        let entity = schema.entity("prices").unwrap();
        let check = |price: &str| match prepare_create(entity, &body(json!({"price": price}))) {
            Ok(_) => "ok".to_owned(),
            Err(WriteError::Invalid(errors)) => errors["price"].clone(),
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(check("5"), "ok");
        assert_eq!(check("5.000000000000000000"), "ok");
        assert_eq!(check("5.000000000000000001"), "must be at most 5");
        assert_eq!(check("0.1"), "ok");
        assert_eq!(check("0.0999999999999999999"), "must be at least 0.1");
    }

    #[test]
    fn an_update_to_the_stored_values_changes_nothing() {
        let entity = posts();
        let existing = body(json!({"id": 1, "title": "Old", "status": "draft", "rating": 3}));
        let same = body(json!({"title": "Old", "status": "draft", "rating": 3}));
        assert_eq!(
            prepare_update(&entity, &same, &existing).unwrap(),
            Vec::new()
        );
        let changes = prepare_update(
            &entity,
            &body(json!({"title": "Old", "rating": 4})),
            &existing,
        )
        .unwrap();
        assert_eq!(names(&entity, &changes), ["rating=Int(4)"]);
    }

    #[test]
    fn update_writes_and_checks_only_given_fields() {
        let entity = posts();
        let existing = body(json!({"id": 1, "title": "Old", "status": "draft", "rating": 3}));
        let changes = prepare_update(&entity, &body(json!({"rating": 4})), &existing).unwrap();
        assert_eq!(names(&entity, &changes), ["rating=Int(4)"]);
        let err = prepare_update(&entity, &body(json!({"title": ""})), &existing).unwrap_err();
        assert_eq!(
            err,
            WriteError::Invalid([("title".to_owned(), "is required".to_owned())].into())
        );
        // Stored values the rules would refuse (a title made blank, or too long, outside
        // autoadmin) do not stop a write of other fields.
        let stored = body(json!({"id": 1, "title": "", "status": "draft", "rating": 9}));
        let changes =
            prepare_update(&entity, &body(json!({"status": "published"})), &stored).unwrap();
        assert_eq!(names(&entity, &changes), ["status=Text(\"published\")"]);
    }

    #[test]
    fn blank_text_is_a_value_when_the_field_says_so() {
        let schema = Schema::new(vec![
            Entity::new("users")
                .field(Field::integer("id"))
                .field(Field::string("first_name").required().blank())
                .field(Field::string("last_name").required()),
        ])
        .unwrap();
        let users = schema.entity("users").unwrap();
        let err =
            prepare_create(users, &body(json!({"first_name": "", "last_name": " "}))).unwrap_err();
        assert_eq!(
            err,
            WriteError::Invalid([("last_name".to_owned(), "is required".to_owned())].into())
        );
        let err = prepare_create(users, &body(json!({"first_name": null, "last_name": "x"})))
            .unwrap_err();
        assert_eq!(
            err,
            WriteError::Invalid([("first_name".to_owned(), "is required".to_owned())].into())
        );
        assert!(prepare_create(users, &body(json!({"first_name": "", "last_name": "x"}))).is_ok());
    }
}
