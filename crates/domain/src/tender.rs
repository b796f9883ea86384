//! Split tender: how a checkout total is paid by store credit and a card.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// How a total is paid: `credit + card == total`, both non-negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tender {
    /// Paid from the customer's store-credit balance.
    pub credit: Money,
    /// Left for the card.
    pub card: Money,
}

/// Why a split cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    /// The customer asked to use more credit than they have.
    #[error("you asked to use more store credit than your balance")]
    CreditExceedsBalance,
    /// The customer asked to use more credit than the order costs.
    #[error("you asked to use more store credit than the order total")]
    CreditExceedsTotal,
    /// The customer asked to use a negative amount of credit.
    #[error("the store credit to use must not be negative")]
    NegativeCredit,
    /// Credit does not cover the total and no card was given.
    #[error("store credit does not cover the total; a card is needed")]
    CardNeeded,
}

/// Splits `total` between store credit and a card.
///
/// `balance` is the customer's credit balance; `requested` what they asked to use (`None` = as
/// much as possible). Credit = `requested`, or `min(balance, total)` when `None`; card = total -
/// credit. Checks, in this order: a negative request ([`TenderError::NegativeCredit`]), a request
/// above the balance ([`TenderError::CreditExceedsBalance`]), above the total
/// ([`TenderError::CreditExceedsTotal`]), then a card part without a card
/// ([`TenderError::CardNeeded`]). A negative balance counts as zero. `total` is a checkout
/// total and never negative.
pub fn split(
    total: Money,
    balance: Money,
    requested: Option<Money>,
    has_card: bool,
) -> Result<Tender, TenderError> {
    let available = balance.max(Money(0));
    let credit = match requested {
        Some(r) if r < Money(0) => return Err(TenderError::NegativeCredit),
        Some(r) if r > available => return Err(TenderError::CreditExceedsBalance),
        Some(r) if r > total => return Err(TenderError::CreditExceedsTotal),
        Some(r) => r,
        None => available.min(total).max(Money(0)),
    };
    // 0 <= credit <= total here (or credit = 0 for a negative total): the difference is exact.
    let card = Money(total.cents().saturating_sub(credit.cents()));
    if card > Money(0) && !has_card {
        return Err(TenderError::CardNeeded);
    }
    Ok(Tender { credit, card })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(credit: i64, card: i64) -> Result<Tender, TenderError> {
        Ok(Tender { credit: Money(credit), card: Money(card) })
    }

    #[test]
    fn credit_covers_everything_when_it_can() {
        assert_eq!(split(Money(1000), Money(5000), None, false), t(1000, 0));
        assert_eq!(split(Money(1000), Money(1000), None, false), t(1000, 0));
        assert_eq!(split(Money(1000), Money(5000), Some(Money(1000)), false), t(1000, 0));
        assert_eq!(split(Money(1000), Money(5000), None, true), t(1000, 0));
    }

    #[test]
    fn partial_credit_leaves_the_rest_for_the_card() {
        assert_eq!(split(Money(1000), Money(300), None, true), t(300, 700));
        assert_eq!(split(Money(1000), Money(5000), Some(Money(250)), true), t(250, 750));
        assert_eq!(split(Money(1000), Money(300), None, false), Err(TenderError::CardNeeded));
    }

    #[test]
    fn no_credit_means_the_card_pays_all() {
        assert_eq!(split(Money(1000), Money(0), None, true), t(0, 1000));
        assert_eq!(split(Money(1000), Money(5000), Some(Money(0)), true), t(0, 1000));
        assert_eq!(split(Money(1000), Money(-20), None, true), t(0, 1000));
        assert_eq!(split(Money(1000), Money(0), None, false), Err(TenderError::CardNeeded));
        assert_eq!(split(Money(1000), Money(5000), Some(Money(0)), false), Err(TenderError::CardNeeded));
    }

    #[test]
    fn a_free_order_needs_neither() {
        assert_eq!(split(Money(0), Money(0), None, false), t(0, 0));
        assert_eq!(split(Money(0), Money(500), None, false), t(0, 0));
    }

    #[test]
    fn requests_beyond_the_balance_or_the_total_are_refused() {
        assert_eq!(
            split(Money(1000), Money(300), Some(Money(301)), true),
            Err(TenderError::CreditExceedsBalance)
        );
        assert_eq!(
            split(Money(1000), Money(5000), Some(Money(1001)), true),
            Err(TenderError::CreditExceedsTotal)
        );
        // Beyond both: the balance is named first.
        assert_eq!(
            split(Money(100), Money(200), Some(Money(300)), true),
            Err(TenderError::CreditExceedsBalance)
        );
        assert_eq!(
            split(Money(100), Money(-5), Some(Money(1)), true),
            Err(TenderError::CreditExceedsBalance)
        );
        assert_eq!(split(Money(100), Money(200), Some(Money(-1)), true), Err(TenderError::NegativeCredit));
        assert_eq!(
            split(Money(100), Money(200), Some(Money(i64::MIN)), true),
            Err(TenderError::NegativeCredit)
        );
    }

    #[test]
    fn the_parts_always_add_up_and_never_go_negative() {
        for total in [0, 1, 99, 1000, i64::MAX] {
            for balance in [0, 1, 500, 1000, i64::MAX] {
                let s = split(Money(total), Money(balance), None, true).unwrap();
                assert!(s.credit >= Money(0) && s.card >= Money(0), "{total} {balance}");
                assert_eq!(s.credit.checked_add(s.card), Some(Money(total)), "{total} {balance}");
            }
        }
    }
}
