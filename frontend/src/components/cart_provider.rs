use std::cell::RefCell;
use std::rc::Rc;

use retail_api_types::Cart;
use yew::prelude::*;

use crate::hooks::{CartAction, CartContext, CartView, use_session};
use crate::services::cart;

#[derive(Properties, PartialEq)]
pub struct CartProviderProps {
    #[prop_or_default]
    pub children: Html,
}

/// Reads the signed-in user's cart (again whenever someone else signs in) and provides
/// [`CartContext`] to everything below. Must sit inside the session provider.
#[component]
pub fn CartProvider(props: &CartProviderProps) -> Html {
    let session = use_session();
    let state = use_reducer(CartView::default);
    // Bumped by every read and every cart put in place, so an older answer never overwrites
    // a newer cart.
    let generation: Rc<RefCell<u64>> = use_mut_ref(|| 0);
    let user = session.user().map(|u| u.id);

    let read = {
        let (api, dispatcher, generation) = (session.api.clone(), state.dispatcher(), generation.clone());
        Rc::new(move || {
            let mine = bump(&generation);
            let (api, dispatcher, generation) = (api.clone(), dispatcher.clone(), generation.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = cart::get(&api).await;
                if *generation.borrow() == mine {
                    dispatcher.dispatch(CartAction::Loaded(answer));
                }
            });
        })
    };
    {
        let (read, dispatcher, generation) = (read.clone(), state.dispatcher(), generation.clone());
        use_effect_with(user, move |user| {
            dispatcher.dispatch(CartAction::Reset(user.is_some()));
            if user.is_some() {
                read();
            } else {
                bump(&generation);
            }
        });
    }
    let refresh = {
        let read = read.clone();
        let signed_in = user.is_some();
        Callback::from(move |()| {
            if signed_in {
                read();
            }
        })
    };
    let set = {
        let (dispatcher, generation) = (state.dispatcher(), generation.clone());
        Callback::from(move |c: Cart| {
            bump(&generation);
            dispatcher.dispatch(CartAction::Loaded(Ok(c)));
        })
    };
    let context = CartContext { view: Rc::new((*state).clone()), refresh, set };
    html! {
        <ContextProvider<CartContext> {context}>
            { props.children.clone() }
        </ContextProvider<CartContext>>
    }
}

fn bump(generation: &RefCell<u64>) -> u64 {
    let mut g = generation.borrow_mut();
    *g = g.wrapping_add(1);
    *g
}
