//! Tasks: the stops a courier makes for a dossier.

use crate::db::schema::tasks;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A task row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: i64,
    pub dossier_id: i64,
    pub kind: String,
    pub status: String,
    pub courier_id: Option<i64>,
    pub seq: Option<i32>,
    pub window_from: Option<NaiveDateTime>,
    pub window_to: Option<NaiveDateTime>,
    pub lat: f64,
    pub lon: f64,
    pub eta: Option<NaiveDateTime>,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub zone_id: Option<i64>,
    pub outside_zone: bool,
}

/// A task to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tasks)]
pub struct NewTask {
    pub dossier_id: i64,
    pub kind: String,
    pub status: String,
    pub courier_id: Option<i64>,
    pub window_from: Option<NaiveDateTime>,
    pub window_to: Option<NaiveDateTime>,
    pub lat: f64,
    pub lon: f64,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub zone_id: Option<i64>,
    pub outside_zone: bool,
}

/// Inserts a task.
pub fn insert(conn: &mut DbConnection, new: &NewTask) -> Result<i64, StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(new.dossier_id));
    Ok(diesel::insert_into(tasks::table)
        .values(new)
        .returning(tasks::id)
        .get_result(conn)?)
}

/// One task by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Task>, StoreError> {
    Ok(tasks::table
        .find(id)
        .select(Task::as_select())
        .first(conn)
        .optional()?)
}

/// Every task of a dossier, in creation order.
pub fn of_dossier(conn: &mut DbConnection, dossier_id: i64) -> Result<Vec<Task>, StoreError> {
    Ok(tasks::table
        .filter(tasks::dossier_id.eq(dossier_id))
        .order(tasks::id)
        .select(Task::as_select())
        .load(conn)?)
}

/// Every task of the given dossiers, in creation order (one query).
pub fn of_dossiers(conn: &mut DbConnection, dossier_ids: &[i64]) -> Result<Vec<Task>, StoreError> {
    if dossier_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tasks::table
        .filter(tasks::dossier_id.eq_any(dossier_ids))
        .order(tasks::id)
        .select(Task::as_select())
        .load(conn)?)
}

/// Open tasks (assigned or in progress) of a courier.
pub fn open_of_courier(conn: &mut DbConnection, courier_id: i64) -> Result<Vec<Task>, StoreError> {
    Ok(tasks::table
        .filter(tasks::courier_id.eq(courier_id))
        .filter(tasks::status.eq_any(["assigned", "in_progress"]))
        .order((tasks::seq.asc(), tasks::window_from.asc(), tasks::id.asc()))
        .select(Task::as_select())
        .load(conn)?)
}

/// Writes a task's status, courier and attempts.
pub fn update_state(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    courier_id: Option<i64>,
    attempts: i32,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Task(id));
    diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(status),
            tasks::courier_id.eq(courier_id),
            tasks::attempts.eq(attempts),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a task's window.
pub fn set_window(
    conn: &mut DbConnection,
    id: i64,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Task(id));
    diesel::update(tasks::table.find(id))
        .set((tasks::window_from.eq(from), tasks::window_to.eq(to)))
        .execute(conn)?;
    Ok(())
}

/// Moves a task's point (a measured GPS fix).
pub fn set_point(conn: &mut DbConnection, id: i64, lat: f64, lon: f64) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Task(id));
    diesel::update(tasks::table.find(id))
        .set((tasks::lat.eq(lat), tasks::lon.eq(lon)))
        .execute(conn)?;
    Ok(())
}

/// Dispatcher filters of the task list.
#[derive(Debug, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    /// Tasks in these zones or held by these couriers (a post office's work).
    pub office: Option<(Vec<i64>, Vec<i64>)>,
    pub after_id: i64,
    pub limit: i64,
}

/// Tasks matching the filters, by id, `limit + 1` rows.
pub fn list(conn: &mut DbConnection, f: &TaskFilter) -> Result<Vec<Task>, StoreError> {
    let mut q = tasks::table.filter(tasks::id.gt(f.after_id)).into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(tasks::status.eq(s.clone()));
    }
    if let Some((zone_ids, courier_ids)) = &f.office {
        q = q.filter(
            tasks::zone_id
                .eq_any(zone_ids.clone())
                .or(tasks::courier_id.eq_any(courier_ids.clone())),
        );
    }
    Ok(q.order(tasks::id)
        .limit(f.limit + 1)
        .select(Task::as_select())
        .load(conn)?)
}

/// Stores a planned position and ETA.
pub fn set_plan(
    conn: &mut DbConnection,
    id: i64,
    seq: i32,
    eta: NaiveDateTime,
) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Task(id));
    diesel::update(tasks::table.find(id))
        .set((tasks::seq.eq(Some(seq)), tasks::eta.eq(Some(eta))))
        .execute(conn)?;
    Ok(())
}

/// Takes a task out of any plan: no position, no ETA.
pub fn clear_plan(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Task(id));
    diesel::update(tasks::table.find(id))
        .set((
            tasks::seq.eq(None::<i32>),
            tasks::eta.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}
