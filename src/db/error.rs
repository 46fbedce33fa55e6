//! What can go wrong in the database layer, in terms a client can be told: [`Error`], and the
//! constraint violations each backend's `classify` reads out of a driver error.

use serde_json::Value as Json;

use super::driver;
use super::{Dialect, Entity, Record};
use crate::schema::WriteError;

/// What went wrong in the database layer, in terms a client can be told.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Some of the records a batch names do not exist (their keys, as sent).
    #[error("not found: {0:?}")]
    KeysNotFound(Vec<Json>),
    #[error("the record is invalid")]
    Rejected(WriteError),
    /// The record's version is no longer the one the write asked for: here is the current
    /// record and its version. Nothing was written.
    #[error("the record was changed: its version is now {etag}")]
    /// `malformed`: why the `If-Match` named no version at all.
    PreconditionFailed {
        current: Record,
        etag: String,
        malformed: Option<String>,
    },
    /// The same for a batch: the records whose version changed (their keys as sent, the
    /// current records, their versions). Nothing was written.
    #[error("{} records were changed", .0.len())]
    PreconditionsFailed(Vec<(Json, Record, String)>),
    /// The body names records that do not exist (now): keys of a set, inline children that
    /// are not the record's. Like a foreign key to nothing, a conflict with what is stored.
    #[error("the body names records that do not exist")]
    Missing(crate::schema::FieldErrors),
    /// A unique or foreign-key violation; `field` when the database named the column.
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// The database refused a value (too long, out of range, a CHECK constraint).
    #[error("{message}")]
    InvalidValue {
        field: Option<String>,
        message: String,
    },
    /// Pool exhausted, database down, timeout: worth a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database rolled the transaction back for another's sake (a deadlock, a
    /// serialization or Galera certification failure): nothing was written, and the same
    /// transaction run again may well succeed (`Db::write` does, once).
    #[error("the database rolled the transaction back: {0}")]
    RolledBack(String),
    /// A bug or an unexpected database answer; details are logged, never sent.
    #[error("database error: {0}")]
    Internal(String),
}

pub(super) const MISSING_REFERENCE: &str = "the referenced record does not exist";

/// A constraint error, as read by a backend's `classify`.
#[derive(Debug)]
pub(super) struct Violation {
    pub kind: ViolationKind,
    /// The column the database named; [`PRIMARY_KEY`] when it named the primary key index.
    pub column: Option<String>,
}

/// What a backend's `classify` says when the violated index is the primary key.
pub(super) const PRIMARY_KEY: &str = "\0primary key";

#[derive(Debug, PartialEq)]
pub(super) enum ViolationKind {
    Unique,
    ForeignKey,
    Referenced,
    NotNull,
    BadValue,
    Unavailable,
    /// A deadlock or a serialization (certification) failure: the transaction was rolled back.
    RolledBack,
}

/// What a statement was doing when the database refused it: SQLite cannot say whether a
/// foreign-key failure is about the row's own references or rows referencing it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Operation {
    Read,
    Write,
    Delete,
}

impl Error {
    pub(super) fn from_sqlx(
        error: sqlx::Error,
        dialect: Dialect,
        entity: &Entity,
        operation: Operation,
    ) -> Error {
        match error {
            sqlx::Error::PoolTimedOut => {
                Error::Unavailable("no database connection was free in time".into())
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Error::Unavailable("the database cannot be reached".into())
            }
            sqlx::Error::Database(db_error) => match driver::classify(dialect, db_error.as_ref()) {
                Some(violation) => violation.into_error(entity, operation),
                None => Error::Internal(db_error.to_string()),
            },
            other => Error::Internal(other.to_string()),
        }
    }

    /// Getting a connection failed: never the client's fault.
    pub(super) fn from_connection(error: sqlx::Error) -> Error {
        match error {
            sqlx::Error::PoolTimedOut => {
                Error::Unavailable("no database connection was free in time".into())
            }
            other => Error::Unavailable(other.to_string()),
        }
    }
}

impl Violation {
    fn into_error(self, entity: &Entity, operation: Operation) -> Error {
        // The database names columns; the client knows fields.
        let field = self.column.as_deref().map(|column| {
            if column == PRIMARY_KEY {
                return entity.primary_key.clone();
            }
            entity
                .fields
                .iter()
                .find(|f| f.column == column)
                .map_or_else(|| column.to_owned(), |f| f.name.clone())
        });
        let kind = match self.kind {
            ViolationKind::ForeignKey if operation == Operation::Delete => {
                ViolationKind::Referenced
            }
            kind => kind,
        };
        match kind {
            ViolationKind::Unique => Error::Conflict {
                message: "a record with this value already exists".into(),
                field,
            },
            ViolationKind::ForeignKey => Error::Conflict {
                message: MISSING_REFERENCE.into(),
                field,
            },
            ViolationKind::Referenced => Error::Conflict {
                message: "the record is still referenced by other records".into(),
                field: None,
            },
            ViolationKind::NotNull => Error::InvalidValue {
                message: "is required".into(),
                field,
            },
            ViolationKind::BadValue => Error::InvalidValue {
                message: "the database rejected a value".into(),
                field,
            },
            ViolationKind::Unavailable => {
                Error::Unavailable("the database is busy or timed out".into())
            }
            ViolationKind::RolledBack => {
                Error::RolledBack("a deadlock or a conflict with a concurrent transaction".into())
            }
        }
    }
}
