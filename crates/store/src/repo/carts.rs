//! Customers' carts: one line per (customer, product).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::models::{CartLineRow, ProductRow};
use crate::schema::{cart_lines, products};
use crate::{Conn, StoreError};

/// A customer's lines with their products as they are now, oldest line first.
pub fn lines_with_products(c: &mut Conn, user_id: i64) -> Result<Vec<(CartLineRow, ProductRow)>, StoreError> {
    Ok(cart_lines::table
        .inner_join(products::table)
        .filter(cart_lines::user_id.eq(user_id))
        .order(cart_lines::id.asc())
        .select((CartLineRow::as_select(), ProductRow::as_select()))
        .load(c)?)
}

/// The customer's line with this ID (another customer's line is `None`).
pub fn line(c: &mut Conn, user_id: i64, line_id: i64) -> Result<Option<CartLineRow>, StoreError> {
    Ok(cart_lines::table
        .find(line_id)
        .filter(cart_lines::user_id.eq(user_id))
        .select(CartLineRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The customer's line for this product, if any.
pub fn line_for_product(
    c: &mut Conn,
    user_id: i64,
    product_id: i64,
) -> Result<Option<CartLineRow>, StoreError> {
    Ok(cart_lines::table
        .filter(cart_lines::user_id.eq(user_id))
        .filter(cart_lines::product_id.eq(product_id))
        .select(CartLineRow::as_select())
        .get_result(c)
        .optional()?)
}

/// How many lines the customer's cart has.
pub fn count(c: &mut Conn, user_id: i64) -> Result<i64, StoreError> {
    Ok(cart_lines::table.filter(cart_lines::user_id.eq(user_id)).count().get_result(c)?)
}

/// Adds a line.
pub fn insert(
    c: &mut Conn,
    user_id: i64,
    product_id: i64,
    quantity: i64,
    price_seen_cents: i64,
    now: DateTime<Utc>,
) -> Result<CartLineRow, StoreError> {
    Ok(diesel::insert_into(cart_lines::table)
        .values((
            cart_lines::user_id.eq(user_id),
            cart_lines::product_id.eq(product_id),
            cart_lines::quantity.eq(quantity),
            cart_lines::price_seen_cents.eq(price_seen_cents),
            cart_lines::added_at.eq(now),
            cart_lines::updated_at.eq(now),
        ))
        .returning(CartLineRow::as_returning())
        .get_result(c)?)
}

/// Sets a line's quantity and the price the customer accepted.
pub fn update(
    c: &mut Conn,
    line_id: i64,
    quantity: i64,
    price_seen_cents: i64,
    now: DateTime<Utc>,
) -> Result<CartLineRow, StoreError> {
    Ok(diesel::update(cart_lines::table.find(line_id))
        .set((
            cart_lines::quantity.eq(quantity),
            cart_lines::price_seen_cents.eq(price_seen_cents),
            cart_lines::updated_at.eq(now),
        ))
        .returning(CartLineRow::as_returning())
        .get_result(c)?)
}

/// Removes the customer's line; false when they have no such line.
pub fn delete(c: &mut Conn, user_id: i64, line_id: i64) -> Result<bool, StoreError> {
    let n =
        diesel::delete(cart_lines::table.find(line_id).filter(cart_lines::user_id.eq(user_id))).execute(c)?;
    Ok(n > 0)
}

/// Empties the customer's cart; returns how many lines it had.
pub fn clear(c: &mut Conn, user_id: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(cart_lines::table.filter(cart_lines::user_id.eq(user_id))).execute(c)?)
}

/// Empties the customer's cart and returns what it held: (product, quantity) per line,
/// oldest line first. Checkout takes the cart this way, in the transaction that writes the
/// order, to see in the same statement that it is still what was priced.
pub fn take(c: &mut Conn, user_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut rows: Vec<(i64, i64, i64)> =
        diesel::delete(cart_lines::table.filter(cart_lines::user_id.eq(user_id)))
            .returning((cart_lines::id, cart_lines::product_id, cart_lines::quantity))
            .get_results(c)?;
    rows.sort_unstable();
    Ok(rows.into_iter().map(|(_, p, q)| (p, q)).collect())
}
