//! Who is asking, and what they may do: the [`AuthPolicy`] a host app plugs in, the
//! [`Principal`] it returns (per-entity permissions), and the built-in policy
//! ([`builtin::Builtin`]: users from config, argon2, signed expiring tokens, revocation).
//!
//! With no policy configured the admin is open ([`Open`]): a host app that mounts it behind
//! its own authentication decides; `autoadmin serve` refuses to run open unless told to.

pub mod addresses;
pub mod builtin;
mod groups;
pub mod keys;
pub mod limit;
pub mod oidc;
pub mod proxy;
pub mod roles;
pub mod second_factor;
mod sessions;
pub mod token;
pub mod totp;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use axum::http::request::Parts;

use crate::schema::{FieldRules, RowScopes};

/// The value of the cookie `name` the request carries, if any.
pub(crate) fn cookie_value<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// What may be done to an entity's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    View,
    Add,
    Edit,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::View, Action::Add, Action::Edit, Action::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Add => "add",
            Action::Edit => "edit",
            Action::Delete => "delete",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// An authenticated identity and its permissions per entity (`"*"`: every entity).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Principal {
    pub user: Option<String>,
    pub permissions: BTreeMap<String, BTreeSet<Action>>,
    /// The roles the user has: a saved view shared with one of them is theirs to see.
    pub roles: Vec<String>,
    /// Fields the user may not see (`hidden`) or not change (`read_only`), by entity: the
    /// user's requests are served from the schema restricted by them.
    pub fields: FieldRules,
    /// The rows the user may reach, by entity (a filter object each, their own values in
    /// it): every other row is as if it did not exist for them.
    pub scopes: RowScopes,
    /// The name of the API key the request came with (`keys.rs`): the audit log names it.
    pub key: Option<String>,
    /// Signed in by someone else (an authenticating proxy): there is no session here to end,
    /// logging out is done there.
    pub signed_in_elsewhere: bool,
    /// Signed in with a password alone where the role requires a second factor: the user
    /// may set one up (`/_2fa`) and log out, nothing else.
    pub second_factor_pending: bool,
}

impl Principal {
    /// Everything allowed, no name: the open admin.
    pub fn everyone() -> Principal {
        Principal {
            user: None,
            permissions: [("*".to_owned(), Action::ALL.into_iter().collect())].into(),
            roles: Vec::new(),
            fields: FieldRules::new(),
            scopes: RowScopes::new(),
            key: None,
            signed_in_elsewhere: false,
            second_factor_pending: false,
        }
    }

    pub fn can(&self, entity: &str, action: Action) -> bool {
        allows(&self.permissions, entity, action)
    }

    /// Whether this user is told of every change to `entity` (live updates, who has a record
    /// open): they may view it and reach all of its rows; with a row scope, an event could
    /// not say whether its row is theirs without a read per event.
    pub fn follows(&self, entity: &str) -> bool {
        self.can(entity, Action::View) && !self.scopes.contains_key(entity)
    }

    /// `Ok` if allowed, else the 403 to answer.
    pub fn require(&self, entity: &str, action: Action) -> Result<(), Error> {
        if self.can(entity, action) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "you may not {} {entity}",
                action.name()
            )))
        }
    }
}

/// Whether `permissions` allow `action` on `entity`: the entity's set and `"*"`'s together.
pub fn allows(
    permissions: &BTreeMap<String, BTreeSet<Action>>,
    entity: &str,
    action: Action,
) -> bool {
    [entity, "*"].iter().any(|key| {
        permissions
            .get(*key)
            .is_some_and(|set| set.contains(&action))
    })
}

/// Why a request is not let through.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// No credentials, or bad, expired or revoked ones: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// A known user without the permission, or a cookie write without the CSRF header: 403.
    #[error("{0}")]
    Forbidden(String),
    /// The policy could not decide (its store is down): 503.
    #[error("{0}")]
    Unavailable(String),
    /// What the request names does not exist (a user whose sessions to end): 404.
    #[error("{0}")]
    NotFound(String),
    /// Too many login attempts: 429, retry after this many seconds.
    #[error("too many login attempts; try again in {0} s")]
    TooManyAttempts(u64),
}

/// autoadmin's own tables (sessions, counters, second factors) out of reach: 503.
impl From<crate::db::Error> for Error {
    fn from(error: crate::db::Error) -> Error {
        Error::Unavailable(error.to_string())
    }
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, Error>> + Send + 'a>>;

/// Decides who a request comes from. A host app implements it to put the admin behind its
/// own authentication: read its session cookie or header from `parts`, map its roles to
/// per-entity permissions.
pub trait AuthPolicy: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a>;
}

/// No authentication: everyone may do everything.
pub struct Open;

impl AuthPolicy for Open {
    fn authenticate<'a>(&'a self, _parts: &'a Parts) -> AuthFuture<'a> {
        Box::pin(async { Ok(Principal::everyone()) })
    }
}
