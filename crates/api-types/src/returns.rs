//! Returns (RMAs) on the wire: requesting a return, its preview, the return with its lines,
//! photos and timeline, the actions staff and customers take, the staff queues and figures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use retail_domain::ids::RmaId;
pub use retail_domain::rma::{
    Condition, Disposition, GoodsOutcome, RefundEstimate, ReturnReason, RmaAction, RmaStage,
};

use crate::{Currency, OrderId, OrderLineId, Pagination, ProductId, UserId};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// One order line to return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnLineRequest {
    /// The order line.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub order_line_id: OrderLineId,
    /// Units to return (at most what was bought minus what is already returned or in a
    /// return).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    pub quantity: i64,
}

/// Body of `POST /api/returns` and `POST /api/returns/preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnRequest {
    /// A delivered order of the caller's.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub order_id: OrderId,
    /// The lines and units to return (1-50 lines, each line once).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub lines: Vec<ReturnLineRequest>,
    /// Why.
    pub reason: ReturnReason,
    /// In the customer's words (up to 2000 characters).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub description: Option<String>,
}

/// One reason a return request is not eligible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnProblem {
    /// Stable code: `not_delivered`, `too_many`, `not_returnable`, `window_closed`, ...
    pub code: String,
    /// The line it is about, if any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub order_line_id: Option<OrderLineId>,
    /// In plain words.
    pub message: String,
}

/// What a return would refund, before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnPreview {
    /// True when the request would be accepted for review.
    pub eligible: bool,
    /// Why it would not (empty when eligible).
    pub problems: Vec<ReturnProblem>,
    /// The refund estimate if the goods come back as described (resellable).
    pub estimate: RefundEstimate,
    /// The order's currency.
    pub currency: Currency,
}

/// A line of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaLine {
    /// The order line.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub order_line_id: OrderLineId,
    /// The product.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub product_id: ProductId,
    /// SKU at purchase.
    pub sku: String,
    /// Name at purchase.
    pub name: String,
    /// Unit price paid.
    pub unit_price_cents: i64,
    /// Units returned.
    pub quantity: u32,
    /// `unit_price_cents * quantity`.
    pub line_total_cents: i64,
}

/// A photo of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaPhoto {
    /// Photo ID (within the return).
    pub id: i64,
    /// `image/jpeg`, `image/png` or `image/webp`, checked from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Where to fetch it (with the bearer token).
    pub url: String,
    /// Uploaded (UTC).
    pub created_at: DateTime<Utc>,
}

/// One step of a return's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaEvent {
    /// Event ID.
    pub id: i64,
    /// What was done: an action name, `submit`, or `process_failed`.
    pub action: String,
    /// The stage before (none on submission).
    pub from: Option<RmaStage>,
    /// The stage after.
    pub to: RmaStage,
    /// Who acted, as which role: `customer`, `support`, `warehouse`, `finance`, `admin` or
    /// `system`.
    pub actor_role: String,
    /// The acting account's email (staff only see it).
    pub actor_email: Option<String>,
    /// The note given with the action.
    pub note: Option<String>,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// What a processed refund moved: card and store-credit parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefundSplit {
    /// Back to the card.
    pub card_cents: i64,
    /// Back to store credit.
    pub credit_cents: i64,
}

/// A return (RMA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rma {
    /// Return ID.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: RmaId,
    /// The order returned from.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub order_id: OrderId,
    /// The customer.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub user_id: UserId,
    /// The customer's email.
    pub customer_email: String,
    /// Where it stands.
    pub stage: RmaStage,
    /// Send it back with an action: an action decided on an older version is refused (409).
    pub version: i64,
    /// Why.
    pub reason: ReturnReason,
    /// In the customer's words.
    pub description: Option<String>,
    /// Why the automatic check refused it (a return rejected on submission).
    pub problems: Vec<ReturnProblem>,
    /// The lines returned.
    pub lines: Vec<RmaLine>,
    /// The order's currency.
    pub currency: Currency,
    /// The estimate: at the condition found once inspected, else as described.
    pub estimate: RefundEstimate,
    /// Carrier of the parcel sent back.
    pub carrier: Option<String>,
    /// Its tracking code.
    pub tracking: Option<String>,
    /// The condition the warehouse found.
    pub condition: Option<Condition>,
    /// The warehouse's notes.
    pub inspection_note: Option<String>,
    /// What finance decided.
    pub disposition: Option<Disposition>,
    /// Finance's note (the reason of a rejection).
    pub decision_note: Option<String>,
    /// The refund or credit decided (refund, store credit).
    pub amount_cents: Option<i64>,
    /// How a refund splits across card and store credit (fixed when first processed).
    pub refund: Option<RefundSplit>,
    /// Processing attempts so far.
    pub attempts: i64,
    /// Why the last processing attempt failed (it may be retried).
    pub last_error: Option<String>,
    /// The replacement order (replacement).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub replacement_order_id: Option<OrderId>,
    /// How goods the shop does not keep left the warehouse (repair, reject).
    pub outcome: Option<GoodsOutcome>,
    /// Carrier of the goods sent back to the customer.
    pub outcome_carrier: Option<String>,
    /// Its tracking code.
    pub outcome_tracking: Option<String>,
    /// The photos.
    pub photos: Vec<RmaPhoto>,
    /// The timeline, oldest first.
    pub events: Vec<RmaEvent>,
    /// What the caller may do now.
    pub actions: Vec<RmaAction>,
    /// When it entered its stage (UTC).
    pub stage_entered_at: DateTime<Utc>,
    /// Requested (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/returns/{id}/actions`. Which fields an action needs:
///
/// | action | fields |
/// |---|---|
/// | `approve`, `reject`, `receive`, `start_inspection`, `cancel` | `note` (required for `reject`) |
/// | `ship` | `carrier`, `tracking` |
/// | `inspect` | `condition`, `note` |
/// | `decide` | `disposition`; `amount_cents` (refund, store credit; default: the most allowed); `note` (required for reject) |
/// | `process` | none (runs the disposition; retries a failed attempt) |
/// | `complete` | `outcome` (repair: `shipped_back`; reject: `returned_to_customer` or `disposed`); `carrier`, `tracking` unless disposed |
///
/// `validate` is the system's own step and is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaActionRequest {
    /// What to do.
    pub action: RmaAction,
    /// The version the decision was made on (from the return as last read).
    pub version: i64,
    /// A note (up to 2000 characters).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub note: Option<String>,
    /// Carrier (ship, complete), 1-40 characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub carrier: Option<String>,
    /// Tracking code (ship, complete), 1-64 visible characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64, pattern = r"^\s*[!-~]+\s*$"))]
    pub tracking: Option<String>,
    /// Condition found (inspect).
    #[serde(default)]
    pub condition: Option<Condition>,
    /// Disposition (decide).
    #[serde(default)]
    pub disposition: Option<Disposition>,
    /// Amount to refund or credit (decide), at least 1 cent and at most the estimate's net.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub amount_cents: Option<i64>,
    /// How the goods left (complete).
    #[serde(default)]
    pub outcome: Option<GoodsOutcome>,
}

/// One page of a customer's returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaList {
    /// Returns on this page.
    pub items: Vec<RmaSummary>,
    /// Where this page is.
    pub pagination: Pagination,
}

/// A return in a list or queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaSummary {
    /// Return ID.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: RmaId,
    /// The order.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub order_id: OrderId,
    /// The customer's email.
    pub customer_email: String,
    /// Where it stands.
    pub stage: RmaStage,
    /// Why.
    pub reason: ReturnReason,
    /// Units returned across lines.
    pub units: u32,
    /// What was paid for them.
    pub gross_cents: i64,
    /// The order's currency.
    pub currency: Currency,
    /// Finance's decision, once made.
    pub disposition: Option<Disposition>,
    /// Why the last processing attempt failed.
    pub last_error: Option<String>,
    /// When it entered its stage (UTC).
    pub stage_entered_at: DateTime<Utc>,
    /// Seconds in its stage so far.
    pub age_secs: i64,
    /// The stage's service-level target in seconds, if it has one.
    pub sla_secs: Option<i64>,
    /// Older than its stage's target.
    pub breached: bool,
    /// Requested (UTC).
    pub created_at: DateTime<Utc>,
}

/// A staff team's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnQueue {
    /// Requests to approve or reject (`validating`).
    Support,
    /// Parcels to receive and inspect (`shipping`, `received`, `inspecting`).
    Warehouse,
    /// Returns to decide and process (`inspected`, `disposition`, `processing`).
    Finance,
}

/// Query of `GET /api/staff/returns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StaffReturnQuery {
    /// A team's queue, oldest first; without it, every return newest first.
    pub queue: Option<ReturnQueue>,
    /// Only this stage.
    pub stage: Option<RmaStage>,
    /// Customer email containing this, or a return or order number.
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub q: Option<String>,
    /// Only those past their stage's target.
    pub breached: Option<bool>,
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

/// Figures of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaStageFigures {
    /// The stage.
    pub stage: RmaStage,
    /// Returns in it now.
    pub count: i64,
    /// Median time returns spent in it before moving on, in seconds (none yet: null).
    pub median_secs: Option<i64>,
    /// Its service-level target in seconds, if any.
    pub sla_secs: Option<i64>,
}

/// Return figures: per stage, and what the dispositions moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RmaFigures {
    /// Every stage, in workflow order.
    pub stages: Vec<RmaStageFigures>,
    /// Refunded to cards.
    pub refunded_card_cents: i64,
    /// Refunded to store credit (the part of refunds paid with credit).
    pub refunded_credit_cents: i64,
    /// Granted as store credit (store-credit dispositions).
    pub credit_granted_cents: i64,
    /// Units put back into stock.
    pub restocked_units: i64,
    /// Replacement orders created.
    pub replacements: i64,
}
