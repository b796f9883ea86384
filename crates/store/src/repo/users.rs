use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::account::Role;
use retail_domain::paging::PageRequest;

use crate::models::{NewUserRow, UserRow};
use crate::schema::users;
use crate::{Conn, StoreError};

/// Inserts an account; a taken email gives [`StoreError::Unique`].
pub fn insert(c: &mut Conn, new: &NewUserRow<'_>) -> Result<UserRow, StoreError> {
    Ok(diesel::insert_into(users::table).values(new).returning(UserRow::as_returning()).get_result(c)?)
}

/// The account with this (normalised) email.
pub fn by_email(c: &mut Conn, email: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.filter(users::email.eq(email)).select(UserRow::as_select()).get_result(c).optional()?)
}

/// The account with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.find(id).select(UserRow::as_select()).get_result(c).optional()?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Substring of email or display name.
    pub q: Option<String>,
}

/// One page of accounts, oldest first, and the total matching.
pub fn list(c: &mut Conn, f: &UserFilter, page: PageRequest) -> Result<(Vec<UserRow>, i64), StoreError> {
    let build = || {
        let mut q = users::table.into_boxed();
        if let Some(r) = f.role {
            q = q.filter(users::role.eq(r.as_str()));
        }
        if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = super::like_pattern(text);
            q = q.filter(
                users::email.like(p.clone()).escape('\\').or(users::display_name.like(p).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build()
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(page.limit())
        .offset(page.offset())
        .load(c)?;
    Ok((rows, total))
}

/// Sets an account's role; `None` when no such account.
pub fn set_role(
    c: &mut Conn,
    id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, StoreError> {
    Ok(diesel::update(users::table.find(id))
        .set((users::role.eq(role.as_str()), users::updated_at.eq(now)))
        .returning(UserRow::as_returning())
        .get_result(c)
        .optional()?)
}

/// Number of accounts.
pub fn count(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(c)?)
}

/// Number of accounts with this role.
pub fn count_with_role(c: &mut Conn, role: Role) -> Result<i64, StoreError> {
    Ok(users::table.filter(users::role.eq(role.as_str())).count().get_result(c)?)
}
