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
    #[at("/login")]
    Login,
    #[at("/register")]
    Register,
    #[at("/cart")]
    Cart,
    #[at("/checkout")]
    Checkout,
    /// Its page lives in the query string (`?page=`).
    #[at("/orders")]
    Orders,
    #[at("/orders/:id")]
    Order { id: i64 },
    #[at("/orders/:id/receipt")]
    Receipt { id: i64 },
    /// Store-credit balance and ledger; its page lives in the query string (`?page=`).
    #[at("/credit")]
    Credit,
    /// Every customer's orders; page and filters live in the query string
    /// (`?page=&state=&customer=&from=&to=`).
    #[at("/staff/orders")]
    StaffOrders,
    #[at("/admin")]
    Admin,
    /// Its page lives in the query string (`?page=`).
    #[at("/admin/products")]
    AdminProducts,
    /// Its page and filters live in the query string (`?page=&role=&q=`).
    #[at("/admin/users")]
    AdminUsers,
    #[not_found]
    #[at("/404")]
    NotFound,
}
