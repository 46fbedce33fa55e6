//! Overload control over a real socket on every backend: with one place and no queue, a
//! burst of list requests gets only answers (200, or 503 with `Retry-After` in the error
//! shape, never anything else), health and the OpenAPI document keep answering meanwhile,
//! and every write that was answered 201 is in the database.

use serde_json::{Value as Json, json};

use crate::common::{Backend, spawn_app};

pub async fn a_burst_beyond_the_places_is_refused_fast_and_cleanly(backend: Backend) {
    burst(
        backend,
        "max_in_flight = 1\nadaptive_admission = false\nmax_queued = 0\nadmission_wait_ms = 0",
    )
    .await;
}

/// The same with the limit that follows the database: it starts low and shrinks as the
/// burst slows requests down, and every answer is still a whole one.
pub async fn an_adaptive_limit_refuses_as_cleanly(backend: Backend) {
    burst(
        backend,
        "adaptive_admission = true\nmax_queued = 0\nadmission_wait_ms = 0",
    )
    .await;
}

async fn burst(backend: Backend, limits: &str) {
    let config = autoadmin::demo::CONFIG.replacen(
        "base_path = \"/admin\"",
        &format!("base_path = \"/admin\"\n{limits}"),
        1,
    );
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let author = app.author_with_posts(0, |_| String::new()).await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        let (client, api) = (app.client.clone(), app.api.clone());
        let author = author["id"].clone();
        tasks.push(tokio::spawn(async move {
            let request = match i % 4 {
                0 => client.get(format!("{api}/health")),
                1 => client.get(format!("{api}/openapi.json")),
                2 => client
                    .post(format!("{api}/posts"))
                    .json(&json!({"title": format!("Post {i}"), "author_id": author})),
                _ => client.get(format!("{api}/posts?_page=1&_perPage=50")),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Json = response.json().await.unwrap_or(Json::Null);
            (i % 4, status, retry_after, body)
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        let (kind, status, retry_after, body) = task.await.unwrap();
        match (kind, status) {
            // Health and the document are never admitted or refused: they answer.
            (0 | 1, 200) => {}
            (2, 201) => created.push(body["id"].clone()),
            (3, 200) => {}
            (2 | 3, 503) => {
                assert_eq!(retry_after.as_deref(), Some("1"));
                assert_eq!(body["code"], "unavailable", "{body}");
                assert!(body["request_id"].is_string());
            }
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    // What was acknowledged is stored, and nothing else.
    let stored = app.get("/posts?_page=1&_perPage=1000").await;
    let mut ids: Vec<Json> = stored
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    ids.sort_by_key(|id| id.as_i64());
    created.sort_by_key(|id| id.as_i64());
    assert_eq!(ids, created);
}
