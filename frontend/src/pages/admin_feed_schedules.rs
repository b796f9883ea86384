//! `/admin/feeds/schedules`: scheduled pulls of partners' feed URLs: what each did last and
//! its recent runs, creating one, changing its URL or interval, pausing, deleting.

use retail_api_types::{FeedSchedule, NewSchedule, ScheduleList, SchedulePatch};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::admin_feeds::{FeedsNav, pagination_of, partner_options, use_partner_names};
use super::{AdminNav, Forbidden, bind_input};
use crate::components::{AppLink, ErrorBox, FieldErrors, Loading, Pager, Select};
use crate::format::{count_noun, format_when};
use crate::hooks::{Edit, Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, feeds};

const PER_PAGE: u32 = 20;

/// `every 15 min`, `every 2 h`, `every 1 d 6 h`, `every 90 s`.
pub(crate) fn interval_label(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() { "every 0 s".to_owned() } else { format!("every {}", parts.join(" ")) }
}

/// Minutes typed for an interval, as seconds (1 minute to 30 days, as the API allows).
pub(crate) fn interval_secs(minutes: &str) -> Result<i64, &'static str> {
    match minutes.trim().parse::<i64>() {
        Ok(m) if (1..=43_200).contains(&m) => Ok(m * 60),
        _ => Err("enter whole minutes from 1 to 43200 (30 days)"),
    }
}

/// The CSS classes of a run's outcome (`queued`, `not_modified`, `failed: ...`).
pub(crate) fn outcome_class(outcome: &str) -> &'static str {
    if outcome.starts_with("failed") {
        "tag tag-danger"
    } else if outcome == "queued" {
        "tag tag-ok"
    } else {
        "tag tag-muted"
    }
}

/// The items of a 1-based page of a list the API sends whole.
pub(crate) fn page_slice<T>(items: &[T], page: u32, per_page: u32) -> &[T] {
    let per = per_page.max(1) as usize;
    let start = (page.max(1) as usize - 1).saturating_mul(per).min(items.len());
    &items[start..(start + per).min(items.len())]
}

/// `/admin/feeds/schedules`.
#[component]
pub fn AdminFeedSchedulesPage() -> Html {
    use_title("Feed schedules · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminFeedSchedules /> }
}

#[component]
fn AdminFeedSchedules() -> Html {
    let session = use_session();
    let list = {
        let api = session.api.clone();
        use_load((), move |()| async move { feeds::schedules(&api).await })
    };
    let names = use_partner_names();
    let partners = match &names {
        Load::Ready(n) => n.clone(),
        _ => Vec::new(),
    };
    let page = use_state(|| 1_u32);
    let message = use_state(|| None::<String>);
    let on_page = {
        let page = page.clone();
        Callback::from(move |p| page.set(p))
    };
    let on_created = {
        let (edit, message) = (list.editor(), message.clone());
        Callback::from(move |s: FeedSchedule| {
            message.set(Some(format!("Schedule {} created.", s.id)));
            edit.emit(Box::new(move |l: &mut ScheduleList| {
                l.items.push(s);
                l.items.sort_by_key(|s| (s.partner_id, s.id));
            }) as Edit<ScheduleList>);
        })
    };
    let on_changed = {
        let (edit, message) = (list.editor(), message.clone());
        Callback::from(move |s: FeedSchedule| {
            message.set(Some(format!("Schedule {} saved.", s.id)));
            edit.emit(Box::new(move |l: &mut ScheduleList| {
                if let Some(row) = l.items.iter_mut().find(|r| r.id == s.id) {
                    *row = s;
                }
            }) as Edit<ScheduleList>);
        })
    };
    let on_deleted = {
        let (edit, message) = (list.editor(), message.clone());
        Callback::from(move |id: i64| {
            message.set(Some(format!("Schedule {id} deleted.")));
            edit.emit(
                Box::new(move |l: &mut ScheduleList| l.items.retain(|s| s.id != id)) as Edit<ScheduleList>
            );
        })
    };
    let name_of = |id: i64| {
        partners.iter().find(|(p, _)| *p == id).map_or_else(|| format!("Partner {id}"), |(_, n)| n.clone())
    };
    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state"><p>{ "No schedules: partners push their feeds, or add a pull below." }</p></div>
        },
        Load::Ready(l) => {
            let total = i64::try_from(l.items.len()).unwrap_or(i64::MAX);
            let pagination = pagination_of(
                (*page).min(u32::try_from(pagination_of(1, PER_PAGE, total).total_pages).unwrap_or(1)),
                PER_PAGE,
                total,
            );
            html! {
                <>
                    <div class="table-wrap">
                        <table id="schedules" class="data-table schedules-table">
                            <thead>
                                <tr>
                                    <th>{ "Partner" }</th><th>{ "URL" }</th><th>{ "Interval" }</th><th>{ "State" }</th>
                                    <th>{ "Next run" }</th><th>{ "Last run" }</th><th>{ "Recent runs" }</th>
                                    <th><span class="visually-hidden">{ "Actions" }</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                { for page_slice(&l.items, pagination.page, PER_PAGE).iter().map(|s| html! {
                                    <ScheduleRow key={s.id} schedule={s.clone()} partner={name_of(s.partner_id)}
                                        on_changed={on_changed.clone()} on_deleted={on_deleted.clone()} />
                                }) }
                            </tbody>
                        </table>
                    </div>
                    <Pager {pagination} noun={("schedule", "schedules")} {on_page} />
                </>
            }
        }
    };
    html! {
        <section class="admin-page schedules-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <FeedsNav />
            <h2>{ "Feed schedules" }</h2>
            if let Some(m) = &*message {
                <p id="schedules-message" class="alert alert-success" role="status">{ m }</p>
            }
            { table }
            <NewScheduleForm partners={partners.clone()} {on_created} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct NewScheduleFormProps {
    partners: Vec<(i64, String)>,
    on_created: Callback<FeedSchedule>,
}

/// `#new-schedule`: partner, URL, interval in minutes, enabled.
#[component]
fn NewScheduleForm(props: &NewScheduleFormProps) -> Html {
    let session = use_session();
    let partner = use_state(String::new);
    let url = use_state(String::new);
    let minutes = use_state(|| "60".to_owned());
    let enabled = use_state(|| true);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let local = use_state(|| None::<String>);
    let onsubmit = {
        let (partner, url, minutes, enabled, busy, error, local) = (
            partner.clone(),
            url.clone(),
            minutes.clone(),
            enabled.clone(),
            busy.clone(),
            error.clone(),
            local.clone(),
        );
        let (api, on_created) = (session.api.clone(), props.on_created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            error.set(None);
            let Ok(partner_id) = partner.parse::<i64>() else {
                return local.set(Some("Choose a partner.".to_owned()));
            };
            let interval_secs = match interval_secs(&minutes) {
                Ok(s) => s,
                Err(m) => return local.set(Some(format!("Interval: {m}."))),
            };
            local.set(None);
            busy.set(true);
            let body = NewSchedule {
                partner_id,
                url: url.trim().to_owned(),
                interval_secs,
                enabled: Some(*enabled),
            };
            let (url, busy, error, api, on_created) =
                (url.clone(), busy.clone(), error.clone(), api.clone(), on_created.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::create_schedule(&api, &body).await {
                    Ok(s) => {
                        url.set(String::new());
                        on_created.emit(s);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_partner = {
        let partner = partner.clone();
        Callback::from(move |v| partner.set(v))
    };
    let on_enabled = {
        let enabled = enabled.clone();
        Callback::from(move |e: Event| enabled.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    html! {
        <form id="new-schedule" class="card form new-schedule" novalidate=true {onsubmit}>
            <h2>{ "New schedule" }</h2>
            <div class="form-grid">
                <div class="field">
                    <label for="schedule-partner">{ "Partner" }</label>
                    <Select id="schedule-partner" options={partner_options("Choose…", &props.partners)}
                        value={(*partner).clone()} onchange={on_partner} />
                </div>
                <div class="field field-wide">
                    <label for="schedule-url">{ "Feed URL" }</label>
                    <input id="schedule-url" type="url" placeholder="https://partner.example/feed.csv" value={(*url).clone()}
                        oninput={bind_input(&url)} />
                </div>
                <div class="field">
                    <label for="schedule-interval">{ "Every (minutes)" }</label>
                    <input id="schedule-interval" type="number" min="1" max="43200" step="1" value={(*minutes).clone()}
                        oninput={bind_input(&minutes)} />
                </div>
                <div class="field">
                    <label class="check" for="schedule-enabled">
                        <input id="schedule-enabled" type="checkbox" checked={*enabled} onchange={on_enabled} />
                        <span>{ "Enabled" }</span>
                    </label>
                </div>
            </div>
            if let Some(m) = &*local {
                <p id="new-schedule-invalid" class="field-error" role="alert">{ m }</p>
            }
            if let Some(e) = &*error {
                <div id="new-schedule-error" class="alert alert-error" role="alert">
                    <p class="error-detail">{ e.detail() }</p>
                    <FieldErrors errors={e.field_errors().to_vec()} />
                </div>
            }
            <button id="schedule-create" type="submit" disabled={*busy}>{ if *busy { "Creating…" } else { "Create schedule" } }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ScheduleRowProps {
    schedule: FeedSchedule,
    partner: String,
    on_changed: Callback<FeedSchedule>,
    on_deleted: Callback<i64>,
}

/// `tr.schedule-row` (`data-id`, `data-enabled`): Edit (URL, interval), Pause/Resume, Delete
/// (asked first).
#[component]
fn ScheduleRow(props: &ScheduleRowProps) -> Html {
    let session = use_session();
    let s = &props.schedule;
    let editing = use_state(|| false);
    let confirming = use_state(|| false);
    let url = use_state(|| s.url.clone());
    let minutes = use_state(|| (s.interval_secs / 60).to_string());
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let patch = {
        let (api, busy, error, editing, on_changed, id) = (
            session.api.clone(),
            busy.clone(),
            error.clone(),
            editing.clone(),
            props.on_changed.clone(),
            s.id,
        );
        move |body: SchedulePatch| {
            if *busy {
                return;
            }
            busy.set(true);
            let (api, busy, error, editing, on_changed) =
                (api.clone(), busy.clone(), error.clone(), editing.clone(), on_changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::update_schedule(&api, id, &body).await {
                    Ok(s) => {
                        error.set(None);
                        editing.set(false);
                        on_changed.emit(s);
                    }
                    Err(e) => error.set(Some(e.detail())),
                }
                busy.set(false);
            });
        }
    };
    let on_save = {
        let (url, minutes, error, patch) = (url.clone(), minutes.clone(), error.clone(), patch.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match interval_secs(&minutes) {
                Ok(secs) => patch(SchedulePatch {
                    url: Some(url.trim().to_owned()),
                    interval_secs: Some(secs),
                    enabled: None,
                }),
                Err(m) => error.set(Some(format!("Interval: {m}."))),
            }
        })
    };
    let on_toggle = {
        let (patch, enabled) = (patch.clone(), s.enabled);
        Callback::from(move |_: MouseEvent| {
            patch(SchedulePatch { enabled: Some(!enabled), ..SchedulePatch::default() })
        })
    };
    let on_delete = {
        let (api, busy, error, on_deleted, id) =
            (session.api.clone(), busy.clone(), error.clone(), props.on_deleted.clone(), s.id);
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (api, busy, error, on_deleted) =
                (api.clone(), busy.clone(), error.clone(), on_deleted.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match feeds::delete_schedule(&api, id).await {
                    Ok(()) => on_deleted.emit(id),
                    Err(e) if e.status() == Some(404) => on_deleted.emit(id),
                    Err(e) => {
                        error.set(Some(e.detail()));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let set = |state: &UseStateHandle<bool>, to: bool| {
        let (state, error) = (state.clone(), error.clone());
        let (url, minutes, s) = (url.clone(), minutes.clone(), s.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            // Editing starts from the schedule as it is now.
            url.set(s.url.clone());
            minutes.set((s.interval_secs / 60).to_string());
            state.set(to);
        })
    };
    html! {
        <tr class="schedule-row" data-id={s.id.to_string()} data-enabled={s.enabled.to_string()}>
            <td class="cell-name" data-label="Partner">
                <AppLink to={Route::AdminPartner { id: s.partner_id }}>{ &props.partner }</AppLink>
            </td>
            if *editing {
                <td colspan="2" data-label="Change">
                    <form class="edit-form schedule-edit" onsubmit={on_save}>
                        <input class="edit-url" type="url" aria-label="Feed URL" value={(*url).clone()} oninput={bind_input(&url)} />
                        <input class="edit-interval" type="number" min="1" step="1" aria-label="Every (minutes)"
                            value={(*minutes).clone()} oninput={bind_input(&minutes)} />
                        <button class="edit-save" type="submit" disabled={*busy}>{ "Save" }</button>
                        <button class="edit-cancel button-secondary" type="button" onclick={set(&editing, false)}>{ "Cancel" }</button>
                    </form>
                </td>
            } else {
                <td class="schedule-url" data-label="URL"><code>{ &s.url }</code></td>
                <td class="schedule-interval" data-label="Interval">{ interval_label(s.interval_secs) }</td>
            }
            <td data-label="State">
                <span class={if s.enabled { "tag tag-ok" } else { "tag tag-muted" }}>{ if s.enabled { "Enabled" } else { "Paused" } }</span>
            </td>
            <td data-label="Next run">{ if s.enabled { format_when(&s.next_run_at) } else { "—".to_owned() } }</td>
            <td class="schedule-last" data-label="Last run">
                { s.last_run_at.as_ref().map_or_else(|| "never".to_owned(), format_when) }
                if let Some(o) = &s.last_outcome {
                    <div><span class={classes!("schedule-outcome", outcome_class(o))}>{ o }</span></div>
                }
            </td>
            <td data-label="Recent runs">
                if s.runs.is_empty() {
                    { "—" }
                } else {
                    <details class="schedule-runs">
                        <summary>{ count_noun(i64::try_from(s.runs.len()).unwrap_or(0), "run", "runs") }</summary>
                        <ul>
                            { for s.runs.iter().map(|r| html! {
                                <li class="schedule-run">
                                    { format_when(&r.at) }{ " " }
                                    <span class={outcome_class(&r.outcome)}>{ &r.outcome }</span>
                                    { r.http_status.map(|h| format!(" · HTTP {h}")).unwrap_or_default() }
                                    { r.job_id.map(|j| format!(" · job #{j}")).unwrap_or_default() }
                                </li>
                            }) }
                        </ul>
                    </details>
                }
            </td>
            <td class="cell-actions">
                <div class="row-buttons">
                    if !*editing {
                        <button type="button" class="schedule-edit-open button-secondary" disabled={*busy}
                            onclick={set(&editing, true)}>{ "Edit" }</button>
                    }
                    <button type="button" class="schedule-toggle button-secondary" disabled={*busy} onclick={on_toggle}>
                        { if s.enabled { "Pause" } else { "Resume" } }
                    </button>
                    if *confirming {
                        <span class="role-confirm" role="group" aria-label="Confirm deleting the schedule">
                            { "Delete it? " }
                            <button type="button" class="schedule-delete-confirm" disabled={*busy} onclick={on_delete}>{ "Yes, delete" }</button>
                            { " " }
                            <button type="button" class="schedule-delete-cancel button-secondary" onclick={set(&confirming, false)}>{ "Cancel" }</button>
                        </span>
                    } else {
                        <button type="button" class="schedule-delete button-secondary" disabled={*busy}
                            onclick={set(&confirming, true)}>{ "Delete" }</button>
                    }
                </div>
                if let Some(e) = &*error {
                    <p class="row-error" role="alert">{ e }</p>
                }
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_in_the_largest_units() {
        assert_eq!(interval_label(60), "every 1 min");
        assert_eq!(interval_label(3600), "every 1 h");
        assert_eq!(interval_label(93_600), "every 1 d 2 h");
        assert_eq!(interval_label(90), "every 1 min 30 s");
        assert_eq!(interval_label(0), "every 0 s");
    }

    #[test]
    fn intervals_are_typed_in_minutes_within_the_api_limits() {
        assert_eq!(interval_secs(" 15 "), Ok(900));
        assert_eq!(interval_secs("43200"), Ok(2_592_000));
        assert!(interval_secs("0").is_err());
        assert!(interval_secs("43201").is_err());
        assert!(interval_secs("ten").is_err());
    }

    #[test]
    fn outcomes_have_their_colours() {
        assert_eq!(outcome_class("failed: HTTP 500"), "tag tag-danger");
        assert_eq!(outcome_class("queued"), "tag tag-ok");
        assert_eq!(outcome_class("not_modified"), "tag tag-muted");
    }

    #[test]
    fn pages_slice_the_whole_list() {
        let items: Vec<u32> = (1..=45).collect();
        assert_eq!(page_slice(&items, 1, 20), &items[..20]);
        assert_eq!(page_slice(&items, 3, 20), &items[40..]);
        assert!(page_slice(&items, 4, 20).is_empty());
        assert_eq!(page_slice(&items, 0, 20), &items[..20], "page 0 is the first");
        assert_eq!(page_slice(&items[..0], 1, 20).len(), 0);
    }
}
