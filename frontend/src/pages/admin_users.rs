use retail_api_types::{Role, User, UserList, UserQuery};
use yew::prelude::*;

use super::{AdminNav, Forbidden, bind_input};
use crate::components::{ErrorBox, Loading, Pager, Select};
use crate::hooks::{Load, use_load, use_session, use_title};
use crate::services::{ApiError, admin};

const PER_PAGE: u32 = 20;

/// `/admin/users`: accounts with a role picker per row.
#[component]
pub fn AdminUsersPage() -> Html {
    use_title("Users · Admin");
    let session = use_session();
    if !session.is_admin() {
        return html! { <Forbidden /> };
    }
    html! { <AdminUsers /> }
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    page: u32,
    role: String,
    q: String,
}

#[component]
fn AdminUsers() -> Html {
    let session = use_session();
    let filter = use_state(|| Filter { page: 1, role: String::new(), q: String::new() });
    let search = use_state(String::new);
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    let list = {
        let api = session.api.clone();
        use_load((*filter).clone(), move |f| async move {
            let q = UserQuery {
                page: Some(f.page),
                per_page: Some(PER_PAGE),
                role: Role::parse(&f.role),
                q: Some(f.q).filter(|q| !q.is_empty()),
            };
            admin::list_users(&api, &q).await
        })
    };

    let on_role_filter = {
        let filter = filter.clone();
        Callback::from(move |role| filter.set(Filter { page: 1, role, ..(*filter).clone() }))
    };
    let on_search = {
        let (filter, search) = (filter.clone(), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            filter.set(Filter { page: 1, q: search.trim().to_owned(), ..(*filter).clone() });
        })
    };
    let on_page = {
        let filter = filter.clone();
        Callback::from(move |page| {
            filter.set(Filter { page, ..(*filter).clone() });
            gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
        })
    };
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
                        <Select id="role-filter" options={role_options} value={filter.role.clone()}
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

/// One `tr.user-row`; its `select.role-select` keeps showing the stored role until the
/// server accepts a change.
#[component]
fn UserRow(props: &UserRowProps) -> Html {
    let session = use_session();
    let busy = use_state(|| false);
    let u = &props.user;
    let on_role = {
        let (api, busy) = (session.api.clone(), busy.clone());
        let (on_changed, on_failed, id) = (props.on_changed.clone(), props.on_failed.clone(), u.id);
        Callback::from(move |chosen: String| {
            let Some(role) = Role::parse(&chosen) else { return };
            busy.set(true);
            let (api, busy, on_changed, on_failed) =
                (api.clone(), busy.clone(), on_changed.clone(), on_failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin::change_role(&api, id, role).await {
                    Ok(user) => on_changed.emit(user),
                    Err(e) => on_failed.emit(e),
                }
                busy.set(false);
            });
        })
    };
    let options: Vec<(String, String)> =
        Role::ALL.iter().map(|r| (r.as_str().to_owned(), r.as_str().to_owned())).collect();
    html! {
        <tr class="user-row" data-id={u.id.to_string()} data-email={u.email.clone()}>
            <td class="user-email" data-label="Email">
                { &u.email }
                if props.is_me { <span class="tag tag-muted">{ "you" }</span> }
            </td>
            <td class="user-name" data-label="Name">{ &u.display_name }</td>
            <td class="user-created" data-label="Joined">{ u.created_at.date_naive().to_string() }</td>
            <td class="user-role" data-label="Role">
                <Select class="role-select" options={options} value={u.role.as_str().to_owned()} onchange={on_role}
                    disabled={*busy} aria_label={AttrValue::from(format!("Role of {}", u.email))} />
            </td>
        </tr>
    }
}
