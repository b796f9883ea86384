//! A caller without a valid token or the right role hears 401/403 before its body or query is
//! read: it learns nothing about the input a route expects.

use reqwest::Method;
use retail_tests::{TestApp, expect_problem, spawn_app};

/// Every protected route with a body, as (method, path).
const BODY_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/admin/products"),
    ("PATCH", "/api/admin/products/1"),
    ("POST", "/api/admin/products/1/stock"),
    ("PUT", "/api/admin/users/1/role"),
];

/// Every protected route read with a query (or nothing at all).
const QUERY_ROUTES: &[&str] =
    &["/api/admin/products/1/stock-movements", "/api/admin/users", "/api/admin/audit", "/api/auth/me"];

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
        for (method, path) in BODY_ROUTES {
            for (ct, body) in bad_bodies() {
                let r = send(&app, method, path, ct, &body, token).await;
                let what = format!("{method} {path} {ct} {:.20} token={token:?}", body);
                assert_eq!(r.status(), 401, "{what}");
                expect_problem(r, 401, "unauthorized").await;
            }
        }
        for path in QUERY_ROUTES {
            for q in ["", "?page=abc", "?page=0&per_page=100000", "?role=emperor&entity_type=%FF"] {
                let r = app.get(&format!("{path}{q}"), token).send().await.unwrap();
                assert_eq!(r.status(), 401, "{path}{q} token={token:?}");
                expect_problem(r, 401, "unauthorized").await;
            }
        }
    }
    // a path parameter that would not parse is not looked at either
    let r = send(&app, "POST", "/api/admin/products/abc/stock", "application/json", "{}", None).await;
    expect_problem(r, 401, "unauthorized").await;
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
    for path in &QUERY_ROUTES[..3] {
        for q in ["", "?page=abc", "?page=0&per_page=100000"] {
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
    // and an admin with a bad body hears about the fields
    let admin = app.token_for("admin").await;
    let r = send(&app, "POST", "/api/admin/products", "application/json", "{}", Some(&admin)).await;
    assert!(matches!(r.status().as_u16(), 400 | 422), "{}", r.status());
}
