//! `/api/flash`: the public sale listing and the customer's reservations; `/api/admin/sales`:
//! the admin's sale editor and live view. Reserving and cancelling are "sale purchase
//! routes": besides the API limit they have a per-customer limit (`flash.purchase_*`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use retail_api_types::{
    AdminSale, AdminSaleList, FlashReservation, FlashReservationList, FlashSale, FlashSaleList, PageQuery,
    Problem, ReserveRequest, SaleRequest, SaleUpdateRequest,
};

use super::auth::AuthUser;
use super::catalog::{if_none_match, page_response};
use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::service::sales;
use crate::state::State;

/// Live and upcoming sales with time left and units remaining, soonest to end first.
///
/// Served from memory for up to `flash.listing_ttl_ms` (1 s): the counts may be that old.
#[utoipa::path(
    tag = "flash",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of sales", body = FlashSaleList,
            headers(("ETag" = String, description = "A digest of the page"))),
        (status = 304, description = "Not modified (If-None-Match matched)"),
        (status = 400, description = "Unreadable query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out-of-range page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sales")]
pub async fn list_sales(
    state: State,
    req: HttpRequest,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(page_response(sales::listing(&state, &q.0, if_none_match(&req)).await?))
}

/// One sale, whatever its state, with live counts.
#[utoipa::path(
    tag = "flash",
    params(("id" = i64, Path, description = "Sale ID")),
    responses(
        (status = 200, description = "The sale", body = FlashSale),
        (status = 404, description = "No such sale", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sales/{id}")]
pub async fn get_sale(state: State, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::get(&state, id.into_inner()).await?))
}

/// Reserve units of a live sale's product at the sale price, locked now.
///
/// All units asked for or none. The hold lasts `flash.hold_ttl_secs` (10 min); pay it with
/// `POST /api/checkout` and `reservation_id`. The cap counts the caller's live holds and
/// purchases across the whole sale.
#[utoipa::path(
    tag = "flash",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Sale ID")),
    request_body = ReserveRequest,
    responses(
        (status = 201, description = "Reserved", body = FlashReservation, headers(("Location" = String),
            ("x-ratelimit-limit" = String, description = "Requests the caller may make in a burst"),
            ("x-ratelimit-remaining" = String, description = "Requests left in the burst"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sale, or the product is not in it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sold_out`, `only_left`, `cap_reached`, `over_cap` (the detail says how many the caller can still get), `sale_not_live`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`units` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many purchase requests from this customer", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String), ("x-ratelimit-after" = String, description = "Seconds until the next request is allowed"))),
        (status = 503, description = "The database is busy; retry shortly", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sales/{id}/reservations")]
pub async fn reserve(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<ReserveRequest>,
) -> Result<HttpResponse, ApiError> {
    let r = sales::reserve(&state, &who.caller(), id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/flash/reservations/{}", r.id)))
        .json(r))
}

/// The caller's reservations, newest first.
#[utoipa::path(
    tag = "flash",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of reservations", body = FlashReservationList),
        (status = 400, description = "Unreadable query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out-of-range page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reservations")]
pub async fn my_reservations(
    state: State,
    who: AuthUser,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::my_reservations(&state, &who.caller(), &q.0).await?))
}

/// One of the caller's reservations.
#[utoipa::path(
    tag = "flash",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation ID")),
    responses(
        (status = 200, description = "The reservation", body = FlashReservation),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reservations/{id}")]
pub async fn my_reservation(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::my_reservation(&state, &who.caller(), id.into_inner()).await?))
}

/// Cancel a held reservation: its units return to the sale at once.
#[utoipa::path(
    tag = "flash",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Reservation ID")),
    responses(
        (status = 200, description = "Cancelled", body = FlashReservation),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`reservation_not_held` (paid or cancelled) or `reservation_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many purchase requests from this customer", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String))),
        (status = 503, description = "The database is busy; retry shortly", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reservations/{id}/cancel")]
pub async fn cancel_reservation(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::cancel(&state, &who.caller(), id.into_inner()).await?))
}

// ----------------------------------------------------------------------------------- admin

/// Every sale, newest first, with live counts (admins).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of sales", body = AdminSaleList),
        (status = 400, description = "Unreadable query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out-of-range page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sales")]
pub async fn admin_list_sales(
    state: State,
    who: AuthUser,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::admin_list(&state, &who.caller(), &q.0).await?))
}

/// Schedule a sale: its allocations are taken from stock through the ledger now.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = SaleRequest,
    responses(
        (status = 201, description = "Scheduled", body = AdminSale, headers(("Location" = String))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named: an end before the start or in the past, an unknown product, a product in another sale at that time, an allocation above stock, a discount out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy; retry shortly", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sales")]
pub async fn admin_create_sale(
    state: State,
    who: AuthUser,
    body: Json<SaleRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = sales::create(&state, &who.caller(), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/admin/sales/{}", s.sale.id)))
        .json(s))
}

/// One sale with its live sold / reserved / remaining per product (admins).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Sale ID")),
    responses(
        (status = 200, description = "The sale", body = AdminSale),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sale", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sales/{id}")]
pub async fn admin_get_sale(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::admin_get(&state, &who.caller(), id.into_inner()).await?))
}

/// Replace a sale that has not started (send the `version` read).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Sale ID")),
    request_body = SaleUpdateRequest,
    responses(
        (status = 200, description = "Updated", body = AdminSale),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sale", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sale_started`, `sale_over`, `version_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (as for creating), or a `version` below 1", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy; retry shortly", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/sales/{id}")]
pub async fn admin_update_sale(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<SaleUpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::update(&state, &who.caller(), id.into_inner(), body.0).await?))
}

/// End a sale now: unsold units go back to stock; holds already made stay payable until they
/// expire.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Sale ID")),
    responses(
        (status = 200, description = "Ended", body = AdminSale),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sale", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sale_over`, `version_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy; retry shortly", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sales/{id}/end")]
pub async fn admin_end_sale(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sales::end_now(&state, &who.caller(), id.into_inner()).await?))
}
