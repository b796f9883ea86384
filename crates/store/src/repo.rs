//! Repository functions, one module per aggregate.
//!
//! Lookups by a unique key end in `get_result`: they need no `LIMIT`. (A bound `LIMIT` no
//! longer costs a re-prepare on every call: the bundled SQLite is built with the query
//! planner stability guarantee, see `.cargo/config.toml`.)
//!
//! A statement is prepared once per connection and kept only when diesel may cache it: not
//! `sql_query`, `sql(...)` fragments or `eq_any` over a list (one `?` per value). Hot paths
//! use [`in_json`] for lists and typed query fragments for hand-written SQL.

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

/// `column IN (SELECT value FROM json_each(?))`, the values bound as one JSON array: one SQL
/// text however many values there are, so diesel keeps the statement prepared, where
/// `eq_any` over a list writes one `?` per value and is parsed and planned on every call.
/// SQLite reads the list once and looks each value up by the column's index.
pub(crate) fn in_json<C>(column: C, values: &[i64]) -> InJson<C> {
    let mut json = String::with_capacity(values.len() * 8 + 2);
    json.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&v.to_string());
    }
    json.push(']');
    InJson { column, json }
}

/// See [`in_json`].
#[derive(Debug, Clone)]
pub(crate) struct InJson<C> {
    column: C,
    json: String,
}

impl<C> diesel::Expression for InJson<C> {
    type SqlType = diesel::sql_types::Bool;
}

impl<C, QS> diesel::AppearsOnTable<QS> for InJson<C> where C: diesel::AppearsOnTable<QS> {}

impl<C, GB> diesel::expression::ValidGrouping<GB> for InJson<C>
where
    C: diesel::expression::ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

impl<C> diesel::query_builder::QueryId for InJson<C> {
    type QueryId = ();
    // the SQL text, not the type, keys the statement cache
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C> diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for InJson<C>
where
    C: diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

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
