//! Feed jobs (claimed by workers under a lease), their row errors, the products a feed owns,
//! and scheduled pulls.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::{FeedJobRow, FeedScheduleRow, ProductRow, ScheduleRunRow};
use crate::schema::{
    feed_jobs as j, feed_row_errors as e, feed_schedule_runs as sr, feed_schedules as s, products,
};
use crate::{Conn, StoreError};

/// A job to record.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Whose feed.
    pub partner_id: i64,
    /// `upload`, `schedule`, `cli` or `admin`.
    pub source: &'a str,
    /// The schedule that pulled it.
    pub schedule_id: Option<i64>,
    /// `csv` or `json`.
    pub format: &'a str,
    /// `validate_only`, `lenient` or `strict`.
    pub mode: &'a str,
    /// `queued` (a worker applies it) or `running` (the caller does, now).
    pub state: &'a str,
    /// SHA-256 of the file, hex.
    pub content_hash: &'a str,
    /// The file, kept until applied.
    pub body: &'a [u8],
    /// Who sent it (an admin; none for a partner or the system).
    pub actor_id: Option<i64>,
}

/// Records a job.
pub fn insert_job(
    c: &mut Conn,
    n: &NewJob<'_>,
    owner: Option<&str>,
    lease_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<FeedJobRow, StoreError> {
    let running = n.state == "running";
    Ok(diesel::insert_into(j::table)
        .values((
            j::partner_id.eq(n.partner_id),
            j::source.eq(n.source),
            j::schedule_id.eq(n.schedule_id),
            j::format.eq(n.format),
            j::mode.eq(n.mode),
            j::state.eq(n.state),
            j::content_hash.eq(n.content_hash),
            j::bytes.eq(i64::try_from(n.body.len()).unwrap_or(i64::MAX)),
            j::body.eq(Some(n.body)),
            j::attempts.eq(i64::from(running)),
            j::lease_owner.eq(owner),
            j::lease_until.eq(lease_until),
            j::next_attempt_at.eq(now),
            j::actor_id.eq(n.actor_id),
            j::created_at.eq(now),
            j::started_at.eq(running.then_some(now)),
        ))
        .returning(FeedJobRow::as_returning())
        .get_result(c)?)
}

/// The job with this ID.
pub fn job(c: &mut Conn, id: i64) -> Result<Option<FeedJobRow>, StoreError> {
    Ok(j::table.find(id).select(FeedJobRow::as_select()).get_result(c).optional()?)
}

/// The file of a job (none once applied).
pub fn body(c: &mut Conn, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(j::table.find(id).select(j::body).get_result::<Option<Vec<u8>>>(c).optional()?.flatten())
}

/// An earlier job of the partner's with the same file that applied it, or will (queued or
/// running, not a dry run).
pub fn same_file(c: &mut Conn, partner: i64, hash: &str) -> Result<Option<FeedJobRow>, StoreError> {
    Ok(j::table
        .filter(j::partner_id.eq(partner))
        .filter(j::content_hash.eq(hash))
        .filter(j::mode.ne("validate_only"))
        .filter(j::applied.eq(true).or(j::state.eq_any(["queued", "running"])))
        .select(FeedJobRow::as_select())
        .order(j::id.asc())
        .first(c)
        .optional()?)
}

/// One page of jobs, newest first, and the total.
pub fn list_jobs(
    c: &mut Conn,
    partner: Option<i64>,
    state: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<FeedJobRow>, i64), StoreError> {
    let build = || {
        let mut q = j::table.into_boxed();
        if let Some(p) = partner {
            q = q.filter(j::partner_id.eq(p));
        }
        if let Some(st) = state {
            q = q.filter(j::state.eq(st));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .select(FeedJobRow::as_select())
        .order(j::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .load(c)?;
    Ok((rows, total))
}

/// Claims the oldest job that is due (queued and due, or running with a lapsed lease: its
/// worker died) for `owner` until `lease_until`; counts the attempt.
pub fn claim(
    c: &mut Conn,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<FeedJobRow>, StoreError> {
    let due: Option<i64> = j::table
        .filter(
            j::state
                .eq("queued")
                .and(j::next_attempt_at.le(now))
                .or(j::state.eq("running").and(j::lease_until.lt(now))),
        )
        .select(j::id)
        .order(j::id.asc())
        .first(c)
        .optional()?;
    let Some(id) = due else { return Ok(None) };
    Ok(diesel::update(j::table.find(id))
        .set((
            j::state.eq("running"),
            j::lease_owner.eq(owner),
            j::lease_until.eq(lease_until),
            j::attempts.eq(j::attempts + 1),
            j::started_at.eq(now),
        ))
        .returning(FeedJobRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// What a finished attempt found.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Data rows.
    pub total: i64,
    /// Created.
    pub created: i64,
    /// Updated.
    pub updated: i64,
    /// Unchanged.
    pub unchanged: i64,
    /// Refused.
    pub rejected: i64,
}

/// Ends the job held by `owner`: `succeeded` (or `failed` with `error`), its counts, whether
/// it was applied; the file is dropped on success. `None` when another worker took it over.
pub fn finish(
    c: &mut Conn,
    id: i64,
    owner: &str,
    counts: Counts,
    applied: bool,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<FeedJobRow>, StoreError> {
    let state = if error.is_some() { "failed" } else { "succeeded" };
    let keep_body = error.is_some();
    let q = diesel::update(j::table.find(id).filter(j::lease_owner.eq(owner)));
    let set = (
        j::state.eq(state),
        j::rows_total.eq(counts.total),
        j::rows_created.eq(counts.created),
        j::rows_updated.eq(counts.updated),
        j::rows_unchanged.eq(counts.unchanged),
        j::rows_rejected.eq(counts.rejected),
        j::applied.eq(applied),
        j::last_error.eq(error),
        j::lease_owner.eq(None::<String>),
        j::lease_until.eq(None::<DateTime<Utc>>),
        j::finished_at.eq(now),
    );
    let row = if keep_body {
        q.set(set).returning(FeedJobRow::as_returning()).get_result(c).optional()?
    } else {
        q.set((set, j::body.eq(None::<Vec<u8>>)))
            .returning(FeedJobRow::as_returning())
            .get_result(c)
            .optional()?
    };
    Ok(row)
}

/// Gives a job back to the queue after a transient failure, due again at `next`.
pub fn retry_later(
    c: &mut Conn,
    id: i64,
    owner: &str,
    error: &str,
    next: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(diesel::update(j::table.find(id).filter(j::lease_owner.eq(owner)))
        .set((
            j::state.eq("queued"),
            j::last_error.eq(error),
            j::lease_owner.eq(None::<String>),
            j::lease_until.eq(None::<DateTime<Utc>>),
            j::next_attempt_at.eq(next),
        ))
        .execute(c)?
        == 1)
}

/// Puts a failed job back in the queue with its attempts reset; `None` when it is missing or
/// not failed.
pub fn requeue(c: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<Option<FeedJobRow>, StoreError> {
    Ok(diesel::update(j::table.find(id).filter(j::state.eq("failed")).filter(j::body.is_not_null()))
        .set((
            j::state.eq("queued"),
            j::attempts.eq(0),
            j::next_attempt_at.eq(now),
            j::last_error.eq(None::<String>),
            j::finished_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(FeedJobRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Jobs waiting (queued, or running), for the backlog gauge.
pub fn backlog(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(j::table.filter(j::state.eq_any(["queued", "running"])).count().get_result(c)?)
}

/// Replaces the row errors of a job.
pub fn set_errors(c: &mut Conn, job: i64, errors: &[(i64, &str, &str)]) -> Result<(), StoreError> {
    diesel::delete(e::table.filter(e::job_id.eq(job))).execute(c)?;
    for chunk in errors.chunks(300) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(row, field, reason)| {
                (e::job_id.eq(job), e::row_num.eq(row), e::field.eq(field), e::reason.eq(reason))
            })
            .collect();
        diesel::insert_into(e::table).values(rows).execute(c)?;
    }
    Ok(())
}

/// Up to `limit` row errors of a job from `after` (an error ID), in file order: (ID, row,
/// field, reason).
pub fn errors(
    c: &mut Conn,
    job: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, String, String)>, StoreError> {
    Ok(e::table
        .filter(e::job_id.eq(job))
        .filter(e::id.gt(after))
        .select((e::id, e::row_num, e::field, e::reason))
        .order(e::id.asc())
        .limit(limit)
        .load(c)?)
}

// ------------------------------------------------------------------------------- products

/// The products with these SKUs, with their owner.
pub fn products_by_sku(
    c: &mut Conn,
    skus: &[&str],
) -> Result<HashMap<String, (ProductRow, Option<i64>)>, StoreError> {
    let mut out = HashMap::with_capacity(skus.len());
    for chunk in skus.chunks(500) {
        let rows: Vec<(ProductRow, Option<i64>)> = products::table
            .filter(products::sku.eq_any(chunk))
            .select((ProductRow::as_select(), products::partner_id))
            .load(c)?;
        out.extend(rows.into_iter().map(|(p, owner)| (p.sku.clone(), (p, owner))));
    }
    Ok(out)
}

/// A product a feed creates or updates.
#[derive(Debug, Clone)]
pub struct FeedProduct<'a> {
    /// SKU.
    pub sku: &'a str,
    /// Name.
    pub name: &'a str,
    /// Description.
    pub description: &'a str,
    /// Price in minor units.
    pub price_cents: i64,
    /// Currency code.
    pub currency: &'a str,
    /// Category.
    pub category: &'a str,
    /// Stock on hand wanted.
    pub stock: i64,
}

/// Pages of the database the writer keeps in memory while a feed is applied (the default is
/// 2 MiB): index and full-text pages stay cached from one chunk to the next.
const FEED_CACHE_KIB: i64 = 16 * 1024;

/// Widens the writer's page cache for a feed's chunks (SQLite-specific).
pub fn widen_cache(c: &mut Conn) -> Result<(), StoreError> {
    diesel::sql_query(format!("PRAGMA cache_size = -{FEED_CACHE_KIB}")).execute(c)?;
    Ok(())
}

/// Puts the writer's page cache back to SQLite's default (its memory is freed).
pub fn reset_cache(c: &mut Conn) -> Result<(), StoreError> {
    diesel::sql_query("PRAGMA cache_size = -2000").execute(c)?;
    Ok(())
}

/// Rows per statement of [`create_products`]. Few, large statements matter here: each
/// statement that writes through the full-text trigger opens a statement savepoint, at which
/// FTS5 writes what it has pending as a new index segment, and many small segments cost
/// merges. Larger ones keep more pages in the statement's journal (memory).
const CREATE_ROWS_PER_STATEMENT: usize = 2_000;

/// The products of a chunk go in as one JSON array bound to one short statement (SQLite's
/// `jsonb_each`): a multi-row `VALUES` list of 2,000 rows is 26,000 parameters that SQLite
/// parses anew for every statement, a twentieth of a large feed's time. `jsonb_each`, not
/// `json_each`: the array is parsed once and each row's `value` stays binary JSON, which
/// `->>` reads directly; `json_each` hands each row back as text that every `->>` parses
/// again (seven times a row; about a tenth of a large feed's time).
const CREATE_SQL: &str = "INSERT INTO products \
     (sku, name, description, price_cents, currency, stock, category, \
      active, returnable, version, partner_id, created_at, updated_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
            1, 1, 1, ?, ?, ? \
     FROM jsonb_each(?) \
     RETURNING id, stock";

/// The opening stock of created products, to the ledger, from a JSON array of
/// `[product_id, stock]`.
const LEDGER_SQL: &str = "INSERT INTO stock_movements (product_id, delta, stock_after, reason, created_at) \
     SELECT value ->> 0, value ->> 1, value ->> 1, ?, ? FROM jsonb_each(?)";

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    stock: i64,
}

/// Creates the partner's products with their stock, each stock landing in the ledger with
/// `reason`, in the caller's transaction, [`CREATE_ROWS_PER_STATEMENT`] rows per statement.
pub fn create_products(
    c: &mut Conn,
    partner: i64,
    items: &[FeedProduct<'_>],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use diesel::sql_types::{BigInt, Text, TimestamptzSqlite};
    let mut n = 0;
    for chunk in items.chunks(CREATE_ROWS_PER_STATEMENT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|p| (p.sku, p.name, p.description, p.price_cents, p.currency, p.stock, p.category))
            .collect();
        let json = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let created: Vec<Created> = diesel::sql_query(CREATE_SQL)
            .bind::<BigInt, _>(partner)
            .bind::<TimestamptzSqlite, _>(now)
            .bind::<TimestamptzSqlite, _>(now)
            .bind::<Text, _>(&json)
            .load(c)?;
        let opening: Vec<(i64, i64)> =
            created.iter().filter(|r| r.stock > 0).map(|r| (r.id, r.stock)).collect();
        if !opening.is_empty() {
            let json = serde_json::to_string(&opening).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            diesel::sql_query(LEDGER_SQL)
                .bind::<Text, _>(reason)
                .bind::<TimestamptzSqlite, _>(now)
                .bind::<Text, _>(&json)
                .execute(c)?;
        }
        n += created.len();
    }
    Ok(n)
}

/// Updates the partner's product `id` to `p` (only if it is still the partner's); a stock
/// change goes through the ledger with `reason`. `false` when the product is gone or not the
/// partner's, or the stock would not fit.
pub fn update_product(
    c: &mut Conn,
    partner: i64,
    id: i64,
    p: &FeedProduct<'_>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let before: Option<i64> = products::table
        .filter(products::id.eq(id))
        .filter(products::partner_id.eq(partner))
        .select(products::stock)
        .get_result(c)
        .optional()?;
    let Some(stock) = before else { return Ok(false) };
    diesel::update(products::table.find(id))
        .set((
            products::name.eq(p.name),
            products::description.eq(p.description),
            products::price_cents.eq(p.price_cents),
            products::currency.eq(p.currency),
            products::category.eq(p.category),
            products::version.eq(products::version + 1),
            products::updated_at.eq(now),
        ))
        .execute(c)?;
    let delta = p.stock - stock;
    if delta != 0 {
        return Ok(super::products::apply_stock_delta(c, id, delta, reason, None, now)?.is_some());
    }
    Ok(true)
}

// ------------------------------------------------------------------------------ schedules

/// Adds a schedule, first due at `now`.
pub fn insert_schedule(
    c: &mut Conn,
    partner: i64,
    url: &str,
    interval_secs: i64,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<FeedScheduleRow, StoreError> {
    Ok(diesel::insert_into(s::table)
        .values((
            s::partner_id.eq(partner),
            s::url.eq(url),
            s::interval_secs.eq(interval_secs),
            s::enabled.eq(enabled),
            s::next_run_at.eq(now),
            s::created_at.eq(now),
            s::updated_at.eq(now),
        ))
        .returning(FeedScheduleRow::as_returning())
        .get_result(c)?)
}

/// Every schedule, by partner then ID.
pub fn schedules(c: &mut Conn) -> Result<Vec<FeedScheduleRow>, StoreError> {
    Ok(s::table.select(FeedScheduleRow::as_select()).order((s::partner_id, s::id)).load(c)?)
}

/// The schedule with this ID.
pub fn schedule(c: &mut Conn, id: i64) -> Result<Option<FeedScheduleRow>, StoreError> {
    Ok(s::table.find(id).select(FeedScheduleRow::as_select()).get_result(c).optional()?)
}

/// Changes a schedule's URL, interval or switch; a new interval or a switch-on makes it due
/// at once.
pub fn update_schedule(
    c: &mut Conn,
    id: i64,
    url: Option<&str>,
    interval_secs: Option<i64>,
    enabled: Option<bool>,
    now: DateTime<Utc>,
) -> Result<Option<FeedScheduleRow>, StoreError> {
    let Some(cur) = schedule(c, id)? else { return Ok(None) };
    let url_changed = url.is_some_and(|u| u != cur.url);
    let next =
        if url_changed || interval_secs.is_some() || enabled == Some(true) { now } else { cur.next_run_at };
    Ok(diesel::update(s::table.find(id))
        .set((
            s::url.eq(url.unwrap_or(&cur.url)),
            s::interval_secs.eq(interval_secs.unwrap_or(cur.interval_secs)),
            s::enabled.eq(enabled.unwrap_or(cur.enabled)),
            s::next_run_at.eq(next),
            // a new URL: the old validators mean nothing there
            s::etag.eq(if url_changed { None } else { cur.etag.clone() }),
            s::last_modified.eq(if url_changed { None } else { cur.last_modified.clone() }),
            s::updated_at.eq(now),
        ))
        .returning(FeedScheduleRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Deletes a schedule (its runs go with it); `false` when missing.
pub fn delete_schedule(c: &mut Conn, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::delete(s::table.find(id)).execute(c)? == 1)
}

/// Claims the next schedule due (enabled, `next_run_at` passed, no live lease) until
/// `lease_until`.
pub fn claim_schedule(
    c: &mut Conn,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<FeedScheduleRow>, StoreError> {
    let due: Option<i64> = s::table
        .filter(s::enabled.eq(true))
        .filter(s::next_run_at.le(now))
        .filter(s::lease_until.is_null().or(s::lease_until.lt(now)))
        .select(s::id)
        .order(s::next_run_at.asc())
        .first(c)
        .optional()?;
    let Some(id) = due else { return Ok(None) };
    Ok(diesel::update(s::table.find(id))
        .set(s::lease_until.eq(lease_until))
        .returning(FeedScheduleRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Records a run: its outcome, the validators to send next time, when it runs next.
#[allow(clippy::too_many_arguments)]
pub fn record_run(
    c: &mut Conn,
    id: i64,
    outcome: &str,
    http_status: Option<i64>,
    job: Option<i64>,
    validators: (Option<&str>, Option<&str>),
    next: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let cur = schedule(c, id)?;
    let (etag, modified) = validators;
    diesel::update(s::table.find(id))
        .set((
            s::last_run_at.eq(now),
            s::last_outcome.eq(outcome),
            s::next_run_at.eq(next),
            s::lease_until.eq(None::<DateTime<Utc>>),
            s::etag.eq(etag.map(str::to_owned).or_else(|| cur.as_ref().and_then(|r| r.etag.clone()))),
            s::last_modified.eq(modified
                .map(str::to_owned)
                .or_else(|| cur.as_ref().and_then(|r| r.last_modified.clone()))),
        ))
        .execute(c)?;
    diesel::insert_into(sr::table)
        .values((
            sr::schedule_id.eq(id),
            sr::outcome.eq(outcome),
            sr::http_status.eq(http_status),
            sr::job_id.eq(job),
            sr::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// The last `n` runs of each schedule, newest first.
pub fn recent_runs(
    c: &mut Conn,
    schedules: &[i64],
    n: usize,
) -> Result<HashMap<i64, Vec<ScheduleRunRow>>, StoreError> {
    let mut out: HashMap<i64, Vec<ScheduleRunRow>> = HashMap::new();
    for id in schedules {
        let rows = sr::table
            .filter(sr::schedule_id.eq(id))
            .select(ScheduleRunRow::as_select())
            .order(sr::id.desc())
            .limit(i64::try_from(n).unwrap_or(10))
            .load(c)?;
        out.insert(*id, rows);
    }
    Ok(out)
}
