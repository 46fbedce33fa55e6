//! Stateless signed tokens: `base64url(claims).base64url(HMAC-SHA256(secret, claims))`.
//! Any instance with the secret can check one. A token names its session (`sid`), which a
//! logout ends, and the user's generation, which "log out everywhere" raises: both kept in
//! the database, so every instance sees them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's name.
    pub sub: String,
    /// The user's session generation when the token was made.
    pub generation: i64,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// The session: a login's random id, which a logout revokes. (Tokens made before
    /// sessions had ids have none, and end only with their generation.)
    #[serde(default)]
    pub sid: String,
    /// Whether the session was opened with a second factor too (`totp.rs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa: bool,
    /// A user an OpenID provider signed in (`oidc.rs`): their role and attributes, which
    /// no table here holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoUser>,
}

/// What the provider said of a user, carried by their session's token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SsoUser {
    pub role: String,
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, serde_json::Value>,
}

pub fn sign<T: Serialize>(secret: &[u8], claims: &T) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// What expires: a token's claims.
pub trait Expiring {
    /// Expiry, seconds since the Unix epoch.
    fn exp(&self) -> i64;
}

impl Expiring for Claims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The claims of a token whose signature is right and which has not expired at `now`.
pub fn verify<T: serde::de::DeserializeOwned + Expiring>(
    secret: &[u8],
    token: &str,
    now: i64,
) -> Option<T> {
    let (payload, signature) = token.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(payload.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&signature).ok()?;
    let claims: T = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp() > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let claims = Claims {
            sub: "ann".into(),
            generation: 3,
            exp: 1000,
            sid: "s1".into(),
            mfa: false,
            sso: None,
        };
        let token = sign(b"secret", &claims);
        assert_eq!(verify::<Claims>(b"secret", &token, 999), Some(claims));
        assert_eq!(verify::<Claims>(b"secret", &token, 1000), None, "expired");
        assert_eq!(
            verify::<Claims>(b"other", &token, 999),
            None,
            "another secret"
        );
        let (payload, signature) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(br#"{"sub":"root","generation":3,"exp":9999}"#)
        );
        assert_eq!(
            verify::<Claims>(b"secret", &forged, 999),
            None,
            "a changed payload"
        );
        assert_eq!(verify::<Claims>(b"secret", payload, 999), None);
        assert_eq!(verify::<Claims>(b"secret", "", 999), None);
    }
}
