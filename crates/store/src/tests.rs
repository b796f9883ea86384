#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use diesel::prelude::*;
use retail_domain::catalog::{NewProduct, NewProductInput, ProductPatch, ProductPatchInput, search_query};
use retail_domain::paging::{PageRequest, ProductSort};

use crate::repo::products::{self, ProductFilter};
use crate::{Db, DbOptions, StoreError, schema};

fn open() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db"), DbOptions::default()).unwrap();
    db.migrate().unwrap();
    (dir, db)
}

fn product(sku: &str, name: &str, cat: &str, price: i64) -> NewProduct {
    NewProduct::parse(NewProductInput {
        sku,
        name,
        description: "a fine thing",
        price_cents: price,
        currency: "EUR",
        category: cat,
        image_url: "",
        initial_stock: 0,
        active: true,
    })
    .unwrap()
}

#[tokio::test]
async fn schema_matches_migrations() {
    let (_d, db) = open();
    db.read(|c| {
        schema::users::table.select(crate::models::UserRow::as_select()).load(c)?;
        schema::sessions::table.select(crate::models::SessionRow::as_select()).load(c)?;
        schema::products::table.select(crate::models::ProductRow::as_select()).load(c)?;
        schema::stock_movements::table.select(crate::models::StockMovementRow::as_select()).load(c)?;
        schema::audit_log::table.select(crate::models::AuditRow::as_select()).load(c)?;
        products::catalog_version(c)?;
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    let (reachable, migrated) = db.readiness().await;
    assert!(reachable && migrated);
}

#[tokio::test]
async fn a_fresh_file_is_not_ready_until_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db"), DbOptions::default()).unwrap();
    assert_eq!(db.readiness().await, (true, false));
    db.migrate().unwrap();
    assert_eq!(db.readiness().await, (true, true));
}

#[tokio::test]
async fn stock_moves_only_through_the_ledger_and_never_below_zero() {
    let (_d, db) = open();
    let (p, after, refused, discrepancies) = db
        .write(|c| {
            let now = Utc::now();
            let p = products::insert(c, &product("A-1", "Kettle", "kitchen", 100), now)?;
            let (after, _) = products::apply_stock_delta(c, p.id, 5, "delivery", None, now)?.unwrap();
            let refused = products::apply_stock_delta(c, p.id, -6, "theft", None, now)?;
            Ok::<_, StoreError>((p, after, refused.is_none(), products::stock_discrepancies(c)?))
        })
        .await
        .unwrap();
    assert_eq!(p.stock, 0);
    assert_eq!(after.stock, 5);
    assert!(refused);
    assert!(discrepancies.is_empty());
}

#[tokio::test]
async fn an_update_with_a_stale_version_changes_nothing() {
    let (_d, db) = open();
    let (first, stale) = db
        .write(|c| {
            let now = Utc::now();
            let p = products::insert(c, &product("A-1", "Kettle", "kitchen", 100), now)?;
            let patch =
                ProductPatch::parse(ProductPatchInput { name: Some("Kettle 2"), ..Default::default() })
                    .unwrap();
            let first = products::update(c, p.id, p.version, &patch, now)?.unwrap();
            let stale = products::update(c, p.id, p.version, &patch, now)?;
            Ok::<_, StoreError>((first, stale))
        })
        .await
        .unwrap();
    assert_eq!(first.version, 2);
    assert_eq!(first.name, "Kettle 2");
    assert!(stale.is_none());
}

#[tokio::test]
async fn a_failed_write_rolls_back_everything() {
    let (_d, db) = open();
    let r = db
        .write(|c| {
            products::insert(c, &product("A-1", "Kettle", "kitchen", 100), Utc::now())?;
            products::insert(c, &product("A-1", "Other", "kitchen", 100), Utc::now())?;
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(matches!(r, Err(StoreError::Unique(ref what)) if what == "products.sku"), "{r:?}");
    let n = db
        .read(|c| {
            products::list(
                c,
                &ProductFilter::default(),
                ProductSort::NameAsc,
                PageRequest::parse(None, None).unwrap(),
            )
        })
        .await
        .unwrap()
        .1;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn search_ranks_and_filters_and_the_catalog_version_moves() {
    let (_d, db) = open();
    let v0 = db.read(products::catalog_version).await.unwrap();
    db.write(|c| {
        let now = Utc::now();
        products::insert(c, &product("K-1", "Electric kettle", "kitchen", 3000), now)?;
        products::insert(c, &product("K-2", "Kettle descaler", "kitchen", 500), now)?;
        products::insert(c, &product("B-1", "Bike bell", "outdoor", 900), now)?;
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    let v1 = db.read(products::catalog_version).await.unwrap();
    assert!(v1 > v0);

    let page = PageRequest::parse(None, None).unwrap();
    let filter = ProductFilter { fts: search_query("kett"), ..Default::default() };
    let (rows, total) =
        db.read(move |c| products::list(c, &filter, ProductSort::PriceAsc, page)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(rows[0].sku, "K-2");

    let filter = ProductFilter { fts: search_query("kettle"), ..Default::default() };
    let (rows, _) = db.read(move |c| products::list(c, &filter, ProductSort::Relevance, page)).await.unwrap();
    assert_eq!(rows.len(), 2);

    let filter = ProductFilter { category: Some("outdoor".into()), ..Default::default() };
    let (rows, total) =
        db.read(move |c| products::list(c, &filter, ProductSort::NameAsc, page)).await.unwrap();
    assert_eq!((total, rows[0].sku.as_str()), (1, "B-1"));

    let cats = db.read(products::categories).await.unwrap();
    assert_eq!(cats, vec![("kitchen".to_owned(), 2), ("outdoor".to_owned(), 1)]);
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let (_d, db) = open();
    let r = db
        .write(|c| {
            crate::repo::audit::record(
                c,
                &crate::repo::audit::AuditEvent {
                    actor_id: None,
                    action: "test",
                    entity_type: "thing",
                    entity_id: "1".into(),
                    detail: serde_json::json!({}),
                },
                Utc::now(),
            )?;
            diesel::sql_query("DELETE FROM audit_log").execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(r.is_err());
}
