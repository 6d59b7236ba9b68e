//! Row locks for writes that decide from what they read (see the rule in [`crate::db`]).
//!
//! On PostgreSQL each function reads with `SELECT … FOR UPDATE`, so the row cannot
//! change until this transaction ends and a second writer waits, then reads the
//! committed result. On SQLite every write already runs alone (one writer thread, see
//! [`super::writer`]), so a plain read is the same guarantee.
//!
//! Order, always: the dossier, then its task, then a courier. Two transactions that
//! take locks in one order cannot deadlock on them. Every write to a task holds its
//! dossier's lock, so an action on the whole dossier (cancel, reschedule, a clerk's
//! decision) that locks the dossier reads its tasks as they stand.

use crate::db::models::dossiers::Dossier;
use crate::db::models::tasks::Task;
use crate::db::schema::{couriers, dossiers, tasks};
use crate::db::{DbConnection, StoreError};
use diesel::prelude::*;

/// Runs `$load` on the query `$q` (built anew per backend: a selection's type names its
/// backend), with `FOR UPDATE` on PostgreSQL.
macro_rules! locked {
    ($conn:expr, $q:expr, |$x:ident| $load:expr) => {
        match $conn {
            DbConnection::Postgresql(pg) => {
                let $x = $q.for_update();
                $load(pg)
            }
            DbConnection::Sqlite(lite) => {
                let $x = $q;
                $load(lite)
            }
        }
    };
}

/// The dossier with `id`, locked.
pub fn dossier(conn: &mut DbConnection, id: i64) -> Result<Option<Dossier>, StoreError> {
    let found = locked!(
        conn,
        dossiers::table.find(id).select(Dossier::as_select()),
        |q| |c| q.first(c).optional()
    );
    Ok(found?)
}

/// The dossier with this tracking code, locked.
pub fn dossier_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Dossier>, StoreError> {
    let found = locked!(
        conn,
        dossiers::table
            .filter(dossiers::tracking_code.eq(code))
            .select(Dossier::as_select()),
        |q| |c| q.first(c).optional()
    );
    Ok(found?)
}

/// Locks a courier's row: assignments to one courier that count what the courier
/// already carries (capacity) take it, after their dossier's and tasks' locks.
pub fn courier(conn: &mut DbConnection, courier_id: i64) -> Result<(), StoreError> {
    locked!(
        conn,
        couriers::table.find(courier_id).select(couriers::id),
        |q| |c| q.first::<i64>(c).optional()
    )?;
    Ok(())
}

/// The dossier a task belongs to, locked (found from the task in the same statement: a
/// task never changes dossier), then the task itself, locked and read under the
/// dossier's lock. Two statements, as many as reading both without locks.
pub fn task_with_dossier(
    conn: &mut DbConnection,
    task_id: i64,
) -> Result<Option<(Task, Dossier)>, StoreError> {
    let of_task = tasks::table
        .find(task_id)
        .select(tasks::dossier_id)
        .single_value();
    let d = locked!(
        conn,
        dossiers::table
            .filter(dossiers::id.nullable().eq(of_task))
            .select(Dossier::as_select()),
        |q| |c| q.first(c).optional()
    )?;
    let Some(d) = d else {
        return Ok(None);
    };
    let task = locked!(
        conn,
        tasks::table.find(task_id).select(Task::as_select()),
        |q| |c| q.first(c).optional()
    )?;
    Ok(task.map(|t| (t, d)))
}
