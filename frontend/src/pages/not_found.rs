use yew::prelude::*;

use crate::components::AppLink;
use crate::hooks::use_title;
use crate::routes::Route;

/// Unknown client route.
#[component]
pub fn NotFoundPage() -> Html {
    use_title("Page not found");
    html! {
        <section id="page-not-found" class="empty-state">
            <h1>{ "Page not found" }</h1>
            <p>{ "There is nothing at this address." }</p>
            <AppLink to={Route::Catalog}>{ "Back to the catalog" }</AppLink>
        </section>
    }
}
