//! Notifications on the wire: the in-app notification centre, mail preferences, and the
//! outbox as admins see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use retail_domain::notify::NotifyEvent;

use crate::Pagination;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// One notification in the app (the same event a mail reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Notification {
    /// Notification ID.
    pub id: i64,
    /// What happened.
    pub event: NotifyEvent,
    /// Headline.
    pub title: String,
    /// Text.
    pub body: String,
    /// Where it points in the app (`/orders/12`, `/returns/7`).
    pub link: String,
    /// Read already.
    pub read: bool,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of the caller's notifications, newest first, with the unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationList {
    /// Notifications on this page.
    pub items: Vec<Notification>,
    /// Unread notifications in all.
    pub unread: i64,
    /// Where this page is.
    pub pagination: Pagination,
}

/// Mail preferences. Mail about money (receipts, refunds, credit) always goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationPrefs {
    /// Mail that is not about money: shipping, delivery, return steps.
    pub non_essential: bool,
    /// Staff: a return in the team's queue is past its target.
    pub sla_breach: bool,
    /// Staff (finance, admin): a refund failed at the payment provider.
    pub refund_failure: bool,
}

/// A mail's state in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a worker that is sending it.
    Sending,
    /// Accepted by the mail server.
    Sent,
    /// Given up after the configured attempts; an admin may requeue it.
    Failed,
}

impl OutboxState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }
}

/// A mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboxEntry {
    /// Outbox ID.
    pub id: i64,
    /// What it reports.
    pub event: NotifyEvent,
    /// To whom.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Its Message-ID (the same on every attempt).
    pub message_id: String,
    /// Where it stands.
    pub state: OutboxState,
    /// Attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next (pending).
    pub next_attempt_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Queued (UTC).
    pub created_at: DateTime<Utc>,
}

/// One page of the outbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboxList {
    /// Mails on this page.
    pub items: Vec<OutboxEntry>,
    /// Mails per state, across all pages: `pending`, `sending`, `sent`, `failed`.
    pub counts: Vec<OutboxCount>,
    /// Where this page is.
    pub pagination: Pagination,
}

/// How many mails are in a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboxCount {
    /// The state.
    pub state: OutboxState,
    /// Mails in it.
    pub count: i64,
}

/// Query of `GET /api/admin/outbox`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OutboxQuery {
    /// Only mails in this state (`failed` for those to requeue).
    pub state: Option<OutboxState>,
    /// 1-based page (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// Page size, 1-100 (default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}
