//! What every handler can reach.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use retail_store::Db;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::http::metrics::Metrics;
use crate::service::ServiceError;

/// Shared application state.
pub struct AppState {
    /// Database.
    pub db: Db,
    /// Settings the server was started with.
    pub settings: Settings,
    /// Token keys and lifetimes.
    pub tokens: TokenKeys,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Failed logins per account and client address.
    pub login_limiter: AccountLimiter,
    /// Serialised product-list pages.
    pub list_cache: Arc<ListCache>,
    /// Bounded argon2 hashing for logins and registrations.
    pub hasher: crate::hashing::PasswordHasherPool,
}

/// Failed logins per (account, client address): a GCRA bucket of `burst` failures that
/// refills one every `refill`. Only failures count, so the owner's correct logins never
/// use it up, and an attacker elsewhere fills only the bucket of their own address: they
/// are stopped just as fast, while the owner logs in from theirs.
///
/// Per-process state behind three calls (`check`, `failed`, `succeeded`), so that a shared
/// store could implement the same for several replicas.
pub struct AccountLimiter {
    burst: u32,
    period: Duration,
    /// Key -> theoretical arrival time of the next failure (GCRA).
    entries: Mutex<HashMap<String, Instant>>,
}

/// Keys kept before old ones are pruned on insert.
const LIMITER_KEYS: usize = 100_000;

impl AccountLimiter {
    /// `burst` failures, refilled one per `refill`.
    pub fn new(burst: u32, refill: Duration) -> AccountLimiter {
        AccountLimiter {
            burst: burst.max(1),
            period: refill.max(Duration::from_millis(1)),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The key for an account (normalised email) seen from a client address.
    pub fn key(email: &str, client: Option<IpAddr>) -> String {
        match client {
            Some(ip) => format!("{email} {ip}"),
            None => email.to_owned(),
        }
    }

    fn allowance(&self) -> Duration {
        self.period.saturating_mul(self.burst - 1)
    }

    /// Whether another attempt is allowed now (does not use any of the allowance).
    pub fn check(&self, key: &str) -> Result<(), ServiceError> {
        let Ok(map) = self.entries.lock() else { return Ok(()) };
        let Some(tat) = map.get(key) else { return Ok(()) };
        let now = Instant::now();
        let free_at = now + self.allowance();
        if *tat > free_at {
            let wait = *tat - free_at;
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(ServiceError::RateLimited { retry_after_secs: secs.max(1) });
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn failed(&self, key: &str) {
        let Ok(mut map) = self.entries.lock() else { return };
        let now = Instant::now();
        if map.len() >= LIMITER_KEYS {
            map.retain(|_, tat| *tat > now);
        }
        let tat = map.get(key).copied().filter(|t| *t > now).unwrap_or(now) + self.period;
        map.insert(key.to_owned(), tat);
    }

    /// A successful login clears the key's failures.
    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }

    /// Forgets keys whose bucket is full again (bounds memory).
    pub fn prune(&self) {
        if let Ok(mut map) = self.entries.lock() {
            let now = Instant::now();
            map.retain(|_, tat| *tat > now);
            map.shrink_to_fit();
        }
    }
}

/// Product-list pages already serialised, keyed by normalised query, valid for one catalog
/// version. Any catalog write (from any process) bumps the version in the database, which
/// empties the cache on the next read.
///
/// The version itself is re-read from the database at most every `version_ttl`: a write by
/// this process invalidates it at once, a write by another process (the worker) shows up
/// within `version_ttl`. That keeps cached pages off the database entirely.
pub struct ListCache {
    inner: RwLock<(i64, HashMap<String, Bytes>)>,
    capacity: usize,
    known_version: AtomicI64,
    checked_at_us: AtomicU64,
    epoch: Instant,
    version_ttl: Duration,
}

const UNKNOWN: i64 = i64::MIN;

impl ListCache {
    /// A cache holding at most `capacity` pages, trusting a read version for `version_ttl`.
    pub fn new(capacity: usize, version_ttl: Duration) -> ListCache {
        ListCache {
            inner: RwLock::new((UNKNOWN, HashMap::new())),
            capacity,
            known_version: AtomicI64::new(UNKNOWN),
            checked_at_us: AtomicU64::new(0),
            epoch: Instant::now(),
            version_ttl,
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The catalog version if it was read from the database less than `version_ttl` ago.
    pub fn fresh_version(&self) -> Option<i64> {
        let v = self.known_version.load(Ordering::Acquire);
        let age = self.now_us().saturating_sub(self.checked_at_us.load(Ordering::Acquire));
        (v != UNKNOWN && u128::from(age) < self.version_ttl.as_micros()).then_some(v)
    }

    /// Records the version just read from the database.
    pub fn note_version(&self, v: i64) {
        self.known_version.store(v, Ordering::Release);
        self.checked_at_us.store(self.now_us(), Ordering::Release);
    }

    /// Forgets the version (after this process changed the catalog).
    pub fn invalidate(&self) {
        self.known_version.store(UNKNOWN, Ordering::Release);
    }

    /// The page for `key` if cached for `version`.
    pub fn get(&self, version: i64, key: &str) -> Option<Bytes> {
        let g = self.inner.read().ok()?;
        if g.0 == version { g.1.get(key).cloned() } else { None }
    }

    /// Stores a page; a newer version replaces everything, an older one is ignored.
    pub fn put(&self, version: i64, key: String, page: Bytes) {
        let Ok(mut g) = self.inner.write() else { return };
        if version > g.0 {
            *g = (version, HashMap::new());
        }
        if version == g.0 && g.1.len() < self.capacity {
            g.1.insert(key, page);
        }
    }
}

/// The state as handlers receive it.
pub type State = actix_web::web::Data<AppState>;

impl AppState {
    /// Shortcut to the shared state type.
    pub fn into_data(self) -> State {
        actix_web::web::Data::new(self)
    }
}

/// Keeps the account limiter small; runs for the life of the server.
pub async fn prune_limiters(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.login_limiter.prune();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_serves_only_the_version_it_was_filled_for() {
        let c = ListCache::new(2, Duration::from_secs(1));
        c.put(5, "a".into(), Bytes::from_static(b"A"));
        assert_eq!(c.get(5, "a").as_deref(), Some(&b"A"[..]));
        assert_eq!(c.get(6, "a"), None);
        c.put(6, "b".into(), Bytes::from_static(b"B"));
        assert_eq!(c.get(5, "a"), None);
        c.put(5, "a".into(), Bytes::from_static(b"old"));
        assert_eq!(c.get(6, "a"), None);
    }

    #[test]
    fn cache_respects_its_capacity() {
        let c = ListCache::new(1, Duration::from_secs(1));
        c.put(1, "a".into(), Bytes::from_static(b"A"));
        c.put(1, "b".into(), Bytes::from_static(b"B"));
        assert!(c.get(1, "b").is_none());
    }

    #[test]
    fn a_read_version_is_trusted_only_until_invalidated_or_stale() {
        let c = ListCache::new(1, Duration::from_secs(60));
        assert_eq!(c.fresh_version(), None);
        c.note_version(7);
        assert_eq!(c.fresh_version(), Some(7));
        c.invalidate();
        assert_eq!(c.fresh_version(), None);
        let quick = ListCache::new(1, Duration::ZERO);
        quick.note_version(7);
        assert_eq!(quick.fresh_version(), None);
    }

    #[test]
    fn account_limiter_refuses_after_the_burst_of_failures_with_a_wait() {
        let l = AccountLimiter::new(2, Duration::from_secs(60));
        for _ in 0..10 {
            assert!(l.check("a@x.io").is_ok(), "checking alone uses nothing");
        }
        l.failed("a@x.io");
        assert!(l.check("a@x.io").is_ok());
        l.failed("a@x.io");
        match l.check("a@x.io") {
            Err(ServiceError::RateLimited { retry_after_secs }) => {
                assert!((59..=60).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        assert!(l.check("b@x.io").is_ok());
        l.succeeded("a@x.io");
        assert!(l.check("a@x.io").is_ok());
    }

    #[test]
    fn account_limiter_keys_on_account_and_address() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_ne!(
            AccountLimiter::key("a@x.io", ip("10.0.0.1")),
            AccountLimiter::key("a@x.io", ip("10.0.0.2"))
        );
        let l = AccountLimiter::new(1, Duration::from_millis(20));
        let k = AccountLimiter::key("a@x.io", ip("10.0.0.1"));
        l.failed(&k);
        assert!(l.check(&k).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(l.check(&k).is_ok(), "the bucket refills");
        l.prune();
        assert!(l.entries.lock().unwrap().is_empty());
    }
}
