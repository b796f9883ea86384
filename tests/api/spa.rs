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

    for path in ["/", "/index.html", "/login", "/products/7", "/deep/client/route"] {
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

#[tokio::test]
async fn hashed_assets_are_immutable_and_served_precompressed_while_the_page_is_revalidated() {
    let dist = tempfile::tempdir().unwrap();
    let p = dist.path();
    std::fs::write(p.join("index.html"), "<html><body>app</body></html>").unwrap();
    let js = "retail-frontend-0123456789abcdef.js";
    std::fs::write(p.join(js), "export default function init() {}").unwrap();
    // the bytes are markers, not real compressed data: the test checks which file answers
    std::fs::write(p.join(format!("{js}.br")), b"brotli-bytes").unwrap();
    std::fs::write(p.join(format!("{js}.gz")), b"gzip-bytes").unwrap();
    std::fs::write(p.join("plain.js"), "export const x = 1;").unwrap();
    let d = p.to_path_buf();
    let app = spawn_with(move |s| s.dist_dir = d).await;
    let get = |path: &str, accept: Option<&str>| {
        let mut rb = app.client.get(app.url(path));
        if let Some(a) = accept {
            rb = rb.header("accept-encoding", a);
        }
        rb.send()
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let immutable = "public, max-age=31536000, immutable";

    for (accept, encoding, body) in [
        ("br, gzip", "br", "brotli-bytes"),
        ("gzip, deflate", "gzip", "gzip-bytes"),
        ("br;q=0, gzip", "gzip", "gzip-bytes"),
    ] {
        let r = get(&format!("/{js}"), Some(accept)).await.unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert_eq!(header(&r, "content-encoding"), encoding, "{accept}");
        assert_eq!(header(&r, "cache-control"), immutable, "{accept}");
        assert!(header(&r, "vary").to_ascii_lowercase().contains("accept-encoding"), "{accept}");
        assert!(header(&r, "content-type").contains("javascript"), "{accept}");
        assert_eq!(r.text().await.unwrap(), body, "{accept}: served again by the Compress middleware?");
    }
    let r = get(&format!("/{js}"), None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(header(&r, "cache-control"), immutable);
    assert_eq!(r.text().await.unwrap(), "export default function init() {}");

    // the page itself, client routes and a hashed name that does not exist: index.html, no-cache
    for path in ["/", "/index.html", "/products/7", "/retail-frontend-fedcba9876543210.js"] {
        let r = get(path, Some("br, gzip")).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        assert!(header(&r, "content-type").starts_with("text/html"), "{path}");
    }
    // a file without a hash in its name may change: no long-lived caching
    let r = get("/plain.js", None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!header(&r, "cache-control").contains("immutable"));
}
