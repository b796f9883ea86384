use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::models::{SessionRow, UserRow};
use crate::schema::{retired_refresh_tokens, sessions, users};
use crate::{Conn, StoreError};

/// Records a new session.
pub fn insert(c: &mut Conn, row: &SessionRow) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table).values(row).execute(c)?;
    Ok(())
}

/// The session with this ID and its account, if the session is neither revoked nor expired.
pub fn active_with_user(
    c: &mut Conn,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .get_result(c)
        .optional()?)
}

/// The session a refresh token (by its hash) belongs to, whatever its state.
pub fn by_refresh_hash(c: &mut Conn, hash: &str) -> Result<Option<SessionRow>, StoreError> {
    Ok(sessions::table
        .filter(sessions::refresh_hash.eq(hash))
        .select(SessionRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Replaces a session's refresh token (rotation) and sets its expiry. The old token is
/// remembered as retired, so that a replay of it can be recognised ([`retired_session`]).
pub fn rotate(
    c: &mut Conn,
    id: &str,
    old_hash: &str,
    new_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(retired_refresh_tokens::table)
        .values((
            retired_refresh_tokens::refresh_hash.eq(old_hash),
            retired_refresh_tokens::session_id.eq(id),
            retired_refresh_tokens::retired_at.eq(now),
        ))
        .execute(c)?;
    diesel::update(sessions::table.find(id))
        .set((sessions::refresh_hash.eq(new_hash), sessions::expires_at.eq(expires_at)))
        .execute(c)?;
    Ok(())
}

/// The session a rotated-out refresh token (by its hash) belonged to.
pub fn retired_session(c: &mut Conn, hash: &str) -> Result<Option<String>, StoreError> {
    Ok(retired_refresh_tokens::table
        .find(hash)
        .select(retired_refresh_tokens::session_id)
        .get_result(c)
        .optional()?)
}

/// Revokes a session; its access and refresh tokens stop working at once.
pub fn revoke(c: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(c)?;
    Ok(n > 0)
}

/// Revokes every live session of an account (after a role change).
pub fn revoke_all_for_user(c: &mut Conn, user_id: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(c)?)
}

/// Deletes sessions that expired or were revoked before `cutoff`.
pub fn purge(c: &mut Conn, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        sessions::table.filter(sessions::expires_at.lt(cutoff).or(sessions::revoked_at.lt(cutoff))),
    )
    .execute(c)?)
}

/// The session with this ID, whatever its state.
pub fn by_id(c: &mut Conn, id: &str) -> Result<Option<SessionRow>, StoreError> {
    Ok(sessions::table.find(id).select(SessionRow::as_select()).get_result(c).optional()?)
}
