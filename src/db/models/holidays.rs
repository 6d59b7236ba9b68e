//! Public holidays: the non-working days of deadline arithmetic.

use crate::db::schema::holidays;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

/// One non-working day.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = holidays)]
pub struct Holiday {
    #[serde(rename = "date")]
    pub day: NaiveDate,
    pub name: String,
}

/// All holidays in date order.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Holiday>, StoreError> {
    Ok(holidays::table
        .order(holidays::day)
        .select(Holiday::as_select())
        .load(conn)?)
}

/// Replaces the whole list (call inside a transaction).
pub fn replace_all(conn: &mut DbConnection, rows: &[Holiday]) -> Result<(), StoreError> {
    diesel::delete(holidays::table).execute(conn)?;
    for row in rows {
        diesel::insert_into(holidays::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}
