//! The append-only event log of dossiers (the database refuses updates and deletes).

use crate::db::schema::events;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: i64,
    pub dossier_id: i64,
    pub task_id: Option<i64>,
    pub kind: String,
    pub status_after: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: String,
    pub at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub note: Option<String>,
    /// The domain event and its proof, as JSON.
    pub data: String,
}

/// An event to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub dossier_id: i64,
    pub task_id: Option<i64>,
    pub kind: String,
    pub status_after: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: String,
    pub at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub note: Option<String>,
    pub data: String,
}

/// Appends an event.
pub fn append(conn: &mut DbConnection, new: &NewEvent) -> Result<i64, StoreError> {
    crate::db::changes::touch(crate::db::changes::Key::Dossier(new.dossier_id));
    Ok(diesel::insert_into(events::table)
        .values(new)
        .returning(events::id)
        .get_result(conn)?)
}

/// A dossier's events in the order they were recorded.
pub fn of_dossier(conn: &mut DbConnection, dossier_id: i64) -> Result<Vec<Event>, StoreError> {
    Ok(events::table
        .filter(events::dossier_id.eq(dossier_id))
        .order(events::id)
        .select(Event::as_select())
        .load(conn)?)
}
