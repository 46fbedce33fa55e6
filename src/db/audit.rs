//! The audit log: every create, update and delete writes a row (who, when, entity, record,
//! action, the changed fields before and after, passwords redacted) in the same transaction as
//! the change, to autoadmin's own table. The table is also a read-only entity, `_audit`, so it
//! is listed, filtered and permission-checked like any other.

use serde_json::{Map, Value as Json};

use super::sql::{self, Sql};
use super::{Conn, Db, Dialect, EntityRef, Error, Record};
use crate::schema::{Entity, Field, FieldType, Value};

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
        let ddl = match self.dialect() {
            Dialect::Postgres => {
                "CREATE TABLE IF NOT EXISTS autoadmin_audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor VARCHAR(200), entity VARCHAR(200) NOT NULL, record_id VARCHAR(200) NOT NULL, action VARCHAR(20) NOT NULL, old_values JSONB, new_values JSONB); CREATE INDEX IF NOT EXISTS autoadmin_audit_record ON autoadmin_audit (entity, record_id)"
            }
            Dialect::MySql => {
                "CREATE TABLE IF NOT EXISTS autoadmin_audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6) NOT NULL, actor VARCHAR(200), entity VARCHAR(200) NOT NULL, record_id VARCHAR(200) NOT NULL, action VARCHAR(20) NOT NULL, old_values JSON, new_values JSON, INDEX autoadmin_audit_record (entity, record_id)) DEFAULT CHARSET = utf8mb4"
            }
            Dialect::Sqlite => {
                "CREATE TABLE IF NOT EXISTS autoadmin_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TIMESTAMP NOT NULL, actor VARCHAR(200), entity VARCHAR(200) NOT NULL, record_id VARCHAR(200) NOT NULL, action VARCHAR(20) NOT NULL, old_values JSON, new_values JSON); CREATE INDEX IF NOT EXISTS autoadmin_audit_record ON autoadmin_audit (entity, record_id)"
            }
        };
        self.execute_script(ddl).await
    }
}

/// What a write did, for its audit row.
pub(super) struct Change<'a> {
    pub actor: Option<&'a str>,
    pub action: &'static str,
    pub before: Option<&'a Record>,
    pub after: Option<&'a Record>,
    /// Password fields the write set: recorded as changed, never their value.
    pub passwords: Vec<String>,
}

/// The INSERT of the audit row for `change` to a record of `entity`, or `None` when the
/// schema has no audit log (it is added by the admin builder).
fn row(db: &Db, entity: &EntityRef, change: &Change<'_>) -> Option<Sql> {
    let audit = EntityRef::new(&entity.schema, ENTITY)?;
    if entity.name == ENTITY {
        return None;
    }
    let record = change.after.or(change.before)?;
    let key = match record.get(&entity.primary_key) {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let (before, after) = match (change.before, change.after) {
        (Some(before), Some(after)) => {
            let (old, new) = diff(before, after);
            (Some(old), Some(new))
        }
        (before, after) => (before.cloned(), after.cloned()),
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
    let value = |v: Option<Json>| v.map_or(Value::Null(crate::schema::Kind::Json), Value::Json);
    let text = |s: &str| Value::Text(s.to_owned());
    let columns = [
        ("at", Value::DateTime(chrono::Utc::now())),
        (
            "actor",
            change
                .actor
                .map_or(Value::Null(crate::schema::Kind::Text), text),
        ),
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

impl<'a> Change<'a> {
    /// The deletion of `record`.
    pub fn deleted(actor: Option<&'a str>, record: &'a Record) -> Change<'a> {
        Change {
            actor,
            action: "delete",
            before: Some(record),
            after: None,
            passwords: Vec::new(),
        }
    }
}

/// Writes the audit row of `change` inside the write's transaction (`conn`).
pub(super) async fn record(
    conn: &mut Conn<'_>,
    db: &Db,
    entity: &EntityRef,
    change: &Change<'_>,
) -> Result<(), sqlx::Error> {
    if let Some(sql) = row(db, entity, change) {
        // PostgreSQL and SQLite add RETURNING to inserts: fetching drains it.
        let mut rows = conn.fetch(&sql);
        use futures_util::TryStreamExt;
        while rows.try_next().await?.is_some() {}
    }
    Ok(())
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
