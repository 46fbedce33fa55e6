//! Single sign-on against a real OpenID provider (`tests/oidc/provider.js`: panva's
//! oidc-provider, run by node on 127.0.0.1), driven over HTTP as a browser would: the
//! admin's redirect, the provider's login form, its redirect back with a code, the session.
//! Groups map to roles, claims to attributes (a row scope uses one); the state, the flow's
//! cookie and the code are each good once; logout ends the local session. Skipped (said so)
//! where node or the provider's packages are missing, except in CI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use reqwest::Method;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{Backend, TestApp, TestDb, spawn_listening};

/// The provider, stopped when dropped.
struct Provider {
    issuer: String,
    _process: tokio::process::Child,
    /// Reads what it prints, so that its output never fills the pipe.
    drain: tokio::task::JoinHandle<()>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.drain.abort();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Starts the provider for `redirect`; `None` (said so) where it cannot run here.
async fn provider(redirect: &str) -> Option<Provider> {
    let dir = provider_dir();
    if !dir.join("node_modules/oidc-provider").exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install tests/oidc (npm ci)"
        );
        eprintln!("skipped: single sign-on tests need `npm ci` in tests/oidc");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut process = match tokio::process::Command::new("node")
        .arg("provider.js")
        .arg(port.to_string())
        .arg(redirect)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(process) => process,
        Err(error) => {
            assert!(std::env::var("CI").is_err(), "node: {error}");
            eprintln!("skipped: single sign-on tests need node ({error})");
            return None;
        }
    };
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("the provider starts within 20 s")
        .unwrap()
        .expect("the provider says it is ready");
    let issuer = ready
        .strip_prefix("ready ")
        .expect("ready <issuer>")
        .to_owned();
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some(Provider {
        issuer,
        _process: process,
        drain,
    })
}

/// The admin (the blog, a user of its own login named root) and its provider.
async fn sso_app(backend: Backend) -> Option<(TestApp, Provider)> {
    let db = TestDb::create(backend).await?;
    db.execute(backend.blog_schema()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!(
        "http://{}/admin/api/login/oidc/callback",
        listener.local_addr().unwrap()
    );
    let provider = provider(&callback).await?;
    let hash = autoadmin::auth::builtin::hash_password("root-pass");
    let config = format!(
        r#"{blog}
[auth]
secret = "0123456789abcdef0123456789abcdef-sso-test-secret"

  [[auth.role]]
  name = "writer"
  permissions = {{ posts = {{ actions = ["view", "edit"], where = {{ author_id = "$user.author" }} }}, authors = ["view"] }}

  [[auth.user]]
  name = "root"
  role = "admin"
  password_hash = "{hash}"

  [auth.oidc]
  issuer = "{issuer}"
  client_id = "autoadmin"
  client_secret = "autoadmin-test-client-secret"
  redirect_url = "{callback}"
  scopes = ["openid", "email", "profile", "groups", "author"]
  groups = {{ staff = "writer", ops = "admin" }}
  attributes = {{ author = "author" }}
  label = "Example SSO"
"#,
        blog = autoadmin::demo::CONFIG,
        issuer = provider.issuer,
    );
    let app = spawn_listening(db, listener, |builder| {
        builder.config_toml(config, "test.toml")
    })
    .await;
    Some((app, provider))
}

/// A browser, as far as the flow needs one: no redirects followed by itself, and cookies
/// kept per host (the path ignored: sending more is harmless here).
struct Browser {
    client: reqwest::Client,
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

/// An answer: status, `Location`, the body.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    async fn request(&mut self, method: Method, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let parsed = reqwest::Url::parse(url).unwrap();
        let host = parsed.authority().to_owned();
        let mut request = self.client.request(method, parsed);
        if let Some(jar) = self.cookies.get(&host).filter(|jar| !jar.is_empty()) {
            let header: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("Cookie", header.join("; "));
        }
        if let Some(form) = form {
            let body = serde_urlencoded::to_string(form).unwrap();
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let jar = self.cookies.entry(host).or_default();
        for cookie in response.headers().get_all("set-cookie") {
            let text = cookie.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.to_ascii_lowercase().contains("max-age=0") {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let location = response.headers().get("location").map(|v| {
            reqwest::Url::parse(url)
                .unwrap()
                .join(v.to_str().unwrap())
                .unwrap()
                .to_string()
        });
        Page {
            status: response.status().as_u16(),
            location,
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Page {
        self.request(Method::GET, url, None).await
    }

    /// Follows redirects from `url` until a page that is not one, or one to `stop_at`.
    async fn follow(&mut self, url: &str, stop_at: &str) -> (String, Page) {
        let mut at = url.to_owned();
        for _ in 0..10 {
            if at.starts_with(stop_at) {
                let page = Page {
                    status: 0,
                    location: None,
                    body: String::new(),
                };
                return (at, page);
            }
            let page = self.get(&at).await;
            match page.location.clone() {
                Some(next) if (300..400).contains(&page.status) => at = next,
                _ => return (at, page),
            }
        }
        panic!("too many redirects from {url}");
    }

    /// The provider's login form for `account`, submitted: where the provider sends the
    /// browser back (the admin's callback with a code).
    async fn log_in_at_provider(&mut self, app: &TestApp, account: &str) -> String {
        let start = format!("{}/login/oidc", app.api);
        let (form_at, form) = self.follow(&start, "\u{0}").await;
        assert_eq!(form.status, 200, "the provider's login form: {}", form.body);
        assert!(form.body.contains("name=\"login\""), "{}", form.body);
        let submitted = self
            .request(
                Method::POST,
                &form_at,
                Some(&[("prompt", "login"), ("login", account), ("password", "any")]),
            )
            .await;
        let resume = submitted.location.expect("the provider resumes the flow");
        let callback = format!("{}/login/oidc/callback", app.api);
        let (at, page) = self.follow(&resume, &callback).await;
        assert!(at.starts_with(&callback), "{at}: {}", page.body);
        at
    }

    /// POST `body` to `path` of the admin's API with the session cookie: status and JSON.
    async fn request_json(&mut self, app: &TestApp, path: &str, body: Json) -> (u16, Json) {
        let host = reqwest::Url::parse(&app.api)
            .unwrap()
            .authority()
            .to_owned();
        let session = self.cookies[&host][autoadmin::auth::builtin::COOKIE].clone();
        let response = self
            .client
            .post(format!("{}{path}", app.api))
            .header("X-Requested-With", "test")
            .header(
                "Cookie",
                format!("{}={session}", autoadmin::auth::builtin::COOKIE),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Json::Null))
    }

    /// `path` of the admin's API with the session cookie: status and JSON.
    async fn api(&mut self, app: &TestApp, method: Method, path: &str) -> (u16, Json) {
        let url = if path == "config.json" {
            format!("{}/config.json", app.api.trim_end_matches("/api"))
        } else {
            format!("{}{path}", app.api)
        };
        let host = reqwest::Url::parse(&url).unwrap().authority().to_owned();
        let mut request = self
            .client
            .request(method, &url)
            .header("X-Requested-With", "test");
        if let Some(session) = self
            .cookies
            .get(&host)
            .and_then(|jar| jar.get(autoadmin::auth::builtin::COOKIE))
        {
            request = request.header(
                "Cookie",
                format!("{}={session}", autoadmin::auth::builtin::COOKIE),
            );
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Json::String(text)),
        )
    }
}

pub async fn single_sign_on_opens_a_session_with_the_providers_roles(backend: Backend) {
    let Some((app, _provider)) = sso_app(backend).await else {
        return;
    };
    app.db
        .execute(
            "INSERT INTO authors (id, name, email) VALUES (2, 'Two', 'two@example.com'), (3, 'Three', 'three@example.com'); \
             INSERT INTO posts (id, title, author_id) VALUES (1, 'By two', 2), (2, 'By three', 3);",
        )
        .await;
    // Ann is in "staff": a writer, who reaches the posts of the author her token names.
    let mut ann = Browser::new();
    let callback = ann.log_in_at_provider(&app, "ann").await;
    let flow = ann.cookies.clone();
    let back = ann.get(&callback).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(
        back.location.as_deref(),
        Some(format!("{}/", app.api.trim_end_matches("/api")).as_str())
    );
    let (status, config) = ann.api(&app, Method::GET, "config.json").await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["user"]["name"], "ann@example.com");
    assert_eq!(config["user"]["roles"], json!(["writer"]));
    assert_eq!(config["user"]["can_log_out"], true);
    assert_eq!(
        config["user"]["own_login"], false,
        "no keys nor second factor here"
    );
    assert_eq!(ann.api(&app, Method::GET, "/_keys").await.0, 403);
    assert_eq!(ann.api(&app, Method::GET, "/_2fa").await.0, 403);
    let (status, posts) = ann.api(&app, Method::GET, "/posts").await;
    assert_eq!(status, 200, "{posts}");
    let titles: Vec<&str> = posts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["By two"],
        "the row scope uses the token's author claim"
    );
    assert_eq!(ann.api(&app, Method::GET, "/posts/2").await.0, 404);
    assert_eq!(ann.api(&app, Method::GET, "/tags").await.0, 403);
    // The flow's cookie and the code are good once: the same callback again is refused.
    let again = ann.get(&callback).await;
    assert!(
        again
            .location
            .as_deref()
            .is_some_and(|l| l.ends_with("?sso_error=expired")),
        "{:?}",
        again.location
    );
    // Even with the flow's cookie kept (a copy of the browser's), the code is spent.
    let mut copy = Browser::new();
    copy.cookies = flow;
    let replayed = copy.get(&callback).await;
    assert_eq!(
        replayed.location.as_deref(),
        Some(format!("{}/?sso_error=provider", app.api.trim_end_matches("/api")).as_str())
    );
    assert_eq!(copy.api(&app, Method::GET, "/posts").await.0, 401);

    // Bob is in "ops" and "staff": the first declared role his groups map to, admin.
    let mut bob = Browser::new();
    let callback = bob.log_in_at_provider(&app, "bob").await;
    assert_eq!(bob.get(&callback).await.status, 303);
    let (_, config) = bob.api(&app, Method::GET, "config.json").await;
    assert_eq!(config["user"]["roles"], json!(["admin"]));
    assert_eq!(bob.api(&app, Method::GET, "/tags").await.0, 200);

    // An administrator (a provider's, here) ends another provider user's sessions.
    let ended = bob
        .request_json(&app, "/logout", json!({"user": "ann@example.com"}))
        .await;
    assert_eq!(ended.0, 200, "{}", ended.1);
    assert_eq!(ann.api(&app, Method::GET, "/posts").await.0, 401);

    // Logout ends the local session.
    let mut ann = Browser::new();
    let callback = ann.log_in_at_provider(&app, "ann").await;
    assert_eq!(ann.get(&callback).await.status, 303);
    assert_eq!(ann.api(&app, Method::GET, "/posts").await.0, 200);
    assert_eq!(ann.api(&app, Method::POST, "/logout").await.0, 200);
    let ended = ann.api(&app, Method::GET, "/posts").await;
    assert_eq!(ended.0, 401, "{}", ended.1);
}

pub async fn single_sign_on_refuses_what_it_cannot_trust(backend: Backend) {
    let Some((app, _provider)) = sso_app(backend).await else {
        return;
    };
    let app_url = format!("{}/", app.api.trim_end_matches("/api"));
    let refused = |page: &Page, code: &str| {
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(
            page.location.as_deref(),
            Some(format!("{app_url}?sso_error={code}").as_str())
        );
    };
    // Cid's groups map to no role, and there is no default role.
    let mut cid = Browser::new();
    let callback = cid.log_in_at_provider(&app, "cid").await;
    refused(&cid.get(&callback).await, "no_role");
    assert_eq!(cid.api(&app, Method::GET, "/posts").await.0, 401);
    // The provider's "root" may not pass for the admin's own root.
    let mut fake = Browser::new();
    let callback = fake.log_in_at_provider(&app, "root").await;
    refused(&fake.get(&callback).await, "taken");
    assert_eq!(fake.api(&app, Method::GET, "/posts").await.0, 401);

    // A code brought to another browser (no flow cookie, or another flow's): refused.
    let mut ann = Browser::new();
    let stolen = ann.log_in_at_provider(&app, "ann").await;
    let mut thief = Browser::new();
    refused(&thief.get(&stolen).await, "expired");
    let _ = thief
        .follow(&format!("{}/login/oidc", app.api), "\u{0}")
        .await;
    refused(&thief.get(&stolen).await, "expired");
    assert_eq!(thief.api(&app, Method::GET, "/posts").await.0, 401);
    // A state that is not the flow's.
    let tampered = stolen.replace("state=", "state=x");
    refused(&ann.get(&tampered).await, "expired");
    // The provider's own refusal (the user cancelled there).
    let mut quitter = Browser::new();
    let _ = quitter
        .follow(&format!("{}/login/oidc", app.api), "\u{0}")
        .await;
    let cancelled = format!(
        "{}/login/oidc/callback?error=access_denied&state=s",
        app.api
    );
    refused(&quitter.get(&cancelled).await, "denied");

    // The login page learns how one logs in here.
    let (status, methods) = crate::auth::send(&app, Method::GET, "/login", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(
        methods,
        json!({"password": true, "oidc": {"label": "Example SSO", "path": "/login/oidc"}})
    );
    let secured = crate::common::spawn_app(
        Backend::Sqlite,
        &[Backend::Sqlite.blog_schema()],
        &crate::auth::config(),
    )
    .await
    .unwrap();
    let (_, methods) = crate::auth::send(&secured, Method::GET, "/login", &[], None).await;
    assert_eq!(methods, json!({"password": true, "oidc": null}));
    let (status, _) = crate::auth::send(&secured, Method::GET, "/login/oidc", &[], None).await;
    assert_eq!(status, 404);

    // An admin without [auth] has no such routes.
    let plain = crate::common::blog_app(Backend::Sqlite).await.unwrap();
    let (status, body) = crate::auth::send(&plain, Method::GET, "/login/oidc", &[], None).await;
    assert_eq!(status, 404, "{body}");
}
