//! What clients see of dossiers and tasks: the staff view (everything) and the
//! public tracking view (no personal data unless the phone digits match, then masked).

use crate::db::models::dossiers::Dossier;
use crate::db::models::events::Event;
use crate::db::models::tasks::Task;
use crate::domain::dossier::DossierStatus;
use crate::timefmt::to_vn;
use chrono::NaiveDateTime;
use serde_json::{json, Value};

fn time(t: Option<NaiveDateTime>) -> Value {
    t.map(|t| json!(to_vn(t).to_rfc3339()))
        .unwrap_or(Value::Null)
}

fn window(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Value {
    match (from, to) {
        (Some(f), Some(t)) => json!({"from": time(Some(f)), "to": time(Some(t))}),
        _ => Value::Null,
    }
}

fn label(status: &str) -> &'static str {
    DossierStatus::parse(status)
        .map(|s| s.label_vi())
        .unwrap_or("")
}

/// A task, as in every task list of the contract.
pub fn task(t: &Task, tracking_code: &str) -> Value {
    json!({
        "id": t.id, "kind": t.kind, "status": t.status, "tracking_code": tracking_code,
        "courier_id": t.courier_id, "seq": t.seq, "window": window(t.window_from, t.window_to),
        "lat": t.lat, "lon": t.lon, "eta": time(t.eta), "attempts": t.attempts,
    })
}

/// The whole dossier for staff.
pub fn staff(d: &Dossier, tasks: &[Task], events: &[Event]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "type": e.kind, "status": e.status_after, "label": label(&e.status_after),
                "task_id": e.task_id, "actor_user_id": e.actor_user_id, "actor_role": e.actor_role,
                "at": time(Some(e.at)), "recorded_at": time(Some(e.recorded_at)),
                "lat": e.lat, "lon": e.lon, "note": e.note,
                "data": serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
            })
        })
        .collect();
    json!({
        "id": d.id, "tracking_code": d.tracking_code, "status": d.status,
        "status_label": label(&d.status), "version": d.version,
        "service": d.service, "return_method": d.return_method,
        "citizen": {"id": d.citizen_id, "full_name": d.citizen_name, "phone": d.phone, "id_number": d.id_number},
        "address": {"ward_code": d.ward_code, "province_code": d.province_code, "street": d.street,
                    "lat": d.lat, "lon": d.lon},
        "location_approximate": d.location_approximate,
        "procedure_code": d.procedure_code, "agency_id": d.agency_id,
        "fees": {"postal_fee_vnd": d.postal_fee_vnd, "agency_fee_vnd": d.agency_fee_vnd, "total_vnd": d.total_vnd},
        "pickup_window": window(d.pickup_from, d.pickup_to),
        "deadlines": {"pickup_by": time(d.pickup_to),
                      "agency_appointment": d.appointment_date.map(|a| a.to_string())},
        "agency_dossier_code": d.agency_dossier_code, "outcome": d.outcome, "note": d.note,
        "tasks": tasks.iter().map(|t| task(t, &d.tracking_code)).collect::<Vec<_>>(),
        "events": events,
        "created_at": time(Some(d.created_at)), "updated_at": time(Some(d.updated_at)),
    })
}

/// "Trần Thị Bình" → "T*** T** B***": each word's first letter, the rest starred.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().unwrap_or('*');
            format!("{first}{}", "*".repeat(chars.count().max(2)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Public labels of the timeline, by event type (people read these).
fn public_label(kind: &str, status_after: &str) -> String {
    match kind {
        "assigned" => "Đã phân công bưu tá".into(),
        "arrived" => "Bưu tá đã đến".into(),
        "failed" => "Chưa thực hiện được, sẽ hẹn lại".into(),
        "rescheduled" => "Đã hẹn lại thời gian lấy hồ sơ".into(),
        "held_at_post_office" => "Kết quả được giữ tại bưu cục".into(),
        "handed_over" => "Bưu tá đã nộp hồ sơ tại cơ quan".into(),
        _ => label(status_after).into(),
    }
}

/// The public tracking view; `reveal` adds masked name and ward name.
pub fn public(
    d: &Dossier,
    agency_name: &str,
    events: &[Event],
    eta: Option<NaiveDateTime>,
    reveal: Option<&str>,
) -> Value {
    let mut timeline = vec![
        json!({"at": time(Some(d.created_at)), "status": "requested",
                                   "label": label("requested")}),
    ];
    timeline.extend(events.iter().filter(|e| e.kind != "unassigned").map(|e| {
        json!({"at": time(Some(e.at)), "status": e.status_after,
                            "label": public_label(&e.kind, &e.status_after)})
    }));
    let mut v = json!({
        "tracking_code": d.tracking_code, "status": d.status, "status_label": label(&d.status),
        "agency_name": agency_name, "pickup_window": window(d.pickup_from, d.pickup_to),
        "eta": time(eta), "timeline": timeline,
    });
    if let (Some(ward_name), Some(obj)) = (reveal, v.as_object_mut()) {
        obj.insert(
            "citizen_name_masked".into(),
            json!(mask_name(&d.citizen_name)),
        );
        obj.insert("address_masked".into(), json!(ward_name));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_to_initials() {
        assert_eq!(mask_name("Trần Thị Bình"), "T*** T** B***");
        assert_eq!(mask_name("Nguyễn Văn An"), "N***** V** A**");
        assert!(!mask_name("Lê Minh").contains("Minh"));
    }
}
