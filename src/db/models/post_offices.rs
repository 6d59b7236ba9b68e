//! Post offices (bưu cục): courier bases where routes start and end.

use super::{like_patterns, Page};
use crate::db::schema::post_offices;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A post office row as served.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = post_offices)]
pub struct PostOffice {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub name_folded: String,
    pub ward_code: String,
    pub province_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
}

/// A validated post office to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = post_offices)]
pub struct NewPostOffice {
    pub name: String,
    pub name_folded: String,
    pub ward_code: String,
    pub province_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub created_at: NaiveDateTime,
}

/// Filters of the post-office list.
#[derive(Debug, Default)]
pub struct PostOfficeFilter {
    pub folded_query: String,
    pub province_code: Option<String>,
    pub after_id: i64,
    pub limit: i64,
}

/// Inserts and returns the stored row.
pub fn insert(conn: &mut DbConnection, new: &NewPostOffice) -> Result<PostOffice, StoreError> {
    let id: i64 = diesel::insert_into(post_offices::table)
        .values(new)
        .returning(post_offices::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// One post office by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PostOffice>, StoreError> {
    Ok(post_offices::table
        .find(id)
        .select(PostOffice::as_select())
        .first(conn)
        .optional()?)
}

/// A page of post offices in id order.
pub fn list(conn: &mut DbConnection, f: &PostOfficeFilter) -> Result<Page<PostOffice>, StoreError> {
    let mut q = post_offices::table
        .filter(post_offices::id.gt(f.after_id))
        .into_boxed();
    for pattern in like_patterns(&f.folded_query) {
        q = q.filter(post_offices::name_folded.like(pattern).escape('\\'));
    }
    if let Some(p) = &f.province_code {
        q = q.filter(post_offices::province_code.eq(p.clone()));
    }
    let rows = q
        .order(post_offices::id)
        .limit(f.limit + 1)
        .select(PostOffice::as_select())
        .load(conn)?;
    Ok(Page::from_rows(rows, f.limit, |p| p.id))
}
