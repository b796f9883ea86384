//! The customer's side of buying: `/api/cart`, `/api/checkout`, `/api/orders`, `/api/credit`.
//! Every route needs a signed-in caller (checked by middleware before the body is read) and
//! acts on the caller's own records: another customer's cart line or order is 404.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use retail_api_types::{
    AddCartLineRequest, CancelOrderRequest, Cart, CartLineId, CheckoutRequest, CreditAccount, Order, OrderId,
    OrderList, PageQuery, Problem, Receipt, UpdateCartLineRequest,
};
use retail_domain::paging::PageRequest;

use super::auth::AuthUser;
use super::extract::{Json, Query};
use super::idempotency::{IdempotencyKeyHeader, IdempotencyKeyRequired, respond};
use crate::error::ApiError;
use crate::service::{cart, checkout, credit, orders};
use crate::state::State;

/// The caller's cart with current prices, line totals and what needs review.
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The cart", body = Cart),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn get_cart(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cart::view(&state, &who.caller()).await?))
}

/// Empty the cart.
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The empty cart", body = Cart),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("")]
pub async fn clear_cart(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cart::clear(&state, &who.caller()).await?))
}

/// Add units of a product, at the price shown now (to its line, if the cart has one).
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    request_body = AddCartLineRequest,
    responses(
        (status = 200, description = "The cart after adding", body = Cart),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cart_full`: the cart already has the most lines it may", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or inactive product, or a quantity out of range (a line holds at most 99)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/lines")]
pub async fn add_line(
    state: State,
    who: AuthUser,
    body: Json<AddCartLineRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cart::add(&state, &who.caller(), body.0).await?))
}

/// Set a line's quantity; this also accepts the product's current price.
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Cart line ID")),
    request_body = UpdateCartLineRequest,
    responses(
        (status = 200, description = "The cart after the change", body = Cart),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such line in your cart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Quantity out of range (1-99)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/lines/{id}")]
pub async fn update_line(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateCartLineRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(cart::update(&state, &who.caller(), CartLineId(id.into_inner()), body.0).await?))
}

/// Remove a line.
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Cart line ID")),
    responses(
        (status = 200, description = "The cart after the removal", body = Cart),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such line in your cart", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/lines/{id}")]
pub async fn remove_line(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cart::remove(&state, &who.caller(), CartLineId(id.into_inner())).await?))
}

/// Place an order from the cart and pay for it.
///
/// Prices are the server's. Store credit pays first (all of it, or `use_credit_cents`), the
/// card the rest. `Idempotency-Key` is required: a retry with the same key and body returns
/// the same order (with `Idempotency-Replayed: true`) and never charges twice, even when the
/// two requests race; the same key with another body is 422. A failed checkout (declined,
/// provider down, stock gone) charges nothing, leaves the cart as it was and frees the key.
#[utoipa::path(
    tag = "checkout",
    security(("bearer" = [])),
    params(IdempotencyKeyRequired),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "Order placed and paid (or replayed)", body = Order, headers(("Location" = String), ("Idempotency-Replayed" = String, description = "`true` when the answer was replayed for a repeated `Idempotency-Key`; absent otherwise"))),
        (status = 400, description = "`Idempotency-Key` missing (`idempotency_key_required`) or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "Card declined: `card_declined`, `insufficient_funds`, `invalid_card`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`reservation_id` names no reservation of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cart_empty`, `cart_needs_review` (a price, stock or availability changed), `mixed_currencies`, `out_of_stock` (sold out while paying), `insufficient_credit`, `checkout_in_progress`, `reservation_expired`, `reservation_not_held` (paid or cancelled)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`card_token`, `use_credit_cents`), or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`payment_provider_error`: the provider failed after retries; nothing was charged", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payments_unavailable`: the circuit breaker is open (see `Retry-After`), or the database is busy", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String))),
        (status = 504, description = "`payment_timeout`: the provider did not answer in time; nothing was charged", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn place_order(
    state: State,
    who: AuthUser,
    key: IdempotencyKeyHeader,
    body: Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let out = checkout::checkout(&state, &who.caller(), body.0, key.as_deref()).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/orders/{}", out.value.id)));
    Ok(respond(res, out))
}

/// The caller's orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of orders", body = OrderList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn my_orders(state: State, who: AuthUser, q: Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok().json(orders::mine(&state, &who.caller(), page).await?))
}

/// One order: the caller's own, or any for staff who may view orders.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}")]
pub async fn get_order(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(orders::get(&state, &who.caller(), OrderId(id.into_inner())).await?))
}

/// An order's receipt: lines, how it was paid, the shop.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    responses(
        (status = 200, description = "The receipt", body = Receipt),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}/receipt")]
pub async fn get_receipt(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(orders::receipt(&state, &who.caller(), OrderId(id.into_inner())).await?))
}

/// Cancel one of your orders until it ships: the payment is voided or refunded, the stock
/// and the store credit go back.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order ID")),
    request_body = CancelOrderRequest,
    responses(
        (status = 200, description = "Cancelled: stock back, credit back, payment voided or refunded", body = Order),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (lists what is allowed) or `stale_state`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The payment provider failed; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The payment provider timed out; nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/cancel")]
pub async fn cancel_my_order(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<CancelOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(orders::cancel(&state, &who.caller(), OrderId(id.into_inner()), body.0, false).await?))
}

/// The caller's store credit: balance and ledger, newest first.
#[utoipa::path(
    tag = "credit",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Balance and one page of entries", body = CreditAccount),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn my_credit(state: State, who: AuthUser, q: Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok().json(credit::mine(&state, &who.caller(), page).await?))
}
