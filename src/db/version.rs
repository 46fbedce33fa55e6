//! Record versions (RFC 9110 entity tags): what `ETag` names and `If-Match` asks for.
//!
//! A record's version is, by default, a hash of the record as the API sends it (its readable
//! fields, in order, as compact JSON): any change a client can see changes it, on every
//! instance alike. An entity with `version_field` is versioned by that integer column
//! instead, which every write through autoadmin increments: `"v7"`.
//!
//! Writes check a `crate::query::Precondition` in their transaction, after reading the record
//! with its row locked (or, on SQLite, holding the one writer's turn), so the check and the
//! write are one: of N writers sending the same `If-Match`, exactly one succeeds.

use base64::Engine;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::Record;
use crate::schema::Entity;

/// The strong entity tag of `record` of `entity`, quoted.
pub fn etag(entity: &Entity, record: &Record) -> String {
    if let Some(version) = entity
        .version_field
        .as_deref()
        .and_then(|name| record.get(name))
    {
        let number = match version {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        };
        return format!("\"v{number}\"");
    }
    // Writing to a Vec cannot fail.
    let json = serde_json::to_vec(record).unwrap_or_default();
    etag_of_json(&json)
}

/// The entity tag of a record already written as the API sends it (GET's path, where the
/// row goes straight into JSON); only for entities without `version_field`.
pub fn etag_of_json(json: &[u8]) -> String {
    let digest = Sha256::digest(json);
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    format!("\"{tag}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_record_as_sent() {
        let entity = Entity::new("posts");
        let record: Record = serde_json::from_str(r#"{"id":1,"title":"A"}"#).unwrap();
        let same = etag_of_json(br#"{"id":1,"title":"A"}"#);
        assert_eq!(etag(&entity, &record), same);
        let changed: Record = serde_json::from_str(r#"{"id":1,"title":"B"}"#).unwrap();
        assert_ne!(etag(&entity, &changed), same);
        let versioned = Entity::new("posts").version_field("version");
        let record: Record = serde_json::from_str(r#"{"id":1,"version":7}"#).unwrap();
        assert_eq!(etag(&versioned, &record), "\"v7\"");
    }
}
