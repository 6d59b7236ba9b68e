//! Courier positions: the last one per courier (kept hot for the dispatcher's map)
//! and a trail kept for a retention period.

use crate::db::schema::{courier_positions, position_trail};
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A courier's latest position.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = courier_positions)]
pub struct LastPosition {
    pub courier_id: i64,
    pub lat: f64,
    pub lon: f64,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub at: NaiveDateTime,
    pub accuracy_m: Option<f64>,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub received_at: NaiveDateTime,
}

/// One fix from a courier's phone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    pub at: NaiveDateTime,
    pub accuracy_m: Option<f64>,
}

/// The latest stored position of a courier.
pub fn last(conn: &mut DbConnection, courier_id: i64) -> Result<Option<LastPosition>, StoreError> {
    Ok(courier_positions::table
        .find(courier_id)
        .select(LastPosition::as_select())
        .first(conn)
        .optional()?)
}

/// Latest positions of the given couriers.
pub fn last_of(
    conn: &mut DbConnection,
    courier_ids: &[i64],
) -> Result<Vec<LastPosition>, StoreError> {
    Ok(courier_positions::table
        .filter(courier_positions::courier_id.eq_any(courier_ids))
        .order(courier_positions::courier_id)
        .select(LastPosition::as_select())
        .load(conn)?)
}

/// Appends fixes (already in time order, all newer than the last) and moves the last position.
pub fn record(
    conn: &mut DbConnection,
    courier_id: i64,
    fixes: &[Fix],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let Some(newest) = fixes.last() else {
        return Ok(());
    };
    for f in fixes {
        diesel::insert_into(position_trail::table)
            .values((
                position_trail::courier_id.eq(courier_id),
                position_trail::lat.eq(f.lat),
                position_trail::lon.eq(f.lon),
                position_trail::at.eq(f.at),
                position_trail::accuracy_m.eq(f.accuracy_m),
            ))
            .execute(conn)?;
    }
    let updated = diesel::update(courier_positions::table.find(courier_id))
        .set((
            courier_positions::lat.eq(newest.lat),
            courier_positions::lon.eq(newest.lon),
            courier_positions::at.eq(newest.at),
            courier_positions::accuracy_m.eq(newest.accuracy_m),
            courier_positions::received_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(courier_positions::table)
            .values((
                courier_positions::courier_id.eq(courier_id),
                courier_positions::lat.eq(newest.lat),
                courier_positions::lon.eq(newest.lon),
                courier_positions::at.eq(newest.at),
                courier_positions::accuracy_m.eq(newest.accuracy_m),
                courier_positions::received_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A courier's trail between two times, oldest first.
pub fn trail(
    conn: &mut DbConnection,
    courier_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(f64, f64, NaiveDateTime)>, StoreError> {
    Ok(position_trail::table
        .filter(position_trail::courier_id.eq(courier_id))
        .filter(position_trail::at.ge(from))
        .filter(position_trail::at.lt(to))
        .order(position_trail::at)
        .select((position_trail::lat, position_trail::lon, position_trail::at))
        .load(conn)?)
}

/// Deletes trail points older than `before`; returns how many.
pub fn purge_trail(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(position_trail::table.filter(position_trail::at.lt(before)))
            .execute(conn)?,
    )
}
