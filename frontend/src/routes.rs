//! The client-side routes. Pages and components link to them; only `app.rs` maps them to
//! pages, so the dependency points one way.

use yew_router::prelude::*;

/// Every client-side route.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    /// Catalog; its filters live in the query string (`?q=&category=&sort=&page=`).
    #[at("/")]
    Catalog,
    #[at("/products/:id")]
    Product { id: i64 },
    /// Live and upcoming flash sales; the page lives in the query string (`?page=`).
    #[at("/flash")]
    FlashSales,
    /// One flash sale: its products, units left, and reserving them.
    #[at("/flash/:id")]
    FlashSale { id: i64 },
    #[at("/login")]
    Login,
    #[at("/register")]
    Register,
    #[at("/cart")]
    Cart,
    #[at("/checkout")]
    Checkout,
    /// Paying one flash-sale reservation (not the cart).
    #[at("/checkout/reservations/:id")]
    PayReservation { id: i64 },
    /// Its page lives in the query string (`?page=`).
    #[at("/orders")]
    Orders,
    #[at("/orders/:id")]
    Order { id: i64 },
    #[at("/orders/:id/receipt")]
    Receipt { id: i64 },
    /// Returning items of a delivered order.
    #[at("/orders/:id/return")]
    OrderReturn { id: i64 },
    /// The customer's returns; its page lives in the query string (`?page=`).
    #[at("/returns")]
    Returns,
    /// One return: its timeline and the actions the caller may take.
    #[at("/returns/:id")]
    Return { id: i64 },
    /// The signed-in user's notifications and mail preferences; page in the query (`?page=`).
    #[at("/notifications")]
    Notifications,
    /// Store-credit balance and ledger; its page lives in the query string (`?page=`).
    #[at("/credit")]
    Credit,
    /// Every customer's orders; page and filters live in the query string
    /// (`?page=&state=&customer=&from=&to=`).
    #[at("/staff/orders")]
    StaffOrders,
    /// The return queues and figures; tab and filters live in the query string
    /// (`?queue=&stage=&q=&breached=true&page=`).
    #[at("/staff/returns")]
    StaffReturns,
    #[at("/admin")]
    Admin,
    /// Its page lives in the query string (`?page=`).
    #[at("/admin/products")]
    AdminProducts,
    /// Its page and filters live in the query string (`?page=&role=&q=`).
    #[at("/admin/users")]
    AdminUsers,
    /// Flash sales in every state, and scheduling a new one; page in the query (`?page=`).
    #[at("/admin/sales")]
    AdminSales,
    /// One flash sale live (sold / reserved / remaining), editing it before it starts, ending it.
    #[at("/admin/sales/:id")]
    AdminSale { id: i64 },
    /// The mail outbox by state, requeueing failed mail; filters in the query (`?state=&page=`).
    #[at("/admin/outbox")]
    AdminOutbox,
    /// The operations dashboard: live figures, charts, SLOs, recent logs; window in the query
    /// (`?window=1m|15m|1h`).
    #[at("/admin/dashboard")]
    AdminDashboard,
    /// Partners that push product feeds, and onboarding one; page in the query (`?page=`).
    #[at("/admin/partners")]
    AdminPartners,
    /// One partner: settings, API keys, uploading a feed, its jobs and audit log.
    #[at("/admin/partners/:id")]
    AdminPartner { id: i64 },
    /// Feed jobs, live while any is under way; filters in the query (`?partner=&state=&page=`).
    #[at("/admin/feeds")]
    AdminFeeds,
    /// Scheduled pulls of partners' feed URLs.
    #[at("/admin/feeds/schedules")]
    AdminFeedSchedules,
    #[not_found]
    #[at("/404")]
    NotFound,
}
