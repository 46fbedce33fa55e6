//! The built-in policy: users with argon2 password hashes and roles from the config's
//! `[auth]` table; `POST {base}/api/login` gives a signed, expiring token (a cookie for the
//! admin app, and in the body for `Authorization: Bearer`); `POST {base}/api/logout` ends the
//! token's session, or every session of the user (see `sessions.rs`), in autoadmin's own
//! tables, which every instance reads.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::Deserialize;

use super::proxy::{Claim, Proxy, ProxyConfig};
use super::roles::{Permissions, RoleConfig, Roles};
use super::sessions::Sessions;
use super::token::{self, Claims};
use super::{AuthFuture, AuthPolicy, Error, Principal};
use crate::db::Db;
use crate::schema::{FieldRules, RowScopes, Schema};

/// The cookie the admin app is authenticated by.
pub const COOKIE: &str = "autoadmin_token";

/// A user of the config, as a request needs it.
#[derive(Clone, Debug)]
pub struct User {
    /// The argon2 hash of the password.
    hash: String,
    pub(super) permissions: Permissions,
    pub(super) fields: FieldRules,
    pub(super) scopes: RowScopes,
    pub(super) role: String,
    /// Whether the role wants a second factor (`require_2fa`).
    pub(super) require_2fa: bool,
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
    /// Users an authenticating proxy vouches for (`proxy.rs`).
    pub proxy: Option<ProxyConfig>,
    /// Users an OpenID provider signs in (`oidc.rs`).
    pub oidc: Option<super::oidc::OidcConfig>,
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
pub struct UserConfig {
    pub name: String,
    /// An argon2 PHC string, as `autoadmin hash-password` prints it.
    pub password_hash: String,
    /// A role of `[[auth.role]]`, or `admin` (everything).
    pub role: String,
    /// What the role's `where` may name as `$user.<attribute>` (`name` is the user's name).
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
}

impl AuthConfig {
    /// Checks roles, users and hashes against the schema; messages name the user or role
    /// (and the entity and field).
    pub fn check(&self, schema: &Schema) -> Result<(Users, Roles), String> {
        let roles = super::roles::check(&self.roles, schema)?;
        let mut users = HashMap::new();
        for user in &self.users {
            let role = roles
                .get(&user.role)
                .ok_or_else(|| format!("user \"{}\": unknown role \"{}\"", user.name, user.role))?;
            PasswordHash::new(&user.password_hash)
                .map_err(|_| format!("user \"{}\": password_hash is not an argon2 hash (use autoadmin hash-password)", user.name))?;
            let mut attributes: BTreeMap<String, serde_json::Value> = user
                .attributes
                .iter()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        serde_json::to_value(value).unwrap_or_default(),
                    )
                })
                .collect();
            attributes.insert("name".into(), user.name.clone().into());
            let scopes = role
                .checked_scopes_for(schema, &attributes)
                .map_err(|message| {
                    format!("user \"{}\" (role \"{}\"): {message}", user.name, user.role)
                })?;
            let entry = User {
                hash: user.password_hash.clone(),
                permissions: role.permissions.clone(),
                fields: role.fields.clone(),
                scopes,
                role: user.role.clone(),
                require_2fa: role.require_2fa,
            };
            if users.insert(user.name.clone(), entry).is_some() {
                return Err(format!("user \"{}\" is declared twice", user.name));
            }
        }
        Ok((users, roles))
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
    pub(super) secret: Vec<u8>,
    ttl_seconds: i64,
    secure_cookie: Option<bool>,
    pub(super) users: Users,
    pub(super) roles: Roles,
    proxy: Option<Proxy>,
    /// Single sign-on (`oidc.rs`), and the schema its users' scopes are checked against.
    pub oidc: Option<(super::oidc::Oidc, Schema)>,
    /// Verified against when the user does not exist, so timing does not tell.
    dummy_hash: String,
    pub(super) limiter: super::limit::LoginLimiter,
    pub(super) sessions: Sessions,
    /// Where API keys are kept (`keys.rs`).
    pub(super) db: Db,
}

/// A successful login.
pub struct Login {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What a right password leads to: a session, or the second factor's question.
pub enum Outcome {
    Signed(Login),
    /// The user has a second factor: `POST /login/second-factor` with this challenge (a
    /// short-lived signed token naming the user) and a code.
    SecondFactor(Login),
}

impl Builtin {
    pub fn new(
        config: &AuthConfig,
        secret: Vec<u8>,
        schema: &Schema,
        db: Db,
    ) -> Result<Builtin, String> {
        let (users, roles) = config.check(schema)?;
        let declared: Vec<String> = config.roles.iter().map(|r| r.name.clone()).collect();
        let proxy = config.proxy.as_ref();
        let proxy = proxy.map(|p| Proxy::new(p, &declared)).transpose()?;
        if let Some(proxy) = &proxy {
            // Its users have a name and no other attribute: their roles' where may name no
            // other.
            let named = [("name".to_owned(), serde_json::Value::from("someone"))].into();
            for role in proxy.roles() {
                if let Some(granted) = roles.get(role) {
                    granted
                        .checked_scopes_for(schema, &named)
                        .map_err(|message| format!("[auth.proxy], role \"{role}\": {message}"))?;
                }
            }
        }
        let oidc = config.oidc.as_ref();
        let oidc = oidc
            .map(|o| super::oidc::Oidc::new(o, &declared))
            .transpose()?;
        if let Some(oidc) = &oidc {
            // Its users have a name and the attributes of the table: their roles' where may
            // name no other.
            let mut named: BTreeMap<String, serde_json::Value> =
                [("name".to_owned(), serde_json::Value::from("someone"))].into();
            for attribute in oidc.attribute_names() {
                named.insert(attribute.clone(), serde_json::Value::from("something"));
            }
            for role in oidc.roles() {
                if let Some(granted) = roles.get(role) {
                    // The values' types are checked at each login (`Builtin::sso_finish`).
                    granted
                        .scopes_for(&named)
                        .map_err(|message| format!("[auth.oidc], role \"{role}\": {message}"))?;
                }
            }
        }
        Ok(Builtin {
            users,
            roles,
            proxy,
            oidc: oidc.map(|oidc| (oidc, schema.clone())),
            secret,
            ttl_seconds: i64::try_from(config.token_ttl_minutes.max(1) * 60).unwrap_or(i64::MAX),
            secure_cookie: config.secure_cookie,
            dummy_hash: hash_password("autoadmin: no such user"),
            limiter: super::limit::LoginLimiter::new(
                db.clone(),
                std::time::Duration::from_secs(config.login_window_minutes.max(1) * 60),
                config.login_attempts_per_address.max(1),
                config.login_failures_per_user.max(1),
            ),
            sessions: Sessions::new(
                db.clone(),
                Duration::from_secs(config.revocation_delay_secs),
            ),
            db,
        })
    }

    /// Checks the password (off the runtime) and issues a token; `address` is the client's,
    /// for rate limiting.
    pub async fn login(&self, name: &str, password: &str, address: &str) -> Result<Outcome, Error> {
        self.limiter.attempt(address, name).await?;
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
            self.limiter.failed(name).await?;
            return Err(Error::Unauthorized("unknown user or wrong password".into()));
        }
        if self.has_second_factor(name).await? {
            // The user's failures are cleared by the code, not the password: else a thief
            // of the password could start again at will.
            return Ok(Outcome::SecondFactor(self.challenge(name)));
        }
        self.limiter.succeeded(name).await?;
        self.session(name, false).await.map(Outcome::Signed)
    }

    /// A new session of `name` (`mfa`: opened with a second factor).
    pub(super) async fn session(&self, name: &str, mfa: bool) -> Result<Login, Error> {
        self.issue(name, mfa, None).await
    }

    /// A new session of a user an OpenID provider signed in (`oidc.rs`).
    pub async fn sso_session(&self, identity: &super::oidc::Identity) -> Result<Login, Error> {
        let sso = super::token::SsoUser {
            role: identity.role.clone(),
            attributes: identity.attributes.clone(),
        };
        self.issue(&identity.name, false, Some(sso)).await
    }

    async fn issue(
        &self,
        name: &str,
        mfa: bool,
        sso: Option<super::token::SsoUser>,
    ) -> Result<Login, Error> {
        let generation = self.sessions.generation(name).await?;
        let expires_at = chrono::Utc::now() + chrono::Duration::seconds(self.ttl_seconds);
        let claims = Claims {
            sub: name.to_owned(),
            generation,
            exp: expires_at.timestamp(),
            sid: session_id(),
            mfa,
            sso,
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
                let role = match &claims.sso {
                    Some(sso) => Some(sso.role.as_str()),
                    None => self.users.get(&claims.sub).map(|user| user.role.as_str()),
                };
                if role != Some("admin") {
                    return Err(Error::Forbidden(
                        "only a user of the admin role may end another user's sessions".into(),
                    ));
                }
                // A provider's users are known by no table: with single sign-on, any name.
                if !self.users.contains_key(&user) && self.oidc.is_none() {
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
        token::verify::<Claims>(&self.secret, &token, now).ok_or_else(|| {
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
    super::cookie_value(parts, COOKIE).map(|t| (t.to_owned(), true))
}

/// A browser sends cookies with forged cross-site requests, but cannot add a custom header to
/// them: writes authenticated by what a browser sends on its own (a cookie, or whatever the
/// proxy knows its users by) must carry one.
fn csrf_checked(parts: &Parts) -> Result<(), Error> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !parts.headers.contains_key("x-requested-with") {
        return Err(Error::Forbidden(
            "a write authenticated by cookie needs the X-Requested-With header (CSRF protection)"
                .into(),
        ));
    }
    Ok(())
}

impl Builtin {
    /// The principal an authenticating proxy vouches for, if it vouches for this request.
    fn by_proxy(&self, parts: &Parts) -> Option<Result<Principal, Error>> {
        let claim = self.proxy.as_ref()?.claim(parts);
        Some(match claim {
            Claim::None => return None,
            Claim::Malformed(why) => Err(Error::Unauthorized(why)),
            Claim::NoRole { name } => Err(Error::Forbidden(format!(
                "the proxy's user \"{name}\" is in no group that has a role here"
            ))),
            Claim::User { name, role } => csrf_checked(parts).and_then(|()| {
                let granted = self.roles.get(&role).ok_or_else(|| {
                    Error::Unavailable(format!("role \"{role}\" is not declared"))
                })?;
                // A proxy's user has a name and no other attribute: the role's scopes were
                // checked with one when the admin started.
                let attributes = [("name".to_owned(), serde_json::Value::from(name.clone()))];
                let scopes = granted
                    .scopes_for(&attributes.into())
                    .map_err(Error::Forbidden)?;
                Ok(Principal {
                    user: Some(name),
                    permissions: granted.permissions.clone(),
                    roles: vec![role],
                    fields: granted.fields.clone(),
                    scopes,
                    key: None,
                    signed_in_elsewhere: true,
                    second_factor_pending: false,
                })
            }),
        })
    }
}

impl Builtin {
    /// The principal of a session an OpenID provider opened: its role as the token says,
    /// as long as the role is still declared.
    fn signed_on(&self, claims: Claims) -> Result<Principal, Error> {
        let Some(sso) = claims.sso else {
            return Err(Error::Unauthorized("not a single sign-on session".into()));
        };
        let granted = self.roles.get(&sso.role).ok_or_else(|| {
            Error::Unauthorized(format!(
                "the role \"{}\" of this session no longer exists: log in again",
                sso.role
            ))
        })?;
        let scopes = granted
            .scopes_for(&sso.attributes)
            .map_err(Error::Forbidden)?;
        Ok(Principal {
            user: Some(claims.sub),
            permissions: granted.permissions.clone(),
            roles: vec![sso.role],
            fields: granted.fields.clone(),
            scopes,
            key: None,
            signed_in_elsewhere: false,
            second_factor_pending: false,
        })
    }
}

impl AuthPolicy for Builtin {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a> {
        Box::pin(async move {
            if let Some(vouched) = self.by_proxy(parts) {
                return vouched;
            }
            let (token, by_cookie) = credentials(parts).ok_or_else(|| {
                Error::Unauthorized("authentication required: log in first".into())
            })?;
            if !by_cookie && token.starts_with(super::keys::PREFIX) {
                return self.by_key(&token).await;
            }
            let now = chrono::Utc::now().timestamp();
            let claims: Claims = token::verify(&self.secret, &token, now).ok_or_else(|| {
                Error::Unauthorized("the token is invalid or has expired: log in again".into())
            })?;
            if claims.sso.is_some() {
                self.sessions.check(&claims).await?;
                if by_cookie {
                    csrf_checked(parts)?;
                }
                return self.signed_on(claims);
            }
            let Some(user) = self.users.get(&claims.sub) else {
                return Err(Error::Unauthorized(
                    "the token's user no longer exists".into(),
                ));
            };
            self.sessions.check(&claims).await?;
            if by_cookie {
                csrf_checked(parts)?;
            }
            if user.require_2fa && !claims.mfa {
                // Signed in with a password alone where the role wants more: nothing but
                // setting up the second factor (and logging out) until it is done.
                return Ok(Principal {
                    user: Some(claims.sub),
                    roles: vec![user.role.clone()],
                    second_factor_pending: true,
                    ..Principal::default()
                });
            }
            Ok(Principal {
                user: Some(claims.sub),
                permissions: user.permissions.clone(),
                roles: vec![user.role.clone()],
                fields: user.fields.clone(),
                scopes: user.scopes.clone(),
                key: None,
                signed_in_elsewhere: false,
                second_factor_pending: false,
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
pub(super) fn session_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Shared handle to the built-in policy, when it is the one in use.
pub type Shared = Arc<Builtin>;
