//! `/admin/outbox`: the mail queue as admins see it: how many mails are pending, being sent,
//! sent or failed, filtered by state, newest first, with a Requeue button on failed ones.

use retail_api_types::{OutboxCount, OutboxEntry, OutboxList, OutboxQuery, OutboxState};
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use super::notifications::event_label;
use super::{AdminNav, Forbidden};
use crate::components::{ErrorBox, Loading, Pager, past_end};
use crate::format::format_when;
use crate::hooks::{Edit, Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, notifications};

const PER_PAGE: u32 = 20;

/// Every state, in the order of a mail's life.
pub const STATES: [OutboxState; 4] =
    [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed];

/// A state in plain words.
pub fn state_label(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Pending => "Pending",
        OutboxState::Sending => "Sending",
        OutboxState::Sent => "Sent",
        OutboxState::Failed => "Failed",
    }
}

/// CSS classes of a state's tag.
pub fn state_class(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Pending => "tag tag-info",
        OutboxState::Sending => "tag tag-warning",
        OutboxState::Sent => "tag tag-ok",
        OutboxState::Failed => "tag tag-danger",
    }
}

/// Parses a state's name.
pub fn parse_state(raw: &str) -> Option<OutboxState> {
    STATES.into_iter().find(|s| s.as_str() == raw)
}

/// Mails in `state` (`None`: all) according to the counts (a state not listed has none).
pub fn count_of(counts: &[OutboxCount], state: Option<OutboxState>) -> i64 {
    counts.iter().filter(|c| state.is_none_or(|s| c.state == s)).map(|c| c.count).sum()
}

/// The counts after one mail moved from `from` to `to` (e.g. a requeue: failed to pending).
pub fn moved(counts: &mut Vec<OutboxCount>, from: OutboxState, to: OutboxState) {
    if from == to {
        return;
    }
    for (state, delta) in [(from, -1), (to, 1)] {
        match counts.iter_mut().find(|c| c.state == state) {
            Some(c) => c.count = (c.count + delta).max(0),
            None if delta > 0 => counts.push(OutboxCount { state, count: delta }),
            None => {}
        }
    }
}

/// The page's state as kept in the URL (`?state=&page=`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OutboxUrl {
    #[serde(skip_serializing_if = "is_first_page")]
    pub page: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

impl OutboxUrl {
    /// Reads the query string; junk falls back to defaults.
    pub fn parse(query_str: &str) -> OutboxUrl {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = OutboxUrl { page: 1, ..OutboxUrl::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "state" if parse_state(&v).is_some() => out.state = v,
                _ => {}
            }
        }
        out
    }

    /// The state filter (`None`: every mail).
    pub fn state(&self) -> Option<OutboxState> {
        parse_state(&self.state)
    }

    /// The API query.
    pub fn to_api(&self) -> OutboxQuery {
        OutboxQuery { state: self.state(), page: Some(self.page.max(1)), per_page: Some(PER_PAGE) }
    }
}

/// `/admin/outbox`.
#[component]
pub fn AdminOutboxPage() -> Html {
    use_title("Mail outbox · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminOutbox /> }
}

#[component]
fn AdminOutbox() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let query = location.map(|l| OutboxUrl::parse(l.query_str())).unwrap_or_default();
    let list = {
        let api = session.api.clone();
        use_load(query.clone(), move |q| async move { notifications::outbox(&api, &q.to_api()).await })
    };
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);

    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |q: OutboxUrl| {
            let Some(nav) = &navigator else { return };
            let done = if replace {
                nav.replace_with_query(&Route::AdminOutbox, &q)
            } else {
                nav.push_with_query(&Route::AdminOutbox, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let on_state = {
        let go = go.clone();
        move |state: Option<OutboxState>| {
            let go = go.clone();
            Callback::from(move |_: MouseEvent| {
                go.emit(OutboxUrl {
                    page: 1,
                    state: state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                })
            })
        }
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(OutboxUrl { page, ..query.clone() });
            gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
        })
    };
    let overflow = match list.get() {
        Load::Ready(l) => past_end(&l.pagination),
        _ => None,
    };
    {
        let (replace, query) = (replace.clone(), query.clone());
        use_effect_with(overflow, move |o| {
            if let Some(page) = *o {
                replace.emit(OutboxUrl { page, ..query });
            }
        });
    }
    let on_requeued = {
        let (edit, message, error) = (list.editor(), message.clone(), error.clone());
        Callback::from(move |(from, entry): (OutboxState, OutboxEntry)| {
            message.set(Some(format!("The mail to {} is queued again.", entry.recipient)));
            error.set(None);
            edit.emit(Box::new(move |l: &mut OutboxList| {
                moved(&mut l.counts, from, entry.state);
                if let Some(row) = l.items.iter_mut().find(|r| r.id == entry.id) {
                    *row = entry;
                }
            }) as Edit<OutboxList>);
        })
    };
    let on_failed = {
        let (reload, message, error) = (list.reloader(), message.clone(), error.clone());
        Callback::from(move |e: ApiError| {
            message.set(None);
            // Someone else requeued it (or it is gone): show the queue as it is now.
            if matches!(e.status(), Some(404 | 409)) {
                reload.emit(());
            }
            error.set(Some(e));
        })
    };

    let shown = query.state();
    let counts = match list.get() {
        Load::Ready(l) => Some(l.counts.clone()),
        _ => None,
    };
    let tabs = html! {
        <nav id="outbox-states" class="admin-nav outbox-states" aria-label="Mail by state">
            { for std::iter::once(None).chain(STATES.into_iter().map(Some)).map(|s| {
                let name = s.map_or("all", OutboxState::as_str);
                let count = counts.as_ref().map(|c| count_of(c, s));
                html! {
                    <button id={format!("outbox-state-{name}")} type="button"
                        class={classes!("tab", (s == shown).then_some("active"))}
                        aria-pressed={(s == shown).to_string()} data-count={count.map(|n| n.to_string())}
                        onclick={on_state(s)}>
                        { s.map_or("All", state_label) }
                        if let Some(n) = count {
                            <span class="tab-count">{ n }</span>
                        }
                    </button>
                }
            }) }
        </nav>
    };
    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ match shown {
                    None => "No mail has been queued yet.".to_owned(),
                    Some(s) => format!("No {} mail.", state_label(s).to_lowercase()),
                } }</p>
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="outbox" class="data-table outbox-table">
                        <thead>
                            <tr>
                                <th>{ "Event" }</th><th>{ "Recipient" }</th><th>{ "Subject" }</th><th>{ "State" }</th>
                                <th>{ "Attempts" }</th><th>{ "Last error" }</th><th>{ "Next attempt" }</th>
                                <th>{ "Sent" }</th><th><span class="visually-hidden">{ "Actions" }</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|m| html! {
                                <OutboxRow key={m.id} entry={m.clone()} on_requeued={on_requeued.clone()}
                                    on_failed={on_failed.clone()} />
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("mail", "mails")} {on_page} />
            </>
        },
    };

    html! {
        <section class="admin-page outbox-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <h2>{ "Mail outbox" }</h2>
            { tabs }
            if let Some(e) = &*error {
                <div id="outbox-error" class="alert alert-error" role="alert"
                    data-status={e.status().map(|s| s.to_string())} data-code={e.code().map(str::to_owned)}>
                    { e.detail() }
                </div>
            }
            if let Some(m) = &*message {
                <p id="outbox-message" class="alert alert-success" role="status">{ m }</p>
            }
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct OutboxRowProps {
    entry: OutboxEntry,
    /// The state before, and the mail as the server answered.
    on_requeued: Callback<(OutboxState, OutboxEntry)>,
    on_failed: Callback<ApiError>,
}

/// One `tr.outbox-row` (`data-id`, `data-state`), with `button.outbox-requeue` when it failed.
#[component]
fn OutboxRow(props: &OutboxRowProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let m = &props.entry;
    let on_requeue = {
        let (api, busy) = (session.api.clone(), busy.clone());
        let (id, from, on_requeued, on_failed) =
            (m.id, m.state, props.on_requeued.clone(), props.on_failed.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (api, busy, on_requeued, on_failed) =
                (api.clone(), busy.clone(), on_requeued.clone(), on_failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match notifications::requeue(&api, id).await {
                    Ok(entry) => on_requeued.emit((from, entry)),
                    Err(e) => on_failed.emit(e),
                }
                busy.set(false);
            });
        })
    };
    let waiting = matches!(m.state, OutboxState::Pending | OutboxState::Sending);
    html! {
        <tr class={classes!("outbox-row", (m.state == OutboxState::Failed).then_some("failed"))}
            data-id={m.id.to_string()} data-state={m.state.as_str()} data-event={m.event.as_str()}>
            <td class="cell-name" data-label="Event">
                { event_label(m.event) }
                <div class="muted">{ format!("Queued {}", format_when(&m.created_at)) }</div>
            </td>
            <td class="outbox-recipient" data-label="Recipient">{ &m.recipient }</td>
            <td class="outbox-subject" data-label="Subject" title={m.message_id.clone()}>{ &m.subject }</td>
            <td data-label="State">
                <span class={classes!("outbox-state", state_class(m.state))} data-state={m.state.as_str()}>
                    { state_label(m.state) }
                </span>
            </td>
            <td class="outbox-attempts" data-label="Attempts">{ m.attempts }</td>
            <td class="outbox-last-error" data-label="Last error">
                { m.last_error.clone().unwrap_or_else(|| "—".to_owned()) }
            </td>
            <td class="outbox-next" data-label="Next attempt">
                { if waiting { format_when(&m.next_attempt_at) } else { "—".to_owned() } }
            </td>
            <td class="outbox-sent" data-label="Sent">
                { m.sent_at.as_ref().map_or_else(|| "—".to_owned(), format_when) }
            </td>
            <td data-label="">
                if m.state == OutboxState::Failed {
                    <button type="button" class="outbox-requeue" disabled={*busy} onclick={on_requeue}>
                        { if *busy { "Requeuing…" } else { "Requeue" } }
                    </button>
                }
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(state: OutboxState, count: i64) -> OutboxCount {
        OutboxCount { state, count }
    }

    #[test]
    fn the_url_query_round_trips_and_junk_falls_back() {
        let q = OutboxUrl::parse("?page=3&state=failed");
        assert_eq!(q, OutboxUrl { page: 3, state: "failed".into() });
        assert_eq!(OutboxUrl::parse(&serde_urlencoded::to_string(&q).unwrap_or_default()), q);
        let junk = OutboxUrl::parse("page=0&state=lost");
        assert_eq!(junk, OutboxUrl { page: 1, state: String::new() });
        assert_eq!(serde_urlencoded::to_string(&junk).ok().as_deref(), Some(""));
        let api = q.to_api();
        assert_eq!((api.state, api.page, api.per_page), (Some(OutboxState::Failed), Some(3), Some(PER_PAGE)));
        assert_eq!(junk.to_api().state, None);
        for s in STATES {
            assert_eq!(parse_state(s.as_str()), Some(s));
        }
    }

    #[test]
    fn counts_add_up_and_a_missing_state_has_none() {
        let counts = [c(OutboxState::Sent, 7), c(OutboxState::Failed, 2)];
        assert_eq!(count_of(&counts, None), 9);
        assert_eq!(count_of(&counts, Some(OutboxState::Failed)), 2);
        assert_eq!(count_of(&counts, Some(OutboxState::Pending)), 0);
    }

    #[test]
    fn a_requeue_moves_one_mail_from_failed_to_pending() {
        let mut counts = vec![c(OutboxState::Sent, 7), c(OutboxState::Failed, 2)];
        moved(&mut counts, OutboxState::Failed, OutboxState::Pending);
        assert_eq!(count_of(&counts, Some(OutboxState::Failed)), 1);
        assert_eq!(count_of(&counts, Some(OutboxState::Pending)), 1);
        assert_eq!(count_of(&counts, None), 9);
        moved(&mut counts, OutboxState::Pending, OutboxState::Pending);
        assert_eq!(count_of(&counts, Some(OutboxState::Pending)), 1);
        let mut none = vec![];
        moved(&mut none, OutboxState::Failed, OutboxState::Pending);
        assert_eq!(none, [c(OutboxState::Pending, 1)], "never below zero");
    }
}
