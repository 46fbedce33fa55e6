//! Live updates: every committed write becomes an [`Event`] that the open screens of every
//! instance receive (`GET /api/_events`, `api/_events.rs`).
//!
//! The source is the audit log, on every backend: each write through autoadmin commits its
//! audit rows with it, and the log's ids are one order that all instances over the database
//! share, so a client that reconnects (to this instance or another) resumes from the id it
//! last saw (`Last-Event-ID`) by reading the table — there is no history in memory to lose.
//! One follower task per instance polls the log (`events_poll_ms`), at once after a write
//! committed here or, on PostgreSQL, when another instance notifies its commits (`LISTEN`;
//! each instance sends `NOTIFY` after its commits), and hands each new row to a `broadcast`
//! channel: a stream that falls
//! behind by more than the channel holds is ended (the browser reconnects and catches up from
//! the table), so a slow client never slows a writer or the other clients.

mod cursor;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, EntityRef, Record, audit};
use crate::schema::{Schema, value};
use cursor::Cursor;

/// Rows read in one poll of the log (more are read at once, in turns of this many).
const POLL_ROWS: u64 = 500;

/// Events a stream may fall behind by before it is ended.
const BUFFER: usize = 1024;

/// A follower with no stream to serve for this long stops (the next stream starts one).
const IDLE: Duration = Duration::from_secs(60);

/// One committed change of one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The audit row's id: the event's place in the log (SSE's `id:`).
    pub position: i64,
    pub entity: String,
    /// The record's key, typed as the entity's key is.
    pub id: Json,
    pub action: String,
    /// The record's version after the change, where the entity counts versions in a
    /// `version_field` (`"v8"`: the same for every reader); `None` where the version is a
    /// hash of what the reader may see, which differs by reader.
    pub version: Option<String>,
    pub by: Option<String>,
    pub at: Json,
    /// The request that made the change (`X-Request-Id`): a client knows its own writes.
    pub request: Option<String>,
    /// The event as its streams send it, written once for all of them.
    pub data: String,
}

impl Event {
    /// The event of audit row `row`, or `None` when no entity of `schema` is its subject (a
    /// row a cascade reached in a table no entity describes).
    pub fn of_row(schema: &Schema, row: &Record) -> Option<Event> {
        let text = |name: &str| row.get(name).and_then(Json::as_str);
        let entity = schema.entity(text("entity")?)?;
        let record = text("record_id")?;
        let id = value::parse_key(entity.key_field().field_type, record).map_or_else(
            |_| Json::String(record.to_owned()),
            |key| crate::db::key_json(&key),
        );
        let version = entity.version_field.as_deref().and_then(|name| {
            let number = row.get("after")?.get(name)?;
            Some(format!("v{}", crate::db::key_text(number)))
        });
        let mut event = Event {
            position: row.get("id").and_then(Json::as_i64)?,
            entity: entity.name.clone(),
            id,
            action: text("action")?.to_owned(),
            version,
            by: text("actor").map(str::to_owned),
            at: row.get("at").cloned().unwrap_or(Json::Null),
            request: text("request_id").map(str::to_owned),
            data: String::new(),
        };
        event.data = json!({
            "entity": event.entity,
            "id": event.id,
            "action": event.action,
            "version": event.version,
            "by": event.by,
            "at": event.at,
            "request": event.request,
        })
        .to_string();
        Some(event)
    }
}

/// The follower of the log and the channel of its events, one per admin.
pub struct Hub {
    sender: broadcast::Sender<Arc<Event>>,
    /// The highest log id the follower has read; `None` until it has read the log once.
    position: watch::Sender<Option<i64>>,
    follower: Arc<Mutex<Slot>>,
    /// The task that tells the other instances of this one's commits (`Db::announce_commits`).
    announcer: Mutex<Option<JoinHandle<()>>>,
    stop: CancellationToken,
    poll: Duration,
    /// How long an id passed over may still commit (`cursor.rs`).
    late: Duration,
}

/// The follower task, and whether it still runs. Both the follower's decision to stop (no
/// one listens) and a new subscription are made under its lock, so none is left unserved.
#[derive(Default)]
struct Slot {
    task: Option<JoinHandle<()>>,
    running: bool,
}

/// What a stream listens to.
pub struct Subscription {
    pub live: broadcast::Receiver<Arc<Event>>,
    pub position: watch::Receiver<Option<i64>>,
}

impl Hub {
    /// A hub that polls every `poll` once someone subscribes; ids passed over are looked for
    /// during `late`.
    pub fn new(poll: Duration, late: Duration) -> Hub {
        Hub {
            sender: broadcast::channel(BUFFER).0,
            position: watch::channel(None).0,
            follower: Arc::default(),
            announcer: Mutex::default(),
            stop: CancellationToken::new(),
            poll,
            late,
        }
    }

    /// The live events from now on, and where the log is; the first subscriber starts the
    /// follower (a server no one watches does not poll). `None` once the hub has stopped.
    pub fn subscribe(&self, db: &Db, schema: &Schema) -> Option<Subscription> {
        let mut slot = self.follower.lock().ok()?;
        if self.stop.is_cancelled() {
            return None;
        }
        let subscription = Subscription {
            live: self.sender.subscribe(),
            position: self.position.subscribe(),
        };
        // None yet, or one that stopped for want of listeners (`IDLE`): a new one.
        if !slot.running {
            let follow = Follower {
                db: db.clone(),
                schema: schema.clone(),
                sender: self.sender.clone(),
                position: self.position.clone(),
                slot: self.follower.clone(),
                late: self.late,
            };
            // The one before, if any, has returned or is returning (it let go of the slot).
            slot.task = Some(tokio::spawn(follow.run(self.poll, self.stop.clone())));
            slot.running = true;
        }
        Some(subscription)
    }

    /// Starts telling the other instances of this one's commits (whether or not anyone
    /// watches here: they may have streams of their own).
    pub fn announce(&self, db: &Db) {
        if let Ok(mut announcer) = self.announcer.lock()
            && announcer.is_none()
        {
            let (db, stop) = (db.clone(), self.stop.clone());
            *announcer = Some(tokio::spawn(async move { db.announce_commits(stop).await }));
        }
    }

    /// Cancelled when the server shuts down: streams end then.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Ends the streams and the follower, and waits for the follower to stop.
    pub async fn stop(&self) {
        self.stop.cancel();
        let follower = self
            .follower
            .lock()
            .ok()
            .and_then(|mut slot| slot.task.take());
        let announcer = self.announcer.lock().ok().and_then(|mut task| task.take());
        for task in [follower, announcer].into_iter().flatten() {
            let _ = task.await;
        }
    }
}

/// An admin dropped without [`Hub::stop`] (never served, or its `close` not called) takes
/// its tasks with it.
impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Ok(mut slot) = self.follower.lock()
            && let Some(task) = slot.task.take()
        {
            task.abort();
        }
        if let Ok(mut announcer) = self.announcer.lock()
            && let Some(task) = announcer.take()
        {
            task.abort();
        }
    }
}

/// The task that reads the log.
struct Follower {
    db: Db,
    schema: Schema,
    sender: broadcast::Sender<Arc<Event>>,
    position: watch::Sender<Option<i64>>,
    slot: Arc<Mutex<Slot>>,
    late: Duration,
}

impl Follower {
    async fn run(self, poll: Duration, stop: CancellationToken) {
        let Some(log) = EntityRef::new(&self.schema, audit::ENTITY) else {
            return;
        };
        let committed = self.db.committed();
        // Without them (no LISTEN here, or it failed), the interval alone finds the changes.
        let mut wakeups = match self.db.wakeups().await {
            Ok(wakeups) => Some(wakeups),
            Err(error) => {
                tracing::warn!("live updates: cannot listen for commits, polling only: {error}");
                None
            }
        };
        let mut cursor = None;
        let mut failing = false;
        let mut listened = Instant::now();
        loop {
            if self.sender.receiver_count() > 0 {
                listened = Instant::now();
            } else if listened.elapsed() > IDLE && self.stopped_idle() {
                return;
            }
            let step = tokio::select! {
                () = stop.cancelled() => return,
                step = self.step(&log, &mut cursor) => step,
            };
            match step {
                Ok(()) if failing => {
                    tracing::info!("live updates: the audit log is readable again");
                    failing = false;
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    tracing::warn!("live updates: cannot read the audit log: {error}");
                    failing = true;
                }
                Err(_) => {}
            }
            let notified = async {
                match &mut wakeups {
                    Some(wakeups) => wakeups.next(poll).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(poll) => {}
                () = committed.notified() => {}
                () = notified => {}
            }
        }
    }

    /// Stops following if still no one listens (decided under the slot's lock, where streams
    /// subscribe); where the log is will be read again by the next follower.
    fn stopped_idle(&self) -> bool {
        let Ok(mut slot) = self.slot.lock() else {
            return false;
        };
        if self.sender.receiver_count() > 0 {
            return false;
        }
        slot.running = false;
        self.position.send_replace(None);
        true
    }

    /// One poll: the new rows of the log, then those passed over that have come since.
    async fn step(
        &self,
        log: &EntityRef,
        cursor: &mut Option<Cursor>,
    ) -> Result<(), crate::db::Error> {
        let Some(cursor) = cursor else {
            let newest = self.db.newest_change(log).await?;
            *cursor = Some(Cursor::new(newest, self.late));
            self.position.send_replace(Some(newest));
            return Ok(());
        };
        loop {
            let rows = self.db.changes_after(log, cursor.last, POLL_ROWS).await?;
            self.publish(cursor, &rows);
            self.position.send_replace(Some(cursor.last));
            if (rows.len() as u64) < POLL_ROWS {
                break;
            }
        }
        let missing = cursor.missing(Instant::now());
        if !missing.is_empty() {
            let rows = self.db.changes_among(log, &missing).await?;
            self.publish(cursor, &rows);
        }
        Ok(())
    }

    fn publish(&self, cursor: &mut Cursor, rows: &[Record]) {
        let now = Instant::now();
        for row in rows {
            let Some(id) = row.get("id").and_then(Json::as_i64) else {
                continue;
            };
            if !cursor.saw(id, now) {
                continue;
            }
            if let Some(event) = Event::of_row(&self.schema, row) {
                // No stream listening is no error.
                let _ = self.sender.send(Arc::new(event));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Entity, Field};

    fn row(text: &str) -> Record {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn an_audit_row_is_an_event_of_a_described_entity() {
        let schema = Schema::new(vec![
            Entity::new("posts")
                .version_field("version")
                .field(Field::integer("id"))
                .field(Field::integer("version")),
            Entity::new("tags").field(Field::string("id")),
        ])
        .unwrap();
        let event = Event::of_row(
            &schema,
            &row(r#"{"id": 9, "entity": "posts", "record_id": "7",
            "action": "update", "actor": "bob", "at": "2026-12-03T10:00:00Z",
            "after": {"version": 8}, "request_id": "r1"}"#),
        )
        .unwrap();
        assert_eq!((event.position, event.id.clone()), (9, json!(7)));
        assert_eq!(event.version.as_deref(), Some("v8"));
        let data: Json = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            data,
            json!({"entity": "posts", "id": 7, "action": "update", "version": "v8",
                "by": "bob", "at": "2026-12-03T10:00:00Z", "request": "r1"})
        );
        // A text key stays text; no version_field, no version; no actor on an open admin.
        let tag = Event::of_row(
            &schema,
            &row(r#"{"id": 10, "entity": "tags", "record_id": "rust",
            "action": "delete", "actor": null, "at": "x"}"#),
        )
        .unwrap();
        assert_eq!((tag.id, tag.version, tag.by), (json!("rust"), None, None));
        // A row a cascade reached in a table no entity describes is no event.
        let cascade =
            row(r#"{"id": 11, "entity": "post_tags", "record_id": "1", "action": "delete"}"#);
        assert!(Event::of_row(&schema, &cascade).is_none());
    }
}
