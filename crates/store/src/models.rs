//! Rows as stored. They are not the JSON bodies: the server maps them to `retail-api-types`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::{
    audit_log, cart_lines, idempotency_keys, notification_prefs, notifications, order_lines, orders, outbox,
    payments, products, rma_effects, rma_events, rma_lines, rma_photos, rmas, sale_items, sale_reservations,
    sales, sessions, stock_movements, store_credit_entries, users,
};

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite))]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub refresh_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A row of `products`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = products, check_for_backend(diesel::sqlite::Sqlite))]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub stock: i64,
    pub category: String,
    pub image_url: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub returnable: bool,
}

/// A row of `stock_movements`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stock_movements, check_for_backend(diesel::sqlite::Sqlite))]
pub struct StockMovementRow {
    pub id: i64,
    pub product_id: i64,
    pub delta: i64,
    pub stock_after: i64,
    pub reason: String,
    pub actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A row of `audit_log`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite))]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// A row of `idempotency_keys`: the answer stored for a client's idempotency key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub struct IdempotencyRow {
    /// The caller and the route the key belongs to.
    pub scope: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 (hex) of the request the key was first used with.
    pub request_hash: String,
    /// HTTP status of the stored answer.
    pub status: i32,
    /// The stored JSON body.
    pub response: String,
    /// When the key was first used.
    pub created_at: DateTime<Utc>,
}

/// A row of `cart_lines`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cart_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub struct CartLineRow {
    pub id: i64,
    pub user_id: i64,
    pub product_id: i64,
    pub quantity: i64,
    /// The price the customer last saw and accepted.
    pub price_seen_cents: i64,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `orders`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::sqlite::Sqlite))]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub state: String,
    pub currency: String,
    pub subtotal_cents: i64,
    pub credit_cents: i64,
    pub card_cents: i64,
    pub total_cents: i64,
    pub refunded_cents: i64,
    pub idempotency_key: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `order_lines`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub struct OrderLineRow {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub order_id: i64,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
    pub line_total_cents: i64,
}

/// A row of `payments`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::sqlite::Sqlite))]
pub struct PaymentRow {
    pub id: i64,
    pub user_id: i64,
    pub order_id: Option<i64>,
    pub provider: String,
    pub reference: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub state: String,
    pub refunded_cents: i64,
    pub idempotency_key: String,
    pub card_hint: String,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `store_credit_entries`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = store_credit_entries, check_for_backend(diesel::sqlite::Sqlite))]
pub struct CreditEntryRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub delta_cents: i64,
    pub balance_after: i64,
    pub currency: String,
    pub reason: String,
    pub actor_id: Option<i64>,
    pub order_id: Option<i64>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
}

/// A row of `sales`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales, check_for_backend(diesel::sqlite::Sqlite))]
pub struct SaleRow {
    pub id: i64,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended_early_at: Option<DateTime<Utc>>,
    pub per_customer_cap: i64,
    pub settled_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `sale_items`: one product of a sale and its allocation counters.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sale_items, check_for_backend(diesel::sqlite::Sqlite))]
pub struct SaleItemRow {
    pub sale_id: i64,
    pub product_id: i64,
    pub position: i64,
    pub discount_kind: String,
    pub discount_value: i64,
    pub allocated: i64,
    pub sold: i64,
    pub reserved: i64,
}

/// A row of `sale_reservations`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sale_reservations, check_for_backend(diesel::sqlite::Sqlite))]
pub struct ReservationRow {
    pub id: i64,
    pub sale_id: i64,
    pub product_id: i64,
    pub user_id: i64,
    pub units: i64,
    pub unit_price_cents: i64,
    pub currency: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
    pub order_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `rmas`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rmas, check_for_backend(diesel::sqlite::Sqlite))]
pub struct RmaRow {
    pub id: i64,
    pub user_id: i64,
    pub order_id: i64,
    pub stage: String,
    pub version: i64,
    pub reason: String,
    pub description: Option<String>,
    pub problems: Option<String>,
    pub currency: String,
    pub gross_cents: i64,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub condition: Option<String>,
    pub inspection_note: Option<String>,
    pub disposition: Option<String>,
    pub decision_note: Option<String>,
    pub fee_cents: Option<i64>,
    pub amount_cents: Option<i64>,
    pub refund_card_cents: Option<i64>,
    pub refund_credit_cents: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub replacement_order_id: Option<i64>,
    pub outcome: Option<String>,
    pub outcome_carrier: Option<String>,
    pub outcome_tracking: Option<String>,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `rma_lines`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rma_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub struct RmaLineRow {
    pub id: i64,
    pub rma_id: i64,
    pub order_line_id: i64,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

/// A row of `rma_events`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rma_events, check_for_backend(diesel::sqlite::Sqlite))]
pub struct RmaEventRow {
    pub id: i64,
    pub rma_id: i64,
    pub actor_id: Option<i64>,
    pub actor_role: String,
    pub action: String,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub note: Option<String>,
    pub stage_secs: i64,
    pub created_at: DateTime<Utc>,
}

/// A row of `rma_photos`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rma_photos, check_for_backend(diesel::sqlite::Sqlite))]
pub struct RmaPhotoRow {
    pub id: i64,
    pub rma_id: i64,
    pub stored_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A row of `rma_effects`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rma_effects, check_for_backend(diesel::sqlite::Sqlite))]
pub struct RmaEffectRow {
    pub id: i64,
    pub rma_id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub amount_cents: i64,
    pub product_id: Option<i64>,
    pub quantity: i64,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A row of `outbox`.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite))]
pub struct OutboxRow {
    pub id: i64,
    pub event: String,
    pub user_id: Option<i64>,
    pub recipient: String,
    pub content: String,
    pub message_id: String,
    pub dedupe_key: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `notifications`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications, check_for_backend(diesel::sqlite::Sqlite))]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub event: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub dedupe_key: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A row of `notification_prefs`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_prefs, check_for_backend(diesel::sqlite::Sqlite))]
pub struct NotificationPrefsRow {
    pub user_id: i64,
    pub non_essential: bool,
    pub sla_breach: bool,
    pub refund_failure: bool,
    pub updated_at: DateTime<Utc>,
}

/// A row of `partners`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::partners, check_for_backend(diesel::sqlite::Sqlite))]
pub struct PartnerRow {
    pub id: i64,
    pub name: String,
    pub contact_email: String,
    pub status: String,
    pub mode: String,
    pub price_column: String,
    pub currency: String,
    pub rate_per_minute: i64,
    pub max_body_bytes: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `partner_keys`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::partner_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub struct PartnerKeyRow {
    pub id: i64,
    pub partner_id: i64,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    pub retires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A row of `feed_jobs`, without the file.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::feed_jobs, check_for_backend(diesel::sqlite::Sqlite))]
pub struct FeedJobRow {
    pub id: i64,
    pub partner_id: i64,
    pub source: String,
    pub schedule_id: Option<i64>,
    pub format: String,
    pub mode: String,
    pub state: String,
    pub content_hash: String,
    pub bytes: i64,
    pub rows_total: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_rejected: i64,
    pub applied: bool,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A row of `feed_schedules`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::feed_schedules, check_for_backend(diesel::sqlite::Sqlite))]
pub struct FeedScheduleRow {
    pub id: i64,
    pub partner_id: i64,
    pub url: String,
    pub interval_secs: i64,
    pub enabled: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_run_at: DateTime<Utc>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `feed_schedule_runs`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::feed_schedule_runs, check_for_backend(diesel::sqlite::Sqlite))]
pub struct ScheduleRunRow {
    pub id: i64,
    pub schedule_id: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub job_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}
