//! Operations: the monitoring snapshot (cards, traffic per endpoint and over time, SLOs, the
//! RMA funnel, the last reconciliation, the worker), the recent log events, and what a
//! `/metrics` scrape reads from the database.

use chrono::{DateTime, Utc};
use retail_api_types::{
    LogEvents, LogQuery, MonitorWindow, MonitoringCards, MonitoringSnapshot, QueueBacklog,
    ReconciliationSummary, RmaFigures, SloStatus, WorkerHealth,
};
use retail_domain::Caller;
use retail_domain::FieldError;
use retail_domain::account::Permission;
use retail_domain::monitor::evaluate_slo;
use retail_domain::validation::filter_text;
use retail_store::Conn;
use retail_store::repo::{notifications, ops};

use super::ServiceError;
use crate::config::MonitoringSettings;
use crate::monitor::{Monitor, unix_now};
use crate::state::AppState;

/// The SLOs look back this far (the traffic kept).
const SLO_WINDOW_SECS: u32 = 3600;

/// The service-level objectives over the last hour, as of `now` (Unix seconds).
pub fn slos(monitor: &Monitor, s: &MonitoringSettings, now: u64) -> Vec<SloStatus> {
    let traffic = monitor.traffic.total(SLO_WINDOW_SECS, now);
    let (ready_good, ready_all) = monitor.readiness.tally(SLO_WINDOW_SECS, now);
    let (stock_good, stock_all) = monitor.stock_checks.tally(SLO_WINDOW_SECS, now);
    let within = traffic.latency.at_most(s.latency_target_ms);
    let ok = traffic.requests - traffic.server_errors;
    [
        (
            "availability",
            "Readiness probes that found the database reachable and migrated".to_owned(),
            s.availability_objective,
            ready_good,
            ready_all,
        ),
        (
            "latency",
            format!("Requests answered within {} ms", s.latency_target_ms),
            s.latency_objective,
            within,
            traffic.requests,
        ),
        (
            "success_rate",
            "Requests answered without a 5xx".to_owned(),
            s.success_objective,
            ok,
            traffic.requests,
        ),
        (
            "stock_consistency",
            "Reconciliation runs that found stock in agreement with its ledger".to_owned(),
            s.stock_objective,
            stock_good,
            stock_all,
        ),
    ]
    .into_iter()
    .map(|(name, description, objective, good, total)| {
        let o = evaluate_slo(objective, good, total);
        SloStatus {
            name: name.to_owned(),
            description,
            objective,
            good,
            total,
            ratio: o.ratio,
            budget_remaining: o.budget_remaining,
            burn_rate: o.burn_rate,
            met: o.met,
            window_secs: SLO_WINDOW_SECS,
        }
    })
    .collect()
}

/// What the database says, for the snapshot and for `/metrics`.
pub struct DbFigures {
    /// Returns per stage and what dispositions moved.
    pub returns: RmaFigures,
    /// Outbox mails per state.
    pub outbox: Vec<(String, i64)>,
    /// Flash-sale reservations held.
    pub open_reservations: i64,
    /// The latest worker heartbeat.
    pub last_beat: Option<DateTime<Utc>>,
    /// Feed jobs queued or running.
    pub feed_backlog: i64,
}

/// Reads [`DbFigures`].
pub fn db_figures_on(c: &mut Conn, policy: &crate::config::ReturnPolicy) -> Result<DbFigures, ServiceError> {
    Ok(DbFigures {
        returns: super::returns::figures_on(c, policy)?,
        outbox: notifications::counts(c)?,
        open_reservations: ops::open_reservations(c)?,
        last_beat: ops::last_beat(c)?,
        feed_backlog: retail_store::repo::feeds::backlog(c)?,
    })
}

/// The worker's health from its last heartbeat and the outbox counts.
fn worker_health(
    last_beat: Option<DateTime<Utc>>,
    (outbox, feeds): (&[(String, i64)], i64),
    silent_after: i64,
    now: DateTime<Utc>,
) -> WorkerHealth {
    let age = last_beat.map(|t| (now - t).num_seconds().max(0));
    let n = |state: &str| outbox.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
    WorkerHealth {
        last_heartbeat: last_beat,
        heartbeat_age_secs: age,
        healthy: age.is_some_and(|a| a <= silent_after),
        backlog: vec![
            QueueBacklog { queue: "mail".into(), jobs: n("pending") + n("sending") },
            QueueBacklog { queue: "feeds".into(), jobs: feeds },
        ],
    }
}

/// The monitoring snapshot (admin).
pub async fn snapshot(
    state: &AppState,
    caller: &Caller,
    window: Option<MonitorWindow>,
) -> Result<MonitoringSnapshot, ServiceError> {
    caller.require(Permission::ViewOperations)?;
    let window = window.unwrap_or_default();
    let now = Utc::now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let policy = state.returns.clone();
    let (figures, (orders_today, revenue_today_cents), refunds_today_cents) = state
        .db
        .read(move |c| {
            Ok::<_, ServiceError>((
                db_figures_on(c, &policy)?,
                ops::orders_since(c, today)?,
                ops::refunds_since(c, today)?,
            ))
        })
        .await?;
    let m = &state.monitor;
    let secs = unix_now();
    let total = m.traffic.total(window.secs(), secs);
    let step = if window == MonitorWindow::OneHour { 60 } else { 10 };
    let reconciliation =
        m.last_reconciliation.lock().ok().and_then(|r| r.clone()).map(|report| ReconciliationSummary {
            mismatches: crate::worker::count_findings(&report),
            report,
        });
    Ok(MonitoringSnapshot {
        generated_at: now,
        window,
        cards: MonitoringCards {
            orders_today,
            revenue_today_cents,
            refunds_today_cents,
            rmas_open: figures
                .returns
                .stages
                .iter()
                .filter(|s| !s.stage.is_terminal())
                .map(|s| s.count)
                .sum(),
            error_rate: total.error_rate(),
            p95_ms: total.latency.quantile(0.95),
            rate_per_sec: total.requests as f64 / f64::from(window.secs()),
            breaker: state.payments.breaker_state().as_str().to_owned(),
            uptime_secs: (now - m.started).num_seconds().max(0),
        },
        endpoints: m.traffic.endpoints(window.secs(), secs),
        series: m.traffic.series(window.secs(), step, secs),
        step_secs: step,
        slos: slos(m, &state.settings.monitoring, secs),
        returns: figures.returns,
        reconciliation,
        worker: worker_health(
            figures.last_beat,
            (&figures.outbox, figures.feed_backlog),
            state.settings.monitoring.worker_silent_after_secs,
            now,
        ),
    })
}

/// The recent log events matching `q`, newest first (admin).
pub fn logs(state: &AppState, caller: &Caller, q: &LogQuery) -> Result<LogEvents, ServiceError> {
    caller.require(Permission::ViewOperations)?;
    let q = log_query(q).map_err(ServiceError::invalid_query)?;
    let ring = &state.monitor.logs;
    Ok(LogEvents { items: ring.query(&q), capacity: u32::try_from(ring.capacity()).unwrap_or(u32::MAX) })
}

/// Checks the filters of a log query: `limit` 1 to 500, `route` a plain filter text,
/// `request_id` what a request ID may be (letters, digits, `.`, `_`, `:`, `-`; at most 128).
fn log_query(q: &LogQuery) -> Result<LogQuery, FieldError> {
    if q.limit.is_some_and(|n| !(1..=500).contains(&n)) {
        return Err(FieldError::new("limit", "must be 1 to 500"));
    }
    let request_id = q.request_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if request_id.is_some_and(|id| {
        id.len() > 128
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    }) {
        return Err(FieldError::new(
            "request_id",
            "must be at most 128 letters, digits, '.', '_', ':' or '-'",
        ));
    }
    Ok(LogQuery {
        level: q.level,
        route: filter_text("route", q.route.as_deref())?,
        request_id: request_id.map(str::to_owned),
        limit: q.limit,
    })
}

/// What a `/metrics` scrape shows besides the counters: the database's figures (`None` when
/// the database was busy: those series keep their last values) and the SLOs.
pub struct ScrapeFigures {
    /// From the database.
    pub db: Option<DbFigures>,
    /// The objectives.
    pub slos: Vec<SloStatus>,
    read_at: std::time::Instant,
}

/// The figures of the last scrape while younger than `monitoring.scrape_cache_ms`, else read
/// afresh (a scrape every second then costs one database read per cache period).
pub async fn scrape(state: &AppState) -> std::sync::Arc<ScrapeFigures> {
    let ttl = std::time::Duration::from_millis(state.settings.monitoring.scrape_cache_ms);
    if let Ok(cached) = state.monitor.scrape.lock()
        && let Some(f) = cached.as_ref().filter(|f| f.read_at.elapsed() < ttl)
    {
        return f.clone();
    }
    let policy = state.returns.clone();
    let db = state.db.read(move |c| db_figures_on(c, &policy)).await.ok();
    let fresh = std::sync::Arc::new(ScrapeFigures {
        db,
        slos: slos(&state.monitor, &state.settings.monitoring, unix_now()),
        read_at: std::time::Instant::now(),
    });
    if let Ok(mut cached) = state.monitor.scrape.lock() {
        *cached = Some(fresh.clone());
    }
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slos_read_the_traffic_probes_and_reconciliations_of_the_last_hour() {
        let m = Monitor::new();
        let s = MonitoringSettings::default();
        let now = 1_000_000;
        for _ in 0..998 {
            m.traffic.record("GET", "/api/products".into(), 200, 5.0, now);
        }
        m.traffic.record("GET", "/api/products".into(), 500, 5.0, now);
        m.traffic.record("GET", "/api/products".into(), 200, 900.0, now);
        m.traffic.record("GET", "/api/old".into(), 500, 900.0, now - 4000);
        m.readiness.record(true, now);
        m.readiness.record(false, now);
        m.stock_checks.record(true, now);
        let got = slos(&m, &s, now);
        let by = |n: &str| got.iter().find(|x| x.name == n).cloned().unwrap();
        let success = by("success_rate");
        assert_eq!((success.good, success.total), (999, 1000), "the old 500 is out of the window");
        assert!(success.met && (success.budget_remaining - 0.0).abs() < 1e-9, "{success:?}");
        let latency = by("latency");
        assert_eq!((latency.good, latency.total), (999, 1000));
        assert!(latency.met);
        let availability = by("availability");
        assert_eq!((availability.good, availability.total), (1, 2));
        assert!(!availability.met && availability.burn_rate > 1.0);
        let stock = by("stock_consistency");
        assert_eq!((stock.good, stock.total, stock.met), (1, 1, true));
    }

    #[test]
    fn a_worker_is_healthy_only_while_its_heartbeat_is_recent() {
        let now = Utc::now();
        let outbox = vec![("pending".to_owned(), 3), ("sending".to_owned(), 1), ("sent".to_owned(), 9)];
        let w = worker_health(Some(now - chrono::Duration::seconds(30)), (&outbox, 2), 180, now);
        assert!(w.healthy);
        assert_eq!(w.heartbeat_age_secs, Some(30));
        assert_eq!(
            w.backlog,
            vec![
                QueueBacklog { queue: "mail".into(), jobs: 4 },
                QueueBacklog { queue: "feeds".into(), jobs: 2 }
            ]
        );
        assert!(!worker_health(Some(now - chrono::Duration::seconds(181)), (&outbox, 0), 180, now).healthy);
        let never = worker_health(None, (&[], 0), 180, now);
        assert!(!never.healthy && never.heartbeat_age_secs.is_none());
    }
}
