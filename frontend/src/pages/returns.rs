//! Returns (RMAs): the customer's list (`/returns`) and one return (`/returns/:id`) with its
//! lines, estimate, photos, timeline and the actions the caller may take; plus the words and
//! pure helpers the return pages share (labels, ages, building an action from a form).

use retail_api_types::{
    Condition, Disposition, GoodsOutcome, OrderState, PageQuery, ReturnReason, Rma, RmaAction,
    RmaActionRequest, RmaEvent, RmaId, RmaPhoto, RmaStage,
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::{NeedsLogin, bind_input};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, MoneyRow, Pager, Select};
use crate::format::{cents_to_decimal, count_items, format_money, format_when, parse_price_cents};
use crate::hooks::{Edit, Load, use_clamped_page, use_load, use_session, use_title, use_url_page};
use crate::routes::Route;
use crate::services::{ApiError, returns};

const PER_PAGE: u32 = 20;

/// Most photos one return may carry.
pub const MAX_PHOTOS: usize = 5;
/// Largest photo accepted, in bytes (5 MiB).
pub const MAX_PHOTO_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// Photo types the server accepts.
pub const PHOTO_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

// ---------------------------------------------------------------------------------------------
// Words and pure helpers
// ---------------------------------------------------------------------------------------------

/// Whether an order in `state` may have items returned: delivered, or partly refunded.
pub fn may_return(state: OrderState) -> bool {
    matches!(state, OrderState::Delivered | OrderState::PartiallyRefunded)
}

/// A return reason in plain words.
pub fn reason_label(reason: ReturnReason) -> &'static str {
    match reason {
        ReturnReason::DamagedInTransit => "Arrived damaged",
        ReturnReason::Defective => "Defective",
        ReturnReason::WrongItem => "Wrong item sent",
        ReturnReason::NotAsDescribed => "Not as described",
        ReturnReason::NoLongerNeeded => "No longer needed",
        ReturnReason::BetterPriceElsewhere => "Found a better price",
        ReturnReason::Other => "Other",
    }
}

/// A stage in plain words.
pub fn stage_label(stage: RmaStage) -> &'static str {
    match stage {
        RmaStage::Submitted => "Submitted",
        RmaStage::Validating => "Awaiting review",
        RmaStage::Approved => "Approved: send it back",
        RmaStage::Shipping => "On its way back",
        RmaStage::Received => "Received",
        RmaStage::Inspecting => "Being inspected",
        RmaStage::Inspected => "Inspected",
        RmaStage::Disposition => "Decided",
        RmaStage::Processing => "Processing",
        RmaStage::Completed => "Completed",
        RmaStage::Rejected => "Rejected",
        RmaStage::Cancelled => "Cancelled",
    }
}

/// CSS classes of a stage's tag.
pub fn stage_class(stage: RmaStage) -> &'static str {
    match stage {
        RmaStage::Submitted | RmaStage::Validating => "tag tag-warning",
        RmaStage::Completed => "tag tag-ok",
        RmaStage::Rejected | RmaStage::Cancelled => "tag tag-muted",
        _ => "tag tag-info",
    }
}

/// What the button of an action says (`attempts`: processing attempts so far).
pub fn action_label(action: RmaAction, attempts: i64) -> &'static str {
    match action {
        RmaAction::Validate => "Validate",
        RmaAction::Approve => "Approve",
        RmaAction::Reject => "Reject",
        RmaAction::Ship => "Save shipment",
        RmaAction::Receive => "Mark received",
        RmaAction::StartInspection => "Start inspection",
        RmaAction::Inspect => "Record inspection",
        RmaAction::Decide => "Decide",
        RmaAction::Process if attempts > 0 => "Retry",
        RmaAction::Process => "Process",
        RmaAction::Complete => "Complete",
        RmaAction::Cancel => "Cancel return",
    }
}

/// A timeline entry's action (`submit`, `process_failed` or an action name) in plain words.
pub fn event_label(action: &str) -> String {
    let known = match action {
        "submit" => "Requested",
        "process_failed" => "Processing failed",
        "validate" => "Checked: eligible",
        "approve" => "Approved",
        "reject" => "Rejected",
        "ship" => "Sent back",
        "receive" => "Received",
        "start_inspection" => "Inspection started",
        "inspect" => "Inspected",
        "decide" => "Decided",
        "process" => "Processed",
        "complete" => "Completed",
        "cancel" => "Cancelled",
        other => return capitalised(other),
    };
    known.to_owned()
}

/// A condition in plain words.
pub fn condition_label(c: Condition) -> &'static str {
    match c {
        Condition::Resellable => "Resellable (as new)",
        Condition::Damaged => "Damaged",
        Condition::WrongItem => "Wrong item",
        Condition::Missing => "Missing",
    }
}

/// A disposition in plain words.
pub fn disposition_label(d: Disposition) -> &'static str {
    match d {
        Disposition::Refund => "Refund",
        Disposition::Replacement => "Replacement",
        Disposition::Repair => "Repair",
        Disposition::Reject => "Reject (nothing given)",
        Disposition::StoreCredit => "Store credit",
    }
}

/// How goods left the warehouse, in plain words.
pub fn outcome_label(o: GoodsOutcome) -> &'static str {
    match o {
        GoodsOutcome::ShippedBack => "Repaired and shipped back",
        GoodsOutcome::ReturnedToCustomer => "Returned to the customer",
        GoodsOutcome::Disposed => "Disposed of",
    }
}

/// Whether a disposition takes an amount (refund, store credit).
pub fn takes_amount(d: Disposition) -> bool {
    matches!(d, Disposition::Refund | Disposition::StoreCredit)
}

/// `support` -> `Support`, `no_lines` -> `No lines`.
pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>().replace('_', " "),
        None => String::new(),
    }
}

/// A duration in seconds as people say it: `42 s`, `17 min`, `3 h 5 min`, `2 d 4 h`
/// (negative counts as zero).
pub fn format_age(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A fee rate in basis points as a percentage: `1500` -> `15 %`, `1250` -> `12.5 %`.
pub fn bps_percent(bps: u32) -> String {
    let (whole, frac) = (bps / 100, bps % 100);
    match frac {
        0 => format!("{whole} %"),
        f if f % 10 == 0 => format!("{whole}.{} %", f / 10),
        f => format!("{whole}.{f:02} %"),
    }
}

/// What an action form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFields {
    pub note: String,
    pub carrier: String,
    pub tracking: String,
    /// A [`Condition`] name, or empty.
    pub condition: String,
    /// A [`Disposition`] name, or empty.
    pub disposition: String,
    /// A decimal amount (`12.50`), or empty for the default.
    pub amount: String,
    /// A [`GoodsOutcome`] name, or empty.
    pub outcome: String,
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The request of `action` on a return at `version`, from a form: only the fields the action
/// takes, or what to fill in first.
pub fn action_request(action: RmaAction, version: i64, f: &ActionFields) -> Result<RmaActionRequest, String> {
    let mut req = RmaActionRequest {
        action,
        version,
        note: None,
        carrier: None,
        tracking: None,
        condition: None,
        disposition: None,
        amount_cents: None,
        outcome: None,
    };
    let shipment = |req: &mut RmaActionRequest| -> Result<(), String> {
        req.carrier = Some(text(&f.carrier).ok_or("Carrier: say who carries the parcel.")?);
        req.tracking = Some(text(&f.tracking).ok_or("Tracking: enter the tracking number.")?);
        Ok(())
    };
    match action {
        RmaAction::Validate => return Err("The system validates returns itself.".to_owned()),
        RmaAction::Approve | RmaAction::Receive | RmaAction::StartInspection | RmaAction::Cancel => {
            req.note = text(&f.note);
        }
        RmaAction::Reject => {
            req.note = Some(text(&f.note).ok_or("Note: say why the return is rejected.")?);
        }
        RmaAction::Ship => shipment(&mut req)?,
        RmaAction::Inspect => {
            req.condition = Some(Condition::parse(&f.condition).ok_or("Condition: choose what was found.")?);
            req.note = text(&f.note);
        }
        RmaAction::Decide => {
            let d = Disposition::parse(&f.disposition).ok_or("Disposition: choose what to do.")?;
            req.disposition = Some(d);
            if takes_amount(d) && !f.amount.trim().is_empty() {
                let cents = parse_price_cents(&f.amount).map_err(|m| format!("Amount: {m}."))?;
                if cents == 0 {
                    return Err("Amount: must be more than zero.".to_owned());
                }
                req.amount_cents = Some(cents);
            }
            req.note = text(&f.note);
            if d == Disposition::Reject && req.note.is_none() {
                return Err("Note: say why nothing is given.".to_owned());
            }
        }
        RmaAction::Process => {}
        RmaAction::Complete => {
            let o = GoodsOutcome::parse(&f.outcome).ok_or("Outcome: choose how the goods left.")?;
            req.outcome = Some(o);
            if o.ships() {
                shipment(&mut req)?;
            }
            req.note = text(&f.note);
        }
    }
    Ok(req)
}

/// A file the customer picked, as far as the checks need it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMeta {
    pub name: String,
    pub mime: String,
    pub size: f64,
}

/// Checks photos before uploading them next to `existing` ones: at most [`MAX_PHOTOS`] in
/// all, JPEG/PNG/WebP, at most 5 MiB each.
pub fn check_photos(existing: usize, picked: &[PhotoMeta]) -> Result<(), String> {
    if existing + picked.len() > MAX_PHOTOS {
        let left = MAX_PHOTOS.saturating_sub(existing);
        return Err(format!("At most {MAX_PHOTOS} photos per return: choose {left} or fewer."));
    }
    for p in picked {
        if !PHOTO_TYPES.contains(&p.mime.as_str()) {
            return Err(format!("{}: only JPEG, PNG and WebP photos can be added.", p.name));
        }
        if p.size > MAX_PHOTO_BYTES {
            return Err(format!("{}: a photo may be at most 5 MiB.", p.name));
        }
    }
    Ok(())
}

/// The files of a file `<input>`.
pub(crate) fn files_of(input: &web_sys::HtmlInputElement) -> Vec<web_sys::File> {
    let Some(list) = input.files() else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// What [`check_photos`] needs to know about files.
pub(crate) fn metas(files: &[web_sys::File]) -> Vec<PhotoMeta> {
    files.iter().map(|f| PhotoMeta { name: f.name(), mime: f.type_(), size: f.size() }).collect()
}

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct RmaStageTagProps {
    pub stage: RmaStage,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `.rma-stage` (`data-stage="approved"`): a return's stage in plain words.
#[component]
pub fn RmaStageTag(props: &RmaStageTagProps) -> Html {
    html! {
        <span id={props.id.clone()} class={classes!("rma-stage", stage_class(props.stage))}
            data-stage={props.stage.as_str()}>
            { stage_label(props.stage) }
        </span>
    }
}

// ---------------------------------------------------------------------------------------------
// `/returns`
// ---------------------------------------------------------------------------------------------

/// `/returns`: the customer's returns, newest first, paged.
#[component]
pub fn ReturnsPage() -> Html {
    use_title("Your returns");
    html! {
        <section class="returns-page">
            <h1>{ "Your returns" }</h1>
            <NeedsLogin what="your returns"><OwnReturns /></NeedsLogin>
        </section>
    }
}

#[component]
fn OwnReturns() -> Html {
    let session = use_session();
    let _location = use_location();
    let _navigator = use_navigator();
    let paging = use_url_page(Route::Returns);
    let page = paging.page;
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            returns::list(&api, &PageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
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
                <p>{ "You have not returned anything." }</p>
                <p class="muted">{ "To return items, open a delivered order and choose “Return items”." }</p>
                <AppLink classes="button-link" to={Route::Orders}>{ "Your orders" }</AppLink>
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="returns" class="data-table">
                        <thead>
                            <tr>
                                <th>{ "Return" }</th><th>{ "Requested" }</th><th>{ "Order" }</th><th>{ "Items" }</th>
                                <th>{ "Amount" }</th><th>{ "Stage" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|r| html! {
                                <tr key={r.id.get()} class="rma-row" data-id={r.id.to_string()} data-stage={r.stage.as_str()}>
                                    <td class="cell-name" data-label="Return">
                                        <AppLink classes="rma-link" to={Route::Return { id: r.id.get() }}>
                                            { format!("Return #{}", r.id) }
                                        </AppLink>
                                        <div class="muted">{ reason_label(r.reason) }</div>
                                    </td>
                                    <td data-label="Requested">{ format_when(&r.created_at) }</td>
                                    <td data-label="Order">
                                        <AppLink classes="order-link" to={Route::Order { id: r.order_id.get() }}>
                                            { format!("Order #{}", r.order_id) }
                                        </AppLink>
                                    </td>
                                    <td data-label="Items" class="rma-units" data-units={r.units.to_string()}>{ count_items(r.units) }</td>
                                    <td class="cell-price" data-label="Amount" data-cents={r.gross_cents.to_string()}>
                                        { format_money(r.gross_cents, r.currency) }
                                    </td>
                                    <td data-label="Stage"><RmaStageTag stage={r.stage} /></td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("return", "returns")} {on_page} />
            </>
        },
    }
}

// ---------------------------------------------------------------------------------------------
// `/returns/:id`
// ---------------------------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
pub struct ReturnPageProps {
    pub id: i64,
}

/// `/returns/:id`: one return with its timeline and the actions the caller may take.
#[component]
pub fn ReturnPage(props: &ReturnPageProps) -> Html {
    use_title(&format!("Return #{}", props.id));
    let staff = use_session().user().is_some_and(|u| u.role.is_staff());
    let back =
        if staff { (Route::StaffReturns, "← Returns queue") } else { (Route::Returns, "← Your returns") };
    html! {
        <section class="return-page">
            <p class="breadcrumbs"><AppLink id="back-to-returns" to={back.0}>{ back.1 }</AppLink></p>
            <NeedsLogin what="this return"><ReturnDetail id={props.id} /></NeedsLogin>
        </section>
    }
}

/// How the last action went.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Done(String),
    Failed(ApiError),
}

#[component]
fn ReturnDetail(props: &ReturnPageProps) -> Html {
    let session = use_session();
    let rma = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { returns::get(&api, RmaId(id)).await })
    };
    let outcome = use_state(|| None::<Outcome>);
    {
        let outcome = outcome.clone();
        use_effect_with(props.id, move |_| outcome.set(None));
    }
    // Reads the return again without the loading state (after a refused action).
    let refresh = {
        let (api, edit, reload) = (session.api.clone(), rma.editor(), rma.reloader());
        Callback::from(move |id: RmaId| {
            let (api, edit, reload) = (api.clone(), edit.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match returns::get(&api, id).await {
                    Ok(r) => edit.emit(Box::new(move |slot: &mut Rma| *slot = r) as Edit<Rma>),
                    Err(_) => reload.emit(()),
                }
            });
        })
    };
    let on_done = {
        let (edit, outcome, refresh) = (rma.editor(), outcome.clone(), refresh.clone());
        Callback::from(move |(id, what, answer): (RmaId, String, Result<Rma, ApiError>)| match answer {
            Ok(r) => {
                outcome.set(Some(Outcome::Done(what)));
                edit.emit(Box::new(move |slot: &mut Rma| *slot = r) as Edit<Rma>);
            }
            Err(e) => {
                // Someone acted first, the move is no longer allowed, or the payment provider
                // refused: show the message and the return as it is now.
                if matches!(e.status(), Some(409 | 502 | 503 | 504)) {
                    refresh.emit(id);
                }
                outcome.set(Some(Outcome::Failed(e)));
            }
        })
    };
    let me = session.user().map(|u| u.id);

    match rma.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Return not found" }</h1>
                <p>{ "There is no such return in your account." }</p>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={rma.reloader()} /> },
        Load::Ready(r) => {
            let own = me == Some(r.user_id);
            let cur = r.currency;
            let est = r.estimate;
            html! {
                <article id="return-detail" class="card order-detail return-detail" data-id={r.id.to_string()}
                    data-stage={r.stage.as_str()} data-version={r.version.to_string()}>
                    <header class="receipt-head">
                        <div>
                            <h1>{ format!("Return #{}", r.id) }</h1>
                            <div class="muted">
                                { format!("Requested {} · ", format_when(&r.created_at)) }
                                <AppLink id="return-order" to={Route::Order { id: r.order_id.get() }}>
                                    { format!("Order #{}", r.order_id) }
                                </AppLink>
                            </div>
                            if !own {
                                <div class="muted" id="return-customer">{ &r.customer_email }</div>
                            }
                        </div>
                        <RmaStageTag id="return-stage" stage={r.stage} />
                    </header>
                    {
                        match &*outcome {
                            Some(Outcome::Done(m)) => html! {
                                <p id="action-message" class="alert alert-success" role="status">{ m }</p>
                            },
                            Some(Outcome::Failed(e)) => html! {
                                <div id="action-error" class="alert alert-error" role="alert"
                                    data-status={e.status().map(|s| s.to_string())} data-code={e.code().map(str::to_owned)}>
                                    <p class="error-detail">{ e.detail() }</p>
                                    <FieldErrors errors={e.field_errors().to_vec()} />
                                    if matches!(e.status(), Some(409)) {
                                        <p class="muted">{ "The return below is as it stands now." }</p>
                                    }
                                </div>
                            },
                            None => html! {},
                        }
                    }
                    if !r.problems.is_empty() {
                        <div id="return-problems" class="alert alert-warning" role="status">
                            <p>{ "This return cannot be accepted:" }</p>
                            <ul>
                                { for r.problems.iter().map(|p| html! {
                                    <li class="return-problem" data-code={p.code.clone()}>{ &p.message }</li>
                                }) }
                            </ul>
                        </div>
                    }
                    <dl class="facts">
                        <dt>{ "Reason" }</dt>
                        <dd id="return-reason" data-reason={r.reason.as_str()}>{ reason_label(r.reason) }</dd>
                        if let Some(d) = &r.description {
                            <dt>{ "Description" }</dt>
                            <dd id="return-description">{ d }</dd>
                        }
                        <dt>{ "In this stage since" }</dt>
                        <dd id="return-stage-since">{ format_when(&r.stage_entered_at) }</dd>
                    </dl>
                    <h2>{ "Items" }</h2>
                    <ul class="summary-lines" id="return-lines">
                        { for r.lines.iter().map(|l| html! {
                            <li class="summary-line return-line-item" data-line-id={l.order_line_id.to_string()}
                                data-sku={l.sku.clone()} data-quantity={l.quantity.to_string()}>
                                <span class="summary-name">
                                    { &l.name }
                                    <span class="muted">{ format!(" × {} at {}", l.quantity, format_money(l.unit_price_cents, cur)) }</span>
                                </span>
                                <span class="amount">{ format_money(l.line_total_cents, cur) }</span>
                            </li>
                        }) }
                    </ul>
                    <dl class="totals" id="return-estimate">
                        <MoneyRow label="Items" cents={est.gross.0} currency={cur} id="estimate-gross" />
                        <MoneyRow label={format!("Restocking fee ({})", bps_percent(est.fee_bps))} cents={est.fee.0}
                            currency={cur} id="estimate-fee" />
                        <MoneyRow label={if r.condition.is_some() { "Refund at the condition found" } else { "Refund (estimate)" }}
                            cents={est.net.0} currency={cur} id="estimate-net" strong=true />
                    </dl>
                    <DecisionFacts rma={r.clone()} />
                    <h2>{ "Photos" }</h2>
                    <PhotoGallery photos={r.photos.clone()} />
                    if own && matches!(r.stage, RmaStage::Submitted | RmaStage::Validating | RmaStage::Approved | RmaStage::Shipping)
                        && r.photos.len() < MAX_PHOTOS {
                        <AddPhotos id={r.id} existing={r.photos.len()} on_done={on_done.clone()} />
                    }
                    <h2>{ "Timeline" }</h2>
                    <Timeline events={r.events.clone()} />
                    <ActionPanel rma={r.clone()} {on_done} />
                </article>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct RmaProps {
    rma: Rma,
}

/// Shipping, inspection, decision and refund facts, as far as the return got.
#[component]
fn DecisionFacts(props: &RmaProps) -> Html {
    let r = &props.rma;
    let cur = r.currency;
    let any = r.carrier.is_some()
        || r.condition.is_some()
        || r.disposition.is_some()
        || r.refund.is_some()
        || r.last_error.is_some()
        || r.outcome.is_some();
    if !any {
        return html! {};
    }
    html! {
        <>
            <h2>{ "Handling" }</h2>
            <dl class="facts" id="return-facts">
                if let Some(c) = &r.carrier {
                    <dt>{ "Sent back with" }</dt>
                    <dd id="return-carrier">{ format!("{c} · {}", r.tracking.clone().unwrap_or_default()) }</dd>
                }
                if let Some(c) = r.condition {
                    <dt>{ "Condition found" }</dt>
                    <dd id="return-condition" data-condition={c.as_str()}>{ condition_label(c) }</dd>
                }
                if let Some(n) = &r.inspection_note {
                    <dt>{ "Inspection note" }</dt>
                    <dd id="return-inspection-note">{ n }</dd>
                }
                if let Some(d) = r.disposition {
                    <dt>{ "Decision" }</dt>
                    <dd id="return-disposition" data-disposition={d.as_str()}>{ disposition_label(d) }</dd>
                }
                if let Some(n) = &r.decision_note {
                    <dt>{ "Decision note" }</dt>
                    <dd id="return-decision-note">{ n }</dd>
                }
                if let Some(a) = r.amount_cents {
                    <dt>{ "Amount" }</dt>
                    <dd id="return-amount" class="amount" data-cents={a.to_string()}>{ format_money(a, cur) }</dd>
                }
                if let Some(o) = r.replacement_order_id {
                    <dt>{ "Replacement" }</dt>
                    <dd id="return-replacement">
                        <AppLink to={Route::Order { id: o.get() }}>{ format!("Order #{o}") }</AppLink>
                    </dd>
                }
                if let Some(o) = r.outcome {
                    <dt>{ "Goods" }</dt>
                    <dd id="return-outcome" data-outcome={o.as_str()}>
                        { outcome_label(o) }
                        if let Some(c) = &r.outcome_carrier {
                            { format!(" · {c} {}", r.outcome_tracking.clone().unwrap_or_default()) }
                        }
                    </dd>
                }
                if r.attempts > 0 {
                    <dt>{ "Processing attempts" }</dt>
                    <dd id="return-attempts">{ r.attempts }</dd>
                }
            </dl>
            if let Some(e) = &r.last_error {
                <p id="return-last-error" class="alert alert-warning" role="status">
                    { format!("The last processing attempt failed: {e}") }
                </p>
            }
            if let Some(s) = r.refund {
                <dl class="totals" id="return-refund" data-cents={(s.card_cents + s.credit_cents).to_string()}>
                    <MoneyRow label="Refunded to the card" cents={s.card_cents} currency={cur} id="refund-card" />
                    <MoneyRow label="Refunded as store credit" cents={s.credit_cents} currency={cur} id="refund-credit" />
                </dl>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct TimelineProps {
    events: Vec<RmaEvent>,
}

/// `ol#return-timeline`: oldest first; what happened, the stage change, who, when, the note.
#[component]
fn Timeline(props: &TimelineProps) -> Html {
    if props.events.is_empty() {
        return html! { <p class="muted" id="return-timeline-empty">{ "Nothing has happened yet." }</p> };
    }
    html! {
        <ol id="return-timeline" class="rma-timeline">
            { for props.events.iter().map(|e| html! {
                <li key={e.id} class="rma-event" data-action={e.action.clone()} data-to={e.to.as_str()}
                    data-from={e.from.map(|f| f.as_str())} data-role={e.actor_role.clone()}>
                    <strong class="event-action">{ event_label(&e.action) }</strong>
                    <span class="event-stages">
                        { match e.from {
                            Some(f) if f != e.to => format!(" · {} → {}", stage_label(f), stage_label(e.to)),
                            _ => format!(" · {}", stage_label(e.to)),
                        } }
                    </span>
                    <div class="muted event-meta">
                        <span class="event-role">{ capitalised(&e.actor_role) }</span>
                        if let Some(email) = &e.actor_email {
                            <span class="event-email">{ format!(" ({email})") }</span>
                        }
                        <span class="event-time">{ format!(" · {}", format_when(&e.created_at)) }</span>
                    </div>
                    if let Some(n) = &e.note {
                        <p class="event-note">{ n }</p>
                    }
                </li>
            }) }
        </ol>
    }
}

#[derive(Properties, PartialEq)]
struct PhotoGalleryProps {
    photos: Vec<RmaPhoto>,
}

/// `ul#return-photos-list`: thumbnails fetched with the bearer token.
#[component]
fn PhotoGallery(props: &PhotoGalleryProps) -> Html {
    if props.photos.is_empty() {
        return html! { <p class="muted" id="return-no-photos">{ "No photos." }</p> };
    }
    html! {
        <ul id="return-photos-list" class="row-buttons rma-photos">
            { for props.photos.iter().map(|p| html! {
                <li key={p.id} class="return-photo" data-id={p.id.to_string()} data-type={p.content_type.clone()}>
                    <PhotoThumb url={p.url.clone()} />
                </li>
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct PhotoThumbProps {
    url: String,
}

/// An object URL that compares by its text (the URL is revoked when dropped).
#[derive(Clone)]
struct Shown(gloo::file::ObjectUrl);

/// One photo: loading, then the image from a blob URL (revoked when the thumbnail goes), or
/// the error.
#[component]
fn PhotoThumb(props: &PhotoThumbProps) -> Html {
    let session = use_session();
    let state = use_state(|| None::<Result<Shown, ApiError>>);
    {
        let (state, api) = (state.clone(), session.api.clone());
        use_effect_with(props.url.clone(), move |url| {
            state.set(None);
            let url = url.clone();
            wasm_bindgen_futures::spawn_local(async move {
                state.set(Some(returns::photo(&api, &url).await.map(Shown)));
            });
        });
    }
    match &*state {
        None => html! { <span class="thumb thumb-empty photo-loading" aria-busy="true"></span> },
        Some(Ok(Shown(src))) => html! {
            <a href={src.to_string()} target="_blank" rel="noopener">
                <img class="thumb photo-thumb" src={src.to_string()} alt="Photo of the returned goods"
                    style="width: 96px; height: 96px; object-fit: cover;" />
            </a>
        },
        Some(Err(e)) => html! { <span class="photo-error field-error" role="alert">{ e.detail() }</span> },
    }
}

/// What the detail page hears from its forms: the return, what was done, the answer.
type Done = (RmaId, String, Result<Rma, ApiError>);

#[derive(Properties, PartialEq)]
struct AddPhotosProps {
    id: RmaId,
    existing: usize,
    on_done: Callback<Done>,
}

/// `#photo-add`: more photos (`#photo-add-input`, `#photo-add-submit`), by the owner before
/// the goods arrive.
#[component]
fn AddPhotos(props: &AddPhotosProps) -> Html {
    let session = use_session();
    let files = use_state(Vec::<web_sys::File>::new);
    let invalid = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let input = use_node_ref();
    let onchange = {
        let (files, invalid, existing) = (files.clone(), invalid.clone(), props.existing);
        Callback::from(move |e: Event| {
            let picked = files_of(&e.target_unchecked_into());
            invalid.set(check_photos(existing, &metas(&picked)).err());
            files.set(picked);
        })
    };
    let onsubmit = {
        let (api, files, invalid, busy, input) =
            (session.api.clone(), files.clone(), invalid.clone(), busy.clone(), input.clone());
        let (id, on_done) = (props.id, props.on_done.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy || files.is_empty() || invalid.is_some() {
                return;
            }
            busy.set(true);
            let (api, picked, busy, files, input, on_done) =
                (api.clone(), (*files).clone(), busy.clone(), files.clone(), input.clone(), on_done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = returns::upload_photos(&api, id, &picked).await;
                busy.set(false);
                if answer.is_ok() {
                    files.set(Vec::new());
                    if let Some(el) = input.cast::<web_sys::HtmlInputElement>() {
                        el.set_value("");
                    }
                }
                let n = picked.len();
                on_done.emit((id, format!("{n} photo{} added.", if n == 1 { "" } else { "s" }), answer));
            });
        })
    };
    html! {
        <form id="photo-add" class="form stock-form" {onsubmit}>
            <label for="photo-add-input">{ format!("Add photos (up to {} more)", MAX_PHOTOS - props.existing.min(MAX_PHOTOS)) }</label>
            <input ref={input} id="photo-add-input" type="file" multiple=true accept={PHOTO_TYPES.join(",")} {onchange} />
            if let Some(m) = &*invalid {
                <p id="photo-add-invalid" class="field-error" role="alert">{ m }</p>
            }
            <button id="photo-add-submit" type="submit" disabled={*busy || files.is_empty() || invalid.is_some()}>
                { if *busy { "Uploading…" } else { "Upload" } }
            </button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ActionPanelProps {
    rma: Rma,
    on_done: Callback<Done>,
}

/// `#return-actions`: one form per action the caller may take now.
#[component]
fn ActionPanel(props: &ActionPanelProps) -> Html {
    let actions: Vec<RmaAction> =
        props.rma.actions.iter().copied().filter(|a| *a != RmaAction::Validate).collect();
    if actions.is_empty() {
        return html! {
            <p id="return-no-actions" class="muted">
                { if props.rma.stage.is_terminal() { "This return is closed." } else { "Nothing for you to do now." } }
            </p>
        };
    }
    html! {
        <section id="return-actions" class="return-actions">
            <h2>{ "What you can do" }</h2>
            { for actions.into_iter().map(|a| html! {
                // keyed by version too: a new version starts the forms afresh
                <ActionForm key={format!("{}-{}", a.as_str(), props.rma.version)} action={a} rma={props.rma.clone()}
                    on_done={props.on_done.clone()} />
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ActionFormProps {
    action: RmaAction,
    rma: Rma,
    on_done: Callback<Done>,
}

/// `form#action-<action>` (`data-action`), its fields `#<action>-note`, `-carrier`,
/// `-tracking`, `-condition`, `-disposition`, `-amount`, `-outcome` as the action takes them,
/// and `#<action>-submit` (`<action>` with `-` for `_`).
#[component]
fn ActionForm(props: &ActionFormProps) -> Html {
    let session = use_session();
    let r = &props.rma;
    let action = props.action;
    let net = r.estimate.net.0;
    let note = use_state(String::new);
    let carrier = use_state(String::new);
    let tracking = use_state(String::new);
    let condition = use_state(String::new);
    let disposition = use_state(String::new);
    let amount = use_state(|| cents_to_decimal(net));
    let fitting: Vec<GoodsOutcome> =
        GoodsOutcome::ALL.into_iter().filter(|o| r.disposition.is_none_or(|d| o.fits(d))).collect();
    let outcome = {
        let first = fitting.first().map(|o| o.as_str().to_owned()).unwrap_or_default();
        use_state(move || first)
    };
    let invalid = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let p = action.as_str().replace('_', "-");
    let fields = ActionFields {
        note: (*note).clone(),
        carrier: (*carrier).clone(),
        tracking: (*tracking).clone(),
        condition: (*condition).clone(),
        disposition: (*disposition).clone(),
        amount: (*amount).clone(),
        outcome: (*outcome).clone(),
    };
    let onsubmit = {
        let (api, invalid, busy, on_done) =
            (session.api.clone(), invalid.clone(), busy.clone(), props.on_done.clone());
        let (id, version, attempts) = (r.id, r.version, r.attempts);
        let fields = fields.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let body = match action_request(action, version, &fields) {
                Ok(b) => b,
                Err(m) => return invalid.set(Some(m)),
            };
            invalid.set(None);
            busy.set(true);
            let (api, busy, on_done) = (api.clone(), busy.clone(), on_done.clone());
            let what = format!("{}: done.", action_label(action, attempts));
            wasm_bindgen_futures::spawn_local(async move {
                let answer = returns::act(&api, id, &body).await;
                busy.set(false);
                on_done.emit((id, what, answer));
            });
        })
    };
    let select = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let choose = |label: &str| vec![(String::new(), label.to_owned())];
    let mut condition_options = choose("Choose the condition…");
    condition_options
        .extend(Condition::ALL.iter().map(|c| (c.as_str().to_owned(), condition_label(*c).to_owned())));
    let mut disposition_options = choose("Choose a disposition…");
    disposition_options
        .extend(Disposition::ALL.iter().map(|d| (d.as_str().to_owned(), disposition_label(*d).to_owned())));
    let outcome_options: Vec<(String, String)> =
        fitting.iter().map(|o| (o.as_str().to_owned(), outcome_label(*o).to_owned())).collect();
    let chosen_disposition = Disposition::parse(&disposition);
    let chosen_outcome = GoodsOutcome::parse(&outcome);

    let (title, hint): (&str, &str) = match action {
        RmaAction::Approve => ("Approve the return", "The customer may then send the goods."),
        RmaAction::Reject => ("Reject the return", "The customer sees your note."),
        RmaAction::Ship => ("Send the goods back", "Tell us the carrier and tracking number of your parcel."),
        RmaAction::Receive => ("The parcel arrived", ""),
        RmaAction::StartInspection => ("Start inspecting", ""),
        RmaAction::Inspect => ("Record the inspection", "The condition sets the refund estimate."),
        RmaAction::Decide => ("Decide", "The amount defaults to the estimate's refund."),
        RmaAction::Process if r.attempts > 0 => ("Retry processing", "The last attempt failed; try again."),
        RmaAction::Process => ("Process", "Carries out the decision (refund, credit, replacement)."),
        RmaAction::Complete => ("Complete", "How the goods left the warehouse."),
        RmaAction::Cancel => ("Cancel the return", ""),
        RmaAction::Validate => ("Validate", ""),
    };
    let note_label = match action {
        RmaAction::Reject => "Why (required)",
        RmaAction::Decide if chosen_disposition == Some(Disposition::Reject) => "Why (required)",
        _ => "Note (optional)",
    };
    let takes_note = !matches!(action, RmaAction::Ship | RmaAction::Process);
    let danger = matches!(action, RmaAction::Reject | RmaAction::Cancel);
    html! {
        <form id={format!("action-{p}")} class="card form rma-action-form" data-action={action.as_str()}
            novalidate=true {onsubmit} aria-busy={(*busy).then_some("true")}>
            <h3>{ title }</h3>
            if !hint.is_empty() {
                <p class="hint muted">{ hint }</p>
            }
            if action == RmaAction::Process {
                if let Some(e) = &r.last_error {
                    <p class="alert alert-warning process-last-error">{ format!("Last error: {e}") }</p>
                }
            }
            <div class="form-grid">
                if matches!(action, RmaAction::Ship) || (action == RmaAction::Complete && chosen_outcome.is_some_and(|o| o.ships())) {
                    <div class="field">
                        <label for={format!("{p}-carrier")}>{ "Carrier" }</label>
                        <input id={format!("{p}-carrier")} type="text" maxlength="40" value={(*carrier).clone()}
                            oninput={bind_input(&carrier)} />
                    </div>
                    <div class="field">
                        <label for={format!("{p}-tracking")}>{ "Tracking number" }</label>
                        <input id={format!("{p}-tracking")} type="text" maxlength="64" value={(*tracking).clone()}
                            oninput={bind_input(&tracking)} />
                    </div>
                }
                if action == RmaAction::Inspect {
                    <div class="field">
                        <label for={format!("{p}-condition")}>{ "Condition" }</label>
                        <Select id={format!("{p}-condition")} options={condition_options} value={(*condition).clone()}
                            onchange={select(&condition)} />
                    </div>
                }
                if action == RmaAction::Decide {
                    <div class="field">
                        <label for={format!("{p}-disposition")}>{ "Disposition" }</label>
                        <Select id={format!("{p}-disposition")} options={disposition_options} value={(*disposition).clone()}
                            onchange={select(&disposition)} />
                    </div>
                    if chosen_disposition.is_some_and(takes_amount) {
                        <div class="field">
                            <label for={format!("{p}-amount")}>{ format!("Amount (at most {})", format_money(net, r.currency)) }</label>
                            <input id={format!("{p}-amount")} type="text" inputmode="decimal" value={(*amount).clone()}
                                oninput={bind_input(&amount)} />
                        </div>
                    }
                }
                if action == RmaAction::Complete {
                    <div class="field">
                        <label for={format!("{p}-outcome")}>{ "Outcome" }</label>
                        <Select id={format!("{p}-outcome")} options={outcome_options} value={(*outcome).clone()}
                            onchange={select(&outcome)} />
                    </div>
                }
                if takes_note {
                    <div class="field field-wide">
                        <label for={format!("{p}-note")}>{ note_label }</label>
                        <textarea id={format!("{p}-note")} rows="2" maxlength="2000" value={(*note).clone()}
                            oninput={Callback::from({
                                let note = note.clone();
                                move |e: InputEvent| note.set(e.target_unchecked_into::<web_sys::HtmlTextAreaElement>().value())
                            })} />
                    </div>
                }
            </div>
            if let Some(m) = &*invalid {
                <p id={format!("{p}-invalid")} class="field-error" role="alert">{ m }</p>
            }
            <button id={format!("{p}-submit")} type="submit" class={classes!(danger.then_some("button-secondary"))}
                data-action={action.as_str()} disabled={*busy}>
                { if *busy { "Saving…" } else { action_label(action, r.attempts) } }
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_words() {
        for r in ReturnReason::ALL {
            assert!(!reason_label(r).is_empty());
        }
        for s in RmaStage::ALL {
            assert!(!stage_label(s).is_empty());
            assert!(stage_class(s).starts_with("tag "));
        }
        for a in RmaAction::ALL {
            assert!(!action_label(a, 0).is_empty());
            assert_ne!(event_label(a.as_str()), capitalised(a.as_str()), "{a} has its own words");
        }
        for c in Condition::ALL {
            assert!(!condition_label(c).is_empty());
        }
        for d in Disposition::ALL {
            assert!(!disposition_label(d).is_empty());
        }
        for o in GoodsOutcome::ALL {
            assert!(!outcome_label(o).is_empty());
        }
        assert_eq!(action_label(RmaAction::Process, 0), "Process");
        assert_eq!(action_label(RmaAction::Process, 2), "Retry");
        assert_eq!(event_label("submit"), "Requested");
        assert_eq!(event_label("process_failed"), "Processing failed");
        assert_eq!(event_label("something_new"), "Something new");
        assert_eq!(capitalised("warehouse"), "Warehouse");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn only_delivered_or_partly_refunded_orders_take_returns() {
        assert!(may_return(OrderState::Delivered) && may_return(OrderState::PartiallyRefunded));
        for s in [OrderState::PendingPayment, OrderState::Paid, OrderState::Shipped, OrderState::Cancelled] {
            assert!(!may_return(s), "{s:?}");
        }
        assert!(!may_return(OrderState::Refunded));
    }

    #[test]
    fn ages_read_like_people_say_them() {
        assert_eq!(format_age(-5), "0 s");
        assert_eq!(format_age(0), "0 s");
        assert_eq!(format_age(42), "42 s");
        assert_eq!(format_age(60), "1 min");
        assert_eq!(format_age(17 * 60 + 59), "17 min");
        assert_eq!(format_age(3_600), "1 h");
        assert_eq!(format_age(3 * 3_600 + 5 * 60 + 9), "3 h 5 min");
        assert_eq!(format_age(86_400), "1 d");
        assert_eq!(format_age(2 * 86_400 + 4 * 3_600 + 59 * 60), "2 d 4 h");
        assert_eq!(format_age(40 * 86_400 + 30), "40 d");
    }

    #[test]
    fn fee_rates_read_as_percentages() {
        assert_eq!(bps_percent(0), "0 %");
        assert_eq!(bps_percent(1_500), "15 %");
        assert_eq!(bps_percent(1_250), "12.5 %");
        assert_eq!(bps_percent(1_234), "12.34 %");
        assert_eq!(bps_percent(5), "0.05 %");
        assert_eq!(bps_percent(10_000), "100 %");
    }

    fn fields(f: impl FnOnce(&mut ActionFields)) -> ActionFields {
        let mut out = ActionFields::default();
        f(&mut out);
        out
    }

    #[test]
    fn simple_actions_send_only_an_optional_note() {
        for a in [RmaAction::Approve, RmaAction::Receive, RmaAction::StartInspection, RmaAction::Cancel] {
            let r = action_request(a, 7, &fields(|f| f.carrier = "ignored".into())).unwrap();
            assert_eq!((r.action, r.version, r.note, r.carrier), (a, 7, None, None));
            let r = action_request(a, 7, &fields(|f| f.note = "  ok  ".into())).unwrap();
            assert_eq!(r.note.as_deref(), Some("ok"));
        }
        let r = action_request(RmaAction::Process, 3, &fields(|f| f.note = "x".into())).unwrap();
        assert_eq!((r.note, r.amount_cents), (None, None));
        assert!(action_request(RmaAction::Validate, 1, &ActionFields::default()).is_err());
    }

    #[test]
    fn a_rejection_needs_a_note() {
        assert!(action_request(RmaAction::Reject, 1, &fields(|f| f.note = "  ".into())).is_err());
        let r = action_request(RmaAction::Reject, 1, &fields(|f| f.note = "worn".into())).unwrap();
        assert_eq!(r.note.as_deref(), Some("worn"));
    }

    #[test]
    fn shipping_needs_carrier_and_tracking() {
        assert!(action_request(RmaAction::Ship, 1, &fields(|f| f.carrier = "DHL".into())).is_err());
        assert!(action_request(RmaAction::Ship, 1, &fields(|f| f.tracking = "T1".into())).is_err());
        let r = action_request(
            RmaAction::Ship,
            4,
            &fields(|f| {
                f.carrier = " DHL ".into();
                f.tracking = "JD01".into();
                f.note = "dropped".into();
            }),
        )
        .unwrap();
        assert_eq!((r.carrier.as_deref(), r.tracking.as_deref(), r.note), (Some("DHL"), Some("JD01"), None));
    }

    #[test]
    fn an_inspection_needs_a_condition() {
        assert!(action_request(RmaAction::Inspect, 1, &fields(|f| f.condition = "shiny".into())).is_err());
        let r =
            action_request(RmaAction::Inspect, 1, &fields(|f| f.condition = "resellable".into())).unwrap();
        assert_eq!(r.condition, Some(Condition::Resellable));
    }

    #[test]
    fn a_decision_takes_an_amount_only_for_money() {
        assert!(action_request(RmaAction::Decide, 1, &ActionFields::default()).is_err());
        let refund = |amount: &str| {
            action_request(
                RmaAction::Decide,
                1,
                &fields(|f| {
                    f.disposition = "refund".into();
                    f.amount = amount.into();
                }),
            )
        };
        assert_eq!(refund("12.50").unwrap().amount_cents, Some(1250));
        assert_eq!(refund("").unwrap().amount_cents, None, "empty: the server's default");
        assert!(refund("0").is_err());
        assert!(refund("-1").is_err());
        assert!(refund("1.234").is_err());
        let credit = action_request(
            RmaAction::Decide,
            1,
            &fields(|f| {
                f.disposition = "store_credit".into();
                f.amount = "5".into();
            }),
        )
        .unwrap();
        assert_eq!((credit.disposition, credit.amount_cents), (Some(Disposition::StoreCredit), Some(500)));
        let repair = action_request(
            RmaAction::Decide,
            1,
            &fields(|f| {
                f.disposition = "repair".into();
                f.amount = "5".into();
            }),
        )
        .unwrap();
        assert_eq!(repair.amount_cents, None);
        let reject = |note: &str| {
            action_request(
                RmaAction::Decide,
                1,
                &fields(|f| {
                    f.disposition = "reject".into();
                    f.note = note.into();
                }),
            )
        };
        assert!(reject("").is_err());
        assert_eq!(reject("used").unwrap().note.as_deref(), Some("used"));
    }

    #[test]
    fn completing_needs_an_outcome_and_a_shipment_unless_disposed() {
        assert!(action_request(RmaAction::Complete, 1, &ActionFields::default()).is_err());
        assert!(
            action_request(RmaAction::Complete, 1, &fields(|f| f.outcome = "shipped_back".into())).is_err()
        );
        let r = action_request(
            RmaAction::Complete,
            1,
            &fields(|f| {
                f.outcome = "returned_to_customer".into();
                f.carrier = "UPS".into();
                f.tracking = "1Z".into();
            }),
        )
        .unwrap();
        assert_eq!(r.outcome, Some(GoodsOutcome::ReturnedToCustomer));
        assert_eq!(r.carrier.as_deref(), Some("UPS"));
        let d = action_request(RmaAction::Complete, 1, &fields(|f| f.outcome = "disposed".into())).unwrap();
        assert_eq!((d.outcome, d.carrier), (Some(GoodsOutcome::Disposed), None));
    }

    #[test]
    fn photos_are_checked_before_uploading() {
        let p = |name: &str, mime: &str, size: f64| PhotoMeta { name: name.into(), mime: mime.into(), size };
        assert_eq!(check_photos(0, &[]), Ok(()));
        assert_eq!(check_photos(0, &[p("a.png", "image/png", 10.0), p("b.jpg", "image/jpeg", 10.0)]), Ok(()));
        assert_eq!(check_photos(4, &[p("a.webp", "image/webp", MAX_PHOTO_BYTES)]), Ok(()));
        let six: Vec<PhotoMeta> = (0..6).map(|i| p(&format!("{i}.png"), "image/png", 1.0)).collect();
        assert!(check_photos(0, &six).unwrap_err().contains("At most 5"));
        assert!(check_photos(4, &six[..2]).unwrap_err().contains("1 or fewer"));
        assert!(check_photos(0, &[p("a.gif", "image/gif", 1.0)]).unwrap_err().starts_with("a.gif"));
        assert!(
            check_photos(0, &[p("big.png", "image/png", MAX_PHOTO_BYTES + 1.0)])
                .unwrap_err()
                .contains("5 MiB")
        );
    }
}
