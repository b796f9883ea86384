//! `/admin/feeds`: every partner's feed jobs, newest first, filtered by partner and state,
//! read again every few seconds while one is queued or running, with Requeue on failed jobs
//! and each job's row errors as CSV; below, the audit log of partners, jobs and schedules.
//! The pieces the partner page shares (job table, result counts, errors link, audit table)
//! live here too.

use gloo::timers::callback::Timeout;
use retail_api_types::{
    AuditQuery, FeedJob, FeedJobList, FeedJobQuery, FeedJobState, FeedMode, Pagination, PartnerQuery,
};
use serde::Serialize;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{AdminNav, Forbidden};
use crate::components::{AppLink, ErrorBox, Loading, Pager, Select, past_end};
use crate::format::{count_noun, format_when};
use crate::hooks::{Edit, Load, use_load, use_polled_while, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, feeds};

const PER_PAGE: u32 = 20;

/// How often job lists are read again while a job is queued or running.
pub(crate) const POLL_MS: u32 = 3_000;

/// Every job state, in the order of a job's life.
pub(crate) const JOB_STATES: [FeedJobState; 4] =
    [FeedJobState::Queued, FeedJobState::Running, FeedJobState::Succeeded, FeedJobState::Failed];

/// A job state in plain words.
pub(crate) fn job_state_label(state: FeedJobState) -> &'static str {
    match state {
        FeedJobState::Queued => "Queued",
        FeedJobState::Running => "Running",
        FeedJobState::Succeeded => "Succeeded",
        FeedJobState::Failed => "Failed",
    }
}

/// CSS classes of a job state's tag.
pub(crate) fn job_state_class(state: FeedJobState) -> &'static str {
    match state {
        FeedJobState::Queued => "tag tag-info",
        FeedJobState::Running => "tag tag-warning",
        FeedJobState::Succeeded => "tag tag-ok",
        FeedJobState::Failed => "tag tag-danger",
    }
}

/// A feed mode in plain words.
pub(crate) fn mode_label(mode: FeedMode) -> &'static str {
    match mode {
        FeedMode::ValidateOnly => "Validate only (dry run)",
        FeedMode::Lenient => "Lenient",
        FeedMode::Strict => "Strict",
    }
}

/// Whether a job is still to finish (its list is worth reading again).
pub(crate) fn unfinished(state: FeedJobState) -> bool {
    matches!(state, FeedJobState::Queued | FeedJobState::Running)
}

/// Whether any of `jobs` is still to finish.
pub(crate) fn any_unfinished(jobs: &[FeedJob]) -> bool {
    jobs.iter().any(|j| unfinished(j.state))
}

/// `2 created · 0 updated · 1 unchanged · 1 rejected`, or `not read yet` before a worker
/// read the file.
pub(crate) fn counts_line(job: &FeedJob) -> String {
    if unfinished(job.state) && job.rows_total == 0 {
        return "not read yet".to_owned();
    }
    format!(
        "{} created · {} updated · {} unchanged · {} rejected",
        job.rows_created, job.rows_updated, job.rows_unchanged, job.rows_rejected
    )
}

/// `512 B`, `1.5 KiB`, `2.0 MiB`.
pub(crate) fn bytes_label(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KIB {
        format!("{} B", bytes.max(0))
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    }
}

/// The pager's view of a list that reports only its page, size and total.
pub(crate) fn pagination_of(page: u32, per_page: u32, total: i64) -> Pagination {
    let per = i64::from(per_page.max(1));
    let total = total.max(0);
    Pagination { page, per_page, total, total_pages: ((total + per - 1) / per).max(1) }
}

/// The page's state as kept in the URL (`?partner=&state=&page=`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct JobsUrl {
    #[serde(skip_serializing_if = "is_first_page")]
    pub page: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<i64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

impl JobsUrl {
    /// Reads the query string; junk falls back to defaults.
    pub fn parse(query_str: &str) -> JobsUrl {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = JobsUrl { page: 1, ..JobsUrl::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "partner" => out.partner = v.parse().ok().filter(|p| *p >= 1),
                "state" if FeedJobState::parse(&v).is_some() => out.state = v,
                _ => {}
            }
        }
        out
    }

    /// The state filter (`None`: every job).
    pub fn state(&self) -> Option<FeedJobState> {
        FeedJobState::parse(&self.state)
    }

    /// What the job table reads.
    pub fn filter(&self) -> JobsFilter {
        JobsFilter {
            partner_id: self.partner,
            state: self.state(),
            page: self.page.max(1),
            per_page: PER_PAGE,
        }
    }
}

/// Which jobs a [`JobsTable`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobsFilter {
    pub partner_id: Option<i64>,
    pub state: Option<FeedJobState>,
    pub page: u32,
    pub per_page: u32,
}

impl JobsFilter {
    /// The API query.
    pub fn to_api(self) -> FeedJobQuery {
        FeedJobQuery {
            partner_id: self.partner_id,
            state: self.state,
            page: Some(self.page.max(1)),
            per_page: Some(self.per_page),
        }
    }
}

/// `/admin/feeds`.
#[component]
pub fn AdminFeedsPage() -> Html {
    use_title("Feed jobs · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminFeeds /> }
}

/// Links between the two feed pages.
#[component]
pub(crate) fn FeedsNav() -> Html {
    let route = use_route::<Route>();
    let class = |r: Route| {
        if route.as_ref() == Some(&r) { classes!("tab", "active") } else { classes!("tab") }
    };
    html! {
        <nav class="admin-nav feeds-nav" aria-label="Feeds">
            <AppLink id="feeds-nav-jobs" classes={class(Route::AdminFeeds)} to={Route::AdminFeeds}>{ "Jobs" }</AppLink>
            <AppLink id="feeds-nav-schedules" classes={class(Route::AdminFeedSchedules)} to={Route::AdminFeedSchedules}>
                { "Schedules" }
            </AppLink>
        </nav>
    }
}

/// Options of a partner `<select>`: "All partners" (or a prompt) and then every partner.
pub(crate) fn partner_options(first: &str, partners: &[(i64, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), first.to_owned()))
        .chain(partners.iter().map(|(id, name)| (id.to_string(), name.clone())))
        .collect()
}

/// The first 100 partners as `(id, name)`, for selects and names in tables.
#[hook]
pub(crate) fn use_partner_names() -> Load<Vec<(i64, String)>> {
    let session = use_session();
    let api = session.api.clone();
    let list = use_load((), move |()| async move {
        let q = PartnerQuery { page: Some(1), per_page: Some(100) };
        feeds::partners(&api, &q).await.map(|l| l.items.into_iter().map(|p| (p.id, p.name)).collect())
    });
    list.get().clone()
}

#[component]
fn AdminFeeds() -> Html {
    let location = use_location();
    let navigator = use_navigator();
    let query = location.map(|l| JobsUrl::parse(l.query_str())).unwrap_or_default();
    let names = use_partner_names();
    let go = {
        let navigator = navigator.clone();
        Callback::from(move |q: JobsUrl| {
            let Some(nav) = &navigator else { return };
            if let Err(e) = nav.push_with_query(&Route::AdminFeeds, &q) {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let on_partner = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |v: String| {
            go.emit(JobsUrl { page: 1, partner: v.parse().ok(), ..query.clone() })
        })
    };
    let on_state = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |v: String| go.emit(JobsUrl { page: 1, state: v, ..query.clone() }))
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(JobsUrl { page, ..query.clone() });
            gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
        })
    };
    let on_past_end = {
        let (navigator, query) = (navigator.clone(), query.clone());
        Callback::from(move |page| {
            if let Some(nav) = &navigator
                && let Err(e) = nav.replace_with_query(&Route::AdminFeeds, &JobsUrl { page, ..query.clone() })
            {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let partners = match &names {
        Load::Ready(n) => n.clone(),
        _ => Vec::new(),
    };
    let state_options: Vec<(String, String)> = std::iter::once((String::new(), "All states".to_owned()))
        .chain(JOB_STATES.iter().map(|s| (s.as_str().to_owned(), job_state_label(*s).to_owned())))
        .collect();
    let audit_types = use_state(|| "feed_job".to_owned());
    let on_audit_type = {
        let audit_types = audit_types.clone();
        Callback::from(move |v: String| audit_types.set(v))
    };
    let audit_options: Vec<(String, String)> =
        [("feed_job", "Feed jobs"), ("feed_schedule", "Schedules"), ("partner", "Partners")]
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
            .collect();

    html! {
        <section class="admin-page feeds-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <FeedsNav />
            <h2>{ "Feed jobs" }</h2>
            <div class="feed-filters">
                <label for="jobs-partner">{ "Partner " }</label>
                <Select id="jobs-partner" options={partner_options("All partners", &partners)}
                    value={query.partner.map(|p| p.to_string()).unwrap_or_default()} onchange={on_partner} />
                <label for="jobs-state">{ " State " }</label>
                <Select id="jobs-state" options={state_options} value={query.state.clone()} onchange={on_state} />
            </div>
            if let Load::Failed(e) = &names {
                <p id="partners-error" class="hint" role="status">{ format!("Partner names unavailable: {}", e.detail()) }</p>
            }
            <JobsTable filter={query.filter()} {partners} {on_page} {on_past_end} show_partner=true />
            <h2>{ "Audit log" }</h2>
            <div class="feed-filters">
                <label for="audit-type">{ "About " }</label>
                <Select id="audit-type" options={audit_options} value={(*audit_types).clone()} onchange={on_audit_type} />
            </div>
            <AuditTable entity_type={AttrValue::from((*audit_types).clone())} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct JobsTableProps {
    pub filter: JobsFilter,
    /// Partner names by ID (the ID is shown for one not listed).
    #[prop_or_default]
    pub partners: Vec<(i64, String)>,
    #[prop_or(true)]
    pub show_partner: bool,
    /// Bumped by the parent to read the list again at once (e.g. after an upload).
    #[prop_or_default]
    pub refresh: u32,
    pub on_page: Callback<u32>,
    /// Asked to show another page when the one asked for lies past the end.
    pub on_past_end: Callback<u32>,
}

/// `#feed-jobs`: one `tr.job-row` per job (`data-id`, `data-state`), read again every
/// [`POLL_MS`] while any is queued or running.
#[component]
pub(crate) fn JobsTable(props: &JobsTableProps) -> Html {
    let session = use_session();
    let active = use_state_eq(|| false);
    let jobs = {
        let api = session.api.clone();
        use_polled_while((props.filter, props.refresh), POLL_MS, *active, move |(f, _): (JobsFilter, u32)| {
            let api = api.clone();
            async move { feeds::jobs(&api, &f.to_api()).await }
        })
    };
    {
        let active = active.clone();
        let now = matches!(jobs.get(), Load::Ready(l) if any_unfinished(&l.items));
        use_effect_with(now, move |now| active.set(*now));
    }
    let overflow = match jobs.get() {
        Load::Ready(l) => past_end(&pagination_of(l.page, l.per_page, l.total)),
        _ => None,
    };
    {
        let on_past_end = props.on_past_end.clone();
        use_effect_with(overflow, move |o| {
            if let Some(page) = *o {
                on_past_end.emit(page);
            }
        });
    }
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    let on_requeued = {
        let (edit, message, error) = (jobs.editor(), message.clone(), error.clone());
        Callback::from(move |job: FeedJob| {
            message.set(Some(format!("Job {} is queued again.", job.id)));
            error.set(None);
            edit.emit(Box::new(move |l: &mut FeedJobList| {
                if let Some(row) = l.items.iter_mut().find(|r| r.id == job.id) {
                    *row = job;
                }
            }) as Edit<FeedJobList>);
        })
    };
    let on_failed = {
        let (refresh, message, error) = (jobs.refresher(), message.clone(), error.clone());
        Callback::from(move |e: ApiError| {
            message.set(None);
            if matches!(e.status(), Some(404 | 409)) {
                refresh.emit(());
            }
            error.set(Some(e));
        })
    };
    let name_of = |id: i64| {
        props
            .partners
            .iter()
            .find(|(p, _)| *p == id)
            .map_or_else(|| format!("Partner {id}"), |(_, n)| n.clone())
    };
    let body = match jobs.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={jobs.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="jobs-empty" class="empty-state"><p>{ "No feed jobs here yet." }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="feed-jobs" class="data-table feed-jobs">
                        <thead>
                            <tr>
                                <th>{ "Job" }</th>
                                if props.show_partner { <th>{ "Partner" }</th> }
                                <th>{ "File" }</th><th>{ "Mode" }</th><th>{ "State" }</th><th>{ "Rows" }</th>
                                <th>{ "Received" }</th><th>{ "Finished" }</th><th>{ "Last error" }</th>
                                <th><span class="visually-hidden">{ "Actions" }</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|j| html! {
                                <JobRow key={j.id} job={j.clone()} partner={props.show_partner.then(|| name_of(j.partner_id))}
                                    on_requeued={on_requeued.clone()} on_failed={on_failed.clone()} />
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={pagination_of(l.page, l.per_page, l.total)} noun={("job", "jobs")}
                    on_page={props.on_page.clone()} />
            </>
        },
    };
    html! {
        <div class="feed-jobs-view" aria-busy={(matches!(jobs.get(), Load::Loading)).to_string()}
            data-polling={active.to_string()}>
            if let Some(e) = jobs.stale() {
                <p id="jobs-refresh-error" class="hint" role="status">{ format!("Could not refresh: {}", e.detail()) }</p>
            }
            if *active {
                <p class="hint" id="jobs-live">{ format!("Jobs under way: read again every {} seconds.", POLL_MS / 1000) }</p>
            }
            if let Some(e) = &*error {
                <div id="jobs-error" class="alert alert-error" role="alert"
                    data-status={e.status().map(|s| s.to_string())}>{ e.detail() }</div>
            }
            if let Some(m) = &*message {
                <p id="jobs-message" class="alert alert-success" role="status">{ m }</p>
            }
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct JobRowProps {
    job: FeedJob,
    /// The partner's name, when the table shows it.
    partner: Option<String>,
    on_requeued: Callback<FeedJob>,
    on_failed: Callback<ApiError>,
}

#[component]
fn JobRow(props: &JobRowProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let j = &props.job;
    let on_requeue = {
        let (api, busy, id) = (session.api.clone(), busy.clone(), j.id);
        let (on_requeued, on_failed) = (props.on_requeued.clone(), props.on_failed.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (api, busy, on_requeued, on_failed) =
                (api.clone(), busy.clone(), on_requeued.clone(), on_failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::requeue(&api, id).await {
                    Ok(job) => on_requeued.emit(job),
                    Err(e) => on_failed.emit(e),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <tr class={classes!("job-row", (j.state == FeedJobState::Failed).then_some("failed"))}
            data-id={j.id.to_string()} data-state={j.state.as_str()} data-partner-id={j.partner_id.to_string()}>
            <td data-label="Job">
                { format!("#{}", j.id) }
                <div class="muted">{ &j.source }</div>
            </td>
            if let Some(name) = &props.partner {
                <td class="job-partner" data-label="Partner">
                    <AppLink to={Route::AdminPartner { id: j.partner_id }}>{ name }</AppLink>
                </td>
            }
            <td data-label="File">{ format!("{} · {}", j.format.to_uppercase(), bytes_label(j.bytes)) }</td>
            <td data-label="Mode">{ mode_label(j.mode) }</td>
            <td data-label="State">
                <span class={classes!("job-state", job_state_class(j.state))} data-state={j.state.as_str()}>
                    { job_state_label(j.state) }
                </span>
                if j.state == FeedJobState::Succeeded && !j.applied {
                    <div class="muted">{ "not applied" }</div>
                }
            </td>
            <td class="job-counts" data-label="Rows" data-created={j.rows_created.to_string()}
                data-rejected={j.rows_rejected.to_string()}>{ counts_line(j) }</td>
            <td data-label="Received">{ format_when(&j.created_at) }</td>
            <td data-label="Finished">{ j.finished_at.as_ref().map_or_else(|| "—".to_owned(), format_when) }</td>
            <td class="job-last-error" data-label="Last error">{ j.last_error.clone().unwrap_or_else(|| "—".to_owned()) }</td>
            <td class="cell-actions">
                <div class="row-buttons">
                    if j.state == FeedJobState::Failed {
                        <button type="button" class="job-requeue" disabled={*busy} onclick={on_requeue}>
                            { if *busy { "Requeuing…" } else { "Requeue" } }
                        </button>
                    }
                    if j.rows_rejected > 0 {
                        <ErrorsCsvLink job_id={j.id} />
                    }
                </div>
            </td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct ErrorsCsvLinkProps {
    pub job_id: i64,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// The name a job's errors are saved under.
pub(crate) fn errors_file_name(job_id: i64) -> String {
    format!("feed-job-{job_id}-errors.csv")
}

/// `a.errors-csv-link`: saves all row errors of a job as a CSV file (fetched with the bearer
/// token, so not a plain link).
#[component]
pub(crate) fn ErrorsCsvLink(props: &ErrorsCsvLinkProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let onclick = {
        let (api, busy, error, job_id) = (session.api.clone(), busy.clone(), error.clone(), props.job_id);
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (api, busy, error) = (api.clone(), busy.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::errors_csv(&api, job_id).await {
                    Ok(text) => error.set(save_text(&errors_file_name(job_id), "text/csv", &text).err()),
                    Err(e) => error.set(Some(e.detail())),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <span class="errors-csv">
            <a id={props.id.clone()} class="errors-csv-link" href={feeds::errors_path(props.job_id)}
                download={errors_file_name(props.job_id)} aria-busy={busy.to_string()} {onclick}>
                { if *busy { "Preparing CSV…" } else { "All row errors (CSV)" } }
            </a>
            if let Some(e) = &*error {
                <span class="row-error" role="alert">{ e }</span>
            }
        </span>
    }
}

/// Saves `text` as a file (a Blob behind an object URL, clicked through a temporary
/// `<a download>`).
pub(crate) fn save_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let url = gloo::file::ObjectUrl::from(gloo::file::Blob::new_with_options(text, Some(mime)));
    let doc = gloo::utils::document();
    let fail = || "The browser refused the download.".to_owned();
    let link: web_sys::HtmlElement =
        doc.create_element("a").map_err(|_| fail())?.dyn_into().map_err(|_| fail())?;
    link.set_attribute("href", &url).map_err(|_| fail())?;
    link.set_attribute("download", name).map_err(|_| fail())?;
    link.set_attribute("hidden", "").map_err(|_| fail())?;
    let body = doc.body().ok_or_else(fail)?;
    body.append_child(&link).map_err(|_| fail())?;
    link.click();
    link.remove();
    // The browser reads the file after the click returns: revoke the URL only later.
    Timeout::new(60_000, move || drop(url)).forget();
    Ok(())
}

#[derive(Properties, PartialEq)]
pub(crate) struct AuditTableProps {
    /// `partner`, `feed_job` or `feed_schedule`.
    pub entity_type: AttrValue,
    /// Only the entries about this entity (filtered here: the API filters by type only).
    #[prop_or_default]
    pub entity_id: Option<AttrValue>,
    /// Bumped by the parent to read the log again (after a change it records).
    #[prop_or_default]
    pub refresh: u32,
}

/// A short, one-line view of an audit entry's detail.
pub(crate) fn detail_line(detail: &serde_json::Value) -> String {
    match detail {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `#audit`: the audit log about one kind of entity, newest first, paged.
#[component]
pub(crate) fn AuditTable(props: &AuditTableProps) -> Html {
    let session = use_session();
    let page = use_state(|| 1_u32);
    {
        let page = page.clone();
        use_effect_with(props.entity_type.clone(), move |_| page.set(1));
    }
    let list = {
        let api = session.api.clone();
        let q = AuditQuery {
            page: Some(*page),
            per_page: Some(PER_PAGE),
            entity_type: Some(props.entity_type.to_string()),
        };
        use_load((q, props.refresh), move |(q, _)| async move { feeds::audit(&api, &q).await })
    };
    let on_page = {
        let page = page.clone();
        Callback::from(move |p| page.set(p))
    };
    let body = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) => {
            let rows: Vec<_> = l
                .items
                .iter()
                .filter(|a| props.entity_id.as_ref().is_none_or(|id| a.entity_id == id.as_str()))
                .collect();
            html! {
                <>
                    if rows.is_empty() {
                        <p id="audit-empty" class="empty-state">{ "Nothing recorded here." }</p>
                    } else {
                        <div class="table-wrap">
                            <table id="audit" class="data-table audit-table">
                                <thead>
                                    <tr><th>{ "When" }</th><th>{ "Action" }</th><th>{ "Entity" }</th><th>{ "By" }</th><th>{ "Detail" }</th></tr>
                                </thead>
                                <tbody>
                                    { for rows.iter().map(|a| html! {
                                        <tr key={a.id} class="audit-row" data-action={a.action.clone()} data-entity-id={a.entity_id.clone()}>
                                            <td data-label="When">{ format_when(&a.created_at) }</td>
                                            <td class="audit-action" data-label="Action">{ &a.action }</td>
                                            <td data-label="Entity">{ format!("{} {}", a.entity_type, a.entity_id) }</td>
                                            <td data-label="By">{ a.actor_id.map_or_else(|| "system".to_owned(), |u| format!("user {u}")) }</td>
                                            <td class="audit-detail" data-label="Detail">{ detail_line(&a.detail) }</td>
                                        </tr>
                                    }) }
                                </tbody>
                            </table>
                        </div>
                    }
                    if l.pagination.total_pages > 1 {
                        <Pager pagination={l.pagination} noun={("entry", "entries")} {on_page} />
                    } else {
                        <p class="muted">{ count_noun(l.pagination.total, "entry", "entries") }</p>
                    }
                </>
            }
        }
    };
    html! { <div class="audit-view">{ body }</div> }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn job(state: FeedJobState, created: i64, rejected: i64) -> FeedJob {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        FeedJob {
            id: 1,
            partner_id: 2,
            source: "upload".into(),
            format: "csv".into(),
            mode: FeedMode::Lenient,
            state,
            content_hash: "0".repeat(64),
            bytes: 120,
            rows_total: created + rejected,
            rows_created: created,
            rows_updated: 0,
            rows_unchanged: 0,
            rows_rejected: rejected,
            applied: true,
            attempts: 1,
            last_error: None,
            created_at: at,
            started_at: None,
            finished_at: None,
            status_url: "/api/admin/feeds/jobs/1".into(),
            errors_url: "/api/admin/feeds/jobs/1/errors".into(),
        }
    }

    #[test]
    fn counts_read_as_a_line_and_wait_for_the_worker() {
        assert_eq!(
            counts_line(&job(FeedJobState::Succeeded, 2, 1)),
            "2 created · 0 updated · 0 unchanged · 1 rejected"
        );
        assert_eq!(counts_line(&job(FeedJobState::Queued, 0, 0)), "not read yet");
        assert_eq!(
            counts_line(&job(FeedJobState::Failed, 0, 0)),
            "0 created · 0 updated · 0 unchanged · 0 rejected"
        );
    }

    #[test]
    fn lists_are_polled_only_while_a_job_is_under_way() {
        assert!(!any_unfinished(&[]));
        assert!(!any_unfinished(&[job(FeedJobState::Succeeded, 1, 0), job(FeedJobState::Failed, 0, 0)]));
        assert!(any_unfinished(&[job(FeedJobState::Succeeded, 1, 0), job(FeedJobState::Running, 0, 0)]));
        assert!(any_unfinished(&[job(FeedJobState::Queued, 0, 0)]));
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(bytes_label(-1), "0 B");
        assert_eq!(bytes_label(512), "512 B");
        assert_eq!(bytes_label(1536), "1.5 KiB");
        assert_eq!(bytes_label(50 * 1024 * 1024), "50.0 MiB");
        assert_eq!(bytes_label(1024 * 1024 * 1024), "1.0 GiB");
    }

    #[test]
    fn pages_are_counted_from_the_total() {
        assert_eq!(pagination_of(1, 20, 0).total_pages, 1);
        assert_eq!(pagination_of(1, 20, 20).total_pages, 1);
        assert_eq!(pagination_of(2, 20, 21).total_pages, 2);
        assert_eq!(pagination_of(3, 0, 5).total_pages, 5, "a zero page size counts as one");
        assert_eq!(past_end(&pagination_of(4, 20, 41)), Some(3));
    }

    #[test]
    fn the_url_query_round_trips_and_junk_falls_back() {
        let q = JobsUrl::parse("?page=2&partner=7&state=failed");
        assert_eq!(q, JobsUrl { page: 2, partner: Some(7), state: "failed".into() });
        assert_eq!(JobsUrl::parse(&serde_urlencoded::to_string(&q).unwrap_or_default()), q);
        let f = q.filter();
        assert_eq!(
            (f.partner_id, f.state, f.page, f.per_page),
            (Some(7), Some(FeedJobState::Failed), 2, PER_PAGE)
        );
        let api = f.to_api();
        assert_eq!((api.partner_id, api.state, api.page), (Some(7), Some(FeedJobState::Failed), Some(2)));
        let junk = JobsUrl::parse("page=0&partner=x&state=lost");
        assert_eq!(junk, JobsUrl { page: 1, partner: None, state: String::new() });
        assert_eq!(serde_urlencoded::to_string(&junk).ok().as_deref(), Some(""));
        for s in JOB_STATES {
            assert_eq!(FeedJobState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn partner_selects_start_with_the_choice_of_none() {
        let opts = partner_options("All partners", &[(3, "Acme".into())]);
        assert_eq!(opts, vec![(String::new(), "All partners".into()), ("3".into(), "Acme".into())]);
    }

    #[test]
    fn audit_details_read_as_one_line() {
        assert_eq!(detail_line(&serde_json::Value::Null), "");
        assert_eq!(detail_line(&serde_json::json!({})), "");
        assert_eq!(
            detail_line(&serde_json::json!({ "status": "suspended", "rate": 5 })),
            "rate: 5, status: suspended"
        );
        assert_eq!(detail_line(&serde_json::json!(["a"])), "[\"a\"]");
        assert_eq!(errors_file_name(4), "feed-job-4-errors.csv");
    }
}
