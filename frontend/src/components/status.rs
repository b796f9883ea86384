use retail_api_types::FieldProblem;
use yew::prelude::*;

use crate::services::ApiError;

/// `#loading`.
#[component]
pub fn Loading() -> Html {
    html! { <div id="loading" class="status" role="status" aria-live="polite">{ "Loading…" }</div> }
}

#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    pub error: ApiError,
    /// Shows a `#retry` button when set.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// `#error`: the problem detail and an optional Retry button.
#[component]
pub fn ErrorBox(props: &ErrorBoxProps) -> Html {
    html! {
        <div id="error" class="alert alert-error" role="alert">
            <p class="error-detail">{ props.error.detail() }</p>
            <FieldErrors errors={props.error.field_errors().to_vec()} />
            if let Some(retry) = &props.on_retry {
                <button id="retry" type="button" onclick={retry.reform(|_| ())}>{ "Retry" }</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct FieldErrorsProps {
    pub errors: Vec<FieldProblem>,
}

/// The per-field messages of a 422, as a list (nothing when there are none).
#[component]
pub fn FieldErrors(props: &FieldErrorsProps) -> Html {
    if props.errors.is_empty() {
        return html! {};
    }
    html! {
        <ul class="field-errors">
            { for props.errors.iter().map(|f| html! {
                <li data-field={f.field.clone()}>
                    <span class="field-name">{ field_label(&f.field) }</span>{ ": " }{ &f.message }
                </li>
            }) }
        </ul>
    }
}

/// `price_cents` -> `Price`: API field names as users know them.
fn field_label(field: &str) -> String {
    match field {
        "display_name" => "Name".to_owned(),
        "price_cents" => "Price".to_owned(),
        "initial_stock" => "Stock".to_owned(),
        "sku" => "SKU".to_owned(),
        "image_url" => "Image URL".to_owned(),
        other => {
            let mut chars = other.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect::<String>().replace('_', " "),
                None => String::new(),
            }
        }
    }
}
