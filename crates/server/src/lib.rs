//! The retail server: HTTP API, SPA hosting, background worker and CLI commands.

pub mod auth;
pub mod config;
pub mod error;
pub mod hashing;
pub mod http;
pub mod mail;
pub mod monitor;
pub mod openapi;
pub mod payments;
pub mod seed;
pub mod seed_feeds;
pub mod seed_orders;
pub mod seed_returns;
pub mod seed_sales;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;

pub use config::Settings;
pub use startup::Application;
