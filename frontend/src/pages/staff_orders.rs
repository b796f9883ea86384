use std::cell::RefCell;
use std::rc::Rc;

use retail_api_types::{
    GrantCreditRequest, Order, OrderAction, OrderList, OrderState, Role, ShipOrderRequest, StaffOrderQuery,
    UserId,
};
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use super::bind_input;
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, Pager, Select, StateTag, past_end};
use crate::format::{
    cents_to_decimal, count_noun, day_end, day_start, format_money, format_when, parse_price_cents,
    state_label,
};
use crate::hooks::{Edit, Load, use_load, use_session, use_settled, use_title};
use crate::routes::Route;
use crate::services::idempotency::{Attempt, new_key};
use crate::services::{ApiError, staff};

const PER_PAGE: u32 = 20;

/// Whether `role` may list, ship, deliver and cancel every customer's orders.
pub fn manages_orders(role: Role) -> bool {
    matches!(role, Role::Support | Role::Warehouse | Role::Admin)
}

/// Whether `role` may grant store credit.
pub fn grants_credit(role: Role) -> bool {
    matches!(role, Role::Finance | Role::Admin)
}

/// The page's state as kept in the URL (`?page=&state=&customer=&from=&to=`; days as
/// `YYYY-MM-DD`, `to` inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StaffQuery {
    #[serde(skip_serializing_if = "is_first_page")]
    pub page: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub customer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

impl StaffQuery {
    /// Reads the query string; junk falls back to defaults.
    pub fn parse(query_str: &str) -> StaffQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = StaffQuery { page: 1, ..StaffQuery::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "state" if OrderState::parse(&v).is_some() => out.state = v,
                "customer" => out.customer = v,
                "from" if day_start(&v).is_some() => out.from = v,
                "to" if day_start(&v).is_some() => out.to = v,
                _ => {}
            }
        }
        out
    }

    /// The API query.
    pub fn to_api(&self) -> StaffOrderQuery {
        StaffOrderQuery {
            page: Some(self.page.max(1)),
            per_page: Some(PER_PAGE),
            state: OrderState::parse(&self.state),
            customer: Some(self.customer.clone()).filter(|c| !c.is_empty()),
            from: day_start(&self.from),
            to: day_end(&self.to),
        }
    }

    fn is_filtered(&self) -> bool {
        !(self.state.is_empty() && self.customer.is_empty() && self.from.is_empty() && self.to.is_empty())
    }
}

/// `/staff/orders`: every customer's orders with filters and ship / deliver / cancel; the
/// store-credit grant form for finance and admins.
#[component]
pub fn StaffOrdersPage() -> Html {
    use_title("Orders · Staff");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    let Some(role) = session.user().map(|u| u.role).filter(|r| r.is_staff()) else {
        return html! {
            <div id="forbidden" class="alert alert-error" role="alert">
                <h1>{ "Not allowed" }</h1>
                <p>{ "This page is for shop staff only." }</p>
                if session.user().is_none() {
                    <p><AppLink to={Route::Login}>{ "Log in" }</AppLink>{ " with a staff account." }</p>
                }
            </div>
        };
    };
    html! { <StaffOrders {role} /> }
}

#[derive(Properties, PartialEq)]
struct StaffOrdersProps {
    role: Role,
}

#[component]
fn StaffOrders(props: &StaffOrdersProps) -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let query = location.map(|l| StaffQuery::parse(l.query_str())).unwrap_or_default();
    let customer = use_state(|| query.customer.clone());
    let from = use_state(|| query.from.clone());
    let to = use_state(|| query.to.clone());
    {
        let (customer, from, to) = (customer.clone(), from.clone(), to.clone());
        use_effect_with(query.clone(), move |q| {
            customer.set(q.customer.clone());
            from.set(q.from.clone());
            to.set(q.to.clone());
        });
    }
    let grant_for = use_state(|| None::<UserId>);
    let can_manage = manages_orders(props.role);
    let can_grant = grants_credit(props.role);
    let list = {
        let api = session.api.clone();
        use_load(query.clone(), move |q| async move { staff::orders(&api, &q.to_api()).await })
    };

    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |q: StaffQuery| {
            let Some(nav) = &navigator else { return };
            let done = if replace {
                nav.replace_with_query(&Route::StaffOrders, &q)
            } else {
                nav.push_with_query(&Route::StaffOrders, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let settled = use_settled(query.clone(), replace.clone());
    let shown = settled.shown.clone();
    let on_state = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |state| choose.emit(StaffQuery { page: 1, state, ..shown.clone() }))
    };
    let on_filter = {
        let (go, shown, customer, from, to) =
            (go.clone(), shown.clone(), customer.clone(), from.clone(), to.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            go.emit(StaffQuery {
                page: 1,
                customer: customer.trim().to_owned(),
                from: from.trim().to_owned(),
                to: to.trim().to_owned(),
                ..shown.clone()
            });
        })
    };
    let on_clear = {
        let go = go.clone();
        Callback::from(move |_: MouseEvent| go.emit(StaffQuery { page: 1, ..StaffQuery::default() }))
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(StaffQuery { page, ..query.clone() });
            gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
        })
    };
    let overflow = match list.get() {
        Load::Ready(l) => past_end(&l.pagination),
        _ => None,
    };
    {
        let (replace, query) = (replace.clone(), query.clone());
        use_effect_with(overflow, move |o| {
            if let Some(page) = *o {
                replace.emit(StaffQuery { page, ..query });
            }
        });
    }
    let on_changed = {
        let (edit, reload) = (list.editor(), list.reloader());
        Callback::from(move |answer: Option<Order>| match answer {
            Some(o) => edit.emit(Box::new(move |l: &mut OrderList| {
                if let Some(row) = l.items.iter_mut().find(|r| r.id == o.id) {
                    *row = o;
                }
            }) as Edit<OrderList>),
            None => reload.emit(()),
        })
    };
    let on_grant_for = {
        let grant_for = grant_for.clone();
        Callback::from(move |id: UserId| grant_for.set(Some(id)))
    };

    let mut state_options = vec![(String::new(), "All states".to_owned())];
    state_options.extend(OrderState::ALL.iter().map(|s| (s.as_str().to_owned(), state_label(*s).to_owned())));

    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! {
            <div id="orders-forbidden" class="alert alert-info" role="status">
                { "Your role cannot list every customer's orders." }
                if can_grant { { " You can grant store credit below." } }
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "No orders match" }</p>
                if query.is_filtered() {
                    <button id="clear-filters" type="button" class="button-secondary" onclick={on_clear.clone()}>
                        { "Clear filters" }
                    </button>
                }
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="staff-orders" class="data-table">
                        <thead>
                            <tr>
                                <th>{ "Order" }</th><th>{ "Placed" }</th><th>{ "Customer" }</th><th>{ "Total" }</th>
                                <th>{ "State" }</th><th>{ "Actions" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|o| html! {
                                <tr key={o.id.get()} class="order-row staff-order-row" data-testid="order-row"
                                    data-id={o.id.to_string()} data-state={o.state.as_str()}>
                                    <td class="cell-name" data-label="Order">
                                        <AppLink classes="order-link" to={Route::Order { id: o.id.get() }}>
                                            { format!("Order #{}", o.id) }
                                        </AppLink>
                                        <div class="muted">{ count_noun(i64::try_from(o.lines.len()).unwrap_or(i64::MAX), "line", "lines") }</div>
                                    </td>
                                    <td data-label="Placed">{ format_when(&o.created_at) }</td>
                                    <td data-label="Customer" class="cell-customer">
                                        { &o.customer_email }
                                        <div class="muted">{ format!("customer #{}", o.user_id) }</div>
                                        if can_grant {
                                            <button type="button" class="grant-for button-secondary"
                                                onclick={on_grant_for.reform({ let id = o.user_id; move |_: MouseEvent| id })}>
                                                { "Grant credit" }
                                            </button>
                                        }
                                    </td>
                                    <td class="cell-price" data-label="Total">{ format_money(o.total_cents, o.currency) }</td>
                                    <td data-label="State"><StateTag state={o.state} /></td>
                                    <td class="cell-actions" data-label="Actions">
                                        if can_manage {
                                            <StaffActions order={o.clone()} on_changed={on_changed.clone()} />
                                        } else {
                                            <span class="muted">{ "—" }</span>
                                        }
                                    </td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("order", "orders")} {on_page} />
            </>
        },
    };

    html! {
        <section class="staff-page">
            <h1>{ "Orders" }</h1>
            if can_grant {
                <GrantCreditForm prefill={*grant_for} />
            }
            <form id="staff-filters" class="filters staff-filters" role="search" onsubmit={on_filter}>
                <div class="filter-grid">
                    <label>
                        <span>{ "State" }</span>
                        <Select id="staff-state" options={state_options} value={shown.state.clone()} onchange={on_state} />
                    </label>
                    <label>
                        <span>{ "Customer email" }</span>
                        <input id="staff-customer" type="search" placeholder="ann@" value={(*customer).clone()}
                            oninput={bind_input(&customer)} />
                    </label>
                    <label>
                        <span>{ "From" }</span>
                        <input id="staff-from" type="date" value={(*from).clone()} oninput={bind_input(&from)} />
                    </label>
                    <label>
                        <span>{ "To" }</span>
                        <input id="staff-to" type="date" value={(*to).clone()} oninput={bind_input(&to)} />
                    </label>
                </div>
                <div class="row-buttons">
                    <button id="staff-filter-submit" type="submit">{ "Filter" }</button>
                    if query.is_filtered() {
                        <button id="staff-filter-clear" type="button" class="button-secondary" onclick={on_clear}>
                            { "Clear" }
                        </button>
                    }
                </div>
            </form>
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct StaffActionsProps {
    pub order: Order,
    /// The order after a change (`None`: read it again).
    pub on_changed: Callback<Option<Order>>,
}

/// Which form of a row is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Ship,
    Cancel,
}

/// Ship (`.ship-button`, then `.ship-carrier`, `.ship-tracking`, `.ship-submit`), deliver
/// (`.deliver-button`) and cancel (`.cancel-button`, then `.cancel-reason`, `.cancel-submit`),
/// as the order's `actions` allow.
#[component]
pub fn StaffActions(props: &StaffActionsProps) -> Html {
    let session = use_session();
    let open = use_state(|| None::<Open>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let carrier = use_state(String::new);
    let tracking = use_state(String::new);
    let reason = use_state(String::new);
    let o = &props.order;
    let can = |a: OrderAction| o.actions.contains(&a);

    // Runs one change and reports the order it returned.
    let run = {
        let (busy, error, open, on_changed) =
            (busy.clone(), error.clone(), open.clone(), props.on_changed.clone());
        move |call: std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<Order>, ApiError>>>>| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (busy, error, open, on_changed) =
                (busy.clone(), error.clone(), open.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call.await {
                    Ok(answer) => {
                        open.set(None);
                        on_changed.emit(answer);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let run = Rc::new(run);
    let toggle = |which: Open| {
        let (open, error) = (open.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            open.set(if *open == Some(which) { None } else { Some(which) });
        })
    };
    let on_deliver = {
        let (run, api, id) = (run.clone(), session.api.clone(), o.id);
        Callback::from(move |_: MouseEvent| {
            let api = api.clone();
            run(Box::pin(async move { staff::deliver(&api, id).await }));
        })
    };
    let on_ship = {
        let (run, api, id, carrier, tracking) =
            (run.clone(), session.api.clone(), o.id, carrier.clone(), tracking.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let api = api.clone();
            let body =
                ShipOrderRequest { carrier: carrier.trim().to_owned(), tracking: tracking.trim().to_owned() };
            run(Box::pin(async move { staff::ship(&api, id, &body).await }));
        })
    };
    let on_cancel = {
        let (run, api, id, reason) = (run.clone(), session.api.clone(), o.id, reason.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (api, reason) = (api.clone(), reason.trim().to_owned());
            run(Box::pin(async move { staff::cancel(&api, id, &reason).await }));
        })
    };

    let any = can(OrderAction::Ship) || can(OrderAction::Deliver) || can(OrderAction::Cancel);
    html! {
        <div class="staff-actions" aria-busy={(*busy).then_some("true")}>
            if !any {
                <span class="muted">{ "—" }</span>
            }
            <div class="row-buttons">
                if can(OrderAction::Ship) {
                    <button class="ship-button" data-testid="ship-button" type="button" disabled={*busy}
                        onclick={toggle(Open::Ship)}>{ "Ship" }</button>
                }
                if can(OrderAction::Deliver) {
                    <button class="deliver-button" data-testid="deliver-button" type="button" disabled={*busy}
                        onclick={on_deliver}>{ if *busy { "Saving…" } else { "Mark delivered" } }</button>
                }
                if can(OrderAction::Cancel) {
                    <button class="cancel-button button-secondary" data-testid="cancel-button" type="button"
                        disabled={*busy} onclick={toggle(Open::Cancel)}>{ "Cancel" }</button>
                }
            </div>
            if *open == Some(Open::Ship) {
                <form class="ship-form stock-form" onsubmit={on_ship}>
                    <input class="ship-carrier" data-testid="ship-carrier" type="text" placeholder="Carrier"
                        aria-label="Carrier" maxlength="40" value={(*carrier).clone()} oninput={bind_input(&carrier)} />
                    <input class="ship-tracking" data-testid="ship-tracking" type="text" placeholder="Tracking number"
                        aria-label="Tracking number" maxlength="64" value={(*tracking).clone()}
                        oninput={bind_input(&tracking)} />
                    <button class="ship-submit" data-testid="ship-submit" type="submit" disabled={*busy}>
                        { if *busy { "Shipping…" } else { "Mark shipped" } }
                    </button>
                </form>
            }
            if *open == Some(Open::Cancel) {
                <form class="cancel-form stock-form" onsubmit={on_cancel}>
                    <input class="cancel-reason" data-testid="cancel-reason" type="text" placeholder="Reason (shown to the customer)"
                        aria-label="Reason" maxlength="200" value={(*reason).clone()} oninput={bind_input(&reason)} />
                    <button class="cancel-submit" data-testid="cancel-submit" type="submit" disabled={*busy}>
                        { if *busy { "Cancelling…" } else { "Cancel order" } }
                    </button>
                </form>
            }
            if let Some(e) = &*error {
                <div class="row-error" role="alert" data-testid="error-message">
                    { e.detail() }
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct GrantCreditFormProps {
    /// A customer picked from the list ("Grant credit" in a row).
    prefill: Option<UserId>,
}

/// `#grant-credit`: `#grant-user`, `#grant-amount`, `#grant-reason`, `#grant-submit`; the
/// outcome in `#grant-message` or `#grant-error`. Sent with an `Idempotency-Key` that a
/// repeat of the same grant reuses.
#[component]
fn GrantCreditForm(props: &GrantCreditFormProps) -> Html {
    let session = use_session();
    let user = use_state(String::new);
    let amount = use_state(String::new);
    let reason = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let invalid = use_state(|| None::<String>);
    let message = use_state(|| None::<String>);
    let attempt: Rc<RefCell<Option<Attempt<GrantCreditRequest>>>> = use_mut_ref(|| None);
    {
        let user = user.clone();
        use_effect_with(props.prefill, move |p| {
            if let Some(id) = p {
                user.set(id.to_string());
            }
        });
    }

    let onsubmit = {
        let (api, user, amount, reason, busy, error, invalid, message) = (
            session.api.clone(),
            user.clone(),
            amount.clone(),
            reason.clone(),
            busy.clone(),
            error.clone(),
            invalid.clone(),
            message.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            message.set(None);
            error.set(None);
            let body = match grant_request(&user, &amount, &reason) {
                Ok(b) => b,
                Err(m) => return invalid.set(Some(m)),
            };
            invalid.set(None);
            busy.set(true);
            let this = Attempt::next(attempt.borrow().as_ref(), &body, new_key);
            *attempt.borrow_mut() = Some(this.clone());
            let (api, busy, error, message, attempt) =
                (api.clone(), busy.clone(), error.clone(), message.clone(), attempt.clone());
            let (amount, reason) = (amount.clone(), reason.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match staff::grant_credit(&api, &this.what, &this.key).await {
                    Ok(account) => {
                        *attempt.borrow_mut() = None;
                        let balance = account
                            .map(|a| {
                                format!(
                                    " Their balance is now {}.",
                                    format_money(a.balance_cents, a.currency)
                                )
                            })
                            .unwrap_or_default();
                        message.set(Some(format!(
                            "Granted {} of store credit to customer #{}.{balance}",
                            cents_to_decimal(this.what.amount_cents),
                            this.what.user_id
                        )));
                        amount.set(String::new());
                        reason.set(String::new());
                    }
                    Err(e) => {
                        if e.code() == Some("idempotency_key_reused") {
                            *attempt.borrow_mut() = None;
                        }
                        error.set(Some(e));
                    }
                }
                busy.set(false);
            });
        })
    };

    html! {
        <form id="grant-credit" class="card form grant-credit" novalidate=true {onsubmit}>
            <h2>{ "Grant store credit" }</h2>
            <div class="form-grid">
                <div class="field">
                    <label for="grant-user">{ "Customer number" }</label>
                    <input id="grant-user" type="number" min="1" step="1" inputmode="numeric" value={(*user).clone()}
                        oninput={bind_input(&user)} />
                </div>
                <div class="field">
                    <label for="grant-amount">{ "Amount" }</label>
                    <input id="grant-amount" type="text" inputmode="decimal" placeholder="10.00" value={(*amount).clone()}
                        oninput={bind_input(&amount)} />
                </div>
                <div class="field">
                    <label for="grant-reason">{ "Reason" }</label>
                    <input id="grant-reason" type="text" maxlength="200" placeholder="Shown to the customer"
                        value={(*reason).clone()} oninput={bind_input(&reason)} />
                </div>
            </div>
            if let Some(m) = &*invalid {
                <p id="grant-invalid" class="field-error" role="alert">{ m }</p>
            }
            if let Some(e) = &*error {
                <div id="grant-error" class="alert alert-error" role="alert" data-testid="error-message">
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
            if let Some(m) = &*message {
                <p id="grant-message" class="alert alert-success" role="status">{ m }</p>
            }
            <button id="grant-submit" type="submit" disabled={*busy}>
                { if *busy { "Granting…" } else { "Grant credit" } }
            </button>
        </form>
    }
}

/// The grant as typed, or what to fix first.
pub fn grant_request(user: &str, amount: &str, reason: &str) -> Result<GrantCreditRequest, String> {
    let user_id = user
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| "Customer number: enter the customer's number, e.g. 12.".to_owned())?;
    let amount_cents = parse_price_cents(amount).map_err(|m| format!("Amount: {m}."))?;
    if amount_cents == 0 {
        return Err("Amount: must be more than zero.".to_owned());
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("Reason: say why (the customer sees it).".to_owned());
    }
    Ok(GrantCreditRequest { user_id: UserId(user_id), amount_cents, reason: reason.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_query_round_trips_and_junk_falls_back() {
        let q = StaffQuery::parse("?page=2&state=paid&customer=ann&from=2026-11-01&to=2026-11-30");
        assert_eq!(
            q,
            StaffQuery {
                page: 2,
                state: "paid".into(),
                customer: "ann".into(),
                from: "2026-11-01".into(),
                to: "2026-11-30".into()
            }
        );
        assert_eq!(StaffQuery::parse(&serde_urlencoded::to_string(&q).unwrap_or_default()), q);
        let junk = StaffQuery::parse("page=0&state=lost&from=yesterday&to=2026-13-01");
        assert_eq!(junk, StaffQuery { page: 1, ..StaffQuery::default() });
        assert_eq!(serde_urlencoded::to_string(&junk).ok().as_deref(), Some(""));
    }

    #[test]
    fn the_api_query_has_whole_days_and_leaves_out_empty_filters() {
        let api = StaffQuery::parse("state=shipped&from=2026-11-01&to=2026-11-30").to_api();
        assert_eq!(api.state, Some(OrderState::Shipped));
        assert_eq!(api.from.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-01T00:00:00+00:00"));
        assert_eq!(api.to.map(|d| d.to_rfc3339()).as_deref(), Some("2026-12-01T00:00:00+00:00"));
        assert_eq!(api.customer, None);
        let encoded = serde_urlencoded::to_string(&api).unwrap_or_default();
        assert!(encoded.contains("state=shipped"), "{encoded}");
        assert!(!encoded.contains("customer"), "{encoded}");
    }

    #[test]
    fn roles_see_what_they_may_do() {
        assert!(
            manages_orders(Role::Warehouse) && manages_orders(Role::Support) && manages_orders(Role::Admin)
        );
        assert!(!manages_orders(Role::Finance) && !manages_orders(Role::Customer));
        assert!(grants_credit(Role::Finance) && grants_credit(Role::Admin));
        assert!(!grants_credit(Role::Support) && !grants_credit(Role::Customer));
    }

    #[test]
    fn grants_are_checked_before_sending() {
        let ok = grant_request(" 12 ", "10.50", " goodwill ").unwrap();
        assert_eq!((ok.user_id, ok.amount_cents, ok.reason.as_str()), (UserId(12), 1050, "goodwill"));
        assert!(grant_request("", "10", "x").is_err());
        assert!(grant_request("0", "10", "x").is_err());
        assert!(grant_request("12", "0", "x").is_err());
        assert!(grant_request("12", "-1", "x").is_err());
        assert!(grant_request("12", "10", "  ").is_err());
    }
}
