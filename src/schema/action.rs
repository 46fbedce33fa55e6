//! Actions declared in descriptors (Django admin's actions): a named change such as
//! `publish = { status = "published", published_at = "now" }`, run on one record or a
//! selection, server-side, in one transaction, audited. No SQL: an action is a bulk update
//! with values the descriptor fixes.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::{Entity, FieldType, default_label, value};

/// The value that means "the moment the action runs", for a date or datetime field.
pub const NOW: &str = "now";

/// The permissions an action may require (those of the entity's actions).
pub const PERMISSIONS: [&str; 4] = ["view", "add", "edit", "delete"];

/// An action of an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityAction {
    pub name: String,
    pub label: String,
    /// What the action writes: a field or many-to-many relation, and its value (`"now"` for a
    /// date or datetime field is the moment the action runs).
    pub set: Vec<(String, Json)>,
    /// The app asks before it runs the action.
    pub confirm: bool,
    /// The permission on the entity it needs: `"edit"` unless declared.
    pub permission: String,
}

impl EntityAction {
    pub fn new(name: impl Into<String>) -> EntityAction {
        let name = name.into();
        EntityAction {
            label: default_label(&name),
            name,
            set: Vec::new(),
            confirm: false,
            permission: "edit".to_owned(),
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> EntityAction {
        self.label = label.into();
        self
    }
    /// Sets `field` to `value` when the action runs.
    pub fn set(mut self, field: impl Into<String>, value: Json) -> EntityAction {
        self.set.push((field.into(), value));
        self
    }
    pub fn confirm(mut self) -> EntityAction {
        self.confirm = true;
        self
    }
    pub fn permission(mut self, permission: impl Into<String>) -> EntityAction {
        self.permission = permission.into();
        self
    }

    /// The body of the update the action makes at `now`.
    pub fn body(&self, entity: &Entity, now: DateTime<Utc>) -> Map<String, Json> {
        self.set
            .iter()
            .map(|(name, value)| {
                let kind = entity.find_field(name).map(|f| f.field_type);
                let value = match (kind, value.as_str()) {
                    (Some(FieldType::Datetime), Some(NOW)) => {
                        Json::String(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    }
                    (Some(FieldType::Date), Some(NOW)) => {
                        Json::String(now.date_naive().to_string())
                    }
                    _ => value.clone(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// What is wrong with the action on `entity`: `(field, message)`.
    pub(crate) fn check(&self, entity: &Entity) -> Result<(), (Option<String>, String)> {
        let at = |field: &str, message: String| Err((Some(field.to_owned()), message));
        let own = |message: String| Err((None, format!("action \"{}\": {message}", self.name)));
        if !super::check::is_name(&self.name) {
            return own("the name must be letters, digits, _ or -".into());
        }
        if !PERMISSIONS.contains(&self.permission.as_str()) {
            return own(format!(
                "permission must be one of: {}, not \"{}\"",
                PERMISSIONS.join(", "),
                self.permission
            ));
        }
        if self.set.is_empty() {
            return own("set names no field: an action sets at least one".into());
        }
        for (name, value) in &self.set {
            if entity.sets().any(|r| &r.name == name) {
                if !value.is_array() {
                    return at(
                        name,
                        format!(
                            "action \"{}\": a many-to-many relation is set to a list of keys",
                            self.name
                        ),
                    );
                }
                continue;
            }
            let Some(field) = entity.find_field(name) else {
                return at(
                    name,
                    format!("action \"{}\" sets an unknown field", self.name),
                );
            };
            if field.read_only || *name == entity.primary_key {
                return at(
                    name,
                    format!("action \"{}\" sets a read-only field", self.name),
                );
            }
            let now = value.as_str() == Some(NOW);
            if now && matches!(field.field_type, FieldType::Date | FieldType::Datetime) {
                continue;
            }
            if let Err(message) = value::from_json(field.value_type(), value, &field.choices) {
                return at(name, format!("action \"{}\": {message}", self.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::EntityAction;
    use crate::schema::{Entity, Field};

    #[test]
    fn now_is_the_moment_it_runs_for_dates_and_datetimes_only() {
        let entity = Entity::new("posts")
            .field(Field::integer("id"))
            .field(Field::string("status"))
            .field(Field::datetime("published_at"))
            .field(Field::date("day"));
        let action = EntityAction::new("publish")
            .set("status", json!("now"))
            .set("published_at", json!("now"))
            .set("day", json!("now"));
        let at = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 5).unwrap();
        let body = action.body(&entity, at);
        assert_eq!(
            serde_json::Value::Object(body),
            json!({"status": "now", "published_at": "2026-03-01T23:30:05Z", "day": "2026-03-01"})
        );
        assert_eq!(action.label, "Publish");
        assert_eq!(action.permission, "edit");
    }
}
