//! What the tables' columns hold, added to the descriptors' rules when the admin is built: a
//! `NOT NULL` column's field takes no null, a `varchar(n)`'s no more than n characters, an
//! `integer`'s only what 32 bits hold. A value beyond them is then refused by validation,
//! with the field named (422), instead of by the database ("the database rejected a value"),
//! and the OpenAPI document states the limit.

use super::Dialect;
use super::introspect::Table;
use crate::schema::{Entity, FieldType};

/// Tightens the fields of `entities` to what their columns in `tables` hold. The rules a
/// descriptor states stay when they are tighter; a descriptor's `nullable = true` stays.
pub fn tighten(entities: &mut [Entity], tables: &[Table], dialect: Dialect) {
    for entity in entities.iter_mut() {
        let name = entity.table.rsplit('.').next().unwrap_or(&entity.table);
        let Some(table) = tables
            .iter()
            .find(|t| t.name == name || t.qualified == entity.table)
        else {
            continue;
        };
        let key = entity.primary_key.clone();
        for field in entity.fields.iter_mut() {
            let Some(column) = table.columns.iter().find(|c| c.name == field.column) else {
                continue;
            };
            if !column.nullable
                && field.is_nullable()
                && field.nullable.is_none()
                && field.name != key
            {
                field.nullable = Some(false);
            }
            if let Some(n) = column.max_length
                && dialect.enforces_lengths()
                && field.field_type.is_textual()
            {
                field.max_length = Some(field.max_length.map_or(n, |m| m.min(n)));
            }
            // References too: a key held in an integer column of the table.
            if matches!(field.field_type, FieldType::Integer | FieldType::Reference)
                && let Some((low, high)) = dialect.integer_range(&column.sql_type)
            {
                field.min = Some(field.min.map_or(low, |m| m.max(low)));
                field.max = Some(field.max.map_or(high, |m| m.min(high)));
            }
        }
    }
}
