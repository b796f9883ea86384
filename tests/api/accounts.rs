use retail_api_types::{Role, TokenResponse, User};
use retail_tests::{expect_field, expect_problem, spawn_app, spawn_with};
use serde_json::json;

#[tokio::test]
async fn registering_creates_a_customer_whose_token_works() {
    let app = spawn_app().await;
    let t = app.register("Ann@Example.com").await;
    assert_eq!(t.user.email, "ann@example.com");
    assert_eq!(t.user.role, Role::Customer);
    assert_eq!(t.token_type, "Bearer");
    let me: User = app.get_json("/api/auth/me", Some(&t.access_token)).await;
    assert_eq!(me.id, t.user.id);
}

#[tokio::test]
async fn registering_never_makes_staff_whatever_the_body_or_name_says() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "admin@shop.io", "password": "a long enough pass 1", "display_name": "admin", "role": "admin"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let t: TokenResponse = r.json().await.unwrap();
    assert_eq!(t.user.role, Role::Customer);
    let r = app.get("/api/admin/users", Some(&t.access_token)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
}

#[tokio::test]
async fn invalid_registrations_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": "not-an-email", "password": "a long enough pass 1"}), "email"),
        (json!({"email": "bob@example.com", "password": "short"}), "password"),
        (json!({"email": "bob@example.com", "password": "password123"}), "password"),
        (json!({"email": "bob@example.com", "password": "bob@example.com"}), "password"),
        (
            json!({"email": "bob@example.com", "password": "a long enough pass 1", "display_name": "x".repeat(81)}),
            "display_name",
        ),
        (json!({"email": "x".repeat(300) + "@example.com", "password": "a long enough pass 1"}), "email"),
    ];
    for (body, field) in cases {
        let r = app.post_json("/api/auth/register", &body, None).send().await.unwrap();
        expect_field(r, 422, field).await;
    }
    let n = app.state.db.read(retail_store::repo::users::count).await.unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_email_registers_once_case_insensitively() {
    let app = spawn_app().await;
    app.register("dup@example.com").await;
    let r = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "DUP@example.com", "password": "another long pass 2"}),
            None,
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 409, "email_taken").await;
}

#[tokio::test]
async fn login_accepts_the_right_password_only() {
    let app = spawn_app().await;
    app.seed().await;
    let t = app.login("admin@retail.test", "demo-Kestrel-2026").await;
    assert_eq!(t.user.role, Role::Admin);
    let r = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "admin@retail.test", "password": "wrong password"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let wrong = expect_problem(r, 401, "invalid_credentials").await;
    let r = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "nobody@retail.test", "password": "wrong password"}),
            None,
        )
        .send()
        .await
        .unwrap();
    let unknown = expect_problem(r, 401, "invalid_credentials").await;
    assert_eq!(wrong.detail, unknown.detail, "must not reveal which emails exist");
}

#[tokio::test]
async fn login_is_throttled_per_account_with_retry_after() {
    let app = spawn_with(|s| {
        s.limits.login_per_account_burst = 3;
        s.limits.login_per_account_refill_ms = 60_000;
    })
    .await;
    app.seed().await;
    let bad = json!({"email": "customer@retail.test", "password": "guessing 123"});
    for _ in 0..3 {
        let r = app.post_json("/api/auth/login", &bad, None).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = app.post_json("/api/auth/login", &bad, None).send().await.unwrap();
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    expect_problem(r, 429, "rate_limited").await;
    // even the right password waits: the account is throttled, not the guess
    let r = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "customer@retail.test", "password": "demo-Wren-2026"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // other accounts are unaffected
    app.login("admin@retail.test", "demo-Kestrel-2026").await;
}

#[tokio::test]
async fn auth_posts_are_throttled_per_client_with_retry_after() {
    let app = spawn_with(|s| {
        s.limits.auth_per_ip_burst = 4;
        s.limits.auth_per_ip_refill_ms = 60_000;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = json!({"email": format!("u{i}@example.com"), "password": "wrong password"});
        let r = app.post_json("/api/auth/login", &body, None).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            expect_problem(r, 429, "rate_limited").await;
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    // reads are not throttled by the auth limiter
    let r = app.get("/api/hello", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let limited = r#"retail_rate_limited_total{limiter="auth_per_ip",route="/api/auth/login"}"#;
    assert_eq!(app.metric(limited).await, 2.0, "{}", app.metrics().await);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let app = spawn_app().await;
    let t = app.register("rot@example.com").await;
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t.refresh_token}), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t2: TokenResponse = r.json().await.unwrap();
    assert_ne!(t2.refresh_token, t.refresh_token);
    let r = app.get("/api/auth/me", Some(&t2.access_token)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // the old refresh token is spent
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t.refresh_token}), None)
        .send()
        .await
        .unwrap();
    expect_problem(r, 401, "unauthorized").await;
    let r = app.post_json("/api/auth/refresh", &json!({"refresh_token": ""}), None).send().await.unwrap();
    expect_field(r, 422, "refresh_token").await;
}

#[tokio::test]
async fn logout_revokes_both_tokens_at_once() {
    let app = spawn_app().await;
    let t = app.register("bye@example.com").await;
    let r = app.client.post(app.url("/api/auth/logout")).bearer_auth(&t.access_token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = app.get("/api/auth/me", Some(&t.access_token)).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t.refresh_token}), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn me_requires_a_valid_bearer_token() {
    let app = spawn_app().await;
    let r = app.get("/api/auth/me", None).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    let r = app.get("/api/auth/me", Some("not.a.jwt")).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    let r =
        app.client.get(app.url("/api/auth/me")).header("authorization", "Basic YTpi").send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    // a token from another server (other secret) is refused
    let other = spawn_app().await;
    let t = other.register("x@example.com").await;
    let r = app.get("/api/auth/me", Some(&t.access_token)).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
}

/// The `retail_refresh` cookie a response sets: `(value, attributes)`.
fn refresh_cookie(r: &reqwest::Response) -> (String, String) {
    let all: Vec<&str> = r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    let [cookie] = all[..] else { panic!("one Set-Cookie expected, got {all:?}") };
    let (pair, attrs) = cookie.split_once(';').unwrap();
    let value = pair.strip_prefix("retail_refresh=").unwrap().to_owned();
    (value, attrs.to_owned())
}

#[tokio::test]
async fn login_register_and_refresh_put_the_refresh_token_in_a_strict_http_only_cookie() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "jar@example.com", "password": "a long enough pass 1"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (value, attrs) = refresh_cookie(&r);
    let t: TokenResponse = r.json().await.unwrap();
    assert_eq!(value, t.refresh_token);
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/auth"] {
        assert!(attrs.split("; ").any(|a| a.trim() == attr), "{attr} missing in {attrs}");
    }
    assert!(attrs.contains(&format!("Max-Age={}", t.refresh_expires_in)), "{attrs}");
    assert!(!attrs.contains("Secure"), "plain HTTP: no Secure, or the browser never sends it back");

    let r = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "jar@example.com", "password": "a long enough pass 1"}),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (value, _) = refresh_cookie(&r);
    let t: TokenResponse = r.json().await.unwrap();
    assert_eq!(value, t.refresh_token);

    // behind a TLS-terminating proxy the cookie is Secure
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t.refresh_token}), None)
        .header("x-forwarded-proto", "https")
        .header("forwarded", "proto=https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (value, attrs) = refresh_cookie(&r);
    let t2: TokenResponse = r.json().await.unwrap();
    assert_eq!(value, t2.refresh_token);
    assert!(attrs.contains("; Secure") || attrs.ends_with("Secure"), "{attrs}");
}

#[tokio::test]
async fn refresh_takes_the_token_from_the_cookie_when_the_body_has_none() {
    let app = spawn_app().await;
    let t = app.register("crumb@example.com").await;
    let r = app
        .post_json("/api/auth/refresh", &json!({}), None)
        .header("cookie", format!("theme=dark; retail_refresh={}", t.refresh_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (value, _) = refresh_cookie(&r);
    let t2: TokenResponse = r.json().await.unwrap();
    assert_eq!(value, t2.refresh_token);
    assert_ne!(t2.refresh_token, t.refresh_token);
    let me: User = app.get_json("/api/auth/me", Some(&t2.access_token)).await;
    assert_eq!(me.email, "crumb@example.com");
    // an explicit body token wins over the cookie
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t2.refresh_token}), None)
        .header("cookie", "retail_refresh=garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // neither body nor cookie: 401
    let r = app.post_json("/api/auth/refresh", &json!({}), None).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_with_only_the_cookie_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let t = app.register("leave@example.com").await;
    let r = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("retail_refresh={}", t.refresh_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (value, attrs) = refresh_cookie(&r);
    assert_eq!(value, "");
    assert!(attrs.contains("Max-Age=0") && attrs.contains("Path=/api/auth"), "{attrs}");
    // the session is over for both tokens
    let r = app.get("/api/auth/me", Some(&t.access_token)).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    let r = app
        .post_json("/api/auth/refresh", &json!({"refresh_token": t.refresh_token}), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn logout_with_a_bearer_token_also_clears_the_cookie_and_needs_some_credential() {
    let app = spawn_app().await;
    let t = app.register("both@example.com").await;
    let r = app.client.post(app.url("/api/auth/logout")).bearer_auth(&t.access_token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (value, attrs) = refresh_cookie(&r);
    assert_eq!(value, "");
    assert!(attrs.contains("Max-Age=0"), "{attrs}");
    let r = app.client.post(app.url("/api/auth/logout")).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
}
