//! Introspection: what tables, columns, keys and constraints a live database has
//! ([`Db::introspect`], one reader per backend, a few bulk catalog queries each), and the
//! descriptors they suggest ([`describe`], pure). `autoadmin introspect` prints them as TOML,
//! `autoadmin serve` with no config serves them, `autoadmin check` compares them with a file.

mod advise;
mod check;
mod live;
pub(super) mod mysql;
pub(super) mod postgres;
pub(super) mod sqlite;

use std::collections::{BTreeMap, HashSet};

pub use advise::advise;
pub use check::check;

use crate::schema::{Entity, Field, FieldType};

/// Which tables to read.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// PostgreSQL schema (default `public`); ignored elsewhere.
    pub schema: Option<String>,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
    /// Not these tables.
    pub exclude: Vec<String>,
}

/// A table or view as the database describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub name: String,
    /// The name to use in SQL (`schema.table` outside PostgreSQL's `public`).
    pub qualified: String,
    pub is_view: bool,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Column sets with a unique constraint or index.
    pub unique: Vec<Vec<String>>,
    /// First columns of indexes.
    pub indexed: HashSet<String>,
    /// First columns of trigram-capable indexes (PostgreSQL GIN/GiST), which serve `ILIKE
    /// '%…%'`.
    pub trigram: HashSet<String>,
    /// PostgreSQL's B-tree indexes by their first column: whether it is DESC, and whether
    /// its NULLs come first (where NULLs go decides which orders an index serves).
    pub ordered: Vec<(String, bool, bool)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Column {
    pub name: String,
    /// The type as the database prints it (`character varying(200)`, `tinyint(1)`...).
    pub sql_type: String,
    /// The field type it maps to; `None`: no field type fits (binary, arrays, geometry...).
    pub field_type: Option<FieldType>,
    pub nullable: bool,
    pub has_default: bool,
    /// Filled by the database: auto-increment, identity, serial, rowid.
    pub auto_increment: bool,
    /// Computed by the database (`GENERATED ALWAYS AS`): never written.
    pub computed: bool,
    pub max_length: Option<u64>,
    /// From an enum type or a `CHECK (col IN (...))`.
    pub choices: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub target: String,
    pub target_columns: Vec<String>,
    /// What deleting a target row does to the rows that reference it.
    pub on_delete: OnDelete,
}

/// A foreign key's `ON DELETE` rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnDelete {
    /// The referencing rows are deleted too.
    Cascade,
    /// Their referencing columns become NULL.
    SetNull,
    /// Their referencing columns take their defaults.
    SetDefault,
    /// The delete is refused while rows reference it (RESTRICT, and NO ACTION at the end of
    /// the statement).
    #[default]
    Restrict,
}

impl OnDelete {
    /// From a catalog's spelling: `CASCADE`, `SET NULL`, `c`, `n`... (anything else restricts).
    pub fn from_rule(rule: &str) -> OnDelete {
        match rule.trim().to_ascii_uppercase().as_str() {
            "CASCADE" | "C" => OnDelete::Cascade,
            "SET NULL" | "N" => OnDelete::SetNull,
            "SET DEFAULT" | "D" => OnDelete::SetDefault,
            _ => OnDelete::Restrict,
        }
    }

    /// How the API names it.
    pub fn name(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
            OnDelete::SetDefault => "set_default",
            OnDelete::Restrict => "restrict",
        }
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn is_unique(&self, column: &str) -> bool {
        self.primary_key == [column] || self.unique.iter().any(|set| set == &[column])
    }
}

impl Options {
    /// The tables of `all` these options select.
    pub fn select(&self, all: &[Table]) -> Vec<Table> {
        all.iter()
            .filter(|t| {
                (self.tables.is_empty() || self.tables.contains(&t.name))
                    && !self.exclude.contains(&t.name)
            })
            .cloned()
            .collect()
    }
}

/// The field type of a column from its base type name (lower case) and full type.
pub(crate) fn classify(base: &str, full: &str) -> Option<FieldType> {
    let base = base.trim().to_ascii_lowercase();
    let full = full.trim().to_ascii_lowercase();
    Some(match base.as_str() {
        "smallint" | "integer" | "int" | "bigint" | "int2" | "int4" | "int8" | "mediumint"
        | "serial" | "bigserial" | "smallserial" | "year" => FieldType::Integer,
        "tinyint" if full.starts_with("tinyint(1)") => FieldType::Boolean,
        "tinyint" => FieldType::Integer,
        "real" | "float" | "double" | "double precision" | "float4" | "float8" => FieldType::Float,
        "numeric" | "decimal" => FieldType::Decimal,
        "boolean" | "bool" => FieldType::Boolean,
        "bit" if full == "bit(1)" => FieldType::Boolean,
        "character varying" | "varchar" | "character" | "char" | "bpchar" | "citext" | "name"
        | "nvarchar" | "nchar" => FieldType::String,
        "text" | "tinytext" | "mediumtext" | "longtext" | "clob" => FieldType::Text,
        "date" => FieldType::Date,
        "timestamp"
        | "timestamptz"
        | "datetime"
        | "timestamp with time zone"
        | "timestamp without time zone" => FieldType::Datetime,
        "time" | "timetz" | "time with time zone" | "time without time zone" => FieldType::Time,
        "uuid" => FieldType::Uuid,
        "json" | "jsonb" => FieldType::Json,
        "enum" => FieldType::Choice,
        // A PostgreSQL array of an enum or of text, a MySQL SET.
        "multichoice" | "set" => FieldType::MultiChoice,
        _ => return None,
    })
}

/// `varchar(200)` → 200.
pub(crate) fn length_of(full: &str) -> Option<u64> {
    let start = full.find('(')? + 1;
    let end = start + full[start..].find(')')?;
    full[start..end].trim().parse().ok()
}

/// The quoted literals of an `IN ('a', 'b')` / `ARRAY['a', 'b']` / `enum('a','b')` text.
pub fn quoted_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                } else {
                    break;
                }
            } else {
                literal.push(c);
            }
        }
        out.push(literal);
    }
    out
}

/// An entity name for a table: letters, digits, `_`, `-`.
fn entity_name(table: &str) -> String {
    table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The descriptors a catalog suggests, and notes on what was left out and why.
pub fn describe(tables: &[Table]) -> (Vec<Entity>, Vec<String>) {
    let mut notes = Vec::new();
    // Which tables become entities, and under which name and key.
    let mut keys: BTreeMap<&str, (String, &Column)> = BTreeMap::new();
    for table in tables {
        let key = match (table.primary_key.as_slice(), table.is_view) {
            ([one], _) => table.column(one),
            ([], true) => table.column("id"),
            _ => None,
        };
        match key {
            Some(column) if matches!(column.field_type, Some(FieldType::Integer | FieldType::String | FieldType::Uuid)) => {
                let mut name = entity_name(&table.name);
                if crate::schema::is_route_name(&name) {
                    let served = format!("table-{}", name.trim_start_matches('_'));
                    notes.push(format!(
                        "table \"{}\" is served as \"{served}\": \"{name}\" is the path of one of autoadmin's routes",
                        table.name
                    ));
                    name = served;
                }
                keys.insert(&table.name, (name, column));
            }
            Some(column) => notes.push(format!(
                "table \"{}\" left out: its key \"{}\" ({}) is not an integer, text or uuid",
                table.name, column.name, column.sql_type
            )),
            None if table.primary_key.len() > 1 => notes.push(format!(
                "table \"{}\" left out: its primary key has {} columns ({}); autoadmin needs a single-column key",
                table.name,
                table.primary_key.len(),
                table.primary_key.join(", ")
            )),
            None if table.is_view => notes.push(format!("view \"{}\" left out: it has no \"id\" column to use as its key", table.name)),
            None => notes.push(format!("table \"{}\" left out: it has no primary key", table.name)),
        }
    }
    // Junction tables are many-to-many relations of the tables they join, not entities.
    let junctions: Vec<(&Table, [&ForeignKey; 2])> = tables
        .iter()
        .filter_map(|t| junction_of(t, &keys).map(|pair| (t, pair)))
        .collect();
    for (table, [a, b]) in &junctions {
        keys.remove(table.name.as_str());
        let left_out = format!("table \"{}\" left out", table.name);
        notes.retain(|note| !note.starts_with(&left_out));
        notes.push(format!(
            "table \"{}\" is the many-to-many relation of \"{}\" and \"{}\" (by {} and {}), not an entity",
            table.name, a.target, b.target, a.columns[0], b.columns[0]
        ));
    }
    let mut entities = Vec::new();
    for table in tables {
        let Some((name, key)) = keys.get(table.name.as_str()) else {
            continue;
        };
        let mut entity = Entity::new(name.clone())
            .table(table.qualified.clone())
            .primary_key(key.name.clone());
        entity.read_only = table.is_view;
        for column in &table.columns {
            let Some(field_type) = column.field_type else {
                notes.push(format!(
                    "column \"{}.{}\" ({}) left out: no field type fits it",
                    table.name, column.name, column.sql_type
                ));
                continue;
            };
            if field_type == FieldType::MultiChoice && column.choices.is_empty() {
                notes.push(format!(
                    "column \"{}.{}\" ({}) left out: an array of text without a list of values (CHECK ({} <@ ARRAY['a', 'b']) gives one)",
                    table.name, column.name, column.sql_type, column.name
                ));
                continue;
            }
            entity
                .fields
                .push(field(table, column, field_type, &keys, tables));
        }
        let readable: Vec<&Field> = entity.fields.iter().filter(|f| f.is_readable()).collect();
        entity.search = readable
            .iter()
            .filter(|f| {
                matches!(
                    f.field_type,
                    FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
                )
            })
            .take(3)
            .map(|f| f.name.clone())
            .collect();
        entity.filters = readable
            .iter()
            .filter(|f| {
                f.name != entity.primary_key
                    && (table.indexed.contains(&f.column)
                        || matches!(
                            f.field_type,
                            FieldType::Choice
                                | FieldType::MultiChoice
                                | FieldType::Boolean
                                | FieldType::Date
                                | FieldType::Datetime
                                | FieldType::Reference
                        ))
            })
            .map(|f| f.name.clone())
            .collect();
        entity.list_columns = readable
            .iter()
            .filter(|f| !matches!(f.field_type, FieldType::Text | FieldType::Json))
            .take(6)
            .map(|f| f.name.clone())
            .collect();
        if entity.list_columns.len() == readable.len() {
            entity.list_columns.clear();
        }
        entities.push(entity);
    }
    // Reverse foreign keys become relations on the referenced entity.
    for table in tables {
        let Some((source, _)) = keys.get(table.name.as_str()) else {
            continue;
        };
        for fk in &table.foreign_keys {
            let ([column], Some((target, key))) =
                (fk.columns.as_slice(), keys.get(fk.target.as_str()))
            else {
                continue;
            };
            if fk.target_columns != [key.name.clone()] {
                continue;
            }
            if let Some(entity) = entities.iter_mut().find(|e| &e.name == target) {
                let mut name = source.clone();
                if entity.relations.iter().any(|r| r.name == name) {
                    name = format!("{source}_by_{column}");
                }
                entity.relations.push(crate::schema::Relation::children(
                    name,
                    source.clone(),
                    column.clone(),
                ));
            }
        }
    }
    // Each junction, as a relation of both tables it joins.
    for (table, [a, b]) in &junctions {
        for (from, to) in [(a, b), (b, a)] {
            let (Some((owner, _)), Some((target, _))) =
                (keys.get(from.target.as_str()), keys.get(to.target.as_str()))
            else {
                continue;
            };
            let Some(entity) = entities.iter_mut().find(|e| &e.name == owner) else {
                continue;
            };
            let taken = |entity: &Entity, name: &str| {
                entity.find_field(name).is_some() || entity.relations.iter().any(|r| r.name == name)
            };
            // Django names its junctions `{app}_{model}_{field}`: `auth_user_groups` is the
            // user's `groups`.
            let owner_table = tables
                .iter()
                .find(|t| t.name == from.target)
                .map_or(from.target.as_str(), |t| t.name.as_str());
            let field_name = table
                .name
                .strip_prefix(owner_table)
                .and_then(|rest| rest.strip_prefix('_'))
                .filter(|rest| !rest.is_empty())
                .map(entity_name);
            let name = [
                field_name.unwrap_or_default(),
                target.clone(),
                entity_name(&table.name),
                format!("{}_by_{}", entity_name(&table.name), from.columns[0]),
            ]
            .into_iter()
            .find(|name| !name.is_empty() && !taken(entity, name));
            let Some(name) = name else {
                continue;
            };
            entity.filters.push(name.clone());
            entity.relations.push(crate::schema::Relation::many_to_many(
                name,
                target.clone(),
                table.qualified.clone(),
                from.columns[0].clone(),
                to.columns[0].clone(),
            ));
        }
    }
    (entities, notes)
}

/// The two foreign keys of a junction table: each one column referencing the key of a table
/// that becomes an entity, together its key (or, with a key of its own, unique together, as
/// Django makes them), and no other column a row must be given.
fn junction_of<'a>(
    table: &'a Table,
    keys: &BTreeMap<&str, (String, &Column)>,
) -> Option<[&'a ForeignKey; 2]> {
    if table.is_view {
        return None;
    }
    let references: Vec<&ForeignKey> = table
        .foreign_keys
        .iter()
        .filter(|fk| {
            fk.columns.len() == 1
                && keys
                    .get(fk.target.as_str())
                    .is_some_and(|(_, key)| fk.target_columns == [key.name.clone()])
        })
        .collect();
    let [a, b] = references.as_slice() else {
        return None;
    };
    let (a_column, b_column) = (&a.columns[0], &b.columns[0]);
    if a_column == b_column {
        return None;
    }
    let pair = |set: &[String]| set.len() == 2 && set.contains(a_column) && set.contains(b_column);
    let own_key = match table.primary_key.as_slice() {
        key if pair(key) => None,
        // Its own key must be the database's to fill: the admin writes only the pair.
        [key]
            if table.unique.iter().any(|set| pair(set))
                && table
                    .column(key)
                    .is_some_and(|c| c.auto_increment || c.has_default) =>
        {
            Some(key)
        }
        _ => return None,
    };
    let others_optional = table.columns.iter().all(|c| {
        &c.name == a_column
            || &c.name == b_column
            || Some(&c.name) == own_key
            || c.nullable
            || c.has_default
            || c.auto_increment
            || c.computed
    });
    let joined_columns_required = [a_column, b_column]
        .iter()
        .all(|name| table.column(name).is_some_and(|c| !c.nullable));
    (others_optional && joined_columns_required).then_some([*a, *b])
}

fn field(
    table: &Table,
    column: &Column,
    field_type: FieldType,
    keys: &BTreeMap<&str, (String, &Column)>,
    tables: &[Table],
) -> Field {
    let lower = column.name.to_ascii_lowercase();
    let is_key = table.primary_key == [column.name.clone()];
    // A single-column foreign key to another entity's key is a reference.
    let reference = table.foreign_keys.iter().find_map(|fk| {
        let ([from], [to]) = (fk.columns.as_slice(), fk.target_columns.as_slice()) else {
            return None;
        };
        let (target, key) = keys.get(fk.target.as_str())?;
        (from == &column.name && to == &key.name).then_some((target.clone(), fk.target.clone()))
    });
    let field_type = match (reference.is_some(), field_type) {
        (true, _) if !is_key => FieldType::Reference,
        (_, FieldType::String | FieldType::Text) if !column.choices.is_empty() => FieldType::Choice,
        (_, FieldType::String) if lower == "email" || lower.ends_with("_email") => FieldType::Email,
        (_, FieldType::String)
            if lower == "url"
                || lower.ends_with("_url")
                || lower == "website"
                || lower == "homepage" =>
        {
            FieldType::Url
        }
        (_, FieldType::String | FieldType::Text) if lower.contains("password") => {
            FieldType::Password
        }
        (_, other) => other,
    };
    let mut field = Field::new(&column.name, field_type);
    field.choices = if matches!(field_type, FieldType::Choice | FieldType::MultiChoice) {
        column.choices.clone()
    } else {
        Vec::new()
    };
    if matches!(
        field_type,
        FieldType::String | FieldType::Email | FieldType::Url | FieldType::Password
    ) {
        field.max_length = column.max_length;
    }
    if let Some((target, target_table)) = reference.filter(|_| field_type == FieldType::Reference) {
        field.target = Some(target);
        field.display = tables
            .iter()
            .find(|t| t.name == target_table)
            .and_then(display_field);
    }
    // NOT NULL is "not null", not "not blank" (Django's null and blank): a required text
    // may be empty, as the database lets it be.
    field.required = !column.nullable
        && !column.has_default
        && !column.auto_increment
        && !column.computed
        && !is_key;
    field.blank = field.required
        && matches!(
            field_type,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Url
                | FieldType::Password
        );
    // A NOT NULL column the database fills (a default): may be left out, not set to null.
    if !column.nullable && !field.required && !is_key && !column.computed {
        field.nullable = Some(false);
    }
    field.read_only = column.computed || (is_key && column.auto_increment);
    field.unique = !is_key && table.is_unique(&column.name);
    if is_key {
        let generated_by_default = match field_type {
            FieldType::Integer => column.auto_increment,
            _ => column.auto_increment || column.has_default,
        };
        if generated_by_default != (field_type == FieldType::Integer) {
            field.generated = Some(generated_by_default);
        }
    }
    field
}

/// The column of `target` that names its records best: the first unique text column, else a
/// text column called name, title or label (or ending so), else none (the key is shown).
fn display_field(target: &Table) -> Option<String> {
    let textual = |c: &&Column| {
        matches!(c.field_type, Some(FieldType::String | FieldType::Text))
            && !target.primary_key.contains(&c.name)
            && !c.name.to_ascii_lowercase().contains("password")
    };
    if let Some(column) = target
        .columns
        .iter()
        .filter(textual)
        .find(|c| target.is_unique(&c.name))
    {
        return Some(column.name.clone());
    }
    for wanted in ["name", "title", "label"] {
        let found = target.columns.iter().filter(textual).find(|c| {
            let lower = c.name.to_ascii_lowercase();
            lower == wanted || lower.ends_with(&format!("_{wanted}"))
        });
        if let Some(column) = found {
            return Some(column.name.clone());
        }
    }
    None
}
