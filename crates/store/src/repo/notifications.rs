//! Notifications: the mail outbox (claimed with a lease, so two workers never send the same
//! row at once), the in-app notifications and the mail preferences.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::{NotificationPrefsRow, NotificationRow, OutboxRow, UserRow};
use crate::schema::{notification_prefs as np, notifications as n, outbox as o, users};
use crate::{Conn, StoreError};

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewOutbox<'a> {
    /// Event name.
    pub event: &'a str,
    /// The recipient's account.
    pub user_id: Option<i64>,
    /// The recipient's address.
    pub recipient: &'a str,
    /// The rendered content, JSON.
    pub content: &'a str,
    /// Message-ID, stable across attempts.
    pub message_id: &'a str,
    /// One row per event, entity and recipient.
    pub dedupe_key: &'a str,
}

/// Queues a mail, in the caller's transaction; `false` when the same event was queued for
/// this recipient before (nothing written).
pub fn enqueue(c: &mut Conn, m: &NewOutbox<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let rows = diesel::insert_into(o::table)
        .values((
            o::event.eq(m.event),
            o::user_id.eq(m.user_id),
            o::recipient.eq(m.recipient),
            o::content.eq(m.content),
            o::message_id.eq(m.message_id),
            o::dedupe_key.eq(m.dedupe_key),
            o::state.eq("pending"),
            o::next_attempt_at.eq(now),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
        .on_conflict(o::dedupe_key)
        .do_nothing()
        .execute(c)?;
    Ok(rows == 1)
}

/// Claims up to `limit` rows that are due (pending and past their next attempt) or whose
/// lease ran out (a worker that died while sending): they become `sending`, leased to `owner`
/// until `lease_until`, with one more attempt counted. Run in a write transaction (the single
/// writer here; `FOR UPDATE SKIP LOCKED` on PostgreSQL): two workers never claim the same row.
pub fn claim(
    c: &mut Conn,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let due = o::state
        .eq("pending")
        .and(o::next_attempt_at.le(now))
        .or(o::state.eq("sending").and(o::lease_until.lt(now)));
    // The caller's write transaction makes the two statements one step.
    let ids: Vec<i64> = o::table.filter(due).order(o::id.asc()).limit(limit).select(o::id).load(c)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(diesel::update(o::table.filter(o::id.eq_any(ids)).filter(due))
        .set((
            o::state.eq("sending"),
            o::lease_owner.eq(owner),
            o::lease_until.eq(lease_until),
            o::attempts.eq(o::attempts + 1),
            o::updated_at.eq(now),
        ))
        .returning(OutboxRow::as_returning())
        .get_results(c)?)
}

/// Marks a claimed row sent; `false` when `owner` no longer holds it.
pub fn mark_sent(c: &mut Conn, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::update(
        o::table.filter(o::id.eq(id)).filter(o::state.eq("sending")).filter(o::lease_owner.eq(owner)),
    )
    .set((
        o::state.eq("sent"),
        o::sent_at.eq(now),
        o::lease_owner.eq(None::<String>),
        o::lease_until.eq(None::<DateTime<Utc>>),
        o::last_error.eq(None::<String>),
        o::updated_at.eq(now),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Records a failed attempt of a claimed row: back to `pending` until `retry_at`, or `failed`
/// for good when `retry_at` is `None`. `false` when `owner` no longer holds it.
pub fn mark_failed(
    c: &mut Conn,
    id: i64,
    owner: &str,
    retry_at: Option<DateTime<Utc>>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        o::table.filter(o::id.eq(id)).filter(o::state.eq("sending")).filter(o::lease_owner.eq(owner)),
    )
    .set((
        o::state.eq(if retry_at.is_some() { "pending" } else { "failed" }),
        o::next_attempt_at.eq(retry_at.unwrap_or(now)),
        o::lease_owner.eq(None::<String>),
        o::lease_until.eq(None::<DateTime<Utc>>),
        o::last_error.eq(error),
        o::updated_at.eq(now),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// One page of the outbox, newest first, optionally in one state.
pub fn list(
    c: &mut Conn,
    state: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<OutboxRow>, i64), StoreError> {
    let build = || {
        let mut q = o::table.into_boxed();
        if let Some(s) = state {
            q = q.filter(o::state.eq(s.to_owned()));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .order(o::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select(OutboxRow::as_select())
        .load(c)?;
    Ok((rows, total))
}

/// Puts a failed row back in the queue with its attempts reset; `None` unless it had failed.
pub fn requeue(c: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<Option<OutboxRow>, StoreError> {
    Ok(diesel::update(o::table.filter(o::id.eq(id)).filter(o::state.eq("failed")))
        .set((o::state.eq("pending"), o::attempts.eq(0), o::next_attempt_at.eq(now), o::updated_at.eq(now)))
        .returning(OutboxRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Whether outbox row `id` exists.
pub fn exists(c: &mut Conn, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(o::table.filter(o::id.eq(id)))).get_result(c)?)
}

/// Rows per state.
pub fn counts(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(o::table.group_by(o::state).select((o::state, diesel::dsl::count_star())).load(c)?)
}

/// An in-app notification.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// Whose.
    pub user_id: i64,
    /// Event name.
    pub event: &'a str,
    /// Headline.
    pub title: &'a str,
    /// Text.
    pub body: &'a str,
    /// SPA path.
    pub link: &'a str,
    /// One per event, entity and recipient.
    pub dedupe_key: &'a str,
}

/// Adds an in-app notification; `false` when it exists already.
pub fn notify(c: &mut Conn, x: &NewNotification<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let rows = diesel::insert_into(n::table)
        .values((
            n::user_id.eq(x.user_id),
            n::event.eq(x.event),
            n::title.eq(x.title),
            n::body.eq(x.body),
            n::link.eq(x.link),
            n::dedupe_key.eq(x.dedupe_key),
            n::created_at.eq(now),
        ))
        .on_conflict(n::dedupe_key)
        .do_nothing()
        .execute(c)?;
    Ok(rows == 1)
}

/// One page of a user's notifications, newest first; with the total and the unread count.
pub fn for_user(
    c: &mut Conn,
    user: i64,
    page: PageRequest,
) -> Result<(Vec<NotificationRow>, i64, i64), StoreError> {
    let total = n::table.filter(n::user_id.eq(user)).count().get_result(c)?;
    let unread = n::table.filter(n::user_id.eq(user)).filter(n::read_at.is_null()).count().get_result(c)?;
    let rows = n::table
        .filter(n::user_id.eq(user))
        .order(n::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select(NotificationRow::as_select())
        .load(c)?;
    Ok((rows, total, unread))
}

/// Marks one of the user's notifications read (once); `None` when it is not theirs.
pub fn mark_read(
    c: &mut Conn,
    user: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<NotificationRow>, StoreError> {
    diesel::update(n::table.filter(n::id.eq(id)).filter(n::user_id.eq(user)).filter(n::read_at.is_null()))
        .set(n::read_at.eq(now))
        .execute(c)?;
    Ok(n::table
        .filter(n::id.eq(id))
        .filter(n::user_id.eq(user))
        .select(NotificationRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Marks every unread notification of the user read; how many.
pub fn mark_all_read(c: &mut Conn, user: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::update(n::table.filter(n::user_id.eq(user)).filter(n::read_at.is_null()))
        .set(n::read_at.eq(now))
        .execute(c)?)
}

/// A user's mail preferences (`None`: the defaults, everything on).
pub fn prefs(c: &mut Conn, user: i64) -> Result<Option<NotificationPrefsRow>, StoreError> {
    Ok(np::table.find(user).select(NotificationPrefsRow::as_select()).get_result(c).optional()?)
}

/// Sets a user's mail preferences.
pub fn set_prefs(
    c: &mut Conn,
    user: i64,
    (non_essential, sla_breach, refund_failure): (bool, bool, bool),
    now: DateTime<Utc>,
) -> Result<NotificationPrefsRow, StoreError> {
    Ok(diesel::insert_into(np::table)
        .values((
            np::user_id.eq(user),
            np::non_essential.eq(non_essential),
            np::sla_breach.eq(sla_breach),
            np::refund_failure.eq(refund_failure),
            np::updated_at.eq(now),
        ))
        .on_conflict(np::user_id)
        .do_update()
        .set((
            np::non_essential.eq(non_essential),
            np::sla_breach.eq(sla_breach),
            np::refund_failure.eq(refund_failure),
            np::updated_at.eq(now),
        ))
        .returning(NotificationPrefsRow::as_returning())
        .get_result(c)?)
}

/// Accounts with one of `roles`, with their preferences (if set).
pub fn with_roles(
    c: &mut Conn,
    roles: &[&str],
) -> Result<Vec<(UserRow, Option<NotificationPrefsRow>)>, StoreError> {
    Ok(users::table
        .left_join(np::table.on(np::user_id.eq(users::id)))
        .filter(users::role.eq_any(roles))
        .order(users::id.asc())
        .select((UserRow::as_select(), Option::<NotificationPrefsRow>::as_select()))
        .load(c)?)
}
