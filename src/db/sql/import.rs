//! The statements an import reads with: a record by a unique field (the row's key in
//! `upsert` and `update` mode), and the records that references name, by key or by the
//! value that names them.

use super::Sql;
use super::builder::Builder;
use crate::db::Catalog;
use crate::db::dialect::Dialect;
use crate::schema::{Entity, Field, Value};

/// `SELECT <fields> FROM t WHERE field = ?`, its row locked with `lock` where rows lock.
pub fn find_by(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    field: &Field,
    value: Value,
    lock: bool,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ")
        .select_list()
        .push(" FROM ")
        .table()
        .push(" WHERE ")
        .column(field)
        .push(" = ")
        .bind(field, value)
        .and_row_scope();
    if lock && dialect.has_row_locks() {
        b.push(" FOR UPDATE");
    }
    b.finish()
}

/// `SELECT key, shown FROM target WHERE key IN (…) OR shown IN (…)`: the records of
/// `target` that `keys` or `names` (either may be empty, not both) name; with `fold`,
/// `LOWER(shown) IN (…)`, for names given in lower case (no index helps then).
pub fn named(
    dialect: Dialect,
    catalog: &Catalog,
    target: &Entity,
    shown: &Field,
    keys: &[Value],
    names: &[Value],
    fold: bool,
) -> Sql {
    let key = target.key_field();
    let mut b = Builder::new(dialect, target, catalog);
    b.push("SELECT ").column(key).push(", ").column(shown);
    b.push(" FROM ").table().push(" WHERE ");
    if !keys.is_empty() {
        b.column(key).push(" IN (").bind_list(key, keys).push(")");
    }
    if !names.is_empty() {
        if !keys.is_empty() {
            b.push(" OR ");
        }
        if fold {
            b.push("LOWER(").column(shown).push(")");
        } else {
            b.column(shown);
        }
        b.push(" IN (").bind_list(shown, names).push(")");
    }
    b.finish()
}
