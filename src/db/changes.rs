//! The audit log read as a feed of changes (`crate::events` follows it): its rows after a
//! position, the rows of ids it has not seen yet, the newest position. Every committed write
//! through autoadmin has its rows there, on every backend, so the log is the one order of
//! changes that every instance over the database shares.

use std::sync::Arc;

use tokio::sync::Notify;

use super::{Db, EntityRef, Error, Record};
use crate::query::{Comparison, Condition, Filter, ListQuery};
use crate::schema::{Direction, Value};

impl Db {
    /// The audit rows after `position` (an audit id), oldest first, at most `limit`.
    pub async fn changes_after(
        &self,
        audit: &EntityRef,
        position: i64,
        limit: u64,
    ) -> Result<Vec<Record>, Error> {
        let after = super::compare(audit, "id", Comparison::Gt, Value::Int(position));
        self.all(audit, &feed(audit, vec![after], Direction::Asc, limit))
            .await
    }

    /// The audit rows among `ids` (ids the feed passed over, whose writes may not have been
    /// committed then).
    pub async fn changes_among(
        &self,
        audit: &EntityRef,
        ids: &[i64],
    ) -> Result<Vec<Record>, Error> {
        let among = Filter {
            field: super::field_index(audit, "id"),
            condition: Condition::In(ids.iter().map(|id| Value::Int(*id)).collect()),
        };
        let limit = ids.len() as u64;
        self.all(audit, &feed(audit, vec![among], Direction::Asc, limit))
            .await
    }

    /// The newest audit id (0 when the log is empty): where a feed that starts now starts.
    pub async fn newest_change(&self, audit: &EntityRef) -> Result<i64, Error> {
        let rows = self
            .all(audit, &feed(audit, Vec::new(), Direction::Desc, 1))
            .await?;
        Ok(rows
            .first()
            .and_then(|row| row.get("id"))
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0))
    }

    /// What a follower of the feed waits on besides its interval: a write committed on this
    /// instance (so that its own changes go out at once).
    pub fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// Tells the other instances, after commits here, that the log has new rows, until
    /// `stop`: one `NOTIFY` at a time, however many commits came meanwhile. Sent after the
    /// commit rather than in the write's transaction: a notifying transaction takes a lock that
    /// every other notifying commit waits for (docs/performance.md, "Live updates": 16
    /// writers, 2,603 commits a second with it inside, 5,433 beside this loop, 6,793 without).
    /// Where the database has no notifications, returns at once.
    pub async fn announce_commits(&self, stop: tokio_util::sync::CancellationToken) {
        let Some(statement) = self.dialect().notify_followers() else {
            return;
        };
        let mut failing = false;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.announce.notified() => {}
            }
            match self.execute_script(statement).await {
                Ok(()) => failing = false,
                Err(error) if !failing => {
                    tracing::warn!("live updates: cannot tell the other instances: {error}");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    }

    /// ...and a commit of audit rows by any instance, where the database says so at once
    /// (PostgreSQL's `NOTIFY`, on a connection of its own; not through a transaction pooler).
    pub async fn wakeups(&self) -> Result<super::Wakeups, Error> {
        self.pool
            .wakeups(&self.url.0)
            .await
            .map_err(|err| Error::Unavailable(err.to_string()))
    }
}

/// The audit log's rows matching `filters`, by id in `direction`, at most `limit`.
fn feed(audit: &EntityRef, filters: Vec<Filter>, direction: Direction, limit: u64) -> ListQuery {
    ListQuery::rows(filters, super::field_index(audit, "id"), direction, limit)
}
