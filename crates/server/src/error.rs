//! The one error type of the HTTP layer, mapped to RFC 9457 problem documents in one place.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use retail_api_types::{FieldProblem, PROBLEM_JSON, Problem};
use retail_domain::ValidationErrors;
use retail_store::StoreError;

use crate::service::{PaymentFailure, ServiceError};

/// Every way a request can fail.
#[derive(thiserror::Error)]
pub enum ApiError {
    /// 400: the body or query could not be read at all.
    #[error("{detail}")]
    BadRequest {
        /// Stable code, e.g. `malformed_json`.
        code: &'static str,
        /// What went wrong.
        detail: String,
        /// Offending fields, if known.
        errors: Vec<FieldProblem>,
    },
    /// 422: the input was readable but some fields are invalid.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldProblem>),
    /// 422 with its own code: readable and valid fields, but the request cannot be processed
    /// as sent (e.g. `idempotency_key_reused`).
    #[error("{detail}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Why.
        detail: String,
    },
    /// 401: no valid credentials (missing, malformed, expired or revoked token).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 401: wrong email or password (never says which).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// 403: authenticated, but the role does not allow this.
    #[error("your role does not allow this action")]
    Forbidden,
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but does not answer this method (the answer carries `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `email_taken`, `version_conflict`.
        code: &'static str,
        /// What conflicts.
        detail: String,
    },
    /// 413.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 429 with `Retry-After`.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// 503: a dependency is down.
    #[error("{0}")]
    Unavailable(String),
    /// 402, 502, 503 or 504: a payment did not go through (declined, provider failed, payments
    /// switched off by the circuit breaker, provider timed out).
    #[error("{detail}")]
    Payment {
        /// Which of them.
        kind: crate::service::PaymentFailure,
        /// Stable code, e.g. `card_declined`.
        code: &'static str,
        /// What happened.
        detail: String,
    },
    /// 500: a bug or an infrastructure failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

// Debug prints the whole cause chain, which is what the logs need for a 5xx.
impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::service::fmt_cause_chain(self, f)
    }
}

impl ApiError {
    /// A 500 from any error.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// A 404 for `what` (e.g. "product 7").
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// A 422 naming one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldProblem { field: field.into(), message: message.into() }])
    }

    /// A 400 `invalid_query` for a query parameter the domain refused.
    pub fn invalid_query(e: retail_domain::FieldError) -> Self {
        ApiError::BadRequest {
            code: "invalid_query",
            detail: format!("query parameter {}", e),
            errors: vec![FieldProblem { field: e.field, message: e.message }],
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Payment { code, .. } => code,
            ApiError::Validation(_) => "validation_failed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => "Invalid input",
            ApiError::Unauthorized(_) | ApiError::InvalidCredentials => "Unauthorized",
            ApiError::Forbidden => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed(_) => "Method not allowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Payment { kind, .. } => match kind {
                PaymentFailure::Declined => "Payment declined",
                PaymentFailure::Timeout => "Payment provider timed out",
                PaymentFailure::Gateway => "Payment provider failed",
                PaymentFailure::Unavailable { .. } => "Payments unavailable",
            },
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let errors = match self {
            ApiError::Validation(e) | ApiError::BadRequest { errors: e, .. } => e.clone(),
            _ => Vec::new(),
        };
        let code = self.code();
        Problem {
            type_uri: format!("urn:retail:problem:{code}"),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            code: code.into(),
            request_id: crate::http::request_id::current(),
            errors,
        }
    }
}

/// Builds a problem response (also used outside `ApiError`, e.g. by the rate limiter).
pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    match serde_json::to_vec(problem) {
        Ok(body) => res.body(body),
        Err(_) => res.finish(),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Payment { kind, .. } => match kind {
                PaymentFailure::Declined => StatusCode::PAYMENT_REQUIRED,
                PaymentFailure::Timeout => StatusCode::GATEWAY_TIMEOUT,
                PaymentFailure::Gateway => StatusCode::BAD_GATEWAY,
                PaymentFailure::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            },
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ApiError::Unavailable(_) | ApiError::Payment { .. } = self {
            // overload is expected under a storm, and a card is declined every day: one line
            // each, but not an error to page on
            let what = if matches!(self, ApiError::Payment { .. }) {
                "payment refused"
            } else {
                "request refused: busy"
            };
            tracing::warn!(error.code = self.code(), error.cause_chain = ?self, "{what}");
        } else if status.is_server_error() {
            tracing::error!(error.code = self.code(), error.cause_chain = ?self, "request failed");
        }
        let mut res = problem_response(status, &self.problem());
        let headers = res.headers_mut();
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::Unauthorized(_) | ApiError::InvalidCredentials => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Payment { kind: PaymentFailure::Unavailable { retry_after_secs }, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from((*retry_after_secs).max(1)));
            }
            _ => {}
        }
        res
    }
}

/// The one place where a use case's failure becomes an HTTP answer.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation(v) => ApiError::from(v),
            ServiceError::InvalidQuery(f) => ApiError::invalid_query(f),
            ServiceError::InvalidHeader { code, error } => ApiError::BadRequest {
                code,
                detail: format!("header {error}"),
                errors: vec![FieldProblem { field: error.field, message: error.message }],
            },
            ServiceError::Unprocessable { code, detail } => ApiError::Unprocessable { code, detail },
            ServiceError::Unauthorized(why) => ApiError::Unauthorized(why),
            ServiceError::InvalidCredentials => ApiError::InvalidCredentials,
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            ServiceError::RateLimited { retry_after_secs } => ApiError::RateLimited { retry_after_secs },
            ServiceError::Unavailable(why) => ApiError::Unavailable(why),
            ServiceError::Payment { kind, code, detail } => ApiError::Payment { kind, code, detail },
            ServiceError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Validation(
            e.0.into_iter().map(|f| FieldProblem { field: f.field, message: f.message }).collect(),
        )
    }
}

impl From<retail_domain::FieldError> for ApiError {
    fn from(e: retail_domain::FieldError) -> Self {
        ApiError::from(ValidationErrors::from(e))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("resource not found".into()),
            StoreError::Unique(what) => ApiError::Conflict {
                code: "already_exists",
                detail: format!(
                    "a record with this {} already exists",
                    what.rsplit('.').next().unwrap_or("value")
                ),
            },
            StoreError::Pool(_) | StoreError::Busy(_) => {
                ApiError::Unavailable("database is busy; retry shortly".into())
            }
            other => ApiError::internal(other),
        }
    }
}
