//! Notifications: which events tell whom, whether the customer may turn them off, and what
//! they say. The same [`Content`] is mailed and shown in the app, so the two always agree.
//!
//! Pure: the caller gathers the [`Facts`] (amounts, numbers, the shop's name) and formats
//! nothing itself.

use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::money::{Currency, Money};
use crate::order::{Actor, OrderAction};
use crate::rma::{Disposition, RmaAction};

/// Something that happened that someone should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// An order was paid (the receipt).
    OrderConfirmed,
    /// An order left the warehouse.
    OrderShipped,
    /// An order arrived.
    OrderDelivered,
    /// An order was cancelled (and its payment released).
    OrderCancelled,
    /// Support approved a return: the customer may send the goods.
    ReturnApproved,
    /// The warehouse has the returned goods.
    ReturnReceived,
    /// A return was refunded.
    ReturnRefunded,
    /// A return was settled with store credit.
    ReturnCreditGranted,
    /// A return was refused (with the reason).
    ReturnRejected,
    /// A return was completed otherwise (a replacement sent, a repair shipped back).
    ReturnCompleted,
    /// A return was cancelled by the shop (the goods never came).
    ReturnCancelled,
    /// Staff: a return in the team's queue is older than its stage's target.
    ReturnSlaBreached,
    /// Staff (finance): a refund failed at the payment provider.
    RefundFailed,
}

impl NotifyEvent {
    /// Every event.
    pub const ALL: [NotifyEvent; 13] = [
        NotifyEvent::OrderConfirmed,
        NotifyEvent::OrderShipped,
        NotifyEvent::OrderDelivered,
        NotifyEvent::OrderCancelled,
        NotifyEvent::ReturnApproved,
        NotifyEvent::ReturnReceived,
        NotifyEvent::ReturnRefunded,
        NotifyEvent::ReturnCreditGranted,
        NotifyEvent::ReturnRejected,
        NotifyEvent::ReturnCompleted,
        NotifyEvent::ReturnCancelled,
        NotifyEvent::ReturnSlaBreached,
        NotifyEvent::RefundFailed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::OrderConfirmed => "order_confirmed",
            NotifyEvent::OrderShipped => "order_shipped",
            NotifyEvent::OrderDelivered => "order_delivered",
            NotifyEvent::OrderCancelled => "order_cancelled",
            NotifyEvent::ReturnApproved => "return_approved",
            NotifyEvent::ReturnReceived => "return_received",
            NotifyEvent::ReturnRefunded => "return_refunded",
            NotifyEvent::ReturnCreditGranted => "return_credit_granted",
            NotifyEvent::ReturnRejected => "return_rejected",
            NotifyEvent::ReturnCompleted => "return_completed",
            NotifyEvent::ReturnCancelled => "return_cancelled",
            NotifyEvent::ReturnSlaBreached => "return_sla_breached",
            NotifyEvent::RefundFailed => "refund_failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<NotifyEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw)
    }

    /// Who hears about it and whether they may turn it off.
    pub fn audience(self) -> Audience {
        match self {
            // Mail about money always goes: the receipt, a cancellation that releases the
            // payment, a refund, a credit.
            NotifyEvent::OrderConfirmed
            | NotifyEvent::OrderCancelled
            | NotifyEvent::ReturnRefunded
            | NotifyEvent::ReturnCreditGranted => Audience::Customer { essential: true },
            NotifyEvent::OrderShipped
            | NotifyEvent::OrderDelivered
            | NotifyEvent::ReturnApproved
            | NotifyEvent::ReturnReceived
            | NotifyEvent::ReturnRejected
            | NotifyEvent::ReturnCompleted
            | NotifyEvent::ReturnCancelled => Audience::Customer { essential: false },
            NotifyEvent::ReturnSlaBreached => Audience::Staff(StaffAlert::SlaBreach),
            NotifyEvent::RefundFailed => Audience::Staff(StaffAlert::RefundFailure),
        }
    }
}

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The customer it concerns; `essential` mail cannot be turned off.
    Customer {
        /// About money: always mailed.
        essential: bool,
    },
    /// Staff who chose this alert.
    Staff(StaffAlert),
}

/// An alert staff may choose to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffAlert {
    /// A return in the team's queue breached its stage's target.
    SlaBreach,
    /// A refund failed at the payment provider.
    RefundFailure,
}

impl StaffAlert {
    /// The roles the alert goes to (admins get every alert they chose).
    pub fn roles(self) -> &'static [Role] {
        match self {
            StaffAlert::SlaBreach => &[Role::Support, Role::Warehouse, Role::Finance, Role::Admin],
            StaffAlert::RefundFailure => &[Role::Finance, Role::Admin],
        }
    }
}

/// What a customer hears when an order moves: the event for `action`, if any.
pub fn order_event(action: OrderAction) -> Option<NotifyEvent> {
    match action {
        OrderAction::Pay => Some(NotifyEvent::OrderConfirmed),
        OrderAction::Ship => Some(NotifyEvent::OrderShipped),
        OrderAction::Deliver => Some(NotifyEvent::OrderDelivered),
        OrderAction::Cancel => Some(NotifyEvent::OrderCancelled),
        OrderAction::RefundPart | OrderAction::RefundAll => None,
    }
}

/// What a customer hears when `actor` performs `action` on their return (with its
/// `disposition`, once decided): approval, receipt, rejection (by support, the system or
/// finance's decision once the goods left), cancellation by anyone but the customer, and the
/// completion of each disposition. Nothing for the customer's own steps or internal ones.
pub fn return_event(
    action: RmaAction,
    actor: Actor,
    disposition: Option<Disposition>,
) -> Option<NotifyEvent> {
    match action {
        RmaAction::Approve => Some(NotifyEvent::ReturnApproved),
        RmaAction::Receive => Some(NotifyEvent::ReturnReceived),
        RmaAction::Reject => Some(NotifyEvent::ReturnRejected),
        RmaAction::Cancel if actor != Actor::Owner => Some(NotifyEvent::ReturnCancelled),
        RmaAction::Complete => Some(match disposition {
            Some(Disposition::Refund) => NotifyEvent::ReturnRefunded,
            Some(Disposition::StoreCredit) => NotifyEvent::ReturnCreditGranted,
            Some(Disposition::Reject) => NotifyEvent::ReturnRejected,
            Some(Disposition::Replacement | Disposition::Repair) | None => NotifyEvent::ReturnCompleted,
        }),
        RmaAction::Cancel
        | RmaAction::Validate
        | RmaAction::Ship
        | RmaAction::StartInspection
        | RmaAction::Inspect
        | RmaAction::Decide
        | RmaAction::Process => None,
    }
}

/// What is known about the event, for its wording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The order.
    pub order_id: Option<i64>,
    /// The return.
    pub rma_id: Option<i64>,
    /// The amount concerned (paid, refunded, credited).
    pub amount: Option<(Money, Currency)>,
    /// A reason or note to quote (a rejection's reason, a provider's error).
    pub note: Option<String>,
    /// Carrier and tracking code of a shipment.
    pub tracking: Option<(String, String)>,
    /// The stage a breached return waits in, and for how long (hours).
    pub waiting: Option<(String, i64)>,
}

/// What a notification says: the mail's subject, a title and paragraphs, and the SPA path it
/// links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Mail subject (the shop's name is added by the mailer).
    pub subject: String,
    /// Headline.
    pub title: String,
    /// Paragraphs of plain text.
    pub body: Vec<String>,
    /// Path in the SPA (`/orders/12`, `/returns/7`).
    pub link: String,
}

/// `amount` in `currency` for people: the symbol, thousands separated, two decimals
/// (`€1,234.50`, `-$0.05`). Integer arithmetic only.
pub fn format_money(amount: Money, currency: Currency) -> String {
    let symbol = match currency {
        Currency::EUR => "€",
        Currency::USD => "$",
        Currency::GBP => "£",
    };
    let cents = amount.cents();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (units, rest) = (abs / 100, abs % 100);
    let digits = units.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{symbol}{grouped}.{rest:02}")
}

/// The wording of `event` with `facts`.
pub fn compose(event: NotifyEvent, facts: &Facts) -> Content {
    let order = facts.order_id.map_or_else(String::new, |id| format!("#{id}"));
    let rma = facts.rma_id.map_or_else(String::new, |id| format!("RMA-{id}"));
    let amount = facts.amount.map(|(m, c)| format_money(m, c));
    let order_link = facts.order_id.map_or_else(|| "/orders".to_owned(), |id| format!("/orders/{id}"));
    let rma_link = facts.rma_id.map_or_else(|| "/returns".to_owned(), |id| format!("/returns/{id}"));
    let note = facts.note.clone().filter(|n| !n.trim().is_empty());
    let c = |subject: String, title: String, body: Vec<Option<String>>, link: String| Content {
        subject,
        title,
        body: body.into_iter().flatten().collect(),
        link,
    };
    match event {
        NotifyEvent::OrderConfirmed => c(
            format!("Order {order} confirmed"),
            format!("Thank you: order {order} is confirmed"),
            vec![
                Some(match &amount {
                    Some(a) => format!("We received your payment of {a}."),
                    None => "We received your order.".to_owned(),
                }),
                Some("We will tell you when it ships.".to_owned()),
            ],
            order_link,
        ),
        NotifyEvent::OrderShipped => c(
            format!("Order {order} shipped"),
            format!("Order {order} is on its way"),
            vec![
                facts
                    .tracking
                    .as_ref()
                    .map(|(carrier, code)| format!("Carrier: {carrier}, tracking code {code}.")),
            ],
            order_link,
        ),
        NotifyEvent::OrderDelivered => c(
            format!("Order {order} delivered"),
            format!("Order {order} was delivered"),
            vec![Some("Something not right? You can return items from the order page.".to_owned())],
            order_link,
        ),
        NotifyEvent::OrderCancelled => c(
            format!("Order {order} cancelled"),
            format!("Order {order} was cancelled"),
            vec![
                note.map(|n| format!("Reason: {n}")),
                amount.map(|a| format!("{a} goes back the way you paid.")),
            ],
            order_link,
        ),
        NotifyEvent::ReturnApproved => c(
            format!("Return {rma} approved"),
            format!("Your return {rma} is approved"),
            vec![Some(
                "Please send the items back and enter the carrier and tracking code on the return's page."
                    .to_owned(),
            )],
            rma_link,
        ),
        NotifyEvent::ReturnReceived => c(
            format!("Return {rma} received"),
            format!("We received your return {rma}"),
            vec![Some("Our warehouse will inspect the items and tell you the outcome.".to_owned())],
            rma_link,
        ),
        NotifyEvent::ReturnRefunded => c(
            format!("Return {rma} refunded"),
            format!("Your return {rma} was refunded"),
            vec![amount.map(|a| format!("{a} goes back the way you paid for the order."))],
            rma_link,
        ),
        NotifyEvent::ReturnCreditGranted => c(
            format!("Store credit for return {rma}"),
            format!("Store credit for your return {rma}"),
            vec![amount.map(|a| format!("{a} was added to your store credit."))],
            rma_link,
        ),
        NotifyEvent::ReturnRejected => c(
            format!("Return {rma} not accepted"),
            format!("Your return {rma} was not accepted"),
            vec![note.map(|n| format!("Reason: {n}"))],
            rma_link,
        ),
        NotifyEvent::ReturnCompleted => c(
            format!("Return {rma} completed"),
            format!("Your return {rma} is complete"),
            vec![
                facts
                    .tracking
                    .as_ref()
                    .map(|(carrier, code)| format!("Sent with {carrier}, tracking code {code}.")),
            ],
            rma_link,
        ),
        NotifyEvent::ReturnCancelled => c(
            format!("Return {rma} cancelled"),
            format!("Your return {rma} was cancelled"),
            vec![note.map(|n| format!("Reason: {n}"))],
            rma_link,
        ),
        NotifyEvent::ReturnSlaBreached => c(
            format!("Return {rma} is overdue"),
            format!("Return {rma} is past its target"),
            vec![facts.waiting.as_ref().map(|(stage, hours)| format!("It has waited {hours} h in {stage}."))],
            rma_link,
        ),
        NotifyEvent::RefundFailed => c(
            format!("Refund of return {rma} failed"),
            format!("The refund of return {rma} failed"),
            vec![
                amount.map(|a| format!("Amount: {a}.")),
                note.map(|n| format!("Provider said: {n}")),
                Some("Process it again from the return's page once the cause is fixed.".to_owned()),
            ],
            rma_link,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_agree_with_serde() {
        for e in NotifyEvent::ALL {
            assert_eq!(NotifyEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), serde_json::Value::String(e.as_str().into()));
        }
        assert_eq!(NotifyEvent::parse("nope"), None);
    }

    #[test]
    fn money_mail_is_essential_and_staff_alerts_go_to_their_teams() {
        let essential: Vec<_> = NotifyEvent::ALL
            .into_iter()
            .filter(|e| e.audience() == Audience::Customer { essential: true })
            .collect();
        assert_eq!(
            essential,
            [
                NotifyEvent::OrderConfirmed,
                NotifyEvent::OrderCancelled,
                NotifyEvent::ReturnRefunded,
                NotifyEvent::ReturnCreditGranted
            ]
        );
        assert_eq!(NotifyEvent::RefundFailed.audience(), Audience::Staff(StaffAlert::RefundFailure));
        assert!(!StaffAlert::RefundFailure.roles().contains(&Role::Warehouse));
        assert!(!StaffAlert::SlaBreach.roles().contains(&Role::Customer));
    }

    #[test]
    fn return_steps_map_to_what_the_customer_hears() {
        use RmaAction as A;
        let staff = Actor::Staff(Role::Support);
        assert_eq!(return_event(A::Approve, staff, None), Some(NotifyEvent::ReturnApproved));
        assert_eq!(return_event(A::Ship, Actor::Owner, None), None);
        assert_eq!(return_event(A::Cancel, Actor::Owner, None), None);
        assert_eq!(return_event(A::Cancel, Actor::System, None), Some(NotifyEvent::ReturnCancelled));
        assert_eq!(return_event(A::Reject, Actor::System, None), Some(NotifyEvent::ReturnRejected));
        assert_eq!(return_event(A::Process, staff, Some(Disposition::Refund)), None);
        let done = |d| return_event(A::Complete, Actor::System, Some(d));
        assert_eq!(done(Disposition::Refund), Some(NotifyEvent::ReturnRefunded));
        assert_eq!(done(Disposition::StoreCredit), Some(NotifyEvent::ReturnCreditGranted));
        assert_eq!(done(Disposition::Reject), Some(NotifyEvent::ReturnRejected));
        assert_eq!(done(Disposition::Repair), Some(NotifyEvent::ReturnCompleted));
        assert_eq!(order_event(OrderAction::Ship), Some(NotifyEvent::OrderShipped));
        assert_eq!(order_event(OrderAction::RefundAll), None);
    }

    #[test]
    fn money_is_formatted_with_symbol_separators_and_cents() {
        assert_eq!(format_money(Money(0), Currency::EUR), "€0.00");
        assert_eq!(format_money(Money(5), Currency::USD), "$0.05");
        assert_eq!(format_money(Money(123_450), Currency::EUR), "€1,234.50");
        assert_eq!(format_money(Money(100_000_000), Currency::GBP), "£1,000,000.00");
        assert_eq!(format_money(Money(-99), Currency::EUR), "-€0.99");
        assert_eq!(format_money(Money(i64::MIN), Currency::EUR), "-€92,233,720,368,547,758.08");
    }

    #[test]
    fn every_event_says_something_and_links_to_its_page() {
        let facts = Facts {
            order_id: Some(12),
            rma_id: Some(7),
            amount: Some((Money(1999), Currency::EUR)),
            note: Some("worn".into()),
            tracking: Some(("DHL".into(), "T1".into())),
            waiting: Some(("validating".into(), 30)),
        };
        for e in NotifyEvent::ALL {
            let c = compose(e, &facts);
            assert!(!c.subject.is_empty() && !c.title.is_empty() && !c.body.is_empty(), "{e:?}");
            let expected = if e.as_str().starts_with("order") { "/orders/12" } else { "/returns/7" };
            assert_eq!(c.link, expected, "{e:?}");
        }
        let refunded = compose(NotifyEvent::ReturnRefunded, &facts);
        assert_eq!(refunded.body, ["€19.99 goes back the way you paid for the order."]);
        let rejected =
            compose(NotifyEvent::ReturnRejected, &Facts { note: Some("  ".into()), ..facts.clone() });
        assert!(rejected.body.is_empty(), "a blank reason is not quoted");
    }
}
