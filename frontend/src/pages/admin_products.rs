use retail_api_types::{
    CreateProductRequest, Currency, FieldProblem, Product, ProductList, ProductQuery, StockAdjustmentRequest,
    UpdateProductRequest,
};
use serde::Serialize;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{AdminNav, Forbidden, bind_input};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, Pager, Select, past_end};
use crate::format::{cents_to_decimal, format_money, parse_price_cents, parse_whole};
use crate::hooks::{Edit, Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, admin, catalog};

const PER_PAGE: u32 = 20;

/// `/admin/products`: every product including inactive ones, creation, activation, stock.
#[component]
pub fn AdminProductsPage() -> Html {
    use_title("Products · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminProducts /> }
}

/// `?page=` of the admin product list, so Back from a product returns to the same page.
fn page_of(query_str: &str) -> u32 {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query_str.trim_start_matches('?'))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.trim().parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

#[derive(Serialize)]
struct PageQuery {
    page: u32,
}

#[component]
fn AdminProducts() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let page = location.map(|l| page_of(l.query_str())).unwrap_or(1);
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            let q = ProductQuery {
                page: Some(page),
                per_page: Some(PER_PAGE),
                // Newest first, so a product just created shows at the top.
                sort: Some("newest".to_owned()),
                include_inactive: Some(true),
                ..ProductQuery::default()
            };
            catalog::list(&api, &q).await
        })
    };
    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |page: u32| {
            let Some(nav) = &navigator else { return };
            let done = match (page, replace) {
                (1, false) => {
                    nav.push(&Route::AdminProducts);
                    Ok(())
                }
                (1, true) => {
                    nav.replace(&Route::AdminProducts);
                    Ok(())
                }
                (page, false) => nav.push_with_query(&Route::AdminProducts, &PageQuery { page }),
                (page, true) => nav.replace_with_query(&Route::AdminProducts, &PageQuery { page }),
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let on_created = {
        let (go, reload) = (go.clone(), list.reloader());
        Callback::from(move |_: Product| if page == 1 { reload.emit(()) } else { go.emit(1) })
    };
    let overflow = match list.get() {
        Load::Ready(l) => past_end(&l.pagination),
        _ => None,
    };
    use_effect_with(overflow, move |o| {
        if let Some(last) = *o {
            replace.emit(last);
        }
    });
    let on_updated = list.editor().reform(|p: Product| -> Edit<ProductList> {
        Box::new(move |l: &mut ProductList| {
            if let Some(row) = l.items.iter_mut().find(|r| r.id == p.id) {
                *row = p;
            }
        })
    });
    let on_page = Callback::from(move |p| {
        go.emit(p);
        gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
    });

    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state"><p>{ "No products yet" }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="admin-products" class="data-table">
                        <thead>
                            <tr>
                                <th>{ "SKU" }</th><th>{ "Name" }</th><th>{ "Price" }</th><th>{ "Stock" }</th>
                                <th>{ "Status" }</th><th>{ "Actions" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|p| html! {
                                <ProductRow key={p.id.get()} product={p.clone()} on_updated={on_updated.clone()} />
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("product", "products")} {on_page} />
            </>
        },
    };

    html! {
        <section class="admin-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <NewProductForm {on_created} />
            <h2>{ "All products" }</h2>
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct NewProductFormProps {
    on_created: Callback<Product>,
}

/// Maps API field names to the form's inputs.
const FORM_FIELDS: [(&str, &str); 7] = [
    ("sku", "sku"),
    ("name", "name"),
    ("price_cents", "price"),
    ("currency", "currency"),
    ("category", "category"),
    ("initial_stock", "stock"),
    ("description", "description"),
];

fn input_of(api_field: &str) -> Option<&'static str> {
    FORM_FIELDS.iter().find(|(f, _)| *f == api_field).map(|(_, i)| *i)
}

/// `#new-*`: the create form; field errors appear under each input as `#new-<field>-error`.
#[component]
fn NewProductForm(props: &NewProductFormProps) -> Html {
    let session = use_session();
    let categories = {
        let api = session.api.clone();
        use_load((), move |()| async move { catalog::categories(&api).await })
    };
    let sku = use_state(String::new);
    let name = use_state(String::new);
    let price = use_state(String::new);
    let currency = use_state(|| Currency::EUR.code().to_owned());
    let category = use_state(String::new);
    let stock = use_state(|| "0".to_owned());
    let description = use_state(String::new);
    let busy = use_state(|| false);
    let field_errors = use_state(Vec::<FieldProblem>::new);
    let error = use_state(|| None::<ApiError>);
    let created = use_state(|| None::<Product>);

    let onsubmit = {
        let (sku, name, price, currency, category, stock, description) = (
            sku.clone(),
            name.clone(),
            price.clone(),
            currency.clone(),
            category.clone(),
            stock.clone(),
            description.clone(),
        );
        let (busy, field_errors, error, created) =
            (busy.clone(), field_errors.clone(), error.clone(), created.clone());
        let on_created = props.on_created.clone();
        let api = session.api.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            created.set(None);
            error.set(None);
            let mut problems = Vec::new();
            let price_cents = parse_price_cents(&price).map_err(|m| problems.push(problem("price_cents", m)));
            let initial_stock = if stock.trim().is_empty() { Some(0) } else { parse_whole(&stock) };
            if initial_stock.is_none() {
                problems.push(problem("initial_stock", "enter a whole number of units, e.g. 10"));
            }
            let (Ok(price_cents), Some(initial_stock)) = (price_cents, initial_stock) else {
                field_errors.set(problems);
                return;
            };
            field_errors.set(Vec::new());
            busy.set(true);
            let body = CreateProductRequest {
                sku: sku.trim().to_owned(),
                name: name.trim().to_owned(),
                description: description.trim().to_owned(),
                price_cents,
                currency: (*currency).clone(),
                category: category.trim().to_owned(),
                image_url: None,
                initial_stock,
                active: true,
                returnable: None,
            };
            let states = (sku.clone(), name.clone(), price.clone(), stock.clone(), description.clone());
            let (busy, field_errors, error, created) =
                (busy.clone(), field_errors.clone(), error.clone(), created.clone());
            let (api, on_created) = (api.clone(), on_created.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::create_product(&api, &body).await {
                    Ok(p) => {
                        let (sku, name, price, stock, description) = states;
                        sku.set(String::new());
                        name.set(String::new());
                        price.set(String::new());
                        stock.set("0".to_owned());
                        description.set(String::new());
                        created.set(Some(p.clone()));
                        on_created.emit(p);
                    }
                    Err(e) => {
                        field_errors.set(e.field_errors().to_vec());
                        error.set(Some(e));
                    }
                }
                busy.set(false);
            });
        })
    };

    let field_error = |input: &str| -> Html {
        let msgs: Vec<&str> = field_errors
            .iter()
            .filter(|f| input_of(&f.field) == Some(input))
            .map(|f| f.message.as_str())
            .collect();
        if msgs.is_empty() {
            html! {}
        } else {
            html! { <p id={format!("new-{input}-error")} class="field-error">{ msgs.join("; ") }</p> }
        }
    };
    let invalid = |input: &str| -> Option<AttrValue> {
        field_errors.iter().any(|f| input_of(&f.field) == Some(input)).then(|| AttrValue::from("true"))
    };
    let unplaced: Vec<FieldProblem> =
        field_errors.iter().filter(|f| input_of(&f.field).is_none()).cloned().collect();
    let currency_options: Vec<(String, String)> =
        Currency::ALL.iter().map(|c| (c.code().to_owned(), c.code().to_owned())).collect();
    let on_currency = {
        let currency = currency.clone();
        Callback::from(move |c| currency.set(c))
    };
    let on_description = {
        let description = description.clone();
        Callback::from(move |e: InputEvent| {
            description.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };

    html! {
        <form id="new-product" class="card form new-product" novalidate=true {onsubmit}>
            <h2>{ "New product" }</h2>
            <div class="form-grid">
                <div class="field">
                    <label for="new-sku">{ "SKU" }</label>
                    <input id="new-sku" type="text" autocomplete="off" placeholder="KET-001" value={(*sku).clone()}
                        aria-invalid={invalid("sku")} oninput={bind_input(&sku)} />
                    { field_error("sku") }
                </div>
                <div class="field field-wide">
                    <label for="new-name">{ "Name" }</label>
                    <input id="new-name" type="text" autocomplete="off" value={(*name).clone()}
                        aria-invalid={invalid("name")} oninput={bind_input(&name)} />
                    { field_error("name") }
                </div>
                <div class="field">
                    <label for="new-price">{ "Price" }</label>
                    <input id="new-price" type="text" inputmode="decimal" placeholder="34.99" value={(*price).clone()}
                        aria-invalid={invalid("price")} oninput={bind_input(&price)} />
                    { field_error("price") }
                </div>
                <div class="field">
                    <label for="new-currency">{ "Currency" }</label>
                    <Select id="new-currency" options={currency_options} value={(*currency).clone()} onchange={on_currency} />
                    { field_error("currency") }
                </div>
                <div class="field">
                    <label for="new-category">{ "Category" }</label>
                    <input id="new-category" type="text" list="category-options" autocomplete="off"
                        value={(*category).clone()} aria-invalid={invalid("category")} oninput={bind_input(&category)} />
                    <datalist id="category-options">
                        if let Load::Ready(cats) = categories.get() {
                            { for cats.iter().map(|c| html! { <option value={c.category.clone()} /> }) }
                        }
                    </datalist>
                    { field_error("category") }
                </div>
                <div class="field">
                    <label for="new-stock">{ "Initial stock" }</label>
                    <input id="new-stock" type="number" min="0" step="1" value={(*stock).clone()}
                        aria-invalid={invalid("stock")} oninput={bind_input(&stock)} />
                    { field_error("stock") }
                </div>
                <div class="field field-full">
                    <label for="new-description">{ "Description " }<span class="optional">{ "(optional)" }</span></label>
                    <textarea id="new-description" rows="2" value={(*description).clone()}
                        aria-invalid={invalid("description")} oninput={on_description} />
                    { field_error("description") }
                </div>
            </div>
            if let Some(e) = &*error {
                <div id="new-error" class="alert alert-error" role="alert">
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={unplaced} />
                </div>
            }
            if let Some(p) = &*created {
                <p id="new-success" class="alert alert-success" role="status">
                    { format!("Created {} ({}).", p.name, p.sku) }
                </p>
            }
            <button id="new-submit" type="submit" disabled={*busy}>
                { if *busy { "Creating…" } else { "Create product" } }
            </button>
        </form>
    }
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem { field: field.to_owned(), message: message.to_owned() }
}

#[derive(Properties, PartialEq)]
struct ProductRowProps {
    product: Product,
    on_updated: Callback<Product>,
}

/// Outcome of a row action, shown under the row's buttons.
#[derive(Debug, Clone, PartialEq)]
enum RowNote {
    Ok(String),
    Err(String),
}

/// One `tr.admin-product-row`: activate/deactivate, stock adjustment, inline name/price edit.
#[component]
fn ProductRow(props: &ProductRowProps) -> Html {
    let session = use_session();
    let p = &props.product;
    let busy = use_state(|| false);
    let note = use_state(|| None::<RowNote>);
    let delta = use_state(String::new);
    let reason = use_state(String::new);
    let editing = use_state(|| false);
    let edit_name = use_state(String::new);
    let edit_price = use_state(String::new);

    // Runs one PATCH; on a version conflict re-reads the product so the next try uses its version.
    let patch = {
        let (api, busy, note, editing) = (session.api.clone(), busy.clone(), note.clone(), editing.clone());
        let on_updated = props.on_updated.clone();
        let id = p.id;
        Callback::from(move |(body, done): (UpdateProductRequest, String)| {
            busy.set(true);
            note.set(None);
            let (api, busy, note, editing, on_updated) =
                (api.clone(), busy.clone(), note.clone(), editing.clone(), on_updated.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::update_product(&api, id, &body).await {
                    Ok(fresh) => {
                        on_updated.emit(fresh);
                        editing.set(false);
                        note.set(Some(RowNote::Ok(done)));
                    }
                    Err(e) if e.code() == Some("version_conflict") => {
                        let mut msg = e.detail().trim_end_matches('.').to_owned();
                        if let Ok(fresh) = catalog::get(&api, id).await {
                            on_updated.emit(fresh);
                            msg.push_str(". The row now shows the latest version: try again.");
                        }
                        note.set(Some(RowNote::Err(msg)));
                    }
                    Err(e) => note.set(Some(RowNote::Err(describe(&e)))),
                }
                busy.set(false);
            });
        })
    };

    let on_toggle = {
        let patch = patch.clone();
        let (version, active) = (p.version, p.active);
        Callback::from(move |_: MouseEvent| {
            let body =
                UpdateProductRequest { version, active: Some(!active), ..UpdateProductRequest::default() };
            patch.emit((body, if active { "Deactivated." } else { "Activated." }.to_owned()));
        })
    };

    let on_stock = {
        let (api, busy, note, delta, reason) =
            (session.api.clone(), busy.clone(), note.clone(), delta.clone(), reason.clone());
        let on_updated = props.on_updated.clone();
        let id = p.id;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(d) = parse_whole(&delta).filter(|d| *d != 0) else {
                note.set(Some(RowNote::Err(
                    "Enter a non-zero whole number of units, e.g. 5 or -3.".to_owned(),
                )));
                return;
            };
            busy.set(true);
            note.set(None);
            let body = StockAdjustmentRequest { delta: d, reason: reason.trim().to_owned() };
            let (api, busy, note, delta, reason, on_updated) =
                (api.clone(), busy.clone(), note.clone(), delta.clone(), reason.clone(), on_updated.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::adjust_stock(&api, id, &body).await {
                    Ok(r) => {
                        let msg = format!(
                            "Stock {} → {}.",
                            r.movement.stock_after - r.movement.delta,
                            r.movement.stock_after
                        );
                        on_updated.emit(r.product);
                        delta.set(String::new());
                        reason.set(String::new());
                        note.set(Some(RowNote::Ok(msg)));
                    }
                    Err(e) => note.set(Some(RowNote::Err(describe(&e)))),
                }
                busy.set(false);
            });
        })
    };

    let on_edit = {
        let (editing, edit_name, edit_price, note) =
            (editing.clone(), edit_name.clone(), edit_price.clone(), note.clone());
        let (name, price) = (p.name.clone(), cents_to_decimal(p.price_cents));
        Callback::from(move |_: MouseEvent| {
            edit_name.set(name.clone());
            edit_price.set(price.clone());
            note.set(None);
            editing.set(true);
        })
    };
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(false))
    };
    let on_save = {
        let (patch, note, edit_name, edit_price) =
            (patch.clone(), note.clone(), edit_name.clone(), edit_price.clone());
        let (version, old_name, old_price) = (p.version, p.name.clone(), p.price_cents);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let price = match parse_price_cents(&edit_price) {
                Ok(c) => c,
                Err(m) => return note.set(Some(RowNote::Err(format!("Price: {m}")))),
            };
            let name = edit_name.trim().to_owned();
            let body = UpdateProductRequest {
                version,
                name: (name != old_name).then_some(name),
                price_cents: (price != old_price).then_some(price),
                ..UpdateProductRequest::default()
            };
            patch.emit((body, "Saved.".to_owned()));
        })
    };

    let status = if p.active { ("Active", "tag tag-ok") } else { ("Inactive", "tag tag-muted") };
    html! {
        <tr class={classes!("admin-product-row", (!p.active).then_some("inactive"))}
            data-id={p.id.to_string()} data-sku={p.sku.clone()}>
            <td class="cell-sku" data-label="SKU">{ &p.sku }</td>
            <td class="cell-name" data-label="Name">
                if *editing {
                    <form class="edit-form" onsubmit={on_save}>
                        <input class="edit-name" type="text" aria-label="Name" value={(*edit_name).clone()}
                            oninput={bind_input(&edit_name)} />
                        <input class="edit-price" type="text" inputmode="decimal" aria-label="Price"
                            value={(*edit_price).clone()} oninput={bind_input(&edit_price)} />
                        <button class="edit-save" type="submit" disabled={*busy}>{ "Save" }</button>
                        <button class="edit-cancel button-secondary" type="button" onclick={on_cancel}>{ "Cancel" }</button>
                    </form>
                } else {
                    <AppLink to={Route::Product { id: p.id.get() }}>{ &p.name }</AppLink>
                    <div class="muted">{ &p.category }</div>
                }
            </td>
            <td class="cell-price" data-label="Price">{ format_money(p.price_cents, p.currency) }</td>
            <td class="cell-stock" data-label="Stock">{ p.stock }</td>
            <td class="cell-status" data-label="Status"><span class={status.1}>{ status.0 }</span></td>
            <td class="cell-actions">
                <div class="row-buttons">
                    <button class="toggle-active button-secondary" type="button" disabled={*busy} onclick={on_toggle}>
                        { if p.active { "Deactivate" } else { "Activate" } }
                    </button>
                    if !*editing {
                        <button class="edit-product button-secondary" type="button" disabled={*busy} onclick={on_edit}>
                            { "Edit" }
                        </button>
                    }
                </div>
                <form class="stock-form" onsubmit={on_stock}>
                    <input class="stock-delta" type="number" step="1" placeholder="±units" aria-label="Stock change"
                        value={(*delta).clone()} oninput={bind_input(&delta)} />
                    <input class="stock-reason" type="text" placeholder="Reason" aria-label="Reason"
                        value={(*reason).clone()} oninput={bind_input(&reason)} />
                    <button class="stock-submit" type="submit" disabled={*busy}>{ "Adjust" }</button>
                </form>
                { match &*note {
                    Some(RowNote::Ok(m)) => html! { <p class="row-message" role="status">{ m }</p> },
                    Some(RowNote::Err(m)) => html! { <p class="row-error" role="alert">{ m }</p> },
                    None => html! {},
                } }
            </td>
        </tr>
    }
}

/// The detail plus any field messages, on one line.
fn describe(e: &ApiError) -> String {
    let mut s = e.detail();
    for f in e.field_errors() {
        s.push_str(&format!(" {}: {}.", f.field, f.message));
    }
    s
}
