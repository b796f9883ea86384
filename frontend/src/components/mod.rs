//! Reusable view pieces.

mod header;
mod link;
mod pager;
mod product_card;
mod select;
mod session_provider;
mod status;

pub use header::Header;
pub use link::AppLink;
pub use pager::{Pager, past_end};
pub use product_card::{ProductCard, StockBadge};
pub use select::Select;
pub use session_provider::SessionProvider;
pub use status::{ErrorBox, FieldErrors, Loading};
