//! One component per route.

mod admin_products;
mod admin_users;
mod catalog;
mod login;
mod not_found;
mod product;
mod register;

pub use admin_products::AdminProductsPage;
pub use admin_users::AdminUsersPage;
pub use catalog::CatalogPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use product::ProductPage;
pub use register::RegisterPage;

use std::future::Future;

use retail_api_types::TokenResponse;
use yew::prelude::*;
use yew_router::prelude::Navigator;

use crate::components::AppLink;
use crate::hooks::{Session, use_session};
use crate::routes::Route;
use crate::services::ApiError;

/// `#forbidden` for pages that need the admin role.
#[component]
pub fn Forbidden() -> Html {
    let session = use_session();
    html! {
        <div id="forbidden" class="alert alert-error" role="alert">
            <h1>{ "Not allowed" }</h1>
            <p>{ "This page is for administrators only." }</p>
            if session.user().is_none() {
                <p><AppLink to={Route::Login}>{ "Log in" }</AppLink>{ " with an administrator account." }</p>
            }
        </div>
    }
}

/// Links between the admin pages.
#[component]
pub fn AdminNav() -> Html {
    let route = yew_router::hooks::use_route::<Route>();
    let class =
        |r: Route| if route.as_ref() == Some(&r) { classes!("tab", "active") } else { classes!("tab") };
    html! {
        <nav class="admin-nav" aria-label="Administration">
            <AppLink id="admin-nav-products" classes={class(Route::AdminProducts)} to={Route::AdminProducts}>
                { "Products" }
            </AppLink>
            <AppLink id="admin-nav-users" classes={class(Route::AdminUsers)} to={Route::AdminUsers}>{ "Users" }</AppLink>
        </nav>
    }
}

/// `oninput` that copies an `<input>`'s value into `state`.
pub(crate) fn bind_input(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        state.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value())
    })
}

/// Runs a login or registration call: on success the session starts and the catalog opens;
/// on failure the error is shown and the form unlocks.
pub(crate) fn start_session(
    call: impl Future<Output = Result<TokenResponse, ApiError>> + 'static,
    busy: UseStateHandle<bool>,
    error: UseStateHandle<Option<ApiError>>,
    session: Session,
    navigator: Option<Navigator>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        match call.await {
            Ok(tokens) => {
                session.login(tokens);
                if let Some(nav) = &navigator {
                    nav.push(&Route::Catalog);
                }
            }
            Err(e) => {
                error.set(Some(e));
                busy.set(false);
            }
        }
    });
}
