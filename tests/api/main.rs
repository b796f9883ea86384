//! Black-box HTTP tests: each test starts the real server on a random port with its own
//! temporary database. `TEST_LOG=1` shows the server's logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admin;
mod authz_first;
mod authz_matrix;
mod catalog;
mod checkout;
mod concurrency;
mod errors;
mod feeds;
mod flash;
mod hardening;
mod hashing;
mod idempotency;
mod methods;
mod monitoring;
mod notifications;
mod observability;
mod openapi;
mod ops;
mod proxy;
mod recovery;
mod returns;
mod search;
mod spa;
