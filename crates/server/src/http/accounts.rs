//! `/api/auth/*`: register, log in, refresh, log out, who am I.

use actix_web::{HttpResponse, get, post};
use retail_api_types::{LoginRequest, Problem, RefreshRequest, RegisterRequest, TokenResponse, User};

use super::auth::AuthUser;
use super::extract::Json;
use crate::error::ApiError;
use crate::service::{accounts, users};
use crate::state::State;

/// Create a customer account and log it in.
///
/// Registration always yields the `customer` role, whatever the body says.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; tokens for its first session", body = TokenResponse),
        (status = 409, description = "Email already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, password or name", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this client", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/register")]
pub async fn register(state: State, body: Json<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let tokens = accounts::register(&state, body.0).await?;
    Ok(HttpResponse::Created().json(tokens))
}

/// Log in with email and password.
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens for a new session", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this account or from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/login")]
pub async fn login(state: State, body: Json<LoginRequest>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::login(&state, body.0).await?))
}

/// Exchange a refresh token for new tokens (the refresh token is single-use).
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Refresh token invalid, expired, used or revoked", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/refresh")]
pub async fn refresh(state: State, body: Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::refresh(&state, body.0.refresh_token).await?))
}

/// End the current session: its access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/logout")]
pub async fn logout(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    accounts::logout(&state, who.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account behind the token.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: State, who: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::me(&state, &who).await?))
}
