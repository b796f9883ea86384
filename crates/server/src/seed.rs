//! Demo data: one account per role and about fifty products, each with its picture (see
//! [`crate::http::spa::product_image_url`]). Idempotent: what exists is left alone, so running
//! it twice changes nothing; the one exception is a demo product without a picture (seeded
//! before there were any), which gets its own.

use chrono::Utc;
use retail_domain::account::{Email, Password, Role};
use retail_domain::catalog::{NewProduct, NewProductInput, ProductPatch};
use retail_store::Db;
use retail_store::models::NewUserRow;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::{products, users};
use serde_json::json;

use crate::auth::hash_password;
use crate::service::ServiceError;

/// A demo account.
#[derive(Debug, Clone, Copy)]
pub struct DemoAccount {
    /// Login email.
    pub email: &'static str,
    /// Login password (demo only!).
    pub password: &'static str,
    /// Role.
    pub role: Role,
}

/// The demo accounts, one per role.
pub const DEMO_ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount { email: "admin@retail.test", password: "demo-Kestrel-2026", role: Role::Admin },
    DemoAccount { email: "support@retail.test", password: "demo-Heron-2026", role: Role::Support },
    DemoAccount { email: "warehouse@retail.test", password: "demo-Osprey-2026", role: Role::Warehouse },
    DemoAccount { email: "finance@retail.test", password: "demo-Falcon-2026", role: Role::Finance },
    DemoAccount { email: "customer@retail.test", password: "demo-Wren-2026", role: Role::Customer },
];

/// (category, SKU prefix, [(name, price in cents)]).
type CatalogSection = (&'static str, &'static str, &'static [(&'static str, i64)]);

const CATALOG: &[CatalogSection] = &[
    (
        "kitchen",
        "KIT",
        &[
            ("Electric kettle 1.7 l", 3499),
            ("Cast iron skillet 28 cm", 4599),
            ("Chef's knife 20 cm", 5999),
            ("Bamboo cutting board", 1899),
            ("Pour-over coffee dripper", 2299),
            ("Stainless mixing bowls (set of 3)", 2799),
            ("Digital kitchen scale", 1999),
            ("Enamel dutch oven 5 l", 8999),
            ("Silicone spatula set", 1299),
        ],
    ),
    (
        "electronics",
        "ELE",
        &[
            ("Wireless earbuds", 7999),
            ("USB-C charger 65 W", 3999),
            ("Bluetooth speaker", 5999),
            ("Mechanical keyboard", 10999),
            ("Noise-cancelling headphones", 19999),
            ("Portable power bank 20000 mAh", 4499),
            ("Smart LED bulb", 1499),
            ("4K webcam", 12999),
        ],
    ),
    (
        "outdoor",
        "OUT",
        &[
            ("Trekking poles (pair)", 6999),
            ("Insulated water bottle 750 ml", 2999),
            ("Two-person tent", 18999),
            ("Headlamp 400 lm", 3499),
            ("Camping stove", 4999),
            ("Down sleeping bag", 24999),
            ("Rain jacket", 12999),
            ("Hiking daypack 22 l", 7999),
        ],
    ),
    (
        "apparel",
        "APP",
        &[
            ("Merino wool socks", 1999),
            ("Organic cotton t-shirt", 2499),
            ("Denim jacket", 8999),
            ("Wool beanie", 2199),
            ("Running shorts", 3499),
            ("Linen shirt", 5999),
            ("Leather belt", 3999),
            ("Fleece pullover", 6499),
        ],
    ),
    (
        "home",
        "HOM",
        &[
            ("Scented soy candle", 1799),
            ("Linen bed sheet set", 11999),
            ("Ceramic table lamp", 7499),
            ("Wool throw blanket", 8999),
            ("Wall clock", 3299),
            ("Cotton bath towel set", 4599),
            ("Indoor plant pot", 2499),
            ("Storage baskets (set of 2)", 3999),
        ],
    ),
    (
        "books",
        "BOK",
        &[
            ("The Pragmatic Shopkeeper", 2999),
            ("Field Guide to Birds", 3499),
            ("Sourdough at Home", 2699),
            ("A History of Trade", 3999),
            ("Rust in Practice", 4999),
            ("Mountain Trails of Europe", 2899),
            ("The Little Book of Returns", 1499),
            ("Flash Sale: A Novel", 1999),
            ("Modern Home Design", 4599),
        ],
    ),
];

/// What a seed run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Accounts created now.
    pub accounts_created: usize,
    /// Products created now.
    pub products_created: usize,
    /// Demo orders created now.
    pub orders_created: usize,
    /// Demo flash sales created now.
    pub sales_created: usize,
    /// Demo returns created now.
    pub returns_created: usize,
    /// The demo partner's API key, when the partner was created now (shown once).
    pub partner_key: Option<String>,
}

/// Creates whatever demo data is missing.
pub async fn run(db: &Db) -> Result<SeedReport, ServiceError> {
    let mut report = SeedReport::default();
    for acct in DEMO_ACCOUNTS {
        let email = Email::parse(acct.email)?;
        let password = Password::parse(acct.password, &email)?;
        let exists = {
            let e = email.as_str().to_owned();
            db.read(move |c| users::by_email(c, &e)).await?.is_some()
        };
        if exists {
            continue;
        }
        let hash = crate::service::blocking(move || hash_password(password.expose())).await??;
        let now = Utc::now();
        let created = db
            .write(move |c| -> Result<bool, ServiceError> {
                if users::by_email(c, email.as_str())?.is_some() {
                    return Ok(false);
                }
                let name = email.local_part().to_owned();
                let u = users::insert(
                    c,
                    &NewUserRow {
                        email: email.as_str(),
                        password_hash: &hash,
                        display_name: &name,
                        role: acct.role.as_str(),
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                audit::record(
                    c,
                    &AuditEvent {
                        actor_id: None,
                        action: "user.seeded",
                        entity_type: "user",
                        entity_id: u.id.to_string(),
                        detail: json!({ "email": u.email, "role": u.role }),
                    },
                    now,
                )?;
                Ok(true)
            })
            .await?;
        report.accounts_created += usize::from(created);
    }

    let mut wanted = Vec::new();
    for (category, prefix, items) in CATALOG {
        for (i, (name, price)) in items.iter().enumerate() {
            let sku = format!("{prefix}-{:03}", i + 1);
            // Deterministic spread of stock levels, some sold out.
            let stock = ((i as i64 * 37 + price / 100) % 60) - 5;
            let image_url = crate::http::spa::product_image_url(&sku).unwrap_or_default();
            let new = NewProduct::parse(NewProductInput {
                sku: &sku,
                name,
                description: &format!("{name}: a demo product in {category}."),
                price_cents: *price,
                currency: "EUR",
                category,
                image_url: &image_url,
                initial_stock: stock.max(0),
                active: true,
                returnable: None,
            })?;
            wanted.push(new);
        }
    }
    report.products_created = db
        .write(move |c| -> Result<usize, ServiceError> {
            let now = Utc::now();
            let mut created = 0;
            for new in wanted {
                if let Some(existing) = products::by_sku(c, new.sku.as_str())? {
                    // Only the picture is filled in, and only where there is none yet (an
                    // admin's own picture stays). A plain field: no stock movement involved.
                    if existing.image_url.is_none()
                        && let Some(url) = &new.image_url
                    {
                        let patch =
                            ProductPatch { image_url: Some(Some(url.clone())), ..ProductPatch::default() };
                        if let Some(p) = products::update(c, existing.id, existing.version, &patch, now)? {
                            audit::record(
                                c,
                                &AuditEvent {
                                    actor_id: None,
                                    action: "product.updated",
                                    entity_type: "product",
                                    entity_id: p.id.to_string(),
                                    detail: json!({ "image_url": url }),
                                },
                                now,
                            )?;
                        }
                    }
                    continue;
                }
                let p = products::insert(c, &new, now)?;
                if new.initial_stock > 0 {
                    products::apply_stock_delta(c, p.id, new.initial_stock, "seed", None, now)?;
                }
                audit::record(
                    c,
                    &AuditEvent {
                        actor_id: None,
                        action: "product.seeded",
                        entity_type: "product",
                        entity_id: p.id.to_string(),
                        detail: json!({ "sku": p.sku }),
                    },
                    now,
                )?;
                created += 1;
            }
            Ok(created)
        })
        .await?;
    report.orders_created = crate::seed_orders::run(db).await?;
    report.sales_created = crate::seed_sales::run(db).await?;
    report.returns_created = crate::seed_returns::run(db).await?;
    report.partner_key = crate::seed_feeds::run(db, &crate::config::PartnerSettings::default()).await?;
    Ok(report)
}

/// Products the catalog shows after seeding: the shop's own and the demo partner's.
pub fn catalog_size() -> usize {
    product_count() + crate::seed_feeds::DEMO_PRODUCTS
}

/// Number of products the seed defines.
pub fn product_count() -> usize {
    CATALOG.iter().map(|(_, _, items)| items.len()).sum()
}

#[cfg(test)]
mod picture_tests {
    use super::*;

    #[test]
    fn every_demo_product_has_its_own_picture() {
        let mut urls = std::collections::BTreeSet::new();
        for (_, prefix, items) in CATALOG {
            for i in 0..items.len() {
                let sku = format!("{prefix}-{:03}", i + 1);
                let url = crate::http::spa::product_image_url(&sku);
                assert!(url.is_some(), "{sku} has no picture in assets/products/");
                assert!(urls.insert(url), "{sku} shares a picture");
            }
        }
        assert_eq!(urls.len(), product_count());
    }
}
