//! Queues what a dossier event causes: the citizen's SMS and the webhook deliveries.
//! Called inside the transaction that records the event (`dossiers::record`) or
//! creates the dossier (intake), so a delivery exists exactly when its cause does.
//! `workers::outbox` sends them.

use crate::db::models::dossiers::Dossier;
use crate::db::models::outbox::{self, NewDelivery};
use crate::db::models::{tasks, webhooks};
use crate::db::DbConnection;
use crate::domain::dossier::{DossierEvent, DossierStatus, ReturnMethod, Service, TaskKind};
use crate::domain::notify::{sms_for, subscribed_to, Sms, SmsFacts};
use crate::error::ApiError;
use crate::timefmt::to_vn;
use chrono::NaiveDateTime;
use serde_json::{json, Value};

/// A fresh delivery id (UUID v4): receivers drop a second copy with the same id.
pub fn new_delivery_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

fn result_goes_home(d: &Dossier) -> bool {
    match (
        Service::parse(&d.service),
        ReturnMethod::parse(&d.return_method),
    ) {
        (Ok(s), Ok(m)) => s.result_goes_home(m),
        _ => false,
    }
}

fn window(
    d: &Dossier,
) -> Option<(
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    match (d.pickup_from, d.pickup_to) {
        (Some(f), Some(t)) => Some((to_vn(f), to_vn(t))),
        _ => None,
    }
}

fn queue_sms(
    conn: &mut DbConnection,
    d: &Dossier,
    sms: &Sms,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if webhooks::sms_opted_out(conn, d.id)? {
        return Ok(());
    }
    insert_sms(conn, d, sms, now)
}

/// Queues a one-time code for the citizen: sent even when the citizen opted out of
/// notices, since the courier at the door asked for it.
pub fn queue_otp(
    conn: &mut DbConnection,
    d: &Dossier,
    sms: &Sms,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    insert_sms(conn, d, sms, now)
}

fn insert_sms(
    conn: &mut DbConnection,
    d: &Dossier,
    sms: &Sms,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let delivery_id = new_delivery_id();
    let body = json!({
        "delivery_id": delivery_id, "phone": d.phone, "text": sms.text(),
        "type": sms.name(), "tracking_code": d.tracking_code,
    });
    outbox::insert(
        conn,
        &NewDelivery {
            delivery_id,
            kind: "sms".into(),
            target: d.phone.clone(),
            webhook_id: None,
            event_type: sms.name().into(),
            dossier_id: Some(d.id),
            body: body.to_string(),
            attempts: 0,
            next_attempt_at: now,
            status: "pending".into(),
            queued_at: now,
            created_at: now,
        },
    )?;
    Ok(())
}

fn queue_webhooks(
    conn: &mut DbConnection,
    d: &Dossier,
    event: &str,
    previous: Option<&str>,
    status: &str,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    for hook in webhooks::active(conn)? {
        if !subscribed_to(&hook.event_list(), event) {
            continue;
        }
        let delivery_id = new_delivery_id();
        let body = json!({
            "delivery_id": delivery_id, "event": event, "tracking_code": d.tracking_code,
            "status": status, "previous_status": previous,
            "status_label": DossierStatus::parse(status).map(|s| s.label_vi()).unwrap_or(""),
            "at": to_vn(at).to_rfc3339(), "agency_id": d.agency_id,
            "agency_dossier_code": d.agency_dossier_code,
        });
        outbox::insert(
            conn,
            &NewDelivery {
                delivery_id,
                kind: "webhook".into(),
                target: hook.url.clone(),
                webhook_id: Some(hook.id),
                event_type: event.into(),
                dossier_id: Some(d.id),
                body: body.to_string(),
                attempts: 0,
                next_attempt_at: now,
                status: "pending".into(),
                queued_at: now,
                created_at: now,
            },
        )?;
    }
    Ok(())
}

/// Queues the intake's "request received" SMS and `requested` webhooks.
pub fn on_intake(conn: &mut DbConnection, d: &Dossier, now: NaiveDateTime) -> Result<(), ApiError> {
    let sms = Sms::RequestReceived {
        code: d.tracking_code.clone(),
        window: window(d),
    };
    queue_sms(conn, d, &sms, now)?;
    queue_webhooks(conn, d, "requested", None, &d.status, d.created_at, now)
}

/// Queues what `event` (just recorded on `d`, which was read before it) causes.
#[allow(clippy::too_many_arguments)]
pub fn on_event(
    conn: &mut DbConnection,
    d: &Dossier,
    event: &DossierEvent,
    after: DossierStatus,
    task_id: Option<i64>,
    at: NaiveDateTime,
    proof: Option<&Value>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let eta = match event {
        DossierEvent::Assigned {
            task: TaskKind::Pickup,
        } => match task_id {
            Some(id) => tasks::find(conn, id)?.and_then(|t| t.eta),
            None => None,
        },
        DossierEvent::Collected => tasks::of_dossier(conn, d.id)?
            .into_iter()
            .rev()
            .find(|t| t.kind == "deliver" && t.status != "cancelled")
            .and_then(|t| t.eta),
        _ => None,
    };
    let missing_documents = proof
        .and_then(|p| p.get("missing_documents"))
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_default();
    let facts = SmsFacts {
        code: d.tracking_code.clone(),
        window: window(d),
        eta: eta.map(to_vn),
        result_goes_home: result_goes_home(d),
        missing_documents,
    };
    if let Some(sms) = sms_for(event, &facts) {
        queue_sms(conn, d, &sms, now)?;
    }
    queue_webhooks(
        conn,
        d,
        event.name(),
        Some(&d.status),
        after.as_str(),
        at,
        now,
    )
}
