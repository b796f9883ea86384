//! `/api/products`, `/api/categories`, `/api/suppliers`: the public catalog.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use retail_api_types::{CategoryCount, Problem, Product, ProductList, ProductQuery, SupplierCount};
use retail_domain::ProductId;

use super::auth::{AuthUser, MaybeAuthUser};
use super::extract::Query;
use crate::error::ApiError;
use crate::service::catalog::{self, ListRequest, Listed, etag_matches, product_etag};
use crate::state::State;

pub(crate) fn if_none_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn not_modified(etag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish()
}

/// List products: paging, sorting, full-text search, category, price, stock and sale filters.
#[utoipa::path(
    tag = "catalog",
    params(ProductQuery),
    responses(
        (status = 200, description = "One page of products", body = ProductList,
            headers(("ETag" = String, description = "A digest of the page: changes whenever the page's content does (stock included, at most `cache.product_list_ttl_ms` late)"))),
        (status = 304, description = "Not modified (If-None-Match matched)"),
        (status = 400, description = "Unreadable query parameter (e.g. `in_stock=maybe`, a price that is not an integer)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out-of-range page, unknown sort, negative price bound, `min_price_cents` above `max_price_cents`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "include_inactive without a token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "include_inactive by a caller who does not manage the catalog", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "include_inactive without catalog rights", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products")]
pub async fn list_products(
    state: State,
    req: HttpRequest,
    q: Query<ProductQuery>,
    viewer: MaybeAuthUser,
) -> Result<HttpResponse, ApiError> {
    let list = ListRequest::parse(&q.0, viewer.0.as_ref().map(AuthUser::caller).as_ref())?;
    Ok(page_response(catalog::list(&state, list, if_none_match(&req)).await?))
}

/// A cached page as the answer: 304 when `If-None-Match` matched, else the page with its ETag.
pub(crate) fn page_response(listed: Listed) -> HttpResponse {
    match listed {
        Listed::NotModified(etag) => not_modified(&etag),
        Listed::Page(etag, body) => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(body),
    }
}

/// One product. Deactivated products are visible to catalog managers only.
#[utoipa::path(
    tag = "catalog",
    params(("id" = i64, Path, description = "Product ID")),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(("ETag" = String, description = "Changes whenever the product changes"))),
        (status = 304, description = "Not modified (If-None-Match matched)"),
        (status = 404, description = "No such (visible) product", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products/{id}")]
pub async fn get_product(
    state: State,
    req: HttpRequest,
    id: web::Path<i64>,
    viewer: MaybeAuthUser,
) -> Result<HttpResponse, ApiError> {
    let p =
        catalog::get(&state, ProductId(id.into_inner()), viewer.0.as_ref().map(AuthUser::caller).as_ref())
            .await?;
    let etag = product_etag(&p);
    if etag_matches(if_none_match(&req).as_deref(), &etag) {
        return Ok(not_modified(&etag));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(p))
}

/// Categories that hold active products, with counts.
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "Categories A-Z", body = [CategoryCount]))
)]
#[get("/categories")]
pub async fn list_categories(state: State) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalog::categories(&state).await?))
}

/// Partners (suppliers) whose feeds own active products, with counts: the choices of the
/// product list's `partner_id` filter.
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "Suppliers by name", body = [SupplierCount]))
)]
#[get("/suppliers")]
pub async fn list_suppliers(state: State) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalog::suppliers(&state).await?))
}
