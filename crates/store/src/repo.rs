//! Repository functions, one module per aggregate.
//!
//! Lookups by a unique key end in `get_result`, not `first`: `first` binds a `LIMIT`, and
//! SQLite re-prepares a statement whose bound `LIMIT` it planned with, on every call.

pub mod audit;
pub mod carts;
pub mod credit;
pub mod idempotency;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod products;
pub mod returns;
pub mod sales;
pub mod sessions;
pub mod users;

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
