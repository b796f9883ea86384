//! `/api/cart`.

use gloo::net::http::Method;
use retail_api_types::{AddCartLineRequest, Cart, CartLineId, ProductId, UpdateCartLineRequest};

use super::requests::NO_BODY;
use super::{Api, ApiError, lenient};

/// The caller's cart with current prices and what stands in the way of checkout.
pub async fn get(api: &Api) -> Result<Cart, ApiError> {
    api.get("/api/cart").await
}

/// Adds `quantity` units of a product (to its line if it has one). `Some(cart)` when the
/// server answered with the cart.
pub async fn add(api: &Api, product_id: ProductId, quantity: i64) -> Result<Option<Cart>, ApiError> {
    let body = AddCartLineRequest { product_id, quantity };
    api.send(Method::POST, "/api/cart/lines", Some(&body)).await.map(lenient)
}

/// Sets a line's quantity, which also accepts its current price.
pub async fn set_quantity(api: &Api, id: CartLineId, quantity: i64) -> Result<Option<Cart>, ApiError> {
    let body = UpdateCartLineRequest { quantity };
    api.send(Method::PATCH, &format!("/api/cart/lines/{id}"), Some(&body)).await.map(lenient)
}

/// Removes a line.
pub async fn remove(api: &Api, id: CartLineId) -> Result<Option<Cart>, ApiError> {
    api.send(Method::DELETE, &format!("/api/cart/lines/{id}"), NO_BODY).await.map(lenient)
}

/// Empties the cart.
pub async fn clear(api: &Api) -> Result<Option<Cart>, ApiError> {
    api.send(Method::DELETE, "/api/cart", NO_BODY).await.map(lenient)
}
