//! Overload control: at most a limit of requests use the database at once; up to
//! `max_queued` more wait, each at most `admission_wait`, for one of those places (a burst,
//! such as a dashboard's panels, waits its turn); any other is answered 503 with
//! `Retry-After` at once, before it takes a connection, a statement or memory.
//!
//! A burst and overload both make a queue; what tells them apart is whether requests keep
//! joining it (as in CoDel, which judges a queue by how long it stands, not by its length). A
//! request that joins a queue that has not been empty for [`INTERVAL`] finds it *standing*:
//! it waits little ([`Limiter::standing_wait`]: as long as its kind takes alone, 10 ms at
//! most), and while the queue stands, a request that waited longer than that is refused when
//! its place comes instead of being run late. So a burst gets the whole `admission_wait`, and
//! under sustained overload the admitted requests wait about their own time, not seconds:
//! with the limit, which then counts every slowdown, quick ones included
//! ([`Limiter::set_overloaded`]), their latency stays near the unloaded one. Overload does not
//! end when the queue empties for a moment: the clients it refused come back together after
//! their `Retry-After`, a wave that would look like a burst for [`INTERVAL`] and wait long.
//! So for [`AFTER_REFUSAL`] after a refusal, any queue counts as standing. The limit follows
//! the database ([`Limiter`], `adaptive_admission`, the default): up to `max_in_flight` while
//! requests run as fast as when the server is idle, fewer as they slow down; or it is
//! `max_in_flight`, fixed. Either way, until a request is refused, a queue stands only with
//! more than `max_in_flight` requests running or waiting: fewer are what one person's pages
//! or a small team send, which a fixed limit would run at once, so they wait their turn,
//! never refused early because the adaptive limit is low (in a browser test on two cores, a
//! single user's lists brought it to 1). Only the routes that reach the database are
//! admitted this way: health, login, logout, the OpenAPI document and the app's files always
//! answer.
//!
//! A request's body is read before it asks for a place: a client that sends its body slowly
//! holds its own connection, never a place (nor a database connection); one that takes
//! longer than `body_wait` is answered 408.
//!
//! A refusal is not logged one by one (10,000 lines in 45 s under load said nothing more than
//! their count): at most one line per interval counts the refusals since the last.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::error::ApiError;
use super::limiter::Limiter;
use super::summary::Summary;

/// The longest a run of refusals goes unreported in the log.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// How long a queue may stay non-empty before one that requests still join is standing:
/// a burst has joined by then.
const INTERVAL: Duration = Duration::from_millis(100);

/// How long after a refusal a queue counts as standing from its first request: the refused
/// clients' `Retry-After` (1 s) and as long again for the slower ones among them.
const AFTER_REFUSAL: Duration = Duration::from_secs(2);

/// The places and the queue of one router.
pub struct Admission {
    places: Semaphore,
    max_in_flight: usize,
    adaptive: bool,
    /// The limiter, and the places the semaphore holds (in use or not): brought to the
    /// limit as requests finish.
    limiter: Mutex<(Limiter, usize)>,
    /// The current limit, read without the lock.
    limit: AtomicUsize,
    running: AtomicUsize,
    /// Requests started since the router was built: tells whether another started while one
    /// ran (it did not run alone, though it started alone).
    started: AtomicU64,
    queued: AtomicUsize,
    max_queued: usize,
    /// When the queue was last empty, in microseconds since `epoch`.
    last_empty: AtomicU64,
    /// Whether a request joined the queue after it had been non-empty for [`INTERVAL`]
    /// (cleared when it empties).
    standing: AtomicBool,
    /// When a request was last refused, in microseconds since `epoch` (0: never).
    last_refused: AtomicU64,
    epoch: Instant,
    wait: Duration,
    body_wait: Duration,
    refused: Summary,
}

impl Admission {
    pub fn new(
        max_in_flight: u32,
        adaptive: bool,
        max_queued: u32,
        wait: Duration,
        body_wait: Duration,
    ) -> Admission {
        let max_in_flight = max_in_flight.max(1) as usize;
        let limiter = Limiter::new(max_in_flight, adaptive);
        let start = limiter.limit();
        Admission {
            places: Semaphore::new(start),
            max_in_flight,
            adaptive,
            limiter: Mutex::new((limiter, start)),
            limit: AtomicUsize::new(start),
            running: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
            max_queued: max_queued as usize,
            last_empty: AtomicU64::new(0),
            standing: AtomicBool::new(false),
            last_refused: AtomicU64::new(0),
            epoch: Instant::now(),
            wait,
            body_wait,
            refused: Summary::new(REPORT_EVERY),
        }
    }

    /// Counts a refusal, logged in a line per [`REPORT_EVERY`] at most.
    fn refuse(&self) -> Response {
        self.last_refused
            .store(self.micros(Instant::now()).max(1), Ordering::Relaxed);
        if let Some(refused) = self.refused.add() {
            tracing::warn!(
                refused,
                max_in_flight = self.max_in_flight,
                limit = self.limit.load(Ordering::Relaxed),
                max_queued = self.max_queued,
                "overloaded: {refused} requests refused with 503 since the last such line \
                 (one per {} s at most)",
                REPORT_EVERY.as_secs()
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
    let request = match read_body(request, admission.body_wait).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let kind = kind(&request);
    let place = match admission.places.try_acquire() {
        Ok(place) => place,
        Err(_) => match admission.queue(&kind).await {
            Some(place) => place,
            None => return admission.refuse(),
        },
    };
    if !admission.adaptive {
        return next.run(request).await;
    }
    let running = admission.running.fetch_add(1, Ordering::AcqRel) + 1;
    let number = admission.started.fetch_add(1, Ordering::AcqRel);
    let started = Instant::now();
    let response = next.run(request).await;
    admission.running.fetch_sub(1, Ordering::AcqRel);
    // Started alone but joined: it ran with another (a baseline is the latency alone).
    let joined = admission.started.load(Ordering::Acquire) > number + 1;
    let running = if running == 1 && joined { 2 } else { running };
    admission.finished(place, &kind, started.elapsed(), running);
    response
}

impl Admission {
    /// Waits in the queue for a place, if there is room in the queue: `None` when there is
    /// none, when the wait ends first, or when the place comes late to a standing queue.
    async fn queue(&self, kind: &str) -> Option<SemaphorePermit<'_>> {
        let ahead = self.queued.fetch_add(1, Ordering::AcqRel);
        if ahead >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let joined = Instant::now();
        let now = self.micros(joined);
        if ahead == 0 {
            self.last_empty.store(now, Ordering::Relaxed);
        }
        let stood = now.saturating_sub(self.last_empty.load(Ordering::Relaxed));
        let overloaded = self.refused_lately(now);
        // No more requests than `max_in_flight` at once, this one included (the places in
        // use are the limit's, as there is a queue): a burst that a fixed limit would have
        // run at once, such as one person's pages while the adaptive limit is low, waits its
        // turn and is never refused early. After a refusal, any queue stands: the refused
        // come back as a wave, and the first of them would find a short queue.
        let crowded = self.limit.load(Ordering::Relaxed) + ahead + 1 > self.max_in_flight;
        let standing_wait = self.standing_wait(kind);
        let wait = if (crowded && stood > INTERVAL.as_micros() as u64) || overloaded {
            self.standing.store(true, Ordering::Relaxed);
            self.wait.min(standing_wait)
        } else {
            self.wait
        };
        let waited = tokio::time::timeout(wait, self.places.acquire()).await;
        let standing = self.standing.load(Ordering::Relaxed);
        if self.queued.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.last_empty
                .store(self.micros(Instant::now()), Ordering::Relaxed);
            self.standing.store(false, Ordering::Relaxed);
        }
        let place = waited.ok()?.ok()?;
        // Late in a standing queue: the place goes to the next in line as it is dropped.
        if standing && joined.elapsed() > standing_wait {
            return None;
        }
        Some(place)
    }

    /// Whether a request was refused in the last [`AFTER_REFUSAL`] before `now`.
    fn refused_lately(&self, now: u64) -> bool {
        let refused = self.last_refused.load(Ordering::Relaxed);
        refused != 0 && now.saturating_sub(refused) < AFTER_REFUSAL.as_micros() as u64
    }

    /// How long a request of `kind` may wait in a standing queue.
    fn standing_wait(&self, kind: &str) -> Duration {
        let guard = self
            .limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.standing_wait(kind)
    }

    fn micros(&self, at: Instant) -> u64 {
        at.duration_since(self.epoch).as_micros() as u64
    }

    /// Gives the limiter what a request took, and brings the places to the limit: a place
    /// above it is forgotten as it is given back, missing ones are added.
    fn finished(&self, place: SemaphorePermit<'_>, kind: &str, took: Duration, running: usize) {
        let Ok(mut guard) = self.limiter.lock() else {
            return;
        };
        let (limiter, places) = &mut *guard;
        let overloaded = self.standing.load(Ordering::Relaxed)
            || self.refused_lately(self.micros(Instant::now()));
        limiter.set_overloaded(overloaded);
        let limit = limiter.sample(kind, took, running);
        let before = self.limit.swap(limit, Ordering::Relaxed);
        if before != limit {
            tracing::debug!(
                kind,
                before,
                limit,
                ?took,
                running,
                "admission limit changed"
            );
        }
        if *places > limit {
            place.forget();
            *places -= 1;
        } else if *places < limit {
            self.places.add_permits(limit - *places);
            *places = limit;
        }
    }
}

/// The kind of a request for the limiter: its method and route (entity included).
fn kind(request: &Request) -> String {
    let path = request.uri().path();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or(path, |matched| matched.as_str());
    let entity = path.trim_start_matches('/').split('/').next().unwrap_or("");
    format!("{} {route} {entity}", request.method())
}

/// `request` with its body read whole (at most [`super::BODY_LIMIT`] bytes, within `wait`).
async fn read_body(request: Request, wait: Duration) -> Result<Request, ApiError> {
    use http_body_util::BodyExt;
    if axum::body::HttpBody::size_hint(request.body()).exact() == Some(0) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, super::BODY_LIMIT);
    let bytes = match tokio::time::timeout(wait, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::payload_too_large(
                "the body is larger than the limit",
            ));
        }
        Ok(Err(error)) => {
            return Err(ApiError::bad_request(format!(
                "the body cannot be read: {error}"
            )));
        }
        Err(_) => {
            return Err(ApiError::request_timeout(format!(
                "the body did not arrive within {} s",
                wait.as_secs()
            )));
        }
    };
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
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

    /// A router whose one route waits for the returned release, behind `admission`.
    fn app(admission: Admission) -> (Router, Arc<Notify>) {
        let release = Arc::new(Notify::new());
        let waiting = release.clone();
        let router = Router::new()
            .route(
                "/",
                get(move || {
                    let release = waiting.clone();
                    async move {
                        release.notified().await;
                        "done"
                    }
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::new(admission),
                admit,
            ));
        (router, release)
    }

    async fn call(app: &Router) -> Response {
        app.clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    /// `call` in a task of its own.
    fn spawn_call(app: &Router) -> tokio::task::JoinHandle<Response> {
        let app = app.clone();
        tokio::spawn(async move { call(&app).await })
    }

    #[tokio::test]
    async fn beyond_the_places_and_the_queue_the_answer_is_503_at_once() {
        let (app, release) = app(Admission::new(
            2,
            false,
            1,
            Duration::from_secs(30),
            Duration::from_secs(1),
        ));
        // Two in their places, one in the queue: all three wait for the release.
        let running: Vec<_> = (0..3).map(|_| spawn_call(&app)).collect();
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
    async fn a_burst_waits_its_turn_for_as_long_as_the_wait() {
        let (app, release) = app(Admission::new(
            1,
            false,
            10,
            Duration::from_secs(2),
            Duration::from_secs(1),
        ));
        // Five at once for one place: the last waits 4 x 150 ms, longer than the interval,
        // but nothing joined the queue after the burst: it is not standing.
        let burst: Vec<_> = (0..5).map(|_| spawn_call(&app)).collect();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            release.notify_one();
        }
        for task in burst {
            assert_eq!(task.await.unwrap().status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn a_standing_queue_refuses_the_late_and_makes_joiners_wait_little() {
        let (app, release) = app(Admission::new(
            1,
            false,
            10,
            Duration::from_secs(2),
            Duration::from_secs(1),
        ));
        let running = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let early = spawn_call(&app);
        // Still queued after the interval, and another joins: the queue stands. The joiner
        // is refused after a short wait, not the 2 s one.
        tokio::time::sleep(INTERVAL + Duration::from_millis(50)).await;
        let started = Instant::now();
        assert_eq!(call(&app).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_millis(500));
        // The place frees: the early one has waited too long to run late; it is refused and
        // the place is free for the next request.
        release.notify_one();
        assert_eq!(running.await.unwrap().status(), StatusCode::OK);
        assert_eq!(
            early.await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let next = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(next.await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_crowd_that_max_in_flight_would_run_at_once_waits_while_the_limit_is_low() {
        // Adaptive: the fresh limit is 4 of the 20 places the configuration allows.
        let (app, release) = app(Admission::new(
            20,
            true,
            200,
            Duration::from_secs(2),
            Duration::from_secs(1),
        ));
        // Four run, four wait; past the interval, a ninth joins the queue that has stood
        // since: nine at once is no overload for 20 places, so none is refused.
        let mut calls: Vec<_> = (0..8).map(|_| spawn_call(&app)).collect();
        tokio::time::sleep(INTERVAL + Duration::from_millis(50)).await;
        calls.push(spawn_call(&app));
        tokio::time::sleep(Duration::from_millis(50)).await;
        for _ in 0..calls.len() {
            release.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for task in calls {
            assert_eq!(task.await.unwrap().status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn after_a_refusal_a_queue_stands_at_once_until_the_refused_are_back() {
        let (app, release) = app(Admission::new(
            1,
            false,
            1,
            Duration::from_secs(2),
            Duration::from_secs(1),
        ));
        // One in its place, one in the queue (a burst), a third refused: the queue is full.
        let first = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(call(&app).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        // The queued one joined before the refusal: it gets its place.
        release.notify_one();
        assert_eq!(first.await.unwrap().status(), StatusCode::OK);
        // The refused client is back: it is the only one in the queue, yet it is refused
        // after a short wait, not its 2 s.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        assert_eq!(call(&app).await.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_millis(500));
        // Once the refused have had their time, a queue is a burst again: it waits its turn.
        tokio::time::sleep(AFTER_REFUSAL).await;
        let third = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(150)).await;
        release.notify_one();
        assert_eq!(second.await.unwrap().status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(third.await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_queued_request_waits_no_longer_than_the_wait() {
        let (app, release) = app(Admission::new(
            1,
            false,
            10,
            Duration::from_millis(100),
            Duration::from_secs(1),
        ));
        let first = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let queued = call(&app).await;
        assert_eq!(queued.status(), StatusCode::SERVICE_UNAVAILABLE);
        release.notify_one();
        assert_eq!(first.await.unwrap().status(), StatusCode::OK);
        // With the place free, the next is admitted at once.
        let next = spawn_call(&app);
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.notify_one();
        assert_eq!(next.await.unwrap().status(), StatusCode::OK);
    }
}
