//! `/api/flash/*`: flash sales, and the caller's reservations (holds) of their units.

use gloo::net::http::Method;
use retail_api_types::{FlashPageQuery, FlashReservation, FlashSale, FlashSaleList, ReserveRequest};

use super::idempotency::HEADER;
use super::requests::NO_BODY;
use super::{Api, ApiError, lenient, with_query};

/// One page of live and upcoming sales, soonest to end first.
pub async fn sales(api: &Api, query: &FlashPageQuery) -> Result<FlashSaleList, ApiError> {
    api.get(&with_query("/api/flash/sales", query)?).await
}

/// One sale (in any state) with the units left of each product.
pub async fn sale(api: &Api, id: i64) -> Result<FlashSale, ApiError> {
    api.get(&format!("/api/flash/sales/{id}")).await
}

/// Reserves units of a product of a live sale: all of them or none (409 `sold_out`,
/// `only_left`, `cap_reached`, `over_cap`, `sale_not_live`; 429 `rate_limited`). `key` stays the
/// same when the same attempt is sent again, so a repeat never holds twice.
pub async fn reserve(
    api: &Api,
    sale_id: i64,
    body: &ReserveRequest,
    key: &str,
) -> Result<FlashReservation, ApiError> {
    api.send_with(
        Method::POST,
        &format!("/api/flash/sales/{sale_id}/reservations"),
        Some(body),
        &[(HEADER, key)],
    )
    .await
}

/// One of the caller's reservations.
pub async fn reservation(api: &Api, id: i64) -> Result<FlashReservation, ApiError> {
    api.get(&format!("/api/flash/reservations/{id}")).await
}

/// Gives a held reservation's units back (409 `reservation_not_held` once paid, cancelled or
/// expired). `Some` when the server answered with the reservation.
pub async fn cancel(api: &Api, id: i64) -> Result<Option<FlashReservation>, ApiError> {
    api.send(Method::POST, &format!("/api/flash/reservations/{id}/cancel"), NO_BODY).await.map(lenient)
}
