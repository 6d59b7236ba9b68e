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

/// Public labels of the timeline, by event type and, for assignments, by the task
/// (people read these). `None`: not shown to citizens (couriers' own planning).
fn public_label(kind: &str, task: Option<&str>, status_after: &str) -> Option<String> {
    Some(match (kind, task) {
        ("unassigned", _) => return None,
        ("assigned", Some("pickup")) => "Đã phân công bưu tá lấy hồ sơ".into(),
        ("assigned", Some("deliver")) => "Đã phân công bưu tá giao kết quả".into(),
        ("assigned", _) => return None,
        ("arrived", _) => "Bưu tá đã đến".into(),
        ("failed", Some("deliver")) => "Chưa giao được kết quả".into(),
        ("failed", _) => "Chưa lấy được hồ sơ".into(),
        ("rescheduled", _) => "Đã hẹn lại thời gian lấy hồ sơ".into(),
        ("held_at_post_office", _) => "Kết quả được giữ tại bưu cục".into(),
        ("handed_over", _) => "Bưu tá đã nộp hồ sơ tại cơ quan".into(),
        _ => label(status_after).into(),
    })
}

/// The task an event names in its data (`{"task": "pickup", …}`), if any.
fn event_task(e: &Event) -> Option<String> {
    serde_json::from_str::<Value>(&e.data)
        .ok()?
        .get("task")?
        .as_str()
        .map(str::to_owned)
}

/// What the public view says beside the dossier and its events.
#[derive(Debug, Clone, Default)]
pub struct PublicFacts {
    /// Agency handling the dossier, its address and opening hours (counter returns).
    pub agency_name: String,
    pub agency_address: String,
    pub agency_hours: Option<String>,
    /// Name of the procedure.
    pub procedure_name: String,
    /// Where a result held after failed deliveries waits: post office name, address.
    pub post_office: Option<(String, String)>,
    /// The ETA of the open task, and the window of the open delivery.
    pub eta: Option<NaiveDateTime>,
    pub delivery_window: Option<(NaiveDateTime, NaiveDateTime)>,
    /// The return promise (see [`deadlines`]), for results going home.
    pub return_by: Option<String>,
    /// Support hotline.
    pub hotline: String,
}

/// The last failed attempt, unless something happened since (a success, a new
/// appointment): its task, reason and what the citizen can do.
fn open_failure(events: &[Event], facts: &PublicFacts) -> Value {
    let Some(i) = events.iter().rposition(|e| e.kind == "failed") else {
        return Value::Null;
    };
    let moved_on = events[i + 1..]
        .iter()
        .any(|e| !matches!(e.kind.as_str(), "assigned" | "unassigned"));
    if moved_on {
        return Value::Null;
    }
    let e = &events[i];
    let data = serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null);
    let task = data["task"].as_str().unwrap_or("pickup");
    let reason = data["reason"].as_str().unwrap_or("other");
    let reason_label = crate::domain::dossier::FailReason::parse(reason)
        .map(|r| r.label_vi())
        .unwrap_or("Lý do khác");
    let what = if task == "deliver" {
        "giao kết quả"
    } else {
        "lấy hồ sơ"
    };
    let next_step = match reason {
        "wrong_address" => format!(
            "Gọi tổng đài {} để báo lại địa chỉ và hẹn lại giờ {what}.",
            facts.hotline
        ),
        "incomplete_documents" => format!(
            "Chuẩn bị đủ giấy tờ rồi gọi tổng đài {} để hẹn lại giờ {what}.",
            facts.hotline
        ),
        _ => format!(
            "Bưu điện sẽ hẹn lại; muốn chọn giờ khác, gọi tổng đài {} để hẹn lại giờ {what}.",
            facts.hotline
        ),
    };
    json!({
        "task": task, "reason": reason, "reason_label": reason_label,
        "attempt": data["attempt"].as_u64(), "at": time(Some(e.at)),
        "note": e.note, "next_step": next_step,
    })
}

/// How the result comes back once it is ready: home (when, from the delivery's
/// window or the return promise), the agency's counter, or the post office holding it.
fn result_return(d: &Dossier, events: &[Event], facts: &PublicFacts) -> Value {
    if !matches!(d.status.as_str(), "result_ready" | "out_for_delivery") {
        return Value::Null;
    }
    let held = events.iter().any(|e| e.kind == "held_at_post_office");
    match (&facts.post_office, held) {
        (Some((name, address)), true) => {
            return json!({"method": "post_office", "place": name, "address": address,
                          "opening_hours": Value::Null, "window": Value::Null, "expected_by": Value::Null});
        }
        (None, true) => {
            return json!({"method": "post_office", "place": Value::Null, "address": Value::Null,
                          "opening_hours": Value::Null, "window": Value::Null, "expected_by": Value::Null});
        }
        _ => {}
    }
    if d.service == "send" || d.return_method != "home" {
        return json!({"method": "counter", "place": facts.agency_name, "address": facts.agency_address,
                      "opening_hours": facts.agency_hours, "window": Value::Null, "expected_by": Value::Null});
    }
    let window = facts
        .delivery_window
        .map(|(f, t)| window(Some(f), Some(t)))
        .unwrap_or(Value::Null);
    json!({"method": "home", "place": Value::Null, "address": Value::Null, "opening_hours": Value::Null,
           "window": window, "expected_by": facts.return_by})
}

/// The public tracking view; `reveal` adds masked name and ward name.
pub fn public(d: &Dossier, facts: &PublicFacts, events: &[Event], reveal: Option<&str>) -> Value {
    let mut timeline = vec![
        json!({"at": time(Some(d.created_at)), "status": "requested",
                                   "label": label("requested")}),
    ];
    for e in events {
        let Some(text) = public_label(&e.kind, event_task(e).as_deref(), &e.status_after) else {
            continue;
        };
        // A reassignment says nothing new to the citizen.
        if timeline.last().is_some_and(|l| l["label"] == text.as_str()) && e.kind == "assigned" {
            continue;
        }
        let at_agency = matches!(
            e.kind.as_str(),
            "handed_over"
                | "received"
                | "supplement_required"
                | "result_ready"
                | "collected"
                | "handed_over_at_counter"
        );
        timeline.push(json!({"at": time(Some(e.at)), "status": e.status_after,
               "label": text,
               "place": if at_agency { Some(facts.agency_name.as_str()) } else { None }}));
    }
    let mut v = json!({
        "tracking_code": d.tracking_code, "status": d.status, "status_label": label(&d.status),
        "agency_name": facts.agency_name, "procedure_name": facts.procedure_name,
        "pickup_window": window(d.pickup_from, d.pickup_to),
        "eta": time(facts.eta), "timeline": timeline,
        "result_return": result_return(d, events, facts),
        "last_failure": open_failure(events, facts),
        "outcome": if matches!(d.status.as_str(), "result_ready" | "out_for_delivery" | "completed") { json!(d.outcome) } else { Value::Null },
        "hotline": facts.hotline,
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

    fn with_data(mut e: Event, data: Value) -> Event {
        e.data = data.to_string();
        e
    }

    fn facts() -> PublicFacts {
        PublicFacts {
            agency_name: "UBND phường Cao Lãnh".into(),
            agency_address: "1 Lý Thường Kiệt".into(),
            procedure_name: "Cấp đổi giấy phép lái xe".into(),
            hotline: "1900 54 54 81".into(),
            ..PublicFacts::default()
        }
    }

    #[test]
    fn public_timeline_names_each_assignment_once() {
        let at = vn("2026-11-25 10:00");
        let events = [
            with_data(event("assigned", at), json!({"task": "pickup"})),
            with_data(event("unassigned", at), json!({"task": "pickup"})),
            with_data(event("assigned", at), json!({"task": "pickup"})),
            with_data(event("assigned", at), json!({"task": "dropoff"})),
            with_data(event("assigned", at), json!({"task": "deliver"})),
        ];
        let v = public(&dossier("scheduled"), &facts(), &events, None);
        let labels: Vec<&str> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["label"].as_str().unwrap())
            .collect();
        assert_eq!(
            labels,
            [
                "Đã tiếp nhận yêu cầu",
                "Đã phân công bưu tá lấy hồ sơ",
                "Đã phân công bưu tá giao kết quả"
            ]
        );
        assert_eq!(v["procedure_name"], "Cấp đổi giấy phép lái xe");
    }

    #[test]
    fn an_open_failure_gives_its_reason_and_the_way_to_rebook() {
        let at = vn("2026-11-26 09:00");
        let failed = with_data(
            event("failed", at),
            json!({"task": "pickup", "reason": "not_home", "attempt": 1}),
        );
        let v = public(
            &dossier("scheduled"),
            &facts(),
            std::slice::from_ref(&failed),
            None,
        );
        assert_eq!(v["last_failure"]["reason_label"], "Không có người ở nhà");
        assert!(v["last_failure"]["next_step"]
            .as_str()
            .unwrap()
            .contains("1900 54 54 81"));
        // Picked up since: the failure is history, not news.
        let v = public(
            &dossier("picked_up"),
            &facts(),
            &[failed, event("picked_up", at)],
            None,
        );
        assert_eq!(v["last_failure"], Value::Null);
    }

    #[test]
    fn a_ready_result_says_how_it_comes_back() {
        let mut f = facts();
        f.return_by = Some("2026-12-01T17:00:00+07:00".into());
        let v = public(&dossier("result_ready"), &f, &[], None);
        assert_eq!(v["result_return"]["method"], "home");
        assert_eq!(
            v["result_return"]["expected_by"],
            "2026-12-01T17:00:00+07:00"
        );
        let mut counter = dossier("result_ready");
        counter.return_method = "counter".into();
        let v = public(&counter, &f, &[], None);
        assert_eq!(v["result_return"]["method"], "counter");
        assert_eq!(v["result_return"]["address"], "1 Lý Thường Kiệt");
        f.post_office = Some(("Bưu cục Cao Lãnh".into(), "2 Đường 30/4".into()));
        let held = [event("held_at_post_office", vn("2026-12-01 10:00"))];
        let v = public(&dossier("out_for_delivery"), &f, &held, None);
        assert_eq!(v["result_return"]["place"], "Bưu cục Cao Lãnh");
        let v = public(&dossier("scheduled"), &f, &[], None);
        assert_eq!(v["result_return"], Value::Null);
    }
}
