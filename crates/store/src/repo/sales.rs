//! Flash sales, their items (allocation counters) and reservations.
//!
//! Every change of a counter is one conditional statement: reserving adds to `reserved` only
//! while `sold + reserved + units <= allocated`, and a reservation changes state only from
//! the state the caller read, so two writers never both succeed. (All writes also go through
//! the one writer thread; the conditions keep that an optimisation, not the guarantee, and the
//! table's CHECK is the last line.)

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::{ProductRow, ReservationRow, SaleItemRow, SaleRow};
use crate::schema::{products, sale_items, sale_reservations, sales};
use crate::{Conn, StoreError};

/// A new sale's header.
#[derive(Debug, Clone)]
pub struct NewSale<'a> {
    /// Its name.
    pub name: &'a str,
    /// Start (included).
    pub starts_at: DateTime<Utc>,
    /// Scheduled end (excluded).
    pub ends_at: DateTime<Utc>,
    /// Units one customer may hold or buy across the sale.
    pub per_customer_cap: i64,
    /// The admin who scheduled it.
    pub created_by: Option<i64>,
}

/// One product of a sale as written.
#[derive(Debug, Clone, Copy)]
pub struct NewItem<'a> {
    /// The product.
    pub product_id: i64,
    /// Its place in the sale.
    pub position: i64,
    /// `percent_off` or `sale_price`.
    pub discount_kind: &'a str,
    /// Basis points or the sale price in minor units.
    pub discount_value: i64,
    /// Units taken from stock for the sale.
    pub allocated: i64,
}

/// Inserts a sale (version 1).
pub fn insert(c: &mut Conn, s: &NewSale<'_>, now: DateTime<Utc>) -> Result<SaleRow, StoreError> {
    Ok(diesel::insert_into(sales::table)
        .values((
            sales::name.eq(s.name),
            sales::starts_at.eq(s.starts_at),
            sales::ends_at.eq(s.ends_at),
            sales::per_customer_cap.eq(s.per_customer_cap),
            sales::created_by.eq(s.created_by),
            sales::created_at.eq(now),
            sales::updated_at.eq(now),
        ))
        .returning(SaleRow::as_returning())
        .get_result(c)?)
}

/// Replaces a sale's header if it is still at `version`; `None` when it is not.
pub fn update(
    c: &mut Conn,
    id: i64,
    version: i64,
    s: &NewSale<'_>,
    now: DateTime<Utc>,
) -> Result<Option<SaleRow>, StoreError> {
    Ok(diesel::update(sales::table.filter(sales::id.eq(id)).filter(sales::version.eq(version)))
        .set((
            sales::name.eq(s.name),
            sales::starts_at.eq(s.starts_at),
            sales::ends_at.eq(s.ends_at),
            sales::per_customer_cap.eq(s.per_customer_cap),
            sales::version.eq(version + 1),
            sales::updated_at.eq(now),
        ))
        .returning(SaleRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Records that an admin ended the sale at `at`, if it was not ended early before.
pub fn end_early(
    c: &mut Conn,
    id: i64,
    version: i64,
    at: DateTime<Utc>,
) -> Result<Option<SaleRow>, StoreError> {
    Ok(diesel::update(
        sales::table
            .filter(sales::id.eq(id))
            .filter(sales::version.eq(version))
            .filter(sales::ended_early_at.is_null()),
    )
    .set((sales::ended_early_at.eq(at), sales::version.eq(version + 1), sales::updated_at.eq(at)))
    .returning(SaleRow::as_returning())
    .get_result(c)
    .optional()?)
}

/// Marks the sale settled (its unsold units went back to stock), once: `None` when it was
/// settled already.
pub fn mark_settled(c: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<Option<SaleRow>, StoreError> {
    Ok(diesel::update(sales::table.filter(sales::id.eq(id)).filter(sales::settled_at.is_null()))
        .set((sales::settled_at.eq(now), sales::updated_at.eq(now)))
        .returning(SaleRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// A sale by ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<SaleRow>, StoreError> {
    Ok(sales::table.find(id).select(SaleRow::as_select()).get_result(c).optional()?)
}

/// Inserts a sale's items.
pub fn insert_items(c: &mut Conn, sale_id: i64, items: &[NewItem<'_>]) -> Result<(), StoreError> {
    for i in items {
        diesel::insert_into(sale_items::table)
            .values((
                sale_items::sale_id.eq(sale_id),
                sale_items::product_id.eq(i.product_id),
                sale_items::position.eq(i.position),
                sale_items::discount_kind.eq(i.discount_kind),
                sale_items::discount_value.eq(i.discount_value),
                sale_items::allocated.eq(i.allocated),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Deletes a sale's items (editing before the start: nothing was reserved yet).
pub fn delete_items(c: &mut Conn, sale_id: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(sale_items::table.filter(sale_items::sale_id.eq(sale_id))).execute(c)?)
}

/// A sale's items with their products, in the sale's order.
pub fn items(c: &mut Conn, sale_id: i64) -> Result<Vec<(SaleItemRow, ProductRow)>, StoreError> {
    Ok(sale_items::table
        .inner_join(products::table)
        .filter(sale_items::sale_id.eq(sale_id))
        .order(sale_items::position.asc())
        .select((SaleItemRow::as_select(), ProductRow::as_select()))
        .load(c)?)
}

/// The items of several sales with their products, by sale and position.
pub fn items_of(c: &mut Conn, sale_ids: &[i64]) -> Result<Vec<(SaleItemRow, ProductRow)>, StoreError> {
    if sale_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sale_items::table
        .inner_join(products::table)
        .filter(sale_items::sale_id.eq_any(sale_ids))
        .order((sale_items::sale_id.asc(), sale_items::position.asc()))
        .select((SaleItemRow::as_select(), ProductRow::as_select()))
        .load(c)?)
}

/// One item of a sale.
pub fn item(c: &mut Conn, sale_id: i64, product_id: i64) -> Result<Option<SaleItemRow>, StoreError> {
    Ok(sale_items::table
        .find((sale_id, product_id))
        .select(SaleItemRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Adds the deltas to an item's counters in one statement, only if the result keeps
/// `0 <= sold + reserved <= allocated` with each counter at least 0. `false` when it would not.
pub fn adjust_item(
    c: &mut Conn,
    sale_id: i64,
    product_id: i64,
    d_allocated: i64,
    d_sold: i64,
    d_reserved: i64,
) -> Result<bool, StoreError> {
    use sale_items::{allocated, reserved, sold};
    let n = diesel::update(
        sale_items::table
            .filter(sale_items::sale_id.eq(sale_id))
            .filter(sale_items::product_id.eq(product_id))
            .filter((sold + d_sold).ge(0))
            .filter((reserved + d_reserved).ge(0))
            .filter((sold + d_sold + reserved + d_reserved).le(allocated + d_allocated)),
    )
    .set((allocated.eq(allocated + d_allocated), sold.eq(sold + d_sold), reserved.eq(reserved + d_reserved)))
    .execute(c)?;
    Ok(n == 1)
}

/// A product's place in a sale's time: `(product_id, starts_at, effective end)`.
pub type Window = (i64, DateTime<Utc>, DateTime<Utc>);

/// The windows of the sales, other than `except`, that include any of `product_ids` and have
/// not ended: `(product_id, starts_at, effective end)`.
pub fn open_windows(
    c: &mut Conn,
    product_ids: &[i64],
    except: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<Window>, StoreError> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = sale_items::table
        .inner_join(sales::table)
        .filter(sale_items::product_id.eq_any(product_ids))
        .filter(sales::id.ne(except.unwrap_or(0)))
        .filter(sales::ends_at.gt(now))
        .select((sale_items::product_id, sales::starts_at, sales::ends_at, sales::ended_early_at))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(p, s, e, early)| (p, s, early.map_or(e, |x| x.min(e))))
        .filter(|(_, _, end)| *end > now)
        .collect())
}

fn not_over(
    now: DateTime<Utc>,
) -> Box<dyn BoxableExpression<sales::table, diesel::sqlite::Sqlite, SqlType = diesel::sql_types::Bool>> {
    Box::new(
        sales::ended_early_at
            .gt(now)
            .or(sales::ended_early_at.is_null().and(sales::ends_at.gt(now)))
            .assume_not_null(),
    )
}

/// Live and upcoming sales (not over at `now`), soonest to end first.
pub fn listed(
    c: &mut Conn,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<(Vec<SaleRow>, i64), StoreError> {
    let total = sales::table.filter(not_over(now)).count().get_result(c)?;
    let rows = sales::table
        .filter(not_over(now))
        .order((sales::ends_at.asc(), sales::id.asc()))
        .limit(page.limit())
        .offset(page.offset())
        .select(SaleRow::as_select())
        .load(c)?;
    Ok((rows, total))
}

/// Every sale, newest first.
pub fn all(c: &mut Conn, page: PageRequest) -> Result<(Vec<SaleRow>, i64), StoreError> {
    let total = sales::table.count().get_result(c)?;
    let rows = sales::table
        .order(sales::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select(SaleRow::as_select())
        .load(c)?;
    Ok((rows, total))
}

/// Sales that are over at `now` and whose unsold units have not gone back to stock yet.
pub fn unsettled_over(c: &mut Conn, now: DateTime<Utc>, limit: i64) -> Result<Vec<SaleRow>, StoreError> {
    Ok(sales::table
        .filter(sales::settled_at.is_null())
        .filter(sales::ended_early_at.le(now).or(sales::ends_at.le(now)))
        .order(sales::id.asc())
        .limit(limit)
        .select(SaleRow::as_select())
        .load(c)?)
}

/// The items of sales live at `now` among `product_ids`, with their sale.
pub fn live_items(
    c: &mut Conn,
    product_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<(SaleItemRow, SaleRow)>, StoreError> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sale_items::table
        .inner_join(sales::table)
        .filter(super::in_json(sale_items::product_id, product_ids))
        .filter(sales::starts_at.le(now))
        .filter(
            sales::ended_early_at
                .gt(now)
                .or(sales::ended_early_at.is_null().and(sales::ends_at.gt(now)))
                .assume_not_null(),
        )
        .select((SaleItemRow::as_select(), SaleRow::as_select()))
        .load(c)?)
}

// ------------------------------------------------------------------------------ reservations

/// A new hold.
#[derive(Debug, Clone)]
pub struct NewReservation<'a> {
    /// The sale.
    pub sale_id: i64,
    /// The product.
    pub product_id: i64,
    /// The customer.
    pub user_id: i64,
    /// Units held.
    pub units: i64,
    /// The locked unit price.
    pub unit_price_cents: i64,
    /// Its currency.
    pub currency: &'a str,
    /// When the hold lapses.
    pub expires_at: DateTime<Utc>,
}

/// Inserts a held reservation.
pub fn insert_reservation(
    c: &mut Conn,
    r: &NewReservation<'_>,
    now: DateTime<Utc>,
) -> Result<ReservationRow, StoreError> {
    Ok(diesel::insert_into(sale_reservations::table)
        .values((
            sale_reservations::sale_id.eq(r.sale_id),
            sale_reservations::product_id.eq(r.product_id),
            sale_reservations::user_id.eq(r.user_id),
            sale_reservations::units.eq(r.units),
            sale_reservations::unit_price_cents.eq(r.unit_price_cents),
            sale_reservations::currency.eq(r.currency),
            sale_reservations::state.eq("held"),
            sale_reservations::expires_at.eq(r.expires_at),
            sale_reservations::created_at.eq(now),
            sale_reservations::updated_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(c)?)
}

/// A reservation by ID.
pub fn reservation(c: &mut Conn, id: i64) -> Result<Option<ReservationRow>, StoreError> {
    Ok(sale_reservations::table.find(id).select(ReservationRow::as_select()).get_result(c).optional()?)
}

/// Units the customer holds (not lapsed at `now`) or bought in the sale.
pub fn customer_units(
    c: &mut Conn,
    sale_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let rows: Vec<(String, i64, DateTime<Utc>)> = sale_reservations::table
        .filter(sale_reservations::sale_id.eq(sale_id))
        .filter(sale_reservations::user_id.eq(user_id))
        .filter(sale_reservations::state.eq_any(["held", "paid"]))
        .select((sale_reservations::state, sale_reservations::units, sale_reservations::expires_at))
        .load(c)?;
    Ok(rows.into_iter().filter(|(s, _, exp)| s == "paid" || *exp > now).map(|(_, u, _)| u).sum())
}

/// Moves a reservation from `held` to `to` (setting `order_id` when given); with `live_at`,
/// only if the hold has not lapsed at that instant. `None` when the row was not in that state.
pub fn transition_reservation(
    c: &mut Conn,
    id: i64,
    to: &str,
    order_id: Option<i64>,
    live_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<ReservationRow>, StoreError> {
    let mut q = diesel::update(sale_reservations::table)
        .filter(sale_reservations::id.eq(id))
        .filter(sale_reservations::state.eq("held"))
        .into_boxed();
    if let Some(t) = live_at {
        q = q.filter(sale_reservations::expires_at.gt(t));
    }
    Ok(q.set((
        sale_reservations::state.eq(to),
        sale_reservations::order_id.eq(order_id),
        sale_reservations::updated_at.eq(now),
    ))
    .returning(ReservationRow::as_returning())
    .get_result(c)
    .optional()?)
}

/// Held reservations that lapsed by `now` (of one sale item, or of any), oldest first.
pub fn lapsed(
    c: &mut Conn,
    item: Option<(i64, i64)>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReservationRow>, StoreError> {
    let mut q = sale_reservations::table
        .filter(sale_reservations::state.eq("held"))
        .filter(sale_reservations::expires_at.le(now))
        .into_boxed();
    if let Some((sale, product)) = item {
        q = q.filter(sale_reservations::sale_id.eq(sale)).filter(sale_reservations::product_id.eq(product));
    }
    Ok(q.order(sale_reservations::expires_at.asc())
        .limit(limit)
        .select(ReservationRow::as_select())
        .load(c)?)
}

/// A reservation with the names it is shown with: the sale's and the product's.
pub type ReservationView = (ReservationRow, String, String, String);

fn views(c: &mut Conn, rows: Vec<ReservationRow>) -> Result<Vec<ReservationView>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let sale: String = sales::table.find(r.sale_id).select(sales::name).get_result(c)?;
        let (sku, name): (String, String) =
            products::table.find(r.product_id).select((products::sku, products::name)).get_result(c)?;
        out.push((r, sale, sku, name));
    }
    Ok(out)
}

/// One reservation with its names.
pub fn reservation_view(c: &mut Conn, id: i64) -> Result<Option<ReservationView>, StoreError> {
    match reservation(c, id)? {
        Some(r) => Ok(views(c, vec![r])?.pop()),
        None => Ok(None),
    }
}

/// A customer's reservations, newest first.
pub fn reservations_of(
    c: &mut Conn,
    user_id: i64,
    page: PageRequest,
) -> Result<(Vec<ReservationView>, i64), StoreError> {
    let total =
        sale_reservations::table.filter(sale_reservations::user_id.eq(user_id)).count().get_result(c)?;
    let rows = sale_reservations::table
        .filter(sale_reservations::user_id.eq(user_id))
        .order(sale_reservations::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select(ReservationRow::as_select())
        .load(c)?;
    Ok((views(c, rows)?, total))
}

/// A customer's holds that have not lapsed at `now`, oldest first.
pub fn held_of(c: &mut Conn, user_id: i64, now: DateTime<Utc>) -> Result<Vec<ReservationView>, StoreError> {
    let rows = sale_reservations::table
        .filter(sale_reservations::user_id.eq(user_id))
        .filter(sale_reservations::state.eq("held"))
        .filter(sale_reservations::expires_at.gt(now))
        .order(sale_reservations::id.asc())
        .limit(100)
        .select(ReservationRow::as_select())
        .load(c)?;
    views(c, rows)
}

/// Sale items whose counters disagree with their reservations (`sold` with the paid units,
/// `reserved` with the held ones): `(sale_id, product_id)`.
pub fn counter_discrepancies(c: &mut Conn) -> Result<Vec<(i64, i64)>, StoreError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        sale_id: i64,
        #[diesel(sql_type = BigInt)]
        product_id: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT i.sale_id AS sale_id, i.product_id AS product_id FROM sale_items i \
         LEFT JOIN (SELECT sale_id, product_id, \
                           SUM(CASE WHEN state = 'paid' THEN units ELSE 0 END) AS paid, \
                           SUM(CASE WHEN state = 'held' THEN units ELSE 0 END) AS held \
                    FROM sale_reservations GROUP BY sale_id, product_id) r \
           ON r.sale_id = i.sale_id AND r.product_id = i.product_id \
         WHERE i.sold <> COALESCE(r.paid, 0) OR i.reserved <> COALESCE(r.held, 0) \
            OR i.sold + i.reserved > i.allocated",
    )
    .load(c)?;
    Ok(rows.into_iter().map(|r| (r.sale_id, r.product_id)).collect())
}
