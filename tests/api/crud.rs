//! Create, get, PUT, PATCH, DELETE: what the client sees and what the database holds.

use serde_json::json;

use crate::common::{Backend, blog_app, spawn_app};

pub async fn create_get_update_delete(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    let author_id = author["id"].as_i64().unwrap();
    // Defaults: descriptor (active = true) and database (id).
    assert_eq!(author["active"], json!(true));
    assert!(author_id > 0);

    // Create: 201, the stored record with defaults and generated values, a Location.
    let reply = app
        .post(
            "/posts",
            json!({"id": 999, "title": "Hello", "author_id": author_id, "rating": "4.5",
                   "created_at": "1999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let post = reply.body.clone();
    let id = post["id"].as_i64().unwrap();
    assert_ne!(id, 999, "a client-sent generated key is ignored");
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["status"], "draft", "descriptor default");
    assert_eq!(post["views"], 0, "default");
    assert_eq!(
        post["rating"].as_str().map(|r| r.trim_end_matches('0')),
        Some("4.5")
    );
    assert_eq!(post["body"], json!(null));
    let created_at = post["created_at"]
        .as_str()
        .expect("created_at set by the database");
    assert!(
        !created_at.starts_with("1999"),
        "read_only fields are ignored on write"
    );
    let location = reply.header("location").expect("Location").to_owned();
    assert!(
        location.ends_with(&format!("/admin/api/posts/{id}")),
        "{location}"
    );
    let fetched = app
        .client
        .get(format!(
            "{}{}",
            app.api.trim_end_matches("/admin/api"),
            location
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(app.db.count("posts").await, 1);

    // GET
    let reply = app.get(&format!("/posts/{id}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, post);

    // PUT: fields omitted keep their values; the key in the body is ignored.
    let reply = app
        .put(
            &format!("/posts/{id}"),
            json!({"id": 5, "title": "Hello again", "views": 7}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["title"], "Hello again");
    assert_eq!(reply.body["views"], 7);
    assert_eq!(reply.body["status"], "draft");
    assert_eq!(reply.body["author_id"], author_id);
    assert_eq!(
        app.db
            .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
            .await
            .as_deref(),
        Some("Hello again")
    );

    // PATCH is the same.
    let reply = app
        .patch(
            &format!("/posts/{id}"),
            json!({"status": "published", "published_at": "2024-03-01T12:00:00+01:00"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "published");
    assert_eq!(reply.body["published_at"], "2024-03-01T11:00:00Z");
    assert_eq!(reply.body["title"], "Hello again");

    // An update whose merged record breaks a rule is refused, and nothing changes.
    let reply = app
        .put(&format!("/posts/{id}"), json!({"title": "", "views": -1}))
        .await;
    assert_eq!(reply.status, 422);
    let (code, message) = reply.error();
    assert_eq!(code, "validation_failed");
    assert_eq!(message, "2 fields are invalid");
    assert_eq!(
        reply.body["errors"],
        json!({"title": "is required", "views": "must be at least 0"})
    );
    assert_eq!(
        app.db
            .scalar(&format!("SELECT title FROM posts WHERE id = {id}"))
            .await
            .as_deref(),
        Some("Hello again")
    );

    // An empty update changes nothing and returns the record.
    let reply = app.put(&format!("/posts/{id}"), json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["views"], 7);

    // Setting a nullable field to null.
    let reply = app
        .patch(&format!("/posts/{id}"), json!({"rating": null}))
        .await;
    assert_eq!(reply.body["rating"], json!(null));

    // DELETE returns the deleted record; then it is gone.
    let reply = app.delete(&format!("/posts/{id}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["title"], "Hello again");
    assert_eq!(app.db.count("posts").await, 0);
    let reply = app.get(&format!("/posts/{id}")).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.error().1,
        format!("no record of \"posts\" has id \"{id}\"")
    );
    app.stop().await.unwrap();
}

pub async fn delete_accepts_any_body(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(
            app.create("tags", json!({"name": name})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // ng-admin sends `{}` as text/plain; others send nothing or JSON.
    let cases: [(Option<&str>, &[u8]); 3] = [
        (Some("text/plain"), b"{}"),
        (None, b""),
        (Some("application/json"), b"{}"),
    ];
    for (id, (content_type, body)) in ids.iter().zip(cases) {
        let reply = app
            .send_raw(
                reqwest::Method::DELETE,
                &format!("/tags/{id}"),
                content_type,
                body.to_vec(),
            )
            .await;
        assert_eq!(reply.status, 200, "{content_type:?}: {}", reply.body);
    }
    assert_eq!(app.db.count("tags").await, 0);
}

const KEYS: &str = r#"
[[entity]]
name = "tokens"
  [[entity.field]]
  name = "id"
  type = "uuid"
  generated = true
  [[entity.field]]
  name = "label"
  type = "string"
  required = true

[[entity]]
name = "codes"
primary_key = "code"
  [[entity.field]]
  name = "code"
  type = "string"
  max_length = 20
  [[entity.field]]
  name = "label"
  type = "string"
  required = true
"#;

pub async fn uuid_and_text_keys(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KEYS).await else {
        return;
    };
    // A generated uuid key is made by autoadmin (every backend can store it).
    let token = app
        .create("tokens", json!({"id": "ignored", "label": "first"}))
        .await;
    let id = token["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(
        app.get(&format!("/tokens/{id}")).await.body["label"],
        "first"
    );
    let reply = app.get("/tokens/not-a-uuid").await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error().1,
        "id \"not-a-uuid\" of entity \"tokens\" is not a UUID"
    );
    assert_eq!(
        app.get(&format!("/tokens/{}", uuid::Uuid::nil()))
            .await
            .status,
        404
    );

    // A client-chosen text key, with characters that need encoding in a URL.
    let reply = app
        .post("/codes", json!({"code": "a b/c", "label": "spaced"}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with("/codes/a%20b%2Fc")
    );
    let reply = app.get("/codes/a%20b%2Fc").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["label"], "spaced");
    // Keys are immutable through the API.
    let reply = app
        .put(
            "/codes/a%20b%2Fc",
            json!({"code": "other", "label": "renamed"}),
        )
        .await;
    assert_eq!(reply.body["code"], "a b/c");
    assert_eq!(reply.body["label"], "renamed");
    // A non-generated key is required.
    let reply = app.post("/codes", json!({"label": "no key"})).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["errors"], json!({"code": "is required"}));
    // And unique.
    let reply = app
        .post("/codes", json!({"code": "a b/c", "label": "again"}))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.body["errors"],
        json!({"code": "a record with this value already exists"})
    );
}

pub async fn batch_delete_is_all_or_nothing(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let mut tags = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        tags.push(
            app.create("tags", json!({"name": name})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let reply = app
        .delete(&format!("/tags?ids=[{},{}]", tags[0], tags[1]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, json!([tags[0], tags[1]]));
    assert_eq!(app.db.count("tags").await, 3);

    // One missing id: 404 naming it, and nothing deleted.
    let reply = app
        .delete(&format!("/tags?ids=[{},424242,{}]", tags[2], tags[0]))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.error().1,
        format!("no record has id 424242, {}; nothing was written", tags[0])
    );
    assert_eq!(app.db.count("tags").await, 3);

    // Duplicates count once; strings are accepted for integer keys; an empty list is fine.
    let reply = app
        .delete(&format!("/tags?ids=[{0},\"{0}\"]", tags[2]))
        .await;
    assert_eq!(reply.body, json!([tags[2]]));
    assert_eq!(app.delete("/tags?ids=[]").await.body, json!([]));
    assert_eq!(app.db.count("tags").await, 2);

    // A referenced record stops the whole batch.
    let ann = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let bob = app
        .create(
            "authors",
            json!({"name": "Bob", "email": "bob@example.com"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    app.create("posts", json!({"title": "By Ann", "author_id": ann}))
        .await;
    let reply = app.delete(&format!("/authors?ids={bob},{ann}")).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(
        reply.error().1,
        "cannot delete: 1 record of posts references these records (by author_id)"
    );
    assert_eq!(app.db.count("authors").await, 2);

    // Bad requests.
    for (query, message) in [
        (
            "",
            "a batch delete needs ids=[...] (to delete one record: DELETE /{entity}/{id})",
        ),
        // The plain form of a list: ids=1,2.
        (
            "?ids=1,two",
            "id \"two\" of entity \"tags\" is not an integer",
        ),
        (
            "?ids=[{}]",
            "query parameter \"ids\" must be a list of ids, not \"[{}]\"",
        ),
        (
            "?ids=[\"x\"]",
            "id \"x\" of entity \"tags\" is not an integer",
        ),
        (
            "?ids=[1]&ids=x",
            "id \"x\" of entity \"tags\" is not an integer",
        ),
        ("?ids=[1]&force=true", "unknown query parameter \"force\""),
    ] {
        let reply = app.delete(&format!("/tags{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.error().1, message, "{query}");
    }
    assert_eq!(app.db.count("tags").await, 2);
}
