//! A caller without a valid token or the right role hears 401/403 before its body or query is
//! read: it learns nothing about the input a route expects.

use reqwest::Method;
use retail_tests::{TestApp, expect_problem, spawn_app};

/// Every staff-only route with a body (or none), as (method, path): 401 without a valid
/// token, 403 for a customer.
const BODY_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/admin/products"),
    ("PATCH", "/api/admin/products/1"),
    ("POST", "/api/admin/products/1/stock"),
    ("PUT", "/api/admin/users/1/role"),
    ("POST", "/api/staff/orders/1/ship"),
    ("POST", "/api/staff/orders/1/deliver"),
    ("POST", "/api/staff/orders/1/cancel"),
    ("POST", "/api/staff/credit"),
    ("POST", "/api/admin/sales"),
    ("PUT", "/api/admin/sales/1"),
    ("POST", "/api/admin/sales/1/end"),
    ("POST", "/api/admin/outbox/1/requeue"),
    ("POST", "/api/admin/partners"),
    ("PATCH", "/api/admin/partners/1"),
    ("POST", "/api/admin/partners/1/keys"),
    ("POST", "/api/admin/partners/1/keys/1/revoke"),
    ("POST", "/api/admin/partners/1/feeds"),
    ("POST", "/api/admin/feeds/jobs/1/requeue"),
    ("POST", "/api/admin/feeds/schedules"),
    ("PATCH", "/api/admin/feeds/schedules/1"),
    ("DELETE", "/api/admin/feeds/schedules/1"),
];

/// Routes any signed-in account may call, with a body (or none): 401 without a valid token.
const SIGNED_IN_BODY_ROUTES: &[(&str, &str)] = &[
    ("DELETE", "/api/cart"),
    ("POST", "/api/cart/lines"),
    ("PATCH", "/api/cart/lines/1"),
    ("DELETE", "/api/cart/lines/1"),
    ("POST", "/api/checkout"),
    ("POST", "/api/orders/1/cancel"),
    ("POST", "/api/flash/sales/1/reservations"),
    ("POST", "/api/flash/reservations/1/cancel"),
    ("POST", "/api/returns/preview"),
    ("POST", "/api/returns"),
    ("POST", "/api/returns/1/actions"),
    ("POST", "/api/returns/1/photos"),
    ("PUT", "/api/notifications/preferences"),
    ("POST", "/api/notifications/1/read"),
];

/// Every staff-only route read with a query (or nothing at all).
const QUERY_ROUTES: &[&str] = &[
    "/api/admin/products/1/stock-movements",
    "/api/admin/users",
    "/api/admin/audit",
    "/api/staff/orders",
    "/api/staff/credit/1",
    "/api/staff/reconciliation",
    "/api/admin/sales",
    "/api/admin/sales/1",
    "/api/staff/returns",
    "/api/staff/returns/figures",
    "/api/admin/outbox",
    "/api/admin/monitoring",
    "/api/admin/monitoring/logs",
    "/api/admin/partners",
    "/api/admin/partners/1",
    "/api/admin/feeds/jobs",
    "/api/admin/feeds/jobs/1",
    "/api/admin/feeds/jobs/1/errors",
    "/api/admin/feeds/schedules",
];

/// Routes any signed-in account may read, with a query (or nothing at all).
const SIGNED_IN_QUERY_ROUTES: &[&str] = &[
    "/api/auth/me",
    "/api/cart",
    "/api/orders",
    "/api/orders/1",
    "/api/orders/1/receipt",
    "/api/credit",
    "/api/flash/reservations",
    "/api/flash/reservations/1",
    "/api/returns",
    "/api/returns/1",
    "/api/returns/1/photos/1",
    "/api/notifications",
    "/api/notifications/preferences",
];

/// Bodies that would be 400, 413, 415 or 422 for a caller allowed in: (content type, body).
fn bad_bodies() -> Vec<(&'static str, String)> {
    vec![
        ("application/json", "{}".into()),
        ("application/json", "{not json".into()),
        ("application/json", r#"{"sku": 7, "price_cents": "x", "role": "emperor"}"#.into()),
        ("text/plain", "hello".into()),
        ("application/json", format!("\"{}\"", "x".repeat(300 * 1024))),
    ]
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    ct: &str,
    body: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut rb = app
        .client
        .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
        .header("content-type", ct)
        .body(body.to_owned());
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn anonymous_and_bad_tokens_get_401_whatever_the_body_or_query() {
    let app = spawn_app().await;
    for token in [None, Some("not-a-jwt")] {
        for (method, path) in BODY_ROUTES.iter().chain(SIGNED_IN_BODY_ROUTES) {
            for (ct, body) in bad_bodies() {
                let mut r = app
                    .client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
                    .header("content-type", ct)
                    .header("Idempotency-Key", "not a valid key")
                    .body(body.clone());
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                let r = r.send().await.unwrap();
                let what = format!("{method} {path} {ct} {:.20} token={token:?}", body);
                assert_eq!(r.status(), 401, "{what}");
                expect_problem(r, 401, "unauthorized").await;
            }
        }
        for path in QUERY_ROUTES.iter().chain(SIGNED_IN_QUERY_ROUTES) {
            for q in [
                "",
                "?page=abc",
                "?page=0&per_page=100000",
                "?role=emperor&entity_type=%FF",
                "?state=lost&from=yesterday",
            ] {
                let r = app.get(&format!("{path}{q}"), token).send().await.unwrap();
                assert_eq!(r.status(), 401, "{path}{q} token={token:?}");
                expect_problem(r, 401, "unauthorized").await;
            }
        }
    }
    // a path parameter that would not parse is not looked at either
    let r = send(&app, "POST", "/api/admin/products/abc/stock", "application/json", "{}", None).await;
    expect_problem(r, 401, "unauthorized").await;
    for (method, path) in [("PATCH", "/api/cart/lines/abc"), ("POST", "/api/staff/orders/abc/ship")] {
        let r = send(&app, method, path, "application/json", "{}", None).await;
        expect_problem(r, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_customer_gets_403_whatever_the_body_or_query() {
    let app = spawn_app().await;
    app.seed().await;
    let customer = app.token_for("customer").await;
    for (method, path) in BODY_ROUTES {
        for (ct, body) in bad_bodies() {
            let r = send(&app, method, path, ct, &body, Some(&customer)).await;
            assert_eq!(r.status(), 403, "{method} {path} {ct} {:.20}", body);
            expect_problem(r, 403, "forbidden").await;
        }
    }
    for path in QUERY_ROUTES {
        for q in ["", "?page=abc", "?page=0&per_page=100000", "?state=lost&from=yesterday"] {
            let r = app.get(&format!("{path}{q}"), Some(&customer)).send().await.unwrap();
            expect_problem(r, 403, "forbidden").await;
        }
    }
}

#[tokio::test]
async fn staff_without_the_permission_get_403_and_with_it_reach_validation() {
    let app = spawn_app().await;
    app.seed().await;
    let warehouse = app.token_for("warehouse").await;
    // account management is for admins only
    let r = app.get("/api/admin/users?page=abc", Some(&warehouse)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = send(&app, "PUT", "/api/admin/users/1/role", "application/json", "{}", Some(&warehouse)).await;
    expect_problem(r, 403, "forbidden").await;
    // the stock ledger is for staff: a bad query is then the caller's problem to hear about
    let r = app.get("/api/admin/products/1/stock-movements?page=abc", Some(&warehouse)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // orders are fulfilment's business, credit and the books finance's
    let finance = app.token_for("finance").await;
    for path in ["/api/staff/orders/1/ship", "/api/staff/orders/1/deliver", "/api/staff/orders/1/cancel"] {
        let r = send(&app, "POST", path, "application/json", "{not json", Some(&finance)).await;
        expect_problem(r, 403, "forbidden").await;
    }
    let r = send(&app, "POST", "/api/staff/credit", "application/json", "{}", Some(&warehouse)).await;
    expect_problem(r, 403, "forbidden").await;
    for path in ["/api/staff/credit/1?page=abc", "/api/staff/reconciliation"] {
        let r = app.get(path, Some(&warehouse)).send().await.unwrap();
        expect_problem(r, 403, "forbidden").await;
    }
    // with the permission, the input is looked at
    let r = app.get("/api/staff/orders?state=lost", Some(&warehouse)).send().await.unwrap();
    expect_problem(r, 400, "invalid_query").await;
    let r = send(&app, "POST", "/api/staff/orders/1/ship", "application/json", "{}", Some(&warehouse)).await;
    assert_eq!(r.status(), 422);
    let r = send(&app, "POST", "/api/staff/credit", "application/json", "{not json", Some(&finance)).await;
    assert!(matches!(r.status().as_u16(), 400 | 422), "{}", r.status());
    // and a signed-in customer reaches validation on their own routes
    let customer = app.token_for("customer").await;
    let r = send(&app, "POST", "/api/cart/lines", "application/json", "{}", Some(&customer)).await;
    assert_eq!(r.status(), 422);
    let r = send(&app, "POST", "/api/checkout", "application/json", "{}", Some(&customer)).await;
    expect_problem(r, 400, "idempotency_key_required").await;
    // and an admin with a bad body hears about the fields
    let admin = app.token_for("admin").await;
    let r = send(&app, "POST", "/api/admin/products", "application/json", "{}", Some(&admin)).await;
    assert!(matches!(r.status().as_u16(), 400 | 422), "{}", r.status());
}
