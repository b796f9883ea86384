use retail_api_types::LoginRequest;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{bind_input, start_session};
use crate::components::{AppLink, FieldErrors};
use crate::hooks::{use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, auth};

/// `/login`.
#[component]
pub fn LoginPage() -> Html {
    use_title("Log in");
    let session = use_session();
    let navigator = use_navigator();
    let email = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);

    let onsubmit = {
        let (email, password, busy, error) = (email.clone(), password.clone(), busy.clone(), error.clone());
        let session = session.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let body = LoginRequest { email: email.trim().to_owned(), password: (*password).clone() };
            let call = async move { auth::login(&body).await };
            start_session(call, busy.clone(), error.clone(), session.clone(), navigator.clone());
        })
    };

    html! {
        <section class="auth-page">
            <h1>{ "Log in" }</h1>
            if session.state.expired {
                <div id="session-expired" class="alert alert-info" role="status">
                    { "Your session has ended. Please log in again." }
                </div>
            }
            if let Some(user) = session.user() {
                <p id="already-logged-in" class="hint">{ format!("You are logged in as {}.", user.email) }</p>
            }
            <form id="login-form" class="card form" novalidate=true {onsubmit}>
                <label for="login-email">{ "Email" }</label>
                <input id="login-email" type="email" autocomplete="username" value={(*email).clone()}
                    oninput={bind_input(&email)} />
                <label for="login-password">{ "Password" }</label>
                <input id="login-password" type="password" autocomplete="current-password"
                    value={(*password).clone()} oninput={bind_input(&password)} />
                if let Some(e) = &*error {
                    <div id="login-error" class="alert alert-error" role="alert">
                        <p class="error-detail">{ e.detail() }</p>
                        <FieldErrors errors={e.field_errors().to_vec()} />
                    </div>
                }
                <button id="login-submit" type="submit" disabled={*busy}>
                    { if *busy { "Logging in…" } else { "Log in" } }
                </button>
            </form>
            <p class="hint">{ "No account yet? " }<AppLink to={Route::Register}>{ "Register" }</AppLink></p>
        </section>
    }
}
