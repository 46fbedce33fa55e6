//! Login rate limiting: a fixed window per client address (every attempt counts) and per
//! user name (failures count; a success clears them), so that neither one address trying
//! many names nor many addresses trying one name get far. The counts are kept in the
//! database (`autoadmin_login_attempts`), so that the limits hold across every instance
//! behind a load balancer, not per instance.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::Error;
use crate::db::Db;

/// Attempts between two sweeps of the finished windows' counters.
const SWEEP_EVERY: u32 = 1000;

pub struct LoginLimiter {
    db: Db,
    window: Duration,
    per_address: u32,
    per_user: u32,
    since_sweep: AtomicU32,
}

impl LoginLimiter {
    pub fn new(db: Db, window: Duration, per_address: u32, per_user: u32) -> LoginLimiter {
        LoginLimiter {
            db,
            window,
            per_address,
            per_user,
            since_sweep: AtomicU32::new(0),
        }
    }

    /// Counts an attempt from `address` for `user`: 429 (`TooManyAttempts`) when either is
    /// over its limit.
    pub async fn attempt(&self, address: &str, user: &str) -> Result<(), Error> {
        let now = now();
        let expired = now - self.window_secs();
        if let Some((failures, start)) = self.db.login_counter(&user_key(user)).await?
            && start > expired
            && failures >= i64::from(self.per_user)
        {
            return Err(self.too_many(start, now));
        }
        let (attempts, start) = self
            .db
            .count_login(&address_key(address), now, expired)
            .await?;
        if self.since_sweep.fetch_add(1, Ordering::Relaxed) + 1 >= SWEEP_EVERY {
            self.since_sweep.store(0, Ordering::Relaxed);
            self.db.sweep_login_counters(expired).await?;
        }
        if attempts > i64::from(self.per_address) {
            return Err(self.too_many(start, now));
        }
        Ok(())
    }

    /// A failed attempt counts against the user name.
    pub async fn failed(&self, user: &str) -> Result<(), Error> {
        let now = now();
        let expired = now - self.window_secs();
        self.db.count_login(&user_key(user), now, expired).await?;
        Ok(())
    }

    /// A successful login clears the user name's failures.
    pub async fn succeeded(&self, user: &str) -> Result<(), Error> {
        Ok(self.db.clear_login_counter(&user_key(user)).await?)
    }

    fn window_secs(&self) -> i64 {
        i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX / 2)
    }

    /// The refusal of an attempt in the window that began at `start`: retry when it ends.
    fn too_many(&self, start: i64, now: i64) -> Error {
        let wait = (start + self.window_secs() - now).max(1);
        Error::TooManyAttempts(u64::try_from(wait).unwrap_or(1))
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn address_key(address: &str) -> String {
    counter_name("address", address)
}

fn user_key(user: &str) -> String {
    counter_name("user", user)
}

/// The name of a counter: the SHA-256 of what it counts, so that none is kept in clear.
fn counter_name(kind: &str, value: &str) -> String {
    super::keys::sha256_hex(&format!("{kind}:{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_apart_and_never_in_clear() {
        let ann = user_key("ann");
        assert_eq!(ann.len(), 64);
        assert!(!ann.contains("ann"));
        assert_ne!(ann, address_key("ann"));
        assert_eq!(ann, user_key("ann"));
    }
}
