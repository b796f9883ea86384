//! Operations: the business series of `/metrics` move when their events happen, and the
//! monitoring API (snapshot, SLOs, recent logs) reports what the server just did.

use retail_api_types::{LogEvents, LogLevel, MonitorWindow, MonitoringSnapshot};
use retail_tests::{TestApp, expect_problem, metric, spawn_app};
use serde_json::{Value, json};

async fn shop() -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    (app, admin)
}

/// The values of `series` in two scrapes.
fn delta(before: &str, after: &str, series: &str) -> f64 {
    metric(after, series).unwrap_or(0.0) - metric(before, series).unwrap_or(0.0)
}

#[tokio::test]
async fn each_business_series_moves_when_its_event_happens() {
    let (app, _admin) = shop().await;
    let p = app.product("MON-1", 2_000, 20, "monitoring").await;
    let customer = app.register("mon-biz@retail.test").await;
    let (token, user) = (customer.access_token, customer.user.id.get());

    // store credit granted by finance
    let before = app.metrics().await;
    let finance = app.token_for("finance").await;
    let r = app
        .post_json(
            "/api/staff/credit",
            &json!({"user_id": user, "amount_cents": 700, "reason": "goodwill"}),
            Some(&finance),
        )
        .header("Idempotency-Key", "mon-grant-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let after = app.metrics().await;
    assert_eq!(delta(&before, &after, r#"retail_store_credit_cents_total{direction="granted"}"#), 700.0);

    // an order: counted with its total, and the credit it spent
    let order = app.delivered_order(&token, &[(p, 2)], 500, "mon-order-1").await;
    let total = order["total_cents"].as_f64().unwrap();
    let after_order = app.metrics().await;
    assert_eq!(delta(&after, &after_order, "retail_orders_total"), 1.0);
    assert_eq!(delta(&after, &after_order, "retail_revenue_cents_total"), total);
    assert_eq!(delta(&after, &after_order, r#"retail_store_credit_cents_total{direction="spent"}"#), 500.0);
    // a replayed checkout is not a second order
    let replay = app
        .post_json("/api/checkout", &json!({"card_token": "tok_visa", "use_credit_cents": 500}), Some(&token))
        .header("Idempotency-Key", "mon-order-1")
        .send()
        .await
        .unwrap();
    assert!(replay.status().is_success());
    assert_eq!(app.metric("retail_orders_total").await, metric(&after_order, "retail_orders_total").unwrap());

    // a return through every stage, refunded to card and credit
    let rma = app.rma_create(&token, &order, &[(0, 2)], "defective").await;
    let id = rma["id"].as_i64().unwrap();
    let created = app.metrics().await;
    for stage in ["submitted", "validating"] {
        let series = format!(r#"retail_rma_stage_entered_total{{stage="{stage}"}}"#);
        assert_eq!(delta(&after_order, &created, &series), 1.0, "{stage}");
    }
    let support_queue = r#"retail_return_queue_length{team="support"}"#;
    assert_eq!(delta(&after_order, &created, support_queue), 1.0, "waits in support's queue");
    app.rma_to_disposition(&token, id, "resellable", json!({"disposition": "refund"})).await;
    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    let processed = app.metrics().await;
    for stage in [
        "approved",
        "shipping",
        "received",
        "inspecting",
        "inspected",
        "disposition",
        "processing",
        "completed",
    ] {
        let series = format!(r#"retail_rma_stage_entered_total{{stage="{stage}"}}"#);
        assert_eq!(delta(&created, &processed, &series), 1.0, "{stage}");
    }
    assert_eq!(delta(&created, &processed, support_queue), -1.0);
    let (card, credit) =
        (done["refund"]["card_cents"].as_f64().unwrap(), done["refund"]["credit_cents"].as_f64().unwrap());
    assert!(card > 0.0 && credit > 0.0, "{done}");
    assert_eq!(delta(&created, &processed, r#"retail_refunds_total{method="card"}"#), 1.0);
    assert_eq!(delta(&created, &processed, r#"retail_refunds_total{method="credit"}"#), 1.0);
    assert_eq!(delta(&created, &processed, r#"retail_refunded_cents_total{method="card"}"#), card);
    assert_eq!(delta(&created, &processed, r#"retail_refunded_cents_total{method="credit"}"#), credit);
}

#[tokio::test]
async fn the_worker_heartbeat_and_pool_gauges_are_exported() {
    let (app, _admin) = shop().await;
    let text = app.metrics().await;
    assert_eq!(
        metric(&text, "retail_worker_heartbeat_age_seconds"),
        Some(f64::INFINITY),
        "no worker beat yet"
    );
    assert!(metric(&text, r#"retail_db_pool_connections{state="in_use"}"#).is_some());
    assert!(metric(&text, r#"retail_job_backlog{queue="mail"}"#).is_some());
    assert!(metric(&text, "retail_flash_open_reservations").is_some());
    assert!(metric(&text, "retail_start_time_seconds").unwrap() > 1.7e9);
    for slo in ["availability", "latency", "success_rate", "stock_consistency"] {
        assert!(
            metric(&text, &format!(r#"retail_slo_error_budget_remaining{{slo="{slo}"}}"#)).is_some(),
            "{slo}"
        );
    }
    retail_server::worker::beat(&app.state.db, "test-worker", &retail_server::worker::PassReport::default())
        .await;
    let age = app.metric("retail_worker_heartbeat_age_seconds").await;
    assert!((0.0..5.0).contains(&age), "{age}");
}

#[tokio::test]
async fn the_snapshot_reports_the_orders_traffic_slos_and_worker() {
    let (app, admin) = shop().await;
    let p = app.product("MON-2", 1_500, 20, "monitoring").await;
    let token = app.register("mon-snap@retail.test").await.access_token;
    let before: MonitoringSnapshot = app.get_json("/api/admin/monitoring", Some(&admin)).await;
    let order = app.paid_order_with("tok_visa", &token, &[(p, 1)], 0, "mon-snap-1").await;
    let r = app.get("/api/products/999999", None).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let s: MonitoringSnapshot = app.get_json("/api/admin/monitoring?window=1m", Some(&admin)).await;
    assert_eq!(s.window, MonitorWindow::OneMinute);
    assert_eq!(s.cards.orders_today, before.cards.orders_today + 1);
    assert_eq!(
        s.cards.revenue_today_cents,
        before.cards.revenue_today_cents + order["total_cents"].as_i64().unwrap()
    );
    assert_eq!(s.cards.breaker, "closed");
    assert!(s.cards.p95_ms.is_some() && s.cards.rate_per_sec > 0.0);
    assert!(s.cards.rmas_open >= 1, "the seeded returns are open");
    let checkout =
        s.endpoints.iter().find(|e| e.route == "/api/checkout" && e.method == "POST").expect("checkout row");
    assert_eq!(checkout.requests, 1);
    assert_eq!(checkout.error_rate, 0.0);
    assert!(
        checkout.p50_ms > 0.0 && checkout.p50_ms <= checkout.p95_ms && checkout.p95_ms <= checkout.p99_ms
    );
    let missing = s.endpoints.iter().find(|e| e.route == "/api/products/{id}").expect("product row");
    assert_eq!(missing.client_error_rate, 1.0);
    assert_eq!((s.step_secs, s.series.len()), (10, 6));
    assert!(s.series.iter().map(|p| p.requests).sum::<u64>() >= 3);
    let names: Vec<&str> = s.slos.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["availability", "latency", "success_rate", "stock_consistency"]);
    let success = &s.slos[2];
    assert!(success.met && success.total >= 3 && success.good == success.total, "{success:?}");
    assert!(s.slos[0].total >= 1, "the readiness probe ran at startup");
    assert!(s.reconciliation.as_ref().is_some_and(|r| r.mismatches == 0), "startup reconciliation is clean");
    assert_eq!(s.returns.stages.len(), 12);
    assert!(!s.worker.healthy && s.worker.last_heartbeat.is_none());
    assert_eq!(s.worker.backlog[0].queue, "mail");

    retail_server::worker::beat(&app.state.db, "test-worker", &retail_server::worker::PassReport::default())
        .await;
    let s: MonitoringSnapshot = app.get_json("/api/admin/monitoring?window=1h", Some(&admin)).await;
    assert!(s.worker.healthy && s.worker.heartbeat_age_secs.is_some_and(|a| a < 5));
    assert_eq!((s.step_secs, s.series.len()), (60, 60));

    let r = app.get("/api/admin/monitoring?window=2d", Some(&admin)).send().await.unwrap();
    expect_problem(r, 400, "invalid_query").await;
    let r = app.get("/api/admin/monitoring", Some(&token)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
}

#[tokio::test]
async fn recent_logs_are_filtered_by_request_route_and_level() {
    let (app, admin) = shop().await;
    let customer = app.register("mon-logs@retail.test").await;
    let r = app
        .get("/api/orders", Some(&customer.access_token))
        .header("X-Request-Id", "mon-logs-req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r =
        app.get("/api/products/424242", None).header("X-Request-Id", "mon-logs-req-2").send().await.unwrap();
    assert_eq!(r.status(), 404);

    let logs: LogEvents =
        app.get_json("/api/admin/monitoring/logs?request_id=mon-logs-req-1", Some(&admin)).await;
    assert!(logs.capacity >= 1000);
    let line = logs.items.iter().find(|e| e.message == "request").unwrap_or_else(|| panic!("{logs:?}"));
    assert!(logs.items.iter().all(|e| e.request_id.as_deref() == Some("mon-logs-req-1")));
    assert_eq!(line.route.as_deref(), Some("/api/orders"));
    assert_eq!(line.method.as_deref(), Some("GET"));
    assert_eq!(line.status, Some(200));
    assert_eq!(line.user_id, Some(customer.user.id.get()), "the signed-in user is on the line");
    assert!(line.latency_ms.is_some_and(|ms| ms >= 0.0));

    let by_route: LogEvents =
        app.get_json("/api/admin/monitoring/logs?route=/api/products/%7Bid%7D&limit=500", Some(&admin)).await;
    assert!(
        by_route
            .items
            .iter()
            .any(|e| e.request_id.as_deref() == Some("mon-logs-req-2") && e.status == Some(404))
    );
    assert!(by_route.items.iter().all(|e| e.route.as_deref() == Some("/api/products/{id}")));

    let errors: LogEvents =
        app.get_json("/api/admin/monitoring/logs?level=error&request_id=mon-logs-req-1", Some(&admin)).await;
    assert!(errors.items.is_empty(), "{errors:?}");
    assert!(errors.items.iter().all(|e| e.level >= LogLevel::Error));

    let limited: Value = app.get_json("/api/admin/monitoring/logs?limit=1", Some(&admin)).await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    for bad in ["limit=0", "limit=501", "level=loud", "request_id=a%20b"] {
        let r = app.get(&format!("/api/admin/monitoring/logs?{bad}"), Some(&admin)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}
