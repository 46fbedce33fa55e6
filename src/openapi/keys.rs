//! `/_keys` in the document, where the built-in policy serves it: a user's API keys.

use serde_json::{Map, Value as Json, json};

use super::{errors, json_content};

/// `/_keys` and `/_keys/{id}`.
pub(super) fn paths(paths: &mut Map<String, Json>) {
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let actions = json!({"type": "array", "items": {"enum": ["view", "add", "edit", "delete"]}, "uniqueItems": true});
    let key = json!({"type": "object",
        "required": ["id", "name", "permissions", "created_at", "expires_at", "last_used_at", "revoked_at", "active"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "permissions": {"type": "object", "additionalProperties": actions},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "last_used_at": time, "revoked_at": time, "active": {"type": "boolean"}}});
    let mut made = key.clone();
    made["required"]
        .as_array_mut()
        .expect("a list")
        .push(json!("key"));
    made["properties"]["key"] = json!({"type": "string", "pattern": "^aak_",
        "description": "The key, shown this once: send it as Authorization: Bearer."});
    let mut list = errors(&["401", "403", "503"]);
    list.insert(
        "200".into(),
        json!({"description": "Your keys, newest first (never their secrets).",
            "content": json_content(json!({"type": "array", "items": key}))}),
    );
    let mut create = errors(&["400", "401", "403", "409", "413", "415", "422", "503"]);
    create.insert(
        "201".into(),
        json!({"description": "The key, with its secret: shown once.", "content": json_content(made)}),
    );
    // A name: one to 60 characters, none a control character, not only spaces.
    let name = json!({"type": "string", "minLength": 1, "maxLength": 60,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"});
    let body = json!({"type": "object", "required": ["name", "expires_in_days"], "additionalProperties": false,
        "properties": {
            "name": name,
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650},
            "permissions": {"description": "read: view what you may view; same (the default): what you may do; or {entity: [actions]}, each within yours (422 otherwise).",
                "anyOf": [{"type": "null"}, {"enum": ["read", "same"]}, {"type": "object", "additionalProperties": actions}]}}});
    paths.insert(
        "/_keys".into(),
        json!({
            "get": {"operationId": "listKeys", "summary": "Your API keys (403 with a key, or for a user the built-in login does not know)", "responses": list},
            "post": {"operationId": "createKey",
                "summary": "Make an API key: named (409 when a live key has the name, or you have 50), expiring, with some of your permissions",
                "requestBody": {"required": true, "content": json_content(body)}, "responses": create},
        }),
    );
    let mut revoke = errors(&["401", "403", "404", "503"]);
    revoke.insert(
        "200".into(),
        json!({"description": "The key is revoked, on every instance at once.",
            "content": json_content(json!({"type": "object", "required": ["id", "revoked"],
                "properties": {"id": {"type": "string"}, "revoked": {"const": true}}}))}),
    );
    paths.insert(
        "/_keys/{id}".into(),
        json!({"delete": {"operationId": "revokeKey", "summary": "Revoke one of your API keys (404: none of yours by that id, or revoked)",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": revoke}}),
    );
}
