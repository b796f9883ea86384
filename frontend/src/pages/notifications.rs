//! `/notifications`: the signed-in user's notifications (newest first, unread ones
//! highlighted, each opening what it is about and marking itself read), "Mark all read", and
//! the mail preferences; plus the words for notification events the outbox page shares.

use chrono::{DateTime, Utc};
use retail_api_types::{Notification, NotificationList, NotificationPrefs, NotifyEvent, PageQuery, Role};
use yew::prelude::*;
use yew_router::prelude::*;

use super::NeedsLogin;
use crate::clock::now_utc;
use crate::components::{ErrorBox, Loading, Pager, use_notifications};
use crate::format::format_when;
use crate::hooks::{Edit, Load, use_clamped_page, use_load, use_session, use_title, use_url_page};
use crate::routes::Route;
use crate::services::{ApiError, notifications};

const PER_PAGE: u32 = 20;

// ---------------------------------------------------------------------------------------------
// Words and pure helpers
// ---------------------------------------------------------------------------------------------

/// A notification event in plain words.
pub fn event_label(event: NotifyEvent) -> &'static str {
    match event {
        NotifyEvent::OrderConfirmed => "Order confirmed",
        NotifyEvent::OrderShipped => "Order shipped",
        NotifyEvent::OrderDelivered => "Order delivered",
        NotifyEvent::OrderCancelled => "Order cancelled",
        NotifyEvent::ReturnApproved => "Return approved",
        NotifyEvent::ReturnReceived => "Return received",
        NotifyEvent::ReturnRefunded => "Return refunded",
        NotifyEvent::ReturnCreditGranted => "Return settled with store credit",
        NotifyEvent::ReturnRejected => "Return rejected",
        NotifyEvent::ReturnCompleted => "Return completed",
        NotifyEvent::ReturnCancelled => "Return cancelled",
        NotifyEvent::ReturnSlaBreached => "Return past its target",
        NotifyEvent::RefundFailed => "Refund failed",
    }
}

/// How long ago `at` was, seen from `now`: `just now`, `5 min ago`, `3 h ago`, `2 d ago`; the
/// date and time after a week. A moment ahead of `now` (clocks differ) is `just now`.
pub fn time_ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = now.signed_duration_since(at).num_seconds();
    match secs {
        s if s < 60 => "just now".to_owned(),
        s if s < 3_600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3_600),
        s if s < 7 * 86_400 => format!("{} d ago", s / 86_400),
        _ => format_when(&at),
    }
}

/// Which staff alerts a role can choose: (SLA breaches, refund failures). Customers none; every
/// staff role hears of breaches in its team's queue; refund failures go to finance and admins.
pub fn staff_alerts(role: Role) -> (bool, bool) {
    match role {
        Role::Customer => (false, false),
        Role::Support | Role::Warehouse => (true, false),
        Role::Finance | Role::Admin => (true, true),
    }
}

/// The SPA route a notification's `link` (`/returns/7`) points to; `None` for a path the
/// SPA does not know (the browser then follows the link itself).
pub fn route_of(link: &str) -> Option<Route> {
    let path = link.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    Route::recognize(path).filter(|r| *r != Route::NotFound)
}

/// A list after one of its notifications was read (`read`: as the server answered): that row
/// replaced, the unread count one less when it was unread before.
pub fn with_read(list: &mut NotificationList, read: Notification) {
    if let Some(row) = list.items.iter_mut().find(|n| n.id == read.id) {
        if !row.read && read.read {
            list.unread = (list.unread - 1).max(0);
        }
        *row = read;
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

/// `/notifications`.
#[component]
pub fn NotificationsPage() -> Html {
    use_title("Notifications");
    html! {
        <section class="notifications-page">
            <h1>{ "Notifications" }</h1>
            <NeedsLogin what="your notifications">
                <Inbox />
                <Preferences />
            </NeedsLogin>
        </section>
    }
}

/// `#notifications` (`li.notification`, `.unread`), `#notifications-read-all`, the pager.
#[component]
fn Inbox() -> Html {
    let session = use_session();
    let bell = use_notifications();
    let _location = use_location();
    let _navigator = use_navigator();
    let paging = use_url_page(Route::Notifications);
    let page = paging.page;
    let list = {
        let api = session.api.clone();
        use_load(page, move |page| async move {
            notifications::list(&api, &PageQuery { page: Some(page), per_page: Some(PER_PAGE) }).await
        })
    };
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);

    // The bell shows what this list knows (it is the fresher answer when it arrives) …
    let known = match list.get() {
        Load::Ready(l) => Some(l.unread),
        _ => None,
    };
    {
        let set = bell.set_unread.clone();
        use_effect_with(known, move |k| {
            if let Some(n) = *k {
                set.emit(n);
            }
        });
    }
    // … and when the bell's count moves away from it (a new notification came), the list is
    // read again, so the page shows it.
    let known_now = use_mut_ref(|| None::<i64>);
    *known_now.borrow_mut() = known;
    {
        let (known_now, reload) = (known_now.clone(), list.reloader());
        use_effect_with(bell.unread, move |bell| {
            let known = *known_now.borrow();
            if let (Some(b), Some(k)) = (*bell, known)
                && b != k
            {
                reload.emit(());
            }
        });
    }

    let pagination = match list.get() {
        Load::Ready(l) => Some(l.pagination),
        _ => None,
    };
    let clamping = use_clamped_page(&paging, pagination.as_ref());
    let on_page = paging.on_page.clone();

    // One notification read (opened, or "Mark read"): the row and the count change at once.
    let on_read = {
        let (api, edit, refresh, error) =
            (session.api.clone(), list.editor(), bell.refresh.clone(), error.clone());
        Callback::from(move |id: i64| {
            let (api, edit, refresh, error) = (api.clone(), edit.clone(), refresh.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match notifications::read(&api, id).await {
                    Ok(n) => {
                        edit.emit(Box::new(move |l: &mut NotificationList| with_read(l, n))
                            as Edit<NotificationList>);
                        refresh.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_read_all = {
        let (api, edit, bell, busy, error, message) =
            (session.api.clone(), list.editor(), bell.clone(), busy.clone(), error.clone(), message.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            message.set(None);
            let (api, edit, bell, busy, error, message) =
                (api.clone(), edit.clone(), bell.clone(), busy.clone(), error.clone(), message.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match notifications::read_all(&api).await {
                    Ok(first) => {
                        let unread = first.unread;
                        edit.emit(Box::new(move |l: &mut NotificationList| {
                            if l.pagination.page == first.pagination.page {
                                *l = first;
                            } else {
                                l.items.iter_mut().for_each(|n| n.read = true);
                                l.unread = unread;
                            }
                        }) as Edit<NotificationList>);
                        bell.set_unread.emit(unread);
                        bell.refresh.emit(());
                        message.set(Some("All notifications are marked read.".to_owned()));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let unread = known.unwrap_or(0);
    let toolbar = html! {
        <div class="notifications-toolbar">
            <p id="notifications-unread" class="muted" data-unread={known.map(|n| n.to_string())}>
                { match known {
                    None => String::new(),
                    Some(0) => "Nothing unread.".to_owned(),
                    Some(1) => "1 unread notification.".to_owned(),
                    Some(n) => format!("{n} unread notifications."),
                } }
            </p>
            <button id="notifications-read-all" type="button" class="button-secondary"
                disabled={*busy || unread == 0} onclick={on_read_all}>
                { if *busy { "Marking…" } else { "Mark all read" } }
            </button>
        </div>
    };
    let notes = html! {
        <>
            if let Some(e) = &*error {
                <div id="notifications-error" class="alert alert-error" role="alert"
                    data-status={e.status().map(|s| s.to_string())}>
                    { e.detail() }
                </div>
            }
            if let Some(m) = &*message {
                <p id="notifications-message" class="alert alert-success" role="status">{ m }</p>
            }
        </>
    };
    let now = now_utc();
    let body = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if clamping => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ "No notifications yet. We will tell you here when your orders and returns move on." }</p>
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <ul id="notifications" class="notification-list">
                    { for l.items.iter().map(|n| html! {
                        <NotificationItem key={n.id} notification={n.clone()} {now} on_read={on_read.clone()} />
                    }) }
                </ul>
                <Pager pagination={l.pagination} noun={("notification", "notifications")} {on_page} />
            </>
        },
    };
    html! {
        <section id="notification-centre" class="card notification-centre" aria-label="Your notifications">
            { toolbar }
            { notes }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct NotificationItemProps {
    notification: Notification,
    now: DateTime<Utc>,
    on_read: Callback<i64>,
}

/// `li.notification` (`.unread`, `data-id`, `data-event`, `data-read`): its title links to
/// what it is about (in the SPA) and marks it read; `.notification-mark-read` marks it read
/// without leaving.
#[component]
fn NotificationItem(props: &NotificationItemProps) -> Html {
    let navigator = use_navigator();
    let n = &props.notification;
    let route = route_of(&n.link);
    let onclick = {
        let (id, unread, on_read) = (n.id, !n.read, props.on_read.clone());
        Callback::from(move |e: MouseEvent| {
            if unread {
                on_read.emit(id);
            }
            // Let the browser handle new-tab/new-window clicks, and links the SPA does not know.
            if e.button() != 0 || e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() {
                return;
            }
            if let (Some(nav), Some(route)) = (&navigator, &route) {
                e.prevent_default();
                nav.push(route);
            }
        })
    };
    let on_mark = {
        let (id, on_read) = (n.id, props.on_read.clone());
        Callback::from(move |_: MouseEvent| on_read.emit(id))
    };
    html! {
        <li class={classes!("notification", (!n.read).then_some("unread"))} data-id={n.id.to_string()}
            data-event={n.event.as_str()} data-read={n.read.to_string()}>
            <div class="notification-main">
                if !n.read {
                    <span class="visually-hidden">{ "Unread: " }</span>
                }
                <a class="notification-link" href={n.link.clone()} {onclick}>
                    <span class="notification-title">{ &n.title }</span>
                </a>
                if !n.body.is_empty() {
                    <p class="notification-body">{ &n.body }</p>
                }
                <div class="notification-meta muted">
                    <span class="notification-event">{ event_label(n.event) }</span>
                    { " · " }
                    <time class="notification-time" datetime={n.created_at.to_rfc3339()}
                        title={format_when(&n.created_at)}>
                        { time_ago(props.now, n.created_at) }
                    </time>
                </div>
            </div>
            if !n.read {
                <button type="button" class="notification-mark-read button-secondary" onclick={on_mark}>
                    { "Mark read" }
                </button>
            }
        </li>
    }
}

/// `#notification-prefs`: `#pref-non-essential` for everyone; `#pref-sla-breach` for staff and
/// `#pref-refund-failure` for finance and admins; `#prefs-save`, then `#prefs-message` or
/// `#prefs-error`.
#[component]
fn Preferences() -> Html {
    let session = use_session();
    let role = session.user().map_or(Role::Customer, |u| u.role);
    let (sla, refunds) = staff_alerts(role);
    let loaded = {
        let api = session.api.clone();
        use_load((), move |()| async move { notifications::prefs(&api).await })
    };
    let draft = use_state(|| None::<NotificationPrefs>);
    let busy = use_state(|| false);
    let saved = use_state(|| false);
    let error = use_state(|| None::<ApiError>);

    let current = match loaded.get() {
        Load::Ready(p) => Some((*draft).unwrap_or(*p)),
        _ => None,
    };
    let toggle = |set: fn(&mut NotificationPrefs, bool)| {
        let (draft, saved, current) = (draft.clone(), saved.clone(), current);
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            if let Some(mut p) = current {
                set(&mut p, on);
                draft.set(Some(p));
                saved.set(false);
            }
        })
    };
    let on_submit = {
        let (api, edit, draft, busy, saved, error) =
            (session.api.clone(), loaded.editor(), draft.clone(), busy.clone(), saved.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(body) = current else { return };
            if *busy {
                return;
            }
            busy.set(true);
            saved.set(false);
            error.set(None);
            let (api, edit, draft, busy, saved, error) =
                (api.clone(), edit.clone(), draft.clone(), busy.clone(), saved.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match notifications::set_prefs(&api, &body).await {
                    Ok(p) => {
                        edit.emit(Box::new(move |slot: &mut NotificationPrefs| *slot = p)
                            as Edit<NotificationPrefs>);
                        draft.set(None);
                        saved.set(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let form = match (loaded.get(), current) {
        (Load::Failed(e), _) => html! { <ErrorBox error={e.clone()} on_retry={loaded.reloader()} /> },
        (_, None) => html! { <Loading /> },
        (_, Some(p)) => html! {
            <form id="prefs-form" class="form prefs-form" onsubmit={on_submit}>
                <fieldset class="prefs-group">
                    <legend>{ "Email" }</legend>
                    <label class="check">
                        <input id="pref-non-essential" type="checkbox" checked={p.non_essential}
                            onchange={toggle(|p, on| p.non_essential = on)} disabled={*busy} />
                        <span>{ "Email me about shipping, delivery and each step of my returns" }</span>
                    </label>
                    <p id="prefs-money-note" class="muted prefs-note">
                        { "Mail about money is always sent: order confirmations (your receipt), cancellations, \
                           refunds and store credit. Everything also shows here, whatever you choose." }
                    </p>
                </fieldset>
                if sla || refunds {
                    <fieldset class="prefs-group">
                        <legend>{ "Staff alerts" }</legend>
                        if sla {
                            <label class="check">
                                <input id="pref-sla-breach" type="checkbox" checked={p.sla_breach}
                                    onchange={toggle(|p, on| p.sla_breach = on)} disabled={*busy} />
                                <span>{ "A return in my team's queue is past its target" }</span>
                            </label>
                        }
                        if refunds {
                            <label class="check">
                                <input id="pref-refund-failure" type="checkbox" checked={p.refund_failure}
                                    onchange={toggle(|p, on| p.refund_failure = on)} disabled={*busy} />
                                <span>{ "A refund failed at the payment provider" }</span>
                            </label>
                        }
                        <p class="muted prefs-note">
                            { "A staff alert you turn off is neither mailed nor shown here." }
                        </p>
                    </fieldset>
                }
                if let Some(e) = &*error {
                    <div id="prefs-error" class="alert alert-error" role="alert"
                        data-status={e.status().map(|s| s.to_string())}>
                        { format!("Your preferences were not saved. {}", e.detail()) }
                    </div>
                }
                if *saved {
                    <p id="prefs-message" class="alert alert-success" role="status">{ "Your preferences are saved." }</p>
                }
                <div class="row-buttons">
                    <button id="prefs-save" type="submit" disabled={*busy}>
                        { if *busy { "Saving…" } else { "Save preferences" } }
                    </button>
                </div>
            </form>
        },
    };
    html! {
        <section id="notification-prefs" class="card notification-prefs" aria-labelledby="prefs-heading">
            <h2 id="prefs-heading">{ "Preferences" }</h2>
            { form }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use retail_api_types::Pagination;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap_or_default().with_timezone(&Utc)
    }

    fn note(id: i64, read: bool) -> Notification {
        Notification {
            id,
            event: NotifyEvent::ReturnApproved,
            title: format!("n{id}"),
            body: String::new(),
            link: format!("/returns/{id}"),
            read,
            created_at: at("2026-11-26T10:00:00Z"),
        }
    }

    #[test]
    fn times_read_as_how_long_ago() {
        let now = at("2026-11-26T10:00:00Z");
        assert_eq!(time_ago(now, now), "just now");
        assert_eq!(time_ago(now, at("2026-11-26T09:59:01Z")), "just now");
        assert_eq!(time_ago(now, at("2026-11-26T10:00:30Z")), "just now", "a clock ahead");
        assert_eq!(time_ago(now, at("2026-11-26T09:59:00Z")), "1 min ago");
        assert_eq!(time_ago(now, at("2026-11-26T09:01:00Z")), "59 min ago");
        assert_eq!(time_ago(now, at("2026-11-26T09:00:00Z")), "1 h ago");
        assert_eq!(time_ago(now, at("2026-11-25T10:00:01Z")), "23 h ago");
        assert_eq!(time_ago(now, at("2026-11-25T10:00:00Z")), "1 d ago");
        assert_eq!(time_ago(now, at("2026-11-19T10:00:01Z")), "6 d ago");
        assert_eq!(time_ago(now, at("2026-11-19T10:00:00Z")), "2026-11-19 10:00 UTC");
    }

    #[test]
    fn links_open_spa_routes_and_leave_the_rest_to_the_browser() {
        assert_eq!(route_of("/returns/7"), Some(Route::Return { id: 7 }));
        assert_eq!(route_of("/orders/12"), Some(Route::Order { id: 12 }));
        assert_eq!(route_of("/orders/12?x=1#top"), Some(Route::Order { id: 12 }));
        assert_eq!(route_of("/staff/returns"), Some(Route::StaffReturns));
        assert_eq!(route_of("/no/such/page"), None);
        assert_eq!(route_of("https://example.com/returns/7"), None);
        assert_eq!(route_of("//example.com/returns/7"), None);
        assert_eq!(route_of(""), None);
    }

    #[test]
    fn staff_alerts_follow_the_role() {
        assert_eq!(staff_alerts(Role::Customer), (false, false));
        assert_eq!(staff_alerts(Role::Support), (true, false));
        assert_eq!(staff_alerts(Role::Warehouse), (true, false));
        assert_eq!(staff_alerts(Role::Finance), (true, true));
        assert_eq!(staff_alerts(Role::Admin), (true, true));
    }

    #[test]
    fn reading_one_changes_its_row_and_the_count_once() {
        let mut list = NotificationList {
            items: vec![note(1, false), note(2, true)],
            unread: 4,
            pagination: Pagination { page: 1, per_page: 20, total: 2, total_pages: 1 },
        };
        with_read(&mut list, note(1, true));
        assert_eq!((list.items[0].read, list.unread), (true, 3));
        with_read(&mut list, note(1, true));
        assert_eq!(list.unread, 3, "reading it again counts nothing");
        with_read(&mut list, note(2, true));
        assert_eq!(list.unread, 3, "already read");
        with_read(&mut list, note(9, true));
        assert_eq!(list.unread, 3, "not on this page");
    }

    #[test]
    fn every_event_has_words() {
        for e in NotifyEvent::ALL {
            assert!(!event_label(e).is_empty(), "{e:?}");
        }
    }
}
