//! Record ids from a request: one in a path (`/posts/7`), or a batch (`?ids=[1,2,3]`, with
//! the versions the client read: `&versions={"1":"…","2":"…"}`), converted to the type of
//! the entity's key.

use serde_json::Value as Json;

use super::params::Params;
use super::{Error, Precondition};
use crate::schema::{Entity, Value, value};

/// The records a batch request names.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// Each once, in the order given.
    pub keys: Vec<Value>,
    /// The version each of some of them must still have.
    pub versions: Vec<(Value, Precondition)>,
}

/// The key of `entity` that the path segment `id` names.
pub fn parse_id(entity: &Entity, id: &str) -> Result<Value, Error> {
    value::parse_key(entity.key_field().field_type, id).map_err(|message| Error::BadId {
        id: id.to_owned(),
        entity: entity.name.clone(),
        message,
    })
}

/// The keys of a batch request's `ids=[1,2,3]` (or `ids=1,2,3`), each once, at most `max` of them, and the
/// versions of `versions={"1": "<etag>", …}` (those of ids the batch does not name are
/// ignored).
pub fn parse_ids(entity: &Entity, query_string: &str, max: u64) -> Result<Batch, Error> {
    let mut params = Params::decode(query_string)?;
    // Repeated, the lists join (ids=1&ids=2, as an exploded array is sent).
    let ids = params.all("ids");
    let versions = params.one("versions")?;
    if let Some((name, _)) = params.rest().into_iter().next() {
        return Err(Error::UnknownParameter(name));
    }
    let given = ids.ok_or(Error::NoIds)?;
    let mut list: Vec<Json> = Vec::new();
    for ids in &given {
        // A JSON list (`[1,"a b"]`), or the plain form of OpenAPI's arrays (`1,2`).
        match serde_json::from_str(ids) {
            Ok(Json::Array(items)) => list.extend(items),
            Ok(_) | Err(_) if ids.is_empty() => {}
            Ok(_) | Err(_) => list.extend(ids.split(',').map(|id| Json::String(id.to_owned()))),
        }
    }
    let bad_ids = || Error::BadParameter {
        name: "ids".into(),
        message: format!("must be a list of ids, not \"{}\"", given.join("&ids=")),
    };
    if list.len() as u64 > max {
        return Err(Error::TooManyIds(max));
    }
    let mut keys: Vec<Value> = Vec::with_capacity(list.len());
    for id in &list {
        let text = match id {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            _ => return Err(bad_ids()),
        };
        let key = parse_id(entity, &text)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let versions = match versions {
        None => Vec::new(),
        Some(text) => parse_versions(entity, &text, &keys)?,
    };
    Ok(Batch { keys, versions })
}

/// `{"1": "\"etag\"", "2": "etag"}`: an entity tag (quotes optional) per id of the batch.
fn parse_versions(
    entity: &Entity,
    text: &str,
    keys: &[Value],
) -> Result<Vec<(Value, Precondition)>, Error> {
    let bad = |message: String| Error::BadParameter {
        name: "versions".into(),
        message,
    };
    let object: serde_json::Map<String, Json> = serde_json::from_str(text).map_err(|_| {
        bad(format!(
            "must be a JSON object of id: version (an ETag), not \"{text}\""
        ))
    })?;
    let mut versions = Vec::with_capacity(object.len());
    for (id, tag) in object {
        let key = parse_id(entity, &id)?;
        let Json::String(tag) = tag else {
            return Err(bad(format!("the version of id \"{id}\" must be a string")));
        };
        // The version of a record the batch does not name has nothing to check.
        if keys.contains(&key) {
            versions.push((key, Precondition::tag(&tag)));
        }
    }
    Ok(versions)
}
