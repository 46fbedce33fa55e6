//! Imports as they run on this instance: each one's counts (what `GET /_imports/{id}` says
//! while it runs), whether someone asked to cancel it, and whether its file has arrived
//! whole (an import answers only once it has, however long it waits).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::report::Counts;

/// What an import has done so far, shared between its task and the requests about it.
#[derive(Debug, Default)]
pub struct Progress {
    counts: [AtomicU64; 5],
    cancel: AtomicBool,
    cancelling: tokio::sync::Notify,
    received: AtomicBool,
    arrived: tokio::sync::Notify,
}

impl Progress {
    pub fn set(&self, counts: Counts) {
        let values = [
            counts.rows,
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.failed,
        ];
        for (slot, value) in self.counts.iter().zip(values) {
            slot.store(value, Ordering::Relaxed);
        }
    }

    pub fn counts(&self) -> Counts {
        let [rows, inserted, updated, unchanged, failed] =
            self.counts.each_ref().map(|c| c.load(Ordering::Relaxed));
        Counts {
            rows,
            inserted,
            updated,
            unchanged,
            failed,
        }
    }

    /// Asks the import to stop at its next batch, or at once while it waits for its file.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
        self.cancelling.notify_waiters();
    }

    /// Waits until someone asks the import to stop.
    pub async fn cancel_asked(&self) {
        loop {
            let asked = self.cancelling.notified();
            if self.cancelled() {
                return;
            }
            asked.await;
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }

    /// The file has been read to its end (a workbook: has arrived) and its header row was
    /// accepted: a client waiting for the import may be answered 202 from now on.
    pub fn mark_received(&self) {
        self.received.store(true, Ordering::Release);
        self.arrived.notify_waiters();
    }

    /// Waits until the file has been read to its end.
    pub async fn received(&self) {
        loop {
            let arrived = self.arrived.notified();
            if self.received.load(Ordering::Acquire) {
                return;
            }
            arrived.await;
        }
    }
}

/// An import running on this instance.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub entity: String,
    pub owner: Option<String>,
    /// Milliseconds since 1970.
    pub started_at: i64,
    pub progress: Arc<Progress>,
    /// Its place among the imports that may run at once, given back as it ends.
    pub place: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The imports running on this instance, by id.
#[derive(Debug, Default)]
pub struct Jobs(Mutex<HashMap<String, Arc<Job>>>);

impl Jobs {
    /// Adds a job; `false` if one of that id runs already.
    pub fn add(&self, job: Arc<Job>) -> bool {
        let Ok(mut jobs) = self.0.lock() else {
            return false;
        };
        if jobs.contains_key(&job.id) {
            return false;
        }
        jobs.insert(job.id.clone(), job);
        true
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.0.lock().ok()?.get(id).cloned()
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut jobs) = self.0.lock() {
            jobs.remove(id);
        }
    }
}

/// Milliseconds since 1970, now.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn received_wakes_a_waiter_whenever_it_started_waiting() {
        let progress = Arc::new(Progress::default());
        let waiter = tokio::spawn({
            let progress = progress.clone();
            async move { progress.received().await }
        });
        tokio::task::yield_now().await;
        progress.mark_received();
        waiter.await.unwrap();
        // Already received: no wait at all.
        progress.received().await;
        progress.set(Counts {
            rows: 3,
            failed: 1,
            ..Counts::default()
        });
        assert_eq!(progress.counts().rows, 3);
        assert_eq!(progress.counts().failed, 1);
    }
}
