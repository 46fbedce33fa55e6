//! CORS: off by default; `cors_origins` enables it for the origins it names.

use crate::config::AdminSettings;

/// The CORS layer for `cors_origins`, or `None` when CORS is off. Exposes the paging headers
/// (react-admin reads them) and allows the headers admin clients send.
pub fn layer(settings: &AdminSettings) -> Option<tower_http::cors::CorsLayer> {
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
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                HeaderName::from_static("x-requested-with"),
                HeaderName::from_static("x-request-id"),
                // A live-updates stream resumed from another origin with fetch.
                HeaderName::from_static("last-event-id"),
                // Read replicas: read at least what this position holds (replicas.rs).
                HeaderName::from_static(super::replicas::READ_AFTER),
                // A create made once (once.rs).
                HeaderName::from_static(super::once::KEY),
            ])
            .expose_headers([
                HeaderName::from_static("x-total-count"),
                HeaderName::from_static("x-total-count-kind"),
                header::CONTENT_RANGE,
                header::LINK,
                header::LOCATION,
                header::ETAG,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static(super::replicas::WRITE_POSITION),
                HeaderName::from_static(super::once::REPLAYED),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
