//! Webhook subscriptions, SMS opt-outs and the one-stop system's accepted events.

use crate::db::schema::{one_stop_events, sms_opt_outs, webhooks};
use crate::db::{DbConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A webhook subscription; `events` is a comma-separated list of event types.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl Webhook {
    /// The subscribed event types.
    pub fn event_list(&self) -> Vec<String> {
        self.events
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A subscription to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook {
    pub url: String,
    pub secret: String,
    pub events: String,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// Inserts a subscription.
pub fn insert(conn: &mut DbConnection, new: &NewWebhook) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(webhooks::table)
        .values(new)
        .returning(webhooks::id)
        .get_result(conn)?)
}

/// One subscription.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Webhook>, StoreError> {
    Ok(webhooks::table
        .find(id)
        .select(Webhook::as_select())
        .first(conn)
        .optional()?)
}

/// Every subscription, by id.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Webhook>, StoreError> {
    Ok(webhooks::table
        .order(webhooks::id)
        .select(Webhook::as_select())
        .load(conn)?)
}

/// The active subscriptions.
pub fn active(conn: &mut DbConnection) -> Result<Vec<Webhook>, StoreError> {
    Ok(webhooks::table
        .filter(webhooks::active.eq(true))
        .order(webhooks::id)
        .select(Webhook::as_select())
        .load(conn)?)
}

/// Whether the citizen of a dossier asked for no SMS.
pub fn sms_opted_out(conn: &mut DbConnection, dossier_id: i64) -> Result<bool, StoreError> {
    Ok(sms_opt_outs::table
        .find(dossier_id)
        .select(sms_opt_outs::dossier_id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// Records (or lifts) a dossier's SMS opt-out.
pub fn set_sms_opt_out(
    conn: &mut DbConnection,
    dossier_id: i64,
    opt_out: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if opt_out {
        if !sms_opted_out(conn, dossier_id)? {
            diesel::insert_into(sms_opt_outs::table)
                .values((
                    sms_opt_outs::dossier_id.eq(dossier_id),
                    sms_opt_outs::created_at.eq(now),
                ))
                .execute(conn)?;
        }
    } else {
        diesel::delete(sms_opt_outs::table.find(dossier_id)).execute(conn)?;
    }
    Ok(())
}

/// An accepted one-stop event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = one_stop_events)]
pub struct OneStopEvent {
    pub event_id: String,
    pub signature: String,
    pub dossier_id: Option<i64>,
    pub kind: String,
    pub received_at: NaiveDateTime,
}

/// The accepted event with this id, if any.
pub fn one_stop_event(
    conn: &mut DbConnection,
    event_id: &str,
) -> Result<Option<OneStopEvent>, StoreError> {
    Ok(one_stop_events::table
        .find(event_id)
        .select(OneStopEvent::as_select())
        .first(conn)
        .optional()?)
}

/// Whether this exact signed message was seen before.
pub fn one_stop_signature_seen(
    conn: &mut DbConnection,
    signature: &str,
) -> Result<bool, StoreError> {
    Ok(one_stop_events::table
        .filter(one_stop_events::signature.eq(signature))
        .select(one_stop_events::event_id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Remembers an accepted event.
pub fn insert_one_stop_event(conn: &mut DbConnection, e: &OneStopEvent) -> Result<(), StoreError> {
    diesel::insert_into(one_stop_events::table)
        .values((
            one_stop_events::event_id.eq(&e.event_id),
            one_stop_events::signature.eq(&e.signature),
            one_stop_events::dossier_id.eq(e.dossier_id),
            one_stop_events::kind.eq(&e.kind),
            one_stop_events::received_at.eq(e.received_at),
        ))
        .execute(conn)?;
    Ok(())
}
