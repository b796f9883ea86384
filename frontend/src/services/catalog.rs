//! `/api/products`, `/api/categories`, `/api/suppliers`.

use retail_api_types::{CategoryCount, Product, ProductId, ProductList, ProductQuery, SupplierCount};

use super::{Api, ApiError, with_query};

/// One page of products.
pub async fn list(api: &Api, query: &ProductQuery) -> Result<ProductList, ApiError> {
    api.get(&with_query("/api/products", query)?).await
}

/// One product.
pub async fn get(api: &Api, id: ProductId) -> Result<Product, ApiError> {
    api.get(&format!("/api/products/{id}")).await
}

/// Categories with active products.
pub async fn categories(api: &Api) -> Result<Vec<CategoryCount>, ApiError> {
    api.get("/api/categories").await
}

/// Partners (suppliers) with active products.
pub async fn suppliers(api: &Api) -> Result<Vec<SupplierCount>, ApiError> {
    api.get("/api/suppliers").await
}
