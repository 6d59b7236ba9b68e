//! Tasks: manual assignment by dispatchers, courier events, the courier's route.

use crate::auth::{AuthUser, Role};
use crate::db::models::{couriers, dossiers, procedures, tasks};
use crate::domain::dossier::{FailReason, TaskEventType};
use crate::domain::presence::Evidence;
use crate::dossiers::{actions, presence, view};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/tasks", list)
        .get("/api/v1/couriers/{id}/route", courier_route)
        .post("/api/v1/tasks/{id}/assign", assign)
        .post("/api/v1/tasks/{id}/events", event)
        .post("/api/v1/tasks/{id}/otp", send_otp)
        .get("/api/v1/me/route", my_route);
}

#[derive(Debug, Deserialize)]
struct AssignBody {
    courier_id: i64,
}

async fn assign(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    let (task_id, courier_id) = (id.into_inner(), body.0.courier_id);
    let limits = state.settings.attempt_limits();
    let who = auth.clone();
    let expect = super::if_match(&req)?;
    // Whose route the task leaves, and its day, to re-time both routes after.
    let before = route_of_task(&state, task_id).await?;
    let res = idempotency::write(
        &state,
        &auth,
        &req,
        body.digest(),
        StatusCode::OK,
        move |c| {
            if !expect.is_any() {
                expect.check(&actions::lock_task(c, task_id)?.1)?;
            }
            let dossier_id = actions::assign(c, &who, task_id, courier_id, false, limits)?;
            task_and_dossier(c, task_id, dossier_id, who.role)
        },
    )
    .await?;
    if let Some((old, day)) = before {
        let couriers = old.into_iter().chain([courier_id]).collect();
        if let Err(e) = crate::plan::refresh_routes(&state, couriers, day).await {
            tracing::warn!(error = %e.detail, "routes not re-timed after a reassignment");
        }
    }
    Ok(res)
}

/// The courier whose route holds task `task_id`, and the route's day.
async fn route_of_task(
    state: &AppState,
    task_id: i64,
) -> Result<Option<(Option<i64>, chrono::NaiveDate)>, ApiError> {
    state
        .db
        .read(
            move |c| -> Result<Option<(Option<i64>, chrono::NaiveDate)>, ApiError> {
                let Some(t) = tasks::find(c, task_id)? else {
                    return Ok(None);
                };
                let siblings = tasks::of_dossier(c, t.dossier_id)?;
                Ok(Some((t.courier_id, crate::plan::day_of(&t, &siblings))))
            },
        )
        .await
}

fn task_and_dossier(
    c: &mut crate::db::DbConnection,
    task_id: i64,
    dossier_id: i64,
    viewer: Role,
) -> Result<Value, ApiError> {
    let d = super::dossiers::staff_view(c, dossier_id, viewer)?;
    let t = tasks::find(c, task_id)?.ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
    let code = d["tracking_code"].as_str().unwrap_or_default().to_owned();
    Ok(json!({"task": view::task(&t, &code), "dossier": d}))
}

#[derive(Debug, Deserialize)]
struct EventBody {
    #[serde(rename = "type")]
    kind: String,
    at: String,
    lat: Option<f64>,
    lon: Option<f64>,
    note: Option<String>,
    reason: Option<String>,
    proof: Option<Value>,
}

/// A signature or photo: a base64 string of bounded size.
const MAX_IMAGE_CHARS: usize = 700_000;

fn has_evidence(check: &mut Check, proof: &Value) {
    let image = |k: &str| {
        proof
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty() && s.len() <= MAX_IMAGE_CHARS)
    };
    let otp_ok = proof
        .get("otp")
        .and_then(Value::as_str)
        .is_some_and(|o| (4..=8).contains(&o.len()) && o.bytes().all(|b| b.is_ascii_digit()));
    if proof.get("otp").is_some() && !otp_ok {
        check.push(
            "proof.otp",
            ErrorCode::ValidationFailed,
            "OTP gồm 4–8 chữ số",
        );
    }
    for k in ["signature_png", "photo"] {
        if proof.get(k).is_some() && !image(k) {
            check.push(
                &format!("proof.{k}"),
                ErrorCode::ValidationFailed,
                "Ảnh không hợp lệ hoặc quá lớn",
            );
        }
    }
    if !(otp_ok || image("signature_png") || image("photo")) {
        check.push(
            "proof",
            ErrorCode::ValidationFailed,
            "Cần chữ ký, ảnh chụp hoặc mã OTP",
        );
    }
}

fn check_event(b: EventBody) -> Result<actions::TaskEventInput, ApiError> {
    let mut check = Check::new();
    let event = TaskEventType::parse(b.kind.trim())
        .map_err(|_| {
            check.push(
                "type",
                ErrorCode::ValidationFailed,
                "Loại sự kiện không hợp lệ",
            )
        })
        .ok();
    let now = chrono::Utc::now();
    let at = match DateTime::parse_from_rfc3339(b.at.trim()) {
        Ok(t) if t > now + chrono::Duration::minutes(5) => {
            check.push(
                "at",
                ErrorCode::ValidationFailed,
                "Thời điểm không được ở tương lai",
            );
            None
        }
        Ok(t) if t < now - chrono::Duration::days(7) => {
            check.push(
                "at",
                ErrorCode::ValidationFailed,
                "Thời điểm quá cũ (hơn 7 ngày)",
            );
            None
        }
        Ok(t) => Some(t.naive_utc().trunc_subsecs(6)),
        Err(_) => {
            check.push(
                "at",
                ErrorCode::ValidationFailed,
                "Thời điểm phải theo RFC 3339",
            );
            None
        }
    };
    match (b.lat, b.lon) {
        (Some(lat), Some(lon)) => {
            check.latlon("", lat, lon);
        }
        (None, None) => {}
        (lat, _) => {
            let missing = if lat.is_some() { "lon" } else { "lat" };
            check.push(
                missing,
                ErrorCode::ValidationFailed,
                "Cần cả vĩ độ và kinh độ",
            );
        }
    }
    let note = check.opt_line("note", b.note.as_deref(), 500);
    let proof = b.proof.filter(|p| !p.is_null());
    if proof.as_ref().is_some_and(|p| !p.is_object()) {
        check.push(
            "proof",
            ErrorCode::ValidationFailed,
            "proof phải là một đối tượng JSON",
        );
    }
    let mut fail_reason = None;
    match (event, proof.as_ref().filter(|p| p.is_object())) {
        (Some(TaskEventType::PickedUp), Some(p)) => {
            let docs = p.get("checked_documents").and_then(Value::as_array);
            if !docs.is_some_and(|d| {
                !d.is_empty()
                    && d.len() <= 50
                    && d.iter().all(|x| {
                        x.as_str()
                            .is_some_and(|s| !s.trim().is_empty() && s.len() <= 300)
                    })
            }) {
                check.push(
                    "proof.checked_documents",
                    ErrorCode::ValidationFailed,
                    "Cần danh sách giấy tờ đã kiểm đếm",
                );
            }
            if !p
                .get("seal_number")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty() && s.len() <= 50)
            {
                check.push(
                    "proof.seal_number",
                    ErrorCode::ValidationFailed,
                    "Cần số niêm phong",
                );
            }
            if !p
                .get("fees_collected_vnd")
                .and_then(Value::as_i64)
                .is_some_and(|f| (0..=100_000_000).contains(&f))
            {
                check.push(
                    "proof.fees_collected_vnd",
                    ErrorCode::ValidationFailed,
                    "Số tiền đã thu không hợp lệ",
                );
            }
            has_evidence(&mut check, p);
        }
        (Some(TaskEventType::Delivered), Some(p)) => {
            if !p
                .get("receiver_name")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 100)
            {
                check.push(
                    "proof.receiver_name",
                    ErrorCode::ValidationFailed,
                    "Cần họ tên người nhận",
                );
            }
            // Return-only dossiers pay the postal fee at the door on delivery.
            if p.get("fees_collected_vnd")
                .is_some_and(|f| !f.as_i64().is_some_and(|f| (0..=100_000_000).contains(&f)))
            {
                check.push(
                    "proof.fees_collected_vnd",
                    ErrorCode::ValidationFailed,
                    "Số tiền đã thu không hợp lệ",
                );
            }
            has_evidence(&mut check, p);
        }
        (Some(TaskEventType::PickedUp | TaskEventType::Delivered), None) => {
            check.push(
                "proof",
                ErrorCode::ValidationFailed,
                "Sự kiện này cần bằng chứng (proof)",
            );
        }
        (Some(TaskEventType::Failed), p) => {
            let raw = b.reason.or_else(|| {
                p.and_then(|p| p.get("reason"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            fail_reason = raw
                .as_deref()
                .and_then(|r| FailReason::parse(r.trim()).ok());
            if fail_reason.is_none() {
                check.push(
                    "reason",
                    ErrorCode::ValidationFailed,
                    "Lý do phải là not_home, wrong_address, refused, incomplete_documents hoặc other",
                );
            }
        }
        _ => {}
    }
    check.finish()?;
    let (Some(event), Some(at)) = (event, at) else {
        return Err(ApiError::internal("checked event fields missing"));
    };
    Ok(actions::TaskEventInput {
        event,
        at,
        lat: b.lat,
        lon: b.lon,
        note,
        fail_reason,
        proof,
    })
}

async fn event(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<EventBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Courier])?;
    let digest = body.digest().to_owned();
    let input = check_event(body.into_inner())?;
    let task_id = id.into_inner();
    let limits = state.settings.attempt_limits();
    let expect = super::if_match(&req)?;
    count_wrong_code(&state, &auth, &req, task_id, &input).await?;
    let who = auth.clone();
    let presence = state.presence.clone();
    // A failed attempt takes the stop (and what depended on it) off the route: the
    // rest of that route is renumbered and re-timed at once, on the board and the phone.
    let route = match input.event {
        TaskEventType::Failed => route_of_task(&state, task_id).await?,
        _ => None,
    };
    let res = idempotency::write(&state, &auth, &req, &digest, StatusCode::OK, move |c| {
        if !expect.is_any() {
            expect.check(&actions::lock_task(c, task_id)?.1)?;
        }
        let dossier_id = actions::task_event(c, &who, task_id, &input, limits, &presence)?;
        task_and_dossier(c, task_id, dossier_id, who.role)
    })
    .await?;
    if let Some((Some(courier), day)) = route {
        if let Err(e) = crate::plan::refresh_routes(&state, vec![courier], day).await {
            tracing::warn!(error = %e.detail, "route not re-timed after a failed attempt");
        }
    }
    Ok(res)
}

/// A code sent with a pickup or delivery is checked first in a transaction of its own,
/// so that a wrong one counts a try even though the event is then refused (422).
/// Skipped for a retry of a request already answered (its code is spent by then).
async fn count_wrong_code(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    task_id: i64,
    input: &actions::TaskEventInput,
) -> Result<(), ApiError> {
    let given = input
        .proof
        .as_ref()
        .and_then(|p| p.get("otp"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (Some(given), Evidence::Otp) = (given, state.presence.evidence) else {
        return Ok(());
    };
    if !matches!(
        input.event,
        TaskEventType::PickedUp | TaskEventType::Delivered
    ) {
        return Ok(());
    }
    let key = idempotency::key_of(req)?;
    let (user, presence) = (auth.id, state.presence.clone());
    let wrong = state
        .db
        .write(move |c| -> Result<Option<ApiError>, ApiError> {
            if let Some(key) = key {
                if crate::db::models::idempotency::find(c, user, &key)?.is_some() {
                    return Ok(None);
                }
            }
            presence::count_wrong_code(c, &presence, task_id, &given, crate::db::now_utc())
        })
        .await?;
    wrong.map_or(Ok(()), Err)
}

/// The courier at the door sends the citizen a one-time code by SMS (202).
async fn send_otp(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Courier])?;
    let task_id = id.into_inner();
    let presence = state.presence.clone();
    let sent = state
        .db
        .write(move |c| presence::send_code(c, &auth, task_id, &presence, crate::db::now_utc()))
        .await?;
    Ok(HttpResponse::Accepted().json(json!({
        "task_id": task_id,
        "sent_to": sent.phone_masked,
        "expires_at": crate::timefmt::to_vn(sent.expires_at).to_rfc3339(),
        "message": format!("Đã gửi mã OTP tới số {}; mã có hiệu lực {} phút", sent.phone_masked,
                           crate::domain::presence::OTP_TTL_MINUTES),
    })))
}

#[derive(Debug, Deserialize)]
struct RouteQuery {
    date: Option<chrono::NaiveDate>,
}

/// Route order: planned sequence, then window start, then creation (unplanned and
/// windowless stops last, each drop-off after the pickups before it).
fn route_order(tasks: &mut [tasks::Task]) {
    tasks.sort_by_key(|t| {
        (
            t.seq.unwrap_or(i32::MAX),
            t.window_from.is_none(),
            t.window_from,
            t.id,
        )
    });
}

async fn my_route(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<RouteQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Courier])?;
    let date = q.date;
    let evidence = match state.presence.evidence {
        Evidence::Otp => "otp",
        Evidence::Signature => "signature",
    };
    let stops = state
        .db
        .read(move |c| -> Result<Vec<Value>, ApiError> {
            let Some(courier) = couriers::find_by_user(c, auth.id)? else {
                return Ok(Vec::new());
            };
            let mut stops = Vec::new();
            let open = tasks::open_of_courier(c, courier.id)?;
            let mut open = due(c, open, date)?;
            route_order(&mut open);
            for t in open {
                let Some(d) = dossiers::find(c, t.dossier_id)? else {
                    continue;
                };
                let docs = procedures::find(c, &d.procedure_code)?
                    .map(|p| p.required_documents)
                    .unwrap_or_default();
                let first_name = d
                    .citizen_name
                    .split_whitespace()
                    .last()
                    .unwrap_or("")
                    .to_owned();
                let mut stop = view::task(&t, &d.tracking_code);
                if let Some(obj) = stop.as_object_mut() {
                    obj.insert("citizen_first_name".into(), json!(first_name));
                    // The whole registered name: the courier hands the result to this
                    // person (or to someone with their authorisation) only.
                    obj.insert("citizen_name".into(), json!(d.citizen_name));
                    obj.insert("dossier_version".into(), json!(d.version));
                    obj.insert("evidence".into(), json!(evidence));
                    obj.insert("phone".into(), json!(d.phone));
                    obj.insert(
                        "address".into(),
                        json!({"street": d.street, "ward_code": d.ward_code}),
                    );
                    obj.insert("required_documents".into(), json!(docs));
                    obj.insert("dossier_status".into(), json!(d.status));
                }
                stops.push(stop);
            }
            Ok(stops)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"stops": stops})))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    post_office_id: Option<i64>,
    date: Option<chrono::NaiveDate>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The tasks due on `date` (all of them without a date); see [`crate::dispatch::retain_due`].
fn due(
    c: &mut crate::db::DbConnection,
    open: Vec<tasks::Task>,
    date: Option<chrono::NaiveDate>,
) -> Result<Vec<tasks::Task>, ApiError> {
    match date {
        Some(day) => crate::dispatch::retain_due(c, open, day),
        None => Ok(open),
    }
}

async fn list(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    let (after_id, limit) = super::paging(q.limit, q.cursor.as_deref())?;
    let q = q.into_inner();
    let status = match q.status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            crate::domain::dossier::TaskStatus::parse(&s)
                .map_err(|_| ApiError::new(ErrorCode::InvalidQuery, "status không hợp lệ"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let office = match auth.role {
        Role::Dispatcher => auth.post_office_id.or(q.post_office_id),
        _ => q.post_office_id,
    };
    let date = q.date;
    let page = state
        .db
        .read(move |c| -> Result<Value, ApiError> {
            let office_scope = match office {
                Some(po) => Some((
                    crate::db::models::zones::ids_of_office(c, po)?,
                    couriers::list(c, Some(po))?
                        .into_iter()
                        .map(|k| k.id)
                        .collect(),
                )),
                None => None,
            };
            // Scan in id order past the tasks of other days until the page is full.
            let mut filter = tasks::TaskFilter {
                status,
                office: office_scope,
                after_id,
                limit: 500,
            };
            let mut kept = Vec::new();
            loop {
                let rows = tasks::list(c, &filter)?;
                let exhausted = rows.len() as i64 <= filter.limit;
                let Some(last) = rows.last().map(|t| t.id) else {
                    break;
                };
                kept.extend(due(c, rows, date)?);
                filter.after_id = last;
                if exhausted || kept.len() as i64 > limit {
                    break;
                }
            }
            let page = crate::db::models::Page::from_rows(kept, limit, |t| t.id);
            let mut items = Vec::new();
            for t in page.items.iter() {
                let code = dossiers::find(c, t.dossier_id)?
                    .map(|d| d.tracking_code)
                    .unwrap_or_default();
                let mut v = view::task(t, &code);
                v["zone_id"] = json!(t.zone_id);
                v["outside_zone"] = json!(t.outside_zone);
                items.push(v);
            }
            Ok(json!({"items": items, "next_cursor": page.next_cursor}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn courier_route(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<RouteQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    let (courier_id, date) = (id.into_inner(), q.date);
    let stops = state
        .db
        .read(move |c| -> Result<Vec<Value>, ApiError> {
            let courier =
                couriers::find(c, courier_id)?.ok_or_else(|| ApiError::not_found("bưu tá"))?;
            if auth.role == Role::Dispatcher
                && auth
                    .post_office_id
                    .is_some_and(|po| po != courier.post_office_id)
            {
                return Err(ApiError::forbidden());
            }
            let open = tasks::open_of_courier(c, courier.id)?;
            let mut open = due(c, open, date)?;
            route_order(&mut open);
            let mut stops = Vec::new();
            for t in open {
                let code = dossiers::find(c, t.dossier_id)?
                    .map(|d| d.tracking_code)
                    .unwrap_or_default();
                stops.push(view::task(&t, &code));
            }
            Ok(stops)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"courier_id": courier_id, "stops": stops})))
}
