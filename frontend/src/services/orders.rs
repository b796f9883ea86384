//! `/api/checkout`, `/api/orders`, `/api/credit`.

use gloo::net::http::Method;
use retail_api_types::{
    CancelOrderRequest, CheckoutRequest, CreditAccount, Order, OrderId, OrderList, PageQuery, Receipt,
};

use super::idempotency::HEADER;
use super::{Api, ApiError, with_query};

/// Places an order from the cart. `key` must stay the same when the same attempt is sent
/// again, so a repeat never charges twice.
pub async fn checkout(api: &Api, body: &CheckoutRequest, key: &str) -> Result<Order, ApiError> {
    api.send_with(Method::POST, "/api/checkout", Some(body), &[(HEADER, key)]).await
}

/// One page of the caller's orders, newest first.
pub async fn list(api: &Api, query: &PageQuery) -> Result<OrderList, ApiError> {
    api.get(&with_query("/api/orders", query)?).await
}

/// One order (the caller's own; any order for staff who may view orders).
pub async fn get(api: &Api, id: OrderId) -> Result<Order, ApiError> {
    api.get(&format!("/api/orders/{id}")).await
}

/// An order's receipt.
pub async fn receipt(api: &Api, id: OrderId) -> Result<Receipt, ApiError> {
    api.get(&format!("/api/orders/{id}/receipt")).await
}

/// The customer cancels their own order (while the order allows it).
pub async fn cancel(api: &Api, id: OrderId, reason: &str) -> Result<Option<Order>, ApiError> {
    let body = CancelOrderRequest { reason: reason.to_owned() };
    api.send(Method::POST, &format!("/api/orders/{id}/cancel"), Some(&body)).await.map(super::lenient)
}

/// The caller's store-credit balance and one page of its ledger.
pub async fn credit(api: &Api, query: &PageQuery) -> Result<CreditAccount, ApiError> {
    api.get(&with_query("/api/credit", query)?).await
}
