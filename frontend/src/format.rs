//! Pure text helpers: money in and out of integer minor units, stock labels, counts, order
//! states, times. Amounts never pass through floating point.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use retail_api_types::{CreditKind, Currency, OrderState};

/// Stock at or below this (but above zero) is shown as "Only N left".
pub const LOW_STOCK: i64 = 5;

/// `2599` EUR -> `€25.99`; thousands are grouped (`€1,234.50`), negatives get a leading `-`.
pub fn format_money(cents: i64, currency: Currency) -> String {
    let symbol = match currency {
        Currency::EUR => "€",
        Currency::USD => "$",
        Currency::GBP => "£",
    };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let abs = cents.unsigned_abs();
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{symbol}{}.{:02}", group_thousands(abs / 100), abs % 100)
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `1234` -> `"12.34"`: the inverse of [`parse_price_cents`], for prefilling inputs.
pub fn cents_to_decimal(cents: i64) -> String {
    let abs = cents.unsigned_abs();
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parses a price typed as a decimal (`34.99`, `34,99`, `34.9`, `34`, `.5`) into minor units,
/// with integer arithmetic only. Negative amounts, more than two decimals, thousands
/// separators and anything but digits are refused with a message for the form.
pub fn parse_price_cents(input: &str) -> Result<i64, &'static str> {
    let s = input.trim();
    if s.is_empty() {
        return Err("enter a price, e.g. 34.99");
    }
    let (whole, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) {
        return Err("use digits and one decimal point only, e.g. 34.99");
    }
    if whole.is_empty() && frac.is_empty() {
        return Err("enter a price, e.g. 34.99");
    }
    if frac.len() > 2 {
        return Err("at most two decimals");
    }
    let mut units: i64 = 0;
    for b in whole.bytes() {
        units = units
            .checked_mul(10)
            .and_then(|u| u.checked_add(i64::from(b - b'0')))
            .ok_or("price is too large")?;
    }
    let mut cents: i64 = 0;
    for i in 0..2 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        cents = cents * 10 + digit;
    }
    units.checked_mul(100).and_then(|u| u.checked_add(cents)).ok_or("price is too large")
}

/// Parses a whole number of units such as `5`, `+5` or `-3`.
pub fn parse_whole(input: &str) -> Option<i64> {
    let s = input.trim();
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// What the shopper sees about availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockLevel {
    /// Plenty.
    InStock,
    /// 1..=[`LOW_STOCK`] units.
    Low(i64),
    /// None on hand.
    SoldOut,
}

impl StockLevel {
    /// Classifies units on hand.
    pub fn of(stock: i64) -> StockLevel {
        match stock {
            s if s <= 0 => StockLevel::SoldOut,
            s if s <= LOW_STOCK => StockLevel::Low(s),
            _ => StockLevel::InStock,
        }
    }

    /// Badge text.
    pub fn label(self) -> String {
        match self {
            StockLevel::InStock => "In stock".to_owned(),
            StockLevel::Low(n) => format!("Only {n} left"),
            StockLevel::SoldOut => "Sold out".to_owned(),
        }
    }

    /// CSS modifier class.
    pub fn class(self) -> &'static str {
        match self {
            StockLevel::InStock => "in-stock",
            StockLevel::Low(_) => "low-stock",
            StockLevel::SoldOut => "sold-out",
        }
    }
}

/// `1 product`, `3 products`.
pub fn count_noun(n: i64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// `1 item`, `3 items` for a number of units.
pub fn count_items(n: u32) -> String {
    count_noun(i64::from(n), "item", "items")
}

/// A moment as the shop shows it: `2026-11-26 14:03 UTC`.
pub fn format_when(at: &DateTime<Utc>) -> String {
    // By hand rather than with `format("%Y…")`: chrono's strftime machinery would add
    // much to the WASM size for one pattern.
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), at.month(), at.day(), at.hour(), at.minute())
}

/// `2026-11-26` (what `<input type="date">` holds) -> that day's first moment, UTC.
pub fn day_start(day: &str) -> Option<DateTime<Utc>> {
    let mut parts = day.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The moment after a day (`2026-11-26` -> `2026-11-27T00:00Z`), so "to" includes that day.
pub fn day_end(day: &str) -> Option<DateTime<Utc>> {
    let start = day_start(day)?;
    start.date_naive().succ_opt()?.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
}

/// An order state in plain words.
pub fn state_label(state: OrderState) -> &'static str {
    match state {
        OrderState::PendingPayment => "Awaiting payment",
        OrderState::Paid => "Paid",
        OrderState::Shipped => "Shipped",
        OrderState::Delivered => "Delivered",
        OrderState::Cancelled => "Cancelled",
        OrderState::PartiallyRefunded => "Partly refunded",
        OrderState::Refunded => "Refunded",
    }
}

/// CSS classes of an order state's tag.
pub fn state_class(state: OrderState) -> &'static str {
    match state {
        OrderState::PendingPayment => "tag tag-warning",
        OrderState::Paid | OrderState::Shipped => "tag tag-info",
        OrderState::Delivered => "tag tag-ok",
        OrderState::Cancelled | OrderState::PartiallyRefunded | OrderState::Refunded => "tag tag-muted",
    }
}

/// A store-credit entry kind in plain words.
pub fn credit_kind_label(kind: CreditKind) -> &'static str {
    match kind {
        CreditKind::Grant => "Credit added",
        CreditKind::Spend => "Spent on an order",
        CreditKind::Reversal => "Given back",
    }
}

/// A signed change, `+€5.00` or `-€2.50`.
pub fn format_delta(cents: i64, currency: Currency) -> String {
    if cents > 0 { format!("+{}", format_money(cents, currency)) } else { format_money(cents, currency) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_with_symbol_two_decimals_and_grouping() {
        assert_eq!(format_money(3499, Currency::EUR), "€34.99");
        assert_eq!(format_money(5, Currency::USD), "$0.05");
        assert_eq!(format_money(0, Currency::GBP), "£0.00");
        assert_eq!(format_money(123_456_789, Currency::EUR), "€1,234,567.89");
        assert_eq!(format_money(100_000, Currency::EUR), "€1,000.00");
        assert_eq!(format_money(-250, Currency::EUR), "-€2.50");
        assert_eq!(format_money(i64::MIN, Currency::EUR), "-€92,233,720,368,547,758.08");
    }

    #[test]
    fn decimal_prices_parse_to_cents_without_floats() {
        assert_eq!(parse_price_cents("34.99"), Ok(3499));
        assert_eq!(parse_price_cents(" 34,99 "), Ok(3499));
        assert_eq!(parse_price_cents("34.9"), Ok(3490));
        assert_eq!(parse_price_cents("34"), Ok(3400));
        assert_eq!(parse_price_cents("34."), Ok(3400));
        assert_eq!(parse_price_cents(".5"), Ok(50));
        assert_eq!(parse_price_cents("0.07"), Ok(7));
        assert_eq!(parse_price_cents("0.29"), Ok(29)); // 0.29 * 100 is 28.999... in f64
        assert_eq!(parse_price_cents("007.10"), Ok(710));
    }

    #[test]
    fn malformed_prices_are_refused() {
        for bad in
            ["", "  ", ".", "-1", "+1", "1.234", "1,234.50", "1.2.3", "abc", "12a", "€5", "1e3", "1 000"]
        {
            assert!(parse_price_cents(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_price_cents("92233720368547758.08"), Err("price is too large"));
        assert_eq!(parse_price_cents("99999999999999999999"), Err("price is too large"));
    }

    #[test]
    fn cents_round_trip_through_decimal_text() {
        for c in [0, 7, 70, 3499, 100_000] {
            assert_eq!(parse_price_cents(&cents_to_decimal(c)), Ok(c));
        }
        assert_eq!(cents_to_decimal(-5), "-0.05");
    }

    #[test]
    fn whole_numbers_accept_explicit_signs() {
        assert_eq!(parse_whole("5"), Some(5));
        assert_eq!(parse_whole(" +5 "), Some(5));
        assert_eq!(parse_whole("-3"), Some(-3));
        assert_eq!(parse_whole("1.5"), None);
        assert_eq!(parse_whole(""), None);
    }

    #[test]
    fn stock_levels_have_badges() {
        assert_eq!(StockLevel::of(0).label(), "Sold out");
        assert_eq!(StockLevel::of(-2), StockLevel::SoldOut);
        assert_eq!(StockLevel::of(1).label(), "Only 1 left");
        assert_eq!(StockLevel::of(LOW_STOCK).label(), format!("Only {LOW_STOCK} left"));
        assert_eq!(StockLevel::of(LOW_STOCK + 1).label(), "In stock");
        assert_eq!(StockLevel::of(3).class(), "low-stock");
    }

    #[test]
    fn counts_pick_singular_or_plural() {
        assert_eq!(count_noun(1, "product", "products"), "1 product");
        assert_eq!(count_noun(0, "product", "products"), "0 products");
    }

    #[test]
    fn times_and_days_are_shown_in_utc() {
        let at = day_start("2026-11-26").unwrap_or_default();
        assert_eq!(format_when(&at), "2026-11-26 00:00 UTC");
        assert_eq!(
            day_end("2026-11-26").map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-11-27T00:00:00+00:00")
        );
        assert_eq!(day_end("2026-12-31").map(|d| d.date_naive().to_string()).as_deref(), Some("2027-01-01"));
        assert_eq!(day_start(""), None);
        assert_eq!(day_start("26.11.2026"), None);
        assert_eq!(day_start("2026-02-30"), None);
        assert_eq!(day_start("2026-1-05"), None);
        assert_eq!(day_start("2026-01-05-1"), None);
        assert_eq!(
            day_start(" 2026-01-05 ").map(|d| format_when(&d)).as_deref(),
            Some("2026-01-05 00:00 UTC")
        );
    }

    #[test]
    fn order_states_and_credit_kinds_have_words() {
        for s in OrderState::ALL {
            assert!(!state_label(s).is_empty());
            assert!(state_class(s).starts_with("tag "));
        }
        assert_eq!(state_label(OrderState::PendingPayment), "Awaiting payment");
        assert_eq!(credit_kind_label(CreditKind::Spend), "Spent on an order");
    }

    #[test]
    fn deltas_carry_their_sign() {
        assert_eq!(format_delta(500, Currency::EUR), "+€5.00");
        assert_eq!(format_delta(-250, Currency::EUR), "-€2.50");
        assert_eq!(format_delta(0, Currency::EUR), "€0.00");
        assert_eq!(count_items(1), "1 item");
        assert_eq!(count_items(2), "2 items");
    }
}
