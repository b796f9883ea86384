use retail_api_types::{Currency, OrderState};
use yew::prelude::*;

use crate::format::{format_money, state_class, state_label};

#[derive(Properties, PartialEq)]
pub struct StateTagProps {
    pub state: OrderState,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `.order-state` (`data-state="paid"`): an order state in plain words.
#[component]
pub fn StateTag(props: &StateTagProps) -> Html {
    html! {
        <span id={props.id.clone()} class={classes!("order-state", state_class(props.state))}
            data-state={props.state.as_str()} data-testid="order-state">
            { state_label(props.state) }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct ThumbProps {
    pub src: Option<String>,
    pub alt: AttrValue,
}

/// `.thumb`: a product's picture, or an empty square of the same size.
#[component]
pub fn Thumb(props: &ThumbProps) -> Html {
    match props.src.as_deref().filter(|s| !s.is_empty()) {
        Some(src) => {
            html! { <img class="thumb" src={src.to_owned()} alt={props.alt.clone()} loading="lazy" /> }
        }
        None => html! { <span class="thumb thumb-empty" aria-hidden="true"></span> },
    }
}

#[derive(Properties, PartialEq)]
pub struct MoneyRowProps {
    pub label: AttrValue,
    pub cents: i64,
    pub currency: Currency,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub testid: Option<AttrValue>,
    #[prop_or_default]
    pub strong: bool,
}

/// One `dt`/`dd` pair of a totals list (`dl.totals`).
#[component]
pub fn MoneyRow(props: &MoneyRowProps) -> Html {
    let class = classes!(props.strong.then_some("total-row"));
    html! {
        <>
            <dt class={class.clone()}>{ props.label.clone() }</dt>
            <dd id={props.id.clone()} class={classes!(class, "amount")} data-testid={props.testid.clone()}
                data-cents={props.cents.to_string()}>
                { format_money(props.cents, props.currency) }
            </dd>
        </>
    }
}
