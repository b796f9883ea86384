//! Flash sales (issue 10), from the outside: scheduling with its validation, allocation and
//! return through the stock ledger, reserving under contention, the per-customer cap across
//! orders, holds that expire (once), the price locked at reservation, paying through
//! checkout, declines releasing the hold, the purchase rate limit and the public listing.

use chrono::{Duration as Span, Utc};
use futures::future::join_all;
use reqwest::Response;
use retail_api_types::{
    AdminSale, Cart, FlashReservation, FlashSale, FlashSaleList, Order, Product, ReconciliationReport,
    ReservationState, StockMovementList,
};
use retail_tests::{TestApp, expect_field, expect_problem, metric, spawn_with};
use serde_json::{Value, json};

// ---- helpers ------------------------------------------------------------------------------

async fn shop_with(adjust: impl FnOnce(&mut retail_server::config::Settings)) -> (TestApp, String) {
    let app = spawn_with(|s| {
        s.flash.purchase_burst = 1000; // tests hammer on purpose; one test checks the limit
        adjust(s);
    })
    .await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    (app, admin)
}

async fn shop() -> (TestApp, String) {
    shop_with(|_| {}).await
}

async fn product(app: &TestApp, admin: &str, sku: &str, price_cents: i64, stock: i64) -> Product {
    let body = json!({"sku": sku, "name": format!("Item {sku}"), "price_cents": price_cents,
                      "currency": "EUR", "category": "test", "initial_stock": stock});
    let r = app.post_json("/api/admin/products", &body, Some(admin)).send().await.unwrap();
    assert_eq!(r.status(), 201, "create {sku}");
    r.json().await.unwrap()
}

fn sale_json(name: &str, starts_in_secs: i64, lasts_secs: i64, cap: i64, items: Value) -> Value {
    let starts = Utc::now() + Span::seconds(starts_in_secs);
    json!({"name": name, "starts_at": starts, "ends_at": starts + Span::seconds(lasts_secs),
           "per_customer_cap": cap, "items": items})
}

async fn create_sale(app: &TestApp, admin: &str, body: &Value) -> Response {
    app.post_json("/api/admin/sales", body, Some(admin)).send().await.unwrap()
}

/// A live sale of one product at 25 % off: (sale, product).
async fn live_sale(app: &TestApp, admin: &str, sku: &str, units: i64, cap: i64) -> (AdminSale, Product) {
    let p = product(app, admin, sku, 1000, 50).await;
    let body = sale_json(
        &format!("Sale {sku}"),
        -1,
        3600,
        cap,
        json!([{"product_id": p.id, "discount": {"kind": "percent_off", "basis_points": 2500}, "allocated_units": units}]),
    );
    let r = create_sale(app, admin, &body).await;
    assert_eq!(r.status(), 201, "create sale for {sku}");
    (r.json().await.unwrap(), p)
}

async fn reserve(app: &TestApp, token: &str, sale: i64, product: i64, units: i64) -> Response {
    app.post_json(
        &format!("/api/flash/sales/{sale}/reservations"),
        &json!({"product_id": product, "units": units}),
        Some(token),
    )
    .send()
    .await
    .unwrap()
}

async fn reserve_ok(app: &TestApp, token: &str, sale: i64, product: i64, units: i64) -> FlashReservation {
    let r = reserve(app, token, sale, product, units).await;
    assert_eq!(r.status(), 201, "reserve {units}");
    r.json().await.unwrap()
}

async fn pay(app: &TestApp, token: &str, reservation: i64, card: &str, key: &str) -> Response {
    app.post_json(
        "/api/checkout",
        &json!({"reservation_id": reservation, "card_token": card, "use_credit_cents": 0}),
        Some(token),
    )
    .header("Idempotency-Key", key)
    .send()
    .await
    .unwrap()
}

async fn sale(app: &TestApp, id: i64) -> FlashSale {
    app.get_json(&format!("/api/flash/sales/{id}"), None).await
}

async fn customer(app: &TestApp, email: &str) -> String {
    app.register(email).await.access_token
}

async fn reconcile(app: &TestApp, admin: &str) -> ReconciliationReport {
    app.get_json("/api/staff/reconciliation", Some(admin)).await
}

// ---- scheduling ---------------------------------------------------------------------------

#[tokio::test]
async fn scheduling_takes_the_allocation_from_stock_and_ending_puts_the_rest_back() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-ALLOC", 10, 2).await;
    let after: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(after.stock, 40, "10 of 50 set aside");
    let overlay = after.sale.expect("a live sale shows on the product");
    assert_eq!((overlay.sale_id, overlay.sale_price_cents, overlay.remaining), (s.sale.id, 750, 10));

    let buyer = customer(&app, "alloc@retail.test").await;
    let r = reserve_ok(&app, &buyer, s.sale.id, p.id.get(), 2).await;
    assert_eq!(pay(&app, &buyer, r.id, "tok_visa", "alloc-1").await.status(), 201);
    let held = reserve_ok(&app, &customer(&app, "alloc2@retail.test").await, s.sale.id, p.id.get(), 1).await;

    let r = app
        .post_json(&format!("/api/admin/sales/{}/end", s.sale.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ended: AdminSale = r.json().await.unwrap();
    assert_eq!(ended.sale.state, retail_api_types::SaleState::EndedEarly);
    assert!(ended.settled_at.is_some());
    // 2 sold, 1 still held: 7 went back
    let after: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(after.stock, 47);
    assert!(after.sale.is_none(), "an ended sale no longer shows");
    // the held unit follows when it is cancelled: to stock, not to the ended sale
    let r = app
        .post_json(
            &format!("/api/flash/reservations/{}/cancel", held.id),
            &json!({}),
            Some(&customer_token(&app, "alloc2@retail.test").await),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(after.stock, 48);
    let ledger: StockMovementList =
        app.get_json(&format!("/api/admin/products/{}/stock-movements", p.id), Some(&admin)).await;
    let deltas: Vec<i64> = ledger.items.iter().map(|m| m.delta).collect();
    assert_eq!(deltas, vec![1, 7, -10, 50], "newest first: held unit back, leftovers back, allocation, seed");
    // ending twice is refused
    let r = app
        .post_json(&format!("/api/admin/sales/{}/end", s.sale.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "sale_over").await;
    assert!(reconcile(&app, &admin).await.clean);
}

async fn customer_token(app: &TestApp, email: &str) -> String {
    app.login(email, "a long enough pass 1").await.access_token
}

#[tokio::test]
async fn bad_sales_are_refused_with_the_field_named_and_nothing_written() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "FS-BAD", 1000, 5).await;
    let item = |units: i64| json!([{"product_id": p.id, "discount": {"kind": "percent_off", "basis_points": 1000}, "allocated_units": units}]);
    // end before start
    let mut body = sale_json("Backwards", 3600, 60, 1, item(1));
    body["ends_at"] = json!(Utc::now() + Span::seconds(60));
    expect_field(create_sale(&app, &admin, &body).await, 422, "ends_at").await;
    // allocation above stock
    expect_field(
        create_sale(&app, &admin, &sale_json("Too many", 0, 60, 1, item(6))).await,
        422,
        "items[0].allocated_units",
    )
    .await;
    // discount out of range, unknown product
    let bad = json!([{"product_id": p.id, "discount": {"kind": "percent_off", "basis_points": 0}, "allocated_units": 1},
                     {"product_id": 999_999, "discount": {"kind": "sale_price", "price": 1}, "allocated_units": 1}]);
    let prob = expect_field(
        create_sale(&app, &admin, &sale_json("Bad", 0, 60, 1, bad)).await,
        422,
        "items[0].discount",
    )
    .await;
    assert!(prob.errors.iter().any(|e| e.field == "items[1].product_id"), "{prob:?}");
    // overlapping sales on one product
    assert_eq!(create_sale(&app, &admin, &sale_json("First", 60, 3600, 1, item(2))).await.status(), 201);
    expect_field(
        create_sale(&app, &admin, &sale_json("Overlap", 600, 3600, 1, item(1))).await,
        422,
        "items[0].product_id",
    )
    .await;
    // touching windows are fine
    let r = create_sale(&app, &admin, &sale_json("After", 3660, 60, 1, item(1))).await;
    assert_eq!(r.status(), 201);
    let stock: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(stock.stock, 2, "only the two accepted sales took units");
}

#[tokio::test]
async fn a_sale_is_edited_before_it_starts_and_not_after() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "FS-EDIT", 1000, 20).await;
    let item = |units: i64| json!([{"product_id": p.id, "discount": {"kind": "sale_price", "price": 600}, "allocated_units": units}]);
    let r = create_sale(&app, &admin, &sale_json("Later", 3600, 600, 1, item(5))).await;
    let s: AdminSale = r.json().await.unwrap();
    let mut body = sale_json("Later, bigger", 3600, 600, 3, item(8));
    body["version"] = json!(s.version);
    let r = app
        .send_json(reqwest::Method::PUT, &format!("/api/admin/sales/{}", s.sale.id), &body, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let edited: AdminSale = r.json().await.unwrap();
    assert_eq!(
        (edited.sale.name.as_str(), edited.sale.per_customer_cap, edited.sale.items[0].allocated),
        ("Later, bigger", 3, 8)
    );
    let stock: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(stock.stock, 12);
    // a stale version
    let r = app
        .send_json(reqwest::Method::PUT, &format!("/api/admin/sales/{}", s.sale.id), &body, Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "version_conflict").await;
    // once live, no edits
    let (live, _) = live_sale(&app, &admin, "FS-EDIT-LIVE", 3, 1).await;
    let mut body = sale_json("Changed", 60, 600, 1, json!([]));
    body["version"] = json!(live.version);
    let r = app
        .send_json(reqwest::Method::PUT, &format!("/api/admin/sales/{}", live.sale.id), &body, Some(&admin))
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "sale_started").await;
}

// ---- reserving ----------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_buyers_get_exactly_the_last_units() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-LAST", 5, 1).await;
    let mut tokens = Vec::new();
    for i in 0..40 {
        tokens.push(customer(&app, &format!("last{i}@retail.test")).await);
    }
    let answers = join_all(tokens.iter().map(|t| reserve(&app, t, s.sale.id, p.id.get(), 1))).await;
    let mut won = 0;
    for r in answers {
        match r.status().as_u16() {
            201 => won += 1,
            409 => {
                let prob: retail_api_types::Problem = r.json().await.unwrap();
                assert_eq!(prob.code, "sold_out");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 5);
    let now = sale(&app, s.sale.id).await;
    assert_eq!((now.items[0].reserved, now.items[0].remaining), (5, 0));
    // answered from memory now: the counter of such answers moves
    let before = app.metric("retail_flash_reservations_total{outcome=\"sold_out_memory\"}").await;
    let late = customer(&app, "late@retail.test").await;
    expect_problem(reserve(&app, &late, s.sale.id, p.id.get(), 1).await, 409, "sold_out").await;
    assert_eq!(
        app.metric("retail_flash_reservations_total{outcome=\"sold_out_memory\"}").await,
        before + 1.0
    );
    assert!(reconcile(&app, &admin).await.clean);
}

#[tokio::test]
async fn the_cap_holds_across_orders_and_concurrent_reservations() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-CAP", 20, 2).await;
    let buyer = customer(&app, "cap@retail.test").await;
    // two orders of one unit each reach the cap
    for i in 0..2 {
        let r = reserve_ok(&app, &buyer, s.sale.id, p.id.get(), 1).await;
        assert_eq!(pay(&app, &buyer, r.id, "tok_visa", &format!("cap-{i}")).await.status(), 201);
    }
    expect_problem(reserve(&app, &buyer, s.sale.id, p.id.get(), 1).await, 409, "cap_reached").await;
    // two concurrent reservations of two units: one gets both, the other is told
    let other = customer(&app, "cap2@retail.test").await;
    let answers = join_all((0..2).map(|_| reserve(&app, &other, s.sale.id, p.id.get(), 2))).await;
    let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(codes.contains(&201) && codes.contains(&409), "{codes:?}");
    // asking for more than the cap at once
    let third = customer(&app, "cap3@retail.test").await;
    let prob = expect_problem(reserve(&app, &third, s.sale.id, p.id.get(), 3).await, 409, "over_cap").await;
    assert!(prob.detail.contains("2"), "{}", prob.detail);
    let now = sale(&app, s.sale.id).await;
    assert_eq!((now.items[0].sold, now.items[0].reserved), (2, 2));
}

#[tokio::test]
async fn reserving_outside_the_window_or_a_product_not_on_sale_is_refused() {
    let (app, admin) = shop().await;
    let p = product(&app, &admin, "FS-SOON", 1000, 5).await;
    let body = sale_json(
        "Soon",
        3600,
        60,
        1,
        json!([{"product_id": p.id, "discount": {"kind": "percent_off", "basis_points": 100}, "allocated_units": 1}]),
    );
    let s: AdminSale = create_sale(&app, &admin, &body).await.json().await.unwrap();
    let buyer = customer(&app, "soon@retail.test").await;
    expect_problem(reserve(&app, &buyer, s.sale.id, p.id.get(), 1).await, 409, "sale_not_live").await;
    expect_problem(reserve(&app, &buyer, s.sale.id, 999_999, 1).await, 404, "not_found").await;
    expect_problem(reserve(&app, &buyer, 999_999, p.id.get(), 1).await, 404, "not_found").await;
    expect_field(reserve(&app, &buyer, s.sale.id, p.id.get(), 0).await, 422, "units").await;
}

// ---- holds --------------------------------------------------------------------------------

#[tokio::test]
async fn a_lapsed_hold_returns_its_units_once_and_cannot_be_paid() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-TTL", 3, 3).await;
    let buyer = customer(&app, "ttl@retail.test").await;
    let r = reserve_ok(&app, &buyer, s.sale.id, p.id.get(), 3).await;
    assert_eq!(r.state, ReservationState::Held);
    assert!(r.time_left_secs.is_some_and(|t| t > 590 && t <= 600), "{:?}", r.time_left_secs);
    // the worker, eleven minutes later (an injected clock)
    let later = Utc::now() + Span::minutes(11);
    let first = retail_server::worker::run_once_at(&app.state.db, later).await.unwrap();
    let second = retail_server::worker::run_once_at(&app.state.db, later).await.unwrap();
    assert_eq!((first.holds_expired, second.holds_expired), (1, 0), "expired once");
    let now = sale(&app, s.sale.id).await;
    assert_eq!((now.items[0].reserved, now.items[0].remaining), (0, 3));
    let mine: FlashReservation =
        app.get_json(&format!("/api/flash/reservations/{}", r.id), Some(&buyer)).await;
    assert_eq!(mine.state, ReservationState::Expired);
    expect_problem(pay(&app, &buyer, r.id, "tok_visa", "ttl-pay").await, 409, "reservation_expired").await;
    assert!(reconcile(&app, &admin).await.clean);
}

#[tokio::test]
async fn a_lapsed_hold_is_expired_lazily_by_the_next_buyer() {
    let (app, admin) = shop_with(|s| s.flash.hold_ttl_secs = 1).await;
    let (s, p) = live_sale(&app, &admin, "FS-LAZY", 1, 1).await;
    let first = customer(&app, "lazy1@retail.test").await;
    let held = reserve_ok(&app, &first, s.sale.id, p.id.get(), 1).await;
    let second = customer(&app, "lazy2@retail.test").await;
    expect_problem(reserve(&app, &second, s.sale.id, p.id.get(), 1).await, 409, "sold_out").await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    reserve_ok(&app, &second, s.sale.id, p.id.get(), 1).await;
    let old: FlashReservation =
        app.get_json(&format!("/api/flash/reservations/{}", held.id), Some(&first)).await;
    assert_eq!(old.state, ReservationState::Expired);
    assert!(reconcile(&app, &admin).await.clean);
}

#[tokio::test]
async fn cancelling_returns_the_units_at_once_and_only_the_owner_sees_a_reservation() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-CANCEL", 1, 1).await;
    let a = customer(&app, "cancel-a@retail.test").await;
    let b = customer(&app, "cancel-b@retail.test").await;
    let r = reserve_ok(&app, &a, s.sale.id, p.id.get(), 1).await;
    expect_problem(reserve(&app, &b, s.sale.id, p.id.get(), 1).await, 409, "sold_out").await;
    // b cannot see, cancel or pay a's reservation
    expect_problem(
        app.get(&format!("/api/flash/reservations/{}", r.id), Some(&b)).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    let cancel = |t: String| {
        let app = &app;
        async move {
            app.post_json(&format!("/api/flash/reservations/{}/cancel", r.id), &json!({}), Some(&t))
                .send()
                .await
                .unwrap()
        }
    };
    expect_problem(cancel(b.clone()).await, 404, "not_found").await;
    expect_problem(pay(&app, &b, r.id, "tok_visa", "steal").await, 404, "not_found").await;
    assert_eq!(cancel(a.clone()).await.status(), 200);
    expect_problem(cancel(a.clone()).await, 409, "reservation_not_held").await;
    // the units are back at once, even though this process had seen the item sold out
    reserve_ok(&app, &b, s.sale.id, p.id.get(), 1).await;
}

// ---- paying -------------------------------------------------------------------------------

#[tokio::test]
async fn a_paid_reservation_charges_the_locked_price_even_after_the_sale_ends() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-LOCK", 5, 2).await;
    let buyer = customer(&app, "lock@retail.test").await;
    let before = app.metrics().await;
    let r = reserve_ok(&app, &buyer, s.sale.id, p.id.get(), 2).await;
    assert_eq!((r.unit_price_cents, r.total_cents), (750, 1500));
    // the business series: two units reserved, one reservation held
    let held = app.metrics().await;
    let delta = |a: &str, b: &str, series: &str| metric(b, series).unwrap() - metric(a, series).unwrap();
    assert_eq!(delta(&before, &held, r#"retail_flash_units_total{kind="reserved"}"#), 2.0);
    assert_eq!(delta(&before, &held, "retail_flash_open_reservations"), 1.0);
    // the cart shows the hold beside (not in) the cart lines
    let cart: Cart = app.get_json("/api/cart", Some(&buyer)).await;
    assert_eq!((cart.lines.len(), cart.reservations.len()), (0, 1));
    // the sale ends while the customer is paying
    let ended = app
        .post_json(&format!("/api/admin/sales/{}/end", s.sale.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    let list: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!((list.price_cents, list.sale.is_none()), (1000, true));
    let r2 = pay(&app, &buyer, r.id, "tok_visa", "lock-1").await;
    assert_eq!(r2.status(), 201);
    let order: Order = r2.json().await.unwrap();
    assert_eq!((order.total_cents, order.lines[0].unit_price_cents, order.lines[0].quantity), (1500, 750, 2));
    let paid = app.metrics().await;
    assert_eq!(delta(&held, &paid, r#"retail_flash_units_total{kind="sold"}"#), 2.0);
    assert_eq!(delta(&held, &paid, "retail_flash_open_reservations"), -1.0);
    assert_eq!(delta(&held, &paid, "retail_orders_total"), 1.0);
    // the same key replays; another key cannot pay it again
    let replay = pay(&app, &buyer, r.id, "tok_visa", "lock-1").await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.json::<Order>().await.unwrap().id, order.id);
    expect_problem(pay(&app, &buyer, r.id, "tok_visa", "lock-2").await, 409, "reservation_not_held").await;
    let mine: FlashReservation =
        app.get_json(&format!("/api/flash/reservations/{}", r.id), Some(&buyer)).await;
    assert_eq!((mine.state, mine.order_id), (ReservationState::Paid, Some(order.id)));
    // stock: 50 - 5 allocated + 3 returned at the end = 48; the sale's units were never sold twice
    let after: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(after.stock, 48);
    assert!(reconcile(&app, &admin).await.clean);
}

#[tokio::test]
async fn a_declined_card_releases_the_hold() {
    let (app, admin) = shop().await;
    let (s, p) = live_sale(&app, &admin, "FS-DECLINE", 1, 1).await;
    let buyer = customer(&app, "decline@retail.test").await;
    let r = reserve_ok(&app, &buyer, s.sale.id, p.id.get(), 1).await;
    let other = customer(&app, "decline2@retail.test").await;
    expect_problem(reserve(&app, &other, s.sale.id, p.id.get(), 1).await, 409, "sold_out").await;
    expect_problem(pay(&app, &buyer, r.id, "tok_decline", "decline-1").await, 402, "card_declined").await;
    let mine: FlashReservation =
        app.get_json(&format!("/api/flash/reservations/{}", r.id), Some(&buyer)).await;
    assert_eq!(mine.state, ReservationState::Cancelled);
    assert_eq!(sale(&app, s.sale.id).await.items[0].remaining, 1);
    // the unit is free for the next buyer at once (the sold-out memory was cleared)
    let won = reserve_ok(&app, &other, s.sale.id, p.id.get(), 1).await;
    assert_eq!(pay(&app, &other, won.id, "tok_visa", "decline-2").await.status(), 201);
    let after = sale(&app, s.sale.id).await;
    assert_eq!((after.items[0].sold, after.items[0].remaining), (1, 0));
    assert!(reconcile(&app, &admin).await.clean);
}

// ---- limits and listing -------------------------------------------------------------------

#[tokio::test]
async fn the_purchase_limit_is_per_customer_with_rate_limit_headers() {
    let (app, admin) = shop_with(|s| {
        s.flash.purchase_burst = 2;
        s.flash.purchase_refill_ms = 60_000;
    })
    .await;
    let (s, p) = live_sale(&app, &admin, "FS-RATE", 50, 10).await;
    let a = customer(&app, "rate-a@retail.test").await;
    let first = reserve(&app, &a, s.sale.id, p.id.get(), 1).await;
    assert_eq!(first.status(), 201);
    assert_eq!(first.headers()["x-ratelimit-limit"], "2");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "1");
    assert_eq!(reserve(&app, &a, s.sale.id, p.id.get(), 1).await.status(), 201);
    let third = reserve(&app, &a, s.sale.id, p.id.get(), 1).await;
    assert!(third.headers().contains_key("retry-after"));
    assert!(third.headers().contains_key("x-ratelimit-after"));
    let retry: u64 = third.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    expect_problem(third, 429, "rate_limited").await;
    // another customer from the same address is not affected; reads are not counted
    let b = customer(&app, "rate-b@retail.test").await;
    assert_eq!(reserve(&app, &b, s.sale.id, p.id.get(), 1).await.status(), 201);
    assert_eq!(
        app.get(&format!("/api/flash/sales/{}", s.sale.id), Some(&a)).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn the_per_ip_api_limit_counts_signed_in_customers_apart() {
    let app = spawn_with(|s| {
        s.limits.api_per_ip_burst = 3;
        s.limits.api_per_ip_refill_us = 60_000_000;
    })
    .await;
    app.seed().await;
    let a = app.token_for("customer").await;
    let b = app.token_for("support").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/cart", Some(&a)).send().await.unwrap().status(), 200);
    }
    expect_problem(app.get("/api/cart", Some(&a)).send().await.unwrap(), 429, "rate_limited").await;
    // same address, another account: its own bucket
    assert_eq!(app.get("/api/cart", Some(&b)).send().await.unwrap().status(), 200);
    // anonymous callers share the address's bucket
    for _ in 0..3 {
        app.get("/api/flash/sales", None).send().await.unwrap();
    }
    expect_problem(app.get("/api/flash/sales", None).send().await.unwrap(), 429, "rate_limited").await;
}

#[tokio::test]
async fn the_listing_shows_live_and_upcoming_sales_with_an_etag() {
    let (app, admin) = shop_with(|s| s.flash.listing_ttl_ms = 60_000).await;
    let seeded: FlashSaleList = app.get_json("/api/flash/sales", None).await;
    let names: Vec<&str> = seeded.items.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&retail_server::seed_sales::LIVE)
            && names.contains(&retail_server::seed_sales::UPCOMING),
        "{names:?}"
    );
    let live = seeded.items.iter().find(|s| s.name == retail_server::seed_sales::LIVE).unwrap();
    assert!(live.time_left_secs.is_some() && live.starts_in_secs.is_none());
    let r = app.get("/api/flash/sales", None).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = app.get("/api/flash/sales", None).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    // a new sale drops the cached page at once, despite its minute-long TTL
    let (s, _) = live_sale(&app, &admin, "FS-LIST", 2, 1).await;
    let fresh = app.get("/api/flash/sales", None).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    let list: FlashSaleList = fresh.json().await.unwrap();
    assert!(list.items.iter().any(|x| x.id == s.sale.id));
    // an ended sale leaves the listing
    app.post_json(&format!("/api/admin/sales/{}/end", s.sale.id), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap();
    let list: FlashSaleList = app.get_json("/api/flash/sales", None).await;
    assert!(!list.items.iter().any(|x| x.id == s.sale.id));
    let _: Value = app.get_json("/api/flash/sales?page=2&per_page=1", None).await;
    expect_problem(app.get("/api/flash/sales?per_page=0", None).send().await.unwrap(), 400, "invalid_query")
        .await;
}
