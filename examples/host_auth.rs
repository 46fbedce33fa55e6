//! The admin behind the host application's own authentication.
//!
//! The host app already knows its users (here: an `X-Api-Key` header mapped to a user; in
//! a real app, its session cookie). An `AuthPolicy` hands that identity to the admin with
//! the permissions of each user per entity; the admin answers 401 or 403 by itself.
//!
//! ```sh
//! cargo run --example host_auth
//! curl -H 'X-Api-Key: editor-key' http://127.0.0.1:3001/admin/api/posts?_perPage=2   # 200
//! curl -X DELETE -H 'X-Api-Key: editor-key' http://127.0.0.1:3001/admin/api/posts/1  # 403
//! curl http://127.0.0.1:3001/admin/api/posts                                          # 401
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use autoadmin::auth::{Action, AuthFuture, AuthPolicy, Error, Principal};
use axum::Router;
use axum::http::request::Parts;
use axum::routing::get;

/// The host app's users: an API key each, and what they may do.
struct HostKeys;

impl AuthPolicy for HostKeys {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a> {
        Box::pin(async move {
            let key = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
            let (user, permissions): (&str, BTreeMap<String, BTreeSet<Action>>) = match key {
                Some("admin-key") => (
                    "ada",
                    [("*".to_owned(), Action::ALL.into_iter().collect())].into(),
                ),
                Some("editor-key") => (
                    "eddie",
                    [
                        (
                            "posts".to_owned(),
                            [Action::View, Action::Add, Action::Edit].into(),
                        ),
                        ("*".to_owned(), [Action::View].into()),
                    ]
                    .into(),
                ),
                Some(_) => return Err(Error::Unauthorized("unknown API key".into())),
                None => return Err(Error::Unauthorized("send your X-Api-Key".into())),
            };
            Ok(Principal {
                user: Some(user.to_owned()),
                permissions,
                roles: Vec::new(),
                ..Default::default()
            })
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::temp_dir().join("autoadmin-host-auth-example.sqlite");
    let database_url = autoadmin::demo::create_database(&path).await?;
    let admin = autoadmin::Admin::builder()
        .database_url(database_url)
        .config_toml(autoadmin::demo::CONFIG, "config/blog.toml")
        .auth_policy(Arc::new(HostKeys))
        .build()
        .await?;
    let app = admin.nest_in(
        Router::new().route("/", get(|| async { "the host app" })),
        "/admin",
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("host app on http://127.0.0.1:3001/, admin API behind X-Api-Key at /admin/api/");
    axum::serve(listener, app)
        // The live-update streams end when the signal comes; then in-flight requests finish.
        .with_graceful_shutdown(admin.on_shutdown(autoadmin::shutdown_signal()))
        .await?;
    admin.close().await;
    Ok(())
}
