//! `Idempotency-Key`: a retried POST is answered from the first attempt, never run twice.

use futures::future::join_all;
use retail_api_types::{Product, StockAdjustmentResponse, StockMovementList, TokenResponse, User};
use retail_tests::{TestApp, expect_problem, spawn_app, spawn_with};
use serde_json::{Value, json};

async fn product(app: &TestApp, admin: &str, sku: &str) -> Product {
    let body = json!({"sku": sku, "name": "Retried", "price_cents": 100, "currency": "EUR", "category": "test", "initial_stock": 10});
    let r = app.post_json("/api/admin/products", &body, Some(admin)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn ledger(app: &TestApp, admin: &str, id: i64) -> StockMovementList {
    app.get_json(&format!("/api/admin/products/{id}/stock-movements?per_page=100"), Some(admin)).await
}

async fn stock(app: &TestApp, admin: &str, id: i64, body: &Value, key: &str) -> reqwest::Response {
    app.post_json(&format!("/api/admin/products/{id}/stock"), body, Some(admin))
        .header("Idempotency-Key", key)
        .send()
        .await
        .unwrap()
}

fn replayed(r: &reqwest::Response) -> Option<&str> {
    r.headers().get("idempotency-replayed").map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_stock_change_retried_with_its_key_happens_once_and_answers_the_same() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-1").await;
    let body = json!({"delta": 5, "reason": "delivery"});
    let first = stock(&app, &admin, p.id.get(), &body, "retry-me-1").await;
    assert_eq!(first.status(), 200);
    assert_eq!(replayed(&first), None);
    let first: StockAdjustmentResponse = first.json().await.unwrap();
    let second = stock(&app, &admin, p.id.get(), &body, "retry-me-1").await;
    assert_eq!(second.status(), 200);
    assert_eq!(replayed(&second), Some("true"));
    let second: StockAdjustmentResponse = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.product.stock, 15);
    let l = ledger(&app, &admin, p.id.get()).await;
    assert_eq!(l.items.iter().map(|m| m.delta).collect::<Vec<_>>(), vec![5, 10], "one movement of +5");
    let now: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(now.stock, 15);
    // a new key is a new request
    let third = stock(&app, &admin, p.id.get(), &body, "retry-me-2").await;
    assert_eq!(third.status(), 200);
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 3);
}

#[tokio::test]
async fn a_product_creation_retried_with_its_key_creates_one_product() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let body = json!({"sku": "IDEM-C", "name": "Once", "price_cents": 100, "currency": "EUR", "category": "test", "initial_stock": 3});
    let send = || {
        app.post_json("/api/admin/products", &body, Some(&admin)).header("Idempotency-Key", "create-1").send()
    };
    let a = send().await.unwrap();
    assert_eq!(a.status(), 201);
    let loc = a.headers()["location"].to_str().unwrap().to_owned();
    let a: Product = a.json().await.unwrap();
    let b = send().await.unwrap();
    assert_eq!(b.status(), 201, "the same answer, not 409 sku_taken");
    assert_eq!(replayed(&b), Some("true"));
    assert_eq!(b.headers()["location"].to_str().unwrap(), loc);
    let b: Product = b.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(ledger(&app, &admin, a.id.get()).await.items.len(), 1);
    // without a key, the same body is a new attempt (and the SKU is taken)
    let c = app.post_json("/api/admin/products", &body, Some(&admin)).send().await.unwrap();
    expect_problem(c, 409, "sku_taken").await;
}

#[tokio::test]
async fn a_key_reused_with_another_request_is_refused() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-2").await;
    let q = product(&app, &admin, "IDEM-3").await;
    let r = stock(&app, &admin, p.id.get(), &json!({"delta": 1, "reason": "found"}), "k-1").await;
    assert_eq!(r.status(), 200);
    let r = stock(&app, &admin, p.id.get(), &json!({"delta": 2, "reason": "found"}), "k-1").await;
    expect_problem(r, 422, "idempotency_key_reused").await;
    // another product is another request too
    let r = stock(&app, &admin, q.id.get(), &json!({"delta": 1, "reason": "found"}), "k-1").await;
    expect_problem(r, 422, "idempotency_key_reused").await;
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 2);
    assert_eq!(ledger(&app, &admin, q.id.get()).await.items.len(), 1);
}

/// 20 copies of one request with one key, at once: exactly one movement, and every copy
/// gets the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_copies_with_one_key_move_stock_once() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-RACE").await;
    let body = json!({"delta": 5, "reason": "delivery"});
    let path = format!("/api/admin/products/{}/stock", p.id);
    let results = join_all(
        (0..20).map(|_| app.post_json(&path, &body, Some(&admin)).header("Idempotency-Key", "race").send()),
    )
    .await;
    let mut answers = Vec::new();
    let mut fresh = 0;
    for r in results {
        let r = r.unwrap();
        assert_eq!(r.status(), 200);
        if replayed(&r).is_none() {
            fresh += 1;
        }
        answers.push(r.json::<StockAdjustmentResponse>().await.unwrap());
    }
    assert_eq!(fresh, 1, "one request did the work, the others were replayed");
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
    let l = ledger(&app, &admin, p.id.get()).await;
    assert_eq!(l.items.len(), 2);
    let now: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(now.stock, 15);
}

#[tokio::test]
async fn two_callers_keys_never_collide() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    // a second admin
    let other: TokenResponse = app.register("second-admin@example.com").await;
    let me: User = app.get_json("/api/auth/me", Some(&other.access_token)).await;
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/admin/users/{}/role", me.id),
            &json!({"role": "admin"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let other = app.login("second-admin@example.com", "a long enough pass 1").await.access_token;
    let p = product(&app, &admin, "IDEM-4").await;
    let body = json!({"delta": 5, "reason": "delivery"});
    let a = stock(&app, &admin, p.id.get(), &body, "shared-key").await;
    let b = stock(&app, &other, p.id.get(), &body, "shared-key").await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    assert_eq!((replayed(&a), replayed(&b)), (None, None));
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 3);
}

#[tokio::test]
async fn an_invalid_key_is_a_400_and_no_key_works_as_before() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-5").await;
    let body = json!({"delta": 1, "reason": "found"});
    for bad in ["k".repeat(256), "with space".to_owned(), String::new()] {
        let r = stock(&app, &admin, p.id.get(), &body, &bad).await;
        let problem = expect_problem(r, 400, "invalid_idempotency_key").await;
        assert_eq!(problem.errors[0].field, "Idempotency-Key", "{bad:?}");
    }
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 1, "nothing moved");
    let path = format!("/api/admin/products/{}/stock", p.id);
    for _ in 0..2 {
        let r = app.post_json(&path, &body, Some(&admin)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(replayed(&r), None);
    }
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 3, "without a key, each request runs");
}

#[tokio::test]
async fn a_failed_request_is_not_stored_and_may_be_retried_with_its_key() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-6").await;
    let take = json!({"delta": -15, "reason": "sold"});
    let r = stock(&app, &admin, p.id.get(), &take, "after-delivery").await;
    expect_problem(r, 409, "insufficient_stock").await;
    let r = stock(&app, &admin, p.id.get(), &json!({"delta": 5, "reason": "delivery"}), "delivery").await;
    assert_eq!(r.status(), 200);
    let r = stock(&app, &admin, p.id.get(), &take, "after-delivery").await;
    assert_eq!(r.status(), 200, "the failure was not remembered");
    assert_eq!(replayed(&r), None);
}

#[tokio::test]
async fn an_expired_key_runs_again_and_the_worker_purges_it() {
    let app = spawn_with(|s| s.idempotency.ttl_secs = 1).await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = product(&app, &admin, "IDEM-7").await;
    let body = json!({"delta": 5, "reason": "delivery"});
    assert_eq!(stock(&app, &admin, p.id.get(), &body, "short-lived").await.status(), 200);
    let r = stock(&app, &admin, p.id.get(), &body, "short-lived").await;
    assert_eq!(replayed(&r), Some("true"));
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let r = stock(&app, &admin, p.id.get(), &body, "short-lived").await;
    assert_eq!(r.status(), 200);
    assert_eq!(replayed(&r), None, "an expired key is a new key");
    assert_eq!(ledger(&app, &admin, p.id.get()).await.items.len(), 3);
    let jobs = retail_server::worker::Housekeeping::from_settings(&app.state.settings);
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    let report =
        retail_server::worker::run_once_with(&app.state.db, &app.state.payments, &jobs, later).await.unwrap();
    assert_eq!(report.idempotency_keys_purged, 1);
}

// ---- the session routes: tokens are never stored, a repeat re-issues the same session ----

async fn post_keyed(app: &TestApp, path: &str, body: &Value, key: &str) -> reqwest::Response {
    app.post_json(path, body, None).header("Idempotency-Key", key).send().await.unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/auth/me", Some(token)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_registration_retried_with_its_key_creates_one_account_and_one_session() {
    let app = spawn_app().await;
    let body = json!({"email": "retry-register@retail.test", "password": "a long enough pass 1"});
    let first = post_keyed(&app, "/api/auth/register", &body, "reg-1").await;
    assert_eq!(first.status(), 201);
    let first: TokenResponse = first.json().await.unwrap();
    let second = post_keyed(&app, "/api/auth/register", &body, "reg-1").await;
    assert_eq!(second.status(), 201, "a repeat is not `email_taken`");
    assert_eq!(replayed(&second), Some("true"));
    let second: TokenResponse = second.json().await.unwrap();
    assert_eq!(first.user.id, second.user.id);
    assert_ne!(first.refresh_token, second.refresh_token, "tokens are re-issued, never stored");
    // the same session: the first answer's refresh token was rotated out by the repeat
    assert_eq!(me_status(&app, &second.access_token).await, 200);
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": second.refresh_token}), None)
        .send()
        .await;
    assert_eq!(r.unwrap().status(), 200);
    // the key with another body
    let other = json!({"email": "someone-else@retail.test", "password": "a long enough pass 1"});
    let r = post_keyed(&app, "/api/auth/register", &other, "reg-1").await;
    expect_problem(r, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_can_be_repeated_without_ending_the_session() {
    let app = spawn_app().await;
    let t0 = app.register("retry-refresh@retail.test").await;
    let body = json!({"refresh_token": t0.refresh_token});
    let lost = post_keyed(&app, "/api/auth/refresh", &body, "refresh-1").await;
    assert_eq!(lost.status(), 200);
    let lost: TokenResponse = lost.json().await.unwrap();
    // the client never saw `lost` and retries with the same key and the same (old) token
    let again = post_keyed(&app, "/api/auth/refresh", &body, "refresh-1").await;
    assert_eq!(again.status(), 200, "a repeat is not refresh-token reuse");
    assert_eq!(replayed(&again), Some("true"));
    let again: TokenResponse = again.json().await.unwrap();
    assert_eq!(me_status(&app, &again.access_token).await, 200, "the session lives on");
    // once the re-issued answer has been used, repeating the request is refused
    let used = app.post_json("/api/auth/refresh", &json!({"refresh_token": again.refresh_token}), None);
    let used: TokenResponse = used.send().await.unwrap().json().await.unwrap();
    let late = post_keyed(&app, "/api/auth/refresh", &body, "refresh-1").await;
    expect_problem(late, 401, "unauthorized").await;
    assert_eq!(me_status(&app, &used.access_token).await, 200);
    // the lost answer's token was rotated out by the repeat: presenting it is reuse, and
    // ends the session as any replayed refresh token does
    let r =
        app.post_json("/api/auth/refresh", &json!({"refresh_token": lost.refresh_token}), None).send().await;
    assert_eq!(r.unwrap().status(), 401);
    assert_eq!(me_status(&app, &used.access_token).await, 401);
}

#[tokio::test]
async fn a_login_retried_with_its_key_continues_one_session() {
    let app = spawn_app().await;
    app.register("retry-login@retail.test").await;
    let body = json!({"email": "retry-login@retail.test", "password": "a long enough pass 1"});
    let first: TokenResponse =
        post_keyed(&app, "/api/auth/login", &body, "login-1").await.json().await.unwrap();
    let second = post_keyed(&app, "/api/auth/login", &body, "login-1").await;
    assert_eq!(second.status(), 200);
    assert_eq!(replayed(&second), Some("true"));
    let second: TokenResponse = second.json().await.unwrap();
    // one session: logging out with the second answer also ends the first's access token
    let logout = |token: String| {
        let app = &app;
        async move {
            app.post_json("/api/auth/logout", &json!({}), Some(&token))
                .header("Idempotency-Key", "logout-1")
                .send()
                .await
                .unwrap()
        }
    };
    let r = logout(second.access_token.clone()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(me_status(&app, &first.access_token).await, 401);
    // a wrong password never reaches the stored answer
    let wrong = json!({"email": "retry-login@retail.test", "password": "not the password 1"});
    let r = post_keyed(&app, "/api/auth/login", &wrong, "login-1").await;
    assert_eq!(r.status(), 401);
}
