//! Test harness: the real server on a random port with its own temporary database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod smtp;

use std::path::PathBuf;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use retail_api_types::{Problem, TokenResponse};
use retail_server::config::Settings;
use retail_server::seed::DEMO_ACCOUNTS;
use retail_server::state::State;
use retail_server::{Application, telemetry};
use serde_json::Value;

/// A running server and a client for it. The temp dir (database, logs) lives as long as this.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Client that does not follow redirects.
    pub client: Client,
    /// The server's state (database handle).
    pub state: State,
    /// Data directory.
    pub dir: tempfile::TempDir,
}

/// Settings for tests: port 0, temp data dir, no SPA, quiet logs, generous rate limits.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        dist_dir: dir.join("no-spa"),
        http_workers: Some(2),
        ..Settings::default()
    };
    s.log.to_file = false;
    s.log.to_stdout = false;
    s.limits.auth_per_ip_burst = 10_000;
    s.limits.login_per_account_burst = 10_000;
    s.limits.api_per_ip_burst = 0;
    s.monitoring.scrape_cache_ms = 0; // tests read /metrics right after the events
    s
}

/// Starts a server with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts a server with adjusted test settings.
pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    telemetry::init_for_tests();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { base, client, state, dir }
}

/// Path of the repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

impl TestApp {
    /// Creates the demo accounts and products.
    pub async fn seed(&self) {
        retail_server::seed::run(&self.state.db).await.unwrap();
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET, optionally with a bearer token.
    pub fn get(&self, path: &str, token: Option<&str>) -> RequestBuilder {
        auth(self.client.get(self.url(path)), token)
    }

    /// GET a JSON body, asserting 200.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: Option<&str>) -> T {
        let res = self.get(path, token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    /// A JSON request with `method`.
    pub fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> RequestBuilder {
        auth(self.client.request(method, self.url(path)).json(body), token)
    }

    /// POST JSON.
    pub fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> RequestBuilder {
        self.send_json(reqwest::Method::POST, path, body, token)
    }

    /// Logs in and returns the tokens (panics unless 200).
    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        let res = self
            .post_json("/api/auth/login", &serde_json::json!({"email": email, "password": password}), None)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        res.json().await.unwrap()
    }

    /// Access token of the seeded demo account with this role name.
    pub async fn token_for(&self, role: &str) -> String {
        let a = DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == role).unwrap();
        self.login(a.email, a.password).await.access_token
    }

    /// Registers a customer and returns the tokens (panics unless 201).
    pub async fn register(&self, email: &str) -> TokenResponse {
        let res = self
            .post_json(
                "/api/auth/register",
                &serde_json::json!({"email": email, "password": "a long enough pass 1"}),
                None,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        res.json().await.unwrap()
    }
}

/// A 1x1 PNG (valid signature and chunks), for photo uploads.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00,
    0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A `multipart/form-data` body of file parts `(field name, file name, bytes)`: the
/// content type (with its boundary) and the body.
pub fn multipart(parts: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "retail-test-boundary-7d2f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// A new product (as the admin): its ID.
    pub async fn product(&self, sku: &str, price_cents: i64, stock: i64, category: &str) -> i64 {
        let admin = self.token_for("admin").await;
        let body = serde_json::json!({"sku": sku, "name": format!("Product {sku}"), "price_cents": price_cents,
                                      "currency": "EUR", "category": category, "initial_stock": stock});
        let r = self.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "create product {sku}");
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// `token`'s order of `lines` (product ID, units), paid by card (and `credit_cents` of
    /// store credit), shipped and delivered by the admin.
    pub async fn delivered_order(
        &self,
        token: &str,
        lines: &[(i64, i64)],
        credit_cents: i64,
        key: &str,
    ) -> Value {
        self.delivered_order_paid_with("tok_visa", token, lines, credit_cents, key).await
    }

    /// `token`'s order of `lines` (product ID, units) from a fresh cart, paid with the
    /// simulator's `card_token` (and `credit_cents` of store credit) under `key`.
    pub async fn paid_order_with(
        &self,
        card_token: &str,
        token: &str,
        lines: &[(i64, i64)],
        credit_cents: i64,
        key: &str,
    ) -> Value {
        let r = self.client.delete(self.url("/api/cart")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        for (product, qty) in lines {
            let r = self
                .post_json(
                    "/api/cart/lines",
                    &serde_json::json!({"product_id": product, "quantity": qty}),
                    Some(token),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "add to cart");
        }
        let r = self
            .post_json(
                "/api/checkout",
                &serde_json::json!({"card_token": card_token, "use_credit_cents": credit_cents}),
                Some(token),
            )
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "checkout");
        let order: Value = r.json().await.unwrap();
        order
    }

    /// [`TestApp::delivered_order`] paid with the simulator's `card_token`.
    pub async fn delivered_order_paid_with(
        &self,
        card_token: &str,
        token: &str,
        lines: &[(i64, i64)],
        credit_cents: i64,
        key: &str,
    ) -> Value {
        let order = self.paid_order_with(card_token, token, lines, credit_cents, key).await;
        let id = order["id"].as_i64().unwrap();
        let admin = self.token_for("admin").await;
        let ship = serde_json::json!({"carrier": "DHL", "tracking": format!("T{id}")});
        let r = self
            .post_json(&format!("/api/staff/orders/{id}/ship"), &ship, Some(&admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "ship");
        let r = self
            .client
            .post(self.url(&format!("/api/staff/orders/{id}/deliver")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "deliver");
        r.json().await.unwrap()
    }

    /// Performs return `action` with `extra` fields as `token`, on the version the return has
    /// now; asserts 200 and returns the return.
    pub async fn rma_step(&self, token: &str, rma: i64, action: &str, extra: Value) -> Value {
        let now: Value = self.get_json(&format!("/api/returns/{rma}"), Some(token)).await;
        let mut body = serde_json::json!({"action": action, "version": now["version"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r =
            self.post_json(&format!("/api/returns/{rma}/actions"), &body, Some(token)).send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action}: {v}");
        v
    }

    /// Requests a return of `lines` (position in the order, units) of `order` as `token`;
    /// asserts 201 and returns the return.
    pub async fn rma_create(
        &self,
        token: &str,
        order: &Value,
        lines: &[(usize, i64)],
        reason: &str,
    ) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(i, q)| serde_json::json!({"order_line_id": order["lines"][*i]["id"], "quantity": q}))
            .collect();
        let body = serde_json::json!({"order_id": order["id"], "lines": lines, "reason": reason, "description": "it broke"});
        let r = self.post_json("/api/returns", &body, Some(token)).send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    /// Drives a fresh return to its disposition (decided with `decide`, not processed):
    /// approved by support, shipped by `customer`, received and inspected in `condition` by the
    /// warehouse, decided by finance. Returns the return.
    pub async fn rma_to_disposition(
        &self,
        customer: &str,
        rma: i64,
        condition: &str,
        decide: Value,
    ) -> Value {
        let support = self.token_for("support").await;
        let warehouse = self.token_for("warehouse").await;
        let finance = self.token_for("finance").await;
        self.rma_step(&support, rma, "approve", serde_json::json!({})).await;
        let ship = serde_json::json!({"carrier": "UPS", "tracking": format!("RET{rma}")});
        self.rma_step(customer, rma, "ship", ship).await;
        self.rma_step(&warehouse, rma, "receive", serde_json::json!({})).await;
        self.rma_step(&warehouse, rma, "start_inspection", serde_json::json!({})).await;
        let inspect = serde_json::json!({"condition": condition, "note": "checked"});
        self.rma_step(&warehouse, rma, "inspect", inspect).await;
        self.rma_step(&finance, rma, "decide", decide).await
    }

    /// Uploads `parts` as photos of return `rma` (the raw answer).
    pub async fn upload(&self, rma: i64, parts: &[(&str, &str, &[u8])], token: &str) -> Response {
        let (ct, body) = multipart(parts);
        self.client
            .post(self.url(&format!("/api/returns/{rma}/photos")))
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.get("/metrics", None).send().await.unwrap().text().await.unwrap()
    }

    /// The value of one series (exact name and labels, as exposed) now; 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        metric(&self.metrics().await, series).unwrap_or(0.0)
    }
}

/// The value of a series (exact name and labels) in the Prometheus text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn auth(rb: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => rb.bearer_auth(t),
        None => rb,
    }
}

/// Asserts a problem+json answer with `status` and `code`; returns the problem.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Problem {
    assert_eq!(res.status().as_u16(), status, "status");
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let p: Problem = res.json().await.unwrap();
    assert_eq!(p.code, code, "problem: {p:?}");
    assert_eq!(p.status, status);
    p
}

/// Asserts the problem names exactly this invalid field first.
pub async fn expect_field(res: Response, status: u16, field: &str) -> Problem {
    let code = if status == 400 { "invalid_query" } else { "validation_failed" };
    let p = expect_problem(res, status, code).await;
    assert!(p.errors.iter().any(|e| e.field == field), "expected field {field} in {p:?}");
    p
}
