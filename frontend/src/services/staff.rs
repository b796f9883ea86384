//! `/api/staff/*`: orders and store credit.

use gloo::net::http::Method;
use retail_api_types::{
    CancelOrderRequest, CreditAccount, GrantCreditRequest, Order, OrderId, OrderList, ShipOrderRequest,
    StaffOrderQuery,
};

use super::idempotency::HEADER;
use super::requests::NO_BODY;
use super::{Api, ApiError, lenient, with_query};

/// One page of every customer's orders, filtered.
pub async fn orders(api: &Api, query: &StaffOrderQuery) -> Result<OrderList, ApiError> {
    api.get(&with_query("/api/staff/orders", query)?).await
}

/// Hands an order to a carrier.
pub async fn ship(api: &Api, id: OrderId, body: &ShipOrderRequest) -> Result<Option<Order>, ApiError> {
    api.send(Method::POST, &format!("/api/staff/orders/{id}/ship"), Some(body)).await.map(lenient)
}

/// Marks an order delivered.
pub async fn deliver(api: &Api, id: OrderId) -> Result<Option<Order>, ApiError> {
    api.send(Method::POST, &format!("/api/staff/orders/{id}/deliver"), NO_BODY).await.map(lenient)
}

/// Cancels an order before shipping (stock, credit and card are given back).
pub async fn cancel(api: &Api, id: OrderId, reason: &str) -> Result<Option<Order>, ApiError> {
    let body = CancelOrderRequest { reason: reason.to_owned() };
    api.send(Method::POST, &format!("/api/staff/orders/{id}/cancel"), Some(&body)).await.map(lenient)
}

/// Grants store credit; `key` stays the same when the same grant is sent again. The answer
/// is the customer's credit after the grant.
pub async fn grant_credit(
    api: &Api,
    body: &GrantCreditRequest,
    key: &str,
) -> Result<Option<CreditAccount>, ApiError> {
    api.send_with(Method::POST, "/api/staff/credit", Some(body), &[(HEADER, key)]).await.map(lenient)
}
