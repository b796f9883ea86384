use retail_api_types::Pagination;
use yew::prelude::*;

use crate::format::count_noun;

#[derive(Properties, PartialEq)]
pub struct PagerProps {
    pub pagination: Pagination,
    /// Plural noun for the count, e.g. `products`.
    pub noun: (&'static str, &'static str),
    pub on_page: Callback<u32>,
}

/// `#page-prev`, `#page-info` ("Page X of Y · N products"), `#page-next`.
#[component]
pub fn Pager(props: &PagerProps) -> Html {
    let p = props.pagination;
    let prev = p.page.saturating_sub(1).max(1);
    let next = p.page.saturating_add(1);
    let has_prev = p.page > 1;
    let has_next = i64::from(p.page) < p.total_pages;
    html! {
        <nav class="pager" aria-label="Pages">
            <button id="page-prev" type="button" disabled={!has_prev}
                onclick={props.on_page.reform(move |_| prev)}>{ "‹ Previous" }</button>
            <span id="page-info">
                { format!("Page {} of {} · {}", p.page, p.total_pages, count_noun(p.total, props.noun.0, props.noun.1)) }
            </span>
            <button id="page-next" type="button" disabled={!has_next}
                onclick={props.on_page.reform(move |_| next)}>{ "Next ›" }</button>
        </nav>
    }
}

/// Where to go when the page asked for lies past the last one (an old link, a list that
/// shrank): the last page, or the first when the list is empty. `None` when the page exists.
pub fn past_end(p: &Pagination) -> Option<u32> {
    let last = u32::try_from(p.total_pages.max(1)).unwrap_or(u32::MAX);
    (p.page > last).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(page: u32, total_pages: i64) -> Pagination {
        Pagination { page, per_page: 12, total: total_pages * 12, total_pages }
    }

    #[test]
    fn a_page_past_the_end_goes_to_the_last_one() {
        assert_eq!(past_end(&at(9, 5)), Some(5));
        assert_eq!(past_end(&at(6, 5)), Some(5));
        assert_eq!(past_end(&at(5, 5)), None);
        assert_eq!(past_end(&at(1, 5)), None);
    }

    #[test]
    fn an_empty_list_goes_to_the_first_page() {
        assert_eq!(past_end(&at(3, 0)), Some(1));
        assert_eq!(past_end(&at(1, 0)), None);
        assert_eq!(past_end(&at(1, 1)), None);
    }
}
