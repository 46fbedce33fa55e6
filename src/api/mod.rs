//! Everything HTTP: the API's routes and thin handlers, the admin app's files and
//! `config.json`, the extractors that resolve entities, records and principals, the one
//! error type with its JSON shape, request ids, timeouts, CORS, and the server loop. Handlers
//! read as the pipeline: resolve → authorize → parse (`crate::query`) → `crate::db` →
//! respond. They never build SQL.
//!
//! | route                    | handler          |
//! |--------------------------|------------------|
//! | `GET    /health`         | [`meta::health`] |
//! | `GET    /openapi.json`   | [`meta::openapi`] |
//! | `GET/POST /login`, `POST /login/second-factor`, `/logout` | [`session`] |
//! | `GET    /login/oidc`, `/login/oidc/callback` | [`sso`] (single sign-on) |
//! | `GET/POST/DELETE /_2fa`, `POST /_2fa/confirm`, `/_2fa/recovery-codes` | [`two_factor`] |
//! | `GET/POST /_keys`, `DELETE /_keys/{id}` | [`keys`] (API keys) |
//! | `GET    /{entity}`       | [`list::list`]   |
//! | `GET    /{entity}/export.csv` | [`list::export_csv`] |
//! | `GET    /{entity}/export.xlsx` | [`list::export_xlsx`] |
//! | `GET    /{entity}/aggregate` | [`list::aggregate`] |
//! | `POST   /{entity}`       | [`record::create`] |
//! | `GET    /{entity}/{id}`  | [`record::get`]    |
//! | `PUT/PATCH /{entity}/{id}` | [`record::update`] |
//! | `DELETE /{entity}/{id}`  | [`record::delete`] |
//! | `PATCH  /{entity}?ids=[..]` | [`record::update_many`] |
//! | `DELETE /{entity}?ids=[..]` | [`record::delete_many`] |
//! | `POST   /{entity}/actions/{name}?ids=[..]` | [`actions::run`] |
//! | `POST   /{entity}/import` | [`import::import`] |
//! | `GET /_imports`, `GET/DELETE /_imports/{id}`, `GET /_imports/{id}/rejected.csv`, `POST /_imports/{id}/revert` | [`jobs`] |
//! | `GET    /{entity}/{id}/dependents`, `/{entity}/dependents?ids=[..]` | [`dependents`] |
//! | `POST   /_audit/{id}/restore` | [`restore::restore`] |
//! | `GET    /_events`         | [`events::stream`] (live updates, Server-Sent Events) |
//! | `PUT/DELETE /_presence/{entity}/{id}/{viewer}` | [`presence`] (who has a record open) |
//! | `GET/POST /_views`, `GET/PUT/PATCH/DELETE /_views/{id}` | [`views`] (saved views, per user) |
//!
//! The app, beside the API: `GET {base}/` and `{base}/assets/…` ([`app`]),
//! `GET {base}/config.json` ([`app::config_json`]).

mod actions;
mod admission;
mod app;
mod body;
mod bundle;
mod compress;
mod cors;
mod dependents;
pub mod error;
mod events;
mod export;
pub mod extract;
mod import;
mod jobs;
mod keys;
mod limiter;
mod list;
mod meta;
mod once;
mod presence;
mod record;
mod replicas;
pub mod request_id;
mod restore;
mod send_deadline;
mod server;
mod session;
mod sso;
mod summary;
mod two_factor;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::config::AdminSettings;
use crate::db::Db;
use crate::schema::{FieldRules, Schema};

pub use app::CONTENT_SECURITY_POLICY;
pub use error::ApiError;
pub use meta::Documents;
pub use server::{Limits, serve};

/// What every handler can reach. Extractors clone it on every request, so it is one `Arc`
/// (a single reference count to bump) rather than a bundle of them.
#[derive(Clone)]
pub struct AppState(Arc<State>);

impl AppState {
    pub fn new(state: State) -> AppState {
        AppState(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct State {
    pub schema: Schema,
    pub db: Db,
    pub settings: Arc<AdminSettings>,
    /// Who a request comes from.
    pub auth: Arc<dyn crate::auth::AuthPolicy>,
    /// The built-in policy, when it is the one in use (it has login and logout).
    pub builtin: Option<crate::auth::builtin::Shared>,
    /// No policy at all: anyone who reaches the admin may do anything.
    pub open: bool,
    /// The OpenAPI documents served, made once each.
    pub documents: meta::Documents,
    /// Places for imports running at once (`max_imports`).
    pub imports: Arc<tokio::sync::Semaphore>,
    /// The imports running on this instance.
    pub jobs: Arc<crate::import::Jobs>,
    /// The schema restricted by each set of field permissions met so far.
    pub restricted: Restricted,
    /// Live updates: the follower of the audit log and its channel.
    pub events: Arc<crate::events::Hub>,
    /// Places for live-update streams (`max_event_streams`); `None`: live updates are off.
    pub event_streams: Option<Arc<tokio::sync::Semaphore>>,
    /// Read replicas (`replica_urls`) and the writes of each client; `None`: every read on
    /// the database itself.
    pub replicas: Option<Arc<crate::db::Replicas>>,
    /// Whether the last health check found the database away (its log line is written when
    /// that changes, not at every check of a load balancer).
    pub health_failing: std::sync::atomic::AtomicBool,
}

/// The schemas restricted by field permissions and row scopes (`schema::access`), made once
/// per set: a role's, or a user's where a scope holds their attributes. At most
/// [`Restricted::KEPT`] are kept; a new one past that starts the collection again.
#[derive(Default)]
pub struct Restricted(std::sync::Mutex<std::collections::HashMap<(FieldRules, String), Schema>>);

impl Restricted {
    const KEPT: usize = 256;
}

impl State {
    /// The schema as `who` sees it: with the fields their role hides or locks, and the rows
    /// it lets them reach.
    pub fn schema_for(&self, who: &crate::auth::Principal) -> Schema {
        if who.fields.values().all(|fields| fields.is_empty()) && who.scopes.is_empty() {
            return self.schema.clone();
        }
        let key = (
            who.fields.clone(),
            serde_json::to_string(&who.scopes).unwrap_or_default(),
        );
        let kept = self.restricted.0.lock().ok();
        if let Some(schema) = kept.as_ref().and_then(|k| k.get(&key)) {
            return schema.clone();
        }
        let schema = self.schema.restricted(&who.fields, &who.scopes);
        if let Some(mut kept) = kept {
            if kept.len() >= Restricted::KEPT {
                kept.clear();
            }
            kept.insert(key, schema.clone());
        }
        schema
    }
}

pub use jobs::STALE_IMPORT_MS;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The API's routes, to be nested at `{base}/api` (inside [`with_context`]).
fn api(state: AppState) -> Router {
    let settings = &state.settings;
    let admission = Arc::new(admission::Admission::new(
        settings.max_in_flight,
        settings.adaptive_admission,
        settings.max_queued,
        settings.admission_wait,
        settings.header_timeout,
    ));
    // What reaches the database is admitted (admission.rs); health, login and logout, and
    // the document, always answer.
    let limited = Router::new()
        .route("/_keys", get(keys::list).post(keys::create))
        .route("/_keys/{id}", axum::routing::delete(keys::revoke))
        .route(
            "/_presence/{entity}/{id}/{viewer}",
            axum::routing::put(presence::open).delete(presence::close),
        )
        .route("/_views", get(views::list).post(views::create))
        .route(
            "/_views/{id}",
            get(views::get)
                .put(views::update)
                .patch(views::update)
                .delete(views::delete),
        )
        .route(
            "/{entity}",
            get(list::list)
                .post(record::create)
                .patch(record::update_many)
                .delete(record::delete_many),
        )
        .route("/{entity}/export.csv", get(list::export_csv))
        .route("/{entity}/export.xlsx", get(list::export_xlsx))
        .route("/{entity}/aggregate", get(list::aggregate))
        .route("/{entity}/actions/{action}", post(actions::run))
        .route("/{entity}/dependents", get(dependents::many))
        .route("/{entity}/{id}/dependents", get(dependents::one))
        .route("/{entity}/{id}/restore", post(restore::restore))
        .route(
            "/{entity}/{id}",
            get(record::get)
                .put(record::update)
                .patch(record::update)
                .delete(record::delete),
        )
        // Outermost last: a write to a read-only entity is refused before its body is read
        // or a place taken.
        .route_layer(axum::middleware::from_fn_with_state(
            admission,
            admission::admit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record::refuse_read_only,
        ));
    Router::new()
        // Bounded on its own (import.rs), and longer than any request.
        .route("/{entity}/import", post(import::import))
        .route("/_imports", get(jobs::list))
        .route("/_imports/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/_imports/{id}/rejected.csv", get(jobs::rejected))
        .route("/_imports/{id}/revert", post(jobs::revert))
        .route("/health", get(meta::health))
        .route("/login", get(session::methods).post(session::login))
        .route("/login/second-factor", post(session::second_factor))
        .route("/login/oidc", get(sso::start))
        .route("/login/oidc/callback", get(sso::callback))
        .route(
            "/_2fa",
            get(two_factor::status)
                .post(two_factor::start)
                .delete(two_factor::turn_off),
        )
        .route("/_2fa/confirm", post(two_factor::confirm))
        .route("/_2fa/recovery-codes", post(two_factor::recovery_codes))
        .route("/logout", post(session::logout))
        .route("/openapi.json", get(meta::openapi))
        // Long-lived: takes no admission place (it holds no connection between events), and
        // has its own bound (`max_event_streams`).
        .route("/_events", get(events::stream))
        .merge(limited)
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            replicas::remember_writes,
        ))
        .with_state(state)
}

/// The admin's routes: the app at `/`, its files and `config.json`, the API at `/api`; to be
/// nested at the base path of your choice.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let router = Router::new()
        .route("/", get(app::index))
        .route("/config.json", get(app::config_json))
        .route("/assets/{*path}", get(app::assets))
        .with_state(state.clone())
        .nest("/api", api(state));
    let router = compress::layer(with_context(router, &settings));
    match cors::layer(&settings) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Mounts the admin in `app` at `base` (e.g. `/admin`): the API at `{base}/api`, the app
/// at `{base}/`. (`app.nest(base, router)` alone cannot route `{base}/` itself.)
pub fn nest_in(app: Router, base: &str, state: AppState) -> Router {
    app.route(
        &format!("{base}/"),
        get(app::index).with_state(state.clone()),
    )
    .nest(base, router(state))
}

/// Gives every route of `router` a request id and a time limit, and a JSON 404 for paths
/// it does not know. (A fallback does not reach through two levels of nesting, so each
/// level that is nested gets one.)
pub fn with_context(router: Router, settings: &AdminSettings) -> Router {
    router
        .fallback(meta::not_found)
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            request_id::middleware,
        ))
}
