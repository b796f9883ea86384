//! The page shell and the route-to-page switch.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{CartProvider, Header, NotificationsProvider, SessionProvider};
use crate::pages::{
    AdminDashboardPage, AdminFeedSchedulesPage, AdminFeedsPage, AdminOutboxPage, AdminPartnerPage,
    AdminPartnersPage, AdminProductsPage, AdminSalePage, AdminSalesPage, AdminUsersPage, CartPage,
    CatalogPage, CheckoutPage, CreditPage, FlashSalePage, FlashSalesPage, LoginPage, NotFoundPage,
    NotificationsPage, OrderPage, OrdersPage, PayReservationPage, ProductPage, ReceiptPage, RegisterPage,
    ReturnPage, ReturnRequestPage, ReturnsPage, StaffOrdersPage, StaffReturnsPage,
};
use crate::routes::Route;

fn switch(route: Route) -> Html {
    match route {
        Route::Catalog => html! { <CatalogPage /> },
        Route::Product { id } => html! { <ProductPage {id} /> },
        Route::FlashSales => html! { <FlashSalesPage /> },
        Route::FlashSale { id } => html! { <FlashSalePage {id} /> },
        Route::Login => html! { <LoginPage /> },
        Route::Register => html! { <RegisterPage /> },
        Route::Cart => html! { <CartPage /> },
        Route::Checkout => html! { <CheckoutPage /> },
        Route::PayReservation { id } => html! { <PayReservationPage {id} /> },
        Route::Orders => html! { <OrdersPage /> },
        Route::Order { id } => html! { <OrderPage {id} /> },
        Route::Receipt { id } => html! { <ReceiptPage {id} /> },
        Route::OrderReturn { id } => html! { <ReturnRequestPage {id} /> },
        Route::Returns => html! { <ReturnsPage /> },
        Route::Return { id } => html! { <ReturnPage {id} /> },
        Route::Notifications => html! { <NotificationsPage /> },
        Route::Credit => html! { <CreditPage /> },
        Route::StaffOrders => html! { <StaffOrdersPage /> },
        Route::StaffReturns => html! { <StaffReturnsPage /> },
        Route::Admin => html! { <Redirect<Route> to={Route::AdminProducts} /> },
        Route::AdminProducts => html! { <AdminProductsPage /> },
        Route::AdminUsers => html! { <AdminUsersPage /> },
        Route::AdminSales => html! { <AdminSalesPage /> },
        Route::AdminSale { id } => html! { <AdminSalePage {id} /> },
        Route::AdminOutbox => html! { <AdminOutboxPage /> },
        Route::AdminDashboard => html! { <AdminDashboardPage /> },
        Route::AdminPartners => html! { <AdminPartnersPage /> },
        Route::AdminPartner { id } => html! { <AdminPartnerPage {id} /> },
        Route::AdminFeeds => html! { <AdminFeedsPage /> },
        Route::AdminFeedSchedules => html! { <AdminFeedSchedulesPage /> },
        Route::NotFound => html! { <NotFoundPage /> },
    }
}

/// Scrolls to the top when the path changes (a new page), not when only the query does.
#[component]
fn ScrollToTop() -> Html {
    let path = use_location().map(|l| l.path().to_owned());
    use_effect_with(path, |_| gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0));
    html! {}
}

/// The app: router, session, cart, notifications, header, current page.
#[component]
pub fn App() -> Html {
    html! {
        <BrowserRouter>
            <SessionProvider>
                <CartProvider>
                    <NotificationsProvider>
                        <ScrollToTop />
                        <Header />
                        <main class="container page">
                            <Switch<Route> render={switch} />
                        </main>
                    </NotificationsProvider>
                </CartProvider>
            </SessionProvider>
        </BrowserRouter>
    }
}
