//! Entities declared in Rust, with a typed struct whose `validator` rules run in addition to
//! the field rules; their errors come back in the same per-field shape.

use serde::Deserialize;
use serde_json::json;
use validator::Validate;

use autoadmin::schema::Entity;
use autoadmin::{Field, FieldType};

use crate::common::{Backend, spawn_app_with};

#[derive(Deserialize, Validate)]
#[validate(schema(function = "no_self_promotion"))]
struct Author {
    #[validate(length(min = 2, message = "must have at least 2 characters"))]
    name: String,
    #[validate(contains(pattern = "@example.com", message = "must be an example.com address"))]
    email: String,
    website: Option<String>,
}

fn no_self_promotion(author: &Author) -> Result<(), validator::ValidationError> {
    match &author.website {
        Some(site) if site.contains(&author.name.to_lowercase()) => {
            Err(validator::ValidationError::new("self_promotion")
                .with_message("the website may not contain the name".into()))
        }
        _ => Ok(()),
    }
}

fn authors() -> Entity {
    Entity::new("authors")
        .list_columns(["id", "name"])
        .search(["name"])
        .field(Field::integer("id").read_only())
        .field(Field::string("name").required().max_length(100))
        .field(Field::email("email").required())
        .field(Field::url("website"))
        .field(Field::text("bio"))
        .field(Field::new("active", FieldType::Boolean).default_value(json!(true)))
        .validate_with::<Author>()
}

pub async fn typed_validation_joins_field_rules(backend: Backend) {
    let Some(app) =
        spawn_app_with(backend, &[backend.blog_schema()], |b| b.entity(authors())).await
    else {
        return;
    };
    // Field rules and typed rules together, each failing field once.
    let reply = app
        .post(
            "/authors",
            json!({"name": "A", "email": "a@elsewhere.org", "website": "nope"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["errors"],
        json!({"email": "must be an example.com address", "name": "must have at least 2 characters", "website": "must be a URL"})
    );
    // A struct-level rule reports on the record.
    let reply = app.post("/authors", json!({"name": "Ann", "email": "ann@example.com", "website": "https://ann.example.com"})).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["errors"],
        json!({"_record": "the website may not contain the name"})
    );
    // Valid: stored, with the descriptor default.
    let created = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(created["active"], json!(true));
    // On update the typed rules see the merged record.
    let id = created["id"].as_i64().unwrap();
    let reply = app
        .patch(&format!("/authors/{id}"), json!({"email": "ann@other.org"}))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["errors"],
        json!({"email": "must be an example.com address"})
    );
    let reply = app
        .patch(&format!("/authors/{id}"), json!({"bio": "Writes."}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.db.count("authors").await, 1);
}
