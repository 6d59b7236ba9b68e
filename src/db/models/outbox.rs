//! The outbox: SMS and webhook deliveries written in the transaction of the event that
//! causes them, claimed by a sender under a lease, marked sent, retried or dead.

use crate::db::schema::outbox;
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A stored delivery.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct Delivery {
    pub id: i64,
    pub delivery_id: String,
    pub kind: String,
    pub target: String,
    pub webhook_id: Option<i64>,
    pub event_type: String,
    pub dossier_id: Option<i64>,
    pub body: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub next_attempt_at: NaiveDateTime,
    pub status: String,
    #[serde(skip)]
    pub lease_owner: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser_opt")]
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub queued_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timefmt::ser")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timefmt::ser_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

/// A delivery to queue.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub kind: String,
    pub target: String,
    pub webhook_id: Option<i64>,
    pub event_type: String,
    pub dossier_id: Option<i64>,
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub status: String,
    pub queued_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Queues a delivery.
pub fn insert(conn: &mut DbConnection, new: &NewDelivery) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(outbox::table)
        .values(new)
        .returning(outbox::id)
        .get_result(conn)?)
}

/// One delivery by row id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Delivery>, StoreError> {
    Ok(outbox::table
        .find(id)
        .select(Delivery::as_select())
        .first(conn)
        .optional()?)
}

/// Deliveries by id, optionally of one status / dossier, `limit + 1` rows after `after_id`.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    dossier_id: Option<i64>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut q = outbox::table.filter(outbox::id.gt(after_id)).into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s.to_owned()));
    }
    if let Some(d) = dossier_id {
        q = q.filter(outbox::dossier_id.eq(d));
    }
    Ok(q.order(outbox::id)
        .limit(limit + 1)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// Due: pending and its time has come, or sending with a lapsed lease.
macro_rules! due {
    ($now:expr) => {
        outbox::status
            .eq("pending")
            .and(outbox::next_attempt_at.le($now))
            .or(outbox::status
                .eq("sending")
                .and(outbox::lease_until.lt($now)))
    };
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Claims up to `limit` due deliveries for `owner` until `lease_until`: pending ones
/// whose time has come, and sending ones whose lease ran out (their sender died).
///
/// On PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so several
/// nodes claim disjoint sets without waiting on each other; on SQLite (one process,
/// writes serialised) the conditional update alone decides. Either way a row is
/// claimed only if it is still due when updated, so two senders never hold one lease.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let candidates: Vec<i64> = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT id FROM outbox \
             WHERE (status = 'pending' AND next_attempt_at <= $1) \
                OR (status = 'sending' AND lease_until < $1) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<IdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        DbConnection::Sqlite(_) => outbox::table
            .filter(due!(now))
            .order((outbox::next_attempt_at, outbox::id))
            .limit(limit)
            .select(outbox::id)
            .load(conn)?,
    };
    let mut claimed = Vec::new();
    for id in candidates {
        let n = diesel::update(outbox::table.filter(outbox::id.eq(id)).filter(due!(now)))
            .set((
                outbox::status.eq("sending"),
                outbox::lease_owner.eq(owner),
                outbox::lease_until.eq(lease_until),
            ))
            .execute(conn)?;
        if n == 1 {
            if let Some(d) = find(conn, id)? {
                claimed.push(d);
            }
        }
    }
    Ok(claimed)
}

/// Marks a delivery sent, if `owner` still holds it.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq("sending"))
            .filter(outbox::lease_owner.eq(owner)),
    )
    .set((
        outbox::status.eq("sent"),
        outbox::sent_at.eq(now),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed try: back to `pending` at `next`, or `dead` (when `dead`).
pub fn mark_failed(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    error: &str,
    next: NaiveDateTime,
    dead: bool,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq("sending"))
            .filter(outbox::lease_owner.eq(owner)),
    )
    .set((
        outbox::status.eq(if dead { "dead" } else { "pending" }),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::next_attempt_at.eq(next),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(error.chars().take(500).collect::<String>()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks a delivery that cannot be sent by design (no SMS gateway configured).
pub fn mark_skipped(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::lease_owner.eq(owner)),
    )
    .set((
        outbox::status.eq("skipped"),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(reason),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Puts a dead (or skipped) delivery back in the queue with a fresh horizon; the
/// delivery id stays, so a receiver that did get it can drop the copy.
pub fn requeue(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq_any(["dead", "skipped"])),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::next_attempt_at.eq(now),
        outbox::queued_at.eq(now),
        outbox::lease_owner.eq(None::<String>),
        outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Counts by status, for `/metrics` and the admin view.
pub fn count_by_status(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}
