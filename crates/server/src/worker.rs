//! The background worker (`retail worker`): periodic housekeeping on the shared database.

use std::time::Duration;

use chrono::Utc;
use retail_store::Db;
use retail_store::repo::payments::{self as payment_repo, PaymentChanges};
use retail_store::repo::{idempotency, orders, sessions};

use crate::payments::{GatewayError, Payments};
use crate::service::ServiceError;
use crate::service::checkout::{self, ReleaseOutcome, Released};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Sessions deleted (expired or revoked more than a week ago).
    pub sessions_purged: usize,
    /// Products whose stock differs from their ledger.
    pub stock_discrepancies: usize,
    /// Stored idempotency-key answers deleted (older than their TTL), and claims of
    /// checkouts that never finished.
    pub idempotency_keys_purged: usize,
    /// Card authorisations without an order (a checkout that failed or crashed between
    /// authorising and writing its order) voided.
    pub payments_voided: usize,
    /// Orders left pending payment (a crash between writing the order and capturing)
    /// cancelled: stock back, credit back, authorisation voided.
    pub orders_abandoned: usize,
    /// Flash-sale holds that lapsed unpaid, expired (their units back).
    pub holds_expired: usize,
    /// Flash sales over whose unsold units went back to stock.
    pub sales_settled: usize,
    /// Approved returns whose parcel never came, cancelled.
    pub returns_expired: usize,
    /// Findings of the reconciliation of payments, orders, store credit and stock (0: the
    /// books agree).
    pub reconciliation_mismatches: usize,
}

/// What the jobs need from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Housekeeping {
    /// How long idempotency-key answers are kept (`idempotency.ttl_secs`).
    pub idempotency_ttl: chrono::Duration,
    /// Age after which an authorisation without an order, an order pending payment and an
    /// unanswered checkout claim count as abandoned (`payments.stale_authorization_secs`).
    pub abandon_after: chrono::Duration,
    /// Age after which an approved return whose parcel never came is cancelled
    /// (`returns.approved_expiry_days`; `None`: never).
    pub unsent_return_after: Option<chrono::Duration>,
}

impl Default for Housekeeping {
    fn default() -> Self {
        Housekeeping::from_settings(&crate::config::Settings::default())
    }
}

impl Housekeeping {
    /// The jobs' parameters from the settings.
    pub fn from_settings(s: &crate::config::Settings) -> Housekeeping {
        let secs = i64::try_from(s.payments.stale_authorization_secs).unwrap_or(i64::MAX / 2_000);
        let days = i64::from(s.returns.approved_expiry_days);
        Housekeeping {
            idempotency_ttl: s.idempotency.ttl(),
            abandon_after: chrono::Duration::seconds(secs),
            unsent_return_after: (days > 0).then(|| chrono::Duration::days(days)),
        }
    }
}

/// The payment gateway as `settings` name it, for the worker and the command line (their
/// metrics go to no registry: only the server exports metrics).
pub fn payments_for(settings: &crate::config::Settings) -> Result<Payments, ServiceError> {
    let metrics = crate::http::metrics::PaymentMetrics::new().map_err(ServiceError::internal)?;
    Ok(Payments::from_settings(&settings.payments, metrics))
}

fn default_payments() -> Result<Payments, ServiceError> {
    payments_for(&crate::config::Settings::default())
}

/// One pass of every job, with the default settings.
pub async fn run_once(db: &Db) -> Result<PassReport, ServiceError> {
    run_once_with(db, &default_payments()?, &Housekeeping::default(), Utc::now()).await
}

/// One pass as if the time were `now`, with the default settings.
pub async fn run_once_at(db: &Db, now: chrono::DateTime<Utc>) -> Result<PassReport, ServiceError> {
    run_once_with(db, &default_payments()?, &Housekeeping::default(), now).await
}

/// Most abandoned payments or orders handled per pass (the next pass takes the rest).
const BATCH: i64 = 200;

/// One pass as if the time were `now`.
pub async fn run_once_with(
    db: &Db,
    gateway: &Payments,
    jobs: &Housekeeping,
    now: chrono::DateTime<Utc>,
) -> Result<PassReport, ServiceError> {
    let cutoff = now - chrono::Duration::days(7);
    let sessions_purged = db.write(move |c| sessions::purge(c, cutoff)).await?;
    let keys_cutoff = now - jobs.idempotency_ttl;
    let abandoned = now - jobs.abandon_after;
    let idempotency_keys_purged = db
        .write(move |c| {
            Ok::<_, ServiceError>(
                idempotency::purge_older_than(c, keys_cutoff)?
                    + idempotency::purge_stale_claims(c, abandoned)?,
            )
        })
        .await?;
    let payments_voided = void_abandoned_payments(db, gateway, abandoned).await?;
    let orders_abandoned = cancel_abandoned_orders(db, gateway, abandoned).await?;
    let (holds_expired, sales_settled) = db.write(move |c| crate::service::sales::sweep_in(c, now)).await?;
    let returns_expired = match jobs.unsent_return_after {
        Some(after) => {
            let cutoff = now - after;
            db.write(move |c| crate::service::returns::expire_unsent_in(c, cutoff, now, BATCH)).await?
        }
        None => 0,
    };
    let report = db.read(crate::service::credit::reconcile_on).await?;
    let bad = report.stock_discrepancies.len();
    let reconciliation_mismatches = log_findings(&report);
    Ok(PassReport {
        sessions_purged,
        stock_discrepancies: bad,
        idempotency_keys_purged,
        payments_voided,
        orders_abandoned,
        holds_expired,
        sales_settled,
        returns_expired,
        reconciliation_mismatches,
    })
}

/// Voids authorisations that never got an order. One still `authorizing` has no reference
/// (the process stopped before the provider answered or before the answer was written):
/// there is nothing the shop can void, and the provider lets an uncaptured authorisation
/// lapse, so it is marked `failed` (`abandoned`). A provider that no longer knows the
/// authorisation (a decline of the void) counts as voided.
async fn void_abandoned_payments(
    db: &Db,
    gateway: &Payments,
    cutoff: chrono::DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let stale = db.read(move |c| payment_repo::stale_without_order(c, cutoff, BATCH)).await?;
    let mut done = 0;
    for p in stale {
        let (to, code) = match p.reference.as_deref() {
            None => ("failed", Some("abandoned")),
            Some(r) => match gateway.void(r).await {
                Ok(()) => ("voided", None),
                Err(GatewayError::Declined { code, .. }) => ("voided", Some(code)),
                Err(e) => {
                    tracing::warn!(payment_id = p.id, error = %e, "cannot void an abandoned authorisation yet");
                    continue;
                }
            },
        };
        let id = p.id;
        let changed = db
            .write(move |c| {
                let row = payment_repo::transition(
                    c,
                    id,
                    &["authorizing", "authorized"],
                    to,
                    &PaymentChanges { error_code: code, ..PaymentChanges::default() },
                    Utc::now(),
                )?;
                if row.is_some() {
                    retail_store::repo::audit::record(
                        c,
                        &retail_store::repo::audit::AuditEvent {
                            actor_id: None,
                            action: "payment.abandoned",
                            entity_type: "payment",
                            entity_id: id.to_string(),
                            detail: serde_json::json!({"to": to, "code": code}),
                        },
                        Utc::now(),
                    )?;
                }
                Ok::<_, ServiceError>(row.is_some())
            })
            .await?;
        if changed {
            tracing::warn!(payment_id = id, to, "abandoned authorisation released");
            done += 1;
        }
    }
    Ok(done)
}

/// Cancels orders still pending payment after `cutoff`: the authorisation is voided, the
/// stock and the store credit go back.
async fn cancel_abandoned_orders(
    db: &Db,
    gateway: &Payments,
    cutoff: chrono::DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let ids = db.read(move |c| payment_repo::stuck_pending_orders(c, cutoff, BATCH)).await?;
    let mut done = 0;
    for id in ids {
        let pays = db.read(move |c| payment_repo::for_order(c, id)).await?;
        let released = match checkout::release_payments(gateway, &pays, &format!("abandon-order-{id}")).await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(order_id = id, error = ?e, "cannot release the payment of an abandoned order yet");
                continue;
            }
        };
        let released: Vec<Released> = released
            .into_iter()
            .map(|r| match r.outcome {
                ReleaseOutcome::Kept => Released { payment_id: r.payment_id, outcome: ReleaseOutcome::Kept },
                _ => r,
            })
            .collect();
        let cancelled = db
            .write(move |c| {
                let Some(order) = orders::by_id(c, id)?.filter(|o| o.state == "pending_payment") else {
                    return Ok::<_, ServiceError>(false);
                };
                checkout::undo_order(c, &order, &released, "payment was not completed", None, Utc::now())?;
                Ok(true)
            })
            .await?;
        if cancelled {
            tracing::warn!(order_id = id, "order left pending payment cancelled");
            done += 1;
        }
    }
    Ok(done)
}

/// Logs every finding of a reconciliation (one error line each) and counts them: what the
/// worker's pass and the server's scheduled check report.
pub fn log_findings(report: &retail_api_types::ReconciliationReport) -> usize {
    for id in &report.stock_discrepancies {
        tracing::error!(product_id = %id, "stock differs from its ledger");
    }
    for id in &report.captures_without_order {
        tracing::error!(payment_id = %id, "reconciliation: captured payment without a paid order");
    }
    for id in &report.paid_orders_without_capture {
        tracing::error!(order_id = %id, "reconciliation: paid order without a captured payment");
    }
    for id in &report.amount_mismatches {
        tracing::error!(order_id = %id, "reconciliation: captured amount differs from the order's card part");
    }
    for id in &report.credit_discrepancies {
        tracing::error!(user_id = %id, "reconciliation: store-credit balance differs from its ledger");
    }
    if report.captured_cents != report.ordered_card_cents {
        tracing::error!(
            captured_cents = report.captured_cents,
            ordered_card_cents = report.ordered_card_cents,
            "reconciliation: captured total differs from the paid orders' card total"
        );
    }
    for id in &report.sale_discrepancies {
        tracing::error!(sale_id = %id, "reconciliation: flash-sale counters differ from the reservations");
    }
    for id in &report.return_discrepancies {
        tracing::error!(rma_id = %id, "reconciliation: a return's recorded movements differ from its disposition");
    }
    findings(report)
}

fn findings(report: &retail_api_types::ReconciliationReport) -> usize {
    report.sale_discrepancies.len()
        + report.return_discrepancies.len()
        + report.captures_without_order.len()
        + report.paid_orders_without_capture.len()
        + report.amount_mismatches.len()
        + report.credit_discrepancies.len()
        + report.stock_discrepancies.len()
        + usize::from(report.captured_cents != report.ordered_card_cents)
}

/// The findings of a reconciliation in all (0: the books agree).
pub fn count_findings(report: &retail_api_types::ReconciliationReport) -> i64 {
    i64::try_from(findings(report)).unwrap_or(i64::MAX)
}

/// Resolves on SIGTERM (what a container runtime sends to PID 1) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the worker"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// What the notification jobs need: where mail goes and the settings it is sent with.
pub struct Mailing {
    /// The mailer.
    pub mailer: crate::mail::Mailer,
    /// Outbox settings.
    pub settings: crate::config::NotificationSettings,
    /// The shop's name (mail subjects).
    pub shop: String,
    /// Return rules (stage targets, for SLA alerts).
    pub returns: crate::config::ReturnPolicy,
    /// This sender's name in the outbox leases.
    pub owner: String,
}

impl Mailing {
    /// From the settings.
    pub fn from_settings(s: &crate::config::Settings) -> Result<Mailing, String> {
        Ok(Mailing {
            mailer: crate::mail::Mailer::from_settings(&s.notifications, &s.data_dir)?,
            settings: s.notifications.clone(),
            shop: s.checkout.shop_name.clone(),
            returns: s.returns.policy()?,
            owner: crate::service::notify::sender_name("worker"),
        })
    }
}

/// One notification pass: staff alerts for returns past their targets, then the mail that is
/// due. Returns the alerts queued and what was sent.
pub async fn notify_pass(
    db: &Db,
    m: &Mailing,
    now: chrono::DateTime<Utc>,
    metrics: Option<&crate::http::metrics::MailMetrics>,
) -> Result<(usize, crate::service::notify::Delivery), ServiceError> {
    let policy = m.returns.clone();
    let alerts = db.write(move |c| crate::service::notify::sla_alerts_in(c, &policy, now, BATCH)).await?;
    let sent =
        crate::service::notify::deliver(db, &m.mailer, &m.settings, &m.shop, &m.owner, now, metrics).await?;
    Ok((alerts, sent))
}

/// One feed pass: due schedules pulled (their new files queued), then queued feed jobs run
/// (up to 20), then the search index merged where writes left it in many pieces (see
/// [`search_upkeep`]). Returns (schedules run, jobs succeeded, failed, retried).
pub async fn feeds_pass(
    db: &Db,
    cfg: &crate::config::PartnerSettings,
    owner: &str,
    metrics: Option<&crate::http::metrics::BusinessMetrics>,
) -> Result<(usize, (usize, usize, usize)), ServiceError> {
    let pulled = crate::service::feeds::schedules::run_due(db, cfg, 20).await?;
    let jobs = crate::service::feeds::work(db, cfg, owner, 20, metrics).await?;
    let merged = search_upkeep(db, SEARCH_MERGE_STEPS).await?;
    if merged > 0 {
        tracing::info!(steps = merged, "search index merged");
    }
    Ok((pulled, jobs))
}

/// Most merge steps of the search index one pass takes (each a short write transaction of
/// its own, at most `SEARCH_MERGE_PAGES` pages): a large feed's index is merged over a few
/// passes, never in one long hold of the writer.
pub const SEARCH_MERGE_STEPS: usize = 16;

/// Merges the full-text index in up to `steps` short transactions, stopping once there is
/// nothing left to merge; returns the steps that merged something.
pub async fn search_upkeep(db: &Db, steps: usize) -> Result<usize, ServiceError> {
    let mut merged = 0;
    while merged < steps {
        if !db.write_alone(retail_store::repo::products::merge_search_index).await? {
            break;
        }
        merged += 1;
    }
    Ok(merged)
}

/// Runs passes every `every` until SIGTERM or SIGINT; a pass under way finishes first.
pub async fn run(
    db: Db,
    gateway: Payments,
    jobs: Housekeeping,
    (mailing, feeds): (Mailing, crate::config::PartnerSettings),
    every: Duration,
) {
    let owner = mailing.owner.clone();
    let mut tick = tokio::time::interval(every);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = tick.tick() => match run_once_with(&db, &gateway, &jobs, Utc::now()).await {
                Ok(r) => {
                    tracing::info!(sessions_purged = r.sessions_purged, stock_discrepancies = r.stock_discrepancies, idempotency_keys_purged = r.idempotency_keys_purged, payments_voided = r.payments_voided, orders_abandoned = r.orders_abandoned, holds_expired = r.holds_expired, sales_settled = r.sales_settled, returns_expired = r.returns_expired, reconciliation_mismatches = r.reconciliation_mismatches, "worker pass done");
                    match notify_pass(&db, &mailing, Utc::now(), None).await {
                        Ok((alerts, d)) => tracing::info!(sla_alerts = alerts, mail_sent = d.sent, mail_retried = d.retried, mail_failed = d.failed, "notification pass done"),
                        Err(e) => tracing::error!(error = ?e, "notification pass failed"),
                    }
                    match feeds_pass(&db, &feeds, &owner, None).await {
                        Ok((pulled, (ok, failed, retried))) => tracing::info!(schedules_run = pulled, feed_jobs_succeeded = ok, feed_jobs_failed = failed, feed_jobs_retried = retried, "feed pass done"),
                        Err(e) => tracing::error!(error = ?e, "feed pass failed"),
                    }
                    beat(&db, &owner, &r).await;
                }
                Err(e) => tracing::error!(error = ?e, "worker pass failed"),
            },
            _ = &mut stop => {
                tracing::info!("worker stopping");
                return;
            }
        }
    }
}

/// Names the file that the worker rewrites after every successful pass, so that a health
/// check can test its age (docker/compose.yaml does).
pub const HEARTBEAT_ENV: &str = "RETAIL_WORKER_HEARTBEAT";

/// Records the pass: a heartbeat row in the database (which the server's `/metrics` and
/// dashboard read) and the file named by [`HEARTBEAT_ENV`], if any.
pub async fn beat(db: &Db, worker: &str, report: &PassReport) {
    let (worker, now) = (worker.to_owned(), Utc::now());
    let report = format!("{report:?}");
    if let Err(e) = db.write(move |c| retail_store::repo::ops::beat(c, &worker, now, &report)).await {
        tracing::warn!(error = %e, "cannot record the worker heartbeat");
    }
    if let Some(path) = std::env::var_os(HEARTBEAT_ENV).filter(|p| !p.is_empty())
        && let Err(e) = std::fs::write(&path, Utc::now().to_rfc3339())
    {
        let path = std::path::Path::new(&path).display();
        tracing::warn!(error = %e, path = %path, "cannot write the worker heartbeat");
    }
}
