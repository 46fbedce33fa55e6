//! Single sign-on in the document (`[auth.oidc]`): the two addresses a browser is sent
//! through. They answer with redirects, not JSON: `GET /login/oidc` to the provider,
//! `GET /login/oidc/callback` back to the app (with `?sso_error=` when refused).

use serde_json::{Map, Value as Json, json};

/// `/login/oidc` and `/login/oidc/callback`.
pub(super) fn paths(paths: &mut Map<String, Json>) {
    let redirect = |description: &str| {
        json!({"303": {"description": description,
            "headers": {"Location": {"schema": {"type": "string"}}, "Set-Cookie": {"schema": {"type": "string"}}}}})
    };
    paths.insert(
        "/login/oidc".into(),
        json!({"get": {
            "operationId": "singleSignOn",
            "summary": "Starts a single sign-on: to the OpenID provider, with the flow's state, nonce and PKCE verifier in a signed cookie (10 minutes); back to the app with ?sso_error=provider when the provider cannot be reached",
            "security": [],
            "responses": redirect("To the provider's authorization endpoint (or to the app, refused)."),
        }}),
    );
    let text = json!({"type": "string"});
    let query =
        |name: &str| json!({"name": name, "in": "query", "required": false, "schema": text});
    paths.insert(
        "/login/oidc/callback".into(),
        json!({"get": {
            "operationId": "singleSignOnCallback",
            "summary": "Where the provider sends the browser back: the code is exchanged (with the PKCE verifier), the ID token verified (signature, issuer, audience, expiry, nonce) and its claims mapped to a user, role and attributes; a session opens. Refused (?sso_error=denied, expired, provider, no_user, no_role, taken or attributes) otherwise",
            "security": [],
            "parameters": [query("code"), query("state"), query("error"), query("error_description"), query("iss")],
            "responses": redirect("To the app: with the session's cookie, or with ?sso_error=<code>."),
        }}),
    );
}
