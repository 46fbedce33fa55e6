//! Row permissions on every backend: a role's `where` (with the user's attributes) keeps its
//! users to their rows through every route and every list dialect. A row outside is as if it
//! did not exist (404, never counted, exported, aggregated or named by a cursor); a write
//! that would put a row outside is 403 naming the scope's field, and changes nothing.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::auth::{Call, as_user};
use crate::common::{Backend, spawn_app};

/// The auth tests' users, and amy, who reaches the posts of author 1 and the comments signed
/// with her name.
fn config() -> String {
    format!(
        r#"{auth}
  [[auth.role]]
  name = "own_posts"
  permissions = {{ posts = {{ actions = ["view", "add", "edit", "delete"], where = {{ author_id = "$user.author" }} }}, comments = {{ actions = ["view"], where = {{ author_name = "$user.name" }} }}, authors = ["view"], _audit = ["view"] }}

  [[auth.user]]
  name = "amy"
  role = "own_posts"
  attributes = {{ author = 1 }}
  password_hash = "{amy}"
"#,
        auth = crate::auth::config(),
        amy = autoadmin::auth::builtin::hash_password("amy-pass"),
    )
}

/// Two authors (1 and 2), three posts each, and a comment by amy and one by someone else on
/// author 2's first post; answers the posts' ids, author 1's first.
async fn seed(root: &Call<'_>) -> (Vec<i64>, Vec<i64>) {
    let mut posts = (Vec::new(), Vec::new());
    for (author, name) in [(1, "Ann"), (2, "Bob")] {
        let body = json!({"name": name, "email": format!("{name}@example.com")});
        let (status, created) = root.call(Method::POST, "/authors", Some(body)).await;
        assert_eq!(
            (status, created["id"].as_i64()),
            (201, Some(author)),
            "{created}"
        );
        for n in 1..=3 {
            let body = json!({"title": format!("{name}'s post {n}"), "author_id": author, "views": n * 10});
            let (status, post) = root.call(Method::POST, "/posts", Some(body)).await;
            assert_eq!(status, 201, "{post}");
            let id = post["id"].as_i64().unwrap();
            if author == 1 {
                posts.0.push(id)
            } else {
                posts.1.push(id)
            }
        }
    }
    for author_name in ["amy", "zed"] {
        let body = json!({"post_id": posts.1[0], "author_name": author_name, "body": "hi"});
        let (status, comment) = root.call(Method::POST, "/comments", Some(body)).await;
        assert_eq!(status, 201, "{comment}");
    }
    posts
}

async fn titles(amy: &Call<'_>, path: &str) -> Vec<String> {
    let (status, body) = amy.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("{path}: {body}"))
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub async fn a_scope_keeps_its_users_to_their_rows(backend: Backend) {
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config()).await else {
        return;
    };
    let root = as_user(&app, "root").await;
    let amy = as_user(&app, "amy").await;
    let (own, others) = seed(&root).await;

    // Lists in every dialect: her rows only, whatever they ask.
    let mine = titles(&amy, "/posts?_sortField=id").await;
    assert_eq!(mine, ["Ann's post 1", "Ann's post 2", "Ann's post 3"]);
    for path in [
        "/posts?_filters=%7B%22author_id%22%3A2%7D",
        "/posts?filter=%7B%22author_id%22%3A2%7D",
        "/posts?_sort=id&author_id=2",
        "/posts?q=Bob",
        "/posts?_filters=%7B%22author_id%22%3A%7B%22in%22%3A%5B1%2C2%5D%7D%2C%22views%22%3A%7B%22gte%22%3A30%7D%7D",
    ] {
        let found = titles(&amy, path).await;
        assert!(
            found.iter().all(|t| t.starts_with("Ann")),
            "{path}: {found:?}"
        );
    }
    let (_, _, body) = amy
        .send(Method::GET, "/posts?_page=1&_perPage=2", None, None)
        .await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    let total = app
        .client
        .get(format!("{}/posts?_page=1&_perPage=2", app.api))
        .bearer_auth(&amy.token)
        .send()
        .await
        .unwrap();
    assert_eq!(total.headers()["x-total-count"], "3");
    // A cursor from another user's page positions; it reaches nothing more.
    let (_, all) = root.get("/posts?_perPage=2&_sortField=id").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let cursor = root.next_cursor("/posts?_perPage=2&_sortField=id").await;
    let after = titles(
        &amy,
        &format!("/posts?_perPage=10&_sortField=id&_cursor={cursor}"),
    )
    .await;
    assert_eq!(after, ["Ann's post 3"]);
    // Exports and aggregates count her rows alone.
    let (_, csv) = amy.get("/posts/export.csv").await;
    let csv = csv.as_str().unwrap().to_owned();
    assert!(
        csv.contains("Ann's post 1") && !csv.contains("Bob"),
        "{csv}"
    );
    let (_, groups) = amy.get("/posts/aggregate?group_by=author_id").await;
    assert_eq!(groups, json!([{"key": 1, "value": 3}]));
    // `$user.name`: the comments signed with her name.
    let (_, comments) = amy.get("/comments").await;
    let signed: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author_name"].as_str().unwrap())
        .collect();
    assert_eq!(signed, ["amy"]);

    // Another's row: 404 by id, through every route, and nothing changes.
    let other = others[0];
    for (method, path, body) in [
        (Method::GET, format!("/posts/{other}"), None),
        (
            Method::PATCH,
            format!("/posts/{other}"),
            Some(json!({"title": "mine now"})),
        ),
        (
            Method::PUT,
            format!("/posts/{other}"),
            Some(json!({"title": "mine now", "author_id": 1})),
        ),
        (Method::DELETE, format!("/posts/{other}"), None),
        (Method::GET, format!("/posts/{other}/dependents"), None),
        (
            Method::GET,
            format!("/posts/dependents?ids=[{},{other}]", own[0]),
            None,
        ),
        (
            Method::DELETE,
            format!("/posts?ids=[{},{other}]", own[0]),
            None,
        ),
        (
            Method::PATCH,
            format!("/posts?ids=[{},{other}]", own[0]),
            Some(json!({"views": 99})),
        ),
        (
            Method::POST,
            format!("/posts/actions/archive?ids=[{other}]"),
            None,
        ),
    ] {
        let (status, body) = amy.call(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["code"], "not_found");
    }
    let (_, stored) = root.get(&format!("/posts/{other}")).await;
    assert_eq!(stored["title"], "Bob's post 1");
    assert_eq!(app.db.count("posts").await, 6);
    let (_, first) = root.get(&format!("/posts/{}", own[0])).await;
    assert_eq!(
        first["views"], 10,
        "a batch with another's row changed none"
    );

    // A write that would put a row outside: 403 naming the field; nothing written.
    let (status, body) = amy
        .call(
            Method::POST,
            "/posts",
            Some(json!({"title": "As Bob", "author_id": 2})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["errors"]["author_id"]
            .as_str()
            .unwrap()
            .contains("outside"),
        "{body}"
    );
    assert_eq!(app.db.count("posts").await, 6);
    let (status, body) = amy
        .call(
            Method::PATCH,
            &format!("/posts/{}", own[0]),
            Some(json!({"author_id": 2})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (_, stored) = root.get(&format!("/posts/{}", own[0])).await;
    assert_eq!(stored["author_id"], 1);
    let (status, body) = amy
        .call(
            Method::PATCH,
            &format!("/posts?ids=[{}]", own[0]),
            Some(json!({"author_id": 2})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // Inside: as for anyone.
    let (status, created) = amy
        .call(
            Method::POST,
            "/posts",
            Some(json!({"title": "Ann's fourth", "author_id": 1})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = amy
        .call(Method::DELETE, &format!("/posts/{}", created["id"]), None)
        .await;
    assert_eq!(status, 200);

    // An import: its rows outside are the rows' errors; the rest goes in with `skip`.
    let csv = "title,author_id\nAnn's import,1\nBob's import,2\n";
    let response = app
        .client
        .post(format!("{}/posts/import?on_error=skip", app.api))
        .bearer_auth(&amy.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let report: Json = response.json().await.unwrap();
    assert_eq!(report["inserted"], 1, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(report["errors"][0]["row"], 3, "{report}");
    assert_eq!(report["errors"][0]["field"], "author_id", "{report}");
    assert_eq!(app.db.count("posts").await, 7);

    // The log: who did what, without values (they are of every row); no restore.
    let (_, log) = amy.get("/_audit?_perPage=200").await;
    assert!(!log.to_string().contains("Bob's post"), "{log}");
    let (_, deleted) = root
        .get("/_audit?_filters=%7B%22action%22%3A%22delete%22%7D")
        .await;
    let entry = deleted[0]["id"].clone();
    let (status, body) = amy
        .call(Method::POST, &format!("/_audit/{entry}/restore"), None)
        .await;
    assert_eq!(status, 403, "{body}");
    app.stop().await.unwrap();
}

pub async fn a_missing_attribute_is_a_config_error(backend: Backend) {
    let config = config().replace("  attributes = { author = 1 }\n", "");
    let Some(db) = crate::common::TestDb::create(backend).await else {
        return;
    };
    db.execute(backend.blog_schema()).await;
    let built = autoadmin::Admin::builder()
        .database_url(&db.admin_url)
        .config_toml(&config, "team.toml")
        .build()
        .await;
    let error = built.err().expect("the config is refused").to_string();
    assert!(
        error.contains("user \"amy\"") && error.contains("\"author\""),
        "{error}"
    );
}
