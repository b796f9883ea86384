//! Authentication as extractors: a handler that takes [`AuthUser`] cannot run unauthenticated.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use retail_domain::account::{Permission, Role};
use retail_domain::{Caller, UserId};

use crate::error::ApiError;
use crate::service::accounts::session_user;
use crate::state::AppState;

/// The caller, authenticated by a bearer token whose session is still live. The role is
/// read from the database on every request, so a role change applies at once.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Account ID.
    pub id: UserId,
    /// Current role.
    pub role: Role,
    /// Account email.
    pub email: String,
    /// The session the token belongs to.
    pub session_id: String,
}

impl AuthUser {
    /// 403 unless the caller's role grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.role.allows(p) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The caller as use cases know it.
    pub fn caller(&self) -> Caller {
        Caller::user(self.id, self.role)
    }
}

pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let v = v.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::Unauthorized("Authorization must be `Bearer <token>`")),
    }
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<AuthUser, ApiError> {
    let claims = state.tokens.verify(&token)?;
    let sid = claims.sid.clone();
    let found = state.db.read(move |c| session_user(c, &sid, Utc::now())).await?;
    match found {
        Some((id, role, email)) if id.get().to_string() == claims.sub => {
            tracing::Span::current().record("user_id", id.get());
            Ok(AuthUser { id, role, email, session_id: claims.sid })
        }
        _ => Err(ApiError::Unauthorized("session has ended; log in again")),
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))
}

/// Authenticates the request and checks that its role grants `p`: 401, then 403. Used by
/// middleware that must refuse a caller before its body or query is read.
pub async fn authorize(req: &HttpRequest, p: Permission) -> Result<AuthUser, ApiError> {
    let token = bearer(req)?.ok_or(ApiError::Unauthorized("missing bearer token"))?;
    let user = authenticate(state_of(req)?, token).await?;
    user.require(p)?;
    Ok(user)
}

/// Authenticates the request (401 without a valid token); any role will do. Used by
/// middleware that must refuse a caller before its body or query is read.
pub async fn signed_in(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let token = bearer(req)?.ok_or(ApiError::Unauthorized("missing bearer token"))?;
    authenticate(state_of(req)?, token).await
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already authenticated by a middleware (see `authorize`) for this request.
        if let Some(user) = req.extensions().get::<AuthUser>().cloned() {
            return Box::pin(std::future::ready(Ok(user)));
        }
        let token = bearer(req);
        let state = state_of(req);
        Box::pin(async move {
            let token = token?.ok_or(ApiError::Unauthorized("missing bearer token"))?;
            authenticate(state?, token).await
        })
    }
}

/// The caller if a token was sent. A token that is sent but invalid is still a 401: a
/// broken client should hear about it rather than silently browse anonymously.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = state_of(req);
        Box::pin(async move {
            match token? {
                None => Ok(MaybeAuthUser(None)),
                Some(t) => authenticate(state?, t).await.map(|u| MaybeAuthUser(Some(u))),
            }
        })
    }
}
