//! The audit log: every create, update and delete writes a row (who, when, entity, record,
//! action, the changed fields before and after, passwords redacted) in the same transaction as
//! the change, to autoadmin's own table. The table is also a read-only entity, `_audit`, so it
//! is listed, filtered and permission-checked like any other.

use serde_json::{Map, Value as Json};

use super::sql::{self, Sql};
use super::{Db, EntityRef, Error, Record};
use crate::schema::{Entity, Field, FieldType, Kind, Value};

/// The entity name of the audit log.
pub const ENTITY: &str = "_audit";
const TABLE: &str = "autoadmin_audit";

/// The audit log as an entity: read-only, newest first.
pub fn entity() -> Entity {
    Entity::new(ENTITY)
        .table(TABLE)
        .label("Audit log")
        .read_only()
        .default_sort("-id")
        .list_columns(["id", "at", "actor", "entity", "record_id", "action"])
        .search(["actor", "entity", "record_id"])
        .filters(["at", "actor", "entity", "record_id", "action"])
        .field(Field::integer("id").read_only())
        .field(Field::datetime("at").required())
        .field(Field::string("actor"))
        .field(Field::string("entity").required())
        .field(Field::string("record_id").label("Record").required())
        .field(Field::choice("action", ["create", "update", "delete"]).required())
        .field(Field::json("before").column("old_values"))
        .field(Field::json("after").column("new_values"))
}

impl Db {
    /// Creates the audit table if it is not there.
    pub async fn ensure_audit_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().audit_table()).await
    }
}

/// What a write did to one record, for its audit row.
pub(super) struct Change {
    pub action: &'static str,
    pub before: Option<Record>,
    pub after: Option<Record>,
    /// Password fields the write set: recorded as changed, never their value.
    pub passwords: Vec<String>,
}

impl Change {
    /// The creation of `record`.
    pub fn created(record: Record, passwords: Vec<String>) -> Change {
        Change {
            action: "create",
            before: None,
            after: Some(record),
            passwords,
        }
    }

    /// An update from `before` to `after`.
    pub fn updated(before: Record, after: Record, passwords: Vec<String>) -> Change {
        Change {
            action: "update",
            before: Some(before),
            after: Some(after),
            passwords,
        }
    }

    /// The deletion of `record`.
    pub fn deleted(record: Record) -> Change {
        Change {
            action: "delete",
            before: Some(record),
            after: None,
            passwords: Vec::new(),
        }
    }
}

/// The INSERT of the audit row for `change` to a record of `entity` by `actor`, or `None`
/// when the schema has no audit log (the admin builder adds it) or the record is the log's.
pub(super) fn insert(
    db: &Db,
    entity: &EntityRef,
    actor: Option<&str>,
    change: &Change,
) -> Option<Sql> {
    let audit = entity.sibling(ENTITY)?;
    if entity.name == ENTITY {
        return None;
    }
    let record = change.after.as_ref().or(change.before.as_ref())?;
    let key = match record.get(&entity.primary_key) {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let (before, after) = match (&change.before, &change.after) {
        (Some(before), Some(after)) => {
            let (old, new) = diff(before, after);
            (Some(old), Some(new))
        }
        (before, after) => (before.clone(), after.clone()),
    };
    let redact = |values: Option<Map<String, Json>>| {
        let mut values = values?;
        for name in &change.passwords {
            values.insert(name.clone(), Json::String("(changed)".into()));
        }
        Some(Json::Object(values))
    };
    let after = redact(after.or_else(|| (!change.passwords.is_empty()).then(Map::new)));
    let before = match change.before {
        Some(_) => redact(before),
        None => None,
    };
    let value = |v: Option<Json>| v.map_or(Value::Null(Kind::Json), Value::Json);
    let text = |s: &str| Value::Text(s.to_owned());
    let columns = [
        ("at", Value::DateTime(chrono::Utc::now())),
        ("actor", actor.map_or(Value::Null(Kind::Text), text)),
        ("entity", text(&entity.name)),
        ("record_id", Value::Text(key)),
        ("action", text(change.action)),
        ("before", value(before)),
        ("after", value(after)),
    ];
    let changes = columns
        .into_iter()
        .map(|(name, v)| {
            (
                audit
                    .fields
                    .iter()
                    .position(|f| f.name == name)
                    .expect("audit field"),
                v,
            )
        })
        .collect();
    Some(sql::insert(db.dialect(), &db.catalog, &audit, changes))
}

/// The fields whose values differ, before and after.
fn diff(before: &Record, after: &Record) -> (Record, Record) {
    let mut old = Map::new();
    let mut new = Map::new();
    for (name, value) in after {
        if before.get(name) != Some(value) {
            old.insert(
                name.clone(),
                before.get(name).cloned().unwrap_or(Json::Null),
            );
            new.insert(name.clone(), value.clone());
        }
    }
    (old, new)
}

/// Password fields among the written ones.
pub(super) fn passwords(entity: &Entity, written: &[(usize, Value)]) -> Vec<String> {
    written
        .iter()
        .map(|(i, _)| &entity.fields[*i])
        .filter(|f| f.field_type == FieldType::Password)
        .map(|f| f.name.clone())
        .collect()
}
