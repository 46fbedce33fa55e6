//! Who may call the API, as the document states it: nothing on an open admin; a bearer token
//! from `POST /login` with the built-in policy (every route but `/health` and `/login`); the
//! application's own way with a custom policy. And the routes that are not about records:
//! the health check, login and logout, the live updates' stream.

use serde_json::{Map, Value as Json, json};

use super::{errors, json_content};

mod sso;
mod two_factor;

/// How the server in front of the document authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No authentication (`--insecure-dev`, or no `[auth]`): anyone may do anything.
    Open,
    /// The built-in policy: `POST /login` gives a token (and the app's cookie).
    Login,
    /// The built-in policy with single sign-on too (`[auth.oidc]`): `GET /login/oidc`.
    SingleSignOn,
    /// An `AuthPolicy` of the application's: how it authenticates is its own.
    Policy,
}

/// The document's `security` and `securitySchemes` (none for an open admin).
pub(super) fn security(access: Access) -> (Option<Json>, Option<Json>) {
    match access {
        Access::Open => (None, None),
        Access::Login | Access::SingleSignOn => (
            Some(json!([{"bearer": []}])),
            Some(json!({"bearer": {"type": "http", "scheme": "bearer",
                "description": "A token from POST /login (the admin app uses the cookie it sets, with X-Requested-With on writes), or an API key from POST /_keys."}})),
        ),
        // The policy reads the request as it likes: nothing to declare but the statuses.
        Access::Policy => (None, None),
    }
}

/// `/health`, `/_events` when live updates are on, and `/login` and `/logout` when the
/// built-in policy serves them.
pub(super) fn paths(
    access: Access,
    limits: super::Limits,
    schema: &crate::schema::Schema,
    paths: &mut Map<String, Json>,
) {
    paths.insert("/health".into(), health(access));
    if limits.live_updates {
        paths.insert("/_events".into(), events());
        let entities: Vec<&str> = (schema.entities().iter())
            .filter(|e| !e.per_user && e.name != crate::schema::AUDIT_ENTITY)
            .map(|e| e.name.as_str())
            .collect();
        paths.insert(
            "/_presence/{entity}/{id}/{viewer}".into(),
            presence(&entities),
        );
    }
    if access.serves_login() {
        paths.insert("/login".into(), login());
        paths.insert("/logout".into(), logout());
        two_factor::paths(paths);
        super::keys::paths(paths);
    }
    if access == Access::SingleSignOn {
        sso::paths(paths);
    }
}

impl Access {
    /// Whether the built-in policy's routes are served.
    fn serves_login(self) -> bool {
        matches!(self, Access::Login | Access::SingleSignOn)
    }
}

/// Marks an operation as needing no credentials, where the document has a default.
fn public(operation: &mut Json, access: Access) {
    if access.serves_login() {
        operation["security"] = json!([]);
    }
}

fn health(access: Access) -> Json {
    let mut responses = errors(&["503"]);
    responses.insert(
        "200".into(),
        json!({"description": "The database answers.", "content": json_content(json!({
            "type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}))}),
    );
    let mut operation = json!({"operationId": "health", "summary": "Whether the database answers (no credentials needed)", "responses": responses});
    public(&mut operation, access);
    json!({"get": operation})
}

fn events() -> Json {
    // 404: live updates are off (max_event_streams = 0); 503: as many streams as allowed.
    let mut responses = errors(&["400", "401", "403", "404", "503"]);
    responses.insert(
        "200".into(),
        json!({"description": "A stream of Server-Sent Events that does not end: `ready` (its id is the log's position), then `change` per committed write of a record the user may view, data {entity, id, action (create, update, delete), version (\"v8\" where the entity has a version_field, else null), by, at, request}; `reset` when more changes were missed than are sent again (reload). A comment every events_heartbeat_secs. docs/protocol.md, Live updates.",
            "content": {"text/event-stream": {"schema": stream_event()}}}),
    );
    json!({"get": {
        "operationId": "events",
        "summary": "Live updates: every committed write, as Server-Sent Events (Last-Event-ID resumes from the audit log)",
        "parameters": [{"name": "Last-Event-ID", "in": "header", "required": false,
            "description": "The id of the last event received: the changes after it are sent first.",
            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}],
        "responses": responses,
    }})
}

/// Who has a record open: a form says so, or that it closed.
fn presence(entities: &[&str]) -> Json {
    let parameter = |name: &str, schema: Json, description: &str| json!({"name": name, "in": "path", "required": true, "schema": schema, "description": description});
    let parameters = json!([
        parameter(
            "entity",
            json!({"type": "string", "enum": entities}),
            "An entity the user may view (404 otherwise)."
        ),
        parameter(
            "id",
            json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}),
            "The record's key, as text."
        ),
        parameter(
            "viewer",
            json!({"type": "string", "pattern": "^[0-9A-Fa-f]{16,64}$"}),
            "The form's own random id: one user's two tabs are two forms."
        ),
    ]);
    let answer = |description: &str, body: Json| {
        let mut responses = errors(&["400", "401", "403", "404", "503"]);
        responses.insert(
            "200".into(),
            json!({"description": description, "content": json_content(body)}),
        );
        responses
    };
    let others = json!({"type": "object", "required": ["others"], "properties": {"others": {"type": "array",
        "items": {"type": "object", "required": ["user"], "properties": {"user": {"type": ["string", "null"]}}}}}});
    json!({
        "parameters": parameters,
        "put": {"operationId": "presenceOpen",
            "summary": "This form has the record open (say it again every 10 s: it counts for 30 s); who else has it open",
            "responses": answer("The other forms that have the record open, by user (null on an open admin).", others)},
        "delete": {"operationId": "presenceClose", "summary": "This form closed",
            "responses": answer("Forgotten.", json!({"type": "object", "required": ["closed"], "properties": {"closed": {"const": true}}}))},
    })
}

/// One event of the stream, as SSE parsers give it (`data` is JSON text).
fn stream_event() -> Json {
    let change = json!({"type": "object", "required": ["entity", "id", "action", "version", "by", "at", "request"],
        "properties": {
            "entity": {"type": "string"}, "id": {"type": ["integer", "string"]},
            "action": {"enum": ["create", "update", "delete"]},
            "version": {"type": ["string", "null"]}, "by": {"type": ["string", "null"]},
            "at": {"type": "string"}, "request": {"type": ["string", "null"]}}});
    json!({"type": "object", "required": ["event", "data"], "properties": {
        "event": {"enum": ["ready", "change", "reset"]},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "retry": {"type": "integer"},
        "data": {"type": "string", "contentMediaType": "application/json",
            "description": "`{}` for ready and reset; a change's fields for change",
            "contentSchema": {"oneOf": [{"type": "object", "maxProperties": 0}, change]}}}})
}

fn login() -> Json {
    let mut responses = errors(&["400", "401", "413", "415", "429", "503"]);
    responses.insert("200".into(), two_factor::login_answer());
    let text = json!({"type": "string", "minLength": 1});
    let mut operation = json!({
        "operationId": "login",
        "summary": "Log in with a user's name and password (401 when they do not match; 429 after too many failures, with Retry-After)",
        "requestBody": {"required": true, "content": json_content(json!({"type": "object",
            "required": ["username", "password"],
            "properties": {"username": text, "password": text}}))},
        "responses": responses,
    });
    public(&mut operation, Access::Login);
    let mut methods = errors(&["503"]);
    methods.insert(
        "200".into(),
        json!({"description": "How one logs in here: with a password (users of the config), and with single sign-on (its button's label, and the path under the API to send the browser to).",
            "content": json_content(json!({"type": "object", "required": ["password", "oidc"], "properties": {
                "password": {"type": "boolean"},
                "oidc": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["label", "path"], "properties": {
                    "label": {"type": "string"}, "path": {"const": "/login/oidc"}}}]}}}))}),
    );
    let mut get = json!({"operationId": "loginMethods", "summary": "How one logs in here (no credentials needed)", "responses": methods});
    public(&mut get, Access::Login);
    json!({"get": get, "post": operation})
}

fn logout() -> Json {
    // 404: `{"user": name}` names no configured user.
    let mut responses = errors(&["400", "401", "403", "404", "503"]);
    responses.insert(
        "200".into(),
        json!({"description": "The sessions asked for are over (the cookie of this one is cleared).",
            "content": json_content(json!({"type": "object", "required": ["logged_out", "ended"], "properties": {
                "logged_out": {"const": true}, "ended": {"type": "string"}}}))}),
    );
    json!({"post": {
        "operationId": "logout",
        "summary": "End this session (no body, or {}), every session of yours ({\"everywhere\": true}), or every session of a user ({\"user\": name}: the admin role only; 404 for a user not configured)",
        "requestBody": {"required": false, "content": json_content(json!({"type": "object", "maxProperties": 1,
            "additionalProperties": false,
            "properties": {"everywhere": {"type": "boolean"}, "user": {"type": "string", "minLength": 1}}}))},
        "responses": responses,
    }})
}
