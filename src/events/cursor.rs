//! Where a follower of the audit log is, and which ids below that it has not seen yet.
//!
//! Ids are handed out when a row is inserted, not when its transaction commits: a write that
//! took id 7 may commit after the one that took 8. A follower that only asked for ids above
//! the highest it has seen would miss 7 for ever. So the ids it passed over are kept as
//! missing for a while (`wait`: longer than a write's transaction may last) and looked for
//! again on every poll; one that never comes (a rolled-back write, or an id Galera or a
//! sequence's cache skipped) is forgotten after that time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A gap wider than this is not tracked id by id (a sequence that jumped, not writes in
/// flight): its ids are given up at once.
const WIDEST_GAP: i64 = 1_000;

/// At most this many missing ids are kept; the oldest go first.
const MOST_MISSING: usize = 10_000;

/// At most this many missing ids are looked for in one poll (the newest).
pub const LOOKED_FOR: usize = 500;

#[derive(Debug)]
pub struct Cursor {
    /// The highest id seen.
    pub last: i64,
    /// Ids below `last` not seen yet, with when they were first missed.
    missing: BTreeMap<i64, Instant>,
    wait: Duration,
}

impl Cursor {
    pub fn new(last: i64, wait: Duration) -> Cursor {
        Cursor {
            last,
            missing: BTreeMap::new(),
            wait,
        }
    }

    /// Takes note of id `id` read at `now`; whether it is new (not seen before).
    pub fn saw(&mut self, id: i64, now: Instant) -> bool {
        if id > self.last {
            if id - self.last <= WIDEST_GAP {
                for skipped in self.last + 1..id {
                    self.missing.insert(skipped, now);
                }
            }
            while self.missing.len() > MOST_MISSING {
                self.missing.pop_first();
            }
            self.last = id;
            return true;
        }
        self.missing.remove(&id).is_some()
    }

    /// The missing ids still worth looking for at `now` (the newest first), after forgetting
    /// those missing for longer than the wait.
    pub fn missing(&mut self, now: Instant) -> Vec<i64> {
        self.missing
            .retain(|_, since| now.duration_since(*since) < self.wait);
        self.missing
            .keys()
            .rev()
            .take(LOOKED_FOR)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_committed_late_is_seen_once() {
        let start = Instant::now();
        let mut cursor = Cursor::new(5, Duration::from_secs(10));
        assert!(cursor.saw(6, start));
        // 7 and 8 are in flight; 9 committed first.
        assert!(cursor.saw(9, start));
        assert_eq!(cursor.missing(start), vec![8, 7]);
        assert!(cursor.saw(7, start));
        assert!(!cursor.saw(7, start));
        assert!(!cursor.saw(9, start));
        assert_eq!(cursor.missing(start), vec![8]);
        // 8 was rolled back: given up after the wait.
        assert_eq!(
            cursor.missing(start + Duration::from_secs(11)),
            Vec::<i64>::new()
        );
        assert!(!cursor.saw(8, start + Duration::from_secs(12)));
        assert_eq!(cursor.last, 9);
    }

    #[test]
    fn a_jump_is_not_tracked_id_by_id() {
        let now = Instant::now();
        let mut cursor = Cursor::new(0, Duration::from_secs(10));
        assert!(cursor.saw(1_000_000, now));
        assert!(cursor.missing(now).is_empty());
        assert!(cursor.saw(1_000_002, now));
        assert_eq!(cursor.missing(now), vec![1_000_001]);
    }

    #[test]
    fn missing_ids_are_bounded() {
        let now = Instant::now();
        let mut cursor = Cursor::new(0, Duration::from_secs(10));
        // Galera's auto_increment_increment = 3: two ids of three are never used here.
        for n in 1..=20_000 {
            cursor.saw(3 * n, now);
        }
        assert_eq!(cursor.missing.len(), MOST_MISSING);
        assert_eq!(cursor.missing(now).len(), LOOKED_FOR);
        assert_eq!(cursor.missing(now)[0], 59_999);
    }
}
