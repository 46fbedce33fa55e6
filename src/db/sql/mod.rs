//! SQL statements for the operations on an entity (list, count, get, insert, update,
//! delete, export), backend-neutral: [`Builder`] quotes identifiers and numbers placeholders
//! by the [`Dialect`], and the per-backend differences are [`Dialect`] methods. The only
//! place SQL text about an entity is made.

mod builder;
pub(super) mod graph;
pub(super) mod import;
mod keyset;
pub(super) mod sets;
#[cfg(test)]
mod tests;

use crate::query::{Aggregate, ListQuery, Metric};
use crate::schema::{Entity, Field, Value};

use super::Catalog;
use super::dialect::Dialect;
use builder::Builder;

/// A statement ready to run: text and the values for its placeholders, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Value>,
}

impl Sql {
    /// A statement the program wrote itself, with its values.
    pub fn new(text: impl Into<String>, binds: Vec<Value>) -> Sql {
        Sql {
            text: text.into(),
            binds,
        }
    }
}

/// `SELECT <fields> FROM t WHERE ... ORDER BY ... LIMIT ? OFFSET ?`.
/// After a cursor whose rows are two index ranges, the two, in order (see `keyset.rs`).
pub fn list(dialect: Dialect, catalog: &Catalog, entity: &Entity, list_query: &ListQuery) -> Sql {
    list_with(dialect, catalog, entity, list_query, false)
}

/// [`list`] with, after the fields, a JSON array per many-to-many relation of the keys each
/// record holds (for streams, which read them with the rows).
pub fn list_with_sets(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
) -> Sql {
    list_with(dialect, catalog, entity, list_query, true)
}

fn list_with(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
    sets: bool,
) -> Sql {
    let parts = keyset::parts(entity, list_query);
    if parts.len() > 1 && !sets {
        return keyset::union(dialect, catalog, entity, list_query, &parts);
    }
    let parts = if parts.len() > 1 {
        vec![keyset::Part::General]
    } else {
        parts
    };
    let mut b = Builder::new(dialect, entity, catalog);
    if Builder::joins_shown(list_query) {
        b.alias = Some("t");
    }
    b.push("SELECT ").select_list();
    if sets {
        b.set_columns(false);
    }
    b.shown_columns(list_query);
    b.list_from(list_query);
    b.where_conditions(list_query, parts.first().copied());
    b.order_by(list_query);
    b.limit_offset(list_query.page.limit(), list_query.page.offset());
    b.finish()
}

/// A reference shown by a field of its target: joined in exports.
pub struct Display<'a> {
    pub field: &'a Field,
    pub target: &'a Entity,
    pub shown: &'a Field,
}

/// Like [`list`] without paging, with each reference's display value after the fields, then
/// each many-to-many relation's members' display values (a JSON array each; the table of a
/// shown value the list sorts by is joined once more, as in [`list`]):
/// `SELECT t.*, r0.name FROM posts t LEFT JOIN authors r0 ON r0.id = t.author_id ...`.
pub fn export(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
    displays: &[Display<'_>],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.alias = Some("t");
    b.push("SELECT ").select_list();
    let aliases: Vec<String> = (0..displays.len()).map(|i| format!("r{i}")).collect();
    for (display, alias) in displays.iter().zip(&aliases) {
        let mut column = b.quoted(alias);
        column.push('.');
        dialect.quote(&display.shown.column, &mut column);
        b.push(", ");
        dialect.select_expr(display.shown.field_type, &column, &mut b.text);
    }
    b.set_columns(true);
    b.list_from(list_query);
    for (display, alias) in displays.iter().zip(&aliases) {
        let alias = b.quoted(alias);
        b.push(" LEFT JOIN ");
        dialect.quote(&display.target.table, &mut b.text);
        b.push(" AS ")
            .push(&alias)
            .push(" ON ")
            .push(&alias)
            .push(".");
        dialect.quote(&display.target.key_field().column, &mut b.text);
        b.push(" = ").column(display.field);
    }
    b.where_list(list_query);
    b.order_by(list_query);
    b.finish()
}

/// `SELECT COUNT(*) FROM t WHERE ...` with the same conditions as [`list`].
pub fn count(dialect: Dialect, catalog: &Catalog, entity: &Entity, list_query: &ListQuery) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT COUNT(*) FROM ").table();
    b.where_list(list_query);
    b.finish()
}

/// An aggregate of the rows the list's conditions select: `SELECT group, metric ... GROUP BY`,
/// the biggest groups first (periods: the latest first), at most `limit`.
pub fn aggregate(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    aggregate: &Aggregate,
    list_query: &ListQuery,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ");
    if let Some(field) = &aggregate.group_by {
        let column = b.column_ref(field);
        match aggregate.bucket {
            Some(bucket) => {
                let start = dialect.period_start(bucket, &column);
                b.push(&start);
            }
            None => dialect.select_expr(field.field_type, &column, &mut b.text),
        }
        b.push(", ");
    }
    match &aggregate.metric {
        Metric::Count => {
            b.push("COUNT(*)");
        }
        Metric::Sum(field) | Metric::Avg(field) => {
            let function = if matches!(aggregate.metric, Metric::Sum(_)) {
                "SUM"
            } else {
                "AVG"
            };
            let column = b.column_ref(field);
            b.push(&format!(
                "CAST({function}({column}) AS {})",
                dialect.float_type()
            ));
        }
    }
    b.push(" FROM ").table();
    b.where_list(list_query);
    if aggregate.group_by.is_some() {
        b.push(" GROUP BY 1 ORDER BY ");
        b.push(if aggregate.bucket.is_some() {
            "1 DESC"
        } else {
            "2 DESC, 1"
        });
        b.push(" LIMIT ");
        b.bind_int(aggregate.limit);
    }
    b.finish()
}

/// The plan of the list's conditions, whose row estimate stands in for a count (PostgreSQL,
/// MySQL).
pub fn explain_count(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push(dialect.explain()).push("SELECT 1 FROM ").table();
    b.where_list(list_query);
    b.finish()
}

/// The number of matching rows, counting no further than `cap`.
pub fn capped_count(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
    cap: u64,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT COUNT(*) FROM (SELECT 1 FROM ").table();
    b.where_list(list_query);
    b.push(" LIMIT ");
    b.bind_int(cap);
    b.push(") AS capped");
    b.finish()
}

/// One record by key; `lock` adds FOR UPDATE where the backend has row locks.
pub fn get(dialect: Dialect, catalog: &Catalog, entity: &Entity, key: Value, lock: bool) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ")
        .select_list()
        .push(" FROM ")
        .table()
        .where_key(key);
    if lock && dialect.has_row_locks() {
        b.push(" FOR UPDATE");
    }
    b.finish()
}

/// `INSERT INTO t (...) VALUES (...)`, with RETURNING where the backend has it.
pub fn insert(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    changes: Vec<(usize, Value)>,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("INSERT INTO ").table();
    if changes.is_empty() {
        b.push(dialect.default_values());
    } else {
        b.push(" (");
        for (i, (index, _)) in changes.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.column(&entity.fields[*index]);
        }
        b.push(") VALUES (");
        for (i, (index, value)) in changes.into_iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(&entity.fields[index], value);
        }
        b.push(")");
    }
    b.returning();
    b.finish()
}

/// `INSERT INTO t (...) VALUES (...), (...), …` of `rows` (not empty), each setting the
/// columns the first one sets, in that order; with `returning`, RETURNING the rows where
/// the backend has it (in the order of `rows`, as PostgreSQL and SQLite return them).
pub fn insert_many(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    rows: Vec<Vec<(usize, Value)>>,
    returning: bool,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("INSERT INTO ").table().push(" (");
    let columns: Vec<usize> = rows
        .first()
        .map(|row| row.iter().map(|(index, _)| *index).collect())
        .unwrap_or_default();
    for (i, index) in columns.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.column(&entity.fields[*index]);
    }
    b.push(") VALUES ");
    for (r, row) in rows.into_iter().enumerate() {
        b.push(if r > 0 { ", (" } else { "(" });
        for (i, (index, value)) in row.into_iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(&entity.fields[index], value);
        }
        b.push(")");
    }
    if returning {
        b.returning();
    }
    b.finish()
}

/// `UPDATE t SET ... WHERE key = ?`, with RETURNING where the backend has it; with a
/// `version_field`, the version is incremented too (`changes` may then be empty: a write to
/// the record's many-to-many relations alone).
pub fn update(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    key: Value,
    changes: Vec<(usize, Value)>,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("UPDATE ").table().push(" SET ");
    for (i, (index, value)) in changes.into_iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        let field = &entity.fields[index];
        b.column(field).push(" = ").bind(field, value);
    }
    if let Some(index) = entity.version_index() {
        let version = &entity.fields[index];
        if !b.text.ends_with(" SET ") {
            b.push(", ");
        }
        b.column(version).push(" = COALESCE(");
        b.column(version).push(", 0) + 1");
    }
    b.where_key(key);
    b.returning();
    b.finish()
}

/// The records whose keys are among `keys`, locking the rows when `lock`. `keys` must not
/// be empty (`IN ()` is not SQL).
pub fn existing_records(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    keys: &[Value],
    lock: bool,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ")
        .select_list()
        .push(" FROM ")
        .table()
        .where_keys(keys);
    if lock && dialect.has_row_locks() {
        b.push(" FOR UPDATE");
    }
    b.finish()
}

/// `DELETE FROM t WHERE key IN (...)`; `keys` must not be empty.
pub fn delete_keys(dialect: Dialect, catalog: &Catalog, entity: &Entity, keys: &[Value]) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("DELETE FROM ").table().where_keys(keys);
    b.finish()
}

/// `DELETE FROM t WHERE key = ?`.
pub fn delete(dialect: Dialect, catalog: &Catalog, entity: &Entity, key: Value) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("DELETE FROM ").table().where_key(key);
    b.finish()
}
