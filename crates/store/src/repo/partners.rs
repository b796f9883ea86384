//! Partners and their API keys (stored as SHA-256 hashes; the prefix, public, finds the row).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use retail_domain::paging::PageRequest;

use crate::models::{PartnerKeyRow, PartnerRow};
use crate::schema::{partner_keys as k, partners as p, products};
use crate::{Conn, StoreError};

/// A partner's editable settings (for insert, every field; for update, the `Some` ones).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = p)]
pub struct PartnerFields<'a> {
    /// Name.
    pub name: Option<&'a str>,
    /// Contact address.
    pub contact_email: Option<&'a str>,
    /// `active` or `suspended`.
    pub status: Option<&'a str>,
    /// `lenient` or `strict`.
    pub mode: Option<&'a str>,
    /// `price` or `price_cents`.
    pub price_column: Option<&'a str>,
    /// Default currency.
    pub currency: Option<&'a str>,
    /// Feed calls per minute.
    pub rate_per_minute: Option<i64>,
    /// Largest body.
    pub max_body_bytes: Option<i64>,
}

/// Inserts a partner (`None` fields take the table's defaults); `None` when the name is
/// taken.
pub fn insert(
    c: &mut Conn,
    f: &PartnerFields<'_>,
    now: DateTime<Utc>,
) -> Result<Option<PartnerRow>, StoreError> {
    let r = diesel::insert_into(p::table)
        .values((
            p::name.eq(f.name.unwrap_or_default()),
            p::contact_email.eq(f.contact_email.unwrap_or_default()),
            p::status.eq(f.status.unwrap_or("active")),
            p::mode.eq(f.mode.unwrap_or("lenient")),
            p::price_column.eq(f.price_column.unwrap_or("price")),
            p::currency.eq(f.currency.unwrap_or("EUR")),
            p::rate_per_minute.eq(f.rate_per_minute.unwrap_or(60)),
            p::max_body_bytes.eq(f.max_body_bytes.unwrap_or(50 * 1024 * 1024)),
            p::created_at.eq(now),
            p::updated_at.eq(now),
        ))
        .returning(PartnerRow::as_returning())
        .get_result(c);
    match r {
        Ok(row) => Ok(Some(row)),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// What [`update`] did.
#[derive(Debug)]
pub enum Updated {
    /// The partner as it is now.
    Done(PartnerRow),
    /// No such partner.
    Missing,
    /// Another partner has the new name.
    NameTaken,
}

/// Applies `f`.
pub fn update(
    c: &mut Conn,
    id: i64,
    f: &PartnerFields<'_>,
    now: DateTime<Utc>,
) -> Result<Updated, StoreError> {
    match diesel::update(p::table.find(id))
        .set((f, p::updated_at.eq(now)))
        .returning(PartnerRow::as_returning())
        .get_result(c)
        .optional()
    {
        Ok(Some(r)) => Ok(Updated::Done(r)),
        Ok(None) => Ok(Updated::Missing),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(Updated::NameTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// The partner with this ID.
pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<PartnerRow>, StoreError> {
    Ok(p::table.find(id).select(PartnerRow::as_select()).get_result(c).optional()?)
}

/// One page of partners by name, and the total.
pub fn list(c: &mut Conn, page: PageRequest) -> Result<(Vec<PartnerRow>, i64), StoreError> {
    let total = p::table.count().get_result(c)?;
    let rows = p::table
        .select(PartnerRow::as_select())
        .order((p::name, p::id))
        .limit(page.limit())
        .offset(page.offset())
        .load(c)?;
    Ok((rows, total))
}

/// Every partner's keys, newest first, by partner.
pub fn keys_of(c: &mut Conn, partners: &[i64]) -> Result<HashMap<i64, Vec<PartnerKeyRow>>, StoreError> {
    let rows: Vec<PartnerKeyRow> = k::table
        .filter(k::partner_id.eq_any(partners))
        .select(PartnerKeyRow::as_select())
        .order(k::id.desc())
        .load(c)?;
    let mut out: HashMap<i64, Vec<PartnerKeyRow>> = HashMap::new();
    for r in rows {
        out.entry(r.partner_id).or_default().push(r);
    }
    Ok(out)
}

/// How many products each partner's feeds own.
pub fn product_counts(c: &mut Conn, partners: &[i64]) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<(Option<i64>, i64)> = products::table
        .filter(products::partner_id.eq_any(partners))
        .group_by(products::partner_id)
        .select((products::partner_id, diesel::dsl::count_star()))
        .load(c)?;
    Ok(rows.into_iter().filter_map(|(id, n)| Some((id?, n))).collect())
}

/// Adds a key (its prefix and hash).
pub fn insert_key(
    c: &mut Conn,
    partner: i64,
    prefix: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<PartnerKeyRow, StoreError> {
    Ok(diesel::insert_into(k::table)
        .values((
            k::partner_id.eq(partner),
            k::prefix.eq(prefix),
            k::key_hash.eq(hash),
            k::created_at.eq(now),
        ))
        .returning(PartnerKeyRow::as_returning())
        .get_result(c)?)
}

/// The key with this prefix and its partner.
pub fn key_by_prefix(c: &mut Conn, prefix: &str) -> Result<Option<(PartnerKeyRow, PartnerRow)>, StoreError> {
    Ok(k::table
        .inner_join(p::table)
        .filter(k::prefix.eq(prefix))
        .select((PartnerKeyRow::as_select(), PartnerRow::as_select()))
        .get_result(c)
        .optional()?)
}

/// Sets `retires_at` of the partner's keys that are neither revoked nor already retiring
/// sooner; returns how many.
pub fn retire_keys(c: &mut Conn, partner: i64, until: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::update(
        k::table
            .filter(k::partner_id.eq(partner))
            .filter(k::revoked_at.is_null())
            .filter(k::retires_at.is_null().or(k::retires_at.gt(until))),
    )
    .set(k::retires_at.eq(until))
    .execute(c)?)
}

/// Revokes the partner's key (once); `None` when it is not the partner's.
pub fn revoke_key(
    c: &mut Conn,
    partner: i64,
    key: i64,
    now: DateTime<Utc>,
) -> Result<Option<PartnerKeyRow>, StoreError> {
    let row: Option<PartnerKeyRow> = k::table
        .filter(k::id.eq(key))
        .filter(k::partner_id.eq(partner))
        .select(PartnerKeyRow::as_select())
        .get_result(c)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.revoked_at.is_some() {
        return Ok(Some(row));
    }
    Ok(Some(
        diesel::update(k::table.find(key))
            .set(k::revoked_at.eq(now))
            .returning(PartnerKeyRow::as_returning())
            .get_result(c)?,
    ))
}
