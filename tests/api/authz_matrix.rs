//! The authorization matrix: every operation of the served spec × every kind of caller → the
//! status it must get. An operation missing from `MATRIX` fails the test, so no route can ship
//! without a decision about who may call it.

use reqwest::Method;
use retail_api_types::{Cart, Order, Product, TokenResponse};
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
    ("GET",   "/api/suppliers",                           [200, 200, 200, 200, 200, 200]),
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
    // everyone signed in has a cart of their own and may buy
    ("GET",   "/api/cart",                                [401, 200, 200, 200, 200, 200]),
    ("DELETE","/api/cart",                                [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/cart/lines",                          [401, 200, 200, 200, 200, 200]),
    ("PATCH", "/api/cart/lines/{id}",                     [401, 200, 200, 200, 200, 200]),
    ("DELETE","/api/cart/lines/{id}",                     [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/checkout",                            [401, 201, 201, 201, 201, 201]),
    ("GET",   "/api/orders",                              [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/credit",                              [401, 200, 200, 200, 200, 200]),
    // the customer's own order; staff who may view orders see anyone's
    ("GET",   "/api/orders/{id}",                         [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/orders/{id}/receipt",                 [401, 200, 200, 200, 200, 200]),
    // each caller's own paid order: an owner may cancel it until it ships
    ("POST",  "/api/orders/{id}/cancel",                  [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/staff/orders",                        [401, 403, 200, 200, 200, 200]),
    ("POST",  "/api/staff/orders/{id}/ship",              [401, 403, 200, 200, 403, 200]),
    ("POST",  "/api/staff/orders/{id}/deliver",           [401, 403, 200, 200, 403, 200]),
    ("POST",  "/api/staff/orders/{id}/cancel",            [401, 403, 200, 200, 403, 200]),
    ("POST",  "/api/staff/credit",                        [401, 403, 403, 403, 201, 201]),
    ("GET",   "/api/staff/credit/{id}",                   [401, 403, 403, 403, 200, 200]),
    ("GET",   "/api/staff/reconciliation",                [401, 403, 403, 403, 200, 200]),
    // flash sales: public listing; everyone signed in may reserve (and sees only their own)
    ("GET",   "/api/flash/sales",                         [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/flash/sales/{id}",                    [200, 200, 200, 200, 200, 200]),
    ("POST",  "/api/flash/sales/{id}/reservations",       [401, 201, 201, 201, 201, 201]),
    // returns: each caller returns from their own delivered order; staff see anyone's return
    ("POST",  "/api/returns/preview",                     [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/returns",                             [401, 201, 201, 201, 201, 201]),
    ("GET",   "/api/returns",                             [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/returns/{id}",                        [401, 200, 200, 200, 200, 200]),
    // approving the demo customer's return: the RMA transition table says support and admin
    ("POST",  "/api/returns/{id}/actions",                [401, 403, 200, 403, 403, 200]),
    ("POST",  "/api/returns/{id}/photos",                 [401, 201, 201, 201, 201, 201]),
    ("GET",   "/api/returns/{id}/photos/{photo}",         [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/staff/returns",                       [401, 403, 200, 200, 200, 200]),
    // everyone signed in has a notification centre of their own; the outbox is the admin's
    ("GET",   "/api/notifications",                       [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/notifications/{id}/read",             [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/notifications/read-all",              [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/notifications/preferences",           [401, 200, 200, 200, 200, 200]),
    ("PUT",   "/api/notifications/preferences",           [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/admin/outbox",                        [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/outbox/{id}/requeue",           [401, 403, 403, 403, 403, 409]),
    // watching the shop live is the admin's
    ("GET",   "/api/admin/monitoring",                    [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/monitoring/logs",               [401, 403, 403, 403, 403, 200]),
    // partners and feeds are the admin's; the partner's own routes take X-API-Key, never a
    // bearer token (the seed's demo partner is 1, its first feed job 1, its schedule 1)
    ("GET",   "/api/admin/partners",                      [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/partners",                      [401, 403, 403, 403, 403, 201]),
    ("GET",   "/api/admin/partners/{id}",                 [401, 403, 403, 403, 403, 200]),
    ("PATCH", "/api/admin/partners/{id}",                 [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/partners/{id}/keys",            [401, 403, 403, 403, 403, 201]),
    ("POST",  "/api/admin/partners/{id}/keys/{key}/revoke", [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/partners/{id}/feeds",           [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/feeds/jobs",                    [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/feeds/jobs/{id}",               [401, 403, 403, 403, 403, 200]),
    ("GET",   "/api/admin/feeds/jobs/{id}/errors",        [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/feeds/jobs/{id}/requeue",       [401, 403, 403, 403, 403, 409]),
    ("GET",   "/api/admin/feeds/schedules",               [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/feeds/schedules",               [401, 403, 403, 403, 403, 201]),
    ("PATCH", "/api/admin/feeds/schedules/{id}",          [401, 403, 403, 403, 403, 200]),
    ("DELETE", "/api/admin/feeds/schedules/{id}",         [401, 403, 403, 403, 403, 204]),
    ("POST",  "/api/partner/feeds",                       [401, 401, 401, 401, 401, 401]),
    ("GET",   "/api/partner/feeds/jobs/{id}",             [401, 401, 401, 401, 401, 401]),
    ("GET",   "/api/partner/feeds/jobs/{id}/errors",      [401, 401, 401, 401, 401, 401]),
    ("GET",   "/api/feeds/help",                          [200, 200, 200, 200, 200, 200]),
    ("GET",   "/api/staff/returns/figures",               [401, 403, 200, 200, 200, 200]),
    ("GET",   "/api/flash/reservations",                  [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/flash/reservations/{id}",             [401, 200, 200, 200, 200, 200]),
    ("POST",  "/api/flash/reservations/{id}/cancel",      [401, 200, 200, 200, 200, 200]),
    ("GET",   "/api/admin/sales",                         [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/sales",                         [401, 403, 403, 403, 403, 201]),
    ("GET",   "/api/admin/sales/{id}",                    [401, 403, 403, 403, 403, 200]),
    ("PUT",   "/api/admin/sales/{id}",                    [401, 403, 403, 403, 403, 200]),
    ("POST",  "/api/admin/sales/{id}/end",                [401, 403, 403, 403, 403, 200]),
];

/// A sale body for a fresh product of 10 units: live now, or starting in an hour.
async fn sale_body(app: &TestApp, n: usize, live: bool) -> (Value, i64) {
    let p = stocked_product(app, n).await;
    let now = chrono::Utc::now();
    let starts = if live { now - chrono::Duration::seconds(1) } else { now + chrono::Duration::hours(1) };
    let body = json!({
        "name": format!("Matrix sale {n}"), "starts_at": starts, "ends_at": starts + chrono::Duration::hours(2),
        "per_customer_cap": 5,
        "items": [{"product_id": p.id, "discount": {"kind": "percent_off", "basis_points": 1000}, "allocated_units": 5}],
    });
    (body, p.id.get())
}

/// A sale scheduled by the admin: (sale ID, product ID).
async fn matrix_sale(app: &TestApp, n: usize, live: bool) -> (i64, i64) {
    let (body, product) = sale_body(app, n, live).await;
    let admin = app.token_for("admin").await;
    let r = app.post_json("/api/admin/sales", &body, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 201, "matrix sale");
    let v: Value = r.json().await.unwrap();
    (v["id"].as_i64().unwrap(), product)
}

/// A reservation of `token`'s in a fresh live sale.
async fn matrix_reservation(app: &TestApp, token: &str, n: usize) -> i64 {
    let (sale, product) = matrix_sale(app, n, true).await;
    let r = app
        .post_json(
            &format!("/api/flash/sales/{sale}/reservations"),
            &json!({"product_id": product, "units": 1}),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "matrix reservation");
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// `token`'s delivered order of one unit of a fresh product: the return request body for it.
async fn return_request(app: &TestApp, token: &str, n: usize) -> Value {
    let p = stocked_product(app, n).await;
    let order = app.delivered_order(token, &[(p.id.get(), 1)], 0, &format!("matrix-return-{n}")).await;
    json!({"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}],
           "reason": "defective"})
}

/// A return of `token`'s (by default the demo customer's), waiting for support.
async fn matrix_return(app: &TestApp, token: Option<&str>, n: usize) -> i64 {
    let customer = match token {
        Some(t) => t.to_owned(),
        None => app.token_for("customer").await,
    };
    let body = return_request(app, &customer, n).await;
    let r = app.post_json("/api/returns", &body, Some(&customer)).send().await.unwrap();
    assert_eq!(r.status(), 201, "matrix return");
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A fresh session for `caller` (anonymous has none).
async fn session(app: &TestApp, caller: &str) -> Option<TokenResponse> {
    if caller == "anonymous" {
        return None;
    }
    let a = retail_server::seed::DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == caller).unwrap();
    Some(app.login(a.email, a.password).await)
}

/// A product with plenty of stock, for the checkout rows (the seed's stock levels vary).
async fn stocked_product(app: &TestApp, n: usize) -> Product {
    let admin = app.token_for("admin").await;
    let body = json!({"sku": format!("MATRIX-BUY-{n}"), "name": "Matrix buy", "price_cents": 500,
                      "currency": "EUR", "category": "test", "initial_stock": 10});
    let r = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Empties `token`'s cart and puts one unit of a fresh product in it; the cart line's ID.
async fn one_line_cart(app: &TestApp, token: &str, n: usize) -> i64 {
    let p = stocked_product(app, n).await;
    let r = app.client.delete(app.url("/api/cart")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .post_json("/api/cart/lines", &json!({"product_id": p.id, "quantity": 1}), Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cart: Cart = r.json().await.unwrap();
    cart.lines[0].id.get()
}

/// A paid order of `token`'s (by default the demo customer's).
async fn paid_order(app: &TestApp, token: Option<&str>, n: usize) -> Order {
    let customer = match token {
        Some(t) => t.to_owned(),
        None => app.token_for("customer").await,
    };
    one_line_cart(app, &customer, n).await;
    let r = app
        .post_json(
            "/api/checkout",
            &json!({"card_token": "tok_visa", "use_credit_cents": 0}),
            Some(&customer),
        )
        .header("Idempotency-Key", format!("matrix-order-{n}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
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
    let token = me.map(|t| t.access_token.as_str());
    // the record the path names: a product, or a cart line, order or account of the right kind
    let id = match template {
        "/api/cart/lines/{id}" => match token {
            Some(t) => one_line_cart(app, t, n).await,
            None => 1,
        },
        "/api/orders/{id}/cancel" => match token {
            Some(t) => paid_order(app, Some(t), n).await.id.get(),
            None => 1,
        },
        "/api/orders/{id}"
        | "/api/orders/{id}/receipt"
        | "/api/staff/orders/{id}/ship"
        | "/api/staff/orders/{id}/cancel" => paid_order(app, None, n).await.id.get(),
        "/api/staff/orders/{id}/deliver" => {
            let o = paid_order(app, None, n).await;
            let admin = app.token_for("admin").await;
            let r = app
                .post_json(
                    &format!("/api/staff/orders/{}/ship", o.id),
                    &json!({"carrier": "DHL", "tracking": format!("M{n}")}),
                    Some(&admin),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            o.id.get()
        }
        "/api/staff/credit/{id}" => demo_customer_id(app).await,
        "/api/flash/sales/{id}" => matrix_sale(app, n, true).await.0,
        "/api/flash/sales/{id}/reservations" => {
            let (sale, product) = matrix_sale(app, n, true).await;
            let path = template.replace("{id}", &sale.to_string());
            let body = json!({"product_id": product, "units": 1});
            return app.send_json(Method::POST, &path, &body, token);
        }
        "/api/flash/reservations/{id}" | "/api/flash/reservations/{id}/cancel" => match token {
            Some(t) => matrix_reservation(app, t, n).await,
            None => 1,
        },
        "/api/returns/preview" | "/api/returns" if method == "POST" => {
            let body = match token {
                Some(t) => return_request(app, t, n).await,
                None => {
                    json!({"order_id": 1, "lines": [{"order_line_id": 1, "quantity": 1}], "reason": "other"})
                }
            };
            return app.send_json(Method::POST, template, &body, token);
        }
        "/api/returns/{id}" => matrix_return(app, None, n).await,
        "/api/notifications/{id}/read" => match token {
            // the caller's own notification: a paid order tells its customer
            Some(t) => {
                paid_order(app, Some(t), n).await;
                let list: Value = app.get_json("/api/notifications", Some(t)).await;
                list["items"][0]["id"].as_i64().unwrap()
            }
            None => 1,
        },
        "/api/admin/outbox/{id}/requeue" => {
            // a mail that has not failed: the admin hears 409, everyone else never gets that far
            paid_order(app, None, n).await;
            let admin = app.token_for("admin").await;
            let list: Value = app.get_json("/api/admin/outbox", Some(&admin)).await;
            list["items"][0]["id"].as_i64().unwrap()
        }
        "/api/returns/{id}/actions" => {
            let id = matrix_return(app, None, n).await;
            let path = template.replace("{id}", &id.to_string());
            return app.send_json(Method::POST, &path, &json!({"action": "approve", "version": 1}), token);
        }
        "/api/returns/{id}/photos" => {
            let id = match token {
                Some(t) => matrix_return(app, Some(t), n).await,
                None => 1,
            };
            let (ct, body) = retail_tests::multipart(&[("photo", "p.png", retail_tests::PNG)]);
            let rb = app
                .client
                .post(app.url(&format!("/api/returns/{id}/photos")))
                .header("content-type", ct)
                .body(body);
            return match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            };
        }
        "/api/returns/{id}/photos/{photo}" => {
            let customer = app.token_for("customer").await;
            let id = matrix_return(app, Some(&customer), n).await;
            let r = app.upload(id, &[("photo", "p.png", retail_tests::PNG)], &customer).await;
            assert_eq!(r.status(), 201, "matrix photo");
            let photo = r.json::<Value>().await.unwrap()["photos"][0]["id"].as_i64().unwrap();
            let rb = app.client.get(app.url(&format!("/api/returns/{id}/photos/{photo}")));
            return match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            };
        }
        "/api/admin/sales/{id}" | "/api/admin/sales/{id}/end" if method != "PUT" => {
            matrix_sale(app, n, false).await.0
        }
        "/api/admin/sales/{id}" => {
            let (sale, _) = matrix_sale(app, n, false).await;
            let (mut body, _) = sale_body(app, n + 100_000, false).await;
            body["version"] = json!(1);
            let path = template.replace("{id}", &sale.to_string());
            return app.send_json(Method::PUT, &path, &body, token);
        }
        _ => product.id.get(),
    };
    let path = template.replace("{id}", &id.to_string());
    let body: Option<Value> = match (method, template) {
        ("POST", "/api/cart/lines") => {
            let p = stocked_product(app, n).await;
            Some(json!({"product_id": p.id, "quantity": 1}))
        }
        ("PATCH", "/api/cart/lines/{id}") => Some(json!({"quantity": 2})),
        ("PUT", "/api/notifications/preferences") => {
            Some(json!({"non_essential": false, "sla_breach": true, "refund_failure": true}))
        }
        (
            "POST",
            "/api/notifications/{id}/read" | "/api/notifications/read-all" | "/api/admin/outbox/{id}/requeue",
        ) => None,
        ("POST", "/api/checkout") => {
            if let Some(t) = token {
                one_line_cart(app, t, n).await;
            }
            let body = json!({"card_token": "tok_visa", "use_credit_cents": 0});
            let rb = app.send_json(Method::POST, &path, &body, token);
            return rb.header("Idempotency-Key", format!("matrix-{n}"));
        }
        ("POST", "/api/orders/{id}/cancel" | "/api/staff/orders/{id}/cancel") => {
            Some(json!({"reason": "matrix"}))
        }
        ("POST", "/api/staff/orders/{id}/ship") => {
            Some(json!({"carrier": "DHL", "tracking": format!("M{n}")}))
        }
        ("POST", "/api/staff/credit") => {
            let body =
                json!({"user_id": demo_customer_id(app).await, "amount_cents": 100, "reason": "matrix"});
            let rb = app.send_json(Method::POST, &path, &body, token);
            return rb.header("Idempotency-Key", format!("matrix-{n}"));
        }
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
        ("PATCH", "/api/admin/products/{id}") => {
            Some(json!({"version": product.version, "name": format!("Renamed {n}")}))
        }
        ("POST", "/api/admin/products/{id}/stock") => Some(json!({"delta": 1, "reason": "matrix"})),
        ("POST", "/api/admin/sales") => Some(sale_body(app, n, false).await.0),
        ("POST", "/api/admin/partners") => {
            Some(json!({"name": format!("Matrix partner {n}"), "contact_email": "matrix@supplier.test"}))
        }
        ("PATCH", "/api/admin/partners/{id}") => {
            Some(json!({"contact_email": "feeds@demo-supplier.example"}))
        }
        ("POST", "/api/admin/partners/{id}/keys/{key}/revoke") => {
            let admin = app.token_for("admin").await;
            let partner: Value = app.get_json("/api/admin/partners/1", Some(&admin)).await;
            let key = partner["keys"][0]["id"].as_i64().unwrap();
            let path = template.replace("{id}", "1").replace("{key}", &key.to_string());
            let rb = app.client.post(app.url(&path));
            return match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            };
        }
        ("POST", "/api/admin/partners/{id}/feeds") => {
            let rb = app.client.post(app.url(&path)).header("content-type", "text/csv");
            let rb = rb.body(format!("sku,name,price\nMATRIX-FEED-{n},Matrix feed {n},1.00\n"));
            return match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            };
        }
        ("POST", "/api/admin/feeds/schedules") => Some(json!({
            "partner_id": 1, "url": "https://demo-supplier.example/matrix.csv", "interval_secs": 3600, "enabled": false
        })),
        ("PATCH", "/api/admin/feeds/schedules/{id}") => Some(json!({"enabled": false})),
        ("POST", "/api/admin/feeds/jobs/{id}/requeue") => None,
        ("PUT", _) => {
            let target = app.register(&format!("target-{n}@retail.test")).await;
            let p = template.replace("{id}", &target.user.id.to_string());
            let rb = app.send_json(Method::PUT, &p, &json!({"role": "support"}), token);
            return rb;
        }
        ("POST", "/api/staff/orders/{id}/deliver") => None,
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

async fn demo_customer_id(app: &TestApp) -> i64 {
    let a = retail_server::seed::DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == "customer").unwrap();
    app.login(a.email, a.password).await.user.id.get()
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
