//! Events that come by the thousand under load (refusals, failed accepts) are logged as one
//! line per interval with their count: 10,000 lines in 45 s said nothing more than that.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A count of events, due in the log at most once per `every`.
pub struct Summary {
    every: Duration,
    count: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl Summary {
    pub const fn new(every: Duration) -> Summary {
        Summary {
            every,
            count: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    /// Counts one event; returns the events to log (this one included) when a line is due:
    /// at the first, then at the first after each interval.
    pub fn add(&self) -> Option<u64> {
        self.count.fetch_add(1, Ordering::Relaxed);
        // Another thread logging now takes this one into its count or the next.
        let mut last = self.last.try_lock().ok()?;
        if last.is_some_and(|at| at.elapsed() < self.every) {
            return None;
        }
        *last = Some(Instant::now());
        Some(self.count.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_event_is_due_then_one_line_per_interval_counts_the_rest() {
        let summary = Summary::new(Duration::from_millis(50));
        assert_eq!(summary.add(), Some(1));
        for _ in 0..99 {
            assert_eq!(summary.add(), None);
        }
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(summary.add(), Some(100));
        assert_eq!(summary.add(), None);
    }
}
