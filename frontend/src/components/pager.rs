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
