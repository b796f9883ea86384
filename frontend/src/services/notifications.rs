//! `/api/notifications` (the caller's notification centre and mail preferences) and
//! `/api/admin/outbox` (the mail queue as admins see it).

use gloo::net::http::Method;
use retail_api_types::{
    Notification, NotificationList, NotificationPrefs, OutboxEntry, OutboxList, OutboxQuery, PageQuery,
};

use super::requests::NO_BODY;
use super::{Api, ApiError, with_query};

/// One page of the caller's notifications, newest first, with the unread count of all.
pub async fn list(api: &Api, query: &PageQuery) -> Result<NotificationList, ApiError> {
    api.get(&with_query("/api/notifications", query)?).await
}

/// Marks one of the caller's notifications read (404 when it is not theirs).
pub async fn read(api: &Api, id: i64) -> Result<Notification, ApiError> {
    api.send(Method::POST, &format!("/api/notifications/{id}/read"), NO_BODY).await
}

/// Marks all the caller's notifications read; the answer is the first page after.
pub async fn read_all(api: &Api) -> Result<NotificationList, ApiError> {
    api.send(Method::POST, "/api/notifications/read-all", NO_BODY).await
}

/// The caller's mail preferences.
pub async fn prefs(api: &Api) -> Result<NotificationPrefs, ApiError> {
    api.get("/api/notifications/preferences").await
}

/// Saves the caller's mail preferences; the answer is what is stored now.
pub async fn set_prefs(api: &Api, body: &NotificationPrefs) -> Result<NotificationPrefs, ApiError> {
    api.send(Method::PUT, "/api/notifications/preferences", Some(body)).await
}

/// One page of the mail outbox, newest first, with the counts per state (admin).
pub async fn outbox(api: &Api, query: &OutboxQuery) -> Result<OutboxList, ApiError> {
    api.get(&with_query("/api/admin/outbox", query)?).await
}

/// Puts a failed mail back in the queue (409 `not_failed` unless it failed; admin).
pub async fn requeue(api: &Api, id: i64) -> Result<OutboxEntry, ApiError> {
    api.send(Method::POST, &format!("/api/admin/outbox/{id}/requeue"), NO_BODY).await
}
