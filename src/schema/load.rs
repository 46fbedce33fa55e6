//! TOML entity tables → [`Schema`]. The file as a whole (`[admin]`, `[auth]`, `[[entity]]`)
//! is read by `crate::config`, which hands the `[[entity]]` tables here.
//!
//! Parsing goes in two steps (ripgrep's low/high split): each `[[entity]]` and
//! `[[entity.field]]` table is read on its own, so that every message can name the file, the
//! entity and the field; then [`Schema::check`] checks the whole.

use serde::Deserialize;

use super::{Entity, Error, Field, FieldType, Pattern, Relation, Schema};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    name: String,
    table: Option<String>,
    primary_key: Option<String>,
    label: Option<String>,
    label_singular: Option<String>,
    per_page: Option<u64>,
    default_sort: Option<String>,
    #[serde(default)]
    list_columns: Vec<String>,
    #[serde(default)]
    search: Vec<String>,
    #[serde(default)]
    filters: Vec<String>,
    #[serde(default)]
    pinned_filters: Vec<String>,
    #[serde(default)]
    read_only: bool,
    max_rows: Option<u64>,
    count: Option<String>,
    version_field: Option<String>,
    #[serde(default)]
    field: Vec<toml::Table>,
    #[serde(default)]
    relation: Vec<RawRelation>,
    #[serde(default)]
    action: Vec<RawAction>,
    #[serde(default)]
    view: Vec<RawView>,
}

/// `[[entity.view]]`: a view of the list every user has; the keys of a saved view's state.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawView {
    name: String,
    filter: Option<toml::Table>,
    q: Option<String>,
    sort: Option<String>,
    per_page: Option<u64>,
    columns: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    name: String,
    label: Option<String>,
    set: toml::Table,
    #[serde(default)]
    confirm: bool,
    permission: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelation {
    name: String,
    target: String,
    foreign_key: String,
    label: Option<String>,
    through: Option<String>,
    target_key: Option<String>,
    display: Option<String>,
    #[serde(default)]
    inline: bool,
    #[serde(default)]
    inline_delete: bool,
    inline_max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    field_type: String,
    column: Option<String>,
    label: Option<String>,
    #[serde(default)]
    required: bool,
    nullable: Option<bool>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    #[serde(default)]
    email: bool,
    #[serde(default)]
    url: bool,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    read_only: bool,
    default: Option<toml::Value>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    blank: bool,
    format: Option<String>,
    target: Option<String>,
    display: Option<String>,
    generated: Option<bool>,
}

/// Checks the entities of one or several files as one schema; an error names the file that
/// declared the entity at fault. `origin` names the whole (one file, or "config").
pub fn schema(entities: Vec<(Entity, String)>, origin: &str) -> Result<Schema, Error> {
    let origins: Vec<(String, String)> = entities
        .iter()
        .map(|(e, file)| (e.name.clone(), file.clone()))
        .collect();
    Schema::check(entities.into_iter().map(|(e, _)| e).collect(), origin).map_err(|mut err| {
        if let Some((_, file)) = origins.iter().find(|(e, _)| Some(e) == err.entity.as_ref()) {
            err.file = file.clone();
        }
        err
    })
}

/// The `[[entity]]` tables of the file `origin`, each read on its own.
pub fn entities(tables: Vec<toml::Table>, origin: &str) -> Result<Vec<(Entity, String)>, Error> {
    let error = |entity: &str, field: Option<&str>, message: String| Error {
        file: origin.to_owned(),
        entity: Some(entity.to_owned()),
        field: field.map(str::to_owned),
        message,
    };
    let mut entities = Vec::new();
    for (position, table) in tables.into_iter().enumerate() {
        let fallback = format!("#{}", position + 1);
        let name = table
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        let label = name.as_deref().unwrap_or(&fallback);
        let raw_entity: RawEntity = toml::Value::Table(table)
            .try_into()
            .map_err(|err: toml::de::Error| error(label, None, one_line(&err.to_string())))?;
        let entity = entity(raw_entity)
            .map_err(|(field, message)| error(label, field.as_deref(), message))?;
        entities.push((entity, origin.to_owned()));
    }
    Ok(entities)
}

type FieldError = (Option<String>, String);

fn entity(raw: RawEntity) -> Result<Entity, FieldError> {
    let mut entity = Entity::new(raw.name.clone());
    if let Some(table) = raw.table {
        entity.table = table;
    }
    if let Some(key) = raw.primary_key {
        entity.primary_key = key;
    }
    if let Some(label) = raw.label {
        entity.label = label;
    }
    entity.label_singular = raw.label_singular;
    if let Some(per_page) = raw.per_page {
        entity.per_page = per_page;
    }
    if let Some(spec) = raw.default_sort {
        entity.default_sort = Some(super::parse_sort_spec(&spec));
    }
    entity.list_columns = raw.list_columns;
    entity.search = raw.search;
    entity.filters = raw.filters;
    entity.pinned_filters = raw.pinned_filters;
    entity.read_only = raw.read_only;
    if raw.max_rows == Some(0) {
        return Err((None, "max_rows must be at least 1".into()));
    }
    entity.max_rows = raw.max_rows;
    entity.version_field = raw.version_field;
    if let Some(count) = raw.count {
        entity.count = super::CountMode::from_name(&count).ok_or_else(|| {
            (
                None,
                format!("count \"{count}\" is not one of: exact, estimated, none"),
            )
        })?;
    }
    for (position, table) in raw.field.into_iter().enumerate() {
        let fallback = format!("#{}", position + 1);
        let name = table
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or(&fallback)
            .to_owned();
        let raw_field: RawField = toml::Value::Table(table)
            .try_into()
            .map_err(|err: toml::de::Error| (Some(name.clone()), one_line(&err.to_string())))?;
        entity
            .fields
            .push(field(raw_field).map_err(|message| (Some(name), message))?);
    }
    for raw in raw.relation {
        let mut relation = Relation::children(raw.name, raw.target, raw.foreign_key);
        if let Some(label) = raw.label {
            relation.label = label;
        }
        relation.through = raw.through;
        relation.target_key = raw.target_key;
        relation.display = raw.display;
        relation.inline = raw.inline;
        relation.inline_delete = raw.inline_delete;
        relation.inline_max = raw.inline_max;
        entity.relations.push(relation);
    }
    for raw in raw.action {
        let mut action = super::EntityAction::new(raw.name);
        if let Some(label) = raw.label {
            action.label = label;
        }
        action.confirm = raw.confirm;
        if let Some(permission) = raw.permission {
            action.permission = permission;
        }
        for (name, value) in raw.set {
            let value =
                serde_json::to_value(value).map_err(|err| (Some(name.clone()), err.to_string()))?;
            action.set.push((name, value));
        }
        entity.actions.push(action);
    }
    for raw in raw.view {
        let mut state = serde_json::Map::new();
        if let Some(filter) = raw.filter {
            let filter = serde_json::to_value(filter).map_err(|err| (None, err.to_string()))?;
            state.insert("filter".into(), filter);
        }
        if let Some(q) = raw.q {
            state.insert("q".into(), q.into());
        }
        if let Some(sort) = raw.sort {
            state.insert("sort".into(), sort.into());
        }
        if let Some(per_page) = raw.per_page {
            state.insert("per_page".into(), per_page.into());
        }
        if let Some(columns) = raw.columns {
            state.insert("columns".into(), columns.into());
        }
        entity = entity.view(raw.name, serde_json::Value::Object(state));
    }
    Ok(entity)
}

fn field(raw: RawField) -> Result<Field, String> {
    let mut field_type = FieldType::from_name(&raw.field_type).ok_or_else(|| {
        let known: Vec<&str> = FieldType::ALL.iter().map(|t| t.name()).collect();
        format!(
            "unknown type \"{}\" (known types: {})",
            raw.field_type,
            known.join(", ")
        )
    })?;
    // `email = true` / `url = true` on a string field are the email and url types.
    for (flag, special) in [(raw.email, FieldType::Email), (raw.url, FieldType::Url)] {
        if flag {
            if !matches!(field_type, FieldType::String | FieldType::Text) && field_type != special {
                return Err(format!("{special} = true applies to string fields"));
            }
            field_type = special;
        }
    }
    let mut field = Field::new(raw.name, field_type);
    if let Some(column) = raw.column {
        field.column = column;
    }
    if let Some(label) = raw.label {
        field.label = label;
    }
    field.required = raw.required;
    field.nullable = raw.nullable;
    field.min_length = raw.min_length;
    field.max_length = raw.max_length;
    field.min = raw.min;
    field.max = raw.max;
    if let Some(source) = raw.pattern {
        let regex = regex::Regex::new(&source).map_err(|err| {
            format!(
                "pattern is not a valid regex: {}",
                one_line(&err.to_string())
            )
        })?;
        field.pattern = Some(Pattern { source, regex });
    }
    field.choices = raw.choices;
    field.read_only = raw.read_only;
    field.default = raw.default.map(toml_to_json).transpose()?;
    field.unique = raw.unique;
    field.blank = raw.blank;
    field.format = raw.format;
    field.target = raw.target;
    field.display = raw.display;
    field.generated = raw.generated;
    Ok(field)
}

fn toml_to_json(value: toml::Value) -> Result<serde_json::Value, String> {
    Ok(match value {
        toml::Value::String(s) => s.into(),
        toml::Value::Integer(i) => i.into(),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .ok_or("default must be a finite number")?,
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items
            .into_iter()
            .map(toml_to_json)
            .collect::<Result<Vec<_>, _>>()?
            .into(),
        toml::Value::Table(table) => table
            .into_iter()
            .map(|(k, v)| toml_to_json(v).map(|v| (k, v)))
            .collect::<Result<serde_json::Map<_, _>, _>>()?
            .into(),
    })
}

/// toml's messages span several lines (with a source excerpt); ours are one line each.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && l != &"^")
        .collect::<Vec<_>>()
        .join(" ")
}
