use std::rc::Rc;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::{Session, SessionAction, SessionState};
use crate::routes::Route;
use crate::services::Api;
use crate::services::tabs::signed_in_hint;

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    #[prop_or_default]
    pub children: Html,
}

/// Restores the session of an earlier visit (the refresh cookie, through `/api/auth/refresh`),
/// follows the other tabs, and provides [`Session`] to everything below. Must sit inside the
/// router.
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let state = use_reducer(|| SessionState { tokens: None, expired: false, restoring: signed_in_hint() });
    let navigator = use_navigator();
    let api = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| {
            let on_change = {
                let d = dispatcher.clone();
                Callback::from(move |t| d.dispatch(SessionAction::Set(t)))
            };
            let on_expired = Callback::from(move |()| {
                dispatcher.dispatch(SessionAction::Expired);
                if let Some(nav) = &navigator {
                    nav.push(&Route::Login);
                }
            });
            Api::new(on_change, on_expired)
        })
    };
    {
        let api = (*api).clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move { api.start().await });
        });
    }
    let session = Session { state: Rc::new((*state).clone()), api: (*api).clone() };
    html! {
        <ContextProvider<Session> context={session}>
            { props.children.clone() }
        </ContextProvider<Session>>
    }
}
