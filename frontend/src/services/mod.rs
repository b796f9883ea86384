//! Calls to the retail API, one module per resource, all through [`requests::request`].

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod requests;
pub mod tabs;

pub use requests::{Api, ApiError};

/// `path?query`, or an error if the query cannot be encoded.
fn with_query<Q: serde::Serialize>(path: &str, query: &Q) -> Result<String, ApiError> {
    let qs = serde_urlencoded::to_string(query).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    Ok(if qs.is_empty() { path.to_owned() } else { format!("{path}?{qs}") })
}
