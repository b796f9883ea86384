use retail_api_types::ProductId;
use yew::prelude::*;

use crate::components::{AddToCart, AppLink, ErrorBox, Loading, SaleBadge, StockBadge};
use crate::format::{format_money, format_when};
use crate::hooks::{Load, use_load, use_session, use_title};
use crate::routes::Route;
use crate::services::catalog;

#[derive(Properties, PartialEq)]
pub struct ProductPageProps {
    pub id: i64,
}

/// `/products/:id`.
#[component]
pub fn ProductPage(props: &ProductPageProps) -> Html {
    let session = use_session();
    let product = {
        let api = session.api.clone();
        use_load(props.id, move |id| async move { catalog::get(&api, ProductId(id)).await })
    };
    use_title(match product.get() {
        Load::Ready(p) => p.name.as_str(),
        Load::Failed(e) if e.status() == Some(404) => "Product not found",
        _ => "Product",
    });

    let body = match product.get() {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) if e.status() == Some(404) => html! {
            <div id="not-found" class="empty-state">
                <h1>{ "Product not found" }</h1>
                <p>{ "This product does not exist or is no longer sold." }</p>
            </div>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} on_retry={product.reloader()} /> },
        Load::Ready(p) => html! {
            <article id="product-detail" class="product-detail" data-id={p.id.to_string()}>
                if let Some(src) = p.image_url.as_deref().filter(|s| !s.is_empty()) {
                    <img class="product-image" src={src.to_owned()} alt={p.name.clone()} loading="lazy" />
                }
                <div class="detail-body">
                    <h1 id="product-name">{ &p.name }</h1>
                    if !p.active {
                        <p id="product-inactive" class="tag tag-warning">{ "Inactive: hidden from shoppers" }</p>
                    }
                    <p class="detail-price">
                        <span id="product-price" class="product-price">{ format_money(p.price_cents, p.currency) }</span>
                        <StockBadge id="product-stock" stock={p.stock} />
                    </p>
                    if let Some(sale) = &p.sale {
                        <div id="product-sale" class="product-sale" data-sale-id={sale.sale_id.to_string()}>
                            <SaleBadge id="product-sale-link" sale={sale.clone()} currency={p.currency} />
                            <p class="hint">
                                { format!("Until {}. Reserve units on the sale page to get this price; \
                                           the cart charges the regular price.", format_when(&sale.ends_at)) }
                            </p>
                        </div>
                    }
                    <AddToCart id="product-add-to-cart" product_id={p.id} name={p.name.clone()}
                        disabled={p.stock <= 0 || !p.active} />
                    <p id="product-description" class="description">
                        { if p.description.is_empty() { "No description." } else { p.description.as_str() } }
                    </p>
                    <dl class="facts">
                        <dt>{ "Category" }</dt>
                        <dd id="product-category">{ &p.category }</dd>
                        <dt>{ "SKU" }</dt>
                        <dd id="product-sku">{ &p.sku }</dd>
                    </dl>
                </div>
            </article>
        },
    };
    html! {
        <section class="product-page">
            <p class="breadcrumbs"><AppLink id="back-to-catalog" to={Route::Catalog}>{ "← All products" }</AppLink></p>
            { body }
        </section>
    }
}
