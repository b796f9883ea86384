//! Operations: worker heartbeats and the figures the monitoring dashboard reads.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::sum_i64;
use crate::schema::{orders, rma_effects as fx, sale_reservations as sr, worker_heartbeats as hb};
use crate::{Conn, StoreError};

/// Records that `worker` finished a pass at `now`, with its report (text).
pub fn beat(c: &mut Conn, worker: &str, now: DateTime<Utc>, report: &str) -> Result<(), StoreError> {
    diesel::insert_into(hb::table)
        .values((hb::worker.eq(worker), hb::beat_at.eq(now), hb::passes.eq(1), hb::last_report.eq(report)))
        .on_conflict(hb::worker)
        .do_update()
        .set((hb::beat_at.eq(now), hb::passes.eq(hb::passes + 1), hb::last_report.eq(report)))
        .execute(c)?;
    Ok(())
}

/// The latest heartbeat of any worker.
pub fn last_beat(c: &mut Conn) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(hb::table.select(hb::beat_at).order(hb::beat_at.desc()).limit(1).get_result(c).optional()?)
}

/// Orders placed since `since` and what they came to (minor units). Scans the orders of the
/// day only in the sense of filtering: there is no index on the time, so this reads the table
/// (the dashboard asks every few seconds; a checkout pays for no extra index).
pub fn orders_since(c: &mut Conn, since: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let (n, sum): (i64, Option<i64>) = orders::table
        .filter(orders::created_at.ge(since))
        .select((diesel::dsl::count_star(), sum_i64("`orders`.`total_cents`")))
        .get_result(c)?;
    Ok((n, sum.unwrap_or(0)))
}

/// Refunded since `since` through returns (card and store credit), in minor units.
pub fn refunds_since(c: &mut Conn, since: DateTime<Utc>) -> Result<i64, StoreError> {
    let sum: Option<i64> = fx::table
        .filter(fx::created_at.ge(since))
        .filter(fx::kind.eq_any(["refund_card", "refund_credit"]))
        .select(sum_i64("`rma_effects`.`amount_cents`"))
        .get_result(c)?;
    Ok(sum.unwrap_or(0))
}

/// Flash-sale reservations held now (units reserved, not yet paid, expired or cancelled).
pub fn open_reservations(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(sr::table.filter(sr::state.eq("held")).count().get_result(c)?)
}
