//! Login rate limiting: a fixed window per client address (every attempt counts) and per
//! user name (failures count; a success clears them), so that neither one address trying
//! many names nor many addresses trying one name get far. In memory: each instance limits
//! what reaches it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_address: u32,
    per_user: u32,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_address: u32, per_user: u32) -> LoginLimiter {
        LoginLimiter {
            window,
            per_address,
            per_user,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `address` for `user`; `Err(retry_after)` when either is over
    /// its limit.
    pub fn attempt(&self, address: &str, user: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget finished windows now and then, so the map stays small.
        if counts.len() > 10_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let over = |counts: &HashMap<String, (Instant, u32)>, key: &str, limit: u32| {
            counts.get(key).and_then(|(start, n)| {
                let elapsed = now.duration_since(*start);
                (elapsed < self.window && *n >= limit).then(|| self.window - elapsed)
            })
        };
        let address_key = format!("address:{address}");
        let user_key = format!("user:{user}");
        if let Some(wait) = over(&counts, &address_key, self.per_address)
            .or_else(|| over(&counts, &user_key, self.per_user))
        {
            return Err(wait);
        }
        bump(&mut counts, address_key, now, self.window);
        Ok(())
    }

    /// A failed attempt counts against the user name.
    pub fn failed(&self, user: &str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        bump(
            &mut counts,
            format!("user:{user}"),
            Instant::now(),
            self.window,
        );
    }

    /// A successful login clears the user name's failures.
    pub fn succeeded(&self, user: &str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.remove(&format!("user:{user}"));
    }
}

fn bump(counts: &mut HashMap<String, (Instant, u32)>, key: String, now: Instant, window: Duration) {
    let entry = counts.entry(key).or_insert((now, 0));
    if now.duration_since(entry.0) >= window {
        *entry = (now, 0);
    }
    entry.1 += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_addresses_and_user_names() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 2);
        assert!(limiter.attempt("a", "ann").is_ok());
        limiter.failed("ann");
        assert!(limiter.attempt("a", "ann").is_ok());
        limiter.failed("ann");
        assert!(
            limiter.attempt("b", "ann").is_err(),
            "two failures for ann, from any address"
        );
        assert!(limiter.attempt("a", "bob").is_ok());
        assert!(limiter.attempt("a", "cy").is_ok());
        assert!(limiter.attempt("a", "dee").is_ok());
        let wait = limiter.attempt("a", "eve").unwrap_err();
        assert!(
            wait <= Duration::from_secs(60) && wait > Duration::from_secs(50),
            "five attempts from a"
        );
        limiter.succeeded("ann");
        assert!(
            limiter.attempt("c", "ann").is_ok(),
            "a success clears the name"
        );
    }
}
