//! Flash sales: scheduling (admin), the public listing, reservations, and the hooks checkout
//! calls to pay a reservation.
//!
//! - **Allocation.** Scheduling a sale takes each item's allocated units from stock through
//!   the ledger. When the sale is over (at its end, or when an admin ends it) what is neither
//!   sold nor held goes back through the ledger, once (`settled_at`); a hold released after
//!   that returns its units to stock, not to the sale.
//! - **Reserving** is one write transaction: the sale must be live, lapsed holds of the item
//!   are expired first (lazily; the worker sweeps the rest), the rules of
//!   [`retail_domain::sale::can_reserve`] decide, and one conditional statement adds to
//!   `reserved` only while `sold + reserved + units <= allocated`. The cap counts the
//!   customer's live holds and purchases across the whole sale.
//! - **Sold out from memory.** An item seen sold out is answered 409 by this process for
//!   `flash.sold_out_memo_ms` without touching the write path; units coming back through
//!   this process clear the mark at once.
//! - **Paying** goes through checkout (`reservation_id`): the order takes the reservation's
//!   units at its locked price (the stock was taken at allocation), and the reservation moves
//!   to `paid` in the order's transaction, only if it has not lapsed. A declined card
//!   releases the hold.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use retail_api_types::{
    AdminSale, AdminSaleList, FlashPageQuery, FlashReservation, FlashReservationList, FlashSale,
    FlashSaleItem, FlashSaleList, ProductSale, ReserveRequest, SaleItemRequest, SaleRequest,
    SaleUpdateRequest,
};
use retail_domain::account::Permission;
use retail_domain::ids::OrderId;
use retail_domain::paging::PageRequest;
use retail_domain::sale::{
    self, Allocation, Discount, NewSale, NewSaleItem, ProductFacts, Reservation, ReservationAction,
    ReservationError, ReservationState, SaleChangeError, SaleState, SaleTimes, SaleWindow, Timestamp,
};
use retail_domain::{Caller, Money, ProductId, UserId};
use retail_store::Conn;
use retail_store::models::{OrderLineRow, ProductRow, ReservationRow, SaleItemRow, SaleRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::products;
use retail_store::repo::sales::{self as repo, ReservationView};
use serde_json::json;

use super::catalog::{Listed, answer, page_etag};
use super::{ServiceError, pagination, write_as};
use crate::state::{AppState, CachedPage};

fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp::from_micros(t.timestamp_micros())
}

fn corrupt(what: String) -> ServiceError {
    super::corrupt(what)
}

fn times_of(s: &SaleRow) -> SaleTimes {
    SaleTimes {
        window: SaleWindow::new(ts(s.starts_at), ts(s.ends_at)),
        ended_early_at: s.ended_early_at.map(ts),
    }
}

/// The effective end: the scheduled one, or when an admin ended the sale.
fn end_of(s: &SaleRow) -> DateTime<Utc> {
    s.ended_early_at.map_or(s.ends_at, |e| e.min(s.ends_at))
}

fn discount_of(i: &SaleItemRow) -> Result<Discount, ServiceError> {
    match i.discount_kind.as_str() {
        "percent_off" => Ok(Discount::PercentOff {
            basis_points: u32::try_from(i.discount_value)
                .map_err(|_| corrupt(format!("discount of sale {} item {}", i.sale_id, i.product_id)))?,
        }),
        "sale_price" => Ok(Discount::SalePrice { price: Money(i.discount_value) }),
        other => Err(corrupt(format!("discount kind {other:?} of sale {}", i.sale_id))),
    }
}

fn discount_columns(d: Discount) -> (&'static str, i64) {
    match d {
        Discount::PercentOff { basis_points } => ("percent_off", i64::from(basis_points)),
        Discount::SalePrice { price } => ("sale_price", price.cents()),
    }
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn allocation(i: &SaleItemRow) -> Allocation {
    Allocation { allocated: count(i.allocated), sold: count(i.sold), reserved: count(i.reserved) }
}

fn secs(d: std::time::Duration) -> u64 {
    // Rounded up: a countdown shows 1 s until the very end.
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn item_dto(i: &SaleItemRow, p: &ProductRow) -> Result<FlashSaleItem, ServiceError> {
    let discount = discount_of(i)?;
    let a = allocation(i);
    Ok(FlashSaleItem {
        product_id: ProductId(p.id),
        sku: p.sku.clone(),
        name: p.name.clone(),
        image_url: p.image_url.clone(),
        currency: super::cart::currency_of(p)?,
        list_price_cents: p.price_cents,
        sale_price_cents: sale::sale_price(Money(p.price_cents), discount).cents(),
        discount,
        allocated: a.allocated,
        sold: a.sold,
        reserved: a.reserved,
        remaining: a.remaining(),
    })
}

fn sale_dto(
    s: &SaleRow,
    items: &[(SaleItemRow, ProductRow)],
    now: DateTime<Utc>,
) -> Result<FlashSale, ServiceError> {
    let times = times_of(s);
    let t = ts(now);
    Ok(FlashSale {
        id: s.id,
        name: s.name.clone(),
        state: times.state(t),
        starts_at: s.starts_at,
        ends_at: end_of(s),
        server_time: now,
        starts_in_secs: times.starts_in(t).map(secs),
        time_left_secs: times.time_left(t).map(secs),
        per_customer_cap: count(s.per_customer_cap),
        items: items.iter().map(|(i, p)| item_dto(i, p)).collect::<Result<_, _>>()?,
    })
}

fn admin_dto(
    s: &SaleRow,
    items: &[(SaleItemRow, ProductRow)],
    now: DateTime<Utc>,
) -> Result<AdminSale, ServiceError> {
    Ok(AdminSale {
        sale: sale_dto(s, items, now)?,
        scheduled_ends_at: s.ends_at,
        ended_early_at: s.ended_early_at,
        settled_at: s.settled_at,
        version: s.version,
        created_at: s.created_at,
    })
}

fn reservation_dto(v: ReservationView, now: DateTime<Utc>) -> Result<FlashReservation, ServiceError> {
    let (r, sale_name, sku, name) = v;
    let currency = retail_domain::Currency::parse("currency", &r.currency)
        .map_err(|_| corrupt(format!("currency of reservation {}", r.id)))?;
    let d = domain_reservation(&r)?;
    let state = if d.state == ReservationState::Held && d.is_due(ts(now)) {
        ReservationState::Expired
    } else {
        d.state
    };
    Ok(FlashReservation {
        id: r.id,
        sale_id: r.sale_id,
        sale_name,
        product_id: ProductId(r.product_id),
        sku,
        name,
        units: d.units,
        unit_price_cents: r.unit_price_cents,
        total_cents: r.unit_price_cents.saturating_mul(r.units),
        currency,
        state,
        expires_at: r.expires_at,
        time_left_secs: d.time_left(ts(now)).map(secs),
        order_id: r.order_id.map(OrderId),
        created_at: r.created_at,
    })
}

fn domain_reservation(r: &ReservationRow) -> Result<Reservation, ServiceError> {
    Ok(Reservation {
        units: count(r.units),
        unit_price: Money(r.unit_price_cents),
        expires_at: ts(r.expires_at),
        state: ReservationState::parse(&r.state)
            .ok_or_else(|| corrupt(format!("state {:?} of reservation {}", r.state, r.id)))?,
    })
}

fn page_of(q: &FlashPageQuery) -> Result<PageRequest, ServiceError> {
    PageRequest::parse(q.page, q.per_page).map_err(ServiceError::invalid_query)
}

fn sale_not_found(id: i64) -> ServiceError {
    ServiceError::not_found(format!("sale {id}"))
}

// --------------------------------------------------------------------------------- public

/// Live and upcoming sales, from memory when the page is younger than `flash.listing_ttl_ms`.
pub async fn listing(
    state: &AppState,
    q: &FlashPageQuery,
    if_none_match: Option<String>,
) -> Result<Listed, ServiceError> {
    let page = page_of(q)?;
    if let Some(p) = state.flash.listing(page.page, page.per_page) {
        return Ok(answer(&p, if_none_match.as_deref()));
    }
    let built = state
        .db
        .read(move |c| -> Result<(Bytes, Instant), ServiceError> {
            let started = Instant::now();
            let now = Utc::now();
            let (rows, total) = repo::listed(c, now, page)?;
            let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
            let mut items = group(repo::items_of(c, &ids)?);
            let items = rows
                .iter()
                .map(|s| sale_dto(s, &items.remove(&s.id).unwrap_or_default(), now))
                .collect::<Result<Vec<_>, _>>()?;
            let body = FlashSaleList { items, pagination: pagination(page, total) };
            Ok((Bytes::from(serde_json::to_vec(&body).map_err(ServiceError::internal)?), started))
        })
        .await?;
    let (bytes, started) = built;
    let p = state.flash.keep_listing(
        page.page,
        page.per_page,
        CachedPage::new(page_etag(&bytes), bytes, started),
    );
    Ok(answer(&p, if_none_match.as_deref()))
}

fn group(rows: Vec<(SaleItemRow, ProductRow)>) -> HashMap<i64, Vec<(SaleItemRow, ProductRow)>> {
    let mut out: HashMap<i64, Vec<_>> = HashMap::new();
    for r in rows {
        out.entry(r.0.sale_id).or_default().push(r);
    }
    out
}

/// One sale, in any state.
pub async fn get(state: &AppState, id: i64) -> Result<FlashSale, ServiceError> {
    state
        .db
        .read(move |c| {
            let now = Utc::now();
            let s = repo::by_id(c, id)?.ok_or_else(|| sale_not_found(id))?;
            sale_dto(&s, &repo::items(c, id)?, now)
        })
        .await
}

/// The sale overlay of each of `product_ids` that is in a live sale.
pub fn overlays(
    c: &mut Conn,
    product_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, ProductSale>, ServiceError> {
    let mut out = HashMap::new();
    for (item, s) in repo::live_items(c, product_ids, now)? {
        let list: i64 = products::by_id(c, item.product_id)?.map_or(0, |p| p.price_cents);
        let price = sale::sale_price(Money(list), discount_of(&item)?);
        out.insert(
            item.product_id,
            ProductSale {
                sale_id: s.id,
                sale_price_cents: price.cents(),
                ends_at: end_of(&s),
                remaining: allocation(&item).remaining(),
            },
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- reservations

fn reserve_error(e: sale::ReserveError) -> ServiceError {
    ServiceError::Conflict { code: e.reason(), detail: e.to_string() }
}

/// Reserves units of a live sale's item for the caller (all asked for or none).
pub async fn reserve(
    state: &AppState,
    caller: &Caller,
    sale_id: i64,
    req: ReserveRequest,
) -> Result<FlashReservation, ServiceError> {
    let user = super::cart::owner(caller)?;
    let units = match u32::try_from(req.units) {
        Ok(n) if (1..=sale::MAX_SALE_UNITS).contains(&n) => n,
        _ => return Err(ServiceError::invalid("units", format!("must be 1 to {}", sale::MAX_SALE_UNITS))),
    };
    let product = req.product_id.get();
    if state.flash.is_sold_out(sale_id, product) {
        state.metrics.flash_reservations.with_label_values(&["sold_out_memory"]).inc();
        return Err(reserve_error(sale::ReserveError::SoldOut));
    }
    let ttl = state.settings.flash.hold_ttl();
    let memory = state.flash.clone();
    let done = state
        .db
        .write(move |c| {
            // Queued behind the write that sold the last unit: no statement needed.
            if memory.is_sold_out(sale_id, product) {
                return Err(reserve_error(sale::ReserveError::SoldOut));
            }
            let now = Utc::now();
            let r = reserve_in(c, user, sale_id, product, units, ttl, now);
            if let Ok((_, 0)) | Err(ServiceError::Conflict { code: "sold_out", .. }) = &r {
                memory.mark_sold_out(sale_id, product);
            }
            Ok((r?, now))
        })
        .await;
    match done {
        Ok(((view, left), now)) => {
            if left == 0 {
                state.flash.mark_sold_out(sale_id, product);
            }
            state.metrics.flash_reservations.with_label_values(&["reserved"]).inc();
            state.metrics.business.flash_units.with_label_values(&["reserved"]).inc_by(u64::from(units));
            reservation_dto(view, now)
        }
        Err(e) => {
            if let ServiceError::Conflict { code, .. } = &e {
                if *code == "sold_out" {
                    state.flash.mark_sold_out(sale_id, product);
                }
                state.metrics.flash_reservations.with_label_values(&[code]).inc();
            }
            Err(e)
        }
    }
}

fn reserve_in(
    c: &mut Conn,
    user: UserId,
    sale_id: i64,
    product: i64,
    units: u32,
    ttl: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<(ReservationView, u32), ServiceError> {
    let s = repo::by_id(c, sale_id)?.ok_or_else(|| sale_not_found(sale_id))?;
    let missing = || ServiceError::not_found(format!("product {product} in sale {sale_id}"));
    repo::item(c, sale_id, product)?.ok_or_else(missing)?;
    match times_of(&s).state(ts(now)) {
        SaleState::Live => {}
        SaleState::Scheduled => {
            return Err(ServiceError::Conflict {
                code: "sale_not_live",
                detail: "the sale has not started yet".into(),
            });
        }
        SaleState::Ended | SaleState::EndedEarly => {
            return Err(ServiceError::Conflict { code: "sale_not_live", detail: "the sale is over".into() });
        }
    }
    // Lapsed holds give their units back before anyone is told "sold out".
    for r in repo::lapsed(c, Some((sale_id, product)), now, 1000)? {
        release_in(c, &r, ReservationAction::Expire, None, now)?;
    }
    let item = repo::item(c, sale_id, product)?.ok_or_else(missing)?;
    let a = allocation(&item);
    let mine = count(repo::customer_units(c, sale_id, user.get(), now)?);
    let granted =
        sale::can_reserve(units, a.remaining(), mine, count(s.per_customer_cap)).map_err(reserve_error)?;
    if !repo::adjust_item(c, sale_id, product, 0, 0, i64::from(granted))? {
        return Err(reserve_error(sale::ReserveError::SoldOut));
    }
    let p = products::by_id(c, product)?.ok_or_else(missing)?;
    let price = sale::sale_price(Money(p.price_cents), discount_of(&item)?);
    let hold = Reservation::hold(granted, price, ts(now), ttl);
    let expires_at = DateTime::from_timestamp_micros(hold.expires_at.as_micros())
        .ok_or_else(|| corrupt("reservation expiry out of range".into()))?;
    let row = repo::insert_reservation(
        c,
        &repo::NewReservation {
            sale_id,
            product_id: product,
            user_id: user.get(),
            units: i64::from(granted),
            unit_price_cents: price.cents(),
            currency: &p.currency,
            expires_at,
        },
        now,
    )?;
    audit::record(
        c,
        &AuditEvent {
            actor_id: Some(user.get()),
            action: "sale.reserved",
            entity_type: "sale_reservation",
            entity_id: row.id.to_string(),
            detail: json!({"sale_id": sale_id, "product_id": product, "units": granted, "unit_price_cents": price.cents()}),
        },
        now,
    )?;
    // The answer is built from what this transaction read: no second read after the write.
    Ok(((row, s.name, p.sku, p.name), a.remaining() - granted))
}

/// Inside a write transaction: moves a held reservation to cancelled or expired and gives its
/// units back (to the sale, or to stock once the sale is settled). `Ok(false)` when another
/// writer moved it first.
fn release_in(
    c: &mut Conn,
    r: &ReservationRow,
    action: ReservationAction,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let step = domain_reservation(r)?.apply(action, ts(now)).map_err(reservation_error)?;
    let to = step.reservation.state;
    if repo::transition_reservation(c, r.id, to.as_str(), None, None, now)?.is_none() {
        return Ok(false);
    }
    let units = i64::from(step.released_units);
    let s = repo::by_id(c, r.sale_id)?.ok_or_else(|| sale_not_found(r.sale_id))?;
    if s.settled_at.is_some() {
        // The sale's leftovers went back to stock already: these units follow them.
        if !repo::adjust_item(c, r.sale_id, r.product_id, -units, 0, -units)? {
            return Err(corrupt(format!("counters of sale {} item {}", r.sale_id, r.product_id)));
        }
        products::apply_stock_delta(
            c,
            r.product_id,
            units,
            &format!("sale #{}: reservation #{} {} after the sale", r.sale_id, r.id, to.as_str()),
            actor,
            now,
        )?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stock_limit",
            detail: "cannot put the units back".into(),
        })?;
    } else if !repo::adjust_item(c, r.sale_id, r.product_id, 0, 0, -units)? {
        return Err(corrupt(format!("counters of sale {} item {}", r.sale_id, r.product_id)));
    }
    audit::record(
        c,
        &AuditEvent {
            actor_id: actor,
            action: if to == ReservationState::Expired {
                "sale.reservation_expired"
            } else {
                "sale.reservation_cancelled"
            },
            entity_type: "sale_reservation",
            entity_id: r.id.to_string(),
            detail: json!({"sale_id": r.sale_id, "product_id": r.product_id, "units": units}),
        },
        now,
    )?;
    Ok(true)
}

fn reservation_error(e: ReservationError) -> ServiceError {
    let code = match e {
        ReservationError::Lapsed => "reservation_expired",
        ReservationError::NotHeld { state: ReservationState::Expired } => "reservation_expired",
        ReservationError::NotHeld { .. } => "reservation_not_held",
        ReservationError::NotDue => "reservation_not_due",
    };
    ServiceError::Conflict { code, detail: e.to_string() }
}

/// Cancels the caller's held reservation; its units return at once.
pub async fn cancel(state: &AppState, caller: &Caller, id: i64) -> Result<FlashReservation, ServiceError> {
    let user = super::cart::owner(caller)?;
    let (view, now) = state
        .db
        .write(move |c| {
            let now = Utc::now();
            let r = repo::reservation(c, id)?
                .filter(|r| r.user_id == user.get())
                .ok_or_else(|| ServiceError::not_found(format!("reservation {id}")))?;
            if !release_in(c, &r, ReservationAction::Cancel, Some(user.get()), now)? {
                return Err(ServiceError::Conflict {
                    code: "reservation_not_held",
                    detail: "this reservation changed meanwhile; reload it".into(),
                });
            }
            Ok((repo::reservation_view(c, id)?, now))
        })
        .await?;
    let view = view.ok_or_else(|| ServiceError::not_found(format!("reservation {id}")))?;
    state.flash.units_returned(view.0.sale_id, view.0.product_id);
    reservation_dto(view, now)
}

/// One of the caller's reservations.
pub async fn my_reservation(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<FlashReservation, ServiceError> {
    let user = super::cart::owner(caller)?;
    let view = state.db.read(move |c| repo::reservation_view(c, id)).await?;
    match view {
        Some(v) if v.0.user_id == user.get() => reservation_dto(v, Utc::now()),
        _ => Err(ServiceError::not_found(format!("reservation {id}"))),
    }
}

/// The caller's reservations, newest first.
pub async fn my_reservations(
    state: &AppState,
    caller: &Caller,
    q: &FlashPageQuery,
) -> Result<FlashReservationList, ServiceError> {
    let user = super::cart::owner(caller)?;
    let page = page_of(q)?;
    let (rows, total) = state.db.read(move |c| repo::reservations_of(c, user.get(), page)).await?;
    let now = Utc::now();
    Ok(FlashReservationList {
        items: rows.into_iter().map(|v| reservation_dto(v, now)).collect::<Result<_, _>>()?,
        pagination: pagination(page, total),
    })
}

/// The caller's holds still payable, for the cart.
pub(crate) fn held_for_cart(
    c: &mut Conn,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<FlashReservation>, ServiceError> {
    repo::held_of(c, user.get(), now)?.into_iter().map(|v| reservation_dto(v, now)).collect()
}

// ------------------------------------------------------------------------- checkout hooks

/// What checkout needs to price a reservation: its line, currency and picture.
pub(crate) struct ReservedLine {
    /// The order line (the locked price times the units).
    pub line: OrderLineRow,
    /// The currency.
    pub currency: retail_domain::Currency,
    /// The product's picture.
    pub image: (i64, Option<String>),
}

/// On a read connection: the caller's reservation `id` as an order line, if it can be paid now.
pub(crate) fn plan_line(
    c: &mut Conn,
    user: UserId,
    id: i64,
    now: DateTime<Utc>,
) -> Result<ReservedLine, ServiceError> {
    let r = repo::reservation(c, id)?
        .filter(|r| r.user_id == user.get())
        .ok_or_else(|| ServiceError::NotFound(format!("reservation {id} not found")))?;
    let d = domain_reservation(&r)?;
    if d.state != ReservationState::Held {
        return Err(reservation_error(ReservationError::NotHeld { state: d.state }));
    }
    if d.is_due(ts(now)) {
        return Err(reservation_error(ReservationError::Lapsed));
    }
    let p = products::by_id(c, r.product_id)?
        .ok_or_else(|| ServiceError::not_found(format!("product {}", r.product_id)))?;
    let total = Money(r.unit_price_cents).checked_mul_qty(d.units).ok_or_else(|| ServiceError::Conflict {
        code: "amount_overflow",
        detail: "the order total is too large".into(),
    })?;
    let currency = retail_domain::Currency::parse("currency", &r.currency)
        .map_err(|_| corrupt(format!("currency of reservation {id}")))?;
    Ok(ReservedLine {
        line: OrderLineRow {
            id: 0,
            order_id: 0,
            product_id: p.id,
            sku: p.sku.clone(),
            name: p.name.clone(),
            unit_price_cents: r.unit_price_cents,
            quantity: r.units,
            line_total_cents: total.cents(),
        },
        currency,
        image: (p.id, p.image_url),
    })
}

/// Inside the order's transaction: the reservation becomes `paid` by `order_id` (only if it is
/// still held and has not lapsed) and its units move from reserved to sold.
pub(crate) fn pay_in(c: &mut Conn, id: i64, order_id: i64, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let Some(r) =
        repo::transition_reservation(c, id, ReservationState::Paid.as_str(), Some(order_id), Some(now), now)?
    else {
        return Err(ServiceError::Conflict {
            code: "reservation_expired",
            detail: "your reservation expired or changed while you were paying; you were not charged".into(),
        });
    };
    if !repo::adjust_item(c, r.sale_id, r.product_id, 0, r.units, -r.units)? {
        return Err(corrupt(format!("counters of sale {} item {}", r.sale_id, r.product_id)));
    }
    audit::record(
        c,
        &AuditEvent {
            actor_id: Some(r.user_id),
            action: "sale.reservation_paid",
            entity_type: "sale_reservation",
            entity_id: r.id.to_string(),
            detail: json!({"sale_id": r.sale_id, "order_id": order_id, "units": r.units}),
        },
        now,
    )?;
    Ok(())
}

/// Inside a write transaction: a declined card gives the hold's units back. Returns the item
/// when units came back.
pub(crate) fn release_after_decline(
    c: &mut Conn,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64)>, ServiceError> {
    let Some(r) = repo::reservation(c, id)? else { return Ok(None) };
    if r.state != ReservationState::Held.as_str() {
        return Ok(None);
    }
    Ok(release_in(c, &r, ReservationAction::Cancel, None, now)?.then_some((r.sale_id, r.product_id)))
}

// ---------------------------------------------------------------------------------- worker

/// Expires lapsed holds (units back) and settles sales that are over (unsold units back to
/// stock). Returns (holds expired, sales settled).
pub fn sweep_in(c: &mut Conn, now: DateTime<Utc>) -> Result<(usize, usize), ServiceError> {
    let mut expired = 0;
    for r in repo::lapsed(c, None, now, 1000)? {
        if release_in(c, &r, ReservationAction::Expire, None, now)? {
            expired += 1;
        }
    }
    let mut settled = 0;
    for s in repo::unsettled_over(c, now, 100)? {
        if settle_in(c, &s, None, now)? {
            settled += 1;
        }
    }
    Ok((expired, settled))
}

/// Inside a write transaction: once the sale is over, puts what is neither sold nor held back
/// into stock through the ledger, once.
fn settle_in(
    c: &mut Conn,
    s: &SaleRow,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    if repo::mark_settled(c, s.id, now)?.is_none() {
        return Ok(false);
    }
    let mut back_total = 0;
    for (item, _) in repo::items(c, s.id)? {
        let back = allocation(&item).remaining();
        if back == 0 {
            continue;
        }
        let back = i64::from(back);
        if !repo::adjust_item(c, s.id, item.product_id, -back, 0, 0)? {
            return Err(corrupt(format!("counters of sale {} item {}", s.id, item.product_id)));
        }
        products::apply_stock_delta(
            c,
            item.product_id,
            back,
            &format!("sale #{} over: unsold units back", s.id),
            actor,
            now,
        )?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stock_limit",
            detail: "cannot put the units back".into(),
        })?;
        back_total += back;
    }
    audit::record(
        c,
        &AuditEvent {
            actor_id: actor,
            action: "sale.settled",
            entity_type: "sale",
            entity_id: s.id.to_string(),
            detail: json!({"units_back": back_total}),
        },
        now,
    )?;
    Ok(true)
}

// ----------------------------------------------------------------------------------- admin

fn new_sale(req: &SaleRequest) -> NewSale {
    NewSale {
        name: req.name.clone(),
        starts_at: ts(req.starts_at),
        ends_at: ts(req.ends_at),
        per_customer_cap: req.per_customer_cap,
        items: req
            .items
            .iter()
            .map(|i: &SaleItemRequest| NewSaleItem {
                product_id: i.product_id,
                discount: i.discount,
                allocated_units: i.allocated_units,
            })
            .collect(),
    }
}

/// Checks the request against the products as they are inside the transaction (other sales'
/// windows, stock, list prices); nothing is written.
fn validated(
    c: &mut Conn,
    req: &SaleRequest,
    except: Option<i64>,
    now: DateTime<Utc>,
) -> Result<sale::SaleDefinition, ServiceError> {
    let ids: Vec<i64> = req.items.iter().map(|i| i.product_id.get()).collect();
    let windows = repo::open_windows(c, &ids, except, now)?;
    let mut facts = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(p) = products::by_id(c, *id)?.filter(|p| p.active) {
            facts.push(ProductFacts {
                product_id: ProductId(p.id),
                list_price: Money(p.price_cents),
                stock: p.stock,
                other_sales: windows
                    .iter()
                    .filter(|(pid, _, _)| pid == id)
                    .map(|(_, s, e)| SaleWindow::new(ts(*s), ts(*e)))
                    .collect(),
            });
        }
    }
    sale::validate_sale(&new_sale(req), &facts, ts(now)).map_err(ServiceError::Validation)
}

/// Writes the sale's items and takes their allocations from stock through the ledger.
fn write_items(
    c: &mut Conn,
    sale_id: i64,
    def: &sale::SaleDefinition,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let rows: Vec<repo::NewItem<'_>> = def
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let (kind, value) = discount_columns(it.discount);
            repo::NewItem {
                product_id: it.product_id.get(),
                position: i64::try_from(i).unwrap_or(i64::MAX),
                discount_kind: kind,
                discount_value: value,
                allocated: i64::from(it.allocated_units),
            }
        })
        .collect();
    repo::insert_items(c, sale_id, &rows)?;
    for (i, it) in rows.iter().enumerate() {
        products::apply_stock_delta(
            c,
            it.product_id,
            -it.allocated,
            &format!("sale #{sale_id}: allocated"),
            actor,
            now,
        )?
        .ok_or_else(|| {
            ServiceError::invalid(&format!("items[{i}].allocated_units"), "more than the stock left")
        })?;
    }
    Ok(())
}

/// Gives a scheduled sale's allocations back to stock and deletes its items (before an edit).
fn unwrite_items(
    c: &mut Conn,
    sale_id: i64,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    for (item, _) in repo::items(c, sale_id)? {
        if item.sold + item.reserved > 0 {
            return Err(ServiceError::Conflict {
                code: "sale_started",
                detail: "units of this sale were reserved".into(),
            });
        }
        products::apply_stock_delta(
            c,
            item.product_id,
            item.allocated,
            &format!("sale #{sale_id}: allocation returned (edited)"),
            actor,
            now,
        )?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stock_limit",
            detail: "cannot put the units back".into(),
        })?;
    }
    repo::delete_items(c, sale_id)?;
    Ok(())
}

fn load_admin(c: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<AdminSale, ServiceError> {
    let s = repo::by_id(c, id)?.ok_or_else(|| sale_not_found(id))?;
    admin_dto(&s, &repo::items(c, id)?, now)
}

fn change_error(e: SaleChangeError) -> ServiceError {
    match e {
        SaleChangeError::Started => ServiceError::Conflict { code: "sale_started", detail: e.to_string() },
        SaleChangeError::Over => ServiceError::Conflict { code: "sale_over", detail: e.to_string() },
    }
}

/// Inside a write transaction: validates and writes a new sale and takes its allocations from
/// stock (no audit row: the caller writes it).
pub(crate) fn schedule_in(
    c: &mut Conn,
    req: &SaleRequest,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<SaleRow, ServiceError> {
    // Validated first, so a bad request writes nothing.
    let def = validated(c, req, None, now)?;
    let header = repo::NewSale {
        name: &def.name,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        per_customer_cap: i64::from(def.per_customer_cap),
        created_by: actor,
    };
    let s = repo::insert(c, &header, now)?;
    write_items(c, s.id, &def, actor, now)?;
    Ok(s)
}

/// Schedules a sale and takes its allocations from stock.
pub async fn create(state: &AppState, caller: &Caller, req: SaleRequest) -> Result<AdminSale, ServiceError> {
    let out = write_as(&state.db, caller, Permission::ManageSales, move |c, who| {
        let now = Utc::now();
        let actor = who.user_id().map(UserId::get);
        let s = schedule_in(c, &req, actor, now)?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: actor,
                action: "sale.created",
                entity_type: "sale",
                entity_id: s.id.to_string(),
                detail: json!({"name": s.name, "items": req.items.len(), "per_customer_cap": s.per_customer_cap}),
            },
            now,
        )?;
        load_admin(c, s.id, now)
    })
    .await?;
    state.flash.sales_changed();
    state.list_cache.invalidate();
    Ok(out)
}

/// Replaces a sale that has not started (its allocations are given back and taken again).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: SaleUpdateRequest,
) -> Result<AdminSale, ServiceError> {
    let SaleUpdateRequest { sale: req, version } = req;
    let out = write_as(&state.db, caller, Permission::ManageSales, move |c, who| {
        let now = Utc::now();
        let actor = who.user_id().map(UserId::get);
        let s = repo::by_id(c, id)?.ok_or_else(|| sale_not_found(id))?;
        times_of(&s).check_edit(ts(now)).map_err(change_error)?;
        if s.version != version {
            return Err(ServiceError::Conflict {
                code: "version_conflict",
                detail: format!("the sale is at version {}, not {version}; reload it", s.version),
            });
        }
        unwrite_items(c, id, actor, now)?;
        let def = validated(c, &req, Some(id), now)?;
        let header = repo::NewSale {
            name: &def.name,
            starts_at: req.starts_at,
            ends_at: req.ends_at,
            per_customer_cap: i64::from(def.per_customer_cap),
            created_by: s.created_by,
        };
        repo::update(c, id, version, &header, now)?.ok_or_else(|| ServiceError::Conflict {
            code: "version_conflict",
            detail: "the sale changed meanwhile; reload it".into(),
        })?;
        write_items(c, id, &def, actor, now)?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: actor,
                action: "sale.updated",
                entity_type: "sale",
                entity_id: id.to_string(),
                detail: json!({"version": version + 1, "items": req.items.len()}),
            },
            now,
        )?;
        load_admin(c, id, now)
    })
    .await?;
    state.flash.sales_changed();
    state.list_cache.invalidate();
    Ok(out)
}

/// Ends a sale now (before it starts, or while it runs) and puts its unsold units back.
/// Holds already made may still be paid until they expire, at their locked price.
pub async fn end_now(state: &AppState, caller: &Caller, id: i64) -> Result<AdminSale, ServiceError> {
    let out = write_as(&state.db, caller, Permission::ManageSales, move |c, who| {
        let now = Utc::now();
        let actor = who.user_id().map(UserId::get);
        let s = repo::by_id(c, id)?.ok_or_else(|| sale_not_found(id))?;
        times_of(&s).end_early(ts(now)).map_err(change_error)?;
        let ended = repo::end_early(c, id, s.version, now)?.ok_or_else(|| ServiceError::Conflict {
            code: "version_conflict",
            detail: "the sale changed meanwhile; reload it".into(),
        })?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: actor,
                action: "sale.ended_early",
                entity_type: "sale",
                entity_id: id.to_string(),
                detail: json!({"scheduled_end": s.ends_at}),
            },
            now,
        )?;
        settle_in(c, &ended, actor, now)?;
        load_admin(c, id, now)
    })
    .await?;
    state.flash.sales_changed();
    state.list_cache.invalidate();
    Ok(out)
}

/// One sale with its live counters, for admins.
pub async fn admin_get(state: &AppState, caller: &Caller, id: i64) -> Result<AdminSale, ServiceError> {
    caller.require(Permission::ManageSales)?;
    state.db.read(move |c| load_admin(c, id, Utc::now())).await
}

/// Every sale, newest first, for admins.
pub async fn admin_list(
    state: &AppState,
    caller: &Caller,
    q: &FlashPageQuery,
) -> Result<AdminSaleList, ServiceError> {
    caller.require(Permission::ManageSales)?;
    let page = page_of(q)?;
    state
        .db
        .read(move |c| {
            let now = Utc::now();
            let (rows, total) = repo::all(c, page)?;
            let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
            let mut items = group(repo::items_of(c, &ids)?);
            Ok(AdminSaleList {
                items: rows
                    .iter()
                    .map(|s| admin_dto(s, &items.remove(&s.id).unwrap_or_default(), now))
                    .collect::<Result<_, _>>()?,
                pagination: pagination(page, total),
            })
        })
        .await
}
