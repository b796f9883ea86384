//! The store-credit ledger: append-only entries; a customer's balance is the last entry's
//! `balance_after`, which always equals the sum of their deltas.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::CreditEntryRow;
use crate::schema::store_credit_entries as e;
use crate::{Conn, StoreError};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Whose credit.
    pub user_id: i64,
    /// `grant`, `spend` or `reversal`.
    pub kind: &'a str,
    /// Signed change (a spend is negative).
    pub delta_cents: i64,
    /// ISO code of the shop's credit currency.
    pub currency: &'a str,
    /// Why.
    pub reason: &'a str,
    /// Who (None for the system).
    pub actor_id: Option<i64>,
    /// The order it paid for or came back from.
    pub order_id: Option<i64>,
    /// Unique per entry: a repeated grant or spend with the same key is refused.
    pub idempotency_key: &'a str,
}

/// The customer's balance in minor units (0 without entries).
pub fn balance(c: &mut Conn, user_id: i64) -> Result<i64, StoreError> {
    // The customer's entry with no newer one. Written without `ORDER BY ... LIMIT 1` (a bound
    // LIMIT makes SQLite prepare the statement again on every call) and without SQL text
    // (never kept prepared): a static query, kept prepared by diesel.
    let newer = diesel::alias!(crate::schema::store_credit_entries as newer);
    let has_newer = newer.filter(newer.field(e::user_id).eq(e::user_id)).filter(newer.field(e::id).gt(e::id));
    Ok(e::table
        .filter(e::user_id.eq(user_id))
        .filter(diesel::dsl::not(diesel::dsl::exists(has_newer)))
        .select(e::balance_after)
        .get_result(c)
        .optional()?
        .unwrap_or(0))
}

/// Appends an entry in the caller's (write) transaction, computing the new balance from the
/// last one. `None` when the balance would go below zero (nothing written); a reused
/// idempotency key is [`StoreError::Unique`]. The CHECK on `balance_after` refuses a negative
/// balance even if a caller skipped this path.
pub fn append(
    c: &mut Conn,
    n: &NewEntry<'_>,
    now: DateTime<Utc>,
) -> Result<Option<CreditEntryRow>, StoreError> {
    let before = balance(c, n.user_id)?;
    let Some(after) = before.checked_add(n.delta_cents).filter(|b| *b >= 0) else { return Ok(None) };
    Ok(Some(
        diesel::insert_into(e::table)
            .values((
                e::user_id.eq(n.user_id),
                e::kind.eq(n.kind),
                e::delta_cents.eq(n.delta_cents),
                e::balance_after.eq(after),
                e::currency.eq(n.currency),
                e::reason.eq(n.reason),
                e::actor_id.eq(n.actor_id),
                e::order_id.eq(n.order_id),
                e::idempotency_key.eq(n.idempotency_key),
                e::created_at.eq(now),
            ))
            .returning(CreditEntryRow::as_returning())
            .get_result(c)?,
    ))
}

/// The entry written with this idempotency key, if any.
pub fn by_key(c: &mut Conn, key: &str) -> Result<Option<CreditEntryRow>, StoreError> {
    Ok(e::table
        .filter(e::idempotency_key.eq(key))
        .select(CreditEntryRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The entries tied to an order (its spend and any reversal), oldest first.
pub fn for_order(c: &mut Conn, order_id: i64) -> Result<Vec<CreditEntryRow>, StoreError> {
    Ok(e::table
        .filter(e::order_id.eq(order_id))
        .order(e::id.asc())
        .select(CreditEntryRow::as_select())
        .load(c)?)
}

/// One page of a customer's entries, newest first, and their count.
pub fn entries(
    c: &mut Conn,
    user_id: i64,
    page: PageRequest,
) -> Result<(Vec<CreditEntryRow>, i64), StoreError> {
    let total = e::table.filter(e::user_id.eq(user_id)).count().get_result(c)?;
    let rows = e::table
        .filter(e::user_id.eq(user_id))
        .order(e::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .select(CreditEntryRow::as_select())
        .load(c)?;
    Ok((rows, total))
}

/// Customers whose balance differs from the sum of their deltas, or went negative:
/// (user, balance, sum). Empty when the ledger is consistent.
pub fn discrepancies(c: &mut Conn) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        user_id: i64,
        #[diesel(sql_type = BigInt)]
        balance: i64,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT user_id, \
           (SELECT balance_after FROM store_credit_entries l WHERE l.user_id = s.user_id ORDER BY id DESC LIMIT 1) AS balance, \
           SUM(delta_cents) AS total \
         FROM store_credit_entries s GROUP BY user_id HAVING balance <> total OR balance < 0",
    )
    .load(c)?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.balance, r.total)).collect())
}
