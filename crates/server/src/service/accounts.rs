//! Registration, login, token refresh, logout.

use chrono::{DateTime, Utc};
use retail_api_types::{LoginRequest, RegisterRequest, TokenResponse};
use retail_domain::account::{Email, Password, Role, display_name};
use retail_domain::{UserId, ValidationErrors};
use retail_store::models::{NewUserRow, SessionRow, UserRow};
use retail_store::repo::{audit, sessions, users};
use retail_store::{Conn, StoreError};
use serde_json::json;

use super::{blocking, user_dto};
use crate::auth::{self, TokenKeys};
use crate::error::ApiError;
use crate::state::AppState;

/// Creates a customer account (whatever the request says about roles) and logs it in.
pub async fn register(state: &AppState, req: RegisterRequest) -> Result<TokenResponse, ApiError> {
    let mut errs = ValidationErrors::default();
    let email = errs.check(Email::parse(&req.email));
    let password = email.as_ref().and_then(|e| errs.check(Password::parse(&req.password, e)));
    let name = match req.display_name.as_deref() {
        Some(n) => errs.check(display_name(n)),
        None => email.as_ref().and_then(|e| display_name(e.local_part()).ok()),
    };
    let (email, password, name) = errs.finish(|| Some((email?, password?, name?)))?;

    let hash = blocking(move || auth::hash_password(password.expose())).await??;
    let now = Utc::now();
    let tokens = state.db.write(move |c| -> Result<_, ApiError> {
        let user = users::insert(
            c,
            &NewUserRow {
                email: email.as_str(),
                password_hash: &hash,
                display_name: &name,
                role: Role::Customer.as_str(),
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| match e {
            StoreError::Unique(_) => ApiError::Conflict {
                code: "email_taken",
                detail: "an account with this email already exists".into(),
            },
            other => other.into(),
        })?;
        audit::record(
            c,
            &audit::AuditEvent {
                actor_id: Some(user.id),
                action: "user.registered",
                entity_type: "user",
                entity_id: user.id.to_string(),
                detail: json!({ "email": user.email }),
            },
            now,
        )?;
        Ok(user)
    });
    let user = tokens.await?;
    open_session(state, user, now).await
}

/// Verifies credentials and opens a session. Throttled per account; an unknown email costs
/// the same time as a wrong password.
pub async fn login(state: &AppState, req: LoginRequest) -> Result<TokenResponse, ApiError> {
    let email = Email::parse(&req.email)?;
    if req.password.len() > 4 * Password::MAX_LEN {
        // no account can have such a password: refuse without spending a hash on it
        return Err(ApiError::InvalidCredentials);
    }
    if let Err(e) = state.login_limiter.check(email.as_str()) {
        state.metrics.logins.with_label_values(&["throttled"]).inc();
        return Err(e);
    }
    let lookup = email.as_str().to_owned();
    let user = state.db.read(move |c| users::by_email(c, &lookup)).await?;
    let password = req.password;
    let verified = blocking(move || match user {
        Some(u) if auth::verify_password(&password, &u.password_hash) => Some(u),
        Some(_) => None,
        None => {
            auth::burn_verification(&password);
            None
        }
    })
    .await?;
    let Some(user) = verified else {
        state.metrics.logins.with_label_values(&["invalid"]).inc();
        tracing::info!(email = email.as_str(), "login refused");
        return Err(ApiError::InvalidCredentials);
    };
    state.metrics.logins.with_label_values(&["success"]).inc();
    open_session(state, user, Utc::now()).await
}

async fn open_session(
    state: &AppState,
    user: UserRow,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    let dto = user_dto(user)?;
    let sid = uuid::Uuid::new_v4().to_string();
    let (refresh, refresh_hash) = auth::new_refresh_token();
    let row = SessionRow {
        id: sid.clone(),
        user_id: dto.id.get(),
        refresh_hash,
        created_at: now,
        expires_at: now + state.tokens.refresh_ttl,
        revoked_at: None,
    };
    state.db.write(move |c| sessions::insert(c, &row)).await.map_err(ApiError::from)?;
    token_response(&state.tokens, dto, &sid, refresh, now)
}

fn token_response(
    keys: &TokenKeys,
    user: retail_api_types::User,
    sid: &str,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: keys.issue(user.id, user.role, sid, now)?,
        token_type: "Bearer".into(),
        expires_in: keys.access_ttl.num_seconds(),
        refresh_token,
        refresh_expires_in: keys.refresh_ttl.num_seconds(),
        user,
    })
}

/// Exchanges a refresh token for new tokens; the old refresh token stops working.
pub async fn refresh(state: &AppState, token: String) -> Result<TokenResponse, ApiError> {
    if token.is_empty() || token.len() > 256 {
        return Err(ApiError::invalid("refresh_token", "is not a refresh token"));
    }
    let presented = auth::refresh_hash(&token);
    let (next, next_hash) = auth::new_refresh_token();
    let now = Utc::now();
    let expires = now + state.tokens.refresh_ttl;
    let (session, user) = state
        .db
        .write(move |c| -> Result<_, ApiError> {
            let unauthorized = || ApiError::Unauthorized("refresh token is invalid, expired or revoked");
            let s = sessions::by_refresh_hash(c, &presented)?.ok_or_else(unauthorized)?;
            if s.revoked_at.is_some() || s.expires_at <= now {
                return Err(unauthorized());
            }
            let user = users::by_id(c, s.user_id)?.ok_or_else(unauthorized)?;
            sessions::rotate(c, &s.id, &next_hash, expires)?;
            Ok((s, user))
        })
        .await?;
    token_response(&state.tokens, user_dto(user)?, &session.id, next, now)
}

/// Revokes the session behind the caller's token.
pub async fn logout(state: &AppState, session_id: String) -> Result<(), ApiError> {
    let now = Utc::now();
    state.db.write(move |c| sessions::revoke(c, &session_id, now)).await?;
    Ok(())
}

/// The account and role behind a session, if the session is live.
pub fn session_user(
    c: &mut Conn,
    sid: &str,
    now: DateTime<Utc>,
) -> Result<Option<(UserId, Role, String)>, ApiError> {
    let Some((_, user)) = sessions::active_with_user(c, sid, now)? else { return Ok(None) };
    let dto = user_dto(user)?;
    Ok(Some((dto.id, dto.role, dto.email)))
}
