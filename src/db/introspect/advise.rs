//! Index advice: the fields an admin filters, sorts or searches on that no index of the live
//! database supports, with the statement that would add one. On PostgreSQL, substring search
//! (`ILIKE '%…%'`) needs a trigram index; elsewhere no index helps it, and the advice says so.

use super::Table;
use crate::db::Dialect;
use crate::schema::{Entity, Schema};

/// One line of advice per field (and per searched entity), each naming entity and field.
pub fn advise(schema: &Schema, tables: &[Table], dialect: Dialect) -> Vec<String> {
    let mut advice = Vec::new();
    let mut once = Once::default();
    for entity in schema.entities() {
        let Some(table) = tables
            .iter()
            .find(|t| t.qualified == entity.table || t.name == entity.table)
        else {
            continue;
        };
        let quote = |name: &str| {
            let mut out = String::new();
            dialect.quote(name, &mut out);
            out
        };
        // The default sort of a column that holds NULLs, where NULLs must be told where to
        // sort (PostgreSQL): an index in that order, with the key, which keyset pages walk
        // as ranges. An index in the other NULL order does not serve it.
        if let Some((name, direction)) = &entity.default_sort
            && let Some(field) = entity.find_field(name)
            && field.is_nullable()
            && field.name != entity.primary_key
            && dialect.nulls_smallest(*direction).is_some()
            && !table
                .ordered
                .iter()
                .any(|(first, desc, nulls_first)| first == &field.column && desc != nulls_first)
        {
            let column = &field.column;
            let key = &entity.key_field().column;
            let index = quote(&format!("{}_{}_{}_idx", table.name, column, key));
            let statement = format!(
                "CREATE INDEX {index} ON {} ({});",
                quote(&entity.table),
                dialect.sort_index(&quote(column), &quote(key), *direction)
            );
            let what = "sorted on by default, NULLs in order, without an index in that order";
            once.push(&mut advice, entity, &field.name, what, statement);
        }
        // A default sort by the value a reference shows: an index on that column of the
        // referenced table lets the join be walked in order (the reference's own index,
        // wanted below, finds each record's rows).
        if let Some((name, _)) = &entity.default_sort
            && let Some((index, true)) = entity.sort_target(name)
            && let Some(shown) = entity.fields[index].shown()
            && let Some(target) = tables
                .iter()
                .find(|t| t.qualified == shown.table || t.name == shown.table)
        {
            let column = &shown.field.column;
            if !target.indexed.contains(column) && target.primary_key.first() != Some(column) {
                let index = quote(&format!("{}_{}_idx", target.name, column));
                let statement = format!(
                    "CREATE INDEX {index} ON {} ({});",
                    quote(&shown.table),
                    quote(column)
                );
                let what = "sorted on by default (the value the reference shows) without an index";
                once.push(&mut advice, entity, name, what, statement);
            }
        }
        for (name, why) in wanted(entity) {
            let Some(field) = entity.find_field(&name) else {
                continue;
            };
            let column = &field.column;
            if table.indexed.contains(column) || table.primary_key.first() == Some(column) {
                continue;
            }
            let in_order = entity
                .default_sort
                .as_ref()
                .is_some_and(|(n, _)| *n == name)
                && field.is_nullable()
                && field.name != entity.primary_key
                && dialect
                    .nulls_smallest(crate::schema::Direction::Asc)
                    .is_some();
            if in_order {
                // The index in its order, advised above, serves its filters too.
                continue;
            }
            let index = quote(&format!("{}_{}_idx", table.name, column));
            let statement = format!(
                "CREATE INDEX {index} ON {} ({});",
                quote(&entity.table),
                quote(column)
            );
            let what = format!("{why} without an index");
            once.push(&mut advice, entity, &field.name, &what, statement);
        }
        for name in &entity.search {
            let Some(field) = entity.find_field(name) else {
                continue;
            };
            let column = &field.column;
            let index = quote(&format!("{}_{}_trgm", table.name, column));
            match dialect.substring_index(&index, &quote(&entity.table), &quote(column)) {
                Some(statement) if !table.trigram.contains(column) => {
                    let what = "quick search scans the table";
                    once.push(&mut advice, entity, &field.name, what, statement);
                }
                Some(_) => {}
                None => advice.push(format!(
                    "entity \"{}\", field \"{}\": quick search (a substring match) scans the table; no index of this database helps it",
                    entity.name, field.name
                )),
            }
        }
    }
    advice
}

/// Each statement once: entities over the same table (a second view of it) point back to
/// the entity whose line has it.
#[derive(Default)]
struct Once(std::collections::HashMap<String, String>);

impl Once {
    fn push(
        &mut self,
        advice: &mut Vec<String>,
        entity: &Entity,
        field: &str,
        what: &str,
        statement: String,
    ) {
        let head = format!("entity \"{}\", field \"{field}\": {what}", entity.name);
        match self.0.get(&statement) {
            Some(first) => advice.push(format!("{head}: the index advised for entity \"{first}\"")),
            None => {
                advice.push(format!("{head}: {statement}"));
                self.0.insert(statement, entity.name.clone());
            }
        }
    }
}

/// The fields a list filters or sorts on, and why: the filter widgets and the default sort.
fn wanted(entity: &Entity) -> Vec<(String, &'static str)> {
    let mut wanted: Vec<(String, &'static str)> = entity
        .filters
        .iter()
        .map(|f| (f.clone(), "filtered on"))
        .collect();
    if let Some((field, _)) = &entity.default_sort {
        // By the value a reference shows: the reference joins.
        let (field, why) = match field.split_once('.') {
            Some((reference, _)) => (reference, "sorted on by default (by the value it shows)"),
            None => (field.as_str(), "sorted on by default"),
        };
        if !wanted.iter().any(|(name, _)| name == field) {
            wanted.push((field.to_owned(), why));
        }
    }
    wanted
}
