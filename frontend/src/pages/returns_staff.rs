//! `/staff/returns`: the teams' return queues (support, warehouse, finance, or all), searched
//! and filtered, oldest first with their age against the stage's target; and the figures
//! (counts and median times per stage, what the dispositions moved).

use retail_api_types::{ReturnQueue, RmaFigures, RmaStage, Role, StaffReturnQuery};
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use super::bind_input;
use super::returns::{RmaStageTag, format_age, reason_label, stage_label};
use crate::components::{AppLink, ErrorBox, Loading, Pager, Select, past_end};
use crate::format::{cents_to_decimal, count_items, format_money, format_when};
use crate::hooks::{Load, use_load, use_session, use_settled, use_title};
use crate::routes::Route;
use crate::services::returns;

const PER_PAGE: u32 = 20;

/// A tab of the page: a team's queue, or every return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueTab {
    All,
    Support,
    Warehouse,
    Finance,
}

impl QueueTab {
    /// Every tab, in the order shown.
    pub const ALL: [QueueTab; 4] = [QueueTab::Support, QueueTab::Warehouse, QueueTab::Finance, QueueTab::All];

    /// The name in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueTab::All => "all",
            QueueTab::Support => "support",
            QueueTab::Warehouse => "warehouse",
            QueueTab::Finance => "finance",
        }
    }

    /// The tab's title.
    pub fn label(self) -> &'static str {
        match self {
            QueueTab::All => "All returns",
            QueueTab::Support => "Support",
            QueueTab::Warehouse => "Warehouse",
            QueueTab::Finance => "Finance",
        }
    }

    /// Parses the URL name.
    pub fn parse(raw: &str) -> Option<QueueTab> {
        QueueTab::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// The API's queue (`None`: every return).
    pub fn queue(self) -> Option<ReturnQueue> {
        match self {
            QueueTab::All => None,
            QueueTab::Support => Some(ReturnQueue::Support),
            QueueTab::Warehouse => Some(ReturnQueue::Warehouse),
            QueueTab::Finance => Some(ReturnQueue::Finance),
        }
    }

    /// The tab a role opens on: its team's queue; every return for admins.
    pub fn of_role(role: Role) -> QueueTab {
        match role {
            Role::Support => QueueTab::Support,
            Role::Warehouse => QueueTab::Warehouse,
            Role::Finance => QueueTab::Finance,
            Role::Admin | Role::Customer => QueueTab::All,
        }
    }
}

/// The page's state as kept in the URL (`?queue=&stage=&q=&breached=true&page=`; no
/// `queue`: the role's own queue).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct QueueQuery {
    #[serde(skip_serializing_if = "is_first_page")]
    pub page: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub queue: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stage: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(skip_serializing_if = "is_false")]
    pub breached: bool,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl QueueQuery {
    /// Reads the query string; junk falls back to defaults.
    pub fn parse(query_str: &str) -> QueueQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = QueueQuery { page: 1, ..QueueQuery::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "queue" if QueueTab::parse(&v).is_some() => out.queue = v,
                "stage" if RmaStage::parse(&v).is_some() => out.stage = v,
                "q" => out.q = v,
                "breached" => out.breached = v == "true",
                _ => {}
            }
        }
        out
    }

    /// The tab shown: the one in the URL, else the role's own.
    pub fn tab(&self, role: Role) -> QueueTab {
        QueueTab::parse(&self.queue).unwrap_or_else(|| QueueTab::of_role(role))
    }

    /// The API query.
    pub fn to_api(&self, role: Role) -> StaffReturnQuery {
        StaffReturnQuery {
            queue: self.tab(role).queue(),
            stage: RmaStage::parse(&self.stage),
            q: Some(self.q.clone()).filter(|q| !q.is_empty()),
            breached: self.breached.then_some(true),
            page: Some(self.page.max(1)),
            per_page: Some(PER_PAGE),
        }
    }

    fn is_filtered(&self) -> bool {
        !(self.stage.is_empty() && self.q.is_empty() && !self.breached)
    }
}

/// The age of a return in its stage against the stage's target: `3 h 5 min of 1 d`.
pub fn age_against_sla(age_secs: i64, sla_secs: Option<i64>) -> String {
    match sla_secs {
        Some(sla) => format!("{} of {}", format_age(age_secs), format_age(sla)),
        None => format_age(age_secs),
    }
}

/// `/staff/returns`.
#[component]
pub fn StaffReturnsPage() -> Html {
    use_title("Returns · Staff");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    let Some(role) = session.user().map(|u| u.role).filter(|r| r.is_staff()) else {
        return html! {
            <div id="forbidden" class="alert alert-error" role="alert">
                <h1>{ "Not allowed" }</h1>
                <p>{ "This page is for shop staff only." }</p>
                if session.user().is_none() {
                    <p><AppLink to={Route::Login}>{ "Log in" }</AppLink>{ " with a staff account." }</p>
                }
            </div>
        };
    };
    html! {
        <section class="staff-page staff-returns-page">
            <h1>{ "Returns" }</h1>
            <Figures />
            <Queues {role} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct QueuesProps {
    role: Role,
}

#[component]
fn Queues(props: &QueuesProps) -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let role = props.role;
    let query = location.map(|l| QueueQuery::parse(l.query_str())).unwrap_or_default();
    let tab = query.tab(role);
    let q = use_state(|| query.q.clone());
    {
        let q = q.clone();
        use_effect_with(query.clone(), move |query| q.set(query.q.clone()));
    }
    let list = {
        let api = session.api.clone();
        use_load(
            query.clone(),
            move |query| async move { returns::staff_list(&api, &query.to_api(role)).await },
        )
    };
    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |q: QueueQuery| {
            let Some(nav) = &navigator else { return };
            let done = if replace {
                nav.replace_with_query(&Route::StaffReturns, &q)
            } else {
                nav.push_with_query(&Route::StaffReturns, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let settled = use_settled(query.clone(), replace.clone());
    let shown = settled.shown.clone();
    let on_stage = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |stage| choose.emit(QueueQuery { page: 1, stage, ..shown.clone() }))
    };
    let on_tab = {
        let (go, query) = (go.clone(), query.clone());
        move |t: QueueTab| {
            let (go, query) = (go.clone(), query.clone());
            Callback::from(move |_: MouseEvent| {
                // A team's queue holds only its stages: the stage filter starts afresh.
                go.emit(QueueQuery {
                    page: 1,
                    queue: t.as_str().to_owned(),
                    stage: String::new(),
                    ..query.clone()
                })
            })
        }
    };
    let on_breached = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            go.emit(QueueQuery { page: 1, breached: on, ..query.clone() })
        })
    };
    let on_filter = {
        let (go, shown, q) = (go.clone(), shown.clone(), q.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            go.emit(QueueQuery { page: 1, q: q.trim().to_owned(), ..shown.clone() });
        })
    };
    let on_clear = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |_: MouseEvent| {
            go.emit(QueueQuery { page: 1, queue: query.queue.clone(), ..QueueQuery::default() })
        })
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(QueueQuery { page, ..query.clone() });
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
                replace.emit(QueueQuery { page, ..query });
            }
        });
    }

    let stages: Vec<RmaStage> = match tab.queue() {
        Some(team) => RmaStage::ALL
            .into_iter()
            .filter(|s| s.queue().is_some_and(|r| queue_of(r) == Some(team)))
            .collect(),
        None => RmaStage::ALL.to_vec(),
    };
    let mut stage_options = vec![(String::new(), "Every stage".to_owned())];
    stage_options.extend(stages.iter().map(|s| (s.as_str().to_owned(), stage_label(*s).to_owned())));

    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state" data-testid="empty">
                <p>{ if query.is_filtered() { "No returns match." } else { "Nothing waiting in this queue." } }</p>
                if query.is_filtered() {
                    <button id="clear-filters" type="button" class="button-secondary" onclick={on_clear.clone()}>
                        { "Clear filters" }
                    </button>
                }
            </div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="staff-returns" class="data-table" data-queue={tab.as_str()}>
                        <thead>
                            <tr>
                                <th>{ "Return" }</th><th>{ "Customer" }</th><th>{ "Items" }</th><th>{ "Amount" }</th>
                                <th>{ "Stage" }</th><th>{ "In stage" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|r| html! {
                                <tr key={r.id.get()} class={classes!("rma-row", "staff-rma-row", r.breached.then_some("breached"))}
                                    data-id={r.id.to_string()} data-stage={r.stage.as_str()}
                                    data-breached={r.breached.to_string()}>
                                    <td class="cell-name" data-label="Return">
                                        <AppLink classes="rma-link" to={Route::Return { id: r.id.get() }}>
                                            { format!("Return #{}", r.id) }
                                        </AppLink>
                                        <div class="muted">
                                            { format!("Order #{} · {} · {}", r.order_id, reason_label(r.reason), format_when(&r.created_at)) }
                                        </div>
                                    </td>
                                    <td class="cell-customer" data-label="Customer">{ &r.customer_email }</td>
                                    <td data-label="Items">{ count_items(r.units) }</td>
                                    <td class="cell-price" data-label="Amount" data-cents={r.gross_cents.to_string()}>
                                        { format_money(r.gross_cents, r.currency) }
                                    </td>
                                    <td data-label="Stage">
                                        <RmaStageTag stage={r.stage} />
                                        if let Some(e) = &r.last_error {
                                            <div class="row-error rma-last-error" title={e.clone()}>{ "Last attempt failed" }</div>
                                        }
                                    </td>
                                    <td data-label="In stage" class="rma-age" data-secs={r.age_secs.to_string()}
                                        data-sla={r.sla_secs.map(|s| s.to_string())}>
                                        { age_against_sla(r.age_secs, r.sla_secs) }
                                        if r.breached {
                                            <span class="tag tag-warning breach-tag">{ " Overdue" }</span>
                                        }
                                    </td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("return", "returns")} {on_page} />
            </>
        },
    };

    html! {
        <>
            <nav id="queue-tabs" class="admin-nav" aria-label="Queues">
                { for QueueTab::ALL.into_iter().map(|t| html! {
                    <button id={format!("queue-{}", t.as_str())} type="button"
                        class={classes!("tab", (t == tab).then_some("active"))}
                        aria-pressed={(t == tab).to_string()} onclick={on_tab(t)}>
                        { t.label() }
                    </button>
                }) }
            </nav>
            <form id="returns-filters" class="filters staff-filters" role="search" onsubmit={on_filter}>
                <div class="filter-grid">
                    <label>
                        <span>{ "Search" }</span>
                        <input id="returns-q" type="search" placeholder="email, return or order number"
                            maxlength="200" value={(*q).clone()} oninput={bind_input(&q)} />
                    </label>
                    <label>
                        <span>{ "Stage" }</span>
                        <Select id="returns-stage" options={stage_options} value={shown.stage.clone()} onchange={on_stage} />
                    </label>
                    <label>
                        <input id="returns-breached" type="checkbox" checked={query.breached} onchange={on_breached} />
                        <span>{ " Overdue only" }</span>
                    </label>
                </div>
                <div class="row-buttons">
                    <button id="returns-filter-submit" type="submit">{ "Search" }</button>
                    if query.is_filtered() {
                        <button id="returns-filter-clear" type="button" class="button-secondary" onclick={on_clear}>
                            { "Clear" }
                        </button>
                    }
                </div>
            </form>
            { table }
        </>
    }
}

/// The API queue a team's role works.
fn queue_of(role: Role) -> Option<ReturnQueue> {
    match role {
        Role::Support => Some(ReturnQueue::Support),
        Role::Warehouse => Some(ReturnQueue::Warehouse),
        Role::Finance => Some(ReturnQueue::Finance),
        Role::Admin | Role::Customer => None,
    }
}

/// `#rma-figures`: counts, median times and targets per stage (`tr.figure-row`,
/// `data-stage`), and the totals.
#[component]
fn Figures() -> Html {
    let session = use_session();
    let figures = {
        let api = session.api.clone();
        use_load((), move |()| async move { returns::figures(&api).await })
    };
    let body = match figures.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={figures.reloader()} /> },
        Load::Ready(f) => figures_view(f),
    };
    html! {
        <details id="rma-figures" class="card rma-figures" open=true>
            <summary>
                { "Figures " }
                <button id="figures-refresh" type="button" class="button-secondary"
                    onclick={figures.reloader().reform(|_: MouseEvent| ())}>{ "Refresh" }</button>
            </summary>
            { body }
        </details>
    }
}

fn figures_view(f: &RmaFigures) -> Html {
    let median = |m: Option<i64>| m.map(format_age).unwrap_or_else(|| "—".to_owned());
    html! {
        <>
            <div class="table-wrap">
                <table id="rma-figures-stages" class="data-table">
                    <thead>
                        <tr><th>{ "Stage" }</th><th>{ "Now" }</th><th>{ "Median time in stage" }</th><th>{ "Target" }</th></tr>
                    </thead>
                    <tbody>
                        { for f.stages.iter().map(|s| html! {
                            <tr key={s.stage.as_str()} class="figure-row" data-stage={s.stage.as_str()}
                                data-count={s.count.to_string()}>
                                <td data-label="Stage">{ stage_label(s.stage) }</td>
                                <td data-label="Now" class="figure-count">{ s.count }</td>
                                <td data-label="Median" class="figure-median"
                                    data-secs={s.median_secs.map(|m| m.to_string())}>{ median(s.median_secs) }</td>
                                <td data-label="Target" class="figure-sla">{ median(s.sla_secs) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <dl id="rma-figures-totals" class="facts">
                <dt>{ "Refunded to cards" }</dt>
                <dd id="fig-refunded-card" data-cents={f.refunded_card_cents.to_string()}>{ cents_to_decimal(f.refunded_card_cents) }</dd>
                <dt>{ "Refunded to store credit" }</dt>
                <dd id="fig-refunded-credit" data-cents={f.refunded_credit_cents.to_string()}>{ cents_to_decimal(f.refunded_credit_cents) }</dd>
                <dt>{ "Granted as store credit" }</dt>
                <dd id="fig-credit-granted" data-cents={f.credit_granted_cents.to_string()}>{ cents_to_decimal(f.credit_granted_cents) }</dd>
                <dt>{ "Units restocked" }</dt>
                <dd id="fig-restocked">{ f.restocked_units }</dd>
                <dt>{ "Replacement orders" }</dt>
                <dd id="fig-replacements">{ f.replacements }</dd>
            </dl>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_query_round_trips_and_junk_falls_back() {
        let q = QueueQuery::parse("?page=2&queue=finance&stage=processing&q=ann&breached=true");
        assert_eq!(
            q,
            QueueQuery {
                page: 2,
                queue: "finance".into(),
                stage: "processing".into(),
                q: "ann".into(),
                breached: true
            }
        );
        assert_eq!(QueueQuery::parse(&serde_urlencoded::to_string(&q).unwrap_or_default()), q);
        let junk = QueueQuery::parse("page=0&queue=sales&stage=lost&breached=yes");
        assert_eq!(junk, QueueQuery { page: 1, ..QueueQuery::default() });
        assert_eq!(serde_urlencoded::to_string(&junk).ok().as_deref(), Some(""));
    }

    #[test]
    fn each_team_opens_on_its_own_queue() {
        let none = QueueQuery::parse("");
        assert_eq!(none.tab(Role::Support), QueueTab::Support);
        assert_eq!(none.tab(Role::Warehouse), QueueTab::Warehouse);
        assert_eq!(none.tab(Role::Finance), QueueTab::Finance);
        assert_eq!(none.tab(Role::Admin), QueueTab::All);
        assert_eq!(QueueQuery::parse("queue=all").tab(Role::Support), QueueTab::All);
        assert_eq!(QueueQuery::parse("queue=warehouse").tab(Role::Finance), QueueTab::Warehouse);
        for t in QueueTab::ALL {
            assert_eq!(QueueTab::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn the_api_query_leaves_out_what_is_not_set() {
        let api = QueueQuery::parse("stage=inspecting&breached=true").to_api(Role::Warehouse);
        assert_eq!(api.queue, Some(ReturnQueue::Warehouse));
        assert_eq!(api.stage, Some(RmaStage::Inspecting));
        assert_eq!(
            (api.breached, api.q.clone(), api.page, api.per_page),
            (Some(true), None, Some(1), Some(PER_PAGE))
        );
        let encoded = serde_urlencoded::to_string(&api).unwrap_or_default();
        assert!(encoded.contains("queue=warehouse") && encoded.contains("breached=true"), "{encoded}");
        assert!(!encoded.contains("q="), "{encoded}");
        let all = QueueQuery::parse("queue=all&q=%20ann%20").to_api(Role::Support);
        assert_eq!((all.queue, all.q.as_deref(), all.breached), (None, Some("ann"), None));
        assert!(!serde_urlencoded::to_string(&all).unwrap_or_default().contains("queue"));
    }

    #[test]
    fn ages_are_shown_against_the_target() {
        assert_eq!(age_against_sla(3 * 3_600 + 300, Some(86_400)), "3 h 5 min of 1 d");
        assert_eq!(age_against_sla(90, None), "1 min");
    }
}
