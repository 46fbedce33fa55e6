//! Saved views (`_views`) in the document: the bodies say which entities a view may be of,
//! and, per entity, what its state may hold (the same filter object as a list's), so that a
//! body the document allows is one the server stores.

use serde_json::{Map, Value as Json, json};

use super::parameters::{Limits, filter_reference};
use crate::schema::{Entity, Schema};

/// The list and create of saved views, out of an entity's `operations`: no batch routes,
/// and a create that takes no Idempotency-Key (a view is made in the app, one click at a
/// time; sent twice, it is refused as a name taken).
pub(super) fn collection_operations(operations: &mut Json) {
    if let Some(methods) = operations.as_object_mut() {
        methods.retain(|method, _| matches!(method.as_str(), "get" | "post"));
        if let Some(create) = methods.get_mut("post") {
            super::once::undescribed(create);
        }
    }
}

/// A view's state for a list of `entity` (see `crate::query::check_view_state`).
fn state_schema(entity: &Entity, limits: Limits) -> Json {
    let sorts: Vec<Json> = std::iter::once(Json::Null)
        .chain(std::iter::once(json!("")))
        .chain(entity.sort_names().into_iter().flat_map(|name| {
            let descending = format!("-{name}");
            [Json::String(name), Json::String(descending)]
        }))
        .collect();
    let columns: Vec<String> = entity
        .readable_fields()
        .map(|f| f.name.clone())
        .chain(entity.sets().map(|r| r.name.clone()))
        .collect();
    let q = if entity.search.is_empty() {
        json!({"enum": [null, ""]})
    } else {
        json!({"type": ["string", "null"]})
    };
    json!({"type": "object", "additionalProperties": false, "properties": {
        "filter": filter_reference(entity),
        "q": q,
        "sort": {"enum": sorts},
        "per_page": {"type": ["integer", "null"], "minimum": 1, "maximum": limits.max_per_page},
        "columns": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"enum": columns}},
    }})
}

/// Narrows the generated body of a view (`creating`: a POST) to what the server takes:
/// `entity` one of the schema's lists, `state` that of its entity, the two given together
/// on an update; `owner` and `updated_at` are the server's.
pub(super) fn narrow_body(body: &mut Json, schema: &Schema, creating: bool, limits: Limits) {
    let listed: Vec<&Entity> = schema.entities().iter().filter(|e| !e.per_user).collect();
    if let Some(Json::Object(properties)) = body.get_mut("properties") {
        for set_by_server in ["owner", "updated_at"] {
            properties.remove(set_by_server);
        }
        let names: Vec<&str> = listed.iter().map(|e| e.name.as_str()).collect();
        properties.insert("entity".into(), json!({"type": "string", "enum": names}));
        properties.insert("state".into(), json!({"type": "object"}));
    }
    if let Some(Json::Array(required)) = body.get_mut("required") {
        required.retain(|r| r != "owner" && r != "updated_at");
    }
    let mut cases: Vec<Json> = listed
        .iter()
        .map(|entity| {
            let mut case = Map::new();
            case.insert("required".into(), json!(["entity"]));
            case.insert(
                "properties".into(),
                json!({"entity": {"const": entity.name}, "state": state_schema(entity, limits)}),
            );
            Json::Object(case)
        })
        .collect();
    if !creating {
        cases.push(json!({"not": {"required": ["entity"]}}));
        body["dependentRequired"] = json!({"entity": ["state"], "state": ["entity"]});
    }
    body["oneOf"] = Json::Array(cases);
}
