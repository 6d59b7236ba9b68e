//! What clients see of dossiers and tasks: the staff view (everything) and the
//! public tracking view (no personal data unless the phone digits match, then masked).

use crate::db::models::dossiers::Dossier;
use crate::db::models::events::Event;
use crate::db::models::tasks::Task;
use crate::domain::deadlines::{handover_by, return_by, DeadlinePolicy, WorkCalendar};
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

/// The promises made on a dossier (working days and hours, holidays excluded) and
/// which of them are already broken at `now`.
pub fn deadlines(
    d: &Dossier,
    events: &[Event],
    calendar: &WorkCalendar,
    now: NaiveDateTime,
) -> Value {
    let policy = DeadlinePolicy::default();
    let last = |kind: &str| {
        events
            .iter()
            .rev()
            .find(|e| e.kind == kind)
            .map(|e| to_vn(e.at))
    };
    let pickup = d.pickup_to.map(to_vn);
    let handover = last("picked_up").map(|t| handover_by(calendar, &policy, &t));
    let goes_home = d.service != "send" && d.return_method == "home";
    let ret = last("result_ready")
        .filter(|_| goes_home)
        .map(|t| return_by(calendar, &policy, &t));
    let now = to_vn(now);
    let passed = |t: Option<chrono::DateTime<chrono::FixedOffset>>| t.is_some_and(|t| t < now);
    let late: Vec<&str> = match d.status.as_str() {
        "requested" | "scheduled" | "supplement_required" if passed(pickup) => vec!["pickup"],
        "picked_up" | "in_transit" if passed(handover) => vec!["handover"],
        "result_ready" | "out_for_delivery" if passed(ret) => vec!["return"],
        _ => vec![],
    };
    let rfc = |t: Option<chrono::DateTime<chrono::FixedOffset>>| t.map(|t| t.to_rfc3339());
    json!({
        "pickup_by": rfc(pickup), "handover_by": rfc(handover),
        "agency_appointment": d.appointment_date.map(|a| a.to_string()),
        "return_by": rfc(ret), "late": late,
    })
}

/// The whole dossier for staff, with its deadlines (see [`deadlines`]).
pub fn staff(d: &Dossier, tasks: &[Task], events: &[Event], deadlines: Value) -> Value {
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
        "deadlines": deadlines,
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
        let at_agency = matches!(
            e.kind.as_str(),
            "handed_over"
                | "received"
                | "supplement_required"
                | "result_ready"
                | "collected"
                | "handed_over_at_counter"
        );
        json!({"at": time(Some(e.at)), "status": e.status_after,
               "label": public_label(&e.kind, &e.status_after),
               "place": if at_agency { Some(agency_name) } else { None }})
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
    use chrono::{NaiveDate, NaiveDateTime};

    /// Local Vietnam time → stored naive UTC.
    fn vn(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap() - chrono::Duration::hours(7)
    }

    fn dossier(status: &str) -> Dossier {
        Dossier {
            id: 1,
            tracking_code: "HS000000015VN".into(),
            citizen_id: 1,
            citizen_name: "A".into(),
            phone: "0912345678".into(),
            id_number: None,
            ward_code: "29869".into(),
            province_code: "82".into(),
            street: "1".into(),
            lat: 10.0,
            lon: 105.0,
            location_approximate: false,
            procedure_code: "1".into(),
            agency_id: 1,
            service: "both".into(),
            return_method: "home".into(),
            status: status.into(),
            version: 0,
            pickup_from: Some(vn("2026-11-26 08:00")),
            pickup_to: Some(vn("2026-11-26 11:00")),
            postal_fee_vnd: 0,
            agency_fee_vnd: 0,
            total_vnd: 0,
            note: None,
            agency_dossier_code: None,
            appointment_date: None,
            outcome: None,
            created_by: 1,
            created_at: vn("2026-11-25 09:00"),
            updated_at: vn("2026-11-25 09:00"),
        }
    }

    fn event(kind: &str, at: NaiveDateTime) -> Event {
        Event {
            id: 1,
            dossier_id: 1,
            task_id: None,
            kind: kind.into(),
            status_after: String::new(),
            actor_user_id: None,
            actor_role: "courier".into(),
            at,
            recorded_at: at,
            lat: None,
            lon: None,
            note: None,
            data: "{}".into(),
        }
    }

    #[test]
    fn deadlines_count_working_hours_and_days() {
        let holidays = [NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()];
        let cal = WorkCalendar::new(holidays);
        // Picked up Friday 15:00: 2 h on Friday, Monday is a holiday, 6 h on Tuesday.
        let picked = [event("picked_up", vn("2026-11-27 15:00"))];
        let d = deadlines(&dossier("picked_up"), &picked, &cal, vn("2026-11-27 16:00"));
        assert_eq!(d["handover_by"], "2026-12-01T15:30:00+07:00");
        assert_eq!(d["late"], json!([]));
        let d = deadlines(&dossier("picked_up"), &picked, &cal, vn("2026-12-01 16:00"));
        assert_eq!(d["late"], json!(["handover"]));
        // Result ready Friday: home by the close of the next working day.
        let ready = [event("result_ready", vn("2026-11-27 10:00"))];
        let d = deadlines(
            &dossier("result_ready"),
            &ready,
            &cal,
            vn("2026-11-27 11:00"),
        );
        assert_eq!(d["return_by"], "2026-12-01T17:00:00+07:00");
        // The pickup window's end is the pickup promise.
        let d = deadlines(&dossier("scheduled"), &[], &cal, vn("2026-11-26 12:00"));
        assert_eq!(d["pickup_by"], "2026-11-26T11:00:00+07:00");
        assert_eq!(d["late"], json!(["pickup"]));
    }

    #[test]
    fn names_are_masked_to_initials() {
        assert_eq!(mask_name("Trần Thị Bình"), "T*** T** B***");
        assert_eq!(mask_name("Nguyễn Văn An"), "N***** V** A**");
        assert!(!mask_name("Lê Minh").contains("Minh"));
    }
}
