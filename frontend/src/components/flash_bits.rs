//! Flash-sale pieces shared by the sale pages, the cart and checkout: countdowns, a sale's
//! clock, prices, and a held reservation with its hold countdown, Pay and Cancel.

use chrono::{DateTime, Utc};
use retail_api_types::{Currency, Discount, FlashReservation, FlashSale, ReservationState, SaleState};
use yew::prelude::*;

use super::AppLink;
use crate::clock::{countdown_words, format_countdown, left_after, secs_between};
use crate::format::{format_money, format_when};
use crate::hooks::{use_cart, use_now, use_session};
use crate::routes::Route;
use crate::services::flash;

// ---------------------------------------------------------------- pure helpers

/// What a sale's clock shows: `Starts in` / `Ends in` and the seconds left when the answer was
/// built (from the answer's `server_time`, so a wrong clock on this machine does not matter),
/// or only a word once it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleClock {
    /// `Starts in`, `Ends in`, `Ended`, `Ended early`.
    pub label: &'static str,
    /// Seconds to count down from, while there is something to count down to.
    pub secs: Option<u64>,
}

/// The clock of a sale as the server described it.
pub fn sale_clock(s: &FlashSale) -> SaleClock {
    match s.state {
        SaleState::Scheduled => {
            SaleClock { label: "Starts in", secs: Some(secs_between(s.server_time, s.starts_at)) }
        }
        SaleState::Live => SaleClock { label: "Ends in", secs: Some(secs_between(s.server_time, s.ends_at)) },
        SaleState::Ended => SaleClock { label: "Ended", secs: None },
        SaleState::EndedEarly => SaleClock { label: "Ended early", secs: None },
    }
}

/// A sale state in plain words, and its tag's classes.
pub fn sale_state_label(state: SaleState) -> (&'static str, &'static str) {
    match state {
        SaleState::Scheduled => ("Upcoming", "tag tag-info"),
        SaleState::Live => ("Live now", "tag tag-ok"),
        SaleState::Ended => ("Ended", "tag tag-muted"),
        SaleState::EndedEarly => ("Ended early", "tag tag-muted"),
    }
}

/// A reservation state in plain words.
pub fn reservation_state_label(state: ReservationState) -> &'static str {
    match state {
        ReservationState::Held => "Held for you",
        ReservationState::Paid => "Paid",
        ReservationState::Cancelled => "Cancelled",
        ReservationState::Expired => "Expired",
    }
}

/// `2000` basis points -> `20`, `3333` -> `33.33`, `1250` -> `12.5`.
pub fn percent_of(basis_points: u32) -> String {
    let (whole, frac) = (basis_points / 100, basis_points % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// The discount badge: `−20%` for a percent off, `Save €2.00` for a fixed sale price.
pub fn discount_label(discount: &Discount, list_cents: i64, sale_cents: i64, currency: Currency) -> String {
    match discount {
        Discount::PercentOff { basis_points } => format!("−{}%", percent_of(*basis_points)),
        Discount::SalePrice { .. } => {
            format!("Save {}", format_money((list_cents - sale_cents).max(0), currency))
        }
    }
}

/// Seconds a reservation was still held for when it was read at `read_at` (this machine's
/// clock): the server's `time_left_secs`, else what is left until `expires_at`; 0 unless held.
pub fn hold_secs(r: &FlashReservation, read_at: DateTime<Utc>) -> u64 {
    if r.state != ReservationState::Held {
        return 0;
    }
    r.time_left_secs.unwrap_or_else(|| secs_between(read_at, r.expires_at))
}

/// `Units left` for a sale item: `Sold out`, `Only 1 left`, `12 of 20 left`.
pub fn units_left_label(remaining: u32, allocated: u32) -> String {
    match remaining {
        0 => "Sold out".to_owned(),
        1 => "Only 1 left".to_owned(),
        n => format!("{n} of {allocated} left"),
    }
}

// ---------------------------------------------------------------- components

#[derive(Properties, PartialEq)]
pub struct CountdownProps {
    /// Seconds left when the answer came.
    pub secs: u64,
    /// When the answer came (local `Date.now()`, ms).
    pub at_ms: f64,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    /// Called once when the countdown reaches zero (not when it starts at zero).
    #[prop_or_default]
    pub on_zero: Option<Callback<()>>,
}

/// `span.countdown` (`data-secs`): ticks every second on this machine's clock, counted from
/// the answer that gave the seconds.
#[component]
pub fn Countdown(props: &CountdownProps) -> Html {
    let now = use_now(1000);
    let left = left_after(props.secs, now - props.at_ms);
    let counting = use_mut_ref(|| false);
    {
        let on_zero = props.on_zero.clone();
        use_effect_with(left == 0, move |&zero| {
            if !zero {
                *counting.borrow_mut() = true;
            } else if std::mem::take(&mut *counting.borrow_mut())
                && let Some(cb) = on_zero
            {
                cb.emit(());
            }
        });
    }
    html! {
        <span id={props.id.clone()} class={classes!("countdown", props.class.clone())} role="timer"
            data-secs={left.to_string()} aria-label={countdown_words(left)}>
            { format_countdown(left) }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct SaleClockViewProps {
    pub sale: FlashSale,
    /// When the sale was read (local ms).
    pub at_ms: f64,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// The sale starts or ends: read it again.
    #[prop_or_default]
    pub on_zero: Option<Callback<()>>,
}

/// `p.sale-clock` (`data-state`): `Starts in 1:02:03`, `Ends in 4:05`, or when it ended.
#[component]
pub fn SaleClockView(props: &SaleClockViewProps) -> Html {
    let s = &props.sale;
    let clock = sale_clock(s);
    html! {
        <p id={props.id.clone()} class="sale-clock" data-state={s.state.as_str()}>
            <span class="sale-clock-label">{ clock.label }</span>
            { " " }
            if let Some(secs) = clock.secs {
                <Countdown class="sale-countdown" {secs} at_ms={props.at_ms} on_zero={props.on_zero.clone()} />
            } else {
                <span class="muted">{ format_when(&s.ends_at) }</span>
            }
        </p>
    }
}

#[derive(Properties, PartialEq)]
pub struct SaleStateTagProps {
    pub state: SaleState,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `.sale-state` (`data-state="live"`).
#[component]
pub fn SaleStateTag(props: &SaleStateTagProps) -> Html {
    let (label, class) = sale_state_label(props.state);
    html! {
        <span id={props.id.clone()} class={classes!("sale-state", class)} data-state={props.state.as_str()}>
            { label }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReservationCardProps {
    pub reservation: FlashReservation,
    /// When the reservation was read (local ms).
    pub at_ms: f64,
    /// Words of the pay link (`Pay now`, `Pay`).
    #[prop_or(AttrValue::from("Pay now"))]
    pub pay_label: AttrValue,
    /// Link to the sale too (in the cart).
    #[prop_or_default]
    pub sale_link: bool,
    /// Offer the link to the reservation's checkout (not on that page itself).
    #[prop_or(true)]
    pub show_pay: bool,
    /// The reservation was cancelled or its hold ran out: read it (or the cart) again.
    #[prop_or_default]
    pub on_changed: Callback<()>,
}

/// `.flash-reservation` (`data-id`, `data-state`): what is held at which locked price, the hold's
/// countdown (`.hold-countdown`), `a.reservation-pay` to its checkout and
/// `button.reservation-cancel`.
#[component]
pub fn ReservationCard(props: &ReservationCardProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let lapsed = use_state_eq(|| false);
    let r = &props.reservation;
    let read_at = DateTime::from_timestamp_millis(props.at_ms as i64).unwrap_or_default();
    let secs = hold_secs(r, read_at);
    {
        // A new answer (a refreshed reservation) decides afresh.
        let lapsed = lapsed.clone();
        use_effect_with((r.id, props.at_ms.to_bits()), move |_| lapsed.set(false));
    }
    let held = r.state == ReservationState::Held && secs > 0 && !*lapsed;

    let on_cancel = {
        let (api, busy, error, cart_ctx) =
            (session.api.clone(), busy.clone(), error.clone(), cart_ctx.clone());
        let (id, on_changed) = (r.id, props.on_changed.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (api, busy, error, cart_ctx, on_changed) =
                (api.clone(), busy.clone(), error.clone(), cart_ctx.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match flash::cancel(&api, id).await {
                    Ok(_) => {}
                    Err(e) => error.set(Some(e.detail())),
                }
                busy.set(false);
                cart_ctx.refresh.emit(());
                on_changed.emit(());
            });
        })
    };
    let on_lapsed = {
        let (lapsed, cart_ctx, on_changed) = (lapsed.clone(), cart_ctx.clone(), props.on_changed.clone());
        Callback::from(move |()| {
            lapsed.set(true);
            cart_ctx.refresh.emit(());
            on_changed.emit(());
        })
    };
    let state = if r.state == ReservationState::Held && !held { ReservationState::Expired } else { r.state };

    html! {
        <div class={classes!("card", "flash-reservation", (!held).then_some("inactive"))} data-testid="reservation"
            data-id={r.id.to_string()} data-state={state.as_str()} data-sale-id={r.sale_id.to_string()}>
            <div class="reservation-main">
                <p class="reservation-what">
                    <strong class="reservation-name">{ &r.name }</strong>
                    <span class="muted">{ format!(" × {}", r.units) }</span>
                    if props.sale_link {
                        <span class="muted">{ " · " }</span>
                        <AppLink classes="reservation-sale" to={Route::FlashSale { id: r.sale_id }}>{ &r.sale_name }</AppLink>
                    }
                </p>
                <p class="reservation-prices">
                    <span class="reservation-price" data-cents={r.unit_price_cents.to_string()}>
                        { format_money(r.unit_price_cents, r.currency) }
                    </span>
                    { " each, locked · total " }
                    <strong class="reservation-total amount" data-cents={r.total_cents.to_string()}>
                        { format_money(r.total_cents, r.currency) }
                    </strong>
                </p>
                if held {
                    <p class="hold" role="status">
                        { "Held for you for " }
                        <Countdown class="hold-countdown" {secs} at_ms={props.at_ms} on_zero={on_lapsed} />
                        { ": pay before it runs out." }
                    </p>
                } else {
                    <p class="hold hold-over" data-state={state.as_str()}>
                        { reservation_state_label(state) }
                        if state == ReservationState::Expired {
                            { ": the units went back to the sale." }
                        }
                    </p>
                }
                if let Some(e) = &*error {
                    <p class="reservation-error row-error" role="alert">{ e }</p>
                }
            </div>
            if held {
                <div class="row-buttons reservation-actions">
                    if props.show_pay {
                        <AppLink classes="button-link reservation-pay" to={Route::PayReservation { id: r.id }}>
                            { props.pay_label.clone() }
                        </AppLink>
                    }
                    <button type="button" class="button-secondary reservation-cancel" disabled={*busy} onclick={on_cancel}>
                        { if *busy { "Cancelling…" } else { "Cancel reservation" } }
                    </button>
                </div>
            } else if let Some(order) = r.order_id {
                <div class="row-buttons reservation-actions">
                    <AppLink classes="button-link reservation-receipt" to={Route::Receipt { id: order.get() }}>
                        { "Receipt" }
                    </AppLink>
                </div>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sale(state: &str) -> FlashSale {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": "Friday", "state": state,
            "starts_at": "2026-11-27T09:00:00Z", "ends_at": "2026-11-27T10:00:00Z",
            "server_time": "2026-11-27T08:58:30Z", "per_customer_cap": 2, "items": []
        }))
        .unwrap()
    }

    fn reservation(state: &str, time_left: Option<u64>) -> FlashReservation {
        let mut v = serde_json::json!({
            "id": 7, "sale_id": 1, "sale_name": "Friday", "product_id": 3, "sku": "KET-1", "name": "Kettle",
            "units": 2, "unit_price_cents": 799, "total_cents": 1598, "currency": "EUR", "state": state,
            "expires_at": "2026-11-27T09:10:00Z", "created_at": "2026-11-27T09:00:00Z"
        });
        if let Some(t) = time_left {
            v["time_left_secs"] = t.into();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_sale_counts_down_to_its_start_then_its_end_on_the_servers_clock() {
        assert_eq!(sale_clock(&sale("scheduled")), SaleClock { label: "Starts in", secs: Some(90) });
        assert_eq!(sale_clock(&sale("live")), SaleClock { label: "Ends in", secs: Some(3690) });
        assert_eq!(sale_clock(&sale("ended")), SaleClock { label: "Ended", secs: None });
        assert_eq!(sale_clock(&sale("ended_early")).label, "Ended early");
        for s in SaleState::ALL {
            assert!(!sale_state_label(s).0.is_empty());
        }
    }

    #[test]
    fn discounts_read_as_a_percentage_or_a_saving() {
        let pct = |bp| Discount::PercentOff { basis_points: bp };
        assert_eq!(discount_label(&pct(2000), 1000, 800, Currency::EUR), "−20%");
        assert_eq!(discount_label(&pct(3333), 150, 100, Currency::EUR), "−33.33%");
        assert_eq!(discount_label(&pct(1250), 1000, 875, Currency::EUR), "−12.5%");
        assert_eq!(discount_label(&pct(5), 1000, 999, Currency::EUR), "−0.05%");
        let fixed: Discount =
            serde_json::from_value(serde_json::json!({"kind": "sale_price", "price": 799})).unwrap();
        assert_eq!(discount_label(&fixed, 999, 799, Currency::EUR), "Save €2.00");
    }

    #[test]
    fn a_hold_counts_from_the_servers_time_left_or_its_expiry() {
        let read = at("2026-11-27T09:05:00Z");
        assert_eq!(hold_secs(&reservation("held", Some(299)), read), 299);
        assert_eq!(hold_secs(&reservation("held", None), read), 300);
        assert_eq!(hold_secs(&reservation("held", None), at("2026-11-27T09:11:00Z")), 0);
        assert_eq!(hold_secs(&reservation("paid", Some(299)), read), 0);
        assert_eq!(hold_secs(&reservation("expired", None), read), 0);
        for s in ReservationState::ALL {
            assert!(!reservation_state_label(s).is_empty());
        }
    }

    #[test]
    fn units_left_say_sold_out_at_zero() {
        assert_eq!(units_left_label(0, 5), "Sold out");
        assert_eq!(units_left_label(1, 5), "Only 1 left");
        assert_eq!(units_left_label(12, 20), "12 of 20 left");
    }
}
