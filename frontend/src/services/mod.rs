//! Calls to the retail API, one module per resource, all through [`requests::request`].

pub mod admin;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod feeds;
pub mod flash;
pub mod idempotency;
pub mod monitoring;
pub mod notifications;
pub mod orders;
pub mod requests;
pub mod returns;
pub mod staff;
pub mod tabs;

pub use requests::{Api, ApiError};

/// `path?query`, or an error if the query cannot be encoded.
fn with_query<Q: serde::Serialize>(path: &str, query: &Q) -> Result<String, ApiError> {
    let qs = serde_urlencoded::to_string(query).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(if qs.is_empty() { path.to_owned() } else { format!("{path}?{qs}") })
}

/// The answer of a change as `T` when it is one (`None` for 204 or another shape): callers
/// then show it at once, or read the resource again.
fn lenient<T: serde::de::DeserializeOwned>(answer: serde_json::Value) -> Option<T> {
    serde_json::from_value(answer).ok()
}
