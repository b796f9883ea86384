use retail_tests::{expect_field, expect_problem, spawn_app, spawn_with};
use serde_json::json;

#[tokio::test]
async fn unknown_api_routes_get_a_404_problem() {
    let app = spawn_app().await;
    let r = app.get("/api/does/not/exist", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    // a known path with a wrong method is 405 with Allow (tests/api/methods.rs)
    let r = app.client.delete(app.url("/api/products")).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    expect_problem(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_a_400_and_writes_nothing() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": \"a@b.co\", ")
        .send()
        .await
        .unwrap();
    expect_problem(r, 400, "malformed_json").await;
    let users = app.state.db.read(retail_store::repo::users::count).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn wrong_types_and_missing_fields_name_the_field() {
    let app = spawn_app().await;
    let r = app
        .post_json("/api/auth/login", &json!({"email": "a@b.co", "password": 123}), None)
        .send()
        .await
        .unwrap();
    expect_field(r, 422, "password").await;
    let r = app.post_json("/api/auth/login", &json!({"email": "a@b.co"}), None).send().await.unwrap();
    expect_field(r, 422, "password").await;
    let r = app.post_json("/api/auth/register", &json!([1, 2]), None).send().await.unwrap();
    expect_problem(r, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_415() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    expect_problem(r, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let app = spawn_with(|s| s.limits.max_body_bytes = 1024).await;
    let big = "x".repeat(4096);
    let r = app
        .post_json("/api/auth/register", &json!({"email": "a@b.co", "password": big}), None)
        .send()
        .await
        .unwrap();
    expect_problem(r, 413, "payload_too_large").await;
    // also when streamed without a Content-Length
    let body = reqwest::Body::wrap_stream(futures::stream::iter(vec![Ok::<_, std::io::Error>(
        format!("{{\"email\":\"{big}\"}}").into_bytes(),
    )]));
    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    expect_problem(r, 413, "payload_too_large").await;
}
