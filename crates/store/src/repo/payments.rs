//! Card payments as recorded by the shop, and the reconciliation of payments with orders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::models::PaymentRow;
use crate::schema::payments as p;
use crate::{Conn, StoreError};

/// A payment about to be authorised.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    /// The customer.
    pub user_id: i64,
    /// Provider name (`simulator`).
    pub provider: &'a str,
    /// Amount to authorise.
    pub amount_cents: i64,
    /// ISO code.
    pub currency: &'a str,
    /// Unique: also the key the provider sees, so a retried authorisation is one charge.
    pub idempotency_key: &'a str,
    /// The card's display hint (never the token).
    pub card_hint: &'a str,
}

/// Records a payment in state `authorizing`, before the provider is called.
pub fn insert(c: &mut Conn, n: &NewPayment<'_>, now: DateTime<Utc>) -> Result<PaymentRow, StoreError> {
    Ok(diesel::insert_into(p::table)
        .values((
            p::user_id.eq(n.user_id),
            p::provider.eq(n.provider),
            p::amount_cents.eq(n.amount_cents),
            p::currency.eq(n.currency),
            p::state.eq("authorizing"),
            p::idempotency_key.eq(n.idempotency_key),
            p::card_hint.eq(n.card_hint),
            p::created_at.eq(now),
            p::updated_at.eq(now),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(c)?)
}

/// The payment with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<PaymentRow>, StoreError> {
    Ok(p::table.find(id).select(PaymentRow::as_select()).get_result(c).optional()?)
}

/// An order's payments, oldest first.
pub fn for_order(c: &mut Conn, order_id: i64) -> Result<Vec<PaymentRow>, StoreError> {
    Ok(p::table
        .filter(p::order_id.eq(order_id))
        .order(p::id.asc())
        .select(PaymentRow::as_select())
        .load(c)?)
}

/// What a state change sets besides the state.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = p)]
pub struct PaymentChanges<'a> {
    /// The provider's reference (after authorising).
    pub reference: Option<&'a str>,
    /// The order it pays for.
    pub order_id: Option<i64>,
    /// Why it failed or was declined.
    pub error_code: Option<&'a str>,
    /// Refunded so far.
    pub refunded_cents: Option<i64>,
}

/// Moves the payment to `to` if it is in one of `from`; `None` otherwise. One statement.
pub fn transition(
    c: &mut Conn,
    id: i64,
    from: &[&str],
    to: &str,
    changes: &PaymentChanges<'_>,
    now: DateTime<Utc>,
) -> Result<Option<PaymentRow>, StoreError> {
    let set = (p::state.eq(to), p::updated_at.eq(now), changes);
    // A single state is compared with `=`, whose statement SQLite keeps prepared; an IN list
    // is built anew for each call.
    let row = if let [one] = from {
        diesel::update(p::table.filter(p::id.eq(id)).filter(p::state.eq(*one)))
            .set(set)
            .returning(PaymentRow::as_returning())
            .get_result(c)
            .optional()?
    } else {
        diesel::update(p::table.filter(p::id.eq(id)).filter(p::state.eq_any(from)))
            .set(set)
            .returning(PaymentRow::as_returning())
            .get_result(c)
            .optional()?
    };
    Ok(row)
}

/// Payments still `authorizing` or `authorized`, created before `cutoff`, that nothing will
/// capture: without an order (a checkout that crashed or failed between authorising and
/// writing its order) or whose order was cancelled while the provider could not be reached.
pub fn stale_without_order(
    c: &mut Conn,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PaymentRow>, StoreError> {
    use crate::schema::orders as o;
    let cancelled = o::table.filter(o::state.eq("cancelled")).select(o::id);
    Ok(p::table
        .filter(p::order_id.is_null().or(p::order_id.eq_any(cancelled.nullable())))
        .filter(p::state.eq_any(["authorizing", "authorized"]))
        .filter(p::created_at.lt(cutoff))
        .order(p::id.asc())
        .limit(limit)
        .select(PaymentRow::as_select())
        .load(c)?)
}

/// Orders still `pending_payment` whose card payment is `authorized`, created before
/// `cutoff`: a checkout that crashed between writing its order and capturing.
pub fn stuck_pending_orders(c: &mut Conn, cutoff: DateTime<Utc>, limit: i64) -> Result<Vec<i64>, StoreError> {
    use crate::schema::orders as o;
    Ok(o::table
        .filter(o::state.eq("pending_payment"))
        .filter(o::created_at.lt(cutoff))
        .order(o::id.asc())
        .limit(limit)
        .select(o::id)
        .load(c)?)
}

/// What the reconciliation found; every list empty and the totals equal when the books agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Payments captured (or refunded after capture) whose order is missing, unpaid or
    /// cancelled without a refund.
    pub captures_without_order: Vec<i64>,
    /// Orders counted as paid (paid, shipped, delivered, refunded in part or in full) whose
    /// card part has no captured payment.
    pub paid_orders_without_capture: Vec<i64>,
    /// Orders whose captured amount differs from their card part.
    pub amount_mismatches: Vec<i64>,
    /// Sum of captured payments.
    pub captured_cents: i64,
    /// Sum of the card part of orders that took money.
    pub ordered_card_cents: i64,
}

impl Reconciliation {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.captures_without_order.is_empty()
            && self.paid_orders_without_capture.is_empty()
            && self.amount_mismatches.is_empty()
            && self.captured_cents == self.ordered_card_cents
    }
}

const CAPTURED: &str = "('captured', 'partially_refunded', 'refunded')";
const PAID: &str = "('paid', 'shipped', 'delivered', 'partially_refunded', 'refunded')";

/// Compares payments with orders (see [`Reconciliation`]).
pub fn reconcile(c: &mut Conn) -> Result<Reconciliation, StoreError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let ids = |c: &mut Conn, sql: String| -> Result<Vec<i64>, StoreError> {
        Ok(diesel::sql_query(sql).load::<Id>(c)?.into_iter().map(|r| r.id).collect())
    };
    let captures_without_order = ids(
        c,
        format!(
            "SELECT pay.id AS id FROM payments pay LEFT JOIN orders o ON o.id = pay.order_id \
             WHERE pay.state IN {CAPTURED} AND (o.id IS NULL OR o.state = 'pending_payment' \
             OR (o.state = 'cancelled' AND pay.state <> 'refunded')) ORDER BY pay.id"
        ),
    )?;
    let paid_orders_without_capture = ids(
        c,
        format!(
            "SELECT o.id AS id FROM orders o WHERE o.state IN {PAID} AND o.card_cents > 0 AND NOT EXISTS \
             (SELECT 1 FROM payments pay WHERE pay.order_id = o.id AND pay.state IN {CAPTURED}) ORDER BY o.id"
        ),
    )?;
    let amount_mismatches = ids(
        c,
        format!(
            "SELECT o.id AS id FROM orders o JOIN payments pay ON pay.order_id = o.id AND pay.state IN {CAPTURED} \
             GROUP BY o.id HAVING SUM(pay.amount_cents) <> o.card_cents ORDER BY o.id"
        ),
    )?;
    let sum = |c: &mut Conn, sql: String| -> Result<i64, StoreError> {
        Ok(diesel::sql_query(sql).get_result::<Sum>(c)?.n)
    };
    let captured_cents = sum(
        c,
        format!("SELECT COALESCE(SUM(amount_cents), 0) AS n FROM payments WHERE state IN {CAPTURED}"),
    )?;
    let ordered_card_cents = sum(
        c,
        format!(
            "SELECT COALESCE(SUM(o.card_cents), 0) AS n FROM orders o WHERE o.card_cents > 0 AND (o.state IN {PAID} \
             OR (o.state = 'cancelled' AND EXISTS (SELECT 1 FROM payments pay WHERE pay.order_id = o.id \
             AND pay.state = 'refunded')))"
        ),
    )?;
    Ok(Reconciliation {
        captures_without_order,
        paid_orders_without_capture,
        amount_mismatches,
        captured_cents,
        ordered_card_cents,
    })
}
