//! The session context: who is logged in, plus the [`Api`] client holding the tokens.

use std::rc::Rc;

use retail_api_types::{Role, TokenResponse, User};
use yew::prelude::*;

use crate::services::Api;

/// What the UI renders from; the live tokens for requests are in [`Api`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionState {
    /// The session, if logged in.
    pub tokens: Option<Rc<TokenResponse>>,
    /// The server ended the session (the login page says so).
    pub expired: bool,
    /// A session from an earlier visit is being restored (pages wait before judging access).
    pub restoring: bool,
}

/// Changes to [`SessionState`].
#[derive(Debug)]
pub enum SessionAction {
    /// Logged in, renewed, user details refreshed (`Some`) or logged out (`None`); also ends
    /// restoring.
    Set(Option<TokenResponse>),
    /// The server refused to renew the session.
    Expired,
}

impl Reducible for SessionState {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: SessionAction) -> Rc<Self> {
        Rc::new(match action {
            SessionAction::Set(tokens) => SessionState {
                expired: self.expired && tokens.is_none(),
                tokens: tokens.map(Rc::new),
                restoring: false,
            },
            SessionAction::Expired => SessionState { tokens: None, expired: true, restoring: false },
        })
    }
}

/// The context value.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Rendered state.
    pub state: Rc<SessionState>,
    /// The client every page calls the API through.
    pub api: Api,
}

impl Session {
    /// A session outside any provider (never used by the app; keeps `use_session` total).
    fn detached() -> Session {
        Session { state: Rc::default(), api: Api::detached() }
    }

    /// The logged-in account.
    pub fn user(&self) -> Option<&User> {
        self.state.tokens.as_deref().map(|t| &t.user)
    }

    /// Whether the logged-in account is an admin.
    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.role == Role::Admin)
    }

    /// Whether a session from an earlier visit is still being restored.
    pub fn restoring(&self) -> bool {
        self.state.restoring
    }

    /// Starts a session with fresh tokens.
    pub fn login(&self, tokens: TokenResponse) {
        self.api.set_session(tokens);
    }

    /// Ends the session (locally at once, on the server in the background).
    pub fn logout(&self) {
        let api = self.api.clone();
        wasm_bindgen_futures::spawn_local(async move { crate::services::auth::logout(&api).await });
    }
}

/// The current session.
#[hook]
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(Session::detached)
}
