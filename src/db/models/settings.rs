//! Key/value settings the service keeps for itself (e.g. a generated JWT secret).

use crate::db::schema::settings;
use crate::db::{DbConnection, StoreError};
use diesel::prelude::*;

/// Reads one setting.
pub fn get(conn: &mut DbConnection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first::<String>(conn)
        .optional()?)
}

/// Stores `value` unless the key already has one; returns the value in force.
pub fn get_or_insert(
    conn: &mut DbConnection,
    key: &str,
    value: &str,
) -> Result<String, StoreError> {
    if let Some(existing) = get(conn, key)? {
        return Ok(existing);
    }
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn)?;
    Ok(value.to_owned())
}
