use retail_api_types::PageQuery;
use yew::prelude::*;
use yew_router::prelude::*;

use super::NeedsLogin;
use crate::components::{AppLink, ErrorBox, Loading, Pager};
use crate::format::{credit_kind_label, format_delta, format_money, format_when};
use crate::hooks::{Load, use_clamped_page, use_load, use_session, use_title, use_url_page};
use crate::routes::Route;
use crate::services::orders;

const PER_PAGE: u32 = 20;

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
    let _location = use_location();
    let _navigator = use_navigator();
    let paging = use_url_page(Route::Credit);
    let page = paging.page;
    let account = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            orders::credit(&api, &PageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let pagination = match account.get() {
        Load::Ready(l) => Some(l.pagination),
        _ => None,
    };
    let clamping = use_clamped_page(&paging, pagination.as_ref());
    let on_page = paging.on_page.clone();

    match account.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if clamping => html! { <Loading /> },
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
