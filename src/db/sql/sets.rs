//! The statements of many-to-many relations: the keys records hold (`SELECT owner, member
//! FROM junction WHERE owner IN (…)`), the changes a write makes to them, and the list
//! conditions on them (`key IN (SELECT owner FROM junction WHERE member IN (…))`).

use super::Sql;
use super::builder::Builder;
use crate::db::Catalog;
use crate::db::dialect::Dialect;
use crate::query::SetCondition;
use crate::schema::{Entity, Junction, Value};

/// The keys the records of `owners` (not empty) hold, a row `(owner, member)` each.
pub fn members(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    junction: &Junction,
    owners: &[Value],
) -> Sql {
    let mut b = Builder::new(dialect, entity, catalog);
    b.push("SELECT ").ident(&junction.owner.column);
    b.push(", ").ident(&junction.member.column);
    b.push(" FROM ").ident(&junction.table);
    b.push(" WHERE ")
        .column_in(&junction.table, &junction.owner, owners);
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
        .column_in(&junction.target_table, &junction.target_key, keys);
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
    b.push(" AND ")
        .column_in(&junction.table, &junction.member, members);
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
        .column_in(&junction.table, &junction.owner, owners);
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

impl Builder<'_> {
    /// After the select list, a column per many-to-many relation of the entity: the JSON
    /// array of the keys each record holds, or with `labels` of the members' display values
    /// (a correlated subquery on the junction's key: a stream reads them with its rows, on its
    /// one connection).
    pub fn set_columns(&mut self, labels: bool) -> &mut Self {
        let owner_key = self.qualified_column(self.entity.key_field());
        let entity = self.entity;
        for (n, relation) in entity.sets().enumerate() {
            let Some(junction) = relation.junction() else {
                continue;
            };
            let (j, m) = (
                self.quoted(&format!("aa_j{n}")),
                self.quoted(&format!("aa_m{n}")),
            );
            let column = |alias: &str, name: &str| {
                let mut out = format!("{alias}.");
                self.dialect.quote(name, &mut out);
                out
            };
            let mut from = format!("FROM {} AS {j}", self.quoted(&junction.table));
            let expr = match junction.shown.as_ref().filter(|_| labels) {
                Some(shown) => {
                    from.push_str(&format!(
                        " JOIN {} AS {m} ON {} = {}",
                        self.quoted(&junction.target_table),
                        column(&m, &junction.target_key.column),
                        column(&j, &junction.member.column)
                    ));
                    let mut expr = String::new();
                    self.dialect.select_expr(
                        shown.field_type,
                        &column(&m, &shown.column),
                        &mut expr,
                    );
                    expr
                }
                None => column(&j, &junction.member.column),
            };
            from.push_str(&format!(
                " WHERE {} = {owner_key}",
                column(&j, &junction.owner.column)
            ));
            let array = self.dialect.json_array_of(&expr, &from);
            self.push(", ").push(&array);
        }
        self
    }

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
                    .column_in(&junction.table, &junction.member, members);
                self.push(")");
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
                    .column_in(&junction.table, &junction.member, &distinct);
                self.push(" GROUP BY ").ident(&junction.owner.column);
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
