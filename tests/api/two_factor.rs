//! Two-factor login on every backend, with codes computed here from the secret the server
//! shows (RFC 6238 by hand: HMAC-SHA1, dynamic truncation, six digits, 30-second steps):
//! set-up and its confirmation, the login's second step, codes good once, recovery codes,
//! the rate limit, a role that requires it, an administrator's removal, and the refusals.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::auth::{Call, as_user, send};
use crate::common::{Backend, TestApp, spawn_app};

/// The test users and `gus`, whose role requires a second factor.
fn config() -> String {
    let hash = autoadmin::auth::builtin::hash_password("gus-pass");
    format!(
        r#"{}
  [[auth.role]]
  name = "guarded"
  permissions = {{ posts = ["view"] }}
  require_2fa = true

  [[auth.user]]
  name = "gus"
  role = "guarded"
  password_hash = "{hash}"
"#,
        crate::auth::config()
    )
}

/// RFC 4648 base32, decoded without the server's help.
fn base32_decode(text: &str) -> Vec<u8> {
    let (mut bits, mut buffer, mut out) = (0u32, 0u64, Vec::new());
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {text}"),
        };
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code of `step` (RFC 6238 over RFC 4226).
fn code_at(secret: &[u8], step: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

fn step_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// An authenticator: its secret, and the last step whose code it gave (each is good once).
struct Device {
    secret: Vec<u8>,
    last: u64,
}

impl Device {
    /// A code the server takes now: of a step after the last one given, no more than one
    /// step from the clock's (waiting for the next step when those are used up).
    async fn code(&mut self) -> String {
        loop {
            let now = step_now();
            let step = (self.last + 1).max(now - 1);
            if step <= now + 1 {
                self.last = step;
                return code_at(&self.secret, step);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// A code of the right form that is none of the steps the server takes now.
    fn wrong(&self) -> String {
        let now = step_now();
        let taken: Vec<String> = (now - 2..=now + 2)
            .map(|s| code_at(&self.secret, s))
            .collect();
        (0..)
            .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|c| !taken.contains(c))
            .unwrap()
    }
}

async fn login(app: &TestApp, user: &str) -> (u16, Json, bool) {
    let response = app
        .client
        .post(format!("{}/login", app.api))
        .json(&json!({"username": user, "password": format!("{user}-pass")}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response.headers().contains_key("set-cookie");
    (status, response.json().await.unwrap(), cookie)
}

/// The second step with `code`, which is refused as too many tries: the response.
async fn too_soon(app: &TestApp, challenge: &Json, code: &str) -> reqwest::Response {
    let response = app
        .client
        .post(format!("{}/login/second-factor", app.api))
        .json(&json!({"challenge": challenge, "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    response
}

async fn second_step(app: &TestApp, challenge: &Json, proof: Json) -> (u16, Json) {
    let mut body = proof;
    body["challenge"] = challenge.clone();
    send(app, Method::POST, "/login/second-factor", &[], Some(body)).await
}

/// Sets up `who`'s second factor and checks each step: the device, the new session's
/// token, and the recovery codes.
async fn set_up(who: &Call<'_>) -> (Device, String, Vec<String>) {
    let (status, started) = who.call(Method::POST, "/_2fa", None).await;
    assert_eq!(status, 201, "{started}");
    let secret = started["secret"].as_str().unwrap();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert_eq!(
        (started["digits"].clone(), started["period"].clone()),
        (json!(6), json!(30))
    );
    // The QR code: square, of a QR code's size (21 + 4k modules).
    let rows = started["qr"].as_array().unwrap();
    assert!(
        rows.len() >= 21 && (rows.len() - 21) % 4 == 0,
        "{}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.as_str().unwrap().len() == rows.len()));
    let (_, status_now) = who.get("/_2fa").await;
    assert_eq!(status_now["enrolling"], true, "{status_now}");
    assert_eq!(status_now["enabled"], false);

    let mut device = Device {
        secret: base32_decode(secret),
        last: 0,
    };
    // A wrong first code is the field's error; the right one turns it on.
    let (status, refused) = who
        .call(
            Method::POST,
            "/_2fa/confirm",
            Some(json!({"code": device.wrong()})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["errors"]["code"].is_string(), "{refused}");
    let (status, confirmed) = who
        .call(
            Method::POST,
            "/_2fa/confirm",
            Some(json!({"code": device.code().await})),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["enabled"], true);
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (
        device,
        confirmed["token"].as_str().unwrap().to_owned(),
        codes,
    )
}

pub async fn a_second_factor_guards_the_login(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let ed = as_user(&app, "ed").await;
    let (status, before) = ed.get("/_2fa").await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        before,
        json!({"enabled": false, "enrolling": false, "required": false, "recovery_codes_left": 0})
    );
    let (mut device, token, recovery) = set_up(&ed).await;
    // The session opened with the password alone has ended; the new one works.
    assert_eq!(ed.get("/posts").await.0, 401);
    let ed = Call { app: &app, token };
    assert_eq!(ed.get("/posts").await.0, 200);
    let (_, now) = ed.get("/_2fa").await;
    assert_eq!(
        now,
        json!({"enabled": true, "enrolling": false, "required": false, "recovery_codes_left": 10})
    );
    assert_eq!(ed.call(Method::POST, "/_2fa", None).await.0, 409);
    // The secret is stored sealed: neither its base32 nor its bytes in hex are in the table.
    let stored = app
        .db
        .scalar("SELECT secret FROM autoadmin_totp WHERE user_name = 'ed'")
        .await
        .unwrap();
    let hex: String = device.secret.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !stored.contains(&hex) && stored.starts_with("v1."),
        "{stored}"
    );

    // The password alone gives a challenge, not a session: no token, no cookie.
    let (status, first, cookie) = login(&app, "ed").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["second_factor"], "totp");
    assert!(first.get("token").is_none() && !cookie, "{first}");
    let challenge = first["challenge"].clone();
    let bearer = format!("Bearer {}", challenge.as_str().unwrap());
    let headers = [("Authorization", bearer.as_str())];
    let (status, _) = send(&app, Method::GET, "/posts", &headers, None).await;
    assert_eq!(status, 401, "a challenge is no session");
    // A wrong code, then the right one; the same code again is refused (good once).
    let (status, wrong) = second_step(&app, &challenge, json!({"code": device.wrong()})).await;
    assert_eq!(
        (status, wrong["code"].as_str()),
        (401, Some("unauthorized")),
        "{wrong}"
    );
    let code = device.code().await;
    let (status, signed) = second_step(&app, &challenge, json!({"code": code})).await;
    assert_eq!(status, 200, "{signed}");
    let headers = [(
        "Authorization",
        format!("Bearer {}", signed["token"].as_str().unwrap()),
    )];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        send(&app, Method::GET, "/posts", &headers, None).await.0,
        200
    );
    let (_, again, _) = login(&app, "ed").await;
    let (status, _) = second_step(&app, &again["challenge"], json!({"code": code})).await;
    assert_eq!(status, 401, "a code is good once");
    // Spaces in a code, as apps show it, are fine.
    let spaced = device.code().await;
    let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
    let (status, _) = second_step(&app, &again["challenge"], json!({"code": spaced})).await;
    assert_eq!(status, 200);

    // A recovery code, once, in any case and with or without its hyphen.
    let (_, third, _) = login(&app, "ed").await;
    let used = recovery[0].to_uppercase().replace('-', "");
    let (status, _) = second_step(&app, &third["challenge"], json!({"recovery_code": used})).await;
    assert_eq!(status, 200);
    let (status, _) = second_step(
        &app,
        &third["challenge"],
        json!({"recovery_code": recovery[0]}),
    )
    .await;
    assert_eq!(status, 401, "a recovery code is good once");
    assert_eq!(ed.get("/_2fa").await.1["recovery_codes_left"], 9);

    // New recovery codes for a code: the old ones stop working.
    let (status, _) = ed
        .call(
            Method::POST,
            "/_2fa/recovery-codes",
            Some(json!({"code": device.wrong()})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, renewed) = ed
        .call(
            Method::POST,
            "/_2fa/recovery-codes",
            Some(json!({"code": device.code().await})),
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["recovery_codes"].as_array().unwrap().len(), 10);
    let (_, fourth, _) = login(&app, "ed").await;
    let (status, _) = second_step(
        &app,
        &fourth["challenge"],
        json!({"recovery_code": recovery[1]}),
    )
    .await;
    assert_eq!(status, 401, "the old codes are gone");
    assert_eq!(ed.get("/_2fa").await.1["recovery_codes_left"], 10);

    // Off, with a recovery code: the password alone is enough again.
    let (status, _) = ed
        .call(
            Method::DELETE,
            "/_2fa",
            Some(json!({"recovery_code": "aaaaa-bbbbb"})),
        )
        .await;
    assert_eq!(status, 422);
    let new_code = renewed["recovery_codes"][0].clone();
    let (status, off) = ed
        .call(
            Method::DELETE,
            "/_2fa",
            Some(json!({"recovery_code": new_code})),
        )
        .await;
    assert_eq!(
        (status, off),
        (200, json!({"enabled": false, "user": "ed"}))
    );
    let (status, plain, cookie) = login(&app, "ed").await;
    assert!(
        status == 200 && plain["token"].is_string() && cookie,
        "{plain}"
    );
    let rows = app
        .db
        .scalar("SELECT COUNT(*) FROM autoadmin_recovery_codes WHERE user_name = 'ed'")
        .await
        .unwrap();
    assert_eq!(rows, "0");
}

pub async fn a_role_may_require_a_second_factor(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    // Signed in with the password alone: the set-up, the app's config and logout, no more.
    let gus = as_user(&app, "gus").await;
    let (status, refused) = gus.get("/posts").await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "second_factor_required");
    let (status, _) = gus
        .call(
            Method::POST,
            "/_keys",
            Some(json!({"name": "k", "expires_in_days": 1})),
        )
        .await;
    assert_eq!(status, 403, "no key before the second factor");
    let (status, config) = gus.get("config.json").await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["entities"], json!([]));
    assert_eq!(config["user"]["second_factor_pending"], true);
    let (_, standing) = gus.get("/_2fa").await;
    assert_eq!(standing["required"], true, "{standing}");
    let (status, _) = gus
        .call(Method::DELETE, "/_2fa", Some(json!({"code": "123456"})))
        .await;
    assert_eq!(status, 403, "the role requires it");
    let (mut device, token, _) = set_up(&gus).await;
    let gus = Call { app: &app, token };
    assert_eq!(gus.get("/posts").await.0, 200);
    let (_, config) = gus.get("config.json").await;
    assert_eq!(config["user"]["second_factor_pending"], false);
    assert_eq!(config["entities"].as_array().unwrap().len(), 1, "posts");
    let (status, refused) = gus
        .call(
            Method::DELETE,
            "/_2fa",
            Some(json!({"code": device.code().await})),
        )
        .await;
    assert_eq!(status, 403, "{refused}");

    // An administrator removes it (a lost device): gus's sessions end; at the next login,
    // gus sets one up again.
    let root = as_user(&app, "root").await;
    let ed = as_user(&app, "ed").await;
    let remove = |user: &str| json!({"user": user});
    assert_eq!(
        ed.call(Method::DELETE, "/_2fa", Some(remove("gus")))
            .await
            .0,
        403
    );
    assert_eq!(
        root.call(Method::DELETE, "/_2fa", Some(remove("root")))
            .await
            .0,
        409
    );
    assert_eq!(
        root.call(Method::DELETE, "/_2fa", Some(remove("nobody")))
            .await
            .0,
        404
    );
    assert_eq!(
        root.call(Method::DELETE, "/_2fa", Some(remove("rita")))
            .await
            .0,
        404
    );
    let (status, removed) = root
        .call(Method::DELETE, "/_2fa", Some(remove("gus")))
        .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed, json!({"enabled": false, "user": "gus"}));
    assert_eq!(gus.get("/posts").await.0, 401);
    let (status, plain, _) = login(&app, "gus").await;
    assert!(status == 200 && plain["token"].is_string(), "{plain}");
    let gus = Call {
        app: &app,
        token: plain["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(gus.get("/posts").await.1["code"], "second_factor_required");
    assert_eq!(gus.call(Method::POST, "/logout", None).await.0, 200);

    // A key manages no second factor.
    let (_, key) = root
        .call(
            Method::POST,
            "/_keys",
            Some(json!({"name": "k", "expires_in_days": 1})),
        )
        .await;
    let bearer = format!("Bearer {}", key["key"].as_str().unwrap());
    let (status, _) = send(
        &app,
        Method::GET,
        "/_2fa",
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(status, 403);
}

pub async fn second_factor_guesses_are_rate_limited(backend: Backend) {
    let config = config().replace("[auth]\n", "[auth]\nlogin_failures_per_user = 3\n");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let rita = as_user(&app, "rita").await;
    let (mut device, token, _) = set_up(&rita).await;
    let rita = Call { app: &app, token };
    // Guessing with the challenge: three failures, then 429 even for the right code.
    let (_, first, _) = login(&app, "rita").await;
    for _ in 0..3 {
        let (status, _) =
            second_step(&app, &first["challenge"], json!({"code": device.wrong()})).await;
        assert_eq!(status, 401);
    }
    let response = too_soon(&app, &first["challenge"], &device.code().await).await;
    assert!(response.headers().contains_key("retry-after"));
    // A signed-in session may not guess codes to turn the factor off either.
    let (status, _) = rita
        .call(
            Method::DELETE,
            "/_2fa",
            Some(json!({"code": device.code().await})),
        )
        .await;
    assert_eq!(status, 429);
}

pub async fn repeated_wrong_codes_slow_down(backend: Backend) {
    // The window's limit out of the way: what is left is the second factor's own wait.
    let config = config().replace("[auth]\n", "[auth]\nlogin_failures_per_user = 100\n");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let rita = as_user(&app, "rita").await;
    let (mut device, _, _) = set_up(&rita).await;
    let (_, first, _) = login(&app, "rita").await;
    let challenge = &first["challenge"];
    for _ in 0..3 {
        let (status, _) = second_step(&app, challenge, json!({"code": device.wrong()})).await;
        assert_eq!(status, 401);
    }
    let failures = "SELECT failures FROM autoadmin_totp WHERE user_name = 'rita'";
    assert_eq!(app.db.scalar(failures).await.unwrap(), "3");
    // Then one try per wait, which doubles: 1 s, 2 s, 4 s…
    let wait = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    for pause in [1100, 2100] {
        wait(pause).await;
        let (status, _) = second_step(&app, challenge, json!({"code": device.wrong()})).await;
        assert_eq!(status, 401);
    }
    assert_eq!(app.db.scalar(failures).await.unwrap(), "5");
    // A try at once waits, even with the right code, and says for how long.
    let response = too_soon(&app, challenge, &device.code().await).await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3..=4).contains(&retry), "{retry}");
    // Tries at once: one is tried, the others wait (the try is claimed in one statement).
    wait(4100).await;
    let wrong = device.wrong();
    let tries = (0..4).map(|_| second_step(&app, challenge, json!({"code": wrong})));
    let mut statuses: Vec<u16> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [401, 429, 429, 429]);
    assert_eq!(app.db.scalar(failures).await.unwrap(), "6");
    // After the wait (8 s now), the right code gets in, and the count starts again.
    wait(8100).await;
    let (status, signed) = second_step(&app, challenge, json!({"code": device.code().await})).await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(app.db.scalar(failures).await.unwrap(), "0");
}

pub async fn bad_second_factor_requests_are_4xx(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let challenge = json!("not a challenge");
    for (body, expected) in [
        (json!({}), 400),
        (json!({"challenge": challenge}), 400),
        (json!({"challenge": challenge, "code": 123456}), 400),
        (
            json!({"challenge": challenge, "code": "123456", "recovery_code": "a"}),
            400,
        ),
        (json!({"challenge": challenge, "code": "12\u{0}456"}), 400),
        (json!({"challenge": challenge, "code": "x".repeat(65)}), 400),
        (json!({"challenge": challenge, "code": " - "}), 400),
        (
            json!({"challenge": challenge, "code": "123456", "user": "ed"}),
            400,
        ),
        (json!({"challenge": 5, "code": "123456"}), 400),
        (json!({"challenge": challenge, "code": "123456"}), 401),
        (json!([1]), 400),
    ] {
        let (status, error) = send(
            &app,
            Method::POST,
            "/login/second-factor",
            &[],
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body} → {error}");
        assert!(
            error["request_id"].is_string() && error["message"].is_string(),
            "{error}"
        );
    }
    let response = app
        .client
        .post(format!("{}/login/second-factor", app.api))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    for (method, path) in [
        (Method::GET, "/_2fa"),
        (Method::POST, "/_2fa"),
        (Method::DELETE, "/_2fa"),
        (Method::POST, "/_2fa/confirm"),
        (Method::POST, "/_2fa/recovery-codes"),
    ] {
        let (status, _) = send(&app, method, path, &[], Some(json!({"code": "123456"}))).await;
        assert_eq!(status, 401, "{path} without a session");
    }
    let ed = as_user(&app, "ed").await;
    for (method, path, body, expected) in [
        (Method::POST, "/_2fa", json!([1]), 400),
        (Method::POST, "/_2fa", json!({"x": 1}), 400),
        (
            Method::POST,
            "/_2fa/confirm",
            json!({"code": "123456"}),
            409,
        ),
        (
            Method::POST,
            "/_2fa/confirm",
            json!({"code": "123456", "x": 1}),
            400,
        ),
        (
            Method::POST,
            "/_2fa/confirm",
            json!({"recovery_code": "abc"}),
            400,
        ),
        (
            Method::POST,
            "/_2fa/recovery-codes",
            json!({"code": "123456"}),
            409,
        ),
        (Method::DELETE, "/_2fa", json!({"code": "123456"}), 409),
        (Method::DELETE, "/_2fa", json!({"user": ""}), 400),
        (
            Method::DELETE,
            "/_2fa",
            json!({"user": "gus", "code": "1"}),
            400,
        ),
        (Method::DELETE, "/_2fa", json!({}), 400),
    ] {
        let (status, error) = ed.call(method, path, Some(body.clone())).await;
        assert_eq!(status, expected, "{path} {body} → {error}");
        assert!(error["request_id"].is_string(), "{error}");
    }
    // A set-up not confirmed is forgotten on DELETE, and may start again.
    assert_eq!(ed.call(Method::POST, "/_2fa", None).await.0, 201);
    assert_eq!(ed.call(Method::POST, "/_2fa", Some(json!({}))).await.0, 201);
    let (status, off) = ed
        .call(Method::DELETE, "/_2fa", Some(json!({"code": "1"})))
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(ed.get("/_2fa").await.1["enrolling"], false);
}
