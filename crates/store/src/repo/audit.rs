use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::AuditRow;
use crate::schema::audit_log;
use crate::{Conn, StoreError};

/// A state change to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// Who (None for the system: seed, worker).
    pub actor_id: Option<i64>,
    /// What, e.g. `product.created`.
    pub action: &'a str,
    /// Kind of entity, e.g. `product`.
    pub entity_type: &'a str,
    /// Its ID.
    pub entity_id: String,
    /// Details (before/after values, reasons).
    pub detail: serde_json::Value,
}

/// Appends one entry (the table refuses updates and deletes).
pub fn record(c: &mut Conn, e: &AuditEvent<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(e.actor_id),
            audit_log::action.eq(e.action),
            audit_log::entity_type.eq(e.entity_type),
            audit_log::entity_id.eq(&e.entity_id),
            audit_log::detail.eq(e.detail.to_string()),
            audit_log::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// One page of entries, newest first, optionally for one entity type.
pub fn list(
    c: &mut Conn,
    entity_type: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<AuditRow>, i64), StoreError> {
    let build = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(t) = entity_type {
            q = q.filter(audit_log::entity_type.eq(t));
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(page.limit())
        .offset(page.offset())
        .load(c)?;
    Ok((rows, total))
}
