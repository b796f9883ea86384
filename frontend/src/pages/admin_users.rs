use retail_api_types::{Role, User, UserList, UserQuery};
use serde::Serialize;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{AdminNav, Forbidden, bind_input};
use crate::components::{ErrorBox, Loading, Pager, Select, past_end};
use crate::hooks::{Load, use_load, use_session, use_settled, use_title};
use crate::routes::Route;
use crate::services::{ApiError, admin};

const PER_PAGE: u32 = 20;

/// `/admin/users`: accounts with a role picker and a Save button per row.
#[component]
pub fn AdminUsersPage() -> Html {
    use_title("Users · Admin");
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminUsers /> }
}

/// The page's state as kept in the URL (`?page=&role=&q=`), so reload, Back and links keep it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
struct UsersQuery {
    #[serde(skip_serializing_if = "is_first_page")]
    page: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    role: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    q: String,
}

fn is_first_page(page: &u32) -> bool {
    *page <= 1
}

impl UsersQuery {
    /// Reads the query string; junk falls back to defaults.
    fn parse(query_str: &str) -> UsersQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query_str.trim_start_matches('?')).unwrap_or_default();
        let mut out = UsersQuery { page: 1, ..UsersQuery::default() };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "page" => out.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "role" if Role::parse(&v).is_some() => out.role = v,
                "q" => out.q = v,
                _ => {}
            }
        }
        out
    }

    fn to_api(&self) -> UserQuery {
        UserQuery {
            page: Some(self.page.max(1)),
            per_page: Some(PER_PAGE),
            role: Role::parse(&self.role),
            q: Some(self.q.clone()).filter(|q| !q.is_empty()),
        }
    }
}

#[component]
fn AdminUsers() -> Html {
    let session = use_session();
    let location = use_location();
    let navigator = use_navigator();
    let query = location.map(|l| UsersQuery::parse(l.query_str())).unwrap_or_default();
    let search = use_state(|| query.q.clone());
    {
        let search = search.clone();
        use_effect_with(query.q.clone(), move |q| search.set(q.clone()));
    }
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    let list = {
        let api = session.api.clone();
        use_load(query.clone(), move |q| async move { admin::list_users(&api, &q.to_api()).await })
    };

    // Paging and searching are steps Back returns to; the role filter replaces the entry.
    let navigate = |replace: bool| {
        let navigator = navigator.clone();
        Callback::from(move |q: UsersQuery| {
            let Some(nav) = &navigator else { return };
            let done = if replace {
                nav.replace_with_query(&Route::AdminUsers, &q)
            } else {
                nav.push_with_query(&Route::AdminUsers, &q)
            };
            if let Err(e) = done {
                gloo::console::error!(format!("navigation failed: {e}"));
            }
        })
    };
    let (go, replace) = (navigate(false), navigate(true));
    let settled = use_settled(query.clone(), replace.clone());
    let shown = settled.shown.clone();
    let on_role_filter = {
        let (choose, shown) = (settled.choose.clone(), shown.clone());
        Callback::from(move |role| choose.emit(UsersQuery { page: 1, role, ..shown.clone() }))
    };
    let on_search = {
        let (go, shown, search) = (go.clone(), shown.clone(), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            go.emit(UsersQuery { page: 1, q: search.trim().to_owned(), ..shown.clone() });
        })
    };
    let on_page = {
        let (go, query) = (go.clone(), query.clone());
        Callback::from(move |page| {
            go.emit(UsersQuery { page, ..query.clone() });
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
                replace.emit(UsersQuery { page, ..query });
            }
        });
    }
    let on_changed = {
        let (edit, message, error) = (list.editor(), message.clone(), error.clone());
        Callback::from(move |u: User| {
            message.set(Some(format!("{} is now {}.", u.email, u.role)));
            error.set(None);
            edit.emit(Box::new(move |l: &mut UserList| {
                if let Some(row) = l.items.iter_mut().find(|r| r.id == u.id) {
                    *row = u;
                }
            }));
        })
    };
    let on_failed = {
        let (message, error) = (message.clone(), error.clone());
        Callback::from(move |e: ApiError| {
            message.set(None);
            error.set(Some(e));
        })
    };

    let mut role_options = vec![(String::new(), "All roles".to_owned())];
    role_options.extend(Role::ALL.iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned())));
    let me = session.user().map(|u| u.id);

    let table = match list.get() {
        Load::Loading => html! { <Loading /> },
        Load::Ready(_) if overflow.is_some() => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(403) => html! { <Forbidden /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={list.reloader()} /> },
        Load::Ready(l) if l.items.is_empty() => html! {
            <div id="empty" class="empty-state"><p>{ "No users match" }</p></div>
        },
        Load::Ready(l) => html! {
            <>
                <div class="table-wrap">
                    <table id="admin-users" class="data-table">
                        <thead>
                            <tr><th>{ "Email" }</th><th>{ "Name" }</th><th>{ "Joined" }</th><th>{ "Role" }</th></tr>
                        </thead>
                        <tbody>
                            { for l.items.iter().map(|u| html! {
                                <UserRow key={u.id.get()} user={u.clone()} is_me={me == Some(u.id)}
                                    on_changed={on_changed.clone()} on_failed={on_failed.clone()} />
                            }) }
                        </tbody>
                    </table>
                </div>
                <Pager pagination={l.pagination} noun={("user", "users")} {on_page} />
            </>
        },
    };

    html! {
        <section class="admin-page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            <h2>{ "Users" }</h2>
            <form class="filters" role="search" onsubmit={on_search}>
                <div class="search-row">
                    <input id="user-search" type="search" placeholder="Email or name" aria-label="Search users"
                        value={(*search).clone()} oninput={bind_input(&search)} />
                    <button id="user-search-submit" type="submit">{ "Search" }</button>
                </div>
                <div class="filter-row">
                    <label>
                        <span>{ "Role" }</span>
                        <Select id="role-filter" options={role_options} value={shown.role.clone()}
                            onchange={on_role_filter} />
                    </label>
                </div>
            </form>
            if let Some(e) = &*error {
                <div id="users-error" class="alert alert-error" role="alert">{ e.detail() }</div>
            }
            if let Some(m) = &*message {
                <div id="users-message" class="alert alert-success" role="status">{ m }</div>
            }
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct UserRowProps {
    user: User,
    is_me: bool,
    on_changed: Callback<User>,
    on_failed: Callback<ApiError>,
}

/// One `tr.user-row`. Choosing in its `select.role-select` changes nothing yet (arrow keys on
/// a closed select fire `change` in Chromium): the `.role-save` button sends the choice, and
/// granting admin first asks in the row (`.role-confirm`, an in-page step, not
/// `window.confirm`). The select shows the stored role again once the server has answered.
#[component]
fn UserRow(props: &UserRowProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let chosen = use_state(|| None::<Role>);
    let confirming = use_state(|| false);
    let confirm_ref = use_node_ref();
    let u = &props.user;
    let stored = u.role;
    let pending = (*chosen).filter(|r| *r != stored);

    let send = {
        let (api, busy, chosen, confirming) =
            (session.api.clone(), busy.clone(), chosen.clone(), confirming.clone());
        let (on_changed, on_failed, id) = (props.on_changed.clone(), props.on_failed.clone(), u.id);
        Callback::from(move |role: Role| {
            busy.set(true);
            confirming.set(false);
            let (api, busy, chosen, on_changed, on_failed) =
                (api.clone(), busy.clone(), chosen.clone(), on_changed.clone(), on_failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::change_role(&api, id, role).await {
                    Ok(user) => on_changed.emit(user),
                    Err(e) => on_failed.emit(e),
                }
                chosen.set(None);
                busy.set(false);
            });
        })
    };
    let on_choose = {
        let (chosen, confirming) = (chosen.clone(), confirming.clone());
        Callback::from(move |value: String| {
            confirming.set(false);
            chosen.set(Role::parse(&value));
        })
    };
    let on_save = {
        let (send, confirming) = (send.clone(), confirming.clone());
        Callback::from(move |_: MouseEvent| match pending {
            Some(Role::Admin) => confirming.set(true),
            Some(role) => send.emit(role),
            None => {}
        })
    };
    let on_confirm = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send.emit(Role::Admin))
    };
    let on_cancel = {
        let (chosen, confirming) = (chosen.clone(), confirming.clone());
        Callback::from(move |_: MouseEvent| {
            confirming.set(false);
            chosen.set(None);
        })
    };
    // The confirmation takes the focus (on its safe button), so keyboard users land on it.
    {
        let confirm_ref = confirm_ref.clone();
        use_effect_with(*confirming, move |open| {
            if *open && let Some(el) = confirm_ref.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        });
    }

    let options: Vec<(String, String)> =
        Role::ALL.iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned())).collect();
    let shown = pending.unwrap_or(stored);
    html! {
        <tr class={classes!("user-row", pending.is_some().then_some("changed"))}
            data-id={u.id.to_string()} data-email={u.email.clone()}>
            <td class="user-email" data-label="Email">
                { &u.email }
                if props.is_me { <span class="tag tag-muted">{ "you" }</span> }
            </td>
            <td class="user-name" data-label="Name">{ &u.display_name }</td>
            <td class="user-created" data-label="Joined">{ u.created_at.date_naive().to_string() }</td>
            <td class="user-role" data-label="Role">
                <div class="role-edit">
                    <Select class="role-select" options={options} value={shown.as_str().to_owned()} onchange={on_choose}
                        disabled={*busy} aria_label={AttrValue::from(format!("Role of {}", u.email))} />
                    <button class="role-save" type="button" disabled={*busy || pending.is_none() || *confirming}
                        onclick={on_save}>
                        { if *busy { "Saving…" } else { "Save" } }
                    </button>
                    if pending.is_some() && !*busy && !*confirming {
                        <button class="role-reset button-secondary" type="button" onclick={on_cancel.clone()}>
                            { "Undo" }
                        </button>
                    }
                </div>
                if *confirming {
                    <div class="role-confirm alert alert-warning" role="alertdialog"
                        aria-label={format!("Make {} an admin?", u.email)}>
                        <p>{ format!("Make {} an admin? Admins can change every product, account and role.", u.email) }</p>
                        <div class="row-buttons">
                            <button ref={confirm_ref} class="role-confirm-no button-secondary" type="button"
                                onclick={on_cancel}>{ "Cancel" }</button>
                            <button class="role-confirm-yes" type="button" onclick={on_confirm}>
                                { "Make admin" }
                            </button>
                        </div>
                    </div>
                }
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_query_round_trips_and_junk_falls_back() {
        let q = UsersQuery::parse("?page=2&role=finance&q=ann");
        assert_eq!(q, UsersQuery { page: 2, role: "finance".into(), q: "ann".into() });
        assert_eq!(UsersQuery::parse(&serde_urlencoded::to_string(&q).unwrap_or_default()), q);
        let junk = UsersQuery::parse("page=0&role=emperor");
        assert_eq!(junk, UsersQuery { page: 1, ..UsersQuery::default() });
        assert_eq!(serde_urlencoded::to_string(&junk).ok().as_deref(), Some(""));
    }
}
