//! One component per route.

mod admin_dashboard;
mod admin_feed_schedules;
mod admin_feeds;
mod admin_outbox;
mod admin_partners;
mod admin_products;
mod admin_sales;
mod admin_users;
mod cart;
mod catalog;
mod checkout;
mod credit;
mod flash;
mod login;
mod not_found;
mod notifications;
mod orders;
mod pay_reservation;
mod product;
mod receipt;
mod register;
mod returns;
mod returns_request;
mod returns_staff;
mod staff_orders;

pub use admin_dashboard::AdminDashboardPage;
pub use admin_feed_schedules::AdminFeedSchedulesPage;
pub use admin_feeds::AdminFeedsPage;
pub use admin_outbox::AdminOutboxPage;
pub use admin_partners::{AdminPartnerPage, AdminPartnersPage};
pub use admin_products::AdminProductsPage;
pub use admin_sales::{AdminSalePage, AdminSalesPage};
pub use admin_users::AdminUsersPage;
pub use cart::CartPage;
pub use catalog::CatalogPage;
pub use checkout::CheckoutPage;
pub use credit::CreditPage;
pub use flash::{FlashSalePage, FlashSalesPage};
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use notifications::NotificationsPage;
pub use orders::{OrderPage, OrdersPage};
pub use pay_reservation::PayReservationPage;
pub use product::ProductPage;
pub use receipt::ReceiptPage;
pub use register::RegisterPage;
pub use returns::{ReturnPage, ReturnsPage, may_return};
pub use returns_request::ReturnRequestPage;
pub use returns_staff::StaffReturnsPage;
pub use staff_orders::StaffOrdersPage;

use std::future::Future;

use retail_api_types::TokenResponse;
use yew::prelude::*;
use yew_router::prelude::Navigator;

use crate::components::{AppLink, Loading};
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

#[derive(Properties, PartialEq)]
pub struct NeedsLoginProps {
    /// What the page shows, for "Log in to see …".
    pub what: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

/// Renders its children only for a signed-in user (so their requests carry the token):
/// `Loading` while an earlier session is restored, `#signed-out` with a log-in link otherwise.
#[component]
pub fn NeedsLogin(props: &NeedsLoginProps) -> Html {
    let session = use_session();
    if session.restoring() {
        return html! { <Loading /> };
    }
    if session.user().is_none() {
        return html! {
            <div id="signed-out" class="empty-state">
                <p>{ format!("Log in to see {}.", props.what) }</p>
                <AppLink classes="button-link" to={Route::Login}>{ "Log in" }</AppLink>
            </div>
        };
    }
    props.children.clone()
}

/// `?page=` of a paged list (1 when absent or junk).
pub(crate) fn page_of(query_str: &str) -> u32 {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query_str.trim_start_matches('?'))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.trim().parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// Links between the admin pages.
#[component]
pub fn AdminNav() -> Html {
    let route = yew_router::hooks::use_route::<Route>();
    let class =
        |r: Route| if route.as_ref() == Some(&r) { classes!("tab", "active") } else { classes!("tab") };
    let sales_class = if matches!(route, Some(Route::AdminSales | Route::AdminSale { .. })) {
        classes!("tab", "active")
    } else {
        classes!("tab")
    };
    let group_class = |on: bool| if on { classes!("tab", "active") } else { classes!("tab") };
    let partners_class =
        group_class(matches!(route, Some(Route::AdminPartners | Route::AdminPartner { .. })));
    let feeds_class = group_class(matches!(route, Some(Route::AdminFeeds | Route::AdminFeedSchedules)));
    html! {
        <nav class="admin-nav" aria-label="Administration">
            <AppLink id="admin-nav-products" classes={class(Route::AdminProducts)} to={Route::AdminProducts}>
                { "Products" }
            </AppLink>
            <AppLink id="admin-nav-users" classes={class(Route::AdminUsers)} to={Route::AdminUsers}>{ "Users" }</AppLink>
            <AppLink id="admin-nav-sales" classes={sales_class} to={Route::AdminSales}>{ "Flash sales" }</AppLink>
            <AppLink id="admin-nav-partners" classes={partners_class} to={Route::AdminPartners}>{ "Partners" }</AppLink>
            <AppLink id="admin-nav-feeds" classes={feeds_class} to={Route::AdminFeeds}>{ "Feeds" }</AppLink>
            <AppLink id="admin-nav-outbox" classes={class(Route::AdminOutbox)} to={Route::AdminOutbox}>{ "Mail outbox" }</AppLink>
            <AppLink id="admin-nav-dashboard" classes={class(Route::AdminDashboard)} to={Route::AdminDashboard}>
                { "Operations" }
            </AppLink>
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
