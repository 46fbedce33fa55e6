//! Two-factor login in the document: the second step of `POST /login`, and `/_2fa`, where a
//! user of the built-in login sets up, renews and turns off their second factor.

use serde_json::{Map, Value as Json, json};

use super::super::{errors, json_content};

/// A code or a recovery code, as the server takes it (`api::session::is_code`).
const CODE_PATTERN: &str = "^[0-9A-Za-z -]*[0-9A-Za-z][0-9A-Za-z -]*$";

fn code() -> Json {
    json!({"type": "string", "maxLength": 64, "pattern": CODE_PATTERN})
}

/// `{"token", "expires_at"}`: a session.
pub(super) fn session() -> Json {
    json!({"type": "object", "required": ["token", "expires_at"], "properties": {
        "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}})
}

/// What `POST /login` answers with a right password: a session, or (for a user with a
/// second factor) the challenge that `POST /login/second-factor` takes.
pub(super) fn login_answer() -> Json {
    let challenge = json!({"type": "object", "required": ["second_factor", "challenge", "expires_at"], "properties": {
        "second_factor": {"const": "totp"}, "challenge": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"}}});
    json!({"description": "A session: its token (send it as Authorization: Bearer), and the app's cookie. For a user with a second factor, instead: a challenge for POST /login/second-factor (no session yet).",
        "headers": {"Set-Cookie": {"schema": {"type": "string"}}},
        "content": json_content(json!({"oneOf": [session(), challenge]}))})
}

/// Exactly one of `code` and `recovery_code` (and the `required` others).
fn proof_body(required: &[&str], properties: Map<String, Json>) -> Json {
    let mut properties = properties;
    properties.insert("code".into(), code());
    properties.insert("recovery_code".into(), code());
    let one = |key: &str| {
        let mut keys: Vec<&str> = required.to_vec();
        keys.push(key);
        json!({"required": keys})
    };
    json!({"type": "object", "additionalProperties": false, "properties": properties,
        "oneOf": [one("code"), one("recovery_code")]})
}

/// `/login/second-factor` and the `/_2fa` routes.
pub(super) fn paths(paths: &mut Map<String, Json>) {
    let mut second = errors(&["400", "401", "413", "415", "429", "503"]);
    second.insert(
        "200".into(),
        json!({"description": "A session, as POST /login gives it to a user without a second factor.",
            "headers": {"Set-Cookie": {"schema": {"type": "string"}}},
            "content": json_content(session())}),
    );
    let challenge = [(
        "challenge".to_owned(),
        json!({"type": "string", "minLength": 1}),
    )];
    paths.insert(
        "/login/second-factor".into(),
        json!({"post": {
            "operationId": "loginSecondFactor",
            "summary": "The login's second step: POST /login's challenge and the authenticator's current code, or a recovery code (each good once). 401 when wrong, used already or the challenge has expired (5 minutes); 429 after too many failures, as for passwords",
            "security": [],
            "requestBody": {"required": true, "content": json_content(proof_body(&["challenge"], challenge.into_iter().collect()))},
            "responses": second,
        }}),
    );

    let mut status = errors(&["401", "403", "503"]);
    status.insert(
        "200".into(),
        json!({"description": "Where your second factor stands.",
            "content": json_content(json!({"type": "object",
                "required": ["enabled", "enrolling", "required", "recovery_codes_left"], "properties": {
                "enabled": {"type": "boolean"},
                "enrolling": {"type": "boolean", "description": "A set-up was started and not confirmed."},
                "required": {"type": "boolean", "description": "Your role requires a second factor."},
                "recovery_codes_left": {"type": "integer", "minimum": 0}}}))}),
    );
    let mut start = errors(&["400", "401", "403", "409", "413", "503"]);
    start.insert(
        "201".into(),
        json!({"description": "A new secret for the authenticator app (shown this once; confirm it with its first code).",
            "content": json_content(json!({"type": "object",
                "required": ["secret", "otpauth_uri", "qr", "digits", "period"], "properties": {
                "secret": {"type": "string", "pattern": "^[A-Z2-7]+$", "description": "The secret in base32, to type in."},
                "otpauth_uri": {"type": "string", "pattern": "^otpauth://totp/"},
                "qr": {"type": "array", "items": {"type": "string", "pattern": "^[01]+$"},
                    "description": "The QR code of otpauth_uri: its rows, 1 a dark module (draw it with a quiet zone of 4 modules)."},
                "digits": {"const": 6}, "period": {"const": 30}}}))}),
    );
    let mut off = errors(&[
        "400", "401", "403", "404", "409", "413", "415", "422", "429", "503",
    ]);
    off.insert(
        "200".into(),
        json!({"description": "The second factor is off (or an unfinished set-up forgotten).",
            "content": json_content(json!({"type": "object", "required": ["enabled", "user"], "properties": {
                "enabled": {"const": false}, "user": {"type": "string"}}}))}),
    );
    let user = json!({"type": "object", "required": ["user"], "additionalProperties": false,
        "properties": {"user": {"type": "string", "minLength": 1}}});
    paths.insert(
        "/_2fa".into(),
        json!({
            "get": {"operationId": "twoFactorStatus",
                "summary": "Your second factor (403 with an API key, or for a user the built-in login does not know)",
                "responses": status},
            "post": {"operationId": "startTwoFactor",
                "summary": "Start setting up a second factor (again, if a set-up was not confirmed; 409 when it is on)",
                "requestBody": {"required": false, "content": json_content(json!({"type": "object", "maxProperties": 0}))},
                "responses": start},
            "delete": {"operationId": "turnOffTwoFactor",
                "summary": "Turn your second factor off with a current code or a recovery code (422 when wrong; 403 when your role requires one; 409 when it is not on); or, the admin role only, remove another user's ({\"user\": name}: 404 when they have none; 409 for yourself) and end their sessions",
                "requestBody": {"required": true, "content": json_content(json!({"oneOf": [proof_body(&[], Map::new()), user]}))},
                "responses": off},
        }),
    );

    let code_body = json!({"type": "object", "required": ["code"], "additionalProperties": false,
        "properties": {"code": code()}});
    let codes = json!({"type": "array", "items": {"type": "string"}, "description": "Each good once, in place of a code: shown this once."});
    let mut confirm = errors(&["400", "401", "403", "409", "413", "415", "422", "503"]);
    let mut confirmed = session();
    confirmed["required"] = json!(["token", "expires_at", "enabled", "recovery_codes"]);
    confirmed["properties"]["enabled"] = json!({"const": true});
    confirmed["properties"]["recovery_codes"] = codes.clone();
    confirm.insert(
        "200".into(),
        json!({"description": "The second factor is on; every other session of yours has ended. A new session (and cookie), and the recovery codes.",
            "headers": {"Set-Cookie": {"schema": {"type": "string"}}},
            "content": json_content(confirmed)}),
    );
    paths.insert(
        "/_2fa/confirm".into(),
        json!({"post": {"operationId": "confirmTwoFactor",
            "summary": "Confirm the set-up with the authenticator's first code (422 when it is not the current one; 409 when no set-up was started)",
            "requestBody": {"required": true, "content": json_content(code_body.clone())},
            "responses": confirm}}),
    );
    let mut renew = errors(&[
        "400", "401", "403", "409", "413", "415", "422", "429", "503",
    ]);
    renew.insert(
        "200".into(),
        json!({"description": "New recovery codes: the old ones no longer work.",
            "content": json_content(json!({"type": "object", "required": ["recovery_codes"],
                "properties": {"recovery_codes": codes}}))}),
    );
    paths.insert(
        "/_2fa/recovery-codes".into(),
        json!({"post": {"operationId": "renewRecoveryCodes",
            "summary": "New recovery codes, for a current code (422 when wrong; 409 when two-factor login is not on)",
            "requestBody": {"required": true, "content": json_content(code_body)},
            "responses": renew}}),
    );
}
