use retail_api_types::{Product, ProductList, StockMovementList};
use retail_tests::{TestApp, expect_problem, repo_root, spawn_app, spawn_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

const IMAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

#[tokio::test]
async fn product_pictures_are_svg_cached_for_a_day_revalidated_by_etag_and_cannot_run_script() {
    // no SPA built: the pictures do not depend on it
    let app = spawn_app().await;
    let path = "/images/products/kit-001.svg";
    let r = app.get(path, None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["cache-control"], "public, max-age=86400");
    assert_eq!(h["content-security-policy"], IMAGE_CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\"") && etag.len() > 10, "{etag}");
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..], std::fs::read(repo_root().join("assets/products/kit-001.svg")).unwrap());

    // revalidation: 304 without a body, same validators and caching
    for inm in
        [etag.clone(), etag.trim_start_matches("W/").to_owned(), format!("\"nope\", {etag}"), "*".into()]
    {
        let r = app.get(path, None).header("if-none-match", &inm).send().await.unwrap();
        assert_eq!(r.status(), 304, "{inm}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let r = app.get(path, None).header("if-none-match", "W/\"0000\"").send().await.unwrap();
    assert_eq!(r.status(), 200, "a stale copy gets the picture");
    // gzip for the clients that ask, under the same (weak) tag
    let r = app.get(path, None).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    // HEAD: headers only
    let r = app.client.head(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.bytes().await.unwrap().is_empty());

    for missing in [
        "/images/products/kit-999.svg",
        "/images/products/kit-001",
        "/images/products/kit-001.png",
        "/images/products/KIT-001.svg",
        "/images/products/",
        "/images/products/kit-001.svg/x",
        "/images/nothing",
    ] {
        let r = app.get(missing, None).send().await.unwrap();
        expect_problem(r, 404, "not_found").await;
    }
    let r = app.client.post(app.url(path)).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    expect_problem(r, 405, "method_not_allowed").await;
    // not part of the API contract
    let doc: serde_json::Value = app.get_json("/api/openapi.json", None).await;
    assert!(!doc.to_string().contains("/images/"));
}

/// Sends `GET <target>` as written (an HTTP client would resolve the dot segments first);
/// returns the status and the body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_pictures_or_the_spa() {
    // dist/ inside a directory that holds a secret next to it
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("secret.txt"), "top secret").unwrap();
    let dist = root.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html><body>app</body></html>").unwrap();
    let with_spa = spawn_with(move |s| s.dist_dir = dist).await;
    let without_spa = spawn_app().await;
    let leaks =
        |body: &str| body.contains("top secret") || body.contains("[workspace") || body.contains("<svg");
    // Under /images a name only picks a built-in picture: anything else is a 404.
    let pictures = [
        "/images/products/../../Cargo.toml",
        "/images/products/..%2F..%2FCargo.toml",
        "/images/products/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/images/products/%2e%2e/%2e%2e/Cargo.toml",
        "/images/products/..%5c..%5cCargo.toml",
        "/images/products/..",
        "/images/../../../assets/products/kit-001.svg",
        "/images/products/%2e%2e%2fkit-001.svg",
        "/images/products/.%2Fkit-001.svg",
    ];
    // Elsewhere the SPA's file service (actix-files) refuses the path (400) or keeps `..` at
    // the root of dist/, so the answer is the page; without the SPA, a 404.
    let files = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/dist/../../secret.txt",
        "/./index.html",
    ];
    for (app, spa) in [(&with_spa, true), (&without_spa, false)] {
        for target in pictures {
            let (status, body) = raw_get(app, target).await;
            assert_eq!(status, 404, "{target}: {body}");
            assert!(!leaks(&body), "{target}");
        }
        for target in files {
            let (status, body) = raw_get(app, target).await;
            let page = spa && status == 200 && body == "<html><body>app</body></html>";
            assert!(page || status == 400 || status == 404, "{target}: {status} {body}");
            assert!(!leaks(&body), "{target}");
        }
        let (status, body) = raw_get(app, "/images/products/kit-001.svg").await;
        assert_eq!(status, 200);
        assert!(body.contains("<svg"));
    }
}

#[tokio::test]
async fn every_seeded_product_shows_its_own_picture_and_reseeding_fills_in_only_missing_ones() {
    let app = spawn_app().await;
    app.seed().await;
    let list: ProductList = app.get_json("/api/products?per_page=100", None).await;
    assert_eq!(list.pagination.total as usize, retail_server::seed::catalog_size());
    let mut seen = std::collections::BTreeSet::new();
    // the demo partner's products come from its feed, which carries no pictures
    let own: Vec<_> = list.items.iter().filter(|p| !p.sku.starts_with("DS-")).collect();
    assert_eq!(own.len(), retail_server::seed::product_count());
    for p in own {
        let url = p.image_url.as_deref().unwrap_or_else(|| panic!("{} has no image_url", p.sku));
        assert_eq!(url, format!("/images/products/{}.svg", p.sku.to_ascii_lowercase()));
        let file = repo_root().join("assets/products").join(url.trim_start_matches("/images/products/"));
        assert!(file.is_file(), "{}", file.display());
        let r = app.get(url, None).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(seen.insert(r.bytes().await.unwrap()), "{url} shows another product's picture");
    }

    // Products seeded before there were pictures: one without any, one with an admin's own.
    let admin = app.token_for("admin").await;
    let by_sku = |sku: &str| list.items.iter().find(|p| p.sku == sku).unwrap().clone();
    let (bare, custom) = (by_sku("KIT-001"), by_sku("ELE-002"));
    for (p, image) in [(&bare, ""), (&custom, "https://cdn.example.com/charger.png")] {
        let r = app
            .send_json(
                reqwest::Method::PATCH,
                &format!("/api/admin/products/{}", p.id),
                &json!({ "version": p.version, "image_url": image }),
                Some(&admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let ledger = |id| {
        let (app, admin) = (&app, &admin);
        async move {
            app.get_json::<StockMovementList>(
                &format!("/api/admin/products/{id}/stock-movements"),
                Some(admin),
            )
            .await
            .items
            .len()
        }
    };
    let movements_before = ledger(bare.id).await;
    let get = |id| {
        let app = &app;
        async move { app.get_json::<Product>(&format!("/api/products/{id}"), None).await }
    };
    assert_eq!(get(bare.id).await.image_url, None);

    let report = retail_server::seed::run(&app.state.db).await.unwrap();
    assert_eq!(report.products_created, 0);
    let restored = get(bare.id).await;
    assert_eq!(restored.image_url.as_deref(), Some("/images/products/kit-001.svg"));
    assert_eq!(restored.stock, bare.stock);
    assert_eq!(ledger(bare.id).await, movements_before, "a picture is no stock movement");
    assert_eq!(get(custom.id).await.image_url.as_deref(), Some("https://cdn.example.com/charger.png"));
    // and once every picture is there, a further run changes nothing
    let version = restored.version;
    retail_server::seed::run(&app.state.db).await.unwrap();
    assert_eq!(get(bare.id).await.version, version);
    let again: ProductList = app.get_json("/api/products?per_page=100&sort=name", None).await;
    assert_eq!(again.pagination.total as usize, retail_server::seed::catalog_size());
}
