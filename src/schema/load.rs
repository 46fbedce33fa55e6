//! TOML descriptor files → [`Schema`] and [`AdminSettings`].
//!
//! Parsing goes in two steps (ripgrep's low/high split): each `[[entity]]` and
//! `[[entity.field]]` table is read on its own, so that every message can name the file, the
//! entity and the field; then [`Schema::check`] checks the whole.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::{Entity, Error, Field, FieldType, Pattern, Relation, Schema, default_label};

/// The `[admin]` table: settings of the admin as a whole.
#[derive(Clone, Debug)]
pub struct AdminSettings {
    pub title: String,
    pub base_path: String,
    pub database_url: Option<String>,
    pub bind: Option<String>,
    /// Upper bound of `_perPage`.
    pub max_per_page: u64,
    /// Rows returned by a list request without paging parameters.
    pub max_rows: u64,
    pub request_timeout: Duration,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    pub max_connections: u32,
    /// Below this many rows an `estimated` count is exact.
    pub count_threshold: u64,
    /// Origins allowed to call the API from a browser (CORS); empty: CORS is off. `"*"`
    /// allows any origin.
    pub cors_origins: Vec<String>,
    /// The admin app's language (`en`, `fr`); `None`: the browser's.
    pub locale: Option<String>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            title: "Admin".to_owned(),
            base_path: "/admin".to_owned(),
            database_url: None,
            bind: None,
            max_per_page: 1000,
            max_rows: 10_000,
            request_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            max_connections: 10,
            count_threshold: 100_000,
            cors_origins: Vec::new(),
            locale: None,
        }
    }
}

/// What a set of descriptor files declares.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub admin: AdminSettings,
    pub schema: Schema,
    /// The `[auth]` table, for the built-in policy (checked when the admin is built).
    pub auth: Option<crate::auth::builtin::AuthConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    admin: Option<RawAdmin>,
    auth: Option<toml::Table>,
    #[serde(default)]
    entity: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    title: Option<String>,
    base_path: Option<String>,
    database_url: Option<String>,
    bind: Option<String>,
    max_per_page: Option<u64>,
    max_rows: Option<u64>,
    request_timeout_secs: Option<u64>,
    acquire_timeout_secs: Option<u64>,
    statement_timeout_secs: Option<u64>,
    max_connections: Option<u32>,
    count_threshold: Option<u64>,
    #[serde(default)]
    cors_origins: Vec<String>,
    locale: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    name: String,
    table: Option<String>,
    primary_key: Option<String>,
    label: Option<String>,
    per_page: Option<u64>,
    default_sort: Option<String>,
    #[serde(default)]
    list_columns: Vec<String>,
    #[serde(default)]
    search: Vec<String>,
    #[serde(default)]
    filters: Vec<String>,
    #[serde(default)]
    read_only: bool,
    max_rows: Option<u64>,
    count: Option<String>,
    #[serde(default)]
    field: Vec<toml::Table>,
    #[serde(default)]
    relation: Vec<RawRelation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelation {
    name: String,
    target: String,
    foreign_key: String,
    label: Option<String>,
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
    target: Option<String>,
    display: Option<String>,
    generated: Option<bool>,
}

/// Loads and checks several files as one schema; the first `[admin]` table wins.
pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<LoadedConfig, Error> {
    let mut admin = None;
    let mut auth = None;
    let mut entities = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| Error {
            file: origin.clone(),
            entity: None,
            field: None,
            message: format!("cannot read: {err}"),
        })?;
        let (file_admin, file_entities, file_auth) = parse(&text, &origin)?;
        if admin.is_none() {
            admin = file_admin;
        }
        if auth.is_none() {
            auth = file_auth;
        }
        entities.extend(file_entities);
    }
    let origin = match paths {
        [one] => one.as_ref().display().to_string(),
        _ => "config".to_owned(),
    };
    finish(admin, entities, auth, &origin)
}

/// Loads one descriptor document; `origin` names it in messages.
pub fn load_str(text: &str, origin: &str) -> Result<LoadedConfig, Error> {
    let (admin, entities, auth) = parse(text, origin)?;
    finish(admin, entities, auth, origin)
}

fn finish(
    admin: Option<AdminSettings>,
    entities: Vec<(Entity, String)>,
    auth: Option<crate::auth::builtin::AuthConfig>,
    origin: &str,
) -> Result<LoadedConfig, Error> {
    let origins: Vec<(String, String)> = entities
        .iter()
        .map(|(e, file)| (e.name.clone(), file.clone()))
        .collect();
    let schema = Schema::check(entities.into_iter().map(|(e, _)| e).collect(), origin).map_err(
        |mut err| {
            // Name the file that declared the entity, when several were loaded.
            if let Some((_, file)) = origins.iter().find(|(e, _)| Some(e) == err.entity.as_ref()) {
                err.file = file.clone();
            }
            err
        },
    )?;
    Ok(LoadedConfig {
        admin: admin.unwrap_or_default(),
        schema,
        auth,
    })
}

type Parsed = (
    Option<AdminSettings>,
    Vec<(Entity, String)>,
    Option<crate::auth::builtin::AuthConfig>,
);

fn parse(text: &str, origin: &str) -> Result<Parsed, Error> {
    let error = |entity: Option<&str>, field: Option<&str>, message: String| Error {
        file: origin.to_owned(),
        entity: entity.map(str::to_owned),
        field: field.map(str::to_owned),
        message,
    };
    let raw: RawFile =
        toml::from_str(text).map_err(|err| error(None, None, one_line(&err.to_string())))?;
    let admin = raw
        .admin
        .map(settings)
        .transpose()
        .map_err(|m| error(None, None, m))?;
    let auth = raw
        .auth
        .map(|table| toml::Value::Table(table).try_into::<crate::auth::builtin::AuthConfig>())
        .transpose()
        .map_err(|err| {
            error(
                None,
                None,
                format!("[auth]: {}", one_line(&err.to_string())),
            )
        })?;
    let mut entities = Vec::new();
    for (position, table) in raw.entity.into_iter().enumerate() {
        let fallback = format!("#{}", position + 1);
        let name = table
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        let label = name.as_deref().unwrap_or(&fallback);
        let raw_entity: RawEntity = toml::Value::Table(table)
            .try_into()
            .map_err(|err: toml::de::Error| error(Some(label), None, one_line(&err.to_string())))?;
        let entity = entity(raw_entity)
            .map_err(|(field, message)| error(Some(label), field.as_deref(), message))?;
        entities.push((entity, origin.to_owned()));
    }
    Ok((admin, entities, auth))
}

fn settings(raw: RawAdmin) -> Result<AdminSettings, String> {
    let defaults = AdminSettings::default();
    let base_path = raw.base_path.unwrap_or(defaults.base_path);
    if !(base_path.is_empty() || base_path.starts_with('/') && !base_path.ends_with('/')) {
        return Err(format!(
            "base_path \"{base_path}\" must start with '/' and not end with one (or be empty)"
        ));
    }
    let secs = |value: Option<u64>, default: Duration, name: &str| match value {
        Some(0) => Err(format!("{name} must be at least 1")),
        Some(n) => Ok(Duration::from_secs(n)),
        None => Ok(default),
    };
    Ok(AdminSettings {
        title: raw.title.unwrap_or(defaults.title),
        base_path,
        database_url: raw.database_url,
        bind: raw.bind,
        max_per_page: raw.max_per_page.unwrap_or(defaults.max_per_page).max(1),
        max_rows: raw.max_rows.unwrap_or(defaults.max_rows).max(1),
        request_timeout: secs(
            raw.request_timeout_secs,
            defaults.request_timeout,
            "request_timeout_secs",
        )?,
        acquire_timeout: secs(
            raw.acquire_timeout_secs,
            defaults.acquire_timeout,
            "acquire_timeout_secs",
        )?,
        statement_timeout: secs(
            raw.statement_timeout_secs,
            defaults.statement_timeout,
            "statement_timeout_secs",
        )?,
        max_connections: raw
            .max_connections
            .unwrap_or(defaults.max_connections)
            .max(1),
        count_threshold: raw.count_threshold.unwrap_or(defaults.count_threshold),
        cors_origins: check_origins(raw.cors_origins)?,
        locale: match raw.locale {
            Some(locale) if !LOCALES.contains(&locale.as_str()) => {
                return Err(format!(
                    "locale \"{locale}\" is not one of: {}",
                    LOCALES.join(", ")
                ));
            }
            locale => locale,
        },
    })
}

/// The languages the admin app ships (frontend/i18n/).
pub const LOCALES: [&str; 2] = ["en", "fr"];

/// `"*"` or `scheme://host[:port]`, exactly as browsers send them in `Origin`.
fn check_origins(origins: Vec<String>) -> Result<Vec<String>, String> {
    for origin in &origins {
        if origin == "*" {
            continue;
        }
        let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', ' '])
        });
        if !valid {
            return Err(format!(
                "cors_origins: \"{origin}\" is not an origin (scheme://host[:port], no path) or \"*\""
            ));
        }
    }
    Ok(origins)
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
    if let Some(per_page) = raw.per_page {
        entity.per_page = per_page;
    }
    if let Some(spec) = raw.default_sort {
        entity.default_sort = Some(super::parse_sort_spec(&spec));
    }
    entity.list_columns = raw.list_columns;
    entity.search = raw.search;
    entity.filters = raw.filters;
    entity.read_only = raw.read_only;
    if raw.max_rows == Some(0) {
        return Err((None, "max_rows must be at least 1".into()));
    }
    entity.max_rows = raw.max_rows;
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
    for relation in raw.relation {
        entity.relations.push(Relation {
            label: relation
                .label
                .unwrap_or_else(|| default_label(&relation.name)),
            name: relation.name,
            target: relation.target,
            foreign_key: relation.foreign_key,
        });
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
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && l != &"^")
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[admin]
title = "Blog"

[[entity]]
name = "authors"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  required = true

[[entity]]
name = "posts"
default_sort = "-id"
filters = ["author_id"]
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "author_id"
  type = "reference"
  target = "authors"
  display = "name"
"#;

    fn check(toml: &str, want: &str) {
        let got = load_str(toml, "blog.toml").map(|_| "ok".to_owned());
        assert_eq!(got.unwrap_or_else(|e| e.to_string()), want);
    }

    #[test]
    fn loads_a_good_file() {
        let config = load_str(GOOD, "blog.toml").unwrap();
        assert_eq!(config.admin.title, "Blog");
        let posts = config.schema.entity("posts").unwrap();
        assert_eq!(
            posts.find_field("author_id").unwrap().value_type(),
            FieldType::Integer
        );
    }

    #[test]
    fn bad_files_name_file_entity_and_field() {
        check(
            &GOOD.replace("type = \"string\"", "type = \"strin\""),
            "blog.toml: entity \"authors\", field \"name\": unknown type \"strin\" (known types: integer, float, decimal, string, text, boolean, date, datetime, time, uuid, json, email, url, choice, reference, password)",
        );
        check(
            &GOOD.replace("target = \"authors\"", "target = \"writers\""),
            "blog.toml: entity \"posts\", field \"author_id\": reference target \"writers\" is not an entity",
        );
        check(
            &GOOD.replace("filters = [\"author_id\"]", "filters = [\"writer\"]"),
            "blog.toml: entity \"posts\", field \"writer\": filters names an unknown field",
        );
        check(
            &GOOD.replace("default_sort = \"-id\"", "default_sort = \"-idx\""),
            "blog.toml: entity \"posts\", field \"idx\": default_sort names an unknown field",
        );
        check(
            &GOOD.replace("name = \"posts\"", "name = \"authors\""),
            "blog.toml: entity \"authors\": duplicate entity name",
        );
        check(
            &GOOD.replace("default_sort = \"-id\"", "primary_key = \"post_id\""),
            "blog.toml: entity \"posts\", field \"post_id\": primary key \"post_id\" is not a declared field",
        );
        check(
            &GOOD.replace("required = true", "requird = true"),
            "blog.toml: entity \"authors\", field \"name\": unknown field `requird`, expected one of `name`, `type`, `column`, `label`, `required`, `nullable`, `min_length`, `max_length`, `min`, `max`, `pattern`, `email`, `url`, `choices`, `read_only`, `default`, `unique`, `target`, `display`, `generated`",
        );
        check(
            &GOOD.replace(
                "title = \"Blog\"",
                "title = \"Blog\"\ncors_origins = [\"https://a.example/admin\"]",
            ),
            "blog.toml: cors_origins: \"https://a.example/admin\" is not an origin (scheme://host[:port], no path) or \"*\"",
        );
        check(
            &GOOD.replace("display = \"name\"", "display = \"nom\""),
            "blog.toml: entity \"posts\", field \"author_id\": display field \"nom\" is not a field of \"authors\"",
        );
    }
}
