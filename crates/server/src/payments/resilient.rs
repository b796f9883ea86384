//! [`Payments`]: the front every caller uses. Each gateway call gets a timeout; timeouts and
//! transient errors are retried per [`RetryPolicy`] (declines never); one [`CircuitBreaker`]
//! guards the gateway so that, after consecutive failures, callers fail fast instead of
//! waiting on a dead gateway.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use retail_domain::breaker::{Admission, BreakerConfig, BreakerState, CircuitBreaker, Transition};
use retail_domain::retry::{Next, Outcome, RetryPolicy};
use retail_domain::{Currency, Money};

use super::simulator::Simulator;
use super::{Authorization, CardToken, GatewayError, PaymentGateway};
use crate::config::{PaymentProvider, PaymentSettings};
use crate::http::metrics::PaymentMetrics;

/// Where the circuit breaker's state lives. `now` is a monotonic time since the caller's
/// origin. [`LocalBreaker`] keeps it in this process; a store shared by several processes
/// would keep its own clock and could implement this trait later.
pub trait BreakerStore: Send + Sync + 'static {
    /// See [`CircuitBreaker::admit`].
    fn admit(&self, now: Duration) -> (Admission, Option<Transition>);
    /// See [`CircuitBreaker::peek`].
    fn peek(&self, now: Duration) -> Admission;
    /// See [`CircuitBreaker::on_success`].
    fn on_success(&self, now: Duration) -> Option<Transition>;
    /// See [`CircuitBreaker::on_failure`].
    fn on_failure(&self, now: Duration) -> Option<Transition>;
    /// See [`CircuitBreaker::abandon_probe`].
    fn abandon_probe(&self);
    /// See [`CircuitBreaker::state`].
    fn state(&self) -> BreakerState;
}

/// A breaker for this process only, behind a mutex.
#[derive(Debug)]
pub struct LocalBreaker(Mutex<CircuitBreaker>);

impl LocalBreaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> LocalBreaker {
        LocalBreaker(Mutex::new(CircuitBreaker::new(cfg)))
    }

    fn lock(&self) -> MutexGuard<'_, CircuitBreaker> {
        // the state machine never panics mid-update; a poisoned lock holds a consistent value
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BreakerStore for LocalBreaker {
    fn admit(&self, now: Duration) -> (Admission, Option<Transition>) {
        self.lock().admit(now)
    }
    fn peek(&self, now: Duration) -> Admission {
        self.lock().peek(now)
    }
    fn on_success(&self, now: Duration) -> Option<Transition> {
        self.lock().on_success(now)
    }
    fn on_failure(&self, now: Duration) -> Option<Transition> {
        self.lock().on_failure(now)
    }
    fn abandon_probe(&self) {
        self.lock().abandon_probe();
    }
    fn state(&self) -> BreakerState {
        self.lock().state()
    }
}

/// The resilient payment front; cheap to clone (clones share the gateway and the breaker).
#[derive(Clone)]
pub struct Payments {
    gateway: Arc<dyn PaymentGateway>,
    breaker: Arc<dyn BreakerStore>,
    retry: RetryPolicy,
    timeout: Duration,
    metrics: PaymentMetrics,
    /// The breaker's clock: `now` is the time since this instant.
    origin: Instant,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("gateway", &self.gateway.name())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

/// The breaker configuration in `settings`.
fn breaker_config(settings: &PaymentSettings) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: settings.breaker_failure_threshold,
        open_for: Duration::from_secs(settings.breaker_open_secs),
    }
}

/// The retry policy in `settings`.
fn retry_policy(settings: &PaymentSettings) -> RetryPolicy {
    RetryPolicy {
        max_attempts: settings.retry_max_attempts,
        base: Duration::from_millis(settings.retry_base_ms),
        max_delay: Duration::from_millis(settings.retry_max_delay_ms),
    }
}

/// How an attempt ended, for the retry policy and the breaker.
fn outcome<T>(result: &Result<T, GatewayError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(GatewayError::Declined { .. }) => Outcome::Decline,
        Err(GatewayError::Timeout | GatewayError::Transient(_) | GatewayError::BreakerOpen { .. }) => {
            Outcome::Transient
        }
    }
}

/// The `outcome` label of `payment_gateway_calls_total`.
fn outcome_label<T>(result: &Result<T, GatewayError>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(GatewayError::Declined { .. }) => "declined",
        Err(GatewayError::Timeout) => "timeout",
        Err(GatewayError::Transient(_) | GatewayError::BreakerOpen { .. }) => "error",
    }
}

/// Gives the probe slot back if the probe's caller goes away before it reports (the future
/// is dropped mid-call): that says nothing about the gateway.
struct ProbeGuard<'a> {
    breaker: &'a dyn BreakerStore,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.abandon_probe();
        }
    }
}

impl Payments {
    /// A front for `gateway` with the timeout, retries and a per-process breaker from
    /// `settings`.
    pub fn new(
        gateway: Arc<dyn PaymentGateway>,
        settings: &PaymentSettings,
        metrics: PaymentMetrics,
    ) -> Payments {
        let breaker = Arc::new(LocalBreaker::new(breaker_config(settings)));
        Payments::with_breaker(gateway, settings, metrics, breaker)
    }

    /// Like [`new`](Self::new) with the breaker kept in `breaker` (its own configuration
    /// applies; `settings`' breaker keys are ignored).
    pub fn with_breaker(
        gateway: Arc<dyn PaymentGateway>,
        settings: &PaymentSettings,
        metrics: PaymentMetrics,
        breaker: Arc<dyn BreakerStore>,
    ) -> Payments {
        metrics.breaker_state.set(breaker.state().gauge());
        Payments {
            gateway,
            breaker,
            retry: retry_policy(settings),
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
            metrics,
            origin: Instant::now(),
        }
    }

    /// The front for the provider named in `settings` (the built-in simulator).
    pub fn from_settings(settings: &PaymentSettings, metrics: PaymentMetrics) -> Payments {
        let gateway: Arc<dyn PaymentGateway> = match settings.provider {
            PaymentProvider::Simulator => Arc::new(Simulator::new(&settings.simulator)),
        };
        tracing::info!(provider = gateway.name(), "payment gateway ready");
        Payments::new(gateway, settings, metrics)
    }

    /// The provider's name, to store with each payment.
    pub fn provider(&self) -> &'static str {
        self.gateway.name()
    }

    /// The breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Fails fast with [`GatewayError::BreakerOpen`], without calling anything, while the
    /// breaker would reject a call (open and cooling down, or a probe in flight). Checkout
    /// calls this before touching the database.
    pub fn check_open(&self) -> Result<(), GatewayError> {
        match self.breaker.peek(self.now()) {
            Admission::Rejected { retry_after } => Err(GatewayError::BreakerOpen { retry_after }),
            Admission::Allowed | Admission::Probe => Ok(()),
        }
    }

    /// Holds `amount` on the card; idempotent by `idem` (retries reuse it).
    pub async fn authorize(
        &self,
        idem: &str,
        token: &CardToken,
        amount: Money,
        currency: Currency,
    ) -> Result<Authorization, GatewayError> {
        self.call("authorize", || self.gateway.authorize(idem, token, amount, currency)).await
    }

    /// Takes `amount` of the authorisation `reference`.
    pub async fn capture(&self, reference: &str, amount: Money) -> Result<(), GatewayError> {
        self.call("capture", || self.gateway.capture(reference, amount)).await
    }

    /// Releases the authorisation `reference`.
    pub async fn void(&self, reference: &str) -> Result<(), GatewayError> {
        self.call("void", || self.gateway.void(reference)).await
    }

    /// Gives back `amount` of the capture of `reference`; idempotent by `idem`. Returns the
    /// refund's reference.
    pub async fn refund(&self, reference: &str, amount: Money, idem: &str) -> Result<String, GatewayError> {
        self.call("refund", || self.gateway.refund(reference, amount, idem)).await
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn record(&self, transition: Option<Transition>) {
        let Some(Transition { from, to }) = transition else { return };
        self.metrics.breaker_transitions.with_label_values(&[from.as_str(), to.as_str()]).inc();
        self.metrics.breaker_state.set(to.gauge());
        let gateway = self.gateway.name();
        match to {
            BreakerState::Open => {
                tracing::warn!(
                    gateway,
                    from = from.as_str(),
                    to = to.as_str(),
                    "payment circuit breaker opened"
                )
            }
            BreakerState::HalfOpen | BreakerState::Closed => {
                tracing::info!(
                    gateway,
                    from = from.as_str(),
                    to = to.as_str(),
                    "payment circuit breaker changed"
                )
            }
        }
    }

    fn count(&self, op: &'static str, outcome: &'static str) {
        self.metrics.gateway_calls.with_label_values(&[op, outcome]).inc();
    }

    /// One operation: admission by the breaker, the call under the timeout, the outcome
    /// reported to the breaker, retries as the policy says.
    async fn call<'a, T>(
        &'a self,
        op: &'static str,
        attempt_once: impl Fn() -> BoxFuture<'a, Result<T, GatewayError>>,
    ) -> Result<T, GatewayError> {
        let mut attempt: u32 = 1;
        loop {
            let (admission, transition) = self.breaker.admit(self.now());
            self.record(transition);
            if let Admission::Rejected { retry_after } = admission {
                self.count(op, "rejected");
                return Err(GatewayError::BreakerOpen { retry_after });
            }
            let mut guard =
                ProbeGuard { breaker: self.breaker.as_ref(), armed: admission == Admission::Probe };
            let started = Instant::now();
            let result = tokio::time::timeout(self.timeout, attempt_once())
                .await
                .unwrap_or(Err(GatewayError::Timeout));
            self.metrics.gateway_duration.with_label_values(&[op]).observe(started.elapsed().as_secs_f64());
            self.count(op, outcome_label(&result));
            let outcome = outcome(&result);
            guard.armed = false;
            // a decline is an answer: the gateway works
            let transition = match outcome {
                Outcome::Success | Outcome::Decline => self.breaker.on_success(self.now()),
                Outcome::Transient => self.breaker.on_failure(self.now()),
            };
            self.record(transition);
            match self.retry.next(attempt, outcome, rand::random_range(0..=1000)) {
                Next::Done => return result,
                Next::GiveUp => {
                    if let Err(e) = &result {
                        tracing::warn!(op, attempts = attempt, error = %e, "payment gateway call failed");
                    }
                    return result;
                }
                Next::RetryAfter(delay) => {
                    if let Err(e) = &result {
                        tracing::debug!(
                            op, attempt, error = %e, ?delay,
                            "payment gateway call failed; retrying"
                        );
                    }
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimulatorSettings;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Tiny timeouts and backoffs; a breaker that does not open unless a test asks.
    fn settings() -> PaymentSettings {
        PaymentSettings {
            timeout_ms: 20,
            retry_max_attempts: 3,
            retry_base_ms: 1,
            retry_max_delay_ms: 4,
            breaker_failure_threshold: 1000,
            simulator: SimulatorSettings { spike_ms: 200, ..SimulatorSettings::default() },
            ..PaymentSettings::default()
        }
    }

    struct Rig {
        payments: Payments,
        sim: Arc<Simulator>,
        metrics: PaymentMetrics,
    }

    impl Rig {
        fn calls(&self, op: &str, outcome: &str) -> u64 {
            self.metrics.gateway_calls.with_label_values(&[op, outcome]).get()
        }
        fn transitions(&self, from: &str, to: &str) -> u64 {
            self.metrics.breaker_transitions.with_label_values(&[from, to]).get()
        }
        async fn authorize(&self, idem: &str, token: &str) -> Result<Authorization, GatewayError> {
            self.payments.authorize(idem, &CardToken::new(token), Money(1250), Currency::EUR).await
        }
    }

    fn rig_with(settings: &PaymentSettings, breaker: Option<BreakerConfig>) -> Rig {
        let sim = Arc::new(Simulator::new(&settings.simulator));
        let metrics = PaymentMetrics::new().unwrap();
        let gateway: Arc<dyn PaymentGateway> = sim.clone();
        let payments = match breaker {
            Some(cfg) => {
                Payments::with_breaker(gateway, settings, metrics.clone(), Arc::new(LocalBreaker::new(cfg)))
            }
            None => Payments::new(gateway, settings, metrics.clone()),
        };
        Rig { payments, sim, metrics }
    }

    fn rig() -> Rig {
        rig_with(&settings(), None)
    }

    /// Opens after `threshold` failures, for `open_ms`; one attempt per operation.
    fn breaker_rig(threshold: u32, open_ms: u64, sim: SimulatorSettings) -> Rig {
        let s = PaymentSettings { retry_max_attempts: 1, simulator: sim, ..settings() };
        rig_with(&s, Some(BreakerConfig { failure_threshold: threshold, open_for: ms(open_ms) }))
    }

    fn declined_code<T: std::fmt::Debug>(r: Result<T, GatewayError>) -> &'static str {
        match r {
            Err(GatewayError::Declined { code, .. }) => code,
            other => panic!("expected a decline, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_approved_card_is_authorised_once_per_key() {
        let r = rig();
        let a = r.authorize("idem-1", "tok_visa").await.unwrap();
        assert!(a.reference.starts_with("sim_auth_"), "{a:?}");
        assert_eq!(a.amount, Money(1250));
        assert_eq!(r.authorize("idem-1", "tok_visa").await.unwrap(), a);
        assert!(r.authorize("idem-2", "tok_approve").await.is_ok());
        assert_eq!(r.sim.calls(), 3);
        assert_eq!(r.calls("authorize", "success"), 3);
        assert_eq!(r.metrics.gateway_duration.with_label_values(&["authorize"]).get_sample_count(), 3);
        assert_eq!(r.payments.provider(), "simulator");
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_decline_is_never_retried() {
        let r = rig();
        assert_eq!(declined_code(r.authorize("k", "tok_decline").await), "card_declined");
        assert_eq!(r.sim.calls(), 1);
        assert_eq!(r.calls("authorize", "declined"), 1);
    }

    #[tokio::test]
    async fn insufficient_funds_is_a_decline_too() {
        let r = rig();
        let e = r.authorize("k", "tok_insufficient_funds").await.unwrap_err();
        assert!(e.is_decline(), "{e:?}");
        assert_eq!(e.code(), "insufficient_funds");
        assert_eq!(r.sim.calls(), 1);
    }

    #[tokio::test]
    async fn a_gateway_that_never_answers_times_out_after_every_attempt() {
        let r = rig();
        let started = Instant::now();
        assert_eq!(r.authorize("k", "tok_timeout").await, Err(GatewayError::Timeout));
        let took = started.elapsed();
        assert_eq!(r.sim.calls(), 3);
        assert_eq!(r.calls("authorize", "timeout"), 3);
        assert!(took >= ms(60), "three 20 ms timeouts took {took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[tokio::test]
    async fn latency_spikes_past_the_timeout_are_timeouts() {
        let sim =
            SimulatorSettings { spike_rate_permille: 1000, spike_ms: 200, ..SimulatorSettings::default() };
        let r = rig_with(&PaymentSettings { retry_max_attempts: 2, simulator: sim, ..settings() }, None);
        assert_eq!(r.authorize("k", "tok_visa").await, Err(GatewayError::Timeout));
        assert_eq!(r.sim.calls(), 2);
    }

    #[tokio::test]
    async fn a_transient_error_is_retried_until_attempts_run_out() {
        let r = rig();
        assert!(matches!(r.authorize("k", "tok_error").await, Err(GatewayError::Transient(_))));
        assert_eq!(r.sim.calls(), 3);
        assert_eq!(r.calls("authorize", "error"), 3);
    }

    #[tokio::test]
    async fn a_flaky_card_succeeds_on_the_retry() {
        let r = rig();
        assert!(r.authorize("k", "tok_flaky").await.is_ok());
        assert_eq!(r.sim.calls(), 2);
        assert_eq!((r.calls("authorize", "error"), r.calls("authorize", "success")), (1, 1));
        // without retries the same card fails
        let once = rig_with(&PaymentSettings { retry_max_attempts: 1, ..settings() }, None);
        assert!(matches!(once.authorize("k", "tok_flaky").await, Err(GatewayError::Transient(_))));
    }

    #[tokio::test]
    async fn capture_void_and_refund_go_through_the_front() {
        let r = rig();
        let a = r.authorize("k", "tok_visa").await.unwrap();
        r.payments.capture(&a.reference, Money(1250)).await.unwrap();
        let refund = r.payments.refund(&a.reference, Money(250), "refund-1").await.unwrap();
        assert!(refund.starts_with("sim_refund_"), "{refund}");
        assert_eq!(declined_code(r.payments.void(&a.reference).await), "already_captured");
        let b = r.authorize("k2", "tok_visa").await.unwrap();
        r.payments.void(&b.reference).await.unwrap();
        for op in ["capture", "refund", "void"] {
            assert!(r.calls(op, "success") + r.calls(op, "declined") >= 1, "{op}");
        }
        assert_eq!(r.sim.authorization(&a.reference).unwrap().refunded, Money(250));
    }

    #[tokio::test]
    async fn consecutive_failures_open_the_breaker_and_then_calls_fail_fast() {
        let r = breaker_rig(3, 60_000, SimulatorSettings::default());
        assert_eq!(r.metrics.breaker_state.get(), 0);
        for i in 0..2 {
            assert!(r.authorize(&format!("e{i}"), "tok_error").await.is_err());
        }
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
        assert!(r.payments.check_open().is_ok());
        assert!(r.authorize("e2", "tok_timeout").await.is_err());
        assert_eq!(r.payments.breaker_state(), BreakerState::Open);
        assert_eq!(r.transitions("closed", "open"), 1);
        assert_eq!(r.metrics.breaker_state.get(), 1);

        let calls = r.sim.calls();
        match r.payments.check_open() {
            Err(GatewayError::BreakerOpen { retry_after }) => {
                assert!(retry_after > ms(59_000) && retry_after <= ms(60_000), "{retry_after:?}");
            }
            other => panic!("{other:?}"),
        }
        let e = r.authorize("v", "tok_visa").await.unwrap_err();
        assert!(matches!(e, GatewayError::BreakerOpen { .. }), "{e:?}");
        assert_eq!(e.retry_after_secs(), Some(60));
        assert!(r.payments.capture("sim_auth_1", Money(1)).await.is_err());
        assert_eq!(r.sim.calls(), calls, "an open breaker let a call through");
        assert_eq!(r.calls("authorize", "rejected"), 1);
        assert_eq!(r.calls("capture", "rejected"), 1);
    }

    #[tokio::test]
    async fn declines_and_successes_are_not_breaker_failures() {
        let r = breaker_rig(3, 60_000, SimulatorSettings::default());
        for (i, token) in
            ["tok_error", "tok_error", "tok_decline", "tok_error", "tok_error"].iter().enumerate()
        {
            let _ = r.authorize(&format!("k{i}"), token).await;
        }
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
        let _ = r.authorize("k5", "tok_visa").await;
        let _ = r.authorize("k6", "tok_error").await;
        let _ = r.authorize("k7", "tok_error").await;
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
        let _ = r.authorize("k8", "tok_error").await;
        assert_eq!(r.payments.breaker_state(), BreakerState::Open);
    }

    #[tokio::test]
    async fn a_breaker_opened_by_retries_stops_them() {
        // threshold 2, three attempts: the third attempt is refused without a call
        let s = PaymentSettings { retry_max_attempts: 3, ..settings() };
        let r = rig_with(&s, Some(BreakerConfig { failure_threshold: 2, open_for: ms(60_000) }));
        let e = r.authorize("k", "tok_error").await.unwrap_err();
        assert!(matches!(e, GatewayError::BreakerOpen { .. }), "{e:?}");
        assert_eq!(r.sim.calls(), 2);
    }

    async fn open_and_cool_down(r: &Rig) {
        assert!(r.authorize("fail", "tok_error").await.is_err());
        assert_eq!(r.payments.breaker_state(), BreakerState::Open);
        assert!(r.payments.check_open().is_err());
        tokio::time::sleep(ms(40)).await;
        assert!(r.payments.check_open().is_ok(), "cool-down over: a probe may go");
    }

    #[tokio::test]
    async fn a_successful_half_open_probe_closes_the_breaker() {
        let r = breaker_rig(1, 30, SimulatorSettings::default());
        open_and_cool_down(&r).await;
        assert!(r.authorize("probe", "tok_visa").await.is_ok());
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
        assert_eq!(
            (
                r.transitions("closed", "open"),
                r.transitions("open", "half_open"),
                r.transitions("half_open", "closed")
            ),
            (1, 1, 1)
        );
        assert_eq!(r.metrics.breaker_state.get(), 0);
        assert!(r.payments.check_open().is_ok());
    }

    #[tokio::test]
    async fn a_failed_probe_opens_the_breaker_again() {
        let r = breaker_rig(1, 30, SimulatorSettings::default());
        open_and_cool_down(&r).await;
        assert!(matches!(r.authorize("probe", "tok_error").await, Err(GatewayError::Transient(_))));
        assert_eq!(r.payments.breaker_state(), BreakerState::Open);
        assert_eq!(r.transitions("half_open", "open"), 1);
        assert_eq!(r.metrics.breaker_state.get(), 1);
        assert!(matches!(r.payments.check_open(), Err(GatewayError::BreakerOpen { .. })));
    }

    #[tokio::test]
    async fn a_declined_probe_closes_the_breaker() {
        let r = breaker_rig(1, 30, SimulatorSettings::default());
        open_and_cool_down(&r).await;
        assert!(r.authorize("probe", "tok_decline").await.unwrap_err().is_decline());
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn only_one_probe_at_a_time() {
        let r = breaker_rig(1, 30, SimulatorSettings { latency_ms: 15, ..SimulatorSettings::default() });
        open_and_cool_down(&r).await;
        let (a, b) = tokio::join!(r.authorize("p1", "tok_visa"), r.authorize("p2", "tok_visa"));
        assert!(a.is_ok(), "{a:?}");
        assert!(matches!(b, Err(GatewayError::BreakerOpen { .. })), "{b:?}");
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_probe_whose_caller_went_away_frees_the_slot() {
        let r = breaker_rig(1, 30, SimulatorSettings { latency_ms: 15, ..SimulatorSettings::default() });
        open_and_cool_down(&r).await;
        let gone = tokio::time::timeout(ms(3), r.authorize("p1", "tok_visa")).await;
        assert!(gone.is_err(), "{gone:?}");
        assert_eq!(r.payments.breaker_state(), BreakerState::HalfOpen);
        assert!(r.payments.check_open().is_ok());
        assert!(r.authorize("p2", "tok_visa").await.is_ok());
        assert_eq!(r.payments.breaker_state(), BreakerState::Closed);
    }

    /// Outcomes of `n` authorisations, one attempt each, against a simulator failing 30%.
    async fn chaos_run(seed: u64, n: usize) -> Vec<&'static str> {
        let sim = SimulatorSettings { failure_rate_permille: 300, seed, ..SimulatorSettings::default() };
        let r = rig_with(&PaymentSettings { retry_max_attempts: 1, simulator: sim, ..settings() }, None);
        let mut seen = Vec::new();
        for i in 0..n {
            seen.push(match r.authorize(&format!("k{i}"), "tok_visa").await {
                Ok(_) => "ok",
                Err(GatewayError::Transient(_)) => "transient",
                Err(e) => panic!("{e:?}"),
            });
        }
        seen
    }

    #[tokio::test]
    async fn a_seeded_failure_rate_is_reproducible() {
        let first = chaos_run(11, 60).await;
        assert_eq!(first, chaos_run(11, 60).await);
        assert_ne!(first, chaos_run(12, 60).await);
        let failed = first.iter().filter(|o| **o == "transient").count();
        assert!((8..=32).contains(&failed), "{failed} of 60 failed at 30%");
    }

    #[tokio::test]
    async fn from_settings_builds_the_simulator_with_the_configured_policy() {
        let p = Payments::from_settings(&PaymentSettings::default(), PaymentMetrics::new().unwrap());
        assert_eq!(p.provider(), "simulator");
        assert_eq!(p.timeout, Duration::from_secs(3));
        assert_eq!(p.retry, RetryPolicy::default());
        assert_eq!(p.breaker_state(), BreakerState::Closed);
        assert!(p.authorize("k", &CardToken::new("tok_visa"), Money(1), Currency::GBP).await.is_ok());
        assert_eq!(breaker_config(&PaymentSettings::default()), BreakerConfig::default());
        let zero = Payments::new(
            Arc::new(Simulator::new(&SimulatorSettings::default())),
            &PaymentSettings { timeout_ms: 0, ..PaymentSettings::default() },
            PaymentMetrics::new().unwrap(),
        );
        assert_eq!(zero.timeout, ms(1));
    }

    #[test]
    fn payment_settings_come_from_the_file_and_unknown_providers_are_refused() {
        let parse = |toml: &str| {
            config::Config::builder()
                .add_source(config::File::from_str(toml, config::FileFormat::Toml))
                .build()
                .and_then(|c| c.try_deserialize::<crate::Settings>())
        };
        let s = parse(
            "[payments]\nprovider = \"simulator\"\ntimeout_ms = 500\n\
             [payments.simulator]\nfailure_rate_permille = 300\nseed = 9\n",
        )
        .unwrap()
        .payments;
        assert_eq!((s.provider, s.timeout_ms, s.retry_max_attempts), (PaymentProvider::Simulator, 500, 3));
        assert_eq!((s.simulator.failure_rate_permille, s.simulator.seed), (300, 9));
        assert_eq!(s.stale_authorization_secs, 300);
        assert!(parse("[payments]\nprovider = \"stripe\"\n").is_err());
    }
}
