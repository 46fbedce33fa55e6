//! autoadmin turns a SQL database into an admin backend: entity descriptors become paginated,
//! filterable, sortable REST CRUD routes over PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! # Layout
//!
//! A request flows one way, one stage per folder:
//!
//! ```text
//! api/ (HTTP, extractors) → auth/ (Principal) → query/ (ListQuery) → db/ (SQL, rows) → api/ (response)
//! ```
//!
//! - [`config`]: the configuration file as a whole: `[admin]` settings, `[auth]`, and the
//!   `[[entity]]` tables handed to `schema`; TOML printing.
//! - [`schema`]: entity descriptors (TOML or Rust builder), their checks, and validation of
//!   records against their rules. No HTTP, no SQL, no users, no settings.
//! - [`query`]: the list protocol: query strings → typed [`query::ListQuery`], the table of
//!   its parameters, cursors and next-page links, batch ids. Pure.
//! - [`db`]: the only SQL; statements built once, backend differences in [`db::Dialect`]
//!   and one file per backend; every write on one transaction path. No HTTP.
//! - [`auth`]: the AuthPolicy trait, per-entity permissions, the built-in users and tokens.
//! - [`api`]: everything HTTP: the router, thin handlers, extractors, the app's files, the
//!   one error type with its JSON shape, the server loop.
//! - [`openapi`] and [`ui`]: documents generated from the schema: the OpenAPI 3.1 document
//!   and the admin app's `config.json`.
//! - [`demo`]: the embedded blog schema, seed and descriptors of `autoadmin demo`.
//! - [`import`]: files into an entity; so far the streamed CSV reader. No HTTP, no SQL.
//! - [`events`]: live updates: the follower of the audit log and the channel its events go
//!   out on, to the streams of `GET /api/_events`. No HTTP, no SQL.
//! - this file: [`Admin`] (built with [`Admin::builder`]) and [`serve`].
//!
//! ```no_run
//! # async fn example() -> Result<(), autoadmin::BuildError> {
//! let admin = autoadmin::Admin::builder()
//!     .database_url("sqlite:blog.db")
//!     .config_file("config/blog.toml")
//!     .build()
//!     .await?;
//! let app = axum::Router::new().nest("/admin", admin.router());
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod events;
mod file_import;
pub mod import;
pub mod openapi;
pub mod query;
pub mod schema;
pub mod ui;
pub mod xlsx;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::api::AppState;
use crate::config::AdminSettings;
use crate::db::Db;
use crate::schema::{Entity, Schema};

pub use crate::file_import::FileImport;
pub use crate::schema::{Field, FieldType};

/// Why an [`Admin`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] schema::Error),
    #[error(
        "no database URL: give --database-url (or AUTOADMIN_DATABASE_URL), database_url in the config's [admin] table, or AdminBuilder::database_url"
    )]
    NoDatabaseUrl,
    #[error("cannot connect to the database")]
    Database(#[from] db::Error),
    #[error("[auth]: {0}")]
    Auth(String),
    #[error("[admin] {0}")]
    Admin(String),
}

/// Collects descriptors and settings; [`AdminBuilder::build`] checks them and connects.
#[derive(Default)]
pub struct AdminBuilder {
    database_url: Option<String>,
    config_files: Vec<PathBuf>,
    config_texts: Vec<(String, String)>,
    entities: Vec<Entity>,
    settings: Option<AdminSettings>,
    create_sqlite: bool,
    introspect: Option<db::introspect::Options>,
    auth: Option<Arc<dyn auth::AuthPolicy>>,
    secret: Option<Vec<u8>>,
    fallback_secret: Option<Vec<u8>>,
}

impl AdminBuilder {
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// A TOML descriptor file; may be given several times.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_files.push(path.into());
        self
    }

    /// A TOML descriptor document given as text; `origin` names it in messages.
    pub fn config_toml(mut self, text: impl Into<String>, origin: impl Into<String>) -> Self {
        self.config_texts.push((text.into(), origin.into()));
        self
    }

    /// An entity declared in code, in addition to those of the config files.
    pub fn entity(mut self, entity: Entity) -> Self {
        self.entities.push(entity);
        self
    }

    /// Settings in code; they replace the config files' `[admin]` table.
    pub fn settings(mut self, settings: AdminSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Derive the entities from the database itself (its tables, views, keys and
    /// constraints) instead of, or in addition to, config files.
    pub fn introspect(mut self, options: db::introspect::Options) -> Self {
        self.introspect = Some(options);
        self
    }

    /// Puts the admin behind the host app's own authentication: `policy` says who a request
    /// comes from and what they may do per entity. Replaces the built-in policy.
    pub fn auth_policy(mut self, policy: Arc<dyn auth::AuthPolicy>) -> Self {
        self.auth = Some(policy);
        self
    }

    /// The secret that signs the built-in policy's tokens (default: the config's
    /// `[auth] secret`, else `AUTOADMIN_SECRET`). At least 32 bytes.
    pub fn secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// A secret used only when none is given otherwise (builder, config, environment):
    /// for development, where tokens need not outlive the process.
    pub fn fallback_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.fallback_secret = Some(secret.into());
        self
    }

    /// Create the SQLite database file if it does not exist (the demo does).
    pub fn create_sqlite_file(mut self) -> Self {
        self.create_sqlite = true;
        self
    }

    /// Loads and checks the descriptors, connects to the database and reads its catalog.
    pub async fn build(self) -> Result<Admin, BuildError> {
        let mut file_settings = None;
        let mut auth_config = None;
        let mut entities = Vec::new();
        let mut add = |loaded: config::LoadedConfig, has_admin: bool| {
            if has_admin && file_settings.is_none() {
                file_settings = Some(loaded.admin);
            }
            if auth_config.is_none() {
                auth_config = loaded.auth;
            }
            entities.extend(loaded.schema.entities().iter().cloned());
        };
        if !self.config_files.is_empty() {
            add(config::load_files(&self.config_files)?, true);
        }
        for (text, origin) in &self.config_texts {
            add(config::load_str(text, origin)?, true);
        }
        let file_settings = file_settings.unwrap_or_default();
        entities.extend(self.entities);
        let settings = self.settings.unwrap_or(file_settings);
        let url = self
            .database_url
            .or_else(|| settings.database_url.clone())
            .ok_or(BuildError::NoDatabaseUrl)?;
        let mut db = Db::connect(&url, &(&settings).into(), self.create_sqlite).await?;
        // The catalog is read once: for introspection, for what the columns hold and for the
        // foreign keys. Without it the admin still serves declared entities, with the rules
        // they declare, and deletes say only what the database answers.
        let schema_name = self.introspect.as_ref().and_then(|o| o.schema.clone());
        let catalog = match (
            &self.introspect,
            db.introspect_all(schema_name.as_deref()).await,
        ) {
            (_, Ok(tables)) => tables,
            (Some(_), Err(error)) => return Err(error.into()),
            (None, Err(error)) => {
                tracing::warn!("cannot read the catalog of the database: {error}");
                Vec::new()
            }
        };
        let mut notes = Vec::new();
        if let Some(options) = &self.introspect {
            let (found, left_out) = db::introspect::describe(&options.select(&catalog));
            // Entities declared explicitly win over introspected ones of the same name.
            let declared: Vec<String> = entities.iter().map(|e| e.name.clone()).collect();
            entities.extend(found.into_iter().filter(|e| !declared.contains(&e.name)));
            notes = left_out;
        }
        // Every write is recorded in autoadmin's audit table, itself a read-only entity.
        if !entities.iter().any(|e| e.name == db::audit::ENTITY) {
            entities.push(db::audit::entity());
        }
        // Users' saved views, in autoadmin's table, served by their own routes (the name is
        // autoadmin's: a descriptor of the same name is a duplicate).
        entities.push(db::views::entity());
        // What the columns hold (NOT NULL, varchar lengths, integer widths) joins the rules.
        db::storage::tighten(&mut entities, &catalog, db.dialect());
        let schema = Schema::new(entities)?;
        config::check_views(&schema, &settings, |_| "<code>".to_owned())?;
        db.ensure_audit_table().await?;
        if settings.watch_external {
            db.watch_external(&schema).await?;
        }
        db.ensure_views_table().await?;
        db.ensure_imports_table().await?;
        db.ensure_idempotency_table().await?;
        if settings.max_event_streams > 0 {
            db.ensure_presence_table().await?;
        }
        // Imports left running by a server that stopped (its transaction died with it).
        db.jobs_fail_stale(import::job::now_millis() - api::STALE_IMPORT_MS)
            .await?;
        db.load_catalog(&schema).await?;
        // Every table's foreign keys (cascades reach tables no entity declares).
        db.load_graph(&schema, &catalog);
        let open = self.auth.is_none() && auth_config.is_none();
        let (auth, builtin) = match (self.auth, auth_config) {
            (Some(policy), _) => (policy, None),
            (None, Some(config)) => {
                let secret = self
                    .secret
                    .or_else(|| config.secret.clone().map(String::into_bytes))
                    .or_else(|| {
                        std::env::var("AUTOADMIN_SECRET")
                            .ok()
                            .map(String::into_bytes)
                    })
                    .or(self.fallback_secret)
                    .ok_or_else(|| {
                        BuildError::Auth(
                            "no secret: set AUTOADMIN_SECRET (or [auth] secret)".into(),
                        )
                    })?;
                if secret.len() < 32 {
                    return Err(BuildError::Auth(
                        "the secret must be at least 32 bytes long".into(),
                    ));
                }
                db.ensure_sessions_table().await?;
                let builtin = Arc::new(
                    auth::builtin::Builtin::new(&config, secret, &schema, db.clone())
                        .map_err(BuildError::Auth)?,
                );
                (builtin.clone() as Arc<dyn auth::AuthPolicy>, Some(builtin))
            }
            (None, None) => (Arc::new(auth::Open) as Arc<dyn auth::AuthPolicy>, None),
        };
        let replicas = match settings.replica_urls.as_slice() {
            [] => None,
            _ if db.dialect().log_position().is_none() => {
                return Err(BuildError::Admin(
                    "replica_urls: read replicas are PostgreSQL's; this database is not".into(),
                ));
            }
            urls => Some(Arc::new(db::Replicas::start(
                &db,
                urls,
                &(&settings).into(),
                settings.replica_max_lag,
            ))),
        };
        let imports = Arc::new(tokio::sync::Semaphore::new(settings.max_imports as usize));
        // An id of the audit log passed over is looked for as long as its write may still
        // commit: a transaction's statements each have the statement timeout.
        let late = (settings.statement_timeout * 2).max(std::time::Duration::from_secs(60));
        let events = Arc::new(events::Hub::new(settings.events_poll, late));
        events.announce(&db);
        let event_streams = (settings.max_event_streams > 0).then(|| {
            Arc::new(tokio::sync::Semaphore::new(
                settings.max_event_streams as usize,
            ))
        });
        Ok(Admin {
            state: AppState::new(api::State {
                schema,
                db,
                settings: Arc::new(settings),
                auth,
                builtin,
                open,
                documents: Default::default(),
                imports,
                jobs: Default::default(),
                restricted: Default::default(),
                events,
                event_streams,
                replicas,
                health_failing: Default::default(),
            }),
            notes: Arc::new(notes),
        })
    }
}

/// A connected admin: its router and its database.
#[derive(Clone)]
pub struct Admin {
    state: AppState,
    /// What introspection left out, and why.
    notes: Arc<Vec<String>>,
}

impl Admin {
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    /// The admin's routes (`/api/...`), to nest at the base path of your choice.
    pub fn router(&self) -> Router {
        api::router(self.state.clone())
    }

    /// Mounts the admin in `app` at `base` (e.g. `/admin`): the API at `{base}/api`, the app
    /// at `{base}/`. Prefer this to `app.nest(base, admin.router())`, which cannot route
    /// `{base}/` itself.
    pub fn nest_in(&self, app: Router, base: &str) -> Router {
        api::nest_in(app, base, self.state.clone())
    }

    /// Whether requests are authenticated (a host policy or the built-in one), or the admin
    /// is open to anyone who reaches it.
    pub fn is_open(&self) -> bool {
        self.state.open
    }

    /// What introspection left out (tables without a usable key, columns of unknown types).
    pub fn introspection_notes(&self) -> &[String] {
        &self.notes
    }

    pub fn settings(&self) -> &AdminSettings {
        &self.state.settings
    }

    pub fn schema(&self) -> &Schema {
        &self.state.schema
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Ends the live-update streams (`GET /api/_events`), which would otherwise hold a
    /// graceful shutdown for ever: call it when shutdown begins, before the server waits for
    /// in-flight requests ([`Admin::on_shutdown`] and [`serve`] do).
    pub async fn end_streams(&self) {
        self.state.events.stop().await;
    }

    /// `signal`, then the end of the live-update streams: what to give axum's
    /// `with_graceful_shutdown` when the admin is mounted in your app, so that the server's
    /// wait for in-flight requests does not wait for the streams, which never end by
    /// themselves.
    pub fn on_shutdown(
        &self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let admin = self.clone();
        async move {
            signal.await;
            admin.end_streams().await;
        }
    }

    /// Ends the streams, waits for running writes, then closes the pool. Call after the
    /// server stopped.
    pub async fn close(&self) {
        self.end_streams().await;
        if let Some(replicas) = &self.state.replicas {
            replicas.close().await;
        }
        self.state.db.close().await;
    }
}

/// Serves the admin at its base path on an already-bound listener until `shutdown`
/// resolves; then stops accepting, lets in-flight requests finish, and closes the pool.
pub async fn serve(
    listener: TcpListener,
    admin: Admin,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let base = admin.settings().base_path.clone();
    let app = if base.is_empty() {
        admin.router()
    } else {
        let outer = admin.nest_in(Router::new(), &base);
        api::with_context(outer, admin.settings())
    };
    let limits = admin.settings().into();
    let shutdown = admin.on_shutdown(shutdown);
    api::serve(listener, app, limits, shutdown).await?;
    admin.close().await;
    Ok(())
}

/// The descriptors introspection suggests for the database at `url`, as a TOML file (with the
/// tables and columns it left out as comments at the top).
pub async fn introspect_toml(
    url: &str,
    options: &db::introspect::Options,
) -> Result<String, BuildError> {
    let settings = AdminSettings::default();
    let db = Db::connect(url, &(&settings).into(), false).await?;
    let tables = db.introspect(options).await;
    db.close().await;
    let (entities, notes) = db::introspect::describe(&tables?);
    let schema = Schema::new(entities)?;
    Ok(config::print_toml(
        Some(&settings),
        schema.entities(),
        &notes,
    ))
}

/// Every mismatch between `schema` (loaded from `origin`) and the live database at `url`.
pub async fn check_against_database(
    schema: &Schema,
    url: &str,
    origin: &str,
) -> Result<Vec<schema::Error>, BuildError> {
    let settings = AdminSettings::default();
    let db = Db::connect(url, &(&settings).into(), false).await?;
    let tables = db.introspect(&db::introspect::Options::default()).await;
    db.close().await;
    Ok(db::introspect::check(schema, &tables?, origin))
}

/// The fields `schema` filters, sorts or searches on that no index of the database at `url`
/// supports, each with the statement that would add one.
pub async fn index_advice(schema: &Schema, url: &str) -> Result<Vec<String>, BuildError> {
    let settings = AdminSettings::default();
    let db = Db::connect(url, &(&settings).into(), false).await?;
    let tables = db.introspect(&db::introspect::Options::default()).await;
    let dialect = db.dialect();
    db.close().await;
    Ok(db::introspect::advise(schema, &tables?, dialect))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
