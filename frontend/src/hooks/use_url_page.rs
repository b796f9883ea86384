use retail_api_types::Pagination;
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::past_end;
use crate::pages::page_of;
use crate::routes::Route;

#[derive(Serialize)]
struct PageParam {
    page: u32,
}

/// The page of a list whose only URL state is `?page=` (see [`use_url_page`]).
pub struct UrlPage {
    /// The page in the URL (1 when absent or junk).
    pub page: u32,
    /// Goes to a page: a new history entry, scrolled to the top.
    pub on_page: Callback<u32>,
    /// Replaces the current entry's page (no new history entry).
    replace: Callback<u32>,
}

/// Paging kept in the URL of `route`, so reload and back/forward restore the page.
#[hook]
pub fn use_url_page(route: Route) -> UrlPage {
    let location = use_location();
    let navigator = use_navigator();
    let page = location.map(|l| page_of(l.query_str())).unwrap_or(1);
    let navigate = |replace: bool| {
        let (navigator, route) = (navigator.clone(), route.clone());
        Callback::from(move |page: u32| {
            let Some(nav) = &navigator else { return };
            let q = PageParam { page };
            let done =
                if replace { nav.replace_with_query(&route, &q) } else { nav.push_with_query(&route, &q) };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let on_page = Callback::from(move |p| {
        go.emit(p);
        gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    UrlPage { page, on_page, replace }
}

/// `?page=9` of 5 pages: replaces the URL's page with the last one (no new history entry)
/// instead of showing an empty page beside "Page 9 of 5". Whether that is under way, so the
/// view shows loading meanwhile. `pagination` is that of the loaded page, if loaded.
#[hook]
pub fn use_clamped_page(paging: &UrlPage, pagination: Option<&Pagination>) -> bool {
    let overflow = pagination.and_then(past_end);
    let replace = paging.replace.clone();
    use_effect_with(overflow, move |o| {
        if let Some(last) = *o {
            replace.emit(last);
        }
    });
    overflow.is_some()
}
