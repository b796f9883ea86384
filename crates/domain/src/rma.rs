//! Returns (RMA) rules: the stages a return moves through, as one pure transition table saying
//! who may move it; the taxonomies (reasons, conditions, dispositions); eligibility; the
//! restocking-fee policy; the refund estimate and how a refund is split back across card and
//! store credit.
//!
//! Who acts is an [`Actor`], the same type the order table uses: the owner of an RMA is the
//! customer who placed the order, so a staff member returning their own purchase acts as the
//! owner and cannot approve or refund their own return.
//!
//! Nothing here reads a clock: time since delivery is a [`Duration`] the caller computes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::ids::OrderLineId;
use crate::money::Money;
use crate::tender::Tender;
use crate::validation::{FieldError, bounded_text};

pub use crate::order::Actor;

/// `ALL`, `as_str`, `parse` and `Display` for a field-less enum whose serde names are the
/// given snake_case names (a test checks they agree with serde).
macro_rules! names {
    ($ty:ident, $n:literal, $doc_all:literal, { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            #[doc = $doc_all]
            pub const ALL: [$ty; $n] = [$($ty::$v),+];

            /// The stored and serialised name (snake_case).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$v => $s),+
                }
            }

            /// Parses a stored or submitted name (exact, lower-case).
            pub fn parse(raw: &str) -> Option<$ty> {
                Self::ALL.into_iter().find(|x| x.as_str() == raw)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Stages, actions, the transition table
// ---------------------------------------------------------------------------------------------

/// Where a return stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RmaStage {
    /// Requested by the customer; the automatic eligibility check has not run yet.
    Submitted,
    /// Found eligible by the system; waiting for support to approve or reject it.
    Validating,
    /// Approved by support; waiting for the customer to send the goods.
    Approved,
    /// The customer gave the carrier and tracking code; the goods are on their way.
    Shipping,
    /// The warehouse has the goods.
    Received,
    /// The warehouse is inspecting the goods.
    Inspecting,
    /// Inspected, with a condition recorded; waiting for finance to decide.
    Inspected,
    /// Finance decided the disposition; waiting to be processed.
    Disposition,
    /// The disposition's effect is being carried out (or failed and waits for a retry).
    Processing,
    /// Done: the disposition's effect happened. Terminal.
    Completed,
    /// Refused before the goods were sent (ineligible, or declined by support). Terminal.
    Rejected,
    /// Called off before the goods were received. Terminal.
    Cancelled,
}

names!(RmaStage, 12, "Every stage, in the order a return usually moves through them.", {
    Submitted => "submitted",
    Validating => "validating",
    Approved => "approved",
    Shipping => "shipping",
    Received => "received",
    Inspecting => "inspecting",
    Inspected => "inspected",
    Disposition => "disposition",
    Processing => "processing",
    Completed => "completed",
    Rejected => "rejected",
    Cancelled => "cancelled",
});

impl RmaStage {
    /// Whether nothing more can happen: completed, rejected or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(self, RmaStage::Completed | RmaStage::Rejected | RmaStage::Cancelled)
    }

    /// Whether the units of a return in this stage count as returned or claimed, so that no
    /// other return may claim them: every stage but rejected and cancelled (a completed return
    /// keeps its units, whatever its disposition).
    pub fn holds_quantity(self) -> bool {
        !matches!(self, RmaStage::Rejected | RmaStage::Cancelled)
    }

    /// The staff team whose queue holds a return in this stage: support for `validating`;
    /// warehouse for `shipping`, `received`, `inspecting`; finance for `inspected`,
    /// `disposition`, `processing`. `None` when it waits on the system (`submitted`), on the
    /// customer (`approved`: they have to send the goods) or on nobody (terminal stages).
    pub fn queue(self) -> Option<Role> {
        match self {
            RmaStage::Validating => Some(Role::Support),
            RmaStage::Shipping | RmaStage::Received | RmaStage::Inspecting => Some(Role::Warehouse),
            RmaStage::Inspected | RmaStage::Disposition | RmaStage::Processing => Some(Role::Finance),
            RmaStage::Submitted
            | RmaStage::Approved
            | RmaStage::Completed
            | RmaStage::Rejected
            | RmaStage::Cancelled => None,
        }
    }
}

/// Something done to a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RmaAction {
    /// The automatic eligibility check passed; the return goes to support.
    Validate,
    /// Support approves the return; the customer may send the goods.
    Approve,
    /// The return is refused before the goods are sent (not the [`Disposition::Reject`] that
    /// finance decides after inspection).
    Reject,
    /// The carrier and tracking code of the parcel sent back are recorded.
    Ship,
    /// The warehouse has the goods.
    Receive,
    /// The warehouse starts inspecting the goods.
    StartInspection,
    /// The warehouse records the condition (and notes) of the goods.
    Inspect,
    /// Finance decides the disposition.
    Decide,
    /// The disposition's effect is started, or retried after a failure.
    Process,
    /// The disposition's effect is done.
    Complete,
    /// The return is called off.
    Cancel,
}

names!(RmaAction, 11, "Every action; [`allowed_actions`] lists them in this order.", {
    Validate => "validate",
    Approve => "approve",
    Reject => "reject",
    Ship => "ship",
    Receive => "receive",
    StartInspection => "start_inspection",
    Inspect => "inspect",
    Decide => "decide",
    Process => "process",
    Complete => "complete",
    Cancel => "cancel",
});

/// Why an action on a return is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// No one may do `action` to a return in `stage`.
    #[error("cannot {action} a return that is {stage}")]
    NotAllowed {
        /// The return's stage now.
        stage: RmaStage,
        /// What was asked for.
        action: RmaAction,
        /// What this actor may do from `stage` instead (possibly nothing).
        allowed: Vec<RmaAction>,
    },
    /// The action is possible from this stage, but not for this actor.
    #[error("you may not do this to this return")]
    Forbidden,
}

/// The edge of the table: the stage `action` leads to from `from`, whoever performs it.
fn target(from: RmaStage, action: RmaAction) -> Option<RmaStage> {
    use RmaAction as A;
    use RmaStage as S;
    match (from, action) {
        (S::Submitted, A::Validate) => Some(S::Validating),
        (S::Submitted | S::Validating, A::Reject) => Some(S::Rejected),
        (S::Validating, A::Approve) => Some(S::Approved),
        (S::Approved, A::Ship) => Some(S::Shipping),
        (S::Approved | S::Shipping, A::Receive) => Some(S::Received),
        (S::Received, A::StartInspection) => Some(S::Inspecting),
        (S::Inspecting, A::Inspect) => Some(S::Inspected),
        (S::Inspected, A::Decide) => Some(S::Disposition),
        (S::Disposition | S::Processing, A::Process) => Some(S::Processing),
        (S::Processing, A::Complete) => Some(S::Completed),
        (S::Submitted | S::Validating | S::Approved | S::Shipping, A::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

/// Whether `actor` may perform `action` on a return in `from` (given that the edge exists).
fn may(from: RmaStage, action: RmaAction, actor: Actor) -> bool {
    use RmaAction as A;
    match actor {
        // The customer sends the goods back, and may change their mind until they arrive.
        Actor::Owner => matches!(action, A::Ship | A::Cancel),
        // The system rejects only what its own eligibility check refused; it cancels only an
        // approved return whose goods never came (expiry).
        Actor::System => match action {
            A::Validate | A::Process | A::Complete => true,
            A::Reject => from == RmaStage::Submitted,
            A::Cancel => from == RmaStage::Approved,
            _ => false,
        },
        // Support decides on requests and acts for a customer who calls in.
        Actor::Staff(Role::Support) => match action {
            A::Approve | A::Ship | A::Cancel => true,
            A::Reject => from == RmaStage::Validating,
            _ => false,
        },
        // The warehouse handles the goods, and completes the dispositions that end with goods
        // leaving it (a repair shipped back, rejected goods returned or disposed of).
        Actor::Staff(Role::Warehouse) => {
            matches!(action, A::Receive | A::StartInspection | A::Inspect | A::Complete)
        }
        Actor::Staff(Role::Finance) => matches!(action, A::Decide | A::Process | A::Complete),
        // An admin may do anything some staff team may.
        Actor::Staff(Role::Admin) => [Role::Support, Role::Warehouse, Role::Finance]
            .into_iter()
            .any(|r| may(from, action, Actor::Staff(r))),
        Actor::Staff(Role::Customer) => false,
    }
}

/// The transition table: the stage a return in `from` moves to when `actor` performs `action`.
///
/// - Validate: submitted -> validating (system: the eligibility check passed).
/// - Reject: submitted -> rejected (system: the eligibility check failed);
///   validating -> rejected (support, admin).
/// - Approve: validating -> approved (support, admin).
/// - Ship: approved -> shipping (the owner, support, admin).
/// - Receive: approved | shipping -> received (warehouse, admin; a parcel may arrive before
///   its tracking code was entered).
/// - StartInspection: received -> inspecting (warehouse, admin).
/// - Inspect: inspecting -> inspected (warehouse, admin).
/// - Decide: inspected -> disposition (finance, admin).
/// - Process: disposition | processing -> processing (finance, admin, system; from processing
///   it retries an effect that failed).
/// - Complete: processing -> completed (system, warehouse, finance, admin; see
///   [`Disposition::completed_by_system`]).
/// - Cancel: submitted | validating | approved | shipping -> cancelled (the owner, support,
///   admin: until the goods are received; the system too from approved, when an approved
///   return expires unsent).
///
/// [`TransitionError::NotAllowed`] when the stage does not permit the action for anyone (it
/// lists what `actor` may do instead); [`TransitionError::Forbidden`] when the stage permits it
/// but not for this actor.
pub fn transition(from: RmaStage, action: RmaAction, actor: Actor) -> Result<RmaStage, TransitionError> {
    match target(from, action) {
        None => {
            Err(TransitionError::NotAllowed { stage: from, action, allowed: allowed_actions(from, actor) })
        }
        Some(_) if !may(from, action, actor) => Err(TransitionError::Forbidden),
        Some(to) => Ok(to),
    }
}

/// Every action `actor` may perform on a return in `from`, in [`RmaAction::ALL`] order.
pub fn allowed_actions(from: RmaStage, actor: Actor) -> Vec<RmaAction> {
    RmaAction::ALL.into_iter().filter(|&a| target(from, a).is_some() && may(from, a, actor)).collect()
}

// ---------------------------------------------------------------------------------------------
// Taxonomies
// ---------------------------------------------------------------------------------------------

/// Why the customer returns the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// It arrived damaged.
    DamagedInTransit,
    /// It does not work as it should.
    Defective,
    /// The shop sent something other than what was ordered.
    WrongItem,
    /// It differs from its description or pictures.
    NotAsDescribed,
    /// The customer changed their mind.
    NoLongerNeeded,
    /// The customer found it cheaper elsewhere.
    BetterPriceElsewhere,
    /// Anything else (explained in the free text).
    Other,
}

names!(ReturnReason, 7, "Every reason; the shop's faults first.", {
    DamagedInTransit => "damaged_in_transit",
    Defective => "defective",
    WrongItem => "wrong_item",
    NotAsDescribed => "not_as_described",
    NoLongerNeeded => "no_longer_needed",
    BetterPriceElsewhere => "better_price_elsewhere",
    Other => "other",
});

impl ReturnReason {
    /// Whether the reason puts the fault with the shop (or its carrier): damaged in transit,
    /// defective, wrong item, not as described. The others are the customer's choice
    /// (`other` counts as a choice until support learns more).
    pub fn is_shop_fault(self) -> bool {
        matches!(
            self,
            ReturnReason::DamagedInTransit
                | ReturnReason::Defective
                | ReturnReason::WrongItem
                | ReturnReason::NotAsDescribed
        )
    }
}

/// What the warehouse found in the parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// As new: it can be sold again.
    Resellable,
    /// Damaged: it cannot be sold as new.
    Damaged,
    /// Not the item of the order line.
    WrongItem,
    /// Not in the parcel.
    Missing,
}

names!(Condition, 4, "Every condition, best first.", {
    Resellable => "resellable",
    Damaged => "damaged",
    WrongItem => "wrong_item",
    Missing => "missing",
});

/// The condition a refund preview assumes before inspection: the goods come back as the
/// customer describes them, resellable.
pub const PREVIEW_CONDITION: Condition = Condition::Resellable;

/// What finance decides to do about a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Money back to the original payment (card and store credit, the way it was paid).
    Refund,
    /// A zero-price replacement order that takes stock.
    Replacement,
    /// A repair, then the goods shipped back.
    Repair,
    /// Nothing given; the goods are returned to the customer or disposed of.
    Reject,
    /// A store-credit grant.
    StoreCredit,
}

names!(Disposition, 5, "Every disposition.", {
    Refund => "refund",
    Replacement => "replacement",
    Repair => "repair",
    Reject => "reject",
    StoreCredit => "store_credit",
});

impl Disposition {
    /// Whether the returned units go back into stock: only resellable goods, and only when the
    /// shop keeps them (refund, replacement, store credit; a repaired or rejected item goes
    /// back to the customer or is disposed of).
    pub fn restocks(self, condition: Condition) -> bool {
        condition == Condition::Resellable
            && matches!(self, Disposition::Refund | Disposition::Replacement | Disposition::StoreCredit)
    }

    /// Whether the system completes the return as soon as the effect is recorded: refund,
    /// replacement and store credit. A repair or a rejection waits in `processing` until the
    /// goods have left the warehouse (shipped back or disposed of), and staff complete it.
    pub fn completed_by_system(self) -> bool {
        matches!(self, Disposition::Refund | Disposition::Replacement | Disposition::StoreCredit)
    }
}

/// How goods that the shop does not keep leave the warehouse, when a repair or a rejection
/// is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoodsOutcome {
    /// Repaired and shipped back to the customer (carrier and tracking recorded).
    ShippedBack,
    /// Sent back to the customer as they came (carrier and tracking recorded).
    ReturnedToCustomer,
    /// Disposed of (with the customer's agreement).
    Disposed,
}

names!(GoodsOutcome, 3, "Every outcome.", {
    ShippedBack => "shipped_back",
    ReturnedToCustomer => "returned_to_customer",
    Disposed => "disposed",
});

impl GoodsOutcome {
    /// Whether the outcome fits the disposition: a repair ends shipped back; a rejection ends
    /// returned to the customer or disposed of; the other dispositions complete on their own.
    pub fn fits(self, disposition: Disposition) -> bool {
        match disposition {
            Disposition::Repair => self == GoodsOutcome::ShippedBack,
            Disposition::Reject => {
                matches!(self, GoodsOutcome::ReturnedToCustomer | GoodsOutcome::Disposed)
            }
            Disposition::Refund | Disposition::Replacement | Disposition::StoreCredit => false,
        }
    }

    /// Whether the goods travel, so that a carrier and a tracking code are required.
    pub fn ships(self) -> bool {
        self != GoodsOutcome::Disposed
    }
}

/// The median of `sorted` (ascending): the middle value, or the lower of the two middle ones
/// for an even count (a time that really occurred, never an average of two); `None` when
/// empty.
pub fn median(sorted: &[i64]) -> Option<i64> {
    if sorted.is_empty() { None } else { sorted.get((sorted.len() - 1) / 2).copied() }
}

// ---------------------------------------------------------------------------------------------
// Request limits and texts
// ---------------------------------------------------------------------------------------------

/// Most photos one return may carry.
pub const MAX_PHOTOS: usize = 5;

/// Longest free text (the customer's explanation, staff notes) accepted.
pub const MAX_TEXT_CHARS: usize = 2000;

/// An optional free text (the customer's explanation, an inspection note, a rejection reason):
/// trimmed, `None` when blank, at most [`MAX_TEXT_CHARS`] characters, line breaks and tabs
/// allowed but no other control character. Errors name `field`.
pub fn free_text(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    bounded_text(field, raw, 1, MAX_TEXT_CHARS).map(Some)
}

// ---------------------------------------------------------------------------------------------
// Return windows
// ---------------------------------------------------------------------------------------------

/// The return window when nothing else is configured, in days after delivery.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;
/// The longest return window that may be configured, in days.
pub const MAX_WINDOW_DAYS: u32 = 365;

/// How long a return window lasts: `days` times 24 hours.
pub fn window(days: u32) -> Duration {
    Duration::from_secs(u64::from(days) * 86_400)
}

/// Return windows per product category, with a default for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnWindows {
    default_days: u32,
    per_category: BTreeMap<String, u32>,
}

impl Default for ReturnWindows {
    /// [`DEFAULT_WINDOW_DAYS`] for every category.
    fn default() -> Self {
        Self { default_days: DEFAULT_WINDOW_DAYS, per_category: BTreeMap::new() }
    }
}

fn window_days(days: u32) -> Result<u32, FieldError> {
    if days > MAX_WINDOW_DAYS {
        Err(FieldError::new("return_window_days", format!("must be at most {MAX_WINDOW_DAYS}")))
    } else {
        Ok(days)
    }
}

impl ReturnWindows {
    /// `default_days` (0..=[`MAX_WINDOW_DAYS`]) for every category.
    pub fn new(default_days: u32) -> Result<Self, FieldError> {
        Ok(Self { default_days: window_days(default_days)?, per_category: BTreeMap::new() })
    }

    /// The same windows with `days` (0..=[`MAX_WINDOW_DAYS`]) for `category` (a catalog
    /// category name, compared case-insensitively).
    pub fn with_category(mut self, category: &str, days: u32) -> Result<Self, FieldError> {
        let name = crate::catalog::category(category)?;
        self.per_category.insert(name, window_days(days)?);
        Ok(self)
    }

    /// The window in days for a product of `category` (case-insensitive).
    pub fn days_for(&self, category: &str) -> u32 {
        self.per_category.get(&category.trim().to_lowercase()).copied().unwrap_or(self.default_days)
    }
}

// ---------------------------------------------------------------------------------------------
// Eligibility
// ---------------------------------------------------------------------------------------------

/// One order line a customer asks to return, with what the store knows about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRequest {
    /// The order line.
    pub line: OrderLineId,
    /// Units the customer wants to return.
    pub requested: u32,
    /// Units bought on the line.
    pub bought: u32,
    /// Units of the line already in other returns that hold quantity
    /// ([`RmaStage::holds_quantity`]: open or completed).
    pub already_claimed: u32,
    /// Whether the product may be returned at all.
    pub returnable: bool,
    /// The return window for the product's category, in days ([`ReturnWindows::days_for`]).
    pub window_days: u32,
}

/// What the eligibility check needs to know about a return request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EligibilityInput<'a> {
    /// Whether the caller placed the order.
    pub caller_is_owner: bool,
    /// Time since the order was delivered; `None` when it has not been delivered.
    pub since_delivery: Option<Duration>,
    /// The lines asked for, in the order the customer listed them.
    pub lines: &'a [LineRequest],
}

/// One reason a return request is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ineligible {
    /// The order is not the caller's (reported alone: nothing else about the order is told).
    NotOwner,
    /// No line was asked for.
    NoLines,
    /// The order has not been delivered yet.
    NotDelivered,
    /// The same line was listed twice.
    DuplicateLine {
        /// The line.
        line: OrderLineId,
    },
    /// A line was asked for with no units.
    ZeroQuantity {
        /// The line.
        line: OrderLineId,
    },
    /// More units asked for than bought minus those already returned or in another return.
    TooMany {
        /// The line.
        line: OrderLineId,
        /// Units asked for.
        requested: u32,
        /// Units that may still be returned.
        available: u32,
    },
    /// The product cannot be returned.
    NotReturnable {
        /// The line.
        line: OrderLineId,
    },
    /// The return window of the line's category has closed.
    WindowClosed {
        /// The line.
        line: OrderLineId,
        /// The window, in days after delivery.
        window_days: u32,
        /// Whole days since delivery (rounded down).
        days_since_delivery: u64,
    },
}

impl Ineligible {
    /// The line the reason is about; `None` for reasons about the whole request.
    pub fn line(&self) -> Option<OrderLineId> {
        match *self {
            Ineligible::NotOwner | Ineligible::NoLines | Ineligible::NotDelivered => None,
            Ineligible::DuplicateLine { line }
            | Ineligible::ZeroQuantity { line }
            | Ineligible::TooMany { line, .. }
            | Ineligible::NotReturnable { line }
            | Ineligible::WindowClosed { line, .. } => Some(line),
        }
    }

    /// The reason in plain words, for the customer.
    pub fn message(&self) -> String {
        match *self {
            Ineligible::NotOwner => "This order is not yours.".to_owned(),
            Ineligible::NoLines => "Choose at least one item to return.".to_owned(),
            Ineligible::NotDelivered => "The order has not been delivered yet.".to_owned(),
            Ineligible::DuplicateLine { .. } => "This item is listed more than once.".to_owned(),
            Ineligible::ZeroQuantity { .. } => "Choose at least one unit to return.".to_owned(),
            Ineligible::TooMany { requested, available: 0, .. } => {
                format!("You asked to return {requested}, but every unit is already returned or in a return.")
            }
            Ineligible::TooMany { requested, available, .. } => {
                format!("You asked to return {requested}, but only {available} may still be returned.")
            }
            Ineligible::NotReturnable { .. } => "This product cannot be returned.".to_owned(),
            Ineligible::WindowClosed { window_days, days_since_delivery, .. } => format!(
                "The {window_days}-day return window has closed (delivered {days_since_delivery} days ago)."
            ),
        }
    }
}

/// Checks a return request and reports every reason it is not eligible, not just the first.
///
/// - Not the caller's order: [`Ineligible::NotOwner`] alone, so that nothing is told about
///   someone else's order.
/// - Then, about the whole request: no lines ([`Ineligible::NoLines`]), not delivered
///   ([`Ineligible::NotDelivered`]).
/// - Then each line, in the order given: a line listed again ([`Ineligible::DuplicateLine`],
///   and nothing more about that repeat); no units ([`Ineligible::ZeroQuantity`]) or more
///   than `bought - already_claimed` ([`Ineligible::TooMany`]); a product that is not
///   returnable ([`Ineligible::NotReturnable`]); outside the window
///   ([`Ineligible::WindowClosed`]), when delivered and more than [`window`]`(window_days)`
///   has passed since delivery (exactly at the end of the window is still inside).
pub fn eligibility(input: &EligibilityInput<'_>) -> Result<(), Vec<Ineligible>> {
    if !input.caller_is_owner {
        return Err(vec![Ineligible::NotOwner]);
    }
    let mut out = Vec::new();
    if input.lines.is_empty() {
        out.push(Ineligible::NoLines);
    }
    if input.since_delivery.is_none() {
        out.push(Ineligible::NotDelivered);
    }
    for (i, l) in input.lines.iter().enumerate() {
        let line = l.line;
        if input.lines[..i].iter().any(|earlier| earlier.line == line) {
            out.push(Ineligible::DuplicateLine { line });
            continue;
        }
        let available = l.bought.saturating_sub(l.already_claimed);
        if l.requested == 0 {
            out.push(Ineligible::ZeroQuantity { line });
        } else if l.requested > available {
            out.push(Ineligible::TooMany { line, requested: l.requested, available });
        }
        if !l.returnable {
            out.push(Ineligible::NotReturnable { line });
        }
        if let Some(since) = input.since_delivery
            && since > window(l.window_days)
        {
            let days_since_delivery = since.as_secs() / 86_400;
            out.push(Ineligible::WindowClosed { line, window_days: l.window_days, days_since_delivery });
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

// ---------------------------------------------------------------------------------------------
// Restocking fee
// ---------------------------------------------------------------------------------------------

/// A fee of the whole amount, in basis points (100 bps = 1 %).
pub const FULL_FEE_BPS: u32 = 10_000;
/// Default fee for a resellable item returned by choice: 15 %.
pub const CHOICE_RESELLABLE_BPS: u32 = 1_500;
/// Default fee for an item returned by choice and damaged (no longer sellable as new): 50 %.
pub const CHOICE_DAMAGED_BPS: u32 = 5_000;

/// The restocking fee, in basis points of the amount, for every (reason, condition) pair.
///
/// The defaults ([`FeePolicy::default_bps`]):
///
/// | reason \ condition                                   | resellable | damaged | wrong item | missing |
/// |------------------------------------------------------|-----------:|--------:|-----------:|--------:|
/// | wrong item                                           |        0 % |     0 % |        0 % |   100 % |
/// | damaged in transit, defective, not as described      |        0 % |     0 % |      100 % |   100 % |
/// | no longer needed, better price elsewhere, other      |       15 % |    50 % |      100 % |   100 % |
///
/// The shop's faults cost the customer nothing; a change of mind costs 15 %, or 50 % when the
/// item comes back damaged; goods that did not come back (missing) or came back as something
/// else than was sold (wrong item) are not refunded at all, except when the reason was that
/// the shop sent the wrong item: then the "wrong" item is exactly the one expected back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePolicy {
    bps: [[u32; Condition::ALL.len()]; ReturnReason::ALL.len()],
}

impl Default for FeePolicy {
    /// The defaults of [`FeePolicy::default_bps`].
    fn default() -> Self {
        let mut bps = [[0; Condition::ALL.len()]; ReturnReason::ALL.len()];
        for r in ReturnReason::ALL {
            for c in Condition::ALL {
                bps[r as usize][c as usize] = Self::default_bps(r, c);
            }
        }
        Self { bps }
    }
}

impl FeePolicy {
    /// No fee for anything (free returns).
    pub fn none() -> Self {
        Self { bps: [[0; Condition::ALL.len()]; ReturnReason::ALL.len()] }
    }

    /// The default fee for `reason` and `condition`, in basis points (the table on
    /// [`FeePolicy`]).
    pub fn default_bps(reason: ReturnReason, condition: Condition) -> u32 {
        match (condition, reason) {
            (Condition::Missing, _) => FULL_FEE_BPS,
            (Condition::WrongItem, ReturnReason::WrongItem) => 0,
            (Condition::WrongItem, _) => FULL_FEE_BPS,
            (Condition::Resellable | Condition::Damaged, r) if r.is_shop_fault() => 0,
            (Condition::Resellable, _) => CHOICE_RESELLABLE_BPS,
            (Condition::Damaged, _) => CHOICE_DAMAGED_BPS,
        }
    }

    /// The fee for `reason` and `condition`, in basis points (0..=[`FULL_FEE_BPS`]).
    pub fn bps(&self, reason: ReturnReason, condition: Condition) -> u32 {
        self.bps[reason as usize][condition as usize]
    }

    /// The same policy with `bps` (0..=[`FULL_FEE_BPS`]) for `reason` and `condition`; the error
    /// names `restocking_fee_bps`.
    pub fn with(mut self, reason: ReturnReason, condition: Condition, bps: u32) -> Result<Self, FieldError> {
        if bps > FULL_FEE_BPS {
            return Err(FieldError::new("restocking_fee_bps", format!("must be at most {FULL_FEE_BPS}")));
        }
        self.bps[reason as usize][condition as usize] = bps;
        Ok(self)
    }
}

/// `bps` basis points of `amount`, rounded half up to the minor unit; 0 for an amount that is
/// not positive; `bps` above [`FULL_FEE_BPS`] counts as [`FULL_FEE_BPS`]. Computed in `i128`:
/// never overflows, never exceeds `amount`.
fn fee_at(bps: u32, amount: Money) -> Money {
    let a = amount.cents();
    if a <= 0 {
        return Money(0);
    }
    let bps = i128::from(bps.min(FULL_FEE_BPS));
    let full = i128::from(FULL_FEE_BPS);
    let f = (i128::from(a) * bps + full / 2) / full;
    // 0 <= f <= a, so it always fits.
    Money(i64::try_from(f).unwrap_or(a))
}

/// The restocking fee on `amount` for a return for `reason` whose goods arrived in
/// `condition`: [`FeePolicy::bps`] basis points of the amount.
///
/// The one rounding rule: the exact fee `amount * bps / 10_000` is rounded half up to the minor
/// unit (0.5 cent becomes 1 cent), in integer arithmetic (`i128`, never floats). The fee is
/// never negative and never more than `amount`; a non-positive amount has no fee.
pub fn fee(policy: &FeePolicy, reason: ReturnReason, condition: Condition, amount: Money) -> Money {
    fee_at(policy.bps(reason, condition), amount)
}

// ---------------------------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------------------------

/// Why a refund amount cannot be computed or paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// A negative amount or price.
    #[error("the amount must not be negative")]
    Negative,
    /// A refund of nothing.
    #[error("the amount must be at least 1 cent")]
    Zero,
    /// More than is left to refund.
    #[error("cannot refund {} cents: only {} cents are left to refund", .requested.0, .refundable.0)]
    ExceedsRefundable {
        /// The amount asked for.
        requested: Money,
        /// What is left to refund.
        refundable: Money,
    },
    /// The payment record says more was refunded than paid, or holds a negative amount.
    #[error("the payment record is inconsistent: more refunded than paid")]
    Inconsistent,
    /// The amounts are too large to add up.
    #[error("the amount is too large")]
    Overflow,
}

/// What a return would refund: the units' price, the restocking fee, and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundEstimate {
    /// What was paid for the units: the sum of unit price times quantity.
    pub gross: Money,
    /// The fee rate applied, in basis points.
    pub fee_bps: u32,
    /// The restocking fee ([`fee`] on `gross`).
    pub fee: Money,
    /// `gross - fee`: the most this return may refund.
    pub net: Money,
}

/// The refund estimate for `lines` (unit price paid, units returned) returned for `reason` and
/// found in `condition` ([`PREVIEW_CONDITION`] before inspection).
///
/// The fee is taken once, on the gross total (so one rounding per return); when the lines of
/// one return end up in different conditions, estimate each group and add them up.
/// [`RefundError::Negative`] for a negative unit price, [`RefundError::Overflow`] when the total
/// does not fit in [`Money`].
pub fn refund_estimate(
    lines: &[(Money, u32)],
    policy: &FeePolicy,
    reason: ReturnReason,
    condition: Condition,
) -> Result<RefundEstimate, RefundError> {
    let mut gross: i128 = 0;
    for &(unit, qty) in lines {
        if unit.cents() < 0 {
            return Err(RefundError::Negative);
        }
        gross += i128::from(unit.cents()) * i128::from(qty);
    }
    let gross = Money(i64::try_from(gross).map_err(|_| RefundError::Overflow)?);
    let fee_bps = policy.bps(reason, condition);
    let fee = fee_at(fee_bps, gross);
    Ok(RefundEstimate { gross, fee_bps, fee, net: Money(gross.cents() - fee.cents()) })
}

/// Checks a refund amount finance asks for against `cap` (what is left to refund for the
/// return: its estimate's net minus what it already refunded): at least 1 cent and at most
/// `cap`.
pub fn refund_amount(requested: Money, cap: Money) -> Result<Money, RefundError> {
    match requested.cents() {
        c if c < 0 => Err(RefundError::Negative),
        0 => Err(RefundError::Zero),
        _ if requested > cap => {
            Err(RefundError::ExceedsRefundable { requested, refundable: cap.max(Money(0)) })
        }
        _ => Ok(requested),
    }
}

/// Splits a refund of `amount` across card and store credit, the way the order was paid.
///
/// `paid` is how the order was paid; `refunded` what was already refunded to each. The rule is
/// proportional and cumulative: after this refund, the card's share of everything refunded so
/// far is `refunded_total * paid.card / paid_total`, rounded half up to the minor unit (ties
/// go to the card); this refund's card part is that share minus what the card already got,
/// kept within what is left on the card and on the credit (so an earlier refund made by
/// another rule is evened out, never overdrawn); the credit part is the rest. Consequences:
/// card + credit == amount; neither part exceeds what is left on its side; rounding never
/// accumulates over partial refunds; a refund of everything that is left gives back exactly
/// what is left on each side.
///
/// Refunding in proportion (rather than card first) keeps store credit, which may have been a
/// goodwill grant, from being turned into cash by buying and returning.
///
/// Errors: [`RefundError::Negative`] for a negative amount, [`RefundError::Inconsistent`] when
/// a paid or refunded part is negative or more was refunded than paid on a side,
/// [`RefundError::ExceedsRefundable`] when `amount` is more than is left. A zero amount splits
/// into zeros.
pub fn split_refund(amount: Money, paid: Tender, refunded: Tender) -> Result<Tender, RefundError> {
    if amount.cents() < 0 {
        return Err(RefundError::Negative);
    }
    let consistent = |p: Money, r: Money| p.cents() >= 0 && r.cents() >= 0 && r <= p;
    if !consistent(paid.card, refunded.card) || !consistent(paid.credit, refunded.credit) {
        return Err(RefundError::Inconsistent);
    }
    let wide = |m: Money| i128::from(m.cents());
    let left_card = wide(paid.card) - wide(refunded.card);
    let left_credit = wide(paid.credit) - wide(refunded.credit);
    let left = left_card + left_credit;
    let a = wide(amount);
    if a > left {
        let refundable = Money(i64::try_from(left).unwrap_or(i64::MAX));
        return Err(RefundError::ExceedsRefundable { requested: amount, refundable });
    }
    if a == 0 {
        return Ok(Tender { card: Money(0), credit: Money(0) });
    }
    // Here 0 < a <= left <= total: every product below stays under 2^127.
    let total = wide(paid.card) + wide(paid.credit);
    let after = wide(refunded.card) + wide(refunded.credit) + a;
    let share = after.checked_mul(wide(paid.card)).ok_or(RefundError::Overflow)?;
    let card_target = (share + total / 2) / total;
    // Binding in practice: 0 (the card got more than its share before) and `a` (the credit
    // did). Since `after <= total`, the target never leaves the credit short nor passes what
    // is left on the card; those two bounds are kept as guards (lo <= hi as a <= left).
    let lo = (a - left_credit).max(0);
    let hi = a.min(left_card);
    let card = (card_target - wide(refunded.card)).clamp(lo, hi);
    let credit = a - card;
    // 0 <= card <= a and 0 <= credit <= a, and a fits in i64.
    let to_money = |v: i128| i64::try_from(v).map(Money).map_err(|_| RefundError::Overflow);
    Ok(Tender { card: to_money(card)?, credit: to_money(credit)? })
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;
    use RmaAction as A;
    use RmaStage as S;

    const SYS: Actor = Actor::System;
    const OWNER: Actor = Actor::Owner;
    const CUSTOMER: Actor = Actor::Staff(Role::Customer);
    const SUPPORT: Actor = Actor::Staff(Role::Support);
    const WAREHOUSE: Actor = Actor::Staff(Role::Warehouse);
    const FINANCE: Actor = Actor::Staff(Role::Finance);
    const ADMIN: Actor = Actor::Staff(Role::Admin);

    /// The whole table, written out: (from, action, who may, to). Anything not listed is refused.
    fn expected() -> Vec<(RmaStage, RmaAction, Vec<Actor>, RmaStage)> {
        let goods = vec![WAREHOUSE, ADMIN];
        let money = vec![FINANCE, ADMIN, SYS];
        vec![
            (S::Submitted, A::Validate, vec![SYS], S::Validating),
            (S::Submitted, A::Reject, vec![SYS], S::Rejected),
            (S::Submitted, A::Cancel, vec![OWNER, SUPPORT, ADMIN], S::Cancelled),
            (S::Validating, A::Approve, vec![SUPPORT, ADMIN], S::Approved),
            (S::Validating, A::Reject, vec![SUPPORT, ADMIN], S::Rejected),
            (S::Validating, A::Cancel, vec![OWNER, SUPPORT, ADMIN], S::Cancelled),
            (S::Approved, A::Ship, vec![OWNER, SUPPORT, ADMIN], S::Shipping),
            (S::Approved, A::Receive, goods.clone(), S::Received),
            (S::Approved, A::Cancel, vec![OWNER, SUPPORT, ADMIN, SYS], S::Cancelled),
            (S::Shipping, A::Receive, goods.clone(), S::Received),
            (S::Shipping, A::Cancel, vec![OWNER, SUPPORT, ADMIN], S::Cancelled),
            (S::Received, A::StartInspection, goods.clone(), S::Inspecting),
            (S::Inspecting, A::Inspect, goods, S::Inspected),
            (S::Inspected, A::Decide, vec![FINANCE, ADMIN], S::Disposition),
            (S::Disposition, A::Process, money.clone(), S::Processing),
            (S::Processing, A::Process, money, S::Processing),
            (S::Processing, A::Complete, vec![SYS, WAREHOUSE, FINANCE, ADMIN], S::Completed),
        ]
    }

    fn all_actors() -> Vec<Actor> {
        let mut v = vec![OWNER, SYS];
        v.extend(Role::ALL.into_iter().map(Actor::Staff));
        v
    }

    #[test]
    fn every_stage_action_actor_triple_matches_the_table() {
        let table = expected();
        let mut allowed_count = 0;
        let mut triples = 0;
        for from in S::ALL {
            for actor in all_actors() {
                let may_do: Vec<RmaAction> = A::ALL
                    .into_iter()
                    .filter(|&a| {
                        table.iter().any(|(f, act, who, _)| *f == from && *act == a && who.contains(&actor))
                    })
                    .collect();
                assert_eq!(allowed_actions(from, actor), may_do, "{from} {actor:?}");
                for action in A::ALL {
                    triples += 1;
                    let row = table.iter().find(|(f, a, _, _)| *f == from && *a == action);
                    let want = match row {
                        Some((_, _, who, to)) if who.contains(&actor) => Ok(*to),
                        Some(_) => Err(TransitionError::Forbidden),
                        None => {
                            Err(TransitionError::NotAllowed { stage: from, action, allowed: may_do.clone() })
                        }
                    };
                    if want.is_ok() {
                        allowed_count += 1;
                    }
                    assert_eq!(transition(from, action, actor), want, "{from} {action} {actor:?}");
                }
            }
        }
        // 12 stages x 11 actions x (owner, system, 5 roles).
        assert_eq!(triples, 12 * 11 * 7);
        // Guards the table itself against an accidental edit:
        // submitted 1+1+3, validating 2+2+3, approved 3+2+4, shipping 2+3, received 2,
        // inspecting 2, inspected 2, disposition 3, processing 3+4.
        assert_eq!(allowed_count, 42);
    }

    #[test]
    fn terminal_stages_allow_nothing_and_customers_never_act_as_staff() {
        for actor in all_actors() {
            for s in [S::Completed, S::Rejected, S::Cancelled] {
                assert!(s.is_terminal());
                assert!(allowed_actions(s, actor).is_empty(), "{s} {actor:?}");
            }
        }
        for from in S::ALL {
            assert!(allowed_actions(from, CUSTOMER).is_empty(), "{from}");
            assert_eq!(from.is_terminal(), matches!(from, S::Completed | S::Rejected | S::Cancelled));
        }
    }

    #[test]
    fn an_admin_may_do_exactly_what_some_staff_team_may() {
        for from in S::ALL {
            let mut union: Vec<RmaAction> =
                [SUPPORT, WAREHOUSE, FINANCE].into_iter().flat_map(|a| allowed_actions(from, a)).collect();
            union.sort_by_key(|a| *a as usize);
            union.dedup();
            assert_eq!(allowed_actions(from, ADMIN), union, "{from}");
        }
    }

    #[test]
    fn the_owner_may_cancel_until_the_goods_are_received() {
        for from in [S::Submitted, S::Validating, S::Approved, S::Shipping] {
            assert_eq!(transition(from, A::Cancel, OWNER), Ok(S::Cancelled), "{from}");
        }
        for from in [S::Received, S::Inspecting, S::Inspected, S::Disposition, S::Processing] {
            let err = transition(from, A::Cancel, OWNER).unwrap_err();
            assert_eq!(err, TransitionError::NotAllowed { stage: from, action: A::Cancel, allowed: vec![] });
        }
        let err = transition(S::Received, A::Cancel, WAREHOUSE).unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                stage: S::Received,
                action: A::Cancel,
                allowed: vec![A::StartInspection]
            }
        );
        assert_eq!(err.to_string(), "cannot cancel a return that is received");
        assert_eq!(allowed_actions(S::Approved, OWNER), vec![A::Ship, A::Cancel]);
    }

    #[test]
    fn only_the_system_validates_and_its_rejection_only_precedes_support() {
        assert_eq!(transition(S::Submitted, A::Validate, SUPPORT), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Submitted, A::Validate, ADMIN), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Submitted, A::Reject, SYS), Ok(S::Rejected));
        assert_eq!(transition(S::Submitted, A::Reject, SUPPORT), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Validating, A::Reject, SYS), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Validating, A::Approve, OWNER), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Validating, A::Approve, FINANCE), Err(TransitionError::Forbidden));
        assert_eq!(transition(S::Processing, A::Process, FINANCE), Ok(S::Processing));
        assert_eq!(transition(S::Inspected, A::Decide, WAREHOUSE), Err(TransitionError::Forbidden));
    }

    #[test]
    fn the_happy_path_walks_every_team() {
        let steps = [
            (A::Validate, SYS, S::Validating),
            (A::Approve, SUPPORT, S::Approved),
            (A::Ship, OWNER, S::Shipping),
            (A::Receive, WAREHOUSE, S::Received),
            (A::StartInspection, WAREHOUSE, S::Inspecting),
            (A::Inspect, WAREHOUSE, S::Inspected),
            (A::Decide, FINANCE, S::Disposition),
            (A::Process, FINANCE, S::Processing),
            (A::Complete, SYS, S::Completed),
        ];
        let mut at = S::Submitted;
        for (action, actor, to) in steps {
            at = transition(at, action, actor).unwrap();
            assert_eq!(at, to);
        }
    }

    #[test]
    fn each_queue_belongs_to_a_team_that_can_move_it() {
        for s in S::ALL {
            match s.queue() {
                Some(role) => {
                    let acts = allowed_actions(s, Actor::Staff(role));
                    assert!(acts.iter().any(|&a| a != A::Cancel), "{s} {role}");
                }
                None => assert!(
                    matches!(s, S::Submitted | S::Approved) || s.is_terminal(),
                    "{s} has work but no queue"
                ),
            }
        }
        assert_eq!(S::Validating.queue(), Some(Role::Support));
        assert_eq!(S::Shipping.queue(), Some(Role::Warehouse));
        assert_eq!(S::Processing.queue(), Some(Role::Finance));
    }

    #[test]
    fn rejected_and_cancelled_returns_free_their_units() {
        for s in S::ALL {
            assert_eq!(s.holds_quantity(), !matches!(s, S::Rejected | S::Cancelled), "{s}");
        }
    }

    fn names_agree_with_serde<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + for<'de> Deserialize<'de>,
    {
        for &x in all {
            assert_eq!(parse(as_str(x)), Some(x));
            let de: StrDeserializer<'_, DeError> = as_str(x).into_deserializer();
            assert_eq!(T::deserialize(de), Ok(x), "{x:?}");
            let upper = as_str(x).to_uppercase();
            assert_eq!(parse(&upper), None, "{upper}");
        }
        let mut names: Vec<&str> = all.iter().map(|&x| as_str(x)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "names must be distinct");
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        names_agree_with_serde(&S::ALL, S::as_str, S::parse);
        names_agree_with_serde(&A::ALL, A::as_str, A::parse);
        names_agree_with_serde(&ReturnReason::ALL, ReturnReason::as_str, ReturnReason::parse);
        names_agree_with_serde(&Condition::ALL, Condition::as_str, Condition::parse);
        names_agree_with_serde(&Disposition::ALL, Disposition::as_str, Disposition::parse);
        assert_eq!(A::StartInspection.as_str(), "start_inspection");
        assert_eq!(Disposition::StoreCredit.to_string(), "store_credit");
        assert_eq!(ReturnReason::parse("damaged"), None);
        // The fee table is indexed by declaration order: ALL must follow it.
        for (i, r) in ReturnReason::ALL.into_iter().enumerate() {
            assert_eq!(r as usize, i);
        }
        for (i, c) in Condition::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i);
        }
        for (i, a) in A::ALL.into_iter().enumerate() {
            assert_eq!(a as usize, i);
        }
    }

    #[test]
    fn only_kept_resellable_goods_are_restocked() {
        for d in Disposition::ALL {
            for c in Condition::ALL {
                let want = c == Condition::Resellable
                    && matches!(d, Disposition::Refund | Disposition::Replacement | Disposition::StoreCredit);
                assert_eq!(d.restocks(c), want, "{d} {c}");
            }
        }
        assert!(!Disposition::Repair.completed_by_system());
        assert!(!Disposition::Reject.completed_by_system());
        assert!(Disposition::Refund.completed_by_system());
    }

    #[test]
    fn free_text_is_optional_trimmed_and_capped() {
        assert_eq!(free_text("details", "  "), Ok(None));
        assert_eq!(free_text("details", " broke\non day 2 "), Ok(Some("broke\non day 2".to_owned())));
        assert!(free_text("details", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert_eq!(free_text("details", &"é".repeat(MAX_TEXT_CHARS + 1)).unwrap_err().field, "details");
        assert_eq!(free_text("note", "a\u{7}b").unwrap_err().field, "note");
    }

    // ----- return windows and eligibility -----

    #[test]
    fn windows_are_per_category_with_a_default() {
        let w = ReturnWindows::default().with_category("Electronics", 14).unwrap();
        assert_eq!(w.days_for("electronics"), 14);
        assert_eq!(w.days_for(" ELECTRONICS "), 14);
        assert_eq!(w.days_for("kitchen"), DEFAULT_WINDOW_DAYS);
        assert_eq!(ReturnWindows::new(60).unwrap().days_for("kitchen"), 60);
        assert_eq!(ReturnWindows::new(MAX_WINDOW_DAYS + 1).unwrap_err().field, "return_window_days");
        assert_eq!(w.clone().with_category("", 10).unwrap_err().field, "category");
        assert_eq!(w.with_category("toys", 366).unwrap_err().field, "return_window_days");
        assert_eq!(window(30), Duration::from_secs(30 * 24 * 3600));
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn line(id: i64) -> LineRequest {
        LineRequest {
            line: OrderLineId(id),
            requested: 1,
            bought: 2,
            already_claimed: 0,
            returnable: true,
            window_days: 30,
        }
    }

    fn check(owner: bool, since: Option<Duration>, lines: &[LineRequest]) -> Result<(), Vec<Ineligible>> {
        eligibility(&EligibilityInput { caller_is_owner: owner, since_delivery: since, lines })
    }

    #[test]
    fn an_eligible_request_passes() {
        let mut all = line(1);
        all.requested = 2;
        assert_eq!(check(true, Some(DAY * 3), &[all, line(2)]), Ok(()));
        // The last moment of the window is inside it.
        assert_eq!(check(true, Some(window(30)), &[line(1)]), Ok(()));
        assert_eq!(check(true, Some(Duration::ZERO), &[line(1)]), Ok(()));
    }

    #[test]
    fn each_reason_is_reported_naming_its_line() {
        let l = OrderLineId(7);
        let one = |f: fn(&mut LineRequest)| {
            let mut r = line(7);
            f(&mut r);
            check(true, Some(DAY), &[r]).unwrap_err()
        };
        assert_eq!(one(|r| r.requested = 0), vec![Ineligible::ZeroQuantity { line: l }]);
        assert_eq!(
            one(|r| r.requested = 3),
            vec![Ineligible::TooMany { line: l, requested: 3, available: 2 }]
        );
        assert_eq!(
            one(|r| {
                r.requested = 2;
                r.already_claimed = 1;
            }),
            vec![Ineligible::TooMany { line: l, requested: 2, available: 1 }]
        );
        // More claimed than bought (bad data) leaves nothing, never wraps.
        assert_eq!(
            one(|r| r.already_claimed = 5),
            vec![Ineligible::TooMany { line: l, requested: 1, available: 0 }]
        );
        assert_eq!(one(|r| r.returnable = false), vec![Ineligible::NotReturnable { line: l }]);
        assert_eq!(
            check(true, Some(window(30) + Duration::from_secs(1)), &[line(7)]).unwrap_err(),
            vec![Ineligible::WindowClosed { line: l, window_days: 30, days_since_delivery: 30 }]
        );
        assert_eq!(
            check(true, Some(DAY * 41 + Duration::from_secs(5)), &[line(7)]).unwrap_err(),
            vec![Ineligible::WindowClosed { line: l, window_days: 30, days_since_delivery: 41 }]
        );
        // A category with a zero-day window refuses anything after the moment of delivery.
        assert_eq!(
            one(|r| r.window_days = 0),
            vec![Ineligible::WindowClosed { line: l, window_days: 0, days_since_delivery: 1 }]
        );
        assert_eq!(check(true, None, &[line(7)]).unwrap_err(), vec![Ineligible::NotDelivered]);
        assert_eq!(check(true, Some(DAY), &[]).unwrap_err(), vec![Ineligible::NoLines]);
        assert_eq!(
            check(true, Some(DAY), &[line(7), line(8), line(7)]).unwrap_err(),
            vec![Ineligible::DuplicateLine { line: l }]
        );
        for e in [Ineligible::ZeroQuantity { line: l }, Ineligible::NotReturnable { line: l }] {
            assert_eq!(e.line(), Some(l));
        }
        assert_eq!(Ineligible::NotDelivered.line(), None);
    }

    #[test]
    fn every_reason_is_reported_not_just_the_first() {
        let mut a = line(1);
        a.requested = 0;
        a.returnable = false;
        a.window_days = 10;
        let mut b = line(2);
        b.requested = 9;
        let c = line(3);
        // A repeat is reported as a repeat only, whatever else is wrong with it.
        let mut dup = line(1);
        dup.requested = 0;
        let got = check(true, Some(DAY * 20), &[a, b, c, dup]).unwrap_err();
        assert_eq!(
            got,
            vec![
                Ineligible::ZeroQuantity { line: OrderLineId(1) },
                Ineligible::NotReturnable { line: OrderLineId(1) },
                Ineligible::WindowClosed { line: OrderLineId(1), window_days: 10, days_since_delivery: 20 },
                Ineligible::TooMany { line: OrderLineId(2), requested: 9, available: 2 },
                Ineligible::DuplicateLine { line: OrderLineId(1) },
            ]
        );
        // Not delivered: no window can be judged, the other reasons still are.
        let got = check(true, None, &[a]).unwrap_err();
        assert_eq!(
            got,
            vec![
                Ineligible::NotDelivered,
                Ineligible::ZeroQuantity { line: OrderLineId(1) },
                Ineligible::NotReturnable { line: OrderLineId(1) },
            ]
        );
        assert_eq!(check(true, None, &[]).unwrap_err(), vec![Ineligible::NoLines, Ineligible::NotDelivered]);
    }

    #[test]
    fn someone_elses_order_tells_nothing_more() {
        let mut a = line(1);
        a.requested = 0;
        a.returnable = false;
        assert_eq!(check(false, None, &[a]).unwrap_err(), vec![Ineligible::NotOwner]);
        assert_eq!(check(false, Some(DAY), &[line(1)]).unwrap_err(), vec![Ineligible::NotOwner]);
    }

    #[test]
    fn reasons_have_words_for_the_customer() {
        let l = OrderLineId(1);
        assert_eq!(
            Ineligible::TooMany { line: l, requested: 3, available: 1 }.message(),
            "You asked to return 3, but only 1 may still be returned."
        );
        assert_eq!(
            Ineligible::WindowClosed { line: l, window_days: 30, days_since_delivery: 41 }.message(),
            "The 30-day return window has closed (delivered 41 days ago)."
        );
        assert!(Ineligible::TooMany { line: l, requested: 1, available: 0 }.message().contains("every unit"));
    }

    // ----- fees -----

    #[test]
    fn default_fees_follow_the_documented_table() {
        let p = FeePolicy::default();
        use Condition as C;
        use ReturnReason as R;
        let rows: [(R, [u32; 4]); 7] = [
            (R::DamagedInTransit, [0, 0, 10_000, 10_000]),
            (R::Defective, [0, 0, 10_000, 10_000]),
            (R::WrongItem, [0, 0, 0, 10_000]),
            (R::NotAsDescribed, [0, 0, 10_000, 10_000]),
            (R::NoLongerNeeded, [1_500, 5_000, 10_000, 10_000]),
            (R::BetterPriceElsewhere, [1_500, 5_000, 10_000, 10_000]),
            (R::Other, [1_500, 5_000, 10_000, 10_000]),
        ];
        for (r, bps) in rows {
            for (c, want) in C::ALL.into_iter().zip(bps) {
                assert_eq!(p.bps(r, c), want, "{r} {c}");
                assert_eq!(FeePolicy::default_bps(r, c), want, "{r} {c}");
            }
        }
        for r in R::ALL {
            for c in C::ALL {
                assert_eq!(FeePolicy::none().bps(r, c), 0);
            }
        }
    }

    #[test]
    fn a_policy_is_configurable_per_pair_and_bounded() {
        let p =
            FeePolicy::default().with(ReturnReason::NoLongerNeeded, Condition::Resellable, 1_000).unwrap();
        assert_eq!(p.bps(ReturnReason::NoLongerNeeded, Condition::Resellable), 1_000);
        assert_eq!(p.bps(ReturnReason::BetterPriceElsewhere, Condition::Resellable), 1_500);
        assert_eq!(p.bps(ReturnReason::NoLongerNeeded, Condition::Damaged), 5_000);
        assert!(p.clone().with(ReturnReason::Other, Condition::Missing, FULL_FEE_BPS).is_ok());
        assert_eq!(
            p.with(ReturnReason::Other, Condition::Missing, FULL_FEE_BPS + 1).unwrap_err().field,
            "restocking_fee_bps"
        );
    }

    fn at(bps: u32, cents: i64) -> i64 {
        let p = FeePolicy::none().with(ReturnReason::Other, Condition::Damaged, bps).unwrap();
        fee(&p, ReturnReason::Other, Condition::Damaged, Money(cents)).cents()
    }

    #[test]
    fn fees_round_half_up_to_the_cent() {
        assert_eq!(at(1_500, 1), 0); // 0.15 cent
        assert_eq!(at(5_000, 1), 1); // 0.5 cent: half up
        assert_eq!(at(4_999, 1), 0); // 0.4999 cent
        assert_eq!(at(1_500, 3), 0); // 0.45 cent
        assert_eq!(at(1_500, 4), 1); // 0.6 cent
        assert_eq!(at(1_500, 10), 2); // 1.5 cents: half up
        assert_eq!(at(1_500, 9), 1); // 1.35 cents
        assert_eq!(at(1_500, 1_999), 300); // 299.85 cents
        assert_eq!(at(1_500, 1_990), 299); // 298.5 cents: half up
        assert_eq!(at(1, 5_000), 1); // 0.5 cent at 0.01 %
        assert_eq!(at(1, 4_999), 0);
        assert_eq!(at(10_000, 1), 1);
        assert_eq!(at(0, 1_000_000), 0);
        assert_eq!(at(1_500, 0), 0);
        assert_eq!(at(1_500, -100), 0);
        assert_eq!(at(10_000, i64::MIN), 0);
    }

    #[test]
    fn huge_amounts_neither_overflow_nor_exceed_the_amount() {
        assert_eq!(at(10_000, i64::MAX), i64::MAX);
        // i64::MAX is odd: half of it ends in .5 and rounds up.
        assert_eq!(at(5_000, i64::MAX), i64::MAX / 2 + 1);
        let exact = (i128::from(i64::MAX) * 1_500 + 5_000) / 10_000;
        assert_eq!(i128::from(at(1_500, i64::MAX)), exact);
        for bps in [0, 1, 1_499, 1_500, 5_000, 9_999, 10_000] {
            for cents in [1, 2, 3, 99, 100, 12_345, 1_000_000_007, i64::MAX - 1, i64::MAX] {
                let f = at(bps, cents);
                assert!((0..=cents).contains(&f), "{bps} {cents}");
                // Half up: |fee * 10_000 - cents * bps| <= 5_000, ties upward.
                let diff = i128::from(f) * 10_000 - i128::from(cents) * i128::from(bps);
                assert!((-4_999..=5_000).contains(&diff), "{bps} {cents} {diff}");
            }
        }
    }

    // ----- refund estimate and amount -----

    #[test]
    fn an_estimate_takes_the_fee_once_on_the_total() {
        let p = FeePolicy::default();
        let e = refund_estimate(
            &[(Money(1_999), 2), (Money(500), 1)],
            &p,
            ReturnReason::NoLongerNeeded,
            PREVIEW_CONDITION,
        )
        .unwrap();
        // 4498 * 15 % = 674.7 -> 675.
        assert_eq!(
            e,
            RefundEstimate { gross: Money(4_498), fee_bps: 1_500, fee: Money(675), net: Money(3_823) }
        );
        let e =
            refund_estimate(&[(Money(1_999), 2)], &p, ReturnReason::Defective, Condition::Damaged).unwrap();
        assert_eq!(e, RefundEstimate { gross: Money(3_998), fee_bps: 0, fee: Money(0), net: Money(3_998) });
        let e =
            refund_estimate(&[(Money(1_999), 2)], &p, ReturnReason::Defective, Condition::Missing).unwrap();
        assert_eq!(e.net, Money(0));
        let e = refund_estimate(&[], &p, ReturnReason::Other, Condition::Resellable).unwrap();
        assert_eq!(e.gross, Money(0));
        assert_eq!(e.net, Money(0));
    }

    #[test]
    fn an_estimate_refuses_negative_prices_and_overflow() {
        let p = FeePolicy::default();
        let r = ReturnReason::Defective;
        assert_eq!(
            refund_estimate(&[(Money(-1), 1)], &p, r, Condition::Resellable),
            Err(RefundError::Negative)
        );
        let big = [(Money::MAX_PRICE, u32::MAX), (Money::MAX_PRICE, u32::MAX), (Money::MAX_PRICE, u32::MAX)];
        assert_eq!(refund_estimate(&big, &p, r, Condition::Resellable), Err(RefundError::Overflow));
        let e = refund_estimate(&big[..2], &p, r, Condition::Resellable).unwrap();
        assert_eq!(e.gross, Money(1_000_000_000 * 2 * i64::from(u32::MAX)));
        assert_eq!(
            refund_estimate(&[(Money(i64::MAX), 1)], &p, r, Condition::Resellable).unwrap().net.0,
            i64::MAX
        );
    }

    #[test]
    fn a_refund_amount_is_positive_and_capped() {
        assert_eq!(refund_amount(Money(500), Money(500)), Ok(Money(500)));
        assert_eq!(refund_amount(Money(1), Money(500)), Ok(Money(1)));
        assert_eq!(
            refund_amount(Money(501), Money(500)),
            Err(RefundError::ExceedsRefundable { requested: Money(501), refundable: Money(500) })
        );
        assert_eq!(refund_amount(Money(0), Money(500)), Err(RefundError::Zero));
        assert_eq!(refund_amount(Money(-1), Money(500)), Err(RefundError::Negative));
        assert_eq!(
            refund_amount(Money(1), Money(-3)),
            Err(RefundError::ExceedsRefundable { requested: Money(1), refundable: Money(0) })
        );
        assert_eq!(
            RefundError::ExceedsRefundable { requested: Money(501), refundable: Money(500) }.to_string(),
            "cannot refund 501 cents: only 500 cents are left to refund"
        );
    }

    // ----- split -----

    fn t(card: i64, credit: i64) -> Tender {
        Tender { card: Money(card), credit: Money(credit) }
    }

    #[test]
    fn a_refund_goes_back_the_way_it_was_paid() {
        let none = t(0, 0);
        assert_eq!(split_refund(Money(1_000), t(1_000, 0), none), Ok(t(1_000, 0)));
        assert_eq!(split_refund(Money(400), t(0, 1_000), none), Ok(t(0, 400)));
        // 70 % card, 30 % credit.
        assert_eq!(split_refund(Money(1_000), t(7_000, 3_000), none), Ok(t(700, 300)));
        // 1 cent of a 50/50 order: the tie goes to the card; the next cent to the credit.
        assert_eq!(split_refund(Money(1), t(500, 500), none), Ok(t(1, 0)));
        assert_eq!(split_refund(Money(1), t(500, 500), t(1, 0)), Ok(t(0, 1)));
        // 1/3 card: 100 * 1/3 = 33.3 -> 33 to the card.
        assert_eq!(split_refund(Money(100), t(100, 200), none), Ok(t(33, 67)));
        assert_eq!(split_refund(Money(0), t(100, 200), none), Ok(t(0, 0)));
        // Everything left gives back exactly what is left on each side.
        assert_eq!(split_refund(Money(267), t(100, 200), t(33, 0)), Ok(t(67, 200)));
    }

    #[test]
    fn an_earlier_refund_by_another_rule_is_evened_out_never_overdrawn() {
        // The card got everything before: the rest comes from credit only.
        assert_eq!(split_refund(Money(300), t(500, 500), t(500, 0)), Ok(t(0, 300)));
        // Credit got more than its share before: the card catches up first.
        assert_eq!(split_refund(Money(200), t(500, 500), t(0, 400)), Ok(t(200, 0)));
        // 900 refunded in all afterwards: 450 each, so the credit gets its 50.
        assert_eq!(split_refund(Money(500), t(500, 500), t(0, 400)), Ok(t(450, 50)));
    }

    #[test]
    fn a_split_never_exceeds_what_is_left() {
        assert_eq!(
            split_refund(Money(1_001), t(700, 300), t(0, 0)),
            Err(RefundError::ExceedsRefundable { requested: Money(1_001), refundable: Money(1_000) })
        );
        assert_eq!(
            split_refund(Money(2), t(700, 300), t(699, 300)),
            Err(RefundError::ExceedsRefundable { requested: Money(2), refundable: Money(1) })
        );
        assert_eq!(
            split_refund(Money(1), t(0, 0), t(0, 0)),
            Err(RefundError::ExceedsRefundable { requested: Money(1), refundable: Money(0) })
        );
        assert_eq!(split_refund(Money(-1), t(700, 300), t(0, 0)), Err(RefundError::Negative));
        assert_eq!(split_refund(Money(1), t(700, 300), t(701, 0)), Err(RefundError::Inconsistent));
        assert_eq!(split_refund(Money(1), t(700, 300), t(0, 301)), Err(RefundError::Inconsistent));
        assert_eq!(split_refund(Money(1), t(-1, 300), t(0, 0)), Err(RefundError::Inconsistent));
        assert_eq!(split_refund(Money(1), t(700, 300), t(0, -1)), Err(RefundError::Inconsistent));
    }

    #[test]
    fn huge_payments_split_without_overflow() {
        let paid = t(i64::MAX, i64::MAX);
        assert_eq!(split_refund(Money(i64::MAX), paid, t(0, 0)), Ok(t(i64::MAX / 2 + 1, i64::MAX / 2)));
        assert_eq!(split_refund(Money(i64::MAX), paid, t(i64::MAX, 0)), Ok(t(0, i64::MAX)));
        assert_eq!(split_refund(Money(1), t(i64::MAX, 1), t(i64::MAX, 0)), Ok(t(0, 1)));
        // MAX of MAX + 1 refunded: the credit's exact share is just under 1 cent, rounded to 1.
        assert_eq!(split_refund(Money(i64::MAX), t(i64::MAX, 1), t(0, 0)), Ok(t(i64::MAX - 1, 1)));
        assert_eq!(
            split_refund(Money(i64::MAX), t(i64::MAX, i64::MAX), t(1, 0)),
            Ok(t(i64::MAX / 2, i64::MAX / 2 + 1))
        );
    }

    #[test]
    fn every_small_history_splits_within_bounds() {
        // Any payment, any earlier refunds (by this rule or another), any amount.
        for card in 0..=6 {
            for credit in 0..=6 {
                for rc in 0..=card {
                    for rk in 0..=credit {
                        let left = card - rc + credit - rk;
                        for amount in 0..=left + 1 {
                            let got = split_refund(Money(amount), t(card, credit), t(rc, rk));
                            let ctx = format!("paid {card}/{credit} refunded {rc}/{rk} amount {amount}");
                            if amount > left {
                                assert_eq!(
                                    got,
                                    Err(RefundError::ExceedsRefundable {
                                        requested: Money(amount),
                                        refundable: Money(left)
                                    }),
                                    "{ctx}"
                                );
                                continue;
                            }
                            let part = got.unwrap();
                            assert_eq!(part.card.0 + part.credit.0, amount, "{ctx}");
                            assert!((0..=card - rc).contains(&part.card.0), "{ctx}");
                            assert!((0..=credit - rk).contains(&part.credit.0), "{ctx}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn repeated_partial_refunds_add_up_to_at_most_what_was_paid() {
        let paid_cases =
            [(0, 1), (1, 0), (1, 1), (7_000, 3_000), (1, 999), (999, 1), (333, 667), (12_345, 6_789)];
        let chunks = [1, 2, 3, 7, 100, 333, 1_000];
        for (card, credit) in paid_cases {
            let paid = t(card, credit);
            let total = card + credit;
            for chunk in chunks {
                let mut done = t(0, 0);
                let mut refunded = 0;
                while refunded < total {
                    let amount = chunk.min(total - refunded);
                    let part = split_refund(Money(amount), paid, done).unwrap();
                    assert!(part.card.0 >= 0 && part.credit.0 >= 0, "{paid:?} {chunk}");
                    assert_eq!(part.card.0 + part.credit.0, amount, "{paid:?} {chunk}");
                    done = t(done.card.0 + part.card.0, done.credit.0 + part.credit.0);
                    refunded += amount;
                    assert!(
                        done.card <= paid.card && done.credit <= paid.credit,
                        "{paid:?} {chunk} {done:?}"
                    );
                    // Rounding never accumulates: the card's share stays within half a cent.
                    let err =
                        i128::from(done.card.0) * i128::from(total) - i128::from(refunded) * i128::from(card);
                    assert!(2 * err.abs() <= i128::from(total), "{paid:?} {chunk} {done:?}");
                }
                assert_eq!(done, paid, "{paid:?} {chunk}");
                assert!(matches!(
                    split_refund(Money(1), paid, done),
                    Err(RefundError::ExceedsRefundable { refundable: Money(0), .. })
                ));
            }
        }
    }

    #[test]
    fn goods_outcomes_fit_only_repair_and_reject() {
        for o in GoodsOutcome::ALL {
            assert_eq!(GoodsOutcome::parse(o.as_str()), Some(o));
            for d in Disposition::ALL {
                let expected = matches!(
                    (d, o),
                    (Disposition::Repair, GoodsOutcome::ShippedBack)
                        | (Disposition::Reject, GoodsOutcome::ReturnedToCustomer | GoodsOutcome::Disposed)
                );
                assert_eq!(o.fits(d), expected, "{d} {o}");
                // Exactly the dispositions staff complete take an outcome.
                if o.fits(d) {
                    assert!(!d.completed_by_system());
                }
            }
        }
        assert!(GoodsOutcome::ShippedBack.ships() && GoodsOutcome::ReturnedToCustomer.ships());
        assert!(!GoodsOutcome::Disposed.ships());
    }

    #[test]
    fn median_takes_the_lower_middle() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7]), Some(7));
        assert_eq!(median(&[1, 9]), Some(1));
        assert_eq!(median(&[1, 2, 30]), Some(2));
        assert_eq!(median(&[1, 2, 3, 40]), Some(2));
    }
}
