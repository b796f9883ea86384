//! The background worker (`retail worker`): periodic housekeeping on the shared database.

use std::time::Duration;

use chrono::Utc;
use retail_store::Db;
use retail_store::repo::{idempotency, products, sessions};

use crate::service::ServiceError;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Sessions deleted (expired or revoked more than a week ago).
    pub sessions_purged: usize,
    /// Products whose stock differs from their ledger.
    pub stock_discrepancies: usize,
    /// Stored idempotency-key answers deleted (older than their TTL).
    pub idempotency_keys_purged: usize,
}

/// What the jobs need from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Housekeeping {
    /// How long idempotency-key answers are kept (`idempotency.ttl_secs`).
    pub idempotency_ttl: chrono::Duration,
}

impl Default for Housekeeping {
    fn default() -> Self {
        Housekeeping::from_settings(&crate::config::Settings::default())
    }
}

impl Housekeeping {
    /// The jobs' parameters from the settings.
    pub fn from_settings(s: &crate::config::Settings) -> Housekeeping {
        Housekeeping { idempotency_ttl: s.idempotency.ttl() }
    }
}

/// One pass of every job, with the default settings.
pub async fn run_once(db: &Db) -> Result<PassReport, ServiceError> {
    run_once_with(db, &Housekeeping::default(), Utc::now()).await
}

/// One pass as if the time were `now`, with the default settings.
pub async fn run_once_at(db: &Db, now: chrono::DateTime<Utc>) -> Result<PassReport, ServiceError> {
    run_once_with(db, &Housekeeping::default(), now).await
}

/// One pass as if the time were `now`.
pub async fn run_once_with(
    db: &Db,
    jobs: &Housekeeping,
    now: chrono::DateTime<Utc>,
) -> Result<PassReport, ServiceError> {
    let cutoff = now - chrono::Duration::days(7);
    let sessions_purged = db.write(move |c| sessions::purge(c, cutoff)).await?;
    let keys_cutoff = now - jobs.idempotency_ttl;
    let idempotency_keys_purged = db.write(move |c| idempotency::purge_older_than(c, keys_cutoff)).await?;
    let bad = db.read(products::stock_discrepancies).await?;
    for (id, stock, ledger) in &bad {
        tracing::error!(product_id = id, stock, ledger, "stock differs from its ledger");
    }
    Ok(PassReport { sessions_purged, stock_discrepancies: bad.len(), idempotency_keys_purged })
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

/// Runs passes every `every` until SIGTERM or SIGINT; a pass under way finishes first.
pub async fn run(db: Db, jobs: Housekeeping, every: Duration) {
    let mut tick = tokio::time::interval(every);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = tick.tick() => match run_once_with(&db, &jobs, Utc::now()).await {
                Ok(r) => {
                    tracing::info!(sessions_purged = r.sessions_purged, stock_discrepancies = r.stock_discrepancies, idempotency_keys_purged = r.idempotency_keys_purged, "worker pass done");
                    beat();
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

/// Touches the heartbeat file named by [`HEARTBEAT_ENV`], if any.
fn beat() {
    if let Some(path) = std::env::var_os(HEARTBEAT_ENV).filter(|p| !p.is_empty())
        && let Err(e) = std::fs::write(&path, Utc::now().to_rfc3339())
    {
        let path = std::path::Path::new(&path).display();
        tracing::warn!(error = %e, path = %path, "cannot write the worker heartbeat");
    }
}
