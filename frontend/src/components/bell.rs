//! The notification bell: the header's link to `/notifications` with the unread count, and the
//! context that keeps that count (polled while someone is signed in and the tab is visible,
//! read again at once when the user reads notifications).

use std::rc::Rc;

use gloo::events::EventListener;
use retail_api_types::PageQuery;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::{Load, use_polled, use_session};
use crate::routes::Route;
use crate::services::notifications;

/// How often the unread count is read, in milliseconds.
pub const POLL_MS: u32 = 10_000;

/// What the badge says for `unread` notifications: nothing for none, `9+` above nine.
pub fn badge_text(unread: i64) -> Option<String> {
    match unread {
        n if n <= 0 => None,
        n if n > 9 => Some("9+".to_owned()),
        n => Some(n.to_string()),
    }
}

/// The bell's name for screen readers (and its tooltip).
pub fn bell_label(unread: Option<i64>) -> String {
    match unread {
        None => "Notifications".to_owned(),
        Some(n) if n <= 0 => "Notifications, none unread".to_owned(),
        Some(n) => format!("Notifications, {n} unread"),
    }
}

/// What the provider keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BellState {
    /// Unread notifications of the signed-in user, once known.
    pub unread: Option<i64>,
    /// Bumped to read the count again now.
    pub kicks: u32,
}

/// Changes to [`BellState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BellAction {
    /// A count the server gave (`None`: nobody is signed in any more).
    Set(Option<i64>),
    /// Read the count again now.
    Kick,
}

impl Reducible for BellState {
    type Action = BellAction;

    fn reduce(self: Rc<Self>, action: BellAction) -> Rc<Self> {
        Rc::new(match action {
            BellAction::Set(unread) => BellState { unread: unread.map(|n| n.max(0)), ..*self },
            BellAction::Kick => BellState { kicks: self.kicks.wrapping_add(1), ..*self },
        })
    }
}

/// The context value.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationsContext {
    /// Unread notifications of the signed-in user, once known.
    pub unread: Option<i64>,
    /// Reads the count again now (after the user read notifications).
    pub refresh: Callback<()>,
    /// Puts a count the server just gave in place (a page of notifications, "mark all read").
    pub set_unread: Callback<i64>,
}

impl NotificationsContext {
    /// A context outside any provider (never used by the app; keeps the hook total).
    fn detached() -> NotificationsContext {
        NotificationsContext { unread: None, refresh: Callback::noop(), set_unread: Callback::noop() }
    }
}

/// The current notifications context.
#[hook]
pub fn use_notifications() -> NotificationsContext {
    use_context::<NotificationsContext>().unwrap_or_else(NotificationsContext::detached)
}

/// Whether the tab is visible (`document.visibilityState`), following `visibilitychange`.
#[hook]
fn use_tab_visible() -> bool {
    let visible = use_state(|| !gloo::utils::document().hidden());
    {
        let visible = visible.clone();
        use_effect_with((), move |()| {
            let doc = gloo::utils::document();
            let listener = EventListener::new(&doc, "visibilitychange", move |_| {
                visible.set(!gloo::utils::document().hidden());
            });
            // Dropping the listener removes it.
            move || drop(listener)
        });
    }
    *visible
}

#[derive(Properties, PartialEq)]
pub struct NotificationsProviderProps {
    #[prop_or_default]
    pub children: Html,
}

/// Provides [`NotificationsContext`]. The count is polled only while someone is signed in and
/// the tab is visible (a hidden tab stops polling and reads at once when shown again); the
/// last count stays in hand meanwhile, so the badge does not flicker.
#[component]
pub fn NotificationsProvider(props: &NotificationsProviderProps) -> Html {
    let session = use_session();
    let visible = use_tab_visible();
    let state = use_reducer(BellState::default);
    let user = session.user().map(|u| u.id.get());
    {
        // Someone else signed in, or nobody: forget the count.
        let d = state.dispatcher();
        use_effect_with(user, move |_| d.dispatch(BellAction::Set(None)));
    }
    let context = {
        let (d1, d2) = (state.dispatcher(), state.dispatcher());
        NotificationsContext {
            unread: state.unread,
            refresh: Callback::from(move |()| d1.dispatch(BellAction::Kick)),
            set_unread: Callback::from(move |n| d2.dispatch(BellAction::Set(Some(n)))),
        }
    };
    let on_count = context.set_unread.clone();
    html! {
        <ContextProvider<NotificationsContext> {context}>
            if let Some(user) = user.filter(|_| visible) {
                <UnreadPoller {user} kicks={state.kicks} {on_count} />
            }
            { props.children.clone() }
        </ContextProvider<NotificationsContext>>
    }
}

#[derive(Properties, PartialEq)]
struct UnreadPollerProps {
    user: i64,
    kicks: u32,
    on_count: Callback<i64>,
}

/// Reads the unread count (`GET /api/notifications?per_page=1`) now, every [`POLL_MS`] and
/// afresh whenever `kicks` changes (answers of reads begun before are dropped); reports every
/// answer. Renders nothing; unmounting it stops the polling.
#[component]
fn UnreadPoller(props: &UnreadPollerProps) -> Html {
    let session = use_session();
    let polled = {
        let api = session.api.clone();
        use_polled((props.user, props.kicks), POLL_MS, move |_| {
            let api = api.clone();
            async move {
                let query = PageQuery { page: Some(1), per_page: Some(1) };
                notifications::list(&api, &query).await.map(|l| l.unread)
            }
        })
    };
    let answer = match polled.get() {
        Load::Ready(n) => Some((*n, polled.at_ms())),
        _ => None,
    };
    let on_count = props.on_count.clone();
    use_effect_with(answer, move |a| {
        if let Some((n, _)) = a {
            on_count.emit(*n);
        }
    });
    html! {}
}

/// `#notification-bell`: a link to `/notifications` (`data-unread` once the count is known)
/// with `#notification-count` (`data-count`, the exact number; the text says `9+` above
/// nine), which is absent while nothing is unread.
#[component]
pub fn Bell() -> Html {
    let ctx = use_notifications();
    let navigator = use_navigator();
    let onclick = Callback::from(move |e: MouseEvent| {
        // Let the browser handle new-tab/new-window clicks.
        if e.button() != 0 || e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() {
            return;
        }
        if let Some(nav) = &navigator {
            e.prevent_default();
            nav.push(&Route::Notifications);
        }
    });
    let label = bell_label(ctx.unread);
    let badge = ctx.unread.and_then(|n| badge_text(n).map(|text| (n, text)));
    html! {
        <a id="notification-bell" class="bell-link" href={Route::Notifications.to_path()} {onclick}
            aria-label={label.clone()} title={label} data-unread={ctx.unread.map(|n| n.to_string())}>
            <svg class="bell-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"
                fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
                <path d="M13.73 21a2 2 0 0 1-3.46 0" />
            </svg>
            if let Some((n, text)) = badge {
                <span id="notification-count" class="cart-badge bell-badge" data-count={n.to_string()}
                    aria-hidden="true">
                    { text }
                </span>
            }
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: BellState, a: BellAction) -> BellState {
        *Rc::new(s).reduce(a)
    }

    #[test]
    fn the_badge_shows_nothing_for_none_and_caps_at_nine_plus() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(-3), None);
        assert_eq!(badge_text(1).as_deref(), Some("1"));
        assert_eq!(badge_text(9).as_deref(), Some("9"));
        assert_eq!(badge_text(10).as_deref(), Some("9+"));
        assert_eq!(badge_text(1234).as_deref(), Some("9+"));
    }

    #[test]
    fn the_bell_says_how_many_are_unread() {
        assert_eq!(bell_label(None), "Notifications");
        assert_eq!(bell_label(Some(0)), "Notifications, none unread");
        assert_eq!(bell_label(Some(12)), "Notifications, 12 unread");
    }

    #[test]
    fn counts_are_kept_and_kicks_only_ask_for_a_new_read() {
        let s = reduce(BellState::default(), BellAction::Set(Some(3)));
        assert_eq!(s, BellState { unread: Some(3), kicks: 0 });
        let kicked = reduce(s, BellAction::Kick);
        assert_eq!(kicked, BellState { unread: Some(3), kicks: 1 }, "the count stays until the answer");
        assert_eq!(reduce(kicked, BellAction::Set(Some(-1))).unread, Some(0));
        assert_eq!(reduce(kicked, BellAction::Set(None)).unread, None, "signed out");
        let wrapped = reduce(BellState { unread: None, kicks: u32::MAX }, BellAction::Kick);
        assert_eq!(wrapped.kicks, 0);
    }
}
