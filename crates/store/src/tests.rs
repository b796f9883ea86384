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
        returnable: None,
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
        schema::retired_refresh_tokens::table
            .select((
                schema::retired_refresh_tokens::refresh_hash,
                schema::retired_refresh_tokens::session_id,
                schema::retired_refresh_tokens::retired_at,
            ))
            .load::<(String, String, chrono::DateTime<chrono::Utc>)>(c)?;
        schema::idempotency_keys::table.select(crate::models::IdempotencyRow::as_select()).load(c)?;
        schema::cart_lines::table.select(crate::models::CartLineRow::as_select()).load(c)?;
        schema::orders::table.select(crate::models::OrderRow::as_select()).load(c)?;
        schema::order_lines::table.select(crate::models::OrderLineRow::as_select()).load(c)?;
        schema::payments::table.select(crate::models::PaymentRow::as_select()).load(c)?;
        schema::store_credit_entries::table.select(crate::models::CreditEntryRow::as_select()).load(c)?;
        schema::sales::table.select(crate::models::SaleRow::as_select()).load(c)?;
        schema::sale_items::table.select(crate::models::SaleItemRow::as_select()).load(c)?;
        schema::sale_reservations::table.select(crate::models::ReservationRow::as_select()).load(c)?;
        schema::rmas::table.select(crate::models::RmaRow::as_select()).load(c)?;
        schema::rma_lines::table.select(crate::models::RmaLineRow::as_select()).load(c)?;
        schema::rma_events::table.select(crate::models::RmaEventRow::as_select()).load(c)?;
        schema::rma_photos::table.select(crate::models::RmaPhotoRow::as_select()).load(c)?;
        schema::rma_effects::table.select(crate::models::RmaEffectRow::as_select()).load(c)?;
        schema::outbox::table.select(crate::models::OutboxRow::as_select()).load(c)?;
        schema::notifications::table.select(crate::models::NotificationRow::as_select()).load(c)?;
        schema::notification_prefs::table.select(crate::models::NotificationPrefsRow::as_select()).load(c)?;
        schema::worker_heartbeats::table
            .select((
                schema::worker_heartbeats::worker,
                schema::worker_heartbeats::beat_at,
                schema::worker_heartbeats::passes,
                schema::worker_heartbeats::last_report,
            ))
            .load::<(String, chrono::DateTime<chrono::Utc>, i64, String)>(c)?;
        schema::partners::table.select(crate::models::PartnerRow::as_select()).load(c)?;
        schema::partner_keys::table.select(crate::models::PartnerKeyRow::as_select()).load(c)?;
        schema::feed_jobs::table.select(crate::models::FeedJobRow::as_select()).load(c)?;
        schema::feed_jobs::table.select(schema::feed_jobs::body).load::<Option<Vec<u8>>>(c)?;
        schema::feed_row_errors::table
            .select((
                schema::feed_row_errors::id,
                schema::feed_row_errors::job_id,
                schema::feed_row_errors::row_num,
                schema::feed_row_errors::field,
                schema::feed_row_errors::reason,
            ))
            .load::<(i64, i64, i64, String, String)>(c)?;
        schema::feed_schedules::table.select(crate::models::FeedScheduleRow::as_select()).load(c)?;
        schema::feed_schedule_runs::table.select(crate::models::ScheduleRunRow::as_select()).load(c)?;
        schema::products::table.select(schema::products::partner_id).load::<Option<i64>>(c)?;
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

/// The counted and the kept number of active products, and the unfiltered list's total.
fn active_counts(c: &mut crate::Conn) -> Result<(i64, i64, i64), StoreError> {
    use diesel::dsl::count_star;
    let counted: i64 = crate::schema::products::table
        .filter(crate::schema::products::active.eq(true))
        .select(count_star())
        .get_result(c)?;
    let (_, total) = products::list(
        c,
        &ProductFilter::default(),
        ProductSort::NameAsc,
        PageRequest::parse(None, None).unwrap(),
    )?;
    Ok((counted, products::active_products(c)?, total))
}

#[tokio::test]
async fn the_kept_count_of_active_products_follows_every_write() {
    use crate::repo::{feeds, partners};
    let (_d, db) = open();
    let seen = |db: &Db| {
        let db = db.clone();
        async move { db.read(active_counts).await.unwrap() }
    };
    assert_eq!(seen(&db).await, (0, 0, 0));
    let (a, b) = db
        .write(|c| {
            let now = Utc::now();
            let a = products::insert(c, &product("C-1", "Cup", "kitchen", 300), now)?;
            let b = products::insert(c, &product("C-2", "Cap", "outdoor", 900), now)?;
            Ok::<_, StoreError>((a, b))
        })
        .await
        .unwrap();
    assert_eq!(seen(&db).await, (2, 2, 2));
    // a feed's products, in one statement
    db.write_alone(|c| {
        let now = Utc::now();
        let f = partners::PartnerFields {
            name: Some("S"),
            contact_email: Some("s@s.test"),
            ..Default::default()
        };
        let p = partners::insert(c, &f, now)?.unwrap();
        let item = |sku| feeds::FeedProduct {
            sku,
            name: "Fed",
            description: "",
            price_cents: 1,
            currency: "EUR",
            category: "feed",
            stock: 0,
        };
        feeds::create_products(c, p.id, &[item("F-1"), item("F-2"), item("F-3")], "feed job 1", now)
    })
    .await
    .unwrap();
    assert_eq!(seen(&db).await, (5, 5, 5));
    // deactivated, edited while inactive (no change to `active`), reactivated
    let first = a.clone();
    db.write(move |c| deactivate(c, &first)).await.unwrap();
    assert_eq!(seen(&db).await, (4, 4, 4));
    db.write(move |c| {
        let patch =
            ProductPatch::parse(ProductPatchInput { price_cents: Some(350), ..Default::default() }).unwrap();
        products::update(c, a.id, a.version + 1, &patch, Utc::now())?.unwrap();
        let patch =
            ProductPatch::parse(ProductPatchInput { active: Some(true), ..Default::default() }).unwrap();
        products::update(c, a.id, a.version + 2, &patch, Utc::now())?.unwrap();
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    assert_eq!(seen(&db).await, (5, 5, 5));
    // a stock change leaves it; a deleted product (only ever by hand, one without a ledger)
    db.write(move |c| {
        products::apply_stock_delta(c, b.id, 4, "restock", None, Utc::now())?;
        let fed = products::by_sku(c, "F-1")?.unwrap();
        diesel::delete(crate::schema::products::table.find(fed.id)).execute(c)?;
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    assert_eq!(seen(&db).await, (4, 4, 4));
}

/// Every block of the full-text index's storage: any write to the index changes it.
fn fts_storage(c: &mut crate::Conn) -> Vec<(i64, Option<Vec<u8>>)> {
    use diesel::sql_types::{BigInt, Binary, Nullable};
    #[derive(QueryableByName)]
    struct Block {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Nullable<Binary>)]
        block: Option<Vec<u8>>,
    }
    let rows: Vec<Block> =
        diesel::sql_query("SELECT id, block FROM products_fts_data ORDER BY id").load(c).unwrap();
    rows.into_iter().map(|b| (b.id, b.block)).collect()
}

/// The catalog version and the index's storage, as committed.
async fn catalog_state(db: &Db) -> (i64, Vec<(i64, Option<Vec<u8>>)>) {
    db.read(|c| Ok::<_, StoreError>((products::catalog_version(c)?, fts_storage(c)))).await.unwrap()
}

#[tokio::test]
async fn a_stock_change_neither_reindexes_nor_moves_the_catalog_version_and_an_edit_does() {
    let (_d, db) = open();
    let p = db
        .write(|c| {
            let now = Utc::now();
            let p = products::insert(c, &product("K-1", "Electric kettle", "kitchen", 3000), now)?;
            products::apply_stock_delta(c, p.id, 10, "delivery", None, now)?.unwrap();
            Ok::<_, StoreError>(p)
        })
        .await
        .unwrap();
    let (v0, fts0) = catalog_state(&db).await;

    // A sale and a restock, each committed: stock and updated_at change, nothing else.
    for (delta, reason) in [(-3, "sale"), (1, "return")] {
        db.write(move |c| products::apply_stock_delta(c, p.id, delta, reason, None, Utc::now()))
            .await
            .unwrap()
            .unwrap();
    }
    let (v, fts) = catalog_state(&db).await;
    assert_eq!(v, v0, "a stock change moved the catalog version");
    assert!(fts == fts0, "a stock change re-indexed the search text");

    let edit = |version: i64, input: ProductPatchInput<'static>| {
        let patch = ProductPatch::parse(input).unwrap();
        db.write(move |c| products::update(c, p.id, version, &patch, Utc::now()))
    };
    // A price change is shown by lists but is not searchable text.
    let p1 = edit(p.version, ProductPatchInput { price_cents: Some(2500), ..Default::default() })
        .await
        .unwrap()
        .unwrap();
    let (v1, fts) = catalog_state(&db).await;
    assert!(v1 > v0, "a price change must move the catalog version");
    assert!(fts == fts0, "a price change re-indexed the search text");

    // A rename does both, and search follows it.
    let p2 = edit(p1.version, ProductPatchInput { name: Some("Stovetop whistler"), ..Default::default() })
        .await
        .unwrap()
        .unwrap();
    let (v2, fts) = catalog_state(&db).await;
    assert!(v2 > v1, "a rename must move the catalog version");
    assert!(fts != fts0, "a rename must re-index the search text");
    let find = |q: &'static str| {
        let f = ProductFilter { fts: search_query(q), ..Default::default() };
        let page = PageRequest::parse(None, None).unwrap();
        db.read(move |c| products::list(c, &f, ProductSort::Relevance, page))
    };
    assert_eq!(find("whistler").await.unwrap().0.first().map(|r| r.id), Some(p.id));
    assert!(find("kettle").await.unwrap().0.is_empty(), "the old name is still indexed");

    // Deactivating moves the version too; the stock ledger still balances.
    edit(p2.version, ProductPatchInput { active: Some(false), ..Default::default() }).await.unwrap().unwrap();
    assert!(catalog_state(&db).await.0 > v2);
    assert!(db.read(products::stock_discrepancies).await.unwrap().is_empty());
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

fn described(sku: &str, name: &str, description: &str, cat: &str) -> NewProduct {
    NewProduct::parse(NewProductInput {
        sku,
        name,
        description,
        price_cents: 100,
        currency: "EUR",
        category: cat,
        image_url: "",
        initial_stock: 0,
        active: true,
        returnable: None,
    })
    .unwrap()
}

/// IDs of the active products matching `fts`, best bm25 first and ties by ID: the order the
/// catalog promises, computed on the index alone.
fn oracle(c: &mut crate::Conn, fts: &str) -> Vec<i64> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    diesel::sql_query(
        "SELECT rowid AS id FROM products_fts WHERE products_fts MATCH ? \
         AND rowid IN (SELECT id FROM products WHERE active = 1) ORDER BY rank, rowid",
    )
    .bind::<diesel::sql_types::Text, _>(fts)
    .load::<Id>(c)
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

/// Every page of `list_with_rank_window`, concatenated, and the totals it reported.
fn all_pages(c: &mut crate::Conn, f: &ProductFilter, per_page: u32, window: i64) -> (Vec<i64>, Vec<i64>) {
    let (mut ids, mut totals) = (Vec::new(), Vec::new());
    for page in 1.. {
        let page = PageRequest::parse(Some(page), Some(per_page)).unwrap();
        let (rows, total) =
            products::list_with_rank_window(c, f, ProductSort::Relevance, page, window).unwrap();
        totals.push(total);
        if rows.is_empty() {
            break;
        }
        ids.extend(rows.iter().map(|r| r.id));
    }
    (ids, totals)
}

/// Deactivates `p` (an edit at its current version).
fn deactivate(c: &mut crate::Conn, p: &crate::models::ProductRow) -> Result<(), StoreError> {
    let patch = ProductPatch::parse(ProductPatchInput { active: Some(false), ..Default::default() }).unwrap();
    products::update(c, p.id, p.version, &patch, Utc::now())?.unwrap();
    Ok(())
}

/// A catalog where bm25 tells products apart (term frequency, length, column) and also
/// ties them (identical text), with one deactivated match that must not show.
async fn ranking_catalog(db: &Db) {
    db.write(|c| {
        let now = Utc::now();
        let items = [
            ("K-1", "Kettle", "kettle kettle kettle", "kitchen"),
            (
                "K-2",
                "Steel kettle",
                "a long description of a steel thing for the kitchen and more",
                "kitchen",
            ),
            ("K-3", "Kettle", "kettle kettle kettle", "kitchen"),
            ("K-4", "Teapot", "not a kettle but close to one, really quite close indeed", "kitchen"),
            ("K-5", "Kettle descaler", "keeps a kettle clean", "cleaning"),
            ("K-6", "Kettlebell 12 kg", "kettlebell", "sports"),
            ("K-7", "Kettle", "kettle kettle kettle", "kitchen"),
            ("B-1", "Bike bell", "ring ring", "outdoor"),
        ];
        for (sku, name, desc, cat) in items {
            products::insert(c, &described(sku, name, desc, cat), now)?;
        }
        let hidden =
            products::insert(c, &described("K-8", "Kettle", "kettle kettle kettle", "kitchen"), now)?;
        deactivate(c, &hidden)?;
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn relevance_puts_the_best_bm25_rank_first_and_breaks_ties_by_id() {
    let (_d, db) = open();
    ranking_catalog(&db).await;
    db.read(|c| {
        let fts = search_query("kett").unwrap();
        let expected = oracle(c, &fts);
        assert_eq!(expected.len(), 7, "K-8 is inactive, B-1 does not match");
        // identical products tie on rank: IDs 1, 3, 7 in that order, ahead of the rest
        assert_eq!(expected[..3], [1, 3, 7]);
        let f = ProductFilter { fts: Some(fts), ..Default::default() };
        for per_page in [1, 2, 3, 20] {
            let (ids, totals) = all_pages(c, &f, per_page, products::RANK_WINDOW);
            assert_eq!(ids, expected, "per_page {per_page}");
            assert!(totals.iter().all(|&t| t == 7), "{totals:?}");
        }
        let f = ProductFilter {
            fts: search_query("kettle"),
            category: Some("kitchen".into()),
            include_inactive: true,
            ..Default::default()
        };
        let page = PageRequest::parse(None, None).unwrap();
        let (rows, total) = products::list(c, &f, ProductSort::Relevance, page)?;
        let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
        assert_eq!((total, &skus[..4]), (6, &["K-1", "K-3", "K-7", "K-8"][..]));
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn past_the_rank_window_the_newest_matches_are_ranked_and_older_ones_follow() {
    let (_d, db) = open();
    ranking_catalog(&db).await;
    db.read(|c| {
        let fts = search_query("k").unwrap();
        let f = ProductFilter { fts: Some(fts.clone()), ..Default::default() };
        let ranked = oracle(c, &fts);
        assert_eq!(ranked.len(), 7);
        // window of 4: the 4 newest matches (IDs 7, 6, 5, 4) in rank order, then 3, 2, 1
        let window: Vec<i64> = ranked.iter().copied().filter(|&id| id >= 4).collect();
        let expected: Vec<i64> = window.into_iter().chain([3, 2, 1]).collect();
        for per_page in [1, 3, 4, 5, 20] {
            let (ids, totals) = all_pages(c, &f, per_page, 4);
            assert_eq!(ids, expected, "per_page {per_page}");
            assert!(totals.iter().all(|&t| t == 7), "{totals:?}");
        }
        // a window as large as the matches is the exact ranking
        assert_eq!(all_pages(c, &f, 3, 7).0, ranked);
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

/// A broad search (more matches than the rank window) reports the same total whichever way
/// it counts: from the index less the few deactivated matches, with deactivated products
/// included, with another filter (the join), and with more deactivated products than are
/// checked one by one (the join again).
#[tokio::test]
async fn a_broad_search_counts_the_same_from_the_index_as_through_the_join() {
    let (_d, db) = open();
    db.write(|c| {
        let now = Utc::now();
        for i in 0..120 {
            let cat = if i % 3 == 0 { "home" } else { "kitchen" };
            let p =
                products::insert(c, &described(&format!("A-{i}"), &format!("Amber lamp {i}"), "", cat), now)?;
            // IDs 1..=120; every 40th and, below, more: deactivated
            if i % 40 == 0 {
                deactivate(c, &p)?;
            }
        }
        products::insert(c, &described("B-1", "Brass kettle", "", "kitchen"), now)?;
        let hidden = products::insert(c, &described("B-2", "Brass bowl", "", "kitchen"), now)?;
        deactivate(c, &hidden)?;
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    let total = |c: &mut crate::Conn, f: &ProductFilter| {
        let page = PageRequest::parse(None, None).unwrap();
        products::list_with_rank_window(c, f, ProductSort::Relevance, page, 2).unwrap().1
    };
    let amber = || ProductFilter { fts: search_query("amb"), ..Default::default() };
    db.read(move |c| {
        // 120 amber lamps, 3 of them deactivated; 4 deactivated products in all
        assert_eq!(total(c, &amber()), 117);
        assert_eq!(total(c, &ProductFilter { include_inactive: true, ..amber() }), 120);
        assert_eq!(total(c, &ProductFilter { category: Some("home".into()), ..amber() }), 39);
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    // more deactivated products than are checked one by one: the join counts
    db.write(|c| {
        for id in 2..=40 {
            let p = products::by_id(c, id)?.unwrap();
            deactivate(c, &p)?;
        }
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    db.read(move |c| {
        assert_eq!(total(c, &amber()), 78, "IDs 1..=41 and 81 are deactivated");
        assert_eq!(total(c, &ProductFilter { include_inactive: true, ..amber() }), 120);
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

/// The plan of every statement `list` runs for a relevance-sorted one-letter search over a
/// few thousand products: the FTS index drives one join with `products` by primary key, and
/// nothing runs once per row (the old ORDER BY ran a `MATCH` subquery for each product).
#[tokio::test]
async fn relevance_search_is_one_join_driven_by_the_index_not_a_subquery_per_row() {
    use diesel::connection::InstrumentationEvent;
    use std::sync::{Arc, Mutex};

    let (_d, db) = open();
    db.write(|c| {
        let now = Utc::now();
        let names = ["Amber lamp", "Brass kettle", "Cotton apron", "Ash board", "Steel pan"];
        for i in 0..3000 {
            let name = format!("{} {i}", names[i % names.len()]);
            let sku = format!("P-{i}");
            products::insert(c, &described(&sku, &name, "a thing", "home"), now)?;
        }
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();

    let (plans, total, first) = db
        .read(|c| {
            let seen: Arc<Mutex<Vec<String>>> = Arc::default();
            let log = seen.clone();
            c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { query, .. } = e {
                    log.lock().unwrap().push(query.to_string());
                }
            });
            let f = ProductFilter { fts: search_query("a"), ..Default::default() };
            let (rows, total) =
                products::list(c, &f, ProductSort::Relevance, PageRequest::parse(None, None).unwrap())?;
            c.set_instrumentation(|_: InstrumentationEvent<'_>| {});
            #[derive(QueryableByName)]
            struct Step {
                #[diesel(sql_type = diesel::sql_types::Text)]
                detail: String,
            }
            let statements = seen.lock().unwrap().clone();
            let mut plans = Vec::new();
            for s in statements.iter().filter(|s| s.contains("products_fts")) {
                let sql = s.split(" -- binds: ").next().unwrap();
                let steps = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load::<Step>(c)?;
                plans.push(steps.into_iter().map(|s| s.detail).collect::<Vec<_>>());
            }
            Ok::<_, StoreError>((plans, total, rows[0].id))
        })
        .await
        .unwrap();
    assert_eq!(total, 3000, "every product has an `a` word");
    assert!(first > 0);
    assert!(!plans.is_empty());
    for plan in &plans {
        assert!(!plan.iter().any(|s| s.contains("CORRELATED") || s.contains("SUBQUERY")), "{plan:#?}");
        let fts = plan.iter().position(|s| s.starts_with("SCAN products_fts VIRTUAL TABLE"));
        let join = plan.iter().position(|s| s.starts_with("SEARCH p USING INTEGER PRIMARY KEY"));
        assert!(matches!((fts, join), (Some(a), Some(b)) if a < b), "{plan:#?}");
    }
}

/// The bundled SQLite is built with the query planner stability guarantee (see
/// `.cargo/config.toml`): without it a bound `LIMIT ?` is folded into the plan, and every new
/// value re-prepares the statement.
#[tokio::test]
async fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
    let (_d, db) = open();
    let used: i64 = db
        .read(|c| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "sqlite_compileoption_used('ENABLE_QPSG')",
            ))
            .get_result(c)
            .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(used, 1, "build with LIBSQLITE3_FLAGS=SQLITE_ENABLE_QPSG (.cargo/config.toml)");
}

/// The writer cuts the log back to 64 MiB whenever it starts over, however large a feed
/// made it.
#[tokio::test]
async fn the_writer_bounds_the_log_it_keeps() {
    let (_d, db) = open();
    let limit: i64 = db
        .write(|c| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT journal_size_limit FROM pragma_journal_size_limit)",
            ))
            .get_result(c)
            .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(limit, 64 * 1024 * 1024);
}

/// A search's statements stay prepared: the first search prepares each statement it runs
/// (the full-text one, and the one that reads its page's products by ID through
/// `json_each`), a second of the same shape (same filters, other words, another number of
/// matches) runs only statements already prepared, and a new shape prepares its own. The
/// products of a page are looked up by primary key.
#[tokio::test]
async fn search_statements_are_prepared_once_per_shape_and_then_reused() {
    use diesel::connection::InstrumentationEvent;
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Seen {
        prepared: Vec<String>,
        started: Vec<String>,
    }
    let (_d, db) = open();
    ranking_catalog(&db).await;
    let (first, again, other, plan) = db
        .search(|c| {
            let seen: Arc<Mutex<Seen>> = Arc::default();
            let log = seen.clone();
            c.set_instrumentation(move |e: InstrumentationEvent<'_>| match e {
                InstrumentationEvent::CacheQuery { sql, .. } => {
                    log.lock().unwrap().prepared.push(sql.to_owned())
                }
                InstrumentationEvent::StartQuery { query, .. } => {
                    let q = query.to_string();
                    log.lock()
                        .unwrap()
                        .started
                        .push(q.split(" -- binds: ").next().unwrap_or_default().to_owned());
                }
                _ => {}
            });
            let page = PageRequest::parse(None, None).unwrap();
            let taken = || std::mem::take(&mut *seen.lock().unwrap());
            let search = |c: &mut crate::Conn, q: &str, category: Option<&str>| {
                let f = ProductFilter {
                    fts: search_query(q),
                    category: category.map(str::to_owned),
                    ..Default::default()
                };
                products::list(c, &f, ProductSort::Relevance, page).unwrap().1
            };
            assert_eq!(search(c, "kettle", None), 7);
            let first = taken();
            assert_eq!(search(c, "bell", None), 1);
            let again = taken();
            assert!(search(c, "bell", Some("outdoor")) > 0);
            let other = taken();
            c.set_instrumentation(|_: InstrumentationEvent<'_>| {});
            #[derive(QueryableByName)]
            struct Step {
                #[diesel(sql_type = diesel::sql_types::Text)]
                detail: String,
            }
            let by_ids = first.prepared.iter().find(|s| s.contains("json_each")).cloned().unwrap_or_default();
            let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {by_ids}"))
                .bind::<diesel::sql_types::Text, _>("[1,2]")
                .load::<Step>(c)?
                .into_iter()
                .map(|s| s.detail)
                .collect();
            Ok::<_, StoreError>((first, again, other, plan))
        })
        .await
        .unwrap();
    let fts = |v: &[String]| v.iter().filter(|s| s.contains("products_fts")).count();
    assert_eq!(fts(&first.prepared), 1, "the first search prepares its statement: {:#?}", first.prepared);
    assert!(first.prepared.iter().any(|s| s.contains("json_each")), "{:#?}", first.prepared);
    let known: HashSet<&String> = first.prepared.iter().collect();
    assert!(again.prepared.is_empty(), "the same shape was prepared again: {:#?}", again.prepared);
    assert!(
        again.started.iter().all(|s| known.contains(s)),
        "a statement ran unprepared (not cacheable): {:#?}",
        again.started
    );
    assert_eq!(fts(&other.prepared), 1, "a category filter is a new shape: {:#?}", other.prepared);
    assert!(other.prepared.iter().any(|s| s.contains("p.category = ?")), "{:#?}", other.prepared);
    assert!(plan.iter().any(|s| s.starts_with("SEARCH products USING INTEGER PRIMARY KEY")), "{plan:#?}");
    assert!(!plan.iter().any(|s| s.starts_with("SCAN products")), "{plan:#?}");
}

#[tokio::test]
async fn searches_have_their_own_pool_and_reads_never_wait_behind_them() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        search_connections: 1,
        search_acquire_timeout: std::time::Duration::from_millis(200),
        ..DbOptions::default()
    };
    let db = Db::open(&dir.path().join("t.db"), opts).unwrap();
    db.migrate().unwrap();
    let (held, started_rx, release_tx) = hold(&db, Held::Search);
    started_rx.await.unwrap();
    // the one search connection is taken: reads still answer, another search is refused
    assert_eq!(db.readiness().await, (true, true));
    let refused = db.search(products::catalog_version).await;
    assert!(matches!(refused, Err(StoreError::Busy(_))), "{refused:?}");
    release_tx.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(db.search(products::catalog_version).await.is_ok());
}

/// A read's thread outlives the read: one that panics answers `ReadFailed` and the next read
/// on the same (single) thread works; one that runs past the connection wait is answered,
/// not refused (the wait bounds the queue, not the read); a full queue refuses at once.
#[tokio::test]
async fn read_threads_survive_a_panic_and_the_wait_bounds_only_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        read_connections: 1,
        acquire_timeout: std::time::Duration::from_millis(100),
        max_waiting: 1,
        ..DbOptions::default()
    };
    let db = Db::open(&dir.path().join("t.db"), opts).unwrap();
    db.migrate().unwrap();

    let panicked = db.read(|_c| -> Result<(), StoreError> { panic!("boom") }).await;
    assert!(matches!(panicked, Err(StoreError::ReadFailed(_))), "{panicked:?}");
    assert!(db.read(products::catalog_version).await.is_ok(), "the thread serves on after a panic");

    let slow = db
        .read(|c| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            products::catalog_version(c)
        })
        .await;
    assert!(slow.is_ok(), "a read that started in time is answered: {slow:?}");

    // the one thread is held; one read may queue behind it, the next is refused at once
    let (held, started_rx, release_tx) = hold(&db, Held::Read);
    started_rx.await.unwrap();
    let queued = tokio::spawn({
        let db = db.clone();
        async move { db.read(products::catalog_version).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let t0 = std::time::Instant::now();
    let refused = db.read(products::catalog_version).await;
    assert!(matches!(refused, Err(StoreError::Busy(_))), "{refused:?}");
    assert!(t0.elapsed() < std::time::Duration::from_millis(50), "a full queue refuses at once");
    // the queued one waits past its 100 ms and is refused as busy, the held one is answered
    let queued = queued.await.unwrap();
    assert!(matches!(queued, Err(StoreError::Busy(_))), "{queued:?}");
    release_tx.send(()).unwrap();
    held.await.unwrap().unwrap();
    // the refused read leaves its queue place once the thread has passed it by
    let mut answered = false;
    for _ in 0..50 {
        if db.read(products::catalog_version).await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(answered, "the thread serves reads again once the held one is done");
}

#[tokio::test]
async fn idempotency_keys_expire_and_are_replaced_and_purged() {
    use crate::models::IdempotencyRow;
    use crate::repo::idempotency;
    let (_d, db) = open();
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let row = |hash: &str, at| IdempotencyRow {
        scope: "user:1 POST /x".into(),
        key: "k".into(),
        request_hash: hash.into(),
        status: 201,
        response: "{}".into(),
        created_at: at,
    };
    db.write(move |c| {
        idempotency::insert(c, &row("a", t0))?;
        let found = idempotency::find(c, "user:1 POST /x", "k", t0 - chrono::Duration::hours(1))?;
        assert_eq!(found.map(|r| r.request_hash).as_deref(), Some("a"));
        assert!(idempotency::find(c, "user:2 POST /x", "k", t0 - chrono::Duration::hours(1))?.is_none());
        // expired: absent, and a new answer replaces it
        assert!(idempotency::find(c, "user:1 POST /x", "k", t0 + chrono::Duration::hours(1))?.is_none());
        let now = Utc::now();
        idempotency::insert(c, &row("b", now))?;
        let found = idempotency::find(c, "user:1 POST /x", "k", now - chrono::Duration::hours(1))?;
        assert_eq!(found.map(|r| r.request_hash).as_deref(), Some("b"));
        assert_eq!(idempotency::purge_older_than(c, now - chrono::Duration::hours(1))?, 0);
        assert_eq!(idempotency::purge_older_than(c, now + chrono::Duration::hours(1))?, 1);
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

// ---- the writer: group commit, each write in a savepoint of its own ----

/// Which connection [`hold`] takes.
#[derive(Clone, Copy)]
enum Held {
    Read,
    Search,
    Write,
}

/// A read, search or write that holds its connection until released, and tells when it
/// started.
fn hold(
    db: &Db,
    on: Held,
) -> (
    tokio::task::JoinHandle<Result<(), StoreError>>,
    tokio::sync::oneshot::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let db = db.clone();
    let held = tokio::spawn(async move {
        let f = move |_c: &mut crate::Conn| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<_, StoreError>(())
        };
        match on {
            Held::Read => db.read(f).await,
            Held::Search => db.search(f).await,
            Held::Write => db.write(f).await,
        }
    });
    (held, started_rx, release_tx)
}

/// A write that holds the writer until released, and tells when it started.
fn hold_writer(
    db: &Db,
) -> (
    tokio::task::JoinHandle<Result<(), StoreError>>,
    tokio::sync::oneshot::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    hold(db, Held::Write)
}

#[tokio::test]
async fn writes_queued_together_commit_together_and_a_failing_one_is_undone_alone() {
    let (_d, db) = open();
    let p =
        db.write(|c| products::insert(c, &product("W-1", "Writer", "test", 100), Utc::now())).await.unwrap();
    // hold the writer so that the next writes queue up and run as one batch
    let (held, started, release) = hold_writer(&db);
    started.await.unwrap();
    let writes = (0..20).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |c| {
                products::apply_stock_delta(c, p.id, 1, "batch", None, Utc::now())?;
                if i == 7 {
                    // its stock movement must be undone, the others' kept
                    return Err(StoreError::Corrupt("write 7 fails".into()));
                }
                Ok(())
            })
            .await
        })
    });
    let writes: Vec<_> = writes.collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let mut failed = 0;
    for w in writes {
        if w.await.unwrap().is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 1);
    let after = db.read(move |c| products::by_id(c, p.id)).await.unwrap().unwrap();
    assert_eq!(after.stock, 19);
    assert!(db.read(products::stock_discrepancies).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_panicking_write_fails_its_batch_but_not_the_writer() {
    let (_d, db) = open();
    let panicked = db
        .write(|_c| -> Result<(), StoreError> {
            panic!("a bug in a write");
        })
        .await;
    assert!(matches!(panicked, Err(StoreError::WriterFailed(_))), "{panicked:?}");
    let p = db.write(|c| products::insert(c, &product("W-2", "After", "test", 100), Utc::now())).await;
    assert!(p.is_ok(), "writes go on after a panic: {p:?}");
}

#[tokio::test]
async fn writes_beyond_the_queue_or_past_their_wait_are_refused_as_busy() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        max_waiting: 2,
        acquire_timeout: std::time::Duration::from_millis(150),
        ..DbOptions::default()
    };
    let db = Db::open(&dir.path().join("t.db"), opts).unwrap();
    db.migrate().unwrap();
    let (held, started, release) = hold_writer(&db);
    started.await.unwrap();
    let writes: Vec<_> = (0..6)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.write(products::catalog_version).await })
        })
        .collect();
    // the queue takes 2; the other 4 are refused at once
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let mut busy = 0;
    for w in writes {
        match w.await.unwrap() {
            Err(StoreError::Busy(_)) => busy += 1,
            other => panic!("{other:?}"),
        }
    }
    // ... and the 2 queued waited past their 150 ms: refused unrun when their turn came
    assert_eq!(busy, 6);
    assert!(db.write(products::catalog_version).await.is_ok());
}

/// The niceness of each thread of this process named `name` (Linux: field 19 of its stat).
#[cfg(target_os = "linux")]
fn nice_of_threads(name: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // the command may hold spaces, so count fields after its closing parenthesis
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        if let Some(n) = rest.split_whitespace().nth(16).and_then(|f| f.parse().ok()) {
            out.push(n);
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_writer_thread_runs_at_the_configured_niceness() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions { writer_nice: 7, ..DbOptions::default() };
    let db = Db::open(&dir.path().join("t.db"), opts).unwrap();
    db.migrate().unwrap();
    // one write has run, so the writer thread has started and set its niceness
    db.write(|c| diesel::sql_query("SELECT 1").execute(c).map_err(StoreError::from)).await.unwrap();
    let nices = nice_of_threads("db-writer");
    assert!(nices.contains(&7), "db-writer threads at {nices:?}");
}

#[tokio::test]
async fn sale_counters_never_pass_the_allocation() {
    use crate::repo::sales;
    let (_d, db) = open();
    let now = chrono::Utc::now();
    db.write(move |c| {
        let p = products::insert(c, &product("S-1", "Sale item", "test", 100), now)?;
        let s = sales::insert(
            c,
            &sales::NewSale {
                name: "t",
                starts_at: now,
                ends_at: now + chrono::Duration::hours(1),
                per_customer_cap: 1,
                created_by: None,
            },
            now,
        )?;
        sales::insert_items(
            c,
            s.id,
            &[sales::NewItem {
                product_id: p.id,
                position: 0,
                discount_kind: "percent_off",
                discount_value: 10,
                allocated: 3,
            }],
        )?;
        assert!(sales::adjust_item(c, s.id, p.id, 0, 0, 2)?);
        assert!(!sales::adjust_item(c, s.id, p.id, 0, 0, 2)?, "2 + 2 > 3");
        assert!(sales::adjust_item(c, s.id, p.id, 0, 1, -1)?);
        assert!(!sales::adjust_item(c, s.id, p.id, 0, 0, -2)?, "reserved below 0");
        assert!(!sales::adjust_item(c, s.id, p.id, -2, 0, 0)?, "allocation below sold + reserved");
        let i = sales::item(c, s.id, p.id)?.unwrap();
        assert_eq!((i.allocated, i.sold, i.reserved), (3, 1, 1));
        assert!(sales::counter_discrepancies(c)?.contains(&(s.id, p.id)), "counters without reservations");
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn heartbeats_count_passes_and_the_latest_wins() {
    use crate::repo::ops;
    let (_d, db) = open();
    let t0 = Utc::now() - chrono::Duration::seconds(100);
    let (latest, passes, none) = db
        .write(move |c| {
            let none = ops::last_beat(c)?;
            ops::beat(c, "worker-a", t0, "{}")?;
            ops::beat(c, "worker-b", t0 + chrono::Duration::seconds(50), "{}")?;
            ops::beat(c, "worker-a", t0 + chrono::Duration::seconds(10), r#"{"ok":1}"#)?;
            let passes: i64 = schema::worker_heartbeats::table
                .filter(schema::worker_heartbeats::worker.eq("worker-a"))
                .select(schema::worker_heartbeats::passes)
                .get_result(c)?;
            Ok::<_, StoreError>((ops::last_beat(c)?, passes, none))
        })
        .await
        .unwrap();
    assert_eq!(none, None);
    assert_eq!(latest.unwrap().timestamp(), (t0 + chrono::Duration::seconds(50)).timestamp());
    assert_eq!(passes, 2);
}

/// SKUs of every product `list` returns for `f` (one large page), sorted, and the total.
fn filtered(c: &mut crate::Conn, f: &ProductFilter, sort: ProductSort) -> (Vec<String>, i64) {
    let page = PageRequest::parse(Some(1), Some(100)).unwrap();
    let (rows, total) = products::list(c, f, sort, page).unwrap();
    let mut skus: Vec<String> = rows.into_iter().map(|r| r.sku).collect();
    skus.sort();
    (skus, total)
}

#[tokio::test]
async fn price_stock_and_sale_filters_combine_with_search_and_category_in_every_statement() {
    use crate::repo::sales;
    use chrono::Duration;
    use retail_domain::catalog::PriceRange;

    let (_d, db) = open();
    let now = Utc::now();
    db.write(move |c| {
        let mut ids = std::collections::HashMap::new();
        for (sku, name, cat, price, stock) in [
            ("K-RED", "Kettle red", "kitchen", 1000, 5),
            ("K-BLUE", "Kettle blue", "kitchen", 2000, 0),
            ("K-STEEL", "Kettle steel", "kitchen", 3000, 3),
            ("K-OLD", "Kettle old", "kitchen", 500, 1),
            ("L-1", "Lamp", "home", 1500, 2),
        ] {
            let p = products::insert(c, &product(sku, name, cat, price), now)?;
            if stock > 0 {
                products::apply_stock_delta(c, p.id, stock, "initial stock", None, now)?.unwrap();
            }
            ids.insert(sku, p.id);
        }
        let mut sale = |name: &str, from: i64, to: i64, skus: &[&str]| -> Result<i64, StoreError> {
            let s = sales::insert(
                c,
                &sales::NewSale {
                    name,
                    starts_at: now + Duration::minutes(from),
                    ends_at: now + Duration::minutes(to),
                    per_customer_cap: 1,
                    created_by: None,
                },
                now,
            )?;
            let items: Vec<_> = skus
                .iter()
                .enumerate()
                .map(|(i, sku)| sales::NewItem {
                    product_id: ids[sku],
                    position: i64::try_from(i).unwrap(),
                    discount_kind: "percent_off",
                    discount_value: 1000,
                    allocated: 0,
                })
                .collect();
            sales::insert_items(c, s.id, &items)?;
            Ok(s.id)
        };
        sale("live", -60, 60, &["K-RED", "K-BLUE"])?;
        sale("upcoming", 60, 120, &["K-STEEL"])?;
        sale("over", -120, -60, &["K-OLD"])?;
        let early = sale("ended early", -60, 60, &["L-1"])?;
        sales::end_early(c, early, 1, now - Duration::minutes(1))?.unwrap();
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();

    let base = ProductFilter::default();
    let kettles = ProductFilter { fts: search_query("kettle"), ..Default::default() };
    let kitchen = ProductFilter { category: Some("kitchen".into()), ..Default::default() };
    let price = |min, max| PriceRange { min, max };
    #[rustfmt::skip]
    let cases: Vec<(ProductFilter, &[&str])> = vec![
        (ProductFilter { price: price(Some(1000), None), ..base.clone() }, &["K-BLUE", "K-RED", "K-STEEL", "L-1"]),
        (ProductFilter { price: price(None, Some(1000)), ..base.clone() }, &["K-OLD", "K-RED"]),
        (ProductFilter { price: price(Some(1000), Some(2000)), ..base.clone() }, &["K-BLUE", "K-RED", "L-1"]),
        (ProductFilter { price: price(Some(1001), Some(1499)), ..base.clone() }, &[]),
        (ProductFilter { in_stock: true, ..base.clone() }, &["K-OLD", "K-RED", "K-STEEL", "L-1"]),
        (ProductFilter { on_sale_at: Some(now), ..base.clone() }, &["K-BLUE", "K-RED"]),
        (ProductFilter { on_sale_at: Some(now + Duration::minutes(90)), ..base.clone() }, &["K-STEEL"]),
        (ProductFilter { in_stock: true, on_sale_at: Some(now), ..base.clone() }, &["K-RED"]),
        (ProductFilter { price: price(Some(1000), None), ..kettles.clone() }, &["K-BLUE", "K-RED", "K-STEEL"]),
        (ProductFilter { price: price(None, Some(999)), ..kettles.clone() }, &["K-OLD"]),
        (ProductFilter { in_stock: true, ..kettles.clone() }, &["K-OLD", "K-RED", "K-STEEL"]),
        (ProductFilter { on_sale_at: Some(now), ..kettles.clone() }, &["K-BLUE", "K-RED"]),
        (ProductFilter { in_stock: true, price: price(Some(600), Some(2500)), on_sale_at: Some(now), ..kettles.clone() }, &["K-RED"]),
        (ProductFilter { in_stock: true, ..kitchen.clone() }, &["K-OLD", "K-RED", "K-STEEL"]),
        (ProductFilter { price: price(Some(1500), None), on_sale_at: Some(now), ..kitchen.clone() }, &["K-BLUE"]),
        (ProductFilter { category: Some("home".into()), on_sale_at: Some(now), ..kettles.clone() }, &[]),
    ];
    for (f, want) in cases {
        let want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        let n = i64::try_from(want.len()).unwrap();
        // With a search, relevance runs raw statements and the other sorts the query builder
        // (with a raw count): each must apply every filter.
        let sorts: &[ProductSort] = if f.fts.is_some() {
            &[ProductSort::Relevance, ProductSort::PriceAsc]
        } else {
            &[ProductSort::NameAsc, ProductSort::Newest]
        };
        for &sort in sorts {
            let f2 = f.clone();
            let got = db.read(move |c| Ok::<_, StoreError>(filtered(c, &f2, sort))).await.unwrap();
            assert_eq!(got, (want.clone(), n), "{f:?} sorted {sort:?}");
        }
    }
}

/// The plans of the statements `list` runs for `f` sorted by name (see the plan test above).
fn plans_of(c: &mut crate::Conn, f: &ProductFilter) -> Vec<(String, Vec<String>)> {
    use diesel::connection::InstrumentationEvent;
    use std::sync::{Arc, Mutex};
    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = e {
            log.lock().unwrap().push(query.to_string());
        }
    });
    products::list(c, f, ProductSort::NameAsc, PageRequest::parse(None, None).unwrap()).unwrap();
    c.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let statements = seen.lock().unwrap().clone();
    statements
        .into_iter()
        .filter(|s| s.contains("FROM `products`"))
        .map(|s| {
            let sql = s.split(" -- binds: ").next().unwrap().to_owned();
            let steps = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load::<Step>(c).unwrap();
            (sql, steps.into_iter().map(|s| s.detail).collect())
        })
        .collect()
}

/// `in_stock` counts through the partial index `products_in_stock` instead of reading every
/// row, and a page sorted by name still walks the name index (no sort of every match).
#[tokio::test]
async fn the_in_stock_filter_counts_through_its_partial_index() {
    let (_d, db) = open();
    db.write(|c| {
        let now = Utc::now();
        for i in 0..200 {
            let p =
                products::insert(c, &product(&format!("S-{i}"), &format!("Thing {i}"), "home", 100), now)?;
            if i % 3 > 0 {
                products::apply_stock_delta(c, p.id, i, "initial stock", None, now)?.unwrap();
            }
        }
        Ok::<_, StoreError>(())
    })
    .await
    .unwrap();
    let f = ProductFilter { in_stock: true, ..Default::default() };
    let (plans, total) = db
        .read(move |c| {
            let page = PageRequest::parse(None, None).unwrap();
            let total = products::list(c, &f, ProductSort::NameAsc, page)?.1;
            Ok::<_, StoreError>((plans_of(c, &f), total))
        })
        .await
        .unwrap();
    assert_eq!(total, 133);
    let count = plans.iter().find(|(sql, _)| sql.contains("COUNT")).expect("a count");
    assert!(count.1.iter().any(|s| s.contains("products_in_stock")), "{plans:#?}");
    let page = plans.iter().find(|(sql, _)| !sql.contains("COUNT")).expect("a page");
    assert!(page.1.iter().any(|s| s.contains("products_active_name")), "{plans:#?}");
    assert!(!page.1.iter().any(|s| s.contains("TEMP B-TREE")), "{plans:#?}");
}

// ---- writes alone: a transaction of their own, no savepoint ----

#[tokio::test]
async fn a_write_alone_commits_by_itself_and_a_failing_one_undoes_all_it_did() {
    let (_d, db) = open();
    let p =
        db.write(|c| products::insert(c, &product("A-1", "Alone", "test", 100), Utc::now())).await.unwrap();
    // hold the writer so that ordinary writes and writes alone queue up together
    let (held, started, release) = hold_writer(&db);
    started.await.unwrap();
    let spawn_write = |alone: bool, fail: bool| {
        let db = db.clone();
        tokio::spawn(async move {
            let f = move |c: &mut crate::Conn| {
                products::apply_stock_delta(c, p.id, 1, "queued", None, Utc::now())?;
                products::apply_stock_delta(c, p.id, 1, "queued", None, Utc::now())?;
                if fail {
                    return Err(StoreError::Corrupt("this write fails after its changes".into()));
                }
                Ok(())
            };
            if alone { db.write_alone(f).await } else { db.write(f).await }
        })
    };
    let writes = vec![
        spawn_write(false, false),
        spawn_write(true, false),
        spawn_write(false, false),
        spawn_write(true, true),
        spawn_write(false, false),
    ];
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let mut outcomes = Vec::new();
    for w in writes {
        outcomes.push(w.await.unwrap().is_ok());
    }
    assert_eq!(outcomes, vec![true, true, true, false, true]);
    // four writes of two units each; both changes of the failing one undone
    let after = db.read(move |c| products::by_id(c, p.id)).await.unwrap().unwrap();
    assert_eq!(after.stock, 8);
    assert!(db.read(products::stock_discrepancies).await.unwrap().is_empty());
    // the writer goes on
    assert!(db.write_alone(products::catalog_version).await.is_ok());
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Segments of the full-text index (FTS5's `_idx` table has rows for each segment).
fn fts_segments(c: &mut crate::Conn) -> i64 {
    diesel::sql_query("SELECT count(DISTINCT segid) AS n FROM products_fts_idx").get_result::<N>(c).unwrap().n
}

#[tokio::test]
async fn writes_leave_the_search_index_in_pieces_and_upkeep_merges_them_without_changing_answers() {
    let (_d, db) = open();
    // writes merge once a level holds 16 segments (set by migration), not FTS5's default 4
    let automerge = db
        .read(|c| {
            let q = "SELECT CAST(v AS INTEGER) AS n FROM products_fts_config WHERE k = 'automerge'";
            Ok::<_, StoreError>(diesel::sql_query(q).get_result::<N>(c).unwrap().n)
        })
        .await
        .unwrap();
    assert_eq!(automerge, 16);
    for i in 0..24 {
        // one committed write each: one more segment each
        db.write_alone(move |c| {
            products::insert(
                c,
                &product(&format!("M-{i}"), &format!("Merge lamp {i}"), "test", 100),
                Utc::now(),
            )
        })
        .await
        .unwrap();
    }
    let page = PageRequest::parse(None, Some(50)).unwrap();
    let search = move |c: &mut crate::Conn| {
        let f = ProductFilter { fts: search_query("lamp"), ..Default::default() };
        let (rows, total) = products::list(c, &f, ProductSort::Relevance, page)?;
        Ok::<_, StoreError>((rows.into_iter().map(|r| r.id).collect::<Vec<_>>(), total))
    };
    let before = db.read(search).await.unwrap();
    let pieces = db.read(|c| Ok::<_, StoreError>(fts_segments(c))).await.unwrap();
    assert!(pieces >= 4, "{pieces} segments");
    let mut steps = 0;
    while db.write_alone(products::merge_search_index).await.unwrap() {
        steps += 1;
        assert!(steps < 100, "merging never ends");
    }
    assert!(steps >= 1);
    let merged = db.read(|c| Ok::<_, StoreError>(fts_segments(c))).await.unwrap();
    assert!(merged < pieces, "{merged} segments after merging, {pieces} before");
    assert_eq!(db.read(search).await.unwrap(), before);
    assert_eq!(before.1, 24);
    // a full merge leaves one
    db.write_alone(products::optimize_search_index).await.unwrap();
    assert_eq!(db.read(|c| Ok::<_, StoreError>(fts_segments(c))).await.unwrap(), 1);
    assert_eq!(db.read(search).await.unwrap(), before);
}

#[tokio::test]
async fn feed_products_are_created_field_for_field_with_their_opening_stock_in_the_ledger() {
    use crate::repo::{feeds, partners};
    let (_d, db) = open();
    let now = Utc::now();
    let partner = db
        .write(move |c| {
            let f = partners::PartnerFields {
                name: Some("Supplier"),
                contact_email: Some("feeds@supplier.test"),
                ..Default::default()
            };
            partners::insert(c, &f, now)
        })
        .await
        .unwrap()
        .unwrap();
    // more rows than one statement takes, text that JSON must escape, and zero stock
    let names: Vec<String> =
        (0..2_050).map(|i| format!("Ketl \"{i}\" \\ ünï, {}", if i % 2 == 0 { "\n" } else { "'" })).collect();
    let skus: Vec<String> = (0..2_050).map(|i| format!("FEED-{i:05}")).collect();
    let (names2, skus2) = (names.clone(), skus.clone());
    let created = db
        .write_alone(move |c| {
            let items: Vec<feeds::FeedProduct<'_>> = (0..names2.len())
                .map(|i| feeds::FeedProduct {
                    sku: &skus2[i],
                    name: &names2[i],
                    description: "a feed thing",
                    price_cents: 100 + i as i64,
                    currency: "EUR",
                    category: "feed",
                    stock: (i % 3) as i64,
                })
                .collect();
            feeds::create_products(c, partner.id, &items, "feed job 1", now)
        })
        .await
        .unwrap();
    assert_eq!(created, 2_050);
    for i in [0usize, 1, 2, 1_999, 2_000, 2_049] {
        let sku = skus[i].clone();
        let p = db.read(move |c| products::by_sku(c, &sku)).await.unwrap().unwrap();
        assert_eq!(p.name, names[i]);
        assert_eq!((p.price_cents, p.stock, p.currency.as_str()), (100 + i as i64, (i % 3) as i64, "EUR"));
        assert_eq!((p.active, p.returnable, p.version), (true, true, 1));
        assert_eq!(p.created_at.timestamp_micros(), now.timestamp_micros());
        let id = p.id;
        let (moves, n) = db
            .read(move |c| products::movements(c, id, PageRequest::parse(None, None).unwrap()))
            .await
            .unwrap();
        if i % 3 == 0 {
            assert_eq!(n, 0, "no ledger row for no stock");
        } else {
            assert_eq!(n, 1);
            assert_eq!((moves[0].delta, moves[0].reason.as_str()), ((i % 3) as i64, "feed job 1"));
        }
    }
    assert!(db.read(products::stock_discrepancies).await.unwrap().is_empty());
    // and they are found by search
    let f = ProductFilter { fts: search_query("ketl"), ..Default::default() };
    let (_, total) = db
        .read(move |c| products::list(c, &f, ProductSort::Relevance, PageRequest::parse(None, None).unwrap()))
        .await
        .unwrap();
    assert_eq!(total, 2_050);
    // the partner supplies them all; a deactivated one no longer counts
    let suppliers = db.read(products::suppliers).await.unwrap();
    assert_eq!(suppliers, vec![(partner.id, "Supplier".to_owned(), 2_050)]);
    let sku = skus[7].clone();
    let p = db.read(move |c| products::by_sku(c, &sku)).await.unwrap().unwrap();
    db.write(move |c| deactivate(c, &p)).await.unwrap();
    assert_eq!(db.read(products::suppliers).await.unwrap()[0].2, 2_049);
}
