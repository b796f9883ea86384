//! Catalog reads (with ETags and a version-keyed page cache) and admin writes (with the
//! stock ledger and the audit log).

use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use retail_api_types::{
    CategoryCount, CreateProductRequest, Product, ProductList, ProductQuery, StockAdjustmentRequest,
    StockAdjustmentResponse, StockMovementList, SupplierCount, UpdateProductRequest,
};
use retail_domain::account::Permission;
use retail_domain::caller::Denied;
use retail_domain::catalog::{
    NewProduct, NewProductInput, PriceRange, ProductPatch, ProductPatchInput, StockAdjustment, StockError,
    search_query,
};
use retail_domain::paging::{PageRequest, ProductSort};
use retail_domain::validation::filter_text;
use retail_domain::{Caller, ProductId, UserId, ValidationErrors};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::products::{self, ProductFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::idempotency::{IdempotencyKey, Replayed, replay_or_run};
use super::{movement_dto, pagination, product_dto, write_as};
use crate::service::ServiceError;
use crate::state::{AppState, CachedPage};

/// A validated list query and its cache key.
#[derive(Debug, Clone)]
pub struct ListRequest {
    filter: ProductFilter,
    sort: ProductSort,
    page: PageRequest,
    key: String,
}

impl ListRequest {
    /// Validates the query; `include_inactive` needs catalog rights.
    pub fn parse(q: &ProductQuery, viewer: Option<&Caller>) -> Result<ListRequest, ServiceError> {
        let mut errs = ValidationErrors::default();
        let page = errs.check(PageRequest::parse(q.page, q.per_page));
        let text = filter_text("q", q.q.as_deref()).map_err(ServiceError::invalid_query)?;
        let fts = text.as_deref().and_then(search_query);
        let sort = errs.check(ProductSort::parse(q.sort.as_deref(), fts.is_some()));
        let category = match q.category.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(c) => errs.check(retail_domain::catalog::category(c)),
            None => None,
        };
        let price = match PriceRange::parse(q.min_price_cents, q.max_price_cents) {
            Ok(r) => Some(r),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let (page, sort, price) = errs.finish(|| Some((page?, sort?, price?)))?;
        // `false` asks for nothing, so it shares the unfiltered pages.
        let in_stock = q.in_stock.unwrap_or(false);
        let on_sale = q.on_sale.unwrap_or(false);
        let include_inactive = q.include_inactive.unwrap_or(false);
        if include_inactive {
            retail_domain::caller::require(viewer, Permission::ManageCatalog).map_err(|e| match e {
                Denied::Anonymous => ServiceError::Unauthorized("include_inactive needs an admin token"),
                Denied::Forbidden => ServiceError::Forbidden,
            })?;
        }
        let bound = |b: Option<i64>| b.map_or_else(String::new, |c| c.to_string());
        if q.partner_id.is_some_and(|p| p < 1) {
            return Err(ServiceError::invalid_query(retail_domain::FieldError::new(
                "partner_id",
                "must be at least 1",
            )));
        }
        let partner = q.partner_id;
        let key = format!(
            "{}|{}|{:?}|{}|{}|{}|{}|{}|{}|{}|{}",
            page.page,
            page.per_page,
            sort,
            category.as_deref().unwrap_or(""),
            fts.as_deref().unwrap_or(""),
            include_inactive,
            bound(price.min),
            bound(price.max),
            in_stock,
            on_sale,
            bound(partner),
        );
        // Set again when the page is built (see `list`).
        let on_sale_at = on_sale.then(Utc::now);
        let filter = ProductFilter { category, fts, include_inactive, price, in_stock, partner, on_sale_at };
        Ok(ListRequest { filter, sort, page, key })
    }
}

/// How a list request was answered.
#[derive(Debug)]
pub enum Listed {
    /// The client's copy (by ETag) is current.
    NotModified(String),
    /// A JSON page and its ETag.
    Page(String, Bytes),
}

/// ETag of a list page: a digest of its bytes, so it changes with anything the page shows
/// (stock included) and stays the same while nothing on it does, across rebuilds.
pub(crate) fn page_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let short: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("W/\"l{short}\"")
}

/// Whether an `If-None-Match` header value matches `etag`.
pub fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(v) = if_none_match else { return false };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    v.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

pub(crate) fn answer(page: &CachedPage, if_none_match: Option<&str>) -> Listed {
    if etag_matches(if_none_match, &page.etag) {
        Listed::NotModified(page.etag.clone())
    } else {
        Listed::Page(page.etag.clone(), page.body.clone())
    }
}

fn source(listed: &Listed, built: bool) -> &'static str {
    match (listed, built) {
        (Listed::NotModified(_), _) => "not_modified",
        (Listed::Page(..), false) => "cache",
        (Listed::Page(..), true) => "db",
    }
}

/// One page of products: from the cache when the catalog version has not changed since it
/// was built and it is younger than `cache.product_list_ttl_ms` (so the stock it shows is at
/// most that old), else from the database.
pub async fn list(
    state: &AppState,
    req: ListRequest,
    if_none_match: Option<String>,
) -> Result<Listed, ServiceError> {
    let cache = state.list_cache.clone();
    // Fast path: version read recently and page cached, so no database round trip at all.
    let known = cache.fresh_version();
    if let Some(version) = known
        && let Some(page) = cache.get(version, &req.key)
    {
        let listed = answer(&page, if_none_match.as_deref());
        state.metrics.product_list.with_label_values(&[source(&listed, false)]).inc();
        return Ok(listed);
    }
    // A full-text search runs on the search pool, so a flood of them never holds the read
    // connections that authentication and readiness checks use.
    let searching = req.filter.fts.is_some();
    let build = move |c: &mut retail_store::Conn| -> Result<(Listed, bool), ServiceError> {
        // Taken before the rows are read: the page's age bounds how stale its stock is.
        let started = Instant::now();
        let version = products::catalog_version(c)?;
        cache.note_version(version);
        // Looked up again unless the fast path just missed (or chose us to rebuild) at this
        // very version.
        if known != Some(version)
            && let Some(page) = cache.get(version, &req.key)
        {
            return Ok((answer(&page, if_none_match.as_deref()), false));
        }
        // One instant for the on-sale filter and the sale prices shown, so every product the
        // filter lets through shows its sale. A cached page keeps both for at most
        // `cache.product_list_ttl_ms`.
        let now = Utc::now();
        let mut filter = req.filter;
        if filter.on_sale_at.is_some() {
            filter.on_sale_at = Some(now);
        }
        let (rows, total) = products::list(c, &filter, req.sort, req.page)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut sales = super::sales::overlays(c, &ids, now)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let sale = sales.remove(&r.id);
                product_dto(r).map(|p| Product { sale, ..p })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = ProductList { items, pagination: pagination(req.page, total) };
        let bytes = Bytes::from(serde_json::to_vec(&body).map_err(ServiceError::internal)?);
        let page = cache.put(version, req.key, CachedPage::new(page_etag(&bytes), bytes, started));
        Ok((answer(&page, if_none_match.as_deref()), true))
    };
    let (listed, built) =
        if searching { state.db.search(build).await? } else { state.db.read(build).await? };
    state.metrics.product_list.with_label_values(&[source(&listed, built)]).inc();
    Ok(listed)
}

/// A product; deactivated ones exist only for catalog managers.
pub async fn get(state: &AppState, id: ProductId, viewer: Option<&Caller>) -> Result<Product, ServiceError> {
    let found = state
        .db
        .read(move |c| -> Result<_, ServiceError> {
            let row = products::by_id(c, id.get())?;
            let sale = super::sales::overlays(c, &[id.get()], chrono::Utc::now())?.remove(&id.get());
            Ok(row.map(|r| (r, sale)))
        })
        .await?;
    let can_see_inactive = viewer.is_some_and(|u| u.allows(Permission::ManageCatalog));
    match found {
        Some((r, sale)) if r.active || can_see_inactive => product_dto(r).map(|p| Product { sale, ..p }),
        _ => Err(ServiceError::not_found(format!("product {id}"))),
    }
}

/// ETag of one product: a digest of its JSON, so it changes with anything a reader sees
/// (stock included), while the editable `version` moves only with edits.
pub fn product_etag(p: &Product) -> String {
    let digest = Sha256::digest(serde_json::to_vec(p).unwrap_or_default());
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("W/\"p{}-{short}\"", p.id)
}

/// Categories with active products.
pub async fn categories(state: &AppState) -> Result<Vec<CategoryCount>, ServiceError> {
    let rows = state.db.read(products::categories).await?;
    Ok(rows.into_iter().map(|(category, product_count)| CategoryCount { category, product_count }).collect())
}

/// Partners whose feeds own active products.
pub async fn suppliers(state: &AppState) -> Result<Vec<SupplierCount>, ServiceError> {
    let rows = state.db.read(products::suppliers).await?;
    Ok(rows
        .into_iter()
        .map(|(partner_id, name, product_count)| SupplierCount { partner_id, name, product_count })
        .collect())
}

/// Route of [`create`], the scope of its idempotency keys.
pub const CREATE_ROUTE: &str = "POST /api/admin/products";
/// Route of [`adjust_stock`], the scope of its idempotency keys.
pub const ADJUST_STOCK_ROUTE: &str = "POST /api/admin/products/{id}/stock";

/// Creates a product; its initial stock is the first ledger entry. With an idempotency key
/// (see [`super::idempotency`]) a repeated request answers with the product it created.
pub async fn create(
    state: &AppState,
    actor: &Caller,
    req: CreateProductRequest,
    idempotency_key: Option<&str>,
) -> Result<Replayed<Product>, ServiceError> {
    actor.require(Permission::ManageCatalog)?;
    let key = IdempotencyKey::from_request(
        Some(actor),
        CREATE_ROUTE,
        idempotency_key,
        &req,
        state.settings.idempotency.ttl(),
    )?;
    let new = NewProduct::parse(NewProductInput {
        sku: &req.sku,
        name: &req.name,
        description: &req.description,
        price_cents: req.price_cents,
        currency: &req.currency,
        category: &req.category,
        image_url: req.image_url.as_deref().unwrap_or(""),
        initial_stock: req.initial_stock,
        active: req.active,
        returnable: req.returnable,
    })?;
    let actor_id = actor.user_id().map(UserId::get);
    let now = Utc::now();
    let out = write_as(&state.db, actor, Permission::ManageCatalog, move |c, _| {
        replay_or_run(c, key.as_ref(), now, 201, |c| {
            let mut p = products::insert(c, &new, now).map_err(|e| match e {
                retail_store::StoreError::Unique(_) => ServiceError::Conflict {
                    code: "sku_taken",
                    detail: format!("a product with SKU {} already exists", new.sku.as_str()),
                },
                other => other.into(),
            })?;
            if new.initial_stock > 0 {
                let (after, _) =
                    products::apply_stock_delta(c, p.id, new.initial_stock, "initial stock", actor_id, now)?
                        .ok_or_else(|| ServiceError::Internal("initial stock refused".into()))?;
                p = after;
            }
            audit::record(
                c,
                &AuditEvent {
                    actor_id,
                    action: "product.created",
                    entity_type: "product",
                    entity_id: p.id.to_string(),
                    detail: json!({ "sku": p.sku, "price_cents": p.price_cents, "initial_stock": new.initial_stock }),
                },
                now,
            )?;
            product_dto(p)
        })
    })
    .await?;
    state.list_cache.invalidate();
    Ok(out)
}

/// Applies a partial update if the client's version is current (else 409 with the current
/// version).
pub async fn update(
    state: &AppState,
    actor: &Caller,
    id: ProductId,
    req: UpdateProductRequest,
) -> Result<Product, ServiceError> {
    actor.require(Permission::ManageCatalog)?;
    let patch = ProductPatch::parse(ProductPatchInput {
        name: req.name.as_deref(),
        description: req.description.as_deref(),
        price_cents: req.price_cents,
        currency: req.currency.as_deref(),
        category: req.category.as_deref(),
        image_url: req.image_url.as_deref(),
        active: req.active,
        returnable: req.returnable,
    })?;
    let changed = serde_json::to_value(&req).unwrap_or_default();
    let actor_id = actor.user_id().map(UserId::get);
    let now = Utc::now();
    let row = write_as(&state.db, actor, Permission::ManageCatalog, move |c, _| {
            let Some(p) = products::update(c, id.get(), req.version, &patch, now)? else {
                return Err(match products::by_id(c, id.get())? {
                    None => ServiceError::not_found(format!("product {id}")),
                    Some(cur) => ServiceError::Conflict {
                        code: "version_conflict",
                        detail: format!(
                            "product {id} was changed by someone else: your version is {}, current is {}; reload and retry",
                            req.version, cur.version
                        ),
                    },
                });
            };
            let action = match patch.active {
                Some(false) => "product.deactivated",
                Some(true) => "product.activated",
                None => "product.updated",
            };
            audit::record(
                c,
                &AuditEvent {
                    actor_id,
                    action,
                    entity_type: "product",
                    entity_id: p.id.to_string(),
                    detail: changed,
                },
                now,
            )?;
            Ok(p)
        })
        .await?;
    state.list_cache.invalidate();
    product_dto(row)
}

/// Moves stock through the ledger; refuses to go below zero. With an idempotency key (see
/// [`super::idempotency`]) a repeated request answers with the movement it made, once.
pub async fn adjust_stock(
    state: &AppState,
    actor: &Caller,
    id: ProductId,
    req: StockAdjustmentRequest,
    idempotency_key: Option<&str>,
) -> Result<Replayed<StockAdjustmentResponse>, ServiceError> {
    actor.require(Permission::ManageCatalog)?;
    let key = IdempotencyKey::from_request(
        Some(actor),
        ADJUST_STOCK_ROUTE,
        idempotency_key,
        &(id, &req),
        state.settings.idempotency.ttl(),
    )?;
    let adj = StockAdjustment::parse(req.delta, &req.reason)?;
    let actor_id = actor.user_id().map(UserId::get);
    let now = Utc::now();
    let out = write_as(&state.db, actor, Permission::ManageCatalog, move |c, _| {
        replay_or_run(c, key.as_ref(), now, 200, |c| adjust_stock_in(c, id, &adj, actor_id, now))
    })
    .await?;
    // Stock leaves the catalog version (and every cached list page) alone: lists show it
    // within `cache.product_list_ttl_ms`, product detail at once.
    Ok(out)
}

fn adjust_stock_in(
    c: &mut retail_store::Conn,
    id: ProductId,
    adj: &StockAdjustment,
    actor_id: Option<i64>,
    now: chrono::DateTime<Utc>,
) -> Result<StockAdjustmentResponse, ServiceError> {
    let cur =
        products::by_id(c, id.get())?.ok_or_else(|| ServiceError::not_found(format!("product {id}")))?;
    adj.apply(cur.stock).map_err(|e| ServiceError::Conflict {
        code: match e {
            StockError::WouldGoNegative { .. } => "insufficient_stock",
            StockError::AboveMaximum { .. } => "stock_limit",
        },
        detail: e.to_string(),
    })?;
    let (p, m) =
        products::apply_stock_delta(c, cur.id, adj.delta, &adj.reason, actor_id, now)?.ok_or_else(|| {
            ServiceError::Conflict {
                code: "insufficient_stock",
                detail: "stock changed meanwhile; retry".into(),
            }
        })?;
    audit::record(
        c,
        &AuditEvent {
            actor_id,
            action: "product.stock_adjusted",
            entity_type: "product",
            entity_id: p.id.to_string(),
            detail: json!({ "delta": adj.delta, "reason": adj.reason, "stock_after": p.stock }),
        },
        now,
    )?;
    Ok(StockAdjustmentResponse { product: product_dto(p)?, movement: movement_dto(m) })
}

/// One page of a product's stock ledger.
pub async fn movements(
    state: &AppState,
    actor: &Caller,
    id: ProductId,
    page: PageRequest,
) -> Result<StockMovementList, ServiceError> {
    actor.require(Permission::ViewStockLedger)?;
    let (rows, total) = state
        .db
        .read(move |c| -> Result<_, ServiceError> {
            products::by_id(c, id.get())?.ok_or_else(|| ServiceError::not_found(format!("product {id}")))?;
            Ok(products::movements(c, id.get(), page)?)
        })
        .await?;
    Ok(StockMovementList {
        items: rows.into_iter().map(movement_dto).collect(),
        pagination: pagination(page, total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_weakly_and_in_lists() {
        let e = page_etag(b"{\"items\":[]}");
        assert!(etag_matches(Some(&e), &e));
        assert!(etag_matches(Some(&format!("\"x\", {}", e.trim_start_matches("W/"))), &e));
        assert!(etag_matches(Some("*"), &e));
        assert!(!etag_matches(Some(&page_etag(b"{\"items\":[1]}")), &e));
        assert!(!etag_matches(None, &e));
    }

    #[test]
    fn a_page_etag_follows_its_bytes() {
        assert_eq!(page_etag(b"[1]"), page_etag(b"[1]"));
        assert_ne!(page_etag(b"{\"stock\":1}"), page_etag(b"{\"stock\":2}"));
    }

    #[test]
    fn equivalent_queries_share_a_cache_key() {
        let a =
            ListRequest::parse(&ProductQuery { q: Some("Red  kettle".into()), ..Default::default() }, None)
                .unwrap();
        let b = ListRequest::parse(
            &ProductQuery { q: Some("red kettle!".into()), page: Some(1), ..Default::default() },
            None,
        )
        .unwrap();
        assert_eq!(a.key, b.key);
    }

    #[test]
    fn filters_are_part_of_the_cache_key_and_false_is_no_filter() {
        let key = |q: ProductQuery| ListRequest::parse(&q, None).unwrap().key;
        let plain = key(ProductQuery::default());
        let filtered = [
            ProductQuery { min_price_cents: Some(100), ..Default::default() },
            ProductQuery { max_price_cents: Some(100), ..Default::default() },
            ProductQuery { in_stock: Some(true), ..Default::default() },
            ProductQuery { on_sale: Some(true), ..Default::default() },
        ]
        .map(key);
        for (i, k) in filtered.iter().enumerate() {
            assert_ne!(k, &plain);
            assert!(filtered[..i].iter().all(|other| other != k), "{k}");
        }
        assert_eq!(
            key(ProductQuery { in_stock: Some(false), on_sale: Some(false), ..Default::default() }),
            plain
        );
    }

    #[test]
    fn crossed_price_bounds_name_the_lower_one() {
        let q = ProductQuery { min_price_cents: Some(5), max_price_cents: Some(4), ..Default::default() };
        match ListRequest::parse(&q, None).unwrap_err() {
            ServiceError::Validation(e) => assert_eq!(e.0[0].field, "min_price_cents"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inactive_products_need_a_catalog_manager() {
        let q = ProductQuery { include_inactive: Some(true), ..Default::default() };
        assert!(matches!(ListRequest::parse(&q, None).unwrap_err(), ServiceError::Unauthorized(_)));
    }
}
