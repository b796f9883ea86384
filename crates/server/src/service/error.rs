//! Why a use case failed, in the use case's own words. The HTTP layer (`http::error`) is the
//! only place that turns these into statuses and problem documents; the worker and the
//! command line print them.

use retail_domain::caller::Denied;
use retail_domain::{FieldError, ValidationErrors};
use retail_store::StoreError;

/// Every way a use case can fail.
#[derive(thiserror::Error)]
pub enum ServiceError {
    /// Some input fields are invalid (each named).
    #[error("{}", describe(.0))]
    Validation(ValidationErrors),
    /// A filter or paging parameter is invalid.
    #[error("query parameter {0}")]
    InvalidQuery(FieldError),
    /// A request header is invalid (e.g. `Idempotency-Key`).
    #[error("header {error}")]
    InvalidHeader {
        /// Stable code, e.g. `invalid_idempotency_key`.
        code: &'static str,
        /// The header and what is wrong with it.
        error: FieldError,
    },
    /// The request is well-formed but cannot be processed as sent (e.g. an idempotency key
    /// reused with another request).
    #[error("{detail}")]
    Unprocessable {
        /// Stable code, e.g. `idempotency_key_reused`.
        code: &'static str,
        /// Why.
        detail: String,
    },
    /// The caller is not signed in, or its session or token is no longer valid.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Wrong email or password (never says which).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Signed in, but the role does not allow this.
    #[error("your role does not allow this action")]
    Forbidden,
    /// The thing asked for does not exist (or is hidden from this caller).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `email_taken`, `version_conflict`.
        code: &'static str,
        /// What conflicts.
        detail: String,
    },
    /// Too many attempts; retry after this many seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// A resource is saturated or a dependency is down; retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// A payment did not go through.
    #[error("{detail}")]
    Payment {
        /// Why, as the HTTP layer needs to know it.
        kind: PaymentFailure,
        /// Stable code, e.g. `card_declined`, `payment_timeout`.
        code: &'static str,
        /// What happened, in plain words.
        detail: String,
    },
    /// A bug or an infrastructure failure.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// How a payment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentFailure {
    /// The card was declined (never retried): the customer must use another card.
    Declined,
    /// The provider did not answer in time (after retries); nothing was charged.
    Timeout,
    /// The provider failed (after retries); nothing was charged.
    Gateway,
    /// Payments are switched off by the circuit breaker; retry after this many seconds.
    Unavailable {
        /// Seconds until the breaker lets a probe through.
        retry_after_secs: u64,
    },
}

fn describe(e: &ValidationErrors) -> String {
    e.0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; ")
}

/// Writes an error and its whole cause chain: what logs need for a failure.
pub fn fmt_cause_chain(e: &dyn std::error::Error, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{e}")?;
    let mut source = e.source();
    while let Some(s) = source {
        write!(f, "\n  caused by: {s}")?;
        source = s.source();
    }
    Ok(())
}

impl std::fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fmt_cause_chain(self, f)
    }
}

impl ServiceError {
    /// An internal failure from any error.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(e))
    }

    /// `what` (e.g. "product 7") does not exist.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ServiceError::NotFound(format!("{what} not found"))
    }

    /// One invalid input field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(ValidationErrors::from(FieldError::new(field, message)))
    }

    /// One invalid query parameter.
    pub fn invalid_query(e: FieldError) -> Self {
        ServiceError::InvalidQuery(e)
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        ServiceError::Validation(e)
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::Validation(ValidationErrors::from(e))
    }
}

impl From<Denied> for ServiceError {
    fn from(e: Denied) -> Self {
        match e {
            Denied::Anonymous => ServiceError::Unauthorized("sign in first"),
            Denied::Forbidden => ServiceError::Forbidden,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound("resource not found".into()),
            StoreError::Unique(what) => ServiceError::Conflict {
                code: "already_exists",
                detail: format!(
                    "a record with this {} already exists",
                    what.rsplit('.').next().unwrap_or("value")
                ),
            },
            StoreError::Pool(_) | StoreError::Busy(_) => {
                ServiceError::Unavailable("database is busy; retry shortly".into())
            }
            other => ServiceError::internal(other),
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(e: tokio::task::JoinError) -> Self {
        ServiceError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_stores_are_unavailable_not_internal() {
        assert!(matches!(ServiceError::from(StoreError::Busy("x".into())), ServiceError::Unavailable(_)));
        assert!(matches!(
            ServiceError::from(StoreError::Unique("users.email".into())),
            ServiceError::Conflict { code: "already_exists", .. }
        ));
        assert!(matches!(ServiceError::from(Denied::Anonymous), ServiceError::Unauthorized(_)));
    }

    #[test]
    fn validation_errors_read_as_sentences() {
        let e = ServiceError::invalid("email", "must contain @");
        assert_eq!(e.to_string(), "email: must contain @");
    }
}
