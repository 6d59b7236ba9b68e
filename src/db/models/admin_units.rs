//! Provinces and communes (wards) of the 2025 two-level administration.

use super::like_patterns;
use crate::db::schema::{provinces, wards};
use crate::db::{DbConnection, StoreError};
use diesel::prelude::*;
use serde::Serialize;

/// A province or centrally-run city.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = provinces)]
pub struct Province {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip)]
    pub name_folded: String,
}

/// A commune, ward or special zone; the address unit since 1 July 2025.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = wards)]
pub struct Ward {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub province_code: String,
    #[serde(skip)]
    pub name_folded: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre_lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre_lon: Option<f64>,
}

/// All provinces by code.
pub fn list_provinces(conn: &mut DbConnection) -> Result<Vec<Province>, StoreError> {
    Ok(provinces::table
        .order(provinces::code)
        .select(Province::as_select())
        .load(conn)?)
}

/// Whether a province exists.
pub fn province_exists(conn: &mut DbConnection, code: &str) -> Result<bool, StoreError> {
    Ok(provinces::table
        .find(code)
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Count of provinces (zero before the reference data is loaded).
pub fn count_provinces(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(provinces::table.count().get_result(conn)?)
}

/// Wards of a province; `folded_query` (already folded) keeps those whose name holds
/// every word.
pub fn list_wards(
    conn: &mut DbConnection,
    province_code: &str,
    folded_query: &str,
) -> Result<Vec<Ward>, StoreError> {
    let mut query = wards::table
        .filter(wards::province_code.eq(province_code))
        .into_boxed();
    for pattern in like_patterns(folded_query) {
        query = query.filter(wards::name_folded.like(pattern).escape('\\'));
    }
    Ok(query
        .order(wards::code)
        .select(Ward::as_select())
        .load(conn)?)
}

/// One ward by its code.
pub fn find_ward(conn: &mut DbConnection, code: &str) -> Result<Option<Ward>, StoreError> {
    Ok(wards::table
        .find(code)
        .select(Ward::as_select())
        .first(conn)
        .optional()?)
}

/// Inserts provinces and wards (used once, at first start). Multi-row inserts do not
/// compile through `MultiConnection`, so the rows go in as literal SQL batches; the
/// values come from the shipped list and are quoted all the same.
pub fn insert_all(
    conn: &mut DbConnection,
    provinces_rows: &[Province],
    ward_rows: &[Ward],
) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    for chunk in provinces_rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|p| {
                format!(
                    "({}, {}, {}, {})",
                    q(&p.code),
                    q(&p.name),
                    q(&p.kind),
                    q(&p.name_folded)
                )
            })
            .collect();
        conn.batch_execute(&format!(
            "INSERT INTO provinces (code, name, kind, name_folded) VALUES {}",
            values.join(", ")
        ))?;
    }
    for chunk in ward_rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|w| {
                format!(
                    "({}, {}, {}, {}, {})",
                    q(&w.code),
                    q(&w.name),
                    q(&w.kind),
                    q(&w.province_code),
                    q(&w.name_folded)
                )
            })
            .collect();
        conn.batch_execute(&format!(
            "INSERT INTO wards (code, name, kind, province_code, name_folded) VALUES {}",
            values.join(", ")
        ))?;
    }
    Ok(())
}

/// Sets a ward's centre (used to estimate addresses given without a pin).
pub fn set_centre(
    conn: &mut DbConnection,
    code: &str,
    lat: f64,
    lon: f64,
) -> Result<bool, StoreError> {
    let n = diesel::update(wards::table.find(code))
        .set((
            wards::centre_lat.eq(Some(lat)),
            wards::centre_lon.eq(Some(lon)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
