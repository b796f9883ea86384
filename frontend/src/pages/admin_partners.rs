//! `/admin/partners`: the partners whose systems push product feeds, and onboarding one (its
//! first API key is shown once). `/admin/partners/{id}`: one partner's settings (suspend or
//! reactivate, mode, price column, limits), its API keys (rotate, revoke), uploading a feed
//! file by hand with the outcome and row errors, its recent jobs and its audit log.

use std::rc::Rc;

use retail_api_types::{
    FeedJob, FeedJobState, FeedMode, FeedResult, FieldProblem, NewPartner, Partner, PartnerList,
    PartnerPatch, PartnerQuery, PartnerStatus, PriceColumn,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::js_sys::{Function, Reflect};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::admin_feeds::{
    AuditTable, ErrorsCsvLink, JobsFilter, JobsTable, POLL_MS, counts_line, job_state_class, job_state_label,
    mode_label, pagination_of, unfinished,
};
use super::{AdminNav, Forbidden, bind_input, page_of};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, Pager, Select, past_end};
use crate::format::format_when;
use crate::hooks::{Edit, Load, use_load, use_polled, use_session, use_title};
use crate::routes::Route;
use crate::services::ApiError;
use crate::services::feeds::{self, UploadQuery};

const PER_PAGE: u32 = 20;
/// Jobs shown on a partner's page.
const RECENT_JOBS: u32 = 10;

/// A partner's status in plain words and its tag's classes.
pub(crate) fn status_tag(status: PartnerStatus) -> (&'static str, &'static str) {
    match status {
        PartnerStatus::Active => ("Active", "tag tag-ok"),
        PartnerStatus::Suspended => ("Suspended", "tag tag-danger"),
    }
}

/// The price column in plain words.
fn price_column_label(c: PriceColumn) -> &'static str {
    match c {
        PriceColumn::Price => "price (decimal, e.g. 12.50)",
        PriceColumn::PriceCents => "price_cents (whole cents, e.g. 1250)",
    }
}

fn parse_price_column(raw: &str) -> Option<PriceColumn> {
    [PriceColumn::Price, PriceColumn::PriceCents].into_iter().find(|c| c.as_str() == raw)
}

fn parse_status(raw: &str) -> Option<PartnerStatus> {
    [PartnerStatus::Active, PartnerStatus::Suspended].into_iter().find(|s| s.as_str() == raw)
}

/// The modes a partner may have by default (a dry run is chosen per upload).
const DEFAULT_MODES: [FeedMode; 2] = [FeedMode::Lenient, FeedMode::Strict];

fn mode_options(modes: &[FeedMode]) -> Vec<(String, String)> {
    modes.iter().map(|m| (m.as_str().to_owned(), mode_label(*m).to_owned())).collect()
}

fn price_column_options() -> Vec<(String, String)> {
    [PriceColumn::Price, PriceColumn::PriceCents]
        .iter()
        .map(|c| (c.as_str().to_owned(), price_column_label(*c).to_owned()))
        .collect()
}

/// Keys that are accepted now.
pub(crate) fn active_keys(p: &Partner) -> usize {
    p.keys.iter().filter(|k| k.active).count()
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem { field: field.to_owned(), message: message.to_owned() }
}

/// A partner's settings as the edit form holds them (text as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingsForm {
    pub status: String,
    pub mode: String,
    pub price_column: String,
    pub rate_per_minute: String,
    /// The body limit in KiB.
    pub max_body_kib: String,
}

impl SettingsForm {
    /// The form filled with the partner's settings.
    pub fn of(p: &Partner) -> SettingsForm {
        SettingsForm {
            status: p.status.as_str().to_owned(),
            mode: p.mode.as_str().to_owned(),
            price_column: p.price_column.as_str().to_owned(),
            rate_per_minute: p.rate_per_minute.to_string(),
            max_body_kib: (p.max_body_bytes / 1024).to_string(),
        }
    }

    /// The changes against `p` (only what differs), or what is wrong with the form (under the
    /// API's field names).
    pub fn patch(&self, p: &Partner) -> Result<PartnerPatch, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let status = parse_status(&self.status);
        if status.is_none() {
            problems.push(problem("status", "choose active or suspended"));
        }
        let mode = FeedMode::parse(&self.mode).filter(|m| DEFAULT_MODES.contains(m));
        if mode.is_none() {
            problems.push(problem("mode", "choose lenient or strict"));
        }
        let price_column = parse_price_column(&self.price_column);
        if price_column.is_none() {
            problems.push(problem("price_column", "choose price or price_cents"));
        }
        let rate = self.rate_per_minute.trim().parse::<i64>().ok().filter(|r| (1..=100_000).contains(r));
        if rate.is_none() {
            problems.push(problem("rate_per_minute", "enter a whole number from 1 to 100000"));
        }
        let kib = self.max_body_kib.trim().parse::<i64>().ok().filter(|k| (1..=1024 * 1024).contains(k));
        if kib.is_none() {
            problems.push(problem("max_body_bytes", "enter a whole number of KiB from 1 to 1048576 (1 GiB)"));
        }
        let (Some(status), Some(mode), Some(price_column), Some(rate), Some(kib)) =
            (status, mode, price_column, rate, kib)
        else {
            return Err(problems);
        };
        let changed = |same: bool| !same;
        Ok(PartnerPatch {
            status: changed(status == p.status).then_some(status),
            mode: changed(mode == p.mode).then_some(mode),
            price_column: changed(price_column == p.price_column).then_some(price_column),
            rate_per_minute: changed(rate == p.rate_per_minute).then_some(rate),
            max_body_bytes: changed(kib * 1024 == p.max_body_bytes).then_some(kib * 1024),
            ..PartnerPatch::default()
        })
    }
}

/// A change to the settings form: applied to the form as it is by then, so quick changes of
/// two fields do not undo each other.
pub(crate) enum FormAction {
    Set(fn(&mut SettingsForm, String), String),
    Reset(SettingsForm),
}

impl Reducible for SettingsForm {
    type Action = FormAction;

    fn reduce(self: Rc<Self>, action: FormAction) -> Rc<Self> {
        match action {
            FormAction::Set(set, value) => {
                let mut next = (*self).clone();
                set(&mut next, value);
                Rc::new(next)
            }
            FormAction::Reset(form) => Rc::new(form),
        }
    }
}

/// Whether a patch changes nothing.
pub(crate) fn is_empty_patch(p: &PartnerPatch) -> bool {
    p.name.is_none()
        && p.contact_email.is_none()
        && p.status.is_none()
        && p.mode.is_none()
        && p.price_column.is_none()
        && p.currency.is_none()
        && p.rate_per_minute.is_none()
        && p.max_body_bytes.is_none()
}

/// Hours typed for a key rotation's grace, as seconds (`None`: the server's default).
pub(crate) fn grace_secs(hours: &str) -> Result<Option<i64>, &'static str> {
    let h = hours.trim();
    if h.is_empty() {
        return Ok(None);
    }
    match h.parse::<i64>() {
        Ok(h) if (0..=720).contains(&h) => Ok(Some(h * 3600)),
        _ => Err("enter whole hours from 0 to 720 (30 days), or leave it empty for the default"),
    }
}

/// What an upload's outcome means for the catalog, in a sentence.
pub(crate) fn outcome_note(r: &FeedResult) -> String {
    let j = &r.job;
    if r.duplicate {
        return format!("This very file was applied before (job #{}): nothing was applied now.", j.id);
    }
    match j.state {
        FeedJobState::Queued | FeedJobState::Running => {
            format!(
                "Job #{} is {}; this view updates when it is done.",
                j.id,
                job_state_label(j.state).to_lowercase()
            )
        }
        FeedJobState::Failed => format!(
            "Job #{} failed: {}",
            j.id,
            j.last_error.clone().unwrap_or_else(|| "no reason given".to_owned())
        ),
        FeedJobState::Succeeded if j.mode == FeedMode::ValidateOnly => {
            "Dry run: the counts say what the file would do; nothing was written.".to_owned()
        }
        FeedJobState::Succeeded if !j.applied => {
            "Strict mode: the file has row errors, so nothing was applied.".to_owned()
        }
        FeedJobState::Succeeded if j.rows_rejected > 0 => {
            "Applied, except the rejected rows below.".to_owned()
        }
        FeedJobState::Succeeded => "Applied.".to_owned(),
    }
}

/// `Showing the first 100 of 250 row errors.` when the answer holds only some of them.
pub(crate) fn errors_shown_note(shown: usize, rejected: i64) -> Option<String> {
    let shown_i = i64::try_from(shown).unwrap_or(i64::MAX);
    (shown > 0 && rejected > shown_i).then(|| format!("Showing the first {shown} of {rejected} row errors."))
}

/// `/admin/partners`.
#[component]
pub fn AdminPartnersPage() -> Html {
    use_title("Partners · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminPartners /> }
}

/// A key just issued, shown this once.
#[derive(Debug, Clone, PartialEq)]
struct IssuedKey {
    key: String,
    /// e.g. "Acme's first key".
    what: String,
}

#[component]
fn AdminPartners() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let page = location.map(|l| page_of(l.query_str())).unwrap_or(1);
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            feeds::partners(&api, &PartnerQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let issued = use_state(|| None::<IssuedKey>);
    let go = {
        let navigator = navigator.clone();
        move |page: u32, replace: bool| {
            let Some(nav) = &navigator else { return };
            let q = [("page", page)];
            let done = if replace {
                nav.replace_with_query(&Route::AdminPartners, &q)
            } else {
                nav.push_with_query(&Route::AdminPartners, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        }
    };
    let on_page = {
        let go = go.clone();
        Callback::from(move |p| go(p, false))
    };
    let overflow = match list.get() {
        Load::Ready(l) => past_end(&pagination_of(l.page, l.per_page, l.total)),
        _ => None,
    };
    {
        let go = go.clone();
        use_effect_with(overflow, move |o| {
            if let Some(p) = *o {
                go(p, true);
            }
        });
    }
    let on_created = {
        let (issued, edit, reload) = (issued.clone(), list.editor(), list.reloader());
        Callback::from(move |(partner, key): (Partner, String)| {
            issued.set(Some(IssuedKey { key, what: format!("{}'s first API key", partner.name) }));
            // Shown at once where it belongs (by name), then read again for the counts.
            edit.emit(Box::new(move |l: &mut PartnerList| {
                if !l.items.iter().any(|p| p.id == partner.id) {
                    l.items.push(partner);
                    l.items.sort_by(|a, b| a.name.cmp(&b.name));
                    l.total += 1;
                }
            }) as Edit<PartnerList>);
            reload.emit(());
        })
    };
    let on_dismiss = {
        let issued = issued.clone();
        Callback::from(move |()| issued.set(None))
    };
    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state"><p>{ "No partners yet: onboard the first one below." }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="partners" class="data-table partners-table">
                        <thead>
                            <tr>
                                <th>{ "Name" }</th><th>{ "Status" }</th><th>{ "Mode" }</th>
                                <th>{ "Active keys" }</th><th>{ "Products" }</th><th>{ "Onboarded" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|p| {
                                let (label, class) = status_tag(p.status);
                                html! {
                                    <tr key={p.id} class="partner-row" data-id={p.id.to_string()} data-status={p.status.as_str()}>
                                        <td class="cell-name" data-label="Name">
                                            <AppLink classes="partner-link" to={Route::AdminPartner { id: p.id }}>{ &p.name }</AppLink>
                                            <div class="muted">{ &p.contact_email }</div>
                                        </td>
                                        <td data-label="Status"><span class={classes!("partner-status", class)}>{ label }</span></td>
                                        <td data-label="Mode">{ mode_label(p.mode) }</td>
                                        <td class="partner-keys" data-label="Active keys">{ active_keys(p) }</td>
                                        <td class="partner-products" data-label="Products">{ p.products }</td>
                                        <td data-label="Onboarded">{ format_when(&p.created_at) }</td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={pagination_of(l.page, l.per_page, l.total)} noun={("partner", "partners")} {on_page} />
            </>
        },
    };
    html! {
        <section class="admin-page partners-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <h2>{ "Partners" }</h2>
            if let Some(k) = &*issued {
                <NewKeyBox api_key={k.key.clone()} what={k.what.clone()} on_dismiss={on_dismiss} />
            }
            { table }
            <OnboardForm {on_created} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct NewKeyBoxProps {
    api_key: AttrValue,
    what: AttrValue,
    on_dismiss: Callback<()>,
}

/// Copies `text` to the clipboard; `Err` when the browser offers no clipboard here (an
/// insecure origin) or refuses.
async fn copy_text(text: &str) -> Result<(), ()> {
    let navigator = gloo::utils::window().navigator();
    let clipboard = Reflect::get(&navigator, &"clipboard".into()).map_err(|_| ())?;
    if clipboard.is_undefined() || clipboard.is_null() {
        return Err(());
    }
    let write: Function =
        Reflect::get(&clipboard, &"writeText".into()).map_err(|_| ())?.dyn_into().map_err(|_| ())?;
    let promise = write.call1(&clipboard, &text.into()).map_err(|_| ())?;
    let promise: wasm_bindgen_futures::js_sys::Promise = promise.dyn_into().map_err(|_| ())?;
    wasm_bindgen_futures::JsFuture::from(promise).await.map(|_| ()).map_err(|_| ())
}

/// `#new-api-key`: a key just issued, with a Copy button and the warning that it is not shown
/// again.
#[component]
fn NewKeyBox(props: &NewKeyBoxProps) -> Html {
    let copied = use_state(|| None::<bool>);
    let on_copy = {
        let (copied, key) = (copied.clone(), props.api_key.clone());
        Callback::from(move |_: MouseEvent| {
            let (copied, key) = (copied.clone(), key.clone());
            wasm_bindgen_futures::spawn_local(async move { copied.set(Some(copy_text(&key).await.is_ok())) });
        })
    };
    html! {
        <div id="new-api-key-box" class="api-key-box" role="status">
            <p class="api-key-warning">
                <strong>{ format!("{}: ", props.what) }</strong>
                { "copy it now and hand it to the partner. It is stored only hashed and will not be shown again." }
            </p>
            <div class="api-key-row">
                <code id="new-api-key" class="api-key">{ &props.api_key }</code>
                <button id="copy-api-key" type="button" onclick={on_copy}>{ "Copy" }</button>
            </div>
            { match *copied {
                Some(true) => html! { <p id="api-key-copied" class="hint">{ "Copied to the clipboard." }</p> },
                Some(false) => html! {
                    <p id="api-key-copy-failed" class="hint">{ "The browser would not copy it: select the key and copy it by hand." }</p>
                },
                None => html! {},
            } }
            <button id="dismiss-api-key" type="button" class="button-secondary" onclick={props.on_dismiss.reform(|_| ())}>
                { "I have stored it" }
            </button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct OnboardFormProps {
    /// The partner and its first key.
    on_created: Callback<(Partner, String)>,
}

/// `#onboard`: name, contact address, default mode and price column.
#[component]
fn OnboardForm(props: &OnboardFormProps) -> Html {
    let session = use_session();
    let name = use_state(String::new);
    let email = use_state(String::new);
    let mode = use_state(|| FeedMode::Lenient.as_str().to_owned());
    let price_column = use_state(|| PriceColumn::Price.as_str().to_owned());
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let onsubmit = {
        let (name, email, mode, price_column, busy, error) =
            (name.clone(), email.clone(), mode.clone(), price_column.clone(), busy.clone(), error.clone());
        let (api, on_created) = (session.api.clone(), props.on_created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            error.set(None);
            busy.set(true);
            let body = NewPartner {
                name: name.trim().to_owned(),
                contact_email: email.trim().to_owned(),
                mode: FeedMode::parse(&mode),
                price_column: parse_price_column(&price_column),
                currency: None,
                rate_per_minute: None,
                max_body_bytes: None,
            };
            let (name, email, busy, error, api, on_created) =
                (name.clone(), email.clone(), busy.clone(), error.clone(), api.clone(), on_created.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::create_partner(&api, &body).await {
                    Ok(c) => {
                        name.set(String::new());
                        email.set(String::new());
                        on_created.emit((c.partner, c.api_key));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_mode = {
        let mode = mode.clone();
        Callback::from(move |v| mode.set(v))
    };
    let on_price_column = {
        let price_column = price_column.clone();
        Callback::from(move |v| price_column.set(v))
    };
    let field_error = |field: &str, id: &str| -> Html {
        match error.as_ref().and_then(|e| e.field_error(field)) {
            Some(m) => html! { <p id={format!("{id}-error")} class="field-error">{ m }</p> },
            None => html! {},
        }
    };
    html! {
        <form id="onboard" class="card form onboard-form" novalidate=true {onsubmit}>
            <h2>{ "Onboard partner" }</h2>
            <div class="form-grid">
                <div class="field field-wide">
                    <label for="partner-name">{ "Name" }</label>
                    <input id="partner-name" type="text" autocomplete="off" value={(*name).clone()} oninput={bind_input(&name)} />
                    { field_error("name", "partner-name") }
                </div>
                <div class="field field-wide">
                    <label for="partner-email">{ "Contact email" }</label>
                    <input id="partner-email" type="email" autocomplete="off" value={(*email).clone()} oninput={bind_input(&email)} />
                    { field_error("contact_email", "partner-email") }
                </div>
                <div class="field">
                    <label for="partner-mode">{ "Default mode" }</label>
                    <Select id="partner-mode" options={mode_options(&DEFAULT_MODES)} value={(*mode).clone()} onchange={on_mode} />
                </div>
                <div class="field">
                    <label for="partner-price-column">{ "Price column" }</label>
                    <Select id="partner-price-column" options={price_column_options()} value={(*price_column).clone()}
                        onchange={on_price_column} />
                </div>
            </div>
            if let Some(e) = &*error {
                <div id="onboard-error" class="alert alert-error" role="alert">
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
            <button id="partner-create" type="submit" disabled={*busy}>
                { if *busy { "Onboarding…" } else { "Onboard partner" } }
            </button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct AdminPartnerPageProps {
    pub id: i64,
}

/// `/admin/partners/{id}`.
#[component]
pub fn AdminPartnerPage(props: &AdminPartnerPageProps) -> Html {
    use_title("Partner · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminPartner id={props.id} /> }
}

#[component]
fn AdminPartner(props: &AdminPartnerPageProps) -> Html {
    let session = use_session();
    let partner = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { feeds::partner(&api, id).await })
    };
    // Every change is recorded in the audit log: it is read again after each.
    let changes = use_state(|| 0_u32);
    let put = {
        let (edit, changes) = (partner.editor(), changes.clone());
        Callback::from(move |fresh: Partner| {
            changes.set(changes.wrapping_add(1));
            edit.emit(Box::new(move |p: &mut Partner| *p = fresh) as Edit<Partner>);
        })
    };
    let issued = use_state(|| None::<IssuedKey>);
    let jobs_page = use_state(|| 1_u32);
    let uploads = use_state(|| 0_u32);
    let on_rotated = {
        let (put, issued) = (put.clone(), issued.clone());
        Callback::from(move |(p, key): (Partner, String)| {
            issued.set(Some(IssuedKey { key, what: format!("{}'s new API key", p.name) }));
            put.emit(p);
        })
    };
    let on_dismiss = {
        let issued = issued.clone();
        Callback::from(move |()| issued.set(None))
    };
    let on_uploaded = {
        let uploads = uploads.clone();
        Callback::from(move |()| uploads.set(uploads.wrapping_add(1)))
    };
    let on_jobs_page = {
        let jobs_page = jobs_page.clone();
        Callback::from(move |p| jobs_page.set(p))
    };
    let body = match partner.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h2>{ "Partner not found" }</h2>
                <AppLink classes="button-link" to={Route::AdminPartners}>{ "All partners" }</AppLink>
            </div>
        },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={partner.reloader()} /> },
        Load::Ready(p) => {
            let (label, class) = status_tag(p.status);
            let filter =
                JobsFilter { partner_id: Some(p.id), state: None, page: *jobs_page, per_page: RECENT_JOBS };
            html! {
                <>
                    <article id="partner" class="card partner-detail" data-id={p.id.to_string()} data-status={p.status.as_str()}>
                        <header class="receipt-head">
                            <div>
                                <h2 id="partner-name-heading">{ &p.name }</h2>
                                <p class="muted">{ format!("{} · onboarded {}", p.contact_email, format_when(&p.created_at)) }</p>
                            </div>
                            <div class="receipt-meta">
                                <span id="partner-status" class={class} data-status={p.status.as_str()}>{ label }</span>
                            </div>
                        </header>
                        <dl class="facts partner-facts">
                            <dt>{ "Default mode" }</dt><dd id="partner-mode-shown">{ mode_label(p.mode) }</dd>
                            <dt>{ "Price column" }</dt><dd>{ price_column_label(p.price_column) }</dd>
                            <dt>{ "Currency" }</dt><dd>{ &p.currency }</dd>
                            <dt>{ "Rate limit" }</dt><dd>{ format!("{} feed calls a minute", p.rate_per_minute) }</dd>
                            <dt>{ "Largest feed" }</dt><dd>{ super::admin_feeds::bytes_label(p.max_body_bytes) }</dd>
                            <dt>{ "Products" }</dt><dd id="partner-products">{ p.products }</dd>
                        </dl>
                        <SettingsEditor partner={p.clone()} on_saved={put.clone()} />
                    </article>
                    if let Some(k) = &*issued {
                        <NewKeyBox api_key={k.key.clone()} what={k.what.clone()} on_dismiss={on_dismiss.clone()} />
                    }
                    <KeysCard partner={p.clone()} on_rotated={on_rotated.clone()} on_changed={put.clone()} />
                    <FeedUpload partner_id={p.id} default_mode={p.mode} on_uploaded={on_uploaded.clone()} />
                    <section class="card partner-jobs">
                        <h2>{ "Recent jobs" }</h2>
                        <p><AppLink id="all-partner-jobs" to={Route::AdminFeeds}>{ "All feed jobs" }</AppLink></p>
                        <JobsTable {filter} show_partner=false refresh={*uploads} on_page={on_jobs_page.clone()}
                            on_past_end={on_jobs_page.clone()} />
                    </section>
                    <section class="card partner-audit">
                        <h2>{ "Audit log" }</h2>
                        <AuditTable entity_type="partner" entity_id={AttrValue::from(p.id.to_string())} refresh={*changes} />
                    </section>
                </>
            }
        }
    };
    html! {
        <section class="admin-page partner-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <p class="breadcrumbs"><AppLink id="back-to-partners" to={Route::AdminPartners}>{ "← All partners" }</AppLink></p>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsEditorProps {
    partner: Partner,
    on_saved: Callback<Partner>,
}

/// `#partner-settings`: status, mode, price column, rate and body limit; saves only what
/// changed. Also `#toggle-status`, one click to suspend or reactivate.
#[component]
fn SettingsEditor(props: &SettingsEditorProps) -> Html {
    let session = use_session();
    let form = use_reducer(|| SettingsForm::of(&props.partner));
    {
        // The partner as saved (or rotated) is what the form shows next.
        let form = form.dispatcher();
        use_effect_with(props.partner.clone(), move |p| {
            form.dispatch(FormAction::Reset(SettingsForm::of(p)))
        });
    }
    let busy = use_state(|| false);
    let problems = use_state(Vec::<FieldProblem>::new);
    let note = use_state(|| None::<Result<String, ApiError>>);
    let save = {
        let (api, busy, problems, note, on_saved, id) = (
            session.api.clone(),
            busy.clone(),
            problems.clone(),
            note.clone(),
            props.on_saved.clone(),
            props.partner.id,
        );
        move |patch: PartnerPatch, done: String| {
            if *busy {
                return;
            }
            busy.set(true);
            note.set(None);
            let (api, busy, problems, note, on_saved) =
                (api.clone(), busy.clone(), problems.clone(), note.clone(), on_saved.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::update_partner(&api, id, &patch).await {
                    Ok(p) => {
                        problems.set(Vec::new());
                        note.set(Some(Ok(done)));
                        on_saved.emit(p);
                    }
                    Err(e) => {
                        problems.set(e.field_errors().to_vec());
                        note.set(Some(Err(e)));
                    }
                }
                busy.set(false);
            });
        }
    };
    let onsubmit = {
        let (form, problems, note, save, partner) =
            (form.clone(), problems.clone(), note.clone(), save.clone(), props.partner.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match form.patch(&partner) {
                Err(p) => {
                    note.set(None);
                    problems.set(p);
                }
                Ok(patch) if is_empty_patch(&patch) => {
                    problems.set(Vec::new());
                    note.set(Some(Ok("Nothing changed.".to_owned())));
                }
                Ok(patch) => save(patch, "Saved.".to_owned()),
            }
        })
    };
    let suspended = props.partner.status == PartnerStatus::Suspended;
    let on_toggle = {
        let save = save.clone();
        Callback::from(move |_: MouseEvent| {
            let (status, done) = if suspended {
                (PartnerStatus::Active, "Reactivated: its feeds are accepted again.")
            } else {
                (PartnerStatus::Suspended, "Suspended: its feed calls are refused until reactivated.")
            };
            save(PartnerPatch { status: Some(status), ..PartnerPatch::default() }, done.to_owned());
        })
    };
    let set = |f: fn(&mut SettingsForm, String)| {
        let form = form.dispatcher();
        Callback::from(move |v: String| form.dispatch(FormAction::Set(f, v)))
    };
    let typed = |f: fn(&mut SettingsForm, String)| {
        let set = set(f);
        Callback::from(move |e: InputEvent| set.emit(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let field_error = |field: &str| -> Html {
        let msgs: Vec<&str> =
            problems.iter().filter(|p| p.field == field).map(|p| p.message.as_str()).collect();
        if msgs.is_empty() {
            html! {}
        } else {
            html! { <p id={format!("edit-{}-error", field.replace('_', "-"))} class="field-error">{ msgs.join("; ") }</p> }
        }
    };
    let status_options =
        vec![("active".to_owned(), "Active".to_owned()), ("suspended".to_owned(), "Suspended".to_owned())];
    html! {
        <form id="partner-settings" class="form partner-settings" novalidate=true {onsubmit}>
            <h3>{ "Settings" }</h3>
            <div class="form-grid">
                <div class="field">
                    <label for="edit-status">{ "Status" }</label>
                    <Select id="edit-status" options={status_options} value={form.status.clone()}
                        onchange={set(|f, v| f.status = v)} />
                    { field_error("status") }
                </div>
                <div class="field">
                    <label for="edit-mode">{ "Default mode" }</label>
                    <Select id="edit-mode" options={mode_options(&DEFAULT_MODES)} value={form.mode.clone()}
                        onchange={set(|f, v| f.mode = v)} />
                    { field_error("mode") }
                </div>
                <div class="field">
                    <label for="edit-price-column">{ "Price column" }</label>
                    <Select id="edit-price-column" options={price_column_options()} value={form.price_column.clone()}
                        onchange={set(|f, v| f.price_column = v)} />
                    { field_error("price_column") }
                </div>
                <div class="field">
                    <label for="edit-rate">{ "Feed calls a minute" }</label>
                    <input id="edit-rate" type="number" min="1" max="100000" step="1" value={form.rate_per_minute.clone()}
                        oninput={typed(|f, v| f.rate_per_minute = v)} />
                    { field_error("rate_per_minute") }
                </div>
                <div class="field">
                    <label for="edit-max-body">{ "Largest feed (KiB)" }</label>
                    <input id="edit-max-body" type="number" min="1" max="1048576" step="1" value={form.max_body_kib.clone()}
                        oninput={typed(|f, v| f.max_body_kib = v)} />
                    { field_error("max_body_bytes") }
                </div>
            </div>
            { match &*note {
                Some(Ok(m)) => html! { <p id="settings-message" class="alert alert-success" role="status">{ m }</p> },
                Some(Err(e)) => html! {
                    <div id="settings-error" class="alert alert-error" role="alert"
                        data-status={e.status().map(|s| s.to_string())}>{ e.detail() }</div>
                },
                None => html! {},
            } }
            <div class="row-buttons">
                <button id="edit-save" type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save settings" } }</button>
                <button id="toggle-status" type="button" class="button-secondary" disabled={*busy} onclick={on_toggle}>
                    { if suspended { "Reactivate" } else { "Suspend" } }
                </button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct KeysCardProps {
    partner: Partner,
    /// The partner after a rotation, and the new key.
    on_rotated: Callback<(Partner, String)>,
    /// The partner after a revocation.
    on_changed: Callback<Partner>,
}

/// `#keys`: one `tr.key-row` per key (`data-id`, `data-active`), Revoke (asked first) on
/// each key not revoked, and `#rotate-key` with an optional grace in hours.
#[component]
fn KeysCard(props: &KeysCardProps) -> Html {
    let session = use_session();
    let grace = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let on_rotate = {
        let (api, grace, busy, error, on_rotated, id) = (
            session.api.clone(),
            grace.clone(),
            busy.clone(),
            error.clone(),
            props.on_rotated.clone(),
            props.partner.id,
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let secs = match grace_secs(&grace) {
                Ok(s) => s,
                Err(m) => return error.set(Some(format!("Grace: {m}."))),
            };
            error.set(None);
            busy.set(true);
            let (api, grace, busy, error, on_rotated) =
                (api.clone(), grace.clone(), busy.clone(), error.clone(), on_rotated.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::rotate_key(&api, id, secs).await {
                    Ok(r) => {
                        grace.set(String::new());
                        on_rotated.emit((r.partner, r.api_key));
                    }
                    Err(e) => error.set(Some(e.detail())),
                }
                busy.set(false);
            });
        })
    };
    let p = &props.partner;
    html! {
        <section class="card partner-keys-card">
            <h2>{ "API keys" }</h2>
            <p class="hint">{ "Partners send their key in the X-API-Key header. Only its start is kept readable." }</p>
            if p.keys.is_empty() {
                <p id="keys-empty" class="empty-state">{ "No keys: rotate to issue one." }</p>
            } else {
                <div class="table-wrap">
                    <table id="keys" class="data-table keys-table">
                        <thead>
                            <tr>
                                <th>{ "Key" }</th><th>{ "State" }</th><th>{ "Issued" }</th><th>{ "Retires" }</th>
                                <th><span class="visually-hidden">{ "Actions" }</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            { for p.keys.iter().map(|k| html! {
                                <KeyRow key={k.id} partner_id={p.id} entry={k.clone()} on_changed={props.on_changed.clone()} />
                            }) }
                        </tbody>
                    </table>
                </div>
            }
            <form id="rotate" class="rotate-form" onsubmit={on_rotate}>
                <label for="rotate-grace">{ "Old keys keep working for (hours) " }</label>
                <input id="rotate-grace" type="number" min="0" max="720" step="1" placeholder="default (24)"
                    value={(*grace).clone()} oninput={bind_input(&grace)} />
                <button id="rotate-key" type="submit" disabled={*busy}>{ if *busy { "Rotating…" } else { "Rotate key" } }</button>
            </form>
            if let Some(e) = &*error {
                <p id="keys-error" class="alert alert-error" role="alert">{ e }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct KeyRowProps {
    partner_id: i64,
    entry: retail_api_types::PartnerKey,
    on_changed: Callback<Partner>,
}

#[component]
fn KeyRow(props: &KeyRowProps) -> Html {
    let session = use_session();
    let confirming = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let k = &props.entry;
    let on_revoke = {
        let (api, busy, error, confirming, on_changed) =
            (session.api.clone(), busy.clone(), error.clone(), confirming.clone(), props.on_changed.clone());
        let (id, key_id) = (props.partner_id, k.id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (api, busy, error, confirming, on_changed) =
                (api.clone(), busy.clone(), error.clone(), confirming.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::revoke_key(&api, id, key_id).await {
                    Ok(p) => {
                        error.set(None);
                        on_changed.emit(p);
                    }
                    Err(e) => error.set(Some(e.detail())),
                }
                confirming.set(false);
                busy.set(false);
            });
        })
    };
    let toggle = |to: bool| {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(to))
    };
    let (state, class) = if k.revoked_at.is_some() {
        ("Revoked", "tag tag-danger")
    } else if k.active && k.retires_at.is_some() {
        ("Retiring", "tag tag-warning")
    } else if k.active {
        ("Active", "tag tag-ok")
    } else {
        ("Retired", "tag tag-muted")
    };
    html! {
        <tr class="key-row" data-id={k.id.to_string()} data-active={k.active.to_string()}>
            <td data-label="Key"><code class="key-prefix">{ format!("{}…", k.prefix) }</code></td>
            <td data-label="State"><span class={classes!("key-state", class)}>{ state }</span></td>
            <td data-label="Issued">{ format_when(&k.created_at) }</td>
            <td data-label="Retires">
                { match (&k.revoked_at, &k.retires_at) {
                    (Some(at), _) => format!("revoked {}", format_when(at)),
                    (None, Some(at)) => format_when(at),
                    (None, None) => "—".to_owned(),
                } }
            </td>
            <td class="cell-actions">
                if k.revoked_at.is_none() {
                    if *confirming {
                        <span class="role-confirm" role="group" aria-label="Confirm revoking the key">
                            { "Revoke now? Calls with it stop at once. " }
                            <button type="button" class="revoke-confirm" disabled={*busy} onclick={on_revoke}>
                                { if *busy { "Revoking…" } else { "Yes, revoke" } }
                            </button>
                            { " " }
                            <button type="button" class="revoke-cancel button-secondary" onclick={toggle(false)}>{ "Cancel" }</button>
                        </span>
                    } else {
                        <button type="button" class="revoke-key button-secondary" onclick={toggle(true)}>{ "Revoke" }</button>
                    }
                }
                if let Some(e) = &*error {
                    <p class="row-error" role="alert">{ e }</p>
                }
            </td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
struct FeedUploadProps {
    partner_id: i64,
    default_mode: FeedMode,
    /// A job was made (or found): the job list is worth reading again.
    on_uploaded: Callback<()>,
}

/// `#feed-upload-form`: a file (`#feed-file`), the mode (`#feed-mode`), whether to queue it
/// (`#feed-async`); the outcome below it (`#feed-result`).
#[component]
fn FeedUpload(props: &FeedUploadProps) -> Html {
    let session = use_session();
    let file_ref = use_node_ref();
    let mode = use_state(|| props.default_mode.as_str().to_owned());
    let run_async = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let result = use_state(|| None::<(u32, FeedResult)>);
    let onsubmit = {
        let (api, file_ref, mode, run_async, busy, error, result) = (
            session.api.clone(),
            file_ref.clone(),
            mode.clone(),
            run_async.clone(),
            busy.clone(),
            error.clone(),
            result.clone(),
        );
        let (id, on_uploaded) = (props.partner_id, props.on_uploaded.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let file = file_ref.cast::<HtmlInputElement>().and_then(|i| i.files()).and_then(|f| f.get(0));
            let Some(file) = file else {
                return error.set(Some(ApiError::Unexpected("choose a CSV or JSON file first".to_owned())));
            };
            let query = UploadQuery {
                mode: FeedMode::parse(&mode).unwrap_or(FeedMode::Lenient),
                run_async: *run_async,
            };
            error.set(None);
            busy.set(true);
            let (api, busy, error, result, on_uploaded) =
                (api.clone(), busy.clone(), error.clone(), result.clone(), on_uploaded.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::upload(&api, id, &file, &query).await {
                    Ok(r) => {
                        let n = result.as_ref().map_or(0, |(n, _)| n.wrapping_add(1));
                        result.set(Some((n, r)));
                        on_uploaded.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_mode = {
        let mode = mode.clone();
        Callback::from(move |v| mode.set(v))
    };
    let on_async = {
        let run_async = run_async.clone();
        Callback::from(move |e: Event| run_async.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let modes = [FeedMode::ValidateOnly, FeedMode::Lenient, FeedMode::Strict];
    html! {
        <section class="card feed-upload">
            <h2>{ "Upload feed" }</h2>
            <form id="feed-upload-form" class="form" novalidate=true {onsubmit}>
                <div class="form-grid">
                    <div class="field field-wide">
                        <label for="feed-file">{ "File (CSV or JSON)" }</label>
                        <input id="feed-file" ref={file_ref} type="file" accept=".csv,.json,text/csv,application/json" />
                    </div>
                    <div class="field">
                        <label for="feed-mode">{ "Mode" }</label>
                        <Select id="feed-mode" options={mode_options(&modes)} value={(*mode).clone()} onchange={on_mode} />
                    </div>
                    <div class="field">
                        <label class="check" for="feed-async">
                            <input id="feed-async" type="checkbox" checked={*run_async} onchange={on_async} />
                            <span>{ "Queue it (answer at once)" }</span>
                        </label>
                    </div>
                </div>
                <button id="feed-upload" type="submit" disabled={*busy}>{ if *busy { "Uploading…" } else { "Upload" } }</button>
            </form>
            if let Some(e) = &*error {
                <div id="feed-upload-error" class="alert alert-error" role="alert"
                    data-status={e.status().map(|s| s.to_string())} data-code={e.code().map(str::to_owned)}>
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
            if let Some((n, r)) = &*result {
                <FeedResultView key={format!("{n}-{}", r.job.id)} result={r.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct FeedResultViewProps {
    result: FeedResult,
}

/// `#feed-result`: the counts (`#feed-created`, `#feed-updated`, `#feed-unchanged`,
/// `#feed-rejected`), the duplicate notice (`#feed-duplicate`), the first row errors
/// (`#feed-errors`) and the link to all of them; a queued job is followed until it is done.
#[component]
fn FeedResultView(props: &FeedResultViewProps) -> Html {
    let job = use_state(|| props.result.job.clone());
    let on_update = {
        let job = job.clone();
        Callback::from(move |j: FeedJob| job.set(j))
    };
    let r = FeedResult { job: (*job).clone(), ..props.result.clone() };
    let j = &r.job;
    let note_class = match j.state {
        FeedJobState::Failed => "alert alert-error",
        _ if r.duplicate || !j.applied => "alert alert-warning",
        _ => "alert alert-info",
    };
    html! {
        <div id="feed-result" class="feed-result" data-state={j.state.as_str()} data-job-id={j.id.to_string()}
            data-duplicate={r.duplicate.to_string()}>
            if unfinished(j.state) {
                <JobWatcher id={j.id} {on_update} />
            }
            if r.duplicate {
                <p id="feed-duplicate" class="alert alert-warning" role="status">{ outcome_note(&r) }</p>
            } else {
                <p id="feed-outcome" class={note_class} role="status">{ outcome_note(&r) }</p>
            }
            <p>
                <span class={classes!("job-state", job_state_class(j.state))} data-state={j.state.as_str()}>{ job_state_label(j.state) }</span>
                { format!(" Job #{} · {} · {} rows read · {}", j.id, mode_label(j.mode), j.rows_total, counts_line(j)) }
            </p>
            <dl class="feed-counts">
                <div class="feed-count"><dt>{ "Created" }</dt><dd id="feed-created">{ j.rows_created }</dd></div>
                <div class="feed-count"><dt>{ "Updated" }</dt><dd id="feed-updated">{ j.rows_updated }</dd></div>
                <div class="feed-count"><dt>{ "Unchanged" }</dt><dd id="feed-unchanged">{ j.rows_unchanged }</dd></div>
                <div class="feed-count feed-count-rejected"><dt>{ "Rejected" }</dt><dd id="feed-rejected">{ j.rows_rejected }</dd></div>
            </dl>
            if !r.errors.is_empty() {
                <div class="table-wrap">
                    <table id="feed-errors" class="data-table feed-errors">
                        <thead><tr><th>{ "Row" }</th><th>{ "Field" }</th><th>{ "Reason" }</th></tr></thead>
                        <tbody>
                            { for r.errors.iter().map(|e| html! {
                                <tr class="feed-error-row" data-row={e.row.to_string()} data-field={e.field.clone()}>
                                    <td class="error-row" data-label="Row">{ if e.row == 0 { "file".to_owned() } else { e.row.to_string() } }</td>
                                    <td class="error-field" data-label="Field">{ &e.field }</td>
                                    <td class="error-reason" data-label="Reason">{ &e.reason }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            }
            if let Some(n) = errors_shown_note(r.errors.len(), j.rows_rejected) {
                <p class="hint">{ n }</p>
            }
            if j.rows_rejected > 0 || !r.errors.is_empty() {
                <ErrorsCsvLink id="feed-errors-csv" job_id={j.id} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct JobWatcherProps {
    id: i64,
    on_update: Callback<FeedJob>,
}

/// Reads a queued job every few seconds and reports each answer (mounted only while it is
/// queued or running).
#[component]
fn JobWatcher(props: &JobWatcherProps) -> Html {
    let session = use_session();
    let live = {
        let api = session.api.clone();
        use_polled(props.id, POLL_MS, move |id| {
            let api = api.clone();
            async move { feeds::job(&api, id).await }
        })
    };
    let latest = match live.get() {
        Load::Ready(j) => Some(j.clone()),
        _ => None,
    };
    {
        let on_update = props.on_update.clone();
        use_effect_with(latest, move |j| {
            if let Some(j) = j {
                on_update.emit(j.clone());
            }
        });
    }
    match live.stale() {
        Some(e) => {
            html! { <p class="hint" role="status">{ format!("Could not refresh the job: {}", e.detail()) }</p> }
        }
        None => {
            html! { <p id="feed-watching" class="hint">{ format!("Checking again every {} seconds…", POLL_MS / 1000) }</p> }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use retail_api_types::{FeedRowError, PartnerKey};

    use super::*;

    fn partner() -> Partner {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        let key = |id, active| PartnerKey {
            id,
            prefix: format!("rk_abcdefghij{id}"),
            created_at: at,
            retires_at: None,
            revoked_at: None,
            active,
        };
        Partner {
            id: 4,
            name: "Acme".into(),
            contact_email: "feeds@acme.test".into(),
            status: PartnerStatus::Active,
            mode: FeedMode::Lenient,
            price_column: PriceColumn::Price,
            currency: "EUR".into(),
            rate_per_minute: 60,
            max_body_bytes: 50 * 1024 * 1024,
            keys: vec![key(2, true), key(1, false)],
            products: 3,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_settings_form_sends_only_what_changed() {
        let p = partner();
        let form = SettingsForm::of(&p);
        assert_eq!(form.max_body_kib, "51200");
        let same = form.patch(&p).unwrap();
        assert!(is_empty_patch(&same), "{same:?}");
        let changed = SettingsForm {
            status: "suspended".into(),
            rate_per_minute: " 5 ".into(),
            max_body_kib: "1".into(),
            ..form.clone()
        }
        .patch(&p)
        .unwrap();
        assert_eq!(changed.status, Some(PartnerStatus::Suspended));
        assert_eq!((changed.rate_per_minute, changed.max_body_bytes), (Some(5), Some(1024)));
        assert_eq!((changed.mode, changed.price_column), (None, None));
        assert!(!is_empty_patch(&changed));
    }

    #[test]
    fn the_settings_form_names_every_bad_field() {
        let p = partner();
        let bad = SettingsForm {
            status: "gone".into(),
            mode: "validate_only".into(),
            price_column: "cost".into(),
            rate_per_minute: "0".into(),
            max_body_kib: "2000000".into(),
        };
        let fields: Vec<String> = bad.patch(&p).unwrap_err().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["status", "mode", "price_column", "rate_per_minute", "max_body_bytes"]);
    }

    #[test]
    fn form_changes_apply_to_the_latest_form() {
        let p = partner();
        let form = Rc::new(SettingsForm::of(&p));
        let form = form.reduce(FormAction::Set(|f, v| f.status = v, "suspended".into()));
        let form = form.reduce(FormAction::Set(|f, v| f.rate_per_minute = v, "5".into()));
        assert_eq!((form.status.as_str(), form.rate_per_minute.as_str()), ("suspended", "5"));
        let reset = form.reduce(FormAction::Reset(SettingsForm::of(&p)));
        assert_eq!(*reset, SettingsForm::of(&p));
    }

    #[test]
    fn grace_is_typed_in_hours() {
        assert_eq!(grace_secs(""), Ok(None));
        assert_eq!(grace_secs(" 0 "), Ok(Some(0)));
        assert_eq!(grace_secs("24"), Ok(Some(86_400)));
        assert!(grace_secs("721").is_err());
        assert!(grace_secs("-1").is_err());
        assert!(grace_secs("1.5").is_err());
    }

    #[test]
    fn keys_count_only_when_accepted() {
        let mut p = partner();
        assert_eq!(active_keys(&p), 1);
        p.keys.clear();
        assert_eq!(active_keys(&p), 0);
        assert_eq!(status_tag(PartnerStatus::Suspended).0, "Suspended");
    }

    fn result(
        state: FeedJobState,
        mode: FeedMode,
        applied: bool,
        rejected: i64,
        duplicate: bool,
    ) -> FeedResult {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        FeedResult {
            job: FeedJob {
                id: 9,
                partner_id: 4,
                source: "admin".into(),
                format: "csv".into(),
                mode,
                state,
                content_hash: "0".repeat(64),
                bytes: 90,
                rows_total: 2 + rejected,
                rows_created: 2,
                rows_updated: 0,
                rows_unchanged: 0,
                rows_rejected: rejected,
                applied,
                attempts: 1,
                last_error: (state == FeedJobState::Failed).then(|| "not a CSV file".to_owned()),
                created_at: at,
                started_at: None,
                finished_at: None,
                status_url: String::new(),
                errors_url: String::new(),
            },
            duplicate,
            errors: (0..rejected)
                .map(|i| FeedRowError {
                    row: 3 + i,
                    field: "price".into(),
                    reason: "must not be negative".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_outcome_says_what_reached_the_catalog() {
        let note = |r: FeedResult| outcome_note(&r);
        assert_eq!(note(result(FeedJobState::Succeeded, FeedMode::Lenient, true, 0, false)), "Applied.");
        assert!(
            note(result(FeedJobState::Succeeded, FeedMode::Lenient, true, 1, false))
                .contains("rejected rows")
        );
        assert!(
            note(result(FeedJobState::Succeeded, FeedMode::Strict, false, 1, false))
                .starts_with("Strict mode")
        );
        assert!(
            note(result(FeedJobState::Succeeded, FeedMode::ValidateOnly, false, 0, false))
                .starts_with("Dry run")
        );
        assert!(note(result(FeedJobState::Succeeded, FeedMode::Lenient, true, 0, true)).contains("job #9"));
        assert!(note(result(FeedJobState::Queued, FeedMode::Lenient, false, 0, false)).contains("is queued"));
        assert!(
            note(result(FeedJobState::Failed, FeedMode::Lenient, false, 0, false))
                .ends_with("not a CSV file")
        );
    }

    #[test]
    fn a_partial_error_list_says_so() {
        assert_eq!(errors_shown_note(0, 0), None);
        assert_eq!(errors_shown_note(1, 1), None);
        assert_eq!(errors_shown_note(100, 250).as_deref(), Some("Showing the first 100 of 250 row errors."));
    }
}
