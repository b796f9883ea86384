//! Reusable view pieces.

mod add_to_cart;
mod bell;
mod cart_provider;
mod flash_bits;
mod header;
mod link;
mod order_bits;
mod pager;
mod product_card;
mod select;
mod session_provider;
mod status;

pub use add_to_cart::AddToCart;
pub use bell::{Bell, NotificationsProvider, use_notifications};
pub use cart_provider::CartProvider;
pub use flash_bits::{
    ReservationCard, SaleClockView, SaleStateTag, discount_label, percent_of, units_left_label,
};
pub use header::Header;
pub use link::AppLink;
pub use order_bits::{MoneyRow, StateTag, Thumb};
pub use pager::{Pager, past_end};
pub use product_card::{ProductCard, SaleBadge, StockBadge};
pub use select::Select;
pub use session_provider::SessionProvider;
pub use status::{ErrorBox, FieldErrors, Loading};
