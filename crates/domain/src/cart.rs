//! Cart rules: how many units a line may hold, what can be wrong with a line by the time the
//! customer checks out, and the cart's total.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::validation::FieldError;

/// Most units of one product a cart line may hold.
pub const MAX_LINE_QTY: u32 = 99;
/// Most lines one cart may hold.
pub const MAX_LINES: usize = 50;

/// A line quantity: 1..=[`MAX_LINE_QTY`].
pub fn quantity(field: &str, raw: i64) -> Result<u32, FieldError> {
    if raw < 1 {
        return Err(FieldError::new(field, "must be at least 1"));
    }
    match u32::try_from(raw) {
        Ok(q) if q <= MAX_LINE_QTY => Ok(q),
        _ => Err(FieldError::new(field, format!("must be at most {MAX_LINE_QTY}"))),
    }
}

/// What checkout needs to know about one line now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFacts {
    /// Units in the line.
    pub quantity: u32,
    /// The unit price the customer saw when they added or last confirmed the line.
    pub price_seen: Money,
    /// The product's unit price now.
    pub price_now: Money,
    /// The product's currency.
    pub currency: Currency,
    /// Whether the product is still sold.
    pub active: bool,
    /// Units on hand now.
    pub stock: i64,
}

/// Something that stops a line from being bought as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineIssue {
    /// The product is no longer sold.
    Inactive,
    /// No unit is on hand.
    OutOfStock,
    /// Fewer units are on hand than the line holds.
    InsufficientStock {
        /// Units on hand now.
        available: i64,
    },
    /// The unit price changed since the customer saw it.
    PriceChanged {
        /// The unit price the customer saw.
        from: Money,
        /// The unit price now.
        to: Money,
    },
}

/// Minor units as a plain decimal amount ("12.50"); every accepted currency has two decimals.
fn amount(m: Money) -> String {
    let c = m.cents();
    let sign = if c < 0 { "-" } else { "" };
    let abs = c.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

impl LineIssue {
    /// The issue in plain words, for the customer.
    pub fn message(&self) -> String {
        match self {
            LineIssue::Inactive => "This product is no longer available.".to_owned(),
            LineIssue::OutOfStock => "This product is out of stock.".to_owned(),
            LineIssue::InsufficientStock { available } => {
                let unit = if *available == 1 { "unit is" } else { "units are" };
                format!("Only {available} {unit} left; lower the quantity to buy this product.")
            }
            LineIssue::PriceChanged { from, to } => {
                let dir = if to > from { "went up" } else { "went down" };
                format!("The price {dir} from {} to {}.", amount(*from), amount(*to))
            }
        }
    }
}

/// Every issue that applies to `line`, in this order: inactive, out of stock or insufficient
/// stock (never both), price changed. Empty when the line can be bought as it stands.
pub fn review(line: &LineFacts) -> Vec<LineIssue> {
    let mut issues = Vec::new();
    if !line.active {
        issues.push(LineIssue::Inactive);
    }
    if line.stock <= 0 {
        issues.push(LineIssue::OutOfStock);
    } else if line.stock < i64::from(line.quantity) {
        issues.push(LineIssue::InsufficientStock { available: line.stock });
    }
    if line.price_now != line.price_seen {
        issues.push(LineIssue::PriceChanged { from: line.price_seen, to: line.price_now });
    }
    issues
}

/// A cart's total at today's prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    /// The currency every line is priced in; `Some` whenever [`totals`] succeeds.
    pub currency: Option<Currency>,
    /// Sum of unit price now times quantity over every line.
    pub subtotal: Money,
    /// Units over every line.
    pub items: u32,
}

/// Why a cart cannot be totalled or checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// The cart has no line.
    #[error("the cart is empty")]
    Empty,
    /// The lines are priced in different currencies.
    #[error("the cart holds products priced in different currencies")]
    MixedCurrencies,
    /// The total does not fit in the amount type.
    #[error("the cart total is too large")]
    Overflow,
    /// At least one line has an issue the customer must look at first.
    #[error("some cart lines changed; review them before checking out")]
    NeedsReview,
}

/// Sum of `price_now * quantity` over `lines`, with checked arithmetic.
/// Errors: [`CartError::Empty`], [`CartError::MixedCurrencies`], [`CartError::Overflow`].
pub fn totals(lines: &[LineFacts]) -> Result<Totals, CartError> {
    let first = lines.first().ok_or(CartError::Empty)?;
    let mut subtotal = Money(0);
    let mut items: u32 = 0;
    for line in lines {
        if line.currency != first.currency {
            return Err(CartError::MixedCurrencies);
        }
        let line_total = line.price_now.checked_mul_qty(line.quantity).ok_or(CartError::Overflow)?;
        subtotal = subtotal.checked_add(line_total).ok_or(CartError::Overflow)?;
        items = items.checked_add(line.quantity).ok_or(CartError::Overflow)?;
    }
    Ok(Totals { currency: Some(first.currency), subtotal, items })
}

/// The checkout gate: [`CartError::Empty`] for no line, [`CartError::NeedsReview`] when any
/// line has an issue (see [`review`]), otherwise the [`totals`] (which may still refuse mixed
/// currencies or overflow).
pub fn ready_for_checkout(lines: &[LineFacts]) -> Result<Totals, CartError> {
    if lines.is_empty() {
        return Err(CartError::Empty);
    }
    if lines.iter().any(|l| !review(l).is_empty()) {
        return Err(CartError::NeedsReview);
    }
    totals(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: u32, price: i64) -> LineFacts {
        LineFacts {
            quantity,
            price_seen: Money(price),
            price_now: Money(price),
            currency: Currency::EUR,
            active: true,
            stock: 10,
        }
    }

    #[test]
    fn quantities_are_between_one_and_the_maximum() {
        assert_eq!(quantity("quantity", 1), Ok(1));
        assert_eq!(quantity("quantity", 99), Ok(99));
        for bad in [0, -1, 100, i64::MIN, i64::MAX, i64::from(u32::MAX) + 1] {
            assert_eq!(quantity("quantity", bad).unwrap_err().field, "quantity", "{bad}");
        }
        assert!(quantity("q", 0).unwrap_err().message.contains("at least 1"));
        assert!(quantity("q", 100).unwrap_err().message.contains("at most 99"));
    }

    #[test]
    fn a_sound_line_has_no_issue() {
        assert_eq!(review(&line(3, 500)), []);
        // Exactly the units on hand is fine.
        assert_eq!(review(&LineFacts { stock: 3, ..line(3, 500) }), []);
    }

    #[test]
    fn each_issue_is_found_on_its_own() {
        assert_eq!(review(&LineFacts { active: false, ..line(1, 500) }), [LineIssue::Inactive]);
        assert_eq!(review(&LineFacts { stock: 0, ..line(1, 500) }), [LineIssue::OutOfStock]);
        assert_eq!(review(&LineFacts { stock: -2, ..line(1, 500) }), [LineIssue::OutOfStock]);
        assert_eq!(
            review(&LineFacts { stock: 2, ..line(3, 500) }),
            [LineIssue::InsufficientStock { available: 2 }]
        );
        assert_eq!(
            review(&LineFacts { price_now: Money(450), ..line(1, 500) }),
            [LineIssue::PriceChanged { from: Money(500), to: Money(450) }]
        );
    }

    #[test]
    fn every_applicable_issue_is_reported_in_order() {
        let all = LineFacts { active: false, stock: 0, price_now: Money(600), ..line(2, 500) };
        assert_eq!(
            review(&all),
            [
                LineIssue::Inactive,
                LineIssue::OutOfStock,
                LineIssue::PriceChanged { from: Money(500), to: Money(600) }
            ]
        );
        let some = LineFacts { active: false, stock: 1, ..line(2, 500) };
        assert_eq!(review(&some), [LineIssue::Inactive, LineIssue::InsufficientStock { available: 1 }]);
        let stock_and_price = LineFacts { stock: 1, price_now: Money(1), ..line(5, 500) };
        assert_eq!(
            review(&stock_and_price),
            [
                LineIssue::InsufficientStock { available: 1 },
                LineIssue::PriceChanged { from: Money(500), to: Money(1) }
            ]
        );
    }

    #[test]
    fn issues_read_as_plain_words() {
        assert_eq!(
            LineIssue::PriceChanged { from: Money(1299), to: Money(1305) }.message(),
            "The price went up from 12.99 to 13.05."
        );
        assert_eq!(
            LineIssue::PriceChanged { from: Money(100), to: Money(5) }.message(),
            "The price went down from 1.00 to 0.05."
        );
        assert!(LineIssue::InsufficientStock { available: 1 }.message().contains("Only 1 unit is left"));
        assert!(LineIssue::InsufficientStock { available: 4 }.message().contains("Only 4 units are left"));
        assert!(LineIssue::OutOfStock.message().contains("out of stock"));
        assert!(LineIssue::Inactive.message().contains("no longer available"));
    }

    #[test]
    fn totals_sum_current_prices_times_quantities() {
        let lines = [line(2, 1250), LineFacts { price_seen: Money(1), ..line(3, 99) }];
        assert_eq!(
            totals(&lines),
            Ok(Totals { currency: Some(Currency::EUR), subtotal: Money(2 * 1250 + 3 * 99), items: 5 })
        );
        assert_eq!(
            totals(&[line(1, 0)]),
            Ok(Totals { currency: Some(Currency::EUR), subtotal: Money(0), items: 1 })
        );
    }

    #[test]
    fn totals_refuse_empty_mixed_and_overflowing_carts() {
        assert_eq!(totals(&[]), Err(CartError::Empty));
        let usd = LineFacts { currency: Currency::USD, ..line(1, 100) };
        assert_eq!(totals(&[line(1, 100), usd]), Err(CartError::MixedCurrencies));
        assert_eq!(totals(&[usd, usd]).map(|t| t.currency), Ok(Some(Currency::USD)));
        // One line whose product overflows, and two lines whose sum overflows.
        assert_eq!(totals(&[line(2, i64::MAX / 2 + 1)]), Err(CartError::Overflow));
        assert_eq!(totals(&[line(1, i64::MAX), line(1, 1)]), Err(CartError::Overflow));
        assert_eq!(totals(&[line(1, i64::MAX), line(1, 0)]).map(|t| t.subtotal), Ok(Money(i64::MAX)));
        // Unit counts are checked too.
        assert_eq!(totals(&[line(u32::MAX, 0), line(1, 0)]), Err(CartError::Overflow));
    }

    #[test]
    fn checkout_needs_a_non_empty_cart_without_issues() {
        assert_eq!(ready_for_checkout(&[]), Err(CartError::Empty));
        let changed = LineFacts { price_now: Money(101), ..line(1, 100) };
        assert_eq!(ready_for_checkout(&[line(1, 100), changed]), Err(CartError::NeedsReview));
        let inactive = LineFacts { active: false, ..line(1, 100) };
        assert_eq!(ready_for_checkout(&[inactive]), Err(CartError::NeedsReview));
        let usd = LineFacts { currency: Currency::USD, ..line(1, 100) };
        assert_eq!(ready_for_checkout(&[line(1, 100), usd]), Err(CartError::MixedCurrencies));
        assert_eq!(ready_for_checkout(&[line(2, 100)]).map(|t| (t.subtotal, t.items)), Ok((Money(200), 2)));
    }
}
