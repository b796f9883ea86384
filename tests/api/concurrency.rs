use futures::future::join_all;
use retail_api_types::{Product, StockMovementList};
use retail_tests::spawn_app;
use serde_json::json;

/// 40 concurrent "take one" movements against 10 units: exactly 10 succeed, the rest are
/// clean 409s, stock ends at 0 and the ledger agrees with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_stock_removals_never_oversell() {
    let app = spawn_app().await;
    app.seed().await;
    let admin = app.token_for("admin").await;
    let created: Product = app
        .post_json(
            "/api/admin/products",
            &json!({"sku": "RACE-1", "name": "Contested", "price_cents": 100, "currency": "EUR", "category": "test", "initial_stock": 10}),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/admin/products/{}/stock", created.id);
    let body = json!({"delta": -1, "reason": "sold"});
    let results = join_all((0..40).map(|_| app.post_json(&path, &body, Some(&admin)).send())).await;
    let mut ok = 0;
    let mut conflict = 0;
    for r in results {
        match r.unwrap().status().as_u16() {
            200 => ok += 1,
            409 => conflict += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, conflict), (10, 30));
    let p: Product = app.get_json(&format!("/api/products/{}", created.id), None).await;
    assert_eq!(p.stock, 0);
    let ledger: StockMovementList = app
        .get_json(&format!("/api/admin/products/{}/stock-movements?per_page=100", created.id), Some(&admin))
        .await;
    assert_eq!(ledger.items.iter().map(|m| m.delta).sum::<i64>(), 0);
    assert_eq!(ledger.items.len(), 11);
    let bad = app.state.db.read(retail_store::repo::products::stock_discrepancies).await.unwrap();
    assert!(bad.is_empty());
}
