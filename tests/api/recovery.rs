//! What the worker does after a checkout was cut short (a crash between its steps), and what
//! the reconciliation catches. The broken states are planted through the store, exactly as a
//! crash would leave them.

use chrono::{Duration, Utc};
use retail_api_types::{Product, ReconciliationReport};
use retail_domain::{Currency, Money};
use retail_server::payments::CardToken;
use retail_server::worker::{Housekeeping, run_once_with};
use retail_store::repo::orders::{self, NewOrder};
use retail_store::repo::payments::{self, NewPayment, PaymentChanges};
use retail_store::repo::{credit, products};
use retail_tests::{TestApp, spawn_app};

async fn reconcile(app: &TestApp) -> ReconciliationReport {
    let admin = app.token_for("admin").await;
    app.get_json("/api/staff/reconciliation", Some(&admin)).await
}

/// A customer of its own (the demo customer has seeded orders and credit), and its token.
async fn customer(app: &TestApp) -> (i64, String) {
    let t = app.register("recovery@retail.test").await;
    (t.user.id.get(), t.access_token)
}

/// A payment authorised at the provider (a real authorisation of the app's gateway), recorded
/// `authorized` with no order, created ten minutes ago.
async fn abandoned_authorisation(app: &TestApp, user: i64, amount: i64) -> i64 {
    let auth = app
        .state
        .payments
        .authorize("planted-1", &CardToken::new("tok_visa"), Money(amount), Currency::EUR)
        .await
        .unwrap();
    app.state
        .db
        .write(move |c| {
            let then = Utc::now() - Duration::minutes(10);
            let p = payments::insert(
                c,
                &NewPayment {
                    user_id: user,
                    provider: "simulator",
                    amount_cents: amount,
                    currency: "EUR",
                    idempotency_key: "planted-1",
                    card_hint: "test card",
                },
                then,
            )?;
            let changes = PaymentChanges { reference: Some(&auth.reference), ..PaymentChanges::default() };
            payments::transition(c, p.id, &["authorizing"], "authorized", &changes, then)?;
            Ok::<_, retail_store::StoreError>(p.id)
        })
        .await
        .unwrap()
}

async fn payment_state(app: &TestApp, id: i64) -> String {
    app.state.db.read(move |c| payments::by_id(c, id)).await.unwrap().unwrap().state
}

#[tokio::test]
async fn the_worker_voids_an_authorisation_that_never_got_its_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (user, _) = customer(&app).await;
    let id = abandoned_authorisation(&app, user, 1_500).await;
    let jobs = Housekeeping::from_settings(&app.state.settings);
    // a fresh one is left alone: its checkout may still be running
    let early =
        run_once_with(&app.state.db, &app.state.payments, &jobs, Utc::now() - Duration::minutes(9)).await;
    assert_eq!(early.unwrap().payments_voided, 0);
    assert_eq!(payment_state(&app, id).await, "authorized");
    let r = run_once_with(&app.state.db, &app.state.payments, &jobs, Utc::now()).await.unwrap();
    assert_eq!(r.payments_voided, 1);
    assert_eq!(payment_state(&app, id).await, "voided");
    assert!(reconcile(&app).await.clean);
    let again = run_once_with(&app.state.db, &app.state.payments, &jobs, Utc::now()).await.unwrap();
    assert_eq!(again.payments_voided, 0, "voided once");
}

#[tokio::test]
async fn the_worker_cancels_an_order_left_pending_payment_and_gives_everything_back() {
    let app = spawn_app().await;
    app.seed().await;
    let (user, token) = customer(&app).await;
    let product: Product = app.get_json("/api/products/3", None).await;
    let (pid, price, stock_before) = (product.id.get(), product.price_cents, product.stock);
    assert!(stock_before >= 2);
    let payment = abandoned_authorisation(&app, user, price * 2 - 500).await;
    // the order as a crash after its transaction and before the capture leaves it: stock
    // taken, credit spent, payment authorised and attached, state pending_payment
    let order = app
        .state
        .db
        .write(move |c| {
            let then = Utc::now() - Duration::minutes(10);
            credit::append(
                c,
                &credit::NewEntry {
                    user_id: user,
                    kind: "grant",
                    delta_cents: 500,
                    currency: "EUR",
                    reason: "planted",
                    actor_id: None,
                    order_id: None,
                    idempotency_key: "planted-grant",
                },
                then,
            )?;
            let p = products::by_id(c, pid)?.unwrap();
            let line = retail_store::models::OrderLineRow {
                id: 0,
                order_id: 0,
                product_id: pid,
                sku: p.sku,
                name: p.name,
                unit_price_cents: price,
                quantity: 2,
                line_total_cents: price * 2,
            };
            let (o, _) = orders::insert(
                c,
                &NewOrder {
                    user_id: user,
                    state: "pending_payment",
                    currency: "EUR",
                    subtotal_cents: price * 2,
                    credit_cents: 500,
                    card_cents: price * 2 - 500,
                    idempotency_key: "planted-order",
                },
                &[line],
                then,
            )?;
            products::apply_stock_delta(c, pid, -2, "order (planted)", Some(user), then)?.unwrap();
            credit::append(
                c,
                &credit::NewEntry {
                    user_id: user,
                    kind: "spend",
                    delta_cents: -500,
                    currency: "EUR",
                    reason: "planted",
                    actor_id: Some(user),
                    order_id: Some(o.id),
                    idempotency_key: "planted-spend",
                },
                then,
            )?
            .unwrap();
            let changes = PaymentChanges { order_id: Some(o.id), ..PaymentChanges::default() };
            payments::transition(c, payment, &["authorized"], "authorized", &changes, then)?.unwrap();
            Ok::<_, retail_store::StoreError>(o.id)
        })
        .await
        .unwrap();
    let jobs = Housekeeping::from_settings(&app.state.settings);
    let r = run_once_with(&app.state.db, &app.state.payments, &jobs, Utc::now()).await.unwrap();
    assert_eq!(r.orders_abandoned, 1);
    assert_eq!(r.reconciliation_mismatches, 0, "{r:?}");
    let after: Product = app.get_json(&format!("/api/products/{pid}"), None).await;
    assert_eq!(after.stock, stock_before, "stock back through the ledger");
    assert_eq!(payment_state(&app, payment).await, "voided");
    let o: retail_api_types::Order = app.get_json(&format!("/api/orders/{order}"), Some(&token)).await;
    assert_eq!(o.state, retail_api_types::OrderState::Cancelled);
    let acct: retail_api_types::CreditAccount = app.get_json("/api/credit", Some(&token)).await;
    assert_eq!(acct.balance_cents, 500, "credit reversed");
    assert!(reconcile(&app).await.clean);
}

#[tokio::test]
async fn reconciliation_catches_a_capture_without_an_order_and_a_paid_order_without_a_capture() {
    let app = spawn_app().await;
    app.seed().await;
    let clean = reconcile(&app).await;
    assert!(clean.clean, "a freshly seeded shop is clean");
    let (user, _) = customer(&app).await;
    let planted = app
        .state
        .db
        .write(move |c| {
            let now = Utc::now();
            let p = payments::insert(
                c,
                &NewPayment {
                    user_id: user,
                    provider: "simulator",
                    amount_cents: 999,
                    currency: "EUR",
                    idempotency_key: "orphan",
                    card_hint: "",
                },
                now,
            )?;
            payments::transition(c, p.id, &["authorizing"], "captured", &PaymentChanges::default(), now)?;
            let (o, _) = orders::insert(
                c,
                &NewOrder {
                    user_id: user,
                    state: "paid",
                    currency: "EUR",
                    subtotal_cents: 0,
                    credit_cents: 0,
                    card_cents: 1234,
                    idempotency_key: "unpaid",
                },
                &[],
                now,
            )?;
            Ok::<_, retail_store::StoreError>((p.id, o.id))
        })
        .await;
    let (payment, order) = planted.unwrap();
    let r = reconcile(&app).await;
    assert!(!r.clean);
    assert_eq!(r.captures_without_order.iter().map(|p| p.get()).collect::<Vec<_>>(), vec![payment]);
    assert_eq!(r.paid_orders_without_capture.iter().map(|o| o.get()).collect::<Vec<_>>(), vec![order]);
    assert_eq!(
        (r.captured_cents, r.ordered_card_cents),
        (clean.captured_cents + 999, clean.ordered_card_cents + 1234)
    );
    let jobs = Housekeeping::from_settings(&app.state.settings);
    let pass = run_once_with(&app.state.db, &app.state.payments, &jobs, Utc::now()).await.unwrap();
    assert_eq!(pass.reconciliation_mismatches, 3, "two findings and the totals");
}
