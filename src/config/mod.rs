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
    /// Requests that may use the database at once (beyond: they queue).
    pub max_in_flight: u32,
    /// Whether the limit in force follows the requests' slowdown (else: `max_in_flight`).
    pub adaptive_admission: bool,
    /// Requests that may wait for one of those places; beyond, 503 at once.
    pub max_queued: u32,
    /// How long a queued request waits for a place before its 503.
    pub admission_wait: Duration,
    /// Client connections open at once (beyond: the next waits to be accepted).
    pub max_client_connections: u32,
    /// The longest a client takes to send a request's headers, or its body, and the longest
    /// a connection stays open idle between requests.
    pub header_timeout: Duration,
    /// The largest request head (request line and headers); beyond: 431.
    pub max_header_bytes: u32,
    /// The longest a client may take no byte of a response before it is disconnected.
    pub send_timeout: Duration,
    /// Below this many rows an `estimated` count is exact.
    pub count_threshold: u64,
    /// A delete that would take more rows with it (by cascade or SET NULL) is refused.
    pub max_cascade_rows: u64,
    /// PostgreSQL is reached through a transaction pooler (PgBouncer's `pool_mode =
    /// transaction`): `Some(true)` says so, `None` detects it when connecting.
    pub transaction_pooler: Option<bool>,
    /// Imports that may run at once; one more is answered 503 with `Retry-After`.
    pub max_imports: u32,
    /// The largest file an import reads, in bytes.
    pub max_import_bytes: u64,
    /// Origins allowed to call the API from a browser (CORS); empty: CORS is off. `"*"`
    /// allows any origin.
    pub cors_origins: Vec<String>,
    /// Proxies (load balancers) whose `X-Forwarded-For` says the client's address, for the
    /// login rate limits; empty: the peer's address is the client's.
    pub trusted_proxies: Vec<crate::auth::addresses::Range>,
    /// The admin app's language (`en`, `fr`); `None`: the browser's.
    pub locale: Option<String>,
    /// How often the live updates' follower reads the audit log for other instances' writes
    /// (this instance's go out at once).
    pub events_poll: Duration,
    /// How often an idle live-updates stream sends a comment (proxies close silent ones);
    /// also how often it checks that its user may still have it.
    pub events_heartbeat: Duration,
    /// Live-updates streams open at once; one more is 503. 0 turns live updates off.
    pub max_event_streams: u32,
    /// PostgreSQL: record writes made outside autoadmin in the audit log (a trigger per
    /// entity's table), so that they reach the live updates and the records' history.
    pub watch_external: bool,
    /// PostgreSQL streaming replicas that serve reads (list, get, count, aggregate, export).
    pub replica_urls: Vec<String>,
    /// A replica further behind the primary than this serves no read.
    pub replica_max_lag: Duration,
    /// The dashboard's panels (`[[dashboard.panel]]`), checked against the schema; none: the
    /// latest records of each entity.
    pub dashboard: Vec<crate::dashboard::Panel>,
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
            max_in_flight: 20,
            adaptive_admission: true,
            max_queued: 200,
            admission_wait: Duration::from_millis(1000),
            max_client_connections: 10_000,
            header_timeout: Duration::from_secs(15),
            max_header_bytes: 64 * 1024,
            send_timeout: Duration::from_secs(30),
            count_threshold: 100_000,
            max_cascade_rows: 10_000,
            transaction_pooler: None,
            max_imports: 2,
            max_import_bytes: 1024 * 1024 * 1024,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            locale: None,
            dashboard: Vec::new(),
            events_poll: Duration::from_millis(500),
            events_heartbeat: Duration::from_secs(15),
            max_event_streams: 1000,
            watch_external: false,
            replica_urls: Vec::new(),
            replica_max_lag: Duration::from_millis(2000),
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
            transaction_pooler: admin.transaction_pooler,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    admin: Option<RawAdmin>,
    auth: Option<toml::Table>,
    dashboard: Option<crate::dashboard::RawDashboard>,
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
    max_in_flight: Option<u32>,
    adaptive_admission: Option<bool>,
    max_queued: Option<u32>,
    admission_wait_ms: Option<u64>,
    max_client_connections: Option<u32>,
    header_timeout_secs: Option<u64>,
    max_header_bytes: Option<u32>,
    send_timeout_secs: Option<u64>,
    count_threshold: Option<u64>,
    max_cascade_rows: Option<u64>,
    transaction_pooler: Option<bool>,
    max_imports: Option<u32>,
    max_import_bytes: Option<u64>,
    #[serde(default)]
    cors_origins: Vec<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    locale: Option<String>,
    events_poll_ms: Option<u64>,
    events_heartbeat_secs: Option<u64>,
    max_event_streams: Option<u32>,
    watch_external: Option<bool>,
    #[serde(default)]
    replica_urls: Vec<String>,
    replica_max_lag_ms: Option<u64>,
}

/// Loads and checks several files as one schema; the first `[admin]` and `[auth]` tables
/// win.
pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<LoadedConfig, Error> {
    let mut admin = None;
    let mut auth = None;
    let mut dashboard = None;
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
        dashboard = dashboard.or(file.dashboard.map(|d| (d, origin.clone())));
        entities.extend(file.entities);
    }
    let origin = match paths {
        [one] => one.as_ref().display().to_string(),
        _ => "config".to_owned(),
    };
    let origins: Vec<(String, String)> = entities
        .iter()
        .map(|(e, file)| (e.name.clone(), file.clone()))
        .collect();
    let schema = schema::load::schema(entities, &origin)?;
    let admin = with_dashboard(admin.unwrap_or_default(), dashboard, &schema)?;
    check_views(&schema, &admin, |entity| {
        origins
            .iter()
            .find(|(e, _)| e == entity)
            .map_or_else(|| origin.clone(), |(_, file)| file.clone())
    })?;
    Ok(LoadedConfig {
        admin,
        schema,
        auth,
    })
}

/// `admin` with the dashboard's panels, checked against `schema` (`origin`: the file that
/// declares them).
fn with_dashboard(
    mut admin: AdminSettings,
    dashboard: Option<(crate::dashboard::RawDashboard, String)>,
    schema: &Schema,
) -> Result<AdminSettings, Error> {
    let Some((raw, origin)) = dashboard else {
        return Ok(admin);
    };
    let limits = crate::query::Limits {
        max_per_page: admin.max_per_page,
        max_rows: admin.max_rows,
    };
    admin.dashboard = crate::dashboard::check(raw, schema, limits).map_err(|message| Error {
        file: origin,
        entity: None,
        field: None,
        message,
    })?;
    Ok(admin)
}

/// Checks the views each entity declares (`[[entity.view]]`) with the parsers of the API;
/// `origin_of` names the file that declares an entity.
pub fn check_views(
    schema: &Schema,
    admin: &AdminSettings,
    origin_of: impl Fn(&str) -> String,
) -> Result<(), Error> {
    let limits = crate::query::Limits {
        max_per_page: admin.max_per_page,
        max_rows: admin.max_rows,
    };
    for entity in schema.entities() {
        crate::query::check_declared_views(entity, limits).map_err(|message| Error {
            file: origin_of(&entity.name),
            entity: Some(entity.name.clone()),
            field: None,
            message,
        })?;
    }
    Ok(())
}

/// Loads one descriptor document; `origin` names it in messages.
pub fn load_str(text: &str, origin: &str) -> Result<LoadedConfig, Error> {
    let file = parse(text, origin)?;
    let schema = schema::load::schema(file.entities, origin)?;
    let dashboard = file.dashboard.map(|d| (d, origin.to_owned()));
    let admin = with_dashboard(file.admin.unwrap_or_default(), dashboard, &schema)?;
    check_views(&schema, &admin, |_| origin.to_owned())?;
    Ok(LoadedConfig {
        admin,
        schema,
        auth: file.auth,
    })
}

/// One file's tables, each checked on its own.
struct ParsedFile {
    admin: Option<AdminSettings>,
    auth: Option<AuthConfig>,
    dashboard: Option<crate::dashboard::RawDashboard>,
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
        dashboard: raw.dashboard,
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
        // Twice the connections: some requests are between two statements, or answering.
        max_in_flight: raw
            .max_in_flight
            .unwrap_or(
                2 * raw
                    .max_connections
                    .unwrap_or(defaults.max_connections)
                    .max(1),
            )
            .max(1),
        adaptive_admission: raw
            .adaptive_admission
            .unwrap_or(defaults.adaptive_admission),
        max_queued: raw.max_queued.unwrap_or(defaults.max_queued),
        admission_wait: raw
            .admission_wait_ms
            .map_or(defaults.admission_wait, Duration::from_millis),
        max_client_connections: raw
            .max_client_connections
            .unwrap_or(defaults.max_client_connections)
            .max(1),
        header_timeout: secs(
            raw.header_timeout_secs,
            defaults.header_timeout,
            "header_timeout_secs",
        )?,
        max_header_bytes: match raw.max_header_bytes {
            Some(n) if n < 1024 => return Err("max_header_bytes must be at least 1024".into()),
            n => n.unwrap_or(defaults.max_header_bytes),
        },
        send_timeout: secs(
            raw.send_timeout_secs,
            defaults.send_timeout,
            "send_timeout_secs",
        )?,
        count_threshold: raw.count_threshold.unwrap_or(defaults.count_threshold),
        max_cascade_rows: raw.max_cascade_rows.unwrap_or(defaults.max_cascade_rows),
        transaction_pooler: raw.transaction_pooler,
        max_imports: raw.max_imports.unwrap_or(defaults.max_imports).max(1),
        max_import_bytes: raw.max_import_bytes.unwrap_or(defaults.max_import_bytes),
        cors_origins: check_origins(raw.cors_origins)?,
        trusted_proxies: raw
            .trusted_proxies
            .iter()
            .map(|text| {
                crate::auth::addresses::Range::parse(text).ok_or_else(|| {
                    format!("trusted_proxies: \"{text}\" is not an IP address or a CIDR range")
                })
            })
            .collect::<Result<_, _>>()?,
        dashboard: Vec::new(),
        events_poll: match raw.events_poll_ms {
            Some(ms) if ms < 10 => return Err("events_poll_ms must be at least 10".into()),
            ms => ms.map_or(defaults.events_poll, Duration::from_millis),
        },
        events_heartbeat: secs(
            raw.events_heartbeat_secs,
            defaults.events_heartbeat,
            "events_heartbeat_secs",
        )?,
        max_event_streams: raw.max_event_streams.unwrap_or(defaults.max_event_streams),
        watch_external: raw.watch_external.unwrap_or(defaults.watch_external),
        replica_urls: check_replicas(raw.replica_urls)?,
        replica_max_lag: raw
            .replica_max_lag_ms
            .map_or(defaults.replica_max_lag, Duration::from_millis),
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

/// Read replicas are PostgreSQL's (streaming replication): `postgres://` URLs.
fn check_replicas(urls: Vec<String>) -> Result<Vec<String>, String> {
    for url in &urls {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            let scheme = url.split_once("://").map_or("(none)", |(scheme, _)| scheme);
            return Err(format!(
                "replica_urls: read replicas are PostgreSQL streaming replicas (postgres://…); \
                 this one's scheme is {scheme}"
            ));
        }
    }
    Ok(urls)
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
mod tests;
