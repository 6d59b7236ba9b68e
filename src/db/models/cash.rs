//! What cash reconciliation reads and writes: the fee-bearing door visits of a period
//! (pickups, and deliveries of return-only dossiers) and the cashier's hand-overs.

use crate::db::schema::{cash_handovers as h, dossiers, events, tasks};
use crate::db::{DbConnection, StoreError};
use crate::domain::cash::{Collection, Handover};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashSet;

/// A hand-over as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = h)]
pub struct Row {
    pub id: i64,
    pub courier_id: i64,
    pub day: NaiveDate,
    pub amount_vnd: i64,
    pub collected_vnd: i64,
    pub cashier_name: String,
    pub note: Option<String>,
    pub recorded_by: i64,
    pub recorded_at: NaiveDateTime,
}

impl Row {
    pub fn handover(&self) -> Handover {
        Handover {
            courier_id: self.courier_id,
            day: self.day,
            amount_vnd: self.amount_vnd,
            collected_vnd: self.collected_vnd,
            cashier_name: self.cashier_name.clone(),
            note: self.note.clone(),
            recorded_at: crate::timefmt::to_vn(self.recorded_at).to_rfc3339(),
        }
    }
}

/// A hand-over to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = h)]
pub struct NewHandover {
    pub courier_id: i64,
    pub day: NaiveDate,
    pub amount_vnd: i64,
    pub collected_vnd: i64,
    pub cashier_name: String,
    pub note: Option<String>,
    pub recorded_by: i64,
    pub recorded_at: NaiveDateTime,
}

/// Records a hand-over; `false` (and nothing written) when the courier's day already
/// has one: the unique (courier, day) decides between concurrent cashiers.
pub fn insert(conn: &mut DbConnection, new: &NewHandover) -> Result<bool, StoreError> {
    // A savepoint: on PostgreSQL a refused insert must not spoil the transaction.
    let inserted = conn.transaction(|c| diesel::insert_into(h::table).values(new).execute(c));
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::UniqueViolation(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The hand-over of a courier's day, if any.
pub fn find(
    conn: &mut DbConnection,
    courier: i64,
    day: NaiveDate,
) -> Result<Option<Row>, StoreError> {
    Ok(h::table
        .filter(h::courier_id.eq(courier))
        .filter(h::day.eq(day))
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// Hand-overs of days in `[from, to]`.
pub fn between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Row>, StoreError> {
    Ok(h::table
        .filter(h::day.ge(from))
        .filter(h::day.le(to))
        .order((h::day, h::courier_id))
        .select(Row::as_select())
        .load(conn)?)
}

/// `(dossier, task courier, kind, at, data, postal fee, agency fee, service)`.
type VisitRow = (
    i64,
    Option<i64>,
    String,
    NaiveDateTime,
    String,
    i64,
    i64,
    String,
);

/// The fee-bearing visits recorded in `[from, to)` (UTC): each dossier's first pickup
/// carries its fees; a return-only dossier's delivery carries them instead. The day of
/// a visit is its Vietnam date.
pub fn collections(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Collection>, StoreError> {
    let rows: Vec<VisitRow> = events::table
        .inner_join(dossiers::table)
        .inner_join(tasks::table.on(events::task_id.eq(tasks::id.nullable())))
        .filter(events::kind.eq_any(["picked_up", "delivered"]))
        .filter(events::at.ge(from))
        .filter(events::at.lt(to))
        .order(events::id)
        .select((
            events::dossier_id,
            tasks::courier_id,
            events::kind,
            events::at,
            events::data,
            dossiers::postal_fee_vnd,
            dossiers::agency_fee_vnd,
            dossiers::service,
        ))
        .load(conn)?;
    // Pickups before the period already carried their dossier's fees.
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut charged: HashSet<i64> = HashSet::new();
    for chunk in ids.chunks(500) {
        charged.extend(
            events::table
                .filter(events::dossier_id.eq_any(chunk))
                .filter(events::kind.eq("picked_up"))
                .filter(events::at.lt(from))
                .select(events::dossier_id)
                .load::<i64>(conn)?,
        );
    }
    let mut out = Vec::new();
    for (dossier, courier, kind, at, data, postal, agency, service) in rows {
        let Some(courier_id) = courier else { continue };
        let bears_fees = match kind.as_str() {
            "picked_up" => charged.insert(dossier),
            _ => service == "return",
        };
        let proof: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
        let collected = proof["proof"]["fees_collected_vnd"].as_i64().unwrap_or(0);
        if !bears_fees && collected == 0 {
            continue;
        }
        let (postal, agency) = if bears_fees { (postal, agency) } else { (0, 0) };
        out.push(Collection {
            courier_id,
            day: crate::timefmt::to_vn(at).date_naive(),
            postal_fee_vnd: postal,
            agency_fee_vnd: agency,
            collected_vnd: collected,
        });
    }
    Ok(out)
}
