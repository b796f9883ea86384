//! Pure business rules of the retail platform.
//!
//! Everything here is deterministic: no IO, no clock reads, no randomness. Callers pass in
//! whatever the rules need (the current time, stored values) and get back values or typed errors.
#![deny(missing_docs)]

pub mod account;
pub mod breaker;
pub mod caller;
pub mod cart;
pub mod catalog;
pub mod credit;
pub mod feed;
pub mod ids;
pub mod money;
pub mod monitor;
pub mod notify;
pub mod order;
pub mod paging;
pub mod retry;
pub mod rma;
pub mod sale;
pub mod tender;
pub mod validation;

pub use caller::Caller;
pub use ids::{ProductId, UserId};
pub use money::{Currency, Money};
pub use validation::{FieldError, ValidationErrors};
