use retail_api_types::{CategoryCount, ProductQuery, SupplierCount};
use serde::Serialize;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::bind_input;
use crate::components::{ErrorBox, Loading, Pager, ProductCard, Select, past_end};
use crate::format::{cents_to_decimal, parse_price_cents};
use crate::hooks::{Load, use_load, use_session, use_settled, use_title};
use crate::routes::Route;
use crate::services::catalog;

/// Products per catalog page (divides evenly into 2, 3 and 4 columns).
pub const PER_PAGE: u32 = 12;

/// The catalog's state as kept in the URL, so reload and back/forward restore it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CatalogQuery {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub category: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sort: String,
    /// Price bounds in minor units, as the API takes them (the inputs show major units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_price_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_price_cents: Option<i64>,
    #[serde(skip_serializing_if = "is_false")]
    pub in_stock: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub on_sale: bool,
    /// Only the products of this partner (supplier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<i64>,
    #[serde(skip_serializing_if = "is_first_page")]
    pub page: u32,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The price inputs (major units, e.g. `12.50`; blank for no bound) as minor units, with
/// integer arithmetic only; an error names the input and what is wrong.
pub fn price_bounds(min: &str, max: &str) -> Result<(Option<i64>, Option<i64>), String> {
    let bound = |label: &str, raw: &str| {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            parse_price_cents(raw).map(Some).map_err(|m| format!("{label}: {m}"))
        }
    };
    let (min, max) = (bound("Min price", min)?, bound("Max price", max)?);
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => Err("Min price is above max price".to_owned()),
        _ => Ok((min, max)),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl CatalogQuery {
    /// Reads `?q=&category=&sort=&min_price_cents=&max_price_cents=&in_stock=&on_sale=&partner_id=&page=`;
    /// junk values fall back to defaults (crossed price bounds to none).
    pub fn parse(query_str: &str) -> CatalogQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = CatalogQuery { page: 1, ..CatalogQuery::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "q" => out.q = v,
                "category" => out.category = v,
                "sort" => out.sort = v,
                "min_price_cents" => out.min_price_cents = v.parse().ok().filter(|c| *c >= 0),
                "max_price_cents" => out.max_price_cents = v.parse().ok().filter(|c| *c >= 0),
                "in_stock" => out.in_stock = v == "true",
                "on_sale" => out.on_sale = v == "true",
                "partner_id" => out.partner_id = v.parse().ok().filter(|p| *p >= 1),
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                _ => {}
            }
        }
        if let (Some(lo), Some(hi)) = (out.min_price_cents, out.max_price_cents)
            && lo > hi
        {
            (out.min_price_cents, out.max_price_cents) = (None, None);
        }
        out
    }

    /// The API query for this state.
    pub fn to_api(&self) -> ProductQuery {
        ProductQuery {
            page: Some(self.page.max(1)),
            per_page: Some(PER_PAGE),
            sort: non_empty(&self.sort),
            category: non_empty(&self.category),
            q: non_empty(&self.q),
            include_inactive: None,
            min_price_cents: self.min_price_cents,
            max_price_cents: self.max_price_cents,
            in_stock: self.in_stock.then_some(true),
            on_sale: self.on_sale.then_some(true),
            partner_id: self.partner_id,
        }
    }

    fn is_filtered(&self) -> bool {
        !self.q.is_empty()
            || !self.category.is_empty()
            || self.min_price_cents.is_some()
            || self.max_price_cents.is_some()
            || self.in_stock
            || self.on_sale
            || self.partner_id.is_some()
    }
}

fn sort_options(searching: bool, current: &str) -> Vec<(String, String)> {
    // Without a search the default order is by name, so "name" would only repeat it.
    let default = if searching { "Best match" } else { "Name (A–Z)" };
    [
        ("", default),
        ("name", "Name (A–Z)"),
        ("-name", "Name (Z–A)"),
        ("price", "Price: low to high"),
        ("-price", "Price: high to low"),
        ("newest", "Newest"),
    ]
    .into_iter()
    .filter(|(v, _)| searching || *v != "name" || current == "name")
    .map(|(v, l)| (v.to_owned(), l.to_owned()))
    .collect()
}

fn category_options(categories: &Load<Vec<CategoryCount>>, current: &str) -> Vec<(String, String)> {
    let mut opts = vec![(String::new(), "All".to_owned())];
    if let Load::Ready(list) = categories {
        opts.extend(
            list.iter().map(|c| (c.category.clone(), format!("{} ({})", c.category, c.product_count))),
        );
    }
    // A category from the URL that has no active products still shows as chosen.
    if !current.is_empty() && !opts.iter().any(|(v, _)| v == current) {
        opts.push((current.to_owned(), current.to_owned()));
    }
    opts
}

fn supplier_options(suppliers: &Load<Vec<SupplierCount>>, current: Option<i64>) -> Vec<(String, String)> {
    let mut opts = vec![(String::new(), "All".to_owned())];
    if let Load::Ready(list) = suppliers {
        opts.extend(
            list.iter().map(|s| (s.partner_id.to_string(), format!("{} ({})", s.name, s.product_count))),
        );
    }
    // A supplier from the URL with no visible products still shows as chosen.
    if let Some(id) = current.map(|p| p.to_string())
        && !opts.iter().any(|(v, _)| *v == id)
    {
        opts.push((id.clone(), format!("Supplier {id}")));
    }
    opts
}

/// `/`: search, filter, sort and page through the catalog.
#[component]
pub fn CatalogPage() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let query = location.map(|l| CatalogQuery::parse(l.query_str())).unwrap_or_default();
    use_title(if query.q.is_empty() { "Catalog" } else { "Search" });

    let products = {
        let api = session.api.clone();
        use_load(query.clone(), move |q| async move { catalog::list(&api, &q.to_api()).await })
    };
    let categories = {
        let api = session.api.clone();
        use_load((), move |()| async move { catalog::categories(&api).await })
    };
    let suppliers = {
        let api = session.api.clone();
        use_load((), move |()| async move { catalog::suppliers(&api).await })
    };

    let search = use_state(|| query.q.clone());
    {
        let search = search.clone();
        use_effect_with(query.q.clone(), move |q| search.set(q.clone()));
    }
    let shown_price = |c: Option<i64>| c.map(cents_to_decimal).unwrap_or_default();
    let min_price = use_state(|| shown_price(query.min_price_cents));
    let max_price = use_state(|| shown_price(query.max_price_cents));
    let price_error = use_state(|| None::<String>);
    {
        let (min_price, max_price, price_error) = (min_price.clone(), max_price.clone(), price_error.clone());
        use_effect_with((query.min_price_cents, query.max_price_cents), move |(lo, hi)| {
            min_price.set(shown_price(*lo));
            max_price.set(shown_price(*hi));
            price_error.set(None);
        });
    }

    // A new search or page is a step the user can go Back to; a select change only
    // replaces the current entry.
    let go = {
        let navigator = navigator.clone();
        Callback::from(move |q: CatalogQuery| {
            if let Some(nav) = &navigator
                && let Err(e) = nav.push_with_query(&Route::Catalog, &q)
            {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let replace = {
        let navigator = navigator.clone();
        Callback::from(move |q: CatalogQuery| {
            if let Some(nav) = &navigator
                && let Err(e) = nav.replace_with_query(&Route::Catalog, &q)
            {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    // Sort and category apply once the select has settled (see `use_settled`).
    let settled = use_settled(query.clone(), replace.clone());
    let shown = settled.shown.clone();
    let on_search_input = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| search.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    // The search box and the price inputs apply together, on submit (Enter included).
    let on_submit = {
        let (go, shown, search) = (go.clone(), shown.clone(), search.clone());
        let (min_price, max_price, price_error) = (min_price.clone(), max_price.clone(), price_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match price_bounds(&min_price, &max_price) {
                Ok((min_price_cents, max_price_cents)) => {
                    price_error.set(None);
                    go.emit(CatalogQuery {
                        q: search.trim().to_owned(),
                        min_price_cents,
                        max_price_cents,
                        page: 1,
                        ..shown.clone()
                    });
                }
                Err(m) => price_error.set(Some(m)),
            }
        })
    };
    let on_check = |set: fn(&mut CatalogQuery, bool)| {
        let (go, shown) = (go.clone(), shown.clone());
        Callback::from(move |e: Event| {
            let mut q = CatalogQuery { page: 1, ..shown.clone() };
            set(&mut q, e.target_unchecked_into::<HtmlInputElement>().checked());
            go.emit(q);
        })
    };
    let on_in_stock = on_check(|q, on| q.in_stock = on);
    let on_sale = on_check(|q, on| q.on_sale = on);
    let on_category = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |category| choose.emit(CatalogQuery { category, page: 1, ..shown.clone() }))
    };
    let on_supplier = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |id: String| {
            choose.emit(CatalogQuery { partner_id: id.parse().ok(), page: 1, ..shown.clone() })
        })
    };
    let on_sort = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |sort| choose.emit(CatalogQuery { sort, page: 1, ..shown.clone() }))
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(CatalogQuery { page, ..query.clone() });
            gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
        })
    };
    let on_clear = {
        let go = go.clone();
        Callback::from(move |_: MouseEvent| go.emit(CatalogQuery::default()))
    };

    // `?page=9` of 5 pages: show page 5 instead of an empty page beside "Page 9 of 5".
    let overflow = match products.get() {
        Load::Ready(list) => past_end(&list.pagination),
        _ => None,
    };
    {
        let (replace, query) = (replace.clone(), query.clone());
        use_effect_with(overflow, move |o| {
            if let Some(page) = *o {
                replace.emit(CatalogQuery { page, ..query });
            }
        });
    }

    let heading =
        if query.q.is_empty() { "Products".to_owned() } else { format!("Results for “{}”", query.q) };
    let body = match products.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={products.reloader()} /> },
        Load::Ready(list) => {
            let pager = html! {
                <Pager pagination={list.pagination} noun={("product", "products")} on_page={on_page.clone()} />
            };
            if list.items.is_empty() {
                html! {
                    <>
                        <div id="empty" class="empty-state">
                            <p>{ "No products match" }</p>
                            if query.is_filtered() {
                                <button id="clear-filters" type="button" class="button-secondary" onclick={on_clear}>
                                    { "Clear search and filters" }
                                </button>
                            }
                        </div>
                        if query.page > 1 { { pager } }
                    </>
                }
            } else {
                html! {
                    <>
                        <div id="catalog" class="product-grid">
                            { for list.items.iter().map(|p| html! { <ProductCard key={p.id.get()} product={p.clone()} /> }) }
                        </div>
                        { pager }
                    </>
                }
            }
        }
    };

    html! {
        <section class="catalog-page">
            <h1>{ heading }</h1>
            <form class="filters" role="search" onsubmit={on_submit}>
                <div class="search-row">
                    <input id="search" type="search" placeholder="Search products" aria-label="Search products"
                        value={(*search).clone()} oninput={on_search_input} />
                    <button id="search-submit" type="submit">{ "Search" }</button>
                </div>
                <div class="filter-row">
                    <label>
                        <span>{ "Category" }</span>
                        <Select id="category" options={category_options(categories.get(), &shown.category)}
                            value={shown.category.clone()} onchange={on_category} />
                    </label>
                    <label>
                        <span>{ "Supplier" }</span>
                        <Select id="supplier" options={supplier_options(suppliers.get(), shown.partner_id)}
                            value={shown.partner_id.map(|p| p.to_string()).unwrap_or_default()}
                            onchange={on_supplier} />
                    </label>
                    <label>
                        <span>{ "Sort" }</span>
                        <Select id="sort" options={sort_options(!shown.q.is_empty(), &shown.sort)}
                            value={shown.sort.clone()} onchange={on_sort} />
                    </label>
                </div>
                <div class="filter-row">
                    <label>
                        <span>{ "Min price" }</span>
                        <input id="min-price" type="text" inputmode="decimal" placeholder="0.00"
                            aria-invalid={price_error.is_some().to_string()}
                            value={(*min_price).clone()} oninput={bind_input(&min_price)} />
                    </label>
                    <label>
                        <span>{ "Max price" }</span>
                        <input id="max-price" type="text" inputmode="decimal" placeholder="any"
                            aria-invalid={price_error.is_some().to_string()}
                            value={(*max_price).clone()} oninput={bind_input(&max_price)} />
                    </label>
                </div>
                if let Some(m) = &*price_error {
                    <p id="price-error" class="field-error" role="alert">{ m.clone() }</p>
                }
                <div class="filter-row">
                    <label class="check">
                        <input id="in-stock" type="checkbox" checked={shown.in_stock} onchange={on_in_stock} />
                        <span>{ "In stock only" }</span>
                    </label>
                    <label class="check">
                        <input id="on-sale" type="checkbox" checked={shown.on_sale} onchange={on_sale} />
                        <span>{ "On sale" }</span>
                    </label>
                </div>
                <button id="apply-filters" type="submit" class="button-secondary">{ "Apply prices" }</button>
            </form>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_query_round_trips() {
        let q = CatalogQuery::parse(
            "?q=red+kettle&category=kitchen&sort=-price&min_price_cents=1250&max_price_cents=5000\
             &in_stock=true&on_sale=true&partner_id=7&page=3",
        );
        assert_eq!(
            q,
            CatalogQuery {
                q: "red kettle".into(),
                category: "kitchen".into(),
                sort: "-price".into(),
                min_price_cents: Some(1250),
                max_price_cents: Some(5000),
                in_stock: true,
                on_sale: true,
                partner_id: Some(7),
                page: 3
            }
        );
        let encoded = serde_urlencoded::to_string(&q).unwrap_or_default();
        assert_eq!(CatalogQuery::parse(&encoded), q);
    }

    #[test]
    fn defaults_are_left_out_of_the_url() {
        let q = CatalogQuery { page: 1, ..CatalogQuery::default() };
        assert_eq!(serde_urlencoded::to_string(&q).ok().as_deref(), Some(""));
    }

    #[test]
    fn junk_pages_fall_back_to_the_first() {
        assert_eq!(CatalogQuery::parse("page=abc").page, 1);
        assert_eq!(CatalogQuery::parse("page=0").page, 1);
        assert_eq!(CatalogQuery::parse("").page, 1);
        assert_eq!(CatalogQuery::parse("%%%").page, 1);
    }

    #[test]
    fn api_query_leaves_out_empty_filters() {
        let api = CatalogQuery::parse("page=2").to_api();
        assert_eq!(api.page, Some(2));
        assert_eq!(api.per_page, Some(PER_PAGE));
        assert_eq!((api.q, api.category, api.sort), (None, None, None));
        assert_eq!(
            (api.min_price_cents, api.max_price_cents, api.in_stock, api.on_sale),
            (None, None, None, None)
        );
        let api = CatalogQuery::parse("min_price_cents=0&in_stock=true&on_sale=false").to_api();
        assert_eq!((api.min_price_cents, api.in_stock, api.on_sale), (Some(0), Some(true), None));
        assert_eq!(
            (api.partner_id, CatalogQuery::parse("partner_id=3").to_api().partner_id),
            (None, Some(3))
        );
    }

    #[test]
    fn junk_price_bounds_and_flags_fall_back_to_none() {
        for junk in [
            "min_price_cents=-1",
            "min_price_cents=12.50",
            "max_price_cents=abc",
            "in_stock=yes",
            "partner_id=0",
            "partner_id=x",
        ] {
            assert_eq!(CatalogQuery::parse(junk), CatalogQuery::parse(""), "{junk}");
        }
        let crossed = CatalogQuery::parse("min_price_cents=500&max_price_cents=499");
        assert_eq!((crossed.min_price_cents, crossed.max_price_cents), (None, None));
    }

    #[test]
    fn supplier_choices_name_their_counts_and_keep_a_chosen_one_without_products() {
        let list =
            Load::Ready(vec![SupplierCount { partner_id: 2, name: "Tea Co".into(), product_count: 5 }]);
        let opts = supplier_options(&list, None);
        assert_eq!(opts, vec![(String::new(), "All".into()), ("2".into(), "Tea Co (5)".into())]);
        let opts = supplier_options(&list, Some(9));
        assert_eq!(opts.last(), Some(&("9".to_owned(), "Supplier 9".to_owned())));
        assert_eq!(supplier_options(&Load::Loading, Some(2)).len(), 2);
    }

    #[test]
    fn price_inputs_become_exact_cents() {
        assert_eq!(price_bounds("12.50", "13"), Ok((Some(1250), Some(1300))));
        assert_eq!(price_bounds("0.1", ""), Ok((Some(10), None)));
        assert_eq!(price_bounds(" ", "19,99"), Ok((None, Some(1999))));
        // 0.29 * 100 is 28.999999999999996 in floating point; here it is 29.
        assert_eq!(price_bounds("0.29", "1.15"), Ok((Some(29), Some(115))));
        assert_eq!(price_bounds("5", "5.00"), Ok((Some(500), Some(500))));
        assert!(price_bounds("5.01", "5").unwrap_err().contains("above"));
        assert!(price_bounds("-1", "").unwrap_err().starts_with("Min price"));
        assert!(price_bounds("", "1.234").unwrap_err().starts_with("Max price"));
        assert!(price_bounds("1e3", "").is_err());
    }
}
