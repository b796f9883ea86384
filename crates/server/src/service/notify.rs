//! Notifications: events are queued in the outbox (and shown in the app) in the same
//! transaction as the change they report; senders (the server's own loop and `retail worker`)
//! claim due rows with a lease, send them, and mark them sent, or retry them with backoff and
//! give up after the configured attempts (an admin may requeue them).
//!
//! Exactly once, save one case: a sender that dies after the mail server accepted a mail and
//! before marking it sent leaves the row leased; once the lease runs out it is sent again,
//! with the same Message-ID, which mail clients collapse.

use chrono::{DateTime, Utc};
use retail_api_types::{
    Notification, NotificationList, NotificationPrefs, OutboxCount, OutboxEntry, OutboxList, OutboxQuery,
    OutboxState,
};
use retail_domain::Caller;
use retail_domain::account::Permission;
use retail_domain::notify::{self, Audience, Content, Facts, NotifyEvent, StaffAlert};
use retail_domain::paging::PageRequest;
use retail_domain::retry::{Next, Outcome};
use retail_store::models::{NotificationPrefsRow, NotificationRow, OutboxRow, UserRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::notifications::{self as repo, NewNotification, NewOutbox};
use retail_store::repo::users;
use retail_store::{Conn, Db};
use serde_json::json;

use super::{ServiceError, corrupt, pagination};
use crate::config::NotificationSettings;
use crate::mail::{MailError, Mailer, render};
use crate::state::AppState;

/// A Message-ID for a queued mail: unique, stored with the row, so every attempt carries it.
fn message_id(dedupe: &str) -> String {
    let tag: String = dedupe.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '.' }).collect();
    format!("<{tag}.{}@retail.notifications>", uuid::Uuid::new_v4().simple())
}

/// Queues `content` for `user` (mail only when `mail` says so) and shows it in the app, under
/// `dedupe` (the same event for the same entity and user is queued once); whether it was new.
fn deliver_to(
    c: &mut Conn,
    user: &UserRow,
    event: NotifyEvent,
    content: &Content,
    dedupe: &str,
    mail: bool,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let new = repo::notify(
        c,
        &NewNotification {
            user_id: user.id,
            event: event.as_str(),
            title: &content.title,
            body: &content.body.join(" "),
            link: &content.link,
            dedupe_key: dedupe,
        },
        now,
    )?;
    if new && mail {
        let json = serde_json::to_string(content).map_err(ServiceError::internal)?;
        repo::enqueue(
            c,
            &NewOutbox {
                event: event.as_str(),
                user_id: Some(user.id),
                recipient: &user.email,
                content: &json,
                message_id: &message_id(dedupe),
                dedupe_key: dedupe,
            },
            now,
        )?;
    }
    Ok(new)
}

/// Inside the transaction of the change: tells the customer `user_id` about `event` on
/// `entity` (`order:12`, `rma:7:approve`). Mail that is not about money follows the
/// customer's preference; the app always shows it.
pub fn customer_in(
    c: &mut Conn,
    event: NotifyEvent,
    user_id: i64,
    entity: &str,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(user) = users::by_id(c, user_id)? else { return Ok(()) };
    let essential = matches!(event.audience(), Audience::Customer { essential: true });
    let wants = essential || repo::prefs(c, user_id)?.is_none_or(|p| p.non_essential);
    let content = notify::compose(event, facts);
    deliver_to(c, &user, event, &content, &format!("{}:{entity}:{user_id}", event.as_str()), wants, now)?;
    Ok(())
}

/// Inside the transaction of the change: tells an order's customer that `event` happened to
/// it (the amount paid for a confirmation, refunded for a cancellation).
pub fn order_in(
    c: &mut Conn,
    event: NotifyEvent,
    order: &retail_store::models::OrderRow,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let currency = retail_domain::Currency::parse("currency", &order.currency).ok();
    let amount = match event {
        NotifyEvent::OrderConfirmed => Some(order.total_cents),
        NotifyEvent::OrderCancelled => Some(order.refunded_cents).filter(|n| *n > 0),
        _ => None,
    };
    let facts = Facts {
        order_id: Some(order.id),
        amount: amount.zip(currency).map(|(a, c)| (retail_domain::Money(a), c)),
        note: note.map(str::to_owned),
        tracking: order.carrier.clone().zip(order.tracking.clone()),
        ..Facts::default()
    };
    customer_in(c, event, order.user_id, &format!("order:{}", order.id), &facts, now)
}

/// Inside the transaction of a return's step: tells its customer, when the step is one they
/// hear about ([`notify::return_event`]).
pub fn return_in(
    c: &mut Conn,
    action: retail_domain::rma::RmaAction,
    actor: retail_domain::order::Actor,
    row: &retail_store::models::RmaRow,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let disposition = row.disposition.as_deref().and_then(retail_domain::rma::Disposition::parse);
    let Some(event) = notify::return_event(action, actor, disposition) else { return Ok(()) };
    let currency = retail_domain::Currency::parse("currency", &row.currency).ok();
    let amount = match event {
        NotifyEvent::ReturnRefunded | NotifyEvent::ReturnCreditGranted => row.amount_cents,
        _ => None,
    };
    let note = match event {
        NotifyEvent::ReturnRejected => note.or(row.decision_note.as_deref()),
        NotifyEvent::ReturnCancelled => note,
        _ => None,
    };
    let facts = Facts {
        order_id: Some(row.order_id),
        rma_id: Some(row.id),
        amount: amount.zip(currency).map(|(a, c)| (retail_domain::Money(a), c)),
        note: note.map(str::to_owned),
        tracking: row.outcome_carrier.clone().zip(row.outcome_tracking.clone()),
        waiting: None,
    };
    customer_in(c, event, row.user_id, &format!("rma:{}", row.id), &facts, now)
}

fn wants_alert(p: Option<&NotificationPrefsRow>, alert: StaffAlert) -> bool {
    p.is_none_or(|p| match alert {
        StaffAlert::SlaBreach => p.sla_breach,
        StaffAlert::RefundFailure => p.refund_failure,
    })
}

/// Inside a transaction: alerts the staff of `roles` (within the alert's audience) who chose
/// this alert, about `event` on `entity`; returns how many were told now (not before).
pub fn staff_in(
    c: &mut Conn,
    event: NotifyEvent,
    roles: &[retail_domain::account::Role],
    entity: &str,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let Audience::Staff(alert) = event.audience() else { return Ok(0) };
    let names: Vec<&str> = roles.iter().filter(|r| alert.roles().contains(r)).map(|r| r.as_str()).collect();
    let content = notify::compose(event, facts);
    let mut told = 0;
    for (user, prefs) in repo::with_roles(c, &names)? {
        if wants_alert(prefs.as_ref(), alert) {
            let key = format!("{}:{entity}:{}", event.as_str(), user.id);
            if deliver_to(c, &user, event, &content, &key, true, now)? {
                told += 1;
            }
        }
    }
    Ok(told)
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// What one pass of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Accepted by the mail server.
    pub sent: usize,
    /// Failed, to be retried later.
    pub retried: usize,
    /// Failed for good (attempts used up, or a mail that cannot be built).
    pub failed: usize,
}

/// How a sender is identified in its leases.
pub fn sender_name(kind: &str) -> String {
    format!("{kind}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// One pass: claims what is due (up to the batch), sends it, records each outcome.
pub async fn deliver(
    db: &Db,
    mailer: &Mailer,
    settings: &NotificationSettings,
    shop: &str,
    owner: &str,
    now: DateTime<Utc>,
    metrics: Option<&crate::http::metrics::MailMetrics>,
) -> Result<Delivery, ServiceError> {
    let lease = now + chrono::Duration::seconds(i64::try_from(settings.lease_secs.max(1)).unwrap_or(60));
    let (batch, who) = (settings.batch.max(1), owner.to_owned());
    let rows = db.write(move |c| Ok::<_, ServiceError>(repo::claim(c, &who, now, lease, batch)?)).await?;
    let mut out = Delivery::default();
    let policy = settings.retry();
    for row in rows {
        let started = std::time::Instant::now();
        let result = send_one(mailer, &row, shop, &settings.public_url).await;
        if let Some(m) = metrics {
            m.send_seconds.observe(started.elapsed().as_secs_f64());
        }
        let (id, who) = (row.id, owner.to_owned());
        match result {
            Ok(()) => {
                db.write(move |c| Ok::<_, ServiceError>(repo::mark_sent(c, id, &who, Utc::now())?)).await?;
                out.sent += 1;
                if let Some(m) = metrics {
                    m.outcomes.with_label_values(&["sent"]).inc();
                }
            }
            Err(e) => {
                let attempt = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let outcome =
                    if matches!(e, MailError::Build(_)) { Outcome::Decline } else { Outcome::Transient };
                // Half the ceiling plus a random half ("equal jitter"): never retried at once.
                let retry_at = match policy.next(attempt, outcome, 500 + rand::random_range(0..=500)) {
                    Next::RetryAfter(d) => Some(now + chrono::Duration::from_std(d).unwrap_or_default()),
                    Next::Done | Next::GiveUp => None,
                };
                let label = if retry_at.is_some() { "retried" } else { "failed" };
                tracing::warn!(outbox_id = row.id, attempt, error = %e, outcome = label, "mail not sent");
                let message = e.to_string();
                db.write(move |c| {
                    Ok::<_, ServiceError>(repo::mark_failed(c, id, &who, retry_at, &message, Utc::now())?)
                })
                .await?;
                if retry_at.is_some() {
                    out.retried += 1;
                } else {
                    out.failed += 1;
                }
                if let Some(m) = metrics {
                    m.outcomes.with_label_values(&[label]).inc();
                }
            }
        }
    }
    Ok(out)
}

/// Renders and sends one claimed row.
pub async fn send_one(
    mailer: &Mailer,
    row: &OutboxRow,
    shop: &str,
    public_url: &str,
) -> Result<(), MailError> {
    let content: Content = serde_json::from_str(&row.content)
        .map_err(|e| MailError::Build(format!("content of outbox {}: {e}", row.id)))?;
    let essential = NotifyEvent::parse(&row.event)
        .is_some_and(|e| matches!(e.audience(), Audience::Customer { essential: true }));
    let mail = render(&content, essential, &row.recipient, &row.message_id, shop, public_url)?;
    mailer.send(&mail).await
}

/// Runs the notification pass (SLA alerts about once a minute, the mail that is due every
/// `every_secs`) until the process ends: the server's own sender, beside `retail worker`.
pub fn spawn_sender(state: actix_web::web::Data<AppState>, mailing: crate::worker::Mailing, every_secs: u64) {
    let mailing = std::sync::Arc::new(mailing);
    let alerts_every = (60 / every_secs.max(1)).max(1);
    let mut n: u64 = 0;
    crate::startup::spawn_every(every_secs, move || {
        let (state, m) = (state.clone(), mailing.clone());
        let alerts = n.is_multiple_of(alerts_every);
        n = n.wrapping_add(1);
        async move {
            let now = Utc::now();
            if alerts {
                let policy = m.returns.clone();
                if let Err(e) = state.db.write(move |c| sla_alerts_in(c, &policy, now, 200)).await {
                    tracing::warn!(error = ?e, "SLA alert pass failed");
                }
            }
            if let Err(e) =
                deliver(&state.db, &m.mailer, &m.settings, &m.shop, &m.owner, now, Some(&state.metrics.mail))
                    .await
            {
                tracing::warn!(error = ?e, "mail pass failed");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// SLA alerts
// ---------------------------------------------------------------------------------------------

/// Inside a write transaction: alerts each team about the returns in its queue that are past
/// their stage's target, once per return and stage entry (up to `limit` returns).
pub fn sla_alerts_in(
    c: &mut Conn,
    policy: &crate::config::ReturnPolicy,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<usize, ServiceError> {
    use retail_domain::rma::RmaStage;
    let mut told = 0;
    for stage in RmaStage::ALL {
        let (Some(team), Some(secs)) = (stage.queue(), policy.sla_of(stage)) else { continue };
        let cutoff = now - chrono::Duration::seconds(secs);
        for row in retail_store::repo::returns::entered_before(c, stage.as_str(), cutoff, limit)? {
            let facts = Facts {
                rma_id: Some(row.id),
                order_id: Some(row.order_id),
                waiting: Some((stage.as_str().to_owned(), (now - row.stage_entered_at).num_hours())),
                ..Facts::default()
            };
            let entity = format!("rma:{}:{}:{}", row.id, stage.as_str(), row.stage_entered_at.timestamp());
            told += staff_in(
                c,
                NotifyEvent::ReturnSlaBreached,
                &[team, retail_domain::account::Role::Admin],
                &entity,
                &facts,
                now,
            )?;
        }
    }
    Ok(told)
}

// ---------------------------------------------------------------------------------------------
// The notification centre, preferences, the outbox
// ---------------------------------------------------------------------------------------------

fn notification_dto(r: NotificationRow) -> Result<Notification, ServiceError> {
    Ok(Notification {
        event: NotifyEvent::parse(&r.event)
            .ok_or_else(|| corrupt(format!("event of notification {}", r.id)))?,
        id: r.id,
        title: r.title,
        body: r.body,
        link: r.link,
        read: r.read_at.is_some(),
        created_at: r.created_at,
    })
}

/// The caller's notifications, newest first, with the unread count.
pub async fn mine(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
) -> Result<NotificationList, ServiceError> {
    let user = super::cart::owner(caller)?.get();
    state
        .db
        .read(move |c| {
            let (rows, total, unread) = repo::for_user(c, user, page)?;
            Ok(NotificationList {
                items: rows.into_iter().map(notification_dto).collect::<Result<_, _>>()?,
                unread,
                pagination: pagination(page, total),
            })
        })
        .await
}

/// Marks one of the caller's notifications read.
pub async fn read(state: &AppState, caller: &Caller, id: i64) -> Result<Notification, ServiceError> {
    let user = super::cart::owner(caller)?.get();
    state
        .db
        .write(move |c| {
            let row = repo::mark_read(c, user, id, Utc::now())?
                .ok_or_else(|| ServiceError::not_found(format!("notification {id}")))?;
            notification_dto(row)
        })
        .await
}

/// Marks all the caller's notifications read; the first page after.
pub async fn read_all(state: &AppState, caller: &Caller) -> Result<NotificationList, ServiceError> {
    let user = super::cart::owner(caller)?.get();
    state.db.write(move |c| Ok::<_, ServiceError>(repo::mark_all_read(c, user, Utc::now())?)).await?;
    mine(state, caller, PageRequest::parse(None, None)?).await
}

fn prefs_dto(p: Option<NotificationPrefsRow>) -> NotificationPrefs {
    p.map_or(NotificationPrefs { non_essential: true, sla_breach: true, refund_failure: true }, |p| {
        NotificationPrefs {
            non_essential: p.non_essential,
            sla_breach: p.sla_breach,
            refund_failure: p.refund_failure,
        }
    })
}

/// The caller's mail preferences.
pub async fn prefs(state: &AppState, caller: &Caller) -> Result<NotificationPrefs, ServiceError> {
    let user = super::cart::owner(caller)?.get();
    state.db.read(move |c| Ok(prefs_dto(repo::prefs(c, user)?))).await
}

/// Sets the caller's mail preferences (audited).
pub async fn set_prefs(
    state: &AppState,
    caller: &Caller,
    p: NotificationPrefs,
) -> Result<NotificationPrefs, ServiceError> {
    let user = super::cart::owner(caller)?.get();
    state
        .db
        .write(move |c| {
            let now = Utc::now();
            let row = repo::set_prefs(c, user, (p.non_essential, p.sla_breach, p.refund_failure), now)?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: Some(user),
                    action: "notifications.preferences",
                    entity_type: "user",
                    entity_id: user.to_string(),
                    detail: json!(p),
                },
                now,
            )?;
            Ok(prefs_dto(Some(row)))
        })
        .await
}

fn outbox_state(raw: &str, id: i64) -> Result<OutboxState, ServiceError> {
    [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed]
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| corrupt(format!("state of outbox {id}")))
}

fn outbox_dto(r: OutboxRow) -> Result<OutboxEntry, ServiceError> {
    let content: Content =
        serde_json::from_str(&r.content).map_err(|_| corrupt(format!("content of outbox {}", r.id)))?;
    Ok(OutboxEntry {
        event: NotifyEvent::parse(&r.event).ok_or_else(|| corrupt(format!("event of outbox {}", r.id)))?,
        state: outbox_state(&r.state, r.id)?,
        id: r.id,
        recipient: r.recipient,
        subject: content.subject,
        message_id: r.message_id,
        attempts: r.attempts,
        last_error: r.last_error,
        next_attempt_at: r.next_attempt_at,
        sent_at: r.sent_at,
        created_at: r.created_at,
    })
}

/// The outbox, newest first (admin).
pub async fn outbox(state: &AppState, caller: &Caller, q: OutboxQuery) -> Result<OutboxList, ServiceError> {
    caller.require(Permission::ManageNotifications)?;
    let page = PageRequest::parse(q.page, q.per_page).map_err(ServiceError::invalid_query)?;
    state
        .db
        .read(move |c| {
            let (rows, total) = repo::list(c, q.state.map(OutboxState::as_str), page)?;
            let counts = repo::counts(c)?
                .into_iter()
                .map(|(s, count)| Ok(OutboxCount { state: outbox_state(&s, 0)?, count }))
                .collect::<Result<_, ServiceError>>()?;
            Ok(OutboxList {
                items: rows.into_iter().map(outbox_dto).collect::<Result<_, _>>()?,
                counts,
                pagination: pagination(page, total),
            })
        })
        .await
}

/// Puts a failed mail back in the queue (admin, audited).
pub async fn requeue(state: &AppState, caller: &Caller, id: i64) -> Result<OutboxEntry, ServiceError> {
    super::write_as(&state.db, caller, Permission::ManageNotifications, move |c, caller| {
        let now = Utc::now();
        let Some(row) = repo::requeue(c, id, now)? else {
            return Err(if repo::exists(c, id)? {
                ServiceError::Conflict {
                    code: "not_failed",
                    detail: format!("mail {id} has not failed; only failed mail is requeued"),
                }
            } else {
                ServiceError::not_found(format!("mail {id}"))
            });
        };
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "outbox.requeue",
                entity_type: "outbox",
                entity_id: id.to_string(),
                detail: json!({"event": row.event, "recipient": row.recipient}),
            },
            now,
        )?;
        outbox_dto(row)
    })
    .await
}
