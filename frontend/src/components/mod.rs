//! Reusable view pieces.

mod add_to_cart;
mod cart_provider;
mod header;
mod link;
mod order_bits;
mod pager;
mod product_card;
mod select;
mod session_provider;
mod status;

pub use add_to_cart::AddToCart;
pub use cart_provider::CartProvider;
pub use header::Header;
pub use link::AppLink;
pub use order_bits::{MoneyRow, StateTag, Thumb};
pub use pager::{Pager, past_end};
pub use product_card::{ProductCard, StockBadge};
pub use select::Select;
pub use session_provider::SessionProvider;
pub use status::{ErrorBox, FieldErrors, Loading};
