use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    /// `(value, label)` pairs.
    pub options: Vec<(String, String)>,
    pub value: String,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub aria_label: Option<AttrValue>,
}

/// A controlled `<select>`: it always shows `value`. A choice is reported through `onchange`
/// and only sticks once the parent passes it back (so a refused change reverts by itself).
/// Needed because `<option selected>` stops applying once the user has touched the select.
#[component]
pub fn Select(props: &SelectProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with((props.value.clone(), props.options.clone()), move |(value, _)| {
            if let Some(el) = node.cast::<HtmlSelectElement>() {
                el.set_value(value);
            }
        });
    }
    let onchange = {
        let cb = props.onchange.clone();
        let current = props.value.clone();
        Callback::from(move |e: Event| {
            let el: HtmlSelectElement = e.target_unchecked_into();
            let chosen = el.value();
            el.set_value(&current);
            if chosen != current {
                cb.emit(chosen);
            }
        })
    };
    html! {
        <select ref={node} id={props.id.clone()} class={props.class.clone()} {onchange}
            disabled={props.disabled} aria-label={props.aria_label.clone()}>
            { for props.options.iter().map(|(v, label)| html! {
                <option value={v.clone()} selected={*v == props.value}>{ label }</option>
            }) }
        </select>
    }
}
