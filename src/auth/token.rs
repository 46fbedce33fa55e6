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
}

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// The claims of a token whose signature is right and which has not expired at `now`.
pub fn verify(secret: &[u8], token: &str, now: i64) -> Option<Claims> {
    let (payload, signature) = token.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(payload.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&signature).ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp > now).then_some(claims)
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
        };
        let token = sign(b"secret", &claims);
        assert_eq!(verify(b"secret", &token, 999), Some(claims));
        assert_eq!(verify(b"secret", &token, 1000), None, "expired");
        assert_eq!(verify(b"other", &token, 999), None, "another secret");
        let (payload, signature) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(br#"{"sub":"root","generation":3,"exp":9999}"#)
        );
        assert_eq!(verify(b"secret", &forged, 999), None, "a changed payload");
        assert_eq!(verify(b"secret", payload, 999), None);
        assert_eq!(verify(b"secret", "", 999), None);
    }
}
