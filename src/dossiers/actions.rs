//! Everything that moves a dossier after intake: staff cancel and reschedule,
//! dispatch assignment, courier task events, clerk decisions. Each runs inside the
//! caller's transaction; a refusal leaves nothing written.
//!
//! Each starts by locking its dossier (then its tasks, then a courier: the order of
//! [`crate::db::lock`]), so on PostgreSQL a second writer waits for the first and then
//! decides from what the first one committed.

use super::intake::{new_return_leg, new_send_leg};
use super::record::{ctx_of, record, Actor};
use crate::auth::{AuthUser, Role};
use crate::db::models::{agencies, couriers, dossiers, post_offices, tasks};
use crate::db::{now_utc, DbConnection};
use crate::domain::deadlines::WorkCalendar;
use crate::domain::dossier::{
    apply_task, apply_task_action, AttemptLimits, DossierEvent, DossierStatus, FailReason, Outcome,
    TaskAction, TaskEventType, TaskKind, TaskStatus,
};
use crate::domain::time_window::TimeWindow;
use crate::domain::zones::ZoneIndex;
use crate::error::{ApiError, ErrorCode};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{json, Value};

/// The dossier with this tracking code, or 404 (unlocked: for reads).
pub fn load(conn: &mut DbConnection, code: &str) -> Result<dossiers::Dossier, ApiError> {
    dossiers::find_by_code(conn, code)?.ok_or_else(|| ApiError::not_found("hồ sơ"))
}

/// The dossier with this tracking code, locked for this transaction, or 404.
pub fn lock(conn: &mut DbConnection, code: &str) -> Result<dossiers::Dossier, ApiError> {
    crate::db::lock::dossier_by_code(conn, code)?.ok_or_else(|| ApiError::not_found("hồ sơ"))
}

/// The dossier with `id` as this transaction sees it now, locked, or 404.
pub fn reload(conn: &mut DbConnection, id: i64) -> Result<dossiers::Dossier, ApiError> {
    crate::db::lock::dossier(conn, id)?.ok_or_else(|| ApiError::not_found("hồ sơ"))
}

/// A task and its dossier, both locked (dossier first), or 404.
pub fn lock_task(
    conn: &mut DbConnection,
    task_id: i64,
) -> Result<(tasks::Task, dossiers::Dossier), ApiError> {
    crate::db::lock::task_with_dossier(conn, task_id)?
        .ok_or_else(|| ApiError::not_found("nhiệm vụ"))
}

fn illegal(detail: String) -> ApiError {
    ApiError::new(ErrorCode::IllegalTransition, detail)
}

fn parse_kind(t: &tasks::Task) -> Result<(TaskKind, TaskStatus), ApiError> {
    Ok((
        TaskKind::parse(&t.kind).map_err(ApiError::internal)?,
        TaskStatus::parse(&t.status).map_err(ApiError::internal)?,
    ))
}

/// Whether a task still has work to do (not done, not cancelled).
pub fn is_open(t: &tasks::Task) -> bool {
    matches!(
        t.status.as_str(),
        "unassigned" | "assigned" | "in_progress" | "failed"
    )
}

/// Cancels every open task of a dossier (after a cancel, or when a phase ends).
fn cancel_open_tasks(
    conn: &mut DbConnection,
    dossier_id: i64,
    kinds: &[TaskKind],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    for t in tasks::of_dossier(conn, dossier_id)? {
        let (kind, _) = parse_kind(&t)?;
        if is_open(&t) && kinds.contains(&kind) {
            tasks::update_state(
                conn,
                t.id,
                TaskStatus::Cancelled.as_str(),
                t.courier_id,
                t.attempts,
                now,
            )?;
        }
    }
    Ok(())
}

const ALL_KINDS: [TaskKind; 4] = [
    TaskKind::Pickup,
    TaskKind::Dropoff,
    TaskKind::Collect,
    TaskKind::Deliver,
];

/// Operator or dispatcher calls the dossier off (only before pickup).
pub fn cancel(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    reason: &str,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    let mut actor = Actor::staff(auth);
    actor.note = Some(reason.to_owned());
    record(
        conn,
        &d,
        limits,
        &DossierEvent::Cancelled {
            reason: reason.to_owned(),
        },
        None,
        &actor,
        None,
    )?;
    cancel_open_tasks(conn, d.id, &ALL_KINDS, actor.at)?;
    Ok(d.id)
}

/// A new pickup window for the open pickup.
pub fn reschedule(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    window: TimeWindow,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    let actor = Actor::staff(auth);
    record(
        conn,
        &d,
        limits,
        &DossierEvent::Rescheduled { window },
        None,
        &actor,
        None,
    )?;
    let (from, to) = (window.from().naive_utc(), window.to().naive_utc());
    dossiers::set_pickup_window(conn, d.id, from, to)?;
    for t in tasks::of_dossier(conn, d.id)? {
        if t.kind == "pickup" && is_open(&t) {
            tasks::set_window(conn, t.id, Some(from), Some(to))?;
        }
    }
    Ok(d.id)
}

/// The task done together with `kind` by the same courier.
fn partner(kind: TaskKind) -> TaskKind {
    match kind {
        TaskKind::Pickup => TaskKind::Dropoff,
        TaskKind::Dropoff => TaskKind::Pickup,
        TaskKind::Collect => TaskKind::Deliver,
        TaskKind::Deliver => TaskKind::Collect,
    }
}

/// Why `courier` may not take `task`, if they may not: inactive, another province,
/// not their zone, a day off, or already carrying their capacity.
/// The courier who holds the dossier's papers for `task`: a drop-off's after the
/// pickup, a delivery's after the collection. Those stops cannot change hands.
fn holder_of(
    conn: &mut DbConnection,
    d: &dossiers::Dossier,
    task: &tasks::Task,
) -> Result<Option<i64>, ApiError> {
    let (before, holding) = match task.kind.as_str() {
        "dropoff" => ("pickup", ["picked_up", "in_transit"].as_slice()),
        "deliver" => ("collect", ["out_for_delivery"].as_slice()),
        _ => return Ok(None),
    };
    if !holding.contains(&d.status.as_str()) {
        return Ok(None);
    }
    Ok(tasks::of_dossier(conn, d.id)?
        .into_iter()
        .rev()
        .find(|t| t.kind == before && t.status == "done")
        .and_then(|t| t.courier_id))
}

fn ineligibility(
    conn: &mut DbConnection,
    courier: &couriers::Courier,
    office: &crate::db::models::post_offices::PostOffice,
    d: &dossiers::Dossier,
    task: &tasks::Task,
) -> Result<Option<&'static str>, ApiError> {
    if !courier.active {
        return Ok(Some("bưu tá đang không hoạt động"));
    }
    if let Some(holder) = holder_of(conn, d, task)? {
        if holder != courier.id {
            return Ok(Some(
                "hồ sơ đang do bưu tá khác giữ: chỉ người đang giữ hồ sơ mới nộp hoặc giao được",
            ));
        }
    }
    if office.province_code != d.province_code {
        return Ok(Some("bưu tá thuộc tỉnh khác"));
    }
    let zones: Vec<i64> = crate::db::models::zones::courier_zone_pairs(conn, &[courier.id])?
        .into_iter()
        .map(|(_, z)| z)
        .collect();
    if let Some(zone) = task.zone_id {
        if !zones.is_empty() && !zones.contains(&zone) {
            return Ok(Some("nhiệm vụ ngoài khu vực phụ trách"));
        }
    }
    let days_off: Vec<String> = serde_json::from_str(&courier.days_off).unwrap_or_default();
    if let (Some(shift), Some(from)) = (
        crate::domain::shift::Shift::parse(&courier.shift_start, &courier.shift_end, &days_off),
        task.window_from,
    ) {
        if !shift.works_on(crate::timefmt::to_vn(from).date_naive()) {
            return Ok(Some("bưu tá nghỉ vào ngày này"));
        }
    }
    // What the courier carries is counted under the courier's lock, so two
    // assignments to one courier cannot both take the last place.
    crate::db::lock::courier(conn, courier.id)?;
    let open_pairs = tasks::open_of_courier(conn, courier.id)?
        .iter()
        .filter(|t| {
            t.dossier_id != task.dossier_id && matches!(t.kind.as_str(), "pickup" | "collect")
        })
        .count();
    if open_pairs >= courier.capacity as usize {
        return Ok(Some("bưu tá đã đủ số hồ sơ có thể nhận"));
    }
    Ok(None)
}

/// Puts a courier on a task and on its partner (pickup with drop-off, collection
/// with delivery). 409 when the task is closed or the courier is not eligible.
pub fn assign(
    conn: &mut DbConnection,
    auth: &AuthUser,
    task_id: i64,
    courier_id: i64,
    only_if_unassigned: bool,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let (task, d) = lock_task(conn, task_id)?;
    let courier = couriers::find(conn, courier_id)?.ok_or_else(|| {
        ApiError::validation(vec![crate::error::FieldError::new(
            "courier_id",
            ErrorCode::ValidationFailed,
            "Bưu tá không tồn tại",
        )])
    })?;
    let office = post_offices::find(conn, courier.post_office_id)?
        .ok_or_else(|| ApiError::not_found("bưu cục"))?;
    if let Some(reason) = ineligibility(conn, &courier, &office, &d, &task)? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("Bưu tá không đủ điều kiện nhận nhiệm vụ này: {reason}"),
        ));
    }
    if only_if_unassigned && task.status != TaskStatus::Unassigned.as_str() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Nhiệm vụ vừa được phân công",
        ));
    }
    if auth.role == Role::Dispatcher
        && auth.post_office_id.is_some()
        && auth.post_office_id != Some(courier.post_office_id)
    {
        return Err(ApiError::forbidden());
    }
    let (kind, status) = parse_kind(&task)?;
    let next = apply_task_action(status, TaskAction::Assign)
        .map_err(|e| illegal(format!("Không thể phân công: {}", e.reason.vi())))?;
    let actor = Actor::staff(auth);
    record(
        conn,
        &d,
        limits,
        &DossierEvent::Assigned { task: kind },
        Some(task.id),
        &actor,
        Some(json!({"courier_id": courier.id})),
    )?;
    tasks::update_state(
        conn,
        task.id,
        next.as_str(),
        Some(courier.id),
        task.attempts,
        actor.at,
    )?;
    // A stop that changes hands leaves its old route: its number and ETA were that
    // route's (the new route's follow, see `plan::refresh_routes`).
    if task.courier_id != Some(courier.id) {
        tasks::clear_plan(conn, task.id)?;
    }
    for t in tasks::of_dossier(conn, d.id)? {
        if t.kind == partner(kind).as_str()
            && matches!(t.status.as_str(), "unassigned" | "assigned")
        {
            if t.courier_id != Some(courier.id) {
                tasks::clear_plan(conn, t.id)?;
            }
            tasks::update_state(
                conn,
                t.id,
                TaskStatus::Assigned.as_str(),
                Some(courier.id),
                t.attempts,
                actor.at,
            )?;
        }
    }
    Ok(d.id)
}

/// A courier's event on one of their tasks, already checked for shape.
#[derive(Debug, Clone)]
pub struct TaskEventInput {
    pub event: TaskEventType,
    pub at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub note: Option<String>,
    pub fail_reason: Option<FailReason>,
    pub proof: Option<Value>,
}

/// Records a courier event: only the assigned courier, only in order; a pickup or
/// delivery only with the proof `presence` requires (see [`super::presence`]).
pub fn task_event(
    conn: &mut DbConnection,
    auth: &AuthUser,
    task_id: i64,
    input: &TaskEventInput,
    limits: AttemptLimits,
    presence: &super::presence::Presence,
) -> Result<i64, ApiError> {
    let (task, d) = lock_task(conn, task_id)?;
    let courier = couriers::find_by_user(conn, auth.id)?;
    if auth.role != Role::Courier
        || courier.as_ref().map(|c| c.id) != task.courier_id
        || task.courier_id.is_none()
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Nhiệm vụ này không được giao cho bạn",
        ));
    }
    let (kind, status) = parse_kind(&task)?;
    let next_task = apply_task(status, kind, input.event)
        .map_err(|e| illegal(format!("Không thể ghi nhận: {}", e.reason.vi())))?;
    let attempts = if input.event == TaskEventType::Failed {
        task.attempts + 1
    } else {
        task.attempts
    };
    let event = match input.event {
        TaskEventType::Arrived => DossierEvent::Arrived { task: kind },
        TaskEventType::PickedUp => DossierEvent::PickedUp,
        TaskEventType::Failed => DossierEvent::Failed {
            task: kind,
            reason: input.fail_reason.unwrap_or(FailReason::Other),
            attempt: attempts as u32,
        },
        TaskEventType::HandedOver => DossierEvent::HandedOver,
        TaskEventType::Collected => DossierEvent::Collected,
        TaskEventType::Delivered => DossierEvent::Delivered,
    };
    let actor = Actor {
        user_id: Some(auth.id),
        role: auth.role.as_str().to_owned(),
        at: input.at,
        lat: input.lat,
        lon: input.lon,
        note: input.note.clone(),
    };
    let now = now_utc();
    let proof = super::presence::accept_proof(
        conn,
        presence,
        input.event,
        &task,
        &d,
        input.proof.clone(),
        now,
    )?;
    let after = record(conn, &d, limits, &event, Some(task.id), &actor, proof)?;
    let mut task_status = next_task;
    if input.event == TaskEventType::Failed {
        if after == DossierStatus::Cancelled {
            task_status = TaskStatus::Cancelled;
            cancel_open_tasks(conn, d.id, &ALL_KINDS, now)?;
        } else {
            if kind == TaskKind::Deliver && !limits.allows_retry(kind, attempts as u32) {
                let d2 = reload(conn, d.id)?;
                record(
                    conn,
                    &d2,
                    limits,
                    &DossierEvent::HeldAtPostOffice,
                    Some(task.id),
                    &actor,
                    None,
                )?;
            }
            // The same courier tries again (a new window comes from a reschedule).
            task_status = apply_task_action(next_task, TaskAction::Assign).unwrap_or(next_task);
        }
    }
    if input.event == TaskEventType::PickedUp && d.location_approximate {
        if let (Some(lat), Some(lon)) = (input.lat, input.lon) {
            dossiers::set_location(conn, d.id, lat, lon)?;
            tasks::set_point(conn, task.id, lat, lon)?;
            crate::db::models::citizens::remember_place(
                conn,
                d.citizen_id,
                &d.ward_code,
                &d.street,
                &crate::domain::text::fold(&d.street),
                Some((lat, lon)),
                true,
                now,
            )?;
        }
    }
    tasks::update_state(
        conn,
        task.id,
        task_status.as_str(),
        task.courier_id,
        attempts,
        now,
    )?;
    Ok(d.id)
}

/// 403 unless the caller is a clerk of the dossier's agency.
fn require_clerk_of(auth: &AuthUser, d: &dossiers::Dossier) -> Result<(), ApiError> {
    auth.require(&[Role::Clerk])?;
    if auth.agency_id != Some(d.agency_id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Hồ sơ này thuộc cơ quan khác",
        ));
    }
    Ok(())
}

/// What the courier counted at the door: the checklist of the latest pickup.
fn courier_checklist(conn: &mut DbConnection, dossier_id: i64) -> Result<Vec<String>, ApiError> {
    let events = crate::db::models::events::of_dossier(conn, dossier_id)?;
    let Some(picked) = events.iter().rev().find(|e| e.kind == "picked_up") else {
        return Ok(Vec::new());
    };
    let data: Value = serde_json::from_str(&picked.data).unwrap_or(Value::Null);
    Ok(data["proof"]["checked_documents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

/// The clerk registers the dossier at the agency (hand-over record). The clerk's count
/// is held against the courier's: fewer documents than the courier took is refused
/// with 409 `document_shortfall` naming them, unless the clerk accepts the shortfall.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    agency_dossier_code: &str,
    appointment_date: NaiveDate,
    checked_documents: &[String],
    accept_shortfall: bool,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    require_clerk_of(auth, &d)?;
    receive_as(
        conn,
        &d,
        &Actor::staff(auth),
        agency_dossier_code,
        appointment_date,
        checked_documents,
        accept_shortfall,
        limits,
    )
}

/// Registers the dossier (locked by the caller) at the agency on behalf of `actor` (a
/// clerk, or the one-stop system): the hand-over record, the drop-off done, a pending
/// pickup cancelled. A count short of the courier's is refused unless accepted.
#[allow(clippy::too_many_arguments)]
pub fn receive_as(
    conn: &mut DbConnection,
    d: &dossiers::Dossier,
    actor: &Actor,
    agency_dossier_code: &str,
    appointment_date: NaiveDate,
    checked_documents: &[String],
    accept_shortfall: bool,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let courier = courier_checklist(conn, d.id)?;
    // The one-stop system reports no count: nothing to compare then.
    let short = if checked_documents.is_empty() {
        Vec::new()
    } else {
        crate::domain::presence::shortfall(&courier, checked_documents)
    };
    if !short.is_empty() && !accept_shortfall {
        return Err(ApiError::new(
            ErrorCode::DocumentShortfall,
            format!(
                "Bưu tá đã nhận {} giấy tờ, bàn giao kiểm đếm được {}; thiếu: {}. Kiểm tra lại với bưu tá, hoặc xác nhận nhận hồ sơ thiếu (accept_shortfall)",
                courier.len(),
                checked_documents.len(),
                short.join("; ")
            ),
        ));
    }
    let proof = json!({"agency_dossier_code": agency_dossier_code, "appointment_date": appointment_date,
                       "checked_documents": checked_documents, "courier_documents": courier.len(),
                       "shortfall": short});
    record(
        conn,
        d,
        limits,
        &DossierEvent::Received,
        None,
        actor,
        Some(proof),
    )?;
    dossiers::set_agency_receipt(conn, d.id, agency_dossier_code, appointment_date)?;
    for t in tasks::of_dossier(conn, d.id)? {
        if t.kind == "dropoff" && is_open(&t) {
            tasks::update_state(
                conn,
                t.id,
                TaskStatus::Done.as_str(),
                t.courier_id,
                t.attempts,
                actor.at,
            )?;
        }
        if t.kind == "pickup" && is_open(&t) {
            tasks::update_state(
                conn,
                t.id,
                TaskStatus::Cancelled.as_str(),
                t.courier_id,
                t.attempts,
                actor.at,
            )?;
        }
    }
    Ok(d.id)
}

/// The next working day's morning, for a pickup nobody has scheduled yet.
fn next_morning(calendar: &WorkCalendar, now: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let local = crate::timefmt::to_vn(now).date_naive();
    let day = calendar.next_working_day(local);
    let at = |h, m| {
        day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
            .and_local_timezone(crate::timefmt::vn())
            .single()
            .map(|t| t.naive_utc())
            .unwrap_or(now)
    };
    (at(8, 0), at(11, 0))
}

/// The agency needs more documents: they go back to the citizen and a new pickup
/// (with its drop-off) is created for the next working morning.
#[allow(clippy::too_many_arguments)]
pub fn supplement_required(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    reason: &str,
    missing_documents: &[String],
    calendar: &WorkCalendar,
    zones: &ZoneIndex,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    require_clerk_of(auth, &d)?;
    let mut actor = Actor::staff(auth);
    actor.note = Some(reason.to_owned());
    record(
        conn,
        &d,
        limits,
        &DossierEvent::SupplementRequired,
        None,
        &actor,
        Some(json!({"reason": reason, "missing_documents": missing_documents})),
    )?;
    if !ctx_of(&d, limits)?.has_send_leg() {
        // Result-only dossier: the citizen brings the documents to the desk.
        return Ok(d.id);
    }
    let agency =
        agencies::find(conn, d.agency_id)?.ok_or_else(|| ApiError::not_found("cơ quan"))?;
    let window = next_morning(calendar, actor.at);
    dossiers::set_pickup_window(conn, d.id, window.0, window.1)?;
    let fresh = reload(conn, d.id)?;
    new_send_leg(conn, &fresh, Some(window), &agency, zones, actor.at)?;
    Ok(d.id)
}

/// The agency decided; a result going home gets its collection and delivery tasks.
pub fn result_ready(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    outcome: Outcome,
    note: Option<String>,
    zones: &ZoneIndex,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    require_clerk_of(auth, &d)?;
    let mut actor = Actor::staff(auth);
    actor.note = note;
    result_ready_as(conn, &d, &actor, outcome, zones, limits)
}

/// Records the agency's decision on the dossier (locked by the caller) on behalf of
/// `actor` (a clerk, or the one-stop system); a result going home gets its collection and delivery tasks.
pub fn result_ready_as(
    conn: &mut DbConnection,
    d: &dossiers::Dossier,
    actor: &Actor,
    outcome: Outcome,
    zones: &ZoneIndex,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    record(
        conn,
        d,
        limits,
        &DossierEvent::ResultReady { outcome },
        None,
        actor,
        None,
    )?;
    dossiers::set_outcome(conn, d.id, outcome.as_str())?;
    cancel_open_tasks(conn, d.id, &[TaskKind::Pickup, TaskKind::Dropoff], actor.at)?;
    if ctx_of(d, limits)?.result_goes_home() {
        let agency =
            agencies::find(conn, d.agency_id)?.ok_or_else(|| ApiError::not_found("cơ quan"))?;
        new_return_leg(conn, d, &agency, zones, actor.at)?;
    }
    Ok(d.id)
}

/// The citizen took the result at the agency's counter.
pub fn handed_over_at_counter(
    conn: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    limits: AttemptLimits,
) -> Result<i64, ApiError> {
    let d = lock(conn, code)?;
    require_clerk_of(auth, &d)?;
    record(
        conn,
        &d,
        limits,
        &DossierEvent::HandedOverAtCounter,
        None,
        &Actor::staff(auth),
        None,
    )?;
    Ok(d.id)
}
