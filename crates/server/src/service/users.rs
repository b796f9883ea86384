//! Account administration and the audit log.

use chrono::{DateTime, Utc};
use retail_api_types::{AuditList, AuditQuery, User, UserList, UserQuery};
use retail_domain::account::{Permission, Role, check_role_change};
use retail_domain::paging::PageRequest;
use retail_domain::validation::filter_text;
use retail_domain::{Caller, UserId};
use retail_store::Conn;
use retail_store::models::UserRow;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::users::{self, UserFilter};
use serde_json::json;

use super::{audit_dto, pagination, user_dto, write_as};
use crate::service::ServiceError;
use crate::state::AppState;

/// The caller's own account.
pub async fn me(state: &AppState, who: &Caller) -> Result<User, ServiceError> {
    let id = who.user_id().ok_or(ServiceError::Unauthorized("sign in first"))?;
    let row = state.db.read(move |c| users::by_id(c, id.get())).await?;
    user_dto(row.ok_or(ServiceError::Unauthorized("account no longer exists"))?)
}

/// One page of accounts.
pub async fn list(state: &AppState, actor: &Caller, q: UserQuery) -> Result<UserList, ServiceError> {
    actor.require(Permission::ManageUsers)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let text = filter_text("q", q.q.as_deref()).map_err(ServiceError::invalid_query)?;
    let filter = UserFilter { role: q.role, q: text };
    let (rows, total) = state.db.read(move |c| users::list(c, &filter, page)).await?;
    Ok(UserList {
        items: rows.into_iter().map(user_dto).collect::<Result<_, _>>()?,
        pagination: pagination(page, total),
    })
}

/// Changes an account's role. An admin cannot remove their own admin role.
pub async fn change_role(
    state: &AppState,
    actor: &Caller,
    target: UserId,
    role: Role,
) -> Result<User, ServiceError> {
    actor.require(Permission::ManageUsers)?;
    if let Some(me) = actor.user_id() {
        check_role_change(me, target, role)
            .map_err(|e| ServiceError::Conflict { code: "self_demotion", detail: e.to_string() })?;
    }
    let actor_id = actor.user_id().map(UserId::get);
    let now = Utc::now();
    let row = write_as(&state.db, actor, Permission::ManageUsers, move |c, _| {
        set_role_in(c, target.get(), role, actor_id, "user.role_changed", now)
    })
    .await?;
    user_dto(row)
}

/// Sets an account's role inside the caller's transaction, with its audit row. A change
/// that would leave the shop without an admin is refused (and rolls back with the rest).
pub(crate) fn set_role_in(
    c: &mut Conn,
    target: i64,
    role: Role,
    actor_id: Option<i64>,
    action: &'static str,
    now: DateTime<Utc>,
) -> Result<UserRow, ServiceError> {
    let missing = || ServiceError::not_found(format!("user {target}"));
    let before = users::by_id(c, target)?.ok_or_else(missing)?;
    let after = users::set_role(c, target, role, now)?.ok_or_else(missing)?;
    if users::count_with_role(c, Role::Admin)? == 0 {
        return Err(ServiceError::Conflict {
            code: "last_admin",
            detail: "this change would leave the shop without an admin".into(),
        });
    }
    audit::record(
        c,
        &AuditEvent {
            actor_id,
            action,
            entity_type: "user",
            entity_id: target.to_string(),
            detail: json!({ "from": before.role, "to": role.as_str() }),
        },
        now,
    )?;
    Ok(after)
}

/// One page of the audit log, newest first.
pub async fn audit_log(state: &AppState, actor: &Caller, q: AuditQuery) -> Result<AuditList, ServiceError> {
    actor.require(Permission::ViewAudit)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let entity = filter_text("entity_type", q.entity_type.as_deref()).map_err(ServiceError::invalid_query)?;
    let (rows, total) = state.db.read(move |c| audit::list(c, entity.as_deref(), page)).await?;
    Ok(AuditList { items: rows.into_iter().map(audit_dto).collect(), pagination: pagination(page, total) })
}
