//! Pagination and sorting of lists.

use crate::validation::FieldError;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl PageRequest {
    /// Default page size.
    pub const DEFAULT_PER_PAGE: u32 = 20;
    /// Largest page size a client may ask for.
    pub const MAX_PER_PAGE: u32 = 100;
    /// Largest page number; keeps OFFSET bounded.
    pub const MAX_PAGE: u32 = 100_000;

    /// Applies defaults and bounds.
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<PageRequest, FieldError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if page == 0 || page > Self::MAX_PAGE {
            return Err(FieldError::new("page", format!("must be between 1 and {}", Self::MAX_PAGE)));
        }
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            return Err(FieldError::new("per_page", format!("must be between 1 and {}", Self::MAX_PER_PAGE)));
        }
        Ok(PageRequest { page, per_page })
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    /// Rows to return.
    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// Number of pages needed for `total` items (at least 1, so page 1 always exists).
    pub fn total_pages(self, total: i64) -> i64 {
        let per = i64::from(self.per_page);
        ((total.max(0) + per - 1) / per).max(1)
    }
}

/// Orders a product list can be sorted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    /// Best full-text match first (only meaningful with a search).
    Relevance,
    /// Name A-Z.
    NameAsc,
    /// Name Z-A.
    NameDesc,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Most recently added first.
    Newest,
}

impl ProductSort {
    /// Accepted spellings, for error messages and the API docs.
    pub const ACCEPTED: &'static str = "relevance, name, -name, price, -price, newest";

    /// Parses `sort`; without one, a search sorts by relevance and a plain list by name.
    pub fn parse(raw: Option<&str>, searching: bool) -> Result<ProductSort, FieldError> {
        Ok(match raw.map(str::trim) {
            None | Some("") => {
                if searching {
                    ProductSort::Relevance
                } else {
                    ProductSort::NameAsc
                }
            }
            Some("relevance") if searching => ProductSort::Relevance,
            Some("relevance") => ProductSort::NameAsc,
            Some("name") => ProductSort::NameAsc,
            Some("-name") => ProductSort::NameDesc,
            Some("price") => ProductSort::PriceAsc,
            Some("-price") => ProductSort::PriceDesc,
            Some("newest") => ProductSort::Newest,
            Some(_) => {
                return Err(FieldError::new("sort", format!("must be one of: {}", Self::ACCEPTED)));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_page_one_of_twenty() {
        let p = PageRequest::parse(None, None).unwrap();
        assert_eq!((p.page, p.per_page, p.offset(), p.limit()), (1, 20, 0, 20));
    }

    #[test]
    fn out_of_range_pages_name_their_field() {
        assert_eq!(PageRequest::parse(Some(0), None).unwrap_err().field, "page");
        assert_eq!(PageRequest::parse(None, Some(101)).unwrap_err().field, "per_page");
        assert_eq!(PageRequest::parse(None, Some(0)).unwrap_err().field, "per_page");
    }

    #[test]
    fn offsets_and_page_counts() {
        let p = PageRequest::parse(Some(3), Some(10)).unwrap();
        assert_eq!(p.offset(), 20);
        assert_eq!(p.total_pages(0), 1);
        assert_eq!(p.total_pages(10), 1);
        assert_eq!(p.total_pages(11), 2);
    }

    #[test]
    fn sort_defaults_depend_on_searching() {
        assert_eq!(ProductSort::parse(None, true), Ok(ProductSort::Relevance));
        assert_eq!(ProductSort::parse(None, false), Ok(ProductSort::NameAsc));
        assert_eq!(ProductSort::parse(Some("relevance"), false), Ok(ProductSort::NameAsc));
        assert_eq!(ProductSort::parse(Some("-price"), false), Ok(ProductSort::PriceDesc));
        assert_eq!(ProductSort::parse(Some("cheapest"), false).unwrap_err().field, "sort");
    }
}
