//! Orders after checkout: the customer's history and receipts, and the staff's list with
//! shipping, delivery and cancellation. Every state change goes through the domain's order
//! transition table, is conditional on the state read (two staff acting at once: one wins,
//! the other gets 409), and leaves an audit row.

use chrono::{DateTime, Utc};
use retail_api_types::{
    CancelOrderRequest, CreditEntry, CreditEntryId, Order, OrderId, OrderLine, OrderList, Payment, PaymentId,
    Receipt, ShipOrderRequest, StaffOrderQuery,
};
use retail_domain::account::Permission;
use retail_domain::credit::CreditKind;
use retail_domain::order::{self, Actor, OrderAction, OrderState, TransitionError};
use retail_domain::paging::PageRequest;
use retail_domain::validation::filter_text;
use retail_domain::{Caller, Currency, ProductId, UserId, ValidationErrors};
use retail_store::Conn;
use retail_store::models::{CreditEntryRow, OrderLineRow, OrderRow, PaymentRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::orders::{self as repo, OrderChanges, OrderFilter};
use retail_store::repo::{credit, payments, products, users};
use serde_json::json;

use super::{ServiceError, corrupt, pagination, write_as};
use crate::state::AppState;

/// Who acts on an order: its owner, a member of staff, or the system.
pub(crate) fn actor_for(caller: &Caller, order_owner: i64) -> Actor {
    match caller {
        Caller::System => Actor::System,
        Caller::User { id, .. } if id.get() == order_owner => Actor::Owner,
        Caller::User { role, .. } => Actor::Staff(*role),
    }
}

fn state_of(r: &OrderRow) -> Result<OrderState, ServiceError> {
    OrderState::parse(&r.state).ok_or_else(|| corrupt(format!("state {:?} of order {}", r.state, r.id)))
}

/// Maps an order, its lines and its customer's email to JSON, with the actions `actor` may take.
pub(crate) fn order_dto(
    r: OrderRow,
    lines: Vec<OrderLineRow>,
    images: &[(i64, Option<String>)],
    email: String,
    actor: Actor,
) -> Result<Order, ServiceError> {
    let state = state_of(&r)?;
    let currency = Currency::parse("currency", &r.currency)
        .map_err(|_| corrupt(format!("currency of order {}", r.id)))?;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                id: retail_api_types::OrderLineId(l.id),
                product_id: ProductId(l.product_id),
                image_url: images.iter().find(|(id, _)| *id == l.product_id).and_then(|(_, u)| u.clone()),
                sku: l.sku,
                name: l.name,
                unit_price_cents: l.unit_price_cents,
                quantity: u32::try_from(l.quantity).map_err(ServiceError::internal)?,
                line_total_cents: l.line_total_cents,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(Order {
        id: OrderId(r.id),
        user_id: UserId(r.user_id),
        customer_email: email,
        state,
        currency,
        subtotal_cents: r.subtotal_cents,
        credit_cents: r.credit_cents,
        card_cents: r.card_cents,
        total_cents: r.total_cents,
        refunded_cents: r.refunded_cents,
        lines,
        carrier: r.carrier,
        tracking: r.tracking,
        shipped_at: r.shipped_at,
        delivered_at: r.delivered_at,
        cancelled_at: r.cancelled_at,
        cancel_reason: r.cancel_reason,
        created_at: r.created_at,
        updated_at: r.updated_at,
        actions: order::allowed_actions(state, actor)
            .into_iter()
            .filter(|a| !matches!(a, OrderAction::Pay | OrderAction::RefundPart | OrderAction::RefundAll))
            .collect(),
    })
}

/// The order `id` with its lines as JSON, read on `c`, as `caller` sees it.
pub(crate) fn load(c: &mut Conn, caller: &Caller, row: OrderRow) -> Result<Order, ServiceError> {
    let lines = repo::lines(c, row.id)?;
    let images = images_of(c, &lines)?;
    let email = users::by_id(c, row.user_id)?.map(|u| u.email).unwrap_or_default();
    let actor = actor_for(caller, row.user_id);
    order_dto(row, lines, &images, email, actor)
}

fn images_of(c: &mut Conn, lines: &[OrderLineRow]) -> Result<Vec<(i64, Option<String>)>, ServiceError> {
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        if !out.iter().any(|(id, _)| *id == l.product_id) {
            out.push((l.product_id, products::by_id(c, l.product_id)?.and_then(|p| p.image_url)));
        }
    }
    Ok(out)
}

/// The order if `caller` may see it: its owner, or staff who may view orders. Anyone else
/// hears 404, exactly as for a missing order.
fn visible(c: &mut Conn, caller: &Caller, id: OrderId) -> Result<OrderRow, ServiceError> {
    let row = repo::by_id(c, id.get())?.ok_or_else(|| ServiceError::not_found(format!("order {id}")))?;
    let mine = caller.user_id().is_some_and(|u| u.get() == row.user_id);
    if mine || caller.allows(Permission::ViewOrders) {
        Ok(row)
    } else {
        Err(ServiceError::not_found(format!("order {id}")))
    }
}

/// One order.
pub async fn get(state: &AppState, caller: &Caller, id: OrderId) -> Result<Order, ServiceError> {
    let caller = caller.clone();
    state
        .db
        .read(move |c| {
            let row = visible(c, &caller, id)?;
            load(c, &caller, row)
        })
        .await
}

/// The caller's own orders, newest first.
pub async fn mine(state: &AppState, caller: &Caller, page: PageRequest) -> Result<OrderList, ServiceError> {
    let user = super::cart::owner(caller)?;
    let filter = OrderFilter { user_id: Some(user.get()), ..OrderFilter::default() };
    list_with(state, caller, filter, page).await
}

/// Every customer's orders, filtered (staff).
pub async fn staff_list(
    state: &AppState,
    caller: &Caller,
    q: StaffOrderQuery,
) -> Result<OrderList, ServiceError> {
    caller.require(Permission::ViewOrders)?;
    let mut errs = ValidationErrors::default();
    let page = errs.check(PageRequest::parse(q.page, q.per_page));
    let customer = filter_text("customer", q.customer.as_deref()).map_err(ServiceError::invalid_query)?;
    let page = errs.finish(|| page)?;
    // `to` before `from` is a valid query for an empty range, not an error.
    let filter = OrderFilter {
        user_id: None,
        email_like: customer,
        state: q.state.map(|s| s.as_str().to_owned()),
        from: q.from,
        to: q.to,
    };
    list_with(state, caller, filter, page).await
}

async fn list_with(
    state: &AppState,
    caller: &Caller,
    filter: OrderFilter,
    page: PageRequest,
) -> Result<OrderList, ServiceError> {
    let caller = caller.clone();
    state
        .db
        .read(move |c| {
            let (rows, total) = repo::list(c, &filter, page)?;
            let ids: Vec<i64> = rows.iter().map(|(o, _)| o.id).collect();
            let all_lines = repo::lines_of(c, &ids)?;
            let images = images_of(c, &all_lines)?;
            let mut items = Vec::with_capacity(rows.len());
            for (o, email) in rows {
                let lines = all_lines.iter().filter(|l| l.order_id == o.id).cloned().collect();
                let actor = actor_for(&caller, o.user_id);
                items.push(order_dto(o, lines, &images, email, actor)?);
            }
            Ok(OrderList { items, pagination: pagination(page, total) })
        })
        .await
}

/// Maps a payment to JSON (never the provider's secrets or the card token).
pub(crate) fn payment_dto(p: PaymentRow) -> Payment {
    Payment {
        id: PaymentId(p.id),
        provider: p.provider,
        amount_cents: p.amount_cents,
        refunded_cents: p.refunded_cents,
        state: p.state,
        card_hint: p.card_hint,
        created_at: p.created_at,
    }
}

/// Maps a store-credit entry to JSON.
pub(crate) fn credit_dto(e: CreditEntryRow) -> Result<CreditEntry, ServiceError> {
    Ok(CreditEntry {
        id: CreditEntryId(e.id),
        kind: CreditKind::parse(&e.kind).ok_or_else(|| corrupt(format!("kind of credit entry {}", e.id)))?,
        delta_cents: e.delta_cents,
        balance_after_cents: e.balance_after,
        currency: Currency::parse("currency", &e.currency)
            .map_err(|_| corrupt(format!("currency of credit entry {}", e.id)))?,
        reason: e.reason,
        order_id: e.order_id.map(OrderId),
        actor_id: e.actor_id.map(UserId),
        created_at: e.created_at,
    })
}

/// The receipt of an order.
pub async fn receipt(state: &AppState, caller: &Caller, id: OrderId) -> Result<Receipt, ServiceError> {
    let caller = caller.clone();
    let shop = state.settings.checkout.shop_name.clone();
    state
        .db
        .read(move |c| {
            let row = visible(c, &caller, id)?;
            let pays = payments::for_order(c, row.id)?.into_iter().map(payment_dto).collect();
            let credit =
                credit::for_order(c, row.id)?.into_iter().map(credit_dto).collect::<Result<_, _>>()?;
            let order = load(c, &caller, row)?;
            Ok(Receipt { number: format!("R-{:06}", order.id.get()), shop, order, payments: pays, credit })
        })
        .await
}

fn transition_error(e: TransitionError) -> ServiceError {
    match e {
        TransitionError::Forbidden => ServiceError::Forbidden,
        TransitionError::NotAllowed { state, action, allowed } => ServiceError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "an order that is {} cannot be {}; allowed now: {}",
                state.as_str(),
                past_tense(action),
                if allowed.is_empty() {
                    "nothing".to_owned()
                } else {
                    allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        },
    }
}

fn past_tense(a: OrderAction) -> &'static str {
    match a {
        OrderAction::Pay => "paid",
        OrderAction::Ship => "shipped",
        OrderAction::Deliver => "delivered",
        OrderAction::Cancel => "cancelled",
        OrderAction::RefundPart | OrderAction::RefundAll => "refunded",
    }
}

fn stale(id: OrderId) -> ServiceError {
    ServiceError::Conflict {
        code: "stale_state",
        detail: format!("order {id} was changed by someone else in the meantime; reload it"),
    }
}

/// Applies `action` to an order in one transaction: the domain table decides, the update is
/// conditional on the state read, and an audit row records it.
async fn act(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    action: OrderAction,
    changes: impl FnOnce(DateTime<Utc>) -> OwnedChanges + Send + 'static,
    detail: serde_json::Value,
) -> Result<Order, ServiceError> {
    write_as(&state.db, caller, Permission::ManageOrders, move |c, caller| {
        let row = visible(c, caller, id)?;
        let from = state_of(&row)?;
        let to =
            order::transition(from, action, Actor::Staff(staff_role(caller)?)).map_err(transition_error)?;
        let now = Utc::now();
        let ch = changes(now);
        let updated = repo::transition(c, row.id, from.as_str(), to.as_str(), &ch.borrowed(), now)?
            .ok_or_else(|| stale(id))?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: &format!("order.{}", action.as_str()),
                entity_type: "order",
                entity_id: id.to_string(),
                detail: json!({"from": from.as_str(), "to": to.as_str(), "detail": detail}),
            },
            now,
        )?;
        if let Some(event) = retail_domain::notify::order_event(action) {
            super::notify::order_in(c, event, &updated, None, now)?;
        }
        load(c, caller, updated)
    })
    .await
}

fn staff_role(caller: &Caller) -> Result<retail_domain::account::Role, ServiceError> {
    match caller {
        Caller::User { role, .. } => Ok(*role),
        Caller::System => Ok(retail_domain::account::Role::Admin),
    }
}

/// Owned values for [`OrderChanges`].
#[derive(Default)]
struct OwnedChanges {
    carrier: Option<String>,
    tracking: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
}

impl OwnedChanges {
    fn borrowed(&self) -> OrderChanges<'_> {
        OrderChanges {
            carrier: self.carrier.as_deref(),
            tracking: self.tracking.as_deref(),
            shipped_at: self.shipped_at,
            delivered_at: self.delivered_at,
            ..OrderChanges::default()
        }
    }
}

/// Marks an order shipped with its carrier and tracking number (staff).
pub async fn ship(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    req: ShipOrderRequest,
) -> Result<Order, ServiceError> {
    caller.require(Permission::ManageOrders)?;
    let (carrier, tracking) = order::shipment(&req.carrier, &req.tracking)?;
    let detail = json!({"carrier": carrier, "tracking": tracking});
    act(
        state,
        caller,
        id,
        OrderAction::Ship,
        move |now| OwnedChanges {
            carrier: Some(carrier),
            tracking: Some(tracking),
            shipped_at: Some(now),
            ..OwnedChanges::default()
        },
        detail,
    )
    .await
}

/// Marks an order delivered (staff); return windows count from now.
pub async fn deliver(state: &AppState, caller: &Caller, id: OrderId) -> Result<Order, ServiceError> {
    caller.require(Permission::ManageOrders)?;
    act(
        state,
        caller,
        id,
        OrderAction::Deliver,
        |now| OwnedChanges { delivered_at: Some(now), ..OwnedChanges::default() },
        json!({}),
    )
    .await
}

/// Why an order is cancelled: 1-200 characters.
fn cancel_reason(req: &CancelOrderRequest) -> Result<String, ServiceError> {
    Ok(retail_domain::validation::bounded_text("reason", &req.reason, 1, 200)?)
}

/// Cancels an order before it ships: the card payment is voided (authorised) or refunded
/// (captured) at the provider first, then, in one transaction, the order is cancelled, its
/// stock goes back through the ledger, the store credit it spent is reversed and the
/// payment is marked. The provider call carries a key derived from the order, so two
/// cancellations racing each other refund once; only one of them changes the order.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    req: CancelOrderRequest,
    staff_route: bool,
) -> Result<Order, ServiceError> {
    if staff_route {
        caller.require(Permission::ManageOrders)?;
    } else {
        super::cart::owner(caller)?;
    }
    let reason = cancel_reason(&req)?;
    // Read and check first: nothing is sent to the provider for an order that may not be
    // cancelled by this caller.
    let who = caller.clone();
    let (row, pays) = state
        .db
        .read(move |c| {
            let row = visible(c, &who, id)?;
            if !staff_route && who.user_id().is_none_or(|u| u.get() != row.user_id) {
                return Err(ServiceError::not_found(format!("order {id}")));
            }
            let from = state_of(&row)?;
            order::transition(from, OrderAction::Cancel, actor_for(&who, row.user_id))
                .map_err(transition_error)?;
            let pays = payments::for_order(c, row.id)?;
            Ok((row, pays))
        })
        .await?;
    let money =
        super::checkout::release_payments(&state.payments, &pays, &format!("cancel-order-{}", row.id))
            .await?;
    let who = caller.clone();
    let from = row.state.clone();
    let cancelled = state
        .db
        .write(move |c| {
            let now = Utc::now();
            let actor = actor_for(&who, row.user_id);
            let current = repo::by_id(c, row.id)?.ok_or_else(|| stale(id))?;
            let from_state = state_of(&current)?;
            order::transition(from_state, OrderAction::Cancel, actor).map_err(transition_error)?;
            if current.state != from {
                return Err(stale(id));
            }
            let updated = super::checkout::undo_order(c, &current, &money, &reason, who.user_id(), now)?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: who.user_id().map(|u| u.get()),
                    action: "order.cancel",
                    entity_type: "order",
                    entity_id: id.to_string(),
                    detail: json!({"from": from, "reason": reason, "payments": money.iter().map(|m| (m.payment_id, m.outcome.as_str())).collect::<Vec<_>>()}),
                },
                now,
            )?;
            super::notify::order_in(c, retail_domain::notify::NotifyEvent::OrderCancelled, &updated, Some(&reason), now)?;
            load(c, &who, updated)
        })
        .await?;
    Ok(cancelled)
}
