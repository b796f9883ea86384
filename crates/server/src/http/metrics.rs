//! Prometheus metrics: HTTP traffic by route template (never the raw path, so IDs cannot
//! blow up the label set) and status, plus pool and business counters.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::error::ApiError;

/// The process's metrics, in their own registry (tests run several apps in one process).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pool: IntGaugeVec,
    /// Login attempts by outcome (`success`, `invalid`, `throttled`).
    pub logins: IntCounterVec,
    rate_limited: IntCounterVec,
    /// Product-list answers by how they were served (`cache`, `db`, `not_modified`).
    pub product_list: IntCounterVec,
    /// Flash-sale reservation attempts by outcome (`reserved`, `sold_out_memory`, or the 409
    /// code: `sold_out`, `cap_reached`, `only_left`, `over_cap`, `sale_not_live`).
    pub flash_reservations: IntCounterVec,
    /// Payment gateway calls and the circuit breaker around them.
    pub payments: PaymentMetrics,
    rma_stage: IntGaugeVec,
    rma_median: IntGaugeVec,
    rma_money: IntGaugeVec,
    outbox: IntGaugeVec,
    reconciliation: IntGaugeVec,
    reconciled_at: IntGauge,
    /// Mail sent by this process's sender.
    pub mail: MailMetrics,
    /// What the shop did: orders, money, returns, flash units, feed rows.
    pub business: BusinessMetrics,
    open_reservations: IntGauge,
    queue_length: IntGaugeVec,
    job_backlog: IntGaugeVec,
    worker_age: prometheus::Gauge,
    slo_budget: prometheus::GaugeVec,
    slo_burn: prometheus::GaugeVec,
}

/// Marks a response refused by a rate limiter (`limiter` names it); [`track`] counts it
/// under the route.
#[derive(Debug, Clone, Copy)]
pub struct Limited(pub &'static str);

/// Counters of what the shop did, moved where it happens (in this process).
#[derive(Clone)]
pub struct BusinessMetrics {
    /// `orders_total`: orders placed (paid).
    pub orders: prometheus::IntCounter,
    /// `revenue_cents_total`: what those orders came to, in minor units.
    pub revenue_cents: prometheus::IntCounter,
    /// `refunds_total{method}`: refunds made, `card` or `credit` (store credit).
    pub refunds: IntCounterVec,
    /// `refunded_cents_total{method}`: refunded, in minor units.
    pub refunded_cents: IntCounterVec,
    /// `store_credit_cents_total{direction}`: store credit `granted` or `spent`.
    pub store_credit_cents: IntCounterVec,
    /// `rma_stage_entered_total{stage}`: returns entering each stage.
    pub rma_stage_entered: IntCounterVec,
    /// `flash_units_total{kind}`: flash-sale units `reserved` and `sold` (paid).
    pub flash_units: IntCounterVec,
    /// `feed_rows_total{outcome}`: partner feed rows `accepted` or `rejected`.
    pub feed_rows: IntCounterVec,
}

impl BusinessMetrics {
    fn new() -> Result<BusinessMetrics, prometheus::Error> {
        let vec = |name: &str, help: &str, label: &str, values: &[&str]| {
            let v = IntCounterVec::new(Opts::new(name, help), &[label])?;
            // every known label value from the start, so that rates exist before the first event
            for value in values {
                v.with_label_values(&[value]);
            }
            Ok::<_, prometheus::Error>(v)
        };
        let stages: Vec<&str> = retail_domain::rma::RmaStage::ALL.iter().map(|s| s.as_str()).collect();
        Ok(BusinessMetrics {
            orders: prometheus::IntCounter::new("orders_total", "Orders placed (paid)")?,
            revenue_cents: prometheus::IntCounter::new(
                "revenue_cents_total",
                "What placed orders came to, in minor units",
            )?,
            refunds: vec("refunds_total", "Refunds made, by method", "method", &["card", "credit"])?,
            refunded_cents: vec(
                "refunded_cents_total",
                "Refunded, in minor units, by method",
                "method",
                &["card", "credit"],
            )?,
            store_credit_cents: vec(
                "store_credit_cents_total",
                "Store credit granted and spent, in minor units",
                "direction",
                &["granted", "spent"],
            )?,
            rma_stage_entered: vec(
                "rma_stage_entered_total",
                "Returns (RMAs) entering each stage",
                "stage",
                &stages,
            )?,
            flash_units: vec(
                "flash_units_total",
                "Flash-sale units reserved and sold",
                "kind",
                &["reserved", "sold"],
            )?,
            feed_rows: vec(
                "feed_rows_total",
                "Partner feed rows accepted and rejected",
                "outcome",
                &["accepted", "rejected"],
            )?,
        })
    }

    fn collectors(&self) -> [Box<dyn prometheus::core::Collector>; 8] {
        [
            Box::new(self.orders.clone()),
            Box::new(self.revenue_cents.clone()),
            Box::new(self.refunds.clone()),
            Box::new(self.refunded_cents.clone()),
            Box::new(self.store_credit_cents.clone()),
            Box::new(self.rma_stage_entered.clone()),
            Box::new(self.flash_units.clone()),
            Box::new(self.feed_rows.clone()),
        ]
    }

    /// A return entered `stage`.
    pub fn rma_entered(&self, stage: retail_domain::rma::RmaStage) {
        self.rma_stage_entered.with_label_values(&[stage.as_str()]).inc();
    }
}

/// What a scrape reads besides the counters: the database's figures and the SLOs. A `None`
/// leaves its series as last set (the database was busy).
pub struct ScrapeInputs<'a> {
    /// The connection pool.
    pub pool: retail_store::PoolUsage,
    /// Returns per stage and what dispositions moved.
    pub returns: Option<&'a retail_api_types::RmaFigures>,
    /// Outbox mails per state.
    pub outbox: Option<&'a [(String, i64)]>,
    /// Flash-sale reservations held.
    pub open_reservations: Option<i64>,
    /// Feed jobs queued or running.
    pub feed_backlog: Option<i64>,
    /// Seconds since a worker last finished a pass (`Some(None)`: never).
    pub heartbeat_age_secs: Option<Option<i64>>,
    /// The service-level objectives.
    pub slos: &'a [retail_api_types::SloStatus],
}

impl ScrapeInputs<'_> {
    /// Only the pool (nothing read from the database).
    pub fn pool_only(pool: retail_store::PoolUsage) -> ScrapeInputs<'static> {
        ScrapeInputs {
            pool,
            returns: None,
            outbox: None,
            open_reservations: None,
            feed_backlog: None,
            heartbeat_age_secs: None,
            slos: &[],
        }
    }
}

/// What the mail sender records: outcomes and the time of each send.
#[derive(Clone)]
pub struct MailMetrics {
    /// `mail_sends_total{outcome}`: `sent`, `retried` (failed, to be tried again), `failed`
    /// (given up).
    pub outcomes: IntCounterVec,
    /// `mail_send_duration_seconds`: time of each send (SMTP exchange or file write).
    pub send_seconds: prometheus::Histogram,
}

/// What the payment front records: breaker state and transitions, gateway calls by outcome
/// and their latency. Cheap to clone (the handles share their values).
#[derive(Clone)]
pub struct PaymentMetrics {
    /// `payment_breaker_state`: 0 closed, 1 open, 2 half-open.
    pub breaker_state: IntGauge,
    /// `payment_breaker_transitions_total{from,to}`.
    pub breaker_transitions: IntCounterVec,
    /// `payment_gateway_calls_total{op,outcome}`; outcome is `success`, `declined`,
    /// `timeout`, `error` or `rejected` (breaker open, no call made).
    pub gateway_calls: IntCounterVec,
    /// `payment_gateway_duration_seconds{op}`: time of each call made (rejected ones excluded).
    pub gateway_duration: HistogramVec,
}

impl PaymentMetrics {
    /// New handles, not yet in any registry.
    pub fn new() -> Result<PaymentMetrics, prometheus::Error> {
        let breaker_state = IntGauge::with_opts(Opts::new(
            "payment_breaker_state",
            "Payment gateway circuit breaker: 0 closed, 1 open, 2 half-open",
        ))?;
        let breaker_transitions = IntCounterVec::new(
            Opts::new("payment_breaker_transitions_total", "Payment circuit breaker state changes"),
            &["from", "to"],
        )?;
        let gateway_calls = IntCounterVec::new(
            Opts::new("payment_gateway_calls_total", "Payment gateway calls by operation and outcome"),
            &["op", "outcome"],
        )?;
        let gateway_duration = HistogramVec::new(
            HistogramOpts::new("payment_gateway_duration_seconds", "Payment gateway call latency").buckets(
                vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
            ),
            &["op"],
        )?;
        Ok(PaymentMetrics { breaker_state, breaker_transitions, gateway_calls, gateway_duration })
    }

    fn collectors(&self) -> [Box<dyn prometheus::core::Collector>; 4] {
        [
            Box::new(self.breaker_state.clone()),
            Box::new(self.breaker_transitions.clone()),
            Box::new(self.gateway_calls.clone()),
            Box::new(self.gateway_duration.clone()),
        ]
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("retail".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route template and status"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )?;
        let pool =
            IntGaugeVec::new(Opts::new("db_pool_connections", "Database connections by state"), &["state"])?;
        let logins =
            IntCounterVec::new(Opts::new("logins_total", "Login attempts by outcome"), &["outcome"])?;
        let rate_limited = IntCounterVec::new(
            Opts::new("rate_limited_total", "Requests refused by a rate limiter, by limiter and route"),
            &["limiter", "route"],
        )?;
        let product_list = IntCounterVec::new(
            Opts::new("product_list_responses_total", "Product list answers by source"),
            &["source"],
        )?;
        let flash_reservations = IntCounterVec::new(
            Opts::new("flash_reservations_total", "Flash-sale reservation attempts by outcome"),
            &["outcome"],
        )?;
        let rma_stage =
            IntGaugeVec::new(Opts::new("rma_stage_returns", "Returns (RMAs) per stage now"), &["stage"])?;
        let rma_median = IntGaugeVec::new(
            Opts::new("rma_stage_median_seconds", "Median time returns spent in a stage before leaving it"),
            &["stage"],
        )?;
        let rma_money = IntGaugeVec::new(
            Opts::new(
                "rma_effects",
                "What return dispositions moved: refunded_card_cents, refunded_credit_cents, credit_granted_cents, restocked_units, replacements",
            ),
            &["kind"],
        )?;
        let reconciliation = IntGaugeVec::new(
            Opts::new("reconciliation_mismatches", "Findings of the last scheduled reconciliation, by check"),
            &["check"],
        )?;
        let reconciled_at = IntGauge::with_opts(Opts::new(
            "reconciliation_last_run_timestamp_seconds",
            "When the last scheduled reconciliation finished (Unix time)",
        ))?;
        let outbox = IntGaugeVec::new(Opts::new("outbox_mails", "Mails in the outbox by state"), &["state"])?;
        let mail = MailMetrics {
            outcomes: IntCounterVec::new(
                Opts::new("mail_sends_total", "Mail send attempts by outcome"),
                &["outcome"],
            )?,
            send_seconds: prometheus::Histogram::with_opts(
                HistogramOpts::new("mail_send_duration_seconds", "Time of each mail send")
                    .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            )?,
        };
        let build = IntGaugeVec::new(Opts::new("build_info", "Version of the running binary"), &["version"])?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let start = prometheus::Gauge::new("start_time_seconds", "When this process started (Unix time)")?;
        start.set(chrono::Utc::now().timestamp() as f64);
        let payments = PaymentMetrics::new()?;
        for c in payments.collectors() {
            registry.register(c)?;
        }
        // Known label values from the start, so that rates and alerts have series before the
        // first event.
        for (from, to) in
            [("closed", "open"), ("open", "half_open"), ("half_open", "closed"), ("half_open", "open")]
        {
            payments.breaker_transitions.with_label_values(&[from, to]);
        }
        for outcome in [
            "reserved",
            "sold_out_memory",
            "sold_out",
            "cap_reached",
            "only_left",
            "over_cap",
            "sale_not_live",
        ] {
            flash_reservations.with_label_values(&[outcome]);
        }
        for outcome in ["sent", "retried", "failed"] {
            mail.outcomes.with_label_values(&[outcome]);
        }
        for (limiter, route) in [
            ("auth_per_ip", "/api/auth/login"),
            ("auth_per_ip", "/api/auth/register"),
            ("auth_per_ip", "/api/auth/refresh"),
            ("flash_purchase", "/api/flash/sales/{id}/reservations"),
        ] {
            rate_limited.with_label_values(&[limiter, route]);
        }
        let business = BusinessMetrics::new()?;
        for c in business.collectors() {
            registry.register(c)?;
        }
        let open_reservations = IntGauge::new(
            "flash_open_reservations",
            "Flash-sale reservations held (reserved, not yet paid)",
        )?;
        let queue_length = IntGaugeVec::new(
            Opts::new("return_queue_length", "Returns waiting in each staff team's queue"),
            &["team"],
        )?;
        let job_backlog =
            IntGaugeVec::new(Opts::new("job_backlog", "Background jobs waiting, by queue"), &["queue"])?;
        let worker_age = prometheus::Gauge::new(
            "worker_heartbeat_age_seconds",
            "Seconds since a worker last finished a pass (+Inf: never)",
        )?;
        let slo_budget = prometheus::GaugeVec::new(
            Opts::new(
                "slo_error_budget_remaining",
                "Share of each SLO's error budget left over the last hour",
            ),
            &["slo"],
        )?;
        let slo_burn = prometheus::GaugeVec::new(
            Opts::new("slo_burn_rate", "How fast each SLO's error budget burns (1: exactly on budget)"),
            &["slo"],
        )?;
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(pool.clone()),
            Box::new(logins.clone()),
            Box::new(rate_limited.clone()),
            Box::new(product_list.clone()),
            Box::new(flash_reservations.clone()),
            Box::new(rma_stage.clone()),
            Box::new(rma_median.clone()),
            Box::new(rma_money.clone()),
            Box::new(outbox.clone()),
            Box::new(reconciliation.clone()),
            Box::new(reconciled_at.clone()),
            Box::new(mail.outcomes.clone()),
            Box::new(mail.send_seconds.clone()),
            Box::new(build),
            Box::new(start),
            Box::new(open_reservations.clone()),
            Box::new(queue_length.clone()),
            Box::new(job_backlog.clone()),
            Box::new(worker_age.clone()),
            Box::new(slo_budget.clone()),
            Box::new(slo_burn.clone()),
        ] {
            registry.register(c)?;
        }
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            pool,
            logins,
            rate_limited,
            product_list,
            flash_reservations,
            payments,
            rma_stage,
            rma_median,
            rma_money,
            outbox,
            reconciliation,
            reconciled_at,
            mail,
            business,
            open_reservations,
            queue_length,
            job_backlog,
            worker_age,
            slo_budget,
            slo_burn,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration.with_label_values(&labels).observe(secs);
    }

    /// Records the findings of a reconciliation, per check.
    pub fn record_reconciliation(&self, r: &retail_api_types::ReconciliationReport) {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for (check, n) in [
            ("captures_without_order", count(r.captures_without_order.len())),
            ("paid_orders_without_capture", count(r.paid_orders_without_capture.len())),
            ("amount_mismatches", count(r.amount_mismatches.len())),
            ("captured_total", i64::from(r.captured_cents != r.ordered_card_cents)),
            ("store_credit", count(r.credit_discrepancies.len())),
            ("stock", count(r.stock_discrepancies.len())),
            ("flash_sales", count(r.sale_discrepancies.len())),
            ("returns", count(r.return_discrepancies.len())),
        ] {
            self.reconciliation.with_label_values(&[check]).set(n);
        }
        self.reconciled_at.set(r.checked_at.timestamp());
    }

    /// Text exposition of every metric, after refreshing the gauges from `inputs`.
    pub fn render(&self, inputs: &ScrapeInputs<'_>) -> Result<String, ApiError> {
        if let Some(counts) = inputs.outbox {
            let n = |state: &str| counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            for state in ["pending", "sending", "sent", "failed"] {
                self.outbox.with_label_values(&[state]).set(n(state));
            }
            self.job_backlog.with_label_values(&["mail"]).set(n("pending") + n("sending"));
        }
        let pool = inputs.pool;
        self.pool.with_label_values(&["open"]).set(i64::from(pool.open));
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool.with_label_values(&["in_use"]).set(i64::from(pool.open.saturating_sub(pool.idle)));
        if let Some(n) = inputs.open_reservations {
            self.open_reservations.set(n);
        }
        if let Some(n) = inputs.feed_backlog {
            self.job_backlog.with_label_values(&["feeds"]).set(n);
        }
        if let Some(age) = inputs.heartbeat_age_secs {
            self.worker_age.set(age.map_or(f64::INFINITY, |a| a as f64));
        }
        for slo in inputs.slos {
            self.slo_budget.with_label_values(&[slo.name.as_str()]).set(slo.budget_remaining);
            self.slo_burn.with_label_values(&[slo.name.as_str()]).set(slo.burn_rate);
        }
        if let Some(f) = inputs.returns {
            let mut teams = [("support", 0), ("warehouse", 0), ("finance", 0)];
            for s in &f.stages {
                self.rma_stage.with_label_values(&[s.stage.as_str()]).set(s.count);
                if let Some(m) = s.median_secs {
                    self.rma_median.with_label_values(&[s.stage.as_str()]).set(m);
                }
                if let Some(team) = s.stage.queue()
                    && let Some(t) = teams.iter_mut().find(|(name, _)| *name == team.as_str())
                {
                    t.1 += s.count;
                }
            }
            for (team, n) in teams {
                self.queue_length.with_label_values(&[team]).set(n);
            }
            for (kind, v) in [
                ("refunded_card_cents", f.refunded_card_cents),
                ("refunded_credit_cents", f.refunded_credit_cents),
                ("credit_granted_cents", f.credit_granted_cents),
                ("restocked_units", f.restocked_units),
                ("replacements", f.replacements),
            ] {
                self.rma_money.with_label_values(&[kind]).set(v);
            }
        }
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).map_err(ApiError::internal)?;
        String::from_utf8(buf).map_err(ApiError::internal)
    }
}

/// The method as a label: the standard ones by name, anything a client made up as `other`,
/// so that no client can grow the label set.
fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::CONNECT, "CONNECT"),
    ];
    KNOWN.iter().find(|(k, _)| k == m).map_or("other", |(_, name)| name)
}

/// Middleware: counts and times every request under its route template.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let monitor = req.app_data::<web::Data<crate::monitor::Monitor>>().cloned();
    let method = req.method().clone();
    let res = next.call(req).await;
    if let Some(m) = metrics {
        let (route, status, limited) = match &res {
            Ok(r) => (
                r.request().match_pattern(),
                r.status().as_u16(),
                r.response().extensions().get::<Limited>().copied(),
            ),
            Err(e) => (None, e.as_response_error().status_code().as_u16(), None),
        };
        // the SPA's files are served under the empty pattern of the catch-all file service
        let route = match route {
            Some(r) if r.is_empty() => "static".to_owned(),
            Some(r) => r,
            None => "unmatched".to_owned(),
        };
        let secs = start.elapsed().as_secs_f64();
        let method = method_label(&method);
        m.observe(method, &route, status, secs);
        if let Some(Limited(limiter)) = limited {
            m.rate_limited.with_label_values(&[limiter, route.as_str()]).inc();
        }
        if let Some(monitor) = monitor {
            monitor.traffic.record(method, route, status, secs * 1000.0, crate::monitor::unix_now());
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::{Metrics, method_label};

    #[test]
    fn made_up_methods_become_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::from_bytes("X".repeat(8000).as_bytes()).unwrap()), "other");
    }

    #[test]
    fn payment_metrics_are_exposed_under_their_names() {
        let m = Metrics::new().unwrap();
        m.payments.breaker_state.set(1);
        m.payments.breaker_transitions.with_label_values(&["closed", "open"]).inc();
        m.payments.gateway_calls.with_label_values(&["authorize", "timeout"]).inc();
        m.payments.gateway_duration.with_label_values(&["authorize"]).observe(0.01);
        let text =
            m.render(&super::ScrapeInputs::pool_only(retail_store::PoolUsage { open: 0, idle: 0 })).unwrap();
        for line in [
            "retail_payment_breaker_state 1",
            r#"retail_payment_breaker_transitions_total{from="closed",to="open"} 1"#,
            r#"retail_payment_gateway_calls_total{op="authorize",outcome="timeout"} 1"#,
            r#"retail_payment_gateway_duration_seconds_count{op="authorize"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
    }
}
