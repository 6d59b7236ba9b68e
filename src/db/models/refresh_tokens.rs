//! Refresh tokens, stored as SHA-256 hashes; rotated on use, revocable by family.

use crate::db::schema::refresh_tokens;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored refresh token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    pub family: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A token to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub family: &'a str,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Stores a new token.
pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// Looks a token up by its hash.
pub fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<RefreshToken>, StoreError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a token used, only if nobody else did first; returns whether we won.
pub fn mark_used(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every live token of a family (logout, or reuse detected).
pub fn revoke_family(
    conn: &mut DbConnection,
    family: &str,
    at: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)?)
}
