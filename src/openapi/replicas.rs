//! The read replicas' headers in the document of a server with `replica_urls`
//! (`api/replicas.rs`): `X-Read-After` on the reads a replica may serve, `X-Write-Position`
//! on the answers of every write.

use serde_json::{Value as Json, json};

/// What a position looks like (PostgreSQL's notation of a WAL position).
const POSITION: &str = "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$";

/// Adds the headers to `document`, whose entities served from the list routes are
/// `entities` (not the per-user ones: those read the database itself).
pub fn describe(document: &mut Json, entities: &[&str]) {
    let Some(paths) = document.get_mut("paths").and_then(Json::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        let replica_read = entities.iter().any(|entity| {
            let rest = path.strip_prefix('/').and_then(|p| p.strip_prefix(entity));
            matches!(
                rest,
                Some("" | "/{id}" | "/export.csv" | "/export.xlsx" | "/aggregate")
            )
        });
        for (method, operation) in operations.iter_mut() {
            match method.as_str() {
                "get" if replica_read => read_after(operation),
                "post" | "put" | "patch" | "delete" => write_position(operation),
                _ => {}
            }
        }
    }
}

fn read_after(operation: &mut Json) {
    let parameter = json!({"name": "X-Read-After", "in": "header", "required": false,
        "schema": {"type": "string", "pattern": POSITION},
        "description": "Read at least what this position holds: the newest X-Write-Position this client was given. A read replica serves the request only if it has replayed it (else the primary does)."});
    match operation.get_mut("parameters").and_then(Json::as_array_mut) {
        Some(parameters) => parameters.push(parameter),
        None => operation["parameters"] = json!([parameter]),
    }
}

fn write_position(operation: &mut Json) {
    let Some(responses) = operation.get_mut("responses").and_then(Json::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if !status.starts_with('2') || !response.is_object() {
            continue;
        }
        response["headers"]["X-Write-Position"] = json!({"schema": {"type": "string", "pattern": POSITION},
            "description": "How far the primary's log reached after this write: send it as X-Read-After to read it through any instance."});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_entities_take_the_position_and_writes_give_it() {
        let mut document = json!({"paths": {
            "/posts": {"get": {"parameters": [{"name": "q"}], "responses": {"200": {}}},
                       "post": {"responses": {"201": {"headers": {"ETag": {}}}, "422": {}}}},
            "/posts/{id}": {"get": {"responses": {"200": {}}}},
            "/posts/{id}/dependents": {"get": {"responses": {"200": {}}}},
            "/_views": {"get": {"responses": {"200": {}}}},
            "/postscript": {"get": {"responses": {"200": {}}}},
        }});
        describe(&mut document, &["posts"]);
        let paths = &document["paths"];
        let takes = |path: &str| {
            paths[path]["get"]["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "X-Read-After"))
        };
        assert!(takes("/posts") && takes("/posts/{id}"));
        assert!(!takes("/posts/{id}/dependents") && !takes("/_views") && !takes("/postscript"));
        assert_eq!(paths["/posts"]["get"]["parameters"][0]["name"], "q");
        let created = &paths["/posts"]["post"]["responses"];
        assert!(created["201"]["headers"]["X-Write-Position"].is_object());
        assert!(created["201"]["headers"]["ETag"].is_object());
        assert!(created["422"].get("headers").is_none());
    }
}
