//! Partners: onboarding, settings, API keys (shown once, stored as SHA-256, rotated with a
//! grace period, revoked at once) and the authentication of their calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use retail_api_types::{
    FeedMode, KeyRotated, NewPartner, Partner, PartnerCreated, PartnerKey, PartnerList, PartnerPatch,
    PartnerQuery, PartnerStatus, PriceColumn, RotateKey,
};
use retail_domain::account::{Email, Permission};
use retail_domain::paging::PageRequest;
use retail_domain::{Caller, Currency, FieldError, ValidationErrors};
use retail_store::Conn;
use retail_store::models::{PartnerKeyRow, PartnerRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::partners::{self as repo, PartnerFields};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{ServiceError, write_as};
use crate::state::AppState;

/// What every key starts with.
const KEY_PREFIX: &str = "rk_";
/// Characters of the public part after `rk_`.
const PUBLIC_LEN: usize = 12;
/// Characters of the secret part.
const SECRET_LEN: usize = 32;
/// Longest grace period of a rotation.
const MAX_GRACE_SECS: i64 = 30 * 24 * 3600;

fn random_alnum(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| char::from(rng.sample(rand::distr::Alphanumeric))).collect()
}

/// A new key: (the key, its public prefix, its hash).
pub fn new_key() -> (String, String, String) {
    let prefix = format!("{KEY_PREFIX}{}", random_alnum(PUBLIC_LEN));
    let key = format!("{prefix}_{}", random_alnum(SECRET_LEN));
    let hash = hash_key(&key);
    (key, prefix, hash)
}

fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn key_dto(k: &PartnerKeyRow, now: DateTime<Utc>) -> PartnerKey {
    PartnerKey {
        id: k.id,
        prefix: k.prefix.clone(),
        created_at: k.created_at,
        retires_at: k.retires_at,
        revoked_at: k.revoked_at,
        active: accepts(k, now),
    }
}

fn accepts(k: &PartnerKeyRow, now: DateTime<Utc>) -> bool {
    k.revoked_at.is_none() && k.retires_at.is_none_or(|t| now < t)
}

fn corrupt(what: String) -> ServiceError {
    ServiceError::from(retail_store::StoreError::Corrupt(what))
}

/// The partner's feed contract as the domain reads it.
pub fn price_column(r: &PartnerRow) -> PriceColumn {
    if r.price_column == "price_cents" { PriceColumn::PriceCents } else { PriceColumn::Price }
}

fn dto(
    r: PartnerRow,
    keys: &[PartnerKeyRow],
    products: i64,
    now: DateTime<Utc>,
) -> Result<Partner, ServiceError> {
    let status = match r.status.as_str() {
        "active" => PartnerStatus::Active,
        "suspended" => PartnerStatus::Suspended,
        other => return Err(corrupt(format!("status {other:?} of partner {}", r.id))),
    };
    let mode = FeedMode::parse(&r.mode).ok_or_else(|| corrupt(format!("mode of partner {}", r.id)))?;
    Ok(Partner {
        id: r.id,
        price_column: price_column(&r),
        name: r.name,
        contact_email: r.contact_email,
        status,
        mode,
        currency: r.currency,
        rate_per_minute: r.rate_per_minute,
        max_body_bytes: r.max_body_bytes,
        keys: keys.iter().map(|k| key_dto(k, now)).collect(),
        products,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The partners of `rows` with their keys and product counts.
fn dtos(c: &mut Conn, rows: Vec<PartnerRow>, now: DateTime<Utc>) -> Result<Vec<Partner>, ServiceError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut keys = repo::keys_of(c, &ids)?;
    let counts = repo::product_counts(c, &ids)?;
    rows.into_iter()
        .map(|r| {
            let id = r.id;
            dto(r, &keys.remove(&id).unwrap_or_default(), counts.get(&id).copied().unwrap_or(0), now)
        })
        .collect()
}

fn one(c: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<Partner, ServiceError> {
    let row = repo::by_id(c, id)?.ok_or_else(|| ServiceError::not_found(format!("partner {id}")))?;
    dtos(c, vec![row], now)?.pop().ok_or_else(|| corrupt(format!("partner {id}")))
}

/// Checked settings of a new partner or a change.
struct Checked {
    name: Option<String>,
    contact_email: Option<String>,
    mode: Option<&'static str>,
    price_column: Option<&'static str>,
    currency: Option<&'static str>,
    rate_per_minute: Option<i64>,
    max_body_bytes: Option<i64>,
}

/// Checks the settings a new partner or a change names.
fn check(p: &PartnerPatch) -> Result<Checked, ServiceError> {
    let (name, contact_email, mode, price, currency, rate, body) = (
        p.name.as_deref(),
        p.contact_email.as_deref(),
        p.mode,
        p.price_column,
        p.currency.as_deref(),
        p.rate_per_minute,
        p.max_body_bytes,
    );
    let mut errors = ValidationErrors::default();
    let name = name.and_then(|n| {
        let n = n.trim();
        errors.check(if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
            Err(FieldError::new("name", "must be 1 to 200 characters, without control characters"))
        } else {
            Ok(n.to_owned())
        })
    });
    let contact_email = contact_email.and_then(|e| {
        errors.check(
            Email::parse(e)
                .map(|e| e.as_str().to_owned())
                .map_err(|e| FieldError::new("contact_email", e.message)),
        )
    });
    let mode = mode.and_then(|m| {
        errors.check(match m {
            FeedMode::ValidateOnly => {
                Err(FieldError::new("mode", "must be lenient or strict (validate_only is per request)"))
            }
            m => Ok(m.as_str()),
        })
    });
    let currency = currency.and_then(|c| errors.check(Currency::parse("currency", c).map(|c| c.code())));
    let rate = rate.and_then(|r| {
        errors.check(if (1..=100_000).contains(&r) {
            Ok(r)
        } else {
            Err(FieldError::new("rate_per_minute", "must be 1 to 100000"))
        })
    });
    let body = body.and_then(|b| {
        errors.check(if (1024..=1_073_741_824).contains(&b) {
            Ok(b)
        } else {
            Err(FieldError::new("max_body_bytes", "must be 1024 to 1073741824"))
        })
    });
    errors.finish(|| Some(()))?;
    Ok(Checked {
        name,
        contact_email,
        mode,
        price_column: price.map(PriceColumn::as_str),
        currency,
        rate_per_minute: rate,
        max_body_bytes: body,
    })
}

impl Checked {
    fn fields(&self) -> PartnerFields<'_> {
        PartnerFields {
            name: self.name.as_deref(),
            contact_email: self.contact_email.as_deref(),
            status: None,
            mode: self.mode,
            price_column: self.price_column,
            currency: self.currency,
            rate_per_minute: self.rate_per_minute,
            max_body_bytes: self.max_body_bytes,
        }
    }
}

fn name_taken() -> ServiceError {
    ServiceError::Conflict { code: "partner_name_taken", detail: "another partner has this name".into() }
}

/// Onboards a partner with its first key (admin). The key is in the answer only.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: NewPartner,
) -> Result<PartnerCreated, ServiceError> {
    let mut errors = ValidationErrors::default();
    if req.name.trim().is_empty() {
        errors.0.push(FieldError::new("name", "is required"));
    }
    if req.contact_email.trim().is_empty() {
        errors.0.push(FieldError::new("contact_email", "is required"));
    }
    caller.require(Permission::ManagePartners)?;
    errors.finish(|| Some(()))?;
    let checked = check(&PartnerPatch {
        name: Some(req.name),
        contact_email: Some(req.contact_email),
        status: None,
        mode: req.mode,
        price_column: req.price_column,
        currency: req.currency,
        rate_per_minute: req.rate_per_minute,
        max_body_bytes: req.max_body_bytes,
    })?;
    write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        let now = Utc::now();
        let row = repo::insert(c, &checked.fields(), now)?.ok_or_else(name_taken)?;
        let (key, prefix, hash) = new_key();
        repo::insert_key(c, row.id, &prefix, &hash, now)?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "partner.created",
                entity_type: "partner",
                entity_id: row.id.to_string(),
                detail: json!({"name": row.name, "mode": row.mode, "price_column": row.price_column, "key": prefix}),
            },
            now,
        )?;
        Ok(PartnerCreated { partner: one(c, row.id, now)?, api_key: key })
    })
    .await
}

/// One page of partners (admin).
pub async fn list(state: &AppState, caller: &Caller, q: PartnerQuery) -> Result<PartnerList, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let page = PageRequest::parse(q.page, q.per_page).map_err(ServiceError::invalid_query)?;
    state
        .db
        .read(move |c| {
            let (rows, total) = repo::list(c, page)?;
            Ok(PartnerList {
                items: dtos(c, rows, Utc::now())?,
                page: page.page,
                per_page: page.per_page,
                total,
            })
        })
        .await
}

/// One partner (admin).
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> Result<Partner, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    state.db.read(move |c| one(c, id, Utc::now())).await
}

/// Changes a partner's settings or status (admin).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: PartnerPatch,
) -> Result<Partner, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let checked = check(&req)?;
    let status = req.status.map(PartnerStatus::as_str);
    let changes = serde_json::to_value(&req).unwrap_or_default();
    let done = write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        let now = Utc::now();
        let fields = PartnerFields { status, ..checked.fields() };
        let row = match repo::update(c, id, &fields, now)? {
            repo::Updated::Done(r) => r,
            repo::Updated::Missing => return Err(ServiceError::not_found(format!("partner {id}"))),
            repo::Updated::NameTaken => return Err(name_taken()),
        };
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "partner.updated",
                entity_type: "partner",
                entity_id: row.id.to_string(),
                detail: json!({"changes": changes}),
            },
            now,
        )?;
        one(c, row.id, now)
    })
    .await?;
    state.partner_limits.forget(id);
    Ok(done)
}

/// Issues a new key; the keys in use keep working for the grace period (admin).
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: RotateKey,
) -> Result<KeyRotated, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let grace = req.grace_secs.unwrap_or(state.settings.partners.key_grace_secs);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(ServiceError::invalid("grace_secs", format!("must be 0 to {MAX_GRACE_SECS}")));
    }
    write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        let now = Utc::now();
        repo::by_id(c, id)?.ok_or_else(|| ServiceError::not_found(format!("partner {id}")))?;
        let until = now + chrono::Duration::seconds(grace);
        let retiring = repo::retire_keys(c, id, until)?;
        let (key, prefix, hash) = new_key();
        repo::insert_key(c, id, &prefix, &hash, now)?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "partner.key_rotated",
                entity_type: "partner",
                entity_id: id.to_string(),
                detail: json!({"new_key": prefix, "old_keys_retire_at": until, "old_keys": retiring}),
            },
            now,
        )?;
        Ok(KeyRotated { partner: one(c, id, now)?, api_key: key })
    })
    .await
}

/// Revokes one key at once (admin).
pub async fn revoke(state: &AppState, caller: &Caller, id: i64, key: i64) -> Result<Partner, ServiceError> {
    write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        let now = Utc::now();
        let row = repo::revoke_key(c, id, key, now)?
            .ok_or_else(|| ServiceError::not_found(format!("key {key} of partner {id}")))?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "partner.key_revoked",
                entity_type: "partner",
                entity_id: id.to_string(),
                detail: json!({"key": row.prefix}),
            },
            now,
        )?;
        one(c, id, now)
    })
    .await
}

/// A partner whose key checked out.
#[derive(Debug, Clone)]
pub struct AuthPartner {
    /// The partner.
    pub row: PartnerRow,
    /// The key's public prefix (for the audit log; never the key).
    pub key_prefix: String,
}

/// Checks an `X-API-Key`: 401 when missing, malformed, unknown, revoked or retired; 403 when
/// the partner is suspended.
pub async fn authenticate(state: &AppState, key: Option<&str>) -> Result<AuthPartner, ServiceError> {
    let key = key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(ServiceError::Unauthorized("missing X-API-Key"))?;
    let prefix_len = KEY_PREFIX.len() + PUBLIC_LEN;
    let well_formed = key.len() == prefix_len + 1 + SECRET_LEN
        && key.starts_with(KEY_PREFIX)
        && key.as_bytes().get(prefix_len) == Some(&b'_')
        && key.is_char_boundary(prefix_len);
    if !well_formed {
        return Err(ServiceError::Unauthorized("invalid API key"));
    }
    let prefix = key[..prefix_len].to_owned();
    let hash = hash_key(key);
    let found = state.db.read(move |c| Ok::<_, ServiceError>(repo::key_by_prefix(c, &prefix)?)).await?;
    let Some((k, partner)) = found else { return Err(ServiceError::Unauthorized("invalid API key")) };
    if !same(&k.key_hash, &hash) || !accepts(&k, Utc::now()) {
        return Err(ServiceError::Unauthorized("invalid API key"));
    }
    if partner.status != "active" {
        return Err(ServiceError::Forbidden);
    }
    Ok(AuthPartner { row: partner, key_prefix: k.prefix })
}

/// Per-partner request limits: each partner its own bucket at its own rate. Per process,
/// behind two calls (a shared store could implement them for several replicas).
#[derive(Default)]
pub struct PartnerLimits {
    buckets: Mutex<HashMap<i64, (i64, Arc<governor::DefaultDirectRateLimiter>)>>,
}

impl PartnerLimits {
    /// Counts one call of `partner` at `per_minute`; `Err(seconds)` to wait when over.
    pub fn check(&self, partner: i64, per_minute: i64) -> Result<(), u64> {
        let limiter = {
            let Ok(mut m) = self.buckets.lock() else { return Ok(()) };
            let entry = m.entry(partner).or_insert_with(|| (per_minute, Arc::new(limiter(per_minute))));
            if entry.0 != per_minute {
                *entry = (per_minute, Arc::new(limiter(per_minute)));
            }
            entry.1.clone()
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until
                .wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            wait.as_secs().max(1)
        })
    }

    /// Drops a partner's bucket (its rate changed).
    pub fn forget(&self, partner: i64) {
        if let Ok(mut m) = self.buckets.lock() {
            m.remove(&partner);
        }
    }
}

fn limiter(per_minute: i64) -> governor::DefaultDirectRateLimiter {
    let n = u32::try_from(per_minute.max(1)).unwrap_or(u32::MAX);
    let burst = std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
    let period = Duration::from_secs(60) / n.max(1);
    let quota = governor::Quota::with_period(period.max(Duration::from_micros(1)))
        .unwrap_or_else(|| governor::Quota::per_minute(burst))
        .allow_burst(burst);
    governor::RateLimiter::direct(quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_hashed() {
        let (a, prefix, hash) = new_key();
        let (b, _, _) = new_key();
        assert_ne!(a, b);
        assert!(a.starts_with(&prefix) && prefix.starts_with("rk_") && prefix.len() == 15);
        assert_eq!(a.len(), 15 + 1 + 32);
        assert_eq!(hash, hash_key(&a));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[16..]));
    }

    #[test]
    fn comparison_is_exact() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn a_partner_bucket_holds_its_rate_and_a_new_rate_starts_afresh() {
        let l = PartnerLimits::default();
        assert!(l.check(1, 2).is_ok());
        assert!(l.check(1, 2).is_ok());
        let wait = l.check(1, 2).unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(l.check(2, 2).is_ok(), "another partner has its own bucket");
        assert!(l.check(1, 5).is_ok(), "a changed rate is a new bucket");
    }
}
