//! `/api/admin/*`: catalog management, stock ledger, accounts, audit log.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, put, web};
use retail_api_types::{
    AuditList, AuditQuery, ChangeRoleRequest, CreateProductRequest, PageQuery, Problem, Product,
    StockAdjustmentRequest, StockAdjustmentResponse, StockMovementList, UpdateProductRequest, User, UserList,
    UserQuery,
};
use retail_domain::paging::PageRequest;
use retail_domain::{ProductId, UserId};

use super::auth::AuthUser;
use super::extract::{Json, Query};
use super::idempotency::{IdempotencyKeyHeader, IdempotencyKeyParam, respond};
use crate::error::ApiError;
use crate::service::{catalog, users};
use crate::state::State;

/// Create a product (admin).
///
/// Its initial stock becomes the first stock-ledger entry.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(IdempotencyKeyParam),
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "Created (or replayed: then with `Idempotency-Replayed: true`)", body = Product, headers(("Location" = String), ("Idempotency-Replayed" = String, description = "`true` when the answer was replayed for a repeated `Idempotency-Key`; absent otherwise"))),
        (status = 400, description = "Invalid `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SKU taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (each named), or `idempotency_key_reused`: the key was used with another request", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products")]
pub async fn create_product(
    state: State,
    who: AuthUser,
    key: IdempotencyKeyHeader,
    body: Json<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let out = catalog::create(&state, &who.caller(), body.0, key.as_deref()).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/products/{}", out.value.id)));
    Ok(respond(res, out))
}

/// Update, deactivate or reactivate a product (admin).
///
/// Send the `version` you read: a stale one gets 409. Stock is not changed here; use the
/// stock endpoint.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Product ID")),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, description = "Updated", body = Product),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Version conflict", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (each named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/products/{id}")]
pub async fn update_product(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(catalog::update(&state, &who.caller(), ProductId(id.into_inner()), body.0).await?))
}

/// Add or remove stock (admin), with a reason recorded in the ledger. Never below zero.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Product ID"), IdempotencyKeyParam),
    request_body = StockAdjustmentRequest,
    responses(
        (status = 200, description = "Stock moved (or replayed: then with `Idempotency-Replayed: true`)", body = StockAdjustmentResponse, headers(("Idempotency-Replayed" = String, description = "`true` when the answer was replayed for a repeated `Idempotency-Key`; absent otherwise"))),
        (status = 400, description = "Invalid `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would make stock negative", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Zero delta or missing reason, or `idempotency_key_reused`: the key was used with another request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products/{id}/stock")]
pub async fn adjust_stock(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    key: IdempotencyKeyHeader,
    body: Json<StockAdjustmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId(id.into_inner());
    Ok(respond(
        HttpResponse::Ok(),
        catalog::adjust_stock(&state, &who.caller(), id, body.0, key.as_deref()).await?,
    ))
}

/// A product's stock ledger, newest first (staff).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Product ID"), PageQuery),
    responses(
        (status = 200, description = "Ledger page", body = StockMovementList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products/{id}/stock-movements")]
pub async fn stock_movements(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok()
        .json(catalog::movements(&state, &who.caller(), ProductId(id.into_inner()), page).await?))
}

/// List accounts (admin), filtered by role or by text in email or name.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "Accounts page", body = UserList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Unreadable query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(state: State, who: AuthUser, q: Query<UserQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::list(&state, &who.caller(), q.0).await?))
}

/// Change an account's role (admin). Admins cannot remove their own admin role.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User ID")),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "Role changed", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would demote yourself", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/users/{id}/role")]
pub async fn change_role(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<ChangeRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(users::change_role(&state, &who.caller(), UserId(id.into_inner()), body.0.role).await?))
}

/// The audit log, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit page", body = AuditList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn audit_log(state: State, who: AuthUser, q: Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::audit_log(&state, &who.caller(), q.0).await?))
}
