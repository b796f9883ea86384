//! `/api/auth/*`: register, log in, refresh, log out, who am I.
//!
//! Besides the JSON body (for API clients), register, login and refresh put the refresh token
//! in an HttpOnly cookie scoped to `/api/auth`, so the SPA never holds it where scripts can
//! read it; refresh and logout accept it from there.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, post};
use retail_api_types::{LoginRequest, Problem, RefreshRequest, RegisterRequest, TokenResponse, User};

use super::auth::AuthUser;
use super::extract::Json;
use super::idempotency::{IdempotencyKeyHeader, IdempotencyKeyParam, REPLAYED_HEADER, respond};
use crate::error::ApiError;
use crate::service::idempotency::Replayed;
use crate::service::{accounts, users};
use crate::state::State;

/// Create a customer account and log it in.
///
/// Registration always yields the `customer` role, whatever the body says.
///
/// With an `Idempotency-Key`, a repeat answers with fresh tokens for the session the first
/// request opened (tokens are never stored; the first answer's refresh token stops working),
/// as long as that answer's refresh token was not used; otherwise 401.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    params(IdempotencyKeyParam),
    responses(
        (status = 201, description = "Account created; tokens for its first session", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`retail_refresh=<refresh token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=<refresh_expires_in>` (plus `Secure` over TLS): the refresh token again, for browsers"))),
        (status = 409, description = "Email already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, password or name", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this client", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/register")]
pub async fn register(
    state: State,
    req: HttpRequest,
    key: IdempotencyKeyHeader,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = accounts::register(&state, body.0, key.as_deref()).await?;
    Ok(with_tokens(HttpResponse::Created(), &req, tokens))
}

/// Log in with email and password.
///
/// With an `Idempotency-Key`, a repeat answers with fresh tokens for the session the first
/// request opened (tokens are never stored; the first answer's refresh token stops working),
/// as long as that answer's refresh token was not used; otherwise 401.
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    params(IdempotencyKeyParam),
    responses(
        (status = 200, description = "Tokens for a new session", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`retail_refresh=<refresh token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=<refresh_expires_in>` (plus `Secure` over TLS): the refresh token again, for browsers"))),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this account or from this client; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/login")]
pub async fn login(
    state: State,
    req: HttpRequest,
    key: IdempotencyKeyHeader,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = super::client_ip(&req);
    let tokens = accounts::login(&state, body.0, client, key.as_deref()).await?;
    Ok(with_tokens(HttpResponse::Ok(), &req, tokens))
}

/// Exchange a refresh token for new tokens (the refresh token is single-use).
///
/// The token comes from the body, or, when the body has none (`{}`), from the
/// `retail_refresh` cookie. Presenting a token that was already rotated out revokes its session.
///
/// With an `Idempotency-Key`, a repeat answers with fresh tokens for the session the first
/// request opened (tokens are never stored; the first answer's refresh token stops working),
/// as long as that answer's refresh token was not used; otherwise 401.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    params(
        ("retail_refresh" = Option<String>, Cookie, description = "Refresh token set by login, register or refresh; used when the body has none"),
        IdempotencyKeyParam,
    ),
    responses(
        (status = 200, description = "New tokens", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`retail_refresh=<refresh token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=<refresh_expires_in>` (plus `Secure` over TLS): the refresh token again, for browsers"))),
        (status = 401, description = "Refresh token missing, invalid, expired, used or revoked", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "Other client errors", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/refresh")]
pub async fn refresh(
    state: State,
    req: HttpRequest,
    key: IdempotencyKeyHeader,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body
        .0
        .refresh_token
        .or_else(|| refresh_cookie(&req))
        .ok_or(ApiError::Unauthorized("no refresh token in the body or the cookie"))?;
    let tokens = accounts::refresh(&state, token, key.as_deref()).await?;
    Ok(with_tokens(HttpResponse::Ok(), &req, tokens))
}

/// End the current session: its access and refresh tokens stop working at once.
///
/// The session is the bearer token's; without a valid one, the `retail_refresh` cookie's (a
/// browser whose access token expired). The cookie is cleared either way.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("refresh_cookie" = [])),
    params(IdempotencyKeyParam),
    responses(
        (status = 204, description = "Session revoked",
            headers(("Set-Cookie" = String, description = "Clears `retail_refresh` (`Max-Age=0`)"))),
        (status = 401, description = "Neither a valid token nor a refresh cookie", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/logout")]
pub async fn logout(
    state: State,
    req: HttpRequest,
    who: Result<AuthUser, ApiError>,
    key: IdempotencyKeyHeader,
) -> Result<HttpResponse, ApiError> {
    let done = match (who, refresh_cookie(&req)) {
        (Ok(who), _) => accounts::logout(&state, &who.caller(), who.session_id, key.as_deref()).await?,
        (Err(_), Some(token)) => accounts::logout_by_refresh_token(&state, token, key.as_deref()).await?,
        (Err(e), None) => return Err(e),
    };
    let mut res = HttpResponse::NoContent();
    if done.replayed {
        res.insert_header((REPLAYED_HEADER, "true"));
    }
    Ok(res.insert_header(clear_refresh_cookie(&req)).finish())
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
    Ok(HttpResponse::Ok().json(users::me(&state, &who.caller()).await?))
}

/// A token answer: JSON body, refresh cookie, and the replay marker for a repeated key.
fn with_tokens(
    mut res: HttpResponseBuilder,
    req: &HttpRequest,
    tokens: Replayed<TokenResponse>,
) -> HttpResponse {
    res.insert_header(set_refresh_cookie(req, &tokens.value));
    respond(res, tokens)
}

/// Name of the cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "retail_refresh";

/// The refresh token from the `retail_refresh` cookie, if sent and not empty.
fn refresh_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

fn cookie_header(req: &HttpRequest, value: &str, max_age: i64) -> (header::HeaderName, String) {
    // Secure only over TLS: a plain-HTTP dev server would otherwise never get it back.
    let secure = if req.connection_info().scheme() == "https" { "; Secure" } else { "" };
    let cookie = format!(
        "{REFRESH_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age={max_age}{secure}"
    );
    (header::SET_COOKIE, cookie)
}

fn set_refresh_cookie(req: &HttpRequest, tokens: &TokenResponse) -> (header::HeaderName, String) {
    cookie_header(req, &tokens.refresh_token, tokens.refresh_expires_in)
}

fn clear_refresh_cookie(req: &HttpRequest) -> (header::HeaderName, String) {
    cookie_header(req, "", 0)
}
