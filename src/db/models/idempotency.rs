//! Stored answers of writes sent with an `Idempotency-Key`.

use crate::db::schema::idempotency_keys;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A remembered answer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct Stored {
    pub user_id: i64,
    pub idem_key: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The answer remembered for this caller and key.
pub fn find(
    conn: &mut DbConnection,
    user_id: i64,
    key: &str,
) -> Result<Option<Stored>, StoreError> {
    Ok(idempotency_keys::table
        .find((user_id, key))
        .select(Stored::as_select())
        .first(conn)
        .optional()?)
}

/// Remembers an answer; a concurrent twin makes this fail with a unique violation.
pub fn insert(
    conn: &mut DbConnection,
    user_id: i64,
    key: &str,
    request_hash: &str,
    status: i32,
    body: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::idem_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(status),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
