//! The statements of a delete's plan (`db/graph.rs`): a step's rows are written as a
//! condition of nested subqueries down to the keys of the records deleted, so that counting
//! them, sampling their labels and reading them (to audit a cascade) are one statement each.
//!
//! ```sql
//! -- comments of the posts 1 and 2 (comments.post_id → posts.id)
//! "post_id" IN ($1, $2)
//! -- their replies, every generation (comments.parent_id → comments.id)
//! "id" IN (WITH RECURSIVE "aa_d1" ("k1") AS (SELECT "id" FROM "comments" WHERE "parent_id" IN
//!   (SELECT "id" FROM "comments" WHERE "post_id" IN ($1, $2)) UNION SELECT "aa_c1"."id" FROM
//!   "comments" AS "aa_c1" JOIN "aa_d1" ON "aa_c1"."parent_id" = "aa_d1"."k1") SELECT "k1" FROM "aa_d1")
//! ```

use super::Sql;
use super::builder::Builder;
use crate::db::Catalog;
use crate::db::dialect::Dialect;
use crate::db::graph::Plan;
use crate::schema::{Entity, Value};

/// The statements of one delete's plan: what they start from (the entity deleted from, and
/// the keys deleted).
pub struct Statements<'a> {
    pub dialect: Dialect,
    pub catalog: &'a Catalog,
    pub plan: &'a Plan,
    pub root: &'a Entity,
    pub keys: &'a [Value],
}

impl Statements<'_> {
    /// `SELECT COUNT(*)` of the rows of `step` (`entity` reads its table).
    pub fn count(&self, step: usize, entity: &Entity) -> Sql {
        let mut b = Builder::new(self.dialect, entity, self.catalog);
        b.push("SELECT COUNT(*) FROM ").table().push(" WHERE ");
        push_condition(&mut b, self, Some(step));
        b.finish()
    }

    /// The rows of `step` as records of `entity` (its table's), by key: at most `limit`
    /// of them to sample; all of them, locked for the transaction where the backend has row
    /// locks, without.
    pub fn rows(&self, step: usize, entity: &Entity, limit: Option<u64>) -> Sql {
        let mut b = Builder::new(self.dialect, entity, self.catalog);
        b.push("SELECT ")
            .select_list()
            .push(" FROM ")
            .table()
            .push(" WHERE ");
        push_condition(&mut b, self, Some(step));
        b.push(" ORDER BY ").ident(&entity.key_field().column);
        match limit {
            Some(limit) => {
                b.push(" LIMIT ");
                b.bind_int(limit);
            }
            None if self.dialect.has_row_locks() => {
                b.push(" FOR UPDATE");
            }
            None => {}
        }
        b.finish()
    }
}

/// The condition, on the columns of its table, that selects the rows of `step` (the root's
/// records when `None`).
fn push_condition(b: &mut Builder<'_>, plan: &Statements<'_>, step: Option<usize>) {
    let Some(index) = step else {
        let key = plan.root.key_field();
        b.ident(&key.column).push(" IN (");
        push_keys(b, plan);
        b.push(")");
        return;
    };
    let step = &plan.plan.steps[index];
    let link = &step.link;
    if step.recursive {
        // Every descendant: start from the children of the parent rows, follow the link
        // to the end. UNION (not ALL) ends on cycles in the data.
        let d = format!("aa_d{index}");
        let c = format!("aa_c{index}");
        let names: Vec<String> = (1..=link.parent_columns.len())
            .map(|i| format!("k{i}"))
            .collect();
        b.idents(None, &link.parent_columns)
            .push(" IN (WITH RECURSIVE ")
            .ident(&d)
            .push(" (");
        push_list(b, None, &names);
        b.push(") AS (SELECT ");
        push_list(b, None, &link.parent_columns);
        b.push(" FROM ").ident(&link.child).push(" WHERE ");
        push_references(b, plan, index);
        b.push(" UNION SELECT ");
        push_list(b, Some(&c), &link.parent_columns);
        b.push(" FROM ")
            .ident(&link.child)
            .push(" AS ")
            .ident(&c)
            .push(" JOIN ")
            .ident(&d)
            .push(" ON ");
        for (i, (column, name)) in link.columns.iter().zip(&names).enumerate() {
            if i > 0 {
                b.push(" AND ");
            }
            b.ident(&c)
                .push(".")
                .ident(column)
                .push(" = ")
                .ident(&d)
                .push(".")
                .ident(name);
        }
        b.push(") SELECT ");
        push_list(b, None, &names);
        b.push(" FROM ").ident(&d).push(")");
        // Not the rows the step came from (a post's comments that reply to each other are
        // the post's comments already).
        b.push(" AND ");
        b.idents(None, &link.parent_columns)
            .push(" NOT IN (SELECT ");
        push_list(b, None, &link.parent_columns);
        b.push(" FROM ").ident(&link.parent).push(" WHERE ");
        push_condition(b, plan, step.from);
        b.push(")");
    } else {
        push_references(b, plan, index);
    }
}

/// The rows whose `link.columns` reference the rows of the step's parent.
fn push_references(b: &mut Builder<'_>, plan: &Statements<'_>, index: usize) {
    let step = &plan.plan.steps[index];
    let link = &step.link;
    let parent_is_root_key =
        step.from.is_none() && link.parent_columns == [plan.root.key_field().column.clone()];
    b.idents(None, &link.columns);
    if parent_is_root_key {
        // `post_id IN ($1, $2)`: the keys themselves.
        b.push(" IN (");
        push_keys(b, plan);
        b.push(")");
        return;
    }
    b.push(" IN (SELECT ");
    push_list(b, None, &link.parent_columns);
    b.push(" FROM ").ident(&link.parent).push(" WHERE ");
    push_condition(b, plan, step.from);
    b.push(")");
}

/// The deleted keys, bound as the root's key column takes them.
fn push_keys(b: &mut Builder<'_>, plan: &Statements<'_>) {
    let key = plan.root.key_field();
    for (i, value) in plan.keys.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.bind_in(&plan.root.table, key, value.clone());
    }
}

/// `"a", "b"` (each prefixed by `alias.`).
fn push_list(b: &mut Builder<'_>, alias: Option<&str>, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        if let Some(alias) = alias {
            b.ident(alias).push(".");
        }
        b.ident(name);
    }
}
