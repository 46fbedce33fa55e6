//! Live updates (`GET /_events`, Server-Sent Events) over a real socket on every backend:
//! what a stream is sent, to whom, from which instance; resuming with `Last-Event-ID`; the
//! bounds; the end of a stream at logout and at shutdown.

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::auth::{config as secured_config, token};
use crate::common::{Backend, TestApp, spawn_app, spawn_on};

/// The demo with a quick follower and heartbeat.
fn with_events(config: &str, extra: &str) -> String {
    config.replacen(
        "[admin]\n",
        &format!("[admin]\nevents_poll_ms = 50\nevents_heartbeat_secs = 1\n{extra}"),
        1,
    )
}

/// One event of a stream.
#[derive(Debug)]
struct Sent {
    event: String,
    id: Option<i64>,
    data: Json,
}

/// An open stream, read as a client does.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, headers: &[(&str, &str)]) -> Result<Stream, (u16, Json)> {
        // No overall timeout: the stream is read for as long as a test wants.
        let client = reqwest::Client::new();
        let mut request = client.get(format!("{}/_events", app.api));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 200 {
            return Err((status, response.json().await.unwrap_or(Json::Null)));
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "the stream's type"
        );
        Ok(Stream {
            response,
            buffer: String::new(),
        })
    }

    /// The next event (comments and `retry:` skipped), or `None` when the stream ended or
    /// nothing came within `within`.
    async fn next(&mut self, within: Duration) -> Option<Sent> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim());
                    }
                }
                if let Some(event) = event {
                    let data = serde_json::from_str(&data).unwrap_or(Json::Null);
                    return Some(Sent { event, id, data });
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next change, failing the test if none comes within 5 s.
    async fn change(&mut self) -> Sent {
        let sent = self.next(Duration::from_secs(5)).await.expect("an event");
        assert_eq!(sent.event, "change", "{sent:?}");
        sent
    }

    /// The id of the `ready` event a new stream starts with.
    async fn ready(&mut self) -> i64 {
        let sent = self.next(Duration::from_secs(5)).await.expect("ready");
        assert_eq!(sent.event, "ready", "{sent:?}");
        sent.id.expect("ready has an id")
    }

    /// Whether the server ended the stream within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Two instances of `config` over one database of the blog, and a stream open on the second.
async fn two_instances(backend: Backend, config: &str) -> Option<(TestApp, TestApp, Stream)> {
    let app = spawn_app(backend, &[backend.blog_schema()], config).await?;
    let other = spawn_on(app.db.shared(), |builder| {
        builder.config_toml(config, "test.toml")
    })
    .await;
    let mut stream = Stream::open(&other, &[]).await.unwrap();
    stream.ready().await;
    Some((app, other, stream))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every write is an event `{entity, id, action, version, by, at, request}` for each user who
/// may view its entity, in the order of the log, and for no one else.
pub async fn every_write_is_an_event_for_its_viewers(backend: Backend) {
    let config = with_events(&secured_config(), "");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let root = bearer(&token(&app, "root").await);
    let ed = bearer(&token(&app, "ed").await);
    let mut roots = Stream::open(&app, &[("Authorization", &root)])
        .await
        .unwrap();
    let mut eds = Stream::open(&app, &[("Authorization", &ed)]).await.unwrap();
    let start = roots.ready().await;
    assert_eq!(eds.ready().await, start, "one position for every stream");
    let send = |method: reqwest::Method, path: &str, body: Option<Json>, request: &str| {
        let mut call = app
            .client
            .request(method, format!("{}{path}", app.api))
            .header("Authorization", &root)
            .header("X-Request-Id", request);
        if let Some(body) = body {
            call = call.json(&body);
        }
        call.send()
    };
    let author = send(
        reqwest::Method::POST,
        "/authors",
        Some(json!({"name": "Ann", "email": "ann@example.com"})),
        "make-author",
    )
    .await
    .unwrap();
    assert_eq!(author.status(), 201);
    let author = author.json::<Json>().await.unwrap()["id"].clone();
    let post = send(
        reqwest::Method::POST,
        "/posts",
        Some(json!({"title": "Live", "author_id": author})),
        "make-post",
    )
    .await
    .unwrap();
    assert_eq!(post.status(), 201);
    let post = post.json::<Json>().await.unwrap()["id"].clone();
    let comment = send(
        reqwest::Method::POST,
        "/comments",
        Some(json!({"post_id": post, "author_name": "Bo", "body": "Hi"})),
        "make-comment",
    )
    .await
    .unwrap();
    assert_eq!(comment.status(), 201, "{:?}", comment.text().await);
    let path = format!("/posts/{post}");
    let updated = send(
        reqwest::Method::PATCH,
        &path,
        Some(json!({"title": "Live, edited"})),
        "edit-post",
    );
    assert_eq!(updated.await.unwrap().status(), 200);

    // The admin sees all four, in order, each after the one before.
    let mut last = start;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let sent = roots.change().await;
        let id = sent.id.expect("a change has an id");
        assert!(id > last, "ids grow: {id} after {last}");
        last = id;
        seen.push(sent.data);
    }
    assert_eq!(
        seen.iter()
            .map(|d| (d["entity"].as_str().unwrap(), d["action"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [
            ("authors", "create"),
            ("posts", "create"),
            ("comments", "create"),
            ("posts", "update")
        ]
    );
    let edit = &seen[3];
    assert_eq!(edit["id"], post, "the key, typed as the entity's");
    assert_eq!(edit["by"], "root");
    assert_eq!(edit["request"], "edit-post");
    assert_eq!(
        edit["version"],
        Json::Null,
        "the demo's posts have no version_field"
    );
    assert!(
        edit["at"].as_str().is_some_and(|at| at.len() >= 19),
        "{edit}"
    );
    // The editor may not view comments: three events, the comment's left out.
    let mut editor_saw = Vec::new();
    for _ in 0..3 {
        let sent = eds.change().await;
        editor_saw.push(sent.data["request"].as_str().unwrap().to_owned());
    }
    assert_eq!(editor_saw, ["make-author", "make-post", "edit-post"]);
    assert!(eds.next(Duration::from_millis(300)).await.is_none());
    // A refused write is no event.
    let refused = send(reqwest::Method::POST, "/posts", Some(json!({})), "refused");
    assert_eq!(refused.await.unwrap().status(), 422);
    let deleted = send(reqwest::Method::DELETE, &path, None, "delete-post");
    assert_eq!(deleted.await.unwrap().status(), 200);
    let sent = roots.change().await;
    assert_eq!(sent.data["request"], "delete-post");
    assert_eq!(sent.data["action"], "delete");
}

/// A stream opened with the last id a client saw is sent what it missed, from the log, then
/// goes on live without sending any twice; a client too far behind is told to reload.
pub async fn a_stream_resumes_from_the_log(backend: Backend) {
    let config = with_events(autoadmin::demo::CONFIG, "");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let mut first = Stream::open(&app, &[]).await.unwrap();
    let seen = first.ready().await;
    drop(first);
    let author = app.an_author().await;
    let mut made = Vec::new();
    for n in 0..3 {
        let post = app
            .create(
                "posts",
                json!({"title": format!("Missed {n}"), "author_id": author}),
            )
            .await;
        made.push(post["id"].clone());
    }
    let seen = seen.to_string();
    let mut again = Stream::open(&app, &[("Last-Event-ID", &seen)])
        .await
        .unwrap();
    let mut replayed = Vec::new();
    let mut replayed_last = None;
    // The author, then the three posts, then `ready`.
    for _ in 0..4 {
        let sent = again.change().await;
        replayed_last = sent.id;
        replayed.push(sent.data);
    }
    assert_eq!(replayed[0]["entity"], "authors");
    let posts: Vec<Json> = replayed[1..].iter().map(|d| d["id"].clone()).collect();
    assert_eq!(posts, made);
    let now = again.ready().await;
    assert_eq!(
        Some(now),
        replayed_last,
        "ready says where the replay ended"
    );
    let live = app
        .create("posts", json!({"title": "Live", "author_id": author}))
        .await;
    let sent = again.change().await;
    assert_eq!(sent.data["id"], live["id"]);
    assert!(
        again.next(Duration::from_millis(300)).await.is_none(),
        "nothing twice"
    );

    // Malformed: the documented error.
    for bad in ["x", "-1", "1.5", "99999999999999999999"] {
        let (status, body) = Stream::open(&app, &[("Last-Event-ID", bad)])
            .await
            .err()
            .unwrap();
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["code"], "bad_request", "{body}");
    }
    // More than a thousand changes missed: `reset`.
    let mut rows = Vec::new();
    for n in 0..1001 {
        rows.push(format!("('2026-01-01 00:00:00', 'posts', '{n}', 'update')"));
    }
    app.db
        .execute(&format!(
            "INSERT INTO autoadmin_audit (at, entity, record_id, action) VALUES {}",
            rows.join(", ")
        ))
        .await;
    let mut behind = Stream::open(&app, &[("Last-Event-ID", &seen)])
        .await
        .unwrap();
    let sent = behind.next(Duration::from_secs(5)).await.expect("reset");
    assert_eq!(sent.event, "reset");
    assert!(sent.id.unwrap() > seen.parse::<i64>().unwrap());
}

/// A write made through one instance reaches the streams of another over the same database
/// (each follows the log).
pub async fn a_write_on_one_instance_reaches_streams_on_another(backend: Backend) {
    let config = with_events(autoadmin::demo::CONFIG, "");
    let Some((app, other, mut stream)) = two_instances(backend, &config).await else {
        return;
    };
    let author = app.an_author().await;
    let sent = stream.change().await;
    assert_eq!(sent.data["entity"], "authors");
    assert_eq!(sent.data["id"], author);
    // Writes at once from both instances: each stream sees all of them, once.
    let writes = (0..10).map(|n| {
        let on = if n % 2 == 0 { &app } else { &other };
        on.post(
            "/posts",
            json!({"title": format!("Both {n}"), "author_id": author}),
        )
    });
    for reply in futures_util::future::join_all(writes).await {
        assert_eq!(reply.status, 201);
    }
    let mut here = Stream::open(&app, &[("Last-Event-ID", &sent.id.unwrap().to_string())])
        .await
        .unwrap();
    for (stream, resumed) in [(&mut stream, false), (&mut here, true)] {
        let mut ids = Vec::new();
        for _ in 0..10 {
            ids.push(stream.change().await.data["id"].as_i64().unwrap());
        }
        if resumed {
            stream.ready().await;
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10);
        assert!(stream.next(Duration::from_millis(300)).await.is_none());
    }
}

/// `max_event_streams` bounds the streams (one more is 503, the place comes back when a
/// client goes); 0 turns live updates off (404).
pub async fn streams_are_bounded_and_can_be_off(backend: Backend) {
    let config = with_events(autoadmin::demo::CONFIG, "max_event_streams = 1\n");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let mut one = Stream::open(&app, &[]).await.unwrap();
    one.ready().await;
    let (status, body) = Stream::open(&app, &[]).await.err().unwrap();
    assert_eq!(status, 503);
    assert_eq!(body["code"], "unavailable");
    drop(one);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(stream) = Stream::open(&app, &[]).await {
            again = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "the place comes back when the client goes");
    let off = with_events(autoadmin::demo::CONFIG, "max_event_streams = 0\n");
    let other = spawn_on(app.db.shared(), |builder| {
        builder.config_toml(&off, "test.toml")
    })
    .await;
    let (status, body) = Stream::open(&other, &[]).await.err().unwrap();
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("off"), "{body}");
}

/// A stream ends when its session does (within a heartbeat and the revocation delay), and the
/// reconnection is refused; every stream ends when the server shuts down, which does not wait
/// for them.
pub async fn streams_end_with_their_session_and_at_shutdown(backend: Backend) {
    let config = with_events(&secured_config(), "");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let (status, _) = Stream::open(&app, &[]).await.err().unwrap();
    assert_eq!(status, 401, "no stream without a session");
    let rita = bearer(&token(&app, "rita").await);
    let mut stream = Stream::open(&app, &[("Authorization", &rita)])
        .await
        .unwrap();
    stream.ready().await;
    let logout = app
        .client
        .post(format!("{}/logout", app.api))
        .header("Authorization", &rita)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert!(stream.ends_within(Duration::from_secs(5)).await);
    let (status, _) = Stream::open(&app, &[("Authorization", &rita)])
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401);

    let root = bearer(&token(&app, "root").await);
    let mut stream = Stream::open(&app, &[("Authorization", &root)])
        .await
        .unwrap();
    stream.ready().await;
    let started = Instant::now();
    app.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown waited {:?} for a stream",
        started.elapsed()
    );
    assert!(stream.ends_within(Duration::from_secs(1)).await);
}

/// On PostgreSQL a commit through one instance wakes the followers of the others at once
/// (its `NOTIFY` after the commit, their `LISTEN` on a connection of their own), not at their
/// next poll; elsewhere the poll finds it.
pub async fn a_commit_is_notified_on_postgres(backend: Backend) {
    let config =
        autoadmin::demo::CONFIG.replacen("[admin]\n", "[admin]\nevents_poll_ms = 60000\n", 1);
    let Some((app, _other, mut stream)) = two_instances(backend, &config).await else {
        return;
    };
    let started = Instant::now();
    let author = app.an_author().await;
    let sent = stream.next(Duration::from_secs(3)).await;
    if backend == Backend::Postgres && !app.db.behind_pooler() {
        let sent = sent.expect("notified");
        assert_eq!(sent.data["id"], author);
        assert!(started.elapsed() < Duration::from_secs(3));
    } else {
        assert!(
            sent.is_none(),
            "no notification here: the next poll finds it"
        );
    }
}

/// `watch_external = true` on PostgreSQL: writes made straight to the database are audited as
/// autoadmin audits its own (the changed fields of an update, a password never) and reach the
/// streams; autoadmin's own writes are audited once. Elsewhere the key changes nothing.
pub async fn writes_outside_autoadmin_are_seen_on_postgres(backend: Backend) {
    const ACCOUNTS: &str = r#"
[[entity]]
name = "accounts"
  [[entity.field]]
  name = "id"
  type = "integer"
  read_only = true
  [[entity.field]]
  name = "login"
  type = "string"
  column = "user_name"
  [[entity.field]]
  name = "secret"
  type = "password"
"#;
    let config = format!(
        "{}{ACCOUNTS}",
        with_events(autoadmin::demo::CONFIG, "watch_external = true\n")
    );
    let id = backend.key_types().0;
    let table =
        format!("CREATE TABLE accounts (id {id}, user_name VARCHAR(40), secret VARCHAR(200))");
    let Some(app) = spawn_app(backend, &[backend.blog_schema(), &table], &config).await else {
        return;
    };
    let mut stream = Stream::open(&app, &[]).await.unwrap();
    stream.ready().await;
    let made = app
        .create("accounts", json!({"login": "ann", "secret": "s3cret-pass"}))
        .await;
    assert_eq!(stream.change().await.data["id"], made["id"]);
    app.db
        .execute("INSERT INTO accounts (user_name, secret) VALUES ('bob', 'hunter2')")
        .await;
    app.db
        .execute("UPDATE accounts SET user_name = 'anne', secret = 'other' WHERE user_name = 'ann'")
        .await;
    app.db
        .execute("UPDATE accounts SET user_name = user_name")
        .await;
    app.db
        .execute("DELETE FROM accounts WHERE user_name = 'bob'")
        .await;
    let app = &app;
    let audited = |filter: Json| async move {
        let rows = app.filtered("_audit", &filter).await;
        rows.into_iter()
            .map(|row| {
                (
                    row["action"].clone(),
                    row["actor"].clone(),
                    row["before"].clone(),
                    row["after"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    if backend != Backend::Postgres {
        assert!(stream.next(Duration::from_millis(500)).await.is_none());
        assert_eq!(audited(json!({"entity": "accounts"})).await.len(), 1);
        return;
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let sent = stream.change().await;
        seen.push((sent.data["action"].clone(), sent.data["by"].clone()));
    }
    let outside = json!("postgres (outside autoadmin)");
    assert_eq!(
        seen,
        [
            (json!("create"), outside.clone()),
            (json!("update"), outside.clone()),
            (json!("delete"), outside.clone())
        ],
        "the no-op update is no change"
    );
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
    let ann = audited(json!({"entity": "accounts", "record_id": made["id"].to_string()})).await;
    assert_eq!(
        ann.len(),
        2,
        "autoadmin's create once, the outside update once: {ann:?}"
    );
    let update = ann.iter().find(|row| row.0 == "update").unwrap();
    assert_eq!(update.1, outside);
    assert_eq!(
        update.2,
        json!({"login": "ann"}),
        "field names, changed fields"
    );
    assert_eq!(
        update.3,
        json!({"login": "anne", "secret": "(changed)"}),
        "never a password"
    );
    let everything = audited(json!({"entity": "accounts"})).await;
    let text = serde_json::to_string(&everything).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("other\""),
        "{text}"
    );
}

/// Who has a record open: each form says so (`PUT /_presence/{entity}/{id}/{viewer}`) and
/// learns the others, through any instance; a closed form is gone; the path's parts are
/// checked; a user who may not view the entity is told nothing.
pub async fn who_has_a_record_open(backend: Backend) {
    let config = with_events(&secured_config(), "");
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let other = spawn_on(app.db.shared(), |builder| {
        builder.config_toml(&config, "test.toml")
    })
    .await;
    let root = bearer(&token(&app, "root").await);
    let ed = bearer(&token(&app, "ed").await);
    let call = |on: &TestApp, method: reqwest::Method, path: &str, who: &str| {
        on.client
            .request(method, format!("{}{path}", on.api))
            .header("Authorization", who)
            .send()
    };
    let (a, b, c) = ("a".repeat(32), "b".repeat(32), "c".repeat(32));
    let open = |on: &TestApp, who: &str, viewer: &str| {
        call(
            on,
            reqwest::Method::PUT,
            &format!("/_presence/posts/7/{viewer}"),
            who,
        )
    };
    let others = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        let body: Json = response.json().await.unwrap();
        body["others"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["user"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        others(open(&app, &root, &a).await.unwrap()).await,
        Vec::<Json>::new()
    );
    // Through the other instance, ed sees root; root's second tab sees both.
    assert_eq!(
        others(open(&other, &ed, &b).await.unwrap()).await,
        [json!("root")]
    );
    let mut both = others(open(&app, &root, &c).await.unwrap()).await;
    both.sort_by_key(|v| v.to_string());
    assert_eq!(both, [json!("ed"), json!("root")]);
    // Another record is another matter.
    let elsewhere = call(
        &app,
        reqwest::Method::PUT,
        &format!("/_presence/posts/8/{a}"),
        &root,
    );
    assert_eq!(others(elsewhere.await.unwrap()).await, Vec::<Json>::new());
    // Closed: gone.
    let closed = call(
        &other,
        reqwest::Method::DELETE,
        &format!("/_presence/posts/7/{b}"),
        &ed,
    );
    assert_eq!(closed.await.unwrap().status(), 200);
    assert_eq!(
        others(open(&app, &root, &a).await.unwrap()).await,
        [json!("root")]
    );
    // The path's parts, and who may ask.
    for (path, status) in [
        (format!("/_presence/posts/7/xyz{}", "0".repeat(20)), 400),
        (format!("/_presence/posts/7/{}", "0".repeat(15)), 400),
        (format!("/_presence/posts/{}/{a}", "9".repeat(201)), 400),
        (format!("/_presence/nothing/7/{a}"), 404),
        (format!("/_presence/comments/7/{a}"), 404),
    ] {
        let response = call(&app, reqwest::Method::PUT, &path, &ed).await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let body: Json = response.json().await.unwrap();
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    let anonymous = app
        .client
        .put(format!("{}/_presence/posts/7/{a}", app.api))
        .send();
    assert_eq!(anonymous.await.unwrap().status(), 401);
}
