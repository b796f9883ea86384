//! The cart context: the signed-in customer's cart, shared by the header badge, the cart and
//! checkout pages and the add-to-cart buttons, so a change anywhere shows everywhere.

use std::rc::Rc;

use retail_api_types::Cart;
use yew::prelude::*;

use crate::services::ApiError;

/// What is known of the cart.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CartView {
    /// Nobody is signed in (or the session is still being restored).
    #[default]
    SignedOut,
    /// The first answer has not come yet.
    Loading,
    /// The cart as last read or changed (kept while it is read again).
    Ready(Cart),
    /// The first read failed.
    Failed(ApiError),
}

/// Changes to [`CartView`].
#[derive(Debug)]
pub enum CartAction {
    /// Someone signed in or out (`true`: read the cart now).
    Reset(bool),
    /// An answer: a fresh read, or the cart a change returned.
    Loaded(Result<Cart, ApiError>),
}

impl Reducible for CartView {
    type Action = CartAction;

    fn reduce(self: Rc<Self>, action: CartAction) -> Rc<Self> {
        Rc::new(match action {
            CartAction::Reset(true) => CartView::Loading,
            CartAction::Reset(false) => CartView::SignedOut,
            CartAction::Loaded(Ok(cart)) => CartView::Ready(cart),
            // A failed re-read keeps the cart in hand (a change's own error is shown by it).
            CartAction::Loaded(Err(e)) => match &*self {
                CartView::Ready(_) => return self,
                _ => CartView::Failed(e),
            },
        })
    }
}

/// The context value.
#[derive(Debug, Clone, PartialEq)]
pub struct CartContext {
    /// Rendered state.
    pub view: Rc<CartView>,
    /// Reads the cart again (without showing "Loading" when one is in hand).
    pub refresh: Callback<()>,
    /// Puts a cart the server returned in place.
    pub set: Callback<Cart>,
}

impl CartContext {
    /// A context outside any provider (never used by the app; keeps `use_cart` total).
    fn detached() -> CartContext {
        CartContext { view: Rc::default(), refresh: Callback::noop(), set: Callback::noop() }
    }

    /// The cart, when one is in hand.
    pub fn cart(&self) -> Option<&Cart> {
        match &*self.view {
            CartView::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Units in the cart, when known.
    pub fn count(&self) -> Option<u32> {
        self.cart().map(|c| c.items)
    }

    /// After a change: shows the cart the server answered with, or reads it again when the
    /// answer did not carry one.
    pub fn changed(&self, answer: Option<Cart>) {
        match answer {
            Some(cart) => self.set.emit(cart),
            None => self.refresh.emit(()),
        }
    }
}

/// The current cart context.
#[hook]
pub fn use_cart() -> CartContext {
    use_context::<CartContext>().unwrap_or_else(CartContext::detached)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(items: u32) -> Cart {
        Cart {
            lines: Vec::new(),
            items,
            subtotal_cents: 0,
            currency: None,
            ready: false,
            credit_balance_cents: 0,
            reservations: Vec::new(),
        }
    }

    fn reduce(view: CartView, action: CartAction) -> CartView {
        (*Rc::new(view).reduce(action)).clone()
    }

    #[test]
    fn a_failed_re_read_keeps_the_cart_in_hand() {
        let err = ApiError::Timeout;
        assert_eq!(
            reduce(CartView::Ready(cart(2)), CartAction::Loaded(Err(err.clone()))),
            CartView::Ready(cart(2))
        );
        assert_eq!(reduce(CartView::Loading, CartAction::Loaded(Err(err.clone()))), CartView::Failed(err));
        assert_eq!(reduce(CartView::Loading, CartAction::Loaded(Ok(cart(3)))), CartView::Ready(cart(3)));
    }

    #[test]
    fn signing_out_forgets_the_cart() {
        assert_eq!(reduce(CartView::Ready(cart(2)), CartAction::Reset(false)), CartView::SignedOut);
        assert_eq!(reduce(CartView::SignedOut, CartAction::Reset(true)), CartView::Loading);
    }
}
