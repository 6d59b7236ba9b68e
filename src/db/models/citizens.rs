//! Citizens (found again by phone) and the places they had dossiers picked up at.

use crate::db::schema::{citizen_places, citizens};
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A citizen row; the ID number is only served to staff.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = citizens)]
pub struct Citizen {
    pub id: i64,
    pub phone: String,
    pub full_name: String,
    pub id_number: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub updated_at: NaiveDateTime,
}

/// A remembered address of a citizen.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = citizen_places)]
pub struct CitizenPlace {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub citizen_id: i64,
    pub ward_code: String,
    pub street: String,
    #[serde(skip)]
    pub street_folded: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub from_gps: bool,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub updated_at: NaiveDateTime,
}

/// The citizen with this (normalised) phone.
pub fn find_by_phone(conn: &mut DbConnection, phone: &str) -> Result<Option<Citizen>, StoreError> {
    Ok(citizens::table
        .filter(citizens::phone.eq(phone))
        .select(Citizen::as_select())
        .first(conn)
        .optional()?)
}

/// Creates the citizen or refreshes their name (and ID number when given).
pub fn upsert(
    conn: &mut DbConnection,
    phone: &str,
    full_name: &str,
    id_number: Option<&str>,
    now: NaiveDateTime,
) -> Result<Citizen, StoreError> {
    if let Some(existing) = find_by_phone(conn, phone)? {
        diesel::update(citizens::table.find(existing.id))
            .set((
                citizens::full_name.eq(full_name),
                citizens::id_number.eq(id_number.map(str::to_owned).or(existing.id_number)),
                citizens::updated_at.eq(now),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(citizens::table)
            .values((
                citizens::phone.eq(phone),
                citizens::full_name.eq(full_name),
                citizens::id_number.eq(id_number),
                citizens::created_at.eq(now),
                citizens::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    find_by_phone(conn, phone)?.ok_or(StoreError::NotFound)
}

/// The citizen's remembered places, most recent first.
pub fn places(conn: &mut DbConnection, citizen_id: i64) -> Result<Vec<CitizenPlace>, StoreError> {
    Ok(citizen_places::table
        .filter(citizen_places::citizen_id.eq(citizen_id))
        .order(citizen_places::updated_at.desc())
        .limit(10)
        .select(CitizenPlace::as_select())
        .load(conn)?)
}

/// A remembered place at this ward and (folded) street.
pub fn find_place(
    conn: &mut DbConnection,
    citizen_id: i64,
    ward_code: &str,
    street_folded: &str,
) -> Result<Option<CitizenPlace>, StoreError> {
    Ok(citizen_places::table
        .filter(citizen_places::citizen_id.eq(citizen_id))
        .filter(citizen_places::ward_code.eq(ward_code))
        .filter(citizen_places::street_folded.eq(street_folded))
        .select(CitizenPlace::as_select())
        .first(conn)
        .optional()?)
}

/// Remembers a place; a GPS fix replaces an earlier point, an operator's pin never
/// replaces a GPS fix.
#[allow(clippy::too_many_arguments)]
pub fn remember_place(
    conn: &mut DbConnection,
    citizen_id: i64,
    ward_code: &str,
    street: &str,
    street_folded: &str,
    point: Option<(f64, f64)>,
    from_gps: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    match find_place(conn, citizen_id, ward_code, street_folded)? {
        Some(existing) => {
            let replace = point.is_some() && (from_gps || !existing.from_gps);
            let (lat, lon, gps) = if replace {
                (point.map(|p| p.0), point.map(|p| p.1), from_gps)
            } else {
                (existing.lat, existing.lon, existing.from_gps)
            };
            diesel::update(citizen_places::table.find(existing.id))
                .set((
                    citizen_places::street.eq(street),
                    citizen_places::lat.eq(lat),
                    citizen_places::lon.eq(lon),
                    citizen_places::from_gps.eq(gps),
                    citizen_places::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(citizen_places::table)
                .values((
                    citizen_places::citizen_id.eq(citizen_id),
                    citizen_places::ward_code.eq(ward_code),
                    citizen_places::street.eq(street),
                    citizen_places::street_folded.eq(street_folded),
                    citizen_places::lat.eq(point.map(|p| p.0)),
                    citizen_places::lon.eq(point.map(|p| p.1)),
                    citizen_places::from_gps.eq(from_gps && point.is_some()),
                    citizen_places::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
