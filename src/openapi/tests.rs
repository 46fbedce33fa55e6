//! The document of the demo's blog: schemas with their rules, and every list parameter.

use super::*;
use crate::query::params::PARAMETERS;

const LIMITS: Limits = Limits {
    max_per_page: 1000,
    live_updates: true,
};

#[test]
fn documents_the_blog() {
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let doc = document(&config.schema, "Blog", "/admin/api", Access::Login, LIMITS);
    assert_eq!(doc["openapi"], "3.1.0");
    let create = &doc["components"]["schemas"]["PostsCreate"];
    assert_eq!(create["required"], json!(["title", "author_id"]));
    assert_eq!(create["properties"]["title"]["maxLength"], 200);
    // A rating from 0 to 5: a number within them, a string that is one, or null.
    let rating = &create["properties"]["rating"]["anyOf"];
    assert_eq!(rating[0]["maximum"], json!(5.0));
    let text = regex::Regex::new(rating[1]["pattern"].as_str().unwrap()).unwrap();
    assert!(text.is_match("4.75") && text.is_match("5.0") && text.is_match("0"));
    assert!(!text.is_match("5.5") && !text.is_match("-1") && !text.is_match("12"));
    assert_eq!(rating[2], json!({"type": "null"}));
    assert_eq!(
        create["properties"]["status"]["enum"],
        json!(["draft", "published", "archived"])
    );
    assert_eq!(
        doc["components"]["schemas"]["Authors"]["properties"]["birth_date"]["format"],
        "date"
    );
    assert!(
        doc["paths"]["/posts"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "views_gte")
    );
    assert!(doc["paths"]["/posts/{id}"]["put"].is_object());
    // A many-to-many relation: a list of keys in records, a set to replace in writes, and
    // its filters.
    let tags = &doc["components"]["schemas"]["Posts"]["properties"]["tags"];
    assert_eq!(tags["type"], "array");
    assert_eq!(tags["uniqueItems"], true);
    assert!(
        doc["components"]["schemas"]["Posts"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("tags"))
    );
    assert_eq!(
        create["properties"]["tags"]["type"],
        json!(["array", "null"])
    );
    assert_eq!(create["properties"]["tags"]["items"]["type"], "integer");
    // Inline children: carried by single records (not required: lists leave them out), and
    // written as rows whose key names an existing child.
    let comments = &doc["components"]["schemas"]["Posts"]["properties"]["comments"];
    assert_eq!(comments["type"], "array");
    assert!(comments["items"]["properties"]["author_name"].is_object());
    let update = &doc["components"]["schemas"]["PostsUpdate"]["properties"]["comments"];
    assert_eq!(update["maxItems"], 50);
    assert!(update["items"]["properties"]["id"].is_object());
    assert!(update["items"]["properties"]["body"].is_object());
    assert!(doc["paths"]["/posts/export.csv"]["get"].is_object());
    // Every parameter of the query module's table, the cursor included; an export
    // takes no paging.
    let names = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = names("/posts");
    for parameter in PARAMETERS.iter().filter(|p| p.name != "_cursor") {
        assert!(
            list.contains(&parameter.name.to_owned()),
            "{}",
            parameter.name
        );
    }
    // A cursor is only ever the server's, in a Link header.
    assert!(!list.contains(&"_cursor".to_owned()));
    for operator in [
        "views_lt",
        "views_is_null",
        "title_ilike",
        "status_nin",
        "tags",
        "tags_all",
        "tags_is_empty",
    ] {
        assert!(list.contains(&operator.to_owned()), "{operator}");
    }
    assert!(!list.contains(&"views_like".to_owned()), "like is for text");
    let export = names("/posts/export.csv");
    assert!(!export.contains(&"_cursor".to_owned()));
    assert!(!export.contains(&"_page".to_owned()));
    assert!(export.contains(&"_filters".to_owned()));
}

/// Every `$ref` of the document points at something the document has.
#[test]
fn every_reference_resolves() {
    fn refs(json: &Json, out: &mut Vec<String>) {
        match json {
            Json::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Json::String(target)) => out.push(target.clone()),
                        _ => refs(value, out),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let mut entities = config.schema.entities().to_vec();
    entities.push(crate::db::audit::entity());
    let schema = crate::schema::Schema::new(entities).unwrap();
    let doc = document(&schema, "Blog", "/admin/api", Access::Login, LIMITS);
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50);
    for target in found {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(
            doc.pointer(pointer).is_some(),
            "{target} resolves to nothing"
        );
    }
}

/// Security where it applies: none on an open admin; a bearer token on every route but
/// /health and /login with the built-in login, which the document then has.
#[test]
fn security_only_where_it_applies() {
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let open = document(&config.schema, "Blog", "/a", Access::Open, LIMITS);
    assert!(open.get("security").is_none());
    assert!(open["components"].get("securitySchemes").is_none());
    assert!(open["paths"].get("/login").is_none());
    let login = document(&config.schema, "Blog", "/a", Access::Login, LIMITS);
    assert_eq!(login["security"], json!([{"bearer": []}]));
    assert_eq!(login["paths"]["/health"]["get"]["security"], json!([]));
    assert_eq!(login["paths"]["/login"]["post"]["security"], json!([]));
    assert!(login["paths"]["/logout"]["post"].get("security").is_none());
    // Ending the sessions of a user who is not configured: 404 (found by the coverage phase).
    assert!(login["paths"]["/logout"]["post"]["responses"]["404"].is_object());
    // The login's second step needs no token; setting up a second factor does.
    assert_eq!(
        login["paths"]["/login/second-factor"]["post"]["security"],
        json!([])
    );
    for path in ["/_2fa", "/_2fa/confirm", "/_2fa/recovery-codes"] {
        let operations = login["paths"][path].as_object().unwrap();
        assert!(operations.values().all(|o| o.get("security").is_none()));
    }
    assert!(open["paths"].get("/_2fa").is_none());
    // How to log in is public; single sign-on's addresses only where it is configured.
    assert_eq!(login["paths"]["/login"]["get"]["security"], json!([]));
    assert!(login["paths"].get("/login/oidc").is_none());
    let sso = document(&config.schema, "Blog", "/a", Access::SingleSignOn, LIMITS);
    assert_eq!(sso["security"], json!([{"bearer": []}]));
    for path in ["/login/oidc", "/login/oidc/callback"] {
        assert_eq!(sso["paths"][path]["get"]["security"], json!([]), "{path}");
        assert!(sso["paths"][path]["get"]["responses"]["303"].is_object());
    }
    assert!(sso["paths"]["/_2fa"].is_object() && sso["paths"]["/logout"].is_object());
}

/// The rules JSON Schema can state are in the document: integer ranges, non-blank required
/// text, a batch's ids as JSON, the metrics there are, the count modes an entity allows.
#[test]
fn states_the_rules() {
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let mut entities = config.schema.entities().to_vec();
    entities.push(crate::db::views::entity());
    let schema = crate::schema::Schema::new(entities).unwrap();
    let doc = document(&schema, "Blog", "/a", Access::Open, LIMITS);
    let create = &doc["components"]["schemas"]["PostsCreate"]["properties"];
    assert_eq!(create["views"]["maximum"], json!(i64::MAX));
    let title = create["title"]["pattern"].as_str().unwrap();
    let title = regex::Regex::new(title).unwrap();
    assert!(title.is_match("a"));
    assert!(!title.is_match(" \u{3000}\t"), "blank");
    assert!(!title.is_match("a\0"), "NUL");
    let id = &doc["paths"]["/posts/{id}"]["parameters"][0]["schema"];
    assert_eq!(id["minimum"], json!(i64::MIN));
    let delete = &doc["paths"]["/posts"]["delete"]["parameters"][0];
    assert_eq!(delete["name"], "ids");
    assert_eq!(delete["explode"], false, "ids=1,2");
    assert_eq!(delete["schema"]["type"], "array");
    let aggregate = &doc["paths"]["/posts/aggregate"]["get"]["parameters"];
    let metric = aggregate
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "metric")
        .unwrap();
    assert!(
        metric["schema"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("sum:views"))
    );
    // A bulk update of posts takes no inline comments.
    let bulk = &doc["components"]["schemas"]["PostsBulkUpdate"]["properties"];
    assert!(bulk.get("comments").is_none() && bulk.get("title").is_some());
    // Links lead from a create to the record's get, update and delete, with its version.
    let created = &doc["paths"]["/posts"]["post"]["responses"]["201"]["links"];
    assert_eq!(created["GetRecord"]["operationId"], "get_posts");
    assert_eq!(
        created["UpdateRecord"]["parameters"]["header.If-Match"],
        "$response.header.ETag"
    );
    assert_eq!(
        created["DeleteRecord"]["parameters"]["id"],
        "$response.body#/id"
    );
    // A create takes an Idempotency-Key, and says when it answered a record made before.
    let create = &doc["paths"]["/posts"]["post"];
    assert_eq!(create["parameters"][0]["name"], "Idempotency-Key");
    let responses = &create["responses"];
    assert!(responses["201"]["headers"]["Idempotent-Replayed"].is_object());
    assert!(responses["404"].is_object() && responses["409"]["description"].is_string());
    let codes = &doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"];
    assert!(
        codes
            .as_array()
            .unwrap()
            .contains(&json!("idempotency_key_reused"))
    );
    // A saved view's create (api/views.rs) takes no key: the document does not offer one.
    let view = &doc["paths"]["/_views"]["post"];
    assert!(
        view.is_object() && view.get("parameters").is_none(),
        "{view}"
    );
    let responses = &view["responses"];
    assert!(responses.get("404").is_none() && responses["409"].get("description").is_none());
    assert!(
        responses["201"]["headers"]
            .get("Idempotent-Replayed")
            .is_none()
    );
    // A view's state is that of its entity.
    let views = &doc["components"]["schemas"]["ViewsCreate"];
    assert!(views["oneOf"].as_array().unwrap().len() >= 4);
    // What the server reads, found by schemathesis's coverage phase: a filter's booleans in
    // the forms a body's take (0 and 1 too), decimals below 2^96 (the largest decimal is
    // 2^96 - 1, not the 7.9e28 once stated), and If-Match as any text (a malformed one names
    // no version: 412).
    let filters = &doc["components"]["schemas"];
    let active = &filters["AuthorsFilter"]["properties"]["active_nin"]["items"]["enum"];
    assert!(active.as_array().unwrap().contains(&json!(0)));
    let rating = &filters["PostsFilter"]["properties"]["rating_lt"];
    assert_eq!(rating["exclusiveMaximum"].as_f64(), Some(2f64.powi(96)));
    assert_eq!(
        rust_decimal::Decimal::MAX.to_string(),
        (2u128.pow(96) - 1).to_string()
    );
    let if_match = &doc["paths"]["/posts/{id}"]["delete"]["parameters"][0];
    assert_eq!(if_match["name"], "If-Match");
    assert_eq!(if_match["schema"], json!({"type": "string"}));
}

/// The live updates' stream is documented where it is served: its events as SSE parsers give
/// them, its resume header by the ids it sends.
#[test]
fn live_updates_where_they_are_on() {
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let on = document(&config.schema, "Blog", "/a", Access::Login, LIMITS);
    let get = &on["paths"]["/_events"]["get"];
    let event = &get["responses"]["200"]["content"]["text/event-stream"]["schema"];
    assert_eq!(
        event["properties"]["event"]["enum"],
        json!(["ready", "change", "reset"])
    );
    assert_eq!(get["parameters"][0]["name"], "Last-Event-ID");
    assert!(get["responses"]["404"].is_object() && get["responses"]["503"].is_object());
    let off = Limits {
        live_updates: false,
        ..LIMITS
    };
    let off = document(&config.schema, "Blog", "/a", Access::Login, off);
    assert!(off["paths"].get("/_events").is_none());
}
