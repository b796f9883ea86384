//! Operations: the live monitoring snapshot behind the admin dashboard, and the recent log
//! events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ReconciliationReport, RmaFigures};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// A look-back window of the monitoring figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum MonitorWindow {
    /// The last minute.
    #[serde(rename = "1m")]
    OneMinute,
    /// The last 15 minutes.
    #[default]
    #[serde(rename = "15m")]
    FifteenMinutes,
    /// The last hour.
    #[serde(rename = "1h")]
    OneHour,
}

impl MonitorWindow {
    /// Every window, shortest first.
    pub const ALL: [MonitorWindow; 3] =
        [MonitorWindow::OneMinute, MonitorWindow::FifteenMinutes, MonitorWindow::OneHour];

    /// Its length in seconds.
    pub fn secs(self) -> u32 {
        match self {
            MonitorWindow::OneMinute => 60,
            MonitorWindow::FifteenMinutes => 900,
            MonitorWindow::OneHour => 3600,
        }
    }

    /// Its name on the wire (`1m`, `15m`, `1h`).
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorWindow::OneMinute => "1m",
            MonitorWindow::FifteenMinutes => "15m",
            MonitorWindow::OneHour => "1h",
        }
    }
}

/// Query of the monitoring snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MonitoringQuery {
    /// The window of the cards, the per-endpoint table and the charts (default `15m`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub window: Option<MonitorWindow>,
}

/// Everything the dashboard shows, as of `generated_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MonitoringSnapshot {
    /// When this snapshot was taken (UTC).
    pub generated_at: DateTime<Utc>,
    /// The window of `cards.error_rate`, `cards.p95_ms`, `endpoints` and `series`.
    pub window: MonitorWindow,
    /// The headline figures.
    pub cards: MonitoringCards,
    /// Traffic per endpoint (route template and method) in the window, busiest first.
    pub endpoints: Vec<EndpointStats>,
    /// Traffic over time in the window, oldest first, one point per `step_secs`.
    pub series: Vec<SeriesPoint>,
    /// Seconds between two points of `series`.
    pub step_secs: u32,
    /// The service-level objectives, over the last hour.
    pub slos: Vec<SloStatus>,
    /// Returns per stage now (the RMA funnel) and what their dispositions moved.
    pub returns: RmaFigures,
    /// The last scheduled reconciliation of this process (none yet: `null`).
    pub reconciliation: Option<ReconciliationSummary>,
    /// The background worker.
    pub worker: WorkerHealth,
}

/// The headline figures of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MonitoringCards {
    /// Orders placed today (UTC day), whatever their state now.
    pub orders_today: i64,
    /// What those orders came to, in minor units.
    pub revenue_today_cents: i64,
    /// Refunded today (card and store credit), in minor units.
    pub refunds_today_cents: i64,
    /// Returns not yet closed, rejected, cancelled or expired.
    pub rmas_open: i64,
    /// Share of requests answered 5xx in the window (0 to 1; 0 without traffic).
    pub error_rate: f64,
    /// 95th percentile of request latency in the window, in milliseconds (`null`: no traffic).
    pub p95_ms: Option<f64>,
    /// Requests per second over the window.
    pub rate_per_sec: f64,
    /// The payment circuit breaker: `closed`, `open` or `half_open`.
    pub breaker: String,
    /// Seconds since this server process started.
    pub uptime_secs: i64,
}

/// Traffic of one endpoint in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EndpointStats {
    /// HTTP method.
    pub method: String,
    /// Route template (`/api/orders/{id}`), `unmatched` for paths no route serves.
    pub route: String,
    /// Requests in the window.
    pub requests: u64,
    /// Requests per second over the window.
    pub rate_per_sec: f64,
    /// Share answered 5xx (0 to 1).
    pub error_rate: f64,
    /// Share answered 4xx (0 to 1).
    pub client_error_rate: f64,
    /// Latency percentiles in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// Traffic of all endpoints in one step of the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SeriesPoint {
    /// Start of the step (UTC).
    pub at: DateTime<Utc>,
    /// Requests in the step.
    pub requests: u64,
    /// Requests per second in the step.
    pub rate_per_sec: f64,
    /// Requests answered 5xx in the step.
    pub errors: u64,
    /// 95th percentile of latency in the step, in milliseconds (`null`: no traffic).
    pub p95_ms: Option<f64>,
    /// 50th percentile.
    pub p50_ms: Option<f64>,
}

/// One service-level objective and its error budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SloStatus {
    /// `availability`, `latency`, `success_rate` or `stock_consistency`.
    pub name: String,
    /// What is measured, in words.
    pub description: String,
    /// Share of good events aimed at (e.g. 0.999).
    pub objective: f64,
    /// Good events in the SLO window.
    pub good: u64,
    /// All events in the SLO window.
    pub total: u64,
    /// `good / total` (`null` without events).
    pub ratio: Option<f64>,
    /// Share of the error budget left (1: untouched, 0: spent, below 0: overspent).
    pub budget_remaining: f64,
    /// How fast the budget burns: the bad share over the allowed bad share (1: exactly on
    /// budget).
    pub burn_rate: f64,
    /// Whether the objective holds (`ratio >= objective`, or no events).
    pub met: bool,
    /// Seconds the SLO looks back.
    pub window_secs: u32,
}

/// The last scheduled reconciliation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReconciliationSummary {
    /// Findings in all: 0 when the books agree.
    pub mismatches: i64,
    /// The report itself.
    pub report: ReconciliationReport,
}

/// The background worker, as its heartbeats tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkerHealth {
    /// The last heartbeat of any worker (`null`: none ever).
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub heartbeat_age_secs: Option<i64>,
    /// Whether a worker beat within the allowed silence.
    pub healthy: bool,
    /// Jobs waiting, per queue (`mail`: outbox mail due or retrying).
    pub backlog: Vec<QueueBacklog>,
}

/// Jobs waiting in one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueBacklog {
    /// The queue.
    pub queue: String,
    /// Jobs waiting.
    pub jobs: i64,
}

/// Severity of a log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detail for debugging.
    Trace,
    /// Detail for debugging.
    Debug,
    /// Normal operation (one per request).
    Info,
    /// Something odd that was handled.
    Warn,
    /// Something failed.
    Error,
}

/// Query of the recent log events.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only events at this level or above.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub level: Option<LogLevel>,
    /// Only events of requests to this route template (exact, e.g. `/api/orders/{id}`).
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub route: Option<String>,
    /// Only events of this request.
    #[cfg_attr(feature = "openapi", param(max_length = 128, pattern = r"^[A-Za-z0-9._:-]*$"))]
    pub request_id: Option<String>,
    /// Most events returned, newest first (1 to 500, default 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}

/// One structured log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogEvent {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Severity.
    pub level: LogLevel,
    /// The message (`request` for the one line per request).
    pub message: String,
    /// The module that logged it.
    pub target: String,
    /// The request it belongs to.
    pub request_id: Option<String>,
    /// The request's route template.
    pub route: Option<String>,
    /// The request's HTTP method.
    pub method: Option<String>,
    /// The response status (request lines).
    pub status: Option<u16>,
    /// How long the request took, in milliseconds (request lines).
    pub latency_ms: Option<f64>,
    /// The signed-in user, when known.
    pub user_id: Option<i64>,
    /// The event's other fields, as text.
    pub fields: std::collections::BTreeMap<String, String>,
}

/// Recent log events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogEvents {
    /// The events that match, newest first.
    pub items: Vec<LogEvent>,
    /// How many events the buffer holds at most.
    pub capacity: u32,
}
