//! Returns (RMA) over HTTP: requesting with a preview, eligibility and caps, the workflow per
//! role, photos, the five dispositions and their effects on money, stock, orders and credit,
//! exactly once under concurrent processing, a refused refund and its retry, queues and figures.

use std::sync::Arc;

use retail_tests::{PNG, TestApp, expect_field, expect_problem, spawn_app, spawn_with};
use serde_json::{Value, json};

/// A seeded app and a fresh customer (the demo data has its own returns).
async fn setup(tag: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed().await;
    let customer = app.register(&format!("{tag}@retail.test")).await.access_token;
    (app, customer)
}

async fn act(app: &TestApp, token: &str, rma: i64, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/returns/{rma}/actions"), &body, Some(token)).send().await.unwrap()
}

async fn stock_of(app: &TestApp, product: i64) -> i64 {
    let p: Value = app.get_json(&format!("/api/products/{product}"), None).await;
    p["stock"].as_i64().unwrap()
}

async fn grant(app: &TestApp, user: i64, cents: i64, key: &str) {
    let finance = app.token_for("finance").await;
    let r = app
        .post_json(
            "/api/staff/credit",
            &json!({"user_id": user, "amount_cents": cents, "reason": "goodwill"}),
            Some(&finance),
        )
        .header("Idempotency-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_refund_goes_back_the_way_it_was_paid_restocks_and_shows_on_the_timeline() {
    let (app, customer) = setup("refund-split").await;
    let me: Value = app.get_json("/api/auth/me", Some(&customer)).await;
    grant(&app, me["id"].as_i64().unwrap(), 300, "g-split").await;
    let a = app.product("RET-A", 1000, 10, "tools").await;
    let b = app.product("RET-B", 500, 10, "tools").await;
    // 2 x 10.00 + 1 x 5.00 = 25.00, of which 3.00 store credit and 22.00 card.
    let order = app.delivered_order(&customer, &[(a, 2), (b, 1)], 300, "o-split").await;
    assert_eq!(order["total_cents"], 2500);
    assert_eq!(stock_of(&app, a).await, 8);

    let preview = app
        .post_json(
            "/api/returns/preview",
            &json!({"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}], "reason": "defective"}),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    let preview: Value = preview.json().await.unwrap();
    assert_eq!(preview["eligible"], true);
    assert_eq!(preview["estimate"], json!({"gross": 1000, "fee_bps": 0, "fee": 0, "net": 1000}));

    let rma = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    assert_eq!(rma["stage"], "validating");
    let id = rma["id"].as_i64().unwrap();
    let decided = app.rma_to_disposition(&customer, id, "resellable", json!({"disposition": "refund"})).await;
    assert_eq!(decided["amount_cents"], 1000);
    let finance = app.token_for("finance").await;
    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    // 10.00 split as paid: round(1000 * 2200 / 2500) = 880 to the card, 120 to credit.
    assert_eq!(done["refund"], json!({"card_cents": 880, "credit_cents": 120}));

    let receipt: Value = app.get_json(&format!("/api/orders/{}/receipt", order["id"]), Some(&customer)).await;
    assert_eq!(receipt["order"]["state"], "partially_refunded");
    assert_eq!(receipt["order"]["refunded_cents"], 1000);
    assert_eq!(receipt["payments"][0]["refunded_cents"], 880);
    assert_eq!(receipt["payments"][0]["state"], "partially_refunded");
    let credit: Value = app.get_json("/api/credit", Some(&customer)).await;
    assert_eq!(credit["balance_cents"], 120, "3.00 spent, 1.20 back");
    assert_eq!(stock_of(&app, a).await, 9, "the resellable unit went back to stock");

    // The customer's timeline: every stage in order, with roles but no staff emails.
    let mine: Value = app.get_json(&format!("/api/returns/{id}"), Some(&customer)).await;
    let stages: Vec<&str> =
        mine["events"].as_array().unwrap().iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(
        stages,
        [
            "submitted",
            "validating",
            "approved",
            "shipping",
            "received",
            "inspecting",
            "inspected",
            "disposition",
            "processing",
            "completed"
        ]
    );
    assert!(mine["events"].as_array().unwrap().iter().all(|e| e["actor_email"].is_null()));
    assert_eq!(mine["actions"], json!([]));
    let staff: Value = app.get_json(&format!("/api/returns/{id}"), Some(&finance)).await;
    assert!(staff["events"].as_array().unwrap().iter().any(|e| e["actor_email"] == "finance@retail.test"));

    // Processing again moves nothing.
    let r = act(&app, &finance, id, json!({"action": "process", "version": done["version"]})).await;
    expect_problem(r, 409, "invalid_transition").await;
    let figures: Value = app.get_json("/api/staff/returns/figures", Some(&finance)).await;
    assert!(figures["refunded_card_cents"].as_i64().unwrap() >= 880);
    let metrics = app.get("/metrics", None).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("rma_stage_returns{stage=\"completed\"}"), "{metrics}");

    // The rest of the order: the same line's last unit and the other line, refunded in full.
    let rma2 = app.rma_create(&customer, &order, &[(0, 1), (1, 1)], "wrong_item").await;
    let id2 = rma2["id"].as_i64().unwrap();
    app.rma_to_disposition(&customer, id2, "damaged", json!({"disposition": "refund"})).await;
    let done2 = app.rma_step(&finance, id2, "process", json!({})).await;
    assert_eq!(done2["refund"], json!({"card_cents": 1320, "credit_cents": 180}));
    let receipt: Value = app.get_json(&format!("/api/orders/{}/receipt", order["id"]), Some(&customer)).await;
    assert_eq!(receipt["order"]["state"], "refunded");
    assert_eq!(receipt["order"]["refunded_cents"], 2500);
    assert_eq!(receipt["payments"][0]["state"], "refunded");
    assert_eq!(stock_of(&app, a).await, 9, "damaged goods are not restocked");
}

#[tokio::test]
async fn quantities_are_capped_by_what_was_bought_and_what_other_returns_hold() {
    let (app, customer) = setup("caps").await;
    let a = app.product("CAP-A", 700, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 2)], 0, "o-caps").await;
    let line = order["lines"][0]["id"].clone();
    let body = |q: i64| json!({"order_id": order["id"], "lines": [{"order_line_id": line, "quantity": q}], "reason": "defective"});

    // Shape errors are 422 and write nothing.
    let r = app
        .post_json(
            "/api/returns",
            &json!({"order_id": order["id"], "lines": [], "reason": "defective"}),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "lines").await;
    let r = app.post_json("/api/returns", &body(0), Some(&customer)).send().await.unwrap();
    expect_field(r, 422, "lines[0].quantity").await;
    let twice = json!({"order_id": order["id"], "lines": [{"order_line_id": line, "quantity": 1}, {"order_line_id": line, "quantity": 1}], "reason": "defective"});
    let r = app.post_json("/api/returns", &twice, Some(&customer)).send().await.unwrap();
    expect_field(r, 422, "lines[1].order_line_id").await;
    let r = app.post_json("/api/returns", &json!({"order_id": order["id"], "lines": [{"order_line_id": 999999, "quantity": 1}], "reason": "defective"}), Some(&customer)).send().await.unwrap();
    expect_field(r, 422, "lines[0].order_line_id").await;
    let list: Value = app.get_json("/api/returns", Some(&customer)).await;
    assert_eq!(list["pagination"]["total"], 0);

    // Three of two: rejected with the reason.
    let over = app.rma_create(&customer, &order, &[(0, 3)], "defective").await;
    assert_eq!(over["stage"], "rejected");
    assert_eq!(over["problems"][0]["code"], "too_many");
    // Two in one return, then a second return of the same line finds nothing left.
    let first = app.rma_create(&customer, &order, &[(0, 2)], "defective").await;
    assert_eq!(first["stage"], "validating");
    let second = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    assert_eq!(second["stage"], "rejected");
    assert!(second["problems"][0]["message"].as_str().unwrap().contains("already returned"), "{second}");
    // Cancelling the first frees the units again.
    app.rma_step(&customer, first["id"].as_i64().unwrap(), "cancel", json!({})).await;
    let third = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    assert_eq!(third["stage"], "validating");

    // An order not yet delivered is not eligible.
    let b = app.product("CAP-B", 300, 10, "tools").await;
    let paid = app.paid_order_with("tok_visa", &customer, &[(b, 1)], 0, "o-undelivered").await;
    let refused = app.rma_create(&customer, &paid, &[(0, 1)], "defective").await;
    assert_eq!(refused["stage"], "rejected");
    assert_eq!(refused["problems"][0]["code"], "not_delivered");
    assert_eq!(refused["events"].as_array().unwrap().last().unwrap()["actor_role"], "system");
}

#[tokio::test]
async fn the_return_window_and_the_fee_policy_come_from_the_settings() {
    let app = spawn_with(|s| {
        s.returns.window_days = 30;
        s.returns.category_window_days.insert("perishables".into(), 0);
        s.returns.fee_bps.insert("no_longer_needed/resellable".into(), 1000);
    })
    .await;
    app.seed().await;
    let customer = app.register("window@retail.test").await.access_token;
    let fresh = app.product("WIN-F", 999, 10, "perishables").await;
    let tool = app.product("WIN-T", 999, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(fresh, 1), (tool, 1)], 0, "o-window").await;
    let preview =
        |lines: Value, reason: &str| json!({"order_id": order["id"], "lines": lines, "reason": reason});
    let r = app
        .post_json(
            "/api/returns/preview",
            &preview(json!([{"order_line_id": order["lines"][0]["id"], "quantity": 1}]), "defective"),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["eligible"], false);
    assert_eq!(v["problems"][0]["code"], "window_closed");
    // 10 % of 9.99 is 0.999, rounded half up to 1.00.
    let r = app
        .post_json(
            "/api/returns/preview",
            &preview(json!([{"order_line_id": order["lines"][1]["id"], "quantity": 1}]), "no_longer_needed"),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["eligible"], true);
    assert_eq!(v["estimate"], json!({"gross": 999, "fee_bps": 1000, "fee": 100, "net": 899}));
}

#[tokio::test]
async fn another_customers_return_and_photos_are_404_and_roles_follow_the_table() {
    let (app, customer) = setup("owner").await;
    let other = app.register("other@retail.test").await.access_token;
    let a = app.product("OWN-A", 400, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 1)], 0, "o-owner").await;
    // Another customer cannot even preview a return of this order.
    let r = app
        .post_json("/api/returns/preview", &json!({"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}], "reason": "defective"}), Some(&other))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    let rma = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    let id = rma["id"].as_i64().unwrap();
    let r = app.upload(id, &[("photo", "a.png", PNG)], &customer).await;
    assert_eq!(r.status(), 201);
    let photo = r.json::<Value>().await.unwrap()["photos"][0]["id"].as_i64().unwrap();

    for path in [format!("/api/returns/{id}"), format!("/api/returns/{id}/photos/{photo}")] {
        let r = app.get(&path, Some(&other)).send().await.unwrap();
        expect_problem(r, 404, "not_found").await;
    }
    let r = act(&app, &other, id, json!({"action": "cancel", "version": 1})).await;
    expect_problem(r, 404, "not_found").await;
    let r = app.upload(id, &[("photo", "b.png", PNG)], &other).await;
    expect_problem(r, 404, "not_found").await;
    // The owner and staff get the image with its stored type.
    let support = app.token_for("support").await;
    for t in [&customer, &support] {
        let r = app.get(&format!("/api/returns/{id}/photos/{photo}"), Some(t)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    }

    // The owner may not approve their own return; the warehouse may not either; support may.
    let r = act(&app, &customer, id, json!({"action": "approve", "version": 1})).await;
    expect_problem(r, 403, "forbidden").await;
    let warehouse = app.token_for("warehouse").await;
    let r = act(&app, &warehouse, id, json!({"action": "approve", "version": 1})).await;
    expect_problem(r, 403, "forbidden").await;
    // Nobody may validate by hand; a stage that does not allow it lists what is allowed.
    let r = act(&app, &support, id, json!({"action": "validate", "version": 1})).await;
    let p = expect_problem(r, 409, "invalid_transition").await;
    assert!(p.detail.contains("approve, reject"), "{}", p.detail);
    // Rejecting needs a reason.
    let r = act(&app, &support, id, json!({"action": "reject", "version": 1})).await;
    expect_field(r, 422, "note").await;
    // Two staff acting on the same version: the second is stale.
    app.rma_step(&support, id, "approve", json!({})).await;
    let r = act(&app, &support, id, json!({"action": "cancel", "version": 1})).await;
    expect_problem(r, 409, "stale_version").await;
    // Shipping needs a carrier and a tracking code.
    let r = act(&app, &customer, id, json!({"action": "ship", "version": 2})).await;
    expect_field(r, 422, "carrier").await;
}

#[tokio::test]
async fn photos_are_checked_by_content_size_and_count_and_leave_nothing_behind() {
    let app = spawn_with(|s| s.returns.photo_max_bytes = 4096).await;
    app.seed().await;
    let customer = app.register("photos@retail.test").await.access_token;
    let a = app.product("PH-A", 400, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 1)], 0, "o-photos").await;
    let id = app.rma_create(&customer, &order, &[(0, 1)], "damaged_in_transit").await["id"].as_i64().unwrap();
    let dir = app.dir.path().join("rma-photos");
    let files = || std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);

    // A script with an image name, an SVG, a GIF: refused by content, nothing kept.
    let r =
        app.upload(id, &[("photo", "evil.png", b"<script>alert(1)</script>".as_slice())], &customer).await;
    expect_field(r, 422, "photo[0]").await;
    let r = app
        .upload(id, &[("photo", "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".as_slice())], &customer)
        .await;
    expect_field(r, 422, "photo[0]").await;
    // One good and one bad part: all or nothing.
    let r = app
        .upload(
            id,
            &[("photo", "ok.png", PNG), ("photo", "x.gif", b"GIF89a\x01\x00\x01\x00".as_slice())],
            &customer,
        )
        .await;
    expect_field(r, 422, "photo[1]").await;
    // Too large: 413 before it is all read.
    let mut big = PNG.to_vec();
    big.resize(5000, 0);
    let r = app.upload(id, &[("photo", "big.png", big.as_slice())], &customer).await;
    expect_problem(r, 413, "payload_too_large").await;
    // Not multipart, or no photo part.
    let r = app
        .post_json(&format!("/api/returns/{id}/photos"), &json!({}), Some(&customer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = app.upload(id, &[("other", "a.png", PNG)], &customer).await;
    expect_field(r, 422, "photo").await;
    assert_eq!(files(), 0, "nothing written for refused uploads");
    let rma: Value = app.get_json(&format!("/api/returns/{id}"), Some(&customer)).await;
    assert_eq!(rma["photos"], json!([]));

    // A path in the file name is ignored: stored under a random name inside the directory.
    let r = app.upload(id, &[("photo", "../../../../etc/passwd.png", PNG)], &customer).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let sha = v["photos"][0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);
    assert_eq!(files(), 1);
    let admin = app.token_for("admin").await;
    let audit: Value = app.get_json("/api/admin/audit?entity_type=rma&per_page=100", Some(&admin)).await;
    assert!(audit.to_string().contains(&sha), "the checksum is in the audit trail: {audit}");
    // Five at most.
    let four =
        [("photo", "1.png", PNG), ("photo", "2.png", PNG), ("photo", "3.png", PNG), ("photo", "4.png", PNG)];
    assert_eq!(app.upload(id, &four, &customer).await.status(), 201);
    let r = app.upload(id, &[("photo", "6.png", PNG)], &customer).await;
    expect_problem(r, 409, "too_many_photos").await;
    assert_eq!(files(), 5);
    // Staff cannot add photos to a customer's return.
    let support = app.token_for("support").await;
    let r = app.upload(id, &[("photo", "s.png", PNG)], &support).await;
    expect_problem(r, 403, "forbidden").await;
}

/// Fires `n` concurrent `process` requests at the same version; returns the statuses.
async fn hammer_process(app: &Arc<TestApp>, rma: i64, version: i64, n: usize) -> Vec<u16> {
    let finance = app.token_for("finance").await;
    let mut tasks = Vec::new();
    for _ in 0..n {
        let app = app.clone();
        let finance = finance.clone();
        tasks.push(tokio::spawn(async move {
            act(&app, &finance, rma, json!({"action": "process", "version": version})).await.status().as_u16()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_processing_of_every_disposition_has_exactly_one_effect() {
    let (app, customer) = setup("hammer").await;
    let app = Arc::new(app);
    let me: Value = app.get_json("/api/auth/me", Some(&customer)).await;
    let finance = app.token_for("finance").await;
    let warehouse = app.token_for("warehouse").await;
    let cases = [
        ("refund", json!({"disposition": "refund"})),
        ("store_credit", json!({"disposition": "store_credit", "amount_cents": 600})),
        ("replacement", json!({"disposition": "replacement"})),
        ("repair", json!({"disposition": "repair"})),
        ("reject", json!({"disposition": "reject", "note": "worn, not defective"})),
    ];
    for (i, (name, decide)) in cases.into_iter().enumerate() {
        let p = app.product(&format!("HAM-{i}"), 800, 10, "tools").await;
        let order = app.delivered_order(&customer, &[(p, 1)], 0, &format!("o-ham-{i}")).await;
        let id = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
        let decided = app.rma_to_disposition(&customer, id, "resellable", decide).await;
        let credit_before: Value = app.get_json("/api/credit", Some(&customer)).await;
        let stock_before = stock_of(&app, p).await;

        let statuses = hammer_process(&app, id, decided["version"].as_i64().unwrap(), 8).await;
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{name}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{name}: {statuses:?}");

        let after: Value = app.get_json(&format!("/api/returns/{id}"), Some(&finance)).await;
        let credit: Value = app.get_json("/api/credit", Some(&customer)).await;
        let credit_delta =
            credit["balance_cents"].as_i64().unwrap() - credit_before["balance_cents"].as_i64().unwrap();
        let receipt: Value =
            app.get_json(&format!("/api/orders/{}/receipt", order["id"]), Some(&customer)).await;
        let stock_delta = stock_of(&app, p).await - stock_before;
        match name {
            "refund" => {
                assert_eq!(after["stage"], "completed");
                assert_eq!(receipt["payments"][0]["refunded_cents"], 800);
                assert_eq!(receipt["order"]["state"], "refunded");
                assert_eq!((credit_delta, stock_delta), (0, 1));
            }
            "store_credit" => {
                assert_eq!(after["stage"], "completed");
                assert_eq!(credit_delta, 600);
                assert_eq!(receipt["order"]["state"], "partially_refunded");
                assert_eq!(receipt["payments"][0]["refunded_cents"], 0);
                assert_eq!(stock_delta, 1);
            }
            "replacement" => {
                assert_eq!(after["stage"], "completed");
                let replacement = after["replacement_order_id"].as_i64().unwrap();
                let o: Value = app.get_json(&format!("/api/orders/{replacement}"), Some(&customer)).await;
                assert_eq!((o["state"].as_str(), o["total_cents"].as_i64()), (Some("paid"), Some(0)));
                // One unit out for the replacement, one back from the resellable return.
                assert_eq!((credit_delta, stock_delta), (0, 0));
                let orders: Value = app.get_json("/api/orders?per_page=100", Some(&customer)).await;
                let zero =
                    orders["items"].as_array().unwrap().iter().filter(|o| o["total_cents"] == 0).count();
                assert_eq!(zero, 1, "one replacement order");
            }
            "repair" | "reject" => {
                assert_eq!(after["stage"], "processing");
                assert_eq!((credit_delta, stock_delta), (0, 0));
                assert_eq!(receipt["order"]["state"], "delivered");
                // Completing: two at once, one wins.
                let outcome = if name == "repair" { "shipped_back" } else { "disposed" };
                let body = json!({"action": "complete", "version": after["version"], "outcome": outcome,
                                  "carrier": "DHL", "tracking": format!("BACK{id}")});
                let (r1, r2) =
                    tokio::join!(act(&app, &warehouse, id, body.clone()), act(&app, &finance, id, body));
                let mut s = [r1.status().as_u16(), r2.status().as_u16()];
                s.sort();
                assert_eq!(s, [200, 409], "{name}");
                let done: Value = app.get_json(&format!("/api/returns/{id}"), Some(&finance)).await;
                assert_eq!(done["stage"], "completed");
                assert_eq!(done["outcome"], outcome);
            }
            _ => unreachable!(),
        }
    }
    let _ = me;
    // Money and stock reconcile; an effect recorded twice under another key would not.
    let report: Value = app.get_json("/api/staff/reconciliation", Some(&finance)).await;
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["return_discrepancies"], json!([]));
    let list: Value = app.get_json("/api/staff/returns?stage=completed&per_page=100", Some(&finance)).await;
    let some = list["items"][0]["id"].as_i64().unwrap();
    app.state
        .db
        .write(move |c| {
            retail_store::repo::returns::record_effect(
                c,
                &retail_store::repo::returns::NewEffect {
                    rma_id: some,
                    idempotency_key: "tampered",
                    kind: "store_credit",
                    amount_cents: 1,
                    product_id: None,
                    quantity: 0,
                    reference: None,
                },
                chrono::Utc::now(),
            )
        })
        .await
        .unwrap();
    let report: Value = app.get_json("/api/staff/reconciliation", Some(&finance)).await;
    assert_eq!(report["clean"], false);
    assert_eq!(report["return_discrepancies"], json!([some]));
}

#[tokio::test]
async fn a_refused_refund_stays_processing_with_the_error_and_a_retry_refunds_once() {
    let (app, customer) = setup("refused").await;
    let a = app.product("REF-A", 1500, 10, "tools").await;
    // Paid with the simulator's card whose first refund is refused.
    let order =
        app.delivered_order_paid_with("tok_refund_refused_once", &customer, &[(a, 1)], 0, "o-refused").await;
    let oid = order["id"].as_i64().unwrap();

    let id = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    let decided = app
        .rma_to_disposition(
            &customer,
            id,
            "resellable",
            json!({"disposition": "refund", "amount_cents": 1200}),
        )
        .await;
    let finance = app.token_for("finance").await;
    let stock_before = stock_of(&app, a).await;
    let r = act(&app, &finance, id, json!({"action": "process", "version": decided["version"]})).await;
    expect_problem(r, 502, "refund_refused").await;
    let failed: Value = app.get_json(&format!("/api/returns/{id}"), Some(&finance)).await;
    assert_eq!(failed["stage"], "processing");
    assert!(failed["last_error"].as_str().unwrap().contains("refused"), "{failed}");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["actions"], json!(["process"]));
    let receipt: Value = app.get_json(&format!("/api/orders/{oid}/receipt"), Some(&customer)).await;
    assert_eq!(receipt["payments"][0]["refunded_cents"], 0);
    assert_eq!(receipt["order"]["state"], "delivered");
    assert_eq!(stock_of(&app, a).await, stock_before, "nothing restocked before the money moved");

    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    assert_eq!(done["attempts"], 2);
    assert_eq!(done["last_error"], Value::Null);
    let receipt: Value = app.get_json(&format!("/api/orders/{oid}/receipt"), Some(&customer)).await;
    assert_eq!(receipt["payments"][0]["refunded_cents"], 1200);
    assert_eq!(receipt["order"]["state"], "partially_refunded");
    assert_eq!(stock_of(&app, a).await, stock_before + 1);
    let actions: Vec<&str> =
        done["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.ends_with(&["process", "process_failed", "process", "complete"]), "{actions:?}");
}

#[tokio::test]
async fn amounts_are_capped_by_the_net_and_a_replacement_without_stock_fails_cleanly() {
    let (app, customer) = setup("amounts").await;
    let a = app.product("AMT-A", 1000, 1, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 1)], 0, "o-amounts").await;
    assert_eq!(stock_of(&app, a).await, 0);
    let id = app.rma_create(&customer, &order, &[(0, 1)], "no_longer_needed").await["id"].as_i64().unwrap();
    app.rma_to_disposition(&customer, id, "damaged", json!({"disposition": "repair"})).await;
    // (A repair decided; start again with a fresh return for the money checks.)
    let b = app.product("AMT-B", 1000, 5, "tools").await;
    let order = app.delivered_order(&customer, &[(b, 1)], 0, "o-amounts-2").await;
    let id = app.rma_create(&customer, &order, &[(0, 1)], "no_longer_needed").await["id"].as_i64().unwrap();
    let support = app.token_for("support").await;
    let warehouse = app.token_for("warehouse").await;
    let finance = app.token_for("finance").await;
    app.rma_step(&support, id, "approve", json!({})).await;
    app.rma_step(&customer, id, "ship", json!({"carrier": "UPS", "tracking": "AMT2"})).await;
    app.rma_step(&warehouse, id, "receive", json!({})).await;
    app.rma_step(&warehouse, id, "start_inspection", json!({})).await;
    let inspected = app.rma_step(&warehouse, id, "inspect", json!({"condition": "damaged"})).await;
    // By choice and damaged: 50 % fee, so at most 5.00.
    assert_eq!(inspected["estimate"]["net"], 500);
    let v = inspected["version"].clone();
    let r = act(
        &app,
        &finance,
        id,
        json!({"action": "decide", "version": v, "disposition": "refund", "amount_cents": 501}),
    )
    .await;
    expect_field(r, 422, "amount_cents").await;
    let r = act(
        &app,
        &finance,
        id,
        json!({"action": "decide", "version": v, "disposition": "replacement", "amount_cents": 1}),
    )
    .await;
    expect_field(r, 422, "amount_cents").await;
    let r = act(&app, &finance, id, json!({"action": "decide", "version": v})).await;
    expect_field(r, 422, "disposition").await;
    // A replacement of a product now out of stock: a clean failure, retryable once restocked.
    let admin = app.token_for("admin").await;
    let r = app
        .post_json(
            &format!("/api/admin/products/{b}/stock"),
            &json!({"delta": -4, "reason": "sold elsewhere"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(stock_of(&app, b).await, 0);
    let decided = app.rma_step(&finance, id, "decide", json!({"disposition": "replacement"})).await;
    let r = act(&app, &finance, id, json!({"action": "process", "version": decided["version"]})).await;
    expect_problem(r, 409, "out_of_stock").await;
    let failed: Value = app.get_json(&format!("/api/returns/{id}"), Some(&finance)).await;
    assert_eq!(failed["stage"], "processing");
    assert!(failed["last_error"].as_str().unwrap().contains("stock"));
    assert_eq!(failed["replacement_order_id"], Value::Null);
    let orders: Value = app.get_json("/api/orders?per_page=100", Some(&customer)).await;
    assert!(
        orders["items"].as_array().unwrap().iter().all(|o| o["total_cents"] != 0),
        "no replacement order left behind"
    );
    let r = app
        .post_json(
            &format!("/api/admin/products/{b}/stock"),
            &json!({"delta": 1, "reason": "restock"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    assert!(done["replacement_order_id"].is_i64());
    assert_eq!(stock_of(&app, b).await, 0, "the unit went to the replacement; damaged goods stay out");
}

#[tokio::test]
async fn queues_show_each_team_its_work_oldest_first_with_targets() {
    let app = spawn_with(|s| {
        s.returns.sla_hours.insert("validating".into(), 0);
    })
    .await;
    app.seed().await;
    let customer = app.register("queues@retail.test").await.access_token;
    let a = app.product("Q-A", 300, 10, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 3)], 0, "o-queues").await;
    let first = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    let second = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let support = app.token_for("support").await;
    let q: Value = app.get_json("/api/staff/returns?queue=support&q=queues%40retail", Some(&support)).await;
    let ids: Vec<i64> = q["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [first, second], "oldest first");
    assert!(q["items"][0]["breached"].as_bool().unwrap(), "a 0-hour target is breached: {q}");
    assert_eq!(q["items"][0]["sla_secs"], 0);
    let breached: Value = app
        .get_json("/api/staff/returns?queue=support&breached=true&q=queues%40retail", Some(&support))
        .await;
    assert_eq!(breached["pagination"]["total"], 2);
    // Search by return number; a stage outside the queue matches nothing.
    let one: Value =
        app.get_json(&format!("/api/staff/returns?q={second}&queue=support"), Some(&support)).await;
    assert!(one["items"].as_array().unwrap().iter().any(|i| i["id"] == second));
    let none: Value = app.get_json("/api/staff/returns?queue=support&stage=shipping", Some(&support)).await;
    assert_eq!(none["pagination"]["total"], 0);
    app.rma_step(&support, first, "approve", json!({})).await;
    app.rma_step(&customer, first, "ship", json!({"carrier": "UPS", "tracking": "Q1"})).await;
    let warehouse = app.token_for("warehouse").await;
    let w: Value =
        app.get_json("/api/staff/returns?queue=warehouse&q=queues%40retail", Some(&warehouse)).await;
    assert_eq!(w["items"][0]["id"], first);
    assert_eq!(w["items"][0]["stage"], "shipping");
    let r = app.get("/api/staff/returns?queue=nobody", Some(&support)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let figures: Value = app.get_json("/api/staff/returns/figures", Some(&warehouse)).await;
    let validating =
        figures["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "validating").unwrap().clone();
    assert!(validating["median_secs"].as_i64().unwrap() >= 1, "{figures}");
}

#[tokio::test]
async fn the_seed_gives_every_team_work_and_the_decided_demo_return_processes() {
    let app = spawn_app().await;
    app.seed().await;
    app.seed().await;
    let finance = app.token_for("finance").await;
    let count = |q: &'static str| {
        let app = &app;
        let finance = finance.clone();
        async move {
            let v: Value = app.get_json(&format!("/api/staff/returns?queue={q}"), Some(&finance)).await;
            v["pagination"]["total"].as_i64().unwrap()
        }
    };
    assert_eq!(count("support").await, 1);
    assert_eq!(count("warehouse").await, 2);
    assert_eq!(count("finance").await, 2);
    let all: Value = app.get_json("/api/staff/returns?per_page=100", Some(&finance)).await;
    assert_eq!(all["pagination"]["total"], 5, "seeding twice creates them once");
    let decided = all["items"].as_array().unwrap().iter().find(|r| r["stage"] == "disposition").unwrap();
    let id = decided["id"].as_i64().unwrap();
    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    assert!(done["refund"]["card_cents"].as_i64().unwrap() > 0);
    let order: Value = app.get_json(&format!("/api/orders/{}", done["order_id"]), Some(&finance)).await;
    assert_eq!(order["state"], "refunded");
    // The support queue's demo return is past its 24-hour target.
    let support: Value = app.get_json("/api/staff/returns?queue=support", Some(&finance)).await;
    assert_eq!(support["items"][0]["breached"], true);
}

#[tokio::test]
async fn a_product_marked_not_returnable_cannot_be_returned_until_the_admin_allows_it() {
    let (app, customer) = setup("returnable").await;
    let admin = app.token_for("admin").await;
    let body = json!({"sku": "NR-1", "name": "Gift card", "price_cents": 2000, "currency": "EUR",
                      "category": "gifts", "initial_stock": 5, "returnable": false});
    let r = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["returnable"], false);
    let order = app.delivered_order(&customer, &[(p["id"].as_i64().unwrap(), 1)], 0, "o-nr").await;
    let refused = app.rma_create(&customer, &order, &[(0, 1)], "no_longer_needed").await;
    assert_eq!(refused["stage"], "rejected");
    assert_eq!(refused["problems"][0]["code"], "not_returnable");
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/products/{}", p["id"]),
            &json!({"version": p["version"], "returnable": true}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ok = app.rma_create(&customer, &order, &[(0, 1)], "no_longer_needed").await;
    assert_eq!(ok["stage"], "validating");
    // By choice and resellable: the default 15 % restocking fee.
    assert_eq!(ok["estimate"], json!({"gross": 2000, "fee_bps": 1500, "fee": 300, "net": 1700}));
}

#[tokio::test]
async fn the_worker_cancels_an_approved_return_whose_parcel_never_came() {
    let (app, customer) = setup("unsent").await;
    let a = app.product("UNS-A", 500, 5, "tools").await;
    let order = app.delivered_order(&customer, &[(a, 1)], 0, "o-unsent").await;
    let id = app.rma_create(&customer, &order, &[(0, 1)], "defective").await["id"].as_i64().unwrap();
    let support = app.token_for("support").await;
    app.rma_step(&support, id, "approve", json!({})).await;
    // A pass now leaves it; a pass 31 days on cancels it (30 days by default), once.
    retail_server::worker::run_once(&app.state.db).await.unwrap();
    let r: Value = app.get_json(&format!("/api/returns/{id}"), Some(&customer)).await;
    assert_eq!(r["stage"], "approved");
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    let pass = retail_server::worker::run_once_at(&app.state.db, later).await.unwrap();
    assert!(pass.returns_expired >= 1);
    let r: Value = app.get_json(&format!("/api/returns/{id}"), Some(&customer)).await;
    assert_eq!(r["stage"], "cancelled");
    let last = r["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["actor_role"].as_str()), (Some("cancel"), Some("system")));
    assert_eq!(retail_server::worker::run_once_at(&app.state.db, later).await.unwrap().returns_expired, 0);
    // Its units are free again.
    let again = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    assert_eq!(again["stage"], "validating");
}
