//! `Idempotency-Key` on creates: a create sent again with its key answers the record the
//! first one made, as it is now, and makes nothing; concurrent repeats make one record; a
//! key is its user's and its entity's; a refused create leaves its key free; the key's
//! misuses are 4xx.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::{Backend, Reply, TestApp, blog_app, reply, spawn_app};

/// POST `body` to `/{entity}` with `Idempotency-Key: key` (and `token`, if given).
async fn create_with(
    app: &TestApp,
    entity: &str,
    key: &str,
    token: Option<&str>,
    body: &Json,
) -> Reply {
    let mut request = app
        .client
        .request(Method::POST, format!("{}/{entity}", app.api))
        .header("idempotency-key", key)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    reply(request.send().await.expect("request sent")).await
}

fn replayed(reply: &Reply) -> bool {
    reply.header("idempotent-replayed") == Some("true")
}

pub async fn a_create_sent_again_is_made_once(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app.an_author().await;
    let post = json!({"title": "Once", "author_id": author});
    let first = create_with(&app, "posts", "k-1", None, &post).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(!replayed(&first));
    let id = first.body["id"].as_i64().unwrap();

    // Its answer lost, the client sends it again: the same record, nothing new.
    let again = create_with(&app, "posts", "k-1", None, &post).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    // In quotes (the draft standard's form), the same key.
    let quoted = create_with(&app, "posts", "\"k-1\"", None, &post).await;
    assert_eq!((quoted.status, quoted.body["id"].as_i64()), (201, Some(id)));
    assert_eq!(app.db.count("posts").await, 1);
    let audited = app.filtered("_audit", &json!({"entity": "posts"})).await;
    assert_eq!(audited.len(), 1, "one create audited");

    // Changed since: the record as it is now, with its version now.
    let edited = app
        .patch(&format!("/posts/{id}"), json!({"title": "Edited"}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    let now = create_with(&app, "posts", "k-1", None, &post).await;
    assert_eq!(now.status, 201, "{}", now.body);
    assert_eq!(now.body["title"], "Edited");
    assert_eq!(now.header("etag"), edited.header("etag"));

    // The key with another body: 409, nothing made.
    let other = json!({"title": "Another", "author_id": author});
    let reused = create_with(&app, "posts", "k-1", None, &other).await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    assert_eq!(reused.body["code"], "idempotency_key_reused");
    assert_eq!(app.db.count("posts").await, 1);

    // A key is its entity's: the same text makes a tag.
    let tag = create_with(&app, "tags", "k-1", None, &json!({"name": "t"})).await;
    assert_eq!(tag.status, 201, "{}", tag.body);
    assert!(!replayed(&tag));
    let tag_again = create_with(&app, "tags", "k-1", None, &json!({"name": "t"})).await;
    assert_eq!(tag_again.status, 201, "{}", tag_again.body);
    assert!(replayed(&tag_again));

    // A create refused keeps nothing: its key makes the corrected one.
    let invalid = create_with(&app, "posts", "k-2", None, &json!({"title": ""})).await;
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    let taken = json!({"name": "Ann again", "email": "ann@example.com"});
    let conflict = create_with(&app, "authors", "k-3", None, &taken).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.body["code"], "conflict");
    let fixed = json!({"name": "Bea", "email": "bea@example.com"});
    let made = create_with(&app, "authors", "k-3", None, &fixed).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(!replayed(&made));
    let made = create_with(&app, "posts", "k-2", None, &other).await;
    assert_eq!(made.status, 201, "{}", made.body);

    // Deleted since: 404 saying so.
    assert_eq!(app.delete(&format!("/posts/{id}")).await.status, 200);
    let gone = create_with(&app, "posts", "k-1", None, &post).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(
        gone.body["message"]
            .as_str()
            .unwrap()
            .contains("deleted since"),
        "{}",
        gone.body
    );

    // An expired key is anyone's again.
    app.db
        .execute("UPDATE autoadmin_idempotency SET expires_at = 0")
        .await;
    let fresh = create_with(&app, "posts", "k-1", None, &other).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert!(!replayed(&fresh));
    assert_ne!(fresh.body["id"].as_i64(), Some(id));
    let again = create_with(&app, "posts", "k-1", None, &other).await;
    assert_eq!(again.body["id"], fresh.body["id"]);
    assert!(replayed(&again));
}

pub async fn malformed_keys_are_400(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let tag = json!({"name": "t"});
    for key in [
        "",
        "\"\"",
        "a b",
        "a\"b",
        "\"open",
        "back\\slash",
        &"k".repeat(256),
    ] {
        let refused = create_with(&app, "tags", key, None, &tag).await;
        assert_eq!(refused.status, 400, "{key:?}: {}", refused.body);
        assert_eq!(refused.body["code"], "bad_request");
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{}",
            refused.body
        );
    }
    let twice = app
        .client
        .post(format!("{}/tags", app.api))
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&tag)
        .send()
        .await
        .unwrap();
    let twice = reply(twice).await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    let longest = create_with(&app, "tags", &"k".repeat(255), None, &tag).await;
    assert_eq!(longest.status, 201, "{}", longest.body);
    assert_eq!(app.db.count("tags").await, 1);
}

/// Sent many times at once (a client retrying over several instances), one record: the
/// repeats wait for the first and answer its record; those with another body are 409.
pub async fn concurrent_repeats_make_one_record(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app.an_author().await;
    let post = json!({"title": "Raced", "author_id": author});
    let other = json!({"title": "Other", "author_id": author});
    let app = std::sync::Arc::new(app);
    let sends = (0..16).map(|i| {
        let (app, body) = (app.clone(), if i % 4 == 3 { &other } else { &post }.clone());
        tokio::spawn(async move { create_with(&app, "posts", "race", None, &body).await })
    });
    let replies = futures_util::future::join_all(sends).await;
    let replies: Vec<Reply> = replies.into_iter().map(Result::unwrap).collect();
    assert_eq!(app.db.count("posts").await, 1);
    let made: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        made.iter().filter(|r| !replayed(r)).count(),
        1,
        "one made it"
    );
    let id = &made[0].body["id"];
    assert!(made.iter().all(|r| &r.body["id"] == id));
    let title = made[0].body["title"].clone();
    for reply in &replies {
        match reply.status {
            201 => assert_eq!(reply.body["title"], title),
            409 => assert_eq!(reply.body["code"], "idempotency_key_reused"),
            status => panic!("{status}: {}", reply.body),
        }
    }
    // The winner's body decides: 12 of one and 4 of the other.
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert!(conflicts == 4 || conflicts == 12, "{conflicts}");
}

/// A key is its user's: another user's create with the same text is another create.
pub async fn a_key_is_its_users(backend: Backend) {
    let config = crate::auth::config();
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let root = crate::auth::token(&app, "root").await;
    let ed = crate::auth::token(&app, "ed").await;
    let author = {
        let ann = json!({"name": "Ann", "email": "ann@example.com"});
        let made = create_with(&app, "authors", "a", Some(&root), &ann).await;
        assert_eq!(made.status, 201, "{}", made.body);
        made.body["id"].clone()
    };
    let post = json!({"title": "Mine", "author_id": author});
    let by_root = create_with(&app, "posts", "same", Some(&root), &post).await;
    let by_ed = create_with(&app, "posts", "same", Some(&ed), &post).await;
    assert_eq!((by_root.status, by_ed.status), (201, 201));
    assert!(!replayed(&by_ed));
    assert_ne!(by_root.body["id"], by_ed.body["id"]);
    let again = create_with(&app, "posts", "same", Some(&ed), &post).await;
    assert_eq!(again.body["id"], by_ed.body["id"]);
    assert!(replayed(&again));
    assert_eq!(app.db.count("posts").await, 2);
    // Without the permission, nothing is claimed or answered.
    let rita = crate::auth::token(&app, "rita").await;
    let refused = create_with(&app, "posts", "same", Some(&rita), &post).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}
