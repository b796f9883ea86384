use yew::prelude::*;
use yew_router::prelude::*;

use super::AppLink;
use crate::hooks::use_session;
use crate::routes::Route;

/// Brand, and either log-in/register links or who is logged in with a log-out button.
#[component]
pub fn Header() -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let on_logout = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| {
            session.logout();
            if let Some(nav) = &navigator {
                nav.push(&Route::Catalog);
            }
        })
    };
    html! {
        <header class="site-header">
            <div class="container header-row">
                <AppLink id="brand" classes="brand" to={Route::Catalog}>{ "retail" }</AppLink>
                <nav class="site-nav" aria-label="Account">
                    if let Some(user) = session.user() {
                        if session.is_admin() {
                            <AppLink id="nav-admin" to={Route::AdminProducts}>{ "Admin" }</AppLink>
                        }
                        <span id="whoami" title={user.email.clone()}>
                            { format!("{} · {} ({})", user.display_name, user.email, user.role) }
                        </span>
                        <button id="logout" type="button" class="button-secondary" onclick={on_logout}>
                            { "Log out" }
                        </button>
                    } else if session.restoring() {
                        <span class="muted" aria-busy="true">{ "…" }</span>
                    } else {
                        <AppLink id="nav-login" to={Route::Login}>{ "Log in" }</AppLink>
                        <AppLink id="nav-register" classes="button-link" to={Route::Register}>{ "Register" }</AppLink>
                    }
                </nav>
            </div>
        </header>
    }
}
