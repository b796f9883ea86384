//! Flash-sale rules: the sale price, the validation of a sale definition, a sale's state by
//! time, and reservations (holds with a time to live) with the cap and allocation arithmetic.
//!
//! # Time
//! Nothing here reads a clock. Every rule that depends on time takes `now` as a [`Timestamp`]:
//! microseconds since the Unix epoch (1970-01-01T00:00:00Z), the resolution of PostgreSQL
//! `timestamptz`, so a time stored and read back compares exactly as before. Spans (time left,
//! the hold TTL) are std [`Duration`]s, as in [`crate::breaker`]. With chrono:
//! `Timestamp::from_micros(dt.timestamp_micros())`, and back with
//! `DateTime::from_timestamp_micros(t.as_micros())`.
//!
//! # The rules in brief
//! - **Windows are half-open.** A sale runs from `starts_at` included to `ends_at` excluded: at
//!   `starts_at` it is live, at `ends_at` it has ended. Two windows [`overlaps`] only when they
//!   share an instant, so a sale ending at 12:00 and another starting at 12:00 on the same
//!   product do not overlap.
//! - **One rounding rule.** A percent-off discount is an integer number of basis points
//!   (1 = 0.01 %, 10 000 = 100 %). The amount taken off one unit is `list × bp / 10 000`,
//!   computed exactly in `i128` and rounded half up to the minor unit; the sale price is the list
//!   price minus that amount. The price is per unit (a line costs the rounded unit price times the
//!   quantity), never below 0 and never above the list price. See [`sale_price`].
//! - **No partial grants.** A reservation gets every unit asked for or none: [`can_reserve`]
//!   refuses with "sold out" (nothing left), "only N left" or "you can still buy N" (the number
//!   the customer can get right now), or "limit reached" naming the cap.
//! - **Holds expire at `expires_at` exactly.** From that instant a held reservation can no longer
//!   be paid, no longer counts against the pool or the cap, and may be expired once, which
//!   returns its units. A hold's price was locked when it was made: paying it after the sale has
//!   ended (but before the hold expires) charges the locked price.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::ProductId;
use crate::money::Money;
use crate::validation::{FieldError, ValidationErrors, bounded_text};

// ---------------------------------------------------------------------------------------------
// Time

/// An instant: microseconds since the Unix epoch, UTC. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The instant `micros` microseconds after the epoch (before it when negative).
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// The instant `secs` whole seconds after the epoch, saturating at the ends of the range.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// `self + span`, saturating at the end of time. Parts of `span` below a microsecond are
    /// dropped.
    pub fn saturating_add(self, span: Duration) -> Self {
        let micros = i64::try_from(span.as_micros()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(micros))
    }

    /// How long from `self` until `later`; zero when `later` is not after `self`.
    pub fn until(self, later: Timestamp) -> Duration {
        let micros = i128::from(later.0) - i128::from(self.0);
        Duration::from_micros(u64::try_from(micros.max(0)).unwrap_or(u64::MAX))
    }
}

// ---------------------------------------------------------------------------------------------
// Windows and states

/// When a sale is scheduled to run: `[starts_at, ends_at)`, the start included, the end
/// excluded. A window whose end is not after its start is empty: it contains no instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaleWindow {
    /// The first instant of the sale.
    pub starts_at: Timestamp,
    /// The first instant after the sale.
    pub ends_at: Timestamp,
}

impl SaleWindow {
    /// A window (not checked: [`validate_sale`] refuses an empty one).
    pub const fn new(starts_at: Timestamp, ends_at: Timestamp) -> Self {
        Self { starts_at, ends_at }
    }

    /// Whether the window contains no instant (`ends_at <= starts_at`).
    pub fn is_empty(self) -> bool {
        self.ends_at <= self.starts_at
    }

    /// Whether `now` is in the window: `starts_at <= now < ends_at`.
    pub fn contains(self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// Whether two sale windows share an instant.
///
/// Windows are half-open, so touching windows (one ends exactly when the other starts) do not
/// overlap: a product can go from one sale straight into the next. An empty window overlaps
/// nothing. The relation is symmetric.
pub fn overlaps(a: SaleWindow, b: SaleWindow) -> bool {
    !a.is_empty() && !b.is_empty() && a.starts_at < b.ends_at && b.starts_at < a.ends_at
}

/// Where a sale stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// Not started yet; an admin may still edit it.
    Scheduled,
    /// Running: the sale price applies and units can be reserved.
    Live,
    /// Over at its scheduled end.
    Ended,
    /// Stopped by an admin before its scheduled end (possibly before it started).
    EndedEarly,
}

impl SaleState {
    /// Every state, in the order a sale moves through them.
    pub const ALL: [SaleState; 4] =
        [SaleState::Scheduled, SaleState::Live, SaleState::Ended, SaleState::EndedEarly];

    /// The stored and serialised name (`scheduled`, `live`, `ended`, `ended_early`).
    pub fn as_str(self) -> &'static str {
        match self {
            SaleState::Scheduled => "scheduled",
            SaleState::Live => "live",
            SaleState::Ended => "ended",
            SaleState::EndedEarly => "ended_early",
        }
    }

    /// Parses a stored or submitted name (exact, lower-case).
    pub fn parse(raw: &str) -> Option<SaleState> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the sale is over (ended on schedule or early).
    pub fn is_over(self) -> bool {
        matches!(self, SaleState::Ended | SaleState::EndedEarly)
    }
}

impl std::fmt::Display for SaleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sale cannot be changed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaleChangeError {
    /// The sale is live; only ending it early is possible.
    #[error("this sale has started and can no longer be edited")]
    Started,
    /// The sale is over.
    #[error("this sale has already ended")]
    Over,
}

/// A sale's times: its scheduled window and, when an admin ended it early, the instant they did.
///
/// The sale stops at [`end`](Self::end): the scheduled `ends_at`, or the forced end when that
/// came first. Every question about time (state, time left, whether the sale price applies) is
/// answered from these two values and `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaleTimes {
    /// The scheduled window.
    pub window: SaleWindow,
    /// When an admin ended the sale early, if they did.
    pub ended_early_at: Option<Timestamp>,
}

impl SaleTimes {
    /// A sale running on schedule.
    pub const fn scheduled(window: SaleWindow) -> Self {
        Self { window, ended_early_at: None }
    }

    /// The first instant the sale is no longer live: `ends_at`, or the forced end if earlier.
    pub fn end(self) -> Timestamp {
        match self.ended_early_at {
            Some(at) => at.min(self.window.ends_at),
            None => self.window.ends_at,
        }
    }

    /// The window the sale actually runs: from `starts_at` to [`end`](Self::end) (empty when it
    /// was ended before it started). Pass this, not the scheduled window, when checking another
    /// sale for overlap: ending a sale early frees its products.
    pub fn effective_window(self) -> SaleWindow {
        SaleWindow { starts_at: self.window.starts_at, ends_at: self.end() }
    }

    /// The state at `now`: `Scheduled` before `starts_at`, `Live` from `starts_at` until
    /// [`end`](Self::end), then `EndedEarly` if an admin's forced end came before `ends_at`,
    /// `Ended` otherwise. A sale ended before it started is `Scheduled` until the forced end,
    /// `EndedEarly` from then on, and never live.
    pub fn state(self, now: Timestamp) -> SaleState {
        let end = self.end();
        if now >= end {
            if end < self.window.ends_at { SaleState::EndedEarly } else { SaleState::Ended }
        } else if now < self.window.starts_at {
            SaleState::Scheduled
        } else {
            SaleState::Live
        }
    }

    /// Whether the sale is live at `now`.
    pub fn is_live(self, now: Timestamp) -> bool {
        self.state(now) == SaleState::Live
    }

    /// While scheduled: how long until the sale starts. `None` in any other state.
    pub fn starts_in(self, now: Timestamp) -> Option<Duration> {
        (self.state(now) == SaleState::Scheduled).then(|| now.until(self.window.starts_at))
    }

    /// While live: how long until the sale ends. `None` in any other state.
    pub fn time_left(self, now: Timestamp) -> Option<Duration> {
        self.is_live(now).then(|| now.until(self.end()))
    }

    /// Whether an admin may edit the sale at `now`: only while it is scheduled.
    pub fn check_edit(self, now: Timestamp) -> Result<(), SaleChangeError> {
        match self.state(now) {
            SaleState::Scheduled => Ok(()),
            SaleState::Live => Err(SaleChangeError::Started),
            SaleState::Ended | SaleState::EndedEarly => Err(SaleChangeError::Over),
        }
    }

    /// An admin ends the sale at `now`: allowed while scheduled (the sale is called off and never
    /// runs) or live; refused once it is over. Units still held may be paid at their locked
    /// price until their holds expire.
    pub fn end_early(self, now: Timestamp) -> Result<SaleTimes, SaleChangeError> {
        if self.state(now).is_over() {
            Err(SaleChangeError::Over)
        } else {
            Ok(SaleTimes { ended_early_at: Some(now), ..self })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pricing

/// 100 %, in basis points.
pub const MAX_BASIS_POINTS: u32 = 10_000;

/// How a sale lowers a product's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discount {
    /// The product sells at this unit price during the sale (0 up to the list price).
    SalePrice {
        /// The unit price during the sale.
        price: Money,
    },
    /// This share of the list price is taken off each unit.
    PercentOff {
        /// Basis points, 1..=10000: 1 is 0.01 %, 3333 is 33.33 %, 10000 is 100 %.
        basis_points: u32,
    },
}

impl Discount {
    /// Checks the discount for a product listed at `list_price`: a percent off must be
    /// 1..=10000 basis points; a sale price must not be negative nor above the list price (equal
    /// is allowed: a limited drop at the regular price). Problems are reported under `field`.
    pub fn check(self, field: &str, list_price: Money) -> Result<Discount, FieldError> {
        check_discount(field, self, Some(list_price))
    }
}

fn check_discount(field: &str, d: Discount, list_price: Option<Money>) -> Result<Discount, FieldError> {
    match d {
        Discount::PercentOff { basis_points } if !(1..=MAX_BASIS_POINTS).contains(&basis_points) => {
            Err(FieldError::new(
                field,
                format!("percent off must be 1 to {MAX_BASIS_POINTS} basis points (0.01% to 100%)"),
            ))
        }
        Discount::SalePrice { price } if price.cents() < 0 => {
            Err(FieldError::new(field, "the sale price must not be negative"))
        }
        Discount::SalePrice { price } if list_price.is_some_and(|list| price > list) => {
            Err(FieldError::new(field, "the sale price must not be above the list price"))
        }
        _ => Ok(d),
    }
}

/// The unit price of a product listed at `list_price` under `discount`.
///
/// The rounding rule: the amount taken off is `list_price × basis_points / 10000`, computed
/// exactly in `i128` (no overflow for any `i64` price) and rounded half up to the minor unit;
/// the sale price is `list_price` minus that amount. So 33.33 % off 1.50 takes 0.49995 → 0.50
/// off, leaving 1.00, and 50 % off 0.01 takes 0.005 → 0.01 off, leaving 0.00.
///
/// The result is never below 0 and never above the list price: a fixed sale price is clamped
/// into `0..=list_price`, basis points above 10000 count as 10000, and 0 basis points leave the
/// list price. A negative list price (never a catalog price) counts as 0.
pub fn sale_price(list_price: Money, discount: Discount) -> Money {
    let list = list_price.cents().max(0);
    match discount {
        Discount::SalePrice { price } => Money(price.cents().clamp(0, list)),
        Discount::PercentOff { basis_points } => {
            let bp = i128::from(basis_points.min(MAX_BASIS_POINTS));
            let denominator = i128::from(MAX_BASIS_POINTS);
            let off = (i128::from(list) * bp + denominator / 2) / denominator;
            // 0 <= off <= list, so the difference always fits.
            Money(i64::try_from(i128::from(list) - off).unwrap_or(list))
        }
    }
}

/// The price a customer pays for one unit at `now`: the [`sale_price`] while the sale is live,
/// the list price before it starts and after it ends (on schedule or early).
///
/// This is the price shown in lists, on the product page and in the cart. A reservation locks
/// it when made ([`Reservation::unit_price`]); checkout charges the locked price, not this one.
pub fn effective_price(list_price: Money, discount: Discount, times: SaleTimes, now: Timestamp) -> Money {
    if times.is_live(now) { sale_price(list_price, discount) } else { list_price }
}

// ---------------------------------------------------------------------------------------------
// Sale definitions

/// Longest sale name accepted.
pub const MAX_SALE_NAME_CHARS: usize = 120;
/// Most products one sale may hold.
pub const MAX_SALE_ITEMS: usize = 50;
/// Most units a sale may allocate to one product, and the highest per-customer cap.
pub const MAX_SALE_UNITS: u32 = 1_000_000;

/// A sale as an admin submits it (to create it, or to edit it before it starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSale {
    /// Shown to customers.
    pub name: String,
    /// The first instant of the sale.
    pub starts_at: Timestamp,
    /// The first instant after the sale.
    pub ends_at: Timestamp,
    /// Most units one customer may hold and buy across all their reservations in the sale.
    pub per_customer_cap: i64,
    /// The products on sale.
    pub items: Vec<NewSaleItem>,
}

/// One product of a [`NewSale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSaleItem {
    /// The product.
    pub product_id: ProductId,
    /// Its sale price or percent off.
    pub discount: Discount,
    /// Units taken from stock for the sale.
    pub allocated_units: i64,
}

/// What [`validate_sale`] needs to know about one product, read just before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFacts {
    /// The product.
    pub product_id: ProductId,
    /// Its catalog price now.
    pub list_price: Money,
    /// Units on hand now (not counting units already allocated to other sales).
    pub stock: i64,
    /// The [effective windows](SaleTimes::effective_window) of the product's other sales that
    /// have not ended (when editing a sale, leave the sale itself out).
    pub other_sales: Vec<SaleWindow>,
}

/// A valid sale definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDefinition {
    /// Trimmed name.
    pub name: String,
    /// When it runs; never empty, ending after the `now` it was validated at.
    pub window: SaleWindow,
    /// Most units per customer, 1..=[`MAX_SALE_UNITS`].
    pub per_customer_cap: u32,
    /// The products on sale, in the submitted order, each at most once.
    pub items: Vec<SaleItem>,
}

/// One product of a [`SaleDefinition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleItem {
    /// The product.
    pub product_id: ProductId,
    /// A checked discount.
    pub discount: Discount,
    /// Units allocated, 1..=min(stock, [`MAX_SALE_UNITS`]).
    pub allocated_units: u32,
}

/// A count of units of 1..=`max`.
fn units(field: &str, raw: i64, max: u32) -> Result<u32, FieldError> {
    if raw < 1 {
        return Err(FieldError::new(field, "must be at least 1"));
    }
    match u32::try_from(raw) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(FieldError::new(field, format!("must be at most {max}"))),
    }
}

fn window(starts_at: Timestamp, ends_at: Timestamp, now: Timestamp) -> Result<SaleWindow, FieldError> {
    let w = SaleWindow::new(starts_at, ends_at);
    if w.is_empty() {
        Err(FieldError::new("ends_at", "must be after starts_at"))
    } else if ends_at <= now {
        Err(FieldError::new("ends_at", "must be in the future"))
    } else {
        Ok(w)
    }
}

/// The product id of item `i`: known, listed once, and in no other sale at the same time.
fn product(
    field: &str,
    i: usize,
    items: &[NewSaleItem],
    facts: Option<&ProductFacts>,
    window: Option<SaleWindow>,
) -> Result<ProductId, FieldError> {
    let id = items[i].product_id;
    if items[..i].iter().any(|earlier| earlier.product_id == id) {
        return Err(FieldError::new(field, "is listed more than once"));
    }
    let Some(facts) = facts else {
        return Err(FieldError::new(field, "no such product"));
    };
    if let Some(w) = window
        && facts.other_sales.iter().any(|&other| overlaps(w, other))
    {
        return Err(FieldError::new(field, "is already in another sale at that time"));
    }
    Ok(id)
}

/// Validates a sale definition against the facts about its products, at `now`.
///
/// Every problem is reported at once, under the field it concerns:
/// - `name`: 1..=[`MAX_SALE_NAME_CHARS`] characters, trimmed.
/// - `ends_at`: after `starts_at` (the window must not be empty) and after `now`. `starts_at`
///   may be in the past: the sale is then live as soon as it is saved.
/// - `per_customer_cap`: 1..=[`MAX_SALE_UNITS`].
/// - `items`: 1..=[`MAX_SALE_ITEMS`] products.
/// - `items[i].product_id`: a product in `products`, listed once (the second listing is the one
///   reported), and not in another sale whose window [`overlaps`] this one (touching windows
///   are fine).
/// - `items[i].discount`: see [`Discount::check`].
/// - `items[i].allocated_units`: 1..=[`MAX_SALE_UNITS`], and at most the product's stock.
pub fn validate_sale(
    input: &NewSale,
    products: &[ProductFacts],
    now: Timestamp,
) -> Result<SaleDefinition, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let name = e.check(bounded_text("name", &input.name, 1, MAX_SALE_NAME_CHARS));
    let window = e.check(window(input.starts_at, input.ends_at, now));
    let cap = e.check(units("per_customer_cap", input.per_customer_cap, MAX_SALE_UNITS));
    if input.items.is_empty() {
        e.0.push(FieldError::new("items", "must list at least one product"));
    } else if input.items.len() > MAX_SALE_ITEMS {
        e.0.push(FieldError::new("items", format!("must list at most {MAX_SALE_ITEMS} products")));
    }
    let mut items = Vec::with_capacity(input.items.len());
    for (i, item) in input.items.iter().enumerate() {
        let facts = products.iter().find(|p| p.product_id == item.product_id);
        let product_id = e.check(product(&format!("items[{i}].product_id"), i, &input.items, facts, window));
        let discount = e.check(check_discount(
            &format!("items[{i}].discount"),
            item.discount,
            facts.map(|f| f.list_price),
        ));
        let field = format!("items[{i}].allocated_units");
        let allocated = e.check(units(&field, item.allocated_units, MAX_SALE_UNITS).and_then(|n| {
            match facts.map(|f| f.stock.max(0)) {
                Some(0) => Err(FieldError::new(&field, "the product is out of stock")),
                Some(stock) if i64::from(n) > stock => {
                    Err(FieldError::new(&field, format!("only {stock} in stock")))
                }
                _ => Ok(n),
            }
        }));
        items.push(product_id.zip(discount).zip(allocated).map(
            |((product_id, discount), allocated_units)| SaleItem { product_id, discount, allocated_units },
        ));
    }
    e.finish(|| {
        let items = items.into_iter().collect::<Option<Vec<_>>>()?;
        Some(SaleDefinition { name: name?, window: window?, per_customer_cap: cap?, items })
    })
}

// ---------------------------------------------------------------------------------------------
// Allocation and the per-customer cap

/// Units of one product in a sale, for the live view and the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Allocation {
    /// Units taken from stock for the sale.
    pub allocated: u32,
    /// Units in paid reservations.
    pub sold: u32,
    /// Units in held reservations that have not expired.
    pub reserved: u32,
}

impl Allocation {
    /// Units still free to reserve: allocated − sold − reserved, never below 0.
    pub fn remaining(self) -> u32 {
        self.allocated.saturating_sub(self.sold.saturating_add(self.reserved))
    }

    /// Whether nothing is left to reserve.
    pub fn is_sold_out(self) -> bool {
        self.remaining() == 0
    }
}

/// Why a reservation request is refused. Nothing is ever partly granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ReserveError {
    /// Zero units were asked for.
    #[error("ask for at least 1 unit")]
    NothingRequested,
    /// No unit is left in the sale.
    #[error("sold out")]
    SoldOut,
    /// The customer already holds or bought as many units as the cap allows.
    #[error("you have reached the limit of {cap} per customer for this sale")]
    CapReached {
        /// The per-customer cap.
        cap: u32,
    },
    /// Fewer units are left in the sale than were asked for (and the customer's cap allows at
    /// least `left`).
    #[error("only {left} left")]
    OnlyLeft {
        /// Units left in the sale: the most the customer can get now.
        left: u32,
    },
    /// The request would take the customer over the cap (and the sale has more than `left`).
    #[error("the limit is {cap} per customer; you can still buy {left}")]
    OverCap {
        /// The per-customer cap.
        cap: u32,
        /// Units the customer may still reserve: the most they can get now.
        left: u32,
    },
}

impl ReserveError {
    /// A stable label for metrics and logs (`sold_out`, `cap_reached`, ...), the serialised
    /// `reason`.
    pub fn reason(self) -> &'static str {
        match self {
            ReserveError::NothingRequested => "nothing_requested",
            ReserveError::SoldOut => "sold_out",
            ReserveError::CapReached { .. } => "cap_reached",
            ReserveError::OnlyLeft { .. } => "only_left",
            ReserveError::OverCap { .. } => "over_cap",
        }
    }
}

/// Whether a customer may reserve `requested` units, and how many they get.
///
/// `remaining_allocation` is [`Allocation::remaining`]; `customer_units_so_far` counts the units
/// in all of the customer's reservations in this sale that are paid or still held
/// ([`customer_units`]); `cap` is the sale's per-customer cap.
///
/// All or nothing: on success the grant is always the whole request. A request larger than
/// what the customer can get is refused, never trimmed, so nobody pays for fewer units than
/// they chose. The checks, in order:
/// 1. 0 units asked: [`ReserveError::NothingRequested`].
/// 2. Nothing left in the sale: [`ReserveError::SoldOut`] (even for a customer at the cap).
/// 3. The customer is at or over the cap: [`ReserveError::CapReached`].
/// 4. More asked than the customer can get, which is the smaller of what is left in the sale
///    and what the cap still allows: [`ReserveError::OnlyLeft`] when the sale is the tighter
///    limit (ties included), [`ReserveError::OverCap`] when the cap is. Either way the number
///    in the error is exactly the most the customer can reserve now.
///
/// The caller enforces the same decision atomically with the decrement (one statement or
/// transaction); this function is the rule that statement implements and the answer for the
/// in-memory fast path.
pub fn can_reserve(
    requested: u32,
    remaining_allocation: u32,
    customer_units_so_far: u32,
    cap: u32,
) -> Result<u32, ReserveError> {
    let cap_left = cap.saturating_sub(customer_units_so_far);
    if requested == 0 {
        Err(ReserveError::NothingRequested)
    } else if remaining_allocation == 0 {
        Err(ReserveError::SoldOut)
    } else if cap_left == 0 {
        Err(ReserveError::CapReached { cap })
    } else if requested > remaining_allocation.min(cap_left) {
        if remaining_allocation <= cap_left {
            Err(ReserveError::OnlyLeft { left: remaining_allocation })
        } else {
            Err(ReserveError::OverCap { cap, left: cap_left })
        }
    } else {
        Ok(requested)
    }
}

// ---------------------------------------------------------------------------------------------
// Reservations

/// How long a hold lasts unless configured otherwise: 10 minutes.
pub const DEFAULT_HOLD_TTL: Duration = Duration::from_secs(10 * 60);

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Units are set aside for the customer until the hold expires.
    Held,
    /// Paid through checkout: the units are sold.
    Paid,
    /// Called off (by the customer, or by checkout when the payment failed); units returned.
    Cancelled,
    /// The hold ran out unpaid; units returned.
    Expired,
}

impl ReservationState {
    /// Every state.
    pub const ALL: [ReservationState; 4] = [
        ReservationState::Held,
        ReservationState::Paid,
        ReservationState::Cancelled,
        ReservationState::Expired,
    ];

    /// The stored and serialised name (`held`, `paid`, `cancelled`, `expired`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationState::Held => "held",
            ReservationState::Paid => "paid",
            ReservationState::Cancelled => "cancelled",
            ReservationState::Expired => "expired",
        }
    }

    /// Parses a stored or submitted name (exact, lower-case).
    pub fn parse(raw: &str) -> Option<ReservationState> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl std::fmt::Display for ReservationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happens to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationAction {
    /// Checkout captured its payment.
    Pay,
    /// The customer called it off, or checkout did because the payment failed.
    Cancel,
    /// Its hold ran out (the worker's sweep, or lazily when read).
    Expire,
}

impl ReservationAction {
    /// Every action.
    pub const ALL: [ReservationAction; 3] =
        [ReservationAction::Pay, ReservationAction::Cancel, ReservationAction::Expire];
}

/// Why an action on a reservation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    /// The reservation is no longer held: it was paid, cancelled or expired already.
    #[error("{}", match state {
        ReservationState::Held => "this reservation is held",
        ReservationState::Paid => "this reservation has already been paid",
        ReservationState::Cancelled => "this reservation was cancelled",
        ReservationState::Expired => "this reservation has expired; reserve again",
    })]
    NotHeld {
        /// The reservation's state.
        state: ReservationState,
    },
    /// Paying a hold whose time ran out (still recorded as held): refused. Expire it to return
    /// its units.
    #[error("this reservation has expired; reserve again")]
    Lapsed,
    /// Expiring a hold before its time ran out.
    #[error("this reservation has not expired yet")]
    NotDue,
}

/// The transition table of a reservation in `from` under `action`; `due` says whether the hold
/// has run out (`now >= expires_at`).
///
/// - Pay: held and not due -> paid. Held and due: [`ReservationError::Lapsed`].
/// - Cancel: held -> cancelled, due or not (its units are returned once either way).
/// - Expire: held and due -> expired. Held and not due: [`ReservationError::NotDue`].
/// - Paid, cancelled and expired are final: every action is [`ReservationError::NotHeld`]. So a
///   reservation is paid at most once, and its units are returned at most once (by the one
///   cancel or expire that leaves `held`).
pub fn reservation_transition(
    from: ReservationState,
    action: ReservationAction,
    due: bool,
) -> Result<ReservationState, ReservationError> {
    use ReservationAction as A;
    use ReservationState as S;
    match (from, action, due) {
        (S::Held, A::Pay, false) => Ok(S::Paid),
        (S::Held, A::Pay, true) => Err(ReservationError::Lapsed),
        (S::Held, A::Cancel, _) => Ok(S::Cancelled),
        (S::Held, A::Expire, true) => Ok(S::Expired),
        (S::Held, A::Expire, false) => Err(ReservationError::NotDue),
        (S::Paid | S::Cancelled | S::Expired, _, _) => Err(ReservationError::NotHeld { state: from }),
    }
}

/// Units of a flash sale held for, or bought by, one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reservation {
    /// Units reserved.
    pub units: u32,
    /// The unit price locked when the reservation was made: what checkout charges, even if the
    /// sale ends before the customer pays.
    pub unit_price: Money,
    /// The first instant the hold has run out.
    pub expires_at: Timestamp,
    /// Where it stands.
    pub state: ReservationState,
}

/// The outcome of an action on a [`Reservation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    /// The reservation after the action.
    pub reservation: Reservation,
    /// Units to return to the sale's pool now: all of them on cancel and expire, 0 on pay.
    pub released_units: u32,
}

impl Reservation {
    /// A new hold of `units` at the locked `unit_price`, made at `now`, running out after `ttl`
    /// ([`DEFAULT_HOLD_TTL`] unless configured).
    pub fn hold(units: u32, unit_price: Money, now: Timestamp, ttl: Duration) -> Self {
        Self { units, unit_price, expires_at: now.saturating_add(ttl), state: ReservationState::Held }
    }

    /// Whether the hold has run out at `now` (`now >= expires_at`), whatever the state.
    pub fn is_due(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// While held and not due: how long the customer has left to pay.
    pub fn time_left(&self, now: Timestamp) -> Option<Duration> {
        (self.state == ReservationState::Held && !self.is_due(now)).then(|| now.until(self.expires_at))
    }

    /// Units this reservation takes from the pool and counts against the customer's cap at
    /// `now`: all of them when paid or held and not due, none otherwise (a due hold is as good as
    /// expired, even before it is swept).
    pub fn units_counted(&self, now: Timestamp) -> u32 {
        match self.state {
            ReservationState::Paid => self.units,
            ReservationState::Held if !self.is_due(now) => self.units,
            _ => 0,
        }
    }

    /// `action` at `now`, following [`reservation_transition`].
    pub fn apply(&self, action: ReservationAction, now: Timestamp) -> Result<Step, ReservationError> {
        let to = reservation_transition(self.state, action, self.is_due(now))?;
        let released_units = match to {
            ReservationState::Cancelled | ReservationState::Expired => self.units,
            ReservationState::Held | ReservationState::Paid => 0,
        };
        Ok(Step { reservation: Reservation { state: to, ..*self }, released_units })
    }
}

/// The units a customer holds or bought in a sale at `now`: the sum of
/// [`Reservation::units_counted`] over all their reservations in it (saturating). This is the
/// `customer_units_so_far` of [`can_reserve`].
pub fn customer_units(reservations: &[Reservation], now: Timestamp) -> u32 {
    reservations.iter().fold(0u32, |sum, r| sum.saturating_add(r.units_counted(now)))
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;

    const fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn w(start: i64, end: i64) -> SaleWindow {
        SaleWindow::new(t(start), t(end))
    }

    fn pct(basis_points: u32) -> Discount {
        Discount::PercentOff { basis_points }
    }

    fn fixed(cents: i64) -> Discount {
        Discount::SalePrice { price: Money(cents) }
    }

    // --- time

    #[test]
    fn timestamps_convert_and_saturate() {
        assert_eq!(t(2).as_micros(), 2_000_000);
        assert_eq!(Timestamp::from_micros(-5).as_micros(), -5);
        assert_eq!(Timestamp::from_secs(i64::MAX).as_micros(), i64::MAX);
        assert_eq!(
            t(10).saturating_add(Duration::from_micros(1_500_001)),
            Timestamp::from_micros(11_500_001)
        );
        assert_eq!(t(10).saturating_add(Duration::from_nanos(999)), t(10));
        assert_eq!(t(1).saturating_add(Duration::MAX).as_micros(), i64::MAX);
        assert_eq!(t(10).until(t(12)), s(2));
        assert_eq!(t(12).until(t(10)), Duration::ZERO);
        let all = Timestamp::from_micros(i64::MIN).until(Timestamp::from_micros(i64::MAX));
        assert_eq!(all, Duration::from_micros(u64::MAX));
        assert!(Timestamp::EPOCH < t(1) && Timestamp::from_micros(-1) < Timestamp::EPOCH);
    }

    // --- pricing

    #[test]
    fn percent_off_rounds_the_amount_off_half_up() {
        // 1 cent items
        assert_eq!(sale_price(Money(1), pct(3333)), Money(1)); // 0.3333 off -> 0
        assert_eq!(sale_price(Money(1), pct(5000)), Money(0)); // 0.5 off -> 1
        assert_eq!(sale_price(Money(1), pct(4999)), Money(1)); // 0.4999 off -> 0
        assert_eq!(sale_price(Money(1), pct(1)), Money(1));
        assert_eq!(sale_price(Money(1), pct(10_000)), Money(0));
        // 33.33 %
        assert_eq!(sale_price(Money(100), pct(3333)), Money(67)); // 33.33 off -> 33
        assert_eq!(sale_price(Money(150), pct(3333)), Money(100)); // 49.995 off -> 50
        assert_eq!(sale_price(Money(999), pct(3333)), Money(666)); // 332.9667 off -> 333
        assert_eq!(sale_price(Money(3), pct(5000)), Money(1)); // 1.5 off -> 2
        // 0.01 %
        assert_eq!(sale_price(Money(5000), pct(1)), Money(4999)); // 0.5 off -> 1
        assert_eq!(sale_price(Money(4999), pct(1)), Money(4999)); // 0.4999 off -> 0
        assert_eq!(sale_price(Money(15_000), pct(1)), Money(14_998)); // 1.5 off -> 2
        // 100 % off is free, at any price
        for list in [0, 1, 99, 1_000_000_000, i64::MAX] {
            assert_eq!(sale_price(Money(list), pct(10_000)), Money(0), "{list}");
        }
        assert_eq!(sale_price(Money(1299), pct(2000)), Money(1039)); // 259.8 off -> 260
    }

    #[test]
    fn percent_off_never_overflows_on_huge_prices() {
        let max = Money(i64::MAX);
        assert_eq!(sale_price(max, pct(5000)), Money((1i64 << 62) - 1));
        assert_eq!(sale_price(max, pct(1)), Money(i64::MAX - 922_337_203_685_478)); // .58 rounds up
        assert_eq!(sale_price(max, pct(9999)), Money(922_337_203_685_478)); // 922…477.5807
        assert_eq!(sale_price(Money::MAX_PRICE, pct(3333)), Money(666_700_000));
        for bp in [1, 2, 3333, 5000, 6667, 9999, 10_000] {
            for list in [i64::MAX, i64::MAX - 1, Money::MAX_PRICE.0, 7] {
                let p = sale_price(Money(list), pct(bp));
                assert!((0..=list).contains(&p.0), "{list} {bp} -> {p:?}");
            }
        }
    }

    #[test]
    fn the_sale_price_stays_between_zero_and_the_list_price() {
        assert_eq!(sale_price(Money(1000), fixed(799)), Money(799));
        assert_eq!(sale_price(Money(1000), fixed(1000)), Money(1000));
        assert_eq!(sale_price(Money(1000), fixed(1200)), Money(1000));
        assert_eq!(sale_price(Money(1000), fixed(-5)), Money(0));
        assert_eq!(sale_price(Money(1000), fixed(0)), Money(0));
        assert_eq!(sale_price(Money(1000), pct(0)), Money(1000));
        assert_eq!(sale_price(Money(1000), pct(20_000)), Money(0));
        assert_eq!(sale_price(Money(1000), pct(u32::MAX)), Money(0));
        assert_eq!(sale_price(Money(-50), pct(5000)), Money(0));
        assert_eq!(sale_price(Money(-50), fixed(10)), Money(0));
    }

    #[test]
    fn the_sale_price_applies_only_while_the_sale_is_live() {
        let times = SaleTimes::scheduled(w(100, 200));
        let d = pct(2500);
        let at = |secs| effective_price(Money(1000), d, times, t(secs));
        assert_eq!(
            [at(99), at(100), at(150), at(199), at(200), at(300)],
            [1000, 750, 750, 750, 1000, 1000].map(Money)
        );
        let ended = times.end_early(t(150)).unwrap();
        assert_eq!(effective_price(Money(1000), d, ended, t(149)), Money(750));
        assert_eq!(effective_price(Money(1000), d, ended, t(150)), Money(1000));
        let called_off = times.end_early(t(50)).unwrap();
        assert_eq!(effective_price(Money(1000), d, called_off, t(150)), Money(1000));
    }

    #[test]
    fn discounts_are_checked_against_the_range_and_the_list_price() {
        let list = Money(1000);
        for ok in [pct(1), pct(3333), pct(10_000), fixed(0), fixed(999), fixed(1000)] {
            assert_eq!(ok.check("d", list), Ok(ok));
        }
        for bad in [pct(0), pct(10_001), pct(u32::MAX), fixed(-1), fixed(1001), fixed(i64::MAX)] {
            assert_eq!(
                bad.check("items[0].discount", list).unwrap_err().field,
                "items[0].discount",
                "{bad:?}"
            );
        }
        assert!(fixed(1001).check("d", list).unwrap_err().message.contains("above the list price"));
        assert!(pct(0).check("d", list).unwrap_err().message.contains("basis points"));
    }

    // --- windows and states

    #[test]
    fn touching_windows_do_not_overlap() {
        assert!(!overlaps(w(0, 10), w(10, 20)));
        assert!(!overlaps(w(10, 20), w(0, 10)));
        let a = SaleWindow::new(t(0), t(10));
        let b = SaleWindow::new(Timestamp::from_micros(10_000_000 - 1), t(20));
        assert!(overlaps(a, b) && overlaps(b, a), "one microsecond of overlap counts");
    }

    #[test]
    fn overlap_edges() {
        let cases = [
            (w(0, 10), w(5, 15), true),   // partial
            (w(0, 10), w(0, 10), true),   // identical
            (w(0, 10), w(2, 3), true),    // contained
            (w(0, 10), w(0, 5), true),    // same start
            (w(0, 10), w(5, 10), true),   // same end
            (w(0, 10), w(11, 20), false), // apart
            (w(0, 10), w(-5, 0), false),  // touching before
            (w(5, 5), w(0, 10), false),   // empty inside another
            (w(8, 2), w(0, 10), false),   // reversed = empty
            (w(5, 5), w(5, 5), false),
        ];
        for (a, b, want) in cases {
            assert_eq!(overlaps(a, b), want, "{a:?} {b:?}");
            assert_eq!(overlaps(b, a), want, "{b:?} {a:?}");
        }
    }

    #[test]
    fn a_sale_is_scheduled_then_live_then_ended() {
        let times = SaleTimes::scheduled(w(100, 200));
        let states: Vec<_> = [0, 99, 100, 199, 200, 1000].into_iter().map(|x| times.state(t(x))).collect();
        use SaleState::*;
        assert_eq!(states, [Scheduled, Scheduled, Live, Live, Ended, Ended]);
        assert_eq!(times.starts_in(t(40)), Some(s(60)));
        assert_eq!(times.starts_in(t(100)), None);
        assert_eq!(times.time_left(t(99)), None);
        assert_eq!(times.time_left(t(100)), Some(s(100)));
        assert_eq!(times.time_left(Timestamp::from_micros(199_999_999)), Some(Duration::from_micros(1)));
        assert_eq!(times.time_left(t(200)), None);
        assert_eq!(times.starts_in(t(250)), None);
        assert_eq!(times.effective_window(), w(100, 200));
        assert!(times.is_live(t(150)) && !times.is_live(t(200)));
    }

    #[test]
    fn an_admin_ends_a_sale_early_or_calls_it_off() {
        use SaleState::*;
        let times = SaleTimes::scheduled(w(100, 200));
        let ended = times.end_early(t(150)).unwrap();
        assert_eq!(ended.ended_early_at, Some(t(150)));
        assert_eq!(ended.end(), t(150));
        assert_eq!(
            [ended.state(t(149)), ended.state(t(150)), ended.state(t(500))],
            [Live, EndedEarly, EndedEarly]
        );
        assert_eq!(ended.time_left(t(140)), Some(s(10)));
        assert_eq!(ended.time_left(t(150)), None);
        assert_eq!(ended.effective_window(), w(100, 150));
        // a new sale may start where the early end cut this one
        assert!(!overlaps(ended.effective_window(), w(150, 300)));

        let called_off = times.end_early(t(50)).unwrap();
        assert_eq!(
            [called_off.state(t(49)), called_off.state(t(50)), called_off.state(t(150))],
            [Scheduled, EndedEarly, EndedEarly]
        );
        assert!(called_off.effective_window().is_empty());
        assert!(!overlaps(called_off.effective_window(), w(0, 1000)));
        assert_eq!(called_off.starts_in(t(60)), None);

        // a forced end recorded at or after the scheduled end is an ordinary end
        let late = SaleTimes { ended_early_at: Some(t(250)), ..times };
        assert_eq!(late.state(t(200)), Ended);
        assert_eq!(late.end(), t(200));
    }

    #[test]
    fn only_a_scheduled_sale_is_edited_and_only_a_running_one_ended() {
        let times = SaleTimes::scheduled(w(100, 200));
        assert_eq!(times.check_edit(t(99)), Ok(()));
        assert_eq!(times.check_edit(t(100)), Err(SaleChangeError::Started));
        assert_eq!(times.check_edit(t(200)), Err(SaleChangeError::Over));
        assert!(times.end_early(t(99)).is_ok());
        assert!(times.end_early(t(199)).is_ok());
        assert_eq!(times.end_early(t(200)), Err(SaleChangeError::Over));
        let ended = times.end_early(t(150)).unwrap();
        assert_eq!(ended.end_early(t(160)), Err(SaleChangeError::Over));
        assert_eq!(ended.check_edit(t(160)), Err(SaleChangeError::Over));
    }

    #[test]
    fn state_names_round_trip_and_match_serde() {
        for st in SaleState::ALL {
            assert_eq!(SaleState::parse(st.as_str()), Some(st));
            let de: StrDeserializer<'_, DeError> = st.as_str().into_deserializer();
            assert_eq!(SaleState::deserialize(de), Ok(st));
        }
        for st in ReservationState::ALL {
            assert_eq!(ReservationState::parse(st.as_str()), Some(st));
            let de: StrDeserializer<'_, DeError> = st.as_str().into_deserializer();
            assert_eq!(ReservationState::deserialize(de), Ok(st));
            assert_eq!(st.to_string(), st.as_str());
        }
        assert_eq!(SaleState::parse("Live"), None);
        assert_eq!(SaleState::EndedEarly.to_string(), "ended_early");
    }

    // --- validation

    const NOW: Timestamp = Timestamp::from_secs(1_000);

    fn facts(id: i64, list: i64, stock: i64) -> ProductFacts {
        ProductFacts { product_id: ProductId(id), list_price: Money(list), stock, other_sales: vec![] }
    }

    fn item(id: i64, discount: Discount, allocated_units: i64) -> NewSaleItem {
        NewSaleItem { product_id: ProductId(id), discount, allocated_units }
    }

    fn sale(items: Vec<NewSaleItem>) -> NewSale {
        NewSale {
            name: " Midnight drop ".into(),
            starts_at: t(2_000),
            ends_at: t(3_000),
            per_customer_cap: 2,
            items,
        }
    }

    fn fields(input: &NewSale, products: &[ProductFacts]) -> Vec<(String, String)> {
        validate_sale(input, products, NOW).unwrap_err().0.into_iter().map(|e| (e.field, e.message)).collect()
    }

    fn field_names(input: &NewSale, products: &[ProductFacts]) -> Vec<String> {
        fields(input, products).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_sound_sale_is_accepted() {
        let products = [facts(1, 1000, 100), facts(2, 500, 5)];
        let input = sale(vec![item(1, pct(3333), 100), item(2, fixed(250), 5)]);
        assert_eq!(
            validate_sale(&input, &products, NOW),
            Ok(SaleDefinition {
                name: "Midnight drop".into(),
                window: w(2_000, 3_000),
                per_customer_cap: 2,
                items: vec![
                    SaleItem { product_id: ProductId(1), discount: pct(3333), allocated_units: 100 },
                    SaleItem { product_id: ProductId(2), discount: fixed(250), allocated_units: 5 },
                ],
            })
        );
        // starting in the past is fine: the sale is live once saved
        let live_now = NewSale { starts_at: t(0), ..input };
        assert!(validate_sale(&live_now, &products, NOW).is_ok());
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        let products = [facts(1, 1000, 10)];
        let ok = || sale(vec![item(1, pct(1000), 10)]);
        let name = |input: NewSale| field_names(&input, &products);
        assert_eq!(name(NewSale { name: "  ".into(), ..ok() }), ["name"]);
        assert_eq!(name(NewSale { name: "x".repeat(MAX_SALE_NAME_CHARS + 1), ..ok() }), ["name"]);
        assert_eq!(name(NewSale { ends_at: t(1_999), ..ok() }), ["ends_at"]);
        assert_eq!(name(NewSale { ends_at: t(2_000), ..ok() }), ["ends_at"]);
        assert_eq!(name(NewSale { starts_at: t(0), ends_at: NOW, ..ok() }), ["ends_at"]);
        assert_eq!(name(NewSale { per_customer_cap: 0, ..ok() }), ["per_customer_cap"]);
        assert_eq!(name(NewSale { per_customer_cap: -3, ..ok() }), ["per_customer_cap"]);
        assert_eq!(
            name(NewSale { per_customer_cap: i64::from(MAX_SALE_UNITS) + 1, ..ok() }),
            ["per_customer_cap"]
        );
        assert_eq!(name(sale(vec![])), ["items"]);
        assert_eq!(name(sale(vec![item(1, pct(0), 10)])), ["items[0].discount"]);
        assert_eq!(name(sale(vec![item(1, pct(10_001), 10)])), ["items[0].discount"]);
        assert_eq!(name(sale(vec![item(1, fixed(1001), 10)])), ["items[0].discount"]);
        assert_eq!(name(sale(vec![item(1, fixed(-1), 10)])), ["items[0].discount"]);
        assert_eq!(name(sale(vec![item(1, pct(100), 0)])), ["items[0].allocated_units"]);
        assert_eq!(name(sale(vec![item(1, pct(100), 11)])), ["items[0].allocated_units"]);
        assert_eq!(name(sale(vec![item(9, pct(100), 1)])), ["items[0].product_id"]);
        assert!(validate_sale(&sale(vec![item(1, fixed(1000), 10)]), &products, NOW).is_ok());
    }

    #[test]
    fn the_messages_say_what_to_change() {
        let products = [facts(1, 1000, 7), facts(2, 100, 0)];
        let input = NewSale {
            ends_at: t(1_500),
            ..sale(vec![item(1, pct(100), 8), item(2, pct(100), 1), item(1, fixed(2000), 1)])
        };
        assert_eq!(
            fields(&input, &products),
            [
                ("ends_at".to_owned(), "must be after starts_at".to_owned()),
                ("items[0].allocated_units".to_owned(), "only 7 in stock".to_owned()),
                ("items[1].allocated_units".to_owned(), "the product is out of stock".to_owned()),
                ("items[2].product_id".to_owned(), "is listed more than once".to_owned()),
                (
                    "items[2].discount".to_owned(),
                    "the sale price must not be above the list price".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let products = [facts(1, 1000, 3)];
        let input = NewSale {
            name: String::new(),
            starts_at: t(5_000),
            ends_at: t(4_000),
            per_customer_cap: 0,
            items: vec![item(1, pct(0), 4), item(1, fixed(5), 0), item(7, pct(50), 1)],
        };
        assert_eq!(
            field_names(&input, &products),
            [
                "name",
                "ends_at",
                "per_customer_cap",
                "items[0].discount",
                "items[0].allocated_units",
                "items[1].product_id",
                "items[1].allocated_units",
                "items[2].product_id",
            ]
        );
        let many = sale((0..=MAX_SALE_ITEMS as i64).map(|i| item(i, pct(100), 1)).collect());
        let all: Vec<_> = (0..=MAX_SALE_ITEMS as i64).map(|i| facts(i, 100, 1)).collect();
        assert_eq!(field_names(&many, &all), ["items"]);
        let most = sale((0..MAX_SALE_ITEMS as i64).map(|i| item(i, pct(100), 1)).collect());
        assert!(validate_sale(&most, &all, NOW).is_ok());
    }

    #[test]
    fn allocation_may_take_the_whole_stock_but_no_more() {
        let products = [facts(1, 1000, 5), facts(2, 1000, -2), facts(3, 1000, i64::MAX)];
        assert!(validate_sale(&sale(vec![item(1, pct(100), 5)]), &products, NOW).is_ok());
        assert_eq!(field_names(&sale(vec![item(1, pct(100), 6)]), &products), ["items[0].allocated_units"]);
        assert_eq!(field_names(&sale(vec![item(2, pct(100), 1)]), &products), ["items[0].allocated_units"]);
        let huge = i64::from(MAX_SALE_UNITS);
        assert!(validate_sale(&sale(vec![item(3, pct(100), huge)]), &products, NOW).is_ok());
        assert_eq!(
            field_names(&sale(vec![item(3, pct(100), huge + 1)]), &products),
            ["items[0].allocated_units"]
        );
        assert_eq!(
            field_names(&sale(vec![item(3, pct(100), i64::MAX)]), &products),
            ["items[0].allocated_units"]
        );
    }

    #[test]
    fn a_product_cannot_be_in_two_sales_at_once() {
        // the new sale runs [2000, 3000)
        let with = |others: Vec<SaleWindow>| [ProductFacts { other_sales: others, ..facts(1, 1000, 10) }];
        let input = sale(vec![item(1, pct(100), 1)]);
        for others in [vec![w(2_500, 4_000)], vec![w(0, 2_001)], vec![w(100, 200), w(2_999, 5_000)]] {
            let products = with(others.clone());
            assert_eq!(
                fields(&input, &products),
                [("items[0].product_id".to_owned(), "is already in another sale at that time".to_owned())],
                "{others:?}"
            );
        }
        for others in [vec![], vec![w(0, 2_000)], vec![w(3_000, 4_000)], vec![w(0, 2_000), w(3_000, 9_000)]] {
            assert!(validate_sale(&input, &with(others.clone()), NOW).is_ok(), "{others:?}");
        }
        // a sale ended early frees the product from its forced end on
        let cut = SaleTimes::scheduled(w(1_000, 5_000)).end_early(t(1_500)).unwrap();
        assert!(validate_sale(&input, &with(vec![cut.effective_window()]), NOW).is_ok());
        // with an invalid window the overlap cannot be judged and is not reported
        let bad_window = NewSale { ends_at: t(1_000), ..input };
        assert_eq!(field_names(&bad_window, &with(vec![w(0, 9_000)])), ["ends_at"]);
    }

    // --- reserve arithmetic

    #[test]
    fn requests_are_granted_whole_or_refused() {
        use ReserveError::*;
        // (requested, remaining, so_far, cap) -> outcome
        let cases = [
            ((1, 100, 0, 2), Ok(1)),
            ((2, 100, 0, 2), Ok(2)),
            ((1, 100, 1, 2), Ok(1)),
            ((0, 100, 0, 2), Err(NothingRequested)),
            ((1, 0, 0, 2), Err(SoldOut)),
            ((1, 0, 2, 2), Err(SoldOut)),
            ((1, 100, 2, 2), Err(CapReached { cap: 2 })),
            ((1, 100, 5, 2), Err(CapReached { cap: 2 })),
            ((1, 100, 0, 0), Err(CapReached { cap: 0 })),
            ((3, 100, 0, 2), Err(OverCap { cap: 2, left: 2 })),
            ((2, 100, 1, 2), Err(OverCap { cap: 2, left: 1 })),
            // the last units
            ((1, 1, 0, 2), Ok(1)),
            ((2, 2, 0, 2), Ok(2)),
            ((2, 1, 0, 2), Err(OnlyLeft { left: 1 })),
            ((5, 3, 0, 10), Err(OnlyLeft { left: 3 })),
            // both limits bite: the tighter one is named, so its number is what can be had
            ((3, 1, 0, 2), Err(OnlyLeft { left: 1 })),
            ((3, 2, 0, 2), Err(OnlyLeft { left: 2 })),
            ((3, 2, 1, 2), Err(OverCap { cap: 2, left: 1 })),
            ((5, 4, 7, 10), Err(OverCap { cap: 10, left: 3 })),
            // no overflow at the ends of the range
            ((u32::MAX, u32::MAX, 0, u32::MAX), Ok(u32::MAX)),
            ((u32::MAX, u32::MAX, 1, u32::MAX), Err(OverCap { cap: u32::MAX, left: u32::MAX - 1 })),
            ((1, u32::MAX, u32::MAX, u32::MAX), Err(CapReached { cap: u32::MAX })),
            ((u32::MAX, 1, 0, u32::MAX), Err(OnlyLeft { left: 1 })),
        ];
        for ((req, rem, so_far, cap), want) in cases {
            assert_eq!(can_reserve(req, rem, so_far, cap), want, "{req} {rem} {so_far} {cap}");
        }
    }

    #[test]
    fn the_error_names_the_most_that_can_be_had() {
        for remaining in 0..6u32 {
            for so_far in 0..5u32 {
                for cap in 0..4u32 {
                    let most = remaining.min(cap.saturating_sub(so_far));
                    for req in 1..8u32 {
                        match can_reserve(req, remaining, so_far, cap) {
                            Ok(n) => assert!(n == req && req <= most),
                            Err(ReserveError::SoldOut | ReserveError::CapReached { .. }) => {
                                assert_eq!(most, 0)
                            }
                            Err(ReserveError::OnlyLeft { left } | ReserveError::OverCap { left, .. }) => {
                                assert!(req > most && left == most && most > 0)
                            }
                            Err(ReserveError::NothingRequested) => unreachable!(),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_stampede_sells_exactly_the_allocation_within_the_cap() {
        // 2,000 customers for 100 units, cap 2; asking for 1, 2 or 3 units, some twice.
        let mut pool = Allocation { allocated: 100, sold: 0, reserved: 0 };
        let mut bought = vec![0u32; 2_000];
        let mut refused = std::collections::BTreeMap::<&str, u32>::new();
        for round in 0..2 {
            for (c, held) in bought.iter_mut().enumerate() {
                let req = ((c + round) % 3) as u32 + 1;
                match can_reserve(req, pool.remaining(), *held, 2) {
                    Ok(n) => {
                        *held += n;
                        pool.reserved += n;
                    }
                    Err(e) => *refused.entry(e.reason()).or_default() += 1,
                }
            }
        }
        assert_eq!(pool.remaining(), 0);
        assert!(pool.is_sold_out());
        assert_eq!(bought.iter().sum::<u32>(), 100);
        assert!(bought.iter().all(|&b| b <= 2));
        assert!(refused["sold_out"] > 3_000);
        assert!(refused.contains_key("over_cap"));
    }

    #[test]
    fn allocation_arithmetic_saturates() {
        let a = |allocated, sold, reserved| Allocation { allocated, sold, reserved };
        assert_eq!(a(100, 60, 39).remaining(), 1);
        assert_eq!(a(100, 60, 40).remaining(), 0);
        assert_eq!(a(100, 90, 40).remaining(), 0);
        assert_eq!(a(u32::MAX, u32::MAX, u32::MAX).remaining(), 0);
        assert_eq!(a(u32::MAX, 0, 0).remaining(), u32::MAX);
        assert!(!a(1, 0, 0).is_sold_out());
    }

    #[test]
    fn reserve_errors_read_as_plain_words_and_carry_a_reason() {
        assert_eq!(ReserveError::SoldOut.to_string(), "sold out");
        assert_eq!(ReserveError::OnlyLeft { left: 3 }.to_string(), "only 3 left");
        assert_eq!(
            ReserveError::CapReached { cap: 2 }.to_string(),
            "you have reached the limit of 2 per customer for this sale"
        );
        assert_eq!(
            ReserveError::OverCap { cap: 2, left: 1 }.to_string(),
            "the limit is 2 per customer; you can still buy 1"
        );
        let reasons: Vec<_> = [
            ReserveError::NothingRequested,
            ReserveError::SoldOut,
            ReserveError::CapReached { cap: 1 },
            ReserveError::OnlyLeft { left: 1 },
            ReserveError::OverCap { cap: 1, left: 1 },
        ]
        .map(ReserveError::reason)
        .into();
        assert_eq!(reasons, ["nothing_requested", "sold_out", "cap_reached", "only_left", "over_cap"]);
    }

    // --- reservations

    #[test]
    fn the_reservation_table_is_exactly_this() {
        use ReservationAction as A;
        use ReservationError as E;
        use ReservationState as S;
        let expected = |from: S, action: A, due: bool| -> Result<S, E> {
            match (from, action, due) {
                (S::Held, A::Pay, false) => Ok(S::Paid),
                (S::Held, A::Pay, true) => Err(E::Lapsed),
                (S::Held, A::Cancel, false) => Ok(S::Cancelled),
                (S::Held, A::Cancel, true) => Ok(S::Cancelled),
                (S::Held, A::Expire, true) => Ok(S::Expired),
                (S::Held, A::Expire, false) => Err(E::NotDue),
                (S::Paid, _, _) => Err(E::NotHeld { state: S::Paid }),
                (S::Cancelled, _, _) => Err(E::NotHeld { state: S::Cancelled }),
                (S::Expired, _, _) => Err(E::NotHeld { state: S::Expired }),
            }
        };
        let mut allowed = 0;
        for from in S::ALL {
            for action in A::ALL {
                for due in [false, true] {
                    let got = reservation_transition(from, action, due);
                    assert_eq!(got, expected(from, action, due), "{from} {action:?} due={due}");
                    allowed += usize::from(got.is_ok());
                }
            }
        }
        assert_eq!(allowed, 4);
    }

    fn held(units: u32) -> Reservation {
        Reservation::hold(units, Money(750), t(1_000), DEFAULT_HOLD_TTL)
    }

    #[test]
    fn a_hold_lasts_ten_minutes_by_default() {
        let r = held(2);
        assert_eq!(DEFAULT_HOLD_TTL, s(600));
        assert_eq!(
            r,
            Reservation {
                units: 2,
                unit_price: Money(750),
                expires_at: t(1_600),
                state: ReservationState::Held
            }
        );
        assert_eq!(r.time_left(t(1_000)), Some(s(600)));
        assert_eq!(r.time_left(t(1_599)), Some(s(1)));
        assert_eq!(r.time_left(t(1_600)), None);
        assert!(!r.is_due(Timestamp::from_micros(1_599_999_999)));
        assert!(r.is_due(t(1_600)));
    }

    #[test]
    fn paying_is_possible_once_and_only_before_the_hold_runs_out() {
        let r = held(2);
        let paid = r.apply(ReservationAction::Pay, Timestamp::from_micros(1_599_999_999)).unwrap();
        assert_eq!(paid.released_units, 0);
        assert_eq!(paid.reservation.state, ReservationState::Paid);
        assert_eq!(paid.reservation.unit_price, Money(750));
        assert_eq!(paid.reservation.time_left(t(1_100)), None);
        let again = paid.reservation.apply(ReservationAction::Pay, t(1_100));
        assert_eq!(again, Err(ReservationError::NotHeld { state: ReservationState::Paid }));
        assert_eq!(again.unwrap_err().to_string(), "this reservation has already been paid");
        // paid units are never returned: neither cancel nor expire applies
        assert!(paid.reservation.apply(ReservationAction::Cancel, t(1_100)).is_err());
        assert!(paid.reservation.apply(ReservationAction::Expire, t(9_999)).is_err());

        assert_eq!(r.apply(ReservationAction::Pay, t(1_600)), Err(ReservationError::Lapsed));
        let expired = r.apply(ReservationAction::Expire, t(1_600)).unwrap().reservation;
        assert_eq!(
            expired.apply(ReservationAction::Pay, t(1_601)),
            Err(ReservationError::NotHeld { state: ReservationState::Expired })
        );
        let cancelled = r.apply(ReservationAction::Cancel, t(1_001)).unwrap().reservation;
        assert_eq!(
            cancelled.apply(ReservationAction::Pay, t(1_002)),
            Err(ReservationError::NotHeld { state: ReservationState::Cancelled })
        );
    }

    #[test]
    fn the_locked_price_is_paid_even_after_the_sale_ends() {
        let times = SaleTimes::scheduled(w(900, 1_100));
        let list = Money(1000);
        let now = t(1_050);
        let r = Reservation::hold(1, effective_price(list, pct(2500), times, now), now, DEFAULT_HOLD_TTL);
        let ended = times.end_early(t(1_060)).unwrap();
        assert_eq!(effective_price(list, pct(2500), ended, t(1_070)), list);
        let paid = r.apply(ReservationAction::Pay, t(1_070)).unwrap().reservation;
        assert_eq!(paid.unit_price, Money(750));
    }

    #[test]
    fn cancel_and_expiry_return_the_units_exactly_once() {
        let mut pool = Allocation { allocated: 10, sold: 0, reserved: 0 };
        let r = held(3);
        pool.reserved += r.units;
        assert_eq!(pool.remaining(), 7);

        // the sweep expires it; the lazy read that races it is refused and returns nothing
        assert_eq!(r.apply(ReservationAction::Expire, t(1_599)), Err(ReservationError::NotDue));
        let step = r.apply(ReservationAction::Expire, t(1_600)).unwrap();
        assert_eq!(step.released_units, 3);
        pool.reserved -= step.released_units;
        assert_eq!(pool.remaining(), 10);
        let lazy = step.reservation.apply(ReservationAction::Expire, t(1_700));
        assert_eq!(lazy, Err(ReservationError::NotHeld { state: ReservationState::Expired }));
        assert!(step.reservation.apply(ReservationAction::Cancel, t(1_700)).is_err());

        // cancelling returns the units at once, before the hold would have run out
        let c = r.apply(ReservationAction::Cancel, t(1_001)).unwrap();
        assert_eq!((c.reservation.state, c.released_units), (ReservationState::Cancelled, 3));
        assert!(c.reservation.apply(ReservationAction::Cancel, t(1_002)).is_err());
        assert!(c.reservation.apply(ReservationAction::Expire, t(2_000)).is_err());
        // a due hold not yet swept may still be cancelled (e.g. a declined payment): once
        let late = r.apply(ReservationAction::Cancel, t(1_700)).unwrap();
        assert_eq!(late.released_units, 3);
    }

    #[test]
    fn the_cap_counts_paid_and_live_holds_across_reservations() {
        let now = t(1_100);
        let paid = Reservation { state: ReservationState::Paid, ..held(1) };
        let live = held(1);
        let due = Reservation { expires_at: t(1_100), ..held(2) };
        let cancelled = Reservation { state: ReservationState::Cancelled, ..held(2) };
        let expired = Reservation { state: ReservationState::Expired, ..held(2) };
        assert_eq!([paid, live, due, cancelled, expired].map(|r| r.units_counted(now)), [1, 1, 0, 0, 0]);
        let mine = [paid, live, due, cancelled, expired];
        assert_eq!(customer_units(&mine, now), 2);
        assert_eq!(
            can_reserve(1, 50, customer_units(&mine, now), 2),
            Err(ReserveError::CapReached { cap: 2 })
        );
        // once the live hold runs out, one unit may be reserved again
        assert_eq!(customer_units(&mine, t(1_600)), 1);
        assert_eq!(can_reserve(1, 50, customer_units(&mine, t(1_600)), 2), Ok(1));
        let many = [Reservation { units: u32::MAX, ..paid }, paid];
        assert_eq!(customer_units(&many, now), u32::MAX);
    }

    #[test]
    fn reservation_errors_read_as_plain_words() {
        use ReservationState as S;
        assert_eq!(
            ReservationError::NotHeld { state: S::Cancelled }.to_string(),
            "this reservation was cancelled"
        );
        assert_eq!(
            ReservationError::NotHeld { state: S::Expired }.to_string(),
            "this reservation has expired; reserve again"
        );
        assert_eq!(ReservationError::Lapsed.to_string(), "this reservation has expired; reserve again");
    }
}
