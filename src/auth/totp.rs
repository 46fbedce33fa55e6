//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits, a
//! 30-second step, the codes of the step before and after accepted too (clocks drift). The
//! shared secret must be read back to check a code, so it is kept sealed with a key derived
//! from the signing secret (a stolen database alone gives no codes); recovery codes are
//! random and kept as their SHA-256 alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// Recovery codes a user gets at once.
pub const RECOVERY_CODES: usize = 10;

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The time step of `unix_seconds`.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP)
}

/// RFC 4226's HOTP value of `counter`, `DIGITS` digits.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS)
}

/// The step whose code `code` is, among the step of `now` and the one on each side, if any
/// and if it is after `after` (a code is good once: the step of the last accepted one).
/// Spaces are ignored ("123 456", as apps show it).
pub fn matching_step(secret: &[u8], code: &str, now: i64, after: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| *c != ' ').collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let current = step_of(now);
    // Every candidate is computed, so the time taken does not tell which one matched.
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let same: bool = subtle::ConstantTimeEq::ct_eq(&hotp(secret, counter), &wanted).into();
        if same && step > after && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding: what authenticator apps take.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, user: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", encode(issuer), encode(user));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        base32(secret),
        encode(issuer)
    )
}

/// Percent-encoding of everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The key secrets are sealed with, from the signing secret.
fn sealing_key(signing_secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret).expect("any key length");
    mac.update(b"autoadmin: totp secrets");
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA256 of `parts` under `key`.
fn mac_of(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `secret` sealed for `user`: a random nonce, the secret XOR a pad made from the nonce
/// (HMAC as a pseudo-random function), and a tag that tells a tampered or foreign value.
pub fn seal(signing_secret: &[u8], user: &str, secret: &[u8]) -> String {
    let key = sealing_key(signing_secret);
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let pad = mac_of(&key, &[b"pad", &nonce, user.as_bytes()]);
    let sealed: Vec<u8> = secret.iter().zip(pad).map(|(s, p)| s ^ p).collect();
    let tag = mac_of(&key, &[b"tag", &nonce, user.as_bytes(), &sealed]);
    format!(
        "v1.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(&sealed),
        URL_SAFE_NO_PAD.encode(&tag[..16])
    )
}

/// The secret `seal` sealed for `user`, if it was sealed with this signing secret.
pub fn open(signing_secret: &[u8], user: &str, sealed: &str) -> Option<Vec<u8>> {
    let mut parts = sealed.split('.');
    if parts.next()? != "v1" {
        return None;
    }
    let mut next = || URL_SAFE_NO_PAD.decode(parts.next()?).ok();
    let (nonce, body, tag) = (next()?, next()?, next()?);
    if body.len() > 32 {
        return None;
    }
    let key = sealing_key(signing_secret);
    let expected = mac_of(&key, &[b"tag", &nonce, user.as_bytes(), &body]);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &expected[..16],
        tag.as_slice(),
    )) {
        return None;
    }
    let pad = mac_of(&key, &[b"pad", &nonce, user.as_bytes()]);
    Some(body.iter().zip(pad).map(|(s, p)| s ^ p).collect())
}

/// New recovery codes (`xxxxx-xxxxx`, 50 random bits each), to be shown once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = base32(&bytes).to_ascii_lowercase();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

/// What a recovery code is kept as: the SHA-256 (hex) of it without dashes, spaces or case.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The QR code of `text`, as rows of `'1'` (dark) and `'0'` modules, for the app to draw.
pub fn qr_modules(text: &str) -> Option<Vec<String>> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    Some(
        colors
            .chunks(width)
            .map(|row| {
                row.iter()
                    .map(|c| if *c == qrcode::Color::Dark { '1' } else { '0' })
                    .collect()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B (SHA-1; the last six of its eight digits).
    #[test]
    fn codes_are_rfc_6238s() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            let step = u64::try_from(step_of(time)).unwrap();
            assert_eq!(hotp(secret, step), code, "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_once() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_109;
        assert_eq!(matching_step(secret, "081804", now, 0), Some(step_of(now)));
        assert_eq!(
            matching_step(secret, " 081804 ", now + 30, 0),
            Some(step_of(now)),
            "a step late"
        );
        assert_eq!(matching_step(secret, "081804", now + 60, 0), None);
        assert_eq!(
            matching_step(secret, "081804", now, step_of(now)),
            None,
            "used already"
        );
        for bad in ["81804", "0818040", "08180a", "", "０８１８０４"] {
            assert_eq!(matching_step(secret, bad, now, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_is_rfc_4648s() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user_and_signing_secret() {
        let secret = new_secret();
        let sealed = seal(b"signing", "ann", &secret);
        assert_eq!(open(b"signing", "ann", &sealed), Some(secret.clone()));
        assert_eq!(open(b"signing", "bob", &sealed), None);
        assert_eq!(open(b"another", "ann", &sealed), None);
        assert_ne!(
            seal(b"signing", "ann", &secret),
            sealed,
            "a new nonce each time"
        );
        let mut tampered = sealed.clone().into_bytes();
        let at = tampered.len() - 30;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open(b"signing", "ann", &String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(open(b"signing", "ann", "v1.x"), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_hashed_without_their_form() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(codes[0].len() == 11 && codes[0].as_bytes()[5] == b'-');
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&format!(" {} ", codes[0].replace('-', "").to_uppercase()))
        );
    }

    #[test]
    fn the_address_names_issuer_and_user() {
        let uri = otpauth_uri("Blog admin", "ann@x", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Blog%20admin:ann%40x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Blog%20admin&algorithm=SHA1&digits=6&period=30"
        );
        let modules = qr_modules(&uri).unwrap();
        assert!(modules.len() >= 21 && modules.iter().all(|r| r.len() == modules.len()));
    }
}
