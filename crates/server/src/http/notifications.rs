//! `/api/notifications` (the caller's notification centre and mail preferences) and
//! `/api/admin/outbox` (mail that failed, to requeue).

use actix_web::{HttpResponse, get, post, put, web};
use retail_api_types::{
    Notification, NotificationList, NotificationPrefs, OutboxEntry, OutboxList, OutboxQuery, PageQuery,
    Problem,
};
use retail_domain::paging::PageRequest;

use super::auth::AuthUser;
use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::service::notify;
use crate::state::State;

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page of notifications", body = NotificationList))
)]
#[get("")]
pub async fn list(state: State, who: AuthUser, q: Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok().json(notify::mine(&state, &who.caller(), page).await?))
}

/// Mark one of your notifications read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification ID")),
    responses(
        (status = 200, description = "Read", body = Notification),
        (status = 404, description = "No such notification (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/read")]
pub async fn read(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::read(&state, &who.caller(), id.into_inner()).await?))
}

/// Mark all your notifications read.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "All read: the first page", body = NotificationList))
)]
#[post("/read-all")]
pub async fn read_all(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::read_all(&state, &who.caller()).await?))
}

/// Your mail preferences (mail about money always goes).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "The preferences", body = NotificationPrefs))
)]
#[get("/preferences")]
pub async fn preferences(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::prefs(&state, &who.caller()).await?))
}

/// Set your mail preferences.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationPrefs,
    responses((status = 200, description = "Saved", body = NotificationPrefs))
)]
#[put("/preferences")]
pub async fn set_preferences(
    state: State,
    who: AuthUser,
    body: Json<NotificationPrefs>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::set_prefs(&state, &who.caller(), body.0).await?))
}

/// The mail outbox, newest first, with counts per state (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "One page of mail", body = OutboxList),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/outbox")]
pub async fn outbox(state: State, who: AuthUser, q: Query<OutboxQuery>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::outbox(&state, &who.caller(), q.0).await?))
}

/// Put a failed mail back in the queue, its attempts reset (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Outbox ID")),
    responses(
        (status = 200, description = "Queued again", body = OutboxEntry),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mail", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_failed`: only failed mail is requeued", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/outbox/{id}/requeue")]
pub async fn requeue(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notify::requeue(&state, &who.caller(), id.into_inner()).await?))
}
