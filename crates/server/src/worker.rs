//! The background worker (`retail worker`): periodic housekeeping on the shared database.

use std::time::Duration;

use chrono::Utc;
use retail_store::Db;
use retail_store::repo::{products, sessions};

use crate::error::ApiError;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Sessions deleted (expired or revoked more than a week ago).
    pub sessions_purged: usize,
    /// Products whose stock differs from their ledger.
    pub stock_discrepancies: usize,
}

/// One pass of every job.
pub async fn run_once(db: &Db) -> Result<PassReport, ApiError> {
    run_once_at(db, Utc::now()).await
}

/// One pass as if the time were `now`.
pub async fn run_once_at(db: &Db, now: chrono::DateTime<Utc>) -> Result<PassReport, ApiError> {
    let cutoff = now - chrono::Duration::days(7);
    let sessions_purged = db.write(move |c| sessions::purge(c, cutoff)).await?;
    let bad = db.read(products::stock_discrepancies).await?;
    for (id, stock, ledger) in &bad {
        tracing::error!(product_id = id, stock, ledger, "stock differs from its ledger");
    }
    Ok(PassReport { sessions_purged, stock_discrepancies: bad.len() })
}

/// Runs passes every `every` until interrupted.
pub async fn run(db: Db, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => match run_once(&db).await {
                Ok(r) => tracing::info!(sessions_purged = r.sessions_purged, stock_discrepancies = r.stock_discrepancies, "worker pass done"),
                Err(e) => tracing::error!(error = ?e, "worker pass failed"),
            },
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("worker stopping");
                return;
            }
        }
    }
}
