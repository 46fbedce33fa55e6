//! API keys: a built-in user's named keys for scripts, each with an expiry and a subset of
//! the user's permissions (read-only, say). A key is `aak_<id>_<secret>`: the id finds its
//! row, the secret (256 random bits) is kept as its SHA-256 alone and shown once. A request
//! with a key acts as its user, with at most the key's permissions (the user's as they are
//! now: a role that loses an action takes it from the user's keys too), and is audited under
//! the key's name. Keys cannot manage keys or sessions.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use rand::RngCore;
use serde_json::Value as Json;

use super::builtin::Builtin;
use super::roles::Permissions;
use super::{Action, Error, Principal, allows as can};
use crate::db::KeyRow;
pub use crate::db::sha256_hex;

/// What every key starts with (so that scanners and people can tell one).
pub const PREFIX: &str = "aak_";

/// The longest a key lives, in days.
pub const MAX_DAYS: i64 = 3650;

/// A new key's id and secret, and the whole key as its user sends it.
pub struct Minted {
    pub id: String,
    pub secret_sha256: String,
    pub key: String,
}

/// A new random key.
pub fn mint() -> Minted {
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut id = [0u8; 12];
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    // Neither part holds `_`: the key splits at its underscores.
    let (id, secret) = (
        encode(&id).replace('_', "."),
        encode(&secret).replace('_', "."),
    );
    Minted {
        secret_sha256: sha256_hex(&secret),
        key: format!("{PREFIX}{id}_{secret}"),
        id,
    }
}

/// A key as sent, split into its id and secret; `None` when it is not one.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty() && id.len() <= 32 && secret.len() <= 64)
        .then_some((id, secret))
}

/// Whether `secret` is the one whose hash is `expected`, in a time that does not tell how
/// much of it matched.
pub fn matches(secret: &str, expected: &str) -> bool {
    let actual = sha256_hex(secret);
    actual.len() == expected.len()
        && actual
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// What a key of `owner`'s with `granted` may do: both at once.
pub fn intersect(owner: &Permissions, granted: &Permissions) -> Permissions {
    let mut both = Permissions::new();
    for entity in owner.keys().chain(granted.keys()) {
        let actions: BTreeSet<Action> = Action::ALL
            .into_iter()
            .filter(|a| {
                if entity == "*" {
                    let star = |p: &Permissions| p.get("*").is_some_and(|s| s.contains(a));
                    star(owner) && star(granted)
                } else {
                    can(owner, entity, *a) && can(granted, entity, *a)
                }
            })
            .collect();
        both.insert(entity.clone(), actions);
    }
    both
}

/// The permissions a request asks a new key to have: `"read"` (view what the user may view),
/// `"same"` (what the user may do), or `{entity: [actions]}` (each within the user's).
pub fn requested(asked: Option<&Json>, owner: &Permissions) -> Result<Permissions, String> {
    match asked {
        None | Some(Json::Null) => Ok(owner.clone()),
        Some(Json::String(s)) if s == "same" => Ok(owner.clone()),
        Some(Json::String(s)) if s == "read" => Ok(intersect(
            owner,
            &[("*".to_owned(), [Action::View].into())].into(),
        )),
        Some(Json::Object(map)) => {
            let mut permissions = Permissions::new();
            for (entity, actions) in map {
                let Some(actions) = actions.as_array() else {
                    return Err(format!("permissions.{entity} must be a list of actions"));
                };
                let mut set = BTreeSet::new();
                for action in actions {
                    let action = action.as_str().and_then(Action::from_name).ok_or_else(|| {
                        format!("permissions.{entity}: actions are view, add, edit and delete")
                    })?;
                    if !can(owner, entity, action) {
                        return Err(format!(
                            "permissions.{entity}: you may not {} {entity} yourself",
                            action.name()
                        ));
                    }
                    if !set.insert(action) {
                        return Err(format!(
                            "permissions.{entity}: \"{}\" is named twice",
                            action.name()
                        ));
                    }
                }
                permissions.insert(entity.clone(), set);
            }
            Ok(permissions)
        }
        Some(_) => {
            Err("permissions must be \"read\", \"same\" or an object of entity: [actions]".into())
        }
    }
}

/// Permissions as stored with a key (JSON: entity → action names).
pub fn to_json(permissions: &Permissions) -> Json {
    let map: BTreeMap<&String, Vec<&str>> = permissions
        .iter()
        .map(|(entity, set)| (entity, set.iter().map(|a| a.name()).collect()))
        .collect();
    serde_json::to_value(map).unwrap_or_default()
}

/// Permissions as stored with a key; what does not read grants nothing.
pub fn from_json(text: &str) -> Permissions {
    let map: BTreeMap<String, Vec<String>> = serde_json::from_str(text).unwrap_or_default();
    map.into_iter()
        .map(|(entity, actions)| {
            let set = actions
                .iter()
                .filter_map(|a| Action::from_name(a))
                .collect();
            (entity, set)
        })
        .collect()
}

/// How often a key's last use is written (a write per request would be one too many).
const TOUCH_EVERY_SECS: i64 = 60;

impl Builtin {
    /// The principal of a request that came with the API key `key`.
    pub(super) async fn by_key(&self, key: &str) -> Result<Principal, Error> {
        let refused = || Error::Unauthorized("the API key is invalid, expired or revoked".into());
        let (id, secret) = parse(key).ok_or_else(refused)?;
        let row = self
            .db
            .key(id)
            .await
            .map_err(Error::from)?
            .ok_or_else(refused)?;
        let now = chrono::Utc::now().timestamp();
        if !matches(secret, &row.secret_sha256) || row.revoked_at.is_some() || row.expires_at <= now
        {
            return Err(refused());
        }
        let Some(user) = self.users.get(&row.user) else {
            return Err(Error::Unauthorized(
                "the API key's user no longer exists".into(),
            ));
        };
        if row
            .last_used_at
            .is_none_or(|at| now - at >= TOUCH_EVERY_SECS)
            && let Err(error) = self.db.touch_key(&row.id, now).await
        {
            tracing::warn!(key = %row.id, "an API key's last use was not recorded: {error}");
        }
        Ok(Principal {
            user: Some(row.user.clone()),
            permissions: intersect(&user.permissions, &from_json(&row.permissions)),
            roles: vec![user.role.clone()],
            fields: user.fields.clone(),
            scopes: user.scopes.clone(),
            key: Some(row.name),
            signed_in_elsewhere: false,
            second_factor_pending: false,
        })
    }

    /// A new key of `who` (a built-in user, signed in with a password) named `name`, for
    /// `days`, with the permissions `asked` (see [`requested`]): its row, and the key itself,
    /// which is shown this once.
    pub async fn create_key(
        &self,
        who: &Principal,
        name: &str,
        days: i64,
        asked: Option<&Json>,
    ) -> Result<(KeyRow, String), KeyError> {
        let user = self.key_holder(who)?;
        let permissions = requested(asked, &who.permissions).map_err(KeyError::Invalid)?;
        let now = chrono::Utc::now().timestamp();
        let live = self
            .db
            .keys_of(&user)
            .await
            .map_err(|e| KeyError::Auth(e.into()))?
            .into_iter()
            .filter(|k| k.revoked_at.is_none() && k.expires_at > now)
            .collect::<Vec<_>>();
        if live.iter().any(|k| k.name == name) {
            return Err(KeyError::Conflict(format!(
                "you have a key named \"{name}\" already: revoke it, or choose another name"
            )));
        }
        if live.len() >= crate::db::MAX_KEYS_PER_USER {
            return Err(KeyError::Conflict(format!(
                "you have {} keys: revoke one first",
                live.len()
            )));
        }
        let minted = mint();
        let row = KeyRow {
            id: minted.id,
            user,
            name: name.to_owned(),
            secret_sha256: minted.secret_sha256,
            permissions: to_json(&permissions).to_string(),
            created_at: now,
            expires_at: now + days * 86_400,
            last_used_at: None,
            revoked_at: None,
        };
        self.db
            .create_key(&row)
            .await
            .map_err(|e| KeyError::Auth(e.into()))?;
        Ok((row, minted.key))
    }

    /// The keys of `who`.
    pub async fn keys(&self, who: &Principal) -> Result<Vec<KeyRow>, KeyError> {
        let user = self.key_holder(who)?;
        self.db
            .keys_of(&user)
            .await
            .map_err(|e| KeyError::Auth(e.into()))
    }

    /// Revokes the key `id` of `who`: whether they had it, not revoked.
    pub async fn revoke_key(&self, who: &Principal, id: &str) -> Result<bool, KeyError> {
        let user = self.key_holder(who)?;
        let now = chrono::Utc::now().timestamp();
        self.db
            .revoke_key(&user, id, now)
            .await
            .map_err(|e| KeyError::Auth(e.into()))
    }

    /// The user whose keys `who` may manage: a built-in user signed in with a password.
    fn key_holder(&self, who: &Principal) -> Result<String, KeyError> {
        if who.key.is_some() {
            return Err(KeyError::Auth(Error::Forbidden(
                "an API key cannot manage API keys: sign in with a password".into(),
            )));
        }
        match &who.user {
            Some(user) if !who.signed_in_elsewhere && self.users.contains_key(user) => {
                Ok(user.clone())
            }
            _ => Err(KeyError::Auth(Error::Forbidden(
                "API keys are for the users of [auth], signed in with a password".into(),
            ))),
        }
    }
}

/// Why a key cannot be made, listed or revoked.
#[derive(Debug)]
pub enum KeyError {
    /// Not a user who may (403), or the table cannot be read (503).
    Auth(Error),
    /// The request asks for what cannot be (422).
    Invalid(String),
    /// A live key has that name, or there are too many (409).
    Conflict(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permissions(pairs: &[(&str, &[Action])]) -> Permissions {
        pairs
            .iter()
            .map(|(e, a)| ((*e).to_owned(), a.iter().copied().collect()))
            .collect()
    }

    #[test]
    fn a_key_parses_back_and_its_secret_matches_only_itself() {
        let minted = mint();
        let (id, secret) = parse(&minted.key).unwrap();
        assert_eq!(id, minted.id);
        assert!(matches(secret, &minted.secret_sha256));
        assert!(!matches(&format!("{secret}x"), &minted.secret_sha256));
        assert_ne!(mint().key, minted.key);
        for bad in ["", "aak_", "aak__x", "aak_x_", "bearer-token", "aak_x"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_key_does_at_most_what_its_user_does() {
        use Action::*;
        let owner = permissions(&[("posts", &[View, Add, Edit]), ("*", &[View])]);
        let read = requested(Some(&Json::from("read")), &owner).unwrap();
        assert!(can(&read, "posts", View) && can(&read, "tags", View));
        assert!(!can(&read, "posts", Add));
        let some = requested(Some(&serde_json::json!({"posts": ["view", "add"]})), &owner).unwrap();
        assert!(can(&some, "posts", Add) && !can(&some, "tags", View));
        assert!(requested(Some(&serde_json::json!({"posts": ["delete"]})), &owner).is_err());
        assert!(requested(Some(&serde_json::json!({"tags": ["edit"]})), &owner).is_err());
        // The user's permissions as they are when the key is used.
        let narrowed = permissions(&[("posts", &[View])]);
        let both = intersect(&narrowed, &some);
        assert!(can(&both, "posts", View) && !can(&both, "posts", Add));
        assert_eq!(from_json(&to_json(&some).to_string()), some);
    }
}
