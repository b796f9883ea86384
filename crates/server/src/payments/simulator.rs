//! The built-in payment provider: an in-memory gateway with deterministic test card tokens,
//! configurable latency and seeded random failures and latency spikes.
//!
//! | token | authorise |
//! |---|---|
//! | `tok_visa`, `tok_approve` | approved |
//! | `tok_decline` | declined, `card_declined` |
//! | `tok_insufficient_funds` | declined, `insufficient_funds` |
//! | `tok_timeout` | never answers (the caller's timeout fires) |
//! | `tok_error` | transient error, every time |
//! | `tok_flaky` | transient error on the first attempt per idempotency key, then approved |
//! | `tok_refund_refused_once` | approved; the first refund of it is declined (`refund_refused`), later ones go through |
//! | anything else | declined, `invalid_card` |
//!
//! Every call (of any operation) first waits `latency_ms` plus a random
//! `0..=latency_jitter_ms`, plus `spike_ms` for `spike_rate_permille` of the calls, then fails
//! with a transient error for `failure_rate_permille` of the calls. The numbers come from a
//! generator seeded with `seed`, three draws per call, so the same seed and the same sequence
//! of calls give the same delays and failures. A call that fails or times out has no effect
//! (a timed-out call is cut off before it applies anything).
//!
//! Authorisations live in memory, bounded: the oldest are forgotten once about
//! [`Simulator::REMEMBERED`] authorisations (with their keys and refunds) are held, and a
//! restart forgets them all. References carry a random tag of the simulator instance
//! (`sim_auth_<tag>_<n>`), so two runs never issue the same one. A real provider remembers
//! every payment; to behave like one across restarts and processes (the worker voids what the
//! server authorised; demo orders are seeded by another process), a `sim_auth_…` reference
//! the simulator does not remember is taken as one it issued earlier: void and capture succeed
//! and a refund is accepted (its amount can no longer be checked). Anything else is
//! `unknown_reference`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use retail_domain::{Currency, Money};

use super::{Authorization, CardToken, GatewayError, PaymentGateway, code};
use crate::config::SimulatorSettings;

/// How long `tok_timeout` keeps a call waiting: longer than any sane timeout.
const HANG: Duration = Duration::from_secs(3600);

/// What the simulator knows about one authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAuthorization {
    /// The authorised amount.
    pub amount: Money,
    /// Its currency.
    pub currency: Currency,
    /// The captured amount, once captured.
    pub captured: Option<Money>,
    /// Voided (released without capture).
    pub voided: bool,
    /// Refunded so far.
    pub refunded: Money,
    /// Refunds still to decline (`tok_refund_refused_once`).
    pub refunds_to_refuse: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auth,
    Idem,
    Flaky,
    Refund,
}

#[derive(Default)]
struct Book {
    /// Random tag of this instance, part of every reference it issues.
    instance: String,
    next: u64,
    /// By reference.
    auths: HashMap<String, SimAuthorization>,
    /// Authorisation idempotency key -> reference.
    auth_idem: HashMap<String, String>,
    /// `tok_flaky` keys that failed once.
    flaky: HashSet<String>,
    /// Refund idempotency key -> refund reference.
    refunds: HashMap<String, String>,
    /// Insertion order, for forgetting the oldest entries.
    order: VecDeque<(Kind, String)>,
}

impl Book {
    fn remember(&mut self, kind: Kind, key: String, capacity: usize) {
        self.order.push_back((kind, key));
        while self.order.len() > capacity.saturating_mul(4) {
            let Some((kind, key)) = self.order.pop_front() else { break };
            match kind {
                Kind::Auth => drop(self.auths.remove(&key)),
                Kind::Idem => drop(self.auth_idem.remove(&key)),
                Kind::Flaky => drop(self.flaky.remove(&key)),
                Kind::Refund => drop(self.refunds.remove(&key)),
            }
        }
    }

    fn reference(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_{}_{}", self.instance, self.next)
    }
}

/// One call's random draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Draw {
    delay: Duration,
    fail: bool,
}

/// The simulated gateway; see the [module documentation](self).
pub struct Simulator {
    settings: SimulatorSettings,
    rng: Mutex<StdRng>,
    book: Mutex<Book>,
    calls: AtomicU64,
    capacity: usize,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("settings", &self.settings).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // nothing panics while holding these locks; a poisoned one is still consistent
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Simulator {
    /// About how many authorisations (with their keys and refunds) are remembered.
    pub const REMEMBERED: usize = 100_000;

    /// A simulator with these settings, its generator seeded with `settings.seed`.
    pub fn new(settings: &SimulatorSettings) -> Simulator {
        Simulator::with_capacity(settings, Self::REMEMBERED)
    }

    fn with_capacity(settings: &SimulatorSettings, capacity: usize) -> Simulator {
        Simulator {
            settings: settings.clone(),
            rng: Mutex::new(StdRng::seed_from_u64(settings.seed)),
            book: Mutex::new(Book { instance: format!("{:08x}", rand::random::<u32>()), ..Book::default() }),
            calls: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    /// Calls received so far, of every operation.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The state of an authorisation, if remembered.
    pub fn authorization(&self, reference: &str) -> Option<SimAuthorization> {
        lock(&self.book).auths.get(reference).cloned()
    }

    fn draw(&self) -> Draw {
        let s = &self.settings;
        let (fail_roll, spike_roll, jitter) = {
            let mut rng = lock(&self.rng);
            (
                rng.random_range(0..1000u32),
                rng.random_range(0..1000u32),
                rng.random_range(0..=s.latency_jitter_ms),
            )
        };
        let spike = if spike_roll < s.spike_rate_permille { s.spike_ms } else { 0 };
        let delay = Duration::from_millis(s.latency_ms.saturating_add(jitter).saturating_add(spike));
        Draw { delay, fail: fail_roll < s.failure_rate_permille }
    }

    /// The common start of every call: count it, wait its latency, maybe fail.
    async fn arrive(&self, hang: bool) -> Result<(), GatewayError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let draw = self.draw();
        if !draw.delay.is_zero() {
            tokio::time::sleep(draw.delay).await;
        }
        if hang {
            tokio::time::sleep(HANG).await;
            return Err(GatewayError::Timeout);
        }
        if draw.fail {
            return Err(GatewayError::Transient("simulated gateway failure".into()));
        }
        Ok(())
    }

    fn authorize_now(
        &self,
        idem: &str,
        token: &CardToken,
        amount: Money,
        currency: Currency,
    ) -> Result<Authorization, GatewayError> {
        let mut book = lock(&self.book);
        if let Some(reference) = book.auth_idem.get(idem)
            && let Some(auth) = book.auths.get(reference)
        {
            return Ok(Authorization { reference: reference.clone(), amount: auth.amount });
        }
        if amount.cents() <= 0 {
            return Err(GatewayError::declined(code::INVALID_AMOUNT, "The amount must be positive."));
        }
        let mut refunds_to_refuse = 0;
        match token.expose() {
            "tok_visa" | "tok_approve" => {}
            "tok_refund_refused_once" => refunds_to_refuse = 1,
            "tok_flaky" => {
                if !book.flaky.contains(idem) {
                    book.flaky.insert(idem.to_owned());
                    book.remember(Kind::Flaky, idem.to_owned(), self.capacity);
                    return Err(GatewayError::Transient("simulated flaky card: try again".into()));
                }
            }
            "tok_error" => return Err(GatewayError::Transient("simulated gateway error".into())),
            "tok_decline" => {
                return Err(GatewayError::declined(code::CARD_DECLINED, "The card was declined."));
            }
            "tok_insufficient_funds" => {
                return Err(GatewayError::declined(
                    code::INSUFFICIENT_FUNDS,
                    "The card has insufficient funds.",
                ));
            }
            _ => return Err(GatewayError::declined(code::INVALID_CARD, "The card is not valid.")),
        }
        let reference = book.reference("sim_auth");
        book.auths.insert(
            reference.clone(),
            SimAuthorization {
                amount,
                currency,
                captured: None,
                voided: false,
                refunded: Money(0),
                refunds_to_refuse,
            },
        );
        book.auth_idem.insert(idem.to_owned(), reference.clone());
        book.remember(Kind::Auth, reference.clone(), self.capacity);
        book.remember(Kind::Idem, idem.to_owned(), self.capacity);
        Ok(Authorization { reference, amount })
    }

    fn capture_now(&self, reference: &str, amount: Money) -> Result<(), GatewayError> {
        let mut book = lock(&self.book);
        if forgotten(&book, reference) {
            return Ok(());
        }
        let auth = book.auths.get_mut(reference).ok_or_else(unknown)?;
        if auth.voided {
            return Err(GatewayError::declined(
                code::AUTHORIZATION_VOIDED,
                "The authorisation was released.",
            ));
        }
        match auth.captured {
            Some(captured) if captured == amount => Ok(()),
            Some(_) => Err(already_captured()),
            None if amount.cents() <= 0 || amount > auth.amount => {
                Err(GatewayError::declined(code::INVALID_AMOUNT, "The amount is more than was authorised."))
            }
            None => {
                auth.captured = Some(amount);
                Ok(())
            }
        }
    }

    fn void_now(&self, reference: &str) -> Result<(), GatewayError> {
        let mut book = lock(&self.book);
        if forgotten(&book, reference) {
            return Ok(());
        }
        let auth = book.auths.get_mut(reference).ok_or_else(unknown)?;
        if auth.captured.is_some() {
            return Err(already_captured());
        }
        auth.voided = true;
        Ok(())
    }

    fn refund_now(&self, reference: &str, amount: Money, idem: &str) -> Result<String, GatewayError> {
        let mut book = lock(&self.book);
        if let Some(done) = book.refunds.get(idem) {
            return Ok(done.clone());
        }
        if forgotten(&book, reference) {
            if amount.cents() <= 0 {
                return Err(GatewayError::declined(code::INVALID_AMOUNT, "A refund must be positive."));
            }
            let refund = book.reference("sim_refund");
            book.refunds.insert(idem.to_owned(), refund.clone());
            book.remember(Kind::Refund, idem.to_owned(), self.capacity);
            return Ok(refund);
        }
        let auth = book.auths.get_mut(reference).ok_or_else(unknown)?;
        let Some(captured) = auth.captured else {
            return Err(GatewayError::declined(code::NOT_CAPTURED, "Nothing was charged to refund."));
        };
        if auth.refunds_to_refuse > 0 {
            auth.refunds_to_refuse -= 1;
            return Err(GatewayError::declined(
                code::REFUND_REFUSED,
                "The refund was refused by the issuer.",
            ));
        }
        let total = auth.refunded.checked_add(amount).filter(|t| amount.cents() > 0 && *t <= captured);
        let Some(total) = total else {
            return Err(GatewayError::declined(code::INVALID_AMOUNT, "The refund is more than was charged."));
        };
        auth.refunded = total;
        let refund = book.reference("sim_refund");
        book.refunds.insert(idem.to_owned(), refund.clone());
        book.remember(Kind::Refund, idem.to_owned(), self.capacity);
        Ok(refund)
    }
}

/// A reference in the simulator's own format that it does not remember: issued before a
/// restart, by another process, or by the seed (see the module documentation).
fn forgotten(book: &Book, reference: &str) -> bool {
    reference.starts_with("sim_auth_") && !book.auths.contains_key(reference)
}

fn unknown() -> GatewayError {
    GatewayError::declined(code::UNKNOWN_REFERENCE, "No such authorisation.")
}

fn already_captured() -> GatewayError {
    GatewayError::declined(code::ALREADY_CAPTURED, "The payment was already taken.")
}

impl PaymentGateway for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    fn authorize<'a>(
        &'a self,
        idem: &'a str,
        token: &'a CardToken,
        amount: Money,
        currency: Currency,
    ) -> BoxFuture<'a, Result<Authorization, GatewayError>> {
        Box::pin(async move {
            self.arrive(token.expose() == "tok_timeout").await?;
            self.authorize_now(idem, token, amount, currency)
        })
    }

    fn capture<'a>(&'a self, reference: &'a str, amount: Money) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            self.arrive(false).await?;
            self.capture_now(reference, amount)
        })
    }

    fn void<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            self.arrive(false).await?;
            self.void_now(reference)
        })
    }

    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: Money,
        idem: &'a str,
    ) -> BoxFuture<'a, Result<String, GatewayError>> {
        Box::pin(async move {
            self.arrive(false).await?;
            self.refund_now(reference, amount, idem)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Simulator {
        Simulator::new(&SimulatorSettings::default())
    }

    fn tok(t: &str) -> CardToken {
        CardToken::new(t)
    }

    fn declined_code<T: std::fmt::Debug>(r: Result<T, GatewayError>) -> &'static str {
        match r {
            Err(GatewayError::Declined { code, .. }) => code,
            other => panic!("expected a decline, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn test_tokens_answer_as_documented() {
        let s = sim();
        let eur = Currency::EUR;
        for t in ["tok_visa", "tok_approve"] {
            let a = s.authorize(t, &tok(t), Money(500), eur).await.unwrap();
            assert!(a.reference.starts_with("sim_auth_"), "{a:?}");
            assert_eq!(a.amount, Money(500));
        }
        assert_eq!(
            declined_code(s.authorize("k1", &tok("tok_decline"), Money(1), eur).await),
            "card_declined"
        );
        assert_eq!(
            declined_code(s.authorize("k2", &tok("tok_insufficient_funds"), Money(1), eur).await),
            "insufficient_funds"
        );
        assert_eq!(declined_code(s.authorize("k3", &tok("tok_nope"), Money(1), eur).await), "invalid_card");
        assert_eq!(
            declined_code(s.authorize("k4", &tok("4242424242424242"), Money(1), eur).await),
            "invalid_card"
        );
        assert_eq!(declined_code(s.authorize("k5", &tok("tok_visa"), Money(0), eur).await), "invalid_amount");
        for _ in 0..3 {
            assert!(matches!(
                s.authorize("k6", &tok("tok_error"), Money(1), eur).await,
                Err(GatewayError::Transient(_))
            ));
        }
        // flaky: fails once per key, then approves
        assert!(matches!(
            s.authorize("f1", &tok("tok_flaky"), Money(1), eur).await,
            Err(GatewayError::Transient(_))
        ));
        assert!(s.authorize("f1", &tok("tok_flaky"), Money(1), eur).await.is_ok());
        assert!(s.authorize("f2", &tok("tok_flaky"), Money(1), eur).await.is_err());
        assert_eq!(s.calls(), 13);
    }

    #[tokio::test]
    async fn the_timeout_token_never_answers() {
        let s = sim();
        let r = tokio::time::timeout(
            Duration::from_millis(30),
            s.authorize("k", &tok("tok_timeout"), Money(1), Currency::EUR),
        )
        .await;
        assert!(r.is_err(), "{r:?}");
    }

    #[tokio::test]
    async fn authorisation_is_idempotent_by_key() {
        let s = sim();
        let a = s.authorize("same", &tok("tok_visa"), Money(700), Currency::USD).await.unwrap();
        let b = s.authorize("same", &tok("tok_visa"), Money(700), Currency::USD).await.unwrap();
        let c = s.authorize("other", &tok("tok_visa"), Money(700), Currency::USD).await.unwrap();
        assert_eq!(a, b);
        assert_ne!(a.reference, c.reference);
        let held = s.authorization(&a.reference).unwrap();
        assert_eq!(
            (held.amount, held.currency, held.captured, held.voided),
            (Money(700), Currency::USD, None, false)
        );
    }

    #[tokio::test]
    async fn capture_void_and_refund_follow_the_money() {
        let s = sim();
        let a = s.authorize("k", &tok("tok_visa"), Money(1000), Currency::EUR).await.unwrap();
        let r = a.reference.as_str();
        assert_eq!(declined_code(s.capture(r, Money(1001)).await), "invalid_amount");
        assert_eq!(declined_code(s.refund(r, Money(1), "r0").await), "not_captured");
        s.capture(r, Money(900)).await.unwrap();
        s.capture(r, Money(900)).await.unwrap(); // retried capture: same answer
        assert_eq!(declined_code(s.capture(r, Money(800)).await), "already_captured");
        assert_eq!(declined_code(s.void(r).await), "already_captured");
        let r1 = s.refund(r, Money(400), "r1").await.unwrap();
        assert_eq!(s.refund(r, Money(400), "r1").await.unwrap(), r1); // same key: same refund
        assert_eq!(declined_code(s.refund(r, Money(501), "r2").await), "invalid_amount");
        assert_eq!(declined_code(s.refund(r, Money(0), "r3").await), "invalid_amount");
        let r4 = s.refund(r, Money(500), "r4").await.unwrap();
        assert_ne!(r1, r4);
        let held = s.authorization(r).unwrap();
        assert_eq!((held.captured, held.refunded), (Some(Money(900)), Money(900)));

        let b = s.authorize("k2", &tok("tok_visa"), Money(50), Currency::EUR).await.unwrap();
        s.void(&b.reference).await.unwrap();
        s.void(&b.reference).await.unwrap(); // idempotent
        assert_eq!(declined_code(s.capture(&b.reference, Money(50)).await), "authorization_voided");
        assert_eq!(declined_code(s.void("pi_999").await), "unknown_reference");
        // its own references it no longer remembers (a restart, another process) are honoured
        assert!(s.void("sim_auth_0badcafe_999").await.is_ok());
        assert!(s.refund("sim_auth_0badcafe_999", Money(5), "r-forgotten").await.is_ok());
        assert_eq!(declined_code(s.capture("nope", Money(1)).await), "unknown_reference");
    }

    #[tokio::test]
    async fn latency_and_spikes_delay_calls() {
        let s = Simulator::new(&SimulatorSettings {
            latency_ms: 20,
            spike_rate_permille: 1000,
            spike_ms: 30,
            ..SimulatorSettings::default()
        });
        let started = std::time::Instant::now();
        s.authorize("k", &tok("tok_visa"), Money(1), Currency::EUR).await.unwrap();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn the_same_seed_draws_the_same_failures_and_delays() {
        let settings = SimulatorSettings {
            latency_jitter_ms: 10,
            failure_rate_permille: 300,
            spike_rate_permille: 100,
            spike_ms: 4000,
            seed: 7,
            ..SimulatorSettings::default()
        };
        let draws = |seed: u64| {
            let s = Simulator::new(&SimulatorSettings { seed, ..settings.clone() });
            (0..200).map(|_| s.draw()).collect::<Vec<_>>()
        };
        let a = draws(7);
        assert_eq!(a, draws(7));
        assert_ne!(a, draws(8));
        let failures = a.iter().filter(|d| d.fail).count();
        assert!((30..=90).contains(&failures), "{failures} of 200 at 30%");
        let spikes = a.iter().filter(|d| d.delay >= Duration::from_millis(4000)).count();
        assert!((5..=40).contains(&spikes), "{spikes} of 200 at 10%");
        assert!(a.iter().all(|d| d.delay <= Duration::from_millis(4010)));
        // zero rates never fail
        let calm = Simulator::new(&SimulatorSettings::default());
        assert!((0..500).map(|_| calm.draw()).all(|d| d == Draw { delay: Duration::ZERO, fail: false }));
    }

    #[tokio::test]
    async fn only_the_most_recent_entries_are_remembered() {
        let s = Simulator::with_capacity(&SimulatorSettings::default(), 2);
        let mut refs = Vec::new();
        for i in 0..6 {
            refs.push(
                s.authorize(&format!("k{i}"), &tok("tok_visa"), Money(1), Currency::EUR).await.unwrap(),
            );
        }
        // two entries (auth + key) per authorisation, 4 x capacity kept: the last four
        assert!(s.authorization(&refs[0].reference).is_none());
        assert!(s.authorization(&refs[1].reference).is_none());
        for r in &refs[2..] {
            assert!(s.authorization(&r.reference).is_some());
        }
        let book = lock(&s.book);
        assert!(book.order.len() <= 8 && book.auths.len() == 4 && book.auth_idem.len() == 4);
    }

    #[tokio::test]
    async fn the_first_refund_of_tok_refund_refused_once_is_declined_and_a_retry_goes_through() {
        let s = sim();
        let a = s.authorize("r1", &tok("tok_refund_refused_once"), Money(500), Currency::EUR).await.unwrap();
        s.capture(&a.reference, Money(500)).await.unwrap();
        assert_eq!(declined_code(s.refund(&a.reference, Money(100), "x1").await), "refund_refused");
        assert!(s.refund(&a.reference, Money(100), "x1").await.is_ok());
        assert_eq!(s.authorization(&a.reference).unwrap().refunded, Money(100));
    }
}
