//! Entity descriptors: the single source of truth from which routes, SQL, validation and the
//! SPA's config are derived.
//!
//! A [`Schema`] is built either from TOML ([`load`]) or in Rust with the builder methods of
//! [`Entity`] and [`Field`]; both end in [`Schema::new`], which checks the whole thing and
//! resolves cross-entity facts (the key type behind a reference). This module knows nothing of
//! HTTP or SQL drivers.

mod load;
mod print;
mod typed;
mod validate;
pub mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use load::{AdminSettings, LOCALES, LoadedConfig, load_files, load_str};
pub use print::print_toml;
pub use typed::TypedValidator;
pub use validate::{
    Changes, FieldErrors, WriteError, prepare_create, prepare_update, validate_record,
};
pub use value::{Kind, Value};

/// Every field type a descriptor may name. The TOML spelling is the lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    Integer,
    Float,
    Decimal,
    String,
    Text,
    Boolean,
    Date,
    Datetime,
    Time,
    Uuid,
    Json,
    Email,
    Url,
    Choice,
    Reference,
    Password,
}

impl FieldType {
    pub const ALL: [FieldType; 16] = [
        FieldType::Integer,
        FieldType::Float,
        FieldType::Decimal,
        FieldType::String,
        FieldType::Text,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Time,
        FieldType::Uuid,
        FieldType::Json,
        FieldType::Email,
        FieldType::Url,
        FieldType::Choice,
        FieldType::Reference,
        FieldType::Password,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Decimal => "decimal",
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Uuid => "uuid",
            FieldType::Json => "json",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Choice => "choice",
            FieldType::Reference => "reference",
            FieldType::Password => "password",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Types whose values are text, so that length, pattern and substring rules apply.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Url
                | FieldType::Choice
                | FieldType::Password
        )
    }

    /// Types with an order that `min`/`max` rules can check numerically.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Float | FieldType::Decimal
        )
    }

    /// The types a primary key may have.
    pub fn can_be_key(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::String | FieldType::Uuid
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of an entity, with its validation rules.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub column: String,
    pub field_type: FieldType,
    pub label: String,
    pub required: bool,
    /// `None` means "nullable unless required".
    pub nullable: Option<bool>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<Pattern>,
    pub choices: Vec<String>,
    pub read_only: bool,
    pub default: Option<serde_json::Value>,
    pub unique: bool,
    /// For references: the target entity's name and the field shown instead of the id.
    pub target: Option<String>,
    pub display: Option<String>,
    /// For a primary key: the database generates it (auto-increment), so a client value is
    /// ignored. `None` means "integer keys are generated, others are not".
    pub generated: Option<bool>,
    /// For references, the type of the target's primary key; resolved by [`Schema::new`].
    pub(crate) key_type: Option<FieldType>,
}

/// A compiled `pattern` rule; keeps its source for messages and the SPA's config.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: regex::Regex,
}

impl Field {
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Field {
        let name = name.into();
        Field {
            column: name.clone(),
            label: default_label(&name),
            name,
            field_type,
            required: false,
            nullable: None,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            pattern: None,
            choices: Vec::new(),
            read_only: false,
            default: None,
            unique: false,
            target: None,
            display: None,
            generated: None,
            key_type: None,
        }
    }

    pub fn integer(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Integer)
    }
    pub fn float(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Float)
    }
    pub fn decimal(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Decimal)
    }
    pub fn string(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::String)
    }
    pub fn text(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Text)
    }
    pub fn boolean(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Boolean)
    }
    pub fn date(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Date)
    }
    pub fn datetime(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Datetime)
    }
    pub fn time(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Time)
    }
    pub fn uuid(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Uuid)
    }
    pub fn json(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Json)
    }
    pub fn email(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Email)
    }
    pub fn url(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Url)
    }
    pub fn password(name: impl Into<String>) -> Field {
        Field::new(name, FieldType::Password)
    }
    pub fn choice<S: Into<String>>(
        name: impl Into<String>,
        choices: impl IntoIterator<Item = S>,
    ) -> Field {
        let mut field = Field::new(name, FieldType::Choice);
        field.choices = choices.into_iter().map(Into::into).collect();
        field
    }
    pub fn reference(name: impl Into<String>, target: impl Into<String>) -> Field {
        let mut field = Field::new(name, FieldType::Reference);
        field.target = Some(target.into());
        field
    }

    pub fn column(mut self, column: impl Into<String>) -> Field {
        self.column = column.into();
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Field {
        self.label = label.into();
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn nullable(mut self, nullable: bool) -> Field {
        self.nullable = Some(nullable);
        self
    }
    pub fn min_length(mut self, n: u64) -> Field {
        self.min_length = Some(n);
        self
    }
    pub fn max_length(mut self, n: u64) -> Field {
        self.max_length = Some(n);
        self
    }
    pub fn min(mut self, n: f64) -> Field {
        self.min = Some(n);
        self
    }
    pub fn max(mut self, n: f64) -> Field {
        self.max = Some(n);
        self
    }
    /// Panics on an invalid regex: a builder call is code, and a bad pattern in code is a bug.
    /// TOML patterns are checked by [`load_str`] and reported as errors instead.
    pub fn pattern(mut self, pattern: &str) -> Field {
        let regex = regex::Regex::new(pattern).expect("invalid pattern in Field::pattern");
        self.pattern = Some(Pattern {
            source: pattern.to_owned(),
            regex,
        });
        self
    }
    pub fn read_only(mut self) -> Field {
        self.read_only = true;
        self
    }
    pub fn default_value(mut self, value: serde_json::Value) -> Field {
        self.default = Some(value);
        self
    }
    pub fn unique(mut self) -> Field {
        self.unique = true;
        self
    }
    pub fn display(mut self, field: impl Into<String>) -> Field {
        self.display = Some(field.into());
        self
    }
    pub fn generated(mut self, generated: bool) -> Field {
        self.generated = Some(generated);
        self
    }

    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(!self.required)
    }

    /// Password fields are write-only: never selected, returned, filtered or sorted on.
    pub fn is_readable(&self) -> bool {
        self.field_type != FieldType::Password
    }

    /// The type values of this field have: a reference carries its target's key type.
    pub fn value_type(&self) -> FieldType {
        match self.field_type {
            FieldType::Reference => self.key_type.unwrap_or(FieldType::Integer),
            other => other,
        }
    }
}

/// A one-to-many relation shown on the detail page (ng-admin's referenced_list).
#[derive(Clone, Debug)]
pub struct Relation {
    pub name: String,
    pub target: String,
    pub foreign_key: String,
    pub label: String,
}

/// How a list's total is counted, from most to least exact (and costly).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CountMode {
    /// No total: paging by next/previous only.
    None,
    /// Exact below the admin's threshold, the database's estimate above it.
    Estimated,
    /// `COUNT(*)`.
    Exact,
}

impl CountMode {
    pub fn name(self) -> &'static str {
        match self {
            CountMode::None => "none",
            CountMode::Estimated => "estimated",
            CountMode::Exact => "exact",
        }
    }

    pub fn from_name(name: &str) -> Option<CountMode> {
        [CountMode::None, CountMode::Estimated, CountMode::Exact]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Sort direction of a sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A table (or view) exposed as a resource at `{base}/api/{name}`.
#[derive(Clone, Debug)]
pub struct Entity {
    pub name: String,
    pub table: String,
    pub primary_key: String,
    pub label: String,
    pub per_page: u64,
    pub default_sort: Option<(String, Direction)>,
    pub list_columns: Vec<String>,
    pub search: Vec<String>,
    pub filters: Vec<String>,
    pub read_only: bool,
    /// Rows of a list without paging parameters; `None`: the admin's `max_rows`.
    pub max_rows: Option<u64>,
    /// How totals are counted; a request may ask for less, never more.
    pub count: CountMode,
    pub fields: Vec<Field>,
    pub relations: Vec<Relation>,
    pub(crate) typed: Option<TypedValidator>,
}

impl Entity {
    pub fn new(name: impl Into<String>) -> Entity {
        let name = name.into();
        Entity {
            table: name.clone(),
            label: default_label(&name),
            name,
            primary_key: "id".to_owned(),
            per_page: 25,
            default_sort: None,
            list_columns: Vec::new(),
            search: Vec::new(),
            filters: Vec::new(),
            read_only: false,
            max_rows: None,
            count: CountMode::Exact,
            fields: Vec::new(),
            relations: Vec::new(),
            typed: None,
        }
    }

    pub fn table(mut self, table: impl Into<String>) -> Entity {
        self.table = table.into();
        self
    }
    pub fn primary_key(mut self, field: impl Into<String>) -> Entity {
        self.primary_key = field.into();
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Entity {
        self.label = label.into();
        self
    }
    pub fn per_page(mut self, n: u64) -> Entity {
        self.per_page = n;
        self
    }
    /// `"-published_at"` sorts descending.
    pub fn default_sort(mut self, spec: &str) -> Entity {
        self.default_sort = Some(parse_sort_spec(spec));
        self
    }
    pub fn list_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.list_columns = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn search<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.search = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn filters<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Entity {
        self.filters = names.into_iter().map(Into::into).collect();
        self
    }
    pub fn read_only(mut self) -> Entity {
        self.read_only = true;
        self
    }
    pub fn count(mut self, mode: CountMode) -> Entity {
        self.count = mode;
        self
    }
    pub fn max_rows(mut self, n: u64) -> Entity {
        self.max_rows = Some(n);
        self
    }
    pub fn field(mut self, field: Field) -> Entity {
        self.fields.push(field);
        self
    }
    pub fn relation(
        mut self,
        name: impl Into<String>,
        target: impl Into<String>,
        foreign_key: impl Into<String>,
    ) -> Entity {
        let name = name.into();
        self.relations.push(Relation {
            label: default_label(&name),
            name,
            target: target.into(),
            foreign_key: foreign_key.into(),
        });
        self
    }
    /// Attaches a Rust type whose `validator::Validate` rules run in addition to the field
    /// rules on every create and update.
    pub fn validate_with<T>(mut self) -> Entity
    where
        T: serde::de::DeserializeOwned + validator::Validate + 'static,
    {
        self.typed = Some(TypedValidator::new::<T>());
        self
    }

    pub fn find_field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn key_field(&self) -> &Field {
        // Schema::new guarantees the key field exists.
        self.find_field(&self.primary_key)
            .expect("primary key field checked by Schema::new")
    }

    /// Whether the database generates the key, so a client-sent key is ignored on create.
    pub fn key_is_generated(&self) -> bool {
        let key = self.key_field();
        key.generated
            .unwrap_or(key.field_type == FieldType::Integer)
    }

    pub fn readable_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_readable())
    }

    pub(crate) fn typed_validator(&self) -> Option<&TypedValidator> {
        self.typed.as_ref()
    }
}

/// All entities, checked and cross-resolved; cheap to clone.
#[derive(Clone, Debug)]
pub struct Schema {
    entities: Arc<Vec<Entity>>,
}

impl Schema {
    /// Checks every entity (see [`Error`]) and resolves reference key types.
    pub fn new(entities: Vec<Entity>) -> Result<Schema, Error> {
        Schema::check(entities, "<code>")
    }

    pub(crate) fn check(mut entities: Vec<Entity>, origin: &str) -> Result<Schema, Error> {
        let at = |entity: &str, field: Option<&str>, message: String| Error {
            file: origin.to_owned(),
            entity: Some(entity.to_owned()),
            field: field.map(str::to_owned),
            message,
        };
        let mut seen = std::collections::HashSet::new();
        for entity in &entities {
            if !seen.insert(entity.name.as_str()) {
                return Err(at(&entity.name, None, "duplicate entity name".into()));
            }
            check_entity(entity).map_err(|(field, message)| at(&entity.name, field, message))?;
        }
        // References: the target must exist, and its key type becomes the field's value type.
        let key_types: BTreeMap<String, FieldType> = entities
            .iter()
            .map(|e| (e.name.clone(), e.key_field().field_type))
            .collect();
        let by_name: BTreeMap<String, Vec<String>> = entities
            .iter()
            .map(|e| {
                let names = e.readable_fields().map(|f| f.name.clone()).collect();
                (e.name.clone(), names)
            })
            .collect();
        for entity in &mut entities {
            for field in &mut entity.fields {
                if field.field_type != FieldType::Reference {
                    continue;
                }
                let target = field.target.clone().unwrap_or_default();
                let Some(key_type) = key_types.get(&target) else {
                    return Err(at(
                        &entity.name,
                        Some(&field.name),
                        format!("reference target \"{target}\" is not an entity"),
                    ));
                };
                field.key_type = Some(*key_type);
                if let Some(display) = &field.display
                    && !by_name[&target].contains(display)
                {
                    return Err(at(
                        &entity.name,
                        Some(&field.name),
                        format!("display field \"{display}\" is not a field of \"{target}\""),
                    ));
                }
            }
            for relation in &entity.relations {
                let Some(fields) = by_name.get(&relation.target) else {
                    return Err(at(
                        &entity.name,
                        Some(&relation.name),
                        format!("relation target \"{}\" is not an entity", relation.target),
                    ));
                };
                if !fields.contains(&relation.foreign_key) {
                    return Err(at(
                        &entity.name,
                        Some(&relation.name),
                        format!(
                            "foreign key \"{}\" is not a field of \"{}\"",
                            relation.foreign_key, relation.target
                        ),
                    ));
                }
            }
        }
        Ok(Schema {
            entities: Arc::new(entities),
        })
    }

    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }

    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }
}

/// A descriptor that does not hold together; names where, so the user can fix it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub struct Error {
    pub file: String,
    pub entity: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(entity) = &self.entity {
            write!(f, ": entity \"{entity}\"")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field \"{field}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Checks one entity on its own; returns the offending field (if any) and the message.
fn check_entity(entity: &Entity) -> Result<(), (Option<&str>, String)> {
    if !is_name(&entity.name) {
        return Err((
            None,
            "entity names use letters, digits, '_' and '-' only (they appear in URLs)".into(),
        ));
    }
    if entity.fields.is_empty() {
        return Err((None, "has no fields".into()));
    }
    if entity.per_page == 0 {
        return Err((None, "per_page must be at least 1".into()));
    }
    let mut names = std::collections::HashSet::new();
    for field in &entity.fields {
        let name = field.name.as_str();
        if !names.insert(name) {
            return Err((Some(name), "duplicate field name".into()));
        }
        if name.is_empty() || field.column.is_empty() {
            return Err((
                Some(name),
                "field and column names must not be empty".into(),
            ));
        }
        check_field(field).map_err(|message| (Some(name), message))?;
    }
    let Some(key) = entity.find_field(&entity.primary_key) else {
        return Err((
            Some(entity.primary_key.as_str()),
            format!(
                "primary key \"{}\" is not a declared field",
                entity.primary_key
            ),
        ));
    };
    if !key.field_type.can_be_key() {
        return Err((
            Some(key.name.as_str()),
            format!(
                "a primary key must be integer, string or uuid, not {}",
                key.field_type
            ),
        ));
    }
    let readable = |name: &str| entity.find_field(name).is_some_and(Field::is_readable);
    for (list, what) in [
        (&entity.list_columns, "list_columns"),
        (&entity.search, "search"),
        (&entity.filters, "filters"),
    ] {
        for name in list {
            if !readable(name) {
                return Err((
                    Some(name.as_str()),
                    format!("{what} names an unknown field"),
                ));
            }
        }
    }
    for name in &entity.search {
        if !entity
            .find_field(name)
            .is_some_and(|f| f.field_type.is_textual() || f.field_type == FieldType::Uuid)
        {
            return Err((Some(name.as_str()), "search fields must hold text".into()));
        }
    }
    if let Some((name, _)) = &entity.default_sort
        && !readable(name)
    {
        return Err((
            Some(name.as_str()),
            "default_sort names an unknown field".into(),
        ));
    }
    Ok(())
}

fn check_field(field: &Field) -> Result<(), String> {
    let t = field.field_type;
    if (field.min_length.is_some() || field.max_length.is_some() || field.pattern.is_some())
        && !t.is_textual()
    {
        return Err(format!(
            "min_length, max_length and pattern apply to text fields, not {t}"
        ));
    }
    if let (Some(lo), Some(hi)) = (field.min_length, field.max_length)
        && lo > hi
    {
        return Err("min_length is greater than max_length".into());
    }
    if (field.min.is_some() || field.max.is_some()) && !t.is_numeric() {
        return Err(format!("min and max apply to numeric fields, not {t}"));
    }
    if let (Some(lo), Some(hi)) = (field.min, field.max)
        && lo > hi
    {
        return Err("min is greater than max".into());
    }
    match t {
        FieldType::Choice if field.choices.is_empty() => {
            return Err("a choice field needs a non-empty choices list".into());
        }
        FieldType::Reference if field.target.is_none() => {
            return Err("a reference field needs a target entity".into());
        }
        _ => {}
    }
    if !field.choices.is_empty() && t != FieldType::Choice {
        return Err(format!("choices apply to choice fields, not {t}"));
    }
    if field.target.is_some() && t != FieldType::Reference {
        return Err(format!("target applies to reference fields, not {t}"));
    }
    if field.required && field.nullable == Some(true) {
        return Err("a required field cannot be nullable".into());
    }
    if let Some(default) = &field.default
        && let Err(message) = value::from_json(t, default, &field.choices)
    {
        return Err(format!("default {default}: {message}"));
    }
    Ok(())
}

/// URL-safe names: entities appear as path segments.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `"published_at"` → `"Published at"`.
pub(crate) fn default_label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(crate) fn parse_sort_spec(spec: &str) -> (String, Direction) {
    match spec.strip_prefix('-') {
        Some(name) => (name.to_owned(), Direction::Desc),
        None => (spec.to_owned(), Direction::Asc),
    }
}
