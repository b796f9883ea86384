use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use retail_api_types::ProductId;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::{use_cart, use_session};
use crate::routes::Route;
use crate::services::cart;

/// How long the button says "Added".
const ADDED_MS: u32 = 2_000;

#[derive(Properties, PartialEq)]
pub struct AddToCartProps {
    pub product_id: ProductId,
    /// Product name, for the button's accessible label.
    pub name: AttrValue,
    /// Nothing to buy (sold out, no longer sold).
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `button.add-to-cart` (`data-testid="add-to-cart"`): adds one unit; signed-out users go to
/// the login page (disabled while an earlier session is being restored). A refusal (e.g. not
/// enough stock) shows under it as `.add-to-cart-error`.
#[component]
pub fn AddToCart(props: &AddToCartProps) -> Html {
    let session = use_session();
    let cart_ctx = use_cart();
    let navigator = use_navigator();
    let busy = use_state(|| false);
    let added = use_state(|| false);
    let error = use_state(|| None::<String>);
    let timer: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);
    {
        let timer = timer.clone();
        use_effect_with((), move |_| move || drop(timer.borrow_mut().take()));
    }

    let signed_in = session.user().is_some();
    // While an earlier session is restored nobody is signed in yet: a click then must not
    // send a signed-in customer to the login page.
    let restoring = session.restoring();
    let onclick = {
        let (api, busy, added, error) = (session.api.clone(), busy.clone(), added.clone(), error.clone());
        let (cart_ctx, id) = (cart_ctx.clone(), props.product_id);
        Callback::from(move |_: MouseEvent| {
            if !signed_in {
                if let Some(nav) = &navigator {
                    nav.push(&Route::Login);
                }
                return;
            }
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (api, busy, added, error, cart_ctx, timer) =
                (api.clone(), busy.clone(), added.clone(), error.clone(), cart_ctx.clone(), timer.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match cart::add(&api, id, 1).await {
                    Ok(answer) => {
                        cart_ctx.changed(answer);
                        added.set(true);
                        let added = added.clone();
                        *timer.borrow_mut() = Some(Timeout::new(ADDED_MS, move || added.set(false)));
                    }
                    Err(e) => error.set(Some(e.detail())),
                }
                busy.set(false);
            });
        })
    };
    let label = if *busy {
        "Adding…"
    } else if *added {
        "Added ✓"
    } else if props.disabled {
        "Unavailable"
    } else {
        "Add to cart"
    };
    html! {
        <div class="add-to-cart-wrap">
            <button id={props.id.clone()} type="button" class="add-to-cart" data-testid="add-to-cart"
                data-product-id={props.product_id.to_string()} disabled={props.disabled || *busy || restoring} {onclick}
                aria-label={format!("Add {} to cart", props.name)}>
                { label }
            </button>
            if let Some(e) = &*error {
                <p class="add-to-cart-error row-error" role="alert">{ e }</p>
            }
            if *added {
                <span class="visually-hidden" role="status">{ format!("{} added to your cart", props.name) }</span>
            }
        </div>
    }
}
