use retail_tests::{expect_problem, spawn_app};

#[tokio::test]
async fn health_and_ready_answer_200() {
    let app = spawn_app().await;
    let r = app.get("/health", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    let r = app.get("/ready", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!((body["database"].as_bool(), body["migrations"].as_bool()), (Some(true), Some(true)));
}

#[tokio::test]
async fn metrics_label_requests_by_route_template_not_raw_path() {
    let app = spawn_app().await;
    app.seed().await;
    for id in [1, 2, 3] {
        app.get(&format!("/api/products/{id}"), None).send().await.unwrap();
    }
    let text = app.get("/metrics", None).send().await.unwrap().text().await.unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("retail_http_requests_total") && l.contains("route=\"/api/products/{id}\""))
        .unwrap_or_else(|| panic!("no templated route in:\n{text}"));
    assert!(line.contains("status=\"200\"") && line.ends_with(" 3"), "{line}");
    assert!(!text.contains("route=\"/api/products/1\""));
    assert!(text.contains("retail_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn a_client_request_id_is_echoed_and_one_is_made_up_otherwise() {
    let app = spawn_app().await;
    let r = app.get("/api/hello", None).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app.get("/api/hello", None).send().await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "uuid expected, got {id}");
    // a hostile header is replaced, not echoed
    let r = app.get("/api/hello", None).header("x-request-id", "a b<script>").send().await.unwrap();
    assert_ne!(r.headers()["x-request-id"], "a b<script>");
}

#[tokio::test]
async fn problems_carry_the_request_id_of_their_request() {
    let app = spawn_app().await;
    let r = app.get("/api/nowhere", None).header("x-request-id", "trace-me-1").send().await.unwrap();
    let p = expect_problem(r, 404, "not_found").await;
    assert_eq!(p.request_id.as_deref(), Some("trace-me-1"));
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_authenticated_answers_are_not_stored() {
    let app = spawn_app().await;
    app.seed().await;
    let r = app.get("/api/products", None).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let t = app.token_for("customer").await;
    let r = app.get("/api/auth/me", Some(&t)).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn swagger_ui_is_served_offline_under_api_docs() {
    let app = spawn_app().await;
    let r = app.get("/api/docs", None).send().await.unwrap();
    assert!(r.status().is_redirection());
    let r = app.get("/api/docs/", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("cdn."), "Swagger UI must not load from a CDN");
    let r = app.get("/api/docs/swagger-initializer.js", None).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("/api/openapi.json"));
}

#[tokio::test]
async fn seeding_twice_creates_nothing_the_second_time() {
    let app = spawn_app().await;
    let first = retail_server::seed::run(&app.state.db).await.unwrap();
    assert_eq!(first.accounts_created, 5);
    assert_eq!(first.products_created, retail_server::seed::product_count());
    let second = retail_server::seed::run(&app.state.db).await.unwrap();
    assert_eq!((second.accounts_created, second.products_created), (0, 0));
}

#[tokio::test]
async fn the_worker_purges_dead_sessions_and_finds_the_books_balanced() {
    let app = spawn_app().await;
    app.seed().await;
    let t = app.register("short-lived@example.com").await;
    app.client.post(app.url("/api/auth/logout")).bearer_auth(&t.access_token).send().await.unwrap();
    let live = app.register("still-here@example.com").await;
    let report = retail_server::worker::run_once(&app.state.db).await.unwrap();
    // revoked just now: kept for a week for forensics, then purged
    assert_eq!(report.sessions_purged, 0);
    assert_eq!(report.stock_discrepancies, 0);
    let later = chrono::Utc::now() + chrono::Duration::days(8);
    let report = retail_server::worker::run_once_at(&app.state.db, later).await.unwrap();
    assert_eq!(report.sessions_purged, 1);
    let r = app.get("/api/auth/me", Some(&live.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 200, "live sessions survive the purge");
}

#[tokio::test]
async fn a_planted_mismatch_is_caught_by_the_scheduled_reconciliation_and_shows_in_the_metrics() {
    let app = retail_tests::spawn_with(|s| s.db.reconcile_every_secs = 0).await;
    app.seed().await;
    assert_eq!(retail_server::startup::reconcile_now(&app.state).await.unwrap(), 0);
    let metrics = app.get("/metrics", None).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("reconciliation_mismatches{check=\"returns\"} 0"), "{metrics}");
    assert!(metrics.contains("reconciliation_last_run_timestamp_seconds"));
    // A refund recorded on a return that was never processed (the seed's first return).
    app.state
        .db
        .write(|c| {
            retail_store::repo::returns::record_effect(
                c,
                &retail_store::repo::returns::NewEffect {
                    rma_id: 1,
                    idempotency_key: "planted",
                    kind: "refund_card",
                    amount_cents: 100,
                    product_id: None,
                    quantity: 0,
                    reference: None,
                },
                chrono::Utc::now(),
            )
        })
        .await
        .unwrap();
    assert_eq!(retail_server::startup::reconcile_now(&app.state).await.unwrap(), 1);
    let metrics = app.get("/metrics", None).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("reconciliation_mismatches{check=\"returns\"} 1"), "{metrics}");
    assert!(metrics.contains("reconciliation_mismatches{check=\"stock\"} 0"));
}
