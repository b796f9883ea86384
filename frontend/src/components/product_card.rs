use retail_api_types::{Currency, Product, ProductSale};
use yew::prelude::*;

use super::{AddToCart, AppLink};
use crate::format::{StockLevel, format_money};
use crate::routes::Route;

#[derive(Properties, PartialEq)]
pub struct StockBadgeProps {
    pub stock: i64,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `.stock-badge` with `.in-stock`, `.low-stock` or `.sold-out`.
#[component]
pub fn StockBadge(props: &StockBadgeProps) -> Html {
    let level = StockLevel::of(props.stock);
    html! { <span id={props.id.clone()} class={classes!("stock-badge", level.class())}>{ level.label() }</span> }
}

#[derive(Properties, PartialEq)]
pub struct ProductCardProps {
    pub product: Product,
}

/// `.product-card` in the catalog grid: picture, name, category, price, stock, the flash sale
/// it is in (if any) and an add-to-cart button.
#[component]
pub fn ProductCard(props: &ProductCardProps) -> Html {
    let p = &props.product;
    html! {
        <article class="product-card" data-id={p.id.to_string()} data-sku={p.sku.clone()}>
            <AppLink classes="product-link" to={Route::Product { id: p.id.get() }}>
                if let Some(src) = p.image_url.as_deref().filter(|s| !s.is_empty()) {
                    <img class="card-image" src={src.to_owned()} alt="" loading="lazy" />
                }
                <h2 class="product-name">{ &p.name }</h2>
            </AppLink>
            <p class="product-category">{ &p.category }</p>
            <div class="product-meta">
                <span class="product-price">{ format_money(p.price_cents, p.currency) }</span>
                <StockBadge stock={p.stock} />
            </div>
            if let Some(sale) = &p.sale {
                <SaleBadge sale={sale.clone()} currency={p.currency} />
            }
            <AddToCart product_id={p.id} name={p.name.clone()} disabled={p.stock <= 0 || !p.active} />
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct SaleBadgeProps {
    pub sale: ProductSale,
    pub currency: Currency,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// `a.sale-badge` (`data-sale-id`): the flash-sale price, linking to the sale page where units
/// are reserved at it (the cart charges the regular price).
#[component]
pub fn SaleBadge(props: &SaleBadgeProps) -> Html {
    let s = &props.sale;
    html! {
        <AppLink id={props.id.clone()} classes={classes!("sale-badge", (s.remaining == 0).then_some("sold-out"))}
            to={Route::FlashSale { id: s.sale_id }}>
            { "Flash sale " }
            <strong class="sale-badge-price" data-cents={s.sale_price_cents.to_string()}>
                { format_money(s.sale_price_cents, props.currency) }
            </strong>
            { if s.remaining == 0 { " · sold out".to_owned() } else { format!(" · {} left →", s.remaining) } }
        </AppLink>
    }
}
