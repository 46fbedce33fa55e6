//! Writes made outside autoadmin (`[admin] watch_external = true`, PostgreSQL): a trigger on
//! each entity's table records them in the audit log, as autoadmin records its own, so they
//! are in every record's history and reach the live updates
//! (`migrations/postgres/autoadmin_external.sql`).

use serde_json::{Map, Value as Json};

use super::{Db, Error, audit};
use crate::schema::{Entity, FieldType, Schema};

impl Db {
    /// Puts the trigger on the table of each entity of `schema` (once per table; one already
    /// there with the same arguments is left alone). A table it cannot be put on (a view, a
    /// table of another owner) is said in the log and left unwatched. On a database without
    /// triggers for this (MySQL, SQLite), the log says so and nothing is done.
    pub async fn watch_external(&self, schema: &Schema) -> Result<(), Error> {
        let mut tables = Vec::new();
        for entity in schema.entities() {
            if entity.name == audit::ENTITY || entity.per_user || tables.contains(&&entity.table) {
                continue;
            }
            tables.push(&entity.table);
            let mut table = String::new();
            self.dialect().quote(&entity.table, &mut table);
            let Some((function, script)) =
                self.dialect().watch_external(&table, &arguments(entity))
            else {
                tracing::warn!(
                    "watch_external: only PostgreSQL's triggers can see writes made outside autoadmin; ignored"
                );
                return Ok(());
            };
            if tables.len() == 1
                && let Err(error) = self.execute_script(function).await
            {
                tracing::warn!("watch_external: cannot make the trigger function: {error}");
                return Ok(());
            }
            if let Err(error) = self.execute_script(&script).await {
                tracing::warn!(
                    entity = %entity.name,
                    "watch_external: writes made outside autoadmin to {} are not seen: {error}",
                    entity.table
                );
            }
        }
        Ok(())
    }
}

/// The trigger's arguments for `entity`: its name, its key column, `{column: field}` of its
/// readable fields, `[[column, field], …]` of its passwords.
fn arguments(entity: &Entity) -> Vec<String> {
    let fields: Map<String, Json> = entity
        .readable_fields()
        .map(|f| (f.column.clone(), Json::String(f.name.clone())))
        .collect();
    let passwords: Vec<Json> = entity
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Password)
        .map(|f| Json::from(vec![f.column.clone(), f.name.clone()]))
        .collect();
    vec![
        entity.name.clone(),
        entity.key_field().column.clone(),
        Json::Object(fields).to_string(),
        Json::Array(passwords).to_string(),
    ]
}
