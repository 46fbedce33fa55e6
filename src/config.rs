//! The configuration file as a whole, above the layers it configures: the `[admin]` table
//! (runtime settings: [`AdminSettings`]), the `[auth]` table (the built-in policy's users and
//! roles), and the `[[entity]]` tables, which `schema::load` turns into a [`Schema`]. Also
//! the way back: [`print_toml`].
//!
//! `schema/` knows entities only; `db/` and `auth/` get their settings from here.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::builtin::AuthConfig;
use crate::schema::{self, Entity, Error, Schema, one_line};

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
    /// A delete that would take more rows with it (by cascade or SET NULL) is refused.
    pub max_cascade_rows: u64,
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
            max_cascade_rows: 10_000,
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
    pub auth: Option<AuthConfig>,
}

impl From<&AdminSettings> for crate::db::Settings {
    fn from(admin: &AdminSettings) -> crate::db::Settings {
        crate::db::Settings {
            max_connections: admin.max_connections,
            acquire_timeout: admin.acquire_timeout,
            statement_timeout: admin.statement_timeout,
            max_cascade_rows: admin.max_cascade_rows,
        }
    }
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
    max_cascade_rows: Option<u64>,
    #[serde(default)]
    cors_origins: Vec<String>,
    locale: Option<String>,
}

/// Loads and checks several files as one schema; the first `[admin]` and `[auth]` tables
/// win.
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
        let file = parse(&text, &origin)?;
        admin = admin.or(file.admin);
        auth = auth.or(file.auth);
        entities.extend(file.entities);
    }
    let origin = match paths {
        [one] => one.as_ref().display().to_string(),
        _ => "config".to_owned(),
    };
    Ok(LoadedConfig {
        admin: admin.unwrap_or_default(),
        schema: schema::load::schema(entities, &origin)?,
        auth,
    })
}

/// Loads one descriptor document; `origin` names it in messages.
pub fn load_str(text: &str, origin: &str) -> Result<LoadedConfig, Error> {
    let file = parse(text, origin)?;
    Ok(LoadedConfig {
        admin: file.admin.unwrap_or_default(),
        schema: schema::load::schema(file.entities, origin)?,
        auth: file.auth,
    })
}

/// One file's tables, each checked on its own.
struct ParsedFile {
    admin: Option<AdminSettings>,
    auth: Option<AuthConfig>,
    entities: Vec<(Entity, String)>,
}

fn parse(text: &str, origin: &str) -> Result<ParsedFile, Error> {
    let error = |message: String| Error {
        file: origin.to_owned(),
        entity: None,
        field: None,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|err| error(one_line(&err.to_string())))?;
    let admin = raw.admin.map(settings).transpose().map_err(error)?;
    let auth = raw
        .auth
        .map(|table| toml::Value::Table(table).try_into::<AuthConfig>())
        .transpose()
        .map_err(|err| error(format!("[auth]: {}", one_line(&err.to_string()))))?;
    Ok(ParsedFile {
        admin,
        auth,
        entities: schema::load::entities(raw.entity, origin)?,
    })
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
        max_cascade_rows: raw.max_cascade_rows.unwrap_or(defaults.max_cascade_rows),
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

/// The whole file: a comment block of `notes`, an `[admin]` table (when `admin` is given),
/// and every entity. Loading it back gives the same schema.
pub fn print_toml(admin: Option<&AdminSettings>, entities: &[Entity], notes: &[String]) -> String {
    let mut out = String::new();
    for note in notes {
        for line in note.lines() {
            let _ = writeln!(out, "# {line}");
        }
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    if let Some(admin) = admin {
        out.push_str("[admin]\n");
        let _ = writeln!(out, "title = {}", schema::quote_toml(&admin.title));
        let _ = writeln!(out, "base_path = {}", schema::quote_toml(&admin.base_path));
        out.push('\n');
    }
    out.push_str(&schema::print_entities(entities));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldType;

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
    fn the_blog_round_trips() {
        let loaded = load_str(crate::demo::CONFIG, "blog.toml").unwrap();
        let printed = print_toml(Some(&loaded.admin), loaded.schema.entities(), &[]);
        let again = load_str(&printed, "printed.toml").unwrap();
        assert_eq!(
            print_toml(Some(&again.admin), again.schema.entities(), &[]),
            printed
        );
        assert!(printed.contains("default_sort = \"-published_at\""));
        assert!(printed.contains("  pattern = \"^[a-z0-9-]+$\""));
        assert!(printed.contains(
            "  [[entity.action]]\n  name = \"publish\"\n  set = { published_at = \"now\", status = \"published\" }\n  confirm = true\n"
        ), "{printed}");
    }

    #[test]
    fn formats_are_checked() {
        check(
            &GOOD.replace(
                "  required = true\n",
                "  required = true\n  format = \"markdown\"\n",
            ),
            "ok",
        );
        check(
            &GOOD.replace(
                "  required = true\n",
                "  required = true\n  format = \"html\"\n",
            ),
            "blog.toml: entity \"authors\", field \"name\": format \"html\" is not one of: markdown",
        );
        check(
            &GOOD.replace(
                "  type = \"reference\"\n",
                "  type = \"reference\"\n  format = \"markdown\"\n",
            ),
            "blog.toml: entity \"posts\", field \"author_id\": format \"markdown\" applies to string and text fields, not reference",
        );
    }

    #[test]
    fn actions_are_checked_against_their_entity() {
        let with = |action: &str| {
            GOOD.replace(
                "  display = \"name\"\n",
                &format!("  display = \"name\"\n  [[entity.action]]\n{action}\n"),
            )
        };
        check(&with("  name = \"ok\"\n  set = { author_id = 1 }"), "ok");
        check(
            &with("  name = \"go\"\n  set = { writer = 1 }"),
            "blog.toml: entity \"posts\", field \"writer\": action \"go\" sets an unknown field",
        );
        check(
            &with("  name = \"go\"\n  set = { id = 1 }"),
            "blog.toml: entity \"posts\", field \"id\": action \"go\" sets a read-only field",
        );
        check(
            &with("  name = \"go\"\n  set = { author_id = \"now\" }"),
            "blog.toml: entity \"posts\", field \"author_id\": action \"go\": must be an integer",
        );
        check(
            &with("  name = \"go\"\n  set = {}"),
            "blog.toml: entity \"posts\": action \"go\": set names no field: an action sets at least one",
        );
        check(
            &with("  name = \"go\"\n  set = { author_id = 1 }\n  permission = \"own\""),
            "blog.toml: entity \"posts\": action \"go\": permission must be one of: view, add, edit, delete, not \"own\"",
        );
        check(
            &with("  name = \"go go\"\n  set = { author_id = 1 }"),
            "blog.toml: entity \"posts\": action \"go go\": the name must be letters, digits, _ or -",
        );
        check(
            &with("  name = \"go\"\n  sett = { author_id = 1 }"),
            "blog.toml: entity \"posts\": unknown field `sett`, expected one of `name`, `label`, `set`, `confirm`, `permission` in `action`",
        );
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
    fn many_to_many_relations_are_checked() {
        let with = |relation: &str| format!("{GOOD}  [[entity.relation]]\n{relation}\n");
        let good = "  name = \"writers\"\n  target = \"authors\"\n  through = \"post_writers\"\n  foreign_key = \"post_id\"\n  target_key = \"author_id\"";
        check(&with(good), "ok");
        let loaded = load_str(&with(good), "blog.toml").unwrap();
        let posts = loaded.schema.entity("posts").unwrap();
        let relation = posts.find_set("writers").unwrap();
        // The name references to authors show, by default.
        assert_eq!(relation.display.as_deref(), Some("name"));
        assert!(crate::schema::print_entities(loaded.schema.entities()).contains(
            "through = \"post_writers\"\n  foreign_key = \"post_id\"\n  target_key = \"author_id\"\n  display = \"name\""
        ));
        check(
            &with(&good.replace("  target_key = \"author_id\"", "")),
            "blog.toml: entity \"posts\", field \"writers\": a many-to-many relation needs both through (the junction table) and target_key (its column that references the target)",
        );
        check(
            &with(&good.replace("name = \"writers\"", "name = \"author_id\"")),
            "blog.toml: entity \"posts\", field \"author_id\": a many-to-many relation's name is a key of the record: \"author_id\" is a field already",
        );
        check(
            &with(&format!("{good}\n  display = \"nom\"")),
            "blog.toml: entity \"posts\", field \"writers\": display field \"nom\" is not a field of \"authors\"",
        );
        check(
            &with(&good.replace("target_key = \"author_id\"", "target_key = \"post_id\"")),
            "blog.toml: entity \"posts\", field \"writers\": foreign_key and target_key must be two columns of the junction",
        );
        // Lists show and filter by it as by a field; quick search cannot.
        check(
            &with(good).replace(
                "filters = [\"author_id\"]",
                "filters = [\"writers\"]\nlist_columns = [\"id\", \"writers\"]",
            ),
            "ok",
        );
        check(
            &with(good).replace("filters = [\"author_id\"]", "search = [\"writers\"]"),
            "blog.toml: entity \"posts\", field \"writers\": search names an unknown field",
        );
    }

    #[test]
    fn inline_relations_are_checked() {
        let children = |extra: &str| {
            GOOD.replace(
                "  [[entity.field]]\n  name = \"name\"",
                &format!("  [[entity.relation]]\n  name = \"posts\"\n  target = \"posts\"\n  foreign_key = \"author_id\"\n{extra}\n  [[entity.field]]\n  name = \"name\""),
            )
        };
        check(
            &children("  inline = true\n  inline_delete = true\n  inline_max = 5"),
            "ok",
        );
        check(
            &children("  inline_delete = true"),
            "blog.toml: entity \"authors\", field \"posts\": inline_delete and inline_max apply to inline relations (inline = true)",
        );
        check(
            &children("  inline = true\n  inline_max = 0"),
            "blog.toml: entity \"authors\", field \"posts\": inline_max must be at least 1",
        );
        check(
            &children("  inline = true")
                .replace("name = \"posts\"\n  target", "name = \"name\"\n  target"),
            "blog.toml: entity \"authors\", field \"name\": an inline relation's name is a key of the record: \"name\" is a field already",
        );
        check(
            &children("  inline = true\n  through = \"x\"\n  target_key = \"y\""),
            "blog.toml: entity \"authors\", field \"posts\": inline applies to one-to-many relations, not many-to-many",
        );
    }

    #[test]
    fn bad_files_name_file_entity_and_field() {
        check(
            &GOOD.replace("type = \"string\"", "type = \"strin\""),
            "blog.toml: entity \"authors\", field \"name\": unknown type \"strin\" (known types: integer, float, decimal, string, text, boolean, date, datetime, time, uuid, json, email, url, choice, multichoice, reference, password)",
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
            &GOOD.replace(
                "default_sort = \"-id\"",
                "default_sort = \"-author_id.bio\"",
            ),
            "blog.toml: entity \"posts\", field \"author_id.bio\": default_sort names neither a field nor a reference's display field (reference.display)",
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
            "blog.toml: entity \"authors\", field \"name\": unknown field `requird`, expected one of `name`, `type`, `column`, `label`, `required`, `nullable`, `min_length`, `max_length`, `min`, `max`, `pattern`, `email`, `url`, `choices`, `read_only`, `default`, `unique`, `blank`, `format`, `target`, `display`, `generated`",
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
