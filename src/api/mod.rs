//! The REST API: routes, handlers, the error shape. Handlers are thin; they never build SQL.
//!
//! | route                    | handler          |
//! |--------------------------|------------------|
//! | `GET    /health`         | [`handlers::health`] |
//! | `GET    /openapi.json`   | [`handlers::openapi`] |
//! | `GET    /{entity}`       | [`handlers::list`]   |
//! | `POST   /{entity}`       | [`handlers::create`] |
//! | `GET    /{entity}/{id}`  | [`handlers::get`]    |
//! | `PUT/PATCH /{entity}/{id}` | [`handlers::update`] |
//! | `DELETE /{entity}/{id}`  | [`handlers::delete`] |
//! | `DELETE /{entity}?ids=[..]` | [`handlers::delete_many`] |
//! | `GET    /{entity}/export.csv` | [`handlers::export_csv`] |

mod body;
pub mod error;
mod export;
mod handlers;
pub mod request_id;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::db::Db;
use crate::schema::{AdminSettings, Schema};

pub use error::ApiError;

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
}

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The API router, to be nested at `{base}/api` (inside [`with_context`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(handlers::health))
        .route("/login", axum::routing::post(session::login))
        .route("/logout", axum::routing::post(session::logout))
        .route("/openapi.json", get(handlers::openapi))
        .route(
            "/{entity}",
            get(handlers::list)
                .post(handlers::create)
                .delete(handlers::delete_many),
        )
        .route("/{entity}/export.csv", get(handlers::export_csv))
        .route(
            "/{entity}/{id}",
            get(handlers::get)
                .put(handlers::update)
                .patch(handlers::update)
                .delete(handlers::delete),
        )
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The CORS layer for `cors_origins`, or `None` when CORS is off. Exposes the paging headers
/// (react-admin reads them) and allows the headers admin clients send.
pub fn cors(settings: &AdminSettings) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if settings.cors_origins.is_empty() {
        return None;
    }
    let origin = if settings.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Checked when the config was loaded.
        AllowOrigin::list(
            settings
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::RANGE,
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-requested-with"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                HeaderName::from_static("x-total-count"),
                HeaderName::from_static("x-total-count-kind"),
                header::CONTENT_RANGE,
                header::LINK,
                header::LOCATION,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Gives every route of `router` a request id and a time limit, and a JSON 404 for paths
/// it does not know. (A fallback does not reach through two levels of nesting, so each
/// level that is nested gets one.)
pub fn with_context(router: Router, settings: &AdminSettings) -> Router {
    router
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            request_id::middleware,
        ))
}
