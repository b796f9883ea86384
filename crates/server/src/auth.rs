//! Credentials: argon2id password hashes, HS256 access tokens, opaque refresh tokens.

use std::path::Path;
use std::sync::OnceLock;

use argon2::{Algorithm as ArgonAlg, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use retail_domain::UserId;
use retail_domain::account::Role;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AuthSettings;
use crate::service::ServiceError;

/// argon2id parameters: OWASP's recommended minimum, 19 MiB memory, 2 passes, 1 lane.
pub fn argon2_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(ArgonAlg::Argon2id, Version::V0x13, argon2_params())
}

/// Hashes a password (PHC string). CPU-heavy and 19 MiB: call it off the async threads.
/// Request handlers use the bounded [`crate::hashing::PasswordHasherPool`] instead; this is
/// for the CLI (seed) and tests.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}").into()))
}

/// Whether `password` matches `hash`. A malformed stored hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    hasher().verify_password(password.as_bytes(), hash).is_ok()
}

/// Spends the same time as a real verification, for logins with an unknown email, so
/// response time does not reveal which emails have accounts.
pub fn burn_verification(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("dummy password for timing").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User ID (a string, as RFC 7519 requires).
    pub sub: String,
    /// Session ID: revoking the session revokes the token.
    pub sid: String,
    /// Role when issued (informational; the server re-reads the role on every request).
    pub role: Role,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
    /// Always `retail`.
    pub iss: String,
}

const ISSUER: &str = "retail";

/// Signing keys and lifetimes.
pub struct TokenKeys {
    fingerprint_key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// Absolute session lifetime, from login.
    pub session_max_age: Duration,
}

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8], settings: &AuthSettings) -> Result<TokenKeys, String> {
        if secret.len() < 32 {
            return Err("jwt secret must be at least 32 bytes".into());
        }
        // The algorithm is pinned: a token claiming any other `alg` is rejected.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Ok(TokenKeys {
            fingerprint_key: Sha256::new()
                .chain_update(b"retail fingerprints\n")
                .chain_update(secret)
                .finalize()
                .to_vec(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl: Duration::seconds(settings.access_ttl_secs.max(1)),
            refresh_ttl: Duration::seconds(settings.refresh_ttl_secs.max(60)),
            session_max_age: Duration::seconds(settings.session_max_age_secs.max(1)),
        })
    }

    /// A signed access token for this session.
    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        sid: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ServiceError> {
        let claims = Claims {
            sub: user.get().to_string(),
            sid: sid.to_owned(),
            role,
            iat: now.timestamp(),
            exp: (now + self.access_ttl).timestamp(),
            iss: ISSUER.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ServiceError::internal)
    }

    /// HMAC-SHA256 (hex) of `data` under a key derived from the server secret: a fingerprint
    /// of something secret (a request carrying a password) that can be stored and compared
    /// but not checked against guesses without the secret.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.fingerprint_key) else {
            // HMAC takes keys of any length; this cannot happen
            return hex(&Sha256::digest(data));
        };
        mac.update(data);
        hex(&mac.finalize().into_bytes())
    }

    /// The claims of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Result<Claims, ServiceError> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims).map_err(|e| {
            tracing::debug!(error = %e, "rejected access token");
            ServiceError::Unauthorized("invalid or expired access token")
        })
    }
}

/// How long sessions last; a small copy of [`TokenKeys`]' lifetimes that can move into a
/// transaction.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// Absolute session lifetime, from login.
    pub session_max_age: Duration,
}

impl SessionLifetimes {
    /// When a session created at `created` and refreshed at `now` expires: the refresh
    /// lifetime from now, but never past the absolute lifetime from login.
    pub fn session_expiry(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.refresh_ttl).min(created + self.session_max_age)
    }
}

impl TokenKeys {
    /// The session lifetimes.
    pub fn clone_lifetimes(&self) -> SessionLifetimes {
        SessionLifetimes { refresh_ttl: self.refresh_ttl, session_max_age: self.session_max_age }
    }

    /// See [`SessionLifetimes::session_expiry`].
    pub fn session_expiry(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        self.clone_lifetimes().session_expiry(created, now)
    }
}

/// A new opaque refresh token (256 random bits, hex) and the hash stored for it.
pub fn new_refresh_token() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token = hex(&bytes);
    let hash = refresh_hash(&token);
    (token, hash)
}

/// The stored form of a refresh token. A plain SHA-256 suffices: the token has 256 bits
/// of entropy, so there is nothing to brute-force.
pub fn refresh_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The JWT secret: from settings, else from `<data_dir>/jwt.secret`, created on first use.
pub fn load_or_create_secret(configured: Option<&SecretString>, data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(s) = configured {
        return Ok(s.expose_secret().as_bytes().to_vec());
    }
    let path = data_dir.join("jwt.secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().as_bytes().to_vec()),
        _ => {
            std::fs::create_dir_all(data_dir)?;
            let bytes: [u8; 48] = rand::random();
            let secret = hex(&bytes);
            write_private(&path, &secret)?;
            Ok(secret.into_bytes())
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], &AuthSettings::default()).unwrap()
    }

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let k = keys();
        let now = Utc::now();
        let t = k.issue(UserId(3), Role::Admin, "s1", now).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str(), c.role), ("3", "s1", Role::Admin));
        let old = k.issue(UserId(3), Role::Admin, "s1", now - Duration::hours(2)).unwrap();
        assert!(k.verify(&old).is_err());
    }

    #[test]
    fn tokens_signed_with_another_key_or_algorithm_are_rejected() {
        let other = TokenKeys::new(&[8u8; 32], &AuthSettings::default()).unwrap();
        let t = other.issue(UserId(1), Role::Customer, "s", Utc::now()).unwrap();
        assert!(keys().verify(&t).is_err());
        // alg=none forgery: header {"alg":"none"} with a valid-looking payload
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", t.split('.').nth(1).unwrap());
        assert!(keys().verify(&forged).is_err());
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"sub": "1", "sid": "s", "role": "admin", "iat": 0, "exp": i64::MAX / 2, "iss": "retail"}),
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert!(keys().verify(&hs512).is_err());
    }

    #[test]
    fn refresh_never_extends_a_session_past_its_absolute_lifetime() {
        let settings =
            AuthSettings { refresh_ttl_secs: 3600, session_max_age_secs: 7200, ..AuthSettings::default() };
        let k = TokenKeys::new(&[7u8; 32], &settings).unwrap();
        let t0 = Utc::now();
        assert_eq!(k.session_expiry(t0, t0), t0 + Duration::hours(1));
        let later = t0 + Duration::minutes(90);
        assert_eq!(k.session_expiry(t0, later), t0 + Duration::hours(2));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(b"short", &AuthSettings::default()).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(refresh_hash(&a), ha);
        assert_ne!(a, ha);
    }
}
