//! Planning leases: one route plan or auto-assignment per post office and day at a
//! time, on every node. Taken by an insert, or by a conditional update of an expired
//! lease; a second planner finds neither possible and is told so (409).

use crate::db::schema::dispatch_leases as l;
use crate::db::{DbConnection, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Takes the lease for (`office`, `day`) for `holder` until `until`; `false` when
/// another holder has it and it has not expired at `now`.
pub fn acquire(
    conn: &mut DbConnection,
    office: i64,
    day: NaiveDate,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StoreError> {
    let taken = diesel::update(
        l::table
            .filter(l::post_office_id.eq(office))
            .filter(l::day.eq(day))
            .filter(l::expires_at.lt(now)),
    )
    .set((l::holder.eq(holder), l::expires_at.eq(until)))
    .execute(conn)?;
    if taken == 1 {
        return Ok(true);
    }
    // A savepoint: on PostgreSQL a refused insert must not spoil the transaction.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(l::table)
            .values((
                l::post_office_id.eq(office),
                l::day.eq(day),
                l::holder.eq(holder),
                l::expires_at.eq(until),
            ))
            .execute(c)
    });
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::UniqueViolation(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Frees the lease if `holder` still has it.
pub fn release(
    conn: &mut DbConnection,
    office: i64,
    day: NaiveDate,
    holder: &str,
) -> Result<(), StoreError> {
    diesel::delete(
        l::table
            .filter(l::post_office_id.eq(office))
            .filter(l::day.eq(day))
            .filter(l::holder.eq(holder)),
    )
    .execute(conn)?;
    Ok(())
}
