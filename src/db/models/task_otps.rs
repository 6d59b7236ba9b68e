//! One-time codes for a task's proof of presence: the newest row of a task is the code
//! in force; it is stored as a keyed hash, never as the digits.

use crate::db::schema::task_otps as o;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = o)]
pub struct TaskOtp {
    pub id: i64,
    pub task_id: i64,
    pub code_hash: String,
    pub expires_at: NaiveDateTime,
    pub tries: i32,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Stores a new code for `task_id` (it replaces any earlier one).
pub fn insert(
    conn: &mut DbConnection,
    task_id: i64,
    code_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(o::table)
        .values((
            o::task_id.eq(task_id),
            o::code_hash.eq(code_hash),
            o::expires_at.eq(expires_at),
            o::tries.eq(0),
            o::created_at.eq(now),
        ))
        .returning(o::id)
        .get_result(conn)?)
}

/// The code in force for a task (the newest), if any.
pub fn latest(conn: &mut DbConnection, task_id: i64) -> Result<Option<TaskOtp>, StoreError> {
    Ok(o::table
        .filter(o::task_id.eq(task_id))
        .order(o::id.desc())
        .select(TaskOtp::as_select())
        .first(conn)
        .optional()?)
}

/// How many codes were issued for a task since `since` (a resend limit).
pub fn issued_since(
    conn: &mut DbConnection,
    task_id: i64,
    since: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(o::table
        .filter(o::task_id.eq(task_id))
        .filter(o::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Counts one wrong try.
pub fn count_try(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::update(o::table.filter(o::id.eq(id)))
        .set(o::tries.eq(o::tries + 1))
        .execute(conn)?;
    Ok(())
}

/// Marks the code used, if nobody used it first.
pub fn mark_used(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(o::table.filter(o::id.eq(id)).filter(o::used_at.is_null()))
        .set(o::used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(n == 1)
}
