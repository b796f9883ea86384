//! Registration, login, token refresh, logout.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use retail_api_types::{LoginRequest, RegisterRequest, TokenResponse};
use retail_domain::account::{Email, Password, Role, display_name};
use retail_domain::{UserId, ValidationErrors};
use retail_store::models::{NewUserRow, SessionRow, UserRow};
use retail_store::repo::{audit, sessions, users};
use retail_store::{Conn, StoreError};
use serde_json::json;

use super::user_dto;
use crate::auth::{self, TokenKeys};
use crate::service::ServiceError;
use crate::state::{AccountLimiter, AppState};

/// Creates a customer account (whatever the request says about roles) and logs it in.
pub async fn register(state: &AppState, req: RegisterRequest) -> Result<TokenResponse, ServiceError> {
    let mut errs = ValidationErrors::default();
    let email = errs.check(Email::parse(&req.email));
    let password = email.as_ref().and_then(|e| errs.check(Password::parse(&req.password, e)));
    let name = match req.display_name.as_deref() {
        Some(n) => errs.check(display_name(n)),
        None => email.as_ref().and_then(|e| display_name(e.local_part()).ok()),
    };
    let (email, password, name) = errs.finish(|| Some((email?, password?, name?)))?;

    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = Utc::now();
    let tokens = state.db.write(move |c| -> Result<_, ServiceError> {
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
            StoreError::Unique(_) => ServiceError::Conflict {
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

/// Verifies credentials and opens a session. Failures are throttled per account and client
/// address; an unknown email costs the same time as a wrong password.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: Option<IpAddr>,
) -> Result<TokenResponse, ServiceError> {
    let email = Email::parse(&req.email)?;
    if req.password.len() > 4 * Password::MAX_LEN {
        // no account can have such a password: refuse without spending a hash on it
        return Err(ServiceError::InvalidCredentials);
    }
    let throttle_key = AccountLimiter::key(email.as_str(), client);
    if let Err(e) = state.login_limiter.check(&throttle_key) {
        state.metrics.logins.with_label_values(&["throttled"]).inc();
        return Err(e);
    }
    let lookup = email.as_str().to_owned();
    let user = state.db.read(move |c| users::by_email(c, &lookup)).await?;
    let password = req.password;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = if state.hasher.verify(password, stored).await? { user } else { None };
    let Some(user) = verified else {
        state.login_limiter.failed(&throttle_key);
        state.metrics.logins.with_label_values(&["invalid"]).inc();
        tracing::info!(email = email.as_str(), "login refused");
        return Err(ServiceError::InvalidCredentials);
    };
    state.login_limiter.succeeded(&throttle_key);
    state.metrics.logins.with_label_values(&["success"]).inc();
    open_session(state, user, Utc::now()).await
}

async fn open_session(
    state: &AppState,
    user: UserRow,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ServiceError> {
    let dto = user_dto(user)?;
    let sid = uuid::Uuid::new_v4().to_string();
    let (refresh, refresh_hash) = auth::new_refresh_token();
    let row = SessionRow {
        id: sid.clone(),
        user_id: dto.id.get(),
        refresh_hash,
        created_at: now,
        expires_at: state.tokens.session_expiry(now, now),
        revoked_at: None,
    };
    let expires = row.expires_at;
    state.db.write(move |c| sessions::insert(c, &row)).await.map_err(ServiceError::from)?;
    token_response(&state.tokens, dto, &sid, refresh, now, expires)
}

fn token_response(
    keys: &TokenKeys,
    user: retail_api_types::User,
    sid: &str,
    refresh_token: String,
    now: DateTime<Utc>,
    session_expires: DateTime<Utc>,
) -> Result<TokenResponse, ServiceError> {
    Ok(TokenResponse {
        access_token: keys.issue(user.id, user.role, sid, now)?,
        token_type: "Bearer".into(),
        expires_in: keys.access_ttl.num_seconds(),
        refresh_token,
        refresh_expires_in: (session_expires - now).num_seconds().max(0),
        user,
    })
}

/// What presenting a refresh token found.
enum Refreshed {
    /// A live session: rotated.
    Rotated(String, Box<UserRow>, DateTime<Utc>),
    /// Unknown, expired or revoked.
    Invalid,
    /// A token already rotated out: someone holds a copy, so the session was revoked.
    Reused,
}

/// Exchanges a refresh token for new tokens; the old refresh token stops working, and
/// presenting it again revokes the whole session (RFC 9700 reuse detection). Refreshing
/// never extends a session past its absolute lifetime.
pub async fn refresh(state: &AppState, token: String) -> Result<TokenResponse, ServiceError> {
    if token.is_empty() || token.len() > 256 {
        return Err(ServiceError::invalid("refresh_token", "is not a refresh token"));
    }
    let presented = auth::refresh_hash(&token);
    let (next, next_hash) = auth::new_refresh_token();
    let now = Utc::now();
    let keys = state.tokens.clone_lifetimes();
    // The outcome is returned, not raised: revoking a reused token's session must commit.
    let outcome = state
        .db
        .write(move |c| -> Result<_, ServiceError> {
            let Some(s) = sessions::by_refresh_hash(c, &presented)? else {
                let Some(sid) = sessions::retired_session(c, &presented)? else {
                    return Ok(Refreshed::Invalid);
                };
                if sessions::revoke(c, &sid, now)? {
                    audit::record(
                        c,
                        &audit::AuditEvent {
                            actor_id: None,
                            action: "session.refresh_token_reused",
                            entity_type: "session",
                            entity_id: sid.clone(),
                            detail: json!({ "revoked": true }),
                        },
                        now,
                    )?;
                    tracing::warn!(session_id = %sid, "rotated-out refresh token presented; session revoked");
                }
                return Ok(Refreshed::Reused);
            };
            if s.revoked_at.is_some() || s.expires_at <= now {
                return Ok(Refreshed::Invalid);
            }
            let Some(user) = users::by_id(c, s.user_id)? else { return Ok(Refreshed::Invalid) };
            let expires = keys.session_expiry(s.created_at, now);
            sessions::rotate(c, &s.id, &presented, &next_hash, expires, now)?;
            Ok(Refreshed::Rotated(s.id, Box::new(user), expires))
        })
        .await?;
    match outcome {
        Refreshed::Rotated(session_id, user, expires) => {
            token_response(&state.tokens, user_dto(*user)?, &session_id, next, now, expires)
        }
        Refreshed::Invalid | Refreshed::Reused => {
            Err(ServiceError::Unauthorized("refresh token is invalid, expired or revoked"))
        }
    }
}

/// Revokes the session behind the caller's token.
pub async fn logout(state: &AppState, session_id: String) -> Result<(), ServiceError> {
    let now = Utc::now();
    state.db.write(move |c| sessions::revoke(c, &session_id, now)).await?;
    Ok(())
}

/// Revokes the session a refresh token belongs to (for a browser holding only the refresh
/// cookie). A token already rotated out names its session too: logging out ends it either
/// way. Unknown tokens are ignored: there is nothing left to end.
pub async fn logout_by_refresh_token(state: &AppState, token: String) -> Result<(), ServiceError> {
    let unknown = ServiceError::Unauthorized("neither a valid access token nor a known refresh cookie");
    if token.is_empty() || token.len() > 256 {
        return Err(unknown);
    }
    let presented = auth::refresh_hash(&token);
    let now = Utc::now();
    let known = state
        .db
        .write(move |c| -> Result<_, ServiceError> {
            let sid = match sessions::by_refresh_hash(c, &presented)? {
                Some(s) => Some(s.id),
                None => sessions::retired_session(c, &presented)?,
            };
            if let Some(sid) = &sid {
                sessions::revoke(c, sid, now)?;
            }
            Ok(sid.is_some())
        })
        .await?;
    // logging out twice is fine; a cookie that names no session at all is not a credential
    if known { Ok(()) } else { Err(unknown) }
}

/// The account and role behind a session, if the session is live.
pub fn session_user(
    c: &mut Conn,
    sid: &str,
    now: DateTime<Utc>,
) -> Result<Option<(UserId, Role, String)>, ServiceError> {
    let Some((_, user)) = sessions::active_with_user(c, sid, now)? else { return Ok(None) };
    let dto = user_dto(user)?;
    Ok(Some((dto.id, dto.role, dto.email)))
}
