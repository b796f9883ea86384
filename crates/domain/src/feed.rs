//! Partner feed rules (issue 9), pure: prices read from decimal strings without floats, the
//! per-row validation of a feed row, how a row changes a product, the three modes, the
//! escaping of cells in the CSV error report, and the lifetime of a partner's API keys.
//!
//! Nothing here reads a clock, a file or the network: the ingest pipeline (format adapters,
//! batching, jobs) passes rows in and gets decisions out.

use std::time::Duration;

use crate::catalog::{self, Sku};
use crate::money::{Currency, Money};
use crate::sale::Timestamp;
use crate::validation::FieldError;

// ---------------------------------------------------------------------------------- prices

/// Digits after the decimal point of the currencies the shop accepts (all use cents).
pub const MINOR_DIGITS: u32 = 2;

/// Reads a price written in major units as a decimal string ("1.15" is exactly 115 cents):
/// optional surrounding spaces, digits, at most [`MINOR_DIGITS`] decimals after a `.`. No
/// sign, exponent, thousands separator or decimal comma: those are refused with a message
/// naming what to send instead, never guessed.
pub fn price_from_major(field: &str, raw: &str) -> Result<Money, FieldError> {
    let s = raw.trim();
    let bad = |why: &str| Err(FieldError::new(field, format!("{why} (send e.g. \"12.50\")")));
    if s.is_empty() {
        return bad("is empty");
    }
    if s.starts_with('-') {
        return Err(FieldError::new(field, "must not be negative"));
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return if s.contains(',') {
            bad("uses a comma; write the decimal point as '.'")
        } else {
            bad("is not a decimal number")
        };
    }
    let frac = frac.unwrap_or("");
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return bad("is not a decimal number");
    }
    if frac.len() > MINOR_DIGITS as usize {
        return bad("has more than 2 decimals");
    }
    // At most 12 whole digits: far above the price limit, far below i64 overflow.
    if whole.trim_start_matches('0').len() > 12 {
        return Err(FieldError::new(field, format!("must be at most {}", Money::MAX_PRICE.cents() / 100)));
    }
    let whole: i64 = whole.parse().map_err(|_| FieldError::new(field, "is not a decimal number"))?;
    let mut cents = whole * 100;
    if !frac.is_empty() {
        let f: i64 = frac.parse().map_err(|_| FieldError::new(field, "is not a decimal number"))?;
        cents += if frac.len() == 1 { f * 10 } else { f };
    }
    Money::price(field, cents)
}

/// Reads a price in minor units (an integer column such as `price_cents`).
pub fn price_from_minor(field: &str, raw: &str) -> Result<Money, FieldError> {
    let s = raw.trim();
    if s.is_empty() || !s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) || s == "-" {
        return Err(FieldError::new(field, "must be a whole number of minor units (e.g. 1250)"));
    }
    let n: i64 = s.parse().map_err(|_| FieldError::new(field, "is too large"))?;
    Money::price(field, n)
}

// ------------------------------------------------------------------------------------ rows

/// Which column carries the price; part of a partner's feed contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceColumn {
    /// `price`: a decimal string in major units ("12.50").
    Major,
    /// `price_cents`: an integer in minor units (1250).
    Minor,
}

/// One row as a format adapter read it: every field optional text, before any checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based row number in the file (the header of a CSV is row 1, its first data row 2;
    /// a JSON array's first element is row 1).
    pub number: u64,
    /// `sku`.
    pub sku: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `price` (major units) or `price_cents` (minor units), as the contract says.
    pub price: Option<String>,
    /// `currency` (the partner's default when absent).
    pub currency: Option<String>,
    /// `stock` (0 when absent).
    pub stock: Option<String>,
    /// `category` ([`DEFAULT_CATEGORY`] when absent).
    pub category: Option<String>,
    /// `description` (empty when absent).
    pub description: Option<String>,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    /// Row number in the file.
    pub number: u64,
    /// The SKU (the partner's key for the product).
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Unit price.
    pub price: Money,
    /// Its currency.
    pub currency: Currency,
    /// Units on hand (moved through the stock ledger).
    pub stock: i64,
    /// Lower-case category.
    pub category: String,
    /// Description (may be empty).
    pub description: String,
}

/// Why a row was refused: its number, the field, the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Row number in the file.
    pub row: u64,
    /// The field, as the feed names it.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// Category given to rows that name none.
pub const DEFAULT_CATEGORY: &str = "uncategorized";

fn keep<T>(errors: &mut Vec<RowError>, row: u64, r: Result<T, FieldError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(RowError { row, field: e.field, reason: e.message });
            None
        }
    }
}

/// Checks one row under the partner's price contract; every problem of the row is reported.
pub fn validate_row(
    raw: &RawRow,
    price: PriceColumn,
    default_currency: Currency,
) -> Result<FeedRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let row = raw.number;
    let required = |field: &str, v: &Option<String>| -> Result<String, FieldError> {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err(FieldError::new(field, "is required")),
        }
    };
    let sku = keep(&mut errors, row, required("sku", &raw.sku).and_then(|s| catalog::Sku::parse(&s)));
    let name = keep(&mut errors, row, required("name", &raw.name).and_then(|s| catalog::product_name(&s)));
    let price_field = match price {
        PriceColumn::Major => "price",
        PriceColumn::Minor => "price_cents",
    };
    let price = keep(
        &mut errors,
        row,
        required(price_field, &raw.price).and_then(|s| match price {
            PriceColumn::Major => price_from_major(price_field, &s),
            PriceColumn::Minor => price_from_minor(price_field, &s),
        }),
    );
    let currency = keep(
        &mut errors,
        row,
        match raw.currency.as_deref().map(str::trim) {
            None | Some("") => Ok(default_currency),
            Some(c) => Currency::parse("currency", c),
        },
    );
    let stock = keep(
        &mut errors,
        row,
        match raw.stock.as_deref().map(str::trim) {
            None | Some("") => Ok(0),
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| FieldError::new("stock", "must be a whole number"))
                .and_then(|n| catalog::stock("stock", n)),
        },
    );
    let category = keep(
        &mut errors,
        row,
        match raw.category.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_CATEGORY.to_owned()),
            Some(c) => catalog::category(c),
        },
    );
    let description = keep(&mut errors, row, catalog::description(raw.description.as_deref().unwrap_or("")));
    match (sku, name, price, currency, stock, category, description) {
        (
            Some(sku),
            Some(name),
            Some(price),
            Some(currency),
            Some(stock),
            Some(category),
            Some(description),
        ) if errors.is_empty() => {
            Ok(FeedRow { number: raw.number, sku, name, price, currency, stock, category, description })
        }
        _ => Err(errors),
    }
}

/// What a valid row does to the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// A new product of the partner's.
    Create,
    /// The partner's product, with something different.
    Update,
    /// The partner's product, exactly as the row says.
    Unchanged,
}

/// A product as the feed may compare it: its owner and the fields a feed sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The partner that owns it; `None` for the shop's own products.
    pub partner_id: Option<i64>,
    /// Display name.
    pub name: String,
    /// Unit price.
    pub price: Money,
    /// Its currency.
    pub currency: Currency,
    /// Units on hand.
    pub stock: i64,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
}

/// Why a valid row may still not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The SKU belongs to the shop or another partner.
    #[error("this SKU belongs to another seller's product")]
    NotYours,
}

/// Decides what the row of `partner` does to the product with its SKU, if one exists.
pub fn change_for(partner: i64, row: &FeedRow, existing: Option<&Existing>) -> Result<Change, ChangeError> {
    let Some(e) = existing else { return Ok(Change::Create) };
    if e.partner_id != Some(partner) {
        return Err(ChangeError::NotYours);
    }
    let same = e.name == row.name
        && e.price == row.price
        && e.currency == row.currency
        && e.stock == row.stock
        && e.category == row.category
        && e.description == row.description;
    Ok(if same { Change::Unchanged } else { Change::Update })
}

/// The rows of one file whose SKU appeared on an earlier row: later duplicates are errors
/// (the file is ambiguous), the first occurrence stands.
pub fn duplicate_skus(rows: &[FeedRow]) -> Vec<RowError> {
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::new();
    for r in rows {
        if let Some(first) = seen.insert(r.sku.as_str().to_owned(), r.number) {
            out.push(RowError {
                row: r.number,
                field: "sku".into(),
                reason: format!("duplicate of row {first}"),
            });
            seen.insert(r.sku.as_str().to_owned(), first);
        }
    }
    out
}

// ----------------------------------------------------------------------------------- modes

/// How a feed is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Dry run: counts and row errors, nothing written.
    ValidateOnly,
    /// Good rows applied, bad rows reported.
    Lenient,
    /// All rows or none: one bad row and nothing is applied.
    Strict,
}

impl Mode {
    /// The stored and submitted name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ValidateOnly => "validate_only",
            Mode::Lenient => "lenient",
            Mode::Strict => "strict",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(raw: &str) -> Option<Mode> {
        [Mode::ValidateOnly, Mode::Lenient, Mode::Strict].into_iter().find(|m| m.as_str() == raw)
    }

    /// Whether the valid rows of a file with `errors` bad rows are written.
    pub fn writes(self, errors: usize) -> bool {
        match self {
            Mode::ValidateOnly => false,
            Mode::Lenient => true,
            Mode::Strict => errors == 0,
        }
    }
}

// ------------------------------------------------------------------------------ the report

/// A cell of the CSV error report, safe to open in a spreadsheet: a value that starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return) is prefixed with `'` (OWASP's advice
/// for CSV injection). Quoting is the CSV writer's job.
pub fn report_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

// -------------------------------------------------------------------------------- API keys

/// One of a partner's API keys as stored (its hash lives beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLife {
    /// Set when the key was rotated out: it keeps working until this instant.
    pub retires_at: Option<Timestamp>,
    /// Set when the key was revoked: it stops at once.
    pub revoked: bool,
}

impl KeyLife {
    /// A key in use.
    pub const ACTIVE: KeyLife = KeyLife { retires_at: None, revoked: false };

    /// Whether a request carrying this key is accepted at `now`.
    pub fn accepts(self, now: Timestamp) -> bool {
        !self.revoked && self.retires_at.is_none_or(|t| now < t)
    }

    /// The old key's life after a rotation at `now` with this grace period.
    pub fn rotated(self, now: Timestamp, grace: Duration) -> KeyLife {
        let until = now.saturating_add(grace);
        KeyLife { retires_at: Some(self.retires_at.map_or(until, |t| t.min(until))), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_unit_prices_are_exact() {
        let ok = |s: &str| price_from_major("price", s).unwrap().cents();
        assert_eq!(ok("1.15"), 115);
        assert_eq!(ok("0.1"), 10);
        assert_eq!(ok("0.29"), 29); // 0.29 * 100 is 28.999... as a float
        assert_eq!(ok("12"), 1200);
        assert_eq!(ok(" 12.50 "), 1250);
        assert_eq!(ok("007.05"), 705);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("10000000.00"), Money::MAX_PRICE.cents());
        for bad in ["", "-1", "1.999", "1e3", "1,50", ".5", "5.", "1.2.3", "NaN", "inf", "+1", "1 000", "١٢"]
        {
            assert!(price_from_major("price", bad).is_err(), "{bad:?}");
        }
        assert!(price_from_major("price", "10000000.01").is_err());
        assert!(price_from_major("price", "99999999999999999999").is_err());
        assert!(price_from_major("price", "1,50").unwrap_err().message.contains("comma"));
        assert!(price_from_major("price", "-2").unwrap_err().message.contains("negative"));
    }

    #[test]
    fn minor_unit_prices_are_integers() {
        assert_eq!(price_from_minor("price_cents", "1250").unwrap().cents(), 1250);
        for bad in ["", "12.5", "-1", "-", "x", "99999999999999999999"] {
            assert!(price_from_minor("price_cents", bad).is_err(), "{bad:?}");
        }
    }

    fn raw(n: u64) -> RawRow {
        RawRow {
            number: n,
            sku: Some("ACME-1".into()),
            name: Some("Anvil".into()),
            price: Some("19.99".into()),
            currency: None,
            stock: Some("5".into()),
            category: None,
            description: None,
        }
    }

    #[test]
    fn a_good_row_is_read_with_defaults() {
        let r = validate_row(&raw(2), PriceColumn::Major, Currency::EUR).unwrap();
        assert_eq!(
            (r.sku.as_str(), r.price.cents(), r.currency, r.stock),
            ("ACME-1", 1999, Currency::EUR, 5)
        );
        assert_eq!(r.category, DEFAULT_CATEGORY);
    }

    #[test]
    fn every_problem_of_a_row_is_named_with_its_row() {
        let bad = RawRow {
            number: 7,
            sku: Some("bad sku!".into()),
            name: Some("   ".into()),
            price: Some("1.999".into()),
            currency: Some("XXX".into()),
            stock: Some("-3".into()),
            ..RawRow::default()
        };
        let errs = validate_row(&bad, PriceColumn::Major, Currency::EUR).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sku", "name", "price", "currency", "stock"]);
        assert!(errs.iter().all(|e| e.row == 7));
        let minor = RawRow { price: Some("12.5".into()), ..raw(3) };
        let errs = validate_row(&minor, PriceColumn::Minor, Currency::EUR).unwrap_err();
        assert_eq!(errs[0].field, "price_cents");
    }

    #[test]
    fn rows_change_only_the_partners_own_products() {
        let row = validate_row(&raw(2), PriceColumn::Major, Currency::EUR).unwrap();
        let mine = Existing {
            partner_id: Some(1),
            name: row.name.clone(),
            price: row.price,
            currency: row.currency,
            stock: row.stock,
            category: row.category.clone(),
            description: row.description.clone(),
        };
        assert_eq!(change_for(1, &row, None), Ok(Change::Create));
        assert_eq!(change_for(1, &row, Some(&mine)), Ok(Change::Unchanged));
        assert_eq!(change_for(1, &row, Some(&Existing { stock: 9, ..mine.clone() })), Ok(Change::Update));
        assert_eq!(change_for(2, &row, Some(&mine)), Err(ChangeError::NotYours));
        assert_eq!(
            change_for(1, &row, Some(&Existing { partner_id: None, ..mine })),
            Err(ChangeError::NotYours)
        );
    }

    #[test]
    fn later_duplicates_in_one_file_are_errors() {
        let a = validate_row(&raw(2), PriceColumn::Major, Currency::EUR).unwrap();
        let b = FeedRow { number: 5, ..a.clone() };
        let c = FeedRow { number: 9, ..a.clone() };
        let errs = duplicate_skus(&[a, b, c]);
        assert_eq!(
            errs.iter().map(|e| (e.row, e.reason.as_str())).collect::<Vec<_>>(),
            [(5, "duplicate of row 2"), (9, "duplicate of row 2")]
        );
    }

    #[test]
    fn modes_decide_what_is_written() {
        assert!(!Mode::ValidateOnly.writes(0));
        assert!(Mode::Lenient.writes(3));
        assert!(Mode::Strict.writes(0) && !Mode::Strict.writes(1));
        for m in [Mode::ValidateOnly, Mode::Lenient, Mode::Strict] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("STRICT"), None);
    }

    #[test]
    fn report_cells_never_start_a_formula() {
        for (v, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM", "'@SUM"),
            ("\tx", "'\tx"),
        ] {
            assert_eq!(report_cell(v), want);
        }
        assert_eq!(report_cell("ACME-1"), "ACME-1");
        assert_eq!(report_cell(""), "");
    }

    #[test]
    fn a_rotated_key_works_through_its_grace_and_a_revoked_one_never() {
        let t = Timestamp::from_secs;
        assert!(KeyLife::ACTIVE.accepts(t(0)));
        let old = KeyLife::ACTIVE.rotated(t(100), Duration::from_secs(60));
        assert!(old.accepts(t(159)) && !old.accepts(t(160)));
        // rotating again never extends the old key's life
        assert_eq!(old.rotated(t(150), Duration::from_secs(600)).retires_at, Some(t(160)));
        assert!(!KeyLife { revoked: true, ..KeyLife::ACTIVE }.accepts(t(0)));
    }
}
