//! `/orders/:id/return`: choosing the lines and units to return, the reason, a description and
//! photos, with a live preview of the refund; submitting creates the return, uploads the
//! photos and opens the return.

use gloo::file::ObjectUrl;
use retail_api_types::{
    Order, OrderId, OrderLineId, ReturnLineRequest, ReturnPreview, ReturnReason, ReturnRequest, RmaId,
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::NeedsLogin;
use super::returns::{
    MAX_PHOTOS, PHOTO_TYPES, bps_percent, check_photos, files_of, may_return, metas, reason_label,
};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, MoneyRow, Select};
use crate::format::{format_money, state_label};
use crate::hooks::{Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, orders, returns};

/// One order line on the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChoice {
    pub id: OrderLineId,
    /// Units bought on the line.
    pub bought: u32,
    /// Ticked.
    pub chosen: bool,
    /// Units to return (1..=bought).
    pub quantity: u32,
}

impl LineChoice {
    /// Every line of `order`, none ticked, one unit each.
    pub fn of(order: &Order) -> Vec<LineChoice> {
        order
            .lines
            .iter()
            .map(|l| LineChoice { id: l.id, bought: l.quantity, chosen: false, quantity: 1 })
            .collect()
    }
}

/// The request the form describes, or what to do first: at least one line, a reason.
/// Quantities are kept within 1..=bought. The description is trimmed (`None` when blank).
pub fn return_request(
    order_id: OrderId,
    lines: &[LineChoice],
    reason: Option<ReturnReason>,
    description: &str,
) -> Result<ReturnRequest, String> {
    let lines: Vec<ReturnLineRequest> = lines
        .iter()
        .filter(|l| l.chosen)
        .map(|l| ReturnLineRequest {
            order_line_id: l.id,
            quantity: i64::from(l.quantity.clamp(1, l.bought.max(1))),
        })
        .collect();
    if lines.is_empty() {
        return Err("Tick the items you want to return.".to_owned());
    }
    let reason = reason.ok_or("Choose why you are returning them.")?;
    let description = Some(description.trim().to_owned()).filter(|d| !d.is_empty());
    Ok(ReturnRequest { order_id, lines, reason, description })
}

#[derive(Properties, PartialEq)]
pub struct ReturnRequestPageProps {
    /// The order.
    pub id: i64,
}

/// `/orders/:id/return`.
#[component]
pub fn ReturnRequestPage(props: &ReturnRequestPageProps) -> Html {
    use_title(&format!("Return items · Order #{}", props.id));
    html! {
        <section class="return-request-page">
            <p class="breadcrumbs">
                <AppLink id="back-to-order" to={Route::Order { id: props.id }}>{ format!("← Order #{}", props.id) }</AppLink>
            </p>
            <h1>{ "Return items" }</h1>
            <NeedsLogin what="this order"><ReturnRequestLoader id={props.id} /></NeedsLogin>
        </section>
    }
}

#[component]
fn ReturnRequestLoader(props: &ReturnRequestPageProps) -> Html {
    let session = use_session();
    let order = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { orders::get(&api, OrderId(id)).await })
    };
    let me = session.user().map(|u| u.id);
    match order.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <p>{ "There is no such order in your account." }</p>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={order.reloader()} /> },
        Load::Ready(o) if me != Some(o.user_id) => html! {
            <div id="return-not-allowed" class="alert alert-info" role="status">
                { "Only the customer who placed this order can return its items." }
            </div>
        },
        Load::Ready(o) if !may_return(o.state) => html! {
            <div id="return-not-allowed" class="alert alert-info" role="status" data-state={o.state.as_str()}>
                { format!("Items can be returned once the order is delivered (this one is {}).", state_label(o.state).to_lowercase()) }
            </div>
        },
        Load::Ready(o) => html! { <ReturnForm order={o.clone()} /> },
    }
}

#[derive(Properties, PartialEq)]
struct ReturnFormProps {
    order: Order,
}

/// A photo picked for the request, with its preview URL (revoked when removed).
#[derive(Clone)]
struct Picked {
    file: web_sys::File,
    url: ObjectUrl,
}

/// `#return-form`: `li.return-line` (`data-line-id`) with `.return-line-check` and
/// `.return-line-qty`; `#return-reason`, `#return-description`, `#return-photos`;
/// the preview in `#return-preview`; `#return-submit`.
#[component]
fn ReturnForm(props: &ReturnFormProps) -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let o = &props.order;
    let lines = {
        let order = o.clone();
        use_state(move || LineChoice::of(&order))
    };
    let reason = use_state(|| None::<ReturnReason>);
    let description = use_state(String::new);
    let photos = use_state(Vec::<Picked>::new);
    let photo_error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let invalid = use_state(|| None::<String>);
    // A return created whose photos could not be uploaded.
    let created = use_state(|| None::<(RmaId, ApiError)>);

    // The preview follows the lines and the reason (the description changes nothing).
    let asked = return_request(o.id, &lines, *reason, "");
    let preview = {
        let api = session.api.clone();
        use_load(asked.clone(), move |asked| async move {
            match asked {
                Ok(req) => returns::preview(&api, &req).await.map(Some),
                Err(_) => Ok(None::<ReturnPreview>),
            }
        })
    };

    let on_check = {
        let lines = lines.clone();
        move |id: OrderLineId| {
            let lines = lines.clone();
            Callback::from(move |e: Event| {
                let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
                let mut next = (*lines).clone();
                if let Some(l) = next.iter_mut().find(|l| l.id == id) {
                    l.chosen = on;
                }
                lines.set(next);
            })
        }
    };
    let on_qty = {
        let lines = lines.clone();
        move |id: OrderLineId| {
            let lines = lines.clone();
            Callback::from(move |v: String| {
                let mut next = (*lines).clone();
                if let Some(l) = next.iter_mut().find(|l| l.id == id)
                    && let Ok(q) = v.parse::<u32>()
                {
                    l.quantity = q.clamp(1, l.bought.max(1));
                    l.chosen = true;
                }
                lines.set(next);
            })
        }
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |v: String| reason.set(ReturnReason::parse(&v)))
    };
    let on_description = {
        let description = description.clone();
        Callback::from(move |e: InputEvent| {
            description.set(e.target_unchecked_into::<web_sys::HtmlTextAreaElement>().value())
        })
    };
    let on_photos = {
        let (photos, photo_error) = (photos.clone(), photo_error.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let picked = files_of(&input);
            // Cleared, so that picking the same file again still counts as a change.
            input.set_value("");
            if picked.is_empty() {
                return;
            }
            if let Err(m) = check_photos(photos.len(), &metas(&picked)) {
                photo_error.set(Some(m));
                return;
            }
            photo_error.set(None);
            let mut next = (*photos).clone();
            next.extend(
                picked
                    .into_iter()
                    .map(|file| Picked { url: ObjectUrl::from(gloo::file::File::from(file.clone())), file }),
            );
            photos.set(next);
        })
    };
    let on_remove = {
        let (photos, photo_error) = (photos.clone(), photo_error.clone());
        move |i: usize| {
            let (photos, photo_error) = (photos.clone(), photo_error.clone());
            Callback::from(move |_: MouseEvent| {
                let mut next = (*photos).clone();
                if i < next.len() {
                    next.remove(i);
                }
                photo_error.set(None);
                photos.set(next);
            })
        }
    };
    let eligible = match preview.get() {
        Load::Ready(Some(p)) => Some(p.eligible),
        _ => None,
    };
    let onsubmit = {
        let (api, lines, reason, description, photos) =
            (session.api.clone(), lines.clone(), reason.clone(), description.clone(), photos.clone());
        let (busy, error, invalid, created) = (busy.clone(), error.clone(), invalid.clone(), created.clone());
        let order_id = o.id;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy || created.is_some() {
                return;
            }
            let req = match return_request(order_id, &lines, *reason, &description) {
                Ok(r) => r,
                Err(m) => return invalid.set(Some(m)),
            };
            invalid.set(None);
            error.set(None);
            busy.set(true);
            let files: Vec<web_sys::File> = photos.iter().map(|p| p.file.clone()).collect();
            let (api, busy, error, created, navigator) =
                (api.clone(), busy.clone(), error.clone(), created.clone(), navigator.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let rma = match returns::create(&api, &req).await {
                    Ok(r) => r,
                    Err(e) => {
                        error.set(Some(e));
                        busy.set(false);
                        return;
                    }
                };
                if !files.is_empty()
                    && !rma.stage.is_terminal()
                    && let Err(e) = returns::upload_photos(&api, rma.id, &files).await
                {
                    created.set(Some((rma.id, e)));
                    busy.set(false);
                    return;
                }
                if let Some(nav) = &navigator {
                    nav.push(&Route::Return { id: rma.id.get() });
                }
            });
        })
    };

    let cur = o.currency;
    let problems_of = |id: OrderLineId| -> Vec<String> {
        match preview.get() {
            Load::Ready(Some(p)) => p
                .problems
                .iter()
                .filter(|pr| pr.order_line_id == Some(id))
                .map(|pr| pr.message.clone())
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut reason_options = vec![(String::new(), "Choose a reason…".to_owned())];
    reason_options
        .extend(ReturnReason::ALL.iter().map(|r| (r.as_str().to_owned(), reason_label(*r).to_owned())));

    if let Some((id, e)) = &*created {
        return html! {
            <div id="return-created" class="alert alert-warning" role="alert" data-id={id.to_string()}>
                <p>{ format!("Your return #{id} was requested, but the photos could not be added: {}", e.detail()) }</p>
                <FieldErrors errors={e.field_errors().to_vec()} />
                <AppLink id="return-created-link" classes="button-link" to={Route::Return { id: id.get() }}>
                    { "Open the return to add them again" }
                </AppLink>
            </div>
        };
    }

    html! {
        <form id="return-form" class="card form return-form" novalidate=true data-order-id={o.id.to_string()} {onsubmit}>
            <p class="muted">{ format!("Order #{} · tick what you are sending back.", o.id) }</p>
            <ul class="summary-lines return-lines">
                { for o.lines.iter().zip(lines.iter()).map(|(l, c)| {
                    let qty_options: Vec<(String, String)> =
                        (1..=c.bought.max(1)).map(|n| (n.to_string(), n.to_string())).collect();
                    let issues = problems_of(c.id);
                    html! {
                        <li key={c.id.get()} class={classes!("summary-line", "return-line", c.chosen.then_some("chosen"))}
                            data-line-id={c.id.to_string()} data-sku={l.sku.clone()}>
                            <label class="summary-name">
                                <input type="checkbox" class="return-line-check" checked={c.chosen}
                                    onchange={on_check(c.id)} />
                                { format!(" {}", l.name) }
                                <span class="muted">{ format!(" · bought {} at {}", l.quantity, format_money(l.unit_price_cents, cur)) }</span>
                            </label>
                            <label class="line-side">
                                <span class="visually-hidden">{ "Units to return" }</span>
                                <Select class="return-line-qty" options={qty_options} value={c.quantity.to_string()}
                                    onchange={on_qty(c.id)} disabled={c.bought <= 1}
                                    aria_label={format!("Units of {} to return", l.name)} />
                            </label>
                            if c.chosen && !issues.is_empty() {
                                <div class="line-issue field-error" role="alert">{ issues.join(" ") }</div>
                            }
                        </li>
                    }
                }) }
            </ul>
            <div class="form-grid">
                <div class="field">
                    <label for="return-reason">{ "Why are you returning them?" }</label>
                    <Select id="return-reason" options={reason_options}
                        value={reason.map(|r| r.as_str().to_owned()).unwrap_or_default()} onchange={on_reason} />
                </div>
                <div class="field field-wide">
                    <label for="return-description">{ "Tell us more " }<span class="optional">{ "(optional)" }</span></label>
                    <textarea id="return-description" rows="3" maxlength="2000" value={(*description).clone()}
                        oninput={on_description} />
                </div>
                <div class="field field-wide">
                    <label for="return-photos">{ format!("Photos (up to {MAX_PHOTOS}: JPEG, PNG or WebP, 5 MiB each)") }</label>
                    <input id="return-photos" type="file" multiple=true accept={PHOTO_TYPES.join(",")}
                        disabled={photos.len() >= MAX_PHOTOS} onchange={on_photos} />
                    if let Some(m) = &*photo_error {
                        <p id="return-photos-invalid" class="field-error" role="alert">{ m }</p>
                    }
                    if !photos.is_empty() {
                        <ul id="return-photo-list" class="row-buttons">
                            { for photos.iter().enumerate().map(|(i, p)| html! {
                                <li class="photo-choice" data-name={p.file.name()}>
                                    <img class="thumb" src={p.url.to_string()} alt={p.file.name()}
                                        style="width: 64px; height: 64px; object-fit: cover;" />
                                    <button type="button" class="photo-remove button-secondary" onclick={on_remove(i)}
                                        aria-label={format!("Remove {}", p.file.name())}>{ "Remove" }</button>
                                </li>
                            }) }
                        </ul>
                    }
                </div>
            </div>
            <PreviewPanel preview={preview.get().clone()} asked={asked.clone().err()}
                on_retry={preview.reloader()} />
            if let Some(m) = &*invalid {
                <p id="return-invalid" class="field-error" role="alert">{ m }</p>
            }
            if let Some(e) = &*error {
                <div id="return-error" class="alert alert-error" role="alert" data-code={e.code().map(str::to_owned)}>
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
            <div class="row-buttons">
                <button id="return-submit" type="submit" disabled={*busy || eligible == Some(false)}>
                    { if *busy { "Sending…" } else { "Request the return" } }
                </button>
                <AppLink classes="button-link button-secondary" to={Route::Order { id: o.id.get() }}>{ "Back to the order" }</AppLink>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct PreviewPanelProps {
    preview: Load<Option<ReturnPreview>>,
    /// What the form still needs before a preview (no line, no reason).
    asked: Option<String>,
    on_retry: Callback<()>,
}

/// `#return-preview` (`data-state`: `idle`, `loading`, `ready`, `error`; `data-eligible`):
/// gross, fee and net (`#preview-gross`, `#preview-fee`, `#preview-net`) and the problems
/// (`li.preview-problem`, `data-code`).
#[component]
fn PreviewPanel(props: &PreviewPanelProps) -> Html {
    let body = match (&props.preview, &props.asked) {
        (_, Some(m)) => html! { <p id="preview-idle" class="muted">{ m }</p> },
        (Load::Loading, _) => {
            html! { <p id="preview-loading" class="muted" aria-busy="true">{ "Working out your refund…" }</p> }
        }
        (Load::Failed(e), _) => html! {
            <div id="preview-error" class="alert alert-error" role="alert">
                <p class="error-detail">{ e.detail() }</p>
                <FieldErrors errors={e.field_errors().to_vec()} />
                <button id="preview-retry" type="button" class="button-secondary"
                    onclick={props.on_retry.reform(|_| ())}>{ "Retry" }</button>
            </div>
        },
        (Load::Ready(None), _) => html! {},
        (Load::Ready(Some(p)), _) => {
            let est = p.estimate;
            html! {
                <>
                    <dl class="totals">
                        <MoneyRow label="Items" cents={est.gross.0} currency={p.currency} id="preview-gross" />
                        <MoneyRow label={format!("Restocking fee ({})", bps_percent(est.fee_bps))} cents={est.fee.0}
                            currency={p.currency} id="preview-fee" />
                        <MoneyRow label="Refund if they arrive as described" cents={est.net.0} currency={p.currency}
                            id="preview-net" strong=true />
                    </dl>
                    if !p.eligible {
                        <div class="alert alert-warning" role="status">
                            <p>{ "This return cannot be accepted:" }</p>
                            <ul id="preview-problems">
                                { for p.problems.iter().map(|pr| html! {
                                    <li class="preview-problem" data-code={pr.code.clone()}
                                        data-line-id={pr.order_line_id.map(|l| l.to_string())}>{ &pr.message }</li>
                                }) }
                            </ul>
                        </div>
                    }
                </>
            }
        }
    };
    let state = match (&props.preview, &props.asked) {
        (_, Some(_)) | (Load::Ready(None), _) => "idle",
        (Load::Loading, _) => "loading",
        (Load::Failed(_), _) => "error",
        (Load::Ready(Some(_)), _) => "ready",
    };
    let eligible = match &props.preview {
        Load::Ready(Some(p)) if props.asked.is_none() => Some(p.eligible.to_string()),
        _ => None,
    };
    html! {
        <section id="return-preview" class="card return-preview" data-state={state} data-eligible={eligible}
            aria-live="polite">
            <h2>{ "Your refund" }</h2>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, bought: u32, chosen: bool, quantity: u32) -> LineChoice {
        LineChoice { id: OrderLineId(id), bought, chosen, quantity }
    }

    #[test]
    fn the_request_holds_the_ticked_lines_only() {
        let lines = [line(1, 2, true, 2), line(2, 1, false, 1), line(3, 3, true, 1)];
        let r = return_request(OrderId(9), &lines, Some(ReturnReason::Defective), "  broke  ").unwrap();
        assert_eq!(r.order_id, OrderId(9));
        assert_eq!(
            r.lines,
            vec![
                ReturnLineRequest { order_line_id: OrderLineId(1), quantity: 2 },
                ReturnLineRequest { order_line_id: OrderLineId(3), quantity: 1 },
            ]
        );
        assert_eq!((r.reason, r.description.as_deref()), (ReturnReason::Defective, Some("broke")));
        let r = return_request(OrderId(9), &lines, Some(ReturnReason::Other), " \n ").unwrap();
        assert_eq!(r.description, None);
    }

    #[test]
    fn quantities_stay_within_what_was_bought() {
        let r = return_request(
            OrderId(1),
            &[line(1, 2, true, 5), line(2, 3, true, 0)],
            Some(ReturnReason::Other),
            "",
        )
        .unwrap();
        assert_eq!(r.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(), vec![2, 1]);
    }

    #[test]
    fn a_request_needs_a_line_and_a_reason() {
        assert!(
            return_request(OrderId(1), &[line(1, 1, false, 1)], Some(ReturnReason::Other), "")
                .unwrap_err()
                .contains("Tick")
        );
        assert!(return_request(OrderId(1), &[], Some(ReturnReason::Other), "").is_err());
        assert!(return_request(OrderId(1), &[line(1, 1, true, 1)], None, "").unwrap_err().contains("why"));
    }
}
