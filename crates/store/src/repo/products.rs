use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Text, TimestamptzSqlite};
use diesel::sqlite::Sqlite;
use retail_domain::catalog::{MAX_STOCK, NewProduct, PriceRange, ProductPatch};
use retail_domain::paging::{PageRequest, ProductSort};

use crate::models::{ProductRow, StockMovementRow};
use crate::schema::{catalog_version, partners, products, sale_items, sales, stock_movements};
use crate::{Conn, StoreError};

/// A new product's row: zero stock (the ledger records the initial stock), version 1.
#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewRow<'a> {
    sku: &'a str,
    name: &'a str,
    description: &'a str,
    price_cents: i64,
    currency: &'static str,
    stock: i64,
    category: &'a str,
    image_url: Option<&'a str>,
    active: bool,
    returnable: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn new_row(p: &NewProduct, now: DateTime<Utc>) -> NewRow<'_> {
    NewRow {
        sku: p.sku.as_str(),
        name: &p.name,
        description: &p.description,
        price_cents: p.price.cents(),
        currency: p.currency.code(),
        stock: 0,
        category: &p.category,
        image_url: p.image_url.as_deref(),
        active: p.active,
        returnable: p.returnable,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts a product with zero stock; the caller records the initial stock through
/// [`apply_stock_delta`] so that it lands in the ledger.
pub fn insert(c: &mut Conn, p: &NewProduct, now: DateTime<Utc>) -> Result<ProductRow, StoreError> {
    Ok(diesel::insert_into(products::table)
        .values(new_row(p, now))
        .returning(ProductRow::as_returning())
        .get_result(c)?)
}

/// Inserts many products with zero stock, in the caller's transaction and a few hundred
/// rows per statement; returns how many were inserted. For generated catalogs (benchmarks).
pub fn bulk_insert(c: &mut Conn, items: &[NewProduct], now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for chunk in items.chunks(500) {
        let rows: Vec<_> = chunk.iter().map(|p| new_row(p, now)).collect();
        inserted += diesel::insert_into(products::table).values(rows).execute(c)?;
    }
    Ok(inserted)
}

/// The product with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<ProductRow>, StoreError> {
    Ok(products::table.find(id).select(ProductRow::as_select()).get_result(c).optional()?)
}

/// The product with this (normalised) SKU.
pub fn by_sku(c: &mut Conn, sku: &str) -> Result<Option<ProductRow>, StoreError> {
    Ok(products::table
        .filter(products::sku.eq(sku))
        .select(ProductRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    /// Only this (lower-case) category.
    pub category: Option<String>,
    /// An FTS5 query, as built by `retail_domain::catalog::search_query`.
    pub fts: Option<String>,
    /// Include deactivated products.
    pub include_inactive: bool,
    /// Only regular prices within this range.
    pub price: PriceRange,
    /// Only products with stock on hand.
    pub in_stock: bool,
    /// Only the products this partner's feeds own.
    pub partner: Option<i64>,
    /// Only products in a flash sale live at this time: started, not past its end and not
    /// ended early.
    pub on_sale_at: Option<DateTime<Utc>>,
}

impl ProductFilter {
    /// Whether it lets every active product through, and only those.
    pub fn is_all_active(&self) -> bool {
        let ProductFilter { category, fts, include_inactive, price, in_stock, partner, on_sale_at } = self;
        category.is_none()
            && fts.is_none()
            && !include_inactive
            && price.min.is_none()
            && price.max.is_none()
            && !in_stock
            && partner.is_none()
            && on_sale_at.is_none()
    }
}

const FTS_MATCH: &str = "products.id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ";

/// Most matches a relevance-sorted search scores with bm25. Scoring costs about a
/// microsecond per match (50-100 ms for the 94,000 matches of `a` among 100,000 products on
/// two cores), more than a whole request may take. Up to this many matches the ranking is
/// exact (best bm25 first, ties by ID); past it the newest `RANK_WINDOW` matches are ranked
/// and the older ones follow, newest first. The total is always exact.
pub const RANK_WINDOW: i64 = 5_000;

/// One page of products and the total matching.
pub fn list(
    c: &mut Conn,
    f: &ProductFilter,
    sort: ProductSort,
    page: PageRequest,
) -> Result<(Vec<ProductRow>, i64), StoreError> {
    list_with_rank_window(c, f, sort, page, RANK_WINDOW)
}

/// [`list`] with the number of matches relevance ranking scores (see [`RANK_WINDOW`]).
pub fn list_with_rank_window(
    c: &mut Conn,
    f: &ProductFilter,
    sort: ProductSort,
    page: PageRequest,
    rank_window: i64,
) -> Result<(Vec<ProductRow>, i64), StoreError> {
    if let (ProductSort::Relevance, Some(m)) = (sort, &f.fts) {
        return list_by_relevance(c, m, f, page, rank_window.max(1));
    }
    let build = || {
        let mut q = products::table.into_boxed();
        if !f.include_inactive {
            q = q.filter(products::active.eq(true));
        }
        if let Some(cat) = &f.category {
            q = q.filter(products::category.eq(cat.clone()));
        }
        if let Some(m) = &f.fts {
            q = q.filter(sql::<Bool>(FTS_MATCH).bind::<Text, _>(m.clone()).sql(")"));
        }
        if let Some(min) = f.price.min {
            q = q.filter(products::price_cents.ge(min));
        }
        if let Some(max) = f.price.max {
            q = q.filter(products::price_cents.le(max));
        }
        if let Some(p) = f.partner {
            q = q.filter(products::partner_id.eq(p));
        }
        if f.in_stock {
            // Literal, not bound: only then can SQLite use the partial index `products_in_stock`.
            q = q.filter(sql::<Bool>("products.stock > 0"));
        }
        if let Some(now) = f.on_sale_at {
            let live = sale_items::table
                .inner_join(sales::table)
                .filter(sales::starts_at.le(now))
                .filter(sales::ends_at.gt(now))
                .filter(sales::ended_early_at.is_null().or(sales::ended_early_at.gt(now)).assume_not_null())
                .select(sale_items::product_id);
            q = q.filter(products::id.eq_any(live));
        }
        q
    };
    let total: i64 = match &f.fts {
        Some(m) => count_matches(c, m, f)?,
        None if f.is_all_active() => active_products(c)?,
        None => build().count().get_result(c)?,
    };
    if total == 0 {
        return Ok((Vec::new(), 0));
    }
    let q = build().select(ProductRow::as_select());
    let q = match sort {
        ProductSort::Relevance | ProductSort::NameAsc => {
            q.order(products::name.asc()).then_order_by(products::id.asc())
        }
        ProductSort::NameDesc => q.order(products::name.desc()).then_order_by(products::id.desc()),
        ProductSort::PriceAsc => q.order(products::price_cents.asc()).then_order_by(products::id.asc()),
        ProductSort::PriceDesc => q.order(products::price_cents.desc()).then_order_by(products::id.desc()),
        ProductSort::Newest => q.order(products::id.desc()),
    };
    let rows = q.limit(page.limit()).offset(page.offset()).load(c)?;
    Ok((rows, total))
}

/// What a full-text statement selects (see [`FtsStatement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FtsSelect {
    /// `count(*) AS n`: how many match.
    Count,
    /// `id, r`: matches with their bm25 rank, in the index's own order; binds `LIMIT ?`.
    Ranked,
    /// `id, r`: the newest matches with their rank; binds `LIMIT ?`.
    NewestRanked,
    /// `id`: matches newest first; binds `LIMIT ? OFFSET ?`.
    NewestIds,
}

/// A full-text statement over `products`, written straight into diesel's query builder so
/// that diesel keeps it prepared: its SQL depends only on which filters are present (a few
/// dozen shapes at most), so the statement cache, keyed by that SQL, holds each shape once
/// and a search no longer parses and plans its statement anew (`sql_query` is never cached).
///
/// `FROM ... WHERE ...`: the FTS index drives (`CROSS JOIN` fixes that order, so SQLite
/// never probes the index once per product) and each match meets its product once, by
/// primary key.
struct FtsStatement<'a> {
    select: FtsSelect,
    fts: &'a str,
    f: &'a ProductFilter,
    limits: [i64; 2],
}

impl<'a> FtsStatement<'a> {
    fn new(select: FtsSelect, fts: &'a str, f: &'a ProductFilter, limits: [i64; 2]) -> Self {
        FtsStatement { select, fts, f, limits }
    }
}

impl QueryId for FtsStatement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for FtsStatement<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl RunQueryDsl<Conn> for FtsStatement<'_> {}

impl QueryFragment<Sqlite> for FtsStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(match self.select {
            FtsSelect::Count => "SELECT count(*) AS n ",
            FtsSelect::Ranked | FtsSelect::NewestRanked => "SELECT p.id AS id, products_fts.rank AS r ",
            FtsSelect::NewestIds => "SELECT p.id AS id ",
        });
        out.push_sql(
            "FROM products_fts CROSS JOIN products p ON p.id = products_fts.rowid \
             WHERE products_fts MATCH ",
        );
        out.push_bind_param::<Text, _>(self.fts)?;
        let f = self.f;
        if !f.include_inactive {
            out.push_sql(" AND p.active = 1");
        }
        if let Some(cat) = &f.category {
            out.push_sql(" AND p.category = ");
            out.push_bind_param::<Text, _>(cat)?;
        }
        if let Some(min) = &f.price.min {
            out.push_sql(" AND p.price_cents >= ");
            out.push_bind_param::<BigInt, _>(min)?;
        }
        if let Some(max) = &f.price.max {
            out.push_sql(" AND p.price_cents <= ");
            out.push_bind_param::<BigInt, _>(max)?;
        }
        if let Some(partner) = &f.partner {
            out.push_sql(" AND p.partner_id = ");
            out.push_bind_param::<BigInt, _>(partner)?;
        }
        if f.in_stock {
            out.push_sql(" AND p.stock > 0");
        }
        if let Some(now) = &f.on_sale_at {
            // Not correlated: the live sales' products are listed once per statement.
            out.push_sql(
                " AND p.id IN (SELECT si.product_id FROM sale_items si JOIN sales s ON s.id = si.sale_id \
                 WHERE s.starts_at <= ",
            );
            out.push_bind_param::<TimestamptzSqlite, _>(now)?;
            out.push_sql(" AND s.ends_at > ");
            out.push_bind_param::<TimestamptzSqlite, _>(now)?;
            out.push_sql(" AND (s.ended_early_at IS NULL OR s.ended_early_at > ");
            out.push_bind_param::<TimestamptzSqlite, _>(now)?;
            out.push_sql("))");
        }
        match self.select {
            FtsSelect::Count => {}
            FtsSelect::Ranked => {
                out.push_sql(" LIMIT ");
                out.push_bind_param::<BigInt, _>(&self.limits[0])?;
            }
            FtsSelect::NewestRanked => {
                out.push_sql(" ORDER BY products_fts.rowid DESC LIMIT ");
                out.push_bind_param::<BigInt, _>(&self.limits[0])?;
            }
            FtsSelect::NewestIds => {
                out.push_sql(" ORDER BY products_fts.rowid DESC LIMIT ");
                out.push_bind_param::<BigInt, _>(&self.limits[0])?;
                out.push_sql(" OFFSET ");
                out.push_bind_param::<BigInt, _>(&self.limits[1])?;
            }
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Products matching the FTS5 expression `m` and the filter: one pass over the index's
/// matches, no ranking.
fn count_matches(c: &mut Conn, m: &str, f: &ProductFilter) -> Result<i64, StoreError> {
    Ok(FtsStatement::new(FtsSelect::Count, m, f, [0, 0]).get_result::<CountRow>(c)?.n)
}

/// Most deactivated products [`count_broad`] checks one by one against the search.
const HIDDEN_CHECKED: i64 = 32;

/// The total of a broad search (more matches than the rank window). Joining every match
/// with its product only to drop the deactivated ones costs most of such a search (94,000
/// primary-key lookups, about 20 ms, for `b` among 100,000 products), while the index
/// counts its matches alone in a few. So when no filter but "active" applies, the total is
/// the index's count less the deactivated products that match, each checked by rowid, as
/// long as there are at most [`HIDDEN_CHECKED`] of them; otherwise, and with any other
/// filter, it is [`count_matches`]. Every product is in the index (its triggers keep it so).
fn count_broad(c: &mut Conn, m: &str, f: &ProductFilter) -> Result<i64, StoreError> {
    let only_active = f.category.is_none()
        && f.price.min.is_none()
        && f.price.max.is_none()
        && f.partner.is_none()
        && !f.in_stock
        && f.on_sale_at.is_none();
    if !only_active {
        return count_matches(c, m, f);
    }
    let hidden: i64 = if f.include_inactive {
        0
    } else {
        products::table.filter(products::active.eq(false)).count().get_result(c)?
    };
    if hidden > HIDDEN_CHECKED {
        return count_matches(c, m, f);
    }
    let all = diesel::sql_query("SELECT count(*) AS n FROM products_fts WHERE products_fts MATCH ?")
        .bind::<Text, _>(m)
        .get_result::<CountRow>(c)?
        .n;
    if hidden == 0 {
        return Ok(all);
    }
    let hidden_matching = diesel::sql_query(
        "SELECT count(*) AS n FROM products p WHERE p.active = 0 AND EXISTS \
         (SELECT 1 FROM products_fts WHERE products_fts MATCH ? AND products_fts.rowid = p.id)",
    )
    .bind::<Text, _>(m)
    .get_result::<CountRow>(c)?
    .n;
    Ok(all - hidden_matching)
}

#[derive(QueryableByName)]
struct RankedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Double)]
    r: f64,
}

/// A relevance-sorted page: the best FTS5 `rank` (bm25) first, ties by ID, through one
/// join of the index with `products`. A first pass reads up to `window + 1` matches with
/// their rank, in the index's own order (the cheapest: a prefix term read newest first is
/// read whole, then backwards). A search that matches at most `window` products (most do)
/// has its total, its ranking and its page from that pass alone; a broader one counts its
/// matches (see [`count_broad`]), ranks the newest `window` and reads its tail in
/// statements of their own.
fn list_by_relevance(
    c: &mut Conn,
    m: &str,
    f: &ProductFilter,
    page: PageRequest,
    window: i64,
) -> Result<(Vec<ProductRow>, i64), StoreError> {
    let mut ranked: Vec<RankedRow> = FtsStatement::new(FtsSelect::Ranked, m, f, [window + 1, 0]).load(c)?;
    let window_len = usize::try_from(window).unwrap_or(usize::MAX);
    let total = if ranked.len() > window_len {
        ranked = FtsStatement::new(FtsSelect::NewestRanked, m, f, [window, 0]).load(c)?;
        count_broad(c, m, f)?
    } else {
        i64::try_from(ranked.len()).unwrap_or(i64::MAX)
    };
    if total == 0 {
        return Ok((Vec::new(), 0));
    }
    ranked.sort_by(|a, b| a.r.total_cmp(&b.r).then(a.id.cmp(&b.id)));
    let (offset, end) = (page.offset(), page.offset() + page.limit());
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(end.min(window) - offset).unwrap_or(0);
    let mut ids: Vec<i64> = ranked.iter().skip(skip).take(take).map(|r| r.id).collect();
    // With at most `window` matches the window is all of them and there is no tail to read.
    if total > window && end > window {
        let from = offset.max(window);
        let q = FtsStatement::new(FtsSelect::NewestIds, m, f, [end - from, from]);
        ids.extend(q.load::<IdRow>(c)?.into_iter().map(|r| r.id));
    }
    Ok((by_ids_in_order(c, &ids)?, total))
}

/// The products with these IDs, in this order (missing ones left out).
fn by_ids_in_order(c: &mut Conn, ids: &[i64]) -> Result<Vec<ProductRow>, StoreError> {
    let mut rows: Vec<ProductRow> =
        products::table.filter(super::in_json(products::id, ids)).select(ProductRow::as_select()).load(c)?;
    let pos: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    rows.sort_by_key(|r| pos.get(&r.id).copied().unwrap_or(usize::MAX));
    Ok(rows)
}

/// Categories of active products with their counts, A-Z.
pub fn categories(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(products::table
        .filter(products::active.eq(true))
        .group_by(products::category)
        .select((products::category, count_star()))
        .order(products::category.asc())
        .load(c)?)
}

/// Partners whose feeds own active products, by name: `(partner ID, name, active products)`.
pub fn suppliers(c: &mut Conn) -> Result<Vec<(i64, String, i64)>, StoreError> {
    Ok(products::table
        .inner_join(partners::table)
        .filter(products::active.eq(true))
        .group_by((partners::id, partners::name))
        .select((partners::id, partners::name, count_star()))
        .order((partners::name.asc(), partners::id.asc()))
        .load(c)?)
}

/// Pages of merge work [`merge_search_index`] does per call.
pub const SEARCH_MERGE_PAGES: i64 = 256;

/// One step of upkeep of the full-text index (SQLite FTS5 `merge`): every committed write adds
/// a segment to the index, and writes merge them only once a level holds 16 (`automerge`,
/// set by migration, so a large feed does not merge over and over). A search reads every
/// segment, so between writes the index is merged here, in steps of at most
/// [`SEARCH_MERGE_PAGES`] pages, wherever a level holds at least 4 (`usermerge`). Whether
/// this step merged anything: call again until it did not.
pub fn merge_search_index(c: &mut Conn) -> Result<bool, StoreError> {
    let before = total_changes(c)?;
    diesel::sql_query("INSERT INTO products_fts (products_fts, rank) VALUES ('merge', ?)")
        .bind::<BigInt, _>(SEARCH_MERGE_PAGES)
        .execute(c)?;
    // the FTS5 manual's test: fewer than two changes, nothing was merged
    Ok(total_changes(c)? - before >= 2)
}

/// Merges the whole full-text index into one segment (after a bulk load: the fastest index
/// to search, rewritten in full, so not for every write).
pub fn optimize_search_index(c: &mut Conn) -> Result<(), StoreError> {
    diesel::sql_query("INSERT INTO products_fts (products_fts) VALUES ('optimize')").execute(c)?;
    Ok(())
}

fn total_changes(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(diesel::select(sql::<BigInt>("total_changes()")).get_result(c)?)
}

/// How many products are active, as the triggers on `products` keep it (no count).
pub fn active_products(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(catalog_version::table.select(catalog_version::active_products).find(1).get_result(c)?)
}

/// The catalog version: it changes on every write to `products`, from any process.
pub fn catalog_version(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(catalog_version::table.select(catalog_version::version).find(1).get_result(c)?)
}

#[derive(AsChangeset)]
#[diesel(table_name = products)]
struct Changes<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    price_cents: Option<i64>,
    currency: Option<&'static str>,
    category: Option<&'a str>,
    image_url: Option<Option<&'a str>>,
    active: Option<bool>,
    returnable: Option<bool>,
    updated_at: DateTime<Utc>,
}

/// Applies `patch` if the product is still at `expected_version`; `None` when it is missing
/// or was changed by someone else in the meantime.
pub fn update(
    c: &mut Conn,
    id: i64,
    expected_version: i64,
    patch: &ProductPatch,
    now: DateTime<Utc>,
) -> Result<Option<ProductRow>, StoreError> {
    let changes = Changes {
        name: patch.name.as_deref(),
        description: patch.description.as_deref(),
        price_cents: patch.price.map(|m| m.cents()),
        currency: patch.currency.map(|c| c.code()),
        category: patch.category.as_deref(),
        image_url: patch.image_url.as_ref().map(|o| o.as_deref()),
        active: patch.active,
        returnable: patch.returnable,
        updated_at: now,
    };
    Ok(diesel::update(
        products::table.filter(products::id.eq(id)).filter(products::version.eq(expected_version)),
    )
    .set((changes, products::version.eq(products::version + 1)))
    .returning(ProductRow::as_returning())
    .get_result(c)
    .optional()?)
}

/// Moves stock by `delta` and appends the ledger entry, in the caller's transaction.
/// The update is conditional (`stock + delta >= 0`), so stock never goes negative even if
/// the caller's own check raced; `None` means the product is missing, stock too low, or
/// the result would exceed [`MAX_STOCK`].
pub fn apply_stock_delta(
    c: &mut Conn,
    id: i64,
    delta: i64,
    reason: &str,
    actor_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<(ProductRow, StockMovementRow)>, StoreError> {
    // Stock has its own life: it does not bump the editable `version`, so a sale never
    // turns an admin's edit in progress into a conflict.
    let updated = diesel::update(
        products::table
            .filter(products::id.eq(id))
            .filter((products::stock + delta).ge(0))
            .filter((products::stock + delta).le(MAX_STOCK)),
    )
    .set((products::stock.eq(products::stock + delta), products::updated_at.eq(now)))
    .returning(ProductRow::as_returning())
    .get_result(c)
    .optional()?;
    let Some(product) = updated else { return Ok(None) };
    let movement = diesel::insert_into(stock_movements::table)
        .values((
            stock_movements::product_id.eq(id),
            stock_movements::delta.eq(delta),
            stock_movements::stock_after.eq(product.stock),
            stock_movements::reason.eq(reason),
            stock_movements::actor_id.eq(actor_id),
            stock_movements::created_at.eq(now),
        ))
        .returning(StockMovementRow::as_returning())
        .get_result(c)?;
    Ok(Some((product, movement)))
}

/// One page of a product's ledger, newest first.
pub fn movements(
    c: &mut Conn,
    product_id: i64,
    page: PageRequest,
) -> Result<(Vec<StockMovementRow>, i64), StoreError> {
    let total =
        stock_movements::table.filter(stock_movements::product_id.eq(product_id)).count().get_result(c)?;
    let rows = stock_movements::table
        .filter(stock_movements::product_id.eq(product_id))
        .select(StockMovementRow::as_select())
        .order(stock_movements::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .load(c)?;
    Ok((rows, total))
}

/// Products whose stock differs from the sum of their ledger: (id, stock, ledger sum).
/// Empty when the books balance.
pub fn stock_discrepancies(c: &mut Conn) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = BigInt)]
        stock: i64,
        #[diesel(sql_type = BigInt)]
        ledger: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT p.id AS id, p.stock AS stock, COALESCE(SUM(m.delta), 0) AS ledger \
         FROM products p LEFT JOIN stock_movements m ON m.product_id = p.id \
         GROUP BY p.id HAVING p.stock <> COALESCE(SUM(m.delta), 0)",
    )
    .load(c)?;
    Ok(rows.into_iter().map(|r| (r.id, r.stock, r.ledger)).collect())
}
