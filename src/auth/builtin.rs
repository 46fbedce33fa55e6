//! The built-in policy: users with argon2 password hashes and roles from the config's
//! `[auth]` table; `POST {base}/api/login` gives a signed, expiring token (a cookie for the
//! admin app, and in the body for `Authorization: Bearer`); `POST {base}/api/logout` ends the
//! token's session, or every session of the user (see `sessions.rs`), in autoadmin's own
//! tables, which every instance reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::Deserialize;

use super::sessions::Sessions;
use super::token::{self, Claims};
use super::{Action, AuthFuture, AuthPolicy, Error, Principal};
use crate::db::Db;
use crate::schema::{FieldAccess, FieldRules, Schema, check_rules};

/// The cookie the admin app is authenticated by.
pub const COOKIE: &str = "autoadmin_token";

/// Permissions per entity (or `"*"`).
pub type Permissions = BTreeMap<String, BTreeSet<Action>>;

/// A user of the config, as a request needs it.
#[derive(Clone, Debug)]
pub struct User {
    /// The argon2 hash of the password.
    hash: String,
    permissions: Permissions,
    fields: FieldRules,
    role: String,
}

/// The users of the config, by name.
type Users = HashMap<String, User>;

/// The `[auth]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The signing secret. Prefer the environment (`AUTOADMIN_SECRET`): a config file is
    /// often readable by more people than it should be.
    pub secret: Option<String>,
    #[serde(default = "default_ttl")]
    pub token_ttl_minutes: u64,
    /// Mark the cookie `Secure`; default: when the request came over https (directly or as
    /// `X-Forwarded-Proto: https`).
    pub secure_cookie: Option<bool>,
    /// Login attempts per client address, and failed ones per user name, per window.
    #[serde(default = "default_per_address")]
    pub login_attempts_per_address: u32,
    #[serde(default = "default_per_user")]
    pub login_failures_per_user: u32,
    #[serde(default = "default_window")]
    pub login_window_minutes: u64,
    /// How long a user's session generation, once read, is trusted before it is read again:
    /// the longest a logout on another instance takes to reach this one (a logout here
    /// counts at once). 0 reads it on every request, a database round trip each.
    #[serde(default = "default_revocation_delay")]
    pub revocation_delay_secs: u64,
    #[serde(default, rename = "role")]
    pub roles: Vec<RoleConfig>,
    #[serde(default, rename = "user")]
    pub users: Vec<UserConfig>,
}

fn default_ttl() -> u64 {
    8 * 60
}

fn default_per_address() -> u32 {
    30
}

fn default_per_user() -> u32 {
    10
}

fn default_window() -> u64 {
    15
}

fn default_revocation_delay() -> u64 {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// Entity (or `"*"`) → what the role may do with it.
    pub permissions: BTreeMap<String, Grant>,
}

/// A role's permission on an entity: `["view", "edit"]`, or a table
/// `{ actions = ["view", "edit"], fields = { card_number = "hidden", email = "read_only" } }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct Grant {
    /// `view`, `add`, `edit`, `delete`, or `"*"`.
    pub actions: Vec<String>,
    /// Field → `hidden` or `read_only`.
    pub fields: BTreeMap<String, String>,
}

impl TryFrom<toml::Value> for Grant {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Grant, String> {
        let strings = |value: toml::Value, what: &str| -> Result<Vec<String>, String> {
            let toml::Value::Array(items) = value else {
                return Err(format!("{what} must be a list of strings"));
            };
            items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    _ => Err(format!("{what} must be a list of strings")),
                })
                .collect()
        };
        match value {
            toml::Value::Array(_) => Ok(Grant {
                actions: strings(value, "actions")?,
                fields: BTreeMap::new(),
            }),
            toml::Value::Table(table) => {
                let mut grant = Grant::default();
                for (key, value) in table {
                    match key.as_str() {
                        "actions" => grant.actions = strings(value, "actions")?,
                        "fields" => {
                            let toml::Value::Table(fields) = value else {
                                return Err("fields must be a table: { field = \"hidden\" | \"read_only\" }".into());
                            };
                            for (field, access) in fields {
                                let toml::Value::String(access) = access else {
                                    return Err(format!(
                                        "field \"{field}\": \"hidden\" or \"read_only\""
                                    ));
                                };
                                grant.fields.insert(field, access);
                            }
                        }
                        other => {
                            return Err(format!(
                                "unknown key \"{other}\" in a permission (actions, fields)"
                            ));
                        }
                    }
                }
                Ok(grant)
            }
            _ => Err(
                "a permission is a list of actions, or a table { actions = [...], fields = {...} }"
                    .into(),
            ),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// An argon2 PHC string, as `autoadmin hash-password` prints it.
    pub password_hash: String,
    /// A role of `[[auth.role]]`, or `admin` (everything).
    pub role: String,
}

impl AuthConfig {
    /// Checks roles, users and hashes against the schema; messages name the user or role
    /// (and the entity and field).
    pub fn check(&self, schema: &Schema) -> Result<Users, String> {
        let mut roles: HashMap<&str, (Permissions, FieldRules)> = HashMap::new();
        roles.insert(
            "admin",
            (
                [("*".to_owned(), Action::ALL.into_iter().collect())].into(),
                FieldRules::new(),
            ),
        );
        for role in &self.roles {
            let mut permissions = BTreeMap::new();
            let mut rules = FieldRules::new();
            for (entity, grant) in &role.permissions {
                if entity != "*" && schema.entity(entity).is_none() {
                    return Err(format!(
                        "role \"{}\": \"{entity}\" is not an entity",
                        role.name
                    ));
                }
                if !grant.fields.is_empty() {
                    if entity == "*" {
                        return Err(format!(
                            "role \"{}\": fields are an entity's, not of \"*\"",
                            role.name
                        ));
                    }
                    let mut fields = BTreeMap::new();
                    for (field, access) in &grant.fields {
                        let access = FieldAccess::from_name(access).ok_or_else(|| {
                            format!(
                                "role \"{}\", entity \"{entity}\", field \"{field}\": unknown access \"{access}\" (hidden, read_only)",
                                role.name
                            )
                        })?;
                        fields.insert(field.clone(), access);
                    }
                    let one: FieldRules = [(entity.clone(), fields)].into();
                    check_rules(schema, &one)
                        .map_err(|message| format!("role \"{}\": {message}", role.name))?;
                    rules.extend(one);
                }
                let mut set = BTreeSet::new();
                for action in &grant.actions {
                    if action == "*" {
                        set.extend(Action::ALL);
                    } else {
                        set.insert(Action::from_name(action).ok_or_else(|| {
                            format!("role \"{}\": unknown action \"{action}\" (view, add, edit, delete, *)", role.name)
                        })?);
                    }
                }
                permissions.insert(entity.clone(), set);
            }
            roles.insert(&role.name, (permissions, rules));
        }
        let mut users = HashMap::new();
        for user in &self.users {
            let (permissions, fields) = roles
                .get(user.role.as_str())
                .ok_or_else(|| format!("user \"{}\": unknown role \"{}\"", user.name, user.role))?;
            PasswordHash::new(&user.password_hash)
                .map_err(|_| format!("user \"{}\": password_hash is not an argon2 hash (use autoadmin hash-password)", user.name))?;
            let entry = User {
                hash: user.password_hash.clone(),
                permissions: permissions.clone(),
                fields: fields.clone(),
                role: user.role.clone(),
            };
            if users.insert(user.name.clone(), entry).is_some() {
                return Err(format!("user \"{}\" is declared twice", user.name));
            }
        }
        Ok(users)
    }
}

/// Hashes a password with argon2id and a random salt (CPU-heavy: call off the runtime).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

pub struct Builtin {
    secret: Vec<u8>,
    ttl_seconds: i64,
    secure_cookie: Option<bool>,
    users: Users,
    /// Verified against when the user does not exist, so timing does not tell.
    dummy_hash: String,
    limiter: super::limit::LoginLimiter,
    sessions: Sessions,
}

/// A successful login.
pub struct Login {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl Builtin {
    pub fn new(
        config: &AuthConfig,
        secret: Vec<u8>,
        schema: &Schema,
        db: Db,
    ) -> Result<Builtin, String> {
        Ok(Builtin {
            users: config.check(schema)?,
            secret,
            ttl_seconds: i64::try_from(config.token_ttl_minutes.max(1) * 60).unwrap_or(i64::MAX),
            secure_cookie: config.secure_cookie,
            dummy_hash: hash_password("autoadmin: no such user"),
            limiter: super::limit::LoginLimiter::new(
                std::time::Duration::from_secs(config.login_window_minutes.max(1) * 60),
                config.login_attempts_per_address.max(1),
                config.login_failures_per_user.max(1),
            ),
            sessions: Sessions::new(db, Duration::from_secs(config.revocation_delay_secs)),
        })
    }

    /// Checks the password (off the runtime) and issues a token; `address` is the client's,
    /// for rate limiting.
    pub async fn login(&self, name: &str, password: &str, address: &str) -> Result<Login, Error> {
        self.limiter
            .attempt(address, name)
            .map_err(|wait| Error::TooManyAttempts(wait.as_secs().max(1)))?;
        let hash = self
            .users
            .get(name)
            .map_or(self.dummy_hash.clone(), |user| user.hash.clone());
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !verified || !self.users.contains_key(name) {
            self.limiter.failed(name);
            return Err(Error::Unauthorized("unknown user or wrong password".into()));
        }
        self.limiter.succeeded(name);
        let generation = self.sessions.generation(name).await?;
        let expires_at = chrono::Utc::now() + chrono::Duration::seconds(self.ttl_seconds);
        let claims = Claims {
            sub: name.to_owned(),
            generation,
            exp: expires_at.timestamp(),
            sid: session_id(),
        };
        Ok(Login {
            token: token::sign(&self.secret, &claims),
            expires_at,
        })
    }

    /// Ends a session: the request's own (`Whose::This`), every session of its user
    /// (`Whose::Mine`), or every session of another user (`Whose::User`, for the `admin`
    /// role only). On this instance at once, on the others within `revocation_delay_secs`.
    pub async fn logout(&self, parts: &Parts, whose: Whose) -> Result<(), Error> {
        let claims = self.claims(parts)?;
        match whose {
            Whose::This => self.sessions.end(&claims).await,
            Whose::Mine => self.sessions.end_all(&claims.sub).await,
            Whose::User(user) => {
                let role = self.users.get(&claims.sub).map(|user| user.role.as_str());
                if role != Some("admin") {
                    return Err(Error::Forbidden(
                        "only a user of the admin role may end another user's sessions".into(),
                    ));
                }
                if !self.users.contains_key(&user) {
                    return Err(Error::NotFound(format!("no user \"{user}\"")));
                }
                self.sessions.end_all(&user).await
            }
        }
    }

    /// The claims of the request's token, whatever its session's state.
    fn claims(&self, parts: &Parts) -> Result<Claims, Error> {
        let (token, _) = credentials(parts)
            .ok_or_else(|| Error::Unauthorized("authentication required: log in first".into()))?;
        let now = chrono::Utc::now().timestamp();
        token::verify(&self.secret, &token, now).ok_or_else(|| {
            Error::Unauthorized("the token is invalid or has expired: log in again".into())
        })
    }

    /// Whether the session cookie should be `Secure` for this request.
    pub fn secure_cookie(&self, parts: &Parts) -> bool {
        self.secure_cookie.unwrap_or_else(|| {
            parts.uri.scheme_str() == Some("https")
                || parts
                    .headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    == Some("https")
        })
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }
}

/// The token of a request, and whether it came in the cookie.
fn credentials(parts: &Parts) -> Option<(String, bool)> {
    if let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return value
            .strip_prefix("Bearer ")
            .map(|t| (t.trim().to_owned(), false));
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(|t| (t.to_owned(), true))
        })
}

impl AuthPolicy for Builtin {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a> {
        Box::pin(async move {
            let (token, by_cookie) = credentials(parts).ok_or_else(|| {
                Error::Unauthorized("authentication required: log in first".into())
            })?;
            let now = chrono::Utc::now().timestamp();
            let claims = token::verify(&self.secret, &token, now).ok_or_else(|| {
                Error::Unauthorized("the token is invalid or has expired: log in again".into())
            })?;
            let Some(user) = self.users.get(&claims.sub) else {
                return Err(Error::Unauthorized(
                    "the token's user no longer exists".into(),
                ));
            };
            self.sessions.check(&claims).await?;
            // A browser sends cookies with forged cross-site requests, but cannot add a custom
            // header to them: writes authenticated by cookie must carry one.
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if by_cookie && !safe && !parts.headers.contains_key("x-requested-with") {
                return Err(Error::Forbidden(
                    "a write authenticated by cookie needs the X-Requested-With header (CSRF protection)".into(),
                ));
            }
            Ok(Principal {
                user: Some(claims.sub),
                permissions: user.permissions.clone(),
                roles: vec![user.role.clone()],
                fields: user.fields.clone(),
            })
        })
    }
}

/// Whose sessions a logout ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whose {
    /// The request's own session.
    This,
    /// Every session of the request's user ("log out everywhere").
    Mine,
    /// Every session of another user (an administrator's action).
    User(String),
}

/// A session's id: random, unguessable, short.
fn session_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Shared handle to the built-in policy, when it is the one in use.
pub type Shared = Arc<Builtin>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Entity, Field};

    fn schema() -> Schema {
        Schema::new(vec![
            Entity::new("orders")
                .field(Field::integer("id"))
                .field(Field::string("region"))
                .field(Field::string("card_number")),
        ])
        .unwrap()
    }

    /// The config's `[auth]` with one role of `permissions` and a user of it, checked.
    fn check(permissions: &str) -> Result<Users, String> {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8jfJ6yMuJ0NwZyh9aYzFBQvaI5qD0IvGQVqN9Mx0vJs";
        let text = format!(
            "secret = \"x\"\n[[role]]\nname = \"agent\"\npermissions = {permissions}\n[[user]]\nname = \"al\"\nrole = \"agent\"\npassword_hash = \"{hash}\"\n"
        );
        let config: AuthConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        config.check(&schema())
    }

    #[test]
    fn permissions_take_the_list_and_the_table_form() {
        let users = check(r#"{ orders = ["view"] }"#).unwrap();
        assert!(users["al"].fields.is_empty());
        let users = check(
            r#"{ orders = { actions = ["view", "edit"], fields = { card_number = "hidden", region = "read_only" } } }"#,
        )
        .unwrap();
        let al = &users["al"];
        assert_eq!(
            al.permissions["orders"],
            [Action::View, Action::Edit].into_iter().collect()
        );
        assert_eq!(al.fields["orders"]["card_number"], FieldAccess::Hidden);
        assert_eq!(al.fields["orders"]["region"], FieldAccess::ReadOnly);
    }

    #[test]
    fn bad_permissions_are_named() {
        for (permissions, expected) in [
            (
                r#"{ orders = { actions = ["view"], fields = { card = "hidden" } } }"#,
                "role \"agent\": entity \"orders\" has no field \"card\"",
            ),
            (
                r#"{ orders = { actions = ["view"], fields = { region = "secret" } } }"#,
                "role \"agent\", entity \"orders\", field \"region\": unknown access \"secret\" (hidden, read_only)",
            ),
            (
                r#"{ "*" = { actions = ["view"], fields = { region = "hidden" } } }"#,
                "role \"agent\": fields are an entity's, not of \"*\"",
            ),
            (
                r#"{ orders = { actions = ["view"], fields = { id = "hidden" } } }"#,
                "cannot be hidden",
            ),
            (
                r#"{ orders = { actions = ["view"], where = { region = "EU" } } }"#,
                "unknown key \"where\" in a permission (actions, fields)",
            ),
            (
                r#"{ orders = "view" }"#,
                "a permission is a list of actions",
            ),
        ] {
            let error = check(permissions).unwrap_err();
            assert!(error.contains(expected), "{permissions}: {error}");
        }
    }
}
