//! Order rules: the states an order moves through, as a pure transition table saying who may
//! move it, and what a valid shipment looks like.

use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::validation::{FieldError, ValidationErrors};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Written with its stock taken; the card payment is not captured yet.
    PendingPayment,
    /// Paid in full; waiting to be shipped.
    Paid,
    /// Handed to a carrier.
    Shipped,
    /// Received by the customer; return windows count from then.
    Delivered,
    /// Cancelled before shipping; stock and credit were given back.
    Cancelled,
    /// Part of the amount was refunded.
    PartiallyRefunded,
    /// The whole amount was refunded.
    Refunded,
}

impl OrderState {
    /// Every state, in the order an order usually moves through them.
    pub const ALL: [OrderState; 7] = [
        OrderState::PendingPayment,
        OrderState::Paid,
        OrderState::Shipped,
        OrderState::Delivered,
        OrderState::Cancelled,
        OrderState::PartiallyRefunded,
        OrderState::Refunded,
    ];

    /// The stored and serialised name (`pending_payment`, `paid`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::PendingPayment => "pending_payment",
            OrderState::Paid => "paid",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
            OrderState::Cancelled => "cancelled",
            OrderState::PartiallyRefunded => "partially_refunded",
            OrderState::Refunded => "refunded",
        }
    }

    /// Parses a stored or submitted name (exact, lower-case).
    pub fn parse(raw: &str) -> Option<OrderState> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl std::fmt::Display for OrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something done to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// The card payment was captured.
    Pay,
    /// Handed to a carrier.
    Ship,
    /// The customer received it.
    Deliver,
    /// Called off before shipping.
    Cancel,
    /// Part of the amount is refunded.
    RefundPart,
    /// The whole (remaining) amount is refunded.
    RefundAll,
}

impl OrderAction {
    /// Every action; [`allowed_actions`] lists them in this order.
    pub const ALL: [OrderAction; 6] = [
        OrderAction::Pay,
        OrderAction::Ship,
        OrderAction::Deliver,
        OrderAction::Cancel,
        OrderAction::RefundPart,
        OrderAction::RefundAll,
    ];

    /// The serialised name (`pay`, `ship`, ..., `refund_part`, `refund_all`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::Pay => "pay",
            OrderAction::Ship => "ship",
            OrderAction::Deliver => "deliver",
            OrderAction::Cancel => "cancel",
            OrderAction::RefundPart => "refund_part",
            OrderAction::RefundAll => "refund_all",
        }
    }

    /// Parses a serialised name (exact, lower-case).
    pub fn parse(raw: &str) -> Option<OrderAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

impl std::fmt::Display for OrderAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who performs an action on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The customer who placed the order.
    Owner,
    /// A staff member acting with this role ([`Role::Customer`] here may do nothing).
    Staff(Role),
    /// The platform itself: checkout, the worker, an operator's command.
    System,
}

/// Why an action on an order is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// No one may do `action` to an order in `state`.
    #[error("cannot {action} an order that is {state}")]
    NotAllowed {
        /// The order's state now.
        state: OrderState,
        /// What was asked for.
        action: OrderAction,
        /// What this actor may do from `state` instead (possibly nothing).
        allowed: Vec<OrderAction>,
    },
    /// The action is possible from this state, but not for this actor.
    #[error("you may not do this to this order")]
    Forbidden,
}

/// The edge of the table: the state `action` leads to from `from`, whoever performs it.
fn target(from: OrderState, action: OrderAction) -> Option<OrderState> {
    use OrderAction as A;
    use OrderState as S;
    match (from, action) {
        (S::PendingPayment, A::Pay) => Some(S::Paid),
        (S::Paid, A::Ship) => Some(S::Shipped),
        (S::Shipped, A::Deliver) => Some(S::Delivered),
        (S::PendingPayment | S::Paid, A::Cancel) => Some(S::Cancelled),
        (S::Paid | S::Shipped | S::Delivered | S::PartiallyRefunded, A::RefundPart) => {
            Some(S::PartiallyRefunded)
        }
        (S::Paid | S::Shipped | S::Delivered | S::PartiallyRefunded, A::RefundAll) => Some(S::Refunded),
        _ => None,
    }
}

/// Whether `actor` may perform `action` on an order in `from` (given that the edge exists).
fn may(from: OrderState, action: OrderAction, actor: Actor) -> bool {
    let fulfilment = |r: Role| matches!(r, Role::Support | Role::Warehouse | Role::Admin);
    let money = |r: Role| matches!(r, Role::Finance | Role::Admin);
    match (action, actor) {
        (OrderAction::Pay, a) => a == Actor::System,
        (OrderAction::Ship | OrderAction::Deliver, Actor::Staff(r)) => fulfilment(r),
        (OrderAction::Ship | OrderAction::Deliver, _) => false,
        // A customer may change their mind until the order ships.
        (OrderAction::Cancel, Actor::Owner) => matches!(from, OrderState::PendingPayment | OrderState::Paid),
        (OrderAction::Cancel, Actor::Staff(r)) => fulfilment(r),
        (OrderAction::Cancel, Actor::System) => true,
        (OrderAction::RefundPart | OrderAction::RefundAll, Actor::Staff(r)) => money(r),
        (OrderAction::RefundPart | OrderAction::RefundAll, Actor::System) => true,
        (OrderAction::RefundPart | OrderAction::RefundAll, Actor::Owner) => false,
    }
}

/// The transition table: the state an order in `from` moves to when `actor` performs `action`.
///
/// - Pay: pending_payment -> paid (system).
/// - Ship: paid -> shipped (support, warehouse, admin).
/// - Deliver: shipped -> delivered (support, warehouse, admin).
/// - Cancel: pending_payment | paid -> cancelled (the owner, support, warehouse, admin, system:
///   until the order ships).
/// - RefundPart: paid | shipped | delivered | partially_refunded -> partially_refunded
///   (finance, admin, system).
/// - RefundAll: paid | shipped | delivered | partially_refunded -> refunded (finance, admin, system).
///
/// [`TransitionError::NotAllowed`] when the state does not permit the action for anyone (it
/// lists what `actor` may do instead); [`TransitionError::Forbidden`] when the state permits it
/// but not for this actor.
pub fn transition(
    from: OrderState,
    action: OrderAction,
    actor: Actor,
) -> Result<OrderState, TransitionError> {
    match target(from, action) {
        None => {
            Err(TransitionError::NotAllowed { state: from, action, allowed: allowed_actions(from, actor) })
        }
        Some(_) if !may(from, action, actor) => Err(TransitionError::Forbidden),
        Some(to) => Ok(to),
    }
}

/// Every action `actor` may perform on an order in `from`, in [`OrderAction::ALL`] order.
pub fn allowed_actions(from: OrderState, actor: Actor) -> Vec<OrderAction> {
    OrderAction::ALL.into_iter().filter(|&a| target(from, a).is_some() && may(from, a, actor)).collect()
}

/// Longest carrier name accepted.
pub const MAX_CARRIER_CHARS: usize = 40;
/// Longest tracking code accepted.
pub const MAX_TRACKING_CHARS: usize = 64;

/// One trimmed line of 1..=`max` characters, none of them control characters (no line breaks).
fn single_line(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 {
        Err(FieldError::new(field, "must not be empty"))
    } else if n > max {
        Err(FieldError::new(field, format!("must be at most {max} characters")))
    } else if s.chars().any(char::is_control) {
        Err(FieldError::new(field, "must be a single line of visible characters"))
    } else {
        Ok(s.to_owned())
    }
}

/// Validates a shipment: carrier (1..=40 characters) and tracking code (1..=64 characters),
/// both trimmed, single-line, without control characters. Returns `(carrier, tracking)`;
/// every problem is reported at once, under the fields `carrier` and `tracking`.
pub fn shipment(carrier: &str, tracking: &str) -> Result<(String, String), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let c = e.check(single_line("carrier", carrier, MAX_CARRIER_CHARS));
    let t = e.check(single_line("tracking", tracking, MAX_TRACKING_CHARS).and_then(|t| {
        if t.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(t)
        } else {
            Err(FieldError::new("tracking", "must be visible ASCII characters without spaces"))
        }
    }));
    e.finish(|| Some((c?, t?)))
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;
    use OrderAction as A;
    use OrderState as S;

    const SYS: Actor = Actor::System;
    const OWNER: Actor = Actor::Owner;
    const SUPPORT: Actor = Actor::Staff(Role::Support);
    const WAREHOUSE: Actor = Actor::Staff(Role::Warehouse);
    const FINANCE: Actor = Actor::Staff(Role::Finance);
    const ADMIN: Actor = Actor::Staff(Role::Admin);

    /// The whole table, written out: (from, action, who may, to). Anything not listed is refused.
    fn expected() -> Vec<(OrderState, OrderAction, Vec<Actor>, OrderState)> {
        let fulfil = vec![SUPPORT, WAREHOUSE, ADMIN];
        let money = vec![FINANCE, ADMIN, SYS];
        vec![
            (S::PendingPayment, A::Pay, vec![SYS], S::Paid),
            (S::Paid, A::Ship, fulfil.clone(), S::Shipped),
            (S::Shipped, A::Deliver, fulfil, S::Delivered),
            (S::PendingPayment, A::Cancel, vec![OWNER, SUPPORT, WAREHOUSE, ADMIN, SYS], S::Cancelled),
            (S::Paid, A::Cancel, vec![OWNER, SUPPORT, WAREHOUSE, ADMIN, SYS], S::Cancelled),
            (S::Paid, A::RefundPart, money.clone(), S::PartiallyRefunded),
            (S::Shipped, A::RefundPart, money.clone(), S::PartiallyRefunded),
            (S::Delivered, A::RefundPart, money.clone(), S::PartiallyRefunded),
            (S::PartiallyRefunded, A::RefundPart, money.clone(), S::PartiallyRefunded),
            (S::Paid, A::RefundAll, money.clone(), S::Refunded),
            (S::Shipped, A::RefundAll, money.clone(), S::Refunded),
            (S::Delivered, A::RefundAll, money.clone(), S::Refunded),
            (S::PartiallyRefunded, A::RefundAll, money, S::Refunded),
        ]
    }

    fn all_actors() -> Vec<Actor> {
        let mut v = vec![OWNER, SYS];
        v.extend(Role::ALL.into_iter().map(Actor::Staff));
        v
    }

    #[test]
    fn every_state_action_actor_triple_matches_the_table() {
        let table = expected();
        let mut allowed_count = 0;
        for from in S::ALL {
            for actor in all_actors() {
                let may_do: Vec<OrderAction> = A::ALL
                    .into_iter()
                    .filter(|&a| {
                        table.iter().any(|(f, act, who, _)| *f == from && *act == a && who.contains(&actor))
                    })
                    .collect();
                assert_eq!(allowed_actions(from, actor), may_do, "{from} {actor:?}");
                for action in A::ALL {
                    let row = table.iter().find(|(f, a, _, _)| *f == from && *a == action);
                    let want = match row {
                        Some((_, _, who, to)) if who.contains(&actor) => Ok(*to),
                        Some(_) => Err(TransitionError::Forbidden),
                        None => {
                            Err(TransitionError::NotAllowed { state: from, action, allowed: may_do.clone() })
                        }
                    };
                    if want.is_ok() {
                        allowed_count += 1;
                    }
                    assert_eq!(transition(from, action, actor), want, "{from} {action} {actor:?}");
                }
            }
        }
        // Guards the table itself against an accidental edit: 1 + 3 + 3 + 5 + 5 + 8 * 3.
        assert_eq!(allowed_count, 41);
    }

    #[test]
    fn terminal_states_allow_nothing_and_customers_never_act_as_staff() {
        for actor in all_actors() {
            assert!(allowed_actions(S::Cancelled, actor).is_empty());
            assert!(allowed_actions(S::Refunded, actor).is_empty());
        }
        for from in S::ALL {
            assert!(allowed_actions(from, Actor::Staff(Role::Customer)).is_empty(), "{from}");
        }
        assert_eq!(allowed_actions(S::Paid, OWNER), vec![A::Cancel]);
        assert_eq!(allowed_actions(S::Shipped, OWNER), Vec::<OrderAction>::new());
        assert_eq!(allowed_actions(S::PendingPayment, OWNER), vec![A::Cancel]);
    }

    #[test]
    fn an_owner_may_cancel_until_the_order_ships_and_staff_too() {
        assert_eq!(transition(S::Paid, A::Cancel, OWNER), Ok(S::Cancelled));
        assert!(matches!(transition(S::Shipped, A::Cancel, OWNER), Err(TransitionError::NotAllowed { .. })));
        assert_eq!(transition(S::Paid, A::Cancel, WAREHOUSE), Ok(S::Cancelled));
        let err = transition(S::Shipped, A::Cancel, ADMIN).unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                state: S::Shipped,
                action: A::Cancel,
                allowed: vec![A::Deliver, A::RefundPart, A::RefundAll]
            }
        );
        assert_eq!(err.to_string(), "cannot cancel an order that is shipped");
    }

    #[test]
    fn a_tracking_code_is_one_word_of_visible_ascii() {
        assert_eq!(shipment(" DHL ", " JD0002 "), Ok(("DHL".into(), "JD0002".into())));
        for bad in ["has space", "tab\there", "ü123", ""] {
            let e = shipment("DHL", bad).unwrap_err();
            assert_eq!(e.0[0].field, "tracking", "{bad:?}");
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            let de: StrDeserializer<'_, DeError> = s.as_str().into_deserializer();
            assert_eq!(S::deserialize(de), Ok(s));
        }
        for a in A::ALL {
            assert_eq!(A::parse(a.as_str()), Some(a));
            let de: StrDeserializer<'_, DeError> = a.as_str().into_deserializer();
            assert_eq!(A::deserialize(de), Ok(a));
        }
        assert_eq!(S::parse("Paid"), None);
        assert_eq!(A::parse("refund"), None);
    }

    #[test]
    fn a_shipment_is_trimmed_and_bounded() {
        assert_eq!(shipment("  DHL ", " JD01234567 "), Ok(("DHL".to_owned(), "JD01234567".to_owned())));
        assert!(shipment(&"c".repeat(40), &"t".repeat(64)).is_ok());
        assert!(shipment(&"é".repeat(40), "1").is_ok());
        let fields = |c: &str, t: &str| -> Vec<String> {
            shipment(c, t).unwrap_err().0.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(" ", ""), ["carrier", "tracking"]);
        assert_eq!(fields(&"c".repeat(41), "1"), ["carrier"]);
        assert_eq!(fields("UPS", &"t".repeat(65)), ["tracking"]);
        assert_eq!(fields("UPS", "1Z\n999"), ["tracking"]);
        assert_eq!(fields("U\tPS", "1Z999"), ["carrier"]);
    }
}
