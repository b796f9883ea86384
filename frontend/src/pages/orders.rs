use retail_api_types::{Order, OrderAction, OrderId, PageQuery};
use yew::prelude::*;
use yew_router::prelude::*;

use super::staff_orders::StaffActions;
use super::{NeedsLogin, bind_input, may_return};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, MoneyRow, Pager, StateTag, Thumb};
use crate::format::{count_items, format_money, format_when};
use crate::hooks::{Edit, Load, use_clamped_page, use_load, use_session, use_title, use_url_page};
use crate::routes::Route;
use crate::services::{ApiError, orders};

const PER_PAGE: u32 = 20;

/// Units across an order's lines.
pub fn units(order: &Order) -> u32 {
    order.lines.iter().map(|l| l.quantity).fold(0, u32::saturating_add)
}

/// `/orders`: the customer's orders, newest first, paged.
#[component]
pub fn OrdersPage() -> Html {
    use_title("Your orders");
    html! {
        <section class="orders-page">
            <h1>{ "Your orders" }</h1>
            <NeedsLogin what="your orders"><OwnOrders /></NeedsLogin>
        </section>
    }
}

#[component]
fn OwnOrders() -> Html {
    let session = use_session();
    let _location = use_location();
    let _navigator = use_navigator();
    let paging = use_url_page(Route::Orders);
    let page = paging.page;
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            orders::list(&api, &PageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let pagination = match list.get() {
        Load::Ready(l) => Some(l.pagination),
        _ => None,
    };
    let clamping = use_clamped_page(&paging, pagination.as_ref());
    let on_page = paging.on_page.clone();

    match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if clamping => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "You have not ordered anything yet." }</p>
                <AppLink classes="button-link" to={Route::Catalog}>{ "Browse products" }</AppLink>
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="orders" class="data-table">
                        <thead>
                            <tr>
                                <th>{ "Order" }</th><th>{ "Placed" }</th><th>{ "Items" }</th><th>{ "State" }</th>
                                <th>{ "Total" }</th><th>{ "Receipt" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|o| html! {
                                <tr key={o.id.get()} class="order-row" data-testid="order-row" data-id={o.id.to_string()}
                                    data-state={o.state.as_str()}>
                                    <td class="cell-name" data-label="Order">
                                        <AppLink classes="order-link" to={Route::Order { id: o.id.get() }}>
                                            { format!("Order #{}", o.id) }
                                        </AppLink>
                                    </td>
                                    <td data-label="Placed">{ format_when(&o.created_at) }</td>
                                    <td data-label="Items">{ count_items(units(o)) }</td>
                                    <td data-label="State"><StateTag state={o.state} /></td>
                                    <td class="cell-price" data-label="Total">{ format_money(o.total_cents, o.currency) }</td>
                                    <td data-label="Receipt">
                                        <AppLink classes="receipt-link" to={Route::Receipt { id: o.id.get() }}>{ "Receipt" }</AppLink>
                                        if may_return(o.state) {
                                            { " · " }
                                            <AppLink classes="return-link" to={Route::OrderReturn { id: o.id.get() }}>{ "Return items" }</AppLink>
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
    }
}

#[derive(Properties, PartialEq)]
pub struct OrderPageProps {
    pub id: i64,
}

/// `/orders/:id`: state, lines, payment, shipping, the receipt, returning items once delivered,
/// and cancelling while the order allows it (staff get their ship / deliver / cancel buttons
/// here too).
#[component]
pub fn OrderPage(props: &OrderPageProps) -> Html {
    use_title(&format!("Order #{}", props.id));
    let staff = use_session().user().is_some_and(|u| u.role.is_staff());
    let back =
        if staff { (Route::StaffOrders, "← All orders") } else { (Route::Orders, "← Your orders") };
    html! {
        <section class="order-page">
            <p class="breadcrumbs"><AppLink id="back-to-orders" to={back.0}>{ back.1 }</AppLink></p>
            <NeedsLogin what="this order"><OrderDetail id={props.id} /></NeedsLogin>
        </section>
    }
}

#[component]
fn OrderDetail(props: &OrderPageProps) -> Html {
    let session = use_session();
    let order = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { orders::get(&api, OrderId(id)).await })
    };
    let on_changed = {
        let (edit, reload) = (order.editor(), order.reloader());
        Callback::from(move |answer: Option<Order>| match answer {
            Some(o) => edit.emit(Box::new(move |slot: &mut Order| *slot = o) as Edit<Order>),
            None => reload.emit(()),
        })
    };
    let me = session.user().map(|u| (u.id, u.role.is_staff()));

    match order.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Order not found" }</h1>
                <p>{ "There is no such order in your account." }</p>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={order.reloader()} /> },
        Load::Ready(o) => {
            let cur = o.currency;
            let own = me.is_some_and(|(id, _)| id == o.user_id);
            let staff = me.is_some_and(|(_, staff)| staff);
            html! {
                <article id="order-detail" class="card order-detail" data-id={o.id.to_string()}
                    data-state={o.state.as_str()}>
                    <header class="receipt-head">
                        <div>
                            <h1>{ format!("Order #{}", o.id) }</h1>
                            <div class="muted">{ format!("Placed {}", format_when(&o.created_at)) }</div>
                            if !own {
                                <div class="muted" id="order-customer">{ &o.customer_email }</div>
                            }
                        </div>
                        <StateTag id="order-state" state={o.state} />
                    </header>
                    <ul class="summary-lines">
                        { for o.lines.iter().map(|l| html! {
                            <li class="summary-line order-line" data-sku={l.sku.clone()}>
                                <Thumb src={l.image_url.clone()} alt={l.name.clone()} />
                                <span class="summary-name">
                                    { &l.name }
                                    <span class="muted">{ format!(" × {} at {}", l.quantity, format_money(l.unit_price_cents, cur)) }</span>
                                </span>
                                <span class="amount">{ format_money(l.line_total_cents, cur) }</span>
                            </li>
                        }) }
                    </ul>
                    <dl class="totals">
                        <MoneyRow label="Subtotal" cents={o.subtotal_cents} currency={cur} />
                        if o.credit_cents > 0 {
                            <MoneyRow label="Store credit" cents={o.credit_cents} currency={cur} id="order-credit" />
                        }
                        <MoneyRow label="Card" cents={o.card_cents} currency={cur} id="order-card" />
                        <MoneyRow label="Total" cents={o.total_cents} currency={cur} id="order-total" testid="order-total" strong=true />
                        if o.refunded_cents > 0 {
                            <MoneyRow label="Refunded" cents={o.refunded_cents} currency={cur} id="order-refunded" />
                        }
                    </dl>
                    <h2>{ "Delivery" }</h2>
                    <dl id="order-shipping" class="facts">
                        <dt>{ "Carrier" }</dt>
                        <dd id="order-carrier">{ o.carrier.clone().unwrap_or_else(|| "Not shipped yet".to_owned()) }</dd>
                        if let Some(t) = &o.tracking {
                            <dt>{ "Tracking" }</dt>
                            <dd id="order-tracking">{ t }</dd>
                        }
                        if let Some(at) = &o.shipped_at {
                            <dt>{ "Shipped" }</dt>
                            <dd id="order-shipped-at">{ format_when(at) }</dd>
                        }
                        if let Some(at) = &o.delivered_at {
                            <dt>{ "Delivered" }</dt>
                            <dd id="order-delivered-at">{ format_when(at) }</dd>
                        }
                        if let Some(at) = &o.cancelled_at {
                            <dt>{ "Cancelled" }</dt>
                            <dd id="order-cancelled-at">{ format_when(at) }</dd>
                        }
                        if let Some(r) = &o.cancel_reason {
                            <dt>{ "Reason" }</dt>
                            <dd id="order-cancel-reason">{ r }</dd>
                        }
                    </dl>
                    <div class="row-buttons">
                        <AppLink id="order-receipt" classes="button-link" to={Route::Receipt { id: o.id.get() }}>
                            { "Receipt" }
                        </AppLink>
                        if own && may_return(o.state) {
                            <AppLink id="order-return" classes="button-link" to={Route::OrderReturn { id: o.id.get() }}>
                                { "Return items" }
                            </AppLink>
                        }
                    </div>
                    if own && o.actions.contains(&OrderAction::Cancel) {
                        <CustomerCancel id={o.id} on_changed={on_changed.clone()} />
                    } else if staff && !own {
                        <h2>{ "Staff" }</h2>
                        <StaffActions order={o.clone()} on_changed={on_changed.clone()} />
                    }
                </article>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct CustomerCancelProps {
    id: OrderId,
    on_changed: Callback<Option<Order>>,
}

/// `#order-cancel`, then the reason (`#cancel-reason`) and `#cancel-confirm`.
#[component]
fn CustomerCancel(props: &CustomerCancelProps) -> Html {
    let session = use_session();
    let open = use_state(|| false);
    let reason = use_state(|| "Changed my mind".to_owned());
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let on_open = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(true))
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(false))
    };
    let on_submit = {
        let (api, reason, busy, error, open) =
            (session.api.clone(), reason.clone(), busy.clone(), error.clone(), open.clone());
        let (id, on_changed) = (props.id, props.on_changed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (api, reason, busy, error, open, on_changed) = (
                api.clone(),
                reason.trim().to_owned(),
                busy.clone(),
                error.clone(),
                open.clone(),
                on_changed.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match orders::cancel(&api, id, &reason).await {
                    Ok(answer) => {
                        open.set(false);
                        on_changed.emit(answer);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <div class="order-cancel">
            if *open {
                <form id="cancel-form" class="form" onsubmit={on_submit}>
                    <label for="cancel-reason">{ "Why are you cancelling?" }</label>
                    <input id="cancel-reason" type="text" maxlength="200" value={(*reason).clone()}
                        oninput={bind_input(&reason)} />
                    if let Some(e) = &*error {
                        <div id="cancel-error" class="alert alert-error" role="alert" data-testid="error-message">
                            <p class="error-detail">{ e.detail() }</p>
                            <FieldErrors errors={e.field_errors().to_vec()} />
                        </div>
                    }
                    <div class="row-buttons">
                        <button id="cancel-confirm" data-testid="cancel-confirm" type="submit" disabled={*busy}>
                            { if *busy { "Cancelling…" } else { "Cancel order" } }
                        </button>
                        <button type="button" class="button-secondary" onclick={on_close}>{ "Keep order" }</button>
                    </div>
                </form>
            } else {
                <button id="order-cancel" data-testid="cancel-button" type="button" class="button-secondary"
                    onclick={on_open}>
                    { "Cancel order" }
                </button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use crate::pages::page_of;

    #[test]
    fn pages_come_from_the_query() {
        assert_eq!(page_of("?page=3"), 3);
        assert_eq!(page_of("page=0"), 1);
        assert_eq!(page_of(""), 1);
    }
}
