//! Zones: the area each post office serves (GeoJSON stored as text).

use crate::db::schema::{courier_zones, zones};
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A zone row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = zones)]
pub struct Zone {
    pub id: i64,
    pub name: String,
    pub post_office_id: i64,
    /// The GeoJSON geometry, as sent (already validated).
    pub area: String,
    pub created_at: NaiveDateTime,
}

/// Inserts a zone; returns its id.
pub fn insert(
    conn: &mut DbConnection,
    name: &str,
    post_office_id: i64,
    area: &str,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(zones::table)
        .values((
            zones::name.eq(name),
            zones::post_office_id.eq(post_office_id),
            zones::area.eq(area),
            zones::created_at.eq(now),
        ))
        .returning(zones::id)
        .get_result(conn)?)
}

/// One zone.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Zone>, StoreError> {
    Ok(zones::table
        .find(id)
        .select(Zone::as_select())
        .first(conn)
        .optional()?)
}

/// Every zone (optionally of one post office), by id.
pub fn list(conn: &mut DbConnection, post_office_id: Option<i64>) -> Result<Vec<Zone>, StoreError> {
    let mut q = zones::table.into_boxed();
    if let Some(po) = post_office_id {
        q = q.filter(zones::post_office_id.eq(po));
    }
    Ok(q.order(zones::id).select(Zone::as_select()).load(conn)?)
}

/// Ids of a post office's zones.
pub fn ids_of_office(conn: &mut DbConnection, post_office_id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(zones::table
        .filter(zones::post_office_id.eq(post_office_id))
        .select(zones::id)
        .load(conn)?)
}

/// Replaces a courier's zones.
pub fn set_courier_zones(
    conn: &mut DbConnection,
    courier_id: i64,
    zone_ids: &[i64],
) -> Result<(), StoreError> {
    diesel::delete(courier_zones::table.filter(courier_zones::courier_id.eq(courier_id)))
        .execute(conn)?;
    for z in zone_ids {
        diesel::insert_into(courier_zones::table)
            .values((
                courier_zones::courier_id.eq(courier_id),
                courier_zones::zone_id.eq(z),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// `(courier_id, zone_id)` pairs of the given couriers.
pub fn courier_zone_pairs(
    conn: &mut DbConnection,
    courier_ids: &[i64],
) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(courier_zones::table
        .filter(courier_zones::courier_id.eq_any(courier_ids))
        .select((courier_zones::courier_id, courier_zones::zone_id))
        .load(conn)?)
}
