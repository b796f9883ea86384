//! Methods: every GET answers HEAD; a wrong method on a known path is 405 with `Allow`.

use reqwest::{Method, Response};
use retail_api_types::ProductList;
use retail_tests::{expect_problem, spawn_app, spawn_with};

fn allow(r: &Response) -> String {
    r.headers().get("allow").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn expect_405(r: Response, allowed: &str) {
    assert_eq!(allow(&r), allowed, "Allow of {}", r.url());
    expect_problem(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    app.seed().await;
    let list: ProductList = app.get_json("/api/products", None).await;
    let id = list.items[0].id;
    for path in [
        "/api/products".to_owned(),
        format!("/api/products/{id}"),
        "/health".into(),
        "/api/categories".into(),
    ] {
        let get = app.get(&path, None).send().await.unwrap();
        assert_eq!(get.status(), 200, "GET {path}");
        let get_headers = get.headers().clone();
        let get_len = get.bytes().await.unwrap().len();
        let head = app.client.head(app.url(&path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(head.headers().get("etag"), get_headers.get("etag"), "{path}");
        assert_eq!(head.headers().get("content-type"), get_headers.get("content-type"), "{path}");
        if let Some(len) = head.headers().get("content-length") {
            assert_eq!(len.to_str().unwrap(), get_len.to_string(), "{path}");
        }
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has a body");
    }
    // conditional HEAD works as conditional GET
    let etag = app.get("/api/products", None).send().await.unwrap().headers()["etag"].clone();
    let r = app.client.head(app.url("/api/products")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_an_unknown_path_is_404() {
    let app = spawn_app().await;
    let trace = Method::from_bytes(b"TRACE").unwrap();
    let r = app.client.request(trace.clone(), app.url("/health")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;
    let r = app.client.request(trace, app.url("/api/products")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;
    let r = app.client.delete(app.url("/api/products")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;
    let r = app.client.put(app.url("/api/products/7")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;
    // the method is checked before the caller: an anonymous DELETE is still a 405
    let r = app.client.delete(app.url("/api/admin/products")).send().await.unwrap();
    expect_405(r, "POST").await;
    let r = app.client.get(app.url("/api/auth/login")).send().await.unwrap();
    expect_405(r, "POST").await;
    let r = app.client.post(app.url("/api/openapi.json")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;

    let r = app.get("/api/no-such", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let r = app.client.delete(app.url("/api/no-such/7")).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    // without a built SPA, other paths are unknown
    let r = app.client.post(app.url("/login")).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_spa_answers_head_and_refuses_other_methods_with_allow() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html><body>app</body></html>").unwrap();
    std::fs::write(dist.path().join("app.js"), "export default function init() {}").unwrap();
    let d = dist.path().to_path_buf();
    let app = spawn_with(move |s| s.dist_dir = d).await;
    for path in ["/", "/index.html", "/login", "/products/7", "/app.js"] {
        let get = app.get(path, None).send().await.unwrap();
        let get_type = get.headers()["content-type"].clone();
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(head.headers()["content-type"], get_type, "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has a body");
    }
    for path in ["/login", "/", "/app.js"] {
        let r = app.client.post(app.url(path)).send().await.unwrap();
        expect_405(r, "GET, HEAD").await;
    }
    // API paths keep their own answers
    let r = app.get("/api/no-such", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let r = app.client.delete(app.url("/api/products")).send().await.unwrap();
    expect_405(r, "GET, HEAD").await;
}
