//! Registration, login, token refresh, logout.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use retail_api_types::{LoginRequest, RegisterRequest, TokenResponse};
use retail_domain::account::{Email, Password, Role, display_name};
use retail_domain::{Caller, UserId, ValidationErrors};
use retail_store::models::{NewUserRow, SessionRow, UserRow};
use retail_store::repo::{audit, sessions, users};
use retail_store::{Conn, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::idempotency::{IdempotencyKey, Replayed, replay_or_run};
use super::user_dto;
use crate::auth::{self, SessionLifetimes, TokenKeys};
use crate::service::ServiceError;
use crate::state::{AccountLimiter, AppState};

/// Routes of this module, the scopes of their idempotency keys.
const REGISTER_ROUTE: &str = "POST /api/auth/register";
const LOGIN_ROUTE: &str = "POST /api/auth/login";
const REFRESH_ROUTE: &str = "POST /api/auth/refresh";
const LOGOUT_ROUTE: &str = "POST /api/auth/logout";

/// What a request that opens or refreshes a session stores for its idempotency key: the
/// session and the hash of the refresh token its answer carried. Never a token: a repeat
/// re-issues the same session's tokens (see [`reissue`]).
#[derive(Debug, Serialize, Deserialize)]
struct IssuedSession {
    session_id: String,
    refresh_hash: String,
}

/// A session's tokens as issued inside a write transaction.
struct Issued {
    user: UserRow,
    session_id: String,
    refresh: String,
    expires: DateTime<Utc>,
}

impl Issued {
    fn stored(&self) -> IssuedSession {
        IssuedSession { session_id: self.session_id.clone(), refresh_hash: auth::refresh_hash(&self.refresh) }
    }
}

/// The idempotency key of a request that carries a secret (a password, a refresh token): its
/// stored hash is an HMAC under the server secret.
fn secret_request_key(
    state: &AppState,
    route: &str,
    header: Option<&str>,
    request: &impl Serialize,
) -> Result<Option<IdempotencyKey>, ServiceError> {
    Ok(IdempotencyKey::from_request(None, route, header, request, state.settings.idempotency.ttl())?
        .map(|k| k.keyed(|h| state.tokens.fingerprint(h.as_bytes()))))
}

/// Opens a session for `user` inside the caller's transaction.
fn insert_session(
    c: &mut Conn,
    user: UserRow,
    lifetimes: SessionLifetimes,
    now: DateTime<Utc>,
) -> Result<Issued, ServiceError> {
    let (refresh, refresh_hash) = auth::new_refresh_token();
    let row = SessionRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id,
        refresh_hash,
        created_at: now,
        expires_at: lifetimes.session_expiry(now, now),
        revoked_at: None,
    };
    sessions::insert(c, &row)?;
    Ok(Issued { user, session_id: row.id, refresh, expires: row.expires_at })
}

/// Answers a repeated request (same key, same request) with fresh tokens for the session the
/// first answer opened or refreshed: only while that session is live and its refresh token is
/// still the one that answer carried, i.e. the client never used it and most likely never
/// received it. Tokens of the first answer stop working (rotated out). Once that answer was
/// used, a repeat is refused: it would hand a second holder the same session.
fn reissue(
    c: &mut Conn,
    key: &IdempotencyKey,
    stored: IssuedSession,
    lifetimes: SessionLifetimes,
    now: DateTime<Utc>,
) -> Result<Issued, ServiceError> {
    let gone = || {
        ServiceError::Unauthorized(
            "the session this Idempotency-Key opened has ended or its tokens were used; send a new request with a new key",
        )
    };
    let s = sessions::by_id(c, &stored.session_id)?.ok_or_else(gone)?;
    if s.revoked_at.is_some() || s.expires_at <= now || s.refresh_hash != stored.refresh_hash {
        return Err(gone());
    }
    let user = users::by_id(c, s.user_id)?.ok_or_else(gone)?;
    let (refresh, refresh_hash) = auth::new_refresh_token();
    let expires = lifetimes.session_expiry(s.created_at, now);
    sessions::rotate(c, &s.id, &s.refresh_hash, &refresh_hash, expires, now)?;
    let issued = Issued { user, session_id: s.id, refresh, expires };
    key.store_again(c, &issued.stored())?;
    Ok(issued)
}

/// Inside a write transaction: the repeated answer for `key` if there is one, else `open`
/// runs and its session is stored for the key.
fn issue_once(
    c: &mut Conn,
    key: Option<&IdempotencyKey>,
    lifetimes: SessionLifetimes,
    now: DateTime<Utc>,
    status: u16,
    open: impl FnOnce(&mut Conn) -> Result<Issued, ServiceError>,
) -> Result<(Issued, bool), ServiceError> {
    if let Some(k) = key
        && let Some(stored) = k.lookup::<IssuedSession>(c, now)?
    {
        return Ok((reissue(c, k, stored, lifetimes, now)?, true));
    }
    let issued = open(c)?;
    if let Some(k) = key {
        k.store(c, status, &issued.stored(), now)?;
    }
    Ok((issued, false))
}

fn answer(
    keys: &TokenKeys,
    (issued, replayed): (Issued, bool),
    now: DateTime<Utc>,
) -> Result<Replayed<TokenResponse>, ServiceError> {
    let value = token_response(
        keys,
        user_dto(issued.user)?,
        &issued.session_id,
        issued.refresh,
        now,
        issued.expires,
    )?;
    Ok(Replayed { value, replayed })
}

/// Creates a customer account (whatever the request says about roles) and logs it in, in one
/// transaction. With an idempotency key, a repeat does not create another account: it
/// answers with fresh tokens for the session the first request opened.
pub async fn register(
    state: &AppState,
    req: RegisterRequest,
    idempotency_key: Option<&str>,
) -> Result<Replayed<TokenResponse>, ServiceError> {
    let key = secret_request_key(state, REGISTER_ROUTE, idempotency_key, &req)?;
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
    let lifetimes = state.tokens.clone_lifetimes();
    let issued = state
        .db
        .write(move |c| {
            issue_once(c, key.as_ref(), lifetimes, now, 201, |c| {
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
                insert_session(c, user, lifetimes, now)
            })
        })
        .await?;
    answer(&state.tokens, issued, now)
}

/// Verifies credentials and opens a session. Failures are throttled per account and client
/// address; an unknown email costs the same time as a wrong password.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: Option<IpAddr>,
    idempotency_key: Option<&str>,
) -> Result<Replayed<TokenResponse>, ServiceError> {
    let key = secret_request_key(state, LOGIN_ROUTE, idempotency_key, &req)?;
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
    let now = Utc::now();
    let lifetimes = state.tokens.clone_lifetimes();
    let issued = state
        .db
        .write(move |c| {
            issue_once(c, key.as_ref(), lifetimes, now, 200, |c| insert_session(c, user, lifetimes, now))
        })
        .await?;
    answer(&state.tokens, issued, now)
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
    /// A live session: rotated (or re-issued for a repeated idempotency key).
    Rotated(Box<(Issued, bool)>),
    /// Unknown, expired or revoked.
    Invalid,
    /// A token already rotated out: someone holds a copy, so the session was revoked.
    Reused,
}

/// Exchanges a refresh token for new tokens; the old refresh token stops working, and
/// presenting it again revokes the whole session (RFC 9700 reuse detection). Refreshing
/// never extends a session past its absolute lifetime. With an idempotency key, a repeat of
/// a refresh whose answer was lost re-issues that session's tokens instead of counting as
/// reuse (see [`reissue`]).
pub async fn refresh(
    state: &AppState,
    token: String,
    idempotency_key: Option<&str>,
) -> Result<Replayed<TokenResponse>, ServiceError> {
    if token.is_empty() || token.len() > 256 {
        return Err(ServiceError::invalid("refresh_token", "is not a refresh token"));
    }
    let key = secret_request_key(state, REFRESH_ROUTE, idempotency_key, &token)?;
    let presented = auth::refresh_hash(&token);
    let now = Utc::now();
    let lifetimes = state.tokens.clone_lifetimes();
    // The outcome is returned, not raised: revoking a reused token's session must commit.
    let outcome = state
        .db
        .write(move |c| -> Result<_, ServiceError> {
            if let Some(k) = &key
                && let Some(stored) = k.lookup::<IssuedSession>(c, now)?
            {
                return Ok(Refreshed::Rotated(Box::new((reissue(c, k, stored, lifetimes, now)?, true))));
            }
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
            let (next, next_hash) = auth::new_refresh_token();
            let expires = lifetimes.session_expiry(s.created_at, now);
            sessions::rotate(c, &s.id, &presented, &next_hash, expires, now)?;
            let issued = Issued { user, session_id: s.id, refresh: next, expires };
            if let Some(k) = &key {
                k.store(c, 200, &issued.stored(), now)?;
            }
            Ok(Refreshed::Rotated(Box::new((issued, false))))
        })
        .await?;
    match outcome {
        Refreshed::Rotated(issued) => answer(&state.tokens, *issued, now),
        Refreshed::Invalid | Refreshed::Reused => {
            Err(ServiceError::Unauthorized("refresh token is invalid, expired or revoked"))
        }
    }
}

/// Revokes the session behind the caller's token. Logging out is idempotent by nature; a key
/// is still accepted and remembered, like on every state-changing POST.
pub async fn logout(
    state: &AppState,
    caller: &Caller,
    session_id: String,
    idempotency_key: Option<&str>,
) -> Result<Replayed<()>, ServiceError> {
    let key = IdempotencyKey::from_request(
        Some(caller),
        LOGOUT_ROUTE,
        idempotency_key,
        &(),
        state.settings.idempotency.ttl(),
    )?;
    let now = Utc::now();
    state
        .db
        .write(move |c| {
            replay_or_run(c, key.as_ref(), now, 204, |c| {
                sessions::revoke(c, &session_id, now)?;
                Ok(())
            })
        })
        .await
}

/// Revokes the session a refresh token belongs to (for a browser holding only the refresh
/// cookie). A token already rotated out names its session too: logging out ends it either
/// way. Unknown tokens are ignored: there is nothing left to end.
pub async fn logout_by_refresh_token(
    state: &AppState,
    token: String,
    idempotency_key: Option<&str>,
) -> Result<Replayed<()>, ServiceError> {
    let unknown = || ServiceError::Unauthorized("neither a valid access token nor a known refresh cookie");
    if token.is_empty() || token.len() > 256 {
        return Err(unknown());
    }
    let key = secret_request_key(state, LOGOUT_ROUTE, idempotency_key, &token)?;
    let presented = auth::refresh_hash(&token);
    let now = Utc::now();
    state
        .db
        .write(move |c| {
            replay_or_run(c, key.as_ref(), now, 204, |c| {
                let sid = match sessions::by_refresh_hash(c, &presented)? {
                    Some(s) => Some(s.id),
                    None => sessions::retired_session(c, &presented)?,
                };
                // logging out twice is fine; a cookie that names no session is no credential
                let sid = sid.ok_or_else(unknown)?;
                sessions::revoke(c, &sid, now)?;
                Ok(())
            })
        })
        .await
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
