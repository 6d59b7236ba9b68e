//! Row locks for writes that decide from what they read (see the rule in [`crate::db`]).
//!
//! On PostgreSQL each function reads with `SELECT … FOR UPDATE`, so the row cannot
//! change until this transaction ends and a second writer waits, then reads the
//! committed result. On SQLite every write already runs alone (one writer thread, see
//! [`super::writer`]), so a plain read is the same guarantee.
//!
//! Order, always: the dossier, then its tasks, then a courier. Two transactions that
//! take locks in one order cannot deadlock on them.

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

/// Every task of a dossier, locked, in id order. Take the dossier's lock first.
pub fn tasks_of_dossier(conn: &mut DbConnection, dossier_id: i64) -> Result<Vec<Task>, StoreError> {
    let found = locked!(
        conn,
        tasks::table
            .filter(tasks::dossier_id.eq(dossier_id))
            .order(tasks::id)
            .select(Task::as_select()),
        |q| |c| q.load(c)
    );
    Ok(found?)
}

/// Locks a courier's row: assignments to one courier that count what the courier
/// already carries (capacity) take it, after their dossier's and tasks' locks.
pub fn courier(conn: &mut DbConnection, courier_id: i64) -> Result<(), StoreError> {
    let q = couriers::table.find(courier_id).select(couriers::id);
    match conn {
        DbConnection::Postgresql(pg) => {
            q.for_update().first::<i64>(pg).optional()?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// The dossier a task belongs to (a task never changes dossier, so no lock is needed
/// to learn it), then the dossier and its tasks locked in order; the task itself as
/// read under the lock.
pub fn task_with_dossier(
    conn: &mut DbConnection,
    task_id: i64,
) -> Result<Option<(Task, Dossier)>, StoreError> {
    let dossier_id: Option<i64> = tasks::table
        .find(task_id)
        .select(tasks::dossier_id)
        .first(conn)
        .optional()?;
    let Some(dossier_id) = dossier_id else {
        return Ok(None);
    };
    let Some(d) = dossier(conn, dossier_id)? else {
        return Ok(None);
    };
    let task = tasks_of_dossier(conn, dossier_id)?
        .into_iter()
        .find(|t| t.id == task_id);
    Ok(task.map(|t| (t, d)))
}
