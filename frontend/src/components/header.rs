use yew::prelude::*;
use yew_router::prelude::*;

use super::{AppLink, Bell};
use crate::hooks::{use_cart, use_session};
use crate::routes::Route;

/// Brand, the flash sales, and either log-in/register links or the signed-in user's links (cart
/// with its badge, orders, returns, store credit, staff pages and queues, admin pages, the
/// notification bell), who is logged in and a log-out button.
#[component]
pub fn Header() -> Html {
    let session = use_session();
    let cart = use_cart();
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
    let count = cart.count();
    html! {
        <header class="site-header">
            <div class="container header-row">
                <AppLink id="brand" classes="brand" to={Route::Catalog}>{ "retail" }</AppLink>
                <nav class="site-nav" aria-label="Account">
                    <AppLink id="nav-flash" classes="flash-link" to={Route::FlashSales}>{ "Flash sales" }</AppLink>
                    if let Some(user) = session.user() {
                        <AppLink id="nav-cart" classes="cart-link" to={Route::Cart}>
                            { "Cart" }
                            <span id="cart-count" class="cart-badge" data-testid="cart-badge"
                                data-count={count.map(|n| n.to_string())}
                                aria-label={count.map(|n| format!("{n} items in your cart"))}>
                                { count.map(|n| n.to_string()).unwrap_or_default() }
                            </span>
                        </AppLink>
                        <AppLink id="nav-orders" to={Route::Orders}>{ "Orders" }</AppLink>
                        <AppLink id="nav-returns" to={Route::Returns}>{ "My returns" }</AppLink>
                        <AppLink id="nav-credit" to={Route::Credit}>{ "Store credit" }</AppLink>
                        if user.role.is_staff() {
                            <AppLink id="nav-staff-orders" to={Route::StaffOrders}>{ "Staff" }</AppLink>
                            <AppLink id="nav-staff-returns" to={Route::StaffReturns}>{ "Returns queue" }</AppLink>
                        }
                        if session.is_admin() {
                            <AppLink id="nav-admin" to={Route::AdminProducts}>{ "Admin" }</AppLink>
                            <AppLink id="nav-dashboard" to={Route::AdminDashboard}>{ "Operations" }</AppLink>
                        }
                        <Bell />
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
