//! Demo orders for the demo customer, one or more in each state (some delivered within the
//! last days, so returns can be shown next), and a store-credit balance. Written through the
//! same repositories and ledgers as real checkouts (stock movements, payments, credit
//! entries, audit rows), so the reconciliation of a seeded shop is clean. Idempotent: each
//! order has a fixed idempotency key, and one that exists is left alone.

use chrono::{DateTime, Duration, Utc};
use retail_domain::credit::CreditKind;
use retail_domain::order::OrderState;
use retail_store::Db;
use retail_store::models::OrderLineRow;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::orders::{self, NewOrder, OrderChanges};
use retail_store::repo::payments::{self, NewPayment, PaymentChanges};
use retail_store::repo::{credit, products, users};
use serde_json::json;

use crate::service::ServiceError;

/// The account that gets the demo orders.
pub const CUSTOMER: &str = "customer@retail.test";

/// One demo order: its key, product positions (in the list of products with stock) and
/// quantities, the state it ends in, how many days ago it was placed, the store credit it
/// used, and what was refunded of its card part.
struct DemoOrder {
    key: &'static str,
    lines: &'static [(usize, i64)],
    state: OrderState,
    days_ago: i64,
    credit_cents: i64,
    refund: Refund,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Refund {
    None,
    FirstLine,
    All,
}

const ORDERS: &[DemoOrder] = &[
    DemoOrder {
        key: "seed-order-1",
        lines: &[(0, 1), (1, 2)],
        state: OrderState::Delivered,
        days_ago: 4,
        credit_cents: 0,
        refund: Refund::None,
    },
    DemoOrder {
        key: "seed-order-2",
        lines: &[(2, 1)],
        state: OrderState::Delivered,
        days_ago: 8,
        credit_cents: 0,
        refund: Refund::None,
    },
    DemoOrder {
        key: "seed-order-3",
        lines: &[(3, 1), (4, 1)],
        state: OrderState::Shipped,
        days_ago: 2,
        credit_cents: 0,
        refund: Refund::None,
    },
    DemoOrder {
        key: "seed-order-4",
        lines: &[(5, 1)],
        state: OrderState::Paid,
        days_ago: 0,
        credit_cents: 1_000,
        refund: Refund::None,
    },
    DemoOrder {
        key: "seed-order-5",
        lines: &[(6, 1)],
        state: OrderState::Cancelled,
        days_ago: 12,
        credit_cents: 0,
        refund: Refund::None,
    },
    DemoOrder {
        key: "seed-order-6",
        lines: &[(7, 1)],
        state: OrderState::Refunded,
        days_ago: 25,
        credit_cents: 0,
        refund: Refund::All,
    },
    DemoOrder {
        key: "seed-order-7",
        lines: &[(8, 1), (9, 1)],
        state: OrderState::PartiallyRefunded,
        days_ago: 18,
        credit_cents: 0,
        refund: Refund::FirstLine,
    },
];

/// Store credit the demo customer is granted once.
const WELCOME_CREDIT: i64 = 2_500;

/// Creates the demo orders and credit that are missing; returns how many orders it created.
pub async fn run(db: &Db) -> Result<usize, ServiceError> {
    let Some(user) = db.read(|c| users::by_email(c, CUSTOMER)).await? else { return Ok(0) };
    let user = user.id;
    db.write(move |c| {
        if credit::by_key(c, "seed-credit-welcome")?.is_none() {
            credit::append(
                c,
                &credit::NewEntry {
                    user_id: user,
                    kind: CreditKind::Grant.as_str(),
                    delta_cents: WELCOME_CREDIT,
                    currency: "EUR",
                    reason: "welcome credit (demo)",
                    actor_id: None,
                    order_id: None,
                    idempotency_key: "seed-credit-welcome",
                },
                Utc::now() - Duration::days(30),
            )?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    let mut created = 0;
    for (i, o) in ORDERS.iter().enumerate() {
        created += usize::from(db.write(move |c| one(c, user, i, o)).await?);
    }
    Ok(created)
}

/// Writes one demo order in the caller's transaction; false when it exists or its stock is
/// short (then nothing is written).
fn one(c: &mut retail_store::Conn, user: i64, n: usize, o: &'static DemoOrder) -> Result<bool, ServiceError> {
    if orders::by_key(c, user, o.key)?.is_some() {
        return Ok(false);
    }
    // Products with stock, in catalog order: the same ones on every run of a fresh seed.
    let page = retail_domain::paging::PageRequest::parse(Some(1), Some(100))?;
    let (stocked, _) = products::list(
        c,
        &products::ProductFilter::default(),
        retail_domain::paging::ProductSort::Newest,
        page,
    )?;
    let stocked: Vec<_> = stocked.into_iter().rev().filter(|p| p.stock >= 5 && p.price_cents > 0).collect();
    let mut lines = Vec::new();
    for &(pos, qty) in o.lines {
        let Some(p) = stocked.get(pos + n) else { return Ok(false) };
        lines.push(OrderLineRow {
            id: 0,
            order_id: 0,
            product_id: p.id,
            sku: p.sku.clone(),
            name: p.name.clone(),
            unit_price_cents: p.price_cents,
            quantity: qty,
            line_total_cents: p.price_cents * qty,
        });
    }
    let subtotal: i64 = lines.iter().map(|l| l.line_total_cents).sum();
    let credit_part = o.credit_cents.min(subtotal).min(credit::balance(c, user)?);
    let card = subtotal - credit_part;
    let placed: DateTime<Utc> = Utc::now() - Duration::days(o.days_ago) - Duration::hours(3);
    let (order, lines) = orders::insert(
        c,
        &NewOrder {
            user_id: user,
            state: OrderState::PendingPayment.as_str(),
            currency: "EUR",
            subtotal_cents: subtotal,
            credit_cents: credit_part,
            card_cents: card,
            idempotency_key: o.key,
        },
        &lines,
        placed,
    )?;
    let reason = format!("order #{}", order.id);
    for l in &lines {
        if products::apply_stock_delta(c, l.product_id, -l.quantity, &reason, Some(user), placed)?.is_none() {
            return Err(ServiceError::Conflict {
                code: "seed_stock",
                detail: "stock changed during the seed".into(),
            });
        }
    }
    if credit_part > 0 {
        credit::append(
            c,
            &credit::NewEntry {
                user_id: user,
                kind: CreditKind::Spend.as_str(),
                delta_cents: -credit_part,
                currency: "EUR",
                reason: &reason,
                actor_id: Some(user),
                order_id: Some(order.id),
                idempotency_key: &format!("order:{}:spend", order.id),
            },
            placed,
        )?;
    }
    let pay = payments::insert(
        c,
        &NewPayment {
            user_id: user,
            provider: "simulator",
            amount_cents: card,
            currency: "EUR",
            idempotency_key: &format!("seed-payment-{}", o.key),
            card_hint: "test card (visa)",
        },
        placed,
    )?;
    // A reference in the simulator's format: cancelling or refunding a demo order works as
    // for any other (see `payments::simulator`).
    let reference = format!("sim_auth_seed_{}", o.key);
    let attach =
        PaymentChanges { reference: Some(&reference), order_id: Some(order.id), ..PaymentChanges::default() };
    let cancelled = o.state == OrderState::Cancelled;
    let pay_state = if cancelled { "voided" } else { "captured" };
    payments::transition(c, pay.id, &["authorizing"], pay_state, &attach, placed)?;
    // Walk the order through its states, each at its own time.
    let at = |h: i64| placed + Duration::hours(h);
    let mut state = OrderState::PendingPayment;
    let mut step = |c: &mut retail_store::Conn, to: OrderState, ch: OrderChanges<'_>, when: DateTime<Utc>| {
        let r = orders::transition(c, order.id, state.as_str(), to.as_str(), &ch, when)?;
        state = to;
        r.ok_or_else(|| ServiceError::Conflict {
            code: "seed_state",
            detail: "order changed during the seed".into(),
        })
    };
    if cancelled {
        let back = format!("order #{} cancelled", order.id);
        for l in &lines {
            products::apply_stock_delta(c, l.product_id, l.quantity, &back, None, at(20))?;
        }
        step(
            c,
            OrderState::Cancelled,
            OrderChanges {
                cancelled_at: Some(at(20)),
                cancel_reason: Some("changed my mind (demo)"),
                ..OrderChanges::default()
            },
            at(20),
        )?;
    } else {
        step(c, OrderState::Paid, OrderChanges::default(), at(0))?;
        let ships = !matches!(o.state, OrderState::Paid);
        if ships {
            let tracking = format!("DEMO{:06}", order.id);
            step(
                c,
                OrderState::Shipped,
                OrderChanges {
                    carrier: Some("DHL"),
                    tracking: Some(&tracking),
                    shipped_at: Some(at(20)),
                    ..OrderChanges::default()
                },
                at(20),
            )?;
        }
        if !matches!(o.state, OrderState::Paid | OrderState::Shipped) {
            step(
                c,
                OrderState::Delivered,
                OrderChanges { delivered_at: Some(at(44)), ..OrderChanges::default() },
                at(44),
            )?;
        }
        let refunded = match o.refund {
            Refund::None => 0,
            Refund::FirstLine => lines.first().map_or(0, |l| l.line_total_cents).min(card),
            Refund::All => card,
        };
        if refunded > 0 {
            let (to, pay_to) = if o.refund == Refund::All {
                (OrderState::Refunded, "refunded")
            } else {
                (OrderState::PartiallyRefunded, "partially_refunded")
            };
            payments::transition(
                c,
                pay.id,
                &["captured"],
                pay_to,
                &PaymentChanges { refunded_cents: Some(refunded), ..PaymentChanges::default() },
                at(60),
            )?;
            step(c, to, OrderChanges { refunded_cents: Some(refunded), ..OrderChanges::default() }, at(60))?;
        }
    }
    audit::record(
        c,
        &AuditEvent {
            actor_id: None,
            action: "order.seeded",
            entity_type: "order",
            entity_id: order.id.to_string(),
            detail: json!({"key": o.key, "state": o.state.as_str(), "total_cents": subtotal}),
        },
        Utc::now(),
    )?;
    Ok(true)
}
