//! Saved views (`/_views`) on every backend: each user sees their own and the ones shared
//! with their role or everyone, changes only their own, cannot reach another's through any
//! list dialect, and every state is checked against its entity.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::auth::as_user;
use crate::common::{Backend, TestApp, spawn_app, urlencode};

/// The blog with the users of the auth tests (root: admin, rita: reader, ed: editor) and
/// eve, a second editor.
async fn team(backend: Backend) -> Option<TestApp> {
    let config = format!(
        "{}\n  [[auth.user]]\n  name = \"eve\"\n  role = \"editor\"\n  password_hash = \"{}\"\n",
        crate::auth::config(),
        autoadmin::auth::builtin::hash_password("eve-pass"),
    );
    spawn_app(backend, &[backend.blog_schema()], &config).await
}

fn view(name: &str, shared_with: Option<&str>) -> Json {
    json!({
        "entity": "posts",
        "name": name,
        "shared_with": shared_with,
        "state": {"filter": {"status": "draft"}, "sort": "-published_at", "per_page": 50,
                  "columns": ["title", "status", "tags"], "q": "rust"},
    })
}

pub async fn each_user_sees_their_own_and_shared_ones(backend: Backend) {
    let Some(app) = team(backend).await else {
        return;
    };
    let (ed, eve, rita, root) = (
        as_user(&app, "ed").await,
        as_user(&app, "eve").await,
        as_user(&app, "rita").await,
        as_user(&app, "root").await,
    );
    let (status, mine) = ed.save(view("Mine", None)).await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["owner"], "ed");
    assert_eq!(mine["state"]["columns"], json!(["title", "status", "tags"]));
    assert!(mine["updated_at"].is_string());
    let (status, team_view) = ed.save(view("Team", Some("editor"))).await;
    assert_eq!(status, 201, "{team_view}");
    let (status, _) = ed.save(view("All", Some("*"))).await;
    assert_eq!(status, 201);
    let (status, _) = eve.save(view("Eve's", None)).await;
    assert_eq!(status, 201);
    assert_eq!(app.db.count("autoadmin_views").await, 4);

    assert_eq!(ed.names("").await, ["All", "Mine", "Team"]);
    assert_eq!(eve.names("").await, ["All", "Eve's", "Team"]);
    assert_eq!(rita.names("").await, ["All"]);
    assert_eq!(root.names("").await, ["All"]);
    // No list dialect reaches past the scope: filters only narrow it.
    for query in [
        "?owner=ed".to_owned(),
        format!("?_filters={}", urlencode(r#"{"owner": "ed"}"#)),
        format!("?filter={}", urlencode(r#"{"name": ["Mine", "Eve's"]}"#)),
        format!("?filter={}", urlencode(r#"{"q": "Mine"}"#)),
        "?_start=0&_end=10&_sort=name&name_ne=x".to_owned(),
        "?_page=1&_perPage=100&_count=estimated".to_owned(),
    ] {
        let names = eve.names(&query).await;
        assert!(!names.contains(&"Mine".to_owned()), "{query}: {names:?}");
    }
    assert_eq!(rita.names("?q=team").await, Vec::<String>::new());
    let (status, page) = eve.get("/_views?_page=1&_perPage=1&_sort=name").await;
    assert_eq!((status, page[0]["name"].clone()), (200, json!("All")));

    let mine_id = mine["id"].as_i64().unwrap();
    let team_id = team_view["id"].as_i64().unwrap();
    // Another's view: not there unless shared; shared, readable but not theirs to change.
    assert_eq!(eve.get(&format!("/_views/{mine_id}")).await.0, 404);
    for (method, body) in [
        (Method::PATCH, Some(json!({"name": "Taken"}))),
        (Method::PUT, Some(json!({"name": "Taken"}))),
        (Method::DELETE, None),
    ] {
        let path = format!("/_views/{mine_id}");
        let (status, _, reply) = eve.send(method.clone(), &path, body.clone(), None).await;
        assert_eq!(status, 404, "{method} {reply}");
        let path = format!("/_views/{team_id}");
        let (status, _, reply) = eve.send(method.clone(), &path, body, None).await;
        assert_eq!(status, 403, "{method} {reply}");
        assert_eq!(reply["code"], "forbidden");
    }
    let (status, shared) = eve.get(&format!("/_views/{team_id}")).await;
    assert_eq!((status, shared["owner"].clone()), (200, json!("ed")));
    assert_eq!(ed.names("").await, ["All", "Mine", "Team"]);

    // The owner changes it, with versions.
    let path = format!("/_views/{mine_id}");
    let (status, etag, _) = ed.send(Method::GET, &path, None, None).await;
    assert_eq!(status, 200);
    let etag = etag.unwrap();
    let renamed = json!({"name": "Drafts about Rust"});
    let (status, new_etag, body) = ed
        .send(Method::PATCH, &path, Some(renamed.clone()), Some(&etag))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Drafts about Rust");
    assert_eq!(body["state"]["q"], "rust", "the state is kept");
    assert_ne!(new_etag.as_deref(), Some(etag.as_str()));
    let (status, _, body) = ed
        .send(
            Method::PATCH,
            &path,
            Some(json!({"name": "Again"})),
            Some(&etag),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (412, json!("precondition_failed"))
    );
    // Sending back the record as read is a valid PUT.
    let (_, mut record) = ed.get(&path).await;
    record["shared_with"] = json!("editor");
    record["name"] = json!("Shared now");
    let (status, _, body) = ed.send(Method::PUT, &path, Some(record), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(eve.names("").await, ["All", "Eve's", "Shared now", "Team"]);

    // One name per user and entity.
    let (status, body) = ed.save(view("Team", None)).await;
    assert_eq!(
        (status, body["errors"]["name"].is_string()),
        (409, true),
        "{body}"
    );
    let (status, _) = eve.save(view("Team", None)).await;
    assert_eq!(status, 201, "another user may use the name");

    let (status, _, body) = ed.send(Method::DELETE, &path, None, None).await;
    assert_eq!((status, body["name"].clone()), (200, json!("Shared now")));
    assert_eq!(ed.get(&path).await.0, 404);
    assert_eq!(app.db.count("autoadmin_views").await, 4);
    // A user's views are not in the audit log, which others read.
    let (status, audit) = root.get("/_audit?entity=_views").await;
    assert_eq!((status, audit), (200, json!([])));
}

pub async fn states_are_checked_against_their_entity(backend: Backend) {
    let Some(app) = team(backend).await else {
        return;
    };
    let ed = as_user(&app, "ed").await;
    let invalid = |state: Json| json!({"entity": "posts", "name": "V", "state": state});
    for (body, field) in [
        (invalid(json!({"filter": {"nope": 1}})), "state"),
        (
            invalid(json!({"filter": {"views": {"between": 1}}})),
            "state",
        ),
        (invalid(json!({"filter": [1]})), "state"),
        (invalid(json!({"sort": "-nope"})), "state"),
        (invalid(json!({"sort": 3})), "state"),
        (invalid(json!({"per_page": 0})), "state"),
        (invalid(json!({"per_page": 100_000})), "state"),
        (invalid(json!({"columns": []})), "state"),
        (invalid(json!({"columns": ["title", "title"]})), "state"),
        (invalid(json!({"columns": ["secret"]})), "state"),
        (invalid(json!({"colour": "red"})), "state"),
        (invalid(json!("everything")), "state"),
        (json!({"entity": "posts", "name": "V"}), "state"),
        (json!({"entity": "posts", "state": {}}), "name"),
        (json!({"entity": "posts", "name": "", "state": {}}), "name"),
        (json!({"name": "V", "state": {}}), "entity"),
        (
            json!({"entity": "nothing", "name": "V", "state": {}}),
            "entity",
        ),
        (
            json!({"entity": "_views", "name": "V", "state": {}}),
            "entity",
        ),
        (
            json!({"entity": "posts", "name": "V", "state": {}, "shared_with": 3}),
            "shared_with",
        ),
        (
            json!({"entity": "posts", "name": "V", "state": {}, "owner": "eve"}),
            "owner",
        ),
        (
            json!({"entity": "posts", "name": "V", "state": {}, "id": 7}),
            "id",
        ),
    ] {
        let (status, reply) = ed.save(body.clone()).await;
        assert_eq!(status, 422, "{body} → {reply}");
        assert_eq!(reply["code"], "validation_failed");
        assert!(reply["errors"][field].is_string(), "{body} → {reply}");
    }
    // What ed may not do is 403: a view of what ed's role may not view (the audit log), a
    // view shared with a role that is not ed's.
    for body in [
        json!({"entity": "_audit", "name": "V", "state": {}}),
        json!({"entity": "posts", "name": "V", "state": {}, "shared_with": "reader"}),
    ] {
        let (status, reply) = ed.save(body.clone()).await;
        assert_eq!(status, 403, "{body} → {reply}");
        assert_eq!(reply["code"], "forbidden");
    }
    let (status, reply) = ed
        .save(json!({"entity": "posts", "name": "V", "state": {}, "color": 1}))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(app.db.count("autoadmin_views").await, 0);
    // A state an update would break is refused too; the view stays as it was.
    let (status, saved) = ed.save(view("Fine", None)).await;
    assert_eq!(status, 201);
    let path = format!("/_views/{}", saved["id"]);
    let (status, _, reply) = ed
        .send(
            Method::PATCH,
            &path,
            Some(json!({"entity": "authors"})),
            None,
        )
        .await;
    assert_eq!(status, 422, "the entity without its state: {reply}");
    assert!(reply["errors"]["state"].is_string(), "{reply}");
    let (status, _, reply) = ed
        .send(
            Method::PATCH,
            &path,
            Some(json!({"entity": "authors", "state": {"filter": {"status": "draft"}}})),
            None,
        )
        .await;
    assert_eq!(status, 422, "posts' filter is not one of authors: {reply}");
    assert_eq!(ed.get(&path).await.1["entity"], "posts");
    for bad in ["/_views/abc", "/_views/1.5", "/_views/99999999999999999999"] {
        let (status, reply) = ed.get(bad).await;
        assert_eq!(status, 400, "{bad}: {reply}");
    }
    // Only the views' own routes serve them.
    for (method, path) in [
        (Method::GET, "/_views/export.csv"),
        (Method::GET, "/_views/aggregate?metric=count"),
        (Method::GET, "/_views/1/dependents"),
        (Method::POST, "/_views/1/restore"),
        (Method::DELETE, "/_views?ids=[1]"),
        (Method::PATCH, "/_views?ids=[1]"),
    ] {
        let (status, _, reply) = ed.send(method.clone(), path, Some(json!({})), None).await;
        assert!(
            [400, 404, 405].contains(&status),
            "{method} {path}: {status} {reply}"
        );
    }
    assert_eq!(app.db.count("autoadmin_views").await, 1);

    // The app's configuration: the declared views, the user's roles, no `_views` list.
    let (status, config) = ed.get("config.json").await;
    assert_eq!(status, 200);
    assert_eq!(config["user"]["roles"], json!(["editor"]));
    let entities = config["entities"].as_array().unwrap();
    assert!(entities.iter().all(|e| e["name"] != "_views"));
    let posts = entities.iter().find(|e| e["name"] == "posts").unwrap();
    let declared: Vec<&str> = posts["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(declared.contains(&"Drafts"), "{declared:?}");
}

/// With no authentication, there is one set of views, everyone's.
pub async fn an_open_admin_shares_every_view(backend: Backend) {
    let Some(app) = crate::common::blog_app(backend).await else {
        return;
    };
    let saved = app.post("/_views", view("Open", None)).await;
    assert_eq!(saved.status, 201, "{:?}", saved.body);
    assert_eq!(saved.body["owner"], Json::Null);
    let listed = app.get("/_views").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let path = format!("/_views/{}", saved.body["id"]);
    let changed = app
        .patch(
            &path,
            json!({"entity": "posts", "state": {"sort": "title"}}),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["state"], json!({"sort": "title"}));
    assert_eq!(app.delete(&path).await.status, 200);
}
