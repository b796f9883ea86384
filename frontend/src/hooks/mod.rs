//! Hooks: the session and cart contexts, data loading (once, or polled), settled select
//! choices, the local clock, the document title, paging kept in the URL.

mod use_cart;
mod use_load;
mod use_now;
mod use_polled;
mod use_session;
mod use_settled;
mod use_url_page;

pub use use_cart::{CartAction, CartContext, CartView, use_cart};
pub use use_load::{Edit, Load, use_load};
pub use use_now::use_now;
pub use use_polled::{use_polled, use_polled_while};
pub use use_session::{Session, SessionAction, SessionState, use_session};
pub use use_settled::use_settled;
pub use use_url_page::{use_clamped_page, use_url_page};

use yew::prelude::*;

/// Sets the document title to `<title> · retail`.
#[hook]
pub fn use_title(title: &str) {
    let full = if title.is_empty() { "retail".to_owned() } else { format!("{title} · retail") };
    use_effect_with(full, |t| gloo::utils::document().set_title(t));
}
