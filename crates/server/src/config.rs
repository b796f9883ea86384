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
    /// Rate limits and body size.
    pub limits: LimitSettings,
    /// In-memory caches.
    pub cache: CacheSettings,
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
            limits: LimitSettings::default(),
            cache: CacheSettings::default(),
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `retail_server=debug,info`; `RUST_LOG` wins if set.
    pub level: String,
    /// Also write JSON logs to `<data_dir>/logs/retail.log.<date>`.
    pub to_file: bool,
    /// Write JSON logs to stdout.
    pub to_stdout: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { level: "info".into(), to_file: true, to_stdout: true }
    }
}

/// Database pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DbSettings {
    /// Read connections (reads run in parallel; writes share one connection).
    pub read_connections: u32,
    /// How long a write waits for another process's lock, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self { read_connections: 8, busy_timeout_ms: 5000 }
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
    /// Refresh-token (session) lifetime in seconds.
    pub refresh_ttl_secs: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self { jwt_secret: None, access_ttl_secs: 15 * 60, refresh_ttl_secs: 30 * 24 * 3600 }
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
    /// Login attempts per account: bucket size.
    pub login_per_account_burst: u32,
    /// ... refilled with one attempt every this many milliseconds.
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
    /// Serialised product-list pages kept (per catalog version).
    pub product_list_pages: usize,
    /// How long a catalog version read from the database is trusted, in milliseconds:
    /// the most a catalog change made by another process (the worker) can take to show.
    /// Changes made through this server show at once. 0 checks the database every time.
    pub catalog_version_ttl_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { product_list_pages: 1024, catalog_version_ttl_ms: 250 }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] config::ConfigError);

impl Settings {
    /// Defaults, then `file` (if given, it must exist; else `retail.toml` if present), then
    /// `RETAIL_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut b = config::Config::builder();
        match file {
            Some(f) => b = b.add_source(config::File::from(f).required(true)),
            None => b = b.add_source(config::File::with_name("retail.toml").required(false)),
        }
        let env = config::Environment::with_prefix("RETAIL")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true);
        Ok(b.add_source(env).build()?.try_deserialize()?)
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
        assert!(s.auth.jwt_secret.is_none());
    }

    #[test]
    fn a_missing_config_file_is_an_error_when_named() {
        assert!(Settings::load(Some(Path::new("/nonexistent/retail.toml"))).is_err());
    }
}
