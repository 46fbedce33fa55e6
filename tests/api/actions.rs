//! Actions declared in descriptors (`[[entity.action]]`), `POST /{entity}/actions/{name}`:
//! the demo's `publish` sets a status and the time it runs, on one record or a selection, in
//! one transaction, audited with the action as the cause, for users with its permission.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::audit::send;
use crate::auth::{config, token};
use crate::common::{Backend, TestApp, spawn_app, urlencode};

async fn call(app: &TestApp, method: Method, path: &str, bearer: &str) -> (u16, Json) {
    send(app, method, path, bearer, json!({})).await
}

fn ids(keys: &[&Json]) -> String {
    urlencode(&serde_json::to_string(keys).unwrap())
}

pub async fn run_what_the_descriptor_declares(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let (root, ed, rita) = (
        token(&app, "root").await,
        token(&app, "ed").await,
        token(&app, "rita").await,
    );
    let (_, author) = send(
        &app,
        Method::POST,
        "/authors",
        &root,
        json!({"name": "Ann", "email": "ann@example.com"}),
    )
    .await;
    let mut posts = Vec::new();
    for title in ["One", "Two", "Three"] {
        let (status, post) = send(
            &app,
            Method::POST,
            "/posts",
            &root,
            json!({"title": title, "author_id": author["id"]}),
        )
        .await;
        assert_eq!(status, 201, "{post}");
        assert_eq!(post["status"], "draft");
        assert!(post["published_at"].is_null());
        posts.push(post["id"].clone());
    }
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);

    // A reader may not; an editor may (the action needs "edit").
    let path = format!(
        "/posts/actions/publish?ids={}",
        ids(&[&posts[0], &posts[2]])
    );
    let (status, body) = call(&app, Method::POST, &path, &rita).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(&app, Method::POST, &path, &ed).await;
    assert_eq!(status, 200, "{body}");
    let records = body.as_array().unwrap();
    assert_eq!(records.len(), 2);
    for record in records {
        assert_eq!(record["status"], "published");
        let at = record["published_at"].as_str().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert!(
            at >= before && at <= chrono::Utc::now() + chrono::Duration::seconds(2),
            "{at}"
        );
    }
    let (_, untouched) = call(&app, Method::GET, &format!("/posts/{}", posts[1]), &root).await;
    assert_eq!(untouched["status"], "draft");
    // Audited per record, caused by the action, by its user.
    let filter = urlencode(r#"{"entity":"posts","action":"update"}"#);
    let (_, audits) = call(
        &app,
        Method::GET,
        &format!("/_audit?_sortField=id&_filters={filter}"),
        &root,
    )
    .await;
    let audits = audits.as_array().unwrap();
    assert_eq!(audits.len(), 2, "{audits:?}");
    for audit in audits {
        assert_eq!(audit["cause"], "action publish");
        assert_eq!(audit["actor"], "ed");
        assert_eq!(audit["after"]["status"], "published");
    }
    // One record, from its page.
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/posts/actions/archive?ids={}", ids(&[&posts[1]])),
        &ed,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["status"], "archived");

    // Errors: an unknown action or entity, bad ids, a missing record (nothing written).
    let cases = [
        (Method::POST, "/posts/actions/nope?ids=[1]".to_owned(), 404),
        (
            Method::POST,
            "/nope/actions/publish?ids=[1]".to_owned(),
            404,
        ),
        (Method::POST, "/posts/actions/publish".to_owned(), 400),
        (
            Method::POST,
            "/posts/actions/publish?ids=oops".to_owned(),
            400,
        ),
        (
            Method::POST,
            format!(
                "/posts/actions/publish?ids={}",
                ids(&[&posts[1], &json!(999_999)])
            ),
            404,
        ),
        (
            Method::GET,
            "/posts/actions/publish?ids=[1]".to_owned(),
            405,
        ),
    ];
    for (method, path, expected) in cases {
        let (status, body) = call(&app, method.clone(), &path, &root).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (_, still) = call(&app, Method::GET, &format!("/posts/{}", posts[1]), &root).await;
    assert_eq!(still["status"], "archived");
    // The document names each action, and config.json describes them for the app.
    let (_, document) = call(&app, Method::GET, "/openapi.json", &root).await;
    assert!(document["paths"]["/posts/actions/publish"]["post"].is_object());
    // (config.json is beside the API.)
    let (_, config) = call(&app, Method::GET, "/../config.json", &root).await;
    let posts_config = config["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "posts")
        .unwrap();
    assert_eq!(
        posts_config["actions"],
        json!([
            {"name": "publish", "label": "Publish", "confirm": true, "permission": "edit"},
            {"name": "archive", "label": "Archive", "confirm": false, "permission": "edit"},
        ])
    );
}
