//! Returns (RMA): a customer asks to return lines of a delivered order; the system checks
//! eligibility; support approves; the customer ships; the warehouse receives and inspects;
//! finance decides and processes the disposition; the system completes it.
//!
//! - Every move goes through the domain's transition table (`retail_domain::rma`), is
//!   conditional on the version the caller read (two staff acting at once: one wins, the other
//!   gets 409 `stale_version`), and writes an append-only event and an audit row.
//! - Processing is exactly once: claiming the attempt bumps the version (a concurrent attempt
//!   loses); the provider call carries a key derived from the return and the payment, so a
//!   retry after a crash or a refusal refunds once; every money and stock movement is written
//!   under its own key in `rma_effects`, in the same transaction as the movement.

use chrono::{DateTime, Utc};
use retail_api_types::{
    RefundSplit, ReturnPreview, ReturnProblem, ReturnQueue, ReturnRequest, Rma, RmaActionRequest, RmaEvent,
    RmaFigures, RmaId, RmaLine, RmaList, RmaPhoto, RmaStageFigures, RmaSummary, StaffReturnQuery,
};
use retail_domain::account::{Permission, Role};
use retail_domain::credit::CreditKind;
use retail_domain::ids::{OrderId, OrderLineId, ProductId};
use retail_domain::order::{self, Actor, OrderAction, OrderState};
use retail_domain::paging::PageRequest;
use retail_domain::rma::{
    self, Condition, Disposition, EligibilityInput, GoodsOutcome, Ineligible, LineRequest, RefundError,
    RefundEstimate, ReturnReason, RmaAction, RmaStage, TransitionError,
};
use retail_domain::tender::Tender;
use retail_domain::validation::filter_text;
use retail_domain::{Caller, Currency, Money, UserId, ValidationErrors};
use retail_store::Conn;
use retail_store::models::{OrderLineRow, OrderRow, PaymentRow, RmaLineRow, RmaPhotoRow, RmaRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::orders::{self as order_repo, NewOrder, OrderChanges};
use retail_store::repo::payments::{self, PaymentChanges};
use retail_store::repo::returns::{
    self as repo, NewEffect, NewEvent, NewRma, NewRmaLine, RmaChanges, RmaFilter,
};
use retail_store::repo::{credit, products, users};
use serde_json::json;

use super::checkout::release_error;
use super::orders::actor_for;
use super::{ServiceError, corrupt, pagination};
use crate::config::ReturnPolicy;
use crate::state::AppState;

/// Most lines one return may name.
pub const MAX_LINES: usize = 50;
/// Most units of one line a request may name (an order line holds at most 99).
const MAX_UNITS: i64 = 99;

/// Stages whose returns hold their units ([`RmaStage::holds_quantity`]).
fn holding_stages() -> Vec<&'static str> {
    RmaStage::ALL.into_iter().filter(|s| s.holds_quantity()).map(RmaStage::as_str).collect()
}

fn stage_of(r: &RmaRow) -> Result<RmaStage, ServiceError> {
    RmaStage::parse(&r.stage).ok_or_else(|| corrupt(format!("stage {:?} of return {}", r.stage, r.id)))
}

fn parsed<T>(
    r: &RmaRow,
    what: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ServiceError> {
    raw.map(|s| parse(s).ok_or_else(|| corrupt(format!("{what} {s:?} of return {}", r.id)))).transpose()
}

fn role_name(actor: Actor) -> &'static str {
    match actor {
        Actor::Owner => "customer",
        Actor::System => "system",
        Actor::Staff(r) => r.as_str(),
    }
}

fn not_found(id: RmaId) -> ServiceError {
    ServiceError::not_found(format!("return {id}"))
}

fn stale(id: RmaId) -> ServiceError {
    ServiceError::Conflict {
        code: "stale_version",
        detail: format!("return {id} was changed by someone else in the meantime; reload it"),
    }
}

/// The return if `caller` may see it: its owner, or staff. Anyone else hears 404.
fn visible(c: &mut Conn, caller: &Caller, id: RmaId) -> Result<RmaRow, ServiceError> {
    let row = repo::by_id(c, id.get())?.ok_or_else(|| not_found(id))?;
    let mine = caller.user_id().is_some_and(|u| u.get() == row.user_id);
    if mine || caller.allows(Permission::HandleReturns) { Ok(row) } else { Err(not_found(id)) }
}

fn transition_error(e: TransitionError) -> ServiceError {
    match e {
        TransitionError::Forbidden => ServiceError::Forbidden,
        TransitionError::NotAllowed { stage, action, allowed } => ServiceError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "cannot {} a return that is {}; allowed now: {}",
                action.as_str(),
                stage.as_str(),
                if allowed.is_empty() {
                    "nothing".to_owned()
                } else {
                    allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        },
    }
}

fn refund_error(field: &str, e: RefundError) -> ServiceError {
    match e {
        RefundError::Inconsistent | RefundError::Overflow => ServiceError::internal(e),
        other => ServiceError::invalid(field, other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Requesting a return
// ---------------------------------------------------------------------------------------------

fn problem_dto(i: &Ineligible) -> ReturnProblem {
    let code = serde_json::to_value(i)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "ineligible".to_owned());
    ReturnProblem { code, order_line_id: i.line(), message: i.message() }
}

/// A request checked against the order: the lines it names, what is wrong with it (for the
/// customer), and the estimate.
struct Checked {
    order: OrderRow,
    lines: Vec<NewRmaLine>,
    problems: Vec<Ineligible>,
    estimate: RefundEstimate,
    description: Option<String>,
}

/// The input's shape (422): 1-50 lines, each once, 1-99 units, the text bounded. Eligibility
/// (the order's state, windows, quantities left) is [`check`]'s.
fn shape(req: &ReturnRequest) -> Result<Option<String>, ServiceError> {
    let mut errs = ValidationErrors::default();
    if req.lines.is_empty() {
        push(&mut errs, "lines", "choose at least one line to return");
    } else if req.lines.len() > MAX_LINES {
        push(&mut errs, "lines", format!("at most {MAX_LINES} lines"));
    }
    for (i, l) in req.lines.iter().enumerate() {
        if !(1..=MAX_UNITS).contains(&l.quantity) {
            push(&mut errs, format!("lines[{i}].quantity"), format!("must be between 1 and {MAX_UNITS}"));
        }
        if req.lines[..i].iter().any(|e| e.order_line_id == l.order_line_id) {
            push(&mut errs, format!("lines[{i}].order_line_id"), "is listed more than once");
        }
    }
    let description = errs.check(rma::free_text("description", req.description.as_deref().unwrap_or("")));
    Ok(errs.finish(|| Some(description.flatten()))?)
}

fn check(
    c: &mut Conn,
    caller: &Caller,
    req: &ReturnRequest,
    policy: &ReturnPolicy,
    now: DateTime<Utc>,
) -> Result<Checked, ServiceError> {
    let description = shape(req)?;
    let user = super::cart::owner(caller)?;
    let order = order_repo::by_id(c, req.order_id.get())?
        .filter(|o| o.user_id == user.get())
        .ok_or_else(|| ServiceError::not_found(format!("order {}", req.order_id)))?;
    let order_lines = order_repo::lines(c, order.id)?;
    let claimed = repo::claimed_units(c, order.id, &holding_stages())?;
    let mut errs = ValidationErrors::default();
    let mut requests = Vec::with_capacity(req.lines.len());
    let mut lines = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        let Some(ol) = order_lines.iter().find(|ol| ol.id == l.order_line_id.get()) else {
            push(
                &mut errs,
                format!("lines[{i}].order_line_id"),
                format!("is not a line of order {}", order.id),
            );
            continue;
        };
        let product = products::by_id(c, ol.product_id)?
            .ok_or_else(|| corrupt(format!("product {}", ol.product_id)))?;
        let already = claimed.iter().find(|(id, _)| *id == ol.id).map_or(0, |(_, n)| *n);
        requests.push(LineRequest {
            line: OrderLineId(ol.id),
            requested: u32::try_from(l.quantity).unwrap_or(0),
            bought: u32::try_from(ol.quantity).unwrap_or(0),
            already_claimed: u32::try_from(already).unwrap_or(u32::MAX),
            returnable: product.returnable,
            window_days: policy.windows.days_for(&product.category),
        });
        lines.push(NewRmaLine {
            order_line_id: ol.id,
            product_id: ol.product_id,
            sku: ol.sku.clone(),
            name: ol.name.clone(),
            unit_price_cents: ol.unit_price_cents,
            quantity: l.quantity,
        });
    }
    errs.finish(|| Some(()))?;
    let delivered = matches!(order.state.as_str(), "delivered" | "partially_refunded");
    let since_delivery =
        order.delivered_at.filter(|_| delivered).map(|d| (now - d).to_std().unwrap_or_default());
    let problems =
        match rma::eligibility(&EligibilityInput { caller_is_owner: true, since_delivery, lines: &requests })
        {
            Ok(()) => Vec::new(),
            Err(p) => p,
        };
    let estimate = estimate_of(&lines_priced(&lines), policy, req.reason, rma::PREVIEW_CONDITION)?;
    Ok(Checked { order, lines, problems, estimate, description })
}

fn push(errs: &mut ValidationErrors, field: impl Into<String>, message: impl Into<String>) {
    let field: String = field.into();
    errs.0.push(retail_domain::FieldError::new(&field, message));
}

fn lines_priced(lines: &[NewRmaLine]) -> Vec<(Money, u32)> {
    lines.iter().map(|l| (Money(l.unit_price_cents), u32::try_from(l.quantity).unwrap_or(0))).collect()
}

fn estimate_of(
    lines: &[(Money, u32)],
    policy: &ReturnPolicy,
    reason: ReturnReason,
    condition: Condition,
) -> Result<RefundEstimate, ServiceError> {
    rma::refund_estimate(lines, &policy.fees, reason, condition).map_err(ServiceError::internal)
}

fn currency_of(o: &OrderRow) -> Result<Currency, ServiceError> {
    Currency::parse("currency", &o.currency).map_err(|_| corrupt(format!("currency of order {}", o.id)))
}

/// What a return would refund and whether it would be accepted; nothing is written.
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    req: ReturnRequest,
) -> Result<ReturnPreview, ServiceError> {
    super::cart::owner(caller)?;
    let caller = caller.clone();
    let policy = state.returns.clone();
    state
        .db
        .read(move |c| {
            let ch = check(c, &caller, &req, &policy, Utc::now())?;
            Ok(ReturnPreview {
                eligible: ch.problems.is_empty(),
                problems: ch.problems.iter().map(problem_dto).collect(),
                estimate: ch.estimate,
                currency: currency_of(&ch.order)?,
            })
        })
        .await
}

/// Requests a return. The system checks it at once: an eligible request waits for support
/// (`validating`); an ineligible one is recorded `rejected` with its reasons.
pub async fn create(state: &AppState, caller: &Caller, req: ReturnRequest) -> Result<Rma, ServiceError> {
    let user = super::cart::owner(caller)?;
    let caller = caller.clone();
    let policy = state.returns.clone();
    state
        .db
        .write(move |c| {
            let now = Utc::now();
            let ch = check(c, &caller, &req, &policy, now)?;
            let eligible = ch.problems.is_empty();
            let problems: Vec<ReturnProblem> = ch.problems.iter().map(problem_dto).collect();
            let problems_json = if eligible { None } else { Some(serde_json::to_string(&problems).map_err(ServiceError::internal)?) };
            let stage = if eligible { RmaStage::Validating } else { RmaStage::Rejected };
            let (row, _) = repo::insert(
                c,
                &NewRma {
                    user_id: user.get(),
                    order_id: ch.order.id,
                    stage: stage.as_str(),
                    reason: req.reason.as_str(),
                    description: ch.description.as_deref(),
                    problems: problems_json.as_deref(),
                    currency: &ch.order.currency,
                    gross_cents: ch.estimate.gross.cents(),
                },
                &ch.lines,
                now,
            )?;
            let submit = NewEvent {
                rma_id: row.id,
                actor_id: Some(user.get()),
                actor_role: role_name(Actor::Owner),
                action: "submit",
                from_stage: None,
                to_stage: RmaStage::Submitted.as_str(),
                note: ch.description.as_deref(),
                stage_secs: 0,
            };
            repo::append_event(c, &submit, now)?;
            let (action, note) = if eligible {
                (RmaAction::Validate, None)
            } else {
                (RmaAction::Reject, Some(problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join(" ")))
            };
            let to = rma::transition(RmaStage::Submitted, action, Actor::System).map_err(transition_error)?;
            repo::append_event(
                c,
                &NewEvent {
                    actor_id: None,
                    actor_role: role_name(Actor::System),
                    action: action.as_str(),
                    from_stage: Some(RmaStage::Submitted.as_str()),
                    to_stage: to.as_str(),
                    note: note.as_deref(),
                    ..submit
                },
                now,
            )?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: Some(user.get()),
                    action: "rma.submit",
                    entity_type: "rma",
                    entity_id: row.id.to_string(),
                    detail: json!({
                        "order_id": row.order_id,
                        "stage": to.as_str(),
                        "lines": ch.lines.iter().map(|l| json!({"order_line_id": l.order_line_id, "quantity": l.quantity})).collect::<Vec<_>>(),
                        "problems": problems.iter().map(|p| &p.code).collect::<Vec<_>>(),
                    }),
                },
                now,
            )?;
            super::notify::return_in(c, action, Actor::System, &row, note.as_deref(), now)?;
            Ok((to, load(c, &caller, &policy, row)?))
        })
        .await
        .map(|(to, rma)| {
            state.metrics.business.rma_entered(RmaStage::Submitted);
            state.metrics.business.rma_entered(to);
            rma
        })
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

fn line_dto(l: &RmaLineRow) -> Result<RmaLine, ServiceError> {
    Ok(RmaLine {
        order_line_id: OrderLineId(l.order_line_id),
        product_id: ProductId(l.product_id),
        sku: l.sku.clone(),
        name: l.name.clone(),
        unit_price_cents: l.unit_price_cents,
        quantity: u32::try_from(l.quantity).map_err(ServiceError::internal)?,
        line_total_cents: l.unit_price_cents * l.quantity,
    })
}

fn photo_dto(p: RmaPhotoRow) -> RmaPhoto {
    RmaPhoto {
        url: format!("/api/returns/{}/photos/{}", p.rma_id, p.id),
        id: p.id,
        content_type: p.content_type,
        size_bytes: p.size_bytes,
        sha256: p.sha256,
        created_at: p.created_at,
    }
}

fn priced(lines: &[RmaLineRow]) -> Vec<(Money, u32)> {
    lines.iter().map(|l| (Money(l.unit_price_cents), u32::try_from(l.quantity).unwrap_or(0))).collect()
}

/// The return as `caller` sees it, read on `c`.
pub(crate) fn load(
    c: &mut Conn,
    caller: &Caller,
    policy: &ReturnPolicy,
    row: RmaRow,
) -> Result<Rma, ServiceError> {
    let stage = stage_of(&row)?;
    let reason =
        ReturnReason::parse(&row.reason).ok_or_else(|| corrupt(format!("reason of return {}", row.id)))?;
    let condition = parsed(&row, "condition", row.condition.as_deref(), Condition::parse)?;
    let disposition = parsed(&row, "disposition", row.disposition.as_deref(), Disposition::parse)?;
    let outcome = parsed(&row, "outcome", row.outcome.as_deref(), GoodsOutcome::parse)?;
    let lines = repo::lines(c, row.id)?;
    let estimate = estimate_of(&priced(&lines), policy, reason, condition.unwrap_or(rma::PREVIEW_CONDITION))?;
    let staff = caller.allows(Permission::HandleReturns);
    let events = repo::events(c, row.id)?
        .into_iter()
        .map(|(e, email)| {
            Ok(RmaEvent {
                id: e.id,
                from: e
                    .from_stage
                    .as_deref()
                    .map(|s| RmaStage::parse(s).ok_or_else(|| corrupt(format!("event {}", e.id))))
                    .transpose()?,
                to: RmaStage::parse(&e.to_stage).ok_or_else(|| corrupt(format!("event {}", e.id)))?,
                action: e.action,
                actor_role: e.actor_role,
                actor_email: if staff { email } else { None },
                note: e.note,
                created_at: e.created_at,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let photos = repo::photos(c, row.id)?.into_iter().map(photo_dto).collect();
    let email = users::by_id(c, row.user_id)?.map(|u| u.email).unwrap_or_default();
    let actor = actor_for(caller, row.user_id);
    let actions = rma::allowed_actions(stage, actor)
        .into_iter()
        .filter(|a| match a {
            RmaAction::Validate => false,
            RmaAction::Complete => disposition.is_some_and(|d| !d.completed_by_system()),
            _ => true,
        })
        .collect();
    let problems = match &row.problems {
        Some(p) => serde_json::from_str(p).map_err(|_| corrupt(format!("problems of return {}", row.id)))?,
        None => Vec::new(),
    };
    let currency = Currency::parse("currency", &row.currency)
        .map_err(|_| corrupt(format!("currency of return {}", row.id)))?;
    Ok(Rma {
        id: RmaId(row.id),
        order_id: OrderId(row.order_id),
        user_id: UserId(row.user_id),
        customer_email: email,
        stage,
        version: row.version,
        reason,
        description: row.description,
        problems,
        lines: lines.iter().map(line_dto).collect::<Result<_, _>>()?,
        currency,
        estimate,
        carrier: row.carrier,
        tracking: row.tracking,
        condition,
        inspection_note: row.inspection_note,
        disposition,
        decision_note: row.decision_note,
        amount_cents: row.amount_cents,
        refund: match (row.refund_card_cents, row.refund_credit_cents) {
            (Some(card_cents), Some(credit_cents)) => Some(RefundSplit { card_cents, credit_cents }),
            _ => None,
        },
        attempts: row.attempts,
        last_error: row.last_error,
        replacement_order_id: row.replacement_order_id.map(OrderId),
        outcome,
        outcome_carrier: row.outcome_carrier,
        outcome_tracking: row.outcome_tracking,
        photos,
        events,
        actions,
        stage_entered_at: row.stage_entered_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// One return (its owner, or staff).
pub async fn get(state: &AppState, caller: &Caller, id: RmaId) -> Result<Rma, ServiceError> {
    let caller = caller.clone();
    let policy = state.returns.clone();
    state
        .db
        .read(move |c| {
            let row = visible(c, &caller, id)?;
            load(c, &caller, &policy, row)
        })
        .await
}

fn summaries(
    c: &mut Conn,
    rows: Vec<(RmaRow, String)>,
    policy: &ReturnPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<RmaSummary>, ServiceError> {
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let lines = repo::lines_of(c, &ids)?;
    rows.into_iter()
        .map(|(r, email)| {
            let stage = stage_of(&r)?;
            let units: i64 = lines.iter().filter(|l| l.rma_id == r.id).map(|l| l.quantity).sum();
            let age_secs = (now - r.stage_entered_at).num_seconds().max(0);
            let sla_secs = if stage.is_terminal() { None } else { policy.sla_of(stage) };
            Ok(RmaSummary {
                id: RmaId(r.id),
                order_id: OrderId(r.order_id),
                customer_email: email,
                stage,
                reason: ReturnReason::parse(&r.reason)
                    .ok_or_else(|| corrupt(format!("reason of return {}", r.id)))?,
                units: u32::try_from(units).map_err(ServiceError::internal)?,
                gross_cents: r.gross_cents,
                currency: Currency::parse("currency", &r.currency)
                    .map_err(|_| corrupt(format!("currency of return {}", r.id)))?,
                disposition: parsed(&r, "disposition", r.disposition.as_deref(), Disposition::parse)?,
                last_error: r.last_error,
                stage_entered_at: r.stage_entered_at,
                age_secs,
                breached: sla_secs.is_some_and(|s| age_secs > s),
                sla_secs,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The caller's returns, newest first.
pub async fn mine(state: &AppState, caller: &Caller, page: PageRequest) -> Result<RmaList, ServiceError> {
    let user = super::cart::owner(caller)?;
    let filter = RmaFilter { user_id: Some(user.get()), ..RmaFilter::default() };
    list_with(state, filter, page, false).await
}

/// The stages of a team's queue.
pub fn queue_stages(q: ReturnQueue) -> Vec<RmaStage> {
    let team = match q {
        ReturnQueue::Support => Role::Support,
        ReturnQueue::Warehouse => Role::Warehouse,
        ReturnQueue::Finance => Role::Finance,
    };
    RmaStage::ALL.into_iter().filter(|s| s.queue() == Some(team)).collect()
}

/// A team's queue (oldest in its stage first), or every return (newest first), filtered.
pub async fn staff_list(
    state: &AppState,
    caller: &Caller,
    q: StaffReturnQuery,
) -> Result<RmaList, ServiceError> {
    caller.require(Permission::HandleReturns)?;
    let mut errs = ValidationErrors::default();
    let page = errs.check(PageRequest::parse(q.page, q.per_page));
    let page = errs.finish(|| page)?;
    let search = filter_text("q", q.q.as_deref()).map_err(ServiceError::invalid_query)?;
    let mut stages: Vec<RmaStage> = q.queue.map(queue_stages).unwrap_or_default();
    if let Some(s) = q.stage {
        // A stage outside the chosen queue matches nothing.
        stages = if q.queue.is_none() || stages.contains(&s) { vec![s] } else { Vec::new() };
        if stages.is_empty() {
            return Ok(RmaList { items: Vec::new(), pagination: pagination(page, 0) });
        }
    }
    let now = Utc::now();
    let mut entered_before = Vec::new();
    if q.breached == Some(true) {
        let scope = if stages.is_empty() { RmaStage::ALL.to_vec() } else { stages.clone() };
        for s in scope.into_iter().filter(|s| !s.is_terminal()) {
            if let Some(secs) = state.returns.sla_of(s) {
                entered_before.push((s.as_str().to_owned(), now - chrono::Duration::seconds(secs)));
            }
        }
        if entered_before.is_empty() {
            return Ok(RmaList { items: Vec::new(), pagination: pagination(page, 0) });
        }
    }
    let filter = RmaFilter {
        user_id: None,
        stages: stages.iter().map(|s| s.as_str().to_owned()).collect(),
        search,
        entered_before,
    };
    list_with(state, filter, page, q.queue.is_some()).await
}

async fn list_with(
    state: &AppState,
    filter: RmaFilter,
    page: PageRequest,
    oldest_first: bool,
) -> Result<RmaList, ServiceError> {
    let policy = state.returns.clone();
    state
        .db
        .read(move |c| {
            let (rows, total) = repo::list(c, &filter, page, oldest_first)?;
            let items = summaries(c, rows, &policy, Utc::now())?;
            Ok(RmaList { items, pagination: pagination(page, total) })
        })
        .await
}

/// Return figures: per stage count, median time and target; what the dispositions moved.
pub async fn figures(state: &AppState, caller: &Caller) -> Result<RmaFigures, ServiceError> {
    caller.require(Permission::HandleReturns)?;
    let policy = state.returns.clone();
    state.db.read(move |c| figures_on(c, &policy)).await
}

/// [`figures`] on a connection (also for `/metrics`).
pub fn figures_on(c: &mut Conn, policy: &ReturnPolicy) -> Result<RmaFigures, ServiceError> {
    let counts = repo::stage_counts(c)?;
    let durations = repo::stage_durations(c)?;
    let stages = RmaStage::ALL
        .into_iter()
        .map(|s| {
            let secs: Vec<i64> =
                durations.iter().filter(|(st, _)| st == s.as_str()).map(|(_, n)| *n).collect();
            RmaStageFigures {
                stage: s,
                count: counts.iter().find(|(st, _)| st == s.as_str()).map_or(0, |(_, n)| *n),
                median_secs: rma::median(&secs),
                sla_secs: if s.is_terminal() { None } else { policy.sla_of(s) },
            }
        })
        .collect();
    let totals = repo::effect_totals(c)?;
    let of =
        |kind: &str| totals.iter().find(|(k, ..)| k == kind).map_or((0, 0, 0), |(_, a, q, n)| (*a, *q, *n));
    Ok(RmaFigures {
        stages,
        refunded_card_cents: of("refund_card").0,
        refunded_credit_cents: of("refund_credit").0,
        credit_granted_cents: of("store_credit").0,
        restocked_units: of("restock").1,
        replacements: of("replacement").2,
    })
}

// ---------------------------------------------------------------------------------------------
// Acting on a return
// ---------------------------------------------------------------------------------------------

/// Owned values of [`RmaChanges`] for one action.
#[derive(Default)]
struct Plan {
    carrier: Option<String>,
    tracking: Option<String>,
    condition: Option<Condition>,
    inspection_note: Option<String>,
    disposition: Option<Disposition>,
    decision_note: Option<String>,
    fee_cents: Option<i64>,
    amount_cents: Option<i64>,
    outcome: Option<GoodsOutcome>,
    outcome_carrier: Option<String>,
    outcome_tracking: Option<String>,
}

impl Plan {
    fn changes<'a>(&'a self, to: RmaStage) -> RmaChanges<'a> {
        RmaChanges {
            stage: Some(to.as_str()),
            carrier: self.carrier.as_deref(),
            tracking: self.tracking.as_deref(),
            condition: self.condition.map(Condition::as_str),
            inspection_note: self.inspection_note.as_deref(),
            disposition: self.disposition.map(Disposition::as_str),
            decision_note: self.decision_note.as_deref(),
            fee_cents: self.fee_cents,
            amount_cents: self.amount_cents,
            outcome: self.outcome.map(GoodsOutcome::as_str),
            outcome_carrier: self.outcome_carrier.as_deref(),
            outcome_tracking: self.outcome_tracking.as_deref(),
            ..RmaChanges::default()
        }
    }
}

fn required<T>(field: &str, v: Option<T>, what: &str) -> Result<T, ServiceError> {
    v.ok_or_else(|| ServiceError::invalid(field, format!("is required to {what}")))
}

fn note_of(req: &RmaActionRequest) -> Result<Option<String>, ServiceError> {
    Ok(rma::free_text("note", req.note.as_deref().unwrap_or(""))?)
}

/// What is left to refund or credit for this return: its net at the condition found, capped
/// by what is left of the order's payment.
fn cap_of(
    c: &mut Conn,
    row: &RmaRow,
    policy: &ReturnPolicy,
    reason: ReturnReason,
    condition: Condition,
) -> Result<(RefundEstimate, Money), ServiceError> {
    let lines = repo::lines(c, row.id)?;
    let est = estimate_of(&priced(&lines), policy, reason, condition)?;
    let order =
        order_repo::by_id(c, row.order_id)?.ok_or_else(|| corrupt(format!("order of return {}", row.id)))?;
    let left = Money(order.total_cents - order.refunded_cents);
    Ok((est, est.net.min(left).max(Money(0))))
}

/// Checks the fields `req` needs and works out what the action records.
fn plan(
    c: &mut Conn,
    row: &RmaRow,
    req: &RmaActionRequest,
    policy: &ReturnPolicy,
) -> Result<(Plan, Option<String>), ServiceError> {
    let note = note_of(req)?;
    let mut p = Plan::default();
    let reason =
        ReturnReason::parse(&row.reason).ok_or_else(|| corrupt(format!("reason of return {}", row.id)))?;
    match req.action {
        RmaAction::Reject => {
            required("note", note.as_ref(), "reject a return")?;
        }
        RmaAction::Ship => {
            let (carrier, tracking) =
                order::shipment(req.carrier.as_deref().unwrap_or(""), req.tracking.as_deref().unwrap_or(""))?;
            p.carrier = Some(carrier);
            p.tracking = Some(tracking);
        }
        RmaAction::Inspect => {
            let condition = required("condition", req.condition, "record an inspection")?;
            let lines = repo::lines(c, row.id)?;
            p.fee_cents = Some(estimate_of(&priced(&lines), policy, reason, condition)?.fee.cents());
            p.condition = Some(condition);
            p.inspection_note = note.clone();
        }
        RmaAction::Decide => {
            let disposition = required("disposition", req.disposition, "decide")?;
            let condition = parsed(row, "condition", row.condition.as_deref(), Condition::parse)?
                .ok_or_else(|| corrupt(format!("return {} inspected without a condition", row.id)))?;
            match disposition {
                Disposition::Refund | Disposition::StoreCredit => {
                    let (_, cap) = cap_of(c, row, policy, reason, condition)?;
                    let amount = req.amount_cents.map(Money).unwrap_or(cap);
                    if req.amount_cents.is_none() && cap.cents() == 0 {
                        return Err(ServiceError::invalid(
                            "amount_cents",
                            "nothing is left to refund for this return; choose another disposition",
                        ));
                    }
                    p.amount_cents = Some(
                        rma::refund_amount(amount, cap).map_err(|e| refund_error("amount_cents", e))?.cents(),
                    );
                }
                Disposition::Reject => {
                    required("note", note.as_ref(), "reject the goods")?;
                }
                Disposition::Replacement | Disposition::Repair => {}
            }
            if req.amount_cents.is_some()
                && !matches!(disposition, Disposition::Refund | Disposition::StoreCredit)
            {
                return Err(ServiceError::invalid(
                    "amount_cents",
                    "only a refund or store credit takes an amount",
                ));
            }
            p.disposition = Some(disposition);
            p.decision_note = note.clone();
        }
        RmaAction::Complete => {
            let disposition = parsed(row, "disposition", row.disposition.as_deref(), Disposition::parse)?;
            if disposition.is_none_or(Disposition::completed_by_system) {
                return Err(ServiceError::Conflict {
                    code: "completes_itself",
                    detail: "a refund, replacement or store credit completes when it is processed".into(),
                });
            }
            let outcome = required("outcome", req.outcome, "complete a repair or rejection")?;
            if disposition.is_some_and(|d| !outcome.fits(d)) {
                return Err(ServiceError::invalid("outcome", format!("{outcome} does not end this return")));
            }
            if outcome.ships() {
                let (carrier, tracking) = order::shipment(
                    req.carrier.as_deref().unwrap_or(""),
                    req.tracking.as_deref().unwrap_or(""),
                )?;
                p.outcome_carrier = Some(carrier);
                p.outcome_tracking = Some(tracking);
            }
            p.outcome = Some(outcome);
        }
        RmaAction::Validate
        | RmaAction::Approve
        | RmaAction::Receive
        | RmaAction::StartInspection
        | RmaAction::Process
        | RmaAction::Cancel => {}
    }
    Ok((p, note))
}

/// Writes the event and audit row of a move from `from` to `row`'s stage.
fn log_move(
    c: &mut Conn,
    (caller, actor): (&Caller, Actor),
    from: &RmaRow,
    row: &RmaRow,
    (action, note): (&str, Option<&str>),
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    repo::append_event(
        c,
        &NewEvent {
            rma_id: row.id,
            actor_id: caller.user_id().map(|u| u.get()),
            actor_role: role_name(actor),
            action,
            from_stage: Some(&from.stage),
            to_stage: &row.stage,
            note,
            stage_secs: if from.stage == row.stage { 0 } else { (now - from.stage_entered_at).num_seconds() },
        },
        now,
    )?;
    audit::record(
        c,
        &AuditEvent {
            actor_id: caller.user_id().map(|u| u.get()),
            action: &format!("rma.{action}"),
            entity_type: "rma",
            entity_id: row.id.to_string(),
            detail: json!({"from": from.stage, "to": row.stage, "version": row.version, "note": note, "detail": detail}),
        },
        now,
    )?;
    if let Some(a) = RmaAction::parse(action)
        && from.stage != row.stage
    {
        super::notify::return_in(c, a, actor, row, note, now)?;
    }
    Ok(())
}

/// Performs `req.action` on return `id` for `caller`: the transition table decides, the
/// action's fields are checked, and the change is conditional on `req.version`.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: RmaId,
    req: RmaActionRequest,
) -> Result<Rma, ServiceError> {
    super::cart::owner(caller)?;
    if req.action == RmaAction::Process {
        return process(state, caller, id, req.version).await;
    }
    let caller = caller.clone();
    let policy = state.returns.clone();
    state
        .db
        .write(move |c| {
            let caller = current(c, &caller)?;
            let row = visible(c, &caller, id)?;
            let from = stage_of(&row)?;
            let actor = actor_for(&caller, row.user_id);
            let to = rma::transition(from, req.action, actor).map_err(transition_error)?;
            if req.version != row.version {
                return Err(stale(id));
            }
            let (p, note) = plan(c, &row, &req, &policy)?;
            let now = Utc::now();
            let updated = repo::update(c, row.id, row.version, &p.changes(to), now)?.ok_or_else(|| stale(id))?;
            let detail = json!({
                "carrier": p.carrier, "tracking": p.tracking, "condition": p.condition, "disposition": p.disposition,
                "amount_cents": p.amount_cents, "fee_cents": p.fee_cents, "outcome": p.outcome,
            });
            log_move(c, (&caller, actor), &row, &updated, (req.action.as_str(), note.as_deref()), detail, now)?;
            Ok(((from != to).then_some(to), load(c, &caller, &policy, updated)?))
        })
        .await
        .map(|(entered, rma)| {
            if let Some(stage) = entered {
                state.metrics.business.rma_entered(stage);
            }
            rma
        })
}

/// The caller with the role its account has now (a role taken away since the token was
/// issued is seen here).
fn current(c: &mut Conn, caller: &Caller) -> Result<Caller, ServiceError> {
    match caller.user_id() {
        Some(id) => {
            let row =
                users::by_id(c, id.get())?.ok_or(ServiceError::Unauthorized("account no longer exists"))?;
            Ok(caller.with_role(super::user_dto(row)?.role))
        }
        None => Ok(caller.clone()),
    }
}

/// Inside a write transaction: cancels up to `limit` approved returns that entered `approved`
/// before `cutoff` (their parcel never came), as the system; each conditional on its
/// version. Returns how many were cancelled.
pub fn expire_unsent_in(
    c: &mut Conn,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<usize, ServiceError> {
    let filter = RmaFilter {
        stages: vec![RmaStage::Approved.as_str().to_owned()],
        entered_before: vec![(RmaStage::Approved.as_str().to_owned(), cutoff)],
        ..RmaFilter::default()
    };
    let per_page = u32::try_from(limit.clamp(1, 100)).unwrap_or(100);
    let page = PageRequest::parse(Some(1), Some(per_page))?;
    let (rows, _) = repo::list(c, &filter, page, true)?;
    let mut n = 0;
    for (row, _) in rows {
        let to = rma::transition(RmaStage::Approved, RmaAction::Cancel, Actor::System)
            .map_err(transition_error)?;
        let changes = RmaChanges { stage: Some(to.as_str()), ..RmaChanges::default() };
        if let Some(updated) = repo::update(c, row.id, row.version, &changes, now)? {
            let note = "the parcel was not sent in time";
            log_move(
                c,
                (&Caller::System, Actor::System),
                &row,
                &updated,
                ("cancel", Some(note)),
                json!({}),
                now,
            )?;
            n += 1;
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Processing a disposition, exactly once
// ---------------------------------------------------------------------------------------------

/// A card refund to make: the payment, its provider reference, the amount, the key.
#[derive(Debug, Clone)]
struct CardRefund {
    payment_id: i64,
    reference: String,
    amount: Money,
    key: String,
}

/// The card part spread over the order's captured payments, oldest first, each up to what is
/// left on it. Read before the refunds are recorded, so a retry computes the same parts.
fn card_refunds(rma_id: i64, pays: &[PaymentRow], mut left: i64) -> Result<Vec<CardRefund>, ServiceError> {
    let mut out = Vec::new();
    for p in pays {
        if left == 0 {
            break;
        }
        let (true, Some(reference)) =
            (matches!(p.state.as_str(), "captured" | "partially_refunded"), p.reference.as_ref())
        else {
            continue;
        };
        let part = left.min(p.amount_cents - p.refunded_cents);
        if part > 0 {
            out.push(CardRefund {
                payment_id: p.id,
                reference: reference.clone(),
                amount: Money(part),
                key: format!("rma-{rma_id}-refund-{}", p.id),
            });
            left -= part;
        }
    }
    if left > 0 {
        return Err(ServiceError::Conflict {
            code: "nothing_to_refund",
            detail: format!(
                "the order's card payments have {left} cents less left to refund than this return needs"
            ),
        });
    }
    Ok(out)
}

/// Claims a processing attempt: the return moves to (or stays in) `processing` with its
/// version bumped, so a concurrent attempt gets 409. A refund's split is fixed here, once.
fn claim(
    c: &mut Conn,
    caller: &Caller,
    id: RmaId,
    version: i64,
) -> Result<(RmaRow, Disposition, Vec<CardRefund>), ServiceError> {
    let caller = current(c, caller)?;
    let row = visible(c, &caller, id)?;
    let from = stage_of(&row)?;
    let actor = actor_for(&caller, row.user_id);
    let to = rma::transition(from, RmaAction::Process, actor).map_err(transition_error)?;
    if version != row.version {
        return Err(stale(id));
    }
    let disposition = parsed(&row, "disposition", row.disposition.as_deref(), Disposition::parse)?
        .ok_or_else(|| corrupt(format!("return {} has no disposition", row.id)))?;
    let order =
        order_repo::by_id(c, row.order_id)?.ok_or_else(|| corrupt(format!("order of return {}", row.id)))?;
    let pays = payments::for_order(c, order.id)?;
    let mut changes = RmaChanges {
        stage: Some(to.as_str()),
        attempts: Some(row.attempts + 1),
        last_error: Some(None),
        ..RmaChanges::default()
    };
    let mut split = row.refund_card_cents.zip(row.refund_credit_cents);
    if disposition == Disposition::Refund && split.is_none() {
        let amount = Money(row.amount_cents.unwrap_or(0));
        let paid = Tender { card: Money(order.card_cents), credit: Money(order.credit_cents) };
        let card_refunded: i64 = pays.iter().map(|p| p.refunded_cents).sum();
        let refunded = Tender {
            card: Money(card_refunded),
            credit: Money(repo::credit_refunded_for_order(c, order.id)?),
        };
        let t = rma::split_refund(amount, paid, refunded).map_err(|e| match e {
            RefundError::ExceedsRefundable { .. } => {
                ServiceError::Conflict { code: "nothing_to_refund", detail: e.to_string() }
            }
            other => ServiceError::internal(other),
        })?;
        split = Some((t.card.cents(), t.credit.cents()));
        changes.refund_card_cents = Some(t.card.cents());
        changes.refund_credit_cents = Some(t.credit.cents());
    }
    let refunds = match split {
        Some((card, _)) if disposition == Disposition::Refund => card_refunds(row.id, &pays, card)?,
        _ => Vec::new(),
    };
    let now = Utc::now();
    let claimed = repo::update(c, row.id, row.version, &changes, now)?.ok_or_else(|| stale(id))?;
    let note = format!("attempt {}", claimed.attempts);
    log_move(
        c,
        (&caller, actor),
        &row,
        &claimed,
        ("process", Some(&note)),
        json!({"disposition": disposition, "split": split}),
        now,
    )?;
    Ok((claimed, disposition, refunds))
}

/// Records a failed attempt: the return stays in `processing` with the error, retryable.
async fn record_failure(
    state: &AppState,
    claimed: &RmaRow,
    error: &ServiceError,
) -> Result<(), ServiceError> {
    let message = error.to_string();
    let claimed = claimed.clone();
    state
        .db
        .write(move |c| {
            let now = Utc::now();
            let changes = RmaChanges { last_error: Some(Some(&message)), ..RmaChanges::default() };
            // Only if no later attempt took over meanwhile.
            if let Some(updated) = repo::update(c, claimed.id, claimed.version, &changes, now)? {
                let facts = retail_domain::notify::Facts {
                    order_id: Some(updated.order_id),
                    rma_id: Some(updated.id),
                    amount: updated
                        .amount_cents
                        .zip(Currency::parse("currency", &updated.currency).ok())
                        .map(|(a, c)| (Money(a), c)),
                    note: Some(message.clone()),
                    ..Default::default()
                };
                let entity = format!("rma:{}:attempt:{}", updated.id, updated.attempts);
                super::notify::staff_in(
                    c,
                    retail_domain::notify::NotifyEvent::RefundFailed,
                    &[Role::Finance, Role::Admin],
                    &entity,
                    &facts,
                    now,
                )?;
                log_move(
                    c,
                    (&Caller::System, Actor::System),
                    &claimed,
                    &updated,
                    ("process_failed", Some(&message)),
                    json!({}),
                    now,
                )?;
            }
            Ok(())
        })
        .await
}

/// Processes the return's disposition: refunds (card through the provider, store-credit part
/// back to the ledger), store credit, a replacement order, restocking; a refund, replacement
/// or store credit then completes. A repair or rejection only starts (staff complete it once
/// the goods have left). Exactly once, whoever calls and however often.
async fn process(state: &AppState, caller: &Caller, id: RmaId, version: i64) -> Result<Rma, ServiceError> {
    let who = caller.clone();
    let (claimed, disposition, refunds) = state.db.write(move |c| claim(c, &who, id, version)).await?;
    if claimed.attempts == 1 {
        // a retry stays in processing
        state.metrics.business.rma_entered(RmaStage::Processing);
    }
    let mut done = Vec::with_capacity(refunds.len());
    for r in &refunds {
        match state.payments.refund(&r.reference, r.amount, &r.key).await {
            Ok(reference) => done.push((r.clone(), reference)),
            Err(e) => {
                let err = release_error(e);
                record_failure(state, &claimed, &err).await?;
                return Err(err);
            }
        }
    }
    let who = caller.clone();
    let policy = state.returns.clone();
    let credit_currency = state.settings.checkout.credit_currency();
    let row = claimed.clone();
    let applied = state
        .db
        .write(move |c| {
            let current = repo::by_id(c, row.id)?.ok_or_else(|| not_found(id))?;
            if current.version != row.version || current.stage != RmaStage::Processing.as_str() {
                return Err(stale(id));
            }
            let now = Utc::now();
            let effects = apply(c, &row, disposition, &done, credit_currency, now)?;
            let updated = if disposition.completed_by_system() {
                let to = rma::transition(RmaStage::Processing, RmaAction::Complete, Actor::System)
                    .map_err(transition_error)?;
                let done = repo::update(
                    c,
                    row.id,
                    row.version,
                    &RmaChanges {
                        stage: Some(to.as_str()),
                        replacement_order_id: effects.replacement,
                        ..RmaChanges::default()
                    },
                    now,
                )?
                .ok_or_else(|| stale(id))?;
                log_move(
                    c,
                    (&Caller::System, Actor::System),
                    &row,
                    &done,
                    ("complete", None),
                    json!({"effects": effects.summary}),
                    now,
                )?;
                done
            } else {
                current
            };
            let completed = updated.stage == RmaStage::Completed.as_str();
            Ok((load(c, &who, &policy, updated)?, effects.moved, completed))
        })
        .await;
    match applied {
        Err(e @ ServiceError::Conflict { code: "out_of_stock" | "stock_limit", .. }) => {
            record_failure(state, &claimed, &e).await?;
            Err(e)
        }
        Err(e) => Err(e),
        Ok((rma, moved, completed)) => {
            moved.count(&state.metrics.business);
            if completed {
                state.metrics.business.rma_entered(RmaStage::Completed);
            }
            Ok(rma)
        }
    }
}

/// What [`apply`] did.
struct Applied {
    replacement: Option<i64>,
    summary: Vec<serde_json::Value>,
    moved: Moved,
}

/// The money a disposition moved just now, for the business counters.
#[derive(Debug, Default, Clone, Copy)]
struct Moved {
    card_refunds: u64,
    card_cents: i64,
    credit_refund_cents: i64,
    credit_granted_cents: i64,
}

impl Moved {
    fn count(self, m: &crate::http::metrics::BusinessMetrics) {
        let cents = |n: i64| u64::try_from(n).unwrap_or(0);
        if self.card_refunds > 0 {
            m.refunds.with_label_values(&["card"]).inc_by(self.card_refunds);
            m.refunded_cents.with_label_values(&["card"]).inc_by(cents(self.card_cents));
        }
        if self.credit_refund_cents > 0 {
            m.refunds.with_label_values(&["credit"]).inc();
            m.refunded_cents.with_label_values(&["credit"]).inc_by(cents(self.credit_refund_cents));
        }
        m.store_credit_cents.with_label_values(&["granted"]).inc_by(cents(self.credit_granted_cents));
    }
}

/// A money movement of a return (or the replacement order, with no money).
fn money_effect<'a>(
    rma_id: i64,
    key: &'a str,
    kind: &'a str,
    amount: i64,
    reference: Option<&'a str>,
) -> NewEffect<'a> {
    NewEffect {
        rma_id,
        idempotency_key: key,
        kind,
        amount_cents: amount,
        product_id: None,
        quantity: 0,
        reference,
    }
}

/// Records `e` under its key: `false` when it was recorded before (then nothing may move).
fn effect(c: &mut Conn, e: &NewEffect<'_>, now: DateTime<Utc>) -> Result<bool, ServiceError> {
    Ok(repo::record_effect(c, e, now)?)
}

/// The disposition's money and stock movements, each under its key (in the caller's
/// transaction, after the provider's refunds went through).
fn apply(
    c: &mut Conn,
    row: &RmaRow,
    disposition: Disposition,
    card: &[(CardRefund, String)],
    credit_currency: Currency,
    now: DateTime<Utc>,
) -> Result<Applied, ServiceError> {
    let mut out = Applied { replacement: None, summary: Vec::new(), moved: Moved::default() };
    let label = format!("return RMA-{}", row.id);
    let lines = repo::lines(c, row.id)?;
    let mut order =
        order_repo::by_id(c, row.order_id)?.ok_or_else(|| corrupt(format!("order of return {}", row.id)))?;
    let mut refunded_now = 0;
    match disposition {
        Disposition::Refund => {
            for (r, reference) in card {
                if effect(
                    c,
                    &money_effect(row.id, &r.key, "refund_card", r.amount.cents(), Some(reference)),
                    now,
                )? {
                    let p = payments::by_id(c, r.payment_id)?
                        .ok_or_else(|| corrupt(format!("payment {}", r.payment_id)))?;
                    let total = p.refunded_cents + r.amount.cents();
                    let to = if total >= p.amount_cents { "refunded" } else { "partially_refunded" };
                    payments::transition(
                        c,
                        p.id,
                        &["captured", "partially_refunded"],
                        to,
                        &PaymentChanges { refunded_cents: Some(total), ..PaymentChanges::default() },
                        now,
                    )?
                    .ok_or_else(|| corrupt(format!("payment {} changed during a refund", p.id)))?;
                    refunded_now += r.amount.cents();
                    out.moved.card_refunds += 1;
                    out.moved.card_cents += r.amount.cents();
                    out.summary.push(
                        json!({"refund_card": r.amount.cents(), "payment_id": p.id, "reference": reference}),
                    );
                }
            }
            let credit_part = row.refund_credit_cents.unwrap_or(0);
            if credit_part > 0
                && effect(
                    c,
                    &money_effect(
                        row.id,
                        &format!("rma:{}:refund_credit", row.id),
                        "refund_credit",
                        credit_part,
                        None,
                    ),
                    now,
                )?
            {
                credit_entry(c, row, CreditKind::Reversal, credit_part, &order.currency, &label, now)?;
                refunded_now += credit_part;
                out.moved.credit_refund_cents = credit_part;
                out.summary.push(json!({"refund_credit": credit_part}));
            }
        }
        Disposition::StoreCredit => {
            let amount = row.amount_cents.unwrap_or(0);
            if amount > 0
                && effect(
                    c,
                    &money_effect(
                        row.id,
                        &format!("rma:{}:store_credit", row.id),
                        "store_credit",
                        amount,
                        None,
                    ),
                    now,
                )?
            {
                credit_entry(c, row, CreditKind::Grant, amount, credit_currency.code(), &label, now)?;
                refunded_now += amount;
                out.moved.credit_granted_cents = amount;
                out.summary.push(json!({"store_credit": amount}));
            }
        }
        Disposition::Replacement => {
            let key = format!("rma:{}:replacement", row.id);
            let new_lines: Vec<OrderLineRow> = lines
                .iter()
                .map(|l| OrderLineRow {
                    id: 0,
                    order_id: 0,
                    product_id: l.product_id,
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    unit_price_cents: 0,
                    quantity: l.quantity,
                    line_total_cents: 0,
                })
                .collect();
            let (replacement, _) = order_repo::insert(
                c,
                &NewOrder {
                    user_id: row.user_id,
                    state: OrderState::Paid.as_str(),
                    currency: &order.currency,
                    subtotal_cents: 0,
                    credit_cents: 0,
                    card_cents: 0,
                    idempotency_key: &key,
                },
                &new_lines,
                now,
            )?;
            for l in &lines {
                products::apply_stock_delta(
                    c,
                    l.product_id,
                    -l.quantity,
                    &format!("replacement order #{} for {label}", replacement.id),
                    None,
                    now,
                )?
                .ok_or_else(|| ServiceError::Conflict {
                    code: "out_of_stock",
                    detail: format!(
                        "not enough stock of {} ({}) for the replacement; restock it and process again",
                        l.name, l.sku
                    ),
                })?;
            }
            effect(c, &money_effect(row.id, &key, "replacement", 0, Some(&replacement.id.to_string())), now)?;
            out.replacement = Some(replacement.id);
            out.summary.push(json!({"replacement_order_id": replacement.id}));
        }
        Disposition::Repair | Disposition::Reject => return Ok(out),
    }
    let condition = parsed(row, "condition", row.condition.as_deref(), Condition::parse)?;
    if condition.is_some_and(|cond| disposition.restocks(cond)) {
        for l in &lines {
            let key = format!("rma:{}:restock:{}", row.id, l.order_line_id);
            if effect(
                c,
                &NewEffect {
                    product_id: Some(l.product_id),
                    quantity: l.quantity,
                    ..money_effect(row.id, &key, "restock", 0, None)
                },
                now,
            )? {
                products::apply_stock_delta(
                    c,
                    l.product_id,
                    l.quantity,
                    &format!("{label} restocked"),
                    None,
                    now,
                )?
                .ok_or_else(|| ServiceError::Conflict {
                    code: "stock_limit",
                    detail: format!("cannot put {} units of {} back", l.quantity, l.sku),
                })?;
                out.summary.push(json!({"restock": l.quantity, "product_id": l.product_id}));
            }
        }
    }
    if refunded_now > 0 {
        let total = order.refunded_cents + refunded_now;
        let action =
            if total >= order.total_cents { OrderAction::RefundAll } else { OrderAction::RefundPart };
        let from =
            OrderState::parse(&order.state).ok_or_else(|| corrupt(format!("state of order {}", order.id)))?;
        let to = order::transition(from, action, Actor::System).map_err(|e| ServiceError::Conflict {
            code: "order_state",
            detail: format!("order {} cannot be refunded now: {e}", order.id),
        })?;
        order = order_repo::transition(
            c,
            order.id,
            &order.state,
            to.as_str(),
            &OrderChanges { refunded_cents: Some(total.min(order.total_cents)), ..OrderChanges::default() },
            now,
        )?
        .ok_or_else(|| ServiceError::Conflict {
            code: "stale_state",
            detail: format!("order {} changed meanwhile; process again", order.id),
        })?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: None,
                action: "order.refund",
                entity_type: "order",
                entity_id: order.id.to_string(),
                detail: json!({"rma_id": row.id, "refunded_cents": refunded_now, "total_refunded_cents": order.refunded_cents, "state": order.state}),
            },
            now,
        )?;
    }
    Ok(out)
}

fn credit_entry(
    c: &mut Conn,
    row: &RmaRow,
    kind: CreditKind,
    amount: i64,
    currency: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    credit::append(
        c,
        &credit::NewEntry {
            user_id: row.user_id,
            kind: kind.as_str(),
            delta_cents: amount,
            currency,
            reason,
            actor_id: None,
            order_id: Some(row.order_id),
            idempotency_key: &format!("rma:{}:{}", row.id, kind.as_str()),
        },
        now,
    )?
    .ok_or_else(|| corrupt(format!("credit balance of user {}", row.user_id)))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Photos
// ---------------------------------------------------------------------------------------------

/// Image types a photo may have, as found in its first bytes.
pub fn photo_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match infer::get(bytes).map(|k| k.mime_type()) {
        Some("image/jpeg") => Some(("image/jpeg", "jpg")),
        Some("image/png") => Some(("image/png", "png")),
        Some("image/webp") => Some(("image/webp", "webp")),
        _ => None,
    }
}

/// Checks that `caller` may add `count` photos to return `id` now (its owner, before the
/// goods are received, at most [`rma::MAX_PHOTOS`] in all). Runs before the upload is read.
pub async fn may_add_photos(state: &AppState, caller: &Caller, id: RmaId) -> Result<(), ServiceError> {
    let caller = caller.clone();
    state
        .db
        .read(move |c| {
            let row = visible(c, &caller, id)?;
            photo_room(c, &caller, &row, 1).map(|_| ())
        })
        .await
}

fn photo_room(c: &mut Conn, caller: &Caller, row: &RmaRow, adding: usize) -> Result<usize, ServiceError> {
    if caller.user_id().is_none_or(|u| u.get() != row.user_id) {
        return Err(ServiceError::Forbidden);
    }
    let stage = stage_of(row)?;
    if !matches!(stage, RmaStage::Submitted | RmaStage::Validating | RmaStage::Approved | RmaStage::Shipping)
    {
        return Err(ServiceError::Conflict {
            code: "photos_closed",
            detail: format!("photos can be added until the goods are received; this return is {stage}"),
        });
    }
    let have = repo::photos(c, row.id)?.len();
    if have + adding > rma::MAX_PHOTOS {
        return Err(ServiceError::Conflict {
            code: "too_many_photos",
            detail: format!("a return holds at most {} photos; this one has {have}", rma::MAX_PHOTOS),
        });
    }
    Ok(have)
}

/// One uploaded photo, already checked for size.
pub struct Upload {
    /// The content.
    pub bytes: bytes::Bytes,
}

/// A photo written to disk: path, stored name, type, size, SHA-256.
type StoredPhoto = (std::path::PathBuf, String, &'static str, i64, String);

/// The directory photos are stored in.
pub fn photo_dir(state: &AppState) -> std::path::PathBuf {
    state.settings.data_dir.join("rma-photos")
}

/// Stores photos for return `id`: each checked by content (JPEG, PNG, WebP), written under a
/// random name, recorded with its SHA-256 (also in the audit log). All or nothing: on any
/// failure no file and no row is left behind.
pub async fn add_photos(
    state: &AppState,
    caller: &Caller,
    id: RmaId,
    uploads: Vec<Upload>,
) -> Result<Rma, ServiceError> {
    use sha2::{Digest, Sha256};
    if uploads.is_empty() {
        return Err(ServiceError::invalid("photo", "attach at least one photo (a file part named `photo`)"));
    }
    let mut typed = Vec::with_capacity(uploads.len());
    for (i, u) in uploads.into_iter().enumerate() {
        let (mime, ext) = photo_type(&u.bytes).ok_or_else(|| {
            ServiceError::invalid(&format!("photo[{i}]"), "must be a JPEG, PNG or WebP image")
        })?;
        let sha = format!("{:x}", Sha256::digest(&u.bytes));
        typed.push((u.bytes, mime, ext, sha));
    }
    let dir = photo_dir(state);
    let mut written: Vec<StoredPhoto> = Vec::new();
    let cleanup = |files: &[StoredPhoto]| {
        for (path, ..) in files {
            let _ = std::fs::remove_file(path);
        }
    };
    let files = {
        let dir = dir.clone();
        super::blocking(move || -> Result<Vec<_>, std::io::Error> {
            std::fs::create_dir_all(&dir)?;
            let mut out: Vec<StoredPhoto> = Vec::new();
            for (bytes, mime, ext, sha) in typed {
                let name = format!("{}.{ext}", uuid::Uuid::new_v4().simple());
                let path = dir.join(&name);
                let tmp = dir.join(format!(".{name}.part"));
                let res = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &path));
                if let Err(e) = res {
                    let _ = std::fs::remove_file(&tmp);
                    for (p, ..) in &out {
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(e);
                }
                out.push((path, name, mime, i64::try_from(bytes.len()).unwrap_or(i64::MAX), sha));
            }
            Ok(out)
        })
        .await?
        .map_err(ServiceError::internal)?
    };
    written.extend(files);
    let caller = caller.clone();
    let policy = state.returns.clone();
    let rows = written.clone();
    let result = state
        .db
        .write(move |c| {
            let row = visible(c, &caller, id)?;
            photo_room(c, &caller, &row, rows.len())?;
            let now = Utc::now();
            for (_, name, mime, size, sha) in &rows {
                let p = repo::insert_photo(
                    c,
                    &retail_store::repo::returns::NewPhoto {
                        rma_id: row.id,
                        stored_name: name,
                        content_type: mime,
                        size_bytes: *size,
                        sha256: sha,
                        uploaded_by: caller.user_id().map(|u| u.get()),
                    },
                    now,
                )?;
                audit::record(
                    c,
                    &AuditEvent {
                        actor_id: caller.user_id().map(|u| u.get()),
                        action: "rma.photo",
                        entity_type: "rma",
                        entity_id: row.id.to_string(),
                        detail: json!({"photo_id": p.id, "sha256": sha, "size_bytes": size, "content_type": mime}),
                    },
                    now,
                )?;
            }
            load(c, &caller, &policy, row)
        })
        .await;
    if result.is_err() {
        cleanup(&written);
    }
    result
}

/// A stored photo: its type and content.
pub struct PhotoFile {
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// A download name.
    pub file_name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A photo of return `id` (its owner, or staff; anyone else: 404).
pub async fn photo(
    state: &AppState,
    caller: &Caller,
    id: RmaId,
    photo_id: i64,
) -> Result<PhotoFile, ServiceError> {
    let caller = caller.clone();
    let row = state
        .db
        .read(move |c| {
            visible(c, &caller, id)?;
            repo::photo(c, id.get(), photo_id)?
                .ok_or_else(|| ServiceError::not_found(format!("photo {photo_id} of return {id}")))
        })
        .await?;
    // The stored name is ours (random hex and a fixed extension), never the client's.
    if !row.stored_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return Err(corrupt(format!("stored name of photo {}", row.id)));
    }
    let path = photo_dir(state).join(&row.stored_name);
    let bytes = super::blocking(move || std::fs::read(path)).await?.map_err(ServiceError::internal)?;
    let ext = row.stored_name.rsplit('.').next().unwrap_or("img").to_owned();
    Ok(PhotoFile {
        content_type: row.content_type,
        file_name: format!("rma-{id}-photo-{photo_id}.{ext}"),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_types_come_from_the_content_not_the_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R'];
        assert_eq!(photo_type(&png), Some(("image/png", "png")));
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(photo_type(&jpeg), Some(("image/jpeg", "jpg")));
        let webp = *b"RIFF\x24\0\0\0WEBPVP8 ";
        assert_eq!(photo_type(&webp), Some(("image/webp", "webp")));
        assert_eq!(photo_type(b"GIF89a......"), None);
        assert_eq!(photo_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(photo_type(b""), None);
    }

    #[test]
    fn queues_follow_the_domain_table() {
        assert_eq!(queue_stages(ReturnQueue::Support), vec![RmaStage::Validating]);
        assert_eq!(
            queue_stages(ReturnQueue::Warehouse),
            vec![RmaStage::Shipping, RmaStage::Received, RmaStage::Inspecting]
        );
        assert_eq!(
            queue_stages(ReturnQueue::Finance),
            vec![RmaStage::Inspected, RmaStage::Disposition, RmaStage::Processing]
        );
    }

    fn pay(id: i64, state: &str, amount: i64, refunded: i64) -> PaymentRow {
        let now = Utc::now();
        PaymentRow {
            id,
            user_id: 1,
            order_id: Some(1),
            provider: "simulator".into(),
            reference: Some(format!("sim_auth_x_{id}")),
            amount_cents: amount,
            currency: "EUR".into(),
            state: state.into(),
            refunded_cents: refunded,
            idempotency_key: format!("k{id}"),
            card_hint: String::new(),
            error_code: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_card_part_spreads_over_captured_payments_with_stable_keys() {
        let pays =
            [pay(1, "voided", 500, 0), pay(2, "partially_refunded", 1000, 900), pay(3, "captured", 800, 0)];
        let r = card_refunds(9, &pays, 300).unwrap();
        assert_eq!(
            r.iter().map(|r| (r.payment_id, r.amount.cents())).collect::<Vec<_>>(),
            vec![(2, 100), (3, 200)]
        );
        assert_eq!(r[0].key, "rma-9-refund-2");
        assert!(card_refunds(9, &pays, 901).is_err());
        assert!(card_refunds(9, &pays, 0).unwrap().is_empty());
    }
}
