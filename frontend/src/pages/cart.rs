use retail_api_types::{Cart, CartLine, Currency, LineIssue};
use yew::prelude::*;
use yew_router::prelude::*;

use super::bind_input;
use crate::clock::now_ms;
use crate::components::{AppLink, ErrorBox, Loading, MoneyRow, ReservationCard, Thumb};
use crate::format::{count_items, format_money};
use crate::hooks::{CartView, use_cart, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, cart};

/// Units one line may hold (the server's limit).
pub const MAX_QTY: u32 = 99;

/// How the customer resolves a line issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Take the line out of the cart.
    Remove,
    /// Set the quantity (to what is left, or to the same number to accept the new price).
    SetQuantity(u32),
}

/// A line issue in plain words, with its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueView {
    /// `inactive`, `out_of_stock`, `insufficient_stock`, `price_changed`.
    pub kind: &'static str,
    /// What is wrong.
    pub text: String,
    /// What resolves it.
    pub fix: Fix,
    /// The fix button's words.
    pub fix_label: String,
}

/// Describes `issue` of a line holding `quantity` units priced in `currency`.
pub fn describe_issue(issue: &LineIssue, quantity: u32, currency: Currency) -> IssueView {
    let remove = |kind, text: &str| IssueView {
        kind,
        text: text.to_owned(),
        fix: Fix::Remove,
        fix_label: "Remove".to_owned(),
    };
    match issue {
        LineIssue::Inactive => remove("inactive", "No longer sold"),
        LineIssue::OutOfStock => remove("out_of_stock", "Sold out"),
        LineIssue::InsufficientStock { available } if *available <= 0 => {
            remove("insufficient_stock", "Sold out")
        }
        LineIssue::InsufficientStock { available } => {
            let n = u32::try_from(*available).unwrap_or(MAX_QTY).min(MAX_QTY);
            IssueView {
                kind: "insufficient_stock",
                text: format!("Only {n} left"),
                fix: Fix::SetQuantity(n),
                fix_label: format!("Reduce to {n}"),
            }
        }
        LineIssue::PriceChanged { from, to } => IssueView {
            kind: "price_changed",
            text: format!(
                "Price changed from {} to {}",
                format_money(from.cents(), currency),
                format_money(to.cents(), currency)
            ),
            fix: Fix::SetQuantity(quantity),
            fix_label: "Accept new price".to_owned(),
        },
    }
}

/// A quantity typed into a line's box: a whole number 1..=[`MAX_QTY`].
pub fn parse_quantity(input: &str) -> Option<u32> {
    input.trim().parse::<u32>().ok().filter(|q| (1..=MAX_QTY).contains(q))
}

/// The currency a cart's totals are shown in.
pub fn cart_currency(cart: &Cart) -> Currency {
    cart.currency.or_else(|| cart.lines.first().map(|l| l.currency)).unwrap_or(Currency::EUR)
}

/// `?review=1`: checkout sent the customer back because lines changed.
fn sent_back_for_review(query_str: &str) -> bool {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query_str.trim_start_matches('?'))
        .unwrap_or_default()
        .iter()
        .any(|(k, v)| k == "review" && v == "1")
}

/// `/cart`: flash-sale reservations still held (each paid on its own), lines with quantity
/// steppers and fixes for what changed, the subtotal, store credit and the way to checkout.
#[component]
pub fn CartPage() -> Html {
    use_title("Cart");
    let session = use_session();
    let cart_ctx = use_cart();
    let navigator = use_navigator();
    let review = use_location().is_some_and(|l| sent_back_for_review(l.query_str()));
    let error = use_state(|| None::<ApiError>);
    let clearing = use_state(|| false);
    // Current prices and stock every time the page opens.
    {
        let refresh = cart_ctx.refresh.clone();
        use_effect_with(session.user().map(|u| u.id), move |_| refresh.emit(()));
    }
    let on_error = {
        let error = error.clone();
        Callback::from(move |e: Option<ApiError>| error.set(e))
    };
    let on_clear = {
        let (api, cart_ctx, error, clearing) =
            (session.api.clone(), cart_ctx.clone(), error.clone(), clearing.clone());
        Callback::from(move |_: MouseEvent| {
            clearing.set(true);
            error.set(None);
            let (api, cart_ctx, error, clearing) =
                (api.clone(), cart_ctx.clone(), error.clone(), clearing.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match cart::clear(&api).await {
                    Ok(answer) => cart_ctx.changed(answer),
                    Err(e) => error.set(Some(e)),
                }
                clearing.set(false);
            });
        })
    };
    // Held flash-sale reservations, and when they were read (their countdowns count from then).
    let reservations = cart_ctx.cart().map(|c| c.reservations.clone()).unwrap_or_default();
    let held_at = *use_memo(reservations.clone(), |_| now_ms());
    let on_checkout = Callback::from(move |_: MouseEvent| {
        if let Some(nav) = &navigator {
            nav.push(&Route::Checkout);
        }
    });

    let body = match &*cart_ctx.view {
        CartView::SignedOut if session.restoring() => html! { <Loading /> },
        CartView::SignedOut => html! {
            <div id="signed-out" class="empty-state">
                <p>{ "Log in to see your cart." }</p>
                <AppLink classes="button-link" to={Route::Login}>{ "Log in" }</AppLink>
            </div>
        },
        CartView::Loading => html! { <Loading /> },
        CartView::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={cart_ctx.refresh.clone()} /> },
        CartView::Ready(c) if c.lines.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "Your cart is empty." }</p>
                <AppLink classes="button-link" to={Route::Catalog}>{ "Browse products" }</AppLink>
                if c.credit_balance_cents > 0 {
                    <p class="hint">
                        { "Store credit to spend: " }
                        <span id="credit-balance" data-testid="credit-balance">
                            { format_money(c.credit_balance_cents, cart_currency(c)) }
                        </span>
                    </p>
                }
            </div>
        },
        CartView::Ready(c) => {
            let currency = cart_currency(c);
            html! {
                <div class="cart-layout">
                    <ul id="cart-lines" class="cart-lines" data-testid="cart-lines">
                        { for c.lines.iter().map(|l| html! {
                            <CartLineRow key={l.id.get()} line={l.clone()} on_error={on_error.clone()} />
                        }) }
                    </ul>
                    <aside class="card cart-summary" aria-label="Summary">
                        <dl class="totals">
                            <dt>{ "Items" }</dt>
                            <dd id="cart-items">{ count_items(c.items) }</dd>
                            <MoneyRow label="Subtotal" cents={c.subtotal_cents} {currency} id="cart-subtotal"
                                testid="cart-subtotal" strong=true />
                            <MoneyRow label="Store credit" cents={c.credit_balance_cents} {currency}
                                id="credit-balance" testid="credit-balance" />
                        </dl>
                        if c.credit_balance_cents > 0 {
                            <p class="hint">{ "Your store credit is used first at checkout; you can change how much." }</p>
                        }
                        if !c.ready {
                            <p id="cart-not-ready" class="hint" role="status">
                                { "Resolve the flagged lines above before checkout." }
                            </p>
                        }
                        <button id="checkout-button" data-testid="checkout-button" type="button" class="wide"
                            disabled={!c.ready} onclick={on_checkout}>
                            { "Checkout" }
                        </button>
                        <button id="cart-clear" data-testid="cart-clear" type="button" class="button-secondary wide"
                            disabled={*clearing} onclick={on_clear}>
                            { if *clearing { "Emptying…" } else { "Empty cart" } }
                        </button>
                    </aside>
                </div>
            }
        }
    };

    html! {
        <section class="cart-page">
            <h1>{ "Your cart" }</h1>
            if review {
                <div id="cart-review" class="alert alert-warning" role="status">
                    { "Something in your cart changed since you last looked (price or stock). \
                       Please check the flagged lines, then go to checkout again." }
                </div>
            }
            if let Some(e) = &*error {
                <div id="cart-error" class="alert alert-error" role="alert" data-testid="error-message">
                    <p class="error-detail">{ e.detail() }</p>
                </div>
            }
            if !reservations.is_empty() {
                <section id="cart-reservations" class="flash-reservations" aria-label="Flash-sale reservations">
                    <h2>{ "Flash-sale reservations" }</h2>
                    <p class="hint">
                        { "Units held for you at the sale price. Each is paid on its own, before its hold \
                           runs out; the cart's checkout does not include them." }
                    </p>
                    { for reservations.iter().map(|r| html! {
                        <ReservationCard key={r.id} reservation={r.clone()} at_ms={held_at} pay_label="Pay"
                            sale_link=true />
                    }) }
                </section>
            }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CartLineRowProps {
    line: CartLine,
    /// A change failed (`Some`) or a new change started (`None`).
    on_error: Callback<Option<ApiError>>,
}

/// `li.cart-line` (`data-testid="cart-line"`): picture, name, unit price, stepper, line total,
/// remove, and each issue (`.line-issue`) with its fix button (`.line-fix`).
#[component]
fn CartLineRow(props: &CartLineRowProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let busy = use_state(|| false);
    let l = &props.line;
    let draft = use_state(|| l.quantity.to_string());
    {
        let draft = draft.clone();
        use_effect_with(l.quantity, move |q| draft.set(q.to_string()));
    }

    // One change: `Some(q)` sets the quantity (accepting the current price), `None` removes.
    let change = {
        let (api, cart_ctx, busy, draft) =
            (session.api.clone(), cart_ctx.clone(), busy.clone(), draft.clone());
        let (on_error, id, quantity) = (props.on_error.clone(), l.id, l.quantity);
        Callback::from(move |to: Option<u32>| {
            if *busy {
                return;
            }
            busy.set(true);
            on_error.emit(None);
            let (api, cart_ctx, busy, draft, on_error) =
                (api.clone(), cart_ctx.clone(), busy.clone(), draft.clone(), on_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = match to {
                    Some(q) => cart::set_quantity(&api, id, i64::from(q)).await,
                    None => cart::remove(&api, id).await,
                };
                match answer {
                    Ok(answer) => cart_ctx.changed(answer),
                    Err(e) => {
                        draft.set(quantity.to_string());
                        on_error.emit(Some(e));
                        // What was refused may be stale: show the cart as it is now.
                        cart_ctx.refresh.emit(());
                    }
                }
                busy.set(false);
            });
        })
    };
    let q = l.quantity;
    let on_dec = change.reform(move |_: MouseEvent| Some(q.saturating_sub(1).max(1)));
    let on_inc = change.reform(move |_: MouseEvent| Some((q + 1).min(MAX_QTY)));
    let on_remove = change.reform(|_: MouseEvent| None);
    let on_qty = {
        let (change, draft) = (change.clone(), draft.clone());
        Callback::from(move |_: Event| match parse_quantity(&draft) {
            Some(n) if n != q => change.emit(Some(n)),
            _ => draft.set(q.to_string()),
        })
    };
    let issues: Vec<IssueView> = l.issues.iter().map(|i| describe_issue(i, l.quantity, l.currency)).collect();

    html! {
        <li class={classes!("cart-line", "card", (!issues.is_empty()).then_some("has-issues"))} data-testid="cart-line"
            data-id={l.id.to_string()} data-product-id={l.product_id.to_string()} data-sku={l.sku.clone()}
            aria-busy={(*busy).then_some("true")}>
            <Thumb src={l.image_url.clone()} alt={l.name.clone()} />
            <div class="line-main">
                <AppLink classes="line-name" to={Route::Product { id: l.product_id.get() }}>{ &l.name }</AppLink>
                <div class="line-unit muted">
                    <span class="line-price" data-testid="line-price" data-cents={l.unit_price_cents.to_string()}>
                        { format_money(l.unit_price_cents, l.currency) }
                    </span>
                    { " each" }
                </div>
                <div class="stepper" role="group" aria-label={format!("Quantity of {}", l.name)}>
                    <button class="qty-dec button-secondary" data-testid="qty-decrease" type="button"
                        aria-label="One less" disabled={*busy || q <= 1} onclick={on_dec}>{ "−" }</button>
                    <input class="line-qty" data-testid="line-quantity" type="number" min="1" max={MAX_QTY.to_string()}
                        inputmode="numeric" aria-label="Quantity" value={(*draft).clone()} disabled={*busy}
                        oninput={bind_input(&draft)} onchange={on_qty} />
                    <button class="qty-inc button-secondary" data-testid="qty-increase" type="button"
                        aria-label="One more" disabled={*busy || q >= MAX_QTY} onclick={on_inc}>{ "+" }</button>
                </div>
                { for issues.iter().map(|i| {
                    let fix = i.fix;
                    let on_fix = change.reform(move |_: MouseEvent| match fix {
                        Fix::Remove => None,
                        Fix::SetQuantity(n) => Some(n),
                    });
                    html! {
                        <p class="line-issue" data-testid="line-issue" data-kind={i.kind} role="status">
                            <span class="issue-text">{ &i.text }</span>
                            <button class="line-fix" data-testid="line-fix" data-kind={i.kind} type="button"
                                disabled={*busy} onclick={on_fix}>{ &i.fix_label }</button>
                        </p>
                    }
                }) }
            </div>
            <div class="line-side">
                <span class="line-total amount" data-testid="line-total" data-cents={l.line_total_cents.to_string()}>
                    { format_money(l.line_total_cents, l.currency) }
                </span>
                <button class="line-remove button-secondary" data-testid="line-remove" type="button"
                    disabled={*busy} onclick={on_remove} aria-label={format!("Remove {}", l.name)}>
                    { "Remove" }
                </button>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use retail_api_types::LineIssue;

    use super::*;

    /// A price change from `cents` to `cents + 200`, as the server sends it.
    fn price_change(cents: i64) -> LineIssue {
        serde_json::from_value(
            serde_json::json!({ "kind": "price_changed", "from": cents, "to": cents + 200 }),
        )
        .unwrap()
    }

    #[test]
    fn each_issue_reads_plainly_and_comes_with_its_fix() {
        let e = Currency::EUR;
        let price = describe_issue(&price_change(1000), 3, e);
        assert_eq!(price.text, "Price changed from €10.00 to €12.00");
        assert_eq!((price.fix, price.fix_label.as_str()), (Fix::SetQuantity(3), "Accept new price"));

        let few = describe_issue(&LineIssue::InsufficientStock { available: 2 }, 5, e);
        assert_eq!(
            (few.text.as_str(), few.fix, few.fix_label.as_str()),
            ("Only 2 left", Fix::SetQuantity(2), "Reduce to 2")
        );

        let gone = describe_issue(&LineIssue::Inactive, 1, e);
        assert_eq!((gone.text.as_str(), gone.fix), ("No longer sold", Fix::Remove));
        assert_eq!(describe_issue(&LineIssue::OutOfStock, 1, e).fix, Fix::Remove);
        assert_eq!(describe_issue(&LineIssue::InsufficientStock { available: 0 }, 1, e).fix, Fix::Remove);
    }

    #[test]
    fn typed_quantities_stay_within_a_line() {
        assert_eq!(parse_quantity(" 4 "), Some(4));
        assert_eq!(parse_quantity("99"), Some(99));
        for bad in ["0", "100", "-1", "1.5", "", "x"] {
            assert_eq!(parse_quantity(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_review_flag_comes_from_the_query() {
        assert!(sent_back_for_review("?review=1"));
        assert!(!sent_back_for_review(""));
        assert!(!sent_back_for_review("?review=0"));
    }
}
