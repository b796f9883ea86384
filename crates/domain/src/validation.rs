//! Field-level validation errors shared by every parser in the domain.

use serde::{Deserialize, Serialize};

/// One problem with one input field, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The input field, as named in the request (`price_cents`, `email`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// All problems found in one input; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Records the outcome of one field's parse and returns its value when valid.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// `Ok(value)` when no problem was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            // Every field parsed, so every `Option` the closure unwraps is `Some`.
            value().ok_or(self)
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// Trims `raw` and checks it is between `min` and `max` characters long.
pub fn bounded_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let s = raw.trim();
    let n = s.chars().count();
    if n < min {
        return Err(if min == 1 {
            FieldError::new(field, "must not be empty")
        } else {
            FieldError::new(field, format!("must be at least {min} characters"))
        });
    }
    if n > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// Longest free-text filter a list query accepts (search words, name fragments).
pub const MAX_FILTER_CHARS: usize = 200;

/// An optional free-text filter from a query string: trimmed, `None` when blank, refused
/// when longer than [`MAX_FILTER_CHARS`] so that no unbounded text reaches a query, and when
/// it holds a control character other than tab and line feed (what the API's patterns
/// `^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$` say).
pub fn filter_text(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > MAX_FILTER_CHARS => {
            Err(FieldError::new(field, format!("must be at most {MAX_FILTER_CHARS} characters")))
        }
        Some(s) if s.chars().any(|c| c.is_control() && c != '\t' && c != '\n') => {
            Err(FieldError::new(field, "must not contain control characters"))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_text_is_optional_trimmed_and_capped() {
        assert_eq!(filter_text("q", None), Ok(None));
        assert_eq!(filter_text("q", Some("   ")), Ok(None));
        assert_eq!(filter_text("q", Some(" red ")), Ok(Some("red".to_owned())));
        assert!(filter_text("q", Some("a\u{84}b")).is_err(), "C1 control");
        assert!(filter_text("q", Some("a\u{7f}")).is_err(), "DEL");
        assert!(filter_text("q", Some("a\rb")).is_err(), "carriage return");
        assert_eq!(filter_text("q", Some("a\tb")), Ok(Some("a\tb".to_owned())));
        let long = "é".repeat(MAX_FILTER_CHARS + 1);
        assert_eq!(filter_text("q", Some(&long)).unwrap_err().field, "q");
        assert!(filter_text("q", Some(&"é".repeat(MAX_FILTER_CHARS))).is_ok());
    }

    #[test]
    fn bounded_text_trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded_text("f", "  héllo ", 1, 5), Ok("héllo".to_owned()));
        assert!(bounded_text("f", "héllo!", 1, 5).is_err());
    }

    #[test]
    fn bounded_text_rejects_blank_and_control_characters() {
        assert_eq!(bounded_text("name", "   ", 1, 5).unwrap_err().field, "name");
        assert!(bounded_text("name", "a\u{0}b", 1, 5).is_err());
        assert!(bounded_text("name", "a\nb", 1, 5).is_ok());
    }

    #[test]
    fn finish_reports_every_recorded_error() {
        let mut errs = ValidationErrors::default();
        let a = errs.check(Err::<i32, _>(FieldError::new("a", "bad")));
        let b = errs.check(Err::<i32, _>(FieldError::new("b", "bad")));
        let r = errs.finish(|| Some((a?, b?)));
        assert_eq!(r.unwrap_err().0.len(), 2);
    }
}
