//! A demo partner: onboarded with a key, two feed runs (one clean, one with a bad row) and a
//! paused schedule. Written through the same code as a real partner's (jobs, the ledger,
//! audit rows). Idempotent: nothing is done when the demo partner exists.

use chrono::Utc;
use retail_store::Db;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::feeds as feed_repo;
use retail_store::repo::partners::{self, PartnerFields};
use serde_json::json;

use crate::config::PartnerSettings;
use crate::service::ServiceError;

/// The demo partner's name.
pub const DEMO_PARTNER: &str = "Demo Supplier";

/// Products the demo partner's feeds create (the second feed's bad row creates none).
pub const DEMO_PRODUCTS: usize = 4;

const FIRST_FEED: &str = "sku,name,price,currency,stock,category,description\n\
DS-TEA-001,Sencha green tea 100 g,4.50,EUR,120,tea,Steamed Japanese green tea.\n\
DS-TEA-002,\"Assam black tea, strong\",5.00,EUR,80,tea,Malty breakfast tea.\n\
DS-TEA-003,Rooibos vanilla 100 g,3.90,EUR,60,tea,Caffeine-free red bush tea.\n";

const SECOND_FEED: &str = "sku,name,price,currency,stock,category,description\n\
DS-TEA-001,Sencha green tea 100 g,4.20,EUR,140,tea,Steamed Japanese green tea.\n\
DS-TEA-004,Jasmine pearls 50 g,,EUR,30,tea,Hand-rolled green tea.\n\
DS-TEA-005,Earl Grey 100 g,4.80,EUR,50,tea,Black tea with bergamot.\n";

/// Creates the demo partner if it is missing; returns its API key (shown once) then.
pub async fn run(db: &Db, cfg: &PartnerSettings) -> Result<Option<String>, ServiceError> {
    let created = db
        .write(|c| {
            let now = Utc::now();
            let fields = PartnerFields {
                name: Some(DEMO_PARTNER),
                contact_email: Some("feeds@demo-supplier.example"),
                ..PartnerFields::default()
            };
            let Some(p) = partners::insert(c, &fields, now)? else { return Ok::<_, ServiceError>(None) };
            let (key, prefix, hash) = crate::service::partners::new_key();
            partners::insert_key(c, p.id, &prefix, &hash, now)?;
            // paused: the demo URL serves nothing; an admin points it at a real feed
            let s = feed_repo::insert_schedule(
                c,
                p.id,
                "https://demo-supplier.example/feed.csv",
                3600,
                false,
                now,
            )?;
            for (action, entity, id, detail) in [
                ("partner.created", "partner", p.id, json!({"name": p.name, "key": prefix, "seed": true})),
                ("feed_schedule.created", "feed_schedule", s.id, json!({"partner_id": p.id, "seed": true})),
            ] {
                let e = AuditEvent {
                    actor_id: None,
                    action,
                    entity_type: entity,
                    entity_id: id.to_string(),
                    detail,
                };
                audit::record(c, &e, now)?;
            }
            Ok(Some((p.id, key)))
        })
        .await?;
    let Some((partner, key)) = created else { return Ok(None) };
    for (name, body) in [("demo-feed-1.csv", FIRST_FEED), ("demo-feed-2.csv", SECOND_FEED)] {
        crate::service::feeds::import(db, cfg, partner, name, body.as_bytes().to_vec(), None, None).await?;
    }
    Ok(Some(key))
}
