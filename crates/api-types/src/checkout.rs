//! Cart, checkout, orders, payments and store credit on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use retail_domain::cart::LineIssue;
pub use retail_domain::credit::CreditKind;
pub use retail_domain::ids::{CartLineId, CreditEntryId, OrderId, OrderLineId, PaymentId};
pub use retail_domain::order::{OrderAction, OrderState};

use crate::{Currency, Pagination, ProductId, UserId};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------- cart

/// A customer's cart with current prices. Lines with `issues` must be resolved (removed,
/// reduced, or the new price accepted by setting the quantity again) before checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Cart {
    /// Lines, oldest first.
    pub lines: Vec<CartLine>,
    /// Number of units across lines.
    pub items: u32,
    /// Sum of the line totals at current prices, in minor units of `currency`.
    pub subtotal_cents: i64,
    /// The cart's currency (absent when empty).
    pub currency: Option<Currency>,
    /// True when checkout would accept the cart as it is.
    pub ready: bool,
    /// The customer's store-credit balance, usable at checkout.
    pub credit_balance_cents: i64,
    /// The customer's flash-sale reservations still held, each paid on its own through
    /// checkout (`reservation_id`) at its locked price before it expires.
    #[serde(default)]
    pub reservations: Vec<crate::FlashReservation>,
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CartLine {
    /// Line ID.
    pub id: CartLineId,
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its picture, if any.
    pub image_url: Option<String>,
    /// Units wanted.
    pub quantity: u32,
    /// Current unit price in minor units.
    pub unit_price_cents: i64,
    /// The unit price the customer saw when adding or last accepting.
    pub price_seen_cents: i64,
    /// `unit_price_cents * quantity`.
    pub line_total_cents: i64,
    /// ISO 4217 code.
    pub currency: Currency,
    /// Units in stock now.
    pub stock: i64,
    /// What stands in the way of buying this line as it is (empty when nothing).
    pub issues: Vec<LineIssue>,
}

/// Body of `POST /api/cart/lines`: adds units of a product (to its line if there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AddCartLineRequest {
    /// The product.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub product_id: ProductId,
    /// Units to add, 1-99 (a line holds at most 99).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    pub quantity: i64,
}

/// Body of `PATCH /api/cart/lines/{id}`: sets the quantity and accepts the current price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateCartLineRequest {
    /// Units wanted, 1-99.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    pub quantity: i64,
}

// ---------------------------------------------------------------- checkout

/// Body of `POST /api/checkout`. Prices come from the server, never from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckoutRequest {
    /// Card token from the payment form (the simulator's test tokens: `tok_visa`,
    /// `tok_decline`, `tok_insufficient_funds`, `tok_timeout`, `tok_error`, `tok_flaky`).
    /// Needed unless store credit covers the whole order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9_\-]+$")
    )]
    pub card_token: Option<String>,
    /// Store credit to spend, in minor units. Absent: as much as covers the order.
    /// 0: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, minimum = 0, maximum = 10000000000i64))]
    pub use_credit_cents: Option<i64>,
    /// Pay this flash-sale reservation (the caller's, still held) instead of the cart: the
    /// order holds its units at the price locked when it was reserved, and the cart is left
    /// alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, minimum = 1))]
    pub reservation_id: Option<i64>,
}

// ---------------------------------------------------------------- orders

/// An order, with its lines and how it was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Order {
    /// Order ID.
    pub id: OrderId,
    /// The customer.
    pub user_id: UserId,
    /// The customer's email (shown to staff and on receipts).
    pub customer_email: String,
    /// Where it stands.
    pub state: OrderState,
    /// ISO 4217 code.
    pub currency: Currency,
    /// Sum of the lines.
    pub subtotal_cents: i64,
    /// Paid with store credit.
    pub credit_cents: i64,
    /// Paid by card.
    pub card_cents: i64,
    /// `credit_cents + card_cents`.
    pub total_cents: i64,
    /// Refunded so far.
    pub refunded_cents: i64,
    /// What was bought.
    pub lines: Vec<OrderLine>,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    pub tracking: Option<String>,
    /// When shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When delivered; return windows count from here.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why cancelled.
    pub cancel_reason: Option<String>,
    /// Placed (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// What the caller may do with the order next.
    pub actions: Vec<OrderAction>,
}

/// One line of an order, at the price charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderLine {
    /// The line (what a return names).
    pub id: OrderLineId,
    /// The product.
    pub product_id: ProductId,
    /// SKU at the time of purchase.
    pub sku: String,
    /// Name at the time of purchase.
    pub name: String,
    /// Unit price charged.
    pub unit_price_cents: i64,
    /// Units.
    pub quantity: u32,
    /// `unit_price_cents * quantity`.
    pub line_total_cents: i64,
    /// The product's picture now, if any.
    pub image_url: Option<String>,
}

/// One page of orders, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderList {
    /// Orders on this page.
    pub items: Vec<Order>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// A receipt: the order, how it was paid, and the shop that sold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Receipt {
    /// Receipt number (`R-<order id>`).
    pub number: String,
    /// The shop's name.
    pub shop: String,
    /// The order.
    pub order: Order,
    /// Card payments (never the card token).
    pub payments: Vec<Payment>,
    /// Store-credit entries of this order.
    pub credit: Vec<CreditEntry>,
}

/// A card payment as the shop recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Payment {
    /// Payment ID.
    pub id: PaymentId,
    /// Provider (`simulator`).
    pub provider: String,
    /// Amount authorised, in minor units.
    pub amount_cents: i64,
    /// Refunded so far.
    pub refunded_cents: i64,
    /// `authorizing`, `authorized`, `captured`, `declined`, `failed`, `voided`, `refunded`,
    /// `partially_refunded`.
    pub state: String,
    /// How the card is shown (`visa ending 4242`-style hint).
    pub card_hint: String,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /api/staff/orders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StaffOrderQuery {
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
    /// Only orders in this state.
    pub state: Option<OrderState>,
    /// Only customers whose email contains this (at most 200 characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"))]
    pub customer: Option<String>,
    /// Placed at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// Body of `POST /api/staff/orders/{id}/ship`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShipOrderRequest {
    /// Carrier name, 1-40 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"^(?=[\s\S]*\S)[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")
    )]
    pub carrier: String,
    /// Tracking number, 1-64 visible characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64, pattern = r"^\s*[!-~]+\s*$"))]
    pub tracking: String,
}

/// Body of `POST /api/staff/orders/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CancelOrderRequest {
    /// Why, 1-200 characters (shown to the customer).
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

// ---------------------------------------------------------------- store credit

/// One store-credit ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreditEntry {
    /// Entry ID.
    pub id: CreditEntryId,
    /// `grant`, `spend` or `reversal`.
    pub kind: CreditKind,
    /// Signed change in minor units (a spend is negative).
    pub delta_cents: i64,
    /// Balance after this entry.
    pub balance_after_cents: i64,
    /// ISO 4217 code.
    pub currency: Currency,
    /// Why.
    pub reason: String,
    /// The order it paid for or came back from.
    pub order_id: Option<OrderId>,
    /// Who (absent for the system).
    pub actor_id: Option<UserId>,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// A customer's store credit: the balance and one page of the ledger, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreditAccount {
    /// The customer.
    pub user_id: UserId,
    /// Balance in minor units (never negative).
    pub balance_cents: i64,
    /// ISO 4217 code of store credit.
    pub currency: Currency,
    /// Entries on this page.
    pub entries: Vec<CreditEntry>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Body of `POST /api/staff/credit` (finance, admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantCreditRequest {
    /// The customer.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub user_id: UserId,
    /// Amount in minor units, 1 to 10000000.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000000))]
    pub amount_cents: i64,
    /// Why, 1-200 characters (shown to the customer).
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

/// What the reconciliation of payments with orders found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReconciliationReport {
    /// True when every check passed.
    pub clean: bool,
    /// Captured payments without a paid order.
    pub captures_without_order: Vec<PaymentId>,
    /// Paid orders without a captured payment for their card part.
    pub paid_orders_without_capture: Vec<OrderId>,
    /// Orders whose captured amount differs from their card part.
    pub amount_mismatches: Vec<OrderId>,
    /// Sum of captured payments.
    pub captured_cents: i64,
    /// Sum of the card part of paid orders.
    pub ordered_card_cents: i64,
    /// Customers whose store-credit balance disagrees with their ledger.
    pub credit_discrepancies: Vec<UserId>,
    /// Products whose stock disagrees with their ledger.
    pub stock_discrepancies: Vec<ProductId>,
    /// Flash sales with an item whose sold or reserved count disagrees with its
    /// reservations, or that sold or holds more than it was allocated.
    #[serde(default)]
    pub sale_discrepancies: Vec<i64>,
    /// Returns whose recorded refunds, credit, restocks or replacement differ from what
    /// their disposition decided.
    #[serde(default)]
    pub return_discrepancies: Vec<i64>,
    /// When checked (UTC).
    pub checked_at: DateTime<Utc>,
}
