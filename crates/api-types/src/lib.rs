//! The JSON bodies of the retail HTTP API, shared by the server and the SPA.
//!
//! These are wire types, distinct from database rows and domain values: they carry no logic
//! beyond serialisation. Money travels as integer minor units (`price_cents`), times as RFC 3339
//! UTC strings, IDs as integers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod checkout;
pub use checkout::*;
mod flash;
pub use flash::*;
mod returns;
pub use returns::*;
mod notifications;
pub use notifications::*;
mod monitoring;
pub use monitoring::*;
mod feeds;
pub use feeds::*;

pub use retail_domain::account::Role;
pub use retail_domain::{Currency, ProductId, UserId};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document: every 4xx and 5xx answer has this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// URI naming the problem type (`urn:retail:problem:<code>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, stable summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Request ID (also in the `X-Request-Id` header), for support and log search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// One entry per invalid input field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldProblem {
    /// Field path as sent, e.g. `price_cents` or `items[2].sku`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

// ---------------------------------------------------------------- accounts

/// Body of `POST /api/auth/register`. Any role in the body is ignored: registering always
/// creates a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterRequest {
    /// Account identity; compared case-insensitively.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "ann@example.com",
            min_length = 3,
            max_length = 254,
            pattern = r"^[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
        )
    )]
    pub email: String,
    /// 8-128 characters. Also refused with 422 (rules a schema cannot express): a password
    /// that contains the email or its local part, one on the common-password list, or one
    /// repeated character.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
    /// Name shown in the header; defaults to the email's local part.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 80, pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub display_name: Option<String>,
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    /// Account email.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "ann@example.com",
            min_length = 3,
            max_length = 254,
            pattern = r"^[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
        )
    )]
    pub email: String,
    /// Password.
    pub password: String,
}

/// Body of `POST /api/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh; it is rotated (single use). Leave
    /// it out (send `{}`) to use the `retail_refresh` cookie the browser holds instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub refresh_token: Option<String>,
}

/// Tokens for a session, returned by register, login and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenResponse {
    /// JWT (HS256) to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
    /// Opaque single-use token for `POST /api/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until `refresh_token` expires.
    pub refresh_expires_in: i64,
    /// The account the tokens belong to.
    pub user: User,
}

/// An account as its owner and admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    /// Account ID.
    pub id: UserId,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// When the account was created (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserList {
    /// Accounts on this page.
    pub items: Vec<User>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Query of `GET /api/admin/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserQuery {
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Substring of email or display name (at most 200 characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub q: Option<String>,
}

/// Body of `PUT /api/admin/users/{id}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangeRoleRequest {
    /// The new role.
    pub role: Role,
}

// ---------------------------------------------------------------- catalog

/// Position of a page in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Pagination {
    /// 1-based page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Items matching the query across all pages.
    pub total: i64,
    /// Number of pages (at least 1).
    pub total_pages: i64,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Product {
    /// Product ID.
    pub id: ProductId,
    /// Unique stock keeping unit (upper-case).
    pub sku: String,
    /// Name.
    pub name: String,
    /// Description (may be empty).
    pub description: String,
    /// Price in minor units of `currency`.
    pub price_cents: i64,
    /// ISO 4217 code.
    pub currency: Currency,
    /// Units on hand.
    pub stock: i64,
    /// Lower-case category.
    pub category: String,
    /// Picture URL, if any.
    pub image_url: Option<String>,
    /// Visible to shoppers.
    pub active: bool,
    /// Whether it may be returned (within its category's return window).
    pub returnable: bool,
    /// Increases on every change; send it back when updating (optimistic concurrency).
    pub version: i64,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// The live flash sale this product is in, if any: its price applies to units reserved on
    /// the sale page (`price_cents` stays the regular price, which the cart charges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<ProductSale>,
}

/// One page of products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductList {
    /// Products on this page.
    pub items: Vec<Product>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Query of `GET /api/products`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ProductQuery {
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
    /// One of `relevance`, `name`, `-name`, `price`, `-price`, `newest`. Default: `relevance`
    /// when searching, else `name`.
    #[cfg_attr(feature = "openapi", param(pattern = r"^\s*(relevance|name|-name|price|-price|newest)?\s*$"))]
    pub sort: Option<String>,
    /// Only this category (case-insensitive, at most 64 characters).
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 64, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F\u0130]*$")
    )]
    pub category: Option<String>,
    /// Full-text search over name, description, category and SKU: every word must match, the
    /// last one as the start of a word (search as you type), the others as whole words (at
    /// most 200 characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub q: Option<String>,
    /// Include deactivated products (admin only).
    pub include_inactive: Option<bool>,
    /// Only products whose regular price is at least this, in minor units.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub min_price_cents: Option<i64>,
    /// Only products whose regular price is at most this, in minor units (not below
    /// `min_price_cents`).
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub max_price_cents: Option<i64>,
    /// `true`: only products with stock on hand (`false` is the same as leaving it out).
    pub in_stock: Option<bool>,
    /// `true`: only products in a flash sale that is live now (`false` is the same as leaving
    /// it out).
    pub on_sale: Option<bool>,
    /// Only the products this partner's feeds own.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub partner_id: Option<i64>,
}

/// A category and how many visible products it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CategoryCount {
    /// Category name.
    pub category: String,
    /// Active products in it.
    pub product_count: i64,
}

/// A partner (supplier) whose feeds own visible products, and how many: the catalog's
/// `partner_id` filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SupplierCount {
    /// The partner's ID (`partner_id` in `GET /api/products`).
    pub partner_id: i64,
    /// The partner's name.
    pub name: String,
    /// Active products its feeds own.
    pub product_count: i64,
}

/// Body of `POST /api/admin/products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateProductRequest {
    /// Unique SKU: 1-64 of letters, digits, `-`, `_`, `.`.
    #[cfg_attr(feature = "openapi", schema(example = "KET-001", pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub sku: String,
    /// 1-200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
        )
    )]
    pub name: String,
    /// Up to 5000 characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub description: String,
    /// Price in minor units, >= 0.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000, example = 2599))]
    pub price_cents: i64,
    /// ISO 4217 code: EUR, USD or GBP.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*([Ee][Uu][Rr]|[Uu][Ss][Dd]|[Gg][Bb][Pp])\s*$"))]
    pub currency: String,
    /// 1-64 characters; compared case-insensitively, stored lower-case (so the one letter
    /// that grows when lower-cased, U+0130, is not accepted).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F\u0130]*$"
        )
    )]
    pub category: String,
    /// http(s) URL or site path; empty for none.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2048, pattern = r"^$|^(https?://|/)[^\s\x00-\x1F\x7F-\x9F]*$")
    )]
    pub image_url: Option<String>,
    /// Units on hand at creation (recorded in the stock ledger), 0 to 1000000000.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000))]
    pub initial_stock: i64,
    /// Visible to shoppers (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// May be returned within its category's return window (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub returnable: Option<bool>,
}

fn yes() -> bool {
    true
}

/// Body of `PATCH /api/admin/products/{id}`: only the fields present change; at least one
/// besides `version` must be present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(min_properties = 2))]
pub struct UpdateProductRequest {
    /// The `version` the client last read; a stale version gets 409.
    pub version: i64,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            nullable = false,
            min_length = 1,
            max_length = 200,
            pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
        )
    )]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub description: Option<String>,
    /// New price in minor units, >= 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, minimum = 0, maximum = 1000000000))]
    pub price_cents: Option<i64>,
    /// New currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, pattern = r"^\s*([Ee][Uu][Rr]|[Uu][Ss][Dd]|[Gg][Bb][Pp])\s*$")
    )]
    pub currency: Option<String>,
    /// New category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            nullable = false,
            min_length = 1,
            max_length = 64,
            pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F\u0130]*$"
        )
    )]
    pub category: Option<String>,
    /// New image URL; empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, max_length = 2048, pattern = r"^$|^(https?://|/)[^\s\x00-\x1F\x7F-\x9F]*$")
    )]
    pub image_url: Option<String>,
    /// `false` deactivates (hides from shoppers), `true` reactivates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
    /// `false`: the product can no longer be returned; `true`: it can again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub returnable: Option<bool>,
}

/// Body of `POST /api/admin/products/{id}/stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockAdjustmentRequest {
    /// Units to add (positive) or remove (negative); never zero (422), and the stock after
    /// it stays within 0 to 1000000000 (409).
    #[cfg_attr(feature = "openapi", schema(schema_with = nonzero_delta))]
    pub delta: i64,
    /// Why, recorded in the ledger (1-200 characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
        )
    )]
    pub reason: String,
}

/// `delta`: a non-zero integer between -1000000000 and 1000000000.
#[cfg(feature = "openapi")]
fn nonzero_delta() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
    };
    OneOfBuilder::new()
        .item(range(-1_000_000_000, -1))
        .item(range(1, 1_000_000_000))
        .description(Some("Units to add (positive) or remove (negative); never zero"))
        .build()
        .into()
}

/// Answer of `POST /api/admin/products/{id}/stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockAdjustmentResponse {
    /// The product after the movement.
    pub product: Product,
    /// The ledger entry written.
    pub movement: StockMovement,
}

/// One entry of a product's stock ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockMovement {
    /// Ledger entry ID.
    pub id: i64,
    /// The product.
    pub product_id: ProductId,
    /// Units added or removed.
    pub delta: i64,
    /// Units on hand after this movement.
    pub stock_after: i64,
    /// Why.
    pub reason: String,
    /// Who (absent for system movements such as the seed).
    pub actor_id: Option<UserId>,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of a stock ledger, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockMovementList {
    /// Entries on this page.
    pub items: Vec<StockMovement>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Query with only paging.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

/// Query of `GET /api/admin/audit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
    /// Only entries about this kind of entity (`product`, `user`; at most 200 characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub entity_type: Option<String>,
}

/// One audit-log entry: a state change that matters, who made it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    /// Entry ID.
    pub id: i64,
    /// Who (absent for system actions).
    pub actor_id: Option<UserId>,
    /// What happened, e.g. `product.created`, `user.role_changed`.
    pub action: String,
    /// Kind of the entity changed, e.g. `product`.
    pub entity_type: String,
    /// ID of the entity changed.
    pub entity_id: String,
    /// Details of the change.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditList {
    /// Entries on this page.
    pub items: Vec<AuditEntry>,
    /// Where this page sits.
    pub pagination: Pagination,
}

// ---------------------------------------------------------------- operations

/// Body of `/health` and `/api/hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Body of `/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// Whether a query against the database succeeded.
    pub database: bool,
    /// Whether every embedded migration has been applied.
    pub migrations: bool,
}
