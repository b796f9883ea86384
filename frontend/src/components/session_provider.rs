use std::rc::Rc;

use gloo::events::EventListener;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::hooks::{Session, SessionAction, SessionState};
use crate::services::requests::stored_session;
use crate::services::{Api, auth};

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    #[prop_or_default]
    pub children: Html,
}

/// Restores the saved session, checks it with `/api/auth/me`, follows other tabs, and
/// provides [`Session`] to everything below. Must sit inside the router.
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let restored = use_memo((), |_| stored_session());
    let state = {
        let restored = restored.clone();
        use_reducer(move || SessionState { tokens: (*restored).clone().map(Rc::new), expired: false })
    };
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
            Api::new((*restored).clone(), on_change, on_expired)
        })
    };
    {
        let api = (*api).clone();
        use_effect_with((), move |_| {
            if api.tokens().is_some() {
                let api = api.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    // A role change or an ended session shows up here; 401s end it via Api.
                    if let Ok(user) = auth::me(&api).await {
                        api.set_user(user);
                    }
                });
            }
            let listener =
                EventListener::new(&gloo::utils::window(), "storage", move |_| api.sync_from_storage());
            move || drop(listener)
        });
    }
    let session = Session { state: Rc::new((*state).clone()), api: (*api).clone() };
    html! {
        <ContextProvider<Session> context={session}>
            { props.children.clone() }
        </ContextProvider<Session>>
    }
}
