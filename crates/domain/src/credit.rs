//! Store-credit rules: an append-only ledger of grants, spends and reversals whose balance is
//! derived and never negative.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::validation::{FieldError, ValidationErrors, bounded_text};

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CreditKind {
    /// Credit given by finance or an admin (or the seed).
    Grant,
    /// Credit used as tender at checkout.
    Spend,
    /// Undoes an earlier entry (a failed or cancelled checkout's spend, a mistaken grant).
    Reversal,
}

impl CreditKind {
    /// Every kind.
    pub const ALL: [CreditKind; 3] = [CreditKind::Grant, CreditKind::Spend, CreditKind::Reversal];

    /// The stored and serialised name: `grant`, `spend`, `reversal`.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditKind::Grant => "grant",
            CreditKind::Spend => "spend",
            CreditKind::Reversal => "reversal",
        }
    }

    /// Parses a stored name (exact, lower-case).
    pub fn parse(raw: &str) -> Option<CreditKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

impl std::fmt::Display for CreditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest single grant: 100,000.00 in major units.
pub const MAX_GRANT: Money = Money(10_000_000);

/// Longest reason an entry may carry.
pub const MAX_REASON_CHARS: usize = 200;

/// The signed delta of a ledger entry of `kind` moving `amount` (a non-negative magnitude).
///
/// Grant: `+amount`. Spend: `-amount`. Reversal gives back what the reversed entry moved, and
/// the caller says which kind that was through `reversal_of`: a spend (or `None`) is given back
/// (`+amount`), a grant is taken back (`-amount`). `None` for a negative amount, for a grant or
/// spend with `reversal_of` set, and for a reversal of a reversal.
pub fn delta(kind: CreditKind, amount: Money, reversal_of: Option<CreditKind>) -> Option<i64> {
    let m = amount.cents();
    if m < 0 {
        return None;
    }
    match (kind, reversal_of) {
        (CreditKind::Grant, None) => Some(m),
        (CreditKind::Spend, None) => Some(-m),
        (CreditKind::Reversal, None | Some(CreditKind::Spend)) => Some(m),
        (CreditKind::Reversal, Some(CreditKind::Grant)) => Some(-m),
        (CreditKind::Reversal, Some(CreditKind::Reversal))
        | (CreditKind::Grant | CreditKind::Spend, Some(_)) => None,
    }
}

/// Validates a grant: `amount_cents` in 1..=[`MAX_GRANT`] and a reason of 1..=200 characters
/// (trimmed). Reports both fields at once, as `amount_cents` and `reason`.
pub fn grant(amount_cents: i64, reason: &str) -> Result<(Money, String), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let amount = e.check(if amount_cents < 1 {
        Err(FieldError::new("amount_cents", "must be at least 1"))
    } else if amount_cents > MAX_GRANT.cents() {
        Err(FieldError::new("amount_cents", format!("must be at most {}", MAX_GRANT.cents())))
    } else {
        Ok(Money(amount_cents))
    });
    let reason = e.check(bounded_text("reason", reason, 1, MAX_REASON_CHARS));
    e.finish(|| Some((amount?, reason?)))
}

/// Why a ledger entry cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    /// The entry would take the balance below zero.
    #[error("insufficient store credit: balance {}, wanted {}", .balance.cents(), .wanted.cents())]
    Insufficient {
        /// The balance now.
        balance: Money,
        /// What the entry takes (the negated delta).
        wanted: Money,
    },
    /// The new balance does not fit in the amount type.
    #[error("store credit balance overflow")]
    Overflow,
}

/// The balance after applying `delta` to `balance`: [`CreditError::Insufficient`] if it would go
/// below zero, [`CreditError::Overflow`] if it does not fit (checked arithmetic throughout).
pub fn apply(balance: Money, delta: i64) -> Result<Money, CreditError> {
    let after = balance.cents().checked_add(delta).ok_or(CreditError::Overflow)?;
    if after < 0 {
        let wanted = delta.checked_neg().ok_or(CreditError::Overflow)?;
        return Err(CreditError::Insufficient { balance, wanted: Money(wanted) });
    }
    Ok(Money(after))
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;

    #[test]
    fn kinds_round_trip_and_match_serde() {
        for k in CreditKind::ALL {
            assert_eq!(CreditKind::parse(k.as_str()), Some(k));
            let de: StrDeserializer<'_, DeError> = k.as_str().into_deserializer();
            assert_eq!(CreditKind::deserialize(de), Ok(k));
        }
        assert_eq!(CreditKind::parse("Grant"), None);
        assert_eq!(CreditKind::parse("refund"), None);
    }

    #[test]
    fn deltas_carry_the_sign_of_the_entry() {
        use CreditKind::*;
        let m = Money(500);
        assert_eq!(delta(Grant, m, None), Some(500));
        assert_eq!(delta(Spend, m, None), Some(-500));
        assert_eq!(delta(Reversal, m, None), Some(500));
        assert_eq!(delta(Reversal, m, Some(Spend)), Some(500));
        assert_eq!(delta(Reversal, m, Some(Grant)), Some(-500));
        assert_eq!(delta(Reversal, m, Some(Reversal)), None);
        assert_eq!(delta(Grant, m, Some(Spend)), None);
        assert_eq!(delta(Spend, m, Some(Grant)), None);
        assert_eq!(delta(Spend, Money(-1), None), None);
        assert_eq!(delta(Spend, Money(i64::MAX), None), Some(-i64::MAX));
    }

    #[test]
    fn grants_are_bounded_and_need_a_reason() {
        assert_eq!(grant(1, " goodwill "), Ok((Money(1), "goodwill".to_owned())));
        assert_eq!(grant(MAX_GRANT.cents(), "x"), Ok((MAX_GRANT, "x".to_owned())));
        assert!(grant(1, &"r".repeat(200)).is_ok());
        let fields = |a: i64, r: &str| -> Vec<String> {
            grant(a, r).unwrap_err().0.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(0, "x"), ["amount_cents"]);
        assert_eq!(fields(-5, "x"), ["amount_cents"]);
        assert_eq!(fields(i64::MIN, "x"), ["amount_cents"]);
        assert_eq!(fields(MAX_GRANT.cents() + 1, "x"), ["amount_cents"]);
        assert_eq!(fields(100, "  "), ["reason"]);
        assert_eq!(fields(100, &"r".repeat(201)), ["reason"]);
        assert_eq!(fields(0, ""), ["amount_cents", "reason"]);
    }

    #[test]
    fn applying_an_entry_never_leaves_a_negative_balance() {
        assert_eq!(apply(Money(500), -500), Ok(Money(0)));
        assert_eq!(apply(Money(500), -200), Ok(Money(300)));
        assert_eq!(apply(Money(500), 250), Ok(Money(750)));
        assert_eq!(apply(Money(0), 0), Ok(Money(0)));
        assert_eq!(
            apply(Money(500), -501),
            Err(CreditError::Insufficient { balance: Money(500), wanted: Money(501) })
        );
        assert_eq!(
            apply(Money(0), -1),
            Err(CreditError::Insufficient { balance: Money(0), wanted: Money(1) })
        );
        assert_eq!(apply(Money(i64::MAX), 1), Err(CreditError::Overflow));
        // A delta whose magnitude does not fit cannot be reported as wanted.
        assert_eq!(apply(Money(1), i64::MIN), Err(CreditError::Overflow));
        let samples = [i64::MIN, -1_000, -501, -500, -1, 0, 1, 500, 1_000, i64::MAX];
        for balance in [0, 1, 499, 500, 501, i64::MAX] {
            for d in samples {
                if let Ok(after) = apply(Money(balance), d) {
                    assert!(after >= Money(0), "{balance} {d}");
                    assert_eq!(
                        i128::from(after.cents()),
                        i128::from(balance) + i128::from(d),
                        "{balance} {d}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_spend_then_its_reversal_restores_the_balance() {
        let spend = delta(CreditKind::Spend, Money(300), None).unwrap();
        let back = delta(CreditKind::Reversal, Money(300), Some(CreditKind::Spend)).unwrap();
        let after = apply(Money(1000), spend).unwrap();
        assert_eq!(apply(after, back), Ok(Money(1000)));
        assert!(apply(Money(200), spend).is_err());
    }
}
