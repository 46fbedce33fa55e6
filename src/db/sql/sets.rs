//! The statements of many-to-many relations: the keys records hold (`SELECT owner, member
//! FROM junction WHERE owner IN (…)`), the changes a write makes to them, and the list
//! conditions on them (`key IN (SELECT owner FROM junction WHERE member IN (…))`).

use super::Sql;
use super::builder::Builder;
use crate::db::Catalog;
use crate::db::dialect::Dialect;
use crate::query::SetCondition;
use crate::schema::{Entity, Junction, Value};

/// The keys the records of `owners` (not empty) hold, a row `(owner, member)` each, in order
/// of owner then member; with `shown`, a third column: the member's value of that field of
/// the target (from `target_entity`), and the members in its order.
pub fn members(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    owners: &[Value],
    shown: Option<&crate::schema::Field>,
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    let (j, m) = (b.quoted("aa_j"), b.quoted("aa_m"));
    b.push("SELECT ")
        .push(&j)
        .push(".")
        .ident(&junction.owner.column);
    b.push(", ")
        .push(&j)
        .push(".")
        .ident(&junction.member.column);
    if let Some(shown) = shown {
        let mut column = m.clone();
        column.push('.');
        dialect.quote(&shown.column, &mut column);
        b.push(", ");
        dialect.select_expr(shown.field_type, &column, &mut b.text);
    }
    b.push(" FROM ")
        .ident(&junction.table)
        .push(" AS ")
        .push(&j);
    if shown.is_some() {
        b.push(" JOIN ")
            .ident(&junction.target_table)
            .push(" AS ")
            .push(&m);
        b.push(" ON ")
            .push(&m)
            .push(".")
            .ident(&junction.target_key.column);
        b.push(" = ")
            .push(&j)
            .push(".")
            .ident(&junction.member.column);
    }
    b.push(" WHERE ")
        .push(&j)
        .push(".")
        .ident(&junction.owner.column)
        .push(" IN (");
    bind_all(&mut b, &junction.table, &junction.owner, owners);
    b.push(") ORDER BY ")
        .push(&j)
        .push(".")
        .ident(&junction.owner.column);
    if let Some(shown) = shown {
        b.push(", ").push(&m).push(".").ident(&shown.column);
    }
    b.push(", ")
        .push(&j)
        .push(".")
        .ident(&junction.member.column);
    b.finish()
}

/// Which of `keys` (not empty) the target has.
pub fn existing_targets(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    keys: &[Value],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ").ident(&junction.target_key.column);
    b.push(" FROM ").ident(&junction.target_table);
    b.push(" WHERE ")
        .ident(&junction.target_key.column)
        .push(" IN (");
    bind_all(&mut b, &junction.target_table, &junction.target_key, keys);
    b.push(")");
    b.finish()
}

/// Takes `members` (not empty) from the set of `owner`.
pub fn remove(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    owner: Value,
    members: &[Value],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("DELETE FROM ").ident(&junction.table);
    b.push(" WHERE ").ident(&junction.owner.column).push(" = ");
    b.bind_in(&junction.table, &junction.owner, owner);
    b.push(" AND ").ident(&junction.member.column).push(" IN (");
    bind_all(&mut b, &junction.table, &junction.member, members);
    b.push(")");
    b.finish()
}

/// Empties the sets of `owners` (not empty): their records are being deleted.
pub fn clear(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    owners: &[Value],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("DELETE FROM ").ident(&junction.table);
    b.push(" WHERE ")
        .ident(&junction.owner.column)
        .push(" IN (");
    bind_all(&mut b, &junction.table, &junction.owner, owners);
    b.push(")");
    b.finish()
}

/// Adds `members` (not empty) to the set of `owner`.
pub fn add(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    owner: &Value,
    members: &[Value],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("INSERT INTO ").ident(&junction.table).push(" (");
    b.ident(&junction.owner.column)
        .push(", ")
        .ident(&junction.member.column);
    b.push(") VALUES ");
    for (i, member) in members.iter().enumerate() {
        b.push(if i == 0 { "(" } else { ", (" });
        b.bind_in(&junction.table, &junction.owner, owner.clone());
        b.push(", ");
        b.bind_in(&junction.table, &junction.member, member.clone());
        b.push(")");
    }
    b.finish()
}

fn bind_all(b: &mut Builder<'_>, table: &str, field: &crate::schema::Field, values: &[Value]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.bind_in(table, field, value.clone());
    }
}

impl Builder<'_> {
    /// A list's condition on a many-to-many relation, on the main table's key.
    pub fn set_condition(&mut self, junction: &Junction, condition: &SetCondition) {
        let key = self.column_ref(self.entity.key_field());
        let owners = |b: &mut Self| {
            b.push("(SELECT ").ident(&junction.owner.column);
            b.push(" FROM ").ident(&junction.table);
        };
        match condition {
            SetCondition::Any(members) if members.is_empty() => {
                self.push("1 = 0");
            }
            SetCondition::All(members) if members.is_empty() => {
                self.push("1 = 1");
            }
            SetCondition::Any(members) => {
                self.push(&key).push(" IN ");
                owners(self);
                self.push(" WHERE ")
                    .ident(&junction.member.column)
                    .push(" IN (");
                bind_all(self, &junction.table, &junction.member, members);
                self.push("))");
            }
            SetCondition::All(members) => {
                let mut distinct: Vec<Value> = Vec::with_capacity(members.len());
                for member in members {
                    if !distinct.contains(member) {
                        distinct.push(member.clone());
                    }
                }
                self.push(&key).push(" IN ");
                owners(self);
                self.push(" WHERE ")
                    .ident(&junction.member.column)
                    .push(" IN (");
                bind_all(self, &junction.table, &junction.member, &distinct);
                self.push(") GROUP BY ").ident(&junction.owner.column);
                self.push(" HAVING COUNT(DISTINCT ")
                    .ident(&junction.member.column);
                self.push(") = ");
                self.bind_int(distinct.len() as u64);
                self.push(")");
            }
            SetCondition::Empty(true) => {
                self.push(&key).push(" NOT IN ");
                owners(self);
                self.push(" WHERE ")
                    .ident(&junction.owner.column)
                    .push(" IS NOT NULL)");
            }
            SetCondition::Empty(false) => {
                self.push(&key).push(" IN ");
                owners(self);
                self.push(")");
            }
        }
    }
}
