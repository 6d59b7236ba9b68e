//! Citizens' complaints about a dossier's handling, with their answer deadline.

use crate::db::schema::complaints;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A complaint row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = complaints)]
pub struct Complaint {
    pub id: i64,
    pub dossier_id: i64,
    pub content: String,
    pub scope: String,
    pub status: String,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub answer: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub answered_by: Option<i64>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

/// A complaint to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = complaints)]
pub struct NewComplaint {
    pub dossier_id: i64,
    pub content: String,
    pub scope: String,
    pub status: String,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

/// Inserts a complaint.
pub fn insert(conn: &mut DbConnection, new: &NewComplaint) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(complaints::table)
        .values(new)
        .returning(complaints::id)
        .get_result(conn)?)
}

/// One complaint.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Complaint>, StoreError> {
    Ok(complaints::table
        .find(id)
        .select(Complaint::as_select())
        .first(conn)
        .optional()?)
}

/// Filters of the complaint list.
#[derive(Debug, Default, Clone)]
pub struct ComplaintFilter {
    pub status: Option<String>,
    pub dossier_id: Option<i64>,
    /// Only open complaints whose deadline is before this moment.
    pub overdue_at: Option<NaiveDateTime>,
    pub after_id: i64,
    pub limit: i64,
}

/// Complaints by id, `limit + 1` rows.
pub fn list(conn: &mut DbConnection, f: &ComplaintFilter) -> Result<Vec<Complaint>, StoreError> {
    let mut q = complaints::table
        .filter(complaints::id.gt(f.after_id))
        .into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(complaints::status.eq(s.clone()));
    }
    if let Some(d) = f.dossier_id {
        q = q.filter(complaints::dossier_id.eq(d));
    }
    if let Some(t) = f.overdue_at {
        q = q
            .filter(complaints::status.eq("open"))
            .filter(complaints::due_at.lt(t));
    }
    Ok(q.order(complaints::id)
        .limit(f.limit + 1)
        .select(Complaint::as_select())
        .load(conn)?)
}

/// Complaints received in `[from, to)`, for reports.
pub fn received_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Complaint>, StoreError> {
    Ok(complaints::table
        .filter(complaints::received_at.ge(from))
        .filter(complaints::received_at.lt(to))
        .order(complaints::id)
        .select(Complaint::as_select())
        .load(conn)?)
}

/// Answers an open complaint; `false` when it was answered already.
pub fn answer(
    conn: &mut DbConnection,
    id: i64,
    text: &str,
    by: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        complaints::table
            .filter(complaints::id.eq(id))
            .filter(complaints::status.eq("open")),
    )
    .set((
        complaints::status.eq("answered"),
        complaints::answer.eq(text),
        complaints::answered_at.eq(now),
        complaints::answered_by.eq(by),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
