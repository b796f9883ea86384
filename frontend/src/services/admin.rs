//! `/api/admin/*`.

use gloo::net::http::Method;
use retail_api_types::{
    ChangeRoleRequest, CreateProductRequest, Product, ProductId, Role, StockAdjustmentRequest,
    StockAdjustmentResponse, UpdateProductRequest, User, UserId, UserList, UserQuery,
};

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
