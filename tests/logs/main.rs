//! What production logs, read back: every auth and payment path is driven against the real
//! server while the production JSON layer writes to memory, and the log (and the monitoring
//! API's log buffer) must then hold none of the passwords, tokens, card tokens or partner API
//! keys sent, while
//! still carrying the request lines (request ID, route, status, latency, user ID).
//!
//! A test binary of its own: it installs the global subscriber, which the other binaries'
//! harness does too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use retail_api_types::TokenResponse;
use retail_tests::{TestApp, spawn_with};
use serde_json::{Value, json};

/// The log, in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const PASSWORD: &str = "Correct-Horse-Battery-Staple-91";
const WRONG_PASSWORD: &str = "Wrong-Horse-Battery-Staple-17";
const JWT_SECRET: &str = "log-test-secret-that-is-at-least-32-bytes-long!";
const ODD_CARD: &str = "tok_live_4242424242424242_SECRETCARD";

async fn post(
    app: &TestApp,
    path: &str,
    body: &Value,
    token: Option<&str>,
    key: Option<&str>,
) -> reqwest::Response {
    let mut rb = app.post_json(path, body, token);
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    rb.send().await.unwrap()
}

async fn tokens(r: reqwest::Response, want: StatusCode) -> TokenResponse {
    assert_eq!(r.status(), want);
    r.json().await.unwrap()
}

#[tokio::test]
async fn no_secret_reaches_the_log_on_any_auth_or_payment_path() {
    let log = Captured::default();
    let writer = log.clone();
    assert!(retail_server::telemetry::init_json_for_tests(move || writer.clone()), "first subscriber");
    let app = spawn_with(|s| s.auth.jwt_secret = Some(JWT_SECRET.to_owned().into())).await;
    app.seed().await;
    let mut secrets: Vec<String> =
        vec![PASSWORD.into(), WRONG_PASSWORD.into(), JWT_SECRET.into(), ODD_CARD.into()];

    // accounts: register, a wrong and a right password, refresh, a forged token, logout, a
    // spent refresh token
    let email = "log-secrets@retail.test";
    let reg =
        post(&app, "/api/auth/register", &json!({"email": email, "password": PASSWORD}), None, None).await;
    let reg = tokens(reg, StatusCode::CREATED).await;
    let r =
        post(&app, "/api/auth/login", &json!({"email": email, "password": WRONG_PASSWORD}), None, None).await;
    assert_eq!(r.status(), 401);
    let body = json!({"email": email, "password": PASSWORD});
    let login =
        tokens(post(&app, "/api/auth/login", &body, None, Some("login-key-1")).await, StatusCode::OK).await;
    let refreshed =
        post(&app, "/api/auth/refresh", &json!({"refresh_token": login.refresh_token}), None, None).await;
    let refreshed = tokens(refreshed, StatusCode::OK).await;
    let forged = format!("{}x", refreshed.access_token);
    let r = app.get("/api/auth/me", Some(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app.get("/api/auth/me", Some(&refreshed.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    for t in [&reg, &login, &refreshed] {
        secrets.push(t.access_token.clone());
        secrets.push(t.refresh_token.clone());
    }

    // payments: approved, declined, failing and unknown cards, a refund
    let customer = refreshed.access_token.clone();
    let p = app.product("LOG-1", 1_000, 50, "logs").await;
    for (card, key) in [("tok_decline", "pay-1"), ("tok_insufficient_funds", "pay-2"), (ODD_CARD, "pay-3")] {
        let r = app.client.delete(app.url("/api/cart")).bearer_auth(&customer).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r =
            post(&app, "/api/cart/lines", &json!({"product_id": p, "quantity": 1}), Some(&customer), None)
                .await;
        assert_eq!(r.status(), 200);
        let r = post(&app, "/api/checkout", &json!({"card_token": card}), Some(&customer), Some(key)).await;
        assert!(r.status().is_client_error() || r.status().is_server_error(), "{card}: {}", r.status());
    }
    let order = app.delivered_order(&customer, &[(p, 2)], 0, "pay-ok").await;
    let rma = app.rma_create(&customer, &order, &[(0, 1)], "defective").await;
    let id = rma["id"].as_i64().unwrap();
    app.rma_to_disposition(&customer, id, "resellable", json!({"disposition": "refund"})).await;
    let finance = app.token_for("finance").await;
    let done = app.rma_step(&finance, id, "process", json!({})).await;
    assert_eq!(done["stage"], "completed");
    // a failing gateway (last: it may open the breaker)
    let r =
        post(&app, "/api/cart/lines", &json!({"product_id": p, "quantity": 1}), Some(&customer), None).await;
    assert_eq!(r.status(), 200);
    let r = post(&app, "/api/checkout", &json!({"card_token": "tok_error"}), Some(&customer), Some("pay-4"))
        .await;
    assert!(r.status().is_server_error(), "{}", r.status());
    let r = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&customer)
        .json(&json!({"refresh_token": refreshed.refresh_token}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = post(&app, "/api/auth/refresh", &json!({"refresh_token": login.refresh_token}), None, None).await;
    assert_eq!(r.status(), 401, "a spent refresh token");

    // partners: onboarding, a feed pushed with the key, a rotation, a bad key
    let admin = app.token_for("admin").await;
    let created: Value = app
        .post_json(
            "/api/admin/partners",
            &json!({"name": "Log Supplier", "contact_email": "log@supplier.test"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["api_key"].as_str().unwrap().to_owned();
    let id = created["partner"]["id"].as_i64().unwrap();
    let push = |k: String| {
        app.client
            .post(app.url("/api/partner/feeds"))
            .header("X-API-Key", k)
            .header("content-type", "text/csv")
            .body("sku,name,price\nLOG-1,Log thing,1.00\n")
            .send()
    };
    assert_eq!(push(key.clone()).await.unwrap().status(), 200);
    let rotated: Value = app
        .post_json(&format!("/api/admin/partners/{id}/keys"), &json!({}), Some(&admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_key = rotated["api_key"].as_str().unwrap().to_owned();
    assert_eq!(push(new_key.clone()).await.unwrap().status(), 200);
    let wrong = format!("{}x", &new_key[..new_key.len() - 1]);
    assert_eq!(push(wrong.clone()).await.unwrap().status(), 401);
    secrets.extend([key, new_key, wrong]);

    let text = log.text();
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret is in the log: {s}");
    }
    assert!(!text.contains("tok_visa") && !text.contains("tok_decline"), "card tokens stay out");
    assert!(!text.to_ascii_lowercase().contains("bearer "), "no Authorization header");

    // ...and the request lines are there, JSON with what an operator needs
    let lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect();
    let checkout = lines
        .iter()
        .find(|l| l["span"]["http.route"] == "/api/checkout" && l["span"]["http.status_code"] == 201)
        .unwrap_or_else(|| panic!("no request line for the checkout in\n{text}"));
    for field in ["request_id", "http.method", "user_id"] {
        assert!(checkout["span"].get(field).is_some(), "{field} missing: {checkout}");
    }
    assert!(checkout["timestamp"].is_string() && checkout["level"] == "INFO", "{checkout}");
    assert!(checkout["fields"].get("time.busy").is_some(), "latency: {checkout}");

    // the monitoring API's buffer holds the same events, just as clean
    let admin = app.token_for("admin").await;
    let buffered = app.get("/api/admin/monitoring/logs?limit=500", Some(&admin)).send().await.unwrap();
    let buffered = buffered.text().await.unwrap();
    assert!(buffered.contains("/api/checkout"));
    for s in &secrets {
        assert!(!buffered.contains(s.as_str()), "a secret is in the log buffer: {s}");
    }
}
