//! Demo returns of the demo customer's delivered orders, one waiting on each team: support
//! (to approve), the warehouse (a parcel on its way, one received), finance (one inspected,
//! one decided and ready to process). Each has the event log it would have had, backdated
//! so the queues show ages and a breached target. Idempotent: nothing is written once the
//! demo customer has any return.

use chrono::{Duration, Utc};
use retail_domain::Money;
use retail_domain::rma::{self, Condition, Disposition, FeePolicy, ReturnReason, RmaStage};
use retail_store::Db;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::orders;
use retail_store::repo::returns::{self as repo, NewEvent, NewRma, NewRmaLine, RmaChanges};
use retail_store::repo::users;
use serde_json::json;

use crate::service::ServiceError;

/// One demo return: the order (by its seed key) and line position, the reason, the stage it
/// has reached, and how many hours ago it entered that stage.
struct DemoReturn {
    order_key: &'static str,
    line: usize,
    reason: ReturnReason,
    stage: RmaStage,
    hours_in_stage: i64,
}

const RETURNS: &[DemoReturn] = &[
    DemoReturn {
        order_key: "seed-order-1",
        line: 0,
        reason: ReturnReason::Defective,
        stage: RmaStage::Validating,
        hours_in_stage: 30,
    },
    DemoReturn {
        order_key: "seed-order-1",
        line: 1,
        reason: ReturnReason::NoLongerNeeded,
        stage: RmaStage::Shipping,
        hours_in_stage: 20,
    },
    DemoReturn {
        order_key: "seed-order-2",
        line: 0,
        reason: ReturnReason::DamagedInTransit,
        stage: RmaStage::Received,
        hours_in_stage: 3,
    },
    DemoReturn {
        order_key: "seed-order-1",
        line: 1,
        reason: ReturnReason::NotAsDescribed,
        stage: RmaStage::Inspected,
        hours_in_stage: 5,
    },
    DemoReturn {
        order_key: "seed-order-7",
        line: 1,
        reason: ReturnReason::WrongItem,
        stage: RmaStage::Disposition,
        hours_in_stage: 2,
    },
];

/// The usual path to `stage`, with who takes each step.
fn path_to(stage: RmaStage) -> Vec<(RmaStage, &'static str, &'static str)> {
    let all = [
        (RmaStage::Submitted, "submit", "customer"),
        (RmaStage::Validating, "validate", "system"),
        (RmaStage::Approved, "approve", "support"),
        (RmaStage::Shipping, "ship", "customer"),
        (RmaStage::Received, "receive", "warehouse"),
        (RmaStage::Inspecting, "start_inspection", "warehouse"),
        (RmaStage::Inspected, "inspect", "warehouse"),
        (RmaStage::Disposition, "decide", "finance"),
    ];
    let end = all.iter().position(|(s, ..)| *s == stage).unwrap_or(0);
    all[..=end].to_vec()
}

/// Creates the demo returns if the demo customer has none; returns how many it created.
pub async fn run(db: &Db) -> Result<usize, ServiceError> {
    let Some(user) = db.read(|c| users::by_email(c, crate::seed_orders::CUSTOMER)).await? else {
        return Ok(0);
    };
    let user = user.id;
    db.write(move |c| {
        if repo::any_of_user(c, user)? {
            return Ok(0);
        }
        let mut created = 0;
        for d in RETURNS {
            let Some(order) = orders::by_key(c, user, d.order_key)? else { continue };
            let Some(line) = orders::lines(c, order.id)?.into_iter().nth(d.line) else { continue };
            let steps = path_to(d.stage);
            let entered = Utc::now() - Duration::hours(d.hours_in_stage);
            // Each earlier step a day before the next.
            let at =
                |i: usize| entered - Duration::hours(24 * i64::try_from(steps.len() - 1 - i).unwrap_or(0));
            let units = vec![(Money(line.unit_price_cents), 1)];
            let gross = line.unit_price_cents;
            let (row, _) = repo::insert(
                c,
                &NewRma {
                    user_id: user,
                    order_id: order.id,
                    stage: RmaStage::Submitted.as_str(),
                    reason: d.reason.as_str(),
                    description: Some("Demo return: see the timeline for each step."),
                    problems: None,
                    currency: &order.currency,
                    gross_cents: gross,
                },
                &[NewRmaLine {
                    order_line_id: line.id,
                    product_id: line.product_id,
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    unit_price_cents: line.unit_price_cents,
                    quantity: 1,
                }],
                at(0),
            )?;
            let condition = Condition::Resellable;
            let est = rma::refund_estimate(&units, &FeePolicy::default(), d.reason, condition)
                .map_err(ServiceError::internal)?;
            let reached = |s: RmaStage| steps.iter().any(|(st, ..)| *st == s);
            let tracking = format!("DEMO{}", row.id);
            let changes = RmaChanges {
                stage: Some(d.stage.as_str()),
                carrier: reached(RmaStage::Shipping).then_some("DHL"),
                tracking: reached(RmaStage::Shipping).then_some(tracking.as_str()),
                condition: reached(RmaStage::Inspected).then_some(condition.as_str()),
                inspection_note: reached(RmaStage::Inspected).then_some("Complete, in its box."),
                fee_cents: reached(RmaStage::Inspected).then_some(est.fee.cents()),
                disposition: reached(RmaStage::Disposition).then_some(Disposition::Refund.as_str()),
                amount_cents: reached(RmaStage::Disposition).then_some(est.net.cents()),
                ..RmaChanges::default()
            };
            let updated = repo::update(c, row.id, row.version, &changes, entered)?.ok_or_else(|| {
                ServiceError::internal(std::io::Error::other("demo return changed while seeded"))
            })?;
            let mut prev: Option<(RmaStage, chrono::DateTime<Utc>)> = None;
            for (i, (stage, action, role)) in steps.iter().enumerate() {
                let when = at(i);
                repo::append_event(
                    c,
                    &NewEvent {
                        rma_id: row.id,
                        actor_id: (*role == "customer").then_some(user),
                        actor_role: role,
                        action,
                        from_stage: prev.map(|(s, _)| s.as_str()),
                        to_stage: stage.as_str(),
                        note: None,
                        stage_secs: prev.map_or(0, |(_, t)| (when - t).num_seconds()),
                    },
                    when,
                )?;
                prev = Some((*stage, when));
            }
            audit::record(
                c,
                &AuditEvent {
                    actor_id: None,
                    action: "rma.seeded",
                    entity_type: "rma",
                    entity_id: updated.id.to_string(),
                    detail: json!({"order_id": order.id, "stage": updated.stage}),
                },
                entered,
            )?;
            created += 1;
        }
        Ok(created)
    })
    .await
}
