//! Overload control: at most `max_in_flight` requests use the database at once; up to
//! `max_queued` more wait, each at most `admission_wait`, for one of those places; any other is
//! answered 503 with `Retry-After` at once, before it takes a connection, a statement or
//! memory. Only the routes that reach the database are admitted this way: health, login,
//! logout, the OpenAPI document and the app's files always answer.
//!
//! A refusal is not logged one by one (10,000 lines in 45 s under load said nothing more than
//! their count): at most one line per interval counts the refusals since the last.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;

/// The longest a run of refusals goes unreported in the log.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The places and the queue of one router.
pub struct Admission {
    places: Semaphore,
    max_in_flight: usize,
    queued: AtomicUsize,
    max_queued: usize,
    wait: Duration,
    refused: AtomicU64,
    last_report: Mutex<Instant>,
}

impl Admission {
    pub fn new(max_in_flight: u32, max_queued: u32, wait: Duration) -> Admission {
        let max_in_flight = max_in_flight.max(1) as usize;
        Admission {
            places: Semaphore::new(max_in_flight),
            max_in_flight,
            queued: AtomicUsize::new(0),
            max_queued: max_queued as usize,
            wait,
            refused: AtomicU64::new(0),
            last_report: Mutex::new(Instant::now()),
        }
    }

    /// Counts a refusal; the first refusal after an interval logs the count of the interval.
    fn refuse(&self) -> Response {
        self.refused.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_report.try_lock()
            && last.elapsed() >= REPORT_EVERY
        {
            let seconds = last.elapsed().as_secs();
            *last = Instant::now();
            let refused = self.refused.swap(0, Ordering::Relaxed);
            tracing::warn!(
                refused,
                seconds,
                max_in_flight = self.max_in_flight,
                max_queued = self.max_queued,
                "overloaded: {refused} requests refused with 503 in the last {seconds} s"
            );
        }
        // A 503 without a detail: `Retry-After: 1`, and no log line of its own.
        ApiError::busy("the admin is busy: too many requests at once; try again in a moment")
            .into_response()
    }
}

/// The middleware: runs the request in a place, after a short wait in the queue at most.
pub async fn admit(
    State(admission): State<std::sync::Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let place = match admission.places.try_acquire() {
        Ok(place) => place,
        Err(_) => {
            // Join the queue if there is room in it.
            let queued = admission.queued.fetch_add(1, Ordering::AcqRel);
            if queued >= admission.max_queued {
                admission.queued.fetch_sub(1, Ordering::AcqRel);
                return admission.refuse();
            }
            let waited = tokio::time::timeout(admission.wait, admission.places.acquire()).await;
            admission.queued.fetch_sub(1, Ordering::AcqRel);
            match waited {
                Ok(Ok(place)) => place,
                _ => return admission.refuse(),
            }
        }
    };
    let response = next.run(request).await;
    drop(place);
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    /// A router whose one route waits for `release`, behind `admission`.
    fn app(admission: Admission, release: Arc<Notify>) -> Router {
        Router::new()
            .route(
                "/",
                get(move || {
                    let release = release.clone();
                    async move {
                        release.notified().await;
                        "done"
                    }
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::new(admission),
                admit,
            ))
    }

    async fn call(app: &Router) -> Response {
        app.clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn beyond_the_places_and_the_queue_the_answer_is_503_at_once() {
        let release = Arc::new(Notify::new());
        let app = app(
            Admission::new(2, 1, Duration::from_secs(30)),
            release.clone(),
        );
        // Two in their places, one in the queue: all three wait for the release.
        let running: Vec<_> = (0..3)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { call(&app).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The fourth finds no place and a full queue: refused without waiting its 30 s.
        let started = Instant::now();
        let refused = call(&app).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()["retry-after"], "1");
        let body = axum::body::to_bytes(refused.into_body(), 10_000)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "unavailable");
        // Released, the three finish, the queued one in a place freed for it.
        for _ in 0..3 {
            release.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for task in running {
            assert_eq!(task.await.unwrap().status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn a_queued_request_waits_no_longer_than_the_wait() {
        let release = Arc::new(Notify::new());
        let app = app(
            Admission::new(1, 10, Duration::from_millis(100)),
            release.clone(),
        );
        let first = {
            let app = app.clone();
            tokio::spawn(async move { call(&app).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let queued = call(&app).await;
        assert_eq!(queued.status(), StatusCode::SERVICE_UNAVAILABLE);
        release.notify_one();
        assert_eq!(first.await.unwrap().status(), StatusCode::OK);
        // With the place free, the next is admitted at once.
        let next = {
            let app = app.clone();
            tokio::spawn(async move { call(&app).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(next.await.unwrap().status(), StatusCode::OK);
    }
}
