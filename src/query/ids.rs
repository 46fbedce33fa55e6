//! Record ids from a request: one in a path (`/posts/7`), or a batch (`?ids=[1,2,3]`),
//! converted to the type of the entity's key.

use serde_json::Value as Json;

use super::Error;
use super::params::Params;
use crate::schema::{Entity, Value, value};

/// The key of `entity` that the path segment `id` names.
pub fn parse_id(entity: &Entity, id: &str) -> Result<Value, Error> {
    value::parse_key(entity.key_field().field_type, id).map_err(|message| Error::BadId {
        id: id.to_owned(),
        entity: entity.name.clone(),
        message,
    })
}

/// The keys of a batch request's `ids=[1,2,3]` (its only parameter), each once, at most
/// `max` of them.
pub fn parse_ids(entity: &Entity, query_string: &str, max: u64) -> Result<Vec<Value>, Error> {
    let mut params = Params::decode(query_string)?;
    let ids = params.one("ids")?;
    if let Some((name, _)) = params.rest().into_iter().next() {
        return Err(Error::UnknownParameter(name));
    }
    let ids = ids.ok_or(Error::NoIds)?;
    let bad_ids = || Error::BadParameter {
        name: "ids".into(),
        message: format!("must be a JSON list of ids, not \"{ids}\""),
    };
    let list: Vec<Json> = serde_json::from_str(&ids).map_err(|_| bad_ids())?;
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
    Ok(keys)
}
