//! SQLite persistence for retail: the only crate that speaks diesel.
//!
//! Repository functions are synchronous, take the connection first and never open their own
//! transaction; callers compose them inside [`Db::write`] (one `BEGIN IMMEDIATE` transaction)
//! or [`Db::read`].

mod db;
mod error;
pub mod models;
pub mod repo;
mod schema;

pub use db::{BackupError, Conn, Db, DbOptions, PoolUsage, backup};
pub use error::StoreError;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

#[cfg(test)]
mod tests;
