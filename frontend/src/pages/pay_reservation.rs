//! `/checkout/reservations/:id`: paying one flash-sale reservation at its locked price, with
//! store credit and a card like the cart's checkout, before its hold runs out.

use std::cell::RefCell;
use std::rc::Rc;

use retail_api_types::{
    CheckoutRequest, Currency, FieldProblem, FlashReservation, PageQuery, ReservationState,
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::NeedsLogin;
use super::checkout::{Failure, explain, use_tender};
use crate::clock::now_ms;
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, MoneyRow, ReservationCard};
use crate::hooks::{Load, use_cart, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::idempotency::{Attempt, new_key};
use crate::services::{flash, orders};

/// A failed payment of a reservation, explained; `hold_over` when the reservation can no
/// longer be paid (its hold ran out, it was paid or cancelled meanwhile, or the card was
/// declined, which releases the hold).
pub fn explain_reservation(
    status: Option<u16>,
    code: Option<&str>,
    retry_after: Option<u32>,
    detail: &str,
) -> (Failure, bool) {
    let fail = |kind, message: String| Failure { kind, message, to_cart: false, new_key: false };
    let released = "Nothing was charged, and the units you held went back to the sale: reserve again to \
                    try another card.";
    match (status, code.unwrap_or("")) {
        (Some(409), "reservation_expired") => (
            fail(
                "expired",
                "Your hold ran out before the payment went through; nothing was charged. Reserve again if \
                 units are left."
                    .to_owned(),
            ),
            true,
        ),
        (Some(409), "reservation_not_held") => (
            fail(
                "not_held",
                format!("This reservation can no longer be paid: {}", detail.trim_end_matches('.')),
            ),
            true,
        ),
        (_, "insufficient_funds") => {
            (fail("declined", format!("Your card was declined: insufficient funds. {released}")), true)
        }
        (_, "invalid_card") => {
            (fail("declined", format!("Your card was declined: the card is not valid. {released}")), true)
        }
        (Some(402), _) | (_, "card_declined") => {
            (fail("declined", format!("Your card was declined. {released}")), true)
        }
        (Some(502 | 504), _) => (
            fail(
                "gateway",
                "The payment provider did not answer; you were not charged. Your units are still held: \
                 you can try again."
                    .to_owned(),
            ),
            false,
        ),
        _ => (explain(status, code, retry_after, detail), false),
    }
}

#[derive(Properties, PartialEq)]
pub struct PayReservationPageProps {
    pub id: i64,
}

/// `/checkout/reservations/:id`.
#[component]
pub fn PayReservationPage(props: &PayReservationPageProps) -> Html {
    use_title("Pay your reservation");
    html! {
        <section class="checkout-page pay-reservation-page">
            <p class="breadcrumbs">
                <AppLink id="back-to-sales" to={Route::FlashSales}>{ "← Flash sales" }</AppLink>
                { " · " }
                <AppLink id="back-to-cart" to={Route::Cart}>{ "Cart" }</AppLink>
            </p>
            <h1>{ "Pay your reservation" }</h1>
            <NeedsLogin what="your reservation"><PayReservation id={props.id} /></NeedsLogin>
        </section>
    }
}

/// The reservation, when it was read, and the store credit there is to use (none when it
/// could not be read: paying by card still works).
type Loaded = (FlashReservation, f64, Option<(i64, Currency)>);

#[component]
fn PayReservation(props: &PayReservationPageProps) -> Html {
    let session = use_session();
    let loaded = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move {
            let r = flash::reservation(&api, id).await?;
            let at = now_ms();
            let credit = orders::credit(&api, &PageQuery { page: Some(1), per_page: Some(1) })
                .await
                .ok()
                .map(|c| (c.balance_cents, c.currency));
            Ok::<Loaded, _>((r, at, credit))
        })
    };
    // Kept across re-reads, so a declined card is still explained once the reservation shows
    // as cancelled.
    let notice = use_state(|| None::<(Failure, Option<String>, Vec<FieldProblem>)>);
    let on_failure = {
        let (notice, reload) = (notice.clone(), loaded.reloader());
        Callback::from(
            move |(f, code, fields, hold_over): (Failure, Option<String>, Vec<FieldProblem>, bool)| {
                notice.set(Some((f, code, fields)));
                if hold_over {
                    reload.emit(());
                }
            },
        )
    };
    let on_try = {
        let notice = notice.clone();
        Callback::from(move |()| notice.set(None))
    };
    let error_box = match &*notice {
        Some((f, code, fields)) => html! {
            <div id="checkout-error" class="alert alert-error" role="alert" data-testid="error-message"
                data-kind={f.kind} data-code={code.clone()}>
                <p class="error-detail">{ &f.message }</p>
                <FieldErrors errors={fields.clone()} />
            </div>
        },
        None => html! {},
    };

    match loaded.get() {
        Load::Loading => html! { <>{ error_box }<Loading /></> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Reservation not found" }</h1>
                <p>{ "There is no such reservation in your account." }</p>
                <AppLink classes="button-link" to={Route::FlashSales}>{ "See the flash sales" }</AppLink>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={loaded.reloader()} /> },
        Load::Ready((r, at, credit)) => {
            let held = r.state == ReservationState::Held;
            html! {
                <>
                    { error_box }
                    <div class="checkout-layout">
                        <section class="checkout-summary" aria-label="Reservation">
                            <ReservationCard reservation={r.clone()} at_ms={*at} show_pay=false sale_link=true
                                on_changed={loaded.reloader()} />
                            <dl class="totals card">
                                <MoneyRow label="Total" cents={r.total_cents} currency={r.currency} id="checkout-total"
                                    testid="checkout-total" strong=true />
                            </dl>
                        </section>
                        if held {
                            <PayForm reservation={r.clone()} credit={*credit} {on_failure} {on_try} />
                        } else {
                            <div id="reservation-closed" class="card empty-state" data-state={r.state.as_str()}>
                                if let Some(order) = r.order_id {
                                    <p>{ "This reservation is paid." }</p>
                                    <AppLink classes="button-link" to={Route::Receipt { id: order.get() }}>{ "See the receipt" }</AppLink>
                                } else {
                                    <p>{ "This reservation can no longer be paid." }</p>
                                    <AppLink classes="button-link" to={Route::FlashSale { id: r.sale_id }}>
                                        { "Back to the sale" }
                                    </AppLink>
                                }
                            </div>
                        }
                    </div>
                </>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct PayFormProps {
    reservation: FlashReservation,
    /// Store credit balance and its currency, when known.
    credit: Option<(i64, Currency)>,
    /// A payment failed: how, its code, field errors, and whether the hold is over.
    on_failure: Callback<(Failure, Option<String>, Vec<FieldProblem>, bool)>,
    /// A new attempt starts (the last failure's words go).
    on_try: Callback<()>,
}

/// `#checkout-form`: store credit and card for the reservation's total, `#pay-button`.
#[component]
fn PayForm(props: &PayFormProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let navigator = use_navigator();
    let busy = use_state(|| false);
    let attempt: Rc<RefCell<Option<Attempt<CheckoutRequest>>>> = use_mut_ref(|| None);

    let r = &props.reservation;
    let currency = r.currency;
    let total = r.total_cents;
    // Store credit in another currency cannot pay this.
    let balance = props.credit.filter(|(_, c)| *c == currency).map_or(0, |(b, _)| b.max(0));
    let tender = use_tender(total, balance, currency);
    let request = tender.request(Some(r.id));

    let on_pay = {
        let (api, cart_ctx, busy, attempt) =
            (session.api.clone(), cart_ctx.clone(), busy.clone(), attempt.clone());
        let (on_failure, on_try, request) = (props.on_failure.clone(), props.on_try.clone(), request.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(request) = request.clone() else { return };
            if *busy {
                return;
            }
            busy.set(true);
            on_try.emit(());
            let this = Attempt::next(attempt.borrow().as_ref(), &request, new_key);
            *attempt.borrow_mut() = Some(this.clone());
            let (api, cart_ctx, busy, attempt, on_failure, navigator) = (
                api.clone(),
                cart_ctx.clone(),
                busy.clone(),
                attempt.clone(),
                on_failure.clone(),
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
                        let (f, hold_over) =
                            explain_reservation(e.status(), e.code(), e.retry_after_secs(), &e.detail());
                        if f.new_key || hold_over {
                            *attempt.borrow_mut() = None;
                        }
                        if hold_over {
                            cart_ctx.refresh.emit(());
                        }
                        busy.set(false);
                        on_failure.emit((
                            f,
                            e.code().map(str::to_owned),
                            e.field_errors().to_vec(),
                            hold_over,
                        ));
                    }
                }
            });
        })
    };
    let pay_label = tender.pay_label(*busy);

    html! {
        <form id="checkout-form" class="card form checkout-payment" novalidate=true onsubmit={on_pay}
            data-reservation-id={r.id.to_string()}>
            <h2>{ "Payment" }</h2>
            { tender.fields(*busy, "amount") }
            <button id="pay-button" data-testid="pay-button" type="submit" disabled={*busy || request.is_none()}>
                { pay_label }
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declined_card_says_the_hold_was_released() {
        for code in ["card_declined", "insufficient_funds", "invalid_card"] {
            let (f, over) = explain_reservation(Some(402), Some(code), None, "x");
            assert_eq!(f.kind, "declined");
            assert!(f.message.starts_with("Your card was declined"), "{}", f.message);
            assert!(f.message.contains("went back to the sale"), "{}", f.message);
            assert!(over, "a decline releases the hold");
        }
    }

    #[test]
    fn a_hold_that_is_over_cannot_be_paid() {
        let (f, over) = explain_reservation(Some(409), Some("reservation_expired"), None, "x");
        assert_eq!((f.kind, over), ("expired", true));
        assert!(f.message.contains("nothing was charged"));
        let (f, over) = explain_reservation(
            Some(409),
            Some("reservation_not_held"),
            None,
            "this reservation was cancelled.",
        );
        assert_eq!(f.message, "This reservation can no longer be paid: this reservation was cancelled");
        assert!(over);
    }

    #[test]
    fn trouble_on_the_way_keeps_the_hold_and_never_mentions_a_cart() {
        let (f, over) = explain_reservation(Some(504), Some("payment_timeout"), None, "x");
        assert_eq!((f.kind, over), ("gateway", false));
        assert!(f.message.contains("still held") && !f.message.contains("cart"), "{}", f.message);
        let (f, over) = explain_reservation(None, None, None, "x");
        assert_eq!(
            (f.kind, f.new_key, over),
            ("network", false, false),
            "a retry after no answer reuses the key"
        );
        let (f, _) = explain_reservation(Some(422), Some("idempotency_key_reused"), None, "x");
        assert!(f.new_key);
        let (f, over) = explain_reservation(Some(503), Some("payments_unavailable"), Some(5), "x");
        assert_eq!((f.kind, over), ("unavailable", false));
        assert!(!f.message.contains("cart"));
    }
}
