//! Checkout (issue 8), from the outside: the cart, placing an order exactly once per
//! `Idempotency-Key`, card payments through the simulator (declines, timeouts, the circuit
//! breaker), store credit as split tender, and what staff do with orders afterwards. Every
//! effect is checked through the API: stock on the product, the stock ledger, the customer's
//! credit ledger, the receipt and the reconciliation.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, Response, StatusCode};
use retail_api_types::{
    Cart, CreditAccount, CreditKind, LineIssue, Order, OrderList, OrderState, Product, Receipt,
    ReconciliationReport, StockMovement, StockMovementList, TokenResponse,
};
use retail_tests::{TestApp, expect_field, expect_problem, metric, spawn_app, spawn_with};
use serde_json::{Value, json};

// ---- helpers ------------------------------------------------------------------------------

/// A seeded app and the admin's token.
async fn shop() -> (TestApp, String) {
    shop_with(|_| {}).await
}

async fn shop_with(adjust: impl FnOnce(&mut retail_server::config::Settings)) -> (TestApp, String) {
    let app = spawn_with(adjust).await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    (app, admin)
}

/// A product of our own (EUR), so that the seed's stock levels do not matter.
async fn product(app: &TestApp, admin: &str, sku: &str, price_cents: i64, stock: i64) -> Product {
    let body = json!({"sku": sku, "name": format!("Item {sku}"), "price_cents": price_cents,
                      "currency": "EUR", "category": "test", "initial_stock": stock});
    let r = app.post_json("/api/admin/products", &body, Some(admin)).send().await.unwrap();
    assert_eq!(r.status(), 201, "create {sku}");
    r.json().await.unwrap()
}

/// A new customer: (access token, tokens).
async fn customer(app: &TestApp, email: &str) -> (String, TokenResponse) {
    let t = app.register(email).await;
    (t.access_token.clone(), t)
}

async fn add(app: &TestApp, token: &str, product_id: i64, quantity: i64) -> Response {
    app.post_json("/api/cart/lines", &json!({"product_id": product_id, "quantity": quantity}), Some(token))
        .send()
        .await
        .unwrap()
}

/// Adds and asserts 200; the cart after it.
async fn add_ok(app: &TestApp, token: &str, product_id: i64, quantity: i64) -> Cart {
    let r = add(app, token, product_id, quantity).await;
    assert_eq!(r.status(), 200, "add {product_id} x{quantity}");
    r.json().await.unwrap()
}

async fn cart(app: &TestApp, token: &str) -> Cart {
    app.get_json("/api/cart", Some(token)).await
}

async fn patch_line(app: &TestApp, token: &str, line: i64, body: &Value) -> Response {
    app.send_json(Method::PATCH, &format!("/api/cart/lines/{line}"), body, Some(token)).send().await.unwrap()
}

async fn delete_line(app: &TestApp, token: &str, line: i64) -> Response {
    app.client.delete(app.url(&format!("/api/cart/lines/{line}"))).bearer_auth(token).send().await.unwrap()
}

async fn checkout(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> Response {
    let mut rb = app.post_json("/api/checkout", body, Some(token));
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    rb.send().await.unwrap()
}

/// Checks out with `tok_visa` and asserts 201; the order.
async fn buy(app: &TestApp, token: &str, key: &str) -> Order {
    let r = checkout(app, token, Some(key), &json!({"card_token": "tok_visa"})).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 201, "checkout {key}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn replayed(r: &Response) -> bool {
    r.headers().get("idempotency-replayed").map(|v| v.to_str().unwrap()) == Some("true")
}

async fn stock(app: &TestApp, id: i64) -> i64 {
    app.get_json::<Product>(&format!("/api/products/{id}"), None).await.stock
}

/// The product's stock ledger, newest first.
async fn ledger(app: &TestApp, admin: &str, id: i64) -> Vec<StockMovement> {
    app.get_json::<StockMovementList>(
        &format!("/api/admin/products/{id}/stock-movements?per_page=100"),
        Some(admin),
    )
    .await
    .items
}

async fn reconcile(app: &TestApp, admin: &str) -> ReconciliationReport {
    app.get_json("/api/staff/reconciliation", Some(admin)).await
}

async fn assert_clean(app: &TestApp, admin: &str) {
    let r = reconcile(app, admin).await;
    assert!(r.clean, "reconciliation: {r:?}");
    assert_eq!(r.captured_cents, r.ordered_card_cents, "{r:?}");
}

async fn my_orders(app: &TestApp, token: &str) -> OrderList {
    app.get_json("/api/orders?per_page=100", Some(token)).await
}

async fn credit(app: &TestApp, token: &str) -> CreditAccount {
    app.get_json("/api/credit?per_page=100", Some(token)).await
}

async fn receipt(app: &TestApp, token: &str, order: i64) -> Receipt {
    app.get_json(&format!("/api/orders/{order}/receipt"), Some(token)).await
}

async fn grant(app: &TestApp, staff: &str, user: i64, amount: i64, key: &str) -> Response {
    app.post_json(
        "/api/staff/credit",
        &json!({"user_id": user, "amount_cents": amount, "reason": "goodwill"}),
        Some(staff),
    )
    .header("Idempotency-Key", key)
    .send()
    .await
    .unwrap()
}

/// The lines of a cart as (product, quantity).
fn shape(c: &Cart) -> Vec<(i64, u32)> {
    c.lines.iter().map(|l| (l.product_id.get(), l.quantity)).collect()
}

// ---- 1. the cart ----------------------------------------------------------------------------

#[tokio::test]
async fn the_cart_adds_merges_changes_removes_and_clears_at_current_prices() {
    let (app, admin) = shop().await;
    let a = product(&app, &admin, "CART-A", 1250, 10).await;
    let b = product(&app, &admin, "CART-B", 399, 3).await;
    let (me, _) = customer(&app, "cart@example.com").await;

    let empty = cart(&app, &me).await;
    assert!(empty.lines.is_empty());
    assert_eq!((empty.items, empty.subtotal_cents, empty.currency, empty.ready), (0, 0, None, false));

    let c = add_ok(&app, &me, a.id.get(), 2).await;
    assert_eq!(shape(&c), vec![(a.id.get(), 2)]);
    let l = &c.lines[0];
    assert_eq!((l.unit_price_cents, l.price_seen_cents, l.line_total_cents), (1250, 1250, 2500));
    assert_eq!((l.sku.as_str(), l.stock), ("CART-A", 10));
    assert!(l.issues.is_empty());
    assert_eq!((c.items, c.subtotal_cents, c.ready), (2, 2500, true));
    assert_eq!(c.currency.unwrap().code(), "EUR");

    // adding the same product again adds to its line
    let c = add_ok(&app, &me, a.id.get(), 3).await;
    assert_eq!(shape(&c), vec![(a.id.get(), 5)], "one line, merged");
    assert_eq!(c.lines[0].line_total_cents, 6250);
    let line_a = c.lines[0].id.get();

    let c = add_ok(&app, &me, b.id.get(), 1).await;
    assert_eq!(shape(&c), vec![(a.id.get(), 5), (b.id.get(), 1)]);
    assert_eq!((c.items, c.subtotal_cents), (6, 6250 + 399));
    let line_b = c.lines[1].id.get();

    let r = patch_line(&app, &me, line_b, &json!({"quantity": 2})).await;
    assert_eq!(r.status(), 200);
    let c: Cart = r.json().await.unwrap();
    assert_eq!(shape(&c), vec![(a.id.get(), 5), (b.id.get(), 2)]);
    assert_eq!(c.lines[1].line_total_cents, 798);
    assert_eq!((c.items, c.subtotal_cents), (7, 6250 + 798));
    assert_eq!(cart(&app, &me).await, c, "GET shows what the change answered");

    let r = delete_line(&app, &me, line_a).await;
    assert_eq!(r.status(), 200);
    let c: Cart = r.json().await.unwrap();
    assert_eq!(shape(&c), vec![(b.id.get(), 2)]);
    assert_eq!(c.subtotal_cents, 798);
    // removing it again: it is gone
    expect_problem(delete_line(&app, &me, line_a).await, 404, "not_found").await;

    let r = app.client.delete(app.url("/api/cart")).bearer_auth(&me).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c: Cart = r.json().await.unwrap();
    assert!(c.lines.is_empty());
    assert_eq!((c.items, c.subtotal_cents, c.ready), (0, 0, false));
    assert!(cart(&app, &me).await.lines.is_empty());
    // the cart never touched the stock
    assert_eq!((stock(&app, a.id.get()).await, stock(&app, b.id.get()).await), (10, 3));
}

#[tokio::test]
async fn a_price_change_is_flagged_and_blocks_checkout_until_the_customer_accepts_it() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "PRICE-1", 1000, 10).await;
    let (me, _) = customer(&app, "price@example.com").await;
    let c = add_ok(&app, &me, p.id.get(), 2).await;
    let line = c.lines[0].id.get();

    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/admin/products/{}", p.id),
            &json!({"version": p.version, "price_cents": 1200}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let c = cart(&app, &me).await;
    let l = &c.lines[0];
    assert_eq!((l.unit_price_cents, l.price_seen_cents, l.line_total_cents), (1200, 1000, 2400));
    assert_eq!(
        l.issues.iter().map(|i| serde_json::to_value(i).unwrap()).collect::<Vec<_>>(),
        vec![json!({"kind": "price_changed", "from": 1000, "to": 1200})]
    );
    assert_eq!(c.subtotal_cents, 2400, "the cart shows today's price");
    assert!(!c.ready);

    let r = checkout(&app, &me, Some("price-1"), &json!({"card_token": "tok_visa"})).await;
    expect_problem(r, 409, "cart_needs_review").await;
    assert!(my_orders(&app, &me).await.items.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 10);
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 2)], "nothing dropped or repriced");

    // setting the quantity again accepts the new price
    let r = patch_line(&app, &me, line, &json!({"quantity": 2})).await;
    assert_eq!(r.status(), 200);
    let c: Cart = r.json().await.unwrap();
    assert!(c.lines[0].issues.is_empty());
    assert_eq!(c.lines[0].price_seen_cents, 1200);
    assert!(c.ready);
    // the failed attempt freed its key: the same key now places the order
    let o = buy(&app, &me, "price-1").await;
    assert_eq!((o.total_cents, o.lines[0].unit_price_cents), (2400, 1200));
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn inactive_and_short_stocked_lines_are_flagged_never_dropped() {
    let (app, admin) = shop().await;
    let short = product(&app, &admin, "SHORT-1", 500, 3).await;
    let gone = product(&app, &admin, "GONE-1", 700, 5).await;
    let empty = product(&app, &admin, "EMPTY-1", 900, 1).await;
    let (me, _) = customer(&app, "flags@example.com").await;
    add_ok(&app, &me, short.id.get(), 3).await;
    add_ok(&app, &me, gone.id.get(), 1).await;
    add_ok(&app, &me, empty.id.get(), 1).await;

    let take = |id: i64, delta: i64| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app
                .post_json(
                    &format!("/api/admin/products/{id}/stock"),
                    &json!({"delta": delta, "reason": "breakage"}),
                    Some(&admin),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    take(short.id.get(), -1).await;
    take(empty.id.get(), -1).await;
    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/admin/products/{}", gone.id),
            &json!({"version": gone.version, "active": false}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let c = cart(&app, &me).await;
    assert_eq!(c.lines.len(), 3, "flagged, not dropped");
    let issues = |i: usize| c.lines[i].issues.clone();
    assert_eq!(issues(0), vec![LineIssue::InsufficientStock { available: 2 }]);
    assert_eq!(issues(1), vec![LineIssue::Inactive]);
    assert_eq!(issues(2), vec![LineIssue::OutOfStock]);
    assert!(!c.ready);

    let r = checkout(&app, &me, Some("flags-1"), &json!({"card_token": "tok_visa"})).await;
    expect_problem(r, 409, "cart_needs_review").await;
    // an inactive product cannot be added again
    expect_field(add(&app, &me, gone.id.get(), 1).await, 422, "product_id").await;

    // resolving every line makes the cart ready
    let ids: Vec<i64> = c.lines.iter().map(|l| l.id.get()).collect();
    assert_eq!(patch_line(&app, &me, ids[0], &json!({"quantity": 2})).await.status(), 200);
    assert_eq!(delete_line(&app, &me, ids[1]).await.status(), 200);
    assert_eq!(delete_line(&app, &me, ids[2]).await.status(), 200);
    let c = cart(&app, &me).await;
    assert!(c.ready, "{c:?}");
    let o = buy(&app, &me, "flags-2").await;
    assert_eq!(o.total_cents, 1000);
    assert_eq!(stock(&app, short.id.get()).await, 0);
}

// ---- 2. bad input writes nothing ------------------------------------------------------------

#[tokio::test]
async fn bad_cart_input_gets_a_clear_4xx_and_writes_nothing() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "BAD-1", 100, 10).await;
    let hidden = product(&app, &admin, "BAD-HIDDEN", 100, 10).await;
    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/admin/products/{}", hidden.id),
            &json!({"version": hidden.version, "active": false}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (me, _) = customer(&app, "bad@example.com").await;

    for q in [0_i64, -1, 100, 1_000_000_000_000, i64::MIN, i64::MAX] {
        expect_field(add(&app, &me, p.id.get(), q).await, 422, "quantity").await;
    }
    for body in
        [json!({"product_id": p.id, "quantity": "2"}), json!({"product_id": p.id}), json!({"quantity": 1})]
    {
        let r = app.post_json("/api/cart/lines", &body, Some(&me)).send().await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
    }
    expect_field(add(&app, &me, 999_999, 1).await, 422, "product_id").await;
    expect_field(add(&app, &me, hidden.id.get(), 1).await, 422, "product_id").await;
    let r = app
        .client
        .post(app.url("/api/cart/lines"))
        .bearer_auth(&me)
        .header("content-type", "application/json")
        .body(r#"{"product_id": 1, "quantity": "#)
        .send()
        .await
        .unwrap();
    expect_problem(r, 400, "malformed_json").await;
    let r = app
        .client
        .post(app.url("/api/cart/lines"))
        .bearer_auth(&me)
        .header("content-type", "text/plain")
        .body("product 1 please")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let c = cart(&app, &me).await;
    assert!(c.lines.is_empty(), "nothing was written: {c:?}");

    // a line never holds more than 99, however it is reached
    add_ok(&app, &me, p.id.get(), 60).await;
    expect_field(add(&app, &me, p.id.get(), 40).await, 422, "quantity").await;
    let line = cart(&app, &me).await.lines[0].id.get();
    for q in [0_i64, -5, 100, 1_000_000_000_000] {
        expect_field(patch_line(&app, &me, line, &json!({"quantity": q})).await, 422, "quantity").await;
    }
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 60)], "the line is as it was");
    expect_problem(patch_line(&app, &me, 999_999, &json!({"quantity": 1})).await, 404, "not_found").await;
    expect_problem(delete_line(&app, &me, 999_999).await, 404, "not_found").await;

    // someone else's line is not there for me
    let (other, _) = customer(&app, "other@example.com").await;
    expect_problem(patch_line(&app, &other, line, &json!({"quantity": 1})).await, 404, "not_found").await;
    expect_problem(delete_line(&app, &other, line).await, 404, "not_found").await;
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 60)], "the owner's cart is unchanged");
    assert!(cart(&app, &other).await.lines.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 10);
}

#[tokio::test]
async fn bad_checkout_requests_are_refused_before_anything_is_charged_or_taken() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "BADCO-1", 1500, 10).await;
    let (me, _) = customer(&app, "badco@example.com").await;
    let visa = json!({"card_token": "tok_visa"});

    // an empty cart
    expect_problem(checkout(&app, &me, Some("empty-1"), &visa).await, 409, "cart_empty").await;
    add_ok(&app, &me, p.id.get(), 2).await;

    let p400 = expect_problem(checkout(&app, &me, None, &visa).await, 400, "idempotency_key_required").await;
    assert_eq!(p400.errors[0].field, "Idempotency-Key");
    let long = "k".repeat(256);
    for bad in ["has space", long.as_str(), ""] {
        let r = checkout(&app, &me, Some(bad), &visa).await;
        expect_problem(r, 400, "invalid_idempotency_key").await;
    }
    let r = app
        .post_json("/api/checkout", &visa, Some(&me))
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .send()
        .await
        .unwrap();
    expect_problem(r, 400, "invalid_idempotency_key").await;
    for (body, field) in [
        (json!({"card_token": "not a token!"}), "card_token"),
        (json!({"card_token": ""}), "card_token"),
        (json!({"card_token": "x".repeat(65)}), "card_token"),
        (json!({"card_token": "tok_visa", "use_credit_cents": -5}), "use_credit_cents"),
        (json!({"card_token": "tok_visa", "use_credit_cents": 1}), "use_credit_cents"),
        (json!({}), "card_token"),
    ] {
        expect_field(checkout(&app, &me, Some("bad-body"), &body).await, 422, field).await;
    }
    let r = app
        .client
        .post(app.url("/api/checkout"))
        .bearer_auth(&me)
        .header("Idempotency-Key", "malformed")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    expect_problem(r, 400, "malformed_json").await;

    // nothing happened
    assert!(my_orders(&app, &me).await.items.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 10);
    assert_eq!(ledger(&app, &admin, p.id.get()).await.len(), 1);
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 2)]);
    assert_clean(&app, &admin).await;
    // and every refused key is still free for the real attempt
    let o = buy(&app, &me, "bad-body").await;
    assert_eq!(o.total_cents, 3000);
}

// ---- 3. the happy path ----------------------------------------------------------------------

#[tokio::test]
async fn a_checkout_places_a_paid_order_at_server_prices_and_takes_the_stock_once() {
    let (app, admin) = shop().await;
    let kettle = product(&app, &admin, "HAPPY-1", 1999, 10).await;
    let mug = product(&app, &admin, "HAPPY-2", 550, 4).await;
    let (me, tokens) = customer(&app, "happy@example.com").await;
    add_ok(&app, &me, kettle.id.get(), 2).await;
    add_ok(&app, &me, mug.id.get(), 3).await;

    // a client's idea of the price is not asked for, and not listened to
    let body = json!({"card_token": "tok_visa", "total_cents": 1, "unit_price_cents": 1});
    let r = checkout(&app, &me, Some("happy-1"), &body).await;
    assert_eq!(r.status(), 201);
    assert!(!replayed(&r));
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let o: Order = r.json().await.unwrap();
    assert_eq!(location, format!("/api/orders/{}", o.id));
    assert_eq!(o.state, OrderState::Paid);
    assert_eq!(o.user_id, tokens.user.id);
    assert_eq!(o.customer_email, "happy@example.com");
    assert_eq!(o.currency.code(), "EUR");
    let lines: Vec<_> = o
        .lines
        .iter()
        .map(|l| (l.product_id.get(), l.sku.as_str(), l.unit_price_cents, l.quantity, l.line_total_cents))
        .collect();
    assert_eq!(
        lines,
        vec![(kettle.id.get(), "HAPPY-1", 1999, 2, 3998), (mug.id.get(), "HAPPY-2", 550, 3, 1650)]
    );
    assert_eq!((o.subtotal_cents, o.total_cents, o.card_cents, o.credit_cents), (5648, 5648, 5648, 0));
    assert_eq!(o.refunded_cents, 0);
    assert_eq!(
        o.actions,
        vec![retail_api_types::OrderAction::Cancel],
        "a customer may cancel a paid order until it ships"
    );

    // the stock went down once, through the ledger
    assert_eq!(stock(&app, kettle.id.get()).await, 8);
    assert_eq!(stock(&app, mug.id.get()).await, 1);
    let reason = format!("order #{}", o.id);
    for (id, qty, after) in [(kettle.id.get(), 2, 8), (mug.id.get(), 3, 1)] {
        let l = ledger(&app, &admin, id).await;
        assert_eq!(l.len(), 2, "the initial stock and the sale");
        assert_eq!((l[0].delta, l[0].stock_after, l[0].reason.as_str()), (-qty, after, reason.as_str()));
        assert_eq!(l.iter().map(|m| m.delta).sum::<i64>(), after);
    }

    assert!(cart(&app, &me).await.lines.is_empty(), "the cart was emptied");
    let got: Order = app.get_json(&location, Some(&me)).await;
    assert_eq!(got, o);
    let list = my_orders(&app, &me).await;
    assert_eq!(list.items.iter().map(|x| x.id).collect::<Vec<_>>(), vec![o.id]);

    let rc = receipt(&app, &me, o.id.get()).await;
    assert_eq!(rc.number, format!("R-{:06}", o.id.get()));
    assert_eq!(rc.order, o);
    assert_eq!(rc.payments.len(), 1);
    let pay = &rc.payments[0];
    assert_eq!((pay.state.as_str(), pay.amount_cents, pay.refunded_cents), ("captured", 5648, 0));
    assert!(!pay.card_hint.contains("tok_"), "the token never comes back: {}", pay.card_hint);
    assert!(rc.credit.is_empty());
    assert_clean(&app, &admin).await;
}

// ---- 4. idempotency -------------------------------------------------------------------------

#[tokio::test]
async fn a_repeated_checkout_returns_the_same_order_and_charges_once() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "IDEMCO-1", 2500, 10).await;
    let (me, _) = customer(&app, "idem@example.com").await;
    add_ok(&app, &me, p.id.get(), 1).await;
    let body = json!({"card_token": "tok_visa"});

    let first = checkout(&app, &me, Some("same-key"), &body).await;
    assert_eq!(first.status(), 201);
    assert!(!replayed(&first));
    let first: Order = first.json().await.unwrap();

    // the cart is empty now; the retry is still answered from the first attempt
    let second = checkout(&app, &me, Some("same-key"), &body).await;
    assert_eq!(second.status(), 201);
    assert!(replayed(&second));
    assert_eq!(second.headers()["location"].to_str().unwrap(), format!("/api/orders/{}", first.id));
    let second: Order = second.json().await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.state, OrderState::Paid);

    // the same key with another body is refused
    add_ok(&app, &me, p.id.get(), 1).await;
    let other = json!({"card_token": "tok_visa", "use_credit_cents": 0});
    expect_problem(checkout(&app, &me, Some("same-key"), &other).await, 422, "idempotency_key_reused").await;

    assert_eq!(my_orders(&app, &me).await.items.len(), 1);
    assert_eq!(receipt(&app, &me, first.id.get()).await.payments.len(), 1, "one payment");
    assert_eq!(stock(&app, p.id.get()).await, 9, "one unit taken");
    let rec = reconcile(&app, &admin).await;
    assert!(rec.clean, "{rec:?}");
    assert_eq!(rec.captured_cents, rec.ordered_card_cents);
    // another customer's identical key is their own
    let (you, _) = customer(&app, "idem2@example.com").await;
    add_ok(&app, &you, p.id.get(), 1).await;
    let theirs = buy(&app, &you, "same-key").await;
    assert_ne!(theirs.id, first.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_checkouts_with_one_key_place_one_order_and_one_charge() {
    let (app, admin) = shop_with(|s| s.payments.simulator.latency_ms = 30).await;
    let p = product(&app, &admin, "RACEKEY-1", 1234, 10).await;
    let (me, _) = customer(&app, "racekey@example.com").await;
    add_ok(&app, &me, p.id.get(), 2).await;
    let body = json!({"card_token": "tok_visa"});

    let answers = join_all((0..10).map(|_| checkout(&app, &me, Some("race-key"), &body))).await;
    let mut ids = Vec::new();
    let mut fresh = 0;
    for r in answers {
        let status = r.status();
        let was_replayed = replayed(&r);
        let text = r.text().await.unwrap();
        assert_eq!(status, 201, "{text}");
        if !was_replayed {
            fresh += 1;
        }
        ids.push(serde_json::from_str::<Order>(&text).unwrap().id);
    }
    assert_eq!(fresh, 1, "exactly one request did the work");
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");

    let list = my_orders(&app, &me).await;
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].id, ids[0]);
    assert_eq!(list.items[0].state, OrderState::Paid);
    assert_eq!(receipt(&app, &me, ids[0].get()).await.payments.len(), 1);
    assert_eq!(stock(&app, p.id.get()).await, 8, "stock taken once");
    assert_eq!(ledger(&app, &admin, p.id.get()).await.len(), 2);
    assert_clean(&app, &admin).await;
}

// ---- 5. declines ----------------------------------------------------------------------------

#[tokio::test]
async fn a_declined_card_leaves_cart_stock_and_orders_untouched() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "DECLINE-1", 4200, 5).await;
    let (me, _) = customer(&app, "declined@example.com").await;
    add_ok(&app, &me, p.id.get(), 2).await;
    let before = cart(&app, &me).await;

    for (token, code) in [("tok_decline", "card_declined"), ("tok_insufficient_funds", "insufficient_funds")]
    {
        let key = format!("decline-{token}");
        let r = checkout(&app, &me, Some(&key), &json!({"card_token": token})).await;
        let problem = expect_problem(r, 402, code).await;
        assert!(!problem.detail.is_empty());
        assert_eq!(cart(&app, &me).await, before, "cart intact after {token}");
        assert_eq!(stock(&app, p.id.get()).await, 5);
        assert_eq!(ledger(&app, &admin, p.id.get()).await.len(), 1);
        assert!(my_orders(&app, &me).await.items.is_empty());
    }
    // an unknown test token is a decline too
    let r = checkout(&app, &me, Some("decline-unknown"), &json!({"card_token": "tok_nonsense"})).await;
    expect_problem(r, 402, "invalid_card").await;
    assert_clean(&app, &admin).await;

    let o = buy(&app, &me, "decline-then-visa").await;
    assert_eq!((o.state, o.total_cents), (OrderState::Paid, 8400));
    assert_eq!(stock(&app, p.id.get()).await, 3);
    assert_eq!(my_orders(&app, &me).await.items.len(), 1);
    let rc = receipt(&app, &me, o.id.get()).await;
    assert_eq!(rc.payments.iter().map(|p| p.state.as_str()).collect::<Vec<_>>(), vec!["captured"]);
    assert_clean(&app, &admin).await;
}

// ---- 6. timeouts and the circuit breaker ----------------------------------------------------

fn breaker_settings(s: &mut retail_server::config::Settings) {
    s.payments.timeout_ms = 50;
    s.payments.retry_max_attempts = 1;
    s.payments.breaker_failure_threshold = 2;
    s.payments.breaker_open_secs = 1;
}

async fn finance_id(app: &TestApp) -> i64 {
    let a = retail_server::seed::DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == "finance").unwrap();
    app.login(a.email, a.password).await.user.id.get()
}

#[tokio::test]
async fn the_breaker_opens_after_failures_fails_fast_and_closes_after_a_good_probe() {
    let (app, admin) = shop_with(breaker_settings).await;
    let p = product(&app, &admin, "BREAKER-1", 1000, 10).await;
    let (me, _) = customer(&app, "breaker@example.com").await;
    add_ok(&app, &me, p.id.get(), 1).await;
    assert_eq!(metric(&app.metrics().await, "retail_payment_breaker_state"), Some(0.0));

    for i in 0..2 {
        let r = checkout(&app, &me, Some(&format!("err-{i}")), &json!({"card_token": "tok_error"})).await;
        expect_problem(r, 502, "payment_provider_error").await;
    }
    let started = std::time::Instant::now();
    let r = checkout(&app, &me, Some("while-open"), &json!({"card_token": "tok_visa"})).await;
    assert_eq!(r.status(), 503);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1).contains(&retry), "Retry-After {retry}");
    expect_problem(r, 503, "payments_unavailable").await;
    assert!(started.elapsed() < Duration::from_millis(500), "fails fast");
    let m = app.metrics().await;
    assert_eq!(metric(&m, "retail_payment_breaker_state"), Some(1.0), "{m}");
    assert_eq!(metric(&m, r#"retail_payment_breaker_transitions_total{from="closed",to="open"}"#), Some(1.0));
    // nothing was taken or charged meanwhile
    assert!(my_orders(&app, &me).await.items.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 10);
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 1)]);

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let o = buy(&app, &me, "after-cooldown").await;
    assert_eq!(o.state, OrderState::Paid);
    let m = app.metrics().await;
    assert_eq!(metric(&m, "retail_payment_breaker_state"), Some(0.0), "{m}");
    assert_eq!(
        metric(&m, r#"retail_payment_breaker_transitions_total{from="open",to="half_open"}"#),
        Some(1.0)
    );
    assert_eq!(
        metric(&m, r#"retail_payment_breaker_transitions_total{from="half_open",to="closed"}"#),
        Some(1.0)
    );
    assert_eq!(stock(&app, p.id.get()).await, 9);
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again_and_credit_only_orders_need_no_gateway() {
    let (app, admin) = shop_with(breaker_settings).await;
    let p = product(&app, &admin, "BREAKER-2", 1000, 10).await;
    let (me, t) = customer(&app, "probe@example.com").await;
    add_ok(&app, &me, p.id.get(), 1).await;
    for i in 0..2 {
        let r = checkout(&app, &me, Some(&format!("perr-{i}")), &json!({"card_token": "tok_error"})).await;
        expect_problem(r, 502, "payment_provider_error").await;
    }
    let finance = app.token_for("finance").await;
    assert_eq!(grant(&app, &finance, t.user.id.get(), 1000, "probe-credit").await.status(), 201);
    // while the breaker is open, an order paid fully with store credit still goes through
    let r = checkout(&app, &me, Some("credit-while-open"), &json!({})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(credit(&app, &me).await.balance_cents, 0);

    add_ok(&app, &me, p.id.get(), 1).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let r = checkout(&app, &me, Some("probe-fails"), &json!({"card_token": "tok_error"})).await;
    expect_problem(r, 502, "payment_provider_error").await;
    let m = app.metrics().await;
    assert_eq!(metric(&m, "retail_payment_breaker_state"), Some(1.0), "{m}");
    assert_eq!(
        metric(&m, r#"retail_payment_breaker_transitions_total{from="half_open",to="open"}"#),
        Some(1.0)
    );
    let r = checkout(&app, &me, Some("still-open"), &json!({"card_token": "tok_visa"})).await;
    expect_problem(r, 503, "payments_unavailable").await;
    assert_eq!(stock(&app, p.id.get()).await, 9);
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_is_a_504_and_charges_nothing() {
    let (app, admin) = shop_with(|s| {
        s.payments.timeout_ms = 50;
        s.payments.retry_max_attempts = 2;
        s.payments.retry_base_ms = 1;
        s.payments.breaker_failure_threshold = 10;
    })
    .await;
    let p = product(&app, &admin, "TIMEOUT-1", 1000, 10).await;
    let (me, _) = customer(&app, "timeout@example.com").await;
    add_ok(&app, &me, p.id.get(), 1).await;
    let started = std::time::Instant::now();
    let r = checkout(&app, &me, Some("slow"), &json!({"card_token": "tok_timeout"})).await;
    expect_problem(r, 504, "payment_timeout").await;
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout fired: {:?}", started.elapsed());
    assert!(my_orders(&app, &me).await.items.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 10);
    assert_eq!(shape(&cart(&app, &me).await), vec![(p.id.get(), 1)]);
    // a flaky card fails once and is retried into success
    let o = checkout(&app, &me, Some("flaky"), &json!({"card_token": "tok_flaky"})).await;
    assert_eq!(o.status(), 201);
    assert_clean(&app, &admin).await;
}

// ---- 7. oversell ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_buyers_for_five_units_sell_exactly_five() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "SCARCE-1", 999, 5).await;
    let mut buyers = Vec::new();
    for i in 0..20 {
        let (t, _) = customer(&app, &format!("buyer{i}@example.com")).await;
        add_ok(&app, &t, p.id.get(), 1).await;
        buyers.push(t);
    }
    let app_ref = &app;
    let answers = join_all(buyers.iter().enumerate().map(|(i, t)| async move {
        let app = app_ref;
        let r = checkout(app, t, Some(&format!("scarce-{i}")), &json!({"card_token": "tok_visa"})).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }))
    .await;
    let mut sold = Vec::new();
    let mut losers = Vec::new();
    for (i, (status, text)) in answers.into_iter().enumerate() {
        match status {
            201 => sold.push(serde_json::from_str::<Order>(&text).unwrap()),
            409 => {
                let p: retail_api_types::Problem = serde_json::from_str(&text).unwrap();
                assert!(["out_of_stock", "cart_needs_review"].contains(&p.code.as_str()), "{text}");
                losers.push(i);
            }
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!((sold.len(), losers.len()), (5, 15));
    assert_eq!(stock(&app, p.id.get()).await, 0);
    let l = ledger(&app, &admin, p.id.get()).await;
    assert_eq!(l.len(), 6, "the initial stock and five sales: {l:?}");
    assert_eq!(l.iter().map(|m| m.delta).sum::<i64>(), 0);
    let mut reasons: Vec<String> = l[..5].iter().map(|m| m.reason.clone()).collect();
    let mut expected: Vec<String> = sold.iter().map(|o| format!("order #{}", o.id)).collect();
    reasons.sort();
    expected.sort();
    assert_eq!(reasons, expected);
    assert!(l.iter().all(|m| m.stock_after >= 0));
    for i in losers {
        assert!(my_orders(&app, &buyers[i]).await.items.is_empty());
        let c = cart(&app, &buyers[i]).await;
        assert_eq!(shape(&c), vec![(p.id.get(), 1)], "a loser keeps their cart");
        assert_eq!(c.lines[0].issues, vec![LineIssue::OutOfStock]);
    }
    // no losing checkout left a capture behind
    assert_clean(&app, &admin).await;
}

// ---- 8. store credit and split tender -------------------------------------------------------

#[tokio::test]
async fn store_credit_is_granted_once_and_pays_part_or_all_of_an_order() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "CREDIT-1", 3000, 20).await;
    let (me, t) = customer(&app, "credit@example.com").await;
    let uid = t.user.id.get();
    let finance = app.token_for("finance").await;

    let r = grant(&app, &finance, uid, 5000, "grant-1").await;
    assert_eq!(r.status(), 201);
    assert!(!replayed(&r));
    let acct: CreditAccount = r.json().await.unwrap();
    assert_eq!(acct.balance_cents, 5000);
    let r = grant(&app, &finance, uid, 5000, "grant-1").await;
    assert_eq!(r.status(), 201);
    assert!(replayed(&r));
    let again: CreditAccount = r.json().await.unwrap();
    assert_eq!(again.balance_cents, 5000);
    let r = app
        .post_json(
            "/api/staff/credit",
            &json!({"user_id": uid, "amount_cents": 5000, "reason": "goodwill"}),
            Some(&finance),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 400, "idempotency_key_required").await;
    expect_problem(grant(&app, &finance, uid, 7000, "grant-1").await, 422, "idempotency_key_reused").await;
    for bad in [0, -1, 10_000_001] {
        let r = grant(&app, &finance, uid, bad, &format!("bad-{bad}")).await;
        expect_field(r, 422, "amount_cents").await;
    }
    expect_field(grant(&app, &finance, 999_999, 100, "nobody").await, 422, "user_id").await;
    let mine = credit(&app, &me).await;
    assert_eq!(mine.balance_cents, 5000);
    assert_eq!(mine.entries.len(), 1, "granted once");
    assert_eq!((mine.entries[0].kind, mine.entries[0].delta_cents), (CreditKind::Grant, 5000));
    let seen: CreditAccount = app.get_json(&format!("/api/staff/credit/{uid}"), Some(&finance)).await;
    assert_eq!(seen.balance_cents, 5000);
    assert_eq!(seen.entries[0].actor_id.map(|a| a.get()), Some(finance_id(&app).await));
    let r = app.get("/api/staff/credit/999999", Some(&finance)).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    assert_eq!(cart(&app, &me).await.credit_balance_cents, 5000);

    // part credit, part card
    add_ok(&app, &me, p.id.get(), 2).await;
    let r =
        checkout(&app, &me, Some("split-1"), &json!({"card_token": "tok_visa", "use_credit_cents": 2000}))
            .await;
    assert_eq!(r.status(), 201);
    let o: Order = r.json().await.unwrap();
    assert_eq!((o.total_cents, o.credit_cents, o.card_cents), (6000, 2000, 4000));
    assert_eq!(o.credit_cents + o.card_cents, o.total_cents);
    assert_eq!(o.state, OrderState::Paid);
    let rc = receipt(&app, &me, o.id.get()).await;
    assert_eq!(rc.payments.len(), 1);
    assert_eq!((rc.payments[0].amount_cents, rc.payments[0].state.as_str()), (4000, "captured"));
    assert_eq!(
        rc.credit.iter().map(|e| (e.kind, e.delta_cents)).collect::<Vec<_>>(),
        vec![(CreditKind::Spend, -2000)]
    );
    let acct = credit(&app, &me).await;
    assert_eq!(acct.balance_cents, 3000);
    assert_eq!(acct.entries[0].order_id, Some(o.id));
    assert_eq!(acct.entries[0].balance_after_cents, 3000);
    assert_clean(&app, &admin).await;

    // credit covers it all: no card needed
    add_ok(&app, &me, p.id.get(), 1).await;
    let r = checkout(&app, &me, Some("all-credit"), &json!({})).await;
    assert_eq!(r.status(), 201);
    let o: Order = r.json().await.unwrap();
    assert_eq!((o.state, o.total_cents, o.credit_cents, o.card_cents), (OrderState::Paid, 3000, 3000, 0));
    assert!(receipt(&app, &me, o.id.get()).await.payments.is_empty());
    assert_eq!(credit(&app, &me).await.balance_cents, 0);
    assert_clean(&app, &admin).await;

    // credit that does not cover it, and no card
    assert_eq!(grant(&app, &finance, uid, 1000, "grant-2").await.status(), 201);
    add_ok(&app, &me, p.id.get(), 1).await;
    expect_field(checkout(&app, &me, Some("short"), &json!({})).await, 422, "card_token").await;
    let r =
        checkout(&app, &me, Some("too-much"), &json!({"card_token": "tok_visa", "use_credit_cents": 2000}))
            .await;
    expect_field(r, 422, "use_credit_cents").await;
    let r =
        checkout(&app, &me, Some("over-total"), &json!({"card_token": "tok_visa", "use_credit_cents": 3001}))
            .await;
    expect_field(r, 422, "use_credit_cents").await;
    // a declined card spends no credit
    let r = checkout(
        &app,
        &me,
        Some("declined"),
        &json!({"card_token": "tok_decline", "use_credit_cents": 1000}),
    )
    .await;
    expect_problem(r, 402, "card_declined").await;
    let acct = credit(&app, &me).await;
    assert_eq!(acct.balance_cents, 1000);
    assert_eq!(acct.entries.len(), 4, "grant, spend, spend, grant: {:?}", acct.entries);
    assert_eq!(my_orders(&app, &me).await.items.len(), 2);
    assert_eq!(stock(&app, p.id.get()).await, 17);

    // use_credit_cents 0: all by card, the balance stays
    let r = checkout(&app, &me, Some("no-credit"), &json!({"card_token": "tok_visa", "use_credit_cents": 0}))
        .await;
    assert_eq!(r.status(), 201);
    let o: Order = r.json().await.unwrap();
    assert_eq!((o.credit_cents, o.card_cents), (0, 3000));
    assert_eq!(credit(&app, &me).await.balance_cents, 1000);
    assert_clean(&app, &admin).await;
}

// ---- 9. credit under concurrency ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_credit_spends_never_take_the_balance_below_zero() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "SPEND-1", 6000, 100).await;
    let (me, t) = customer(&app, "spender@example.com").await;
    let finance = app.token_for("finance").await;
    let balance = 10_000;
    assert_eq!(grant(&app, &finance, t.user.id.get(), balance, "spend-grant").await.status(), 201);
    add_ok(&app, &me, p.id.get(), 1).await;

    let answers = join_all((0..8).map(|i| {
        let me = me.clone();
        let app = &app;
        async move {
            let r = checkout(app, &me, Some(&format!("spend-{i}")), &json!({"use_credit_cents": 6000})).await;
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    }))
    .await;
    let mut ok = 0;
    for (status, text) in &answers {
        match status {
            201 => ok += 1,
            409 | 422 => {}
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert_eq!(ok, 1, "6000 fits once into 10000: {answers:?}");
    let acct = credit(&app, &me).await;
    assert!(acct.balance_cents >= 0);
    assert!(acct.entries.iter().all(|e| e.balance_after_cents >= 0));
    let spent: i64 =
        acct.entries.iter().filter(|e| e.kind == CreditKind::Spend).map(|e| -e.delta_cents).sum();
    assert!(spent <= balance, "spent {spent} of {balance}");
    assert_eq!(acct.balance_cents, balance - spent);
    assert_eq!(spent, 6000 * ok);
    assert_eq!(stock(&app, p.id.get()).await, 100 - ok);
    assert_clean(&app, &admin).await;
}

/// Several customers' concurrent spends, each over most of their own balance, with a second
/// spend racing the first per customer: the ledger stays consistent for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_spends_of_several_customers_keep_every_ledger_consistent() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "SPEND-2", 700, 1000).await;
    let finance = app.token_for("finance").await;
    let mut people = Vec::new();
    for i in 0..4 {
        let (tok, t) = customer(&app, &format!("racer{i}@example.com")).await;
        assert_eq!(grant(&app, &finance, t.user.id.get(), 1000, &format!("g-{i}")).await.status(), 201);
        add_ok(&app, &tok, p.id.get(), 1).await;
        people.push(tok);
    }
    let app_ref = &app;
    let answers = join_all(people.iter().flat_map(|tok| {
        (0..3).map(move |k| {
            let app = app_ref;
            async move {
                let r = checkout(app, tok, Some(&format!("r-{k}")), &json!({"use_credit_cents": 700})).await;
                r.status().as_u16()
            }
        })
    }))
    .await;
    assert!(answers.iter().all(|s| [201, 409, 422].contains(s)), "{answers:?}");
    for tok in &people {
        let acct = credit(&app, tok).await;
        let orders = my_orders(&app, tok).await.items.len() as i64;
        assert!(acct.balance_cents >= 0);
        assert_eq!(acct.balance_cents, 1000 - 700 * orders, "{:?}", acct.entries);
        assert!(orders <= 1);
    }
    assert_clean(&app, &admin).await;
}

// ---- 10. orders after checkout --------------------------------------------------------------

#[tokio::test]
async fn another_customers_order_receipt_and_cart_line_are_404() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "MINE-1", 800, 10).await;
    let (alice, _) = customer(&app, "alice@example.com").await;
    let (bob, _) = customer(&app, "bob@example.com").await;
    add_ok(&app, &alice, p.id.get(), 1).await;
    let o = buy(&app, &alice, "alice-1").await;
    let line = add_ok(&app, &alice, p.id.get(), 2).await.lines[0].id.get();

    for path in [format!("/api/orders/{}", o.id), format!("/api/orders/{}/receipt", o.id)] {
        let r = app.get(&path, Some(&bob)).send().await.unwrap();
        expect_problem(r, 404, "not_found").await;
        // the same answer as for an order that does not exist
        let r = app.get(&path.replace(&o.id.to_string(), "999999"), Some(&bob)).send().await.unwrap();
        expect_problem(r, 404, "not_found").await;
    }
    let r = app
        .post_json(&format!("/api/orders/{}/cancel", o.id), &json!({"reason": "mine now"}), Some(&bob))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    expect_problem(patch_line(&app, &bob, line, &json!({"quantity": 5})).await, 404, "not_found").await;
    expect_problem(delete_line(&app, &bob, line).await, 404, "not_found").await;
    assert!(my_orders(&app, &bob).await.items.is_empty());
    assert_eq!(shape(&cart(&app, &alice).await), vec![(p.id.get(), 2)]);
    let still: Order = app.get_json(&format!("/api/orders/{}", o.id), Some(&alice)).await;
    assert_eq!(still.state, OrderState::Paid);
    // staff who may view orders see it
    for role in ["support", "warehouse", "finance", "admin"] {
        let t = app.token_for(role).await;
        let seen: Order = app.get_json(&format!("/api/orders/{}", o.id), Some(&t)).await;
        assert_eq!(seen.id, o.id, "{role}");
    }
}

#[tokio::test]
async fn staff_list_ship_and_deliver_orders_in_the_allowed_order_only() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "SHIP-1", 1500, 10).await;
    let (alice, _) = customer(&app, "ship-alice@example.com").await;
    let (bob, _) = customer(&app, "ship-bob@example.com").await;
    add_ok(&app, &alice, p.id.get(), 1).await;
    let a = buy(&app, &alice, "a-1").await;
    add_ok(&app, &bob, p.id.get(), 2).await;
    let b = buy(&app, &bob, "b-1").await;
    let support = app.token_for("support").await;
    let warehouse = app.token_for("warehouse").await;

    let list = |q: &'static str| {
        let app = &app;
        let support = support.clone();
        async move { app.get_json::<OrderList>(&format!("/api/staff/orders?{q}"), Some(&support)).await }
    };
    let ids = |l: &OrderList| l.items.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&list("customer=ship-alice").await), vec![a.id]);
    assert_eq!(ids(&list("customer=ship-&state=paid").await), vec![b.id, a.id], "newest first");
    assert!(list("customer=ship-&state=shipped").await.items.is_empty());
    let all = list("customer=ship-bob").await;
    assert_eq!(all.items[0].customer_email, "ship-bob@example.com");
    assert!(
        all.items[0].actions.contains(&retail_api_types::OrderAction::Ship),
        "{:?}",
        all.items[0].actions
    );
    let r = app.get("/api/staff/orders?state=lost", Some(&support)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // an empty range is a valid query with no results
    assert!(list("from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z").await.items.is_empty());
    assert!(list("from=2099-01-01T00:00:00Z").await.items.is_empty());

    let ship = |id: i64, body: Value| {
        let app = &app;
        let warehouse = warehouse.clone();
        async move {
            app.post_json(&format!("/api/staff/orders/{id}/ship"), &body, Some(&warehouse))
                .send()
                .await
                .unwrap()
        }
    };
    let deliver = |id: i64| {
        let app = &app;
        let warehouse = warehouse.clone();
        async move {
            app.client
                .post(app.url(&format!("/api/staff/orders/{id}/deliver")))
                .bearer_auth(&warehouse)
                .send()
                .await
                .unwrap()
        }
    };
    // not yet shipped: cannot be delivered
    expect_problem(deliver(a.id.get()).await, 409, "invalid_transition").await;
    expect_field(ship(a.id.get(), json!({"carrier": "", "tracking": "X1"})).await, 422, "carrier").await;
    expect_field(ship(a.id.get(), json!({"carrier": "DHL", "tracking": "has space"})).await, 422, "tracking")
        .await;

    let r = ship(a.id.get(), json!({"carrier": "DHL", "tracking": "JD014600003SE"})).await;
    assert_eq!(r.status(), 200);
    let shipped: Order = r.json().await.unwrap();
    assert_eq!(shipped.state, OrderState::Shipped);
    assert_eq!(
        (shipped.carrier.as_deref(), shipped.tracking.as_deref()),
        (Some("DHL"), Some("JD014600003SE"))
    );
    assert!(shipped.shipped_at.is_some() && shipped.delivered_at.is_none());
    assert_eq!(ids(&list("customer=ship-&state=shipped").await), vec![a.id]);
    let again = ship(a.id.get(), json!({"carrier": "UPS", "tracking": "1Z999"})).await;
    let problem = expect_problem(again, 409, "invalid_transition").await;
    assert!(problem.detail.contains("shipped"), "{}", problem.detail);
    let r = app
        .post_json(
            &format!("/api/staff/orders/{}/cancel", a.id),
            &json!({"reason": "too late"}),
            Some(&support),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "invalid_transition").await;

    let r = deliver(a.id.get()).await;
    assert_eq!(r.status(), 200);
    let delivered: Order = r.json().await.unwrap();
    assert_eq!(delivered.state, OrderState::Delivered);
    assert!(delivered.delivered_at.is_some());
    assert!(delivered.delivered_at >= delivered.shipped_at);
    assert_eq!(delivered.carrier.as_deref(), Some("DHL"), "kept from shipping");
    expect_problem(deliver(a.id.get()).await, 409, "invalid_transition").await;
    let seen: Order = app.get_json(&format!("/api/orders/{}", a.id), Some(&alice)).await;
    assert_eq!((seen.state, seen.tracking.as_deref()), (OrderState::Delivered, Some("JD014600003SE")));

    // unknown order
    expect_problem(ship(999_999, json!({"carrier": "DHL", "tracking": "X"})).await, 404, "not_found").await;

    // a customer and finance may not do any of this
    let finance = app.token_for("finance").await;
    for who in [&alice, &finance] {
        let r = app
            .post_json(
                &format!("/api/staff/orders/{}/ship", b.id),
                &json!({"carrier": "DHL", "tracking": "X"}),
                Some(who),
            )
            .send()
            .await
            .unwrap();
        expect_problem(r, 403, "forbidden").await;
        let r = app
            .post_json(&format!("/api/staff/orders/{}/cancel", b.id), &json!({"reason": "no"}), Some(who))
            .send()
            .await
            .unwrap();
        expect_problem(r, 403, "forbidden").await;
    }
    for path in ["/api/staff/orders", "/api/staff/reconciliation", "/api/staff/credit/1"] {
        let r = app.get(path, Some(&alice)).send().await.unwrap();
        expect_problem(r, 403, "forbidden").await;
    }
    expect_problem(grant(&app, &alice, 1, 100, "self-service").await, 403, "forbidden").await;
    let still: Order = app.get_json(&format!("/api/orders/{}", b.id), Some(&bob)).await;
    assert_eq!(still.state, OrderState::Paid);
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn cancelling_a_paid_order_restocks_refunds_and_reverses_the_credit() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "CANCEL-1", 2500, 10).await;
    let (me, t) = customer(&app, "cancel@example.com").await;
    let finance = app.token_for("finance").await;
    assert_eq!(grant(&app, &finance, t.user.id.get(), 1000, "cancel-grant").await.status(), 201);
    add_ok(&app, &me, p.id.get(), 2).await;
    let r =
        checkout(&app, &me, Some("to-cancel"), &json!({"card_token": "tok_visa", "use_credit_cents": 1000}))
            .await;
    assert_eq!(r.status(), 201);
    let o: Order = r.json().await.unwrap();
    assert_eq!((o.credit_cents, o.card_cents), (1000, 4000));
    assert_eq!(stock(&app, p.id.get()).await, 8);
    assert_eq!(credit(&app, &me).await.balance_cents, 0);

    // another customer cannot even see it
    let (other, _) = customer(&app, "not-the-owner@example.com").await;
    let r = app
        .post_json(&format!("/api/orders/{}/cancel", o.id), &json!({"reason": "not mine"}), Some(&other))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;

    let support = app.token_for("support").await;
    let path = format!("/api/staff/orders/{}/cancel", o.id);
    expect_field(
        app.post_json(&path, &json!({"reason": ""}), Some(&support)).send().await.unwrap(),
        422,
        "reason",
    )
    .await;
    let r = app.post_json(&path, &json!({"reason": "customer called"}), Some(&support)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c: Order = r.json().await.unwrap();
    assert_eq!(c.state, OrderState::Cancelled);
    assert_eq!(c.cancel_reason.as_deref(), Some("customer called"));
    assert!(c.cancelled_at.is_some());
    assert_eq!(c.refunded_cents, 5000);

    assert_eq!(stock(&app, p.id.get()).await, 10, "stock back");
    let l = ledger(&app, &admin, p.id.get()).await;
    assert_eq!((l[0].delta, l[0].stock_after), (2, 10));
    assert_eq!(l[0].reason, format!("order #{} cancelled", o.id));
    assert_eq!(l.iter().map(|m| m.delta).sum::<i64>(), 10);

    let rc = receipt(&app, &me, o.id.get()).await;
    assert_eq!(rc.order.state, OrderState::Cancelled);
    assert_eq!(rc.payments.len(), 1);
    assert_eq!((rc.payments[0].state.as_str(), rc.payments[0].refunded_cents), ("refunded", 4000));
    assert_eq!(
        rc.credit.iter().map(|e| (e.kind, e.delta_cents)).collect::<Vec<_>>(),
        vec![(CreditKind::Spend, -1000), (CreditKind::Reversal, 1000)]
    );
    let acct = credit(&app, &me).await;
    assert_eq!(acct.balance_cents, 1000, "credit reversed");
    assert_clean(&app, &admin).await;

    // once is enough
    let r = app.post_json(&path, &json!({"reason": "again"}), Some(&support)).send().await.unwrap();
    expect_problem(r, 409, "invalid_transition").await;
    assert_eq!(stock(&app, p.id.get()).await, 10);
    assert_eq!(credit(&app, &me).await.balance_cents, 1000);
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn cancelling_an_order_paid_with_store_credit_only_gives_the_credit_back() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "CANCEL-3", 1200, 5).await;
    let (me, t) = customer(&app, "cancel3@example.com").await;
    let finance = app.token_for("finance").await;
    assert_eq!(grant(&app, &finance, t.user.id.get(), 2000, "c3").await.status(), 201);
    add_ok(&app, &me, p.id.get(), 1).await;
    let r = checkout(&app, &me, Some("credit-only"), &json!({})).await;
    assert_eq!(r.status(), 201);
    let o: Order = r.json().await.unwrap();
    assert_eq!((o.credit_cents, o.card_cents, o.state), (1200, 0, OrderState::Paid));
    assert_eq!(credit(&app, &me).await.balance_cents, 800);
    let r = app
        .post_json(
            &format!("/api/staff/orders/{}/cancel", o.id),
            &json!({"reason": "out of season"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c: Order = r.json().await.unwrap();
    assert_eq!((c.state, c.refunded_cents), (OrderState::Cancelled, 1200));
    let acct = credit(&app, &me).await;
    assert_eq!(acct.balance_cents, 2000);
    assert_eq!((acct.entries[0].kind, acct.entries[0].delta_cents), (CreditKind::Reversal, 1200));
    assert_eq!(stock(&app, p.id.get()).await, 5);
    assert_clean(&app, &admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_staff_cancelling_at_once_refund_and_restock_once() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "CANCEL-2", 1000, 10).await;
    let (me, _) = customer(&app, "cancel2@example.com").await;
    add_ok(&app, &me, p.id.get(), 3).await;
    let o = buy(&app, &me, "cancel-race").await;
    let support = app.token_for("support").await;
    let warehouse = app.token_for("warehouse").await;
    let path = format!("/api/staff/orders/{}/cancel", o.id);
    let answers = join_all([&support, &warehouse, &admin, &support].into_iter().map(|t| {
        let app = &app;
        let path = path.clone();
        async move {
            app.post_json(&path, &json!({"reason": "race"}), Some(t)).send().await.unwrap().status().as_u16()
        }
    }))
    .await;
    assert_eq!(answers.iter().filter(|s| **s == 200).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| [200, 409].contains(s)), "{answers:?}");
    assert_eq!(stock(&app, p.id.get()).await, 10);
    let rc = receipt(&app, &me, o.id.get()).await;
    assert_eq!((rc.payments[0].state.as_str(), rc.payments[0].refunded_cents), ("refunded", 3000));
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn an_anonymous_caller_gets_401_everywhere_in_checkout() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/api/cart"),
        ("DELETE", "/api/cart"),
        ("POST", "/api/cart/lines"),
        ("POST", "/api/checkout"),
        ("GET", "/api/orders"),
        ("GET", "/api/credit"),
        ("GET", "/api/staff/reconciliation"),
    ] {
        let r = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

/// Two tabs paying for one cart with different keys: the cart is bought once. The second
/// checkout must not place another order from what it read before the first emptied the cart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_cart_paid_from_two_tabs_at_once_is_bought_once() {
    let (app, admin) = shop_with(|s| s.payments.simulator.latency_ms = 30).await;
    let p = product(&app, &admin, "TABS-1", 1500, 10).await;
    let (me, _) = customer(&app, "tabs@example.com").await;
    add_ok(&app, &me, p.id.get(), 2).await;
    let answers = join_all((0..5).map(|i| {
        let (app, me) = (&app, me.clone());
        async move {
            let r = checkout(app, &me, Some(&format!("tab-{i}")), &json!({"card_token": "tok_visa"})).await;
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    }))
    .await;
    let placed = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(placed, 1, "{answers:?}");
    for (status, text) in &answers {
        assert!([201, 409].contains(status), "{status}: {text}");
    }
    assert_eq!(my_orders(&app, &me).await.items.len(), 1);
    assert_eq!(stock(&app, p.id.get()).await, 8, "the cart's units were taken once");
    assert_clean(&app, &admin).await;
}

#[tokio::test]
async fn a_customer_cancels_their_own_order_until_it_ships() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "SELF-CANCEL", 1500, 6).await;
    let (me, _) = customer(&app, "self-cancel@example.com").await;
    add_ok(&app, &me, p.id.get(), 2).await;
    let o: Order =
        checkout(&app, &me, Some("self-1"), &json!({"card_token": "tok_visa"})).await.json().await.unwrap();
    assert_eq!(stock(&app, p.id.get()).await, 4);
    let path = format!("/api/orders/{}/cancel", o.id);
    let r = app.post_json(&path, &json!({"reason": "ordered twice"}), Some(&me)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c: Order = r.json().await.unwrap();
    assert_eq!((c.state, c.refunded_cents), (OrderState::Cancelled, 3000));
    assert!(c.actions.is_empty());
    assert_eq!(stock(&app, p.id.get()).await, 6, "stock back");
    assert_eq!(receipt(&app, &me, o.id.get()).await.payments[0].state, "refunded");
    assert_clean(&app, &admin).await;

    // once shipped, it is the returns process, not a cancellation
    add_ok(&app, &me, p.id.get(), 1).await;
    let o: Order =
        checkout(&app, &me, Some("self-2"), &json!({"card_token": "tok_visa"})).await.json().await.unwrap();
    let warehouse = app.token_for("warehouse").await;
    let ship = format!("/api/staff/orders/{}/ship", o.id);
    let r = app
        .post_json(&ship, &json!({"carrier": "DHL", "tracking": "JD1"}), Some(&warehouse))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let path = format!("/api/orders/{}/cancel", o.id);
    let r = app.post_json(&path, &json!({"reason": "too late"}), Some(&me)).send().await.unwrap();
    expect_problem(r, 409, "invalid_transition").await;
    assert_eq!(stock(&app, p.id.get()).await, 5);
}
