//! The admission limit that follows the database: how many requests may run at once, found
//! from how much slower they run than when the server is idle.
//!
//! A fixed limit is right for one kind of request only: twenty gets at once keep their
//! latency, twenty exact-count lists on two cores take four times theirs. So each kind of
//! request (method and route, entity included) keeps its *baseline*: its latency when it ran
//! alone — no other request running when it started, none started before it finished —
//! which under overload is rare and so does not creep up. (Alone, not "with one other":
//! PostgreSQL runs one count over both cores of this machine, and two at once each take
//! twice as long.) A kind not yet seen alone takes the quickest it has been as a provisional
//! baseline. Every finished request says how much slower it was than its kind's baseline (a
//! latency under [`QUICK`] is none; past it, counted from half that bound at least); every
//! window, the mean of those slowdowns sets the limit, as in Netflix's gradient limiter:
//! above [`TOLERANCE`] the limit shrinks at once, in proportion; at or below it, once
//! [`ROUND`] requests (or the limit, if more) have finished with the limit reached, it grows
//! by one (growing faster than requests finish would overshoot before the first slow
//! answer). A request that started beyond a limit since lowered says nothing of it.
//!
//! Each step up is a probe, judged by the first requests that ran at the new limit (as many
//! as the limit): slower, it is undone at once, and the next waits [`BACKOFF`] times as many
//! requests, up to [`MAX_ROUND`]; as fast, the next comes [`BACKOFF`] times sooner. Under a
//! load that the limit already fits, probes are then too rare to show in the p99 of the
//! admitted requests (a probe every ten lists kept it at twice the unloaded p99).
//!
//! The limit stays between 1 and the configured `max_in_flight`, and starts low ([`START`]):
//! a burst of heavy requests on a fresh server must not all run at once before the first
//! window has said how they fare. Quick requests say it at once, so while every request is
//! quick the limit doubles at each round of the limit's size that reached it, without
//! waiting for the window (TCP's slow start): a closed loop of quick clients beyond the
//! limit is not refused while the limit climbs to them, one place per window. As in TCP,
//! once a limit has been too many, doubling stops at half of it (the threshold), and above
//! that only probes raise the limit; each probe that holds lets doubling go on to twice the
//! new limit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How much slower than their baseline requests may run before the limit shrinks.
const TOLERANCE: f64 = 1.25;

/// A latency that is never a slowdown, whatever the baseline: a get that takes 11 ms
/// instead of 1 ms because 16 clients share two cores is still quick, and refusing some of
/// them would only make their clients wait longer.
const QUICK: Duration = Duration::from_millis(50);

/// The least baseline a slowdown counts from under overload: below it, a latency's changes
/// are the scheduler's noise.
const FLOOR: Duration = Duration::from_micros(100);

/// The shortest and longest wait in a standing queue (see [`Limiter::standing_wait`]).
const STANDING_WAIT: (Duration, Duration) = (FLOOR, Duration::from_millis(10));

/// Under overload, the least time between a limit lowered and the next probe: a round of
/// 640 gets takes 0.2 s, and the latency of one get says little of two at once on shared
/// cores (a flapping limit spent half its time at two, the p99 of the admitted twice as
/// high as one at a time).
const OVERLOADED_PAUSE: Duration = Duration::from_secs(1);

/// A window: the limit changes at most this often.
const WINDOW: Duration = Duration::from_millis(100);

/// The fewest requests that judge a limit before it grows: each step up is a probe that
/// may cost a few requests twice their time, so not at every request of a heavy kind.
const ROUND: f64 = 10.0;

/// How many times more requests wait for the next probe after one that failed (and fewer
/// after one that succeeded): a limit that the database has shown it cannot pass is not tried
/// again every [`ROUND`] requests.
const BACKOFF: f64 = 4.0;

/// The most requests between two probes: under a load that the limit already fits, a probe
/// every 640 requests slows two or three of them, so probes stay out of the p99 of the
/// admitted.
const MAX_ROUND: f64 = 640.0;

/// The limit of a fresh server (or `max_in_flight` if lower).
const START: usize = 4;

pub struct Limiter {
    /// `false`: the limit is `max` and never moves.
    adaptive: bool,
    limit: f64,
    max: f64,
    /// Per kind: the baseline in seconds, and whether it was measured alone.
    baselines: HashMap<String, (f64, bool)>,
    slowdowns: f64,
    samples: u32,
    /// The most requests seen running at once in this window.
    busiest: usize,
    /// Whether every request of this window was quick.
    quick: bool,
    /// The requests that judge a limit before it grows by one ([`ROUND`] to [`MAX_ROUND`]).
    round: f64,
    /// While the limit has just grown by one.
    probe: Option<Probe>,
    /// The limit up to which quick rounds double it: half the last limit that was too many
    /// (TCP's slow-start threshold), twice the last that a probe showed to hold. Without it,
    /// a list that takes 40 ms alone (quick) and 80 ms two at a time would double to two
    /// after every request that ran alone.
    threshold: f64,
    /// Whether the admission queue stands: no latency is quick then (see [`Limiter::sample`]).
    overloaded: bool,
    /// When the limit was last lowered.
    lowered: Instant,
    window_start: Instant,
}

/// A step of the limit up by one, judged by as many requests as the new limit that ran with
/// it reached.
struct Probe {
    /// The limit before the step.
    before: f64,
    slowdowns: f64,
    samples: u32,
}

impl Limiter {
    pub fn new(max: usize, adaptive: bool) -> Limiter {
        Limiter {
            adaptive,
            limit: if adaptive { max.min(START) } else { max } as f64,
            max: max as f64,
            baselines: HashMap::new(),
            slowdowns: 0.0,
            samples: 0,
            busiest: 0,
            quick: true,
            round: ROUND,
            probe: None,
            threshold: max as f64,
            overloaded: false,
            lowered: Instant::now(),
            window_start: Instant::now(),
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.limit.round().max(1.0) as usize
    }

    /// Whether the admission queue stands (overload, not a burst). Then a quick latency is a
    /// slowdown like any other: a get of 1 ms alone that takes 20 ms behind a thousand
    /// clients is twenty times slower, and running fewer at once brings the admitted back near
    /// their latency alone while the rest are refused, as they are anyway. Without overload,
    /// refusing such a get would only send its client away for a second. When overload
    /// ends, what it taught of quick requests is forgotten (the threshold of doubling, the
    /// wait between probes): quick again, they climb back in a few rounds.
    pub fn set_overloaded(&mut self, overloaded: bool) {
        if self.overloaded && !overloaded {
            self.threshold = self.max;
            self.round = ROUND;
        }
        self.overloaded = overloaded;
    }

    /// How long a request of `kind` may wait in a standing queue: its baseline (10 ms at
    /// most, and with a fixed limit or for a kind not yet seen), so that once admitted it is
    /// answered within about twice its latency alone. A get of 0.5 ms that waited 10 ms would
    /// be answered twenty times later than alone; a list of 50 ms, 1.2 times. (With 1 ms at
    /// least, gets at 1,024 clients had a p99 of 3.3–4.8 ms against 1.3–1.5 ms alone; with
    /// their baseline, 2.4 ms against 1.4.)
    pub fn standing_wait(&self, kind: &str) -> Duration {
        let (least, most) = STANDING_WAIT;
        match self.baselines.get(kind) {
            Some((baseline, _)) if self.adaptive => {
                Duration::from_secs_f64(*baseline).clamp(least, most)
            }
            _ => most,
        }
    }

    /// A request of `kind` took `latency`, having started with `running` requests running
    /// (itself included; 2 if it started alone and another started before it finished).
    /// Returns the limit, changed at the end of a window.
    pub fn sample(&mut self, kind: &str, latency: Duration, running: usize) -> usize {
        if !self.adaptive {
            return self.limit();
        }
        let latency = latency.as_secs_f64().max(1e-6);
        let alone = running <= 1;
        match self.baselines.get_mut(kind) {
            // Smoothed: one quick answer (a cached page) does not make the baseline.
            Some((baseline, true)) if alone => *baseline = 0.8 * *baseline + 0.2 * latency,
            Some((baseline, measured)) if alone || !*measured => {
                *baseline = if alone {
                    latency
                } else {
                    baseline.min(latency)
                };
                *measured = alone;
            }
            Some(_) => {}
            None => {
                self.baselines.insert(kind.to_owned(), (latency, alone));
            }
        }
        let quick = !self.overloaded && latency < QUICK.as_secs_f64();
        // Past the quick bound, a slowdown from a baseline of half that bound at least: a get
        // of 1 ms that takes 60 ms is twice slower, not sixty times. Under overload, from the
        // baseline itself.
        let floor = if self.overloaded { FLOOR } else { QUICK / 2 };
        let baseline = self.baselines[kind].0.max(floor.as_secs_f64());
        let slowdown = if quick {
            1.0
        } else {
            (latency / baseline).max(1.0)
        };
        let limit = self.limit();
        if let Some(probe) = self.probe.as_mut().filter(|_| running >= limit) {
            // The requests that ran at the new limit judge the step: slower, it is undone at
            // once (not at the window's end, after a dozen slow requests), and the next waits
            // longer; as fast, the next comes sooner.
            probe.slowdowns += slowdown;
            probe.samples += 1;
            // Under overload, by a round at least: two gets say little.
            let judges = if self.overloaded {
                limit.max(ROUND as usize)
            } else {
                limit
            };
            if probe.samples as usize >= judges {
                let failed = probe.slowdowns / f64::from(probe.samples) > TOLERANCE;
                let before = probe.before;
                self.probe = None;
                if failed {
                    self.lower(before);
                    self.round = (self.round * BACKOFF).min(MAX_ROUND);
                    return self.next_window();
                }
                self.round = (self.round / BACKOFF).max(ROUND);
                // The database took one more: quick rounds may double again, up to twice
                // this limit (else a threshold lowered once by a heavy kind would hold the
                // limit of quick ones to one step per window for good).
                self.threshold = self.threshold.max(2.0 * self.limit);
            }
        }
        if running > self.limit() {
            // It ran beyond a limit already lowered: it says nothing of this one.
            return self.limit();
        }
        self.slowdowns += slowdown;
        self.samples += 1;
        self.busiest = self.busiest.max(running);
        self.quick &= quick;
        if self.quick
            && self.limit < self.threshold
            && f64::from(self.samples) >= self.limit
            && self.busiest >= self.limit()
        {
            // A round of quick requests at the limit: slow start.
            self.limit = (self.limit * 2.0).min(self.threshold);
            return self.next_window();
        }
        if self.samples == 0 || self.window_start.elapsed() < WINDOW {
            return self.limit();
        }
        let slowdown = self.slowdowns / f64::from(self.samples);
        if slowdown > TOLERANCE {
            // Slower: shrink at once, in proportion (a probe under way failed).
            self.lower(self.limit * TOLERANCE / slowdown);
            if self.probe.take().is_some() {
                self.round = (self.round * BACKOFF).min(MAX_ROUND);
            }
        } else if f64::from(self.samples) >= self.limit.max(self.round) {
            // As fast as idle over a round of the limit (`round` at least): one more, if it
            // was reached (else it said nothing about one more).
            let paused = self.overloaded && self.lowered.elapsed() < OVERLOADED_PAUSE;
            if self.busiest >= self.limit() && self.limit < self.max && !paused {
                self.probe = Some(Probe {
                    before: self.limit,
                    slowdowns: 0.0,
                    samples: 0,
                });
                self.limit = (self.limit + 1.0).min(self.max);
            }
        } else {
            // Too few requests finished since the limit last moved to judge it.
            return self.limit();
        }
        self.next_window()
    }

    /// Lowers the limit to `limit` (1 at least): the limit it had was too many.
    fn lower(&mut self, limit: f64) {
        self.lowered = Instant::now();
        self.threshold = (self.limit / 2.0).max(1.0);
        self.limit = limit.max(1.0);
    }

    fn next_window(&mut self) -> usize {
        self.slowdowns = 0.0;
        self.samples = 0;
        self.busiest = 0;
        self.quick = true;
        self.window_start = Instant::now();
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
            for _ in 0..limit.max(ROUND as usize) {
                limiter.sample("GET /posts", latency(limit), limit);
            }
        }
    }

    #[test]
    fn a_database_that_serves_two_at_once_gets_a_limit_near_two() {
        let mut limiter = Limiter::new(20, true);
        // Idle: 60 ms.
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        // Beyond two at once, each takes longer in proportion (two cores).
        let latency = |running: usize| Duration::from_millis(60 * (running.max(2) as u64) / 2);
        // The limit settles where requests take at most twice their idle time.
        for _ in 0..10 {
            run(&mut limiter, 5, latency);
            assert!((2..=4).contains(&limiter.limit()), "{}", limiter.limit());
        }
    }

    #[test]
    fn requests_that_keep_their_latency_raise_the_limit_to_the_maximum() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(1), 1);
        assert_eq!(limiter.limit(), START, "a fresh server starts low");
        run(&mut limiter, 40, |_| Duration::from_millis(1));
        assert_eq!(limiter.limit(), 20);
    }

    #[test]
    fn a_closed_loop_of_quick_requests_doubles_the_limit_at_each_round() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(3), 1);
        // Within one window: 4, 8, 16, 20 after a round of each at the limit.
        for expected in [8, 16, 20] {
            let limit = limiter.limit();
            for _ in 0..limit {
                limiter.sample("GET /posts", Duration::from_millis(20), limit);
            }
            assert_eq!(limiter.limit(), expected);
        }
    }

    #[test]
    fn quick_requests_below_the_limit_do_not_raise_it() {
        let mut limiter = Limiter::new(20, true);
        for _ in 0..100 {
            limiter.sample("GET /posts", Duration::from_millis(3), 2);
        }
        assert_eq!(limiter.limit(), START);
    }

    #[test]
    fn one_slow_request_in_a_round_stops_the_doubling() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(40), 1);
        limiter.sample("GET /posts", Duration::from_millis(60), 4);
        // The rest of the window waits for its end, as heavy requests do.
        for _ in 0..10 {
            limiter.sample("GET /posts", Duration::from_millis(40), 4);
        }
        assert_eq!(limiter.limit(), START);
    }

    #[test]
    fn requests_slower_than_alone_but_still_quick_keep_the_limit() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts/{id}", Duration::from_millis(1), 1);
        // Ten times slower than alone, in 10 ms: no reason to refuse anyone.
        run(&mut limiter, 40, |_| Duration::from_millis(10));
        assert_eq!(limiter.limit(), 20);
        // Past the quick bound, the slowdown counts from there.
        run(&mut limiter, 5, |_| Duration::from_millis(200));
        assert!(limiter.limit() < 5, "{}", limiter.limit());
    }

    #[test]
    fn under_overload_quick_requests_slower_than_alone_shrink_the_limit() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_micros(500), 1);
        run(&mut limiter, 40, |_| Duration::from_micros(500));
        assert_eq!(limiter.limit(), 20);
        // A thousand clients: the queue stands, and twenty gets at once take 10 ms each, 20
        // times their 0.5 ms alone; one at a time they keep it.
        limiter.set_overloaded(true);
        let latency = |running: usize| Duration::from_micros(500 * running as u64);
        run(&mut limiter, 40, latency);
        assert!(limiter.limit() <= 2, "{}", limiter.limit());
        // Overload over: quick again, the limit climbs back by doubling within a few windows.
        limiter.set_overloaded(false);
        run(&mut limiter, 5, latency);
        assert_eq!(limiter.limit(), 20);
    }

    #[test]
    fn under_overload_a_lowered_limit_waits_a_second_and_a_round_to_judge_a_step() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_micros(500), 1);
        limiter.set_overloaded(true);
        // Two at once, three times slower: lowered to one.
        run(&mut limiter, 5, |running| {
            Duration::from_micros(500 * (1 + 2 * (running as u64 - 1)))
        });
        assert_eq!(limiter.limit(), 1);
        // One at a time at the baseline: no step up within the pause...
        run(&mut limiter, 5, |_| Duration::from_micros(500));
        assert_eq!(limiter.limit(), 1);
        // ...then one, which two requests as fast as alone do not yet confirm, and ten
        // three times slower undo.
        limiter.lowered -= OVERLOADED_PAUSE;
        run(&mut limiter, 1, |_| Duration::from_micros(500));
        assert_eq!(limiter.limit(), 2);
        for _ in 0..2 {
            limiter.sample("GET /posts", Duration::from_micros(500), 2);
        }
        assert!(limiter.probe.is_some());
        for _ in 0..8 {
            limiter.sample("GET /posts", Duration::from_micros(1500), 2);
        }
        assert_eq!(limiter.limit(), 1);
    }

    #[test]
    fn a_standing_queue_waits_the_baseline_up_to_10_ms() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts/{id}", Duration::from_micros(200), 1);
        limiter.sample("GET /posts/{id}/history", Duration::from_millis(3), 1);
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        let wait = |kind| limiter.standing_wait(kind).as_micros();
        assert_eq!(wait("GET /posts/{id}"), 200);
        assert_eq!(wait("GET /posts/{id}/history"), 3_000);
        assert_eq!(wait("GET /posts"), 10_000);
        assert_eq!(wait("GET /tags"), 10_000, "not yet seen");
        // A fixed limit keeps no baselines.
        let fixed = Limiter::new(20, false);
        assert_eq!(fixed.standing_wait("GET /posts/{id}").as_millis(), 10);
    }

    #[test]
    fn kinds_are_compared_with_their_own_baseline() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        limiter.sample("GET /posts/{id}", Duration::from_millis(1), 1);
        // A mix of both, each at its idle latency, at the limit: nothing to shed.
        for _ in 0..40 {
            limiter.window_start = Instant::now() - WINDOW;
            for _ in 0..20 {
                let limit = limiter.limit();
                limiter.sample("GET /posts", Duration::from_millis(60), limit);
                limiter.sample("GET /posts/{id}", Duration::from_millis(1), limit);
            }
        }
        assert_eq!(limiter.limit(), 20);
    }

    #[test]
    fn a_step_up_that_runs_slower_is_undone_at_once_and_tried_again_later() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(40), 1);
        // One at a time keeps the idle latency (quick); two at once take twice as long.
        let mut latency = |running: usize| Duration::from_millis(40 * running as u64);
        let step = |limiter: &mut Limiter, latency: &mut dyn FnMut(usize) -> Duration| {
            limiter.window_start = Instant::now() - WINDOW;
            let limit = limiter.limit();
            limiter.sample("GET /posts", latency(limit), limit);
            limit
        };
        // The requests between two steps up, and how many ran at two at once.
        let (mut gaps, mut since, mut at_two) = (Vec::new(), 0, 0);
        for _ in 0..3000 {
            let limit = step(&mut limiter, &mut latency);
            since += 1;
            at_two += usize::from(limit == 2);
            if limiter.limit() == 2 && limit == 1 {
                gaps.push(since);
                since = 0;
            }
        }
        // Each step is judged by the two requests that ran with it, then undone; the next
        // waits four times as many requests, up to 640 (and the two that judge it).
        let expected = [40, 160, 640, 640, 640, 640];
        assert_eq!(gaps.len(), expected.len() + 1, "{gaps:?}");
        for (gap, expected) in gaps[1..].iter().zip(expected) {
            assert!((expected..expected + 3).contains(gap), "{gaps:?}");
        }
        assert!(
            at_two * 100 < 3000,
            "{at_two} of 3000 requests ran two at once"
        );
        // The database grows faster: each step that keeps the latency brings the next
        // sooner, and the limit climbs again within a thousand requests.
        let mut latency = |_: usize| Duration::from_millis(40);
        for _ in 0..1000 {
            step(&mut limiter, &mut latency);
        }
        assert!(limiter.limit() >= 8, "{}", limiter.limit());
    }

    #[test]
    fn quick_requests_after_a_heavy_kind_double_again_once_a_step_holds() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        // A heavy list that runs one at a time: the threshold falls to 1.
        run(&mut limiter, 20, |running| {
            Duration::from_millis(60 * running as u64)
        });
        assert_eq!(limiter.limit(), 1);
        // Then only quick gets, 100 in a window at the limit: after the first step that
        // holds, doubling takes the limit to 20 in a few windows, not one place per window.
        limiter.sample("GET /posts/{id}", Duration::from_millis(1), 1);
        let mut windows = 0;
        while limiter.limit() < 20 && windows < 100 {
            limiter.window_start = Instant::now() - WINDOW;
            for _ in 0..100 {
                let limit = limiter.limit();
                limiter.sample("GET /posts/{id}", Duration::from_millis(1), limit);
            }
            windows += 1;
        }
        assert!(windows <= 10, "{windows} windows to climb from 1 to 20");
    }

    #[test]
    fn requests_that_ran_beyond_a_lowered_limit_do_not_lower_it_again() {
        let mut limiter = Limiter::new(20, true);
        limiter.sample("GET /posts", Duration::from_millis(60), 1);
        // Four at once, each twice as slow: the limit shrinks to 4 x 1.25 / 2.
        limiter.window_start = Instant::now() - WINDOW;
        for _ in 0..4 {
            limiter.sample("GET /posts", Duration::from_millis(120), 4);
        }
        assert_eq!(limiter.limit(), 3);
        // The requests that were already running at four finish as slowly: they say
        // nothing about three.
        limiter.window_start = Instant::now() - WINDOW;
        for _ in 0..4 {
            limiter.sample("GET /posts", Duration::from_millis(120), 4);
        }
        assert_eq!(limiter.limit(), 3);
    }

    #[test]
    fn a_kind_first_seen_under_load_is_judged_by_its_quickest() {
        let mut limiter = Limiter::new(20, true);
        run(&mut limiter, 20, |_| Duration::from_millis(1));
        assert_eq!(limiter.limit(), 20);
        limiter.next_window();
        // Never alone: its quickest (100 ms) stands in until it runs alone.
        limiter.sample("GET /posts/export.csv", Duration::from_millis(100), 20);
        limiter.window_start = Instant::now() - WINDOW;
        limiter.sample("GET /posts/export.csv", Duration::from_millis(400), 20);
        // The window's mean slowdown is (1 + 4) / 2: the limit shrinks to 20 x 1.25 / 2.5.
        assert_eq!(limiter.limit(), 10);
    }
}
