//! The built-in policy over HTTP on every backend (revocation lives in the database): every
//! route against no token, a bad, expired or revoked one, a user without the permission, and
//! one with it; login, logout, cookies and CSRF.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, spawn_app, spawn_on};

const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";

pub(crate) fn config() -> String {
    let hash = |password: &str| autoadmin::auth::builtin::hash_password(password);
    format!(
        r#"{blog}
[auth]
secret = "{SECRET}"

  [[auth.role]]
  name = "reader"
  permissions = {{ "*" = ["view"] }}

  [[auth.role]]
  name = "editor"
  permissions = {{ posts = ["view", "add", "edit"], authors = ["view"] }}

  [[auth.user]]
  name = "root"
  role = "admin"
  password_hash = "{root}"

  [[auth.user]]
  name = "rita"
  role = "reader"
  password_hash = "{rita}"

  [[auth.user]]
  name = "ed"
  role = "editor"
  password_hash = "{ed}"
"#,
        blog = autoadmin::demo::CONFIG,
        root = hash("root-pass"),
        rita = hash("rita-pass"),
        ed = hash("ed-pass"),
    )
}

async fn secured(backend: Backend) -> Option<TestApp> {
    spawn_app(backend, &[backend.blog_schema()], &config()).await
}

async fn login(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/login", app.api))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn token(app: &TestApp, user: &str) -> String {
    let response = login(app, user, &format!("{user}-pass")).await;
    assert_eq!(response.status(), 200);
    response.json::<Json>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Json>,
) -> (u16, Json) {
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|value| ("Authorization", value))
        .into_iter()
        .collect();
    send(app, method, path, &headers, body).await
}

/// `method` on `path` (or the app's `config.json`) with `headers` and `body`: status and body.
pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Json>,
) -> (u16, Json) {
    let url = if path == "config.json" {
        format!("{}/config.json", app.api.trim_end_matches("/api"))
    } else {
        format!("{}{path}", app.api)
    };
    let mut request = app.client.request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Json::String(text)),
    )
}

pub async fn every_route_needs_a_valid_token(backend: Backend) {
    let Some(app) = secured(backend).await else {
        return;
    };
    let root = token(&app, "root").await;
    let author = call(
        &app,
        Method::POST,
        "/authors",
        Some(&root),
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
    )
    .await;
    assert_eq!(author.0, 201, "{:?}", author.1);
    let author_id = author.1["id"].as_i64().unwrap();
    let mut post_ids = Vec::new();
    for i in 0..12 {
        let post = call(
            &app,
            Method::POST,
            "/posts",
            Some(&root),
            Some(json!({"title": format!("P{i}"), "author_id": author_id})),
        )
        .await;
        post_ids.push(post.1["id"].as_i64().unwrap());
    }
    let expired = autoadmin::auth::token::sign(
        SECRET.as_bytes(),
        &autoadmin::auth::token::Claims {
            sub: "root".into(),
            generation: 0,
            exp: chrono::Utc::now().timestamp() - 5,
            sid: "expired".into(),
            mfa: false,
            sso: None,
        },
    );
    let forged = autoadmin::auth::token::sign(
        b"another secret, another secret..",
        &autoadmin::auth::token::Claims {
            sub: "root".into(),
            generation: 0,
            exp: chrono::Utc::now().timestamp() + 600,
            sid: "forged".into(),
            mfa: false,
            sso: None,
        },
    );
    let revoked = token(&app, "ed").await;
    let (status, _) = call(&app, Method::POST, "/logout", Some(&revoked), None).await;
    assert_eq!(status, 200);
    let ed = token(&app, "ed").await;
    let rita = token(&app, "rita").await;

    // (method, path, body, the user allowed, the user forbidden)
    let mut next = post_ids.clone().into_iter();
    let mut one = || next.next().unwrap();
    let cases: Vec<(Method, String, Option<Json>, &str, &str)> = vec![
        (Method::GET, "/posts".into(), None, &rita, ""),
        (
            Method::GET,
            format!("/posts/{}", post_ids[0]),
            None,
            &rita,
            "",
        ),
        (Method::GET, "/posts/export.csv".into(), None, &rita, ""),
        (Method::GET, "/openapi.json".into(), None, &rita, ""),
        (Method::GET, "config.json".into(), None, &rita, ""),
        (
            Method::POST,
            "/posts".into(),
            Some(json!({"title": "new", "author_id": author_id})),
            &ed,
            &rita,
        ),
        (
            Method::PUT,
            format!("/posts/{}", one()),
            Some(json!({"title": "put"})),
            &ed,
            &rita,
        ),
        (
            Method::PATCH,
            format!("/posts/{}", one()),
            Some(json!({"title": "patch"})),
            &ed,
            &rita,
        ),
        (
            Method::DELETE,
            format!("/posts/{}", one()),
            None,
            &root,
            &ed,
        ),
        (
            Method::DELETE,
            format!("/posts?ids=[{}]", one()),
            None,
            &root,
            &ed,
        ),
        (
            Method::POST,
            "/authors".into(),
            Some(json!({"name": "B", "email": "b@example.com"})),
            &root,
            &ed,
        ),
        (Method::GET, "/comments".into(), None, &rita, &ed),
    ];
    for (method, path, body, allowed, forbidden) in cases {
        for (who, bearer) in [
            ("no token", None),
            ("a forged token", Some(forged.as_str())),
            ("an expired token", Some(expired.as_str())),
            ("a revoked token", Some(revoked.as_str())),
            ("garbage", Some("not.a.token")),
        ] {
            let (status, body_json) = call(&app, method.clone(), &path, bearer, body.clone()).await;
            assert_eq!(status, 401, "{method} {path} with {who}: {body_json}");
            assert_eq!(body_json["code"], "unauthorized");
        }
        if !forbidden.is_empty() {
            let (status, body_json) =
                call(&app, method.clone(), &path, Some(forbidden), body.clone()).await;
            assert_eq!(
                status, 403,
                "{method} {path} by a user without the permission: {body_json}"
            );
            assert_eq!(body_json["code"], "forbidden");
        }
        let (status, body_json) =
            call(&app, method.clone(), &path, Some(allowed), body.clone()).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} by an allowed user: {status} {body_json}"
        );
    }
    // Health is public; nothing else is.
    assert_eq!(call(&app, Method::GET, "/health", None, None).await.0, 200);
    // Forbidden writes changed nothing.
    assert_eq!(app.db.count("authors").await, 2);
}

pub async fn login_logout_cookies_and_csrf(backend: Backend) {
    let Some(app) = secured(backend).await else {
        return;
    };
    for (user, password) in [("root", "wrong"), ("nobody", "root-pass"), ("root", "")] {
        let response = login(&app, user, password).await;
        let status = response.status().as_u16();
        let body: Json = response.json().await.unwrap();
        if password.is_empty() {
            assert_eq!(status, 400);
        } else {
            assert_eq!(status, 401, "{user}");
            assert_eq!(body["message"], "unknown user or wrong password");
        }
    }
    let response = login(&app, "root", "root-pass").await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "autoadmin_token=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let body: Json = response.json().await.unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires > chrono::Utc::now());
    let session = cookie.split(';').next().unwrap().to_owned();

    // The cookie authenticates reads; writes by cookie need X-Requested-With.
    let url = |path: &str| format!("{}{path}", app.api);
    let read = app
        .client
        .get(url("/tags"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let forged = app
        .client
        .post(url("/tags"))
        .header("Cookie", &session)
        .json(&json!({"name": "csrf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        forged.json::<Json>().await.unwrap()["message"],
        "a write authenticated by cookie needs the X-Requested-With header (CSRF protection)"
    );
    assert_eq!(app.db.count("tags").await, 0);
    let ok = app
        .client
        .post(url("/tags"))
        .header("Cookie", &session)
        .header("X-Requested-With", "autoadmin")
        .json(&json!({"name": "fine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);

    // Behind https (a proxy says so), the cookie is Secure.
    let response = app
        .client
        .post(url("/login"))
        .header("X-Forwarded-Proto", "https")
        .json(&json!({"username": "rita", "password": "rita-pass"}))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    // Logout ends this session and clears the cookie; another session of the same user
    // (another device, an API token) goes on.
    let other = token(&app, "root").await;
    let logout = app
        .client
        .post(url("/logout"))
        .header("Cookie", &session)
        .header("X-Requested-With", "autoadmin")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = app
        .client
        .get(url("/tags"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert_eq!(after.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        call(&app, Method::GET, "/tags", Some(&other), None).await.0,
        200,
        "the other session goes on"
    );
    // A new login works again.
    let again = token(&app, "root").await;
    assert_eq!(
        call(&app, Method::GET, "/tags", Some(&again), None).await.0,
        200
    );
}

/// The app's page carries the configuration of the user who asks for it (a data block, its
/// `<` escaped), and nothing for someone the admin does not know.
pub async fn the_page_carries_the_users_config(backend: Backend) {
    let config = config().replacen("label = \"Posts\"", "label = \"Posts </script><b>\"", 1);
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let page = format!("{}/", app.api.trim_end_matches("/api"));
    let anonymous = app.client.get(&page).send().await.unwrap();
    assert_eq!(anonymous.status(), 200);
    assert!(!anonymous.text().await.unwrap().contains("id=\"config\""));
    let ed = token(&app, "ed").await;
    let response = app.client.get(&page).bearer_auth(&ed).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cache.contains("private"), "{cache}");
    let html = response.text().await.unwrap();
    let start = html
        .find("<script type=\"application/json\" id=\"config\">")
        .unwrap();
    let data = &html[start..];
    let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
    assert!(!data.contains('<'), "{data}");
    let carried: Json = serde_json::from_str(data).unwrap();
    let (_, served) = call(&app, Method::GET, "config.json", Some(&ed), None).await;
    assert_eq!(carried, served);
    assert_eq!(carried["user"]["name"], "ed");
    assert!(carried.to_string().contains("Posts </script><b>"));
}

pub async fn config_json_shows_what_the_user_may_do(backend: Backend) {
    let Some(app) = secured(backend).await else {
        return;
    };
    let ed = token(&app, "ed").await;
    let (status, config) = call(&app, Method::GET, "config.json", Some(&ed), None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = config["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["authors", "posts"]);
    assert_eq!(
        config["entities"][1]["permissions"],
        json!({"view": true, "add": true, "edit": true, "delete": false})
    );
    assert_eq!(
        config["entities"][0]["permissions"],
        json!({"view": true, "add": false, "edit": false, "delete": false})
    );
    assert_eq!(
        config["user"],
        json!({"name": "ed", "roles": ["editor"], "can_log_out": true, "own_login": true, "second_factor_pending": false})
    );
    let text = config.to_string();
    assert!(
        !text.contains("argon2") && !text.contains(SECRET),
        "no secret or hash in config.json"
    );
    // Security headers on every response.
    let response = app
        .client
        .get(format!("{}/health", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["referrer-policy"], "same-origin");
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(response.headers().get("server").is_none());
}

/// The limits are kept in the database: attempts made on two instances over it count
/// together, as behind a load balancer.
pub async fn login_attempts_are_rate_limited(backend: Backend) {
    let config = config().replace(
        &format!("secret = \"{SECRET}\""),
        &format!(
            "secret = \"{SECRET}\"\nlogin_failures_per_user = 3\nlogin_attempts_per_address = 8"
        ),
    );
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let other = spawn_on(app.db.shared(), |builder| {
        builder.config_toml(config.as_str(), "test.toml")
    })
    .await;
    assert_eq!(login(&app, "rita", "guess").await.status(), 401);
    assert_eq!(login(&other, "rita", "guess").await.status(), 401);
    assert_eq!(login(&app, "rita", "guess").await.status(), 401);
    // The name is locked for the window, on every instance, even with the right password.
    for instance in [&app, &other] {
        let locked = login(instance, "rita", "rita-pass").await;
        assert_eq!(locked.status(), 429);
        let retry: u64 = locked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0 && retry <= 15 * 60, "{retry}");
        assert_eq!(
            locked.json::<Json>().await.unwrap()["code"],
            "too_many_requests"
        );
    }
    // Other names still log in, until this address has tried too often (a locked name's
    // refusals are not counted: 3 so far), on either instance.
    assert_eq!(login(&other, "ed", "ed-pass").await.status(), 200);
    for (instance, name) in [(&app, "a"), (&other, "b"), (&app, "c"), (&other, "d")] {
        assert_eq!(login(instance, name, "x").await.status(), 401);
    }
    for instance in [&app, &other] {
        assert_eq!(
            login(instance, "root", "root-pass").await.status(),
            429,
            "8 attempts from one address, on two instances"
        );
    }
    // The counters name no address or user in clear.
    let named = app
        .db
        .scalar("SELECT COUNT(*) FROM autoadmin_login_attempts WHERE counter LIKE '%rita%'")
        .await;
    assert_eq!(named.as_deref(), Some("0"));
}

/// Behind a trusted proxy (`[admin] trusted_proxies`), the address the per-address limit
/// counts is the one the proxy saw (`X-Forwarded-For`), so clients behind one load balancer
/// do not share a limit; from anyone else the header changes nothing.
pub async fn a_trusted_proxy_says_the_client_address(backend: Backend) {
    for trusted in [true, false] {
        let mut config = config().replace(
            &format!("secret = \"{SECRET}\""),
            &format!("secret = \"{SECRET}\"\nlogin_attempts_per_address = 3"),
        );
        if trusted {
            config = config.replacen(
                "[admin]\n",
                "[admin]\ntrusted_proxies = [\"127.0.0.1\"]\n",
                1,
            );
        }
        let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
            return;
        };
        let attempt = |forwarded: &'static str, name: &'static str| {
            app.client
                .post(format!("{}/login", app.api))
                .header("x-forwarded-for", forwarded)
                .json(&json!({"username": name, "password": "x"}))
                .send()
        };
        for name in ["a", "b", "c"] {
            let status = attempt("203.0.113.5, 198.51.100.1", name)
                .await
                .unwrap()
                .status();
            assert_eq!(status, 401);
        }
        let fourth = attempt("203.0.113.5, 198.51.100.1", "d").await.unwrap();
        assert_eq!(fourth.status(), 429, "3 attempts from 198.51.100.1");
        // The part a client writes itself (left of the proxy's) is not believed either.
        let forged = attempt("198.51.100.9, 198.51.100.1", "e").await.unwrap();
        assert_eq!(forged.status(), 429);
        let another = attempt("198.51.100.2", "f").await.unwrap().status();
        if trusted {
            assert_eq!(
                another, 401,
                "another client behind the proxy has its own count"
            );
        } else {
            assert_eq!(
                another, 429,
                "no trusted proxy: every request is the peer's"
            );
        }
    }
}

/// A host app's own policy decides: the built-in one is not involved.
pub async fn a_host_policy_decides(backend: Backend) {
    use autoadmin::auth::{Action, AuthFuture, AuthPolicy, Error, Principal};
    struct KeyPolicy;
    impl AuthPolicy for KeyPolicy {
        fn authenticate<'a>(&'a self, parts: &'a axum::http::request::Parts) -> AuthFuture<'a> {
            Box::pin(async move {
                match parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
                    Some("reader") => Ok(Principal {
                        user: Some("reader".into()),
                        permissions: [("tags".to_owned(), [Action::View].into())].into(),
                        roles: Vec::new(),
                        ..Default::default()
                    }),
                    Some(_) => Err(Error::Unauthorized("unknown key".into())),
                    None => Err(Error::Unauthorized("no key".into())),
                }
            })
        }
    }
    let Some(app) = crate::common::spawn_app_with(backend, &[backend.blog_schema()], |b| {
        b.config_toml(autoadmin::demo::CONFIG, "blog.toml")
            .auth_policy(std::sync::Arc::new(KeyPolicy))
    })
    .await
    else {
        return;
    };
    let get = |path: &'static str, key: Option<&'static str>| {
        let mut request = app.client.get(format!("{}{path}", app.api));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send()
    };
    assert_eq!(get("/tags", None).await.unwrap().status(), 401);
    assert_eq!(get("/tags", Some("other")).await.unwrap().status(), 401);
    assert_eq!(get("/tags", Some("reader")).await.unwrap().status(), 200);
    assert_eq!(get("/posts", Some("reader")).await.unwrap().status(), 403);
    let post = app
        .client
        .post(format!("{}/tags", app.api))
        .header("x-api-key", "reader")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    // No built-in login here.
    assert_eq!(login(&app, "root", "root-pass").await.status(), 404);
}

/// A fallback secret (serve --insecure-dev) signs tokens only when none is configured.
pub async fn a_fallback_secret_never_replaces_the_configured_one(backend: Backend) {
    let with_secret = config();
    let Some(app) = crate::common::spawn_app_with(backend, &[backend.blog_schema()], |b| {
        b.config_toml(&with_secret, "test.toml")
            .fallback_secret("f".repeat(40))
    })
    .await
    else {
        return;
    };
    let forged_with_fallback = autoadmin::auth::token::sign(
        "f".repeat(40).as_bytes(),
        &autoadmin::auth::token::Claims {
            sub: "root".into(),
            generation: 0,
            exp: chrono::Utc::now().timestamp() + 600,
            sid: "forged".into(),
            mfa: false,
            sso: None,
        },
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/tags",
            Some(&forged_with_fallback),
            None
        )
        .await
        .0,
        401
    );
    let real = token(&app, "root").await;
    assert_eq!(
        call(&app, Method::GET, "/tags", Some(&real), None).await.0,
        200
    );
    drop(app);
    // Without a configured secret, the fallback lets the admin start and sign.
    let without = with_secret.replace(&format!("secret = \"{SECRET}\"\n"), "");
    assert_ne!(without, with_secret);
    let Some(app) = crate::common::spawn_app_with(backend, &[backend.blog_schema()], |b| {
        b.config_toml(&without, "test.toml")
            .fallback_secret("f".repeat(40))
    })
    .await
    else {
        return;
    };
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/tags",
            Some(&forged_with_fallback),
            None
        )
        .await
        .0,
        200
    );
}

/// "Log out everywhere" ends every session of the user, an administrator can end another
/// user's sessions, and nobody else can; bad bodies are 400.
pub async fn sessions_end_one_all_or_another_users(backend: Backend) {
    let Some(app) = secured(backend).await else {
        return;
    };
    let logout = |token: String, body: Option<Json>| {
        let app = &app;
        async move { call(app, Method::POST, "/logout", Some(&token), body).await }
    };
    let works = |token: String| {
        let app = &app;
        async move { call(app, Method::GET, "/posts", Some(&token), None).await.0 == 200 }
    };
    let (first, second) = (token(&app, "rita").await, token(&app, "rita").await);
    let (status, body) = logout(first.clone(), Some(json!({"everywhere": true}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ended"], "every session");
    assert!(!works(first).await && !works(second).await);
    // An administrator ends another user's sessions, and keeps their own.
    let (root, ed) = (token(&app, "root").await, token(&app, "ed").await);
    let (status, body) = logout(root.clone(), Some(json!({"user": "ed"}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(!works(ed).await);
    assert!(works(root.clone()).await);
    // Nobody else may; an unknown user is 404; a bad body 400.
    let (rita, ed) = (token(&app, "rita").await, token(&app, "ed").await);
    let (status, body) = logout(rita.clone(), Some(json!({"user": "ed"}))).await;
    assert_eq!(status, 403, "{body}");
    assert!(works(ed).await);
    let (status, _) = logout(root.clone(), Some(json!({"user": "nobody"}))).await;
    assert_eq!(status, 404);
    for bad in [
        json!({"everywhere": "yes"}),
        json!({"all": true}),
        json!([1]),
        json!({"user": ""}),
    ] {
        let (status, body) = logout(root.clone(), Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert!(
        works(rita).await && works(root).await,
        "refused requests end nothing"
    );
}

/// A logout on another instance (which raises the user's generation in the database, as done
/// here by hand): with the default `revocation_delay_secs` this instance refuses the user's
/// token within about a second; with 0, on the very next request.
pub async fn logout_elsewhere_reaches_this_instance(backend: Backend) {
    use std::time::{Duration, Instant};
    for delay in [None, Some(0)] {
        let mut config = config();
        if let Some(delay) = delay {
            let secret = format!("secret = \"{SECRET}\"\n");
            config = config.replacen(
                &secret,
                &format!("{secret}revocation_delay_secs = {delay}\n"),
                1,
            );
        }
        let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
            return;
        };
        let rita = token(&app, "rita").await;
        assert_eq!(
            call(&app, Method::GET, "/tags", Some(&rita), None).await.0,
            200
        );
        app.db
            .execute("INSERT INTO autoadmin_sessions (user_name, generation) VALUES ('rita', 1)")
            .await;
        let logged_out = Instant::now();
        let mut accepted = 0;
        let refused = loop {
            let (status, body) = call(&app, Method::GET, "/tags", Some(&rita), None).await;
            if status == 401 {
                assert_eq!(
                    body["message"],
                    "the token was revoked (logged out): log in again"
                );
                break logged_out.elapsed();
            }
            assert_eq!(status, 200, "{body}");
            accepted += 1;
            assert!(
                logged_out.elapsed() < Duration::from_secs(10),
                "delay {delay:?}: the revoked token still works"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        match delay {
            Some(0) => assert_eq!(accepted, 0, "read on every request"),
            _ => assert!(refused < Duration::from_secs(5), "{refused:?}"),
        }
        // The other users are not affected.
        let root = token(&app, "root").await;
        assert_eq!(
            call(&app, Method::GET, "/tags", Some(&root), None).await.0,
            200
        );
        // One session ended on another instance (a row of the ended sessions, written here
        // by hand) reaches this one within the delay too; the user's other sessions go on.
        let (ended, kept) = (token(&app, "ed").await, token(&app, "ed").await);
        let claims: autoadmin::auth::token::Claims = autoadmin::auth::token::verify(
            SECRET.as_bytes(),
            &ended,
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
        app.db
            .execute(&format!(
                "INSERT INTO autoadmin_revoked_sessions (session_id, user_name, expires_at) VALUES ('{}', 'ed', {})",
                claims.sid, claims.exp
            ))
            .await;
        let started = Instant::now();
        while call(&app, Method::GET, "/posts", Some(&ended), None)
            .await
            .0
            == 200
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the ended session still works"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            call(&app, Method::GET, "/posts", Some(&ended), None)
                .await
                .0,
            401
        );
        assert_eq!(
            call(&app, Method::GET, "/posts", Some(&kept), None).await.0,
            200
        );
    }
}

/// Requests of one logged-in user (their bearer token).
pub(crate) struct Call<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl Call<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Json>,
        if_match: Option<&str>,
    ) -> (u16, Option<String>, Json) {
        let url = if path == "config.json" {
            format!("{}/config.json", self.app.api.trim_end_matches("/api"))
        } else {
            format!("{}{path}", self.app.api)
        };
        let mut request = self
            .app
            .client
            .request(method, url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(etag) = if_match {
            request = request.header("If-Match", etag);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Json::String(text));
        (status, etag, json)
    }

    /// The `_cursor` of the next page after the page `path` answers.
    pub async fn next_cursor(&self, path: &str) -> String {
        let response = self
            .app
            .client
            .get(format!("{}{path}", self.app.api))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let link = response.headers()["link"].to_str().unwrap().to_owned();
        crate::common::cursor_of(&link)
    }

    /// `method` on `path` with `body`: status and body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Json>) -> (u16, Json) {
        let (status, _, body) = self.send(method, path, body, None).await;
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Json) {
        let (status, _, body) = self.send(Method::GET, path, None, None).await;
        (status, body)
    }

    pub async fn save(&self, body: Json) -> (u16, Json) {
        let (status, _, body) = self.send(Method::POST, "/_views", Some(body), None).await;
        (status, body)
    }

    /// The names of the views a list of `/_views` answers with.
    pub async fn names(&self, query: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/_views{query}")).await;
        assert_eq!(status, 200, "{body}");
        let mut names: Vec<String> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}

/// The requests of `user` (password `{user}-pass`), logged in.
pub(crate) async fn as_user<'a>(app: &'a TestApp, user: &str) -> Call<'a> {
    Call {
        app,
        token: token(app, user).await,
    }
}
