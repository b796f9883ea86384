use std::cell::RefCell;
use std::rc::Rc;

use retail_api_types::{Cart, CheckoutRequest, Currency, FieldProblem};
use yew::prelude::*;
use yew_router::prelude::*;

use super::cart::cart_currency;
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, MoneyRow, Select, Thumb};
use crate::format::{cents_to_decimal, format_money, parse_price_cents};
use crate::hooks::{CartView, use_cart, use_session, use_title};
use crate::routes::Route;
use crate::services::idempotency::{Attempt, new_key};
use crate::services::orders;

/// The payment simulator's test cards: `(token, label)`.
pub const CARDS: [(&str, &str); 5] = [
    ("tok_visa", "Visa (approves)"),
    ("tok_decline", "Declined card"),
    ("tok_insufficient_funds", "Insufficient funds"),
    ("tok_timeout", "Times out"),
    ("tok_error", "Processor error"),
];

/// How an order is paid: store credit first, the card for the rest (minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Paid with store credit.
    pub credit: i64,
    /// Paid by card.
    pub card: i64,
}

/// The split for `total` with `balance` of store credit: none when `use_credit` is off, as
/// much as possible when nothing was typed, else the typed amount (which may exceed neither
/// the balance nor the total).
pub fn split(total: i64, balance: i64, use_credit: bool, typed: Option<i64>) -> Result<Split, String> {
    let credit = match (use_credit, typed) {
        (false, _) => 0,
        (true, None) => balance.clamp(0, total.max(0)),
        (true, Some(t)) if t > balance => {
            return Err("That is more than your store credit.".to_owned());
        }
        (true, Some(t)) if t > total => {
            return Err("That is more than the order total.".to_owned());
        }
        (true, Some(t)) => t,
    };
    Ok(Split { credit, card: total - credit })
}

/// What identifies one checkout attempt: the request and the cart it was made from. The same
/// attempt again keeps its `Idempotency-Key`; any change gets a new one.
pub type AttemptOf = (CheckoutRequest, Vec<(i64, u32, i64)>);

/// The cart as far as an attempt is concerned: each line's ID, quantity and unit price.
pub fn cart_signature(cart: &Cart) -> Vec<(i64, u32, i64)> {
    cart.lines.iter().map(|l| (l.id.get(), l.quantity, l.unit_price_cents)).collect()
}

/// A failed checkout, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `declined`, `gateway`, `unavailable`, `review`, `invalid`, `network`, `retry`, `other`.
    pub kind: &'static str,
    /// What happened, in plain words.
    pub message: String,
    /// Send the customer back to the cart.
    pub to_cart: bool,
    /// The attempt's key must not be used again.
    pub new_key: bool,
}

/// Explains a failed checkout from the problem's status, code and `Retry-After`.
pub fn explain(status: Option<u16>, code: Option<&str>, retry_after: Option<u32>, detail: &str) -> Failure {
    let fail = |kind, message: String| Failure { kind, message, to_cart: false, new_key: false };
    let code = code.unwrap_or("");
    let intact = "Nothing was charged and your cart is unchanged.";
    match (status, code) {
        (_, "insufficient_funds") => fail(
            "declined",
            format!("Your card was declined: insufficient funds. {intact} Try another card."),
        ),
        (_, "invalid_card") => fail(
            "declined",
            format!("Your card was declined: the card is not valid. {intact} Try another card."),
        ),
        (Some(402), _) | (_, "card_declined") => {
            fail("declined", format!("Your card was declined. {intact} Try another card."))
        }
        (Some(502 | 504), _) => fail(
            "gateway",
            "The payment provider did not answer; you were not charged. Your cart is unchanged: \
             you can try again."
                .to_owned(),
        ),
        (Some(503), _) => {
            let when = match retry_after {
                Some(1) => "in 1 second".to_owned(),
                Some(n) => format!("in {n} seconds"),
                None => "in a moment".to_owned(),
            };
            fail(
                "unavailable",
                format!("Payments are unavailable right now; try again {when}. You were not charged."),
            )
        }
        (Some(409), "cart_needs_review") => Failure {
            to_cart: true,
            ..fail("review", "Something in your cart changed (price or stock). Please review it.".to_owned())
        },
        (Some(409), "cart_empty") => {
            Failure { to_cart: true, ..fail("review", "Your cart is empty.".to_owned()) }
        }
        (Some(409), "out_of_stock") => Failure {
            to_cart: true,
            ..fail(
                "review",
                "Something sold out while you were paying; you were not charged. Please review your cart."
                    .to_owned(),
            )
        },
        (Some(409), "mixed_currencies") => Failure {
            to_cart: true,
            ..fail("review", "Your cart mixes currencies; please buy these products separately.".to_owned())
        },
        (Some(409), "insufficient_credit") => fail(
            "invalid",
            "Your store credit is lower than the amount to use; please check it and try again.".to_owned(),
        ),
        (Some(409), "checkout_in_progress") => fail(
            "retry",
            "This payment is still being processed. Wait a moment, then press Pay again: you will not be \
             charged twice."
                .to_owned(),
        ),
        (Some(422), "idempotency_key_reused") | (Some(400), "invalid_idempotency_key") => Failure {
            new_key: true,
            ..fail("retry", "This payment attempt could not be sent as it was. Press Pay again.".to_owned())
        },
        (Some(422), _) => fail("invalid", detail.to_owned()),
        (None, _) => fail(
            "network",
            "We could not reach the shop to confirm your payment. Press Pay again: the same payment \
             is resent, so you cannot be charged twice."
                .to_owned(),
        ),
        _ => fail("other", detail.to_owned()),
    }
}

/// `/checkout`: order summary, store credit and card (split tender), Pay.
#[component]
pub fn CheckoutPage() -> Html {
    use_title("Checkout");
    let session = use_session();
    let cart_ctx = use_cart();
    {
        let refresh = cart_ctx.refresh.clone();
        use_effect_with(session.user().map(|u| u.id), move |_| refresh.emit(()));
    }
    let body = match &*cart_ctx.view {
        CartView::SignedOut if session.restoring() => html! { <Loading /> },
        CartView::SignedOut => html! {
            <div id="signed-out" class="empty-state">
                <p>{ "Log in to check out." }</p>
                <AppLink classes="button-link" to={Route::Login}>{ "Log in" }</AppLink>
            </div>
        },
        CartView::Loading => html! { <Loading /> },
        CartView::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={cart_ctx.refresh.clone()} /> },
        CartView::Ready(c) if c.lines.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "Your cart is empty: nothing to check out." }</p>
                <AppLink classes="button-link" to={Route::Catalog}>{ "Browse products" }</AppLink>
            </div>
        },
        CartView::Ready(c) if !c.ready => html! {
            <div id="checkout-needs-review" class="alert alert-warning" role="status">
                <p>{ "Something in your cart changed (price or stock). Please review it first." }</p>
                <AppLink classes="button-link" to={Route::Cart}>{ "Back to cart" }</AppLink>
            </div>
        },
        CartView::Ready(c) => html! { <CheckoutForm cart={c.clone()} /> },
    };
    html! {
        <section class="checkout-page">
            <p class="breadcrumbs"><AppLink id="back-to-cart" to={Route::Cart}>{ "← Cart" }</AppLink></p>
            <h1>{ "Checkout" }</h1>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CheckoutFormProps {
    cart: Cart,
}

/// The store-credit and card part of a payment form: its state, the split it gives and its
/// fields. Shared by the cart's checkout and a reservation's.
pub struct Tender {
    /// How the amount is paid, or why it cannot be as typed.
    pub split: Result<Split, String>,
    card: UseStateHandle<String>,
    use_credit: UseStateHandle<bool>,
    credit_text: UseStateHandle<Option<String>>,
    balance: i64,
    total: i64,
    currency: Currency,
}

/// A [`Tender`] for `total` with `balance` of store credit usable.
#[hook]
pub fn use_tender(total: i64, balance: i64, currency: Currency) -> Tender {
    let card = use_state(|| CARDS[0].0.to_owned());
    let use_credit = use_state(|| true);
    // `None` until the customer types an amount: then as much credit as possible is used.
    let credit_text = use_state(|| None::<String>);
    let split = match credit_text.as_deref().map(parse_price_cents) {
        Some(Err(m)) => Err(format!("Store credit: {m}.")),
        Some(Ok(t)) => split(total, balance, *use_credit, Some(t)),
        None => split(total, balance, *use_credit, None),
    };
    Tender { split, card, use_credit, credit_text, balance, total, currency }
}

impl Tender {
    /// The checkout request for this split (`None` while it is invalid).
    pub fn request(&self, reservation_id: Option<i64>) -> Option<CheckoutRequest> {
        self.split.as_ref().ok().map(|s| CheckoutRequest {
            card_token: (s.card > 0).then(|| (*self.card).clone()),
            use_credit_cents: Some(s.credit),
            reservation_id,
        })
    }

    /// The pay button's label.
    pub fn pay_label(&self, busy: bool) -> String {
        match (&self.split, busy) {
            (_, true) => "Paying…".to_owned(),
            (Ok(s), false) if s.card == 0 => "Pay with store credit".to_owned(),
            (Ok(s), false) => format!("Pay {}", format_money(s.card, self.currency)),
            (Err(_), false) => "Pay".to_owned(),
        }
    }

    /// The fields: store credit, the split, the card; `whole` names what credit may cover
    /// ("order", "amount").
    pub fn fields(&self, busy: bool, whole: &str) -> Html {
        let currency = self.currency;
        let on_card = {
            let card = self.card.clone();
            Callback::from(move |v: String| card.set(v))
        };
        let on_use_credit = {
            let use_credit = self.use_credit.clone();
            Callback::from(move |e: Event| {
                use_credit.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().checked())
            })
        };
        let on_credit_amount = {
            let credit_text = self.credit_text.clone();
            Callback::from(move |e: InputEvent| {
                credit_text.set(Some(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))
            })
        };
        let credit_value = match &*self.credit_text {
            Some(t) => t.clone(),
            None => cents_to_decimal(self.balance.min(self.total)),
        };
        let card_options: Vec<(String, String)> =
            CARDS.iter().map(|(t, l)| ((*t).to_owned(), (*l).to_owned())).collect();
        let tender = &self.split;
        html! {
            <>
            if self.balance > 0 {
                <label class="check">
                    <input id="use-credit" data-testid="use-credit" type="checkbox" checked={*self.use_credit}
                        disabled={busy} onchange={on_use_credit} />
                    { format!("Use store credit (you have {})", format_money(self.balance, currency)) }
                </label>
                if *self.use_credit {
                    <label for="credit-amount">{ "Store credit to use" }</label>
                    <input id="credit-amount" data-testid="credit-amount" type="text" inputmode="decimal"
                        value={credit_value} disabled={busy} oninput={on_credit_amount}
                        aria-invalid={tender.is_err().then_some("true")} />
                }
            } else {
                <p class="hint">{ "No store credit to use." }</p>
            }
            if let Err(m) = tender {
                <p id="credit-error" class="field-error" role="alert">{ m }</p>
            }
            if let Ok(s) = tender {
                <dl id="tender" class="totals tender" data-testid="tender">
                    <MoneyRow label="Store credit" cents={s.credit} {currency} id="tender-credit" testid="tender-credit" />
                    <MoneyRow label="Card" cents={s.card} {currency} id="tender-card" testid="tender-card" />
                </dl>
            }
            if tender.as_ref().is_ok_and(|s| s.card == 0) {
                <p id="no-card-needed" class="hint">{ format!("Your store credit covers the whole {whole}: no card needed.") }</p>
            } else {
                <label for="card-select">{ "Card" }</label>
                <Select id="card-select" options={card_options} value={(*self.card).clone()} onchange={on_card}
                    disabled={busy} aria_label="Card" />
                <p class="hint">{ "Test cards of the payment simulator: nothing real is charged." }</p>
            }
            </>
        }
    }
}

#[component]
fn CheckoutForm(props: &CheckoutFormProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let navigator = use_navigator();
    let busy = use_state(|| false);
    let failure = use_state(|| None::<(Failure, Option<String>, Vec<FieldProblem>)>);
    let attempt: Rc<RefCell<Option<Attempt<AttemptOf>>>> = use_mut_ref(|| None);

    let c = &props.cart;
    let currency = cart_currency(c);
    let total = c.subtotal_cents;
    let tender = use_tender(total, c.credit_balance_cents.max(0), currency);
    let request = tender.request(None);

    let on_pay = {
        let (api, cart_ctx, busy, failure, attempt) =
            (session.api.clone(), cart_ctx.clone(), busy.clone(), failure.clone(), attempt.clone());
        let (request, signature) = (request.clone(), cart_signature(c));
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(request) = request.clone() else { return };
            if *busy {
                return;
            }
            busy.set(true);
            failure.set(None);
            let this =
                Attempt::next(attempt.borrow().as_ref(), &(request.clone(), signature.clone()), new_key);
            *attempt.borrow_mut() = Some(this.clone());
            let (api, cart_ctx, busy, failure, attempt, navigator) = (
                api.clone(),
                cart_ctx.clone(),
                busy.clone(),
                failure.clone(),
                attempt.clone(),
                navigator.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match orders::checkout(&api, &request, &this.key).await {
                    Ok(order) => {
                        *attempt.borrow_mut() = None;
                        cart_ctx.refresh.emit(());
                        if let Some(nav) = &navigator {
                            nav.push(&Route::Receipt { id: order.id.get() });
                        }
                    }
                    Err(e) => {
                        let f = explain(e.status(), e.code(), e.retry_after_secs(), &e.detail());
                        if f.new_key {
                            *attempt.borrow_mut() = None;
                        }
                        if f.to_cart {
                            cart_ctx.refresh.emit(());
                            if let Some(nav) = &navigator {
                                let _ = nav.push_with_query(&Route::Cart, &[("review", "1")]);
                            }
                        } else if f.kind != "network" {
                            // A decline leaves the cart as it was; show it as the server has it.
                            // Not after no answer: the order may have gone through, and the
                            // page must stay so that Pay resends the same attempt (its answer
                            // is then the order, not a second charge).
                            cart_ctx.refresh.emit(());
                        }
                        failure.set(Some((f, e.code().map(str::to_owned), e.field_errors().to_vec())));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let pay_label = tender.pay_label(*busy);

    html! {
        <div class="checkout-layout">
            <section class="card checkout-summary" aria-label="Order summary">
                <h2>{ "Order summary" }</h2>
                <ul id="checkout-lines" class="summary-lines">
                    { for c.lines.iter().map(|l| html! {
                        <li class="summary-line" data-testid="checkout-line" data-id={l.id.to_string()}>
                            <Thumb src={l.image_url.clone()} alt={l.name.clone()} />
                            <span class="summary-name">
                                { &l.name }
                                <span class="muted">{ format!(" × {}", l.quantity) }</span>
                            </span>
                            <span class="amount">{ format_money(l.line_total_cents, l.currency) }</span>
                        </li>
                    }) }
                </ul>
                <dl class="totals">
                    <MoneyRow label="Total" cents={total} {currency} id="checkout-total" testid="checkout-total" strong=true />
                </dl>
            </section>
            <form id="checkout-form" class="card form checkout-payment" novalidate=true onsubmit={on_pay}>
                <h2>{ "Payment" }</h2>
                { tender.fields(*busy, "order") }
                if let Some((f, code, fields)) = &*failure {
                    <div id="checkout-error" class="alert alert-error" role="alert" data-testid="error-message"
                        data-kind={f.kind} data-code={code.clone()}>
                        <p class="error-detail">{ &f.message }</p>
                        <FieldErrors errors={fields.clone()} />
                    </div>
                }
                <button id="pay-button" data-testid="pay-button" type="submit" disabled={*busy || request.is_none()}>
                    { pay_label }
                </button>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_is_used_first_as_far_as_it_goes() {
        assert_eq!(split(5000, 1200, true, None), Ok(Split { credit: 1200, card: 3800 }));
        assert_eq!(split(5000, 9000, true, None), Ok(Split { credit: 5000, card: 0 }));
        assert_eq!(split(5000, 0, true, None), Ok(Split { credit: 0, card: 5000 }));
        assert_eq!(split(5000, 1200, false, None), Ok(Split { credit: 0, card: 5000 }));
    }

    #[test]
    fn a_typed_amount_is_split_or_refused() {
        assert_eq!(split(5000, 1200, true, Some(500)), Ok(Split { credit: 500, card: 4500 }));
        assert_eq!(split(5000, 1200, true, Some(0)), Ok(Split { credit: 0, card: 5000 }));
        assert!(split(5000, 1200, true, Some(1201)).is_err());
        assert!(split(1000, 9000, true, Some(1001)).is_err());
        assert_eq!(split(5000, 1200, false, Some(1201)), Ok(Split { credit: 0, card: 5000 }));
    }

    #[test]
    fn declines_say_the_card_was_declined_and_keep_the_cart() {
        for code in ["card_declined", "insufficient_funds", "invalid_card"] {
            let f = explain(Some(402), Some(code), None, "x");
            assert_eq!(f.kind, "declined");
            assert!(f.message.starts_with("Your card was declined"), "{}", f.message);
            assert!(f.message.contains("cart is unchanged"));
            assert!(!f.to_cart && !f.new_key);
        }
    }

    #[test]
    fn gateway_trouble_says_nothing_was_charged() {
        for status in [502, 504] {
            let f = explain(Some(status), Some("payment_timeout"), None, "x");
            assert_eq!(f.kind, "gateway");
            assert!(f.message.contains("did not answer; you were not charged"));
        }
        let open = explain(Some(503), Some("payments_unavailable"), Some(27), "x");
        assert_eq!(
            open.message,
            "Payments are unavailable right now; try again in 27 seconds. You were not charged."
        );
        assert!(explain(Some(503), None, None, "x").message.contains("in a moment"));
    }

    #[test]
    fn a_changed_cart_goes_back_to_the_cart_and_a_spent_key_is_replaced() {
        assert!(explain(Some(409), Some("cart_needs_review"), None, "x").to_cart);
        assert!(explain(Some(409), Some("out_of_stock"), None, "x").to_cart);
        let racing = explain(Some(409), Some("checkout_in_progress"), None, "x");
        assert!(!racing.new_key && !racing.to_cart, "the same attempt is resent with its key");
        assert!(explain(Some(422), Some("idempotency_key_reused"), None, "x").new_key);
        let invalid = explain(Some(422), Some("validation_failed"), None, "Card needed.");
        assert_eq!(
            (invalid.kind, invalid.message.as_str(), invalid.new_key),
            ("invalid", "Card needed.", false)
        );
        let offline = explain(None, None, None, "x");
        assert_eq!(offline.kind, "network");
        assert!(!offline.new_key, "a retry after no answer must reuse the key");
    }

    #[test]
    fn the_attempt_follows_the_cart_and_the_choices() {
        let req = |card: &str, credit: i64| CheckoutRequest {
            card_token: Some(card.to_owned()),
            use_credit_cents: Some(credit),
            reservation_id: None,
        };
        let cart = vec![(1, 2, 500)];
        let first = Attempt::next(None, &(req("tok_visa", 0), cart.clone()), || "a".to_owned());
        let again = Attempt::next(Some(&first), &(req("tok_visa", 0), cart.clone()), || "b".to_owned());
        assert_eq!(again.key, "a");
        let more = Attempt::next(Some(&again), &(req("tok_visa", 0), vec![(1, 3, 500)]), || "c".to_owned());
        assert_eq!(more.key, "c");
    }
}
