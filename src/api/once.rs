//! `Idempotency-Key` on `POST /{entity}`: a client that did not get the answer to a create
//! (a network or an instance failed) sends it again with the same key, and the record made
//! the first time is answered (`Idempotent-Replayed: true`) instead of a second one being
//! made (`db/once.rs` keeps the keys). The header's value is the draft standard's string
//! (draft-ietf-httpapi-idempotency-key-header): quoted, or bare as most clients send it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::auth::Principal;

pub const KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// The longest key taken (Stripe's limit: a UUID and more fit).
const MAX_LENGTH: usize = 255;

/// The `Idempotency-Key` of a request, if it has one.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(KEY).iter();
        let Some(value) = values.next() else {
            return Ok(IdempotencyKey(None));
        };
        if values.next().is_some() {
            return Err(ApiError::bad_request("Idempotency-Key is given twice"));
        }
        parse(value.as_bytes()).map(|key| IdempotencyKey(Some(key)))
    }
}

/// A key: 1 to 255 visible ASCII characters, maybe in double quotes (then with no quote or
/// backslash inside).
fn parse(value: &[u8]) -> Result<String, ApiError> {
    let inner = match value {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    let visible = |b: &u8| b.is_ascii_graphic() && *b != b'"' && *b != b'\\';
    if inner.is_empty() || inner.len() > MAX_LENGTH || !inner.iter().all(visible) {
        return Err(ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_LENGTH} visible ASCII characters (no quote or backslash), maybe in double quotes"
        )));
    }
    Ok(String::from_utf8_lossy(inner).into_owned())
}

/// Who a key belongs to: a user's key is not another user's, nor the same user's API key's.
pub fn owner(who: &Principal) -> String {
    serde_json::to_string(&(&who.user, &who.key)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_clients_send_them() {
        let key = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        assert_eq!(parse(key.as_bytes()).unwrap(), key);
        assert_eq!(parse(format!("\"{key}\"").as_bytes()).unwrap(), key);
        assert_eq!(parse(&[b'a'; 255]).unwrap().len(), 255);
        for bad in [
            &b""[..],
            b"\"\"",
            b"a b",
            b"a\"b",
            b"\"a",
            b"caf\xc3\xa9",
            b"a\\b",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&[b'a'; 256]).is_err());
    }
}
