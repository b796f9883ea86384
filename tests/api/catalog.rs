use retail_api_types::{CategoryCount, Product, ProductList};
use retail_tests::{TestApp, expect_field, expect_problem, spawn_app, spawn_with};
use serde_json::json;

async fn list(app: &TestApp, query: &str) -> ProductList {
    let r = app.get(&format!("/api/products{query}"), None).send().await.unwrap();
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_list_is_paginated_with_totals() {
    let app = spawn_app().await;
    app.seed().await;
    let total = retail_server::seed::product_count() as i64;
    let first = list(&app, "").await;
    assert_eq!(first.items.len(), 20);
    assert_eq!(first.pagination.total, total);
    assert_eq!(first.pagination.total_pages, (total + 19) / 20);
    let p2 = list(&app, "?per_page=5&page=2").await;
    assert_eq!(p2.items.len(), 5);
    let p1 = list(&app, "?per_page=5&page=1").await;
    assert!(p1.items.iter().all(|a| p2.items.iter().all(|b| a.id != b.id)));
    let beyond = list(&app, "?page=99").await;
    assert!(beyond.items.is_empty());
}

#[tokio::test]
async fn sorting_and_category_filter_work() {
    let app = spawn_app().await;
    app.seed().await;
    let cheap = list(&app, "?sort=price&per_page=100").await;
    assert!(cheap.items.windows(2).all(|w| w[0].price_cents <= w[1].price_cents));
    let dear = list(&app, "?sort=-price&per_page=100").await;
    assert!(dear.items.windows(2).all(|w| w[0].price_cents >= w[1].price_cents));
    let by_name = list(&app, "?sort=name&per_page=100").await;
    assert!(by_name.items.windows(2).all(|w| w[0].name <= w[1].name));
    let books = list(&app, "?category=Books&per_page=100").await;
    assert!(!books.items.is_empty());
    assert!(books.items.iter().all(|p| p.category == "books"));
    let cats: Vec<CategoryCount> = app.get_json("/api/categories", None).await;
    let n = cats.iter().find(|c| c.category == "books").unwrap().product_count;
    assert_eq!(n, books.pagination.total);
}

#[tokio::test]
async fn text_search_matches_word_prefixes_and_ranks() {
    let app = spawn_app().await;
    app.seed().await;
    let r = list(&app, "?q=kett").await;
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].name, "Electric kettle 1.7 l");
    let r = list(&app, "?q=wool").await;
    assert!(r.items.len() >= 3, "{:?}", r.items.iter().map(|p| &p.name).collect::<Vec<_>>());
    let r = list(&app, "?q=wool+socks").await;
    assert_eq!(r.items[0].name, "Merino wool socks");
    let r = list(&app, "?q=%22%29+OR+1%3D1+--").await;
    assert!(r.items.is_empty(), "FTS syntax in user input must be inert");
}

#[tokio::test]
async fn bad_list_queries_name_the_parameter() {
    let app = spawn_app().await;
    let r = app.get("/api/products?page=0", None).send().await.unwrap();
    expect_field(r, 422, "page").await;
    let r = app.get("/api/products?per_page=1000", None).send().await.unwrap();
    expect_field(r, 422, "per_page").await;
    let r = app.get("/api/products?page=abc", None).send().await.unwrap();
    expect_field(r, 400, "page").await;
    let r = app.get("/api/products?sort=cheapest", None).send().await.unwrap();
    expect_field(r, 422, "sort").await;
}

#[tokio::test]
async fn the_list_answers_304_until_the_catalog_changes() {
    let app = spawn_app().await;
    app.seed().await;
    let r = app.get("/api/products?per_page=3", None).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let before: ProductList = r.json().await.unwrap();
    let r = app.get("/api/products?per_page=3", None).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    // a change anywhere in the catalog invalidates the cached page and its ETag
    let admin = app.token_for("admin").await;
    let target = &before.items[0];
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/admin/products/{}", target.id),
            &json!({"version": target.version, "name": "Renamed AAA product"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.get("/api/products?per_page=3", None).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
    let after: ProductList = r.json().await.unwrap();
    let renamed = after
        .items
        .iter()
        .chain(list(&app, "?per_page=100").await.items.iter())
        .find(|p| p.id == target.id)
        .cloned();
    assert_eq!(renamed.unwrap().name, "Renamed AAA product");
}

#[tokio::test]
async fn a_stock_change_shows_in_the_list_within_its_ttl_with_a_new_etag() {
    const TTL_MS: u64 = 1_500;
    let app = spawn_with(|s| s.cache.product_list_ttl_ms = TTL_MS).await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let path = "/api/products?per_page=3";
    let built = std::time::Instant::now();
    let r = app.get(path, None).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let before: ProductList = r.json().await.unwrap();
    let target = before.items[0].clone();

    let r = app
        .post_json(
            &format!("/api/admin/products/{}/stock", target.id),
            &json!({"delta": 7, "reason": "delivery"}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let adjusted = std::time::Instant::now();
    // Product detail reads stock live.
    let p: Product = app.get_json(&format!("/api/products/{}", target.id), None).await;
    assert_eq!(p.stock, target.stock + 7);
    // The cached page survives the sale (no catalog-version bump) while it is young enough...
    let r = app.get(path, None).header("if-none-match", &etag).send().await.unwrap();
    if built.elapsed().as_millis() < u128::from(TTL_MS) / 2 {
        assert_eq!(r.status(), 304, "a stock change threw the cached page away");
    }
    // ...and the list shows the new stock, under a new ETag, within the TTL.
    let deadline = adjusted + std::time::Duration::from_millis(TTL_MS + 2_000);
    let (new_etag, after) = loop {
        let r = app.get(path, None).header("if-none-match", &etag).send().await.unwrap();
        if r.status() == 200 {
            let new_etag = r.headers()["etag"].to_str().unwrap().to_owned();
            let page: ProductList = r.json().await.unwrap();
            break (new_etag, page);
        }
        assert_eq!(r.status(), 304);
        assert!(std::time::Instant::now() < deadline, "the list still shows the old stock");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let shown = after.items.iter().find(|x| x.id == target.id).unwrap();
    assert_eq!(shown.stock, target.stock + 7);
    assert_ne!(new_etag, etag, "the page changed, so must its ETag");
    let r = app.get(path, None).header("if-none-match", &new_etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = app.get(path, None).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 200, "the old ETag must not match the new page");
}

#[tokio::test]
async fn product_detail_has_an_etag_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    app.seed().await;
    let r = app.get("/api/products/1", None).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let p: Product = r.json().await.unwrap();
    assert_eq!(p.id.get(), 1);
    let r = app.get("/api/products/1", None).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = app.get("/api/products/999999", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let r = app.get("/api/products/abc", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn deactivated_products_are_hidden_from_shoppers_but_not_from_admins() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let p: Product = app.get_json("/api/products/2", None).await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            "/api/admin/products/2",
            &json!({"version": p.version, "active": false}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.get("/api/products/2", None).send().await.unwrap();
    expect_problem(r, 404, "not_found").await;
    let public = list(&app, "?per_page=100").await;
    assert!(public.items.iter().all(|x| x.id.get() != 2));
    let r = app.get("/api/products/2", Some(&admin)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.get("/api/products?per_page=100&include_inactive=true", Some(&admin)).send().await.unwrap();
    let all: ProductList = r.json().await.unwrap();
    assert!(all.items.iter().any(|x| x.id.get() == 2 && !x.active));
    let customer = app.token_for("customer").await;
    let r = app.get("/api/products?include_inactive=true", Some(&customer)).send().await.unwrap();
    expect_problem(r, 403, "forbidden").await;
    let r = app.get("/api/products?include_inactive=true", None).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
}
