//! `/api/staff/*`: orders across customers (ship, deliver, cancel), store-credit grants and
//! the reconciliation. Each route's permission is checked by middleware before any input is
//! read (see `STAFF_PERMISSIONS` in `http`), and again by the service.

use actix_web::{HttpResponse, get, post, web};
use retail_api_types::{
    CancelOrderRequest, CreditAccount, GrantCreditRequest, Order, OrderId, OrderList, PageQuery, Problem,
    ReconciliationReport, ShipOrderRequest, StaffOrderQuery, UserId,
};
use retail_domain::paging::PageRequest;

use super::auth::AuthUser;
use super::extract::{Json, Query};
use super::idempotency::{IdempotencyKeyHeader, IdempotencyKeyRequired, respond};
use crate::error::ApiError;
use crate::service::{credit, orders};
use crate::state::State;

/// Every customer's orders, newest first, filtered (support, warehouse, finance, admin).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(StaffOrderQuery),
    responses(
        (status = 200, description = "One page of orders", body = OrderList),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders")]
pub async fn list_orders(
    state: State,
    who: AuthUser,
    q: Query<StaffOrderQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(orders::staff_list(&state, &who.caller(), q.0).await?))
}

/// Mark a paid order shipped, with carrier and tracking (support, warehouse, admin).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    request_body = ShipOrderRequest,
    responses(
        (status = 200, description = "Shipped", body = Order),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not ship", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (lists what is allowed) or `stale_state`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid carrier or tracking", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/ship")]
pub async fn ship_order(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<ShipOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(orders::ship(&state, &who.caller(), OrderId(id.into_inner()), body.0).await?))
}

/// Mark a shipped order delivered (support, warehouse, admin); return windows count from now.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    responses(
        (status = 200, description = "Delivered", body = Order),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not deliver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (lists what is allowed) or `stale_state`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/deliver")]
pub async fn deliver_order(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(orders::deliver(&state, &who.caller(), OrderId(id.into_inner())).await?))
}

/// Cancel an order before it ships (support, warehouse, admin): the payment is voided or
/// refunded, the stock goes back through the ledger, the store credit spent is reversed.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    request_body = CancelOrderRequest,
    responses(
        (status = 200, description = "Cancelled", body = Order),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not cancel", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (lists what is allowed) or `stale_state`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The payment provider failed; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The payment provider timed out; nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<CancelOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(orders::cancel(&state, &who.caller(), OrderId(id.into_inner()), body.0, true).await?))
}

/// Grant store credit to a customer, with a reason (finance, admin). `Idempotency-Key` is
/// required: a retry never grants twice.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(IdempotencyKeyRequired),
    request_body = GrantCreditRequest,
    responses(
        (status = 201, description = "Granted (or replayed); the customer's credit after it", body = CreditAccount, headers(("Idempotency-Replayed" = String, description = "`true` when the answer was replayed for a repeated `Idempotency-Key`; absent otherwise"))),
        (status = 400, description = "`Idempotency-Key` missing or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amount, reason or account, or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/credit")]
pub async fn grant_credit(
    state: State,
    who: AuthUser,
    key: IdempotencyKeyHeader,
    body: Json<GrantCreditRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(respond(HttpResponse::Created(), credit::grant(&state, &who.caller(), body.0, key.as_deref()).await?))
}

/// A customer's store credit: balance and ledger (finance, admin).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User ID"), PageQuery),
    responses(
        (status = 200, description = "Balance and one page of entries", body = CreditAccount),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/credit/{id}")]
pub async fn user_credit(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok().json(credit::of_user(&state, &who.caller(), UserId(id.into_inner()), page).await?))
}

/// Reconcile payments with orders, and store credit and stock with their ledgers (finance,
/// admin).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the checks found", body = ReconciliationReport),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reconciliation")]
pub async fn reconciliation(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(credit::reconcile(&state, &who.caller()).await?))
}
