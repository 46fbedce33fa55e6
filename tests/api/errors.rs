//! Every kind of bad input gets a 4xx in the documented shape, never a 500, and changes
//! nothing.

use reqwest::Method;
use serde_json::json;

use crate::common::{Backend, blog_app, spawn_app};

/// (method, path, content type, body) → (status, code, message).
struct Case {
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    status: u16,
    code: &'static str,
    message: &'static str,
}

fn case(
    method: Method,
    path: &'static str,
    status: u16,
    code: &'static str,
    message: &'static str,
) -> Case {
    Case {
        method,
        path,
        content_type: None,
        body: "",
        status,
        code,
        message,
    }
}

fn with_body(mut c: Case, content_type: &'static str, body: &'static str) -> Case {
    c.content_type = Some(content_type);
    c.body = body;
    c
}

pub async fn bad_requests_are_4xx_in_the_error_shape(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    let post = app
        .create("posts", json!({"title": "Kept", "author_id": author["id"]}))
        .await;
    assert_eq!(post["id"], 1, "fresh database");
    use Method as M;
    let json_type = "application/json";
    let cases = [
        // Routing
        case(M::GET, "/nope", 404, "not_found", "unknown entity \"nope\""),
        case(
            M::GET,
            "/nope/1",
            404,
            "not_found",
            "unknown entity \"nope\"",
        ),
        case(
            M::GET,
            "/posts/1/comments",
            404,
            "not_found",
            "no route for /admin/api/posts/1/comments",
        ),
        case(
            M::POST,
            "/posts/1",
            405,
            "method_not_allowed",
            "method not allowed on this route",
        ),
        case(
            M::DELETE,
            "/posts",
            400,
            "bad_request",
            "a batch delete needs ids=[...] (to delete one record: DELETE /{entity}/{id})",
        ),
        case(
            M::PUT,
            "/posts",
            405,
            "method_not_allowed",
            "method not allowed on this route",
        ),
        // Ids
        case(
            M::GET,
            "/posts/abc",
            400,
            "bad_request",
            "id \"abc\" of entity \"posts\" is not an integer",
        ),
        case(
            M::GET,
            "/posts/1.5",
            400,
            "bad_request",
            "id \"1.5\" of entity \"posts\" is not an integer",
        ),
        case(
            M::GET,
            "/posts/99999999999999999999",
            400,
            "bad_request",
            "id \"99999999999999999999\" of entity \"posts\" is not an integer",
        ),
        case(
            M::GET,
            "/posts/12345",
            404,
            "not_found",
            "no record of \"posts\" has id \"12345\"",
        ),
        case(
            M::DELETE,
            "/posts/12345",
            404,
            "not_found",
            "no record of \"posts\" has id \"12345\"",
        ),
        with_body(
            case(
                M::PUT,
                "/posts/12345",
                404,
                "not_found",
                "no record of \"posts\" has id \"12345\"",
            ),
            json_type,
            "{\"title\":\"x\"}",
        ),
        with_body(
            case(
                M::PUT,
                "/posts/x",
                400,
                "bad_request",
                "id \"x\" of entity \"posts\" is not an integer",
            ),
            json_type,
            "{}",
        ),
        // List parameters
        case(
            M::GET,
            "/posts?_page=0",
            400,
            "bad_request",
            "query parameter \"_page\" must be a whole number from 1, not \"0\"",
        ),
        case(
            M::GET,
            "/posts?_perPage=-5",
            400,
            "bad_request",
            "query parameter \"_perPage\" must be a whole number from 1, not \"-5\"",
        ),
        case(
            M::GET,
            "/posts?_sortField=emial",
            400,
            "bad_request",
            "unknown field \"emial\" in sort of entity \"posts\"",
        ),
        case(
            M::GET,
            "/posts?_sortField=title&_sortDir=UP",
            400,
            "bad_request",
            "query parameter \"_sortDir\" must be ASC or DESC, not \"UP\"",
        ),
        case(
            M::GET,
            "/posts?_filters=%7Bbad",
            400,
            "bad_request",
            "query parameter \"_filters\" is not valid JSON: key must be a string at line 1 column 2",
        ),
        case(
            M::GET,
            "/posts?_filters=%5B%5D",
            400,
            "bad_request",
            "query parameter \"_filters\" must be a JSON object of field: condition",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22nope%22%3A1%7D",
            400,
            "bad_request",
            "unknown field \"nope\" in filter of entity \"posts\"",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22views%22%3A%7B%22near%22%3A1%7D%7D",
            400,
            "bad_request",
            "unknown operator \"near\" for field \"views\" (operators: eq ne lt lte gt gte in nin is_null)",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22views%22%3A%22many%22%7D",
            400,
            "bad_request",
            "filter value for field \"views\" must be an integer",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22published_at%22%3A%7B%22gt%22%3A%22yesterday%22%7D%7D",
            400,
            "bad_request",
            "filter value for field \"published_at\" must be a date and time (RFC 3339, e.g. 2024-05-01T12:00:00Z)",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22status%22%3A%22gone%22%7D",
            400,
            "bad_request",
            "filter value for field \"status\" must be one of: draft, published, archived",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22views%22%3A%7B%22like%22%3A%221%22%7D%7D",
            400,
            "bad_request",
            "operator \"like\" does not apply to integer field \"views\"",
        ),
        case(
            M::GET,
            "/posts?_filters=%7B%22rating%22%3A%7B%22gt%22%3A%22high%22%7D%7D",
            400,
            "bad_request",
            "filter value for field \"rating\" must be a decimal number",
        ),
        case(
            M::GET,
            "/posts?sorting=title",
            400,
            "bad_request",
            "unknown query parameter \"sorting\"",
        ),
        case(
            M::GET,
            "/posts?_secret=1",
            400,
            "bad_request",
            "unknown query parameter \"_secret\"",
        ),
        case(
            M::GET,
            "/posts?q=a%00b",
            400,
            "bad_request",
            "query parameter \"q\" must not contain the NUL character",
        ),
        case(
            M::GET,
            "/posts?title=a%00b",
            400,
            "bad_request",
            "filter value for field \"title\" must not contain the NUL character",
        ),
        with_body(
            case(
                M::POST,
                "/tags",
                422,
                "validation_failed",
                "1 field is invalid",
            ),
            json_type,
            "{\"name\":\"a\\u0000b\"}",
        ),
        case(
            M::GET,
            "/posts?sort=title",
            400,
            "bad_request",
            "query parameter \"sort\" must be [\"field\", \"ASC\" or \"DESC\"], not \"title\"",
        ),
        case(
            M::GET,
            "/posts?title_like=a&title_like=b",
            400,
            "bad_request",
            "query parameter \"title_like\" is given more than once",
        ),
        case(
            M::GET,
            "/posts?_page=1&_page=2",
            400,
            "bad_request",
            "query parameter \"_page\" is given more than once",
        ),
        case(
            M::GET,
            "/comments?_filters=%7B%22post_id%22%3A%5B1%2C%22x%22%5D%7D",
            400,
            "bad_request",
            "filter value for field \"post_id\" must be an integer",
        ),
        // Bodies
        with_body(
            case(
                M::POST,
                "/posts",
                400,
                "bad_request",
                "the body is not valid JSON: EOF while parsing an object at line 1 column 8",
            ),
            json_type,
            "{\"title\"",
        ),
        with_body(
            case(
                M::POST,
                "/posts",
                400,
                "bad_request",
                "the body must be a JSON object",
            ),
            json_type,
            "[1, 2]",
        ),
        with_body(
            case(
                M::POST,
                "/posts",
                415,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json), not \"text/plain\"",
            ),
            "text/plain",
            "{}",
        ),
        case(
            M::POST,
            "/posts",
            415,
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json), not \"\"",
        ),
        with_body(
            case(
                M::POST,
                "/posts",
                400,
                "bad_request",
                "unknown field(s) in body: \"titel\"",
            ),
            json_type,
            "{\"titel\":\"x\",\"author_id\":1}",
        ),
        with_body(
            case(
                M::PATCH,
                "/posts/1",
                400,
                "bad_request",
                "unknown field(s) in body: \"a\", \"b\"",
            ),
            json_type,
            "{\"a\":1,\"b\":2}",
        ),
        with_body(
            case(
                M::POST,
                "/posts",
                422,
                "validation_failed",
                "5 fields are invalid",
            ),
            json_type,
            "{\"views\":\"many\",\"rating\":\"9\",\"status\":1}",
        ),
        with_body(
            case(
                M::POST,
                "/authors",
                422,
                "validation_failed",
                "2 fields are invalid",
            ),
            json_type,
            "{\"name\":\"x\",\"email\":\"not-an-email\",\"website\":\"nope\"}",
        ),
        with_body(
            case(
                M::POST,
                "/tags",
                422,
                "validation_failed",
                "1 field is invalid",
            ),
            json_type,
            "{\"name\":\"Has Spaces\"}",
        ),
        with_body(
            case(
                M::POST,
                "/posts",
                409,
                "conflict",
                "author_id: the referenced record does not exist",
            ),
            json_type,
            "{\"title\":\"x\",\"author_id\":4242}",
        ),
        with_body(
            case(
                M::POST,
                "/authors",
                409,
                "conflict",
                "email: a record with this value already exists",
            ),
            json_type,
            "{\"name\":\"Dup\",\"email\":\"ann@example.com\"}",
        ),
        case(
            M::DELETE,
            "/authors/1",
            409,
            "conflict",
            "cannot delete: 1 record of posts references this record (by author_id)",
        ),
    ];
    for c in &cases {
        let reply = app
            .send_raw(
                c.method.clone(),
                c.path,
                c.content_type,
                c.body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(
            reply.status, c.status,
            "{} {}: {}",
            c.method, c.path, reply.body
        );
        assert!(
            reply.body.is_object(),
            "{} {}: {:?}",
            c.method,
            c.path,
            reply
        );
        let (code, message) = reply.error();
        assert_eq!(
            (code.as_str(), message.as_str()),
            (c.code, c.message),
            "{} {} {}",
            c.method,
            c.path,
            c.body
        );
    }
    // Nothing was written by any of them.
    assert_eq!(app.db.count("posts").await, 1);
    assert_eq!(app.db.count("authors").await, 1);
    assert_eq!(app.db.count("tags").await, 0);
    assert_eq!(app.get("/posts/1").await.body["title"], "Kept");

    // Every failing field at once, with its message.
    let reply = app
        .post(
            "/posts",
            json!({"views": "many", "rating": "9", "status": 1}),
        )
        .await;
    assert_eq!(
        reply.body["errors"],
        json!({"author_id": "is required", "rating": "must be at most 5", "status": "must be a string",
               "title": "is required", "views": "must be an integer"})
    );
    let reply = app
        .post("/posts", json!({"title": "x", "author_id": 4242}))
        .await;
    assert_eq!(
        reply.body["errors"],
        json!({"author_id": "the referenced record does not exist"})
    );
}

pub async fn oversized_body_is_413(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let body = format!("{{\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let reply = app
        .send_raw(
            Method::POST,
            "/tags",
            Some("application/json"),
            body.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error().0, "payload_too_large");
    assert_eq!(app.db.count("tags").await, 0);
}

const READ_ONLY: &str = r#"
[[entity]]
name = "codes"
primary_key = "code"
read_only = true
  [[entity.field]]
  name = "code"
  type = "string"
  [[entity.field]]
  name = "label"
  type = "string"
"#;

pub async fn read_only_entities_refuse_writes(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], READ_ONLY).await else {
        return;
    };
    app.db
        .execute("INSERT INTO codes (code, label) VALUES ('a', 'A')")
        .await;
    assert_eq!(
        app.get("/codes").await.body,
        json!([{"code": "a", "label": "A"}])
    );
    // RFC 9110: a 405 lists what the resource allows (an action's resource: nothing).
    for (method, path, allow) in [
        (Method::POST, "/codes", "GET, HEAD"),
        (Method::PUT, "/codes/a", "GET, HEAD"),
        (Method::PATCH, "/codes/a", "GET, HEAD"),
        (Method::DELETE, "/codes/a", "GET, HEAD"),
        // Not a write, but the route's other methods are not the entity's either.
        (Method::OPTIONS, "/codes", "GET, HEAD"),
        (Method::OPTIONS, "/codes/a", "GET, HEAD"),
        (Method::POST, "/codes/actions/anything", ""),
    ] {
        let reply = app
            .request(method.clone(), path, Some(&json!({"label": "B"})))
            .await;
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(
            reply.error(),
            (
                "method_not_allowed".to_owned(),
                "entity \"codes\" is read-only".to_owned()
            )
        );
    }
    assert_eq!(
        app.db.scalar("SELECT label FROM codes").await.as_deref(),
        Some("A")
    );
}
