//! The customer's server-side cart: lines are kept with the price the customer saw, and shown
//! with current prices and whatever stands in the way of buying them.

use chrono::Utc;
use retail_api_types::{AddCartLineRequest, Cart, CartLine, CartLineId, UpdateCartLineRequest};
use retail_domain::cart::{self, LineFacts};
use retail_domain::{Caller, Currency, Money, ProductId, UserId};
use retail_store::Conn;
use retail_store::models::{CartLineRow, ProductRow};
use retail_store::repo::{carts, credit};

use super::ServiceError;
use crate::state::AppState;

/// The signed-in account behind a cart (the system has none).
pub(crate) fn owner(caller: &Caller) -> Result<UserId, ServiceError> {
    caller.user_id().ok_or(ServiceError::Unauthorized("sign in first"))
}

/// The facts the cart rules need about one line.
pub(crate) fn facts(line: &CartLineRow, p: &ProductRow) -> Result<LineFacts, ServiceError> {
    Ok(LineFacts {
        quantity: u32::try_from(line.quantity).map_err(ServiceError::internal)?,
        price_seen: Money(line.price_seen_cents),
        price_now: Money(p.price_cents),
        currency: currency_of(p)?,
        active: p.active,
        stock: p.stock,
    })
}

pub(crate) fn currency_of(p: &ProductRow) -> Result<Currency, ServiceError> {
    Currency::parse("currency", &p.currency)
        .map_err(|_| super::corrupt(format!("currency {:?} of product {}", p.currency, p.id)))
}

/// The cart of `user` as it is now, read on `c`.
pub(crate) fn load(c: &mut Conn, user: UserId) -> Result<Cart, ServiceError> {
    let rows = carts::lines_with_products(c, user.get())?;
    let balance = credit::balance(c, user.get())?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut all = Vec::with_capacity(rows.len());
    for (line, p) in rows {
        let f = facts(&line, &p)?;
        let issues = cart::review(&f);
        let line_total = Money(p.price_cents).checked_mul_qty(f.quantity).ok_or_else(|| {
            ServiceError::Conflict { code: "amount_overflow", detail: "a line total is too large".into() }
        })?;
        lines.push(CartLine {
            id: CartLineId(line.id),
            product_id: ProductId(p.id),
            sku: p.sku,
            name: p.name,
            image_url: p.image_url,
            quantity: f.quantity,
            unit_price_cents: p.price_cents,
            price_seen_cents: line.price_seen_cents,
            line_total_cents: line_total.cents(),
            currency: f.currency,
            stock: p.stock,
            issues,
        });
        all.push(f);
    }
    let (items, subtotal, currency) = match cart::totals(&all) {
        Ok(t) => (t.items, t.subtotal.cents(), t.currency),
        Err(_) => (lines.iter().map(|l| l.quantity).sum(), 0, None),
    };
    Ok(Cart {
        ready: cart::ready_for_checkout(&all).is_ok(),
        lines,
        items,
        subtotal_cents: subtotal,
        currency,
        credit_balance_cents: balance,
        reservations: super::sales::held_for_cart(c, user, Utc::now())?,
    })
}

/// The caller's cart.
pub async fn view(state: &AppState, caller: &Caller) -> Result<Cart, ServiceError> {
    let user = owner(caller)?;
    state.db.read(move |c| load(c, user)).await
}

fn quantity(raw: i64) -> Result<u32, ServiceError> {
    Ok(cart::quantity("quantity", raw)?)
}

/// Adds units of a product (to its line, if the cart has one); the line keeps the price
/// shown now.
pub async fn add(state: &AppState, caller: &Caller, req: AddCartLineRequest) -> Result<Cart, ServiceError> {
    let user = owner(caller)?;
    let qty = quantity(req.quantity)?;
    state
        .db
        .write(move |c| {
            let now = Utc::now();
            let p = retail_store::repo::products::by_id(c, req.product_id.get())?
                .filter(|p| p.active)
                .ok_or_else(|| ServiceError::invalid("product_id", "no such product on sale"))?;
            match carts::line_for_product(c, user.get(), p.id)? {
                Some(line) => {
                    let total = line.quantity + i64::from(qty);
                    let total = cart::quantity("quantity", total).map_err(|_| {
                        ServiceError::invalid(
                            "quantity",
                            format!(
                                "a line holds at most {} units; the cart has {}",
                                cart::MAX_LINE_QTY,
                                line.quantity
                            ),
                        )
                    })?;
                    carts::update(c, line.id, i64::from(total), p.price_cents, now)?;
                }
                None => {
                    if carts::count(c, user.get())? >= cart::MAX_LINES as i64 {
                        return Err(ServiceError::Conflict {
                            code: "cart_full",
                            detail: format!("a cart holds at most {} lines", cart::MAX_LINES),
                        });
                    }
                    carts::insert(c, user.get(), p.id, i64::from(qty), p.price_cents, now)?;
                }
            }
            load(c, user)
        })
        .await
}

/// Sets a line's quantity and accepts the product's current price.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    line: CartLineId,
    req: UpdateCartLineRequest,
) -> Result<Cart, ServiceError> {
    let user = owner(caller)?;
    let qty = quantity(req.quantity)?;
    state
        .db
        .write(move |c| {
            let row = carts::line(c, user.get(), line.get())?.ok_or_else(|| not_found(line))?;
            let p = retail_store::repo::products::by_id(c, row.product_id)?.ok_or_else(|| not_found(line))?;
            carts::update(c, row.id, i64::from(qty), p.price_cents, Utc::now())?;
            load(c, user)
        })
        .await
}

fn not_found(line: CartLineId) -> ServiceError {
    ServiceError::not_found(format!("cart line {line}"))
}

/// Removes a line.
pub async fn remove(state: &AppState, caller: &Caller, line: CartLineId) -> Result<Cart, ServiceError> {
    let user = owner(caller)?;
    state
        .db
        .write(move |c| {
            if !carts::delete(c, user.get(), line.get())? {
                return Err(not_found(line));
            }
            load(c, user)
        })
        .await
}

/// Empties the cart.
pub async fn clear(state: &AppState, caller: &Caller) -> Result<Cart, ServiceError> {
    let user = owner(caller)?;
    state
        .db
        .write(move |c| {
            carts::clear(c, user.get())?;
            load(c, user)
        })
        .await
}
