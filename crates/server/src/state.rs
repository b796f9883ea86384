//! What every handler can reach.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web::Bytes;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use retail_store::Db;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::error::ApiError;
use crate::http::metrics::Metrics;

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
    /// Login attempts per account.
    pub login_limiter: AccountLimiter,
    /// Serialised product-list pages.
    pub list_cache: Arc<ListCache>,
}

/// A token bucket per account email.
pub struct AccountLimiter(DefaultKeyedRateLimiter<String>);

impl AccountLimiter {
    /// `burst` attempts, refilled one per `refill`.
    pub fn new(burst: u32, refill: Duration) -> AccountLimiter {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        AccountLimiter(RateLimiter::keyed(quota))
    }

    /// Takes one attempt for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.0.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
        })
    }

    /// Forgets accounts whose bucket is full again (bounds memory).
    pub fn prune(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

/// Product-list pages already serialised, keyed by normalised query, valid for one catalog
/// version. Any catalog write (from any process) bumps the version in the database, which
/// empties the cache on the next read.
pub struct ListCache {
    inner: RwLock<(i64, HashMap<String, Bytes>)>,
    capacity: usize,
}

impl ListCache {
    /// A cache holding at most `capacity` pages.
    pub fn new(capacity: usize) -> ListCache {
        ListCache { inner: RwLock::new((i64::MIN, HashMap::new())), capacity }
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
        let c = ListCache::new(2);
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
        let c = ListCache::new(1);
        c.put(1, "a".into(), Bytes::from_static(b"A"));
        c.put(1, "b".into(), Bytes::from_static(b"B"));
        assert!(c.get(1, "b").is_none());
    }

    #[test]
    fn account_limiter_refuses_after_the_burst_with_a_wait() {
        let l = AccountLimiter::new(2, Duration::from_secs(60));
        assert!(l.check("a@x.io").is_ok());
        assert!(l.check("a@x.io").is_ok());
        match l.check("a@x.io") {
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("{other:?}"),
        }
        assert!(l.check("b@x.io").is_ok());
    }
}
