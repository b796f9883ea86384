//! `/flash` (live and upcoming sales with their countdowns) and `/flash/:id` (one sale: its
//! products at the sale price, the units left, reserving them, and the holds made).

use std::cell::RefCell;
use std::rc::Rc;

use retail_api_types::{
    FlashPageQuery, FlashReservation, FlashSale, FlashSaleItem, ReserveRequest, SaleState,
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::clock::{left_after, now_ms, slow_down};
use crate::components::{
    AppLink, ErrorBox, Loading, Pager, ReservationCard, SaleClockView, SaleStateTag, Select, Thumb,
    discount_label, units_left_label,
};
use crate::format::{count_noun, format_money};
use crate::hooks::{
    Load, use_cart, use_clamped_page, use_now, use_polled, use_session, use_title, use_url_page,
};
use crate::routes::Route;
use crate::services::flash;
use crate::services::idempotency::{Attempt, new_key};

/// How often the list of sales is read again (a sale may start or sell out meanwhile).
pub const LIST_REFRESH_MS: u32 = 15_000;
/// How often a sale's units left are read again while its page is open.
pub const SALE_REFRESH_MS: u32 = 3_000;
/// Sales per page of the list.
const PER_PAGE: u32 = 10;
/// The most units the selector offers at once (the cap and the units left may allow fewer).
pub const MAX_UNITS_CHOICE: u32 = 10;

/// Units a customer may pick for an item: up to the cap, the units left and
/// [`MAX_UNITS_CHOICE`]; 0 when nothing is left.
pub fn units_choice(remaining: u32, cap: u32) -> u32 {
    remaining.min(cap).min(MAX_UNITS_CHOICE)
}

/// Why a reservation was refused, as the sale page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 409 `sold_out`: the item shows "Sold out" and cannot be bought.
    SoldOut,
    /// 429: wait this many seconds (`Retry-After`), if the server said.
    SlowDown(Option<u32>),
    /// 409 `sale_not_live`: the sale ended or has not started; the page reads it again.
    NotLive(String),
    /// Anything else (`only_left`, `cap_reached`, `over_cap`, 404, 422, no answer): its words.
    Other {
        /// The problem code, when the server answered.
        code: Option<String>,
        /// What to show.
        detail: String,
        /// Whether the units left may have changed (read the sale again).
        refresh: bool,
    },
}

/// Classifies a failed reservation from the problem's status, code, `Retry-After` and detail.
pub fn refusal(status: Option<u16>, code: Option<&str>, retry_after: Option<u32>, detail: &str) -> Refusal {
    match (status, code) {
        (Some(409), Some("sold_out")) => Refusal::SoldOut,
        (Some(429), _) => Refusal::SlowDown(retry_after),
        (Some(409), Some("sale_not_live")) => Refusal::NotLive(detail.to_owned()),
        (status, code) => Refusal::Other {
            code: code.map(str::to_owned),
            detail: detail.to_owned(),
            refresh: status == Some(409) || status == Some(404),
        },
    }
}

/// `/flash`: live and upcoming sales, each counting down to its start or end.
#[component]
pub fn FlashSalesPage() -> Html {
    use_title("Flash sales");
    let session = use_session();
    let _location = use_location();
    let _navigator = use_navigator();
    let paging = use_url_page(Route::FlashSales);
    let page = paging.page;
    let list = {
        let api = session.api.clone();
        use_polled(page, LIST_REFRESH_MS, move |page| {
            let api = api.clone();
            async move { flash::sales(&api, &FlashPageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await }
        })
    };
    let pagination = match list.get() {
        Load::Ready(l) => Some(l.pagination),
        _ => None,
    };
    let clamping = use_clamped_page(&paging, pagination.as_ref());
    let on_page = paging.on_page.clone();
    let refresh = list.refresher();
    let at_ms = list.at_ms();

    let body = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if clamping => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "No flash sales right now. Check back soon." }</p>
                <AppLink classes="button-link" to={Route::Catalog}>{ "Browse products" }</AppLink>
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <ul id="flash-sales" class="flash-sales">
                    { for l.items.iter().map(|s| html! {
                        <SaleCard key={s.id} sale={s.clone()} {at_ms} on_zero={refresh.clone()} />
                    }) }
                </ul>
                <Pager pagination={l.pagination} noun={("sale", "sales")} {on_page} />
            </>
        },
    };
    html! {
        <section class="flash-page">
            <h1>{ "Flash sales" }</h1>
            <p class="hint">
                { "Limited units at a lower price, for a limited time. Reserve units on a sale's page, \
                   then pay them before the hold runs out." }
            </p>
            if let Some(e) = list.stale() {
                <p id="refresh-error" class="hint" role="status">
                    { format!("Could not refresh: {} Showing what was last read.", e.detail()) }
                </p>
            }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SaleCardProps {
    sale: FlashSale,
    at_ms: f64,
    on_zero: Callback<()>,
}

/// `li.flash-sale-card` (`data-id`, `data-state`): name, state, countdown, a preview of its
/// products and a link to the sale.
#[component]
fn SaleCard(props: &SaleCardProps) -> Html {
    let s = &props.sale;
    let to = Route::FlashSale { id: s.id };
    html! {
        <li class="card flash-sale-card" data-id={s.id.to_string()} data-state={s.state.as_str()}>
            <div class="flash-sale-head">
                <h2><AppLink classes="flash-sale-link" to={to.clone()}>{ &s.name }</AppLink></h2>
                <SaleStateTag state={s.state} />
            </div>
            <SaleClockView sale={s.clone()} at_ms={props.at_ms} on_zero={props.on_zero.clone()} />
            <p class="muted">
                { format!(
                    "{} · limit {} per customer",
                    count_noun(s.items.len() as i64, "product", "products"),
                    s.per_customer_cap
                ) }
            </p>
            <ul class="flash-sale-preview">
                { for s.items.iter().take(4).map(|i| html! {
                    <li class="flash-preview-item" data-product-id={i.product_id.to_string()}>
                        <span class="flash-preview-name">{ &i.name }</span>
                        <s class="list-price muted">{ format_money(i.list_price_cents, i.currency) }</s>
                        <strong class="sale-price">{ format_money(i.sale_price_cents, i.currency) }</strong>
                        <span class={classes!("flash-remaining", (i.remaining == 0).then_some("sold-out"))}>
                            { units_left_label(i.remaining, i.allocated) }
                        </span>
                    </li>
                }) }
                if s.items.len() > 4 {
                    <li class="muted">{ format!("and {} more", s.items.len() - 4) }</li>
                }
            </ul>
            <AppLink classes="button-link flash-open" to={to}>
                { if s.state == SaleState::Live { "Shop the sale" } else { "See the sale" } }
            </AppLink>
        </li>
    }
}

/// Reservations made on the sale page, newest first, each with when it was answered (local
/// ms, for its countdown).
#[derive(Debug, Clone, Default, PartialEq)]
struct MadeHere(Vec<(FlashReservation, f64)>);

/// Changes to [`MadeHere`].
enum MadeAction {
    /// A reservation the server just made (or answered again).
    Add(FlashReservation, f64),
    /// A reservation cancelled or run out.
    Remove(i64),
}

impl Reducible for MadeHere {
    type Action = MadeAction;

    fn reduce(self: Rc<Self>, action: MadeAction) -> Rc<Self> {
        let mut list = self.0.clone();
        match action {
            MadeAction::Add(r, at) => {
                list.retain(|(m, _)| m.id != r.id);
                list.insert(0, (r, at));
            }
            MadeAction::Remove(id) => list.retain(|(m, _)| m.id != id),
        }
        Rc::new(MadeHere(list))
    }
}

#[derive(Properties, PartialEq)]
pub struct FlashSalePageProps {
    pub id: i64,
}

/// `/flash/:id`: the sale's products with list and sale price, units left (read again every
/// few seconds), the cap, and reserving units; the holds made show with their countdown, Pay
/// and Cancel.
#[component]
pub fn FlashSalePage(props: &FlashSalePageProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let sale = {
        let api = session.api.clone();
        use_polled(props.id, SALE_REFRESH_MS, move |id| {
            let api = api.clone();
            async move { flash::sale(&api, id).await }
        })
    };
    let made = use_reducer(MadeHere::default);
    use_title(match sale.get() {
        Load::Ready(s) => s.name.as_str(),
        Load::Failed(e) if e.status() == Some(404) => "Sale not found",
        _ => "Flash sale",
    });
    let refresh = sale.refresher();
    let on_reserved = {
        let (made, refresh, cart_ctx) = (made.clone(), refresh.clone(), cart_ctx.clone());
        Callback::from(move |r: FlashReservation| {
            made.dispatch(MadeAction::Add(r, now_ms()));
            refresh.emit(());
            cart_ctx.refresh.emit(());
        })
    };
    let on_hold_changed = {
        let (made, refresh) = (made.clone(), refresh.clone());
        Callback::from(move |id: i64| {
            made.dispatch(MadeAction::Remove(id));
            refresh.emit(());
        })
    };
    // Holds in this sale: those made here, then the cart's others (from an earlier visit).
    let cart_holds: Vec<FlashReservation> = cart_ctx
        .cart()
        .map(|c| c.reservations.iter().filter(|r| r.sale_id == props.id).cloned().collect())
        .unwrap_or_default();
    let cart_at = *use_memo(cart_holds.clone(), |_| now_ms());
    let mut holds: Vec<(FlashReservation, f64)> = made.0.clone();
    holds.extend(
        cart_holds.into_iter().filter(|r| !made.0.iter().any(|(m, _)| m.id == r.id)).map(|r| (r, cart_at)),
    );

    let body = match sale.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Sale not found" }</h1>
                <p>{ "There is no such flash sale." }</p>
                <AppLink classes="button-link" to={Route::FlashSales}>{ "See the flash sales" }</AppLink>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={sale.reloader()} /> },
        Load::Ready(s) => html! {
            <article id="flash-sale" class="flash-sale" data-id={s.id.to_string()} data-state={s.state.as_str()}>
                <header class="flash-sale-header">
                    <div>
                        <h1 id="sale-name">{ &s.name }</h1>
                        <SaleClockView id="sale-clock" sale={s.clone()} at_ms={sale.at_ms()} on_zero={refresh.clone()} />
                    </div>
                    <div class="flash-sale-meta">
                        <SaleStateTag id="sale-state" state={s.state} />
                        <p id="sale-cap" class="muted" data-cap={s.per_customer_cap.to_string()}>
                            { format!("Limit {} per customer", s.per_customer_cap) }
                        </p>
                    </div>
                </header>
                if let Some(e) = sale.stale() {
                    <p id="refresh-error" class="hint" role="status">
                        { format!("Could not refresh the units left: {}", e.detail()) }
                    </p>
                }
                if !holds.is_empty() {
                    <section id="flash-reservations" class="flash-reservations" aria-label="Your reservations">
                        <h2>{ "Your reservations" }</h2>
                        { for holds.iter().map(|(r, at)| {
                            let id = r.id;
                            html! {
                                <ReservationCard key={id} reservation={r.clone()} at_ms={*at}
                                    on_changed={on_hold_changed.reform(move |()| id)} />
                            }
                        }) }
                    </section>
                }
                <div id="flash-items" class="flash-items">
                    { for s.items.iter().map(|i| html! {
                        <FlashItemCard key={i.product_id.get()} item={i.clone()} sale_id={s.id} state={s.state}
                            cap={s.per_customer_cap} on_reserved={on_reserved.clone()} refresh={refresh.clone()} />
                    }) }
                </div>
            </article>
        },
    };
    html! {
        <section class="flash-sale-page">
            <p class="breadcrumbs"><AppLink id="back-to-sales" to={Route::FlashSales}>{ "← Flash sales" }</AppLink></p>
            { body }
        </section>
    }
}

/// The last reservation attempt of an item (product, units) and its key, kept until it succeeds.
type LastAttempt = Rc<RefCell<Option<Attempt<(i64, u32)>>>>;

#[derive(Properties, PartialEq)]
struct FlashItemCardProps {
    item: FlashSaleItem,
    sale_id: i64,
    state: SaleState,
    cap: u32,
    on_reserved: Callback<FlashReservation>,
    /// Read the sale again now.
    refresh: Callback<()>,
}

/// `article.flash-item` (`data-product-id`, `data-remaining`): picture, name, list price
/// struck through (`.list-price`) and sale price (`.sale-price`), units left
/// (`.flash-remaining`), the units selector (`.flash-units`) and `button.flash-buy` (a log-in
/// link, `a.flash-login`, when signed out). Refusals show as `.flash-error` (`data-code`) or
/// `.flash-slow-down`.
#[component]
fn FlashItemCard(props: &FlashItemCardProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let units = use_state(|| 1u32);
    let sold_out = use_state_eq(|| false);
    let error = use_state(|| None::<(Option<String>, String)>);
    // A 429: (seconds to wait if said, when it came).
    let slow = use_state(|| None::<(Option<u32>, f64)>);
    let attempt: LastAttempt = use_mut_ref(|| None);
    let i = &props.item;
    {
        // New units left from the server decide afresh whether it is sold out.
        let sold_out = sold_out.clone();
        use_effect_with(i.remaining, move |_| sold_out.set(false));
    }

    let gone = i.remaining == 0 || *sold_out;
    let live = props.state == SaleState::Live;
    let most = if gone { 0 } else { units_choice(i.remaining, props.cap) };
    let chosen = (*units).clamp(1, most.max(1));
    let signed_in = session.user().is_some();
    let waiting = slow.is_some_and(|(secs, _)| secs.is_some_and(|s| s > 0));

    let on_buy = {
        let (api, busy, sold_out, error, slow, attempt) = (
            session.api.clone(),
            busy.clone(),
            sold_out.clone(),
            error.clone(),
            slow.clone(),
            attempt.clone(),
        );
        let (on_reserved, refresh) = (props.on_reserved.clone(), props.refresh.clone());
        let (sale_id, product_id) = (props.sale_id, i.product_id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            slow.set(None);
            let this = Attempt::next(attempt.borrow().as_ref(), &(product_id.get(), chosen), new_key);
            *attempt.borrow_mut() = Some(this.clone());
            let body = ReserveRequest { product_id, units: i64::from(chosen) };
            let (api, busy, sold_out, error, slow, attempt, on_reserved, refresh) = (
                api.clone(),
                busy.clone(),
                sold_out.clone(),
                error.clone(),
                slow.clone(),
                attempt.clone(),
                on_reserved.clone(),
                refresh.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match flash::reserve(&api, sale_id, &body, &this.key).await {
                    Ok(r) => {
                        *attempt.borrow_mut() = None;
                        on_reserved.emit(r);
                    }
                    Err(e) => match refusal(e.status(), e.code(), e.retry_after_secs(), &e.detail()) {
                        Refusal::SoldOut => {
                            sold_out.set(true);
                            refresh.emit(());
                        }
                        Refusal::SlowDown(secs) => slow.set(Some((secs, now_ms()))),
                        Refusal::NotLive(detail) => {
                            error.set(Some((Some("sale_not_live".to_owned()), detail)));
                            refresh.emit(());
                        }
                        Refusal::Other { code, detail, refresh: again } => {
                            error.set(Some((code, detail)));
                            if again {
                                refresh.emit(());
                            }
                        }
                    },
                }
                busy.set(false);
            });
        })
    };
    let on_units = {
        let units = units.clone();
        Callback::from(move |v: String| units.set(v.parse().unwrap_or(1)))
    };
    let on_waited = {
        let slow = slow.clone();
        Callback::from(move |()| slow.set(None))
    };
    let unit_options: Vec<(String, String)> =
        (1..=most.max(1)).map(|n| (n.to_string(), n.to_string())).collect();
    let buy_label = if *busy {
        "Reserving…"
    } else if gone {
        "Sold out"
    } else if !live {
        "Not on sale"
    } else {
        "Buy"
    };

    html! {
        <article class={classes!("card", "flash-item", gone.then_some("is-sold-out"))} data-testid="flash-item"
            data-product-id={i.product_id.to_string()} data-sku={i.sku.clone()}
            data-remaining={i.remaining.to_string()} aria-busy={(*busy).then_some("true")}>
            if let Some(src) = i.image_url.as_deref().filter(|s| !s.is_empty()) {
                <img class="card-image" src={src.to_owned()} alt="" loading="lazy" />
            } else {
                <Thumb src={None::<String>} alt={i.name.clone()} />
            }
            <h2 class="product-name">
                <AppLink classes="flash-item-link" to={Route::Product { id: i.product_id.get() }}>{ &i.name }</AppLink>
            </h2>
            <p class="flash-prices">
                <s class="list-price muted" data-cents={i.list_price_cents.to_string()}
                    aria-label={format!("was {}", format_money(i.list_price_cents, i.currency))}>
                    { format_money(i.list_price_cents, i.currency) }
                </s>
                { " " }
                <strong class="sale-price product-price" data-cents={i.sale_price_cents.to_string()}>
                    { format_money(i.sale_price_cents, i.currency) }
                </strong>
                { " " }
                <span class="tag tag-ok discount-badge">
                    { discount_label(&i.discount, i.list_price_cents, i.sale_price_cents, i.currency) }
                </span>
            </p>
            <p class={classes!("flash-remaining", "stock-badge", if gone { "sold-out" } else { "in-stock" })}
                data-remaining={i.remaining.to_string()} role="status">
                { if gone { "Sold out".to_owned() } else { units_left_label(i.remaining, i.allocated) } }
            </p>
            <p class="flash-cap hint">{ format!("Limit {} per customer", props.cap) }</p>
            if signed_in {
                <div class="flash-buy-row">
                    <label class="flash-units-label">
                        { "Units " }
                        <Select class="flash-units" options={unit_options} value={chosen.to_string()} onchange={on_units}
                            disabled={gone || !live || *busy} aria_label="Units" />
                    </label>
                    <button type="button" class="flash-buy" data-testid="flash-buy"
                        data-product-id={i.product_id.to_string()} disabled={gone || !live || *busy || waiting}
                        onclick={on_buy} aria-label={format!("Buy {} of {}", chosen, i.name)}>
                        { buy_label }
                    </button>
                </div>
            } else if session.restoring() {
                <button type="button" class="flash-buy" disabled=true>{ "Buy" }</button>
            } else {
                <AppLink classes="button-link flash-login" to={Route::Login}>{ "Log in to buy" }</AppLink>
            }
            if !live && props.state == SaleState::Scheduled {
                <p class="hint flash-not-live">{ "On sale when the sale starts." }</p>
            } else if !live {
                <p class="hint flash-not-live">{ "This sale is over." }</p>
            }
            if let Some((code, detail)) = &*error {
                <p class="flash-error row-error" role="alert" data-code={code.clone()}>{ detail }</p>
            }
            if let Some((secs, at)) = *slow {
                <SlowDown {secs} {at} on_done={on_waited} />
            }
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct SlowDownProps {
    /// Seconds to wait from `at`, if the server said.
    secs: Option<u32>,
    /// When the 429 came (local ms).
    at: f64,
    /// The wait is over.
    on_done: Callback<()>,
}

/// `.flash-slow-down`: "Slow down — try again in N s", counting down.
#[component]
fn SlowDown(props: &SlowDownProps) -> Html {
    let now = use_now(1000);
    let left = props.secs.map(|s| left_after(u64::from(s), now - props.at));
    {
        let on_done = props.on_done.clone();
        use_effect_with(left == Some(0), move |&done| {
            if done {
                on_done.emit(());
            }
        });
    }
    let secs = left.map(|l| u32::try_from(l).unwrap_or(u32::MAX));
    html! {
        <p class="flash-slow-down alert alert-warning" role="alert" data-secs={secs.map(|s| s.to_string())}>
            { slow_down(secs) }
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_units_offered_stop_at_the_cap_the_units_left_and_ten() {
        assert_eq!(units_choice(100, 2), 2);
        assert_eq!(units_choice(1, 5), 1);
        assert_eq!(units_choice(0, 5), 0);
        assert_eq!(units_choice(500, 500), MAX_UNITS_CHOICE);
    }

    #[test]
    fn refusals_are_told_apart() {
        assert_eq!(refusal(Some(409), Some("sold_out"), None, "sold out"), Refusal::SoldOut);
        assert_eq!(refusal(Some(429), Some("rate_limited"), Some(12), "x"), Refusal::SlowDown(Some(12)));
        assert_eq!(refusal(Some(429), None, None, "x"), Refusal::SlowDown(None));
        assert_eq!(
            refusal(Some(409), Some("sale_not_live"), None, "the sale has ended"),
            Refusal::NotLive("the sale has ended".to_owned())
        );
        assert_eq!(
            refusal(Some(409), Some("only_left"), None, "only 1 left"),
            Refusal::Other {
                code: Some("only_left".to_owned()),
                detail: "only 1 left".to_owned(),
                refresh: true
            }
        );
        for code in ["cap_reached", "over_cap"] {
            assert!(matches!(
                refusal(Some(409), Some(code), None, "x"),
                Refusal::Other { refresh: true, .. }
            ));
        }
        assert_eq!(
            refusal(Some(422), Some("validation_failed"), None, "units: too many"),
            Refusal::Other {
                code: Some("validation_failed".to_owned()),
                detail: "units: too many".to_owned(),
                refresh: false
            }
        );
        assert!(matches!(
            refusal(None, None, None, "offline"),
            Refusal::Other { code: None, refresh: false, .. }
        ));
    }
}
