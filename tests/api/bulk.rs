//! Bulk updates, `PATCH /{entity}?ids=[…]`: one transaction, all or nothing, every record
//! validated and audited as a PATCH of it would be.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, blog_app, urlencode};

/// The demo's blog with two authors, three tags and four posts; returns the post ids.
async fn blog(backend: Backend) -> Option<(TestApp, Vec<i64>, Vec<i64>, Vec<i64>)> {
    let app = blog_app(backend).await?;
    let mut authors = Vec::new();
    for (name, email) in [("Ann", "ann@example.com"), ("Bob", "bob@example.com")] {
        let author = app
            .create("authors", json!({"name": name, "email": email}))
            .await;
        authors.push(author["id"].as_i64().unwrap());
    }
    let mut tags = Vec::new();
    for name in ["rust", "sql", "web"] {
        tags.push(
            app.create("tags", json!({"name": name})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut posts = Vec::new();
    for i in 0..4 {
        let post = app
            .create(
                "posts",
                json!({"title": format!("Post {i}"), "author_id": authors[0], "views": i, "tags": [tags[0]]}),
            )
            .await;
        posts.push(post["id"].as_i64().unwrap());
    }
    Some((app, authors, tags, posts))
}

fn ids(keys: &[i64]) -> String {
    urlencode(&serde_json::to_string(keys).unwrap())
}

async fn statuses(app: &TestApp, posts: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in posts {
        let post = app.get(&format!("/posts/{id}")).await.body;
        out.push(post["status"].as_str().unwrap().to_owned());
    }
    out
}

async fn update_audits(app: &TestApp) -> Vec<Json> {
    let filter = urlencode(r#"{"entity":"posts","action":"update"}"#);
    let reply = app
        .get(&format!("/_audit?_sortField=id&_filters={filter}"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body.as_array().unwrap().clone()
}

pub async fn sets_fields_of_every_record(backend: Backend) {
    let Some((app, authors, tags, posts)) = blog(backend).await else {
        return;
    };
    let chosen = [posts[2], posts[0], posts[1]];
    let reply = app
        .patch(
            &format!("/posts?ids={}", ids(&chosen)),
            json!({"status": "archived", "author_id": authors[1], "tags": [tags[2], tags[1]]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let records = reply.body.as_array().unwrap();
    // The records as stored, in the order of ids.
    let answered: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(answered, chosen);
    for record in records {
        assert_eq!(record["status"], "archived");
        assert_eq!(record["author_id"], authors[1]);
        assert_eq!(record["tags"], json!([tags[1], tags[2]]));
    }
    // Stored, and only for those.
    assert_eq!(
        statuses(&app, &posts).await,
        ["archived", "archived", "archived", "draft"]
    );
    assert_eq!(
        app.get(&format!("/posts/{}", posts[3])).await.body["tags"],
        json!([tags[0]])
    );
    // Audited per record, in one request.
    let audits = update_audits(&app).await;
    assert_eq!(audits.len(), 3, "{audits:?}");
    let mut audited: Vec<String> = audits
        .iter()
        .map(|a| a["record_id"].as_str().unwrap().to_owned())
        .collect();
    audited.sort();
    let mut expected: Vec<String> = chosen.iter().map(i64::to_string).collect();
    expected.sort();
    assert_eq!(audited, expected);
    assert!(
        audits
            .iter()
            .all(|a| a["request_id"] == audits[0]["request_id"])
    );
    assert_eq!(audits[0]["before"]["status"], "draft");
    assert_eq!(audits[0]["after"]["status"], "archived");

    // The same again changes nothing and audits nothing.
    let reply = app
        .patch(
            &format!("/posts?ids={}", ids(&chosen)),
            json!({"status": "archived"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(update_audits(&app).await.len(), 3);
    // An empty batch writes nothing.
    let reply = app
        .patch(
            &format!("/posts?ids={}", ids(&[])),
            json!({"status": "draft"}),
        )
        .await;
    assert_eq!((reply.status, reply.body.clone()), (200, json!([])));
}

pub async fn is_all_or_nothing(backend: Backend) {
    let Some((app, authors, _, posts)) = blog(backend).await else {
        return;
    };
    let path = format!("/posts?ids={}", ids(&posts));
    // Invalid for every record: each error names its record.
    let reply = app
        .patch(&path, json!({"views": -1, "status": "nope"}))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let errors = reply.body["errors"].as_object().unwrap();
    assert_eq!(errors.len(), 2 * posts.len(), "{errors:?}");
    for id in &posts {
        assert_eq!(errors[&format!("{id}.views")], "must be at least 0");
        assert!(errors.contains_key(&format!("{id}.status")));
        // Beside each message, its code and parameters, for a client's own words.
        let codes = &reply.body["error_codes"];
        assert_eq!(
            codes[format!("{id}.views")],
            json!({"code": "too_small", "min": 0})
        );
        assert_eq!(
            codes[format!("{id}.status")],
            json!({"code": "one_of", "choices": ["draft", "published", "archived"]})
        );
    }
    // A reference that does not exist: 409 at the field, nothing written.
    let reply = app
        .patch(&path, json!({"status": "published", "author_id": 999_999}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(statuses(&app, &posts).await, ["draft"; 4]);
    // A unique value given to two records: the second fails, the first is rolled back.
    let path = format!("/authors?ids={}", ids(&authors));
    let reply = app.patch(&path, json!({"email": "same@example.com"})).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    for (id, email) in authors.iter().zip(["ann@example.com", "bob@example.com"]) {
        assert_eq!(
            app.get(&format!("/authors/{id}")).await.body["email"],
            email
        );
    }
    // A missing record: 404 naming it, nothing written.
    let reply = app
        .patch(
            &format!("/posts?ids={}", ids(&[posts[0], 999_999])),
            json!({"status": "published"}),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(
        reply.body["message"].as_str().unwrap().contains("999999"),
        "{}",
        reply.body
    );
    assert_eq!(statuses(&app, &posts).await, ["draft"; 4]);
    assert!(update_audits(&app).await.is_empty());
}

pub async fn checks_versions_and_refuses_bad_requests(backend: Backend) {
    let Some((app, _, _, posts)) = blog(backend).await else {
        return;
    };
    let etag = |reply: &crate::common::Reply| reply.header("etag").unwrap().to_owned();
    let first = etag(&app.get(&format!("/posts/{}", posts[0])).await);
    let second = etag(&app.get(&format!("/posts/{}", posts[1])).await);
    app.patch(&format!("/posts/{}", posts[1]), json!({"views": 50}))
        .await;
    // One version is stale: 412 with that record as it is now; nothing written.
    let versions =
        urlencode(&json!({posts[0].to_string(): first, posts[1].to_string(): second}).to_string());
    let pair = ids(&posts[..2]);
    let reply = app
        .patch(
            &format!("/posts?ids={pair}&versions={versions}"),
            json!({"status": "published"}),
        )
        .await;
    assert_eq!(reply.status, 412, "{}", reply.body);
    assert_eq!(statuses(&app, &posts[..2]).await, ["draft", "draft"]);
    // With the current versions it goes through.
    let now = etag(&app.get(&format!("/posts/{}", posts[1])).await);
    let versions =
        urlencode(&json!({posts[0].to_string(): first, posts[1].to_string(): now}).to_string());
    let reply = app
        .patch(
            &format!("/posts?ids={pair}&versions={versions}"),
            json!({"status": "published"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let cases: [(&str, Json, u16); 9] = [
        ("/posts?ids=nope", json!({"status": "draft"}), 400),
        // A batch of no records still refuses a body that none could take.
        ("/posts?ids=", json!({"": {}}), 400),
        ("/posts?ids=[]", json!({"status": "gone"}), 422),
        ("/posts?ids=[]", json!({"title": 5}), 422),
        ("/posts", json!({"status": "draft"}), 400),
        ("/posts?ids=[1]&page=2", json!({"status": "draft"}), 400),
        (&format!("/posts?ids={pair}"), json!({"nope": 1}), 400),
        (&format!("/posts?ids={pair}"), json!({"comments": []}), 400),
        (
            &format!("/posts?ids={pair}"),
            json!(["not", "an", "object"]),
            400,
        ),
    ];
    for (path, body, status) in cases {
        let reply = app.patch(path, body.clone()).await;
        assert_eq!(reply.status, status, "{path} {body}: {}", reply.body);
        assert!(reply.body["message"].is_string(), "{}", reply.body);
    }
    let reply = app.patch("/posts?ids=", json!({"status": "draft"})).await;
    assert_eq!((reply.status, reply.body.clone()), (200, json!([])));
    let reply = app
        .request(
            reqwest::Method::PATCH,
            "/_audit?ids=[1]",
            Some(&json!({"actor": "x"})),
        )
        .await;
    assert_eq!(reply.status, 405, "{}", reply.body);
    let reply = crate::common::conditional(
        &app,
        reqwest::Method::PATCH,
        &format!("/posts?ids={pair}"),
        "*",
        Some(json!({"status": "draft"})),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
}
