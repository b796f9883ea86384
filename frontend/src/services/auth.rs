//! `/api/auth/*`.

use gloo::net::http::Method;
use retail_api_types::{LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, User};

use super::requests::{NO_BODY, request};
use super::{Api, ApiError};

/// Logs in; the caller stores the tokens.
pub async fn login(body: &LoginRequest) -> Result<TokenResponse, ApiError> {
    request(Method::POST, "/api/auth/login", Some(body), None).await
}

/// Creates a customer account and logs it in.
pub async fn register(body: &RegisterRequest) -> Result<TokenResponse, ApiError> {
    request(Method::POST, "/api/auth/register", Some(body), None).await
}

/// The account behind the session (validates a restored session).
pub async fn me(api: &Api) -> Result<User, ApiError> {
    api.get("/api/auth/me").await
}

/// Ends the session here at once, then revokes it on the server. An expired access token is
/// renewed once for that, so the refresh token does not stay valid after logging out.
pub async fn logout(api: &Api) {
    let Some(tokens) = api.tokens() else { return };
    api.set_session(None);
    let first = request::<_, ()>(Method::POST, "/api/auth/logout", NO_BODY, Some(&tokens.access_token)).await;
    if matches!(&first, Err(e) if e.status() == Some(401)) {
        let body = RefreshRequest { refresh_token: tokens.refresh_token };
        if let Ok(fresh) =
            request::<_, TokenResponse>(Method::POST, "/api/auth/refresh", Some(&body), None).await
        {
            let revoked =
                request::<_, ()>(Method::POST, "/api/auth/logout", NO_BODY, Some(&fresh.access_token)).await;
            if let Err(e) = revoked {
                gloo::console::warn!(format!("logout not confirmed by the server: {e}"));
            }
        }
    }
}
