//! The authorization matrix: every operation of the served spec × every kind of caller → the
//! status it must get. An operation missing from `MATRIX` fails the test, so no route can ship
//! without a decision about who may call it.

use reqwest::Method;
use retail_api_types::{Product, TokenResponse};
use retail_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Callers, in the column order of [`MATRIX`].
const CALLERS: [&str; 6] = ["anonymous", "customer", "support", "warehouse", "finance", "admin"];

/// (method, path template, expected status per caller in [`CALLERS`] order).
#[rustfmt::skip]
const MATRIX: &[(&str, &str, [u16; 6])] = &[
    //                                                      anon cust  supp  ware  fin   admin
    ("GET",   "/health",                                  [200, 200, 200, 200, 200, 200]),
    ("GET",   "/ready",                                   [200, 200, 200, 200, 200, 200]),
    ("GET",   "/metrics",                                 [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/hello",                               [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/categories",                          [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/products",                            [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/products/{id}",                       [200, 200, 200, 200, 200, 200]),
    ("POST",  "/api/auth/register",                       [201, 201, 201, 201, 201, 201]),
    ("POST",  "/api/auth/login",                          [200, 200, 200, 200, 200, 200]),
    ("POST",  "/api/auth/refresh",                        [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/auth/logout",                         [401, 204, 204, 204, 204, 204]),
    ("GET",   "/api/auth/me",                             [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/admin/products",                      [401, 403, 403, 403, 403, 201]),
    ("PATCH", "/api/admin/products/{id}",                 [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/products/{id}/stock",           [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/products/{id}/stock-movements", [401, 403, 200, 200, 200, 200]),
    ("GET",   "/api/admin/users",                         [401, 403, 403, 403, 403, 200]),
    ("PUT",   "/api/admin/users/{id}/role",               [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/audit",                         [401, 403, 403, 403, 403, 200]),
];

/// A fresh session for `caller` (anonymous has none).
async fn session(app: &TestApp, caller: &str) -> Option<TokenResponse> {
    if caller == "anonymous" {
        return None;
    }
    let a = retail_server::seed::DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == caller).unwrap();
    Some(app.login(a.email, a.password).await)
}

/// A valid request for the operation, so that only the caller decides the answer.
async fn request(
    app: &TestApp,
    method: &str,
    template: &str,
    me: Option<&TokenResponse>,
    n: usize,
) -> reqwest::RequestBuilder {
    let product: Product = app.get_json("/api/products/1", None).await;
    let path = template.replace("{id}", &product.id.to_string());
    let token = me.map(|t| t.access_token.as_str());
    let body: Option<Value> = match (method, template) {
        ("POST", "/api/auth/register") => {
            Some(json!({"email": format!("matrix-{n}@retail.test"), "password": "a long enough pass 1"}))
        }
        ("POST", "/api/auth/login") => {
            Some(json!({"email": "customer@retail.test", "password": "demo-Wren-2026"}))
        }
        ("POST", "/api/auth/refresh") => {
            Some(json!({"refresh_token": me.map_or("not-a-session", |t| t.refresh_token.as_str())}))
        }
        ("POST", "/api/admin/products") => Some(json!({
            "sku": format!("MATRIX-{n}"), "name": "Matrix", "price_cents": 100,
            "currency": "EUR", "category": "test", "initial_stock": 1
        })),
        ("PATCH", _) => Some(json!({"version": product.version, "name": format!("Renamed {n}")})),
        ("POST", "/api/admin/products/{id}/stock") => Some(json!({"delta": 1, "reason": "matrix"})),
        ("PUT", _) => {
            let target = app.register(&format!("target-{n}@retail.test")).await;
            let p = template.replace("{id}", &target.user.id.to_string());
            let rb = app.send_json(Method::PUT, &p, &json!({"role": "support"}), token);
            return rb;
        }
        ("POST", _) => Some(json!({})),
        _ => None,
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    match body {
        Some(b) => app.send_json(method, &path, &b, token),
        None => {
            let rb = app.client.request(method, app.url(&path));
            match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            }
        }
    }
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_matrix_says() {
    let app = spawn_app().await;
    app.seed().await;
    let spec: Value = app.get_json("/api/openapi.json", None).await;
    let mut served: Vec<(String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            served.push((method.to_uppercase(), path.clone()));
        }
    }
    for (m, p) in &served {
        assert!(
            MATRIX.iter().any(|(mm, pp, _)| mm == m && pp == p),
            "{m} {p} is served but missing from the authorization matrix: decide who may call it"
        );
    }
    for (m, p, _) in MATRIX {
        assert!(served.iter().any(|(mm, pp)| mm == m && pp == p), "{m} {p} is in the matrix but not served");
    }

    let mut n = 0;
    let mut wrong = Vec::new();
    for (method, template, expected) in MATRIX {
        for (caller, want) in CALLERS.iter().zip(expected) {
            n += 1;
            let me = session(&app, caller).await;
            let res = request(&app, method, template, me.as_ref(), n).await.send().await.unwrap();
            if res.status().as_u16() != *want {
                wrong.push(format!("{method} {template} as {caller}: got {}, want {want}", res.status()));
            }
        }
    }
    assert!(wrong.is_empty(), "authorization matrix violated:\n{}", wrong.join("\n"));
}
