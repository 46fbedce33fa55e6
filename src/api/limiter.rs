//! The admission limit that follows the database: how many requests may run at once, found
//! from how much slower they run than when the server is idle.
//!
//! A fixed limit is right for one kind of request only: twenty gets at once keep their
//! latency, twenty exact-count lists on two cores take four times theirs. So each kind of
//! request (method and route, entity included) keeps its *baseline*: its latency when it
//! started with at most [`UNLOADED`] others running, which under overload never happens and so
//! never creeps up. Every finished request says how much slower it was than its kind's
//! baseline; every window, the mean of those slowdowns sets the limit, as in Netflix's
//! gradient limiter: above [`TOLERANCE`] the limit shrinks in proportion (at most by half), at
//! or below it the limit grows by one. The limit stays between 1 and the configured
//! `max_in_flight`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A request that started with at most this many running (itself included) measured its
/// kind's unloaded latency.
pub const UNLOADED: usize = 2;

/// How much slower than their baseline requests may run before the limit shrinks.
const TOLERANCE: f64 = 1.25;

/// The shortest window; a window also waits for as many samples as the limit.
const WINDOW: Duration = Duration::from_millis(100);

pub struct Limiter {
    limit: f64,
    max: f64,
    baselines: HashMap<String, f64>,
    slowdowns: f64,
    samples: u32,
    window_start: Instant,
}

impl Limiter {
    pub fn new(max: usize) -> Limiter {
        Limiter {
            limit: max as f64,
            max: max as f64,
            baselines: HashMap::new(),
            slowdowns: 0.0,
            samples: 0,
            window_start: Instant::now(),
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.limit.round().max(1.0) as usize
    }

    /// A request of `kind` took `latency`, having started with `running` requests running
    /// (itself included). Returns the limit, changed at the end of a window.
    pub fn sample(&mut self, kind: &str, latency: Duration, running: usize) -> usize {
        let latency = latency.as_secs_f64().max(1e-6);
        if running <= UNLOADED {
            // Smoothed: one quick answer (a cached page) does not make the baseline.
            match self.baselines.get_mut(kind) {
                Some(baseline) => *baseline = 0.8 * *baseline + 0.2 * latency,
                None => {
                    self.baselines.insert(kind.to_owned(), latency);
                }
            }
        }
        if let Some(baseline) = self.baselines.get(kind) {
            self.slowdowns += (latency / baseline).max(1.0);
            self.samples += 1;
        }
        if self.samples > 0
            && self.samples as f64 >= self.limit.min(32.0)
            && self.window_start.elapsed() >= WINDOW
        {
            let slowdown = self.slowdowns / f64::from(self.samples);
            let gradient = (TOLERANCE / slowdown).clamp(0.5, 1.0);
            let next = if gradient < 1.0 {
                self.limit * gradient
            } else {
                self.limit + 1.0
            };
            self.limit = next.clamp(1.0, self.max);
            self.slowdowns = 0.0;
            self.samples = 0;
            self.window_start = Instant::now();
        }
        self.limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` windows of samples whose latency is `latency(limit)`.
    fn run(limiter: &mut Limiter, windows: usize, latency: impl Fn(usize) -> Duration) {
        for _ in 0..windows {
            limiter.window_start = Instant::now() - WINDOW;
            let limit = limiter.limit();
            for _ in 0..limit.max(1) {
                limiter.sample("GET /posts", latency(limit), limit);
            }
        }
    }

    #[test]
    fn a_database_that_serves_two_at_once_gets_a_limit_near_two() {
        let mut limiter = Limiter::new(20);
        // Idle: 60 ms.
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        // Beyond two at once, each takes longer in proportion (two cores).
        let latency = |running: usize| Duration::from_millis(60 * (running.max(2) as u64) / 2);
        run(&mut limiter, 50, latency);
        assert!((2..=3).contains(&limiter.limit()), "{}", limiter.limit());
    }

    #[test]
    fn requests_that_keep_their_latency_raise_the_limit_to_the_maximum() {
        let mut limiter = Limiter::new(20);
        limiter.sample("GET /posts", Duration::from_millis(1), 1);
        run(&mut limiter, 10, |_| Duration::from_millis(5));
        assert!(limiter.limit() < 20);
        // Requests that take their idle time again: the limit climbs back.
        run(&mut limiter, 40, |_| Duration::from_millis(1));
        assert_eq!(limiter.limit(), 20);
    }

    #[test]
    fn kinds_are_compared_with_their_own_baseline() {
        let mut limiter = Limiter::new(20);
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        limiter.sample("GET /posts/{id}", Duration::from_millis(1), 1);
        // A mix of both, each at its idle latency, under load: nothing to shed.
        for _ in 0..20 {
            limiter.window_start = Instant::now() - WINDOW;
            for _ in 0..20 {
                limiter.sample("GET /posts", Duration::from_millis(60), 20);
                limiter.sample("GET /posts/{id}", Duration::from_millis(1), 20);
            }
        }
        assert_eq!(limiter.limit(), 20);
    }
}
