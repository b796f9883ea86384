//! Settings: built-in defaults, then an optional TOML file, then `RETAIL_*` environment
//! variables (`RETAIL_ADDR`, `RETAIL_DATA_DIR`, nested keys with `__`:
//! `RETAIL_AUTH__ACCESS_TTL_SECS=600`).

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Everything the binary can be configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server binds, e.g. `127.0.0.1:8080`; port 0 picks a free one.
    pub addr: String,
    /// Where the database, uploads and logs live.
    pub data_dir: PathBuf,
    /// The built SPA (Trunk's `dist/`); `/` serves its `index.html`.
    pub dist_dir: PathBuf,
    /// HTTP worker threads (default: one per core).
    pub http_workers: Option<usize>,
    /// Logging.
    pub log: LogSettings,
    /// Database pool.
    pub db: DbSettings,
    /// Tokens.
    pub auth: AuthSettings,
    /// Password hashing on the request path (login, registration).
    pub hashing: HashingSettings,
    /// Rate limits and body size.
    pub limits: LimitSettings,
    /// Reverse proxies (IPs or CIDRs, e.g. `10.0.0.0/8`) whose `Forwarded` /
    /// `X-Forwarded-For` headers name the client for the per-IP limits and the logs. Empty (the
    /// default): those headers are ignored and the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// In-memory caches.
    pub cache: CacheSettings,
    /// `Idempotency-Key` handling.
    pub idempotency: IdempotencySettings,
    /// Card payments: the gateway and the timeout, retries and circuit breaker around it.
    pub payments: PaymentSettings,
    /// Checkout: the shop's name on receipts, store-credit currency, repeated keys.
    pub checkout: CheckoutSettings,
    /// Flash sales: hold time, the per-customer purchase limit, caches.
    pub flash: FlashSettings,
    /// Returns: windows, the restocking-fee policy, photo limits, per-stage targets.
    pub returns: ReturnSettings,
    /// Notifications: SMTP (or `.eml` files), the outbox's retries and lease.
    pub notifications: NotificationSettings,
    /// Monitoring: the SLO targets, the readiness probe, when the worker counts as silent.
    pub monitoring: MonitoringSettings,
    /// Partner feeds: key rotation, when uploads are queued, job leases and retries.
    pub partners: PartnerSettings,
}

/// Partner feed settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PartnerSettings {
    /// How long the keys in use keep working after a rotation, in seconds (default 24 h).
    pub key_grace_secs: i64,
    /// Uploads larger than this many bytes are queued (202) instead of applied while the
    /// client waits.
    pub async_above_bytes: usize,
    /// How long a worker holds a feed job before another may take it over, in seconds.
    pub lease_secs: i64,
    /// Attempts of a job that fails for a passing reason (a busy database) before it fails.
    pub max_attempts: i64,
    /// Rows applied per transaction (a strict feed is written this many rows at a time too,
    /// all in one transaction, once its dry pass refused no row). Memory holds one such group
    /// (about 300 bytes a row) and a few chunks of 2,000 rows read ahead.
    /// New products land on pages all over the name and price indexes, so each chunk's
    /// commit rewrites nearly all of those indexes: the more products a shop has, the more a
    /// chunk costs, and fewer, larger chunks write them fewer times. But each chunk holds the
    /// database's one writer, and every other write (a checkout, a reservation) waits for it:
    /// at 25,000 rows about 0.45 s on two cores, at 10,000 about 0.25 s. A 100,000-row feed
    /// into a catalog of 200,000 products took 2.5 s at 25,000 and 3.2 s at 10,000.
    pub batch_rows: usize,
    /// How long a scheduled pull may take, in seconds.
    pub fetch_timeout_secs: u64,
    /// How often the server itself runs queued feed jobs and due schedules, in seconds (0:
    /// only `retail worker` does).
    pub work_every_secs: u64,
}

impl Default for PartnerSettings {
    fn default() -> Self {
        Self {
            key_grace_secs: 24 * 3600,
            async_above_bytes: 5 * 1024 * 1024,
            lease_secs: 300,
            max_attempts: 5,
            batch_rows: 25_000,
            fetch_timeout_secs: 30,
            work_every_secs: 2,
        }
    }
}

/// Monitoring settings: what the dashboard and `/metrics` hold the shop to.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MonitoringSettings {
    /// The latency objective's threshold in milliseconds: `latency_objective` of requests
    /// answer within it (the p95 target).
    pub latency_target_ms: f64,
    /// Share of requests to answer within `latency_target_ms`.
    pub latency_objective: f64,
    /// Share of readiness probes to succeed.
    pub availability_objective: f64,
    /// Share of requests to answer without a 5xx.
    pub success_objective: f64,
    /// Share of reconciliation runs whose stock agrees with the ledger.
    pub stock_objective: f64,
    /// How often the server probes its own readiness, in seconds (0: never).
    pub probe_every_secs: u64,
    /// A worker silent for longer than this (seconds) is reported unhealthy.
    pub worker_silent_after_secs: i64,
    /// How long a `/metrics` scrape reuses the figures it read from the database (returns,
    /// outbox, reservations, heartbeat) and the SLOs, in milliseconds: scrapes within it only
    /// encode (0: read on every scrape).
    pub scrape_cache_ms: u64,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        Self {
            latency_target_ms: 250.0,
            latency_objective: 0.95,
            availability_objective: 0.999,
            success_objective: 0.999,
            stock_objective: 0.99,
            probe_every_secs: 10,
            worker_silent_after_secs: 180,
            scrape_cache_ms: 5000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            dist_dir: PathBuf::from("frontend/dist"),
            http_workers: None,
            log: LogSettings::default(),
            db: DbSettings::default(),
            auth: AuthSettings::default(),
            hashing: HashingSettings::default(),
            limits: LimitSettings::default(),
            trusted_proxies: Vec::new(),
            cache: CacheSettings::default(),
            idempotency: IdempotencySettings::default(),
            payments: PaymentSettings::default(),
            checkout: CheckoutSettings::default(),
            flash: FlashSettings::default(),
            returns: ReturnSettings::default(),
            notifications: NotificationSettings::default(),
            monitoring: MonitoringSettings::default(),
            partners: PartnerSettings::default(),
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `retail_server=debug,info`; `RUST_LOG` wins if set.
    pub level: String,
    /// Also write JSON logs to `<data_dir>/logs/retail.<date>.log` (a new file each UTC day).
    pub to_file: bool,
    /// Write logs to stdout.
    pub to_stdout: bool,
    /// How stdout lines look: `auto` (human-readable on a terminal, JSON otherwise), `json`
    /// or `pretty`. The file log is always JSON.
    pub format: LogFormat,
    /// Daily log files kept (older ones are deleted when the file rotates).
    pub keep_files: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { level: "info".into(), to_file: true, to_stdout: true, format: LogFormat::Auto, keep_files: 14 }
    }
}

/// The look of the stdout log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `pretty` when stdout is a terminal, `json` otherwise (pipes, files, containers).
    #[default]
    Auto,
    /// One JSON object per line, for log collectors.
    Json,
    /// One human-readable line per event (coloured on a terminal).
    Pretty,
}

/// Database pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DbSettings {
    /// Read connections (reads run in parallel; writes share one connection).
    pub read_connections: u32,
    /// How long a write waits for another process's lock, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Connections for full-text searches, a pool of their own: a flood of searches waits
    /// there (then gets 503) instead of holding the read connections logins need.
    pub search_connections: u32,
    /// Niceness of the writer thread (Linux; 0 leaves it alone). A little above the request
    /// threads' 0, so under CPU contention catalog reads keep their share while a sale writes.
    pub writer_nice: i32,
    /// Callers that may wait for a connection of one pool (and writes for the writer); more
    /// get 503 at once. A stampede of buyers waits here, in memory, for a few milliseconds.
    pub max_waiting: usize,
    /// How often the server reconciles the books (payments, credit, stock, sales, returns)
    /// and exports the findings as metrics, in seconds (0: never; `retail worker` does too).
    pub reconcile_every_secs: u64,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            read_connections: 8,
            busy_timeout_ms: 5000,
            search_connections: 4,
            writer_nice: 2,
            max_waiting: 4096,
            reconcile_every_secs: 300,
        }
    }
}

/// Token settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// HMAC key for access tokens (at least 32 bytes). When unset, a random key is created
    /// once in `<data_dir>/jwt.secret` and reused.
    pub jwt_secret: Option<SecretString>,
    /// Access-token lifetime in seconds.
    pub access_ttl_secs: i64,
    /// Refresh-token lifetime in seconds: a session unused for this long ends.
    pub refresh_ttl_secs: i64,
    /// Absolute session lifetime in seconds, counted from login: refreshing never extends
    /// a session past it.
    pub session_max_age_secs: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            session_max_age_secs: 30 * 24 * 3600,
        }
    }
}

/// Password hashing settings: argon2id needs 19 MiB and tens of milliseconds of one core per
/// login or registration, so only a few run at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HashingSettings {
    /// Hashes computed at once, each on its own thread with its own reused 19 MiB;
    /// 0 = one per core.
    pub max_concurrent: usize,
    /// How long a login or registration waits for a free slot, in milliseconds; past it the
    /// answer is 503 with `Retry-After`. 0 = never wait.
    pub wait_ms: u64,
}

impl Default for HashingSettings {
    fn default() -> Self {
        Self { max_concurrent: 0, wait_ms: 2_000 }
    }
}

/// Rate limits (token buckets: a burst, refilled at a steady rate) and body size.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// POSTs to `/api/auth/*` per client IP: bucket size.
    pub auth_per_ip_burst: u32,
    /// ... refilled with one request every this many milliseconds.
    pub auth_per_ip_refill_ms: u64,
    /// Failed logins per account and client address: bucket size.
    pub login_per_account_burst: u32,
    /// ... refilled with one failure every this many milliseconds.
    pub login_per_account_refill_ms: u64,
    /// All `/api` requests per client IP: bucket size; 0 turns this limit off.
    pub api_per_ip_burst: u32,
    /// ... refilled with one request every this many microseconds.
    pub api_per_ip_refill_us: u64,
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            auth_per_ip_burst: 20,
            auth_per_ip_refill_ms: 3_000,
            login_per_account_burst: 5,
            login_per_account_refill_ms: 12_000,
            api_per_ip_burst: 400,
            api_per_ip_refill_us: 5_000,
            max_body_bytes: 256 * 1024,
        }
    }
}

/// In-memory cache settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CacheSettings {
    /// Most serialised product-list pages kept; the least used are evicted first.
    pub product_list_pages: usize,
    /// Most bytes of product-list pages kept.
    pub product_list_bytes: u64,
    /// How long a product-list page is served after its rows were read, in milliseconds:
    /// the most the stock a list shows can lag behind (stock changes, such as sales, leave
    /// cached pages in place; product detail and the cart read stock live). Other catalog
    /// changes show at once. 0 turns the page cache off.
    pub product_list_ttl_ms: u64,
    /// How long a catalog version read from the database is trusted, in milliseconds:
    /// the most a catalog change made by another process (the worker) can take to show.
    /// Changes made through this server show at once. 0 checks the database every time.
    pub catalog_version_ttl_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            product_list_pages: 1024,
            product_list_bytes: 64 * 1024 * 1024,
            product_list_ttl_ms: 1000,
            catalog_version_ttl_ms: 250,
        }
    }
}

/// `Idempotency-Key` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IdempotencySettings {
    /// How long a stored answer is replayed for its key, in seconds; after that the key
    /// counts as unused and the worker deletes it.
    pub ttl_secs: u64,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        Self { ttl_secs: 24 * 3600 }
    }
}

impl IdempotencySettings {
    /// The TTL as a duration (at least one second, at most ten years).
    pub fn ttl(&self) -> chrono::Duration {
        const TEN_YEARS: u64 = 10 * 366 * 24 * 3600;
        chrono::Duration::seconds(i64::try_from(self.ttl_secs.clamp(1, TEN_YEARS)).unwrap_or(1))
    }
}

/// The payment gateway a server talks to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProvider {
    /// The built-in simulator: test card tokens, configurable latency and failures.
    #[default]
    Simulator,
}

/// Card payment settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PaymentSettings {
    /// Which gateway: `simulator` (the only one built in).
    pub provider: PaymentProvider,
    /// Longest wait for one gateway call, in milliseconds (at least 1); a call still running
    /// then counts as a timeout (retried, and a breaker failure).
    pub timeout_ms: u64,
    /// Attempts per operation, the first included; only timeouts and transient errors are
    /// retried, declines never. 1 = no retries.
    pub retry_max_attempts: u32,
    /// Backoff before the first retry at most this many milliseconds (randomised: "full
    /// jitter"), doubling per attempt ...
    pub retry_base_ms: u64,
    /// ... up to this many milliseconds.
    pub retry_max_delay_ms: u64,
    /// Consecutive failed calls (timeouts, transient errors; never declines) that open the
    /// circuit breaker; while it is open checkout fails fast with 503 and `Retry-After`.
    pub breaker_failure_threshold: u32,
    /// How long the breaker stays open before one probe call may test the gateway, in seconds.
    pub breaker_open_secs: u64,
    /// The simulator (when `provider = "simulator"`).
    pub simulator: SimulatorSettings,
    /// An authorisation older than this many seconds with no order is voided by the worker.
    pub stale_authorization_secs: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            provider: PaymentProvider::Simulator,
            timeout_ms: 3_000,
            retry_max_attempts: 3,
            retry_base_ms: 50,
            retry_max_delay_ms: 1_000,
            breaker_failure_threshold: 3,
            breaker_open_secs: 30,
            simulator: SimulatorSettings::default(),
            stale_authorization_secs: 300,
        }
    }
}

/// The payment simulator: latency and random failures drawn from a seeded generator, so a
/// chaos run with the same seed and the same sequence of calls sees the same failures.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SimulatorSettings {
    /// Latency of every call, in milliseconds ...
    pub latency_ms: u64,
    /// ... plus a random 0..=this many milliseconds.
    pub latency_jitter_ms: u64,
    /// Calls (per mille, 0..=1000) that fail with a random transient error.
    pub failure_rate_permille: u32,
    /// Calls (per mille, 0..=1000) that take `spike_ms` longer ...
    pub spike_rate_permille: u32,
    /// ... this many milliseconds (more than `timeout_ms` makes them time out).
    pub spike_ms: u64,
    /// Seed of the random generator.
    pub seed: u64,
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            latency_jitter_ms: 0,
            failure_rate_permille: 0,
            spike_rate_permille: 0,
            spike_ms: 5_000,
            seed: 42,
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] config::ConfigError);

/// `RETAIL_*` variables; `RETAIL_TRUSTED_PROXIES` is a comma-separated list.
fn env_source() -> config::Environment {
    config::Environment::with_prefix("RETAIL")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("trusted_proxies")
}

impl Settings {
    /// Defaults, then `file` (if given, it must exist; else `retail.toml` if present), then
    /// `RETAIL_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut b = config::Config::builder();
        match file {
            Some(f) => b = b.add_source(config::File::from(f).required(true)),
            None => b = b.add_source(config::File::with_name("retail.toml").required(false)),
        }
        Ok(b.add_source(env_source()).build()?.try_deserialize()?)
    }

    /// The SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("retail.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../retail.example.toml");
        let s = Settings::load(Some(&path)).unwrap();
        let d = Settings::default();
        assert_eq!((s.addr, s.data_dir, s.dist_dir), (d.addr, d.data_dir, d.dist_dir));
        assert_eq!(s.auth.access_ttl_secs, d.auth.access_ttl_secs);
        assert_eq!(s.limits.api_per_ip_burst, d.limits.api_per_ip_burst);
        assert_eq!(s.cache.catalog_version_ttl_ms, d.cache.catalog_version_ttl_ms);
        assert_eq!(
            (s.cache.product_list_pages, s.cache.product_list_bytes, s.cache.product_list_ttl_ms),
            (d.cache.product_list_pages, d.cache.product_list_bytes, d.cache.product_list_ttl_ms)
        );
        assert_eq!(s.idempotency.ttl_secs, d.idempotency.ttl_secs);
        assert_eq!(s.db.reconcile_every_secs, d.db.reconcile_every_secs);
        let (r, e) = (&s.returns, &d.returns);
        assert_eq!(
            (r.window_days, &r.category_window_days, &r.fee_bps, r.photo_max_bytes),
            (e.window_days, &e.category_window_days, &e.fee_bps, e.photo_max_bytes)
        );
        assert_eq!((&r.sla_hours, r.approved_expiry_days), (&e.sla_hours, e.approved_expiry_days));
        let (n, m) = (&s.notifications, &d.notifications);
        assert_eq!(
            (&n.smtp_host, n.smtp_port, n.smtp_security, &n.from),
            (&m.smtp_host, m.smtp_port, m.smtp_security, &m.from)
        );
        assert_eq!(
            (
                n.deliver_every_secs,
                n.lease_secs,
                n.max_attempts,
                n.retry_base_secs,
                n.retry_max_secs,
                n.batch
            ),
            (
                m.deliver_every_secs,
                m.lease_secs,
                m.max_attempts,
                m.retry_base_secs,
                m.retry_max_secs,
                m.batch
            )
        );
        assert_eq!((&n.public_url, n.smtp_timeout_ms), (&m.public_url, m.smtp_timeout_ms));
        let (p, q) = (&s.payments, &d.payments);
        assert_eq!(
            (p.timeout_ms, p.retry_max_attempts, p.retry_base_ms, p.retry_max_delay_ms),
            (q.timeout_ms, q.retry_max_attempts, q.retry_base_ms, q.retry_max_delay_ms)
        );
        assert_eq!(
            (p.breaker_failure_threshold, p.breaker_open_secs, p.stale_authorization_secs),
            (q.breaker_failure_threshold, q.breaker_open_secs, q.stale_authorization_secs)
        );
        let (m, n) = (&p.simulator, &q.simulator);
        assert_eq!(
            (
                m.latency_ms,
                m.latency_jitter_ms,
                m.failure_rate_permille,
                m.spike_rate_permille,
                m.spike_ms,
                m.seed
            ),
            (
                n.latency_ms,
                n.latency_jitter_ms,
                n.failure_rate_permille,
                n.spike_rate_permille,
                n.spike_ms,
                n.seed
            )
        );
        assert_eq!(
            (&s.checkout.shop_name, &s.checkout.credit_currency, s.checkout.claim_wait_ms),
            (&d.checkout.shop_name, &d.checkout.credit_currency, d.checkout.claim_wait_ms)
        );
        let (f, g) = (&s.flash, &d.flash);
        assert_eq!(
            (
                f.hold_ttl_secs,
                f.purchase_burst,
                f.purchase_refill_ms,
                f.sold_out_memo_ms,
                f.listing_ttl_ms,
                f.sweep_every_secs
            ),
            (
                g.hold_ttl_secs,
                g.purchase_burst,
                g.purchase_refill_ms,
                g.sold_out_memo_ms,
                g.listing_ttl_ms,
                g.sweep_every_secs
            )
        );
        assert_eq!((s.db.writer_nice, s.db.max_waiting), (d.db.writer_nice, d.db.max_waiting));
        assert!(s.auth.jwt_secret.is_none());
        assert_eq!(s.log.format, d.log.format);
        assert_eq!(s.trusted_proxies, d.trusted_proxies);
        assert_eq!(
            (s.log.level, s.log.to_file, s.log.to_stdout),
            (d.log.level, d.log.to_file, d.log.to_stdout)
        );
    }

    #[test]
    fn trusted_proxies_come_as_a_comma_separated_variable_and_other_values_keep_their_commas() {
        let vars = [
            ("RETAIL_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/8"),
            ("RETAIL_LOG__LEVEL", "retail_server=debug,info"),
        ];
        let env =
            env_source().source(Some(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()));
        let s: Settings =
            config::Config::builder().add_source(env).build().unwrap().try_deserialize().unwrap();
        assert_eq!(s.trusted_proxies, ["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(s.log.level, "retail_server=debug,info");
    }

    #[test]
    fn a_missing_config_file_is_an_error_when_named() {
        assert!(Settings::load(Some(Path::new("/nonexistent/retail.toml"))).is_err());
    }
}

/// Checkout settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CheckoutSettings {
    /// The shop's name, printed on receipts.
    pub shop_name: String,
    /// ISO code of store credit (`EUR`); orders in other currencies cannot use it.
    pub credit_currency: String,
    /// How long a checkout repeated with the key of one still running waits for its answer
    /// before it gets 409 `checkout_in_progress`.
    pub claim_wait_ms: u64,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        Self { shop_name: "Retail demo shop".into(), credit_currency: "EUR".into(), claim_wait_ms: 10_000 }
    }
}

/// Flash-sale settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FlashSettings {
    /// How long a reservation holds its units before it must be paid, in seconds.
    pub hold_ttl_secs: u64,
    /// Reservation requests (reserve, cancel) one customer may make in a burst...
    pub purchase_burst: u32,
    /// ...and how often one more is allowed, in milliseconds (5 a minute by default).
    pub purchase_refill_ms: u64,
    /// How long this process answers "sold out" for a sale item from memory before it asks
    /// the database again (units come back when holds expire or are cancelled elsewhere).
    pub sold_out_memo_ms: u64,
    /// How long a page of `GET /api/flash/sales` is served from memory; any change made
    /// through this process drops it at once.
    pub listing_ttl_ms: u64,
    /// How often the server itself expires lapsed holds and settles sales that are over, in
    /// seconds (0: leave it to `retail worker`). Both may run: each change is conditional.
    pub sweep_every_secs: u64,
}

impl Default for FlashSettings {
    fn default() -> Self {
        Self {
            hold_ttl_secs: 600,
            purchase_burst: 5,
            purchase_refill_ms: 12_000,
            sold_out_memo_ms: 1000,
            listing_ttl_ms: 1000,
            sweep_every_secs: 15,
        }
    }
}

impl FlashSettings {
    /// The hold time.
    pub fn hold_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.hold_ttl_secs.max(1))
    }
}

impl CheckoutSettings {
    /// The store-credit currency (EUR when the setting names none this shop accepts).
    pub fn credit_currency(&self) -> retail_domain::Currency {
        retail_domain::Currency::parse("credit_currency", &self.credit_currency)
            .unwrap_or(retail_domain::Currency::EUR)
    }
}

/// Returns (RMA) settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReturnSettings {
    /// Days after delivery a product may be returned, unless its category says otherwise.
    pub window_days: u32,
    /// Return windows per category (`{ electronics = 14 }`), in days.
    pub category_window_days: std::collections::BTreeMap<String, u32>,
    /// Restocking fees overriding the defaults, in basis points, keyed
    /// `"<reason>/<condition>"` (`{ "no_longer_needed/resellable" = 1000 }`).
    pub fee_bps: std::collections::BTreeMap<String, u32>,
    /// Largest photo accepted, in bytes.
    pub photo_max_bytes: usize,
    /// Service-level target per stage, in hours (`{ validating = 24 }`); stages not named
    /// have none.
    pub sla_hours: std::collections::BTreeMap<String, u32>,
    /// Days an approved return may wait for its parcel before the worker cancels it
    /// (0: never).
    pub approved_expiry_days: u32,
}

impl Default for ReturnSettings {
    fn default() -> Self {
        let sla = [
            ("validating", 24),
            ("approved", 14 * 24),
            ("shipping", 10 * 24),
            ("received", 24),
            ("inspecting", 48),
            ("inspected", 24),
            ("disposition", 24),
            ("processing", 4),
        ];
        Self {
            window_days: retail_domain::rma::DEFAULT_WINDOW_DAYS,
            category_window_days: std::collections::BTreeMap::new(),
            fee_bps: std::collections::BTreeMap::new(),
            photo_max_bytes: 5 * 1024 * 1024,
            sla_hours: sla.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            approved_expiry_days: 30,
        }
    }
}

/// The return rules the settings describe, checked once at startup.
#[derive(Debug, Clone)]
pub struct ReturnPolicy {
    /// Return windows.
    pub windows: retail_domain::rma::ReturnWindows,
    /// Restocking fees.
    pub fees: retail_domain::rma::FeePolicy,
    /// Targets per stage, in seconds.
    pub sla_secs: Vec<(retail_domain::rma::RmaStage, i64)>,
    /// Largest photo, in bytes.
    pub photo_max_bytes: usize,
}

impl ReturnPolicy {
    /// The target of `stage`, in seconds.
    pub fn sla_of(&self, stage: retail_domain::rma::RmaStage) -> Option<i64> {
        self.sla_secs.iter().find(|(s, _)| *s == stage).map(|(_, n)| *n)
    }
}

impl ReturnSettings {
    /// Checks the settings and builds the policy; the error names the bad setting.
    pub fn policy(&self) -> Result<ReturnPolicy, String> {
        use retail_domain::rma::{Condition, FeePolicy, ReturnReason, ReturnWindows, RmaStage};
        let bad = |what: &str, e: &dyn std::fmt::Display| format!("returns.{what}: {e}");
        let mut windows = ReturnWindows::new(self.window_days).map_err(|e| bad("window_days", &e))?;
        for (cat, days) in &self.category_window_days {
            windows = windows.with_category(cat, *days).map_err(|e| bad("category_window_days", &e))?;
        }
        let mut fees = FeePolicy::default();
        for (key, bps) in &self.fee_bps {
            let (r, c) = key.split_once('/').unwrap_or((key, ""));
            let reason =
                ReturnReason::parse(r).ok_or_else(|| bad("fee_bps", &format!("unknown reason {r:?}")))?;
            let condition =
                Condition::parse(c).ok_or_else(|| bad("fee_bps", &format!("unknown condition {c:?}")))?;
            fees = fees.with(reason, condition, *bps).map_err(|e| bad("fee_bps", &e))?;
        }
        let mut sla_secs = Vec::new();
        for (stage, hours) in &self.sla_hours {
            let s = RmaStage::parse(stage)
                .ok_or_else(|| bad("sla_hours", &format!("unknown stage {stage:?}")))?;
            sla_secs.push((s, i64::from(*hours) * 3600));
        }
        if self.photo_max_bytes == 0 {
            return Err(bad("photo_max_bytes", &"must be positive"));
        }
        Ok(ReturnPolicy { windows, fees, sla_secs, photo_max_bytes: self.photo_max_bytes })
    }
}

#[cfg(test)]
mod return_tests {
    use super::*;

    #[test]
    fn the_default_return_settings_make_a_policy_and_bad_ones_name_the_setting() {
        let p = ReturnSettings::default().policy().unwrap();
        assert_eq!(p.sla_of(retail_domain::rma::RmaStage::Validating), Some(24 * 3600));
        assert_eq!(p.sla_of(retail_domain::rma::RmaStage::Completed), None);
        let mut s = ReturnSettings::default();
        s.fee_bps.insert("no_longer_needed/resellable".into(), 1000);
        s.category_window_days.insert("Electronics".into(), 14);
        let p = s.policy().unwrap();
        assert_eq!(p.windows.days_for("electronics"), 14);
        assert_eq!(
            p.fees.bps(
                retail_domain::rma::ReturnReason::NoLongerNeeded,
                retail_domain::rma::Condition::Resellable
            ),
            1000
        );
        s.fee_bps.insert("bored/resellable".into(), 10);
        assert!(s.policy().unwrap_err().starts_with("returns.fee_bps"));
        let mut s = ReturnSettings::default();
        s.sla_hours.insert("limbo".into(), 1);
        assert!(s.policy().unwrap_err().starts_with("returns.sla_hours"));
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or in tests.
    None,
}

/// Notification settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// SMTP server; without one, mail is written as `.eml` files under `<data dir>/mail/`.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: u16,
    /// STARTTLS, TLS or none.
    pub smtp_security: SmtpSecurity,
    /// SMTP user name, if the server wants one.
    pub smtp_username: Option<String>,
    /// SMTP password.
    pub smtp_password: Option<SecretString>,
    /// How long one SMTP exchange may take, in milliseconds.
    pub smtp_timeout_ms: u64,
    /// The sender, `Name <address>`.
    pub from: String,
    /// The shop's address as customers reach it, for links in mail.
    pub public_url: String,
    /// How often the server itself sends what is due, in seconds (0: leave it to
    /// `retail worker`). Both may run: rows are claimed with a lease.
    pub deliver_every_secs: u64,
    /// How long a claimed row is held before another sender may take it over, in seconds.
    pub lease_secs: u64,
    /// Attempts before a mail is given up (an admin may requeue it).
    pub max_attempts: u32,
    /// Backoff ceiling after the first failure, in seconds; it doubles per attempt...
    pub retry_base_secs: u64,
    /// ...up to this, in seconds.
    pub retry_max_secs: u64,
    /// Rows claimed per pass.
    pub batch: i64,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_timeout_ms: 10_000,
            from: "Retail demo shop <shop@retail.test>".into(),
            public_url: "http://127.0.0.1:8080".into(),
            deliver_every_secs: 5,
            lease_secs: 60,
            max_attempts: 8,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            batch: 50,
        }
    }
}

impl NotificationSettings {
    /// The outbox's retry policy.
    pub fn retry(&self) -> retail_domain::retry::RetryPolicy {
        retail_domain::retry::RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base: std::time::Duration::from_secs(self.retry_base_secs),
            max_delay: std::time::Duration::from_secs(self.retry_max_secs.max(self.retry_base_secs)),
        }
    }
}
