//! Card payments: the [`PaymentGateway`] trait every provider implements, the built-in
//! [`Simulator`] provider, and [`Payments`], the resilient front every caller goes through
//! (per-call timeout, retries of transient failures, a circuit breaker).

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use retail_domain::{Currency, FieldError, Money};

mod resilient;
pub mod simulator;

pub use crate::http::metrics::PaymentMetrics;
pub use resilient::{BreakerStore, LocalBreaker, Payments};
pub use simulator::Simulator;

/// Decline codes the built-in provider uses (a real provider maps its own onto these).
pub mod code {
    /// The issuer said no.
    pub const CARD_DECLINED: &str = "card_declined";
    /// Not enough money on the card.
    pub const INSUFFICIENT_FUNDS: &str = "insufficient_funds";
    /// The token names no usable card.
    pub const INVALID_CARD: &str = "invalid_card";
    /// The amount is zero, negative, or more than was authorised / captured.
    pub const INVALID_AMOUNT: &str = "invalid_amount";
    /// No authorisation has that reference.
    pub const UNKNOWN_REFERENCE: &str = "unknown_reference";
    /// Capture or void of an authorisation already captured (with another amount).
    pub const ALREADY_CAPTURED: &str = "already_captured";
    /// Capture of an authorisation that was voided.
    pub const AUTHORIZATION_VOIDED: &str = "authorization_voided";
    /// Refund of an authorisation never captured.
    pub const NOT_CAPTURED: &str = "not_captured";
    /// The refund was refused (the simulator's `tok_refund_refused_once`, a closed account).
    pub const REFUND_REFUSED: &str = "refund_refused";
}

/// A card token from the client (the card itself never reaches the server). `Debug` shows at
/// most the `tok_` prefix and the last four characters of a long token, never the token.
#[derive(Clone, PartialEq, Eq)]
pub struct CardToken(String);

impl CardToken {
    /// Longest token accepted.
    pub const MAX_LEN: usize = 255;

    /// Wraps a token as is.
    pub fn new(token: impl Into<String>) -> CardToken {
        CardToken(token.into())
    }

    /// A token from client input: trimmed, 1..=255 visible ASCII characters.
    pub fn parse(field: &str, raw: &str) -> Result<CardToken, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            Err(FieldError::new(field, "must not be empty"))
        } else if t.len() > Self::MAX_LEN {
            Err(FieldError::new(field, format!("must be at most {} characters", Self::MAX_LEN)))
        } else if !t.bytes().all(|b| b.is_ascii_graphic()) {
            Err(FieldError::new(field, "must be visible ASCII characters"))
        } else {
            Ok(CardToken(t.to_owned()))
        }
    }

    /// The token itself, for the gateway call only: never log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters of a token of at least 12, for display and the payment row;
    /// `None` for shorter tokens (four characters would give too much of them away).
    pub fn hint(&self) -> Option<&str> {
        let n = self.0.chars().count();
        if n < 12 {
            return None;
        }
        let (start, _) = self.0.char_indices().nth(n - 4)?;
        self.0.get(start..)
    }
}

impl From<String> for CardToken {
    fn from(token: String) -> CardToken {
        CardToken(token)
    }
}

impl fmt::Debug for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.0.starts_with("tok_") { "tok_" } else { "" };
        write!(f, "CardToken({prefix}…{})", self.hint().unwrap_or(""))
    }
}

/// Why a gateway operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// A definite no (card declined, insufficient funds, bad amount or reference): never
    /// retried and never a circuit-breaker failure.
    #[error("payment declined ({code}): {message}")]
    Declined {
        /// Machine-readable reason, one of [`code`].
        code: &'static str,
        /// The reason in plain words, fit to show a customer.
        message: String,
    },
    /// The gateway did not answer within the timeout (retried; a breaker failure).
    #[error("the payment gateway did not answer in time")]
    Timeout,
    /// The gateway failed in a way that may pass (retried; a breaker failure).
    #[error("the payment gateway failed: {0}")]
    Transient(String),
    /// The circuit breaker is open: no call was made.
    #[error("payments are paused after repeated gateway failures; retry in {} s", whole_secs(*retry_after))]
    BreakerOpen {
        /// When a call may be admitted again.
        retry_after: Duration,
    },
}

/// Seconds rounded up, at least 1 (for `Retry-After`).
fn whole_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

impl GatewayError {
    /// A decline with its code and plain-words message.
    pub fn declined(code: &'static str, message: impl Into<String>) -> GatewayError {
        GatewayError::Declined { code, message: message.into() }
    }

    /// Whether this is a definite no rather than a failure.
    pub fn is_decline(&self) -> bool {
        matches!(self, GatewayError::Declined { .. })
    }

    /// A machine-readable code: the decline code, or `gateway_timeout`, `gateway_error`,
    /// `gateway_unavailable` (breaker open).
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::Declined { code, .. } => code,
            GatewayError::Timeout => "gateway_timeout",
            GatewayError::Transient(_) => "gateway_error",
            GatewayError::BreakerOpen { .. } => "gateway_unavailable",
        }
    }

    /// For `BreakerOpen`: whole seconds to wait, rounded up, at least 1 (`Retry-After`).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            GatewayError::BreakerOpen { retry_after } => Some(whole_secs(*retry_after)),
            _ => None,
        }
    }
}

/// A successful authorisation: money held on the card, to be captured or voided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The provider's reference, needed to capture, void or refund.
    pub reference: String,
    /// The amount held.
    pub amount: Money,
}

/// A payment provider. Object-safe: methods return boxed futures, so providers are used as
/// `Arc<dyn PaymentGateway>`. Callers use [`Payments`], which adds timeouts, retries and the
/// circuit breaker; every method must therefore be safe to retry: `authorize` and `refund` are
/// idempotent by their `idem` key, `capture` and `void` by the reference.
pub trait PaymentGateway: Send + Sync + 'static {
    /// The provider's name, stored with each payment.
    fn name(&self) -> &'static str;

    /// Holds `amount` on the card. The same `idem` returns the same authorisation.
    fn authorize<'a>(
        &'a self,
        idem: &'a str,
        token: &'a CardToken,
        amount: Money,
        currency: Currency,
    ) -> BoxFuture<'a, Result<Authorization, GatewayError>>;

    /// Takes `amount` (at most the authorised amount) of an authorisation.
    fn capture<'a>(&'a self, reference: &'a str, amount: Money) -> BoxFuture<'a, Result<(), GatewayError>>;

    /// Releases an authorisation not captured.
    fn void<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<(), GatewayError>>;

    /// Gives back `amount` of a capture; returns the refund's reference. The same `idem`
    /// returns the same refund.
    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: Money,
        idem: &'a str,
    ) -> BoxFuture<'a, Result<String, GatewayError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_token() {
        let long = CardToken::new("tok_1N3xYzAbCdEf4242");
        assert_eq!(format!("{long:?}"), "CardToken(tok_…4242)");
        assert_eq!(long.hint(), Some("4242"));
        let short = CardToken::new("tok_visa");
        assert_eq!(format!("{short:?}"), "CardToken(tok_…)");
        assert_eq!(short.hint(), None);
        let other = CardToken::new("pm_abcdefghijklmnop");
        assert_eq!(format!("{other:?}"), "CardToken(…mnop)");
        // inside other values too
        let shown = format!("{:?}", Some(&long));
        assert!(!shown.contains("1N3xYz"), "{shown}");
        // multi-byte characters are cut on character boundaries
        assert_eq!(CardToken::new("tok_ééééééééé").hint(), Some("éééé"));
    }

    #[test]
    fn client_tokens_are_trimmed_and_bounded() {
        assert_eq!(CardToken::parse("card_token", " tok_visa\n").unwrap().expose(), "tok_visa");
        assert!(CardToken::parse("card_token", "  ").is_err());
        assert!(CardToken::parse("card_token", "tok visa").is_err());
        assert!(CardToken::parse("card_token", "tok_é").is_err());
        assert!(CardToken::parse("card_token", &"t".repeat(256)).is_err());
        assert_eq!(CardToken::parse("card_token", &"t".repeat(255)).unwrap().expose().len(), 255);
        assert_eq!(CardToken::parse("x", "").unwrap_err().field, "x");
    }

    #[test]
    fn errors_have_codes_and_a_retry_after_rounded_up() {
        let open = GatewayError::BreakerOpen { retry_after: Duration::from_millis(1) };
        assert_eq!(open.retry_after_secs(), Some(1));
        assert_eq!(open.code(), "gateway_unavailable");
        assert!(open.to_string().contains("retry in 1 s"), "{open}");
        let open = GatewayError::BreakerOpen { retry_after: Duration::from_millis(29_001) };
        assert_eq!(open.retry_after_secs(), Some(30));
        let open = GatewayError::BreakerOpen { retry_after: Duration::from_secs(30) };
        assert_eq!(open.retry_after_secs(), Some(30));
        assert_eq!(GatewayError::BreakerOpen { retry_after: Duration::ZERO }.retry_after_secs(), Some(1));
        assert_eq!(GatewayError::Timeout.retry_after_secs(), None);
        assert_eq!(GatewayError::Timeout.code(), "gateway_timeout");
        assert_eq!(GatewayError::Transient("x".into()).code(), "gateway_error");
        let d = GatewayError::declined(code::INSUFFICIENT_FUNDS, "Not enough funds.");
        assert!(d.is_decline() && !GatewayError::Timeout.is_decline());
        assert_eq!(d.code(), "insufficient_funds");
    }
}
