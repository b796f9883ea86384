//! Use cases: each combines domain rules and repository calls inside one transaction.
//! Handlers call these and stay thin.

pub mod accounts;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod credit;
mod error;
pub mod feeds;
pub mod idempotency;
pub mod monitoring;
pub mod notify;
pub mod operator;
pub mod orders;
pub mod partners;
pub mod returns;
pub mod sales;
pub mod users;

pub use error::{PaymentFailure, ServiceError, fmt_cause_chain};

use retail_api_types as api;
use retail_domain::Caller;
use retail_domain::account::Permission;
use retail_domain::account::Role;
use retail_domain::paging::PageRequest;
use retail_domain::{Currency, ProductId, UserId};
use retail_store::models::{AuditRow, ProductRow, StockMovementRow, UserRow};
use retail_store::{Conn, Db, StoreError};

fn corrupt(what: String) -> ServiceError {
    ServiceError::from(StoreError::Corrupt(what))
}

/// Maps a stored account to its JSON form.
pub fn user_dto(r: UserRow) -> Result<api::User, ServiceError> {
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
pub fn product_dto(r: ProductRow) -> Result<api::Product, ServiceError> {
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
        returnable: r.returnable,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
        sale: None,
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

/// Runs `f` in one write transaction on behalf of `caller`, after checking that the
/// caller's role *as it is inside that transaction* grants `permission`. This is the one
/// place where use cases that change state check rights: the check before the transaction
/// (from the request's token) is only a fast path, and a role taken away by a concurrent
/// write is seen here, so two admins cannot each act on a right the other just removed.
/// `f` receives the caller with its current role.
pub async fn write_as<T, F>(db: &Db, caller: &Caller, permission: Permission, f: F) -> Result<T, ServiceError>
where
    F: FnOnce(&mut Conn, &Caller) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    caller.require(permission)?;
    let caller = caller.clone();
    db.write(move |c| {
        let current = match caller.user_id() {
            Some(id) => {
                let row = retail_store::repo::users::by_id(c, id.get())?
                    .ok_or(ServiceError::Unauthorized("account no longer exists"))?;
                caller.with_role(user_dto(row)?.role)
            }
            None => caller,
        };
        current.require(permission)?;
        f(c, &current)
    })
    .await
}

/// Runs CPU-heavy work (password hashing) on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    Ok(tokio::task::spawn_blocking(f).await?)
}
