//! Catalog rules: what a valid product, product change and stock movement look like,
//! and how a shopper's search text becomes a safe full-text query.

use crate::money::{Currency, Money};
use crate::validation::{FieldError, ValidationErrors, bounded_text};

/// A stock keeping unit: 1-64 of `A-Z 0-9 - _ .`, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    /// Parses and upper-cases a SKU.
    pub fn parse(raw: &str) -> Result<Sku, FieldError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() || s.len() > 64 {
            return Err(FieldError::new("sku", "must be 1 to 64 characters"));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(FieldError::new("sku", "may contain only letters, digits, '-', '_' and '.'"));
        }
        Ok(Sku(s))
    }

    /// The normalised SKU.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a product name (1-200 characters).
pub fn product_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("name", raw, 1, 200)
}

/// Parses a description (up to 5000 characters, may be empty).
pub fn description(raw: &str) -> Result<String, FieldError> {
    bounded_text("description", raw, 0, 5000)
}

/// Parses a category name (1-64 characters); categories compare case-insensitively,
/// so the stored form is lower-case.
pub fn category(raw: &str) -> Result<String, FieldError> {
    // Checked again after lower-casing: some letters grow ("İ" becomes two characters).
    bounded_text("category", &raw.to_lowercase(), 1, 64)
}

/// Parses an image URL: empty for none, otherwise an absolute http(s) URL or a
/// site-relative path, at most 2048 characters.
pub fn image_url(raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > 2048 {
        return Err(FieldError::new("image_url", "must be at most 2048 characters"));
    }
    let ok_scheme = s.starts_with("https://") || s.starts_with("http://") || s.starts_with('/');
    if !ok_scheme || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new("image_url", "must be an http(s) URL or a path starting with /"));
    }
    Ok(Some(s.to_owned()))
}

/// The most units of one product the shop can hold; also the largest single movement.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// Units on hand; never negative, never above [`MAX_STOCK`].
pub fn stock(field: &str, units: i64) -> Result<i64, FieldError> {
    if units < 0 {
        Err(FieldError::new(field, "must not be negative"))
    } else if units > MAX_STOCK {
        Err(FieldError::new(field, "must be at most 1000000000"))
    } else {
        Ok(units)
    }
}

/// A product as submitted for creation, every field validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Unique SKU.
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Long description (may be empty).
    pub description: String,
    /// Price in minor units.
    pub price: Money,
    /// Currency of `price`.
    pub currency: Currency,
    /// Lower-case category.
    pub category: String,
    /// Optional picture.
    pub image_url: Option<String>,
    /// Units on hand at creation; recorded as the first stock-ledger entry.
    pub initial_stock: i64,
    /// Whether shoppers can see it.
    pub active: bool,
    /// Whether it may be returned.
    pub returnable: bool,
}

/// Raw creation input, as the API received it.
#[derive(Debug, Clone, Default)]
pub struct NewProductInput<'a> {
    /// SKU as typed.
    pub sku: &'a str,
    /// Name as typed.
    pub name: &'a str,
    /// Description as typed.
    pub description: &'a str,
    /// Price in minor units.
    pub price_cents: i64,
    /// Currency code.
    pub currency: &'a str,
    /// Category as typed.
    pub category: &'a str,
    /// Image URL as typed ("" for none).
    pub image_url: &'a str,
    /// Initial units.
    pub initial_stock: i64,
    /// Visible to shoppers.
    pub active: bool,
    /// May be returned (`None`: yes).
    pub returnable: Option<bool>,
}

impl NewProduct {
    /// Validates every field, reporting all problems at once.
    pub fn parse(input: NewProductInput<'_>) -> Result<NewProduct, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let sku = e.check(Sku::parse(input.sku));
        let name = e.check(product_name(input.name));
        let description = e.check(description(input.description));
        let price = e.check(Money::price("price_cents", input.price_cents));
        let currency = e.check(Currency::parse("currency", input.currency));
        let category = e.check(category(input.category));
        let image_url = e.check(image_url(input.image_url));
        let initial_stock = e.check(stock("initial_stock", input.initial_stock));
        e.finish(|| {
            Some(NewProduct {
                sku: sku?,
                name: name?,
                description: description?,
                price: price?,
                currency: currency?,
                category: category?,
                image_url: image_url?,
                initial_stock: initial_stock?,
                active: input.active,
                returnable: input.returnable.unwrap_or(true),
            })
        })
    }
}

/// A validated partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<Money>,
    /// New currency.
    pub currency: Option<Currency>,
    /// New category.
    pub category: Option<String>,
    /// New image (`Some(None)` removes it).
    pub image_url: Option<Option<String>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// Make returnable or not.
    pub returnable: Option<bool>,
}

/// Raw update input, as the API received it.
#[derive(Debug, Clone, Default)]
pub struct ProductPatchInput<'a> {
    /// New name.
    pub name: Option<&'a str>,
    /// New description.
    pub description: Option<&'a str>,
    /// New price in minor units.
    pub price_cents: Option<i64>,
    /// New currency code.
    pub currency: Option<&'a str>,
    /// New category.
    pub category: Option<&'a str>,
    /// New image URL; "" removes it.
    pub image_url: Option<&'a str>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// Make returnable or not.
    pub returnable: Option<bool>,
}

impl ProductPatch {
    /// Validates the fields present; an update that changes nothing is refused.
    pub fn parse(input: ProductPatchInput<'_>) -> Result<ProductPatch, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let patch = ProductPatch {
            name: input.name.and_then(|v| e.check(product_name(v))),
            description: input.description.and_then(|v| e.check(description(v))),
            price: input.price_cents.and_then(|v| e.check(Money::price("price_cents", v))),
            currency: input.currency.and_then(|v| e.check(Currency::parse("currency", v))),
            category: input.category.and_then(|v| e.check(category(v))),
            image_url: input.image_url.and_then(|v| e.check(image_url(v))),
            active: input.active,
            returnable: input.returnable,
        };
        if e.0.is_empty() && patch == ProductPatch::default() {
            e.0.push(FieldError::new("body", "names no field to change"));
        }
        e.finish(|| Some(patch))
    }
}

/// Why a stock movement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// The movement would leave fewer than zero units.
    #[error("stock would become negative: {on_hand} on hand, change of {delta}")]
    WouldGoNegative {
        /// Units on hand now.
        on_hand: i64,
        /// The requested change.
        delta: i64,
    },
    /// The movement would leave more than [`MAX_STOCK`] units.
    #[error("stock would exceed {max}: {on_hand} on hand, change of {delta}", max = MAX_STOCK)]
    AboveMaximum {
        /// Units on hand now.
        on_hand: i64,
        /// The requested change.
        delta: i64,
    },
}

/// A validated stock movement request: a non-zero delta with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockAdjustment {
    /// Units added (positive) or removed (negative).
    pub delta: i64,
    /// Why, for the ledger.
    pub reason: String,
}

impl StockAdjustment {
    /// Validates delta (non-zero, bounded) and reason (1-200 characters).
    pub fn parse(delta: i64, reason: &str) -> Result<StockAdjustment, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let d = e.check(if delta == 0 {
            Err(FieldError::new("delta", "must not be zero"))
        } else if !(-MAX_STOCK..=MAX_STOCK).contains(&delta) {
            Err(FieldError::new("delta", "must be between -1000000000 and 1000000000"))
        } else {
            Ok(delta)
        });
        let r = e.check(bounded_text("reason", reason, 1, 200));
        e.finish(|| Some(StockAdjustment { delta: d?, reason: r? }))
    }

    /// The stock after applying this movement to `on_hand`, or why it cannot be applied.
    pub fn apply(&self, on_hand: i64) -> Result<i64, StockError> {
        match on_hand.checked_add(self.delta) {
            Some(after) if after > MAX_STOCK => Err(StockError::AboveMaximum { on_hand, delta: self.delta }),
            Some(after) if after >= 0 => Ok(after),
            _ => Err(StockError::WouldGoNegative { on_hand, delta: self.delta }),
        }
    }
}

/// A price filter of the product list, in minor units; either bound may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriceRange {
    /// Lowest regular price included.
    pub min: Option<i64>,
    /// Highest regular price included.
    pub max: Option<i64>,
}

impl PriceRange {
    /// Checks the bounds of `min_price_cents` and `max_price_cents`: neither negative, and
    /// the lower not above the upper (reported on `min_price_cents`).
    pub fn parse(min: Option<i64>, max: Option<i64>) -> Result<PriceRange, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let bound = |field: &str, v: Option<i64>| match v {
            Some(c) if c < 0 => Err(FieldError::new(field, "must not be negative")),
            _ => Ok(v),
        };
        let min = errs.check(bound("min_price_cents", min));
        let max = errs.check(bound("max_price_cents", max));
        if let (Some(Some(lo)), Some(Some(hi))) = (min, max)
            && lo > hi
        {
            errs.0.push(FieldError::new("min_price_cents", "must not be greater than max_price_cents"));
        }
        errs.finish(|| Some(PriceRange { min: min?, max: max? }))
    }
}

/// Turns free search text into an FTS5 query: every word must match, the last one as the
/// start of a word (the shopper may still be typing it), the others as whole words, as
/// Meilisearch and Algolia do by default. Returns `None` when the text holds no searchable
/// word. Quoting every term means no user input is ever parsed as FTS5 syntax.
///
/// Whole words are also what keeps a search cheap: FTS5 reads a whole-word term lazily,
/// skipping to the rows the other terms match, while a prefix term first merges the full
/// list of every row holding any word it starts.
pub fn search_query(raw: &str) -> Option<String> {
    let words: Vec<String> = raw
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect();
    let (last, whole) = words.split_last()?;
    let mut terms: Vec<String> = whole.iter().map(|w| format!("\"{w}\"")).collect();
    terms.push(format!("\"{last}\"*"));
    Some(terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewProductInput<'static> {
        NewProductInput {
            sku: "ab-1",
            name: "Kettle",
            description: "",
            price_cents: 2599,
            currency: "eur",
            category: "Kitchen",
            image_url: "",
            initial_stock: 5,
            active: true,
            returnable: None,
        }
    }

    #[test]
    fn a_valid_product_is_normalised() {
        let p = NewProduct::parse(input()).unwrap();
        assert_eq!(p.sku.as_str(), "AB-1");
        assert_eq!(p.category, "kitchen");
        assert_eq!(p.currency, Currency::EUR);
        assert_eq!(p.image_url, None);
    }

    #[test]
    fn every_invalid_field_is_reported_by_name() {
        let long = "n".repeat(201);
        let bad = NewProductInput {
            sku: "a b",
            name: &long,
            price_cents: -5,
            currency: "ZZZ",
            category: "",
            image_url: "javascript:alert(1)",
            initial_stock: -1,
            ..input()
        };
        let errs = NewProduct::parse(bad).unwrap_err();
        let mut fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["category", "currency", "image_url", "initial_stock", "name", "price_cents", "sku"]
        );
    }

    #[test]
    fn an_empty_patch_is_refused_and_an_empty_image_clears_it() {
        assert_eq!(ProductPatch::parse(ProductPatchInput::default()).unwrap_err().0[0].field, "body");
        let p = ProductPatch::parse(ProductPatchInput { image_url: Some(""), ..Default::default() });
        assert_eq!(p.unwrap().image_url, Some(None));
    }

    #[test]
    fn a_patch_with_a_negative_price_names_the_field() {
        let p = ProductPatch::parse(ProductPatchInput { price_cents: Some(-1), ..Default::default() });
        assert_eq!(p.unwrap_err().0[0].field, "price_cents");
    }

    #[test]
    fn stock_never_goes_negative() {
        let take = StockAdjustment::parse(-3, "damaged").unwrap();
        assert_eq!(take.apply(3), Ok(0));
        assert_eq!(take.apply(2), Err(StockError::WouldGoNegative { on_hand: 2, delta: -3 }));
        let add = StockAdjustment::parse(i64::MAX / 2, "x");
        assert!(add.is_err());
    }

    #[test]
    fn a_category_is_checked_after_lower_casing() {
        // "İ" lower-cases to two characters: 64 of them become 128, over the limit.
        let long = "İ".repeat(64);
        assert_eq!(category(&long).unwrap_err().field, "category");
        assert_eq!(category(&"İ".repeat(32)).map(|c| c.chars().count()), Ok(64));
    }

    #[test]
    fn extreme_deltas_are_refused_without_overflow() {
        for d in [i64::MIN, i64::MIN + 1, i64::MAX, -1_000_000_001, 1_000_000_001] {
            assert_eq!(StockAdjustment::parse(d, "x").unwrap_err().0[0].field, "delta", "{d}");
        }
        assert!(StockAdjustment::parse(-1_000_000_000, "x").is_ok());
    }

    #[test]
    fn stock_never_exceeds_its_documented_maximum() {
        let add = StockAdjustment::parse(10, "delivery").unwrap();
        assert_eq!(add.apply(MAX_STOCK - 10), Ok(MAX_STOCK));
        assert_eq!(
            add.apply(MAX_STOCK - 9),
            Err(StockError::AboveMaximum { on_hand: MAX_STOCK - 9, delta: 10 })
        );
    }

    #[test]
    fn stock_adjustment_requires_a_reason_and_a_non_zero_delta() {
        let errs = StockAdjustment::parse(0, " ").unwrap_err();
        assert_eq!(errs.0.len(), 2);
    }

    #[test]
    fn search_text_becomes_quoted_terms_with_the_last_one_a_prefix() {
        assert_eq!(search_query("  Red KETTLE! "), Some("\"red\" \"kettle\"*".to_owned()));
        assert_eq!(search_query("\"OR NEAR("), Some("\"or\" \"near\"*".to_owned()));
        assert_eq!(search_query("kett"), Some("\"kett\"*".to_owned()));
        assert_eq!(search_query(" -*- "), None);
    }

    #[test]
    fn price_ranges_refuse_negative_and_crossed_bounds() {
        assert_eq!(PriceRange::parse(None, None).unwrap(), PriceRange::default());
        assert_eq!(PriceRange::parse(Some(0), Some(0)).unwrap(), PriceRange { min: Some(0), max: Some(0) });
        assert_eq!(PriceRange::parse(None, Some(500)).unwrap().max, Some(500));
        let fields = |e: ValidationErrors| e.0.into_iter().map(|f| f.field).collect::<Vec<_>>();
        assert_eq!(fields(PriceRange::parse(Some(-1), None).unwrap_err()), ["min_price_cents"]);
        assert_eq!(fields(PriceRange::parse(Some(1), Some(-1)).unwrap_err()), ["max_price_cents"]);
        assert_eq!(fields(PriceRange::parse(Some(501), Some(500)).unwrap_err()), ["min_price_cents"]);
    }
}
