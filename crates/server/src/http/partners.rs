//! Partners and feeds: the admin's routes (onboarding, keys, uploads for a partner, jobs,
//! schedules), the partner's own routes (`X-API-Key`), and the feed format's help.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, delete, get, patch, post, web,
};
use futures_util::StreamExt;
use retail_api_types::PartnerPatch;
use retail_api_types::{
    FeedHelp, FeedJob, FeedJobList, FeedJobQuery, FeedResult, FeedSchedule, FeedUploadQuery, KeyRotated,
    NewPartner, NewSchedule, Partner, PartnerCreated, PartnerList, PartnerQuery, Problem, RotateKey,
    ScheduleList, SchedulePatch,
};
use retail_store::models::PartnerRow;

use super::auth::AuthUser;
use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::service::feeds::{self, FeedFormat, Submitted, Upload, Viewer, format, schedules};
use crate::service::partners::{self, AuthPartner};
use crate::state::State;

/// A multipart feed upload: one file part (its type or file name says CSV or JSON).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FeedFile {
    /// The CSV or JSON file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// One row of a JSON feed (see `GET /api/feeds/help`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FeedItem {
    /// The partner's key for the product.
    sku: String,
    /// Display name.
    name: String,
    /// Decimal string in major units (`"12.50"`), under the `price` contract.
    price: Option<String>,
    /// Integer minor units, under the `price_cents` contract.
    price_cents: Option<i64>,
    /// ISO 4217 code.
    currency: Option<String>,
    /// Units on hand.
    stock: Option<i64>,
    /// Category.
    category: Option<String>,
    /// Description.
    description: Option<String>,
}

/// The header carrying a partner's key.
pub const API_KEY: &str = "x-api-key";

// ----------------------------------------------------------------------------- the partner

/// Middleware of `/api/partner`: the key is checked (401 missing, unknown, revoked or
/// retired; 403 suspended) and the partner's rate counted (429 with `Retry-After`) before
/// anything else of the request is read.
pub async fn partner_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let checked = async {
        let state = req
            .app_data::<State>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let key = req.headers().get(API_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let who = partners::authenticate(&state, key.as_deref()).await?;
        state
            .partner_limits
            .check(who.row.id, who.row.rate_per_minute)
            .map_err(|wait| ApiError::RateLimited { retry_after_secs: wait })?;
        Ok::<_, ApiError>(who)
    }
    .await;
    match checked {
        Ok(who) => {
            req.extensions_mut().insert(who);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}

impl FromRequest for AuthPartner {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions().get::<AuthPartner>().cloned().ok_or(ApiError::Unauthorized("missing X-API-Key")),
        )
    }
}

/// Reads a feed body: CSV or JSON by its content type, or the first file part of a
/// multipart body (its type, else its file name's extension, decides). At most `limit`
/// bytes (413 as soon as more arrive); compressed bodies are refused (415).
async fn read_feed(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<(&'static dyn FeedFormat, Vec<u8>), ApiError> {
    let encoding =
        req.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    if !encoding.trim().eq_ignore_ascii_case("identity") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        return read_multipart(req, payload, limit).await;
    }
    let format = format::by_media_type(content_type).ok_or(ApiError::UnsupportedMediaType)?;
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "malformed_body",
            detail: format!("the body could not be read: {e}"),
            errors: Vec::new(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((format, body))
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(&'static dyn FeedFormat, Vec<u8>), ApiError> {
    let malformed = |e: actix_multipart::MultipartError| ApiError::BadRequest {
        code: "malformed_multipart",
        detail: format!("the multipart body could not be read: {e}"),
        errors: Vec::new(),
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(malformed)?;
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        if file_name.is_none() && field.name() != Some("file") {
            while let Some(chunk) = field.next().await {
                chunk.map_err(malformed)?;
            }
            continue;
        }
        if field.headers().contains_key(header::CONTENT_ENCODING) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let format = field
            .content_type()
            .and_then(|m| format::by_media_type(m.essence_str()))
            .or_else(|| file_name.as_deref().and_then(format::by_file_name))
            .ok_or(ApiError::UnsupportedMediaType)?;
        let mut body = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        return Ok((format, body));
    }
    Err(ApiError::Validation(vec![retail_api_types::FieldProblem {
        field: "file".into(),
        message: "no file part in the multipart body".into(),
    }]))
}

/// The answer to an upload: 200 when done, 202 with `Location` when queued, 200 with
/// `duplicate` for a file applied before; 422 when the file cannot be read at all.
fn answer(submitted: Submitted) -> Result<HttpResponse, ApiError> {
    match submitted {
        Submitted::Queued(r) => {
            Ok(HttpResponse::Accepted().insert_header((header::LOCATION, r.job.status_url.clone())).json(r))
        }
        Submitted::Duplicate(r) => Ok(HttpResponse::Ok().json(r)),
        Submitted::Done(r) => {
            if r.job.rows_total == 0
                && let Some(why) =
                    r.job.last_error.as_deref().filter(|_| r.errors.first().is_some_and(|e| e.row == 0))
            {
                return Err(ApiError::Unprocessable {
                    code: "unreadable_feed",
                    detail: format!("{why} (job {}; your key and later uploads are unaffected)", r.job.id),
                });
            }
            Ok(HttpResponse::Ok().json(r))
        }
    }
}

async fn upload(
    state: &State,
    req: &HttpRequest,
    payload: web::Payload,
    partner: PartnerRow,
    q: FeedUploadQuery,
    who: (&'static str, Option<i64>, Viewer),
) -> Result<HttpResponse, ApiError> {
    let limit = usize::try_from(partner.max_body_bytes).unwrap_or(usize::MAX);
    let (format, body) = read_feed(req, payload, limit).await?;
    let (source, actor, viewer) = who;
    let up = Upload { partner, format, body, mode: q.mode, source, actor, schedule: None };
    answer(feeds::submit(state, up, q.run_async.unwrap_or(false), viewer, None).await?)
}

/// Push a feed (partner, `X-API-Key`): CSV (`text/csv`), JSON (`application/json`) or a
/// multipart upload with one file part. Rows upsert the partner's products by SKU.
#[utoipa::path(
    tag = "partner",
    params(FeedUploadQuery, ("X-API-Key" = String, Header, description = "The partner's API key")),
    request_body(description = "The feed file", content(
        (String = "text/csv"),
        (Vec<FeedItem> = "application/json"),
        (FeedFile = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Applied (or checked): counts and the first row errors; `duplicate` when this very file was applied before", body = FeedResult),
        (status = 202, description = "Queued: poll the job at `Location`", body = FeedResult),
        (status = 400, description = "Malformed body or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown, revoked or retired key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The partner is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the partner's body limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, JSON or multipart, or compressed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unreadable_feed`: the file as a whole cannot be read (its job failed; the key keeps working)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the partner's rate", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feeds")]
pub async fn partner_upload(
    state: State,
    who: AuthPartner,
    req: HttpRequest,
    payload: web::Payload,
    q: Query<FeedUploadQuery>,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::Partner(who.row.id);
    upload(&state, &req, payload, who.row, q.0, ("upload", None, viewer)).await
}

/// One of the partner's feed jobs (partner, `X-API-Key`).
#[utoipa::path(
    tag = "partner",
    params(("id" = i64, Path, description = "Job ID"), ("X-API-Key" = String, Header, description = "The partner's API key")),
    responses(
        (status = 200, description = "The job", body = FeedJob),
        (status = 401, description = "Bad key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job of this partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/jobs/{id}")]
pub async fn partner_job(
    state: State,
    who: AuthPartner,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(feeds::job(&state, Viewer::Partner(who.row.id), id.into_inner()).await?))
}

fn csv_answer(id: i64, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"feed-job-{id}-errors.csv\""),
        ))
        .body(body)
}

/// The row errors of one of the partner's jobs, as CSV (partner, `X-API-Key`).
#[utoipa::path(
    tag = "partner",
    params(("id" = i64, Path, description = "Job ID"), ("X-API-Key" = String, Header, description = "The partner's API key")),
    responses(
        (status = 200, description = "`row,field,reason`; cells that look like formulas are escaped", content_type = "text/csv", body = String),
        (status = 401, description = "Bad key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job of this partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/jobs/{id}/errors")]
pub async fn partner_job_errors(
    state: State,
    who: AuthPartner,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    Ok(csv_answer(id, feeds::errors_csv(&state, Viewer::Partner(who.row.id), id).await?))
}

/// The feed format: fields, rules, limits and examples (public).
#[utoipa::path(tag = "partner", responses((status = 200, description = "The feed format", body = FeedHelp)))]
#[get("/feeds/help")]
pub async fn help(state: State) -> HttpResponse {
    HttpResponse::Ok().json(feeds::help(&state.settings.partners))
}

// --------------------------------------------------------------------------------- admins

/// Every partner, by name (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PartnerQuery),
    responses(
        (status = 200, description = "One page", body = PartnerList),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partners")]
pub async fn list_partners(
    state: State,
    who: AuthUser,
    q: Query<PartnerQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(partners::list(&state, &who.caller(), q.0).await?))
}

/// Onboard a partner (admin): its API key is in this answer only.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewPartner,
    responses(
        (status = 201, description = "Onboarded, with the key", body = PartnerCreated),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`partner_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partners")]
pub async fn create_partner(
    state: State,
    who: AuthUser,
    body: Json<NewPartner>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(partners::create(&state, &who.caller(), body.0).await?))
}

/// One partner with its keys (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner ID")),
    responses(
        (status = 200, description = "The partner", body = Partner),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/partners/{id}")]
pub async fn get_partner(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(partners::get(&state, &who.caller(), id.into_inner()).await?))
}

/// Change a partner: suspend or reactivate, mode, price contract, limits (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner ID")),
    request_body = PartnerPatch,
    responses(
        (status = 200, description = "Changed", body = Partner),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`partner_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/partners/{id}")]
pub async fn update_partner(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<PartnerPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(partners::update(&state, &who.caller(), id.into_inner(), body.0).await?))
}

/// Issue a new key; the keys in use keep working for the grace period (admin). The new key
/// is in this answer only.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner ID")),
    request_body = RotateKey,
    responses(
        (status = 201, description = "The new key", body = KeyRotated),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad grace period", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partners/{id}/keys")]
pub async fn rotate_key(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<RotateKey>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(partners::rotate(&state, &who.caller(), id.into_inner(), body.0).await?))
}

/// Revoke a key at once (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner ID"), ("key" = i64, Path, description = "Key ID")),
    responses(
        (status = 200, description = "Revoked", body = Partner),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key of this partner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partners/{id}/keys/{key}/revoke")]
pub async fn revoke_key(
    state: State,
    who: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, key) = path.into_inner();
    Ok(HttpResponse::Ok().json(partners::revoke(&state, &who.caller(), id, key).await?))
}

/// Upload a feed for a partner (admin): as the partner's own upload, under its limits.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Partner ID"), FeedUploadQuery),
    request_body(description = "The feed file", content(
        (String = "text/csv"),
        (Vec<FeedItem> = "application/json"),
        (FeedFile = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Applied (or checked), or a duplicate", body = FeedResult),
        (status = 202, description = "Queued: poll the job at `Location`", body = FeedResult),
        (status = 400, description = "Malformed body or query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the partner's body limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, JSON or multipart, or compressed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unreadable_feed`, or no file part", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/partners/{id}/feeds")]
pub async fn admin_upload(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
    q: Query<FeedUploadQuery>,
) -> Result<HttpResponse, ApiError> {
    let partner = feeds::partner_for_admin(&state, &who.caller(), id.into_inner()).await?;
    upload(&state, &req, payload, partner, q.0, ("admin", Some(who.id.get()), Viewer::Admin)).await
}

/// Feed jobs, newest first, by partner and state (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(FeedJobQuery),
    responses(
        (status = 200, description = "One page", body = FeedJobList),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/jobs")]
pub async fn list_jobs(
    state: State,
    who: AuthUser,
    q: Query<FeedJobQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(feeds::list(&state, &who.caller(), q.0).await?))
}

/// One feed job (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job ID")),
    responses(
        (status = 200, description = "The job", body = FeedJob),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/jobs/{id}")]
pub async fn get_job(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    who.require(retail_domain::account::Permission::ManagePartners)?;
    Ok(HttpResponse::Ok().json(feeds::job(&state, Viewer::Admin, id.into_inner()).await?))
}

/// The row errors of a job, as CSV (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job ID")),
    responses(
        (status = 200, description = "`row,field,reason`; cells that look like formulas are escaped", content_type = "text/csv", body = String),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/jobs/{id}/errors")]
pub async fn job_errors(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    who.require(retail_domain::account::Permission::ManagePartners)?;
    let id = id.into_inner();
    Ok(csv_answer(id, feeds::errors_csv(&state, Viewer::Admin, id).await?))
}

/// Put a failed job back in the queue (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job ID")),
    responses(
        (status = 200, description = "Queued again", body = FeedJob),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feeds/jobs/{id}/requeue")]
pub async fn requeue_job(state: State, who: AuthUser, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(feeds::requeue(&state, &who.caller(), id.into_inner()).await?))
}

/// Every scheduled pull with its last runs (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The schedules", body = ScheduleList),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/schedules")]
pub async fn list_schedules(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(schedules::list(&state, &who.caller()).await?))
}

/// Schedule pulls of a partner's feed URL (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewSchedule,
    responses(
        (status = 201, description = "Scheduled (due at once)", body = FeedSchedule),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feeds/schedules")]
pub async fn create_schedule(
    state: State,
    who: AuthUser,
    body: Json<NewSchedule>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(schedules::create(&state, &who.caller(), body.0).await?))
}

/// Change a schedule (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Schedule ID")),
    request_body = SchedulePatch,
    responses(
        (status = 200, description = "Changed", body = FeedSchedule),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/feeds/schedules/{id}")]
pub async fn update_schedule(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
    body: Json<SchedulePatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(schedules::update(&state, &who.caller(), id.into_inner(), body.0).await?))
}

/// Delete a schedule (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Schedule ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/feeds/schedules/{id}")]
pub async fn delete_schedule(
    state: State,
    who: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    schedules::delete(&state, &who.caller(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
