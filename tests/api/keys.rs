//! API keys on every backend: a user makes a named key with an expiry and some of their
//! permissions; it is shown once, stored hashed, does what it was given and no more, is
//! audited under its name, listed with its last use, and stops at once when revoked or
//! expired; it cannot manage keys or sessions.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::auth::{as_user, send};
use crate::common::{Backend, TestApp, spawn_app};

async fn with_key(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Json>,
) -> (u16, Json) {
    let bearer = format!("Bearer {key}");
    send(
        app,
        method,
        path,
        &[("Authorization", bearer.as_str())],
        body,
    )
    .await
}

pub async fn keys_do_what_they_were_given(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &crate::auth::config()).await
    else {
        return;
    };
    let ed = as_user(&app, "ed").await; // editor: posts view/add/edit, authors view
    // Made: shown once, with what it may do.
    let body =
        json!({"name": "deploy", "expires_in_days": 30, "permissions": {"posts": ["view", "add"]}});
    let (status, made) = ed.call(Method::POST, "/_keys", Some(body)).await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("aak_"), "{key}");
    assert_eq!(made["permissions"], json!({"posts": ["view", "add"]}));
    assert_eq!(made["active"], true);
    let (_, listed) = ed.get("/_keys").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("key").is_none(),
        "never listed again: {listed}"
    );
    assert_eq!(listed[0]["last_used_at"], Json::Null);
    // Stored hashed: the secret is nowhere in the table.
    let secret = key.rsplit('_').next().unwrap();
    let stored = app
        .db
        .scalar("SELECT secret_sha256 FROM autoadmin_api_keys")
        .await
        .unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(secret));

    // It does what it was given, as ed, audited under its name.
    let (_, author) = as_user(&app, "root")
        .await
        .call(
            Method::POST,
            "/authors",
            Some(json!({"name": "A", "email": "a@example.com"})),
        )
        .await;
    let (status, post) = with_key(
        &app,
        &key,
        Method::POST,
        "/posts",
        Some(json!({"title": "By key", "author_id": author["id"]})),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let (status, _) = with_key(&app, &key, Method::GET, "/posts", None).await;
    assert_eq!(status, 200);
    // And no more: not edit (ed may), not authors (ed may view them), not what ed may not.
    let (status, _) = with_key(
        &app,
        &key,
        Method::PATCH,
        &format!("/posts/{}", post["id"]),
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = with_key(&app, &key, Method::GET, "/authors", None).await;
    assert_eq!(status, 403);
    let (status, _) = with_key(&app, &key, Method::GET, "/tags", None).await;
    assert_eq!(status, 403);
    let root = as_user(&app, "root").await;
    let (_, log) = root
        .get(&format!(
            "/_audit?_filters=%7B%22entity%22%3A%22posts%22%2C%22record_id%22%3A%22{}%22%7D",
            post["id"]
        ))
        .await;
    assert_eq!(log[0]["actor"], "ed (key deploy)", "{log}");
    let (_, listed) = ed.get("/_keys").await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // Keys cannot manage keys or sessions.
    let (status, _) = with_key(&app, &key, Method::GET, "/_keys", None).await;
    assert_eq!(status, 403);
    let (status, _) = with_key(
        &app,
        &key,
        Method::POST,
        "/_keys",
        Some(json!({"name": "more", "expires_in_days": 1})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = with_key(&app, &key, Method::POST, "/logout", None).await;
    assert_eq!(status, 403);

    // Read-only: views what ed views, writes nothing.
    let (_, read) = ed
        .call(
            Method::POST,
            "/_keys",
            Some(json!({"name": "reader", "expires_in_days": 1, "permissions": "read"})),
        )
        .await;
    let reader = read["key"].as_str().unwrap().to_owned();
    let (status, _) = with_key(&app, &reader, Method::GET, "/authors", None).await;
    assert_eq!(status, 200);
    let (status, _) = with_key(
        &app,
        &reader,
        Method::POST,
        "/posts",
        Some(json!({"title": "no", "author_id": author["id"]})),
    )
    .await;
    assert_eq!(status, 403);

    // Revoked: refused at once; another user cannot revoke it; a wrong secret is refused.
    let id = made["id"].as_str().unwrap();
    let (status, _) = as_user(&app, "rita")
        .await
        .call(Method::DELETE, &format!("/_keys/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let forged = format!("{}x", &key[..key.len() - 1]);
    let (status, body) = with_key(&app, &forged, Method::GET, "/posts", None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = ed.call(Method::DELETE, &format!("/_keys/{id}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = with_key(&app, &key, Method::GET, "/posts", None).await;
    assert_eq!(status, 401);
    let (status, _) = ed.call(Method::DELETE, &format!("/_keys/{id}"), None).await;
    assert_eq!(status, 404, "revoked once");
    // Expired: refused.
    app.db
        .execute("UPDATE autoadmin_api_keys SET expires_at = 1 WHERE name = 'reader'")
        .await;
    let (status, _) = with_key(&app, &reader, Method::GET, "/posts", None).await;
    assert_eq!(status, 401);
    let (_, listed) = ed.get("/_keys").await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["active"] == false),
        "{listed}"
    );
    app.stop().await.unwrap();
}

pub async fn bad_key_requests_are_4xx(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &crate::auth::config()).await
    else {
        return;
    };
    let ed = as_user(&app, "ed").await;
    for (body, status, field) in [
        (json!({"expires_in_days": 1}), 422, "name"),
        (json!({"name": "", "expires_in_days": 1}), 422, "name"),
        (
            json!({"name": "x".repeat(61), "expires_in_days": 1}),
            422,
            "name",
        ),
        (
            json!({"name": "a\u{7}b", "expires_in_days": 1}),
            422,
            "name",
        ),
        (json!({"name": "k"}), 422, "expires_in_days"),
        (
            json!({"name": "k", "expires_in_days": 0}),
            422,
            "expires_in_days",
        ),
        (
            json!({"name": "k", "expires_in_days": 3651}),
            422,
            "expires_in_days",
        ),
        (
            json!({"name": "k", "expires_in_days": "30"}),
            422,
            "expires_in_days",
        ),
        (
            json!({"name": "k", "expires_in_days": 1.5}),
            422,
            "expires_in_days",
        ),
        (
            json!({"name": "k", "expires_in_days": 1e300}),
            422,
            "expires_in_days",
        ),
        (
            json!({"name": "k", "expires_in_days": 1, "permissions": {"posts": ["view", "view"]}}),
            422,
            "permissions",
        ),
        (
            json!({"name": "k", "expires_in_days": 1, "permissions": {"posts": ["delete"]}}),
            422,
            "permissions",
        ),
        (
            json!({"name": "k", "expires_in_days": 1, "permissions": {"tags": ["view"]}}),
            422,
            "permissions",
        ),
        (
            json!({"name": "k", "expires_in_days": 1, "permissions": "all"}),
            422,
            "permissions",
        ),
        (
            json!({"name": "k", "expires_in_days": 1, "scope": "x"}),
            400,
            "scope",
        ),
    ] {
        let (got, answer) = ed.call(Method::POST, "/_keys", Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["errors"][field].is_string(), "{body}: {answer}");
    }
    let (status, _) = ed
        .call(
            Method::POST,
            "/_keys",
            Some(json!({"name": "k", "expires_in_days": 1})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = ed
        .call(
            Method::POST,
            "/_keys",
            Some(json!({"name": "k", "expires_in_days": 1})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, _) = ed.call(Method::DELETE, "/_keys/nope", None).await;
    assert_eq!(status, 404);
    for key in ["aak_", "aak_x_y", "aak_../../_x", "not-a-key"] {
        let (status, body) = with_key(&app, key, Method::GET, "/posts", None).await;
        assert_eq!(status, 401, "{key}: {body}");
    }
    assert_eq!(app.db.count("autoadmin_api_keys").await, 1);
    app.stop().await.unwrap();
}
