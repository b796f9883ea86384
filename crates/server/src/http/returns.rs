//! Returns (RMA): `/api/returns` (the customer's requests, every return's page and actions,
//! photos) and `/api/staff/returns` (the team queues and figures). Who may act is the RMA
//! transition table's decision, made by the service; middleware only makes sure a caller is
//! signed in (or staff, for the queues) before any input is read.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use retail_api_types::{
    PageQuery, Problem, ReturnPreview, ReturnRequest, Rma, RmaActionRequest, RmaFigures, RmaId, RmaList,
    StaffReturnQuery,
};
use retail_domain::paging::PageRequest;
use retail_domain::rma::MAX_PHOTOS;

use super::auth::AuthUser;
use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::service::returns::{self, Upload};
use crate::state::State;

/// See what a return would refund, and whether it would be accepted, without requesting it.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    request_body = ReturnRequest,
    responses(
        (status = 200, description = "Eligibility and the refund estimate (restocking fee included)", body = ReturnPreview),
        (status = 404, description = "No such order (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No lines, a line listed twice or not of the order, a quantity out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/preview")]
pub async fn preview(
    state: State,
    who: AuthUser,
    body: Json<ReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(returns::preview(&state, &who.caller(), body.0).await?))
}

/// Request a return of lines of a delivered order. Checked at once: an eligible request waits
/// for support (`validating`); an ineligible one is recorded `rejected` with its reasons.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    request_body = ReturnRequest,
    responses(
        (status = 201, description = "Requested (stage `validating`) or refused (stage `rejected`, with `problems`)", body = Rma),
        (status = 404, description = "No such order (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No lines, a line listed twice or not of the order, a quantity out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn create(
    state: State,
    who: AuthUser,
    body: Json<ReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let rma = returns::create(&state, &who.caller(), body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/returns/{}", rma.id)))
        .json(rma))
}

/// The caller's returns, newest first.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "One page of returns", body = RmaList))
)]
#[get("")]
pub async fn mine(state: State, who: AuthUser, q: Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.page, q.0.per_page)?;
    Ok(HttpResponse::Ok().json(returns::mine(&state, &who.caller(), page).await?))
}

/// One return with its lines, photos, timeline and the actions the caller may take (its
/// owner, or staff).
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Return ID")),
    responses(
        (status = 200, description = "The return", body = Rma),
        (status = 404, description = "No such return (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}")]
pub async fn get_one(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(returns::get(&state, &who.caller(), RmaId(id.into_inner())).await?))
}

/// Act on a return: approve, reject, ship, receive, start_inspection, inspect, decide,
/// process, complete or cancel, as the transition table allows the caller, naming the
/// `version` the decision was made on.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Return ID")),
    request_body = RmaActionRequest,
    responses(
        (status = 200, description = "Done: the return as it is now", body = Rma),
        (status = 403, description = "The caller's role may not take this action", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such return (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (lists the allowed actions), `stale_version` (someone acted first: reload), `completes_itself`, `nothing_to_refund`, `out_of_stock` (replacement; retry later)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field the action needs is missing or invalid (each named)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The payment provider refused or failed the refund: the return stays `processing` with `last_error`; process again to retry", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The payment provider timed out: the return stays `processing`; process again to retry", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/actions")]
pub async fn act(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<RmaActionRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(returns::act(&state, &who.caller(), RmaId(id.into_inner()), body.0).await?))
}

/// Photos to attach: one or more file parts named `photo`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// JPEG, PNG or WebP images (checked by content), each at most `returns.photo_max_bytes`
    /// (5 MiB by default); a return holds at most 5.
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

/// Attach photos to your return (until the goods are received; at most 5 in all). Stored
/// under random names with their SHA-256; all or nothing.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Return ID")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached: the return with its photos", body = Rma),
        (status = 403, description = "Not your return (staff cannot add photos)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such return (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`photos_closed` (goods received) or `too_many_photos`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A photo is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `photo` part, or a part that is not a JPEG, PNG or WebP image", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/photos")]
pub async fn add_photos(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = RmaId(id.into_inner());
    let caller = who.caller();
    // Whether the caller may add photos at all is decided before the upload is read.
    returns::may_add_photos(&state, &caller, id).await?;
    let uploads = read_photos(&req, payload, state.returns.photo_max_bytes).await?;
    let rma = returns::add_photos(&state, &caller, id, uploads).await?;
    Ok(HttpResponse::Created().json(rma))
}

/// Reads the `photo` parts of a multipart body, each up to `limit` bytes (413 beyond, without
/// reading further), at most [`MAX_PHOTOS`] + 1 of them (the service reports too many).
/// Other parts are skipped; client file names are ignored.
async fn read_photos(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Vec<Upload>, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType);
    }
    let malformed = |e: actix_multipart::MultipartError| ApiError::BadRequest {
        code: "malformed_multipart",
        detail: format!("the multipart body could not be read: {e}"),
        errors: Vec::new(),
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut out = Vec::new();
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(malformed)?;
        let wanted = field.name() == Some("photo");
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if wanted {
                if buf.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                buf.extend_from_slice(&chunk);
            }
        }
        if wanted {
            out.push(Upload { bytes: buf.freeze() });
            if out.len() > MAX_PHOTOS {
                break;
            }
        }
    }
    Ok(out)
}

/// The bytes of an image.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct PhotoBytes(Vec<u8>);

/// One photo of a return (its owner, or staff), with its stored type.
#[utoipa::path(
    tag = "returns",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Return ID"),
        ("photo" = i64, Path, description = "Photo ID"),
    ),
    responses(
        (status = 200, description = "The image, with the type checked at upload", content(
            (PhotoBytes = "image/jpeg"),
            (PhotoBytes = "image/png"),
            (PhotoBytes = "image/webp"),
        )),
        (status = 404, description = "No such return or photo (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}/photos/{photo}")]
pub async fn photo(
    state: State,
    who: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, photo) = path.into_inner();
    let f = returns::photo(&state, &who.caller(), RmaId(id), photo).await?;
    Ok(HttpResponse::Ok()
        .content_type(f.content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{}\"", f.file_name)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .body(f.bytes))
}

/// A team's queue (oldest in its stage first, with age against the stage's target), or every
/// return newest first; filtered by stage, search, breaches (staff).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(StaffReturnQuery),
    responses(
        (status = 200, description = "One page of returns", body = RmaList),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/returns")]
pub async fn staff_queue(
    state: State,
    who: AuthUser,
    q: Query<StaffReturnQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(returns::staff_list(&state, &who.caller(), q.0).await?))
}

/// Return figures: count, median time and target per stage; refunds, credit, restocks,
/// replacements (staff).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The figures", body = RmaFigures),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/returns/figures")]
pub async fn figures(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(returns::figures(&state, &who.caller()).await?))
}
