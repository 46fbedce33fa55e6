//! Read replicas (`[admin] replica_urls`, PostgreSQL streaming replicas): list, get, count,
//! aggregate and export reads go to a replica that is up, no more than `replica_max_lag_ms`
//! behind the primary, and has replayed the client's own writes; everything else, and every
//! read no replica can serve, to the primary.
//!
//! Positions are the primary's log (WAL) positions, as numbers. A monitor task reads the
//! primary's position and each replica's replayed one every [`CHECK`]; a replica's lag is
//! the time since the primary was first seen past what the replica has replayed. A client's
//! writes are remembered by the position after them (here, per client, and sent to the
//! client as `X-Write-Position`, which it may send back as `X-Read-After` to any instance).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use super::sql::Sql;
use super::{Db, Error, Settings};

/// How often the monitor reads the positions.
const CHECK: Duration = Duration::from_millis(100);
/// How long a replica may take to say its position before it counts as down.
const ANSWER: Duration = Duration::from_secs(1);
/// How long the primary's positions are kept, to tell a replica's lag: a replica further
/// behind is as good as down.
const HISTORY: Duration = Duration::from_secs(120);
/// Clients whose writes are remembered here at once; past it, every earlier client's writes
/// count as the newest of them (reads then wait for that, which is never wrong).
const CLIENTS: usize = 100_000;

/// The replicas of one primary, and what is known of them.
pub struct Replicas {
    members: Arc<[Member]>,
    max_lag: Duration,
    next: AtomicUsize,
    written: Mutex<Written>,
    monitor: JoinHandle<()>,
}

struct Member {
    /// host:port, for the log (never the URL: it may hold a password).
    label: String,
    url: String,
    db: OnceCell<Db>,
    seen: Mutex<Seen>,
}

/// A replica's state at the last check.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// The position it has replayed; `None`: down, unreachable, or not a replica.
    replayed: Option<u64>,
    lag: Duration,
}

#[derive(Default)]
struct Written {
    clients: HashMap<u64, u64>,
    /// What every client forgotten (past [`CLIENTS`]) may have written up to.
    floor: u64,
}

impl Written {
    /// Remembers that `client` wrote up to `position`, keeping at most `room` clients.
    fn remember(&mut self, client: u64, position: u64, room: usize) {
        if self.clients.len() >= room && !self.clients.contains_key(&client) {
            let newest = self.clients.values().copied().max().unwrap_or(0);
            self.floor = self.floor.max(newest);
            self.clients.clear();
        }
        let entry = self.clients.entry(client).or_default();
        *entry = (*entry).max(position);
    }

    fn of(&self, client: u64) -> u64 {
        self.clients
            .get(&client)
            .copied()
            .unwrap_or(0)
            .max(self.floor)
    }
}

impl Replicas {
    /// Starts following the replicas at `urls` of `primary`; each is connected by the
    /// monitor (one that is down now is used once it answers).
    pub fn start(primary: &Db, urls: &[String], settings: &Settings, max_lag: Duration) -> Self {
        let members: Arc<[Member]> = urls
            .iter()
            .map(|url| Member {
                label: label(url),
                url: url.clone(),
                db: OnceCell::new(),
                seen: Mutex::new(Seen::default()),
            })
            .collect();
        let monitor = tokio::spawn(monitor(primary.clone(), members.clone(), settings.clone()));
        Replicas {
            members,
            max_lag,
            next: AtomicUsize::new(0),
            written: Mutex::new(Written::default()),
            monitor,
        }
    }

    /// A replica that may serve a read which must see every write up to `after` (a
    /// position), taking them in turn; `None`: the primary must.
    pub fn pick(&self, after: u64) -> Option<&Db> {
        let count = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|i| &self.members[(start + i) % count])
            .find(|member| {
                let seen = *member.seen.lock().expect("not poisoned");
                seen.replayed.is_some_and(|replayed| replayed >= after) && seen.lag <= self.max_lag
            })
            .and_then(|member| member.db.get())
    }

    /// The position `client`'s writes on this instance reach (0: none remembered).
    pub fn written_by(&self, client: u64) -> u64 {
        self.written.lock().expect("not poisoned").of(client)
    }

    /// Remembers that `client` wrote up to `position`.
    pub fn remember(&self, client: u64, position: u64) {
        let mut written = self.written.lock().expect("not poisoned");
        written.remember(client, position, CLIENTS);
    }

    /// The primary's position now: every write committed before is at or before it.
    pub async fn position(primary: &Db) -> Result<u64, Error> {
        let sql = Sql::new(position_sql(primary, Position::Primary)?, Vec::new());
        let (position, _) = read!(primary, |err| Error::Unavailable(err.to_string()), |conn| {
            async { conn.fetch_ints(&sql).await?.ok_or(sqlx::Error::RowNotFound) }
        })?;
        Ok(u64::try_from(position).unwrap_or(0))
    }

    /// Stops the monitor and closes the replicas' pools.
    pub async fn close(&self) {
        self.monitor.abort();
        for member in self.members.iter() {
            if let Some(db) = member.db.get() {
                db.close().await;
            }
        }
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        self.monitor.abort();
    }
}

enum Position {
    Primary,
    Replayed,
}

fn position_sql(db: &Db, which: Position) -> Result<&'static str, Error> {
    let dialect = db.dialect();
    match which {
        Position::Primary => dialect.log_position(),
        Position::Replayed => dialect.replayed_position(),
    }
    .ok_or_else(|| Error::Internal("read replicas are supported on PostgreSQL only".into()))
}

/// Reads the positions every [`CHECK`], forever (aborted with its `Replicas`).
async fn monitor(primary: Db, members: Arc<[Member]>, settings: Settings) {
    let mut history = History::default();
    let mut ticks = tokio::time::interval(CHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported: Vec<Option<bool>> = vec![None; members.len()];
    loop {
        ticks.tick().await;
        match Replicas::position(&primary).await {
            Ok(position) => history.push(Instant::now(), position),
            Err(error) => tracing::debug!("read replicas: the primary's position: {error}"),
        }
        for (member, reported) in members.iter().zip(reported.iter_mut()) {
            let replayed = replayed(&primary, member, &settings).await;
            let seen = Seen {
                replayed: replayed.as_ref().ok().copied(),
                lag: replayed.as_ref().map_or(Duration::MAX, |replayed| {
                    history.lag(*replayed, Instant::now())
                }),
            };
            *member.seen.lock().expect("not poisoned") = seen;
            let up = replayed.is_ok();
            if *reported != Some(up) {
                match &replayed {
                    Ok(_) => tracing::info!("read replica {} is in use", member.label),
                    Err(why) => tracing::warn!("read replica {} is not used: {why}", member.label),
                }
                *reported = Some(up);
            }
        }
    }
}

/// The position `member` has replayed, connecting it first if need be.
async fn replayed(primary: &Db, member: &Member, settings: &Settings) -> Result<u64, String> {
    let db = match member.db.get() {
        Some(db) => db,
        None => {
            let connect = primary.connect_replica(&member.url, settings);
            let db = tokio::time::timeout(ANSWER, connect)
                .await
                .map_err(|_| "it does not answer".to_owned())?
                .map_err(|error| error.to_string())?;
            member.db.get_or_init(|| async { db }).await
        }
    };
    let sql = position_sql(db, Position::Replayed).map_err(|error| error.to_string())?;
    let sql = Sql::new(sql, Vec::new());
    let ask = async {
        read!(db, |err| Error::Unavailable(err.to_string()), |conn| {
            async { conn.fetch_ints(&sql).await?.ok_or(sqlx::Error::RowNotFound) }
        })
    };
    match tokio::time::timeout(ANSWER, ask).await {
        Err(_) => Err("it does not answer".into()),
        Ok(Err(error)) => Err(error.to_string()),
        Ok(Ok((_, 0))) => Err("it is not a replica (not in recovery): promoted?".into()),
        Ok(Ok((replayed, _))) => Ok(u64::try_from(replayed).unwrap_or(0)),
    }
}

/// The primary's positions of the last [`HISTORY`], oldest first.
#[derive(Default)]
struct History(VecDeque<(Instant, u64)>);

impl History {
    fn push(&mut self, at: Instant, position: u64) {
        self.0.push_back((at, position));
        while self
            .0
            .front()
            .is_some_and(|(then, _)| at.duration_since(*then) > HISTORY)
        {
            self.0.pop_front();
        }
    }

    /// How long ago the primary was first seen past `replayed` (0: it never was; the
    /// whole history and more when it already was at its start).
    fn lag(&self, replayed: u64, now: Instant) -> Duration {
        match self.0.iter().find(|(_, position)| *position > replayed) {
            None => Duration::ZERO,
            Some((at, _)) if Some(at) == self.0.front().map(|(first, _)| first) => Duration::MAX,
            Some((at, _)) => now.duration_since(*at),
        }
    }
}

/// `host:port` of a database URL.
fn label(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    host.split(['/', '?']).next().unwrap_or(host).to_owned()
}

/// A position as PostgreSQL writes it (`16/B374D848`), for `X-Write-Position`.
pub fn format_position(position: u64) -> String {
    format!("{:X}/{:X}", position >> 32, position & 0xFFFF_FFFF)
}

/// A position as [`format_position`] writes it; `None` if it is not one.
pub fn parse_position(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let part = |hex: &str| {
        (!hex.is_empty() && hex.len() <= 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u64::from_str_radix(hex, 16).ok())
            .flatten()
    };
    Some(part(high)? << 32 | part(low)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_back_as_written() {
        for position in [0, 1, 0x16_B374_D848, u64::MAX] {
            assert_eq!(parse_position(&format_position(position)), Some(position));
        }
        assert_eq!(format_position(0x16_B374_D848), "16/B374D848");
        for bad in [
            "",
            "16",
            "/1",
            "1/",
            "g/1",
            "1/123456789",
            "1/2/3",
            " 1/2",
            "-1/2",
        ] {
            assert_eq!(parse_position(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lag_is_the_time_since_the_primary_passed_the_replica() {
        let start = Instant::now();
        let mut history = History::default();
        for (i, position) in [100, 200, 300, 300].into_iter().enumerate() {
            history.push(start + Duration::from_millis(100 * i as u64), position);
        }
        let now = start + Duration::from_millis(400);
        assert_eq!(history.lag(300, now), Duration::ZERO);
        assert_eq!(history.lag(250, now), Duration::from_millis(200));
        assert_eq!(history.lag(100, now), Duration::from_millis(300));
        // Behind the oldest position kept: further behind than can be told.
        assert_eq!(history.lag(50, now), Duration::MAX);
    }

    #[test]
    fn a_client_forgotten_for_room_counts_as_the_newest_writer() {
        let mut written = Written::default();
        written.remember(1, 10, 2);
        written.remember(2, 20, 2);
        written.remember(1, 15, 2);
        assert_eq!((written.of(1), written.of(2), written.of(9)), (15, 20, 0));
        // A third client: the two before are forgotten, as if they had written up to 20.
        written.remember(3, 5, 2);
        assert_eq!((written.of(1), written.of(3), written.of(9)), (20, 20, 20));
    }

    #[test]
    fn labels_leave_out_credentials() {
        assert_eq!(
            label("postgres://u:secret@db.example:5433/app?x=1"),
            "db.example:5433"
        );
        assert_eq!(
            label("postgres://127.0.0.1:15433/autoadmin"),
            "127.0.0.1:15433"
        );
    }
}
