//! Which tokens still open a session: a token names its session and its user's generation;
//! a logout ends the one session, "log out everywhere" (or an administrator) raises the
//! generation, which ends them all. Both are kept in the database (`crate::db`'s
//! `sessions.rs`), so every instance sees them; each instance remembers what it read for
//! `revocation_delay_secs`, so that a request does not cost a round trip, and what it wrote
//! at once.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Error;
use super::token::Claims;
use crate::db::Db;

/// What is known of a user's sessions, and since when.
#[derive(Clone, Debug)]
struct Known {
    generation: i64,
    ended: HashSet<String>,
    read_at: Instant,
}

pub struct Sessions {
    db: Db,
    delay: Duration,
    /// Bounded by the configured users.
    known: Mutex<HashMap<String, Known>>,
}

fn unavailable(error: crate::db::Error) -> Error {
    Error::Unavailable(error.to_string())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Sessions {
    pub fn new(db: Db, delay: Duration) -> Sessions {
        Sessions {
            db,
            delay,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The generation a new session of `user` starts at.
    pub async fn generation(&self, user: &str) -> Result<i64, Error> {
        Ok(self.read(user).await?.generation)
    }

    /// Whether `claims` still open a session: 401 if it was ended.
    pub async fn check(&self, claims: &Claims) -> Result<(), Error> {
        let remembered = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&claims.sub)
            .filter(|known| known.read_at.elapsed() < self.delay)
            .cloned();
        let known = match remembered {
            Some(known) => known,
            None => self.read(&claims.sub).await?,
        };
        if known.generation != claims.generation || known.ended.contains(&claims.sid) {
            return Err(Error::Unauthorized(
                "the token was revoked (logged out): log in again".into(),
            ));
        }
        Ok(())
    }

    /// Ends the session of `claims`: on this instance at once, on the others within the
    /// delay.
    pub async fn end(&self, claims: &Claims) -> Result<(), Error> {
        if claims.sid.is_empty() {
            // A token made before sessions had ids: only its generation can end it.
            return self.end_all(&claims.sub).await;
        }
        self.db
            .revoke_session(&claims.sub, &claims.sid, claims.exp, now())
            .await
            .map_err(unavailable)?;
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = known.get_mut(&claims.sub) {
            known.ended.insert(claims.sid.clone());
        }
        Ok(())
    }

    /// Ends every session of `user`.
    pub async fn end_all(&self, user: &str) -> Result<(), Error> {
        self.db
            .bump_session_generation(user)
            .await
            .map_err(unavailable)?;
        self.read(user).await.map(drop)
    }

    /// What the database says of `user`'s sessions now (and remembered).
    async fn read(&self, user: &str) -> Result<Known, Error> {
        let generation = self
            .db
            .session_generation(user)
            .await
            .map_err(unavailable)?;
        let ended: HashSet<String> = self
            .db
            .revoked_sessions(user, now())
            .await
            .map_err(unavailable)?
            .into_iter()
            .collect();
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let entry = known.entry(user.to_owned()).or_insert_with(|| Known {
            generation,
            ended: ended.clone(),
            read_at: Instant::now(),
        });
        // Generations only grow, and ended sessions stay ended: a read that started before
        // a logout and ends after it must not bring the old state back. (What is
        // remembered longer than the delay gives way, so that the tables stay the
        // authority if someone resets them.)
        let stale = entry.read_at.elapsed() >= self.delay;
        if generation >= entry.generation || stale {
            entry.generation = generation;
        }
        if stale {
            entry.ended = ended;
        } else {
            entry.ended.extend(ended);
        }
        entry.read_at = Instant::now();
        Ok(entry.clone())
    }
}
