//! Checkout: from the cart to a paid order, exactly once per `Idempotency-Key`.
//!
//! 1. One write transaction claims the key (a repeat with the same key and body gets the
//!    first answer; a racing repeat waits for it), prices the cart on the server, splits the
//!    tender between store credit and card, and records the card payment as `authorizing`.
//! 2. The provider authorises the card part (timeout, retries, circuit breaker).
//! 3. One write transaction takes the stock (a conditional decrement per line, with its
//!    ledger row), spends the credit, writes the order and its lines, attaches the payment
//!    and empties the cart. If it cannot commit, the authorisation is voided.
//! 4. The provider captures; 5. one transaction marks payment captured and order paid and
//!    stores the answer for the key. A failed capture cancels the order (stock back, credit
//!    back, authorisation voided).
//!
//! A crash between the steps leaves a payment without an order or an order pending payment;
//! the worker voids and cancels those (see `worker`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use retail_api_types::{CheckoutRequest, Order};
use retail_domain::cart::{self, CartError};
use retail_domain::credit::CreditKind;
use retail_domain::order::{self, Actor, OrderAction, OrderState};
use retail_domain::tender::{self, TenderError};
use retail_domain::{Caller, Currency, Money, UserId};
use retail_store::Conn;
use retail_store::models::{OrderLineRow, OrderRow, PaymentRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::orders::{self, NewOrder, OrderChanges};
use retail_store::repo::payments::{self, NewPayment, PaymentChanges};
use retail_store::repo::{carts, credit, products, users};
use serde_json::json;

use super::idempotency::{Claim, IdempotencyKey, Replayed};
use super::{PaymentFailure, ServiceError};
use crate::payments::{CardToken, GatewayError, Payments};
use crate::state::AppState;

/// The route, as idempotency keys are scoped.
const ROUTE: &str = "POST /api/checkout";

/// Maps a gateway failure to the use case's error.
pub(crate) fn payment_error(e: GatewayError) -> ServiceError {
    let detail = e.to_string();
    match e {
        GatewayError::Declined { code, message } => {
            ServiceError::Payment { kind: PaymentFailure::Declined, code, detail: message }
        }
        GatewayError::Timeout => ServiceError::Payment {
            kind: PaymentFailure::Timeout,
            code: "payment_timeout",
            detail: "the payment provider did not answer in time; you were not charged".into(),
        },
        GatewayError::Transient(_) => ServiceError::Payment {
            kind: PaymentFailure::Gateway,
            code: "payment_provider_error",
            detail: "the payment provider failed; you were not charged".into(),
        },
        GatewayError::BreakerOpen { .. } => ServiceError::Payment {
            kind: PaymentFailure::Unavailable { retry_after_secs: e.retry_after_secs().unwrap_or(1) },
            code: "payments_unavailable",
            detail,
        },
    }
}

/// A card token as the API documents it: 1-64 letters, digits, `_` or `-` (the gateway
/// itself would take more, but a token outside the documented shape is the client's mistake).
fn card_token(raw: &str) -> Result<CardToken, ServiceError> {
    const MAX: usize = 64;
    if raw.len() > MAX || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ServiceError::invalid(
            "card_token",
            format!("must be 1-{MAX} letters, digits, '_' or '-'"),
        ));
    }
    Ok(CardToken::parse("card_token", raw)?)
}

fn cart_error(e: CartError) -> ServiceError {
    match e {
        CartError::Empty => {
            ServiceError::Conflict { code: "cart_empty", detail: "your cart is empty".into() }
        }
        CartError::NeedsReview => ServiceError::Conflict {
            code: "cart_needs_review",
            detail: "some cart lines changed (price, stock or availability); review your cart".into(),
        },
        CartError::MixedCurrencies => ServiceError::Conflict {
            code: "mixed_currencies",
            detail: "the cart holds products priced in different currencies; buy them separately".into(),
        },
        CartError::Overflow => {
            ServiceError::Conflict { code: "amount_overflow", detail: "the order total is too large".into() }
        }
    }
}

fn tender_error(e: TenderError) -> ServiceError {
    match e {
        TenderError::CardNeeded => {
            ServiceError::invalid("card_token", "store credit does not cover the order; add a card")
        }
        other => ServiceError::invalid("use_credit_cents", other.to_string()),
    }
}

/// What the first transaction decided.
enum Prepared {
    /// The key was answered already.
    Replay(Box<Order>),
    /// A request with the key is under way.
    InFlight,
    /// Go on with this plan.
    Go(Box<Plan>),
}

/// A priced, claimed checkout.
struct Plan {
    user: UserId,
    currency: Currency,
    subtotal: Money,
    credit: Money,
    card: Money,
    lines: Vec<OrderLineRow>,
    payment: Option<PaymentRow>,
    /// What the answer shows beside the order's own rows, read once here so that the
    /// transactions after the payment calls need not read it again: each product's picture
    /// and the customer's email.
    images: Vec<(i64, Option<String>)>,
    email: String,
    /// The flash-sale reservation paid instead of the cart.
    reservation: Option<i64>,
}

/// Places an order from the caller's cart. `key` is the raw `Idempotency-Key` (required).
pub async fn checkout(
    state: &AppState,
    caller: &Caller,
    req: CheckoutRequest,
    key: Option<&str>,
) -> Result<Replayed<Order>, ServiceError> {
    let user = super::cart::owner(caller)?;
    let Some(raw) = key else {
        return Err(ServiceError::InvalidHeader {
            code: "idempotency_key_required",
            error: retail_domain::FieldError::new(
                super::idempotency::HEADER,
                "is required: send a new random key per order, and the same key when retrying",
            ),
        });
    };
    let key =
        IdempotencyKey::from_request(Some(caller), ROUTE, Some(raw), &req, state.settings.idempotency.ttl())?
            .ok_or_else(|| ServiceError::internal(std::io::Error::other("idempotency key vanished")))?;
    let token = match req.card_token.as_deref() {
        Some(t) => Some(card_token(t)?),
        None => None,
    };
    if let Some(c) = req.use_credit_cents
        && c < 0
    {
        return Err(ServiceError::invalid("use_credit_cents", "must not be negative"));
    }
    // Fail fast while the breaker is open: no database write, no call.
    if token.is_some() {
        state.payments.check_open().map_err(payment_error)?;
    }
    let wait_until = std::time::Instant::now() + Duration::from_millis(state.settings.checkout.claim_wait_ms);
    loop {
        match prepare(state, user, &req, &key, token.as_ref()).await? {
            Prepared::Replay(order) => return Ok(Replayed { value: *order, replayed: true }),
            Prepared::Go(plan) => {
                let flash = req.reservation_id.is_some();
                return run(state, caller, &key, token, *plan).await.map(|o| {
                    count_order(&state.metrics.business, &o, flash);
                    Replayed { value: o, replayed: false }
                });
            }
            Prepared::InFlight => {
                if std::time::Instant::now() >= wait_until {
                    return Err(ServiceError::Conflict {
                        code: "checkout_in_progress",
                        detail: "a checkout with this Idempotency-Key is still running; retry shortly".into(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn prepare(
    state: &AppState,
    user: UserId,
    req: &CheckoutRequest,
    key: &IdempotencyKey,
    token: Option<&CardToken>,
) -> Result<Prepared, ServiceError> {
    let (req, key2) = (req.clone(), key.clone());
    let credit_currency = state.settings.checkout.credit_currency();
    let has_card = token.is_some();
    // Everything that only reads runs on a read connection, beside the writer: the key (a
    // repeat is answered from here), the cart priced now, the credit balance. The write
    // transaction that writes the order checks again that the cart is what was priced, and
    // the credit spend that the balance still covers it.
    let planned = state
        .db
        .read(move |c| {
            match key2.peek::<Order>(c, Utc::now())? {
                Some(Claim::Answered(o)) => return Ok(Err(Prepared::Replay(Box::new(o)))),
                Some(Claim::InFlight) => return Ok(Err(Prepared::InFlight)),
                Some(Claim::Claimed) | None => {}
            }
            plan(c, user, &req, credit_currency, has_card).map(Ok)
        })
        .await?;
    let plan = match planned {
        Ok(p) => p,
        Err(early) => return Ok(early),
    };
    let (key, provider) = (key.clone(), state.payments.provider().to_owned());
    let hint = token.map(card_hint).unwrap_or_default();
    state
        .db
        .write(move |c| {
            let now = Utc::now();
            match key.claim::<Order>(c, now)? {
                Claim::Answered(o) => return Ok(Prepared::Replay(Box::new(o))),
                Claim::InFlight => return Ok(Prepared::InFlight),
                Claim::Claimed => {}
            }
            let mut plan = plan;
            if plan.card.cents() > 0 {
                plan.payment = Some(payments::insert(
                    c,
                    &NewPayment {
                        user_id: user.get(),
                        provider: &provider,
                        amount_cents: plan.card.cents(),
                        currency: plan.currency.code(),
                        idempotency_key: &uuid::Uuid::new_v4().to_string(),
                        card_hint: &hint,
                    },
                    now,
                )?);
            }
            Ok(Prepared::Go(Box::new(plan)))
        })
        .await
}

/// Prices the cart as it is now and splits the tender (on a read connection).
fn plan(
    c: &mut Conn,
    user: UserId,
    req: &CheckoutRequest,
    credit_currency: Currency,
    has_card: bool,
) -> Result<Plan, ServiceError> {
    let (subtotal, currency, lines, images) = match req.reservation_id {
        Some(rid) => {
            let r = super::sales::plan_line(c, user, rid, Utc::now())?;
            (Money(r.line.line_total_cents), r.currency, vec![r.line], vec![r.image])
        }
        None => priced_cart(c, user)?,
    };
    let balance = if currency == credit_currency { Money(credit::balance(c, user.get())?) } else { Money(0) };
    let requested = if currency == credit_currency {
        req.use_credit_cents.map(Money)
    } else {
        match req.use_credit_cents {
            Some(n) if n > 0 => {
                return Err(ServiceError::invalid(
                    "use_credit_cents",
                    format!(
                        "store credit is in {}; this order is in {}",
                        credit_currency.code(),
                        currency.code()
                    ),
                ));
            }
            _ => Some(Money(0)),
        }
    };
    let split = tender::split(subtotal, balance, requested, has_card).map_err(tender_error)?;
    let email = users::by_id(c, user.get())?.map(|u| u.email).unwrap_or_default();
    Ok(Plan {
        user,
        currency,
        subtotal,
        credit: split.credit,
        card: split.card,
        lines,
        payment: None,
        images,
        email,
        reservation: req.reservation_id,
    })
}

/// The cart priced as it is now: subtotal, currency, order lines and pictures.
type Priced = (Money, Currency, Vec<OrderLineRow>, Vec<(i64, Option<String>)>);

fn priced_cart(c: &mut Conn, user: UserId) -> Result<Priced, ServiceError> {
    let rows = carts::lines_with_products(c, user.get())?;
    let mut facts = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    let mut images: Vec<(i64, Option<String>)> = Vec::with_capacity(rows.len());
    for (line, p) in &rows {
        if !images.iter().any(|(id, _)| *id == p.id) {
            images.push((p.id, p.image_url.clone()));
        }
        let f = super::cart::facts(line, p)?;
        let total = Money(p.price_cents)
            .checked_mul_qty(f.quantity)
            .ok_or_else(|| cart_error(CartError::Overflow))?;
        lines.push(OrderLineRow {
            id: 0,
            order_id: 0,
            product_id: p.id,
            sku: p.sku.clone(),
            name: p.name.clone(),
            unit_price_cents: p.price_cents,
            quantity: line.quantity,
            line_total_cents: total.cents(),
        });
        facts.push(f);
    }
    let totals = cart::ready_for_checkout(&facts).map_err(cart_error)?;
    let currency = totals.currency.ok_or_else(|| cart_error(CartError::Empty))?;
    Ok((totals.subtotal, currency, lines, images))
}

fn card_hint(t: &CardToken) -> String {
    let name = t.expose().strip_prefix("tok_").unwrap_or("card");
    match t.hint() {
        Some(last4) => format!("card ending {last4}"),
        None => format!("test card ({name})"),
    }
}

/// Counts a placed order: the order, its total, the store credit it spent and, when it paid a
/// flash-sale reservation, the units sold.
fn count_order(m: &crate::http::metrics::BusinessMetrics, o: &Order, flash: bool) {
    m.orders.inc();
    m.revenue_cents.inc_by(u64::try_from(o.total_cents).unwrap_or(0));
    m.store_credit_cents.with_label_values(&["spent"]).inc_by(u64::try_from(o.credit_cents).unwrap_or(0));
    if flash {
        let units: u64 = o.lines.iter().map(|l| u64::from(l.quantity)).sum();
        m.flash_units.with_label_values(&["sold"]).inc_by(units);
    }
}

async fn run(
    state: &AppState,
    caller: &Caller,
    key: &IdempotencyKey,
    token: Option<CardToken>,
    plan: Plan,
) -> Result<Order, ServiceError> {
    // 2. authorise
    let auth = match (&plan.payment, &token) {
        (Some(p), Some(t)) => {
            match state.payments.authorize(&p.idempotency_key, t, plan.card, plan.currency).await {
                Ok(a) => Some(a),
                Err(e) => {
                    let (pid, key2) = (p.id, key.clone());
                    let code = e.code();
                    let outcome = if e.is_decline() { "declined" } else { "failed" };
                    // A declined card gives a flash-sale hold back at once; after a timeout
                    // or a provider failure the customer may retry, so the hold stays.
                    let release = plan.reservation.filter(|_| e.is_decline());
                    let returned = state
                        .db
                        .write(move |c| {
                            let now = Utc::now();
                            payments::transition(
                                c,
                                pid,
                                &["authorizing"],
                                outcome,
                                &PaymentChanges { error_code: Some(code), ..PaymentChanges::default() },
                                now,
                            )?;
                            payment_audit(c, pid, outcome, Some(code), now)?;
                            key2.release(c)?;
                            match release {
                                Some(rid) => super::sales::release_after_decline(c, rid, now),
                                None => Ok(None),
                            }
                        })
                        .await?;
                    if let Some((sale, product)) = returned {
                        state.flash.units_returned(sale, product);
                    }
                    return Err(payment_error(e));
                }
            }
        }
        _ => None,
    };
    // 3. the order, its stock and its credit, in one transaction
    let (key2, plan_lines) = (key.clone(), plan.lines.clone());
    let actor = super::orders::actor_for(caller, plan.user.get());
    let (images, email) = (plan.images, plan.email);
    let (images2, email2) = (images.clone(), email.clone());
    let reference = auth.as_ref().map(|a| a.reference.clone());
    let payment_id = plan.payment.as_ref().map(|p| p.id);
    let (user, currency, subtotal, credit_part, card_part) =
        (plan.user, plan.currency, plan.subtotal, plan.credit, plan.card);
    let credit_currency = state.settings.checkout.credit_currency();
    let reservation = plan.reservation;
    let placed = state
        .db
        .write(move |c| {
            let now = Utc::now();
            if reservation.is_none() {
                cart_unchanged(c, user, &plan_lines)?;
            }
            let (order, lines) = orders::insert(
                c,
                &NewOrder {
                    user_id: user.get(),
                    state: OrderState::PendingPayment.as_str(),
                    currency: currency.code(),
                    subtotal_cents: subtotal.cents(),
                    credit_cents: credit_part.cents(),
                    card_cents: card_part.cents(),
                    idempotency_key: key2.key(),
                },
                &plan_lines,
                now,
            )?;
            let reason = format!("order #{}", order.id);
            if let Some(rid) = reservation {
                // The units were taken from stock when the sale was scheduled.
                super::sales::pay_in(c, rid, order.id, now)?;
            }
            for l in lines.iter().filter(|_| reservation.is_none()) {
                if products::apply_stock_delta(c, l.product_id, -l.quantity, &reason, Some(user.get()), now)?
                    .is_none()
                {
                    return Err(ServiceError::Conflict {
                        code: "out_of_stock",
                        detail: format!("{} sold out while you were paying; you were not charged", l.name),
                    });
                }
            }
            if credit_part.cents() > 0 {
                let spent = credit::append(
                    c,
                    &credit::NewEntry {
                        user_id: user.get(),
                        kind: CreditKind::Spend.as_str(),
                        delta_cents: -credit_part.cents(),
                        currency: credit_currency.code(),
                        reason: &reason,
                        actor_id: Some(user.get()),
                        order_id: Some(order.id),
                        idempotency_key: &format!("order:{}:spend", order.id),
                    },
                    now,
                )?;
                if spent.is_none() {
                    return Err(ServiceError::Conflict {
                        code: "insufficient_credit",
                        detail:
                            "your store-credit balance changed while you were paying; you were not charged"
                                .into(),
                    });
                }
            }
            let mut order = order;
            if let Some(pid) = payment_id {
                payments::transition(
                    c,
                    pid,
                    &["authorizing"],
                    "authorized",
                    &PaymentChanges {
                        reference: reference.as_deref(),
                        order_id: Some(order.id),
                        ..PaymentChanges::default()
                    },
                    now,
                )?
                .ok_or_else(|| ServiceError::internal(std::io::Error::other("payment left authorizing")))?;
            } else {
                // Paid in full with store credit: nothing to capture.
                order = mark_paid(c, &order, now)?;
            }
            audit::record(
                c,
                &AuditEvent {
                    actor_id: Some(user.get()),
                    action: "order.placed",
                    entity_type: "order",
                    entity_id: order.id.to_string(),
                    detail: json!({
                        "total_cents": order.total_cents, "credit_cents": order.credit_cents,
                        "card_cents": order.card_cents, "lines": lines.len(), "payment_id": payment_id,
                    }),
                },
                now,
            )?;
            // The answer is built here only when this transaction completes the order; with a
            // card part, the transaction after the capture builds it.
            let dto = if payment_id.is_none() {
                let dto = answer_for(order.clone(), lines.clone(), &images2, email2, actor)?;
                key2.answer(c, 201, &dto)?;
                Some(dto)
            } else {
                None
            };
            Ok((order, lines, dto))
        })
        .await;
    let (order, lines, dto) = match placed {
        Ok(v) => v,
        Err(e) => {
            // The order did not commit: give the authorisation back, free the key.
            if let (Some(pid), Some(r)) = (payment_id, auth.as_ref()) {
                let voided = state.payments.void(&r.reference).await;
                let (key2, reference) = (key.clone(), r.reference.clone());
                // Left `authorized` (with its reference) when the void failed: the worker
                // voids it once the provider answers again.
                let to = if voided.is_ok() { "voided" } else { "authorized" };
                if let Err(ve) = &voided {
                    tracing::error!(payment_id = pid, error = %ve, "void after a failed checkout failed; the worker retries it");
                }
                let why = e.to_string();
                state
                    .db
                    .write(move |c| {
                        let now = Utc::now();
                        let changes =
                            PaymentChanges { reference: Some(&reference), ..PaymentChanges::default() };
                        payments::transition(c, pid, &["authorizing"], to, &changes, now)?;
                        audit::record(
                            c,
                            &AuditEvent {
                                actor_id: None,
                                action: "payment.released",
                                entity_type: "payment",
                                entity_id: pid.to_string(),
                                detail: json!({"to": to, "because": why}),
                            },
                            now,
                        )?;
                        key2.release(c)
                    })
                    .await?;
            } else {
                let key2 = key.clone();
                state.db.write(move |c| key2.release(c)).await?;
            }
            return Err(e);
        }
    };
    let (Some(pid), Some(a)) = (payment_id, auth) else {
        return dto.ok_or_else(|| ServiceError::internal(std::io::Error::other("order without its answer")));
    };
    // 4. capture, 5. paid
    match state.payments.capture(&a.reference, card_part).await {
        Ok(()) => {
            // The answer is the order as this transaction leaves it (paid, changed `now`),
            // built and serialised here, so that the writer only writes.
            let now = Utc::now();
            let paid_row =
                OrderRow { state: OrderState::Paid.as_str().to_owned(), updated_at: now, ..order.clone() };
            let dto = answer_for(paid_row, lines, &images, email, actor)?;
            let json = serde_json::to_string(&dto).map_err(ServiceError::internal)?;
            let key2 = key.clone();
            state
                .db
                .write(move |c| {
                    payments::transition(
                        c,
                        pid,
                        &["authorized"],
                        "captured",
                        &PaymentChanges::default(),
                        now,
                    )?
                    .ok_or_else(|| ServiceError::internal(std::io::Error::other("payment not authorized")))?;
                    mark_paid(c, &order, now)?;
                    key2.answer_json(c, 201, &json)
                })
                .await?;
            Ok(dto)
        }
        Err(e) => {
            tracing::warn!(order_id = order.id, error = %e, "capture failed; cancelling the order");
            let released = vec![match state.payments.void(&a.reference).await {
                Ok(()) => Released { payment_id: pid, outcome: ReleaseOutcome::Voided },
                Err(_) => Released { payment_id: pid, outcome: ReleaseOutcome::Kept },
            }];
            let key2 = key.clone();
            state
                .db
                .write(move |c| {
                    let now = Utc::now();
                    undo_order(c, &order, &released, "payment could not be captured", None, now)?;
                    key2.release(c)
                })
                .await?;
            Err(payment_error(e))
        }
    }
}

/// Inside the order's transaction: the cart must still hold what was priced. Another
/// checkout of the same cart (a second tab, with its own key) may have bought it meanwhile,
/// or the customer changed it; either way this checkout must not place an order from what it
/// read before (its authorisation is voided by the caller).
fn cart_unchanged(c: &mut Conn, user: UserId, planned: &[OrderLineRow]) -> Result<(), ServiceError> {
    // Empties the cart and compares, in one statement; an error rolls the emptying back.
    let now = carts::take(c, user.get())?;
    let want: Vec<(i64, i64)> = planned.iter().map(|l| (l.product_id, l.quantity)).collect();
    if now == want {
        return Ok(());
    }
    Err(if now.is_empty() {
        ServiceError::Conflict {
            code: "cart_empty",
            detail: "your cart was checked out meanwhile (in another window?); you were not charged again"
                .into(),
        }
    } else {
        ServiceError::Conflict {
            code: "cart_needs_review",
            detail: "your cart changed while you were paying; review it. You were not charged".into(),
        }
    })
}

/// The order as the API shows it, from rows this checkout wrote or read itself: what
/// `orders::load` would read back (lines by ID, each product's picture, the customer's email),
/// without reading it again inside the write transaction.
fn answer_for(
    row: OrderRow,
    mut lines: Vec<OrderLineRow>,
    images: &[(i64, Option<String>)],
    email: String,
    actor: Actor,
) -> Result<Order, ServiceError> {
    lines.sort_by_key(|l| l.id);
    super::orders::order_dto(row, lines, images, email, actor)
}

/// An audit row for a payment that ended without an order.
fn payment_audit(
    c: &mut Conn,
    id: i64,
    outcome: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    Ok(audit::record(
        c,
        &AuditEvent {
            actor_id: None,
            action: &format!("payment.{outcome}"),
            entity_type: "payment",
            entity_id: id.to_string(),
            detail: json!({"code": code}),
        },
        now,
    )?)
}

fn mark_paid(c: &mut Conn, order: &OrderRow, now: DateTime<Utc>) -> Result<OrderRow, ServiceError> {
    let to = order::transition(OrderState::PendingPayment, OrderAction::Pay, Actor::System)
        .map_err(|e| ServiceError::internal(std::io::Error::other(format!("{e:?}"))))?;
    let paid = orders::transition(
        c,
        order.id,
        OrderState::PendingPayment.as_str(),
        to.as_str(),
        &OrderChanges::default(),
        now,
    )?
    .ok_or_else(|| ServiceError::Conflict {
        code: "stale_state",
        detail: format!("order {} changed while it was being paid", order.id),
    })?;
    audit::record(
        c,
        &AuditEvent {
            actor_id: None,
            action: "order.pay",
            entity_type: "order",
            entity_id: order.id.to_string(),
            detail: json!({"card_cents": order.card_cents, "credit_cents": order.credit_cents}),
        },
        now,
    )?;
    super::notify::order_in(c, retail_domain::notify::NotifyEvent::OrderConfirmed, &paid, None, now)?;
    Ok(paid)
}

/// What happened to a payment when an order was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// The authorisation was voided.
    Voided,
    /// This much of the capture was refunded.
    Refunded(i64),
    /// Nothing to do (declined, failed, already voided) or the provider call failed: the
    /// payment stays as it is (the worker retries authorisations).
    Kept,
}

impl ReleaseOutcome {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            ReleaseOutcome::Voided => "voided",
            ReleaseOutcome::Refunded(_) => "refunded",
            ReleaseOutcome::Kept => "kept",
        }
    }
}

/// A payment and what became of it.
#[derive(Debug, Clone, Copy)]
pub struct Released {
    /// The payment.
    pub payment_id: i64,
    /// What became of it.
    pub outcome: ReleaseOutcome,
}

/// A provider failure while giving money back. A refusal (the provider declined the void or
/// refund) is not the customer's card being declined: it is the provider failing the shop.
pub(crate) fn release_error(e: GatewayError) -> ServiceError {
    match e {
        GatewayError::Declined { code, message } => ServiceError::Payment {
            kind: PaymentFailure::Gateway,
            code: "refund_refused",
            detail: format!(
                "the payment provider refused to release the payment ({code}): {message}; nothing changed"
            ),
        },
        other => payment_error(other),
    }
}

/// Voids authorised and refunds captured payments at the provider (keys derived from
/// `idem_prefix`, so a repeat refunds once). Fails on the first provider failure: the caller
/// changes nothing then, and the customer or staff may retry.
pub async fn release_payments(
    gateway: &Payments,
    pays: &[PaymentRow],
    idem_prefix: &str,
) -> Result<Vec<Released>, ServiceError> {
    let mut out = Vec::with_capacity(pays.len());
    for p in pays {
        let outcome = match (p.state.as_str(), p.reference.as_deref()) {
            ("authorized", Some(r)) => {
                gateway.void(r).await.map_err(release_error)?;
                ReleaseOutcome::Voided
            }
            ("captured" | "partially_refunded", Some(r)) => {
                let left = p.amount_cents - p.refunded_cents;
                gateway
                    .refund(r, Money(left), &format!("{idem_prefix}-{}", p.id))
                    .await
                    .map_err(release_error)?;
                ReleaseOutcome::Refunded(left)
            }
            _ => ReleaseOutcome::Kept,
        };
        out.push(Released { payment_id: p.id, outcome });
    }
    Ok(out)
}

/// Inside a write transaction: cancels `order` (which the caller checked may be cancelled),
/// puts its stock back through the ledger, reverses the store credit it spent and records
/// what became of its payments.
pub fn undo_order(
    c: &mut Conn,
    order: &OrderRow,
    released: &[Released],
    reason: &str,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<OrderRow, ServiceError> {
    let ledger_reason = format!("order #{} cancelled", order.id);
    for l in orders::lines(c, order.id)? {
        products::apply_stock_delta(
            c,
            l.product_id,
            l.quantity,
            &ledger_reason,
            actor.map(|a| a.get()),
            now,
        )?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stock_limit",
            detail: format!("cannot put {} units of product {} back", l.quantity, l.product_id),
        })?;
    }
    let mut refunded = 0;
    for r in released {
        match r.outcome {
            ReleaseOutcome::Voided => {
                payments::transition(
                    c,
                    r.payment_id,
                    &["authorized", "authorizing"],
                    "voided",
                    &PaymentChanges::default(),
                    now,
                )?;
            }
            ReleaseOutcome::Refunded(amount) => {
                let p =
                    payments::by_id(c, r.payment_id)?.ok_or_else(|| ServiceError::not_found("payment"))?;
                let total = p.refunded_cents + amount;
                payments::transition(
                    c,
                    r.payment_id,
                    &["captured", "partially_refunded"],
                    "refunded",
                    &PaymentChanges { refunded_cents: Some(total), ..PaymentChanges::default() },
                    now,
                )?;
                refunded += amount;
            }
            ReleaseOutcome::Kept => {}
        }
    }
    if order.credit_cents > 0 {
        let spent: i64 = credit::for_order(c, order.id)?.iter().map(|e| e.delta_cents).sum();
        // `spent` is negative while the spend stands; a reversal brings it back to zero once.
        if spent < 0 {
            let currency =
                credit::for_order(c, order.id)?.first().map(|e| e.currency.clone()).unwrap_or_default();
            credit::append(
                c,
                &credit::NewEntry {
                    user_id: order.user_id,
                    kind: CreditKind::Reversal.as_str(),
                    delta_cents: -spent,
                    currency: &currency,
                    reason: &ledger_reason,
                    actor_id: actor.map(|a| a.get()),
                    order_id: Some(order.id),
                    idempotency_key: &format!("order:{}:reversal", order.id),
                },
                now,
            )?;
            refunded += -spent;
        }
    }
    let changes = OrderChanges {
        cancelled_at: Some(now),
        cancel_reason: Some(reason),
        refunded_cents: Some(refunded.min(order.total_cents)),
        ..OrderChanges::default()
    };
    orders::transition(c, order.id, &order.state, OrderState::Cancelled.as_str(), &changes, now)?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stale_state",
            detail: format!("order {} was changed by someone else in the meantime; reload it", order.id),
        })
        .and_then(|o| {
            audit::record(
                c,
                &AuditEvent {
                    actor_id: actor.map(|a| a.get()),
                    action: "order.cancelled",
                    entity_type: "order",
                    entity_id: o.id.to_string(),
                    detail: json!({"reason": reason, "refunded_cents": o.refunded_cents}),
                },
                now,
            )?;
            Ok(o)
        })
}
