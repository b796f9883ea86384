//! Repository functions, one module per aggregate.
//!
//! Lookups by a unique key end in `get_result`, not `first`: `first` binds a `LIMIT`, and
//! SQLite re-prepares a statement whose bound `LIMIT` it planned with, on every call.

pub mod audit;
pub mod carts;
pub mod credit;
pub mod feeds;
pub mod idempotency;
pub mod notifications;
pub mod ops;
pub mod orders;
pub mod partners;
pub mod payments;
pub mod products;
pub mod returns;
pub mod sales;
pub mod sessions;
pub mod users;

/// `SUM(expr)` as a 64-bit integer (diesel types SQLite's SUM of integers as `Numeric`).
pub(crate) fn sum_i64(
    column: &'static str,
) -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::BigInt>> {
    diesel::dsl::sql(&format!("SUM({column})"))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern and wraps it in `%`.
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}
