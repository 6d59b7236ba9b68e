//! What reports read: the dossiers of a period with their events, the courier of each
//! event's task and the post office of the courier who took the pickup.

use crate::db::models::dossiers::Dossier;
use crate::db::schema::{couriers, dossiers, events, tasks};
use crate::db::{DbConnection, StoreError};
use crate::domain::reports::{DossierFacts, EventFact};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// `(id, task_id, kind, status_after, at, data)` of an event.
type EventRow = (i64, Option<i64>, String, String, NaiveDateTime, String);
/// An [`EventRow`] with its dossier id second.
type DossierEventRow = (i64, i64, Option<i64>, String, String, NaiveDateTime, String);

/// Dossiers created in `[from, to)`, optionally of one agency, by id.
pub fn dossiers_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    agency_id: Option<i64>,
) -> Result<Vec<Dossier>, StoreError> {
    let mut q = dossiers::table
        .filter(dossiers::created_at.ge(from))
        .filter(dossiers::created_at.lt(to))
        .into_boxed();
    if let Some(a) = agency_id {
        q = q.filter(dossiers::agency_id.eq(a));
    }
    Ok(q.order(dossiers::id)
        .select(Dossier::as_select())
        .load(conn)?)
}

/// The facts reports need about `ds`, in the same order.
pub fn facts(conn: &mut DbConnection, ds: &[Dossier]) -> Result<Vec<DossierFacts>, StoreError> {
    let mut evs: HashMap<i64, Vec<EventRow>> = HashMap::new();
    let mut task_courier: HashMap<i64, Option<i64>> = HashMap::new();
    let mut pickup_courier: HashMap<i64, i64> = HashMap::new();
    for chunk in ds.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|d| d.id).collect();
        let rows: Vec<DossierEventRow> = events::table
            .filter(events::dossier_id.eq_any(&ids))
            .order(events::id)
            .select((
                events::id,
                events::dossier_id,
                events::task_id,
                events::kind,
                events::status_after,
                events::at,
                events::data,
            ))
            .load(conn)?;
        for (id, did, task, kind, status, at, data) in rows {
            evs.entry(did)
                .or_default()
                .push((id, task, kind, status, at, data));
        }
        let trows: Vec<(i64, i64, String, Option<i64>)> = tasks::table
            .filter(tasks::dossier_id.eq_any(&ids))
            .order(tasks::id)
            .select((tasks::id, tasks::dossier_id, tasks::kind, tasks::courier_id))
            .load(conn)?;
        for (tid, did, kind, courier) in trows {
            task_courier.insert(tid, courier);
            if let (true, Some(c)) = (kind == "pickup", courier) {
                pickup_courier.entry(did).or_insert(c);
            }
        }
    }
    let offices: HashMap<i64, i64> = couriers::table
        .select((couriers::id, couriers::post_office_id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(ds
        .iter()
        .map(|d| {
            let events = evs
                .remove(&d.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(_, task, kind, status_after, at, data)| {
                    let fail_reason = (kind == "failed")
                        .then(|| {
                            serde_json::from_str::<serde_json::Value>(&data)
                                .ok()
                                .and_then(|v| v["reason"].as_str().map(str::to_owned))
                        })
                        .flatten();
                    EventFact {
                        kind,
                        status_after,
                        at,
                        fail_reason,
                        courier_id: task.and_then(|t| task_courier.get(&t).copied().flatten()),
                    }
                })
                .collect();
            DossierFacts {
                id: d.id,
                status: d.status.clone(),
                agency_id: d.agency_id,
                post_office_id: pickup_courier
                    .get(&d.id)
                    .and_then(|c| offices.get(c).copied()),
                created_at: d.created_at,
                pickup_to: d.pickup_to,
                result_goes_home: d.service != "send" && d.return_method == "home",
                events,
            }
        })
        .collect())
}
