//! Store credit (an append-only ledger whose balance never goes below zero) and the
//! reconciliation of payments, orders, credit and stock.

use chrono::Utc;
use retail_api_types::{CreditAccount, GrantCreditRequest, OrderId, PaymentId, ReconciliationReport};
use retail_domain::account::Permission;
use retail_domain::credit::{self as rules, CreditKind};
use retail_domain::paging::PageRequest;
use retail_domain::{Caller, ProductId, UserId};
use retail_store::Conn;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::{credit, payments, products, users};
use serde_json::json;

use super::idempotency::{IdempotencyKey, Replayed, replay_or_run};
use super::orders::credit_dto;
use super::{ServiceError, pagination, write_as};
use crate::state::AppState;

fn account(
    c: &mut Conn,
    user: UserId,
    page: PageRequest,
    currency: retail_domain::Currency,
) -> Result<CreditAccount, ServiceError> {
    let balance = credit::balance(c, user.get())?;
    let (rows, total) = credit::entries(c, user.get(), page)?;
    Ok(CreditAccount {
        user_id: user,
        balance_cents: balance,
        currency,
        entries: rows.into_iter().map(credit_dto).collect::<Result<_, _>>()?,
        pagination: pagination(page, total),
    })
}

/// The caller's own store credit.
pub async fn mine(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
) -> Result<CreditAccount, ServiceError> {
    let user = super::cart::owner(caller)?;
    let currency = state.settings.checkout.credit_currency();
    state.db.read(move |c| account(c, user, page, currency)).await
}

/// A customer's store credit (finance, admin); an unknown account is 404.
pub async fn of_user(
    state: &AppState,
    caller: &Caller,
    user: UserId,
    page: PageRequest,
) -> Result<CreditAccount, ServiceError> {
    caller.require(Permission::GrantCredit)?;
    let currency = state.settings.checkout.credit_currency();
    state
        .db
        .read(move |c| {
            users::by_id(c, user.get())?.ok_or_else(|| ServiceError::not_found(format!("user {user}")))?;
            account(c, user, page, currency)
        })
        .await
}

/// Grants store credit (finance, admin), once per `Idempotency-Key` (required).
pub async fn grant(
    state: &AppState,
    caller: &Caller,
    req: GrantCreditRequest,
    key: Option<&str>,
) -> Result<Replayed<CreditAccount>, ServiceError> {
    caller.require(Permission::GrantCredit)?;
    let Some(raw) = key else {
        return Err(ServiceError::InvalidHeader {
            code: "idempotency_key_required",
            error: retail_domain::FieldError::new(
                super::idempotency::HEADER,
                "is required: send a new random key per grant, and the same key when retrying",
            ),
        });
    };
    let (amount, reason) = rules::grant(req.amount_cents, &req.reason)?;
    let key = IdempotencyKey::from_request(
        Some(caller),
        "POST /api/staff/credit",
        Some(raw),
        &req,
        state.settings.idempotency.ttl(),
    )?;
    let currency = state.settings.checkout.credit_currency();
    let user = req.user_id;
    let granted = u64::try_from(amount.cents()).unwrap_or(0);
    let done = write_as(&state.db, caller, Permission::GrantCredit, move |c, caller| {
        let now = Utc::now();
        replay_or_run(c, key.as_ref(), now, 201, |c| {
            let target = users::by_id(c, user.get())?
                .ok_or_else(|| ServiceError::invalid("user_id", "no such account"))?;
            let entry = credit::append(
                c,
                &credit::NewEntry {
                    user_id: target.id,
                    kind: CreditKind::Grant.as_str(),
                    delta_cents: amount.cents(),
                    currency: currency.code(),
                    reason: &reason,
                    actor_id: caller.user_id().map(|u| u.get()),
                    order_id: None,
                    idempotency_key: &uuid::Uuid::new_v4().to_string(),
                },
                now,
            )?
            .ok_or_else(|| ServiceError::invalid("amount_cents", "the balance would overflow"))?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: caller.user_id().map(|u| u.get()),
                    action: "credit.granted",
                    entity_type: "user",
                    entity_id: target.id.to_string(),
                    detail: json!({"entry_id": entry.id, "amount_cents": amount.cents(), "reason": reason}),
                },
                now,
            )?;
            account(c, user, PageRequest::parse(None, None).map_err(ServiceError::from)?, currency)
        })
    })
    .await?;
    if !done.replayed {
        state.metrics.business.store_credit_cents.with_label_values(&["granted"]).inc_by(granted);
    }
    Ok(done)
}

/// Checks that the books agree: payments against orders, store credit against its ledger,
/// stock against its ledger. Read-only.
pub fn reconcile_on(c: &mut Conn) -> Result<ReconciliationReport, ServiceError> {
    let r = payments::reconcile(c)?;
    let credit_bad = credit::discrepancies(c)?;
    let stock_bad = products::stock_discrepancies(c)?;
    let mut sales_bad: Vec<i64> =
        retail_store::repo::sales::counter_discrepancies(c)?.into_iter().map(|(s, _)| s).collect();
    sales_bad.dedup();
    let returns_bad = retail_store::repo::returns::discrepancies(c)?;
    let clean = r.is_clean()
        && credit_bad.is_empty()
        && stock_bad.is_empty()
        && sales_bad.is_empty()
        && returns_bad.is_empty();
    Ok(ReconciliationReport {
        clean,
        captures_without_order: r.captures_without_order.into_iter().map(PaymentId).collect(),
        paid_orders_without_capture: r.paid_orders_without_capture.into_iter().map(OrderId).collect(),
        amount_mismatches: r.amount_mismatches.into_iter().map(OrderId).collect(),
        captured_cents: r.captured_cents,
        ordered_card_cents: r.ordered_card_cents,
        credit_discrepancies: credit_bad.into_iter().map(|(u, _, _)| UserId(u)).collect(),
        stock_discrepancies: stock_bad.into_iter().map(|(p, _, _)| ProductId(p)).collect(),
        sale_discrepancies: sales_bad,
        return_discrepancies: returns_bad,
        checked_at: Utc::now(),
    })
}

/// The reconciliation (finance, admin).
pub async fn reconcile(state: &AppState, caller: &Caller) -> Result<ReconciliationReport, ServiceError> {
    caller.require(Permission::Reconcile)?;
    state.db.read(reconcile_on).await
}
