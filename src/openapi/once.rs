//! `Idempotency-Key` on creates (`api/once.rs`): the header a `POST /{entity}` takes, the
//! `Idempotent-Replayed` of its 201 when the key had made the record, the 409 of a key used
//! again with another body, and the 404 of a key whose record was deleted since.

use serde_json::{Map, Value as Json, json};

/// A create's `operation`, with what a key changes.
pub fn described(mut operation: Json) -> Json {
    operation["parameters"] = json!([key_parameter()]);
    if let Some(responses) = operation["responses"].as_object_mut() {
        describe(responses);
    }
    operation
}

/// A create that takes no key (a saved view's, `api/views.rs`): `operation` as it was
/// before [`described`].
pub fn undescribed(operation: &mut Json) {
    if let Some(fields) = operation.as_object_mut() {
        fields.remove("parameters");
    }
    if let Some(responses) = operation["responses"].as_object_mut() {
        responses.remove("404");
        if let Some(headers) = responses
            .get_mut("201")
            .and_then(|created| created["headers"].as_object_mut())
        {
            headers.remove("Idempotent-Replayed");
        }
        if let Some(refused) = responses.get_mut("409").and_then(Json::as_object_mut) {
            refused.remove("description");
        }
    }
}

/// The header parameter of a create.
fn key_parameter() -> Json {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "schema": {"type": "string", "pattern": "^([!#-\\[\\]-~]{1,255}|\"[!#-\\[\\]-~]{1,255}\")$"},
        "description": "Makes the create once: sent again with the same key and body (by the same user) within 24 hours, it answers the record the first one made, as it is now (Idempotent-Replayed: true), instead of making another; 409 idempotency_key_reused with another body; 404 when that record was deleted since. 1 to 255 visible ASCII characters, maybe in double quotes."})
}

/// Adds what a key changes to the `responses` of a create.
fn describe(responses: &mut Map<String, Json>) {
    if let Some(created) = responses.get_mut("201") {
        created["headers"]["Idempotent-Replayed"] = json!({"schema": {"type": "string", "enum": ["true"]},
            "description": "Present when the Idempotency-Key had made this record: nothing new was made."});
    }
    if let Some(refused) = responses.get_mut("409") {
        refused["description"] = json!(
            "A unique or foreign-key violation (conflict), or the Idempotency-Key made a record from another body (idempotency_key_reused)."
        );
    }
    responses.insert(
        "404".into(),
        json!({"$ref": "#/components/responses/E404",
        "description": "The record the Idempotency-Key made has been deleted since."}),
    );
}
