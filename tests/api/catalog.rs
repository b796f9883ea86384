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
    let total = retail_server::seed::catalog_size() as i64;
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
async fn text_search_matches_the_last_word_as_a_prefix_and_ranks() {
    let app = spawn_app().await;
    app.seed().await;
    let r = list(&app, "?q=kett").await;
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].name, "Electric kettle 1.7 l");
    let r = list(&app, "?q=wool").await;
    assert!(r.items.len() >= 3, "{:?}", r.items.iter().map(|p| &p.name).collect::<Vec<_>>());
    let r = list(&app, "?q=wool+socks").await;
    assert_eq!(r.items[0].name, "Merino wool socks");
    // search as you type: the last word may be unfinished, the ones before it are whole words
    let r = list(&app, "?q=merino+wool+so").await;
    assert_eq!(r.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Merino wool socks"]);
    let r = list(&app, "?q=meri+wool+socks").await;
    assert!(r.items.is_empty(), "{:?}", r.items.iter().map(|p| &p.name).collect::<Vec<_>>());
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

// ---- filters: price range, in stock, on sale ------------------------------------------------

/// Every product the list holds for `query` (all pages of 100) and the total it reported.
async fn everything(app: &TestApp, query: &str) -> (Vec<Product>, i64) {
    let mut items = Vec::new();
    for page in 1.. {
        let got = list(app, &format!("?per_page=100&page={page}{query}")).await;
        let done = got.items.len() < 100;
        items.extend(got.items);
        if done {
            return (items, got.pagination.total);
        }
    }
    unreachable!()
}

fn ids(items: &[Product]) -> Vec<i64> {
    let mut ids: Vec<i64> = items.iter().map(|p| p.id.get()).collect();
    ids.sort_unstable();
    ids
}

/// A flash sale live from a second ago for an hour, of `units` of each product at 20 % off.
async fn live_sale_of(app: &TestApp, admin: &str, products: &[i64], units: i64) {
    let starts = chrono::Utc::now() - chrono::Duration::seconds(1);
    let items: Vec<_> = products
        .iter()
        .map(|id| {
            json!({"product_id": id, "discount": {"kind": "percent_off", "basis_points": 2000},
                          "allocated_units": units})
        })
        .collect();
    let body = json!({"name": format!("Filter sale {products:?}"), "starts_at": starts,
                      "ends_at": starts + chrono::Duration::hours(1), "per_customer_cap": 5, "items": items});
    let r = app.post_json("/api/admin/sales", &body, Some(admin)).send().await.unwrap();
    assert_eq!(r.status(), 201, "create sale of {products:?}: {}", r.text().await.unwrap());
}

/// The seeded catalog plus products out of stock and on sale: each filter alone returns
/// exactly the products it describes, with a matching total.
#[tokio::test]
async fn each_filter_alone_keeps_exactly_the_products_it_describes() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    app.product("FLT-OUT", 1250, 0, "filtertest").await;
    let sold_out_on_sale = app.product("FLT-SALE-0", 4000, 2, "filtertest").await;
    let on_sale = app.product("FLT-SALE-1", 999, 10, "filtertest").await;
    live_sale_of(&app, &admin, &[sold_out_on_sale], 2).await;
    live_sale_of(&app, &admin, &[on_sale], 3).await;

    let (all, total) = everything(&app, "").await;
    assert_eq!(total, i64::try_from(all.len()).unwrap());
    type Keep = fn(&Product) -> bool;
    let cases: [(&str, Keep); 6] = [
        ("&min_price_cents=2000", |p| p.price_cents >= 2000),
        ("&max_price_cents=1250", |p| p.price_cents <= 1250),
        ("&min_price_cents=999&max_price_cents=999", |p| p.price_cents == 999),
        ("&min_price_cents=1000&max_price_cents=3000", |p| (1000..=3000).contains(&p.price_cents)),
        ("&in_stock=true", |p| p.stock > 0),
        ("&on_sale=true", |p| p.sale.is_some()),
    ];
    for (query, keep) in cases {
        let want: Vec<Product> = all.iter().filter(|p| keep(p)).cloned().collect();
        assert!(!want.is_empty() && want.len() < all.len(), "{query} should narrow the list");
        let (got, total) = everything(&app, query).await;
        assert_eq!(ids(&got), ids(&want), "{query}");
        assert_eq!(total, i64::try_from(want.len()).unwrap(), "{query}: total");
    }
    let (sale, _) = everything(&app, "&on_sale=true").await;
    assert!(sale.iter().any(|p| p.id.get() == sold_out_on_sale && p.stock == 0), "sold out, still on sale");
    assert!(sale.iter().all(|p| p.sale.is_some()), "every product on sale shows its sale");
    let (stocked, _) = everything(&app, "&in_stock=true").await;
    assert!(stocked.iter().all(|p| p.id.get() != sold_out_on_sale));
    // `false` filters nothing.
    let (unfiltered, _) = everything(&app, "&in_stock=false&on_sale=false").await;
    assert_eq!(ids(&unfiltered), ids(&all));
}

#[tokio::test]
async fn filters_combine_with_search_category_sort_and_paging() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    // (sku, price, stock); the first two go on sale.
    let mut made = Vec::new();
    for (sku, price, stock) in [
        ("FLT-A", 500, 4),
        ("FLT-B", 1500, 6),
        ("FLT-C", 1000, 0),
        ("FLT-D", 2000, 1),
        ("FLT-E", 2500, 3),
        ("FLT-F", 3000, 0),
    ] {
        made.push(app.product(sku, price, stock, "filtertest").await);
    }
    live_sale_of(&app, &admin, &made[..2], 1).await;
    let skus = |l: &ProductList| l.items.iter().map(|p| p.sku.clone()).collect::<Vec<_>>();

    // With the category: price window and stock, cheapest first, two per page.
    let base = "?category=filtertest&min_price_cents=1000&max_price_cents=2500&in_stock=true";
    let p1 = list(&app, &format!("{base}&sort=price&per_page=2&page=1")).await;
    let p2 = list(&app, &format!("{base}&sort=price&per_page=2&page=2")).await;
    assert_eq!((skus(&p1), skus(&p2)), (vec!["FLT-B".into(), "FLT-D".into()], vec!["FLT-E".to_owned()]));
    assert_eq!((p1.pagination.total, p1.pagination.total_pages), (3, 2));
    let dear = list(&app, &format!("{base}&sort=-price")).await;
    assert_eq!(skus(&dear), ["FLT-E", "FLT-D", "FLT-B"]);

    // With a search: relevance and another sort run different statements.
    for sort in ["", "&sort=-price", "&sort=newest"] {
        let r = list(&app, &format!("?q=flt&on_sale=true{sort}")).await;
        let mut got = skus(&r);
        got.sort();
        assert_eq!((got, r.pagination.total), (vec!["FLT-A".into(), "FLT-B".into()], 2), "{sort}");
        let r = list(&app, &format!("?q=flt&max_price_cents=1000&in_stock=false{sort}")).await;
        let mut got = skus(&r);
        got.sort();
        assert_eq!((got, r.pagination.total), (vec!["FLT-A".into(), "FLT-C".into()], 2), "{sort}");
        let r = list(&app, &format!("?q=flt&in_stock=true&on_sale=true&min_price_cents=600{sort}")).await;
        assert_eq!((skus(&r), r.pagination.total), (vec!["FLT-B".into()], 1), "{sort}");
        let r = list(&app, &format!("?q=flt&category=books&on_sale=true{sort}")).await;
        assert_eq!(r.pagination.total, 0, "{sort}");
    }
    // Paging past the end of a filtered list is empty, with the filtered total.
    let r = list(&app, "?category=filtertest&in_stock=true&per_page=2&page=3").await;
    assert!(r.items.is_empty());
    assert_eq!(r.pagination.total, 4);
}

#[tokio::test]
async fn bad_filter_values_name_the_parameter() {
    let app = spawn_app().await;
    for (query, status, field) in [
        ("min_price_cents=-1", 422, "min_price_cents"),
        ("max_price_cents=-100", 422, "max_price_cents"),
        ("min_price_cents=1001&max_price_cents=1000", 422, "min_price_cents"),
        ("min_price_cents=12.50", 400, "min_price_cents"),
        ("max_price_cents=ten", 400, "max_price_cents"),
        ("min_price_cents=99999999999999999999", 400, "min_price_cents"),
        ("in_stock=maybe", 400, "in_stock"),
        ("on_sale=yes", 400, "on_sale"),
        ("q=kettle&category=books&in_stock=1", 400, "in_stock"),
    ] {
        let r = app.get(&format!("/api/products?{query}"), None).send().await.unwrap();
        expect_field(r, status, field).await;
    }
}

/// The page cache keys on every filter: a filtered page is never served for the
/// unfiltered query (or another filter), before or after it is cached, and `false` shares
/// the unfiltered page.
#[tokio::test]
async fn the_page_cache_keeps_filtered_and_unfiltered_pages_apart() {
    let app = spawn_app().await;
    app.seed().await;
    app.product("FLT-OUT", 1, 0, "filtertest").await;
    let unfiltered = "/api/products?category=filtertest";
    let stocked = "/api/products?category=filtertest&in_stock=true";
    let cheap = "/api/products?category=filtertest&max_price_cents=0";
    for round in 0..2 {
        // Filtered first, so the unfiltered page would come from its cache slot if keys mixed.
        for path in [stocked, cheap] {
            let r: ProductList = app.get_json(path, None).await;
            assert_eq!(r.pagination.total, 0, "{path} (round {round})");
        }
        let r: ProductList = app.get_json(unfiltered, None).await;
        assert_eq!(r.pagination.total, 1, "round {round}");
    }
    let etag = |path: &'static str| {
        let app = &app;
        async move { app.get(path, None).send().await.unwrap().headers()["etag"].to_str().unwrap().to_owned() }
    };
    let filtered_tag = etag(stocked).await;
    let r = app.get(unfiltered, None).header("if-none-match", &filtered_tag).send().await.unwrap();
    assert_eq!(r.status(), 200, "the filtered page's ETag must not match the unfiltered page");
    let plain_tag = etag(unfiltered).await;
    let path = "/api/products?category=filtertest&in_stock=false&on_sale=false";
    let r = app.get(path, None).header("if-none-match", &plain_tag).send().await.unwrap();
    assert_eq!(r.status(), 304, "false filters nothing");
}
