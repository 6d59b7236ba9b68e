//! Agencies: where dossiers are lodged (provincial service centres, commune desks).

use super::{like_patterns, Page};
use crate::db::schema::agencies;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// An agency row as served.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = agencies)]
pub struct Agency {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub name_folded: String,
    pub level: String,
    pub ward_code: String,
    pub province_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
    /// Desk hours as `HH:MM` (see [`crate::domain::agency_hours`]), all optional.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub lunch_start: Option<String>,
    pub lunch_end: Option<String>,
}

impl Agency {
    /// The desk hours, when the agency has them.
    pub fn hours(&self) -> Option<crate::domain::agency_hours::AgencyHours> {
        crate::domain::agency_hours::AgencyHours::parse(
            self.opens_at.as_deref(),
            self.closes_at.as_deref(),
            self.lunch_start.as_deref(),
            self.lunch_end.as_deref(),
        )
        .ok()
        .flatten()
    }
}

/// A validated agency to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agencies)]
pub struct NewAgency {
    pub name: String,
    pub name_folded: String,
    pub level: String,
    pub ward_code: String,
    pub province_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Option<String>,
    pub created_at: NaiveDateTime,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub lunch_start: Option<String>,
    pub lunch_end: Option<String>,
}

/// Filters of the agency list.
#[derive(Debug, Default)]
pub struct AgencyFilter {
    pub folded_query: String,
    pub province_code: Option<String>,
    pub level: Option<String>,
    pub after_id: i64,
    pub limit: i64,
}

/// Inserts and returns the stored row.
pub fn insert(conn: &mut DbConnection, new: &NewAgency) -> Result<Agency, StoreError> {
    let id: i64 = diesel::insert_into(agencies::table)
        .values(new)
        .returning(agencies::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// One agency by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Agency>, StoreError> {
    Ok(agencies::table
        .find(id)
        .select(Agency::as_select())
        .first(conn)
        .optional()?)
}

/// The agencies with these ids (one query).
pub fn of_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Agency>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(agencies::table
        .filter(agencies::id.eq_any(ids))
        .select(Agency::as_select())
        .load(conn)?)
}

/// A page of agencies in id order.
pub fn list(conn: &mut DbConnection, f: &AgencyFilter) -> Result<Page<Agency>, StoreError> {
    let mut q = agencies::table
        .filter(agencies::id.gt(f.after_id))
        .into_boxed();
    for pattern in like_patterns(&f.folded_query) {
        q = q.filter(agencies::name_folded.like(pattern).escape('\\'));
    }
    if let Some(p) = &f.province_code {
        q = q.filter(agencies::province_code.eq(p.clone()));
    }
    if let Some(l) = &f.level {
        q = q.filter(agencies::level.eq(l.clone()));
    }
    let rows = q
        .order(agencies::id)
        .limit(f.limit + 1)
        .select(Agency::as_select())
        .load(conn)?;
    Ok(Page::from_rows(rows, f.limit, |a| a.id))
}
