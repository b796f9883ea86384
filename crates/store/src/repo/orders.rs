//! Orders and their lines. State changes are conditional on the state the caller read, so two
//! staff acting at once never both succeed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::{OrderLineRow, OrderRow};
use crate::schema::{order_lines, orders, users};
use crate::{Conn, StoreError};

/// A new order's amounts and key.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    /// The customer.
    pub user_id: i64,
    /// Its first state (`pending_payment`).
    pub state: &'a str,
    /// ISO code.
    pub currency: &'a str,
    /// Sum of the lines.
    pub subtotal_cents: i64,
    /// Paid with store credit.
    pub credit_cents: i64,
    /// Paid by card.
    pub card_cents: i64,
    /// The customer's `Idempotency-Key`.
    pub idempotency_key: &'a str,
}

/// Inserts an order and its lines (`order_id` of the lines is set here).
pub fn insert(
    c: &mut Conn,
    o: &NewOrder<'_>,
    lines: &[OrderLineRow],
    now: DateTime<Utc>,
) -> Result<(OrderRow, Vec<OrderLineRow>), StoreError> {
    let order: OrderRow = diesel::insert_into(orders::table)
        .values((
            orders::user_id.eq(o.user_id),
            orders::state.eq(o.state),
            orders::currency.eq(o.currency),
            orders::subtotal_cents.eq(o.subtotal_cents),
            orders::credit_cents.eq(o.credit_cents),
            orders::card_cents.eq(o.card_cents),
            orders::total_cents.eq(o.credit_cents + o.card_cents),
            orders::idempotency_key.eq(o.idempotency_key),
            orders::created_at.eq(now),
            orders::updated_at.eq(now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(c)?;
    let rows: Vec<OrderLineRow> =
        lines.iter().map(|l| OrderLineRow { order_id: order.id, ..l.clone() }).collect();
    let lines = diesel::insert_into(order_lines::table)
        .values(&rows)
        .returning(OrderLineRow::as_returning())
        .get_results(c)?;
    Ok((order, lines))
}

/// The order with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<OrderRow>, StoreError> {
    Ok(orders::table.find(id).select(OrderRow::as_select()).get_result(c).optional()?)
}

/// The order a customer placed with this idempotency key.
pub fn by_key(c: &mut Conn, user_id: i64, key: &str) -> Result<Option<OrderRow>, StoreError> {
    Ok(orders::table
        .filter(orders::user_id.eq(user_id))
        .filter(orders::idempotency_key.eq(key))
        .select(OrderRow::as_select())
        .get_result(c)
        .optional()?)
}

/// An order's lines in the order they were bought.
pub fn lines(c: &mut Conn, order_id: i64) -> Result<Vec<OrderLineRow>, StoreError> {
    Ok(order_lines::table
        .filter(order_lines::order_id.eq(order_id))
        .order(order_lines::id.asc())
        .select(OrderLineRow::as_select())
        .load(c)?)
}

/// The lines of several orders.
pub fn lines_of(c: &mut Conn, order_ids: &[i64]) -> Result<Vec<OrderLineRow>, StoreError> {
    Ok(order_lines::table
        .filter(order_lines::order_id.eq_any(order_ids))
        .order(order_lines::id.asc())
        .select(OrderLineRow::as_select())
        .load(c)?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    /// Only this customer's orders.
    pub user_id: Option<i64>,
    /// Only customers whose email contains this (staff search).
    pub email_like: Option<String>,
    /// Only orders in this state.
    pub state: Option<String>,
    /// Placed at or after.
    pub from: Option<DateTime<Utc>>,
    /// Placed before.
    pub to: Option<DateTime<Utc>>,
}

/// One page of orders, newest first, with the customer's email, and the total matching.
pub fn list(
    c: &mut Conn,
    f: &OrderFilter,
    page: PageRequest,
) -> Result<(Vec<(OrderRow, String)>, i64), StoreError> {
    let build = || {
        let mut q = orders::table.inner_join(users::table).into_boxed();
        if let Some(u) = f.user_id {
            q = q.filter(orders::user_id.eq(u));
        }
        if let Some(e) = &f.email_like {
            q = q.filter(users::email.like(super::like_pattern(e)).escape('\\'));
        }
        if let Some(s) = &f.state {
            q = q.filter(orders::state.eq(s.clone()));
        }
        if let Some(t) = f.from {
            q = q.filter(orders::created_at.ge(t));
        }
        if let Some(t) = f.to {
            q = q.filter(orders::created_at.lt(t));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .order(orders::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select((OrderRow::as_select(), users::email))
        .load(c)?;
    Ok((rows, total))
}

/// Fields a state change may set besides the state.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = orders)]
pub struct OrderChanges<'a> {
    /// Carrier (on shipping).
    pub carrier: Option<&'a str>,
    /// Tracking number (on shipping).
    pub tracking: Option<&'a str>,
    /// When shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When delivered (return windows count from here).
    pub delivered_at: Option<DateTime<Utc>>,
    /// When cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why cancelled.
    pub cancel_reason: Option<&'a str>,
    /// Refunded so far.
    pub refunded_cents: Option<i64>,
}

/// Moves the order from `from` to `to` with `changes`; `None` when it is no longer in `from`
/// (someone else acted first) or does not exist.
pub fn transition(
    c: &mut Conn,
    id: i64,
    from: &str,
    to: &str,
    changes: &OrderChanges<'_>,
    now: DateTime<Utc>,
) -> Result<Option<OrderRow>, StoreError> {
    Ok(diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::state.eq(from)))
        .set((orders::state.eq(to), orders::updated_at.eq(now), changes))
        .returning(OrderRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Orders per state, for the seed and the dashboard.
pub fn count_by_state(c: &mut Conn, user_id: Option<i64>) -> Result<Vec<(String, i64)>, StoreError> {
    let mut q =
        orders::table.group_by(orders::state).select((orders::state, diesel::dsl::count_star())).into_boxed();
    if let Some(u) = user_id {
        q = q.filter(orders::user_id.eq(u));
    }
    Ok(q.load(c)?)
}
