//! The `Idempotency-Key` request header and the `Idempotency-Replayed` answer header. The
//! mechanism itself lives in [`crate::service::idempotency`].

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use retail_api_types::FieldProblem;
use serde::Serialize;

use crate::error::ApiError;
use crate::service::idempotency::{HEADER, Replayed};

/// Set to `true` on an answer replayed from an earlier request with the same key.
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";

/// The header as an OpenAPI parameter: `params(IdempotencyKeyParam)` on every route that
/// takes it.
#[derive(utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKeyParam(
    /// Makes the request safe to retry: 1 to 255 visible ASCII characters (a UUID is a good
    /// choice), unique per request. A request repeated with the same key (by the same caller,
    /// on the same route, within the configured TTL, 24 h by default) is not run again: the
    /// first answer is returned, with `Idempotency-Replayed: true`. The same key with another
    /// request gets 422 `idempotency_key_reused`; an invalid key gets 400
    /// `invalid_idempotency_key`. Failed requests are not stored, so they may be retried with
    /// the same key.
    #[param(nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    pub Option<String>,
);

/// The header as a required OpenAPI parameter, for routes that move money and refuse to run
/// without it (checkout, store-credit grants): `params(IdempotencyKeyRequired)`.
#[derive(utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKeyRequired(
    /// Required: 1 to 255 visible ASCII characters (a UUID is a good choice), new for each
    /// order or grant and the same when retrying it. A repeat with the same key (by the same
    /// caller, within the configured TTL, 24 h by default) gets the first answer, with
    /// `Idempotency-Replayed: true`, and changes nothing; the same key with another request
    /// gets 422 `idempotency_key_reused`; a missing or invalid key gets 400
    /// (`idempotency_key_required`, `invalid_idempotency_key`).
    #[param(required = true, min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    pub String,
);

/// The raw `Idempotency-Key` header, if sent; the service validates it. Sent twice: 400.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKeyHeader(pub Option<String>);

impl IdempotencyKeyHeader {
    /// The key as the service takes it.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(HEADER);
        let first = values.next();
        if values.next().is_some() {
            return ready(Err(ApiError::BadRequest {
                code: "invalid_idempotency_key",
                detail: format!("header {HEADER} was sent more than once"),
                errors: vec![FieldProblem { field: HEADER.into(), message: "send it once".into() }],
            }));
        }
        // Bytes that are not visible ASCII are kept (lossily) so the service refuses them.
        let key = first.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        ready(Ok(IdempotencyKeyHeader(key)))
    }
}

/// A JSON answer from `res`, marked with `Idempotency-Replayed: true` when it was replayed.
pub fn respond<T: Serialize>(mut res: HttpResponseBuilder, out: Replayed<T>) -> HttpResponse {
    if out.replayed {
        res.insert_header((REPLAYED_HEADER, "true"));
    }
    res.json(out.value)
}
