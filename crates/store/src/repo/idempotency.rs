//! Stored answers to requests sent with an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::models::IdempotencyRow;
use crate::schema::idempotency_keys;
use crate::{Conn, StoreError};

/// The answer stored for `key` in `scope`, unless it was stored before `not_before`
/// (an expired key counts as never used).
pub fn find(
    c: &mut Conn,
    scope: &str,
    key: &str,
    not_before: DateTime<Utc>,
) -> Result<Option<IdempotencyRow>, StoreError> {
    Ok(idempotency_keys::table
        .find((scope, key))
        .filter(idempotency_keys::created_at.ge(not_before))
        .select(IdempotencyRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Stores an answer. An expired row of the same key that the worker has not purged yet is
/// replaced; callers check with [`find`] first, in the same transaction.
pub fn insert(c: &mut Conn, row: &IdempotencyRow) -> Result<(), StoreError> {
    diesel::replace_into(idempotency_keys::table).values(row).execute(c)?;
    Ok(())
}

/// Replaces the stored answer of a key, keeping its request hash and age (an answer that is
/// re-issued on replay, like a session's tokens).
pub fn update_response(c: &mut Conn, scope: &str, key: &str, response: &str) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set(idempotency_keys::response.eq(response))
        .execute(c)?;
    Ok(())
}

/// Deletes the answers stored before `cutoff`; returns how many.
pub fn purge_older_than(c: &mut Conn, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff))).execute(c)?)
}

/// Claims a key for a request that is about to run outside one transaction (checkout): a row
/// with status 0 and no answer. A racing request with the same key finds it and waits.
/// `false` when a row for the key exists already (the caller looks at it with [`find`]; an
/// expired one is replaced by [`claim_over`]). One statement in the usual case.
pub fn claim(
    c: &mut Conn,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = diesel::insert_or_ignore_into(idempotency_keys::table)
        .values(pending(scope, key, request_hash, now))
        .execute(c)?;
    Ok(n == 1)
}

/// Claims a key whose stored row has expired (replacing it).
pub fn claim_over(
    c: &mut Conn,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert(c, &pending(scope, key, request_hash, now))
}

fn pending(scope: &str, key: &str, request_hash: &str, now: DateTime<Utc>) -> IdempotencyRow {
    IdempotencyRow {
        scope: scope.to_owned(),
        key: key.to_owned(),
        request_hash: request_hash.to_owned(),
        status: 0,
        response: String::new(),
        created_at: now,
    }
}

/// Records the answer of a claimed key.
pub fn answer(c: &mut Conn, scope: &str, key: &str, status: i32, response: &str) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((idempotency_keys::status.eq(status), idempotency_keys::response.eq(response)))
        .execute(c)?;
    Ok(())
}

/// Releases a claim whose request failed, so that the client may retry with the same key.
/// Only an unanswered claim is removed.
pub fn release(c: &mut Conn, scope: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find((scope, key)).filter(idempotency_keys::status.eq(0)))
        .execute(c)?;
    Ok(())
}

/// Claims never answered, made before `cutoff` (their request crashed): removed so the key can
/// be used again. Returns how many.
pub fn purge_stale_claims(c: &mut Conn, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::status.eq(0))
            .filter(idempotency_keys::created_at.lt(cutoff)),
    )
    .execute(c)?)
}
