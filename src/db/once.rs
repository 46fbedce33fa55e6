//! Creates made once (`Idempotency-Key`): a create sent with a key claims it in its own
//! transaction, in autoadmin's table `autoadmin_idempotency`, with the key of the record it
//! made. Sent again (its answer was lost with an instance or a network), the same create
//! finds the key claimed and is answered that record as it is now (its current version:
//! what the client's next `If-Match` needs) instead of making another; sent twice at once,
//! the second waits on the key's row until the first commits (or rolls back, freeing the
//! key). Only a create that committed keeps its key: a refused one may be sent again.

use std::sync::atomic::Ordering;

use super::audit::Actor;
use super::{Db, EntityRef, Error, Record, sha256_hex};
use crate::schema::{Entity, Field, Value};

/// How long a key is kept: a day, time enough for any client's retries.
pub const KEPT_SECS: i64 = 24 * 3600;

/// Expired keys are swept after this many claims on an instance.
const SWEEP_EVERY: u32 = 1000;

/// A create to be made at most once: what names it (the entity, who asks, their key) and
/// what it holds, each as a SHA-256 (neither a key nor a body is kept in clear).
#[derive(Clone, Debug)]
pub struct Once {
    scope: String,
    body: String,
    now: i64,
}

impl Once {
    /// The create of `entity` named `key` by `principal` (their user and API key: another
    /// user's key of the same text is another create), with `body`.
    pub fn new(entity: &str, principal: &str, key: &str, body: &Record) -> Once {
        // As JSON, so that the parts cannot run into each other.
        let scope = serde_json::to_string(&[entity, principal, key]).unwrap_or_default();
        let body = serde_json::to_string(body).unwrap_or_default();
        Once {
            scope: sha256_hex(&scope),
            body: sha256_hex(&body),
            now: chrono::Utc::now().timestamp(),
        }
    }
}

/// What a create with a key did.
#[derive(Debug)]
pub enum Created {
    /// It made this record.
    New(Record),
    /// The key had made the record of this key (as the API sends it in paths) before:
    /// nothing new was made.
    Replayed(String),
    /// The key had made a record from another body: nothing was made.
    KeyReused,
}

/// The key's row as the create that claimed it left it.
fn stored() -> Entity {
    Entity::new("_idempotency")
        .table("autoadmin_idempotency")
        .field(Field::string("body_sha256"))
        .field(Field::string("record_key"))
        .field(Field::integer("expires_at"))
}

impl Db {
    /// Creates the table of keys if it is not there.
    pub async fn ensure_idempotency_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().idempotency_table())
            .await?;
        self.ensure_index(
            "autoadmin_idempotency_expiry",
            "autoadmin_idempotency",
            "expires_at",
        )
        .await;
        Ok(())
    }

    /// [`Db::create`], made once for `once`: the record made, the key of the one made
    /// before with the same key and body, or a refusal when the key was used with another
    /// body.
    pub async fn create_once(
        &self,
        entity: EntityRef,
        body: Record,
        actor: Actor,
        once: Once,
    ) -> Result<Created, Error> {
        // At most: claimed by another, found expired and forgotten, claimed here.
        for attempt in 0..3 {
            let made = self
                .create_claiming(
                    entity.clone(),
                    body.clone(),
                    actor.clone(),
                    Some(once.clone()),
                )
                .await?;
            if let Some(record) = made {
                if self.claims_since_sweep.fetch_add(1, Ordering::Relaxed) + 1 >= SWEEP_EVERY {
                    self.claims_since_sweep.store(0, Ordering::Relaxed);
                    self.forget_keys(None, once.now).await?;
                }
                return Ok(Created::New(record));
            }
            // Claimed by a create that committed: read after it, outside that transaction.
            let Some(row) = self.claimed(&once).await? else {
                // Swept in between (it had expired): claimed again.
                continue;
            };
            let text = |name: &str| row.get(name).and_then(|v| v.as_str()).unwrap_or_default();
            let expires_at = row.get("expires_at").and_then(|v| v.as_i64()).unwrap_or(0);
            if expires_at < once.now && attempt == 0 {
                // An expired key is anyone's again. Forgotten outside any create's
                // transaction: a DELETE there would lock the key's gap (InnoDB), where
                // concurrent claims would deadlock.
                self.forget_keys(Some(&once.scope), once.now).await?;
                continue;
            }
            if text("body_sha256") != once.body {
                return Ok(Created::KeyReused);
            }
            return Ok(Created::Replayed(text("record_key").to_owned()));
        }
        Err(Error::Unavailable(
            "the Idempotency-Key was claimed and forgotten while this create ran: send it again"
                .into(),
        ))
    }

    /// The row of `once`'s key, if there is one.
    async fn claimed(&self, once: &Once) -> Result<Option<Record>, Error> {
        let select = self.numbered(
            "SELECT body_sha256, record_key, expires_at FROM autoadmin_idempotency WHERE scope_sha256 = ?",
            vec![Value::Text(once.scope.clone())],
        );
        let entity = stored();
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| conn
            .fetch_optional(&select, &entity))
    }

    /// Forgets the keys that expired by `now` (of `scope` alone, if given).
    async fn forget_keys(&self, scope: Option<&str>, now: i64) -> Result<(), Error> {
        let delete = match scope {
            Some(scope) => self.numbered(
                "DELETE FROM autoadmin_idempotency WHERE scope_sha256 = ? AND expires_at < ?",
                vec![Value::Text(scope.to_owned()), Value::Int(now)],
            ),
            None => self.numbered(
                "DELETE FROM autoadmin_idempotency WHERE expires_at < ?",
                vec![Value::Int(now)],
            ),
        };
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| conn.execute(&delete)).map(drop)
    }
}

impl super::tx::Tx {
    /// Claims `once`'s key for this transaction's create: `false` when a create that
    /// committed holds it (this one then makes nothing).
    pub(super) async fn claim(&mut self, once: &Once) -> Result<bool, Error> {
        let claim = self.db.numbered(
            self.db.dialect().claim_key(),
            vec![
                Value::Text(once.scope.clone()),
                Value::Text(once.body.clone()),
                Value::Int(once.now.saturating_add(KEPT_SECS)),
            ],
        );
        Ok(self.execute(&claim).await?.rows_affected > 0)
    }

    /// Keeps the key of `record` as what `once`'s create (claimed by this transaction) made.
    pub(super) async fn keep_answer(&mut self, once: &Once, record: &Record) -> Result<(), Error> {
        let key = record.get(&self.entity.primary_key).cloned();
        let key = super::write::key_text(&key.unwrap_or_default());
        let keep = self.db.numbered(
            "UPDATE autoadmin_idempotency SET record_key = ? WHERE scope_sha256 = ?",
            vec![Value::Text(key), Value::Text(once.scope.clone())],
        );
        self.execute(&keep).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_clients_own_and_the_entitys() {
        let body = Record::new();
        let a = Once::new("posts", "alice", "k1", &body);
        assert_eq!(a.scope, Once::new("posts", "alice", "k1", &body).scope);
        assert_ne!(a.scope, Once::new("posts", "bob", "k1", &body).scope);
        assert_ne!(a.scope, Once::new("tags", "alice", "k1", &body).scope);
        assert_ne!(
            Once::new("posts", "alice\nk", "1", &body).scope,
            Once::new("posts", "alice", "k\n1", &body).scope
        );
        assert_eq!(a.scope.len(), 64);
    }
}
