//! Commands an operator runs on the server itself (`retail user …`): the way back in when
//! no admin is left. They act as the system, with an audit row like any other change.

use chrono::Utc;
use retail_domain::account::{Email, Password, Role, display_name};
use retail_store::Db;
use retail_store::models::NewUserRow;
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::users;
use serde_json::json;

use super::{blocking, user_dto};
use crate::auth::hash_password;
use crate::service::ServiceError;

/// Creates an account with any role (the API's registration only makes customers).
pub async fn create_user(
    db: &Db,
    email: &str,
    password: &str,
    name: Option<&str>,
    role: Role,
) -> Result<retail_api_types::User, ServiceError> {
    let email = Email::parse(email)?;
    let password = Password::parse(password, &email)?;
    let name = match name {
        Some(n) => display_name(n)?,
        None => display_name(email.local_part())?,
    };
    let hash = blocking(move || hash_password(password.expose())).await??;
    let now = Utc::now();
    let row = db
        .write(move |c| -> Result<_, ServiceError> {
            let u = users::insert(
                c,
                &NewUserRow {
                    email: email.as_str(),
                    password_hash: &hash,
                    display_name: &name,
                    role: role.as_str(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| match e {
                retail_store::StoreError::Unique(_) => ServiceError::Conflict {
                    code: "email_taken",
                    detail: format!("an account with email {} already exists", email.as_str()),
                },
                other => other.into(),
            })?;
            audit::record(
                c,
                &AuditEvent {
                    actor_id: None,
                    action: "user.created_by_operator",
                    entity_type: "user",
                    entity_id: u.id.to_string(),
                    detail: json!({ "email": u.email, "role": u.role }),
                },
                now,
            )?;
            Ok(u)
        })
        .await?;
    user_dto(row)
}

/// Sets the role of the account with this email.
pub async fn set_role(db: &Db, email: &str, role: Role) -> Result<retail_api_types::User, ServiceError> {
    let email = Email::parse(email)?;
    let now = Utc::now();
    let row = db
        .write(move |c| -> Result<_, ServiceError> {
            let account = users::by_email(c, email.as_str())?
                .ok_or_else(|| ServiceError::not_found(format!("account {}", email.as_str())))?;
            super::users::set_role_in(c, account.id, role, None, "user.role_changed_by_operator", now)
        })
        .await?;
    user_dto(row)
}
