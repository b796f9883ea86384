//! Each test here reproduces a finding of the hardening issue: it failed on the code before
//! the fix and guards against its return.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::future::join_all;
use reqwest::{Client, Method};
use retail_api_types::{Product, Role, TokenResponse, User, UserList};
use retail_server::seed::DEMO_ACCOUNTS;
use retail_tests::{TestApp, expect_field, expect_problem, spawn_app, spawn_with};
use serde_json::json;

async fn create_product(app: &TestApp, admin: &str, sku: &str, stock: i64) -> Product {
    let r = app
        .post_json(
            "/api/admin/products",
            &json!({"sku": sku, "name": "Hardened", "price_cents": 100, "currency": "EUR", "category": "test", "initial_stock": stock}),
            Some(admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn demo(role: &str) -> (&'static str, &'static str) {
    let a = DEMO_ACCOUNTS.iter().find(|a| a.role.as_str() == role).unwrap();
    (a.email, a.password)
}

/// A client whose connections come from another loopback address, as an attacker's would.
fn client_from(ip: Ipv4Addr) -> Client {
    Client::builder().local_address(IpAddr::V4(ip)).build().unwrap()
}

async fn login_status(app: &TestApp, client: &Client, email: &str, password: &str) -> u16 {
    client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

// ---- stock and product edits ------------------------------------------------------------

#[tokio::test]
async fn a_stock_movement_does_not_break_an_edit_in_progress_but_changes_the_etag() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p = create_product(&app, &admin, "EDIT-1", 5).await;
    let path = format!("/api/products/{}", p.id);
    let before = app.get(&path, None).send().await.unwrap();
    let etag_before = before.headers()["etag"].to_str().unwrap().to_owned();
    let read: Product = before.json().await.unwrap();

    let r = app
        .post_json(
            &format!("/api/admin/products/{}/stock", p.id),
            &json!({"delta": -1, "reason": "sold"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/admin/products/{}", p.id),
            &json!({"version": read.version, "name": "Renamed"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a sale must not invalidate the version an admin is editing");

    let after = app.get(&path, None).send().await.unwrap();
    let etag_after = after.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag_before, etag_after);
    // the stock alone changing also changes what the shopper sees, hence the ETag
    let r = app.get(&path, None).header("if-none-match", &etag_after).send().await.unwrap();
    assert_eq!(r.status(), 304);
    app.post_json(
        &format!("/api/admin/products/{}/stock", p.id),
        &json!({"delta": 1, "reason": "found"}),
        Some(&admin),
    )
    .send()
    .await
    .unwrap();
    let r = app.get(&path, None).header("if-none-match", &etag_after).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

// ---- input limits -------------------------------------------------------------------------

#[tokio::test]
async fn inputs_that_grow_or_overflow_are_422_not_500() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;

    let r = app
        .post_json(
            "/api/admin/products",
            &json!({"sku": "CAT-1", "name": "x", "price_cents": 1, "currency": "EUR", "category": "İ".repeat(64), "initial_stock": 0}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "category").await;

    let p = create_product(&app, &admin, "DELTA-1", 1_000_000_000).await;
    let stock = format!("/api/admin/products/{}/stock", p.id);
    let r =
        app.post_json(&stock, &json!({"delta": i64::MIN, "reason": "x"}), Some(&admin)).send().await.unwrap();
    expect_field(r, 422, "delta").await;
    let r = app.post_json(&stock, &json!({"delta": 29, "reason": "x"}), Some(&admin)).send().await.unwrap();
    expect_problem(r, 409, "stock_limit").await;
    let now: Product = app.get_json(&format!("/api/products/{}", p.id), None).await;
    assert_eq!(now.stock, 1_000_000_000);

    let long = "a".repeat(50_000);
    let r = app.get(&format!("/api/admin/users?q={long}"), Some(&admin)).send().await.unwrap();
    expect_field(r, 400, "q").await;
    let r = app.get(&format!("/api/admin/audit?entity_type={long}"), Some(&admin)).send().await.unwrap();
    expect_field(r, 400, "entity_type").await;
    let r = app.get(&format!("/api/products?q={long}"), None).send().await.unwrap();
    expect_field(r, 400, "q").await;
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    for i in 0..20 {
        let m = Method::from_bytes(format!("X{}{i}", "M".repeat(2000)).as_bytes()).unwrap();
        let r = app.client.request(m, app.url("/x")).send().await.unwrap();
        assert!(r.status().is_client_error());
    }
    let text = app.get("/metrics", None).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("MMMM"), "a client-chosen method became a label");
    assert!(text.contains("method=\"other\""));
    assert!(text.len() < 64 * 1024, "metrics grew to {} bytes", text.len());
}

// ---- roles ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    app.seed().await;
    let a = app.login(demo("admin").0, demo("admin").1).await;
    for round in 0..5 {
        let b = app.register(&format!("second-admin-{round}@retail.test")).await;
        let r = app
            .send_json(
                Method::PUT,
                &format!("/api/admin/users/{}/role", b.user.id),
                &json!({"role": "admin"}),
                Some(&a.access_token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let demote = |actor: &TokenResponse, target: &TokenResponse| {
            app.send_json(
                Method::PUT,
                &format!("/api/admin/users/{}/role", target.user.id),
                &json!({"role": "customer"}),
                Some(&actor.access_token),
            )
            .send()
        };
        let (ra, rb) = tokio::join!(demote(&a, &b), demote(&b, &a));
        let mut statuses = [ra.unwrap().status().as_u16(), rb.unwrap().status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses[0], 200, "round {round}");
        assert!(statuses[1] == 403 || statuses[1] == 409, "round {round}: {statuses:?}");
        let me_a: User = app.get_json("/api/auth/me", Some(&a.access_token)).await;
        let admin_token = if me_a.role == Role::Admin { &a.access_token } else { &b.access_token };
        let admins: UserList = app.get_json("/api/admin/users?role=admin", Some(admin_token)).await;
        assert_eq!(admins.pagination.total, 1, "round {round}: exactly one admin is left");
        // leave A as the only admin for the next round
        if admins.items[0].id != a.user.id {
            let set = |actor: &TokenResponse, target: &TokenResponse, role: &str| {
                app.send_json(
                    Method::PUT,
                    &format!("/api/admin/users/{}/role", target.user.id),
                    &json!({ "role": role }),
                    Some(&actor.access_token),
                )
                .send()
            };
            assert_eq!(set(&b, &a, "admin").await.unwrap().status(), 200);
            assert_eq!(set(&a, &b, "customer").await.unwrap().status(), 200);
        }
    }
}

// ---- login limiting ---------------------------------------------------------------------

#[tokio::test]
async fn failures_from_elsewhere_do_not_lock_the_owner_out_but_stop_the_attacker() {
    let app = spawn_with(|s| {
        s.limits.login_per_account_burst = 5;
        s.limits.login_per_account_refill_ms = 60_000;
    })
    .await;
    app.seed().await;
    let (email, password) = demo("customer");
    let attacker = client_from(Ipv4Addr::new(127, 0, 0, 2));
    for _ in 0..5 {
        assert_eq!(login_status(&app, &attacker, email, "wrong password 1").await, 401);
    }
    assert_eq!(login_status(&app, &attacker, email, "wrong password 1").await, 429);
    // even with the right password, the attacker's address stays locked for this account
    assert_eq!(login_status(&app, &attacker, email, password).await, 429);
    let owner = client_from(Ipv4Addr::new(127, 0, 0, 1));
    assert_eq!(login_status(&app, &owner, email, password).await, 200);
}

#[tokio::test]
async fn only_failures_count_towards_the_login_limit() {
    let app = spawn_with(|s| {
        s.limits.login_per_account_burst = 3;
        s.limits.login_per_account_refill_ms = 60_000;
    })
    .await;
    app.seed().await;
    let (email, password) = demo("customer");
    for i in 0..10 {
        assert_eq!(login_status(&app, &app.client, email, password).await, 200, "login {i}");
    }
}

// ---- sessions ---------------------------------------------------------------------------

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/refresh", &json!({"refresh_token": token}), None).send().await.unwrap()
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_its_session() {
    let app = spawn_app().await;
    let t0 = app.register("reuse@retail.test").await;
    let r = refresh(&app, &t0.refresh_token).await;
    assert_eq!(r.status(), 200);
    let t1: TokenResponse = r.json().await.unwrap();
    // the rotated-out token shows up again: someone holds a copy
    expect_problem(refresh(&app, &t0.refresh_token).await, 401, "unauthorized").await;
    let r = app.get("/api/auth/me", Some(&t1.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 401, "the session must be revoked");
    assert_eq!(refresh(&app, &t1.refresh_token).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_with_one_token_end_the_session() {
    let app = spawn_app().await;
    let t0 = app.register("race-refresh@retail.test").await;
    let results = join_all((0..10).map(|_| refresh(&app, &t0.refresh_token))).await;
    let mut winners = Vec::new();
    for r in results {
        match r.status().as_u16() {
            200 => winners.push(r.json::<TokenResponse>().await.unwrap()),
            401 => {}
            s => panic!("status {s}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let r = app.get("/api/auth/me", Some(&winners[0].access_token)).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn refresh_does_not_extend_a_session_past_its_absolute_lifetime() {
    let app = spawn_with(|s| s.auth.session_max_age_secs = 2).await;
    let t0 = app.register("mortal@retail.test").await;
    assert!(t0.refresh_expires_in <= 2);
    let r = refresh(&app, &t0.refresh_token).await;
    assert_eq!(r.status(), 200);
    let t1: TokenResponse = r.json().await.unwrap();
    assert!(t1.refresh_expires_in <= 2, "refresh extended the session: {}", t1.refresh_expires_in);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    expect_problem(refresh(&app, &t1.refresh_token).await, 401, "unauthorized").await;
}

// ---- files --------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("data");
    let d = data.clone();
    let app = spawn_with(move |s| s.data_dir = d).await;
    app.register("files@retail.test").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data dir");
    for f in ["retail.db", "retail.db-wal", "jwt.secret"] {
        let p = data.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f}");
        }
    }
    assert!(data.join("retail.db").exists());
    let _: User =
        app.get_json("/api/auth/me", Some(&app.register("files2@retail.test").await.access_token)).await;
}
