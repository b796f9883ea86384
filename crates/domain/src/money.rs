//! Money as integer minor units; floats never touch an amount.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// An amount in minor units of its currency (cents for EUR/USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// The largest price the catalog accepts: 10 million major units.
    pub const MAX_PRICE: Money = Money(1_000_000_000);

    /// A catalog price: non-negative and at most [`Money::MAX_PRICE`].
    pub fn price(field: &str, cents: i64) -> Result<Money, FieldError> {
        if cents < 0 {
            Err(FieldError::new(field, "must not be negative"))
        } else if cents > Self::MAX_PRICE.0 {
            Err(FieldError::new(field, format!("must be at most {}", Self::MAX_PRICE.0)))
        } else {
            Ok(Money(cents))
        }
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Amount times a quantity, or `None` on overflow.
    pub fn checked_mul_qty(self, qty: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(qty)).map(Money)
    }

    /// Minor units.
    pub fn cents(self) -> i64 {
        self.0
    }
}

/// An ISO 4217 currency code this shop accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    /// Euro.
    EUR,
    /// US dollar.
    USD,
    /// Pound sterling.
    GBP,
}

impl Currency {
    /// Every accepted currency.
    pub const ALL: [Currency; 3] = [Currency::EUR, Currency::USD, Currency::GBP];

    /// The ISO code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::EUR => "EUR",
            Currency::USD => "USD",
            Currency::GBP => "GBP",
        }
    }

    /// Parses an ISO code (case-insensitive).
    pub fn parse(field: &str, raw: &str) -> Result<Currency, FieldError> {
        let up = raw.trim().to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|c| c.code() == up)
            .ok_or_else(|| FieldError::new(field, format!("unknown currency; accepted: {}", Self::codes())))
    }

    fn codes() -> String {
        Self::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_huge_prices_are_rejected() {
        assert!(Money::price("price_cents", -1).is_err());
        assert!(Money::price("price_cents", Money::MAX_PRICE.0 + 1).is_err());
        assert_eq!(Money::price("price_cents", 0), Ok(Money(0)));
        assert_eq!(Money::price("price_cents", 1299), Ok(Money(1299)));
    }

    #[test]
    fn arithmetic_reports_overflow_instead_of_wrapping() {
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(i64::MAX / 2 + 1).checked_mul_qty(2), None);
        assert_eq!(Money(250).checked_mul_qty(3), Some(Money(750)));
    }

    #[test]
    fn currency_round_trips_through_its_code() {
        for c in Currency::ALL {
            assert_eq!(Currency::parse("currency", &c.code().to_lowercase()), Ok(c));
        }
        assert_eq!(Currency::parse("currency", "XXX").unwrap_err().field, "currency");
    }
}
