//! Liveness, readiness, metrics, the monitoring API, and the benchmark baseline.

use actix_web::{HttpResponse, get};
use retail_api_types::{
    Health, LogEvents, LogQuery, MonitoringQuery, MonitoringSnapshot, Problem, Readiness,
};

use super::auth::AuthUser;
use super::extract::Query;
use super::metrics::ScrapeInputs;
use crate::error::ApiError;
use crate::service::monitoring;
use crate::state::State;

/// Liveness: the process answers. Touches nothing else.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// A bare JSON answer under `/api`.
///
/// Same middleware as every API route, no database: the baseline the benchmark compares the
/// product list against.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Hello", body = Health)))]
#[get("/hello")]
pub async fn hello() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Database unreachable or migrations pending", body = Readiness),
    )
)]
#[get("/ready")]
pub async fn ready(state: State) -> HttpResponse {
    let (database, migrations) = state.db.readiness().await;
    let ok = database && migrations;
    let body = Readiness { status: if ok { "ready" } else { "unavailable" }.into(), database, migrations };
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: State) -> Result<HttpResponse, ApiError> {
    // The database figures: a busy database leaves their series as last read.
    let scraped = monitoring::scrape(&state).await;
    let (figures, now) = (scraped.db.as_ref(), chrono::Utc::now());
    let inputs = ScrapeInputs {
        pool: state.db.usage(),
        returns: figures.map(|f| &f.returns),
        outbox: figures.map(|f| f.outbox.as_slice()),
        open_reservations: figures.map(|f| f.open_reservations),
        feed_backlog: figures.map(|f| f.feed_backlog),
        heartbeat_age_secs: figures.map(|f| f.last_beat.map(|t| (now - t).num_seconds().max(0))),
        slos: &scraped.slos,
    };
    let text = state.metrics.render(&inputs)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// The shop live (admin): orders, revenue and refunds today, traffic per endpoint and over
/// time with latency percentiles and error rates, the SLOs with their error budgets, the
/// returns per stage, the last reconciliation and the worker's health. Traffic figures are
/// this server process's own (each replica reports its own).
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(MonitoringQuery),
    responses(
        (status = 200, description = "The snapshot", body = MonitoringSnapshot),
        (status = 400, description = "Unknown window", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/monitoring")]
pub async fn monitoring_snapshot(
    state: State,
    who: AuthUser,
    q: Query<MonitoringQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitoring::snapshot(&state, &who.caller(), q.0.window).await?))
}

/// The recent log events of this server process, newest first, from a bounded buffer
/// (admin): filter by level (that level and above), route template and request ID.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(LogQuery),
    responses(
        (status = 200, description = "The events", body = LogEvents),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/monitoring/logs")]
pub async fn monitoring_logs(
    state: State,
    who: AuthUser,
    q: Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(monitoring::logs(&state, &who.caller(), &q.0)?))
}
