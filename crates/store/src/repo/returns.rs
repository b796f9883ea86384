//! Returns (RMAs): the return, its lines, its append-only event log, its photos and its
//! effects (every money and stock movement, each under its own idempotency key). Every change
//! of a return is conditional on the version the caller read, so two staff acting at once
//! never both move it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use retail_domain::paging::PageRequest;

use super::sum_i64;

use crate::models::{RmaEffectRow, RmaEventRow, RmaLineRow, RmaPhotoRow, RmaRow};
use crate::schema::{rma_effects as fx, rma_events as ev, rma_lines as rl, rma_photos as ph, rmas, users};
use crate::{Conn, StoreError};

/// A new return.
#[derive(Debug, Clone)]
pub struct NewRma<'a> {
    /// The customer.
    pub user_id: i64,
    /// The order returned from.
    pub order_id: i64,
    /// Its first stage.
    pub stage: &'a str,
    /// Reason code.
    pub reason: &'a str,
    /// The customer's words.
    pub description: Option<&'a str>,
    /// Why the automatic check refused it (JSON), if it did.
    pub problems: Option<&'a str>,
    /// ISO code.
    pub currency: &'a str,
    /// What was paid for the units.
    pub gross_cents: i64,
}

/// A line of a new return.
#[derive(Debug, Clone)]
pub struct NewRmaLine {
    /// The order line.
    pub order_line_id: i64,
    /// Its product.
    pub product_id: i64,
    /// Copied from the order line.
    pub sku: String,
    /// Copied from the order line.
    pub name: String,
    /// The unit price paid.
    pub unit_price_cents: i64,
    /// Units returned.
    pub quantity: i64,
}

/// Inserts a return and its lines.
pub fn insert(
    c: &mut Conn,
    n: &NewRma<'_>,
    lines: &[NewRmaLine],
    now: DateTime<Utc>,
) -> Result<(RmaRow, Vec<RmaLineRow>), StoreError> {
    let rma: RmaRow = diesel::insert_into(rmas::table)
        .values((
            rmas::user_id.eq(n.user_id),
            rmas::order_id.eq(n.order_id),
            rmas::stage.eq(n.stage),
            rmas::reason.eq(n.reason),
            rmas::description.eq(n.description),
            rmas::problems.eq(n.problems),
            rmas::currency.eq(n.currency),
            rmas::gross_cents.eq(n.gross_cents),
            rmas::stage_entered_at.eq(now),
            rmas::created_at.eq(now),
            rmas::updated_at.eq(now),
        ))
        .returning(RmaRow::as_returning())
        .get_result(c)?;
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        out.push(
            diesel::insert_into(rl::table)
                .values((
                    rl::rma_id.eq(rma.id),
                    rl::order_line_id.eq(l.order_line_id),
                    rl::product_id.eq(l.product_id),
                    rl::sku.eq(&l.sku),
                    rl::name.eq(&l.name),
                    rl::unit_price_cents.eq(l.unit_price_cents),
                    rl::quantity.eq(l.quantity),
                ))
                .returning(RmaLineRow::as_returning())
                .get_result(c)?,
        );
    }
    Ok((rma, out))
}

/// The return with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<RmaRow>, StoreError> {
    Ok(rmas::table.find(id).select(RmaRow::as_select()).get_result(c).optional()?)
}

/// A return's lines.
pub fn lines(c: &mut Conn, rma_id: i64) -> Result<Vec<RmaLineRow>, StoreError> {
    Ok(rl::table.filter(rl::rma_id.eq(rma_id)).order(rl::id.asc()).select(RmaLineRow::as_select()).load(c)?)
}

/// The lines of several returns.
pub fn lines_of(c: &mut Conn, ids: &[i64]) -> Result<Vec<RmaLineRow>, StoreError> {
    Ok(rl::table
        .filter(rl::rma_id.eq_any(ids))
        .order(rl::id.asc())
        .select(RmaLineRow::as_select())
        .load(c)?)
}

/// Units of each line of `order_id` held by returns in one of `holding` stages (open or
/// completed): `(order_line_id, units)`.
pub fn claimed_units(c: &mut Conn, order_id: i64, holding: &[&str]) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows: Vec<(i64, Option<i64>)> = rl::table
        .inner_join(rmas::table)
        .filter(rmas::order_id.eq(order_id))
        .filter(rmas::stage.eq_any(holding))
        .group_by(rl::order_line_id)
        .select((rl::order_line_id, sum_i64("`rma_lines`.`quantity`")))
        .load(c)?;
    Ok(rows.into_iter().map(|(l, n)| (l, n.unwrap_or(0))).collect())
}

/// Up to `limit` returns in `stage` that entered it before `cutoff`, oldest first.
pub fn entered_before(
    c: &mut Conn,
    stage: &str,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RmaRow>, StoreError> {
    Ok(rmas::table
        .filter(rmas::stage.eq(stage))
        .filter(rmas::stage_entered_at.lt(cutoff))
        .order(rmas::stage_entered_at.asc())
        .limit(limit)
        .select(RmaRow::as_select())
        .load(c)?)
}

/// Whether the customer has any return.
pub fn any_of_user(c: &mut Conn, user_id: i64) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(rmas::table.filter(rmas::user_id.eq(user_id)))).get_result(c)?)
}

/// The returns of an order, oldest first.
pub fn for_order(c: &mut Conn, order_id: i64) -> Result<Vec<RmaRow>, StoreError> {
    Ok(rmas::table
        .filter(rmas::order_id.eq(order_id))
        .order(rmas::id.asc())
        .select(RmaRow::as_select())
        .load(c)?)
}

/// What a change of a return sets besides its version (only the `Some` fields).
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = rmas)]
pub struct RmaChanges<'a> {
    /// The new stage (its `stage_entered_at` is set with it by [`update`]).
    pub stage: Option<&'a str>,
    /// Carrier of the parcel sent back.
    pub carrier: Option<&'a str>,
    /// Its tracking code.
    pub tracking: Option<&'a str>,
    /// The condition found.
    pub condition: Option<&'a str>,
    /// The warehouse's notes.
    pub inspection_note: Option<&'a str>,
    /// Finance's decision.
    pub disposition: Option<&'a str>,
    /// Finance's note.
    pub decision_note: Option<&'a str>,
    /// The restocking fee at the condition found.
    pub fee_cents: Option<i64>,
    /// The refund or credit decided.
    pub amount_cents: Option<i64>,
    /// The card part of the refund.
    pub refund_card_cents: Option<i64>,
    /// The store-credit part of the refund.
    pub refund_credit_cents: Option<i64>,
    /// Attempts at processing.
    pub attempts: Option<i64>,
    /// The last processing failure (`Some(None)` clears it).
    pub last_error: Option<Option<&'a str>>,
    /// The replacement order.
    pub replacement_order_id: Option<i64>,
    /// How the goods left (repair shipped back, returned, disposed).
    pub outcome: Option<&'a str>,
    /// Carrier of the goods sent back to the customer.
    pub outcome_carrier: Option<&'a str>,
    /// Its tracking code.
    pub outcome_tracking: Option<&'a str>,
}

/// Applies `changes` to the return if it is still at `version` (bumping it); `None` when
/// someone else changed it first (or it does not exist). A stage change also restarts the
/// stage clock.
pub fn update(
    c: &mut Conn,
    id: i64,
    version: i64,
    changes: &RmaChanges<'_>,
    now: DateTime<Utc>,
) -> Result<Option<RmaRow>, StoreError> {
    let target = rmas::table.filter(rmas::id.eq(id)).filter(rmas::version.eq(version));
    let bump = (rmas::version.eq(version + 1), rmas::updated_at.eq(now));
    let row = if changes.stage.is_some() {
        diesel::update(target)
            .set((bump, rmas::stage_entered_at.eq(now), changes))
            .returning(RmaRow::as_returning())
            .get_result(c)
            .optional()?
    } else {
        diesel::update(target)
            .set((bump, changes))
            .returning(RmaRow::as_returning())
            .get_result(c)
            .optional()?
    };
    Ok(row)
}

/// An entry of a return's log.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The return.
    pub rma_id: i64,
    /// Who (None for the system).
    pub actor_id: Option<i64>,
    /// As whom: `customer`, a staff role, or `system`.
    pub actor_role: &'a str,
    /// What was done.
    pub action: &'a str,
    /// The stage before (None on creation).
    pub from_stage: Option<&'a str>,
    /// The stage after.
    pub to_stage: &'a str,
    /// A note.
    pub note: Option<&'a str>,
    /// Seconds spent in `from_stage`.
    pub stage_secs: i64,
}

/// Appends an entry to a return's log.
pub fn append_event(c: &mut Conn, e: &NewEvent<'_>, now: DateTime<Utc>) -> Result<RmaEventRow, StoreError> {
    Ok(diesel::insert_into(ev::table)
        .values((
            ev::rma_id.eq(e.rma_id),
            ev::actor_id.eq(e.actor_id),
            ev::actor_role.eq(e.actor_role),
            ev::action.eq(e.action),
            ev::from_stage.eq(e.from_stage),
            ev::to_stage.eq(e.to_stage),
            ev::note.eq(e.note),
            ev::stage_secs.eq(e.stage_secs.max(0)),
            ev::created_at.eq(now),
        ))
        .returning(RmaEventRow::as_returning())
        .get_result(c)?)
}

/// A return's log, oldest first, with each actor's email.
pub fn events(c: &mut Conn, rma_id: i64) -> Result<Vec<(RmaEventRow, Option<String>)>, StoreError> {
    Ok(ev::table
        .left_join(users::table.on(users::id.nullable().eq(ev::actor_id)))
        .filter(ev::rma_id.eq(rma_id))
        .order(ev::id.asc())
        .select((RmaEventRow::as_select(), users::email.nullable()))
        .load(c)?)
}

/// A photo to record.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    /// The return.
    pub rma_id: i64,
    /// The random file name under the photo directory.
    pub stored_name: &'a str,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'a str,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: &'a str,
    /// Who uploaded it.
    pub uploaded_by: Option<i64>,
}

/// Records a photo.
pub fn insert_photo(c: &mut Conn, p: &NewPhoto<'_>, now: DateTime<Utc>) -> Result<RmaPhotoRow, StoreError> {
    Ok(diesel::insert_into(ph::table)
        .values((
            ph::rma_id.eq(p.rma_id),
            ph::stored_name.eq(p.stored_name),
            ph::content_type.eq(p.content_type),
            ph::size_bytes.eq(p.size_bytes),
            ph::sha256.eq(p.sha256),
            ph::uploaded_by.eq(p.uploaded_by),
            ph::created_at.eq(now),
        ))
        .returning(RmaPhotoRow::as_returning())
        .get_result(c)?)
}

/// A return's photos, oldest first.
pub fn photos(c: &mut Conn, rma_id: i64) -> Result<Vec<RmaPhotoRow>, StoreError> {
    Ok(ph::table
        .filter(ph::rma_id.eq(rma_id))
        .order(ph::id.asc())
        .select(RmaPhotoRow::as_select())
        .load(c)?)
}

/// One photo of a return.
pub fn photo(c: &mut Conn, rma_id: i64, id: i64) -> Result<Option<RmaPhotoRow>, StoreError> {
    Ok(ph::table
        .filter(ph::rma_id.eq(rma_id))
        .filter(ph::id.eq(id))
        .select(RmaPhotoRow::as_select())
        .get_result(c)
        .optional()?)
}

/// A money or stock movement of a return.
#[derive(Debug, Clone)]
pub struct NewEffect<'a> {
    /// The return.
    pub rma_id: i64,
    /// Unique per movement.
    pub idempotency_key: &'a str,
    /// `refund_card`, `refund_credit`, `store_credit`, `restock` or `replacement`.
    pub kind: &'a str,
    /// Money moved.
    pub amount_cents: i64,
    /// Product moved.
    pub product_id: Option<i64>,
    /// Units moved.
    pub quantity: i64,
    /// The provider's refund reference, the replacement order, ...
    pub reference: Option<&'a str>,
}

/// Records an effect under its key; `false` (nothing written) when the key was recorded
/// before: the caller must then not move the money or stock again.
pub fn record_effect(c: &mut Conn, e: &NewEffect<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::insert_into(fx::table)
        .values((
            fx::rma_id.eq(e.rma_id),
            fx::idempotency_key.eq(e.idempotency_key),
            fx::kind.eq(e.kind),
            fx::amount_cents.eq(e.amount_cents),
            fx::product_id.eq(e.product_id),
            fx::quantity.eq(e.quantity),
            fx::reference.eq(e.reference),
            fx::created_at.eq(now),
        ))
        .on_conflict(fx::idempotency_key)
        .do_nothing()
        .execute(c)?;
    Ok(n == 1)
}

/// A return's effects, oldest first.
pub fn effects(c: &mut Conn, rma_id: i64) -> Result<Vec<RmaEffectRow>, StoreError> {
    Ok(fx::table
        .filter(fx::rma_id.eq(rma_id))
        .order(fx::id.asc())
        .select(RmaEffectRow::as_select())
        .load(c)?)
}

/// Money refunded to store credit by the returns of `order_id` (the `refund_credit` effects).
pub fn credit_refunded_for_order(c: &mut Conn, order_id: i64) -> Result<i64, StoreError> {
    let total: Option<i64> = fx::table
        .inner_join(rmas::table)
        .filter(rmas::order_id.eq(order_id))
        .filter(fx::kind.eq("refund_credit"))
        .select(sum_i64("`rma_effects`.`amount_cents`"))
        .get_result(c)?;
    Ok(total.unwrap_or(0))
}

/// Per kind of effect: `(kind, money, units, count)` over every return.
pub fn effect_totals(c: &mut Conn) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
    let rows: Vec<(String, Option<i64>, Option<i64>, i64)> = fx::table
        .group_by(fx::kind)
        .select((
            fx::kind,
            sum_i64("`rma_effects`.`amount_cents`"),
            sum_i64("`rma_effects`.`quantity`"),
            diesel::dsl::count_star(),
        ))
        .load(c)?;
    Ok(rows.into_iter().map(|(k, a, q, n)| (k, a.unwrap_or(0), q.unwrap_or(0), n)).collect())
}

/// Number of returns per stage.
pub fn stage_counts(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(rmas::table.group_by(rmas::stage).select((rmas::stage, diesel::dsl::count_star())).load(c)?)
}

/// Every time spent in a stage that was left: `(stage, seconds)`, sorted by stage then time
/// (so the median of each stage is its middle entry).
pub fn stage_durations(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    let rows: Vec<(Option<String>, i64)> = ev::table
        .filter(ev::from_stage.is_not_null())
        .order((ev::from_stage.asc(), ev::stage_secs.asc()))
        .select((ev::from_stage, ev::stage_secs))
        .load(c)?;
    Ok(rows.into_iter().filter_map(|(s, n)| s.map(|s| (s, n))).collect())
}

/// Which returns a list shows.
#[derive(Debug, Default, Clone)]
pub struct RmaFilter {
    /// Only this customer's.
    pub user_id: Option<i64>,
    /// Only in these stages (empty: any).
    pub stages: Vec<String>,
    /// Customer email containing this, or this return or order number.
    pub search: Option<String>,
    /// Only those that entered their stage before the cutoff given for it (SLA breaches).
    pub entered_before: Vec<(String, DateTime<Utc>)>,
}

type RmaSql = diesel::sql_types::Bool;
type Clause = Box<
    dyn BoxableExpression<
            diesel::helper_types::InnerJoinQuerySource<rmas::table, users::table>,
            Sqlite,
            SqlType = RmaSql,
        >,
>;

/// One page of returns with their customer's email: a customer's newest first, a staff
/// queue (`oldest_first`) by the time it entered its stage.
pub fn list(
    c: &mut Conn,
    f: &RmaFilter,
    page: PageRequest,
    oldest_first: bool,
) -> Result<(Vec<(RmaRow, String)>, i64), StoreError> {
    let ids_like =
        |term: &str| -> Option<i64> { term.trim().trim_start_matches(['#', 'R', 'r', '-']).parse().ok() };
    let build = || {
        let mut q = rmas::table.inner_join(users::table).into_boxed();
        if let Some(u) = f.user_id {
            q = q.filter(rmas::user_id.eq(u));
        }
        if !f.stages.is_empty() {
            q = q.filter(rmas::stage.eq_any(f.stages.clone()));
        }
        if let Some(term) = &f.search {
            let by_email = users::email.like(super::like_pattern(term)).escape('\\');
            q = match ids_like(term) {
                Some(n) => q.filter(by_email.or(rmas::id.eq(n)).or(rmas::order_id.eq(n))),
                None => q.filter(by_email),
            };
        }
        if !f.entered_before.is_empty() {
            let mut any: Option<Clause> = None;
            for (stage, cutoff) in &f.entered_before {
                let one: Clause =
                    Box::new(rmas::stage.eq(stage.clone()).and(rmas::stage_entered_at.lt(*cutoff)));
                any = Some(match any {
                    Some(prev) => Box::new(prev.or(one)),
                    None => one,
                });
            }
            if let Some(clause) = any {
                q = q.filter(clause);
            }
        }
        q
    };
    let total = build().count().get_result(c)?;
    let q = build();
    let q = if oldest_first {
        q.order((rmas::stage_entered_at.asc(), rmas::id.asc()))
    } else {
        q.order(rmas::id.desc())
    };
    let rows =
        q.limit(page.limit()).offset(page.offset()).select((RmaRow::as_select(), users::email)).load(c)?;
    Ok((rows, total))
}

/// Returns whose recorded movements disagree with what was decided: a completed refund or
/// store credit whose money effects differ from its amount (or a refund whose card effects
/// differ from its card part); a completed return whose restocked units differ from its units
/// when resellable goods were kept (refund, replacement, store credit), or that restocked
/// anything otherwise; a replacement without exactly one replacement order; any effect on a
/// return that is neither completed nor processing. Their IDs, ascending.
pub fn discrepancies(c: &mut Conn) -> Result<Vec<i64>, StoreError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT r.id AS id FROM rmas r \
         LEFT JOIN (SELECT rma_id, \
                      SUM(CASE WHEN kind IN ('refund_card', 'refund_credit', 'store_credit') THEN amount_cents ELSE 0 END) AS money, \
                      SUM(CASE WHEN kind = 'refund_card' THEN amount_cents ELSE 0 END) AS card, \
                      SUM(CASE WHEN kind = 'restock' THEN quantity ELSE 0 END) AS restocked, \
                      SUM(CASE WHEN kind = 'replacement' THEN 1 ELSE 0 END) AS replacements \
                    FROM rma_effects GROUP BY rma_id) e ON e.rma_id = r.id \
         LEFT JOIN (SELECT rma_id, SUM(quantity) AS units FROM rma_lines GROUP BY rma_id) l ON l.rma_id = r.id \
         WHERE (r.stage = 'completed' AND ( \
                  COALESCE(e.money, 0) <> CASE WHEN r.disposition IN ('refund', 'store_credit') THEN COALESCE(r.amount_cents, 0) ELSE 0 END \
               OR (r.disposition = 'refund' AND COALESCE(e.card, 0) <> COALESCE(r.refund_card_cents, 0)) \
               OR COALESCE(e.restocked, 0) <> CASE WHEN r.condition = 'resellable' \
                      AND r.disposition IN ('refund', 'replacement', 'store_credit') THEN COALESCE(l.units, 0) ELSE 0 END \
               OR COALESCE(e.replacements, 0) <> CASE WHEN r.disposition = 'replacement' THEN 1 ELSE 0 END)) \
            OR (r.stage NOT IN ('completed', 'processing') AND e.rma_id IS NOT NULL) \
         ORDER BY r.id",
    )
    .load(c)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
