//! Descriptors against the live database: every table, column and type they name must be
//! there and fit. Each mismatch names file, entity and field, like a loading error.

use super::Table;
use crate::schema::{Error, Field, FieldType, Relation, Schema};

/// Every mismatch between `schema` (loaded from `origin`) and `tables`; empty when they fit.
pub fn check(schema: &Schema, tables: &[Table], origin: &str) -> Vec<Error> {
    let mut problems = Vec::new();
    for entity in schema.entities() {
        let at = |field: Option<&Field>, message: String| Error {
            file: origin.to_owned(),
            entity: Some(entity.name.clone()),
            field: field.map(|f| f.name.clone()),
            message,
        };
        let Some(table) = find_table(tables, &entity.table) else {
            problems.push(at(
                None,
                format!("table \"{}\" does not exist", entity.table),
            ));
            continue;
        };
        if table.is_view && !entity.read_only {
            problems.push(at(
                None,
                format!(
                    "\"{}\" is a view: the entity should be read_only",
                    table.name
                ),
            ));
        }
        for field in &entity.fields {
            let Some(column) = table.column(&field.column) else {
                problems.push(at(
                    Some(field),
                    format!(
                        "column \"{}\" does not exist in \"{}\"",
                        field.column, table.name
                    ),
                ));
                continue;
            };
            let Some(column_type) = column.field_type else {
                problems.push(at(
                    Some(field),
                    format!("column type {} has no field type", column.sql_type),
                ));
                continue;
            };
            let wanted = field.value_type();
            if !fits(wanted, column_type) {
                problems.push(at(
                    Some(field),
                    format!(
                        "a {} field does not fit the column type {}",
                        field.field_type, column.sql_type
                    ),
                ));
            }
            if field.required && column.nullable {
                problems.push(at(
                    Some(field),
                    format!("is required, but column \"{}\" accepts NULL", column.name),
                ));
            }
            if let (Some(max), Some(column_max)) = (field.max_length, column.max_length)
                && max > column_max
            {
                problems.push(at(
                    Some(field),
                    format!("max_length {max} is more than the column holds ({column_max})"),
                ));
            }
            if field.field_type == FieldType::Choice && !column.choices.is_empty() {
                let extra: Vec<&String> = field
                    .choices
                    .iter()
                    .filter(|c| !column.choices.contains(c))
                    .collect();
                if !extra.is_empty() {
                    problems.push(at(
                        Some(field),
                        format!(
                            "choices {extra:?} are not among the column's values {:?}",
                            column.choices
                        ),
                    ));
                }
            }
            if field.field_type == FieldType::Reference {
                check_reference(schema, tables, field, &at, &mut problems);
            }
        }
        for relation in entity.sets() {
            let at = |message: String| Error {
                file: origin.to_owned(),
                entity: Some(entity.name.clone()),
                field: Some(relation.name.clone()),
                message,
            };
            problems.extend(check_junction(relation, tables).into_iter().map(at));
        }
    }
    problems
}

/// A many-to-many relation's junction: its table, its two columns (of the types of the keys
/// they hold), unique together (else a set could hold a key twice), and no other column a
/// row must be given (the admin writes the pair only).
fn check_junction(relation: &Relation, tables: &[Table]) -> Vec<String> {
    let Some(junction) = relation.junction() else {
        return Vec::new();
    };
    let Some(table) = find_table(tables, &junction.table) else {
        return vec![format!(
            "junction table \"{}\" does not exist",
            junction.table
        )];
    };
    let mut problems = Vec::new();
    let pair = [&junction.owner, &junction.member];
    for field in pair {
        match table.column(&field.column) {
            None => problems.push(format!(
                "column \"{}\" does not exist in \"{}\"",
                field.column, table.name
            )),
            Some(column)
                if !column
                    .field_type
                    .is_some_and(|t| fits(field.value_type(), t)) =>
            {
                problems.push(format!(
                    "column \"{}.{}\" ({}) cannot hold {} keys",
                    table.name,
                    column.name,
                    column.sql_type,
                    field.value_type()
                ));
            }
            Some(_) => {}
        }
    }
    let names: Vec<&String> = pair.iter().map(|f| &f.column).collect();
    let is_pair = |set: &[String]| set.len() == 2 && names.iter().all(|n| set.contains(n));
    if !(is_pair(&table.primary_key) || table.unique.iter().any(|set| is_pair(set))) {
        problems.push(format!(
            "\"{}\" is not unique on ({}, {}): a set could hold a key twice",
            table.name, junction.owner.column, junction.member.column
        ));
    }
    for column in &table.columns {
        let required =
            !(column.nullable || column.has_default || column.auto_increment || column.computed);
        if required && !names.contains(&&column.name) {
            problems.push(format!(
                "column \"{}.{}\" must be given, but the relation writes only {} and {}",
                table.name, column.name, junction.owner.column, junction.member.column
            ));
        }
    }
    problems
}

fn check_reference(
    schema: &Schema,
    tables: &[Table],
    field: &Field,
    at: &dyn Fn(Option<&Field>, String) -> Error,
    problems: &mut Vec<Error>,
) {
    let Some(target) = field.target.as_deref().and_then(|t| schema.entity(t)) else {
        return;
    };
    let Some(target_table) = find_table(tables, &target.table) else {
        return;
    };
    let key = &target.key_field().column;
    if !target_table.is_unique(key) {
        problems.push(at(
            Some(field),
            format!(
                "references \"{}.{key}\", which is not unique in the database",
                target_table.name
            ),
        ));
    }
}

fn find_table<'a>(tables: &'a [Table], name: &str) -> Option<&'a Table> {
    tables
        .iter()
        .find(|t| t.qualified == name || t.name == name)
}

/// Whether values of a field type can live in a column of another.
fn fits(field: FieldType, column: FieldType) -> bool {
    use FieldType as T;
    let textual = |t: T| {
        matches!(
            t,
            T::String | T::Text | T::Choice | T::Email | T::Url | T::Password
        )
    };
    match field {
        _ if field == column => true,
        T::String | T::Text | T::Email | T::Url | T::Password | T::Choice => textual(column),
        T::Float | T::Decimal => matches!(column, T::Float | T::Decimal | T::Integer),
        T::Integer => matches!(column, T::Integer | T::Decimal),
        T::Boolean => matches!(column, T::Boolean | T::Integer),
        T::Uuid => textual(column),
        T::Json => matches!(column, T::Text | T::String),
        // A JSON array in text (SQLite, MariaDB's JSON is LONGTEXT).
        T::MultiChoice => matches!(column, T::Text | T::String | T::Json),
        T::Datetime => matches!(column, T::Datetime | T::Text | T::String),
        T::Date | T::Time => matches!(column, T::Text | T::String),
        T::Reference => false,
    }
}
