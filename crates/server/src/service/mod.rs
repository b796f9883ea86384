//! Use cases: each combines domain rules and repository calls inside one transaction.
//! Handlers call these and stay thin.

pub mod accounts;
pub mod catalog;
pub mod users;

use retail_api_types as api;
use retail_domain::account::Role;
use retail_domain::paging::PageRequest;
use retail_domain::{Currency, ProductId, UserId};
use retail_store::StoreError;
use retail_store::models::{AuditRow, ProductRow, StockMovementRow, UserRow};

use crate::error::ApiError;

fn corrupt(what: String) -> ApiError {
    ApiError::from(StoreError::Corrupt(what))
}

/// Maps a stored account to its JSON form.
pub fn user_dto(r: UserRow) -> Result<api::User, ApiError> {
    let role = Role::parse(&r.role).ok_or_else(|| corrupt(format!("role {:?} of user {}", r.role, r.id)))?;
    Ok(api::User {
        id: UserId(r.id),
        email: r.email,
        display_name: r.display_name,
        role,
        created_at: r.created_at,
    })
}

/// Maps a stored product to its JSON form.
pub fn product_dto(r: ProductRow) -> Result<api::Product, ApiError> {
    let currency = Currency::parse("currency", &r.currency)
        .map_err(|_| corrupt(format!("currency {:?} of product {}", r.currency, r.id)))?;
    Ok(api::Product {
        id: ProductId(r.id),
        sku: r.sku,
        name: r.name,
        description: r.description,
        price_cents: r.price_cents,
        currency,
        stock: r.stock,
        category: r.category,
        image_url: r.image_url,
        active: r.active,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Maps a ledger row to its JSON form.
pub fn movement_dto(r: StockMovementRow) -> api::StockMovement {
    api::StockMovement {
        id: r.id,
        product_id: ProductId(r.product_id),
        delta: r.delta,
        stock_after: r.stock_after,
        reason: r.reason,
        actor_id: r.actor_id.map(UserId),
        created_at: r.created_at,
    }
}

/// Maps an audit row to its JSON form.
pub fn audit_dto(r: AuditRow) -> api::AuditEntry {
    api::AuditEntry {
        id: r.id,
        actor_id: r.actor_id.map(UserId),
        action: r.action,
        entity_type: r.entity_type,
        entity_id: r.entity_id,
        detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::String(r.detail)),
        created_at: r.created_at,
    }
}

/// Pagination block for a page of `total` items.
pub fn pagination(page: PageRequest, total: i64) -> api::Pagination {
    api::Pagination { page: page.page, per_page: page.per_page, total, total_pages: page.total_pages(total) }
}

/// Runs CPU-heavy work (password hashing) on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)
}
