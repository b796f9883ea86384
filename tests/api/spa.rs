use retail_tests::{expect_problem, spawn_app, spawn_with};

#[tokio::test]
async fn without_a_built_spa_pages_are_404_problems() {
    let app = spawn_app().await;
    let r = app.get("/", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_spa_is_served_with_a_hash_pinned_csp_and_client_routes_fall_back_to_it() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<html><head><script type=\"module\">import init from '/app.js'; init();</script></head><body></body></html>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "export default function init() {}").unwrap();
    let d = dist.path().to_path_buf();
    let app = spawn_with(move |s| s.dist_dir = d).await;

    for path in ["/", "/login", "/products/7", "/deep/client/route"] {
        let r = app.get(path, None).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
        assert!(r.text().await.unwrap().contains("import init"));
    }
    let r = app.get("/app.js", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));
    // API paths never fall back to the SPA
    let r = app.get("/api/nothing-here", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let r = app.client.post(app.url("/some/page")).send().await.unwrap();
    assert_eq!(r.status(), 405, "pages only answer GET and HEAD");
}
