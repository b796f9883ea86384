//! `/admin/sales` (every flash sale, and scheduling a new one) and `/admin/sales/:id` (one
//! sale live: sold / reserved / remaining per product, read again every few seconds; editing
//! it before it starts; ending it now).

use std::rc::Rc;

use chrono::{DateTime, Duration, Utc};
use retail_api_types::{
    AdminSale, Discount, FieldProblem, FlashPageQuery, ProductId, ProductQuery, SaleItemRequest, SaleRequest,
    SaleState, SaleUpdateRequest,
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::{AdminNav, Forbidden};
use crate::clock::{browser_local_input, browser_local_to_utc, now_utc};
use crate::components::{
    AppLink, ErrorBox, FieldErrors, Loading, Pager, SaleClockView, SaleStateTag, Select,
};
use crate::format::{cents_to_decimal, format_money, format_when, parse_price_cents, parse_whole};
use crate::hooks::{
    Edit, Load, use_clamped_page, use_load, use_polled, use_session, use_title, use_url_page,
};
use crate::routes::Route;
use crate::services::{ApiError, admin, catalog};

const PER_PAGE: u32 = 20;
/// How often the live view reads the sale again.
pub const LIVE_REFRESH_MS: u32 = 3_000;
/// The discount kinds the form offers: (wire name, label).
const DISCOUNT_KINDS: [(&str, &str); 2] = [("percent_off", "Percent off"), ("sale_price", "Sale price")];

// ---------------------------------------------------------------- the form's pure logic

/// One product row of the sale form, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    /// Stable key of the row (for rendering).
    pub key: u32,
    /// A product id (`17`, `#17`) or a SKU.
    pub product: String,
    /// `percent_off` or `sale_price`.
    pub kind: String,
    /// The percentage (`20`, `12.5`) or the sale price (`7.99`).
    pub value: String,
    /// Units to allocate.
    pub units: String,
}

impl ItemDraft {
    fn empty(key: u32) -> ItemDraft {
        ItemDraft {
            key,
            product: String::new(),
            kind: DISCOUNT_KINDS[0].0.to_owned(),
            value: String::new(),
            units: String::new(),
        }
    }
}

/// The sale form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDraft {
    pub name: String,
    /// `datetime-local` values, in the browser's time zone.
    pub starts: String,
    pub ends: String,
    pub cap: String,
    pub items: Vec<ItemDraft>,
}

/// What a product field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// A product id (`17` or `#17`).
    Id(i64),
    /// A SKU (upper-cased, as the catalog stores them).
    Sku(String),
}

/// Reads a product field: digits (optionally after `#`) are an id, anything else a SKU.
pub fn product_ref(input: &str) -> Option<ProductRef> {
    let s = input.trim();
    let digits = s.strip_prefix('#').unwrap_or(s);
    if s.is_empty() {
        None
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok().filter(|id| *id > 0).map(ProductRef::Id)
    } else {
        Some(ProductRef::Sku(s.to_uppercase()))
    }
}

/// A percentage typed as `20`, `12.5` or `33.33` as basis points, 1 (0.01 %) to 10000 (100 %).
pub fn parse_percent_bp(input: &str) -> Result<u32, String> {
    // Basis points are hundredths of a percent, as cents are of a unit: the same exact parse.
    let bp = parse_price_cents(input).map_err(|m| match m {
        "at most two decimals" => "at most two decimals, e.g. 12.5".to_owned(),
        _ => "enter a percentage, e.g. 20 or 12.5".to_owned(),
    })?;
    match u32::try_from(bp) {
        Ok(bp) if (1..=10_000).contains(&bp) => Ok(bp),
        _ => Err("must be between 0.01 and 100".to_owned()),
    }
}

/// The discount of a form row.
pub fn discount_of(kind: &str, value: &str) -> Result<Discount, String> {
    let wire = match kind {
        "percent_off" => {
            serde_json::json!({ "kind": "percent_off", "basis_points": parse_percent_bp(value)? })
        }
        "sale_price" => serde_json::json!({
            "kind": "sale_price",
            "price": parse_price_cents(value).map_err(|m| m.replace("a price", "the sale price"))?
        }),
        other => return Err(format!("unknown discount kind {other:?}")),
    };
    // Built through its wire form: the amount type inside is not exported by the API types.
    serde_json::from_value(wire).map_err(|e| e.to_string())
}

/// A discount as the form shows it: (kind, value).
pub fn discount_draft(d: &Discount) -> (String, String) {
    match d {
        Discount::PercentOff { basis_points } => {
            ("percent_off".to_owned(), crate::components::percent_of(*basis_points))
        }
        Discount::SalePrice { price } => ("sale_price".to_owned(), cents_to_decimal(price.cents())),
    }
}

/// Where an API field's message goes in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Under one of `name`, `starts_at`, `ends_at`, `per_customer_cap`, `items`.
    Top(&'static str),
    /// Under a part (`product_id`, `discount`, `allocated_units`) of the row at this index.
    Item(usize, &'static str),
}

/// The place of an API field such as `ends_at` or `items[2].allocated_units`; `None` for
/// fields the form has no place for.
pub fn field_place(field: &str) -> Option<Place> {
    const TOP: [&str; 5] = ["name", "starts_at", "ends_at", "per_customer_cap", "items"];
    const PARTS: [&str; 3] = ["product_id", "discount", "allocated_units"];
    if let Some(top) = TOP.iter().find(|t| **t == field) {
        return Some(Place::Top(top));
    }
    let rest = field.strip_prefix("items[")?;
    let (index, part) = rest.split_once("].")?;
    let index = index.parse().ok()?;
    // `items[0].discount.price` and the like go under the discount.
    let part = PARTS.iter().find(|p| part == **p || part.starts_with(&format!("{p}.")))?;
    Some(Place::Item(index, part))
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem { field: field.into(), message: message.into() }
}

/// The request for a draft, or every problem found before asking the server (under the API's
/// field names, so they show where the server's would). `to_utc` reads a `datetime-local`
/// value; `product_of` finds a product by [`ProductRef`] (`None`: no such product known).
pub fn build_request(
    d: &SaleDraft,
    to_utc: impl Fn(&str) -> Option<DateTime<Utc>>,
    product_of: impl Fn(&ProductRef) -> Option<ProductId>,
) -> Result<SaleRequest, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut when = |field: &str, value: &str| {
        let at = to_utc(value);
        if at.is_none() {
            problems.push(problem(field, "enter a date and time"));
        }
        at
    };
    let starts_at = when("starts_at", &d.starts);
    let ends_at = when("ends_at", &d.ends);
    let cap = parse_whole(&d.cap);
    if cap.is_none() {
        problems.push(problem("per_customer_cap", "enter a whole number of units, e.g. 2"));
    }
    if d.items.is_empty() {
        problems.push(problem("items", "add at least one product"));
    }
    let mut items = Vec::with_capacity(d.items.len());
    for (i, item) in d.items.iter().enumerate() {
        let product = match product_ref(&item.product) {
            None => {
                problems.push(problem(format!("items[{i}].product_id"), "enter a product id or SKU"));
                None
            }
            Some(r) => {
                let id = product_of(&r);
                if id.is_none() {
                    let what = match &r {
                        ProductRef::Id(id) => format!("no product with id {id}"),
                        ProductRef::Sku(sku) => format!("no product with SKU {sku}"),
                    };
                    problems.push(problem(format!("items[{i}].product_id"), what));
                }
                id
            }
        };
        let discount = discount_of(&item.kind, &item.value)
            .map_err(|m| problems.push(problem(format!("items[{i}].discount"), m)))
            .ok();
        let units = parse_whole(&item.units);
        if units.is_none() {
            problems.push(problem(
                format!("items[{i}].allocated_units"),
                "enter a whole number of units, e.g. 10",
            ));
        }
        if let (Some(product_id), Some(discount), Some(allocated_units)) = (product, discount, units) {
            items.push(SaleItemRequest { product_id, discount, allocated_units });
        }
    }
    match (starts_at, ends_at, cap) {
        (Some(starts_at), Some(ends_at), Some(per_customer_cap)) if problems.is_empty() => {
            Ok(SaleRequest { name: d.name.trim().to_owned(), starts_at, ends_at, per_customer_cap, items })
        }
        _ => Err(problems),
    }
}

/// Changes to a [`SaleDraft`] (a reducer, so quick successive edits never overwrite each other).
pub enum DraftAction {
    Name(String),
    Starts(String),
    Ends(String),
    Cap(String),
    /// Row key, part (`product`, `kind`, `value`, `units`), value.
    Item(u32, &'static str, String),
    AddItem,
    RemoveItem(u32),
}

impl Reducible for SaleDraft {
    type Action = DraftAction;

    fn reduce(self: Rc<Self>, action: DraftAction) -> Rc<Self> {
        let mut d = (*self).clone();
        match action {
            DraftAction::Name(v) => d.name = v,
            DraftAction::Starts(v) => d.starts = v,
            DraftAction::Ends(v) => d.ends = v,
            DraftAction::Cap(v) => d.cap = v,
            DraftAction::Item(key, part, v) => {
                if let Some(item) = d.items.iter_mut().find(|i| i.key == key) {
                    match part {
                        "product" => item.product = v,
                        "kind" => item.kind = v,
                        "value" => item.value = v,
                        _ => item.units = v,
                    }
                }
            }
            DraftAction::AddItem => {
                let key = d.items.iter().map(|i| i.key).max().map_or(0, |k| k.wrapping_add(1));
                d.items.push(ItemDraft::empty(key));
            }
            DraftAction::RemoveItem(key) => d.items.retain(|i| i.key != key),
        }
        Rc::new(d)
    }
}

// ---------------------------------------------------------------- the list

/// `/admin/sales`.
#[component]
pub fn AdminSalesPage() -> Html {
    use_title("Flash sales · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminSales /> }
}

#[component]
fn AdminSales() -> Html {
    let session = use_session();
    let _location = use_location();
    let navigator = use_navigator();
    let paging = use_url_page(Route::AdminSales);
    let page = paging.page;
    let creating = use_state(|| false);
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            admin::sales(&api, &FlashPageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let pagination = match list.get() {
        Load::Ready(l) => Some(l.pagination),
        _ => None,
    };
    let clamping = use_clamped_page(&paging, pagination.as_ref());
    let on_page = paging.on_page.clone();
    let on_created = {
        let navigator = navigator.clone();
        Callback::from(move |s: AdminSale| {
            if let Some(nav) = &navigator {
                nav.push(&Route::AdminSale { id: s.sale.id });
            }
        })
    };
    let on_toggle = {
        let creating = creating.clone();
        Callback::from(move |_: MouseEvent| creating.set(!*creating))
    };

    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if clamping => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state"><p>{ "No flash sales yet" }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="admin-sales" class="data-table">
                        <thead>
                            <tr>
                                <th>{ "Sale" }</th><th>{ "State" }</th><th>{ "Starts" }</th><th>{ "Ends" }</th>
                                <th>{ "Cap" }</th><th>{ "Sold / allocated" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|a| {
                                let s = &a.sale;
                                let sold: u64 = s.items.iter().map(|i| u64::from(i.sold)).sum();
                                let allocated: u64 = s.items.iter().map(|i| u64::from(i.allocated)).sum();
                                html! {
                                    <tr key={s.id} class="admin-sale-row" data-id={s.id.to_string()} data-state={s.state.as_str()}>
                                        <td class="cell-name" data-label="Sale">
                                            <AppLink classes="admin-sale-link" to={Route::AdminSale { id: s.id }}>{ &s.name }</AppLink>
                                            <div class="muted">{ format!("{} products", s.items.len()) }</div>
                                        </td>
                                        <td data-label="State"><SaleStateTag state={s.state} /></td>
                                        <td data-label="Starts">{ format_when(&s.starts_at) }</td>
                                        <td data-label="Ends">{ format_when(&s.ends_at) }</td>
                                        <td data-label="Cap">{ s.per_customer_cap }</td>
                                        <td class="cell-stock" data-label="Sold / allocated">{ format!("{sold} / {allocated}") }</td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("sale", "sales")} {on_page} />
            </>
        },
    };

    html! {
        <section class="admin-page admin-sales-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <div class="row-buttons">
                <button id="new-sale-toggle" type="button" class={if *creating { "button-secondary" } else { "" }}
                    onclick={on_toggle} aria-expanded={(*creating).to_string()}>
                    { if *creating { "Close the form" } else { "New flash sale" } }
                </button>
            </div>
            if *creating {
                <SaleForm on_saved={on_created} />
            }
            <h2>{ "Flash sales" }</h2>
            { table }
        </section>
    }
}

// ---------------------------------------------------------------- the form

#[derive(Properties, PartialEq)]
struct SaleFormProps {
    /// The sale to edit; `None` schedules a new one.
    #[prop_or_default]
    sale: Option<AdminSale>,
    on_saved: Callback<AdminSale>,
    #[prop_or_default]
    on_cancel: Option<Callback<()>>,
}

/// The draft of a new sale: starting at the next full minute, for an hour.
fn new_draft() -> SaleDraft {
    let now = now_utc();
    let start = now + Duration::seconds(60 - i64::from(chrono::Timelike::second(&now)));
    SaleDraft {
        name: String::new(),
        starts: browser_local_input(start),
        ends: browser_local_input(start + Duration::hours(1)),
        cap: "2".to_owned(),
        items: vec![ItemDraft::empty(0)],
    }
}

/// The draft of an existing sale.
fn draft_of(a: &AdminSale) -> SaleDraft {
    SaleDraft {
        name: a.sale.name.clone(),
        starts: browser_local_input(a.sale.starts_at),
        ends: browser_local_input(a.scheduled_ends_at),
        cap: a.sale.per_customer_cap.to_string(),
        items: (0u32..)
            .zip(&a.sale.items)
            .map(|(key, i)| {
                let (kind, value) = discount_draft(&i.discount);
                ItemDraft { key, product: i.sku.clone(), kind, value, units: i.allocated.to_string() }
            })
            .collect(),
    }
}

/// `form#sale-form`: name, start and end (`datetime-local`, the browser's time zone, sent as
/// UTC), the per-customer cap, and product rows (`.sale-item-draft`: id or SKU, discount kind
/// and value, units). Messages show under their field (`#sale-<field>-error`,
/// `.item-<part>-error`); the rest in `#sale-form-error`.
#[component]
fn SaleForm(props: &SaleFormProps) -> Html {
    let session = use_session();
    let draft = {
        let sale = props.sale.clone();
        use_reducer(move || sale.as_ref().map_or_else(new_draft, draft_of))
    };
    let busy = use_state(|| false);
    let field_errors = use_state(Vec::<FieldProblem>::new);
    let error = use_state(|| None::<ApiError>);
    // Suggestions for the product fields (and the SKU -> id lookup): the first 100 by name.
    let products = {
        let api = session.api.clone();
        use_load((), move |()| async move {
            let q = ProductQuery {
                page: Some(1),
                per_page: Some(100),
                sort: Some("name".to_owned()),
                include_inactive: Some(true),
                ..ProductQuery::default()
            };
            catalog::list(&api, &q).await
        })
    };
    let known: Vec<(ProductId, String, String)> = match products.get() {
        Load::Ready(l) => l.items.iter().map(|p| (p.id, p.sku.to_uppercase(), p.name.clone())).collect(),
        _ => Vec::new(),
    };
    // The sale as it was when editing began: its `version` goes with the change, so a change
    // made by someone else meanwhile is refused (409 `version_conflict`), never overwritten.
    let editing = *use_memo((), {
        let sale = props.sale.clone();
        move |_| sale.map(|a| (a.sale.id, a.version, a.sale.starts_at, a.scheduled_ends_at))
    });

    let onsubmit = {
        let (api, draft, busy, field_errors, error) =
            (session.api.clone(), draft.clone(), busy.clone(), field_errors.clone(), error.clone());
        let (on_saved, known) = (props.on_saved.clone(), known.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let d = (*draft).clone();
            let (api, busy, field_errors, error, on_saved, mut known) = (
                api.clone(),
                busy.clone(),
                field_errors.clone(),
                error.clone(),
                on_saved.clone(),
                known.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                // SKUs not among the suggestions: look them up.
                for item in &d.items {
                    if let Some(ProductRef::Sku(sku)) = product_ref(&item.product)
                        && !known.iter().any(|(_, s, _)| *s == sku)
                    {
                        let q = ProductQuery {
                            q: Some(sku.clone()),
                            per_page: Some(20),
                            include_inactive: Some(true),
                            ..ProductQuery::default()
                        };
                        if let Ok(found) = catalog::list(&api, &q).await {
                            known.extend(
                                found.items.iter().map(|p| (p.id, p.sku.to_uppercase(), p.name.clone())),
                            );
                        }
                    }
                }
                let to_utc = |v: &str| {
                    // An untouched time keeps its seconds.
                    match editing {
                        Some((_, _, starts, _)) if v == browser_local_input(starts) && v == d.starts => {
                            Some(starts)
                        }
                        Some((_, _, _, ends)) if v == browser_local_input(ends) && v == d.ends => Some(ends),
                        _ => browser_local_to_utc(v),
                    }
                };
                let product_of = |r: &ProductRef| match r {
                    ProductRef::Id(id) => Some(ProductId(*id)),
                    ProductRef::Sku(sku) => known.iter().find(|(_, s, _)| s == sku).map(|(id, _, _)| *id),
                };
                let body = match build_request(&d, to_utc, product_of) {
                    Ok(body) => body,
                    Err(problems) => {
                        field_errors.set(problems);
                        busy.set(false);
                        return;
                    }
                };
                field_errors.set(Vec::new());
                let answer = match editing {
                    Some((id, version, ..)) => {
                        admin::update_sale(&api, id, &SaleUpdateRequest { sale: body, version }).await
                    }
                    None => admin::create_sale(&api, &body).await,
                };
                match answer {
                    Ok(sale) => on_saved.emit(sale),
                    Err(e) => {
                        field_errors.set(e.field_errors().to_vec());
                        error.set(Some(e));
                    }
                }
                busy.set(false);
            });
        })
    };

    let top_error = |field: &'static str, id: &str| -> Html {
        let msgs: Vec<&str> = field_errors
            .iter()
            .filter(|f| field_place(&f.field) == Some(Place::Top(field)))
            .map(|f| f.message.as_str())
            .collect();
        if msgs.is_empty() {
            html! {}
        } else {
            html! { <p id={format!("sale-{id}-error")} class="field-error" data-field={field}>{ msgs.join("; ") }</p> }
        }
    };
    let top_invalid = |field: &'static str| -> Option<AttrValue> {
        field_errors
            .iter()
            .any(|f| field_place(&f.field) == Some(Place::Top(field)))
            .then(|| AttrValue::from("true"))
    };
    let item_msgs = |index: usize, part: &'static str| -> Vec<String> {
        field_errors
            .iter()
            .filter(|f| field_place(&f.field) == Some(Place::Item(index, part)))
            .map(|f| f.message.clone())
            .collect()
    };
    let unplaced: Vec<FieldProblem> =
        field_errors.iter().filter(|f| field_place(&f.field).is_none()).cloned().collect();
    let bind = |make: fn(String) -> DraftAction| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.dispatch(make(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))
        })
    };
    let utc_hint = |value: &str| -> Html {
        match browser_local_to_utc(value) {
            Some(at) => html! { <p class="hint utc-hint">{ format!("= {}", format_when(&at)) }</p> },
            None => html! {},
        }
    };
    let on_add = {
        let (draft, field_errors) = (draft.clone(), field_errors.clone());
        Callback::from(move |_: MouseEvent| {
            draft.dispatch(DraftAction::AddItem);
            field_errors.set(Vec::new());
        })
    };
    let kind_options: Vec<(String, String)> =
        DISCOUNT_KINDS.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
    let d = &*draft;

    html! {
        <form id="sale-form" class="card form sale-form" novalidate=true {onsubmit}>
            <h2>{ if editing.is_some() { "Edit the sale" } else { "New flash sale" } }</h2>
            <div class="form-grid">
                <div class="field field-wide">
                    <label for="sale-name">{ "Name" }</label>
                    <input id="sale-name" type="text" autocomplete="off" value={d.name.clone()}
                        aria-invalid={top_invalid("name")} oninput={bind(DraftAction::Name)} />
                    { top_error("name", "name") }
                </div>
                <div class="field">
                    <label for="sale-starts">{ "Starts (your time)" }</label>
                    <input id="sale-starts" type="datetime-local" value={d.starts.clone()}
                        aria-invalid={top_invalid("starts_at")} oninput={bind(DraftAction::Starts)} />
                    { utc_hint(&d.starts) }
                    { top_error("starts_at", "starts") }
                </div>
                <div class="field">
                    <label for="sale-ends">{ "Ends (your time)" }</label>
                    <input id="sale-ends" type="datetime-local" value={d.ends.clone()}
                        aria-invalid={top_invalid("ends_at")} oninput={bind(DraftAction::Ends)} />
                    { utc_hint(&d.ends) }
                    { top_error("ends_at", "ends") }
                </div>
                <div class="field">
                    <label for="sale-cap">{ "Limit per customer" }</label>
                    <input id="sale-cap" type="number" min="1" step="1" value={d.cap.clone()}
                        aria-invalid={top_invalid("per_customer_cap")} oninput={bind(DraftAction::Cap)} />
                    { top_error("per_customer_cap", "cap") }
                </div>
            </div>
            <h3>{ "Products" }</h3>
            { top_error("items", "items") }
            <datalist id="sale-product-options">
                { for known.iter().map(|(_, sku, name)| html! { <option value={sku.clone()}>{ name }</option> }) }
            </datalist>
            <ol id="sale-items" class="sale-items">
                { for d.items.iter().enumerate().map(|(index, item)| {
                    let key = item.key;
                    let on_item = |part: &'static str| {
                        let draft = draft.clone();
                        Callback::from(move |e: InputEvent| {
                            draft.dispatch(DraftAction::Item(
                                key,
                                part,
                                e.target_unchecked_into::<web_sys::HtmlInputElement>().value(),
                            ))
                        })
                    };
                    let on_kind = {
                        let draft = draft.clone();
                        Callback::from(move |v: String| draft.dispatch(DraftAction::Item(key, "kind", v)))
                    };
                    let on_remove = {
                        let (draft, field_errors) = (draft.clone(), field_errors.clone());
                        Callback::from(move |_: MouseEvent| {
                            draft.dispatch(DraftAction::RemoveItem(key));
                            // Row numbers shift: the server's messages would land on the wrong rows.
                            field_errors.set(Vec::new());
                        })
                    };
                    let resolved = match product_ref(&item.product) {
                        Some(ProductRef::Sku(sku)) => known.iter().find(|(_, s, _)| *s == sku).map(|(id, _, name)| format!("#{id} {name}")),
                        Some(ProductRef::Id(id)) => known.iter().find(|(p, _, _)| p.get() == id).map(|(_, sku, name)| format!("{sku} · {name}")),
                        None => None,
                    };
                    let percent = item.kind == "percent_off";
                    let part_error = |part: &'static str, class: &'static str| -> Html {
                        let msgs = item_msgs(index, part);
                        if msgs.is_empty() {
                            html! {}
                        } else {
                            html! { <p class={classes!("field-error", class)} data-field={format!("items[{index}].{part}")}>{ msgs.join("; ") }</p> }
                        }
                    };
                    let invalid = |part: &'static str| (!item_msgs(index, part).is_empty()).then(|| AttrValue::from("true"));
                    html! {
                        <li key={key} class="sale-item-draft" data-index={index.to_string()}>
                            <div class="form-grid">
                                <div class="field">
                                    <label>{ "Product (SKU or id)" }
                                        <input class="item-product" type="text" list="sale-product-options" autocomplete="off"
                                            placeholder="KET-001 or 17" value={item.product.clone()}
                                            aria-invalid={invalid("product_id")} oninput={on_item("product")} />
                                    </label>
                                    if let Some(r) = resolved {
                                        <p class="hint item-product-name">{ r }</p>
                                    }
                                    { part_error("product_id", "item-product-error") }
                                </div>
                                <div class="field">
                                    <label>{ "Discount" }
                                        <Select class="item-kind" options={kind_options.clone()} value={item.kind.clone()}
                                            onchange={on_kind} aria_label="Discount kind" />
                                    </label>
                                </div>
                                <div class="field">
                                    <label>{ if percent { "Percent off" } else { "Sale price" } }
                                        <input class="item-value" type="text" inputmode="decimal"
                                            placeholder={if percent { "20" } else { "7.99" }} value={item.value.clone()}
                                            aria-invalid={invalid("discount")} oninput={on_item("value")} />
                                    </label>
                                    { part_error("discount", "item-discount-error") }
                                </div>
                                <div class="field">
                                    <label>{ "Units for the sale" }
                                        <input class="item-units" type="number" min="1" step="1" value={item.units.clone()}
                                            aria-invalid={invalid("allocated_units")} oninput={on_item("units")} />
                                    </label>
                                    { part_error("allocated_units", "item-units-error") }
                                </div>
                            </div>
                            <button type="button" class="button-secondary item-remove" onclick={on_remove}
                                disabled={d.items.len() <= 1}>{ "Remove product" }</button>
                        </li>
                    }
                }) }
            </ol>
            <button id="add-item" type="button" class="button-secondary" onclick={on_add}
                disabled={d.items.len() >= 50}>{ "Add a product" }</button>
            if let Some(e) = &*error {
                <div id="sale-form-error" class="alert alert-error" role="alert" data-code={e.code().map(str::to_owned)}>
                    <p class="error-detail">{ e.detail() }</p>
                    if e.code() == Some("version_conflict") {
                        <p>{ "Someone changed this sale meanwhile: cancel, then edit it again to start from the latest." }</p>
                    }
                    <FieldErrors errors={unplaced.clone()} />
                </div>
            } else if !unplaced.is_empty() {
                <div id="sale-form-error" class="alert alert-error" role="alert">
                    <FieldErrors errors={unplaced.clone()} />
                </div>
            }
            <div class="row-buttons">
                <button id="sale-submit" type="submit" disabled={*busy}>
                    { match (editing.is_some(), *busy) {
                        (_, true) => "Saving…",
                        (true, false) => "Save changes",
                        (false, false) => "Schedule the sale",
                    } }
                </button>
                if let Some(cancel) = &props.on_cancel {
                    <button id="sale-cancel-edit" type="button" class="button-secondary" onclick={cancel.reform(|_| ())}>
                        { "Cancel" }
                    </button>
                }
            </div>
        </form>
    }
}

// ---------------------------------------------------------------- the live view

#[derive(Properties, PartialEq)]
pub struct AdminSalePageProps {
    pub id: i64,
}

/// `/admin/sales/:id`.
#[component]
pub fn AdminSalePage(props: &AdminSalePageProps) -> Html {
    use_title("Flash sale · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminSaleLive id={props.id} /> }
}

/// What happened to the last action on the sale.
#[derive(Debug, Clone, PartialEq)]
enum Note {
    Ok(String),
    Err(String),
}

#[component]
fn AdminSaleLive(props: &AdminSalePageProps) -> Html {
    let session = use_session();
    let sale = {
        let api = session.api.clone();
        use_polled(props.id, LIVE_REFRESH_MS, move |id| {
            let api = api.clone();
            async move { admin::sale(&api, id).await }
        })
    };
    let editing = use_state(|| false);
    let confirming = use_state(|| false);
    let busy = use_state(|| false);
    let note = use_state(|| None::<Note>);
    let refresh = sale.refresher();
    let put = sale.editor().reform(|fresh: AdminSale| -> Edit<AdminSale> { Box::new(move |s| *s = fresh) });

    let on_end = {
        let (api, busy, note, confirming, put, refresh) = (
            session.api.clone(),
            busy.clone(),
            note.clone(),
            confirming.clone(),
            put.clone(),
            refresh.clone(),
        );
        let id = props.id;
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            note.set(None);
            let (api, busy, note, confirming, put, refresh) =
                (api.clone(), busy.clone(), note.clone(), confirming.clone(), put.clone(), refresh.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::end_sale(&api, id).await {
                    Ok(s) => {
                        put.emit(s);
                        note.set(Some(Note::Ok(
                            "The sale has ended. Units still held can be paid until their holds run out; \
                                                the rest go back to stock."
                                .to_owned(),
                        )));
                    }
                    Err(e) => {
                        note.set(Some(Note::Err(e.detail())));
                        refresh.emit(());
                    }
                }
                confirming.set(false);
                busy.set(false);
            });
        })
    };
    let on_saved = {
        let (put, editing, note) = (put.clone(), editing.clone(), note.clone());
        Callback::from(move |s: AdminSale| {
            put.emit(s);
            editing.set(false);
            note.set(Some(Note::Ok("Saved.".to_owned())));
        })
    };
    let toggle = |state: &UseStateHandle<bool>, to: bool| {
        let (state, note) = (state.clone(), note.clone());
        Callback::from(move |_: MouseEvent| {
            note.set(None);
            state.set(to);
        })
    };
    let on_cancel_edit = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(false))
    };

    let body = match sale.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h2>{ "Sale not found" }</h2>
                <AppLink classes="button-link" to={Route::AdminSales}>{ "All flash sales" }</AppLink>
            </div>
        },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={sale.reloader()} /> },
        Load::Ready(a) => {
            let s = &a.sale;
            let total = |f: fn(&retail_api_types::FlashSaleItem) -> u32| -> u64 {
                s.items.iter().map(|i| u64::from(f(i))).sum()
            };
            html! {
                <article id="admin-sale" class="card admin-sale" data-id={s.id.to_string()} data-state={s.state.as_str()}
                    data-version={a.version.to_string()}>
                    <header class="receipt-head">
                        <div>
                            <h2 id="admin-sale-name">{ &s.name }</h2>
                            <SaleClockView id="admin-sale-clock" sale={s.clone()} at_ms={sale.at_ms()} on_zero={refresh.clone()} />
                            <p class="muted">
                                { format!("{} → {} · limit {} per customer", format_when(&s.starts_at),
                                    format_when(&a.scheduled_ends_at), s.per_customer_cap) }
                            </p>
                            if let Some(at) = a.ended_early_at {
                                <p class="muted" id="ended-early-at">{ format!("Ended early at {}", format_when(&at)) }</p>
                            }
                            if let Some(at) = a.settled_at {
                                <p class="muted" id="settled-at">{ format!("Unsold units back in stock since {}", format_when(&at)) }</p>
                            }
                        </div>
                        <div class="receipt-meta">
                            <SaleStateTag id="admin-sale-state" state={s.state} />
                            <AppLink id="admin-sale-public" to={Route::FlashSale { id: s.id }}>{ "As shoppers see it" }</AppLink>
                        </div>
                    </header>
                    if let Some(e) = sale.stale() {
                        <p id="refresh-error" class="hint" role="status">{ format!("Could not refresh: {}", e.detail()) }</p>
                    }
                    <div class="table-wrap">
                        <table id="sale-items-live" class="data-table">
                            <thead>
                                <tr>
                                    <th>{ "Product" }</th><th>{ "List" }</th><th>{ "Sale" }</th><th>{ "Allocated" }</th>
                                    <th>{ "Sold" }</th><th>{ "Reserved" }</th><th>{ "Remaining" }</th>
                                </tr>
                            </thead>
                            <tbody>
                                { for s.items.iter().map(|i| html! {
                                    <tr key={i.product_id.get()} class="sale-item-row" data-product-id={i.product_id.to_string()}>
                                        <td class="cell-name" data-label="Product">
                                            <AppLink to={Route::Product { id: i.product_id.get() }}>{ &i.name }</AppLink>
                                            <div class="muted">{ &i.sku }</div>
                                        </td>
                                        <td class="cell-price" data-label="List">{ format_money(i.list_price_cents, i.currency) }</td>
                                        <td class="cell-price" data-label="Sale">{ format_money(i.sale_price_cents, i.currency) }</td>
                                        <td class="cell-stock cell-allocated" data-label="Allocated">{ i.allocated }</td>
                                        <td class="cell-stock cell-sold" data-label="Sold" data-sold={i.sold.to_string()}>{ i.sold }</td>
                                        <td class="cell-stock cell-reserved" data-label="Reserved" data-reserved={i.reserved.to_string()}>{ i.reserved }</td>
                                        <td class="cell-stock cell-remaining" data-label="Remaining" data-remaining={i.remaining.to_string()}>{ i.remaining }</td>
                                    </tr>
                                }) }
                                <tr class="sale-totals-row">
                                    <th colspan="3" scope="row">{ "Total" }</th>
                                    <td class="cell-stock">{ total(|i| i.allocated) }</td>
                                    <td class="cell-stock" id="total-sold">{ total(|i| i.sold) }</td>
                                    <td class="cell-stock" id="total-reserved">{ total(|i| i.reserved) }</td>
                                    <td class="cell-stock" id="total-remaining">{ total(|i| i.remaining) }</td>
                                </tr>
                            </tbody>
                        </table>
                    </div>
                    <p class="hint">{ format!("Read again every {} seconds.", LIVE_REFRESH_MS / 1000) }</p>
                    { match &*note {
                        Some(Note::Ok(m)) => html! { <p id="sale-message" class="alert alert-success" role="status">{ m }</p> },
                        Some(Note::Err(m)) => html! { <p id="sale-message" class="alert alert-error" role="alert">{ m }</p> },
                        None => html! {},
                    } }
                    <div class="row-buttons">
                        if s.state == SaleState::Scheduled && !*editing {
                            <button id="edit-sale" type="button" class="button-secondary" onclick={toggle(&editing, true)}>
                                { "Edit" }
                            </button>
                        }
                        if !s.state.is_over() {
                            if *confirming {
                                <span class="role-confirm" role="group" aria-label="Confirm ending the sale">
                                    { "End the sale now? " }
                                    <button id="end-sale-confirm" type="button" disabled={*busy} onclick={on_end}>
                                        { if *busy { "Ending…" } else { "Yes, end it now" } }
                                    </button>
                                    { " " }
                                    <button id="end-sale-cancel" type="button" class="button-secondary"
                                        onclick={toggle(&confirming, false)}>{ "Cancel" }</button>
                                </span>
                            } else {
                                <button id="end-sale" type="button" onclick={toggle(&confirming, true)}>{ "End now" }</button>
                            }
                        }
                    </div>
                    if *editing && s.state == SaleState::Scheduled {
                        <SaleForm sale={a.clone()} on_saved={on_saved.clone()} on_cancel={on_cancel_edit.clone()} />
                    }
                </article>
            }
        }
    };
    html! {
        <section class="admin-page admin-sale-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <p class="breadcrumbs"><AppLink id="back-to-admin-sales" to={Route::AdminSales}>{ "← All flash sales" }</AppLink></p>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn draft(items: Vec<ItemDraft>) -> SaleDraft {
        SaleDraft {
            name: " Black Friday ".to_owned(),
            starts: "2026-11-27T09:00".to_owned(),
            ends: "2026-11-27T10:00".to_owned(),
            cap: "2".to_owned(),
            items,
        }
    }

    fn item(product: &str, kind: &str, value: &str, units: &str) -> ItemDraft {
        ItemDraft {
            key: 0,
            product: product.to_owned(),
            kind: kind.to_owned(),
            value: value.to_owned(),
            units: units.to_owned(),
        }
    }

    /// Berlin in winter: local 09:00 is 08:00 UTC.
    fn berlin(v: &str) -> Option<DateTime<Utc>> {
        crate::clock::parse_datetime_local(v).map(|l| crate::clock::local_to_utc(l, -60))
    }

    fn catalog(r: &ProductRef) -> Option<ProductId> {
        match r {
            ProductRef::Id(id) if *id < 100 => Some(ProductId(*id)),
            ProductRef::Sku(s) if s == "KET-001" => Some(ProductId(3)),
            _ => None,
        }
    }

    #[test]
    fn products_are_named_by_id_or_sku() {
        assert_eq!(product_ref("17"), Some(ProductRef::Id(17)));
        assert_eq!(product_ref(" #17 "), Some(ProductRef::Id(17)));
        assert_eq!(product_ref("ket-001"), Some(ProductRef::Sku("KET-001".to_owned())));
        assert_eq!(product_ref("0"), None);
        assert_eq!(product_ref("  "), None);
        assert_eq!(product_ref("#"), Some(ProductRef::Sku("#".to_owned())));
    }

    #[test]
    fn percentages_are_exact_basis_points() {
        assert_eq!(parse_percent_bp("20"), Ok(2000));
        assert_eq!(parse_percent_bp("12.5"), Ok(1250));
        assert_eq!(parse_percent_bp("33,33"), Ok(3333));
        assert_eq!(parse_percent_bp("0.01"), Ok(1));
        assert_eq!(parse_percent_bp("100"), Ok(10_000));
        assert!(parse_percent_bp("0").is_err());
        assert!(parse_percent_bp("100.01").is_err());
        assert!(parse_percent_bp("12.345").unwrap_err().contains("two decimals"));
        assert!(parse_percent_bp("abc").unwrap_err().contains("percentage"));
    }

    #[test]
    fn discounts_go_out_in_their_wire_form_and_come_back_to_the_form() {
        let pct = discount_of("percent_off", "20").unwrap();
        assert_eq!(
            serde_json::to_value(pct).unwrap(),
            serde_json::json!({"kind": "percent_off", "basis_points": 2000})
        );
        let fixed = discount_of("sale_price", "7.99").unwrap();
        assert_eq!(
            serde_json::to_value(fixed).unwrap(),
            serde_json::json!({"kind": "sale_price", "price": 799})
        );
        assert_eq!(discount_draft(&pct), ("percent_off".to_owned(), "20".to_owned()));
        assert_eq!(discount_draft(&fixed), ("sale_price".to_owned(), "7.99".to_owned()));
        assert!(discount_of("sale_price", "").unwrap_err().contains("sale price"));
        assert!(discount_of("bogus", "1").is_err());
    }

    #[test]
    fn api_fields_find_their_place_in_the_form() {
        assert_eq!(field_place("ends_at"), Some(Place::Top("ends_at")));
        assert_eq!(field_place("per_customer_cap"), Some(Place::Top("per_customer_cap")));
        assert_eq!(field_place("items"), Some(Place::Top("items")));
        assert_eq!(field_place("items[0].allocated_units"), Some(Place::Item(0, "allocated_units")));
        assert_eq!(field_place("items[12].product_id"), Some(Place::Item(12, "product_id")));
        assert_eq!(field_place("items[1].discount"), Some(Place::Item(1, "discount")));
        assert_eq!(field_place("items[1].discount.basis_points"), Some(Place::Item(1, "discount")));
        assert_eq!(field_place("items[x].discount"), None);
        assert_eq!(field_place("items[1].discountx"), None);
        assert_eq!(field_place("version"), None);
    }

    #[test]
    fn a_valid_draft_becomes_the_request_with_utc_times() {
        let d = draft(vec![item("KET-001", "percent_off", "20", "5"), item("#7", "sale_price", "7.99", "1")]);
        let req = build_request(&d, berlin, catalog).unwrap();
        assert_eq!(req.name, "Black Friday");
        assert_eq!(req.starts_at, at("2026-11-27T08:00:00Z"));
        assert_eq!(req.ends_at, at("2026-11-27T09:00:00Z"));
        assert_eq!(req.per_customer_cap, 2);
        assert_eq!(
            serde_json::to_value(&req.items).unwrap(),
            serde_json::json!([
                {"product_id": 3, "discount": {"kind": "percent_off", "basis_points": 2000}, "allocated_units": 5},
                {"product_id": 7, "discount": {"kind": "sale_price", "price": 799}, "allocated_units": 1}
            ])
        );
    }

    #[test]
    fn every_problem_of_a_draft_is_named_by_its_api_field() {
        let mut d =
            draft(vec![item("NOPE-1", "percent_off", "0", "x"), item("", "sale_price", "1.234", "2")]);
        d.ends = "tomorrow".to_owned();
        d.cap = "two".to_owned();
        let problems = build_request(&d, berlin, catalog).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "ends_at",
                "per_customer_cap",
                "items[0].product_id",
                "items[0].discount",
                "items[0].allocated_units",
                "items[1].product_id",
                "items[1].discount",
            ]
        );
        assert_eq!(problems[2].message, "no product with SKU NOPE-1");
        let none = build_request(&draft(Vec::new()), berlin, catalog).unwrap_err();
        assert_eq!(none[0].field, "items");
    }

    #[test]
    fn the_draft_reducer_edits_adds_and_removes_rows() {
        let d = Rc::new(draft(vec![item("", "percent_off", "", "")]));
        let d = d.reduce(DraftAction::AddItem);
        assert_eq!(d.items.iter().map(|i| i.key).collect::<Vec<_>>(), [0, 1]);
        let d = d.reduce(DraftAction::Item(1, "product", "KET-001".to_owned()));
        let d = d.reduce(DraftAction::Item(1, "kind", "sale_price".to_owned()));
        let d = d.reduce(DraftAction::Item(1, "units", "3".to_owned()));
        assert_eq!(d.items[1], ItemDraft { key: 1, ..item("KET-001", "sale_price", "", "3") });
        let d = d.reduce(DraftAction::RemoveItem(0));
        assert_eq!(d.items.len(), 1);
        let d = d.reduce(DraftAction::AddItem);
        assert_eq!(d.items[1].key, 2, "keys are never reused");
        assert_eq!(d.reduce(DraftAction::Cap("5".to_owned())).cap, "5");
    }
}
