//! Field permissions on every backend: a field a role hides is in no response, export,
//! document or audit value its users get, and a filter, sort or search on it is refused or
//! finds nothing; a field a role may only read is refused (403, naming it) when a write
//! would change it; what such a user deletes keeps its hidden values in the audit log, and
//! comes back whole.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::auth::as_user;
use crate::common::{Backend, spawn_app};

/// The users of the auth tests (root: admin, …) and sue, a support agent (authors' email
/// and birth date hidden, a post's status read-only), and tim, for whom tags' names are
/// hidden.
fn config() -> String {
    let hash = autoadmin::auth::builtin::hash_password;
    format!(
        r#"{auth}
  [[auth.role]]
  name = "support"
  permissions = {{ authors = {{ actions = ["view", "add", "edit", "delete"], fields = {{ email = "hidden", birth_date = "hidden" }} }}, posts = {{ actions = ["view", "add", "edit"], fields = {{ status = "read_only" }} }}, comments = {{ actions = ["view", "add", "edit", "delete"], fields = {{ author_name = "hidden" }} }}, tags = {{ actions = ["view"], fields = {{ name = "read_only" }} }}, _audit = ["view"] }}

  [[auth.role]]
  name = "tagless"
  permissions = {{ posts = ["view"], tags = {{ actions = ["view"], fields = {{ name = "hidden" }} }} }}

  [[auth.role]]
  name = "moderator"
  permissions = {{ posts = ["view", "edit"], comments = {{ actions = ["view", "add", "edit", "delete"], fields = {{ body = "read_only" }} }} }}

  [[auth.user]]
  name = "sue"
  role = "support"
  password_hash = "{sue}"

  [[auth.user]]
  name = "mo"
  role = "moderator"
  password_hash = "{mo}"

  [[auth.user]]
  name = "tim"
  role = "tagless"
  password_hash = "{tim}"
"#,
        auth = crate::auth::config(),
        sue = hash("sue-pass"),
        mo = hash("mo-pass"),
        tim = hash("tim-pass"),
    )
}

/// The config.json entry of `entity`.
fn entity_config<'a>(config: &'a Json, entity: &str) -> &'a Json {
    config["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == entity)
        .unwrap_or_else(|| panic!("no {entity} in {config}"))
}

fn assert_forbidden_field(status: u16, body: &Json, field: &str) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden", "{body}");
    assert_eq!(body["errors"][field], "is read-only for you", "{body}");
}

pub async fn hidden_fields_are_nowhere_for_their_users(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = as_user(&app, "root").await;
    let sue = as_user(&app, "sue").await;
    let author = json!({"name": "Ada Secret", "email": "ada.secret@example.com", "birth_date": "1815-12-10", "bio": "counts"});
    let (status, ada) = root.call(Method::POST, "/authors", Some(author)).await;
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_i64().unwrap();
    assert_eq!(ada["email"], "ada.secret@example.com");

    // Responses: one record, a list, both dialects' exports.
    let (status, seen) = sue.get(&format!("/authors/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(seen["name"], "Ada Secret");
    assert_eq!(seen["bio"], "counts");
    assert!(
        seen.get("email").is_none() && seen.get("birth_date").is_none(),
        "{seen}"
    );
    let (status, list) = sue.get("/authors?_perPage=100").await;
    assert_eq!(status, 200);
    let text = list.to_string();
    assert!(
        text.contains("Ada Secret") && !text.contains("ada.secret"),
        "{text}"
    );
    let (status, csv) = sue.get("/authors/export.csv").await;
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_owned();
    assert!(csv.contains("Ada Secret"), "{csv}");
    assert!(
        !csv.contains("ada.secret") && !csv.to_lowercase().contains("email"),
        "{csv}"
    );
    let (_, root_csv) = root.get("/authors/export.csv").await;
    assert!(root_csv.as_str().unwrap().contains("ada.secret"));

    // A filter or sort on it is refused as on a field that does not exist; a search does
    // not look in it.
    for path in [
        "/authors?_filters=%7B%22email%22%3A%22ada.secret%40example.com%22%7D",
        "/authors?_sortField=email",
        "/authors?sort=%5B%22birth_date%22%2C%22ASC%22%5D",
        "/authors?filter=%7B%22email%22%3A%22x%22%7D",
        "/authors/aggregate?group_by=birth_date",
    ] {
        let (status, body) = sue.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], "bad_request", "{path}: {body}");
        let (unknown_status, unknown) = sue
            .get(
                &path
                    .replace("email", "nothing")
                    .replace("birth_date", "nothing"),
            )
            .await;
        assert_eq!(unknown_status, 400, "{path}");
        assert_eq!(
            body["message"]
                .as_str()
                .unwrap()
                .replace("email", "nothing")
                .replace("birth_date", "nothing"),
            unknown["message"].as_str().unwrap(),
            "{path}: a hidden field answers as one that does not exist"
        );
    }
    let (status, found) = sue.get("/authors?q=ada.secret").await;
    assert_eq!(status, 200);
    assert_eq!(found, json!([]), "a search finds nothing by a hidden value");
    let (_, found) = root.get("/authors?q=ada.secret").await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    // Writing it is as writing a field that does not exist; nothing changes.
    let (status, body) = sue
        .call(
            Method::PATCH,
            &format!("/authors/{id}"),
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (_, stored) = root.get(&format!("/authors/{id}")).await;
    assert_eq!(stored["email"], "ada.secret@example.com");
    let (status, updated) = sue
        .call(
            Method::PATCH,
            &format!("/authors/{id}"),
            Some(json!({"bio": "computes"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(updated.get("email").is_none());
    let (_, stored) = root.get(&format!("/authors/{id}")).await;
    assert_eq!(stored["email"], "ada.secret@example.com");
    assert_eq!(stored["bio"], "computes");

    // The app's config and the OpenAPI document do not name it.
    let (_, config) = sue.get("config.json").await;
    let text = entity_config(&config, "authors").to_string();
    assert!(
        !text.contains("\"email\"") && !text.contains("birth_date"),
        "{text}"
    );
    let (_, document) = sue.get("/openapi.json").await;
    let text = document.to_string();
    assert!(
        !text.contains("birth_date"),
        "the document names a hidden field"
    );
    let (_, document) = root.get("/openapi.json").await;
    assert!(document.to_string().contains("birth_date"));

    // The audit log shows who did what to which record, without values.
    let (status, log) = sue.get("/_audit?_perPage=100").await;
    assert_eq!(status, 200);
    assert!(!log.as_array().unwrap().is_empty());
    assert!(!log.to_string().contains("ada.secret"), "{log}");
    let (_, log) = root.get("/_audit?_perPage=100").await;
    assert!(log.to_string().contains("ada.secret"));

    // A delete by such a user keeps every value in the log, and a restore brings them back.
    let (status, deleted) = sue
        .call(Method::DELETE, &format!("/authors/{id}"), None)
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted.get("email").is_none(), "{deleted}");
    let (_, log) = root
        .get(&format!("/_audit?_filters=%7B%22entity%22%3A%22authors%22%2C%22record_id%22%3A%22{id}%22%2C%22action%22%3A%22delete%22%7D"))
        .await;
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(
        entry["before"]["email"], "ada.secret@example.com",
        "{entry}"
    );
    assert_eq!(entry["before"]["birth_date"], "1815-12-10", "{entry}");
    let (status, restored) = sue
        .call(
            Method::POST,
            &format!("/_audit/{}/restore", entry["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    assert!(!restored.to_string().contains("ada.secret"), "{restored}");
    let (status, back) = root.get(&format!("/authors/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(back["email"], "ada.secret@example.com");
    assert_eq!(back["birth_date"], "1815-12-10");
    app.stop().await.unwrap();
}

pub async fn read_only_fields_refuse_a_change(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = as_user(&app, "root").await;
    let sue = as_user(&app, "sue").await;
    let (_, author) = root
        .call(
            Method::POST,
            "/authors",
            Some(json!({"name": "Bo", "email": "bo@example.com"})),
        )
        .await;
    let post = |title: &str, status: &str| json!({"title": title, "author_id": author["id"], "status": status});
    let (status, first) = root
        .call(Method::POST, "/posts", Some(post("One", "published")))
        .await;
    assert_eq!(status, 201, "{first}");
    let (_, second) = root
        .call(Method::POST, "/posts", Some(post("Two", "published")))
        .await;
    let (one, two) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );

    // Shown, and read-only in the app's config.
    let (_, seen) = sue.get(&format!("/posts/{one}")).await;
    assert_eq!(seen["status"], "published");
    let (_, config) = sue.get("config.json").await;
    let status_field = entity_config(&config, "posts")["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "status")
        .unwrap();
    assert_eq!(status_field["read_only"], true);

    // A change is refused, naming the field, whatever the route; nothing is written.
    let (status, body) = sue
        .call(
            Method::PATCH,
            &format!("/posts/{one}"),
            Some(json!({"status": "archived", "title": "One!"})),
        )
        .await;
    assert_forbidden_field(status, &body, "status");
    let mut whole = seen.clone();
    whole["status"] = json!("draft");
    let (status, body) = sue
        .call(Method::PUT, &format!("/posts/{one}"), Some(whole))
        .await;
    assert_forbidden_field(status, &body, "status");
    let (status, body) = sue
        .call(
            Method::PATCH,
            &format!("/posts?ids=[{one},{two}]"),
            Some(json!({"status": "archived"})),
        )
        .await;
    assert_forbidden_field(status, &body, "status");
    let (status, body) = sue
        .call(Method::POST, "/posts", Some(post("Three", "archived")))
        .await;
    assert_forbidden_field(status, &body, "status");
    for id in [one, two] {
        let (_, stored) = root.get(&format!("/posts/{id}")).await;
        assert_eq!(stored["status"], "published");
    }
    assert_eq!(app.db.count("posts").await, 2);

    // The value as stored may be sent back (a client that sends the whole record), and a
    // create without it takes the default.
    let mut whole = seen.clone();
    whole["title"] = json!("One, again");
    let (status, updated) = sue
        .call(Method::PUT, &format!("/posts/{one}"), Some(whole))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["title"], "One, again");
    assert_eq!(updated["status"], "published");
    let (status, created) = sue
        .call(
            Method::POST,
            "/posts",
            Some(json!({"title": "Three", "author_id": author["id"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "draft");

    // An import's rows that would change it are the rows' errors.
    let csv = format!("title,author_id,status\nFour,{},archived\n", author["id"]);
    let response = app
        .client
        .post(format!("{}/posts/import", app.api))
        .bearer_auth(&sue.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let report: Json = response.json().await.unwrap();
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["report"]["errors"][0]["field"], "status", "{report}");
    assert_eq!(
        report["report"]["errors"][0]["message"], "is read-only for you",
        "{report}"
    );
    assert_eq!(app.db.count("posts").await, 3);
    app.stop().await.unwrap();
}

pub async fn hidden_values_survive_inline_writes_and_labels_hide_them(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = as_user(&app, "root").await;
    let sue = as_user(&app, "sue").await;
    let tim = as_user(&app, "tim").await;
    let (_, author) = root
        .call(
            Method::POST,
            "/authors",
            Some(json!({"name": "Cy", "email": "cy@example.com"})),
        )
        .await;
    let (_, tag) = root
        .call(Method::POST, "/tags", Some(json!({"name": "secret-tag"})))
        .await;
    let body = json!({
        "title": "With comments", "author_id": author["id"], "tags": [tag["id"]],
        "comments": [
            {"author_name": "Private Person", "body": "first"},
            {"author_name": "Other Person", "body": "second"},
        ],
    });
    let (status, post) = root.call(Method::POST, "/posts", Some(body)).await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_i64().unwrap();
    let comments = post["comments"].as_array().unwrap();
    let (first, second) = (comments[0]["id"].clone(), comments[1]["id"].clone());

    // Sue sees the children without the hidden field; her write keeps one (changed) and
    // leaves the other out, which is deleted.
    let (_, seen) = sue.get(&format!("/posts/{id}")).await;
    assert!(!seen.to_string().contains("Person"), "{seen}");
    let keep = json!({"comments": [{"id": first, "body": "first, edited"}]});
    let (status, updated) = sue
        .call(Method::PATCH, &format!("/posts/{id}"), Some(keep))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(!updated.to_string().contains("Person"), "{updated}");
    let (_, kept) = root.get(&format!("/comments/{first}")).await;
    assert_eq!(kept["author_name"], "Private Person");
    assert_eq!(kept["body"], "first, edited");
    let (status, _) = root.get(&format!("/comments/{second}")).await;
    assert_eq!(status, 404);
    // The log keeps the deleted child whole, so a restore brings it back whole.
    let filter = format!(
        "%7B%22entity%22%3A%22comments%22%2C%22record_id%22%3A%22{second}%22%2C%22action%22%3A%22delete%22%7D"
    );
    let (_, log) = root.get(&format!("/_audit?_filters={filter}")).await;
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(entry["before"]["author_name"], "Other Person", "{entry}");

    // A many-to-many relation that displays a field hidden from the user shows keys.
    let (_, csv) = tim.get("/posts/export.csv").await;
    let csv = csv.as_str().unwrap().to_owned();
    assert!(
        csv.contains("With comments") && !csv.contains("secret-tag"),
        "{csv}"
    );
    let (_, csv) = root.get("/posts/export.csv").await;
    assert!(csv.as_str().unwrap().contains("secret-tag"));
    let (_, config) = tim.get("config.json").await;
    let posts = entity_config(&config, "posts");
    assert_eq!(posts["sets"][0]["name"], "tags");
    assert_eq!(posts["sets"][0]["display"], Json::Null, "{posts}");
    // A field read-only for the user may be read, and named in a filter.
    let (status, tags) = sue
        .get("/tags?_filters=%7B%22name%22%3A%22secret-tag%22%7D")
        .await;
    assert_eq!(status, 200);
    assert_eq!(tags.as_array().unwrap().len(), 1);
    app.stop().await.unwrap();
}

pub async fn read_only_fields_of_inline_children_refuse_a_change(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = as_user(&app, "root").await;
    let mo = as_user(&app, "mo").await;
    let (_, author) = root
        .call(
            Method::POST,
            "/authors",
            Some(json!({"name": "Di", "email": "di@example.com"})),
        )
        .await;
    let body = json!({"title": "Talked about", "author_id": author["id"],
        "comments": [{"author_name": "x", "body": "as written"}]});
    let (status, post) = root.call(Method::POST, "/posts", Some(body)).await;
    assert_eq!(status, 201, "{post}");
    let comment = post["comments"][0]["id"].clone();
    let path = format!("/posts/{}", post["id"]);
    let changed = json!({"comments": [{"id": comment, "body": "rewritten"}]});
    let (status, answer) = mo.call(Method::PATCH, &path, Some(changed)).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["code"], "forbidden");
    assert_eq!(
        answer["errors"]["comments.0.body"], "is read-only for you",
        "{answer}"
    );
    let (_, stored) = root.get(&format!("/comments/{comment}")).await;
    assert_eq!(stored["body"], "as written");
    // Sent back as stored, with another change: written.
    let same = json!({"title": "Talked about, again", "comments": [{"id": comment, "body": "as written"}]});
    let (status, answer) = mo.call(Method::PATCH, &path, Some(same)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["title"], "Talked about, again");
    app.stop().await.unwrap();
}
