//! `/api/auth/*`.

use gloo::net::http::Method;
use retail_api_types::{LoginRequest, RegisterRequest, TokenResponse};

use super::requests::{NO_BODY, request};
use super::{Api, ApiError};

/// Logs in; the caller starts the session (the server sets the refresh cookie).
pub async fn login(body: &LoginRequest) -> Result<TokenResponse, ApiError> {
    request(Method::POST, "/api/auth/login", Some(body), None).await
}

/// Creates a customer account and logs it in.
pub async fn register(body: &RegisterRequest) -> Result<TokenResponse, ApiError> {
    request(Method::POST, "/api/auth/register", Some(body), None).await
}

/// Ends the session here and in the other tabs at once, then revokes it on the server, which
/// also clears the refresh cookie. An expired access token is fine: the server then finds
/// the session through the cookie.
pub async fn logout(api: &Api) {
    let token = api.access_token();
    api.end_session();
    let revoked = request::<_, ()>(Method::POST, "/api/auth/logout", NO_BODY, token.as_deref()).await;
    if let Err(e) = revoked {
        gloo::console::warn!(format!("logout not confirmed by the server: {e}"));
    }
}
