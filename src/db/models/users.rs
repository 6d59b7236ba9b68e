//! Staff accounts.

use super::Page;
use crate::db::schema::users;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A user row; the password hash never leaves the service.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    pub post_office_id: Option<i64>,
    pub agency_id: Option<i64>,
    pub phone: Option<String>,
    pub active: bool,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
}

/// A validated user to insert (password already hashed).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    pub post_office_id: Option<i64>,
    pub agency_id: Option<i64>,
    pub phone: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// Inserts and returns the stored row.
pub fn insert(conn: &mut DbConnection, new: &NewUser) -> Result<User, StoreError> {
    let id: i64 = diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// One user by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// One user by login name.
pub fn find_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Whether any user exists (first start creates the admin).
pub fn any(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(users::table.count().get_result::<i64>(conn)? > 0)
}

/// A page of users in id order, optionally of one role.
pub fn list(
    conn: &mut DbConnection,
    role: Option<&str>,
    after_id: i64,
    limit: i64,
) -> Result<Page<User>, StoreError> {
    let mut q = users::table.filter(users::id.gt(after_id)).into_boxed();
    if let Some(role) = role {
        q = q.filter(users::role.eq(role.to_owned()));
    }
    let rows = q
        .order(users::id)
        .limit(limit + 1)
        .select(User::as_select())
        .load(conn)?;
    Ok(Page::from_rows(rows, limit, |u| u.id))
}
