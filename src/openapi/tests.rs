//! The document of the demo's blog: schemas with their rules, and every list parameter.

use super::*;

#[test]
fn documents_the_blog() {
    let config = crate::config::load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let doc = document(&config.schema, "Blog", "/admin/api");
    assert_eq!(doc["openapi"], "3.1.0");
    let create = &doc["components"]["schemas"]["PostsCreate"];
    assert_eq!(create["required"], json!(["title", "author_id"]));
    assert_eq!(create["properties"]["title"]["maxLength"], 200);
    assert_eq!(
        create["properties"]["rating"]["type"],
        json!(["string", "number", "null"])
    );
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
    for parameter in PARAMETERS {
        assert!(
            list.contains(&parameter.name.to_owned()),
            "{}",
            parameter.name
        );
    }
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
    let doc = document(&schema, "Blog", "/admin/api");
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
