//! Keyset paging: the rows after a cursor, written so that an index on the sort keys serves
//! them as range scans, however deep the page.
//!
//! NULL sorts as the smallest value (first ascending, last descending). For the common sort
//! by one column and the key, the rows after `(v, k)` are one or two ranges of the index on
//! `(column, key)`:
//!
//! | direction | cursor `v` | the rows after it |
//! |---|---|---|
//! | asc  | a value | `(column, key) > (v, k)` |
//! | asc  | NULL    | `column IS NULL AND key > k`, then every `column IS NOT NULL` |
//! | desc | a value | `(column, key) < (v, k)`, then every `column IS NULL` |
//! | desc | NULL    | `column IS NULL AND key < k` |
//!
//! Two ranges are two branches of a `UNION ALL` (`list`), each ordered and limited, so that
//! each is an index range scan rather than one scan filtered by an `OR`. Other sorts (several
//! columns) take the general condition: an `OR` over the keys.

use super::Sql;
use super::builder::{Builder, Term};
use crate::db::Catalog;
use crate::db::dialect::Dialect;
use crate::query::ListQuery;
use crate::schema::{Direction, Entity, Value};

/// One range of the rows after a cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Every key after the cursor's, in one row comparison: `(c, k) > (v, k0)`.
    Row,
    /// NULLs of the column after the cursor's key: `c IS NULL AND k > k0`.
    NullsAfter,
    /// Every row whose column has a value.
    Values,
    /// Every row whose column is NULL.
    Nulls,
    /// The general condition (any number of keys).
    General,
}

/// The ranges of the rows after the cursor of `list_query`, in order: one or two.
pub fn parts(entity: &Entity, list_query: &ListQuery) -> Vec<Part> {
    let (Some(values), [first, key]) = (&list_query.after, list_query.sort.as_slice()) else {
        return vec![Part::General];
    };
    if key.shown || entity.fields[key.field].name != entity.primary_key {
        return vec![Part::General];
    }
    let column = &entity.fields[first.field];
    let nullable = first.shown || (column.is_nullable() && column.name != entity.primary_key);
    match (nullable, first.direction, values[0].is_null()) {
        (false, _, _) | (true, Direction::Asc, false) => vec![Part::Row],
        (true, Direction::Asc, true) => vec![Part::NullsAfter, Part::Values],
        (true, Direction::Desc, false) => vec![Part::Row, Part::Nulls],
        (true, Direction::Desc, true) => vec![Part::NullsAfter],
    }
}

/// A page after a cursor whose rows are two ranges: each branch ordered and limited, then
/// the two in their order (`aa_part`), by the raw sort columns (`aa_k1`, `aa_k2`; the select
/// list may show a column as text).
pub fn union(
    dialect: Dialect,
    catalog: &Catalog,
    entity: &Entity,
    list_query: &ListQuery,
    parts: &[Part],
) -> Sql {
    let limit = list_query.page.limit();
    let mut b = Builder::new(dialect, entity, catalog);
    if Builder::joins_shown(list_query) {
        b.alias = Some("t");
    }
    b.push("SELECT * FROM (");
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            b.push(" UNION ALL ");
        }
        b.push("SELECT * FROM (SELECT ").select_list();
        b.shown_columns(list_query);
        b.push(&format!(", {n} AS "));
        b.ident("aa_part");
        for (i, key) in list_query.sort.iter().enumerate() {
            let term = b.sort_term(i, key);
            b.push(", ").push(&term.expr).push(" AS ");
            b.ident(&format!("aa_k{}", i + 1));
        }
        b.list_from(list_query);
        b.where_conditions(list_query, Some(*part));
        b.order_by(list_query);
        b.push(" LIMIT ");
        b.bind_int(limit);
        b.push(") AS ");
        b.ident(&format!("aa_b{n}"));
    }
    b.push(") AS ");
    b.ident("aa_page");
    b.push(" ORDER BY ");
    b.ident("aa_part");
    for (i, key) in list_query.sort.iter().enumerate() {
        b.push(", ");
        b.ident(&format!("aa_k{}", i + 1));
        b.push(match key.direction {
            Direction::Asc => " ASC",
            Direction::Desc => " DESC",
        });
    }
    b.push(" LIMIT ");
    b.bind_int(limit);
    b.finish()
}

impl Builder<'_> {
    /// The rows after `values` (the cursor) in the list's order, as `part` of them.
    pub fn after(&mut self, list_query: &ListQuery, values: &[Value], part: Part) {
        let terms: Vec<Term<'_>> = (list_query.sort.iter().enumerate())
            .map(|(i, key)| self.sort_term(i, key))
            .collect();
        let direction = list_query.sort[0].direction;
        match part {
            Part::General => self.general(&terms, list_query, values),
            Part::Row => {
                let columns: Vec<&str> = terms.iter().map(|t| t.expr.as_str()).collect();
                self.push("(").push(&columns.join(", ")).push(") ");
                self.push(match direction {
                    Direction::Asc => "> (",
                    Direction::Desc => "< (",
                });
                for (i, term) in terms.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.bind_term(term, values[i].clone());
                }
                self.push(")");
            }
            Part::NullsAfter => {
                self.push(&terms[0].expr).push(" IS NULL AND ");
                self.push(&terms[1].expr);
                self.push(match direction {
                    Direction::Asc => " > ",
                    Direction::Desc => " < ",
                });
                self.bind_term(&terms[1], values[1].clone());
            }
            Part::Values => {
                self.push(&terms[0].expr).push(" IS NOT NULL");
            }
            Part::Nulls => {
                self.push(&terms[0].expr).push(" IS NULL");
            }
        }
    }

    /// The rows after `values` in the list's order: for keys k1..kn, the OR over i of
    /// (k1 = v1 AND ... AND k(i-1) = v(i-1) AND ki beyond vi), where NULL sorts as the
    /// smallest value (as `order_by` makes it on every backend).
    fn general(&mut self, terms: &[Term<'_>], list_query: &ListQuery, values: &[Value]) {
        self.push("(");
        for i in 0..list_query.sort.len() {
            if i > 0 {
                self.push(" OR ");
            }
            self.push("(");
            for (j, key) in list_query.sort.iter().enumerate().take(i + 1) {
                if j > 0 {
                    self.push(" AND ");
                }
                let term = &terms[j];
                let column = term.expr.as_str();
                let value = &values[j];
                if j < i {
                    if value.is_null() {
                        self.push(column).push(" IS NULL");
                    } else {
                        self.push(column).push(" = ");
                        self.bind_term(term, value.clone());
                    }
                    continue;
                }
                match (key.direction, value.is_null()) {
                    // Beyond NULL ascending: any value.
                    (Direction::Asc, true) => {
                        self.push(column).push(" IS NOT NULL");
                    }
                    (Direction::Asc, false) => {
                        self.push(column).push(" > ");
                        self.bind_term(term, value.clone());
                    }
                    // Nothing is below NULL.
                    (Direction::Desc, true) => {
                        self.push("1 = 0");
                    }
                    // The key is never NULL: a bare range.
                    (Direction::Desc, false) if term.is_key => {
                        self.push(column).push(" < ");
                        self.bind_term(term, value.clone());
                    }
                    (Direction::Desc, false) => {
                        self.push("(").push(column).push(" < ");
                        self.bind_term(term, value.clone());
                        self.push(" OR ").push(column).push(" IS NULL)");
                    }
                }
            }
            self.push(")");
        }
        self.push(")");
    }

    /// A MySQL ENUM compares by its index only with a number (with text, alphabetically,
    /// unlike its order): keyset conditions bind the index. (The catalog records MySQL's
    /// ENUM columns only.)
    fn bind_term(&mut self, term: &Term<'_>, value: Value) {
        let value = match &value {
            Value::Text(text) => self
                .catalog
                .enum_index(term.table, &term.field.column, text)
                .map_or(value, Value::Int),
            _ => value,
        };
        self.bind_in(term.table, term.field, value);
    }
}
