//! The procedure catalogue (thủ tục hành chính): fees, processing time, documents.

use super::like_patterns;
use crate::db::schema::procedures;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A procedure row; `required_documents` is stored as a JSON array of strings.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedures)]
pub struct ProcedureRow {
    pub code: String,
    pub name: String,
    pub name_folded: String,
    pub agency_level: String,
    pub agency_fee_vnd: i64,
    pub processing_days: i32,
    pub required_documents: String,
    pub created_at: NaiveDateTime,
}

/// A procedure as served.
#[derive(Debug, Clone, Serialize)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub agency_level: String,
    pub agency_fee_vnd: i64,
    pub processing_days: i32,
    pub required_documents: Vec<String>,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
}

impl From<ProcedureRow> for Procedure {
    fn from(r: ProcedureRow) -> Self {
        Procedure {
            required_documents: serde_json::from_str(&r.required_documents).unwrap_or_default(),
            code: r.code,
            name: r.name,
            agency_level: r.agency_level,
            agency_fee_vnd: r.agency_fee_vnd,
            processing_days: r.processing_days,
            created_at: r.created_at,
        }
    }
}

/// Inserts and returns the stored procedure.
pub fn insert(conn: &mut DbConnection, row: &ProcedureRow) -> Result<Procedure, StoreError> {
    diesel::insert_into(procedures::table)
        .values(row)
        .execute(conn)?;
    find(conn, &row.code)?.ok_or(StoreError::NotFound)
}

/// One procedure by code.
pub fn find(conn: &mut DbConnection, code: &str) -> Result<Option<Procedure>, StoreError> {
    Ok(procedures::table
        .find(code)
        .select(ProcedureRow::as_select())
        .first(conn)
        .optional()?
        .map(Procedure::from))
}

/// Procedures whose name or code holds every folded word, by code.
pub fn search(
    conn: &mut DbConnection,
    folded_query: &str,
    agency_level: Option<&str>,
    limit: i64,
) -> Result<Vec<Procedure>, StoreError> {
    let mut q = procedures::table.into_boxed();
    for pattern in like_patterns(folded_query) {
        q = q.filter(
            procedures::name_folded
                .like(pattern.clone())
                .escape('\\')
                .or(procedures::code.like(pattern).escape('\\')),
        );
    }
    if let Some(level) = agency_level {
        q = q.filter(procedures::agency_level.eq(level.to_owned()));
    }
    Ok(q.order(procedures::code)
        .limit(limit)
        .select(ProcedureRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Procedure::from)
        .collect())
}
