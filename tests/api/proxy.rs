//! Behind an authenticating proxy (`[auth.proxy]`), on every backend: the user and groups
//! headers are believed from the proxy's address alone. From it, the user gets the role their
//! groups map to (with its field permissions), writes need the CSRF header, the audit log
//! names them; from any other address the headers are ignored, and tokens work as before.

use serde_json::json;

use crate::auth::send;
use crate::common::{Backend, spawn_app};

/// The auth tests' users and roles, and a proxy trusted at `trusted`.
fn config(trusted: &str) -> String {
    format!(
        r#"{auth}
  [[auth.role]]
  name = "support"
  permissions = {{ authors = {{ actions = ["view", "edit"], fields = {{ email = "hidden" }} }} }}

  [auth.proxy]
  trusted = ["{trusted}"]
  groups = {{ staff = "editor", helpdesk = "support", ops = "admin" }}
"#,
        auth = crate::auth::config(),
    )
}

const PAT: [(&str, &str); 2] = [
    ("X-Forwarded-User", "pat"),
    ("X-Forwarded-Groups", "visitors, staff"),
];

pub async fn a_trusted_proxy_says_who_the_user_is(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config("127.0.0.0/8")).await
    else {
        return;
    };
    use reqwest::Method;
    // Pat is in "staff": an editor (posts: view, add, edit; authors: view).
    let (status, _) = send(&app, Method::GET, "/posts", &PAT, None).await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, Method::GET, "/tags", &PAT, None).await;
    assert_eq!(status, 403, "editors may not view tags");
    let (_, config) = send(&app, Method::GET, "config.json", &PAT, None).await;
    assert_eq!(
        config["user"],
        json!({"name": "pat", "roles": ["editor"], "can_log_out": false, "own_login": false, "second_factor_pending": false})
    );
    // Writes need the CSRF header (the proxy authenticates what a browser sends by itself).
    let author = json!({"name": "Pat's", "email": "pats@example.com"});
    let (_, root) = send(
        &app,
        Method::POST,
        "/authors",
        &[(
            "Authorization",
            &format!("Bearer {}", crate::auth::token(&app, "root").await),
        )],
        Some(author),
    )
    .await;
    let post = json!({"title": "By pat", "author_id": root["id"]});
    let (status, body) = send(&app, Method::POST, "/posts", &PAT, Some(post.clone())).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("X-Requested-With")
    );
    let with_csrf = [PAT[0], PAT[1], ("X-Requested-With", "XMLHttpRequest")];
    let (status, created) = send(&app, Method::POST, "/posts", &with_csrf, Some(post)).await;
    assert_eq!(status, 201, "{created}");
    let filter = format!(
        "/_audit?_filters=%7B%22entity%22%3A%22posts%22%2C%22record_id%22%3A%22{}%22%7D",
        created["id"]
    );
    let root_token = crate::auth::token(&app, "root").await;
    let bearer = format!("Bearer {root_token}");
    let (_, log) = send(
        &app,
        Method::GET,
        &filter,
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(log[0]["actor"], "pat", "{log}");

    // The first declared role of the user's groups, with its field permissions.
    let sam = [
        ("X-Forwarded-User", "sam"),
        ("X-Forwarded-Groups", "helpdesk"),
    ];
    let (status, authors) = send(&app, Method::GET, "/authors", &sam, None).await;
    assert_eq!(status, 200);
    assert!(
        !authors.to_string().contains("pats@example.com"),
        "{authors}"
    );
    let both = [
        ("X-Forwarded-User", "kim"),
        ("X-Forwarded-Groups", "helpdesk,ops"),
    ];
    let (_, config) = send(&app, Method::GET, "config.json", &both, None).await;
    assert_eq!(config["user"]["roles"], json!(["admin"]));
    // No group with a role: 403; a header naming nobody: 401.
    let nobody = [
        ("X-Forwarded-User", "lou"),
        ("X-Forwarded-Groups", "visitors"),
    ];
    let (status, body) = send(&app, Method::GET, "/posts", &nobody, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _) = send(
        &app,
        Method::GET,
        "/posts",
        &[("X-Forwarded-User", "  ")],
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Without the header, tokens work as before.
    let (status, _) = send(
        &app,
        Method::GET,
        "/tags",
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, Method::GET, "/posts", &[], None).await;
    assert_eq!(status, 401);
    app.stop().await.unwrap();
}

pub async fn a_proxy_header_from_elsewhere_is_ignored(backend: Backend) {
    // The proxy is at 10.9.8.7: the test's requests, from 127.0.0.1, are not its.
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config("10.9.8.7")).await else {
        return;
    };
    use reqwest::Method;
    let admin = [
        ("X-Forwarded-User", "mallory"),
        ("X-Forwarded-Groups", "ops"),
    ];
    for path in ["/posts", "/authors", "config.json"] {
        let (status, body) = send(&app, Method::GET, path, &admin, None).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    let with_csrf = [admin[0], admin[1], ("X-Requested-With", "XMLHttpRequest")];
    let (status, _) = send(
        &app,
        Method::POST,
        "/tags",
        &with_csrf,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(app.db.count("tags").await, 0);
    // A token still says who is asking, whatever the headers claim.
    let token = format!("Bearer {}", crate::auth::token(&app, "rita").await);
    let claimed = [admin[0], admin[1], ("Authorization", token.as_str())];
    let (_, config) = send(&app, Method::GET, "config.json", &claimed, None).await;
    assert_eq!(config["user"]["name"], "rita");
    app.stop().await.unwrap();
}
