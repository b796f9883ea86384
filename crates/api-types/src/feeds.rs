//! Partners and their product feeds: onboarding and API keys, feed jobs with their row
//! errors, scheduled pulls, and the feed format's help.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Whether a partner may push feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    /// Feeds accepted.
    Active,
    /// Every call refused with 403 (keys kept).
    Suspended,
}

impl PartnerStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerStatus::Active => "active",
            PartnerStatus::Suspended => "suspended",
        }
    }
}

/// How a feed is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedMode {
    /// Dry run: what would be created, updated or left unchanged, and the row errors;
    /// nothing written to the catalog.
    ValidateOnly,
    /// The good rows are applied, the bad ones reported.
    Lenient,
    /// All rows or none: one bad row and nothing is applied.
    Strict,
}

impl FeedMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedMode::ValidateOnly => "validate_only",
            FeedMode::Lenient => "lenient",
            FeedMode::Strict => "strict",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<FeedMode> {
        [FeedMode::ValidateOnly, FeedMode::Lenient, FeedMode::Strict].into_iter().find(|m| m.as_str() == raw)
    }
}

/// Which column of a feed carries the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum PriceColumn {
    /// `price`: a decimal string in major units (`"12.50"` is 1250 cents).
    #[serde(rename = "price")]
    Price,
    /// `price_cents`: an integer in minor units (`1250`).
    #[serde(rename = "price_cents")]
    PriceCents,
}

impl PriceColumn {
    /// The column's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceColumn::Price => "price",
            PriceColumn::PriceCents => "price_cents",
        }
    }
}

/// A partner as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Partner {
    /// ID.
    pub id: i64,
    /// Name (unique).
    pub name: String,
    /// Who to write to about the feed.
    pub contact_email: String,
    /// Active or suspended.
    pub status: PartnerStatus,
    /// The default mode of its feeds (`lenient` or `strict`).
    pub mode: FeedMode,
    /// Its feeds' price column.
    pub price_column: PriceColumn,
    /// Currency of rows that name none.
    pub currency: String,
    /// Feed calls allowed per minute (then 429 with `Retry-After`).
    pub rate_per_minute: i64,
    /// Largest feed body accepted, in bytes (then 413).
    pub max_body_bytes: i64,
    /// Its API keys, newest first (the keys themselves are never shown again).
    pub keys: Vec<PartnerKey>,
    /// Products its feeds own.
    pub products: i64,
    /// When onboarded.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One of a partner's API keys, without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PartnerKey {
    /// ID.
    pub id: i64,
    /// The key's public start (`rk_` and 12 characters), to tell keys apart.
    pub prefix: String,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// When a rotated-out key stops working.
    pub retires_at: Option<DateTime<Utc>>,
    /// When revoked (it stopped at once).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether it is accepted now.
    pub active: bool,
}

/// Onboards a partner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    /// Name, 1 to 200 characters, unique.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$"
        )
    )]
    pub name: String,
    /// Contact address.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 254,
            pattern = r"^[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
        )
    )]
    pub contact_email: String,
    /// Default mode: `lenient` (default) or `strict`.
    #[serde(default)]
    pub mode: Option<FeedMode>,
    /// Price column (default `price`).
    #[serde(default)]
    pub price_column: Option<PriceColumn>,
    /// Currency of rows that name none (default `EUR`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(EUR|USD|GBP|eur|usd|gbp)$"))]
    pub currency: Option<String>,
    /// Feed calls per minute (1 to 100,000; default 60).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub rate_per_minute: Option<i64>,
    /// Largest feed body in bytes (1 KiB to 1 GiB; default 50 MiB).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1024, maximum = 1073741824))]
    pub max_body_bytes: Option<i64>,
}

/// Changes a partner (absent fields stay).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartnerPatch {
    /// New name.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[^\x00-\x1F\x7F-\x9F]*\S[^\x00-\x1F\x7F-\x9F]*$"
        )
    )]
    pub name: Option<String>,
    /// New contact address.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 3,
            max_length = 254,
            pattern = r"^[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
        )
    )]
    pub contact_email: Option<String>,
    /// Suspend or reactivate.
    #[serde(default)]
    pub status: Option<PartnerStatus>,
    /// Default mode (`lenient` or `strict`).
    #[serde(default)]
    pub mode: Option<FeedMode>,
    /// Price column.
    #[serde(default)]
    pub price_column: Option<PriceColumn>,
    /// Default currency.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^(EUR|USD|GBP|eur|usd|gbp)$"))]
    pub currency: Option<String>,
    /// Feed calls per minute (1 to 100,000).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub rate_per_minute: Option<i64>,
    /// Largest feed body in bytes (1 KiB to 1 GiB).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1024, maximum = 1073741824))]
    pub max_body_bytes: Option<i64>,
}

/// A partner just onboarded, with its first API key: shown this once, stored only hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PartnerCreated {
    /// The partner.
    pub partner: Partner,
    /// The API key for `X-API-Key`.
    pub api_key: String,
}

/// Rotates a partner's key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the keys in use keep working, in seconds (0 to 30 days; default: the
    /// `partners.key_grace_secs` setting, 24 h).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2592000))]
    pub grace_secs: Option<i64>,
}

/// A new key after a rotation: shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyRotated {
    /// The partner, with its keys as they are now.
    pub partner: Partner,
    /// The new API key.
    pub api_key: String,
}

/// A page of partners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PartnerList {
    /// The partners, by name.
    pub items: Vec<Partner>,
    /// Page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// All partners.
    pub total: i64,
}

/// Paging of a list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PartnerQuery {
    /// Page number (1 to 100,000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size (1 to 100, default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

/// Where a feed job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedJobState {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it (under a lease).
    Running,
    /// Done: see the counts and the row errors.
    Succeeded,
    /// The file could not be read, or strict mode refused it; see `last_error`. Can be
    /// requeued.
    Failed,
}

impl FeedJobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedJobState::Queued => "queued",
            FeedJobState::Running => "running",
            FeedJobState::Succeeded => "succeeded",
            FeedJobState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<FeedJobState> {
        [FeedJobState::Queued, FeedJobState::Running, FeedJobState::Succeeded, FeedJobState::Failed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One feed: an upload, a scheduled pull or a command-line import, and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedJob {
    /// ID.
    pub id: i64,
    /// Whose feed.
    pub partner_id: i64,
    /// `upload`, `schedule`, `cli` or `admin`.
    pub source: String,
    /// `csv` or `json`.
    pub format: String,
    /// How it is applied.
    pub mode: FeedMode,
    /// Where it stands.
    pub state: FeedJobState,
    /// SHA-256 of the file: the same file posted again is recognised and not applied twice.
    pub content_hash: String,
    /// The file's size.
    pub bytes: i64,
    /// Data rows read.
    pub rows_total: i64,
    /// Products created (or, for a dry run, that would be).
    pub rows_created: i64,
    /// Products updated (or that would be).
    pub rows_updated: i64,
    /// Rows that matched their product exactly.
    pub rows_unchanged: i64,
    /// Rows refused (see the errors).
    pub rows_rejected: i64,
    /// Whether the rows were written to the catalog (false for a dry run or a refused
    /// strict feed).
    pub applied: bool,
    /// Attempts made.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was received.
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Where to poll it.
    pub status_url: String,
    /// The row errors as CSV.
    pub errors_url: String,
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedResult {
    /// The job (finished, or queued when the answer is 202).
    pub job: FeedJob,
    /// True when this very file was uploaded before and applied then: `job` is that earlier
    /// job and nothing was applied now.
    pub duplicate: bool,
    /// The first row errors (up to 100; all of them at `job.errors_url`).
    pub errors: Vec<FeedRowError>,
}

/// A row that was refused: its number, the field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedRowError {
    /// Row number in the file (a CSV's header is row 1; a JSON array's first element row 1;
    /// 0 for the file as a whole).
    pub row: i64,
    /// The field, as the feed names it.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// How to read an upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct FeedUploadQuery {
    /// `validate_only`, `lenient` or `strict` (default: the partner's mode).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub mode: Option<FeedMode>,
    /// Queue the file and answer 202 at once (files above `partners.async_above_bytes` are
    /// always queued).
    #[serde(default, rename = "async")]
    pub run_async: Option<bool>,
}

/// Filters of the job list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct FeedJobQuery {
    /// Only this partner's jobs.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub partner_id: Option<i64>,
    /// Only jobs in this state.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub state: Option<FeedJobState>,
    /// Page number (1 to 100,000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size (1 to 100, default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

/// A page of feed jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedJobList {
    /// The jobs.
    pub items: Vec<FeedJob>,
    /// Page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// All matching.
    pub total: i64,
}

/// A scheduled pull of a partner's feed URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedSchedule {
    /// ID.
    pub id: i64,
    /// Whose feed.
    pub partner_id: i64,
    /// Where the feed is fetched (http or https).
    pub url: String,
    /// Seconds between pulls (60 to 30 days).
    pub interval_secs: i64,
    /// Whether it runs.
    pub enabled: bool,
    /// When it runs next.
    pub next_run_at: DateTime<Utc>,
    /// When it last ran.
    pub last_run_at: Option<DateTime<Utc>>,
    /// What the last run did: `not_modified`, `queued` (a job), or `failed: ...`.
    pub last_outcome: Option<String>,
    /// The last runs, newest first (up to 10).
    pub runs: Vec<ScheduleRun>,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScheduleRun {
    /// When.
    pub at: DateTime<Utc>,
    /// `not_modified`, `queued` or `failed: ...`.
    pub outcome: String,
    /// The HTTP status the feed URL answered, if it answered.
    pub http_status: Option<i64>,
    /// The job it queued.
    pub job_id: Option<i64>,
}

/// Creates a schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// Whose feed.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub partner_id: i64,
    /// The feed's URL: http or https, a host name or IPv4 address, an optional port, a path of
    /// printable ASCII.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 8,
            max_length = 2000,
            pattern = r"^https?://[A-Za-z0-9.-]+(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[!-~]*)?$"
        )
    )]
    pub url: String,
    /// Seconds between pulls (60 to 2,592,000).
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    pub interval_secs: i64,
    /// Whether it runs (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes a schedule (absent fields stay).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    /// New URL.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 8,
            max_length = 2000,
            pattern = r"^https?://[A-Za-z0-9.-]+(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[!-~]*)?$"
        )
    )]
    pub url: Option<String>,
    /// New interval (60 to 2,592,000 seconds).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    pub interval_secs: Option<i64>,
    /// Pause or resume.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Every schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScheduleList {
    /// By partner, then ID.
    pub items: Vec<FeedSchedule>,
}

/// The feed format, its fields and limits, with examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedHelp {
    /// How to send a feed (endpoint, header, content types, modes, async).
    pub summary: String,
    /// The fields of a row.
    pub fields: Vec<FeedField>,
    /// Limits (body size, rate, rows).
    pub limits: Vec<String>,
    /// A CSV example.
    pub csv_example: String,
    /// A JSON example.
    pub json_example: String,
}

/// One field of a feed row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedField {
    /// Its name (CSV header or JSON key).
    pub name: String,
    /// Whether every row must have it.
    pub required: bool,
    /// What it holds and its rules.
    pub rules: String,
}
