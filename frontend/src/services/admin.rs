//! `/api/admin/*`.

use gloo::net::http::Method;
use retail_api_types::{
    AdminSale, AdminSaleList, ChangeRoleRequest, CreateProductRequest, FlashPageQuery, Product, ProductId,
    Role, SaleRequest, SaleUpdateRequest, StockAdjustmentRequest, StockAdjustmentResponse,
    UpdateProductRequest, User, UserId, UserList, UserQuery,
};

use super::requests::NO_BODY;
use super::{Api, ApiError, with_query};

/// Creates a product.
pub async fn create_product(api: &Api, body: &CreateProductRequest) -> Result<Product, ApiError> {
    api.send(Method::POST, "/api/admin/products", Some(body)).await
}

/// Changes a product; `body.version` must be the one last read (409 `version_conflict` otherwise).
pub async fn update_product(
    api: &Api,
    id: ProductId,
    body: &UpdateProductRequest,
) -> Result<Product, ApiError> {
    api.send(Method::PATCH, &format!("/api/admin/products/{id}"), Some(body)).await
}

/// Adds or removes stock with a ledger reason.
pub async fn adjust_stock(
    api: &Api,
    id: ProductId,
    body: &StockAdjustmentRequest,
) -> Result<StockAdjustmentResponse, ApiError> {
    api.send(Method::POST, &format!("/api/admin/products/{id}/stock"), Some(body)).await
}

/// One page of accounts.
pub async fn list_users(api: &Api, query: &UserQuery) -> Result<UserList, ApiError> {
    api.get(&with_query("/api/admin/users", query)?).await
}

/// Gives an account a new role (409 `self_demotion` for one's own admin role).
pub async fn change_role(api: &Api, id: UserId, role: Role) -> Result<User, ApiError> {
    api.send(Method::PUT, &format!("/api/admin/users/{id}/role"), Some(&ChangeRoleRequest { role })).await
}

/// One page of flash sales in every state, newest first.
pub async fn sales(api: &Api, query: &FlashPageQuery) -> Result<AdminSaleList, ApiError> {
    api.get(&with_query("/api/admin/sales", query)?).await
}

/// Schedules a flash sale (422 names the fields at fault, e.g. `items[0].allocated_units`).
pub async fn create_sale(api: &Api, body: &SaleRequest) -> Result<AdminSale, ApiError> {
    api.send(Method::POST, "/api/admin/sales", Some(body)).await
}

/// One sale with live sold / reserved / remaining units per product.
pub async fn sale(api: &Api, id: i64) -> Result<AdminSale, ApiError> {
    api.get(&format!("/api/admin/sales/{id}")).await
}

/// Changes a sale that has not started; `body.version` must be the one last read (409
/// `version_conflict`; 409 `sale_started` once it is live).
pub async fn update_sale(api: &Api, id: i64, body: &SaleUpdateRequest) -> Result<AdminSale, ApiError> {
    api.send(Method::PUT, &format!("/api/admin/sales/{id}"), Some(body)).await
}

/// Ends a sale now (409 `sale_over` when it already ended).
pub async fn end_sale(api: &Api, id: i64) -> Result<AdminSale, ApiError> {
    api.send(Method::POST, &format!("/api/admin/sales/{id}/end"), NO_BODY).await
}
