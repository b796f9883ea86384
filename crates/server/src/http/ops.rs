//! Liveness, readiness, metrics, and the benchmark baseline.

use actix_web::{HttpResponse, get};
use retail_api_types::{Health, Readiness};

use crate::error::ApiError;
use crate::service::ServiceError;
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
    // The return figures come from the database; a busy database leaves them as last read.
    let policy = state.returns.clone();
    let figures = state.db.read(move |c| crate::service::returns::figures_on(c, &policy)).await.ok();
    let outbox =
        state.db.read(|c| Ok::<_, ServiceError>(retail_store::repo::notifications::counts(c)?)).await.ok();
    let text = state.metrics.render(state.db.usage(), figures.as_ref(), outbox.as_deref())?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
