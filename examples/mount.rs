//! Mounting autoadmin inside an existing axum application, beside the app's own routes.
//!
//! ```sh
//! cargo run --example mount            # a demo SQLite database in a temporary file
//! DATABASE_URL=postgres://... cargo run --example mount   # your own database
//! ```
//!
//! Then: http://127.0.0.1:3000/ (the host app) and http://127.0.0.1:3000/admin/api/posts.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();

    let database_url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let path = std::env::temp_dir().join("autoadmin-mount-example.sqlite");
            autoadmin::demo::create_database(&path).await?
        }
    };

    // Descriptors can come from files, from TOML text, or from code (`.entity(...)`).
    let admin = autoadmin::Admin::builder()
        .database_url(database_url)
        .config_toml(autoadmin::demo::CONFIG, "config/blog.toml")
        .build()
        .await?;

    // The host app's own routes, and the admin under /admin.
    let app = Router::new()
        .route(
            "/",
            get(|| async { "The host application. The admin API is at /admin/api/posts" }),
        )
        .route("/hello", get(|| async { "hello from the host app" }))
        .nest("/admin", admin.router());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "host app on http://127.0.0.1:3000/, admin API on http://127.0.0.1:3000/admin/api/posts"
    );
    axum::serve(listener, app)
        // The live-update streams end when the signal comes; then in-flight requests finish.
        .with_graceful_shutdown(admin.on_shutdown(autoadmin::shutdown_signal()))
        .await?;
    // Let running writes finish, then close the pool.
    admin.close().await;
    Ok(())
}
