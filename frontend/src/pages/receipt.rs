use retail_api_types::{OrderId, Receipt};
use yew::prelude::*;

use crate::components::{AppLink, ErrorBox, Loading, MoneyRow, StateTag, Thumb};
use crate::format::{format_money, format_when};
use crate::hooks::{Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::orders;

use super::NeedsLogin;

#[derive(Properties, PartialEq)]
pub struct ReceiptPageProps {
    pub id: i64,
}

/// How the card part was paid, e.g. `visa ending 4242`; several payments are joined.
pub fn payment_hint(r: &Receipt) -> Option<String> {
    let hints: Vec<&str> =
        r.payments.iter().map(|p| p.card_hint.as_str()).filter(|h| !h.trim().is_empty()).collect();
    (!hints.is_empty()).then(|| hints.join(", "))
}

/// `/orders/:id/receipt`: printable.
#[component]
pub fn ReceiptPage(props: &ReceiptPageProps) -> Html {
    use_title("Receipt");
    html! {
        <section class="receipt-page">
            <p class="breadcrumbs no-print"><AppLink id="back-to-orders" to={Route::Orders}>{ "← Your orders" }</AppLink></p>
            <NeedsLogin what="this receipt"><ReceiptView id={props.id} /></NeedsLogin>
        </section>
    }
}

#[component]
fn ReceiptView(props: &ReceiptPageProps) -> Html {
    let session = use_session();
    let receipt = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { orders::receipt(&api, OrderId(id)).await })
    };
    use_title(match receipt.get() {
        Load::Ready(r) => r.number.as_str(),
        _ => "Receipt",
    });
    let on_print = Callback::from(|_: MouseEvent| {
        if let Err(e) = gloo::utils::window().print() {
            gloo::console::warn!("print failed", e);
        }
    });

    match receipt.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Receipt not found" }</h1>
                <p>{ "There is no such order in your account." }</p>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={receipt.reloader()} /> },
        Load::Ready(r) => {
            let o = &r.order;
            let cur = o.currency;
            html! {
                <article id="receipt" class="card receipt" data-testid="receipt" data-order-id={o.id.to_string()}>
                    <header class="receipt-head">
                        <div>
                            <p id="receipt-shop" class="receipt-shop">{ &r.shop }</p>
                            <h1>{ "Receipt " }<span id="receipt-number" data-testid="receipt-number">{ &r.number }</span></h1>
                        </div>
                        <div class="receipt-meta">
                            <StateTag id="receipt-state" state={o.state} />
                            <div class="muted">{ format_when(&o.created_at) }</div>
                            <div class="muted">{ &o.customer_email }</div>
                        </div>
                    </header>
                    <table class="receipt-lines">
                        <thead>
                            <tr>
                                <th colspan="2">{ "Item" }</th>
                                <th class="num">{ "Qty" }</th>
                                <th class="num">{ "Price" }</th>
                                <th class="num">{ "Total" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for o.lines.iter().map(|l| html! {
                                <tr class="receipt-line" data-testid="receipt-line" data-sku={l.sku.clone()}>
                                    <td class="cell-thumb"><Thumb src={l.image_url.clone()} alt={l.name.clone()} /></td>
                                    <td>{ &l.name }<div class="muted">{ &l.sku }</div></td>
                                    <td class="num">{ l.quantity }</td>
                                    <td class="num">{ format_money(l.unit_price_cents, cur) }</td>
                                    <td class="num">{ format_money(l.line_total_cents, cur) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                    <dl class="totals receipt-totals">
                        <MoneyRow label="Subtotal" cents={o.subtotal_cents} currency={cur} id="receipt-subtotal" />
                        <MoneyRow label="Paid with store credit" cents={o.credit_cents} currency={cur} id="receipt-credit"
                            testid="receipt-credit" />
                        <MoneyRow label="Paid by card" cents={o.card_cents} currency={cur} id="receipt-card"
                            testid="receipt-card" />
                        <MoneyRow label="Total" cents={o.total_cents} currency={cur} id="receipt-total"
                            testid="receipt-total" strong=true />
                        if o.refunded_cents > 0 {
                            <MoneyRow label="Refunded" cents={o.refunded_cents} currency={cur} id="receipt-refunded" />
                        }
                    </dl>
                    if let Some(hint) = payment_hint(r) {
                        <p id="receipt-payment" class="hint">{ format!("Card: {hint}") }</p>
                    }
                    <div class="row-buttons no-print">
                        <button id="print-receipt" type="button" class="button-secondary" onclick={on_print}>
                            { "Print" }
                        </button>
                        <AppLink id="receipt-order" classes="button-link" to={Route::Order { id: o.id.get() }}>
                            { "Order details" }
                        </AppLink>
                    </div>
                </article>
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(hints: &[&str]) -> Receipt {
        let payments: Vec<serde_json::Value> = hints
            .iter()
            .enumerate()
            .map(|(i, h)| {
                serde_json::json!({
                    "id": i, "provider": "simulator", "amount_cents": 100, "refunded_cents": 0,
                    "state": "captured", "card_hint": h, "created_at": "2026-11-26T10:00:00Z"
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "number": "R-1", "shop": "retail",
            "order": {
                "id": 1, "user_id": 2, "customer_email": "a@b.c", "state": "paid", "currency": "EUR",
                "subtotal_cents": 100, "credit_cents": 0, "card_cents": 100, "total_cents": 100,
                "refunded_cents": 0, "lines": [], "carrier": null, "tracking": null, "shipped_at": null,
                "delivered_at": null, "cancelled_at": null, "cancel_reason": null,
                "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z", "actions": []
            },
            "payments": payments, "credit": []
        }))
        .unwrap()
    }

    #[test]
    fn the_card_hint_comes_from_the_payments() {
        assert_eq!(payment_hint(&receipt(&["visa ending 4242"])).as_deref(), Some("visa ending 4242"));
        assert_eq!(payment_hint(&receipt(&[])), None);
        assert_eq!(payment_hint(&receipt(&[" "])), None);
    }
}
