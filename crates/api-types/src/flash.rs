//! Flash sales: the public listing, reservations (holds with a time to live) and the admin's
//! sale editor. A sale item is bought in two steps: reserve units (`POST
//! /api/flash/sales/{id}/reservations`), then pay the reservation through checkout
//! (`POST /api/checkout` with `reservation_id`). Prices come from the server and are locked
//! when the reservation is made.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use retail_domain::sale::{Discount, ReservationState, SaleState};

use crate::{Currency, OrderId, Pagination, ProductId};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A sale as shoppers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlashSale {
    /// Sale ID.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `scheduled` (not started), `live`, `ended`, or `ended_early` (stopped by an admin).
    pub state: SaleState,
    /// When it starts (UTC, included).
    pub starts_at: DateTime<Utc>,
    /// When it ends (UTC, excluded): the scheduled end, or the moment an admin ended it.
    pub ends_at: DateTime<Utc>,
    /// The server's clock when this answer was built, for countdowns.
    pub server_time: DateTime<Utc>,
    /// Seconds until it starts (only while scheduled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_in_secs: Option<u64>,
    /// Seconds until it ends (only while live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_left_secs: Option<u64>,
    /// Most units one customer may hold or buy across the whole sale.
    pub per_customer_cap: u32,
    /// The products on sale.
    pub items: Vec<FlashSaleItem>,
}

/// One product of a sale and how many of its units are left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlashSaleItem {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its picture, if any.
    pub image_url: Option<String>,
    /// Currency of both prices.
    pub currency: Currency,
    /// The regular unit price, in minor units.
    pub list_price_cents: i64,
    /// The unit price during the sale, in minor units.
    pub sale_price_cents: i64,
    /// How the sale price is derived from the list price.
    pub discount: Discount,
    /// Units set aside for the sale.
    pub allocated: u32,
    /// Units bought and paid.
    pub sold: u32,
    /// Units held by reservations not yet paid.
    pub reserved: u32,
    /// Units anyone can still reserve.
    pub remaining: u32,
}

/// Live and upcoming sales, soonest to end first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlashSaleList {
    /// Sales on this page.
    pub items: Vec<FlashSale>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Body of `POST /api/flash/sales/{id}/reservations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReserveRequest {
    /// The product of the sale to reserve.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub product_id: ProductId,
    /// Units wanted: all of them or none are reserved.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub units: i64,
}

/// A hold on sale units at a locked price, paid through checkout before it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlashReservation {
    /// Reservation ID (send it as `reservation_id` to `POST /api/checkout`).
    pub id: i64,
    /// The sale.
    pub sale_id: i64,
    /// The sale's name.
    pub sale_name: String,
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units held.
    pub units: u32,
    /// The unit price locked when the reservation was made, in minor units.
    pub unit_price_cents: i64,
    /// `units × unit_price_cents`.
    pub total_cents: i64,
    /// Currency of the prices.
    pub currency: Currency,
    /// `held`, `paid`, `cancelled` or `expired` (a held reservation past `expires_at` shows as
    /// `expired`).
    pub state: ReservationState,
    /// When the hold lapses (UTC).
    pub expires_at: DateTime<Utc>,
    /// Seconds left to pay (only while held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_left_secs: Option<u64>,
    /// The order that paid it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Made (UTC).
    pub created_at: DateTime<Utc>,
}

/// The caller's reservations, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlashReservationList {
    /// Reservations on this page.
    pub items: Vec<FlashReservation>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Body of `POST /api/admin/sales` (and, with `version`, of `PUT /api/admin/sales/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaleRequest {
    /// 1-120 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub name: String,
    /// Start (UTC, included).
    pub starts_at: DateTime<Utc>,
    /// End (UTC, excluded): after `starts_at`, in the future.
    pub ends_at: DateTime<Utc>,
    /// Most units one customer may hold or buy across the whole sale.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub per_customer_cap: i64,
    /// 1-50 products, each at most once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub items: Vec<SaleItemRequest>,
}

/// Body of `PUT /api/admin/sales/{id}`: the whole sale again, and the `version` last read
/// (optimistic concurrency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaleUpdateRequest {
    /// The sale as it should be.
    #[serde(flatten)]
    pub sale: SaleRequest,
    /// The `version` last read.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub version: i64,
}

/// One product of a [`SaleRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaleItemRequest {
    /// The product.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub product_id: ProductId,
    /// A sale price or a percent off.
    pub discount: Discount,
    /// Units taken from stock (through the ledger) for the sale; what is left goes back when
    /// the sale ends.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub allocated_units: i64,
}

/// A sale as its admin sees it: the shoppers' view plus bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminSale {
    /// What shoppers see (with live sold / reserved / remaining per product).
    #[serde(flatten)]
    pub sale: FlashSale,
    /// The scheduled end, even when the sale was ended early.
    pub scheduled_ends_at: DateTime<Utc>,
    /// When an admin ended it early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_early_at: Option<DateTime<Utc>>,
    /// When the units left unsold went back to stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<DateTime<Utc>>,
    /// Send it back when editing.
    pub version: i64,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of sales for admins, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdminSaleList {
    /// Sales on this page.
    pub items: Vec<AdminSale>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Query of the paginated flash lists: paging only.
pub type FlashPageQuery = crate::PageQuery;

/// The sale overlay on a product while one of its sales is live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductSale {
    /// The live sale.
    pub sale_id: i64,
    /// The unit price during the sale (reserve on the sale page to get it), in minor units.
    pub sale_price_cents: i64,
    /// When the sale ends (UTC).
    pub ends_at: DateTime<Utc>,
    /// Units left to reserve (in lists, at most `cache.product_list_ttl_ms` old).
    pub remaining: u32,
}
