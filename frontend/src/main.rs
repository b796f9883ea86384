//! The retail single-page app: catalog, product pages, flash sales, cart and checkout, orders
//! and receipts, store credit, accounts, staff order handling and administration.

mod app;
mod clock;
mod components;
mod format;
mod hooks;
mod pages;
mod routes;
mod services;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
