//! Dossiers: one citizen's file for one procedure, from the doorstep to the result.
//! The status column is a cache of the fold of the dossier's events; it changes only
//! together with an appended event, under an optimistic version check.

use crate::db::schema::{counters, dossiers};
use crate::db::{DbConnection, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A dossier row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct Dossier {
    pub id: i64,
    pub tracking_code: String,
    pub citizen_id: i64,
    pub citizen_name: String,
    pub phone: String,
    pub id_number: Option<String>,
    pub ward_code: String,
    pub province_code: String,
    pub street: String,
    pub lat: f64,
    pub lon: f64,
    pub location_approximate: bool,
    pub procedure_code: String,
    pub agency_id: i64,
    pub service: String,
    pub return_method: String,
    pub status: String,
    pub version: i32,
    pub pickup_from: Option<NaiveDateTime>,
    pub pickup_to: Option<NaiveDateTime>,
    pub postal_fee_vnd: i64,
    pub agency_fee_vnd: i64,
    pub total_vnd: i64,
    pub note: Option<String>,
    pub agency_dossier_code: Option<String>,
    pub appointment_date: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A dossier to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = dossiers)]
pub struct NewDossier {
    pub tracking_code: String,
    pub citizen_id: i64,
    pub citizen_name: String,
    pub phone: String,
    pub id_number: Option<String>,
    pub ward_code: String,
    pub province_code: String,
    pub street: String,
    pub lat: f64,
    pub lon: f64,
    pub location_approximate: bool,
    pub procedure_code: String,
    pub agency_id: i64,
    pub service: String,
    pub return_method: String,
    pub status: String,
    pub version: i32,
    pub pickup_from: Option<NaiveDateTime>,
    pub pickup_to: Option<NaiveDateTime>,
    pub postal_fee_vnd: i64,
    pub agency_fee_vnd: i64,
    pub total_vnd: i64,
    pub note: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Takes the next tracking serial; two intakes never share one, and a rolled-back
/// intake never showed its code. PostgreSQL takes it from a sequence (no lock held to
/// the commit; a rollback leaves a gap), SQLite from the counter row (one writer).
pub fn next_serial(conn: &mut DbConnection) -> Result<u64, StoreError> {
    let value: i64 = match conn {
        DbConnection::Postgresql(pg) => diesel::select(
            diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('tracking_serial')"),
        )
        .get_result(pg)?,
        DbConnection::Sqlite(_) => diesel::update(counters::table.find("tracking_serial"))
            .set(counters::value.eq(counters::value + 1))
            .returning(counters::value)
            .get_result(conn)?,
    };
    Ok(value as u64)
}

/// Inserts and returns the stored row.
pub fn insert(conn: &mut DbConnection, new: &NewDossier) -> Result<Dossier, StoreError> {
    let id: i64 = diesel::insert_into(dossiers::table)
        .values(new)
        .returning(dossiers::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// One dossier by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Dossier>, StoreError> {
    Ok(dossiers::table
        .find(id)
        .select(Dossier::as_select())
        .first(conn)
        .optional()?)
}

/// One dossier by tracking code.
/// The agency of each of these dossiers, as (dossier id, agency id) (one query).
pub fn agencies_of(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dossiers::table
        .filter(dossiers::id.eq_any(ids))
        .select((dossiers::id, dossiers::agency_id))
        .load(conn)?)
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Dossier>, StoreError> {
    Ok(dossiers::table
        .filter(dossiers::tracking_code.eq(code))
        .select(Dossier::as_select())
        .first(conn)
        .optional()?)
}

/// Moves the dossier to `status` if nobody changed it since `expected_version` was
/// read; `false` means another writer won (the caller answers 409).
pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    expected_version: i32,
    status: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(id));
    let n = diesel::update(
        dossiers::table
            .filter(dossiers::id.eq(id))
            .filter(dossiers::version.eq(expected_version)),
    )
    .set((
        dossiers::status.eq(status),
        dossiers::version.eq(expected_version + 1),
        dossiers::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the agency's hand-over data.
pub fn set_agency_receipt(
    conn: &mut DbConnection,
    id: i64,
    agency_dossier_code: &str,
    appointment_date: NaiveDate,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(id));
    diesel::update(dossiers::table.find(id))
        .set((
            dossiers::agency_dossier_code.eq(agency_dossier_code),
            dossiers::appointment_date.eq(appointment_date),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the agency's decision.
pub fn set_outcome(conn: &mut DbConnection, id: i64, outcome: &str) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(id));
    diesel::update(dossiers::table.find(id))
        .set(dossiers::outcome.eq(outcome))
        .execute(conn)?;
    Ok(())
}

/// Sets a new pickup window.
pub fn set_pickup_window(
    conn: &mut DbConnection,
    id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(id));
    diesel::update(dossiers::table.find(id))
        .set((dossiers::pickup_from.eq(from), dossiers::pickup_to.eq(to)))
        .execute(conn)?;
    Ok(())
}

/// Replaces an estimated location with a measured one.
pub fn set_location(
    conn: &mut DbConnection,
    id: i64,
    lat: f64,
    lon: f64,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(id));
    diesel::update(dossiers::table.find(id))
        .set((
            dossiers::lat.eq(lat),
            dossiers::lon.eq(lon),
            dossiers::location_approximate.eq(false),
        ))
        .execute(conn)?;
    Ok(())
}

/// Staff search filters.
#[derive(Debug, Default)]
pub struct DossierFilter {
    pub status: Option<String>,
    pub phone: Option<String>,
    pub ward_code: Option<String>,
    pub agency_id: Option<i64>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub after_id: i64,
    pub limit: i64,
}

/// Dossiers matching the filters, by id, `limit + 1` rows.
pub fn search(conn: &mut DbConnection, f: &DossierFilter) -> Result<Vec<Dossier>, StoreError> {
    let mut q = dossiers::table
        .filter(dossiers::id.gt(f.after_id))
        .into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(dossiers::status.eq(s.clone()));
    }
    if let Some(p) = &f.phone {
        q = q.filter(dossiers::phone.eq(p.clone()));
    }
    if let Some(w) = &f.ward_code {
        q = q.filter(dossiers::ward_code.eq(w.clone()));
    }
    if let Some(a) = f.agency_id {
        q = q.filter(dossiers::agency_id.eq(a));
    }
    if let Some(from) = f.from {
        q = q.filter(dossiers::created_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(dossiers::created_at.lt(to));
    }
    Ok(q.order(dossiers::id)
        .limit(f.limit + 1)
        .select(Dossier::as_select())
        .load(conn)?)
}

/// Median of measured pickup points in a ward (to estimate an address's location).
pub fn ward_measured_points(
    conn: &mut DbConnection,
    ward_code: &str,
) -> Result<Vec<(f64, f64)>, StoreError> {
    Ok(dossiers::table
        .filter(dossiers::ward_code.eq(ward_code))
        .filter(dossiers::location_approximate.eq(false))
        .order(dossiers::id.desc())
        .limit(200)
        .select((dossiers::lat, dossiers::lon))
        .load(conn)?)
}

/// One dossier by the agency's own dossier code (the latest, should codes repeat).
pub fn find_by_agency_code(
    conn: &mut DbConnection,
    agency_dossier_code: &str,
) -> Result<Option<Dossier>, StoreError> {
    Ok(dossiers::table
        .filter(dossiers::agency_dossier_code.eq(agency_dossier_code))
        .order(dossiers::id.desc())
        .select(Dossier::as_select())
        .first(conn)
        .optional()?)
}
