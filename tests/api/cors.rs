//! CORS: off by default; `cors_origins` enables it for those origins, exposing the paging
//! headers and allowing what admin clients send. (Not database-facing: SQLite only.)

use crate::common::{Backend, TestApp, spawn_app};

async fn app_with(origins: &str) -> TestApp {
    let config = autoadmin::demo::CONFIG.replace(
        "base_path = \"/admin\"",
        &format!("base_path = \"/admin\"\n{origins}"),
    );
    spawn_app(Backend::Sqlite, &[Backend::Sqlite.blog_schema()], &config)
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = app_with("").await;
    let response = app
        .client
        .get(format!("{}/posts", app.api))
        .header("Origin", "https://admin.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn configured_origins_get_cors_headers() {
    let app =
        app_with("cors_origins = [\"https://admin.example\", \"http://localhost:5173\"]").await;
    // Preflight of a batch delete with a Range header.
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/posts", app.api))
        .header("Origin", "https://admin.example")
        .header("Access-Control-Request-Method", "DELETE")
        .header(
            "Access-Control-Request-Headers",
            "range, content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://admin.example")
    );
    let methods = header(&response, "access-control-allow-methods")
        .unwrap()
        .to_ascii_uppercase();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = header(&response, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["range", "authorization", "content-type"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    // A list exposes its paging headers to the script.
    let response = app
        .client
        .get(format!("{}/posts?range=[0,4]", app.api))
        .header("Origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-total-count") && exposed.contains("content-range"),
        "{exposed}"
    );
    // Other origins get nothing.
    let response = app
        .client
        .get(format!("{}/posts", app.api))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn star_allows_any_origin() {
    let app = app_with("cors_origins = [\"*\"]").await;
    let response = app
        .client
        .get(format!("{}/tags", app.api))
        .header("Origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
}
