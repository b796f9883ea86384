use retail_api_types::PageQuery;
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{NeedsLogin, page_of};
use crate::components::{AppLink, ErrorBox, Loading, Pager, past_end};
use crate::format::{credit_kind_label, format_delta, format_money, format_when};
use crate::hooks::{Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::orders;

const PER_PAGE: u32 = 20;

#[derive(Serialize)]
struct PageParam {
    page: u32,
}

/// `/credit`: store-credit balance and its ledger, newest first.
#[component]
pub fn CreditPage() -> Html {
    use_title("Store credit");
    html! {
        <section class="credit-page">
            <h1>{ "Store credit" }</h1>
            <NeedsLogin what="your store credit"><CreditView /></NeedsLogin>
        </section>
    }
}

#[component]
fn CreditView() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let page = location.map(|l| page_of(l.query_str())).unwrap_or(1);
    let account = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            orders::credit(&api, &PageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |page: u32| {
            let Some(nav) = &navigator else { return };
            let q = PageParam { page };
            let done = if replace {
                nav.replace_with_query(&Route::Credit, &q)
            } else {
                nav.push_with_query(&Route::Credit, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let overflow = match account.get() {
        Load::Ready(a) => past_end(&a.pagination),
        _ => None,
    };
    use_effect_with(overflow, move |o| {
        if let Some(last) = *o {
            replace.emit(last);
        }
    });
    let on_page = Callback::from(move |p| {
        go.emit(p);
        gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
    });

    match account.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={account.reloader()} /> },
        Load::Ready(a) => {
            let cur = a.currency;
            html! {
                <>
                    <div class="card credit-balance">
                        <span class="muted">{ "Balance" }</span>
                        <span id="credit-page-balance" class="balance amount" data-testid="credit-balance"
                            data-cents={a.balance_cents.to_string()}>
                            { format_money(a.balance_cents, cur) }
                        </span>
                        <p class="hint">{ "Store credit is used first at checkout, before your card." }</p>
                    </div>
                    <h2>{ "History" }</h2>
                    if a.entries.is_empty() {
                        <div id="empty" class="empty-state" data-testid="empty">
                            <p>{ "No store credit yet. Credit from returns and goodwill gestures shows here." }</p>
                        </div>
                    } else {
                        <div class="table-wrap">
                            <table id="credit-entries" class="data-table">
                                <thead>
                                    <tr>
                                        <th>{ "When" }</th><th>{ "What" }</th><th>{ "Reason" }</th>
                                        <th>{ "Change" }</th><th>{ "Balance" }</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    { for a.entries.iter().map(|e| html! {
                                        <tr key={e.id.get()} class="credit-entry" data-testid="credit-entry"
                                            data-kind={e.kind.as_str()} data-id={e.id.to_string()}>
                                            <td data-label="When">{ format_when(&e.created_at) }</td>
                                            <td data-label="What">{ credit_kind_label(e.kind) }</td>
                                            <td class="cell-name" data-label="Reason">
                                                { &e.reason }
                                                if let Some(order) = e.order_id {
                                                    { " · " }
                                                    <AppLink to={Route::Order { id: order.get() }}>{ format!("Order #{order}") }</AppLink>
                                                }
                                            </td>
                                            <td class="cell-price" data-label="Change">{ format_delta(e.delta_cents, e.currency) }</td>
                                            <td class="cell-price" data-label="Balance">{ format_money(e.balance_after_cents, e.currency) }</td>
                                        </tr>
                                    }) }
                                </tbody>
                            </table>
                        </div>
                        <Pager pagination={a.pagination} noun={("entry", "entries")} {on_page} />
                    }
                </>
            }
        }
    }
}
