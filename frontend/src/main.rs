//! The retail single-page app: catalog, product pages, accounts and administration.

mod app;
mod components;
mod format;
mod hooks;
mod pages;
mod routes;
mod services;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
