//! The audit log: every create, update and delete writes a row (who, when, entity, record,
//! action, the changed fields before and after, passwords redacted, the request, and the
//! delete that caused it when it was a cascade) in the same transaction as the change, to
//! autoadmin's own table. The table is also a read-only entity, `_audit`, so it is listed,
//! filtered and permission-checked like any other.

use serde_json::{Map, Value as Json};

use super::sql::{self, Sql};
use super::{Db, EntityRef, Error, Record};
use crate::schema::{Entity, Field, FieldType, Kind, Value};

/// The entity name of the audit log.
pub const ENTITY: &str = crate::schema::AUDIT_ENTITY;
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
        .filters([
            "at",
            "actor",
            "entity",
            "record_id",
            "action",
            "request_id",
            "cause",
        ])
        .field(Field::integer("id").read_only())
        .field(Field::datetime("at").required())
        .field(Field::string("actor"))
        .field(Field::string("entity").required())
        .field(Field::string("record_id").label("Record").required())
        .field(Field::choice("action", ["create", "update", "delete"]).required())
        .field(Field::json("before").column("old_values"))
        .field(Field::json("after").column("new_values"))
        .field(Field::string("request_id").label("Request"))
        .field(Field::string("cause").label("Caused by"))
}

impl Db {
    /// Creates the audit table if it is not there, and adds what older versions of it lack.
    pub async fn ensure_audit_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().audit_table()).await?;
        // Tables made before request ids and causes were recorded.
        if self
            .execute_script("SELECT request_id, cause FROM autoadmin_audit WHERE 1 = 0")
            .await
            .is_err()
        {
            for column in ["request_id VARCHAR(64)", "cause VARCHAR(250)"] {
                // One of them may be there already.
                let _ = self
                    .execute_script(&format!("ALTER TABLE autoadmin_audit ADD COLUMN {column}"))
                    .await;
            }
        }
        // Restoring a delete finds its cascade by request.
        self.ensure_index("autoadmin_audit_request", TABLE, "request_id")
            .await;
        Ok(())
    }
}

/// Who made a write, and in which request: recorded on every audit row it writes.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user: Option<String>,
    pub request_id: Option<String>,
}

/// What a write did to one record, for its audit row.
#[derive(Clone, Debug)]
pub(super) struct Change {
    /// The entity recorded: the record's entity, or its table's name when no entity
    /// describes it (a row a cascade reached).
    pub entity: String,
    pub record_id: String,
    pub action: &'static str,
    pub before: Option<Record>,
    pub after: Option<Record>,
    /// Password fields the write set: recorded as changed, never their value.
    pub passwords: Vec<String>,
    /// The delete that caused this change (`posts/7`), when the database did it by cascade.
    pub cause: Option<String>,
}

/// A record's key as text, as the audit log keeps it.
pub(super) fn record_id(entity: &Entity, record: &Record) -> String {
    match record.get(&entity.primary_key) {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl Change {
    fn new(
        entity: &Entity,
        action: &'static str,
        before: Option<Record>,
        after: Option<Record>,
    ) -> Change {
        // An inline relation's children are audited as their own rows, not in the parent's.
        let before = before.map(|r| super::inline::without_children(entity, r));
        let after = after.map(|r| super::inline::without_children(entity, r));
        let record = after.as_ref().or(before.as_ref());
        Change {
            entity: entity.name.clone(),
            record_id: record.map(|r| record_id(entity, r)).unwrap_or_default(),
            action,
            before,
            after,
            passwords: Vec::new(),
            cause: None,
        }
    }

    /// The creation of `record`.
    pub fn created(entity: &Entity, record: Record, passwords: Vec<String>) -> Change {
        Change {
            passwords,
            ..Change::new(entity, "create", None, Some(record))
        }
    }

    /// An update from `before` to `after`.
    pub fn updated(
        entity: &Entity,
        before: Record,
        after: Record,
        passwords: Vec<String>,
    ) -> Change {
        Change {
            passwords,
            ..Change::new(entity, "update", Some(before), Some(after))
        }
    }

    /// The deletion of `record`.
    pub fn deleted(entity: &Entity, record: Record) -> Change {
        Change::new(entity, "delete", Some(record), None)
    }

    /// The same change, made by the database because of the delete of `cause`.
    pub fn caused_by(mut self, cause: String) -> Change {
        self.cause = Some(cause);
        self
    }
}

/// The INSERT of the audit row for `change` by `actor`, or `None` when the schema has no
/// audit log (the admin builder adds it), the change is to the log itself or to a user's
/// own rows. `schema_entity`
/// is any entity of the schema (the log is found beside it).
pub(super) fn insert(
    db: &Db,
    schema_entity: &EntityRef,
    actor: &Actor,
    change: &Change,
) -> Option<Sql> {
    let audit = schema_entity.sibling(ENTITY)?;
    let changes = row(&audit, schema_entity, actor, change)?;
    Some(sql::insert(db.dialect(), &db.catalog, &audit, changes))
}

/// The INSERT of the audit rows of `changes` (all of one entity: a batch of an import) in
/// one statement, or `None` when they take none (as [`insert`] says).
pub(super) fn insert_many(
    db: &Db,
    schema_entity: &EntityRef,
    actor: &Actor,
    changes: &[Change],
) -> Option<Sql> {
    let audit = schema_entity.sibling(ENTITY)?;
    let rows: Vec<Vec<(usize, Value)>> = changes
        .iter()
        .filter_map(|change| row(&audit, schema_entity, actor, change))
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(sql::insert_many(
        db.dialect(),
        &db.catalog,
        &audit,
        rows,
        false,
    ))
}

/// The columns of the audit row of `change`, or `None` when it takes none.
fn row(
    audit: &Entity,
    schema_entity: &EntityRef,
    actor: &Actor,
    change: &Change,
) -> Option<Vec<(usize, Value)>> {
    // Nor a user's own rows (saved views): the log is read by others.
    let private = |name: &str| schema_entity.sibling(name).is_some_and(|e| e.per_user);
    if change.entity == ENTITY || private(&change.entity) {
        return None;
    }
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
    let text = |s: Option<&str>| s.map_or(Value::Null(Kind::Text), |s| Value::Text(s.to_owned()));
    let columns = [
        ("at", Value::DateTime(chrono::Utc::now())),
        ("actor", text(actor.user.as_deref())),
        ("entity", text(Some(&change.entity))),
        ("record_id", text(Some(&change.record_id))),
        ("action", text(Some(change.action))),
        ("before", value(before)),
        ("after", value(after)),
        ("request_id", text(actor.request_id.as_deref())),
        ("cause", text(change.cause.as_deref())),
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
    Some(changes)
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
