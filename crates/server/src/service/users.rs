//! Account administration and the audit log.

use chrono::Utc;
use retail_api_types::{AuditList, AuditQuery, User, UserList, UserQuery};
use retail_domain::UserId;
use retail_domain::account::{Permission, Role, check_role_change};
use retail_domain::paging::PageRequest;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::users::{self, UserFilter};
use serde_json::json;

use super::{audit_dto, pagination, user_dto};
use crate::error::ApiError;
use crate::http::auth::AuthUser;
use crate::state::AppState;

/// The caller's own account.
pub async fn me(state: &AppState, who: &AuthUser) -> Result<User, ApiError> {
    let id = who.id;
    let row = state.db.read(move |c| users::by_id(c, id.get())).await?;
    user_dto(row.ok_or(ApiError::Unauthorized("account no longer exists"))?)
}

/// One page of accounts.
pub async fn list(state: &AppState, actor: &AuthUser, q: UserQuery) -> Result<UserList, ApiError> {
    actor.require(Permission::ManageUsers)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = UserFilter { role: q.role, q: q.q };
    let (rows, total) = state.db.read(move |c| users::list(c, &filter, page)).await?;
    Ok(UserList {
        items: rows.into_iter().map(user_dto).collect::<Result<_, _>>()?,
        pagination: pagination(page, total),
    })
}

/// Changes an account's role. An admin cannot remove their own admin role.
pub async fn change_role(
    state: &AppState,
    actor: &AuthUser,
    target: UserId,
    role: Role,
) -> Result<User, ApiError> {
    actor.require(Permission::ManageUsers)?;
    check_role_change(actor.id, target, role)
        .map_err(|e| ApiError::Conflict { code: "self_demotion", detail: e.to_string() })?;
    let actor_id = actor.id.get();
    let now = Utc::now();
    let row = state
        .db
        .write(move |c| -> Result<_, ApiError> {
            let before = users::by_id(c, target.get())?
                .ok_or_else(|| ApiError::not_found(format!("user {target}")))?;
            let after = users::set_role(c, target.get(), role, now)?
                .ok_or_else(|| ApiError::not_found(format!("user {target}")))?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: Some(actor_id),
                    action: "user.role_changed",
                    entity_type: "user",
                    entity_id: target.to_string(),
                    detail: json!({ "from": before.role, "to": role.as_str() }),
                },
                now,
            )?;
            Ok(after)
        })
        .await?;
    user_dto(row)
}

/// One page of the audit log, newest first.
pub async fn audit_log(state: &AppState, actor: &AuthUser, q: AuditQuery) -> Result<AuditList, ApiError> {
    actor.require(Permission::ViewAudit)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let entity = q.entity_type.filter(|s| !s.trim().is_empty());
    let (rows, total) = state.db.read(move |c| audit::list(c, entity.as_deref(), page)).await?;
    Ok(AuditList { items: rows.into_iter().map(audit_dto).collect(), pagination: pagination(page, total) })
}
