//! The statement builder: identifiers quoted and placeholders numbered by the [`Dialect`],
//! values collected in order for binding. User input reaches the text only as placeholders.

use crate::query::{Comparison, Condition, Filter, ListQuery, SortKey};
use crate::schema::{Direction, Entity, Field, FieldType, Kind, Value};

use super::super::Catalog;
use super::super::dialect::Dialect;
use super::Sql;
use super::keyset::Part;

/// Builds one statement for one entity.
pub(super) struct Builder<'a> {
    pub dialect: Dialect,
    pub entity: &'a Entity,
    pub catalog: &'a Catalog,
    pub text: String,
    binds: Vec<Value>,
    /// The main table's alias when the statement joins others.
    pub alias: Option<&'static str>,
}

impl<'a> Builder<'a> {
    pub fn new(dialect: Dialect, entity: &'a Entity, catalog: &'a Catalog) -> Builder<'a> {
        Builder {
            dialect,
            entity,
            catalog,
            text: String::with_capacity(256),
            binds: Vec::new(),
            alias: None,
        }
    }

    /// An identifier from a descriptor or the catalog, quoted.
    pub fn ident(&mut self, name: &str) -> &mut Self {
        self.dialect.quote(name, &mut self.text);
        self
    }

    /// Identifiers as one column (`"a"`) or a row of them (`("a", "b")`), each prefixed by
    /// `alias.` when given.
    pub fn idents(&mut self, alias: Option<&str>, names: &[String]) -> &mut Self {
        if names.len() > 1 {
            self.push("(");
        }
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            if let Some(alias) = alias {
                self.ident(alias).push(".");
            }
            self.ident(name);
        }
        if names.len() > 1 {
            self.push(")");
        }
        self
    }

    pub fn finish(self) -> Sql {
        Sql {
            text: self.text,
            binds: self.binds,
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub fn quoted(&self, ident: &str) -> String {
        let mut out = String::new();
        self.dialect.quote(ident, &mut out);
        out
    }

    pub fn table(&mut self) -> &mut Self {
        self.dialect.quote(&self.entity.table, &mut self.text);
        self
    }

    pub fn column(&mut self, field: &Field) -> &mut Self {
        let column = self.column_ref(field);
        self.push(&column)
    }

    /// A column of the main table, qualified by its alias when there is one.
    pub fn column_ref(&self, field: &Field) -> String {
        let mut out = String::new();
        if let Some(alias) = self.alias {
            self.dialect.quote(alias, &mut out);
            out.push('.');
        }
        self.dialect.quote(&field.column, &mut out);
        out
    }

    /// Binds a value destined for (or compared with) `field`'s column.
    pub fn bind(&mut self, field: &Field, value: Value) -> &mut Self {
        let table = self.entity.table.clone();
        self.bind_in(&table, field, value)
    }

    /// Binds a value compared with `field`'s column of another table than the statement's.
    pub fn bind_in(&mut self, table: &str, field: &Field, value: Value) -> &mut Self {
        let column_type = self.catalog.column_type(table, &field.column);
        let value = match field.value_type() {
            FieldType::MultiChoice => self
                .dialect
                .list_value(value, self.dialect.list_storage(column_type)),
            _ => value,
        };
        let cast = self.dialect.placeholder_cast(kind_of(&value), column_type);
        self.binds.push(value);
        let n = self.binds.len();
        match cast {
            Some(cast) => {
                self.text.push_str("CAST(");
                self.dialect.placeholder(n, &mut self.text);
                self.text.push_str(" AS ");
                self.text.push_str(&cast);
                self.text.push(')');
            }
            None => self.dialect.placeholder(n, &mut self.text),
        }
        self
    }

    /// Writes `template` with each `{}` replaced by a placeholder for the next value.
    fn push_with_binds(&mut self, template: &str, field: &Field, values: Vec<Value>) {
        let mut values = values.into_iter();
        let mut parts = template.split("{}").peekable();
        while let Some(part) = parts.next() {
            self.push(part);
            if parts.peek().is_some() {
                let value = values.next().expect("one value per placeholder");
                self.bind(field, value);
            }
        }
    }

    /// The select list: every readable field, in order, so rows decode by position.
    pub fn select_list(&mut self) -> &mut Self {
        for (i, field) in self.entity.readable_fields().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let column = self.column_ref(field);
            self.dialect
                .select_expr(field.field_type, &column, &mut self.text);
        }
        self
    }

    /// `WHERE key = ?`, and the entity's row scope: a row the user may not reach is not
    /// found, read, changed or deleted by key either.
    pub fn where_key(&mut self, key: Value) -> &mut Self {
        let field = self.entity.key_field();
        self.push(" WHERE ")
            .column(field)
            .push(" = ")
            .bind(field, key);
        self.and_row_scope()
    }

    /// `WHERE key IN (...)`, and the row scope; `keys` must not be empty (`IN ()` is not SQL).
    pub fn where_keys(&mut self, keys: &[Value]) -> &mut Self {
        let key = self.entity.key_field();
        self.push(" WHERE ").column(key).push(" IN (");
        self.bind_list(key, keys);
        self.push(")");
        self.and_row_scope()
    }

    /// ` AND (…)`: the rows of the entity's row scope (`Entity::row_scope`), if it has one. A
    /// scope that does not read (a schema that changed under a role) reaches no row.
    pub fn and_row_scope(&mut self) -> &mut Self {
        if let Some(filters) = self.row_scope() {
            self.push(" AND ");
            self.scope_conditions(&filters);
        }
        self
    }

    /// The filters of the entity's row scope; `Some(empty)` reaches no row.
    fn row_scope(&self) -> Option<Result<Vec<Filter>, ()>> {
        let scope = self.entity.row_scope.as_ref()?;
        Some(crate::query::scope_filters(self.entity, scope).map_err(drop))
    }

    /// The row scope's filters, all of them; none that read reaches no row.
    fn scope_conditions(&mut self, filters: &Result<Vec<Filter>, ()>) {
        match filters {
            Ok(filters) => self.scope(std::slice::from_ref(filters)),
            Err(()) => self.scope(&[]),
        }
    }

    pub fn where_list(&mut self, list_query: &ListQuery) {
        self.where_conditions(list_query, None);
    }

    /// The list's filters and search and, with `keyset`, a part of the rows after its cursor
    /// (`keyset.rs`).
    pub fn where_conditions(&mut self, list_query: &ListQuery, keyset: Option<Part>) {
        let mut first = true;
        let mut and = |b: &mut Self| {
            b.push(if first { " WHERE " } else { " AND " });
            first = false;
        };
        if let (Some(part), Some(after)) = (keyset, &list_query.after) {
            and(self);
            self.after(list_query, after, part);
        }
        for filter in &list_query.filters {
            and(self);
            self.condition(filter);
        }
        if let Some(groups) = &list_query.scope {
            and(self);
            self.scope(groups);
        }
        if let Some(filters) = self.row_scope() {
            and(self);
            self.scope_conditions(&filters);
        }
        for set in &list_query.sets {
            let Some(junction) = self.entity.relations[set.relation].junction() else {
                continue;
            };
            and(self);
            self.set_condition(junction, &set.condition);
        }
        if let Some(needle) = &list_query.search {
            and(self);
            self.push("(");
            for (i, name) in self.entity.search.iter().enumerate() {
                if i > 0 {
                    self.push(" OR ");
                }
                let field = self.entity.find_field(name).expect("search fields checked");
                self.contains(field, needle, false);
            }
            self.push(")");
        }
    }

    /// `((a AND b) OR (c))`: the rows a requester may reach; no group at all reaches none.
    fn scope(&mut self, groups: &[Vec<Filter>]) {
        if groups.is_empty() {
            self.push("1 = 0");
            return;
        }
        self.push("(");
        for (i, group) in groups.iter().enumerate() {
            self.push(if i > 0 { " OR (" } else { "(" });
            if group.is_empty() {
                self.push("1 = 1");
            }
            for (j, filter) in group.iter().enumerate() {
                if j > 0 {
                    self.push(" AND ");
                }
                self.condition(filter);
            }
            self.push(")");
        }
        self.push(")");
    }

    fn condition(&mut self, filter: &Filter) {
        let field = &self.entity.fields[filter.field];
        let column = self.column_ref(field);
        match &filter.condition {
            Condition::Compare(Comparison::Ne, value) => {
                let template = self.dialect.null_safe_ne(&column);
                self.push_with_binds(&template, field, vec![value.clone()]);
            }
            Condition::Compare(comparison, value) => {
                self.push(&column)
                    .push(" ")
                    .push(comparison.symbol())
                    .push(" ");
                self.bind(field, value.clone());
            }
            Condition::In(values) if values.is_empty() => {
                self.push("1 = 0");
            }
            Condition::NotIn(values) if values.is_empty() => {
                self.push("1 = 1");
            }
            Condition::In(values) => {
                self.push(&column).push(" IN (");
                self.bind_list(field, values);
                self.push(")");
            }
            Condition::NotIn(values) => {
                // Like `ne`, `nin` keeps the rows where the field has no value.
                self.push("(")
                    .push(&column)
                    .push(" IS NULL OR ")
                    .push(&column)
                    .push(" NOT IN (");
                self.bind_list(field, values);
                self.push("))");
            }
            Condition::Contains {
                text,
                case_sensitive,
            } => self.contains(field, text, *case_sensitive),
            Condition::HasAny(values) | Condition::HasAll(values) if values.is_empty() => {
                // Any of none: no row; all of none: every row.
                self.push(if matches!(filter.condition, Condition::HasAny(_)) {
                    "1 = 0"
                } else {
                    "1 = 1"
                });
            }
            Condition::HasAny(values) | Condition::HasAll(values) => {
                let all = matches!(filter.condition, Condition::HasAll(_));
                let table = self.entity.table.clone();
                let column_type = self.catalog.column_type(&table, &field.column);
                let storage = self.dialect.list_storage(column_type);
                let (template, binds) = self.dialect.list_condition(&column, storage, all, values);
                self.push_with_binds(&template, field, binds);
            }
            Condition::IsNull(true) => {
                self.push(&column).push(" IS NULL");
            }
            Condition::IsNull(false) => {
                self.push(&column).push(" IS NOT NULL");
            }
        }
    }

    pub fn bind_list(&mut self, field: &Field, values: &[Value]) -> &mut Self {
        let table = self.entity.table.clone();
        self.bind_list_in(&table, field, values)
    }

    /// [`Builder::bind_list`] for `field`'s column of another table than the statement's.
    pub fn bind_list_in(&mut self, table: &str, field: &Field, values: &[Value]) -> &mut Self {
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind_in(table, field, value.clone());
        }
        self
    }

    /// `"column" IN (…)`: `field`'s column of `table` among `values` (not empty).
    pub fn column_in(&mut self, table: &str, field: &Field, values: &[Value]) -> &mut Self {
        self.ident(&field.column).push(" IN (");
        self.bind_list_in(table, field, values).push(")")
    }

    fn contains(&mut self, field: &Field, needle: &str, case_sensitive: bool) {
        let column = self.column_ref(field);
        let text_expr = self.dialect.as_text(field.value_type(), &column);
        let (template, pattern) = self.dialect.contains(&text_expr, needle, case_sensitive);
        // The pattern is text whatever the column's type: bind it without a column cast.
        let mut parts = template.split("{}");
        self.push(parts.next().unwrap_or_default());
        self.binds.push(Value::Text(pattern));
        self.dialect.placeholder(self.binds.len(), &mut self.text);
        self.push(parts.next().unwrap_or_default());
    }

    /// A column of the main table, always qualified (by its alias, else its table's name):
    /// in ORDER BY an unqualified name binds first to an output column of that name, which
    /// for a decimal is its text (`CAST("price" AS TEXT)`): 99.78 would sort after 988.18.
    pub fn qualified_column(&self, field: &Field) -> String {
        let mut out = String::new();
        match self.alias {
            Some(alias) => self.dialect.quote(alias, &mut out),
            None => self.dialect.quote(&self.entity.table, &mut out),
        }
        out.push('.');
        self.dialect.quote(&field.column, &mut out);
        out
    }

    /// What the `i`th sort key orders by: a column of the main table, or the column a
    /// reference shows, of the table joined as `aa_s{i}` (see [`Builder::list_from`]); always
    /// qualified in ORDER BY (see [`Builder::qualified_column`]).
    pub fn sort_term(&self, i: usize, key: &SortKey) -> Term<'a> {
        let field = &self.entity.fields[key.field];
        match field.shown() {
            Some(shown) if key.shown => {
                let mut expr = self.quoted(&format!("aa_s{i}"));
                expr.push('.');
                self.dialect.quote(&shown.field.column, &mut expr);
                Term {
                    expr,
                    field: &shown.field,
                    table: &shown.table,
                    // No referenced record (a NULL reference) shows NULL too.
                    nullable: true,
                    is_key: false,
                }
            }
            _ => Term {
                expr: self.column_ref(field),
                field,
                table: &self.entity.table,
                nullable: field.is_nullable() && field.name != self.entity.primary_key,
                is_key: field.name == self.entity.primary_key,
            },
        }
    }

    /// Whether the list sorts by a value a reference shows: its statement then names the
    /// main table `t` and joins the referenced tables.
    pub fn joins_shown(list_query: &ListQuery) -> bool {
        list_query.sort.iter().any(|k| k.shown)
    }

    /// ` FROM table`, and for each sort key by a shown value, the table it lives in:
    /// ` AS t LEFT JOIN authors AS aa_s0 ON aa_s0.id = t.author_id`.
    pub fn list_from(&mut self, list_query: &ListQuery) -> &mut Self {
        self.push(" FROM ").table();
        if let Some(alias) = self.alias {
            self.push(" AS ").ident(alias);
        }
        for (i, key) in list_query.sort.iter().enumerate() {
            let field = &self.entity.fields[key.field];
            let Some(shown) = field.shown().filter(|_| key.shown) else {
                continue;
            };
            let alias = self.quoted(&format!("aa_s{i}"));
            self.push(" LEFT JOIN ").ident(&shown.table);
            self.push(" AS ").push(&alias).push(" ON ").push(&alias);
            self.push(".").ident(&shown.key_column).push(" = ");
            self.column(field);
        }
        self
    }

    /// After the select list, the values shown by references that the list sorts by (the
    /// next page's cursor needs them), in sort order.
    pub fn shown_columns(&mut self, list_query: &ListQuery) -> &mut Self {
        for (i, key) in list_query.sort.iter().enumerate() {
            if key.shown {
                let term = self.sort_term(i, key);
                self.push(", ");
                self.dialect
                    .select_expr(term.field.field_type, &term.expr, &mut self.text);
            }
        }
        self
    }

    pub fn order_by(&mut self, list_query: &ListQuery) {
        for (i, key) in list_query.sort.iter().enumerate() {
            self.push(if i == 0 { " ORDER BY " } else { ", " });
            let term = self.sort_term(i, key);
            if key.shown {
                self.push(&term.expr);
            } else {
                let column = self.qualified_column(term.field);
                self.push(&column);
            }
            self.push(match key.direction {
                Direction::Asc => " ASC",
                Direction::Desc => " DESC",
            });
            // NULL sorts as the smallest value on every backend.
            if term.nullable
                && let Some(nulls) = self.dialect.nulls_smallest(key.direction)
            {
                self.push(nulls);
            }
        }
    }

    pub fn limit_offset(&mut self, limit: u64, offset: u64) {
        self.push(" LIMIT ");
        self.bind_int(limit);
        self.push(" OFFSET ");
        self.bind_int(offset);
    }

    pub fn bind_int(&mut self, n: u64) {
        self.binds
            .push(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)));
        self.dialect.placeholder(self.binds.len(), &mut self.text);
    }

    pub fn returning(&mut self) {
        if self.dialect.has_returning() {
            self.push(" RETURNING ");
            self.select_list();
        }
    }
}

/// What one sort key orders by, in a statement (see [`Builder::sort_term`]).
pub(super) struct Term<'a> {
    /// The qualified column.
    pub expr: String,
    /// The field its values belong to, and that field's table (for binding them).
    pub field: &'a Field,
    pub table: &'a str,
    pub nullable: bool,
    /// The main table's key: never NULL, unique.
    pub is_key: bool,
}

fn kind_of(value: &Value) -> Kind {
    match value {
        Value::Null(kind) => *kind,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Decimal(_) => Kind::Decimal,
        Value::Text(_) => Kind::Text,
        Value::Date(_) => Kind::Date,
        Value::DateTime(_) => Kind::DateTime,
        Value::Time(_) => Kind::Time,
        Value::Uuid(_) => Kind::Uuid,
        Value::Json(_) => Kind::Json,
        Value::Texts(_) => Kind::Texts,
    }
}
