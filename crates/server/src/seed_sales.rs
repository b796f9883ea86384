//! Demo flash sales: one live for the next two hours after seeding, one starting in an hour.
//! Written through the same rules as an admin's (validation, allocation through the stock
//! ledger, audit rows). Idempotent: a demo sale that is not over yet is left alone, so
//! running the seed again (every `make run` does) only replaces demo sales that ended.

use chrono::{Duration, Utc};
use retail_api_types::{Discount, SaleItemRequest, SaleRequest};
use retail_domain::paging::{PageRequest, ProductSort};
use retail_domain::{Money, ProductId};
use retail_store::Db;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::products::{self, ProductFilter};
use retail_store::repo::sales;
use serde_json::json;

use crate::service::ServiceError;

/// Name of the demo sale that is live after seeding.
pub const LIVE: &str = "Demo flash sale";
/// Name of the demo sale that starts later.
pub const UPCOMING: &str = "Demo weekend drop";

/// Creates the demo sales that are missing; returns how many.
pub async fn run(db: &Db) -> Result<usize, ServiceError> {
    db.write(|c| {
        let now = Utc::now();
        let page = PageRequest { page: 1, per_page: 100 };
        let (open, _) = sales::listed(c, now, page)?;
        let (rows, _) = products::list(c, &ProductFilter::default(), ProductSort::NameAsc, page)?;
        let busy: Vec<i64> =
            sales::open_windows(c, &rows.iter().map(|p| p.id).collect::<Vec<_>>(), None, now)?
                .into_iter()
                .map(|(p, _, _)| p)
                .collect();
        let mut free = rows.iter().filter(|p| p.active && p.stock >= 40 && !busy.contains(&p.id));
        let mut created = 0;
        let plans: [(&str, i64, i64, usize, i64, i64); 2] = [
            // name, starts in (min), lasts (min), products, units each, cap
            (LIVE, -1, 120, 3, 20, 2),
            (UPCOMING, 60, 180, 2, 10, 1),
        ];
        for (name, starts_in, lasts, n, units, cap) in plans {
            if open.iter().any(|s| s.name == name) {
                continue;
            }
            let picked: Vec<_> = free.by_ref().take(n).collect();
            if picked.len() < n {
                break;
            }
            let starts_at = now + Duration::minutes(starts_in);
            let req = SaleRequest {
                name: name.to_owned(),
                starts_at,
                ends_at: starts_at + Duration::minutes(lasts),
                per_customer_cap: cap,
                items: picked
                    .iter()
                    .enumerate()
                    .map(|(i, p)| SaleItemRequest {
                        product_id: ProductId(p.id),
                        discount: if i % 2 == 0 {
                            Discount::PercentOff { basis_points: 3000 }
                        } else {
                            Discount::SalePrice { price: Money(p.price_cents / 2) }
                        },
                        allocated_units: units,
                    })
                    .collect(),
            };
            let s = crate::service::sales::schedule_in(c, &req, None, now)?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: None,
                    action: "sale.seeded",
                    entity_type: "sale",
                    entity_id: s.id.to_string(),
                    detail: json!({"name": name}),
                },
                now,
            )?;
            created += 1;
        }
        Ok::<_, ServiceError>(created)
    })
    .await
}
