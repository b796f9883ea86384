//! Circuit breaker: a pure state machine that stops calls to a failing dependency.
//!
//! The breaker never reads a clock. Every method takes `now`, a [`Duration`] since an
//! arbitrary origin chosen by the caller (typically a monotonic `Instant` taken at start-up),
//! and all times it stores are on that same axis.
//!
//! - **Closed**: calls are allowed; consecutive failures are counted, a success resets the
//!   count. Reaching [`BreakerConfig::failure_threshold`] opens the breaker.
//! - **Open**: calls are rejected with the time left until [`BreakerConfig::open_for`] has
//!   passed since it opened.
//! - **Half-open**: after the cool-down, the next caller is admitted as the one probe; every
//!   other caller is rejected while it is in flight. The probe's success closes the breaker,
//!   its failure opens it again for another full cool-down.

use std::time::Duration;

/// How long callers are told to wait while a half-open probe is in flight.
pub const PROBE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (0 counts as 1).
    pub failure_threshold: u32,
    /// Cool-down: how long the breaker stays open before one probe is let through. A probe
    /// that never reports back is given up after this long too, and another one is admitted.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: 3, open_for: Duration::from_secs(30) }
    }
}

/// The state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are rejected until the cool-down ends.
    Open,
    /// One probe call decides between closed and open.
    HalfOpen,
}

impl BreakerState {
    /// Every state, in gauge order.
    pub const ALL: [BreakerState; 3] = [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen];

    /// The state as a label: `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The state as a gauge value: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// A change of state, returned by the method that caused it so the caller can record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
}

/// The answer to "may I call now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: call, then report the outcome.
    Allowed,
    /// Half-open: this call is the one probe; its reported outcome decides the state.
    Probe,
    /// Do not call.
    Rejected {
        /// How long until a call may be admitted again (exact; callers showing whole
        /// seconds round up to at least 1 s).
        retry_after: Duration,
    },
}

/// A circuit breaker; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    state: BreakerState,
    /// Consecutive failures while closed.
    failures: u32,
    /// While open: when the cool-down ends.
    open_until: Duration,
    /// While half-open: when the probe in flight was admitted.
    probe_since: Option<Duration>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Self {
        Self { cfg, state: BreakerState::Closed, failures: 0, open_until: Duration::ZERO, probe_since: None }
    }

    /// The configuration.
    pub fn config(&self) -> BreakerConfig {
        self.cfg
    }

    /// The current state (an open breaker whose cool-down is over stays `Open` until the next
    /// [`admit`](Self::admit)).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Consecutive failures counted while closed.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    fn threshold(&self) -> u32 {
        self.cfg.failure_threshold.max(1)
    }

    fn move_to(&mut self, to: BreakerState) -> Option<Transition> {
        let from = self.state;
        self.state = to;
        (from != to).then_some(Transition { from, to })
    }

    fn open(&mut self, now: Duration) -> Option<Transition> {
        self.failures = 0;
        self.probe_since = None;
        self.open_until = now.saturating_add(self.cfg.open_for);
        self.move_to(BreakerState::Open)
    }

    /// What [`admit`](Self::admit) would answer at `now`, without changing anything (no probe
    /// slot is taken). For a fail-fast check before work that will call later.
    pub fn peek(&self, now: Duration) -> Admission {
        match self.state {
            BreakerState::Closed => Admission::Allowed,
            BreakerState::Open if now < self.open_until => {
                Admission::Rejected { retry_after: self.open_until - now }
            }
            BreakerState::Open => Admission::Probe,
            BreakerState::HalfOpen => match self.probe_since {
                Some(since) if now < since.saturating_add(self.cfg.open_for) => {
                    Admission::Rejected { retry_after: PROBE_RETRY_AFTER }
                }
                _ => Admission::Probe,
            },
        }
    }

    /// Ask before a call. Closed: `Allowed`. Open and the cool-down not over: `Rejected` with
    /// the time left. Open and the cool-down over: the breaker turns half-open and this caller
    /// gets the one `Probe`; others are `Rejected` (retry after [`PROBE_RETRY_AFTER`]) while
    /// the probe is in flight. A probe not reported within `open_for` counts as lost and the
    /// next caller becomes the probe.
    pub fn admit(&mut self, now: Duration) -> (Admission, Option<Transition>) {
        let admission = self.peek(now);
        let transition = match admission {
            Admission::Probe => {
                self.probe_since = Some(now);
                self.move_to(BreakerState::HalfOpen)
            }
            Admission::Allowed | Admission::Rejected { .. } => None,
        };
        (admission, transition)
    }

    /// Report that the probe was abandoned without an outcome (its caller went away): the
    /// breaker stays half-open and the next caller becomes the probe. Does nothing in other
    /// states.
    pub fn abandon_probe(&mut self) {
        if self.state == BreakerState::HalfOpen {
            self.probe_since = None;
        }
    }

    /// Report that an admitted call succeeded. Closed: the failure count is reset. Half-open:
    /// the breaker closes. Open: ignored (a call admitted before the breaker opened says
    /// nothing about the dependency now).
    pub fn on_success(&mut self, _now: Duration) -> Option<Transition> {
        match self.state {
            BreakerState::Closed => {
                self.failures = 0;
                None
            }
            BreakerState::HalfOpen => {
                self.failures = 0;
                self.probe_since = None;
                self.move_to(BreakerState::Closed)
            }
            BreakerState::Open => None,
        }
    }

    /// Report that an admitted call failed. Closed: one more consecutive failure; reaching the
    /// threshold opens the breaker until `now + open_for`. Half-open: the probe failed, the
    /// breaker opens again for a full cool-down. Open: ignored (a late call admitted before the
    /// breaker opened does not extend the cool-down).
    pub fn on_failure(&mut self, now: Duration) -> Option<Transition> {
        match self.state {
            BreakerState::Closed => {
                self.failures = self.failures.saturating_add(1);
                if self.failures >= self.threshold() { self.open(now) } else { None }
            }
            BreakerState::HalfOpen => self.open(now),
            BreakerState::Open => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn breaker(threshold: u32, open_secs: u64) -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig { failure_threshold: threshold, open_for: s(open_secs) })
    }

    fn tr(from: BreakerState, to: BreakerState) -> Option<Transition> {
        Some(Transition { from, to })
    }

    use BreakerState::{Closed, HalfOpen, Open};

    /// Opens `b` (threshold 3) at `now`.
    fn opened_at(now: Duration) -> CircuitBreaker {
        let mut b = breaker(3, 30);
        b.on_failure(now);
        b.on_failure(now);
        assert_eq!(b.on_failure(now), tr(Closed, Open));
        b
    }

    #[test]
    fn defaults_are_three_failures_and_thirty_seconds() {
        assert_eq!(BreakerConfig::default(), BreakerConfig { failure_threshold: 3, open_for: s(30) });
        let b = CircuitBreaker::new(BreakerConfig::default());
        assert_eq!(b.state(), Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[test]
    fn states_have_labels_and_gauge_values() {
        let labels: Vec<_> = BreakerState::ALL.iter().map(|s| (s.as_str(), s.gauge())).collect();
        assert_eq!(labels, [("closed", 0), ("open", 1), ("half_open", 2)]);
    }

    #[test]
    fn closed_admits_every_call() {
        let mut b = breaker(3, 30);
        for t in 0..10 {
            assert_eq!(b.admit(s(t)), (Admission::Allowed, None));
        }
        assert_eq!(b.state(), Closed);
    }

    #[test]
    fn closed_opens_exactly_at_the_threshold_of_consecutive_failures() {
        let mut b = breaker(3, 30);
        assert_eq!(b.on_failure(s(1)), None);
        assert_eq!(b.on_failure(s(2)), None);
        assert_eq!((b.state(), b.consecutive_failures()), (Closed, 2));
        assert_eq!(b.on_failure(s(3)), tr(Closed, Open));
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn a_success_resets_the_count_of_consecutive_failures() {
        let mut b = breaker(3, 30);
        b.on_failure(s(1));
        b.on_failure(s(2));
        assert_eq!(b.on_success(s(3)), None);
        assert_eq!(b.consecutive_failures(), 0);
        assert_eq!(b.on_failure(s(4)), None);
        assert_eq!(b.on_failure(s(5)), None);
        assert_eq!(b.state(), Closed);
        assert_eq!(b.on_failure(s(6)), tr(Closed, Open));
    }

    #[test]
    fn a_zero_threshold_behaves_like_one() {
        let mut b = breaker(0, 30);
        assert_eq!(b.on_failure(s(0)), tr(Closed, Open));
    }

    #[test]
    fn open_rejects_with_the_time_left_of_the_cool_down() {
        let mut b = opened_at(s(100));
        assert_eq!(b.admit(s(100)), (Admission::Rejected { retry_after: s(30) }, None));
        assert_eq!(
            b.admit(s(110) + Duration::from_millis(250)),
            (Admission::Rejected { retry_after: Duration::from_millis(19_750) }, None)
        );
        assert_eq!(
            b.admit(s(130) - Duration::from_nanos(1)),
            (Admission::Rejected { retry_after: Duration::from_nanos(1) }, None)
        );
        assert_eq!(b.state(), Open);
    }

    #[test]
    fn late_outcomes_of_calls_admitted_before_opening_change_nothing() {
        let mut b = opened_at(s(100));
        assert_eq!(b.on_success(s(101)), None);
        assert_eq!(b.on_failure(s(120)), None);
        assert_eq!(b.state(), Open);
        // the cool-down still ends 30 s after opening, not after the late failure
        assert_eq!(b.admit(s(129)), (Admission::Rejected { retry_after: s(1) }, None));
        assert_eq!(b.admit(s(130)), (Admission::Probe, tr(Open, HalfOpen)));
    }

    #[test]
    fn open_turns_half_open_after_the_cool_down_and_admits_one_probe() {
        let mut b = opened_at(s(100));
        assert_eq!(b.admit(s(130)), (Admission::Probe, tr(Open, HalfOpen)));
        assert_eq!(b.state(), HalfOpen);
    }

    #[test]
    fn only_one_probe_is_in_flight_at_a_time() {
        let mut b = opened_at(s(100));
        assert_eq!(b.admit(s(140)).0, Admission::Probe);
        for t in [140, 141, 160] {
            assert_eq!(b.admit(s(t)), (Admission::Rejected { retry_after: PROBE_RETRY_AFTER }, None));
        }
        assert_eq!(b.state(), HalfOpen);
    }

    #[test]
    fn a_probe_that_never_reports_is_given_up_after_the_cool_down() {
        let mut b = opened_at(s(100));
        assert_eq!(b.admit(s(130)).0, Admission::Probe);
        assert!(matches!(b.admit(s(159)).0, Admission::Rejected { .. }));
        assert_eq!(b.admit(s(160)), (Admission::Probe, None));
        assert!(matches!(b.admit(s(161)).0, Admission::Rejected { .. }));
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_caller_probe_at_once() {
        let mut b = opened_at(s(100));
        assert_eq!(b.admit(s(130)).0, Admission::Probe);
        b.abandon_probe();
        assert_eq!(b.state(), HalfOpen);
        assert_eq!(b.admit(s(131)), (Admission::Probe, None));
        assert!(matches!(b.admit(s(131)).0, Admission::Rejected { .. }));
        // outside half-open it changes nothing
        let mut closed = breaker(3, 30);
        closed.on_failure(s(1));
        closed.abandon_probe();
        assert_eq!((closed.state(), closed.consecutive_failures()), (Closed, 1));
        let mut open = opened_at(s(100));
        open.abandon_probe();
        assert_eq!(open.admit(s(101)), (Admission::Rejected { retry_after: s(29) }, None));
    }

    #[test]
    fn a_successful_probe_closes_the_breaker_with_a_fresh_count() {
        let mut b = opened_at(s(100));
        b.admit(s(130));
        assert_eq!(b.on_success(s(131)), tr(HalfOpen, Closed));
        assert_eq!((b.state(), b.consecutive_failures()), (Closed, 0));
        assert_eq!(b.admit(s(131)), (Admission::Allowed, None));
        // a full threshold of new failures is needed to open it again
        assert_eq!(b.on_failure(s(132)), None);
        assert_eq!(b.on_failure(s(132)), None);
        assert_eq!(b.on_failure(s(132)), tr(Closed, Open));
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_for_another_full_cool_down() {
        let mut b = opened_at(s(100));
        b.admit(s(130));
        assert_eq!(b.on_failure(s(135)), tr(HalfOpen, Open));
        assert_eq!(b.admit(s(135)), (Admission::Rejected { retry_after: s(30) }, None));
        assert_eq!(b.admit(s(164)), (Admission::Rejected { retry_after: s(1) }, None));
        assert_eq!(b.admit(s(165)), (Admission::Probe, tr(Open, HalfOpen)));
    }

    #[test]
    fn peek_answers_like_admit_without_taking_the_probe() {
        let mut b = breaker(1, 10);
        assert_eq!(b.peek(s(0)), Admission::Allowed);
        b.on_failure(s(0));
        assert_eq!(b.peek(s(4)), Admission::Rejected { retry_after: s(6) });
        assert_eq!(b.peek(s(10)), Admission::Probe);
        assert_eq!(b.state(), Open);
        assert_eq!(b.peek(s(10)), Admission::Probe);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert_eq!(b.peek(s(10)), Admission::Rejected { retry_after: PROBE_RETRY_AFTER });
    }

    #[test]
    fn an_origin_near_the_end_of_time_does_not_overflow() {
        let mut b = CircuitBreaker::new(BreakerConfig { failure_threshold: 1, open_for: Duration::MAX });
        assert_eq!(b.on_failure(s(5)), tr(Closed, Open));
        assert!(matches!(b.admit(s(6)).0, Admission::Rejected { .. }));
    }
}
