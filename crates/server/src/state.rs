//! What every handler can reach.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// The payment gateway behind timeouts, retries and the circuit breaker.
    pub payments: crate::payments::Payments,
    /// Flash sales: the sold-out board and the listing cache.
    pub flash: Arc<FlashMemory>,
    /// Return rules (windows, fees, photo limit, stage targets), checked at startup.
    pub returns: Arc<crate::config::ReturnPolicy>,
    /// Traffic, probes and recent logs for the monitoring API.
    pub monitor: Arc<crate::monitor::Monitor>,
    /// Per-partner feed request limits.
    pub partner_limits: crate::service::partners::PartnerLimits,
}

/// What this process remembers about flash sales, so that a stampede on a sold-out item is
/// answered without the database: the items it saw sold out (for `sold_out_memo`), and the
/// serialised pages of the public listing (for `listing_ttl`, dropped on any change made
/// here). Per-process state behind a few calls, which a shared store could implement.
pub struct FlashMemory {
    sold_out_memo: Duration,
    sold_out: Mutex<HashMap<(i64, i64), Instant>>,
    listing_ttl: Duration,
    listing: Mutex<HashMap<(u32, u32), Arc<CachedPage>>>,
}

impl FlashMemory {
    /// Empty, with these lifetimes.
    pub fn new(sold_out_memo: Duration, listing_ttl: Duration) -> Self {
        Self { sold_out_memo, sold_out: Mutex::default(), listing_ttl, listing: Mutex::default() }
    }

    /// Whether the item was seen sold out less than `sold_out_memo` ago.
    pub fn is_sold_out(&self, sale: i64, product: i64) -> bool {
        let Ok(m) = self.sold_out.lock() else { return false };
        m.get(&(sale, product)).is_some_and(|at| at.elapsed() < self.sold_out_memo)
    }

    /// Remembers the item as sold out (now).
    pub fn mark_sold_out(&self, sale: i64, product: i64) {
        if let Ok(mut m) = self.sold_out.lock() {
            if m.len() > 10_000 {
                let memo = self.sold_out_memo;
                m.retain(|_, at| at.elapsed() < memo);
            }
            m.insert((sale, product), Instant::now());
        }
    }

    /// Forgets that the item was sold out (units came back through this process).
    pub fn units_returned(&self, sale: i64, product: i64) {
        if let Ok(mut m) = self.sold_out.lock() {
            m.remove(&(sale, product));
        }
    }

    /// A listing page if it is younger than `listing_ttl`.
    pub fn listing(&self, page: u32, per_page: u32) -> Option<Arc<CachedPage>> {
        let m = self.listing.lock().ok()?;
        m.get(&(page, per_page)).filter(|p| p.built_at.elapsed() < self.listing_ttl).cloned()
    }

    /// Keeps a listing page.
    pub fn keep_listing(&self, page: u32, per_page: u32, p: CachedPage) -> Arc<CachedPage> {
        let p = Arc::new(p);
        if let Ok(mut m) = self.listing.lock()
            && !self.listing_ttl.is_zero()
        {
            if m.len() > 1000 {
                m.clear();
            }
            m.insert((page, per_page), p.clone());
        }
        p
    }

    /// Drops every listing page (a sale changed).
    pub fn sales_changed(&self) {
        if let Ok(mut m) = self.listing.lock() {
            m.clear();
        }
    }
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

/// A product-list page as served: its JSON body and ETag (a digest of the body).
#[derive(Debug)]
pub struct CachedPage {
    /// Weak ETag of `body`.
    pub etag: String,
    /// The serialised page.
    pub body: Bytes,
    /// When the rows it shows were read: its age is how stale its stock may be.
    built_at: Instant,
    /// Set by the one request that rebuilds the page in the last quarter of its life.
    renewing: AtomicBool,
}

impl CachedPage {
    /// A page whose rows were read at `built_at` (taken before the query, so that its age
    /// bounds how stale it is).
    pub fn new(etag: String, body: Bytes, built_at: Instant) -> CachedPage {
        CachedPage { etag, body, built_at, renewing: AtomicBool::new(false) }
    }
}

/// Whether something `age` old may still be served under `ttl`. In the last quarter of its
/// life the first caller to ask gets `false` (it renews the value) and the others `true`, so
/// a hot entry is rebuilt by one request, not by all that arrive when it expires; past `ttl`
/// it is never served. A `ttl` of zero serves nothing.
fn serve_or_renew(age: Duration, ttl: Duration, renewing: &AtomicBool) -> bool {
    if age >= ttl {
        return false;
    }
    if age < ttl - ttl / 4 {
        return true;
    }
    renewing.swap(true, Ordering::AcqRel)
}

/// `(catalog version, normalised query)`, borrowed: looks a page up without allocating.
/// Hashes exactly as the owned `(i64, String)` key does.
#[derive(Hash)]
struct PageKey<'a>(i64, &'a str);

impl quick_cache::Equivalent<(i64, String)> for PageKey<'_> {
    fn equivalent(&self, key: &(i64, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// Weighs a page by its bytes, but at least `floor`, so the cache holds at most
/// `capacity / floor` pages however small they are.
#[derive(Clone)]
struct PageWeight {
    floor: u64,
}

impl quick_cache::Weighter<(i64, String), Arc<CachedPage>> for PageWeight {
    fn weight(&self, key: &(i64, String), page: &Arc<CachedPage>) -> u64 {
        let bytes = page.body.len() + page.etag.len() + key.1.len() + 64;
        u64::try_from(bytes).unwrap_or(u64::MAX).max(self.floor)
    }
}

/// Product-list pages already serialised, keyed by (catalog version, normalised query).
///
/// Bounded (by pages and by bytes) with scan-resistant eviction (`quick_cache`, S3-FIFO-like):
/// a flood of one-off searches evicts one-off pages, not the pages that are asked for again.
/// A page is served for at most `page_ttl` after its rows were read: that is how stale the
/// stock a list shows may be (stock changes do not move the catalog version; product detail
/// and the cart read stock live). Any other catalog change (from any process) bumps the
/// version in the database, after which the older pages are never served again.
///
/// The version itself is re-read from the database at most every `version_ttl`: a write by
/// this process invalidates it at once, a write by another process (the worker) shows up
/// within `version_ttl`. That keeps cached pages off the database entirely.
///
/// Per-process state behind a few calls (`fresh_version`, `note_version`, `invalidate`,
/// `get`, `put`), so that a shared store could implement the same for several replicas.
pub struct ListCache {
    pages: quick_cache::sync::Cache<(i64, String), Arc<CachedPage>, PageWeight>,
    page_ttl: Duration,
    /// Newest version a page was stored for; older pages are dropped when it moves.
    newest_version: AtomicI64,
    known_version: AtomicI64,
    checked_at_us: AtomicU64,
    version_renewing: AtomicBool,
    epoch: Instant,
    version_ttl: Duration,
}

const UNKNOWN: i64 = i64::MIN;

/// How a [`ListCache`] is bounded and how long it trusts what it holds.
#[derive(Debug, Clone, Copy)]
pub struct ListCacheLimits {
    /// Most pages held.
    pub pages: usize,
    /// Most bytes held (bodies, ETags and keys).
    pub bytes: u64,
    /// Longest a page is served after its rows were read.
    pub page_ttl: Duration,
    /// Longest a catalog version read from the database is trusted.
    pub version_ttl: Duration,
}

impl ListCache {
    /// An empty cache within `limits`.
    pub fn new(limits: ListCacheLimits) -> ListCache {
        let pages = limits.pages.max(1);
        let bytes = limits.bytes.max(1);
        let floor = (bytes / u64::try_from(pages).unwrap_or(u64::MAX)).max(1);
        ListCache {
            pages: quick_cache::sync::Cache::with_weighter(pages, bytes, PageWeight { floor }),
            page_ttl: limits.page_ttl,
            newest_version: AtomicI64::new(UNKNOWN),
            known_version: AtomicI64::new(UNKNOWN),
            checked_at_us: AtomicU64::new(0),
            version_renewing: AtomicBool::new(false),
            epoch: Instant::now(),
            version_ttl: limits.version_ttl,
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The catalog version if it was read from the database less than `version_ttl` ago.
    /// Near the end of that time one caller gets `None` (and re-reads it) while the others
    /// still get the version.
    pub fn fresh_version(&self) -> Option<i64> {
        let v = self.known_version.load(Ordering::Acquire);
        if v == UNKNOWN {
            return None;
        }
        let age = self.now_us().saturating_sub(self.checked_at_us.load(Ordering::Acquire));
        serve_or_renew(Duration::from_micros(age), self.version_ttl, &self.version_renewing).then_some(v)
    }

    /// Records the version just read from the database.
    pub fn note_version(&self, v: i64) {
        self.checked_at_us.store(self.now_us(), Ordering::Release);
        self.known_version.fetch_max(v, Ordering::AcqRel);
        self.version_renewing.store(false, Ordering::Release);
    }

    /// Forgets the version (after this process changed the catalog). Stock changes need
    /// not call it: they leave the version alone and lists show them within `page_ttl`.
    pub fn invalidate(&self) {
        self.known_version.store(UNKNOWN, Ordering::Release);
    }

    /// The page for `key` at `version`, unless it is missing or too old. `None` also goes to
    /// the one caller chosen to rebuild a page near the end of its life.
    pub fn get(&self, version: i64, key: &str) -> Option<Arc<CachedPage>> {
        let page = self.pages.get(&PageKey(version, key))?;
        serve_or_renew(page.built_at.elapsed(), self.page_ttl, &page.renewing).then_some(page)
    }

    /// Stores a page built at `version` and returns it. A newer version drops the pages of
    /// older ones; a page for an older version is not stored.
    pub fn put(&self, version: i64, key: String, page: CachedPage) -> Arc<CachedPage> {
        let page = Arc::new(page);
        let newest = self.newest_version.fetch_max(version, Ordering::AcqRel);
        if version > newest && newest != UNKNOWN {
            self.pages.clear();
        }
        if version >= newest && !self.page_ttl.is_zero() {
            self.pages.insert((version, key), page.clone());
        }
        page
    }

    /// Pages held.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page is held.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
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

    fn limits(pages: usize, page_ttl: Duration, version_ttl: Duration) -> ListCacheLimits {
        ListCacheLimits { pages, bytes: 1 << 20, page_ttl, version_ttl }
    }

    fn page(body: &'static str) -> CachedPage {
        CachedPage::new(format!("W/\"{body}\""), Bytes::from_static(body.as_bytes()), Instant::now())
    }

    fn body(p: Option<Arc<CachedPage>>) -> Option<Bytes> {
        p.map(|p| p.body.clone())
    }

    #[test]
    fn cache_serves_only_the_version_it_was_filled_for() {
        let c = ListCache::new(limits(8, Duration::from_secs(60), Duration::from_secs(1)));
        c.put(5, "a".into(), page("A"));
        assert_eq!(body(c.get(5, "a")).as_deref(), Some(&b"A"[..]));
        assert!(c.get(6, "a").is_none());
        assert!(c.get(5, "b").is_none());
        c.put(6, "b".into(), page("B"));
        assert!(c.get(5, "a").is_none(), "a newer version drops the older pages");
        assert_eq!(c.len(), 1);
        let late = c.put(5, "a".into(), page("old"));
        assert_eq!(&late.body[..], b"old", "the caller still gets the page it built");
        assert!(c.get(5, "a").is_none(), "an older version is not stored");
        assert!(c.get(6, "a").is_none());
        assert_eq!(body(c.get(6, "b")).as_deref(), Some(&b"B"[..]));
    }

    #[test]
    fn cache_evicts_beyond_its_capacity_and_keeps_the_pages_asked_for_again() {
        let c = ListCache::new(limits(64, Duration::from_secs(60), Duration::from_secs(1)));
        let flood = |from: usize, hot: &str| {
            for i in from..from + 10_000 {
                c.put(1, format!("one-off {i}"), page("x"));
                if i % 8 == 0 && !hot.is_empty() {
                    assert!(c.get(1, hot).is_some(), "{hot} was evicted after {i} one-off pages");
                }
            }
        };
        // A page asked for again survives a flood of one-off pages...
        c.put(1, "first".into(), page("F"));
        flood(0, "first");
        assert!(c.len() <= 64, "{} pages held", c.len());
        // ...also when it first comes after the cache filled up with them (a fresh server
        // after a burst of distinct searches): rebuilt when missing, as the service does, it
        // is admitted for good by its second rebuild at the latest.
        flood(10_000, "");
        let mut rebuilds = 0;
        for i in 20_000..30_000 {
            if c.get(1, "late").is_none() {
                rebuilds += 1;
                c.put(1, "late".into(), page("L"));
            }
            c.put(1, format!("one-off {i}"), page("x"));
        }
        assert!(rebuilds <= 2, "the late page was rebuilt {rebuilds} times");
        assert!(c.len() <= 64, "{} pages held", c.len());
        let held = (0..30_000).filter(|i| c.get(1, &format!("one-off {i}")).is_some()).count();
        assert!(held < 64, "{held} one-off pages held");
    }

    #[test]
    fn cache_is_bounded_by_bytes_too() {
        let c = ListCache::new(ListCacheLimits {
            pages: 1_000,
            bytes: 64 * 1024,
            page_ttl: Duration::from_secs(60),
            version_ttl: Duration::from_secs(1),
        });
        let big = Bytes::from(vec![b'x'; 4 * 1024]);
        for i in 0..1_000 {
            c.put(1, format!("k{i}"), CachedPage::new("e".into(), big.clone(), Instant::now()));
        }
        assert!(c.len() <= 16, "{} pages of 4 KiB held in 64 KiB", c.len());
        assert!(c.len() >= 4, "{} pages held", c.len());
    }

    fn ago(d: Duration) -> Instant {
        Instant::now().checked_sub(d).unwrap()
    }

    #[test]
    fn pages_expire_after_their_ttl_and_one_caller_renews_them_first() {
        let ttl = Duration::from_secs(10);
        let c = ListCache::new(limits(8, ttl, Duration::from_secs(1)));
        c.put(1, "a".into(), page("A"));
        assert!(c.get(1, "a").is_some());
        // In the last quarter of its life: the first caller rebuilds, the others are served.
        c.put(
            1,
            "b".into(),
            CachedPage::new("e".into(), Bytes::from_static(b"B"), ago(Duration::from_secs(8))),
        );
        assert!(c.get(1, "b").is_none(), "the first caller renews the page");
        assert!(c.get(1, "b").is_some(), "the others keep the page meanwhile");
        assert!(c.get(1, "b").is_some());
        // Past its TTL it is served to nobody.
        c.put(1, "c".into(), CachedPage::new("e".into(), Bytes::from_static(b"C"), ago(ttl)));
        assert!(c.get(1, "c").is_none());
        assert!(c.get(1, "c").is_none());
        // A rebuilt page replaces the expired one.
        c.put(1, "c".into(), page("C2"));
        assert_eq!(body(c.get(1, "c")).as_deref(), Some(&b"C2"[..]));
        // And in real time.
        let short = ListCache::new(limits(8, Duration::from_millis(50), Duration::from_secs(1)));
        short.put(1, "a".into(), page("A"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(short.get(1, "a").is_none(), "expired after its TTL");
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let c = ListCache::new(limits(8, Duration::ZERO, Duration::from_secs(1)));
        let p = c.put(1, "a".into(), page("A"));
        assert_eq!(&p.body[..], b"A");
        assert!(c.get(1, "a").is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn a_read_version_is_trusted_only_until_invalidated_or_stale() {
        let c = ListCache::new(limits(1, Duration::from_secs(1), Duration::from_secs(60)));
        assert_eq!(c.fresh_version(), None);
        c.note_version(7);
        assert_eq!(c.fresh_version(), Some(7));
        c.note_version(6);
        assert_eq!(c.fresh_version(), Some(7), "a slower reader never moves the version back");
        c.invalidate();
        assert_eq!(c.fresh_version(), None);
        c.note_version(8);
        assert_eq!(c.fresh_version(), Some(8));
        let quick = ListCache::new(limits(1, Duration::from_secs(1), Duration::ZERO));
        quick.note_version(7);
        assert_eq!(quick.fresh_version(), None);
    }

    #[test]
    fn near_its_end_one_caller_rereads_the_version_while_the_others_use_it() {
        let mut c = ListCache::new(limits(1, Duration::from_secs(1), Duration::from_secs(10)));
        c.epoch = ago(Duration::from_secs(60));
        let read_at = |c: &ListCache, ago: Duration| {
            let us = u64::try_from(ago.as_micros()).unwrap();
            c.checked_at_us.store(c.now_us().saturating_sub(us), Ordering::Release);
        };
        c.note_version(3);
        read_at(&c, Duration::from_secs(8));
        assert_eq!(c.fresh_version(), None, "the first caller re-reads");
        assert_eq!(c.fresh_version(), Some(3));
        assert_eq!(c.fresh_version(), Some(3));
        c.note_version(3);
        assert_eq!(c.fresh_version(), Some(3));
        read_at(&c, Duration::from_secs(10));
        assert_eq!(c.fresh_version(), None);
        assert_eq!(c.fresh_version(), None, "past its TTL nobody trusts it");
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

#[cfg(test)]
mod flash_memory_tests {
    use super::*;

    #[test]
    fn sold_out_is_remembered_for_its_memo_and_forgotten_when_units_return() {
        let m = FlashMemory::new(Duration::from_millis(50), Duration::from_secs(1));
        assert!(!m.is_sold_out(1, 2));
        m.mark_sold_out(1, 2);
        assert!(m.is_sold_out(1, 2));
        assert!(!m.is_sold_out(1, 3) && !m.is_sold_out(2, 2), "per sale item");
        m.units_returned(1, 2);
        assert!(!m.is_sold_out(1, 2));
        m.mark_sold_out(1, 2);
        std::thread::sleep(Duration::from_millis(60));
        assert!(!m.is_sold_out(1, 2), "the memo lapses: the database is asked again");
    }

    #[test]
    fn listing_pages_live_for_their_ttl_and_any_change_drops_them() {
        let m = FlashMemory::new(Duration::from_secs(1), Duration::from_secs(60));
        assert!(m.listing(1, 20).is_none());
        m.keep_listing(1, 20, CachedPage::new("e".into(), Bytes::from_static(b"[]"), Instant::now()));
        assert_eq!(m.listing(1, 20).map(|p| p.etag.clone()).as_deref(), Some("e"));
        assert!(m.listing(2, 20).is_none());
        m.sales_changed();
        assert!(m.listing(1, 20).is_none());
        let none = FlashMemory::new(Duration::from_secs(1), Duration::ZERO);
        none.keep_listing(1, 20, CachedPage::new("e".into(), Bytes::new(), Instant::now()));
        assert!(none.listing(1, 20).is_none(), "a TTL of zero keeps nothing");
    }
}
