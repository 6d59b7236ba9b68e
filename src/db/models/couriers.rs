//! Couriers: a courier-role user attached to a post office, with shift and capacity.

use crate::db::schema::couriers;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A courier row as served.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = couriers)]
pub struct Courier {
    pub id: i64,
    pub user_id: i64,
    pub post_office_id: i64,
    pub capacity: i32,
    pub shift_start: String,
    pub shift_end: String,
    pub vehicle: Option<String>,
    pub active: bool,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
    /// JSON array of weekdays (`"sun"`) and dates (`"2026-12-24"`) off work.
    #[serde(serialize_with = "ser_days_off")]
    pub days_off: String,
}

fn ser_days_off<S: serde::Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    serde_json::from_str::<Vec<String>>(raw)
        .unwrap_or_default()
        .serialize(s)
}

/// A validated courier to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = couriers)]
pub struct NewCourier {
    pub user_id: i64,
    pub post_office_id: i64,
    pub capacity: i32,
    pub shift_start: String,
    pub shift_end: String,
    pub vehicle: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub days_off: String,
}

/// Inserts and returns the stored row.
pub fn insert(conn: &mut DbConnection, new: &NewCourier) -> Result<Courier, StoreError> {
    let id: i64 = diesel::insert_into(couriers::table)
        .values(new)
        .returning(couriers::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// One courier by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Courier>, StoreError> {
    Ok(couriers::table
        .find(id)
        .select(Courier::as_select())
        .first(conn)
        .optional()?)
}

/// The courier record of a user.
pub fn find_by_user(conn: &mut DbConnection, user_id: i64) -> Result<Option<Courier>, StoreError> {
    Ok(couriers::table
        .filter(couriers::user_id.eq(user_id))
        .select(Courier::as_select())
        .first(conn)
        .optional()?)
}

/// Couriers, optionally of one post office, by id.
pub fn list(
    conn: &mut DbConnection,
    post_office_id: Option<i64>,
) -> Result<Vec<Courier>, StoreError> {
    let mut q = couriers::table.into_boxed();
    if let Some(po) = post_office_id {
        q = q.filter(couriers::post_office_id.eq(po));
    }
    Ok(q.order(couriers::id)
        .select(Courier::as_select())
        .load(conn)?)
}
