//! Idempotency keys: the one mechanism every state-changing POST uses, so that a client can
//! retry a request whose answer it never saw without the change happening twice.
//!
//! A client sends `Idempotency-Key: <1-255 visible ASCII characters>`. Inside the write
//! transaction of the change, [`replay_or_run`] looks the key up in its scope (the caller and
//! the route, so two callers' keys never collide):
//! - not stored (or stored longer ago than the TTL): the work runs, and its answer (status
//!   and JSON body) is stored with a hash of the request, in the same transaction;
//! - stored for the same request: the stored answer is returned and nothing runs again;
//! - stored for another request: `422 idempotency_key_reused`.
//!
//! Failures are not stored: a failed request rolls back entirely (its key included), so the
//! client may retry it with the same key. Because every write of this process goes through
//! one writer connection, one transaction at a time, two racing requests with the same key
//! are serialised and the second sees the first's row.
//!
//! Routes that anyone may call without signing in are scoped by the route alone
//! (`anon <route>`).

use chrono::{DateTime, Utc};
use retail_domain::{Caller, FieldError};
use retail_store::Conn;
use retail_store::models::IdempotencyRow;
use retail_store::repo::idempotency as repo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::ServiceError;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A validated key, in its scope, with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    scope: String,
    key: String,
    request_hash: String,
    ttl: chrono::Duration,
}

/// An answer, and whether it was replayed from an earlier request with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed<T> {
    /// The answer.
    pub value: T,
    /// True when the work did not run again and `value` is the stored answer.
    pub replayed: bool,
}

/// Checks a key: 1 to 255 visible ASCII characters (no spaces or controls).
pub fn parse_key(raw: &str) -> Result<&str, ServiceError> {
    let bad = |message: &str| ServiceError::InvalidHeader {
        code: "invalid_idempotency_key",
        error: FieldError::new(HEADER, message),
    };
    if raw.is_empty() {
        return Err(bad("must not be empty"));
    }
    if raw.len() > MAX_KEY_LEN {
        return Err(bad("must be at most 255 characters"));
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("must be visible ASCII characters only (no spaces)"));
    }
    Ok(raw)
}

/// SHA-256 (hex) of the route and the canonical JSON of the request (path parameters
/// included by the caller in `request`).
pub fn request_hash(route: &str, request: &impl Serialize) -> Result<String, ServiceError> {
    let body = serde_json::to_vec(request).map_err(ServiceError::internal)?;
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update(b"\n");
    h.update(&body);
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The scope of a key: the signed-in caller (or `anon`) and the route.
fn scope(caller: Option<&Caller>, route: &str) -> String {
    match caller {
        Some(c) => match c.user_id() {
            Some(id) => format!("user:{id} {route}"),
            None => format!("system {route}"),
        },
        None => format!("anon {route}"),
    }
}

impl IdempotencyKey {
    /// The key a request carries, if any: `header` is the raw header value, `route` the
    /// method and route template (`POST /api/admin/products/{id}/stock`), `request` what
    /// identifies the request (its path parameters and body), `ttl` how long answers live.
    pub fn from_request(
        caller: Option<&Caller>,
        route: &str,
        header: Option<&str>,
        request: &impl Serialize,
        ttl: chrono::Duration,
    ) -> Result<Option<IdempotencyKey>, ServiceError> {
        let Some(raw) = header else { return Ok(None) };
        let key = parse_key(raw)?.to_owned();
        Ok(Some(IdempotencyKey {
            scope: scope(caller, route),
            key,
            request_hash: request_hash(route, request)?,
            ttl,
        }))
    }
}

impl IdempotencyKey {
    /// The same key with its request hash keyed by `mac` (an HMAC with a server secret), for
    /// requests that carry a secret (a password, a refresh token): the stored hash then
    /// reveals nothing a guess could be checked against.
    pub fn keyed(mut self, mac: impl FnOnce(&str) -> String) -> IdempotencyKey {
        self.request_hash = mac(&self.request_hash);
        self
    }

    /// The answer stored for this key, if any (inside the write transaction); the same key
    /// stored for another request is `422 idempotency_key_reused`.
    pub fn lookup<T: DeserializeOwned>(
        &self,
        c: &mut Conn,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, ServiceError> {
        let Some(stored) = repo::find(c, &self.scope, &self.key, now - self.ttl)? else { return Ok(None) };
        if stored.request_hash != self.request_hash {
            return Err(reused());
        }
        Ok(Some(serde_json::from_str(&stored.response).map_err(ServiceError::internal)?))
    }

    /// Stores the answer of the request that just ran (inside its write transaction).
    pub fn store<T: Serialize>(
        &self,
        c: &mut Conn,
        status: u16,
        value: &T,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let response = serde_json::to_string(value).map_err(ServiceError::internal)?;
        repo::insert(
            c,
            &IdempotencyRow {
                scope: self.scope.clone(),
                key: self.key.clone(),
                request_hash: self.request_hash.clone(),
                status: i32::from(status),
                response,
                created_at: now,
            },
        )?;
        Ok(())
    }

    /// Replaces the stored answer (after a replay re-issued it).
    pub fn store_again<T: Serialize>(&self, c: &mut Conn, value: &T) -> Result<(), ServiceError> {
        let response = serde_json::to_string(value).map_err(ServiceError::internal)?;
        Ok(repo::update_response(c, &self.scope, &self.key, &response)?)
    }
}

/// What a claimed key holds (see [`IdempotencyKey::claim`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim<T> {
    /// Nobody used the key: it is now claimed by this request.
    Claimed,
    /// A request with this key is still running.
    InFlight,
    /// A request with this key finished with this answer.
    Answered(T),
}

impl IdempotencyKey {
    /// For work that spans several transactions and calls outside the database (checkout):
    /// inside a write transaction, claims the key unless it is already claimed or answered.
    /// The same key with another request is `422 idempotency_key_reused`.
    pub fn claim<T: DeserializeOwned>(
        &self,
        c: &mut Conn,
        now: DateTime<Utc>,
    ) -> Result<Claim<T>, ServiceError> {
        if repo::claim(c, &self.scope, &self.key, &self.request_hash, now)? {
            return Ok(Claim::Claimed);
        }
        if let Some(found) = self.peek(c, now)? {
            return Ok(found);
        }
        // a row past its TTL: the key counts as unused
        repo::claim_over(c, &self.scope, &self.key, &self.request_hash, now)?;
        Ok(Claim::Claimed)
    }

    /// What the key holds now, without claiming it (`None`: free).
    pub fn peek<T: DeserializeOwned>(
        &self,
        c: &mut Conn,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim<T>>, ServiceError> {
        let Some(stored) = repo::find(c, &self.scope, &self.key, now - self.ttl)? else { return Ok(None) };
        if stored.request_hash != self.request_hash {
            return Err(reused());
        }
        if stored.status == 0 {
            return Ok(Some(Claim::InFlight));
        }
        Ok(Some(Claim::Answered(serde_json::from_str(&stored.response).map_err(ServiceError::internal)?)))
    }

    /// Records the answer of a claimed key (in the transaction that completes the work).
    pub fn answer<T: Serialize>(&self, c: &mut Conn, status: u16, value: &T) -> Result<(), ServiceError> {
        let response = serde_json::to_string(value).map_err(ServiceError::internal)?;
        Ok(repo::answer(c, &self.scope, &self.key, i32::from(status), &response)?)
    }

    /// Records the answer of a claimed key, already serialised.
    pub fn answer_json(&self, c: &mut Conn, status: u16, response: &str) -> Result<(), ServiceError> {
        Ok(repo::answer(c, &self.scope, &self.key, i32::from(status), response)?)
    }

    /// Gives a claimed key back after the work failed: the client may retry with it.
    pub fn release(&self, c: &mut Conn) -> Result<(), ServiceError> {
        Ok(repo::release(c, &self.scope, &self.key)?)
    }

    /// The client's key (for records that name it, such as an order).
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn reused() -> ServiceError {
    ServiceError::Unprocessable {
        code: "idempotency_key_reused",
        detail: format!(
            "this {HEADER} was already used with a different request; use a new key for a new request"
        ),
    }
}

/// Runs `work` once per key, inside the caller's write transaction (see the module docs).
/// Without a key, `work` simply runs. `status` is the HTTP status of a successful answer,
/// stored with it.
pub fn replay_or_run<T, F>(
    c: &mut Conn,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
    status: u16,
    work: F,
) -> Result<Replayed<T>, ServiceError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&mut Conn) -> Result<T, ServiceError>,
{
    let Some(k) = key else {
        return Ok(Replayed { value: work(c)?, replayed: false });
    };
    if let Some(value) = k.lookup(c, now)? {
        return Ok(Replayed { value, replayed: true });
    }
    let value = work(c)?;
    k.store(c, status, &value, now)?;
    Ok(Replayed { value, replayed: false })
}

#[cfg(test)]
mod tests {
    use retail_domain::UserId;
    use retail_domain::account::Role;
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert!(parse_key("a").is_ok());
        assert!(parse_key("3f2b1c9e-7d4a-4e8b-9c1d-0a5b6c7d8e9f").is_ok());
        assert!(parse_key(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "é", &"k".repeat(256)] {
            match parse_key(bad) {
                Err(ServiceError::InvalidHeader { code: "invalid_idempotency_key", error }) => {
                    assert_eq!(error.field, HEADER)
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_hash_covers_the_route_and_the_request() {
        let a = request_hash("POST /x", &json!({"delta": 5})).unwrap();
        assert_eq!(a.len(), 64);
        assert_eq!(a, request_hash("POST /x", &json!({"delta": 5})).unwrap());
        assert_ne!(a, request_hash("POST /x", &json!({"delta": 6})).unwrap());
        assert_ne!(a, request_hash("POST /y", &json!({"delta": 5})).unwrap());
        assert_ne!(request_hash("POST /x", &(1, "r")).unwrap(), request_hash("POST /x", &(2, "r")).unwrap());
    }

    #[test]
    fn keys_are_scoped_by_caller_and_route() {
        let ttl = chrono::Duration::hours(1);
        let alice = Caller::user(UserId(1), Role::Admin);
        let bob = Caller::user(UserId(2), Role::Admin);
        let key = |c: Option<&Caller>, route| {
            IdempotencyKey::from_request(c, route, Some("k"), &json!({}), ttl).unwrap().unwrap()
        };
        assert_eq!(key(Some(&alice), "POST /x").scope, "user:1 POST /x");
        assert_ne!(key(Some(&alice), "POST /x").scope, key(Some(&bob), "POST /x").scope);
        assert_ne!(key(Some(&alice), "POST /x").scope, key(Some(&alice), "POST /y").scope);
        assert_eq!(key(None, "POST /x").scope, "anon POST /x");
        assert_eq!(IdempotencyKey::from_request(None, "POST /x", None, &json!({}), ttl).unwrap(), None);
    }
}
