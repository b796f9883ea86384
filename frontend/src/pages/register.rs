use retail_api_types::RegisterRequest;
use yew::prelude::*;
use yew_router::prelude::*;

use super::{bind_input, start_session};
use crate::components::{AppLink, FieldErrors};
use crate::hooks::{use_session, use_title};
use crate::routes::Route;
use crate::services::{ApiError, auth};

/// `/register`.
#[component]
pub fn RegisterPage() -> Html {
    use_title("Register");
    let session = use_session();
    let navigator = use_navigator();
    let email = use_state(String::new);
    let password = use_state(String::new);
    let name = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);

    let onsubmit = {
        let (email, password, name, busy, error) =
            (email.clone(), password.clone(), name.clone(), busy.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let display_name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
            let body = RegisterRequest {
                email: email.trim().to_owned(),
                password: (*password).clone(),
                display_name,
            };
            let call = async move { auth::register(&body).await };
            start_session(call, busy.clone(), error.clone(), session.clone(), navigator.clone());
        })
    };
    let invalid = |field: &str| -> Option<AttrValue> {
        error.as_ref().and_then(|e| e.field_error(field)).map(|_| AttrValue::from("true"))
    };

    html! {
        <section class="auth-page">
            <h1>{ "Create an account" }</h1>
            <form id="register-form" class="card form" novalidate=true {onsubmit}>
                <label for="register-email">{ "Email" }</label>
                <input id="register-email" type="email" autocomplete="email" value={(*email).clone()}
                    aria-invalid={invalid("email")} oninput={bind_input(&email)} />
                <label for="register-password">{ "Password" }</label>
                <input id="register-password" type="password" autocomplete="new-password"
                    aria-invalid={invalid("password")} value={(*password).clone()} oninput={bind_input(&password)} />
                <p class="hint">{ "8 to 128 characters; not your email, not a common password." }</p>
                <label for="register-name">{ "Name " }<span class="optional">{ "(optional)" }</span></label>
                <input id="register-name" type="text" autocomplete="name" value={(*name).clone()}
                    aria-invalid={invalid("display_name")} oninput={bind_input(&name)} />
                if let Some(e) = &*error {
                    <div id="register-error" class="alert alert-error" role="alert">
                        <p class="error-detail">{ e.detail() }</p>
                        <FieldErrors errors={e.field_errors().to_vec()} />
                    </div>
                }
                <button id="register-submit" type="submit" disabled={*busy}>
                    { if *busy { "Creating account…" } else { "Create account" } }
                </button>
            </form>
            <p class="hint">{ "Already registered? " }<AppLink to={Route::Login}>{ "Log in" }</AppLink></p>
        </section>
    }
}
