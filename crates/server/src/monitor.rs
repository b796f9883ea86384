//! What this process remembers for the monitoring API: traffic per endpoint in 10-second
//! slots over the last hour, readiness probes and reconciliation runs (for the SLOs), and the
//! most recent log events. Per-process state behind a few calls; several replicas would each
//! report their own (a shared backend could implement the same calls).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use retail_api_types::{EndpointStats, LogEvent, LogLevel, LogQuery, SeriesPoint};
use retail_domain::monitor::LatencyHistogram;

/// Seconds per traffic slot.
pub const SLOT_SECS: u64 = 10;
/// Slots kept: one hour.
const SLOTS: usize = 360;

/// Requests of one endpoint (or of all) in some stretch of time.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Requests.
    pub requests: u64,
    /// Answered 5xx.
    pub server_errors: u64,
    /// Answered 4xx.
    pub client_errors: u64,
    /// Their latencies.
    pub latency: LatencyHistogram,
}

impl Tally {
    fn add(&mut self, status: u16, ms: f64) {
        self.requests += 1;
        if status >= 500 {
            self.server_errors += 1;
        } else if status >= 400 {
            self.client_errors += 1;
        }
        self.latency.record(ms);
    }

    fn merge(&mut self, o: &Tally) {
        self.requests += o.requests;
        self.server_errors += o.server_errors;
        self.client_errors += o.client_errors;
        self.latency.merge(&o.latency);
    }

    /// Share answered 5xx (0 without requests).
    pub fn error_rate(&self) -> f64 {
        share(self.server_errors, self.requests)
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[derive(Default)]
struct Slot {
    number: u64,
    endpoints: HashMap<(&'static str, String), Tally>,
}

/// Traffic per endpoint over the last hour.
pub struct Traffic {
    slots: Mutex<Vec<Slot>>,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic { slots: Mutex::new((0..SLOTS).map(|_| Slot::default()).collect()) }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

fn at(secs: u64) -> DateTime<Utc> {
    Utc.timestamp_opt(i64::try_from(secs).unwrap_or(0), 0).single().unwrap_or_default()
}

impl Traffic {
    /// Counts one request answered at `now` (Unix seconds).
    pub fn record(&self, method: &'static str, route: String, status: u16, ms: f64, now: u64) {
        let number = now / SLOT_SECS;
        let Ok(mut slots) = self.slots.lock() else { return };
        let Some(slot) = slots.get_mut(usize::try_from(number % SLOTS as u64).unwrap_or(0)) else { return };
        if slot.number != number {
            slot.number = number;
            slot.endpoints.clear();
        }
        slot.endpoints.entry((method, route)).or_default().add(status, ms);
    }

    /// Runs `f` on every slot of the `secs` before `now` (the current, partial slot included),
    /// with the slot's number.
    fn each_slot(&self, secs: u32, now: u64, mut f: impl FnMut(u64, &Slot)) {
        let current = now / SLOT_SECS;
        let n = (u64::from(secs) / SLOT_SECS).clamp(1, SLOTS as u64);
        let Ok(slots) = self.slots.lock() else { return };
        for number in current + 1 - n.min(current + 1)..=current {
            if let Some(slot) = slots.get(usize::try_from(number % SLOTS as u64).unwrap_or(0))
                && slot.number == number
            {
                f(number, slot);
            }
        }
    }

    /// All requests of the `secs` before `now`.
    pub fn total(&self, secs: u32, now: u64) -> Tally {
        let mut t = Tally::default();
        self.each_slot(secs, now, |_, s| s.endpoints.values().for_each(|e| t.merge(e)));
        t
    }

    /// Per endpoint over the `secs` before `now`, busiest first.
    pub fn endpoints(&self, secs: u32, now: u64) -> Vec<EndpointStats> {
        let mut per: HashMap<(&'static str, String), Tally> = HashMap::new();
        self.each_slot(secs, now, |_, s| {
            for (k, t) in &s.endpoints {
                per.entry(k.clone()).or_default().merge(t);
            }
        });
        let mut out: Vec<EndpointStats> = per
            .into_iter()
            .map(|((method, route), t)| EndpointStats {
                method: method.to_owned(),
                route,
                requests: t.requests,
                rate_per_sec: t.requests as f64 / f64::from(secs.max(1)),
                error_rate: t.error_rate(),
                client_error_rate: share(t.client_errors, t.requests),
                p50_ms: t.latency.quantile(0.5).unwrap_or(0.0),
                p95_ms: t.latency.quantile(0.95).unwrap_or(0.0),
                p99_ms: t.latency.quantile(0.99).unwrap_or(0.0),
            })
            .collect();
        out.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.route.cmp(&b.route)));
        out
    }

    /// All requests over the `secs` before `now` in steps of `step` seconds (a multiple of
    /// the slot), oldest first; steps without traffic are points with no requests.
    pub fn series(&self, secs: u32, step: u32, now: u64) -> Vec<SeriesPoint> {
        let per_step = (u64::from(step) / SLOT_SECS).max(1);
        let step_secs = per_step * SLOT_SECS;
        let current = now / SLOT_SECS / per_step;
        let n = (u64::from(secs) / step_secs).max(1);
        let first = current + 1 - n.min(current + 1);
        let mut steps: BTreeMap<u64, Tally> = (first..=current).map(|k| (k, Tally::default())).collect();
        self.each_slot(secs, now, |number, s| {
            if let Some(t) = steps.get_mut(&(number / per_step)) {
                s.endpoints.values().for_each(|e| t.merge(e));
            }
        });
        steps
            .into_iter()
            .map(|(k, t)| SeriesPoint {
                at: at(k * step_secs),
                requests: t.requests,
                rate_per_sec: t.requests as f64 / step_secs as f64,
                errors: t.server_errors,
                p95_ms: t.latency.quantile(0.95),
                p50_ms: t.latency.quantile(0.5),
            })
            .collect()
    }
}

/// Outcomes of periodic checks (readiness probes, reconciliation runs) over the last hour.
#[derive(Default)]
pub struct Checks {
    outcomes: Mutex<VecDeque<(u64, bool)>>,
}

impl Checks {
    /// Records one check's outcome at `now`, forgetting those older than an hour.
    pub fn record(&self, ok: bool, now: u64) {
        if let Ok(mut o) = self.outcomes.lock() {
            while o.front().is_some_and(|(t, _)| *t + 3600 < now) {
                o.pop_front();
            }
            o.push_back((now, ok));
        }
    }

    /// Good and total checks of the `secs` before `now`.
    pub fn tally(&self, secs: u32, now: u64) -> (u64, u64) {
        let Ok(o) = self.outcomes.lock() else { return (0, 0) };
        o.iter()
            .filter(|(t, _)| *t + u64::from(secs) >= now)
            .fold((0, 0), |(good, all), (_, ok)| (good + u64::from(*ok), all + 1))
    }
}

/// What the monitoring API reads: traffic, probes, reconciliation runs, the start time.
pub struct Monitor {
    /// Requests per endpoint.
    pub traffic: Traffic,
    /// Readiness probes (availability).
    pub readiness: Checks,
    /// Reconciliation runs, good when stock agreed with its ledger (stock consistency).
    pub stock_checks: Checks,
    /// The last scheduled reconciliation's report.
    pub last_reconciliation: Mutex<Option<retail_api_types::ReconciliationReport>>,
    /// When the process started.
    pub started: DateTime<Utc>,
    /// The recent log events.
    pub logs: Arc<LogRing>,
    /// What the last `/metrics` scrape read (see `service::monitoring::scrape`).
    pub scrape: Mutex<Option<Arc<crate::service::monitoring::ScrapeFigures>>>,
}

impl Monitor {
    /// Empty, started now, with the process's log buffer.
    pub fn new() -> Monitor {
        Monitor {
            traffic: Traffic::default(),
            readiness: Checks::default(),
            stock_checks: Checks::default(),
            last_reconciliation: Mutex::new(None),
            started: Utc::now(),
            logs: log_ring(),
            scrape: Mutex::new(None),
        }
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Recent log events
// ---------------------------------------------------------------------------------------------

/// Events kept by the process's log buffer.
pub const LOG_CAPACITY: usize = 2000;
/// Longest field value kept (longer ones are cut, with `…`).
const MAX_FIELD_CHARS: usize = 500;

/// The most recent log events, oldest dropped first.
pub struct LogRing {
    events: Mutex<VecDeque<LogEvent>>,
    capacity: usize,
}

impl LogRing {
    /// Empty, holding at most `capacity` events.
    pub fn new(capacity: usize) -> LogRing {
        LogRing { events: Mutex::new(VecDeque::with_capacity(capacity.min(4096))), capacity }
    }

    /// How many events it holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn push(&self, e: LogEvent) {
        if let Ok(mut q) = self.events.lock() {
            if q.len() >= self.capacity {
                q.pop_front();
            }
            q.push_back(e);
        }
    }

    /// The events matching `q`, newest first, at most `q.limit` (default 100, at most 500).
    pub fn query(&self, q: &LogQuery) -> Vec<LogEvent> {
        let limit = usize::try_from(q.limit.unwrap_or(100).clamp(1, 500)).unwrap_or(100);
        let Ok(events) = self.events.lock() else { return Vec::new() };
        events
            .iter()
            .rev()
            .filter(|e| q.level.is_none_or(|l| e.level >= l))
            .filter(|e| q.route.as_deref().is_none_or(|r| e.route.as_deref() == Some(r)))
            .filter(|e| q.request_id.as_deref().is_none_or(|r| e.request_id.as_deref() == Some(r)))
            .take(limit)
            .cloned()
            .collect()
    }
}

/// The process's log buffer (one per process: the tracing subscriber is global).
pub fn log_ring() -> Arc<LogRing> {
    static RING: OnceLock<Arc<LogRing>> = OnceLock::new();
    RING.get_or_init(|| Arc::new(LogRing::new(LOG_CAPACITY))).clone()
}

/// The fields of a request's root span, kept in its extensions.
#[derive(Debug, Clone, Default)]
struct RequestFields {
    request_id: Option<String>,
    route: Option<String>,
    method: Option<String>,
    status: Option<u16>,
    user_id: Option<i64>,
    started: Option<Instant>,
}

fn cut(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_FIELD_CHARS) {
        s.truncate(i);
        s.push('…');
    }
    s
}

impl tracing::field::Visit for RequestFields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "request_id" => self.request_id = Some(cut(value.to_owned())),
            "http.route" => self.route = Some(cut(value.to_owned())),
            "http.method" => self.method = Some(cut(value.to_owned())),
            "http.status_code" => self.status = value.parse().ok(),
            "user_id" => self.user_id = value.parse().ok(),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        match field.name() {
            "user_id" => self.user_id = Some(value),
            "http.status_code" => self.status = u16::try_from(value).ok(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.record_i64(field, i64::try_from(value).unwrap_or(i64::MAX));
    }
}

#[derive(Default)]
struct EventFields {
    message: String,
    fields: BTreeMap<String, String>,
}

impl tracing::field::Visit for EventFields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message = cut(value.to_owned());
        } else if self.fields.len() < 32 {
            self.fields.insert(field.name().to_owned(), cut(value.to_owned()));
        }
    }
}

fn level_of(l: &tracing::Level) -> LogLevel {
    match *l {
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        tracing::Level::TRACE => LogLevel::Trace,
    }
}

/// The tracing layer that copies events into the process's [`LogRing`]: every event, with the
/// request ID, route, method and user of the request it happened in, and one `request` event
/// per request when its root span closes (status and latency; 5xx answers at level error).
pub struct RingLayer {
    ring: Arc<LogRing>,
}

impl RingLayer {
    /// Into the process's buffer.
    pub fn new() -> RingLayer {
        RingLayer { ring: log_ring() }
    }
}

impl Default for RingLayer {
    fn default() -> Self {
        RingLayer::new()
    }
}

const ROOT_SPAN: &str = "request";

impl<S> tracing_subscriber::Layer<S> for RingLayer
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() != ROOT_SPAN {
            return;
        }
        let mut f = RequestFields { started: Some(Instant::now()), ..RequestFields::default() };
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(f);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id)
            && let Some(f) = span.extensions_mut().get_mut::<RequestFields>()
        {
            values.record(f);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut v = EventFields::default();
        event.record(&mut v);
        let req = ctx
            .event_scope(event)
            .and_then(|scope| scope.from_root().find_map(|s| s.extensions().get::<RequestFields>().cloned()))
            .unwrap_or_default();
        let meta = event.metadata();
        self.ring.push(LogEvent {
            at: Utc::now(),
            level: level_of(meta.level()),
            message: v.message,
            target: meta.target().to_owned(),
            request_id: req.request_id,
            route: req.route,
            method: req.method,
            status: None,
            latency_ms: None,
            user_id: req.user_id,
            fields: v.fields,
        });
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(f) = span.extensions().get::<RequestFields>().cloned() else { return };
        let level = if f.status.is_some_and(|s| s >= 500) { LogLevel::Error } else { LogLevel::Info };
        self.ring.push(LogEvent {
            at: Utc::now(),
            level,
            message: ROOT_SPAN.to_owned(),
            target: span.metadata().target().to_owned(),
            request_id: f.request_id,
            route: f.route,
            method: f.method,
            status: f.status,
            latency_ms: f.started.map(|s| s.elapsed().as_secs_f64() * 1000.0),
            user_id: f.user_id,
            fields: BTreeMap::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_is_counted_per_endpoint_and_window() {
        let t = Traffic::default();
        let now = 1_000_000;
        for i in 0..10 {
            t.record("GET", "/api/products".into(), 200, f64::from(i) + 1.0, now);
        }
        t.record("GET", "/api/products".into(), 503, 40.0, now);
        t.record("POST", "/api/checkout".into(), 404, 2.0, now - 120);
        // 1 minute: only the products
        let e = t.endpoints(60, now);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].method.as_str(), e[0].route.as_str(), e[0].requests), ("GET", "/api/products", 11));
        assert!((e[0].error_rate - 1.0 / 11.0).abs() < 1e-9);
        assert!(e[0].p50_ms >= 6.0 && e[0].p50_ms < 7.0);
        assert!(e[0].p99_ms >= 40.0);
        // 15 minutes: both, busiest first
        let e = t.endpoints(900, now);
        assert_eq!(
            e.iter().map(|e| e.route.as_str()).collect::<Vec<_>>(),
            ["/api/products", "/api/checkout"]
        );
        assert!((e[1].client_error_rate - 1.0).abs() < 1e-9);
        assert_eq!(t.total(900, now).requests, 12);
        assert_eq!(t.total(900, now).server_errors, 1);
    }

    #[test]
    fn old_slots_are_forgotten_when_the_ring_comes_round() {
        let t = Traffic::default();
        t.record("GET", "/a".into(), 200, 1.0, 10_000);
        assert_eq!(t.total(3600, 10_000 + 3599).requests, 1);
        assert_eq!(t.total(3600, 10_000 + 3600).requests, 0, "an hour later it is out of the window");
        // a write into the same slot an hour later replaces it
        t.record("GET", "/b".into(), 200, 1.0, 10_000 + 3600);
        assert_eq!(t.endpoints(60, 10_000 + 3600)[0].route, "/b");
        assert_eq!(t.total(7200, 10_000 + 3600).requests, 1);
    }

    #[test]
    fn series_has_one_point_per_step_with_empty_steps_kept() {
        let t = Traffic::default();
        let now = 600_000; // a multiple of 60
        t.record("GET", "/a".into(), 200, 5.0, now - 50);
        t.record("GET", "/a".into(), 500, 5.0, now - 50);
        t.record("GET", "/a".into(), 500, 5.0, now - 60); // a slot before the minute
        t.record("GET", "/a".into(), 200, 5.0, now);
        let s = t.series(60, 10, now);
        assert_eq!(s.len(), 6);
        assert_eq!(s.iter().map(|p| p.requests).collect::<Vec<_>>(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(s[0].errors, 1);
        assert!((s[0].rate_per_sec - 0.2).abs() < 1e-9);
        assert_eq!(s[1].p95_ms, None);
        assert_eq!(s[5].at.timestamp(), i64::try_from(now).unwrap());
        let s = t.series(3600, 60, now);
        assert_eq!(s.len(), 60);
        assert_eq!(s.iter().map(|p| p.requests).sum::<u64>(), 4);
        assert_eq!(s[58].requests, 3);
        assert_eq!(s[59].requests, 1);
    }

    #[test]
    fn checks_tally_the_window() {
        let c = Checks::default();
        c.record(true, 100);
        c.record(false, 200);
        c.record(true, 300);
        assert_eq!(c.tally(3600, 300), (2, 3));
        assert_eq!(c.tally(150, 300), (1, 2));
        c.record(true, 3701);
        assert_eq!(c.tally(7200, 3701), (2, 3), "the one more than an hour old is dropped");
    }

    fn ev(level: LogLevel, route: &str, id: &str) -> LogEvent {
        LogEvent {
            at: Utc::now(),
            level,
            message: "m".into(),
            target: "t".into(),
            request_id: Some(id.into()),
            route: Some(route.into()),
            method: None,
            status: None,
            latency_ms: None,
            user_id: None,
            fields: BTreeMap::new(),
        }
    }

    #[test]
    fn the_log_ring_keeps_the_newest_and_filters() {
        let ring = LogRing::new(3);
        ring.push(ev(LogLevel::Info, "/a", "1"));
        ring.push(ev(LogLevel::Error, "/a", "2"));
        ring.push(ev(LogLevel::Warn, "/b", "3"));
        ring.push(ev(LogLevel::Info, "/b", "4"));
        let ids = |q: LogQuery| {
            ring.query(&q).into_iter().map(|e| e.request_id.unwrap_or_default()).collect::<Vec<_>>()
        };
        assert_eq!(ids(LogQuery::default()), ["4", "3", "2"], "newest first, the oldest dropped");
        assert_eq!(ids(LogQuery { level: Some(LogLevel::Warn), ..LogQuery::default() }), ["3", "2"]);
        assert_eq!(ids(LogQuery { route: Some("/b".into()), ..LogQuery::default() }), ["4", "3"]);
        assert_eq!(ids(LogQuery { request_id: Some("2".into()), ..LogQuery::default() }), ["2"]);
        assert_eq!(ids(LogQuery { limit: Some(1), ..LogQuery::default() }), ["4"]);
    }

    #[test]
    fn the_ring_layer_records_request_lines_and_events_with_their_request() {
        use tracing_subscriber::layer::SubscriberExt;
        let sub = tracing_subscriber::registry().with(RingLayer::new());
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!(
                "request",
                request_id = "ring-test-1",
                http.method = "GET",
                http.route = "/api/x/{id}",
                http.status_code = tracing::field::Empty,
                user_id = tracing::field::Empty,
            );
            span.in_scope(|| {
                span.record("user_id", 42);
                tracing::warn!(detail = "x".repeat(600), "something odd");
            });
            span.record("http.status_code", 503);
            drop(span);
        });
        let got =
            log_ring().query(&LogQuery { request_id: Some("ring-test-1".into()), ..LogQuery::default() });
        assert_eq!(got.len(), 2, "{got:?}");
        let (line, event) = (&got[0], &got[1]);
        assert_eq!((line.message.as_str(), line.status, line.level), ("request", Some(503), LogLevel::Error));
        assert!(line.latency_ms.is_some());
        assert_eq!(line.route.as_deref(), Some("/api/x/{id}"));
        assert_eq!(
            (event.message.as_str(), event.level, event.user_id),
            ("something odd", LogLevel::Warn, Some(42))
        );
        assert_eq!(event.method.as_deref(), Some("GET"));
        assert_eq!(event.fields["detail"].chars().count(), MAX_FIELD_CHARS + 1, "cut, with an ellipsis");
    }
}
