//! Staff work on one dossier: read it, cancel, reschedule; the clerk's decisions.

use crate::auth::{AuthUser, Role};
use crate::db::models::{dossiers, events, holidays, tasks};
use crate::db::DbConnection;
use crate::domain::deadlines::WorkCalendar;
use crate::domain::dossier::{AttemptLimits, Outcome};
use crate::dossiers::{actions, intake, view};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/dossiers/{tracking_code}", get)
        .post("/api/v1/dossiers/{tracking_code}/cancel", cancel)
        .post("/api/v1/dossiers/{tracking_code}/reschedule", reschedule)
        .post("/api/v1/dossiers/{tracking_code}/receive", receive)
        .post(
            "/api/v1/dossiers/{tracking_code}/supplement-required",
            supplement_required,
        )
        .post(
            "/api/v1/dossiers/{tracking_code}/result-ready",
            result_ready,
        )
        .post(
            "/api/v1/dossiers/{tracking_code}/handed-over-at-counter",
            handed_over_at_counter,
        )
        .get("/api/v1/dossiers/{tracking_code}/receipt.pdf", receipt);
}

/// The staff view of a dossier, read in the caller's transaction.
/// Roles that see a citizen's ID number in full: those who take or check the
/// papers (operator at intake, clerk at the desk) and admins. Others see it masked.
pub const SEE_ID_NUMBERS: [Role; 3] = [Role::Operator, Role::Clerk, Role::Admin];

/// `087123456789` → `0871******89`, for the string at JSON `pointer` in `v`.
pub fn mask_id_number_at(v: &mut Value, pointer: &str) {
    if let Some(slot) = v.pointer_mut(pointer) {
        if let Some(n) = slot.as_str() {
            let masked: String = n
                .chars()
                .enumerate()
                .map(|(i, ch)| {
                    if (4..n.len().saturating_sub(2)).contains(&i) {
                        '*'
                    } else {
                        ch
                    }
                })
                .collect();
            *slot = Value::String(masked);
        }
    }
}

fn mask_id_number(v: &mut Value) {
    mask_id_number_at(v, "/citizen/id_number");
}

/// The whole dossier as `viewer` may see it.
pub fn staff_view(c: &mut DbConnection, id: i64, viewer: Role) -> Result<Value, ApiError> {
    let mut v = full_view(c, id)?;
    if !SEE_ID_NUMBERS.contains(&viewer) {
        mask_id_number(&mut v);
    }
    Ok(v)
}

fn full_view(c: &mut DbConnection, id: i64) -> Result<Value, ApiError> {
    let d = dossiers::find(c, id)?.ok_or_else(|| ApiError::not_found("hồ sơ"))?;
    let t = tasks::of_dossier(c, id)?;
    let e = events::of_dossier(c, id)?;
    let calendar = WorkCalendar::new(holidays::list(c)?.into_iter().map(|h| h.day));
    let deadlines = view::deadlines(&d, &e, &calendar, crate::db::now_utc());
    Ok(view::staff(&d, &t, &e, deadlines))
}

const STAFF: [Role; 5] = [
    Role::Admin,
    Role::Dispatcher,
    Role::Operator,
    Role::Clerk,
    Role::Courier,
];

async fn get(
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&STAFF)?;
    let code = code.into_inner().trim().to_uppercase();
    let body = state
        .db
        .read(move |c| -> Result<Value, ApiError> {
            let d = actions::load(c, &code)?;
            if auth.role == Role::Clerk && auth.agency_id != Some(d.agency_id) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Hồ sơ này thuộc cơ quan khác",
                ));
            }
            staff_view(c, d.id, auth.role)
        })
        .await?;
    let etag = crate::dossiers::precondition::etag(body["version"].as_i64().unwrap_or(0));
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag))
        .json(body))
}

/// Runs an action on the dossier named in the path and answers its staff view
/// (idempotently); the action gets the normalised tracking code and attempt limits.
async fn act<F>(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    digest: String,
    action: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConnection, &AuthUser, &str, AttemptLimits) -> Result<i64, ApiError>
        + Send
        + 'static,
{
    let who = auth.clone();
    let code = code.into_inner().trim().to_uppercase();
    let limits = state.settings.attempt_limits();
    let expect = super::if_match(&req)?;
    idempotency::write(&state, &auth, &req, &digest, StatusCode::OK, move |c| {
        if !expect.is_any() {
            expect.check(&actions::lock(c, &code)?)?;
        }
        let id = action(c, &who, &code, limits)?;
        staff_view(c, id, who.role)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_but_their_ends() {
        let mut v = serde_json::json!({"citizen": {"id_number": "087123456789"}});
        mask_id_number(&mut v);
        assert_eq!(v["citizen"]["id_number"], "0871******89");
        let mut none = serde_json::json!({"citizen": {"id_number": null}});
        mask_id_number(&mut none);
        assert_eq!(none["citizen"]["id_number"], Value::Null);
    }
}

#[derive(Debug, Deserialize)]
struct CancelBody {
    reason: String,
}

async fn cancel(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<CancelBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Operator, Role::Dispatcher])?;
    let mut check = Check::new();
    let reason = check.line("reason", &body.0.reason, 500);
    check.finish()?;
    let digest = body.digest().to_owned();
    // The couriers whose routes lose the dossier's stops, and the days, to re-time.
    let key: String = (*code).clone();
    let affected = state
        .db
        .read(
            move |c| -> Result<Vec<(i64, chrono::NaiveDate)>, ApiError> {
                let Some(d) = crate::db::models::dossiers::find_by_code(c, &key)? else {
                    return Ok(Vec::new());
                };
                let all = crate::db::models::tasks::of_dossier(c, d.id)?;
                Ok(all
                    .iter()
                    .filter(|t| actions::is_open(t))
                    .filter_map(|t| t.courier_id.map(|k| (k, crate::plan::day_of(t, &all))))
                    .collect())
            },
        )
        .await?;
    let res = act(
        req,
        auth,
        state.clone(),
        code,
        digest,
        move |c, a, code, limits| actions::cancel(c, a, code, &reason, limits),
    )
    .await?;
    let mut affected = affected;
    affected.sort_unstable();
    affected.dedup();
    for (courier, day) in affected {
        if let Err(e) = crate::plan::refresh_routes(&state, vec![courier], day).await {
            tracing::warn!(error = %e.detail, "route not re-timed after a cancellation");
        }
    }
    Ok(res)
}

#[derive(Debug, Deserialize)]
struct RescheduleBody {
    pickup_window: intake::WindowBody,
}

async fn reschedule(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<RescheduleBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Operator, Role::Dispatcher])?;
    let mut check = Check::new();
    let window = intake::check_window(&mut check, "pickup_window", &body.0.pickup_window);
    check.finish()?;
    let window = window.ok_or_else(|| ApiError::internal("window checked"))?;
    let digest = body.digest().to_owned();
    act(req, auth, state, code, digest, move |c, a, code, limits| {
        actions::reschedule(c, a, code, window, limits)
    })
    .await
}

fn documents(check: &mut Check, field: &str, docs: &[String]) -> Vec<String> {
    if docs.len() > 50 {
        check.push(field, ErrorCode::ValidationFailed, "Tối đa 50 giấy tờ");
    }
    docs.iter()
        .enumerate()
        .map(|(i, d)| check.line(&format!("{field}[{i}]"), d, 300))
        .collect()
}

#[derive(Debug, Deserialize)]
struct ReceiveBody {
    agency_dossier_code: String,
    appointment_date: NaiveDate,
    checked_documents: Vec<String>,
    /// The clerk saw the shortfall against the courier's count and accepts it.
    #[serde(default)]
    accept_shortfall: bool,
}

async fn receive(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<ReceiveBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Clerk])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let agency_code = check.line("agency_dossier_code", &b.agency_dossier_code, 64);
    let docs = documents(&mut check, "checked_documents", &b.checked_documents);
    if docs.is_empty() {
        check.push(
            "checked_documents",
            ErrorCode::ValidationFailed,
            "Cần kiểm đếm ít nhất một giấy tờ khi tiếp nhận",
        );
    }
    let accept_shortfall = b.accept_shortfall;
    let today = crate::timefmt::to_vn(crate::db::now_utc()).date_naive();
    if b.appointment_date < today || b.appointment_date > today + chrono::Duration::days(366) {
        check.push(
            "appointment_date",
            ErrorCode::ValidationFailed,
            "Ngày hẹn trả phải từ hôm nay đến một năm tới",
        );
    }
    check.finish()?;
    let date = b.appointment_date;
    act(req, auth, state, code, digest, move |c, a, code, limits| {
        actions::receive(
            c,
            a,
            code,
            &agency_code,
            date,
            &docs,
            accept_shortfall,
            limits,
        )
    })
    .await
}

#[derive(Debug, Deserialize)]
struct SupplementBody {
    reason: String,
    missing_documents: Vec<String>,
}

async fn supplement_required(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<SupplementBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Clerk])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let reason = check.line("reason", &b.reason, 500);
    let missing = documents(&mut check, "missing_documents", &b.missing_documents);
    if missing.is_empty() {
        check.push(
            "missing_documents",
            ErrorCode::ValidationFailed,
            "Cần ít nhất một giấy tờ còn thiếu",
        );
    }
    check.finish()?;
    let zones = state.zones.clone();
    act(req, auth, state, code, digest, move |c, a, code, limits| {
        let calendar = WorkCalendar::new(holidays::list(c)?.into_iter().map(|h| h.day));
        let index = zones.get(c)?;
        actions::supplement_required(c, a, code, &reason, &missing, &calendar, &index, limits)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct ResultBody {
    outcome: String,
    note: Option<String>,
}

async fn result_ready(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<ResultBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Clerk])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let outcome = Outcome::parse(b.outcome.trim())
        .map_err(|_| {
            check.push(
                "outcome",
                ErrorCode::ValidationFailed,
                "Kết quả phải là approved hoặc rejected",
            )
        })
        .ok();
    let note = check.opt_line("note", b.note.as_deref(), 500);
    check.finish()?;
    let outcome = outcome.ok_or_else(|| ApiError::internal("outcome checked"))?;
    let zones = state.zones.clone();
    act(req, auth, state, code, digest, move |c, a, code, limits| {
        let index = zones.get(c)?;
        actions::result_ready(c, a, code, outcome, note, &index, limits)
    })
    .await
}

async fn handed_over_at_counter(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Clerk])?;
    act(
        req,
        auth,
        state,
        code,
        String::new(),
        actions::handed_over_at_counter,
    )
    .await
}

/// Formats a stored UTC time as Vietnamese local `dd/mm/yyyy HH:MM`.
fn local(t: chrono::NaiveDateTime, fmt: &str) -> String {
    crate::timefmt::to_vn(t).format(fmt).to_string()
}

/// Everything the receipt prints, read in one go.
fn receipt_data(
    c: &mut DbConnection,
    auth: &AuthUser,
    code: &str,
    base: &str,
) -> Result<crate::receipt::ReceiptData, ApiError> {
    use crate::db::models::{admin_units, agencies, procedures};
    let d = actions::load(c, code)?;
    if auth.role == Role::Clerk && auth.agency_id != Some(d.agency_id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Hồ sơ này thuộc cơ quan khác",
        ));
    }
    let procedure = procedures::find(c, &d.procedure_code)?;
    let agency = agencies::find(c, d.agency_id)?
        .map(|a| a.name)
        .unwrap_or_default();
    let ward = admin_units::find_ward(c, &d.ward_code)?
        .map(|w| w.name)
        .unwrap_or_default();
    let province = admin_units::list_provinces(c)?
        .into_iter()
        .find(|p| p.code == d.province_code)
        .map(|p| p.name)
        .unwrap_or_default();
    // The documents counted at the latest pickup, else the list to be checked.
    let counted = events::of_dossier(c, d.id)?
        .into_iter()
        .rev()
        .find(|e| e.kind == "picked_up")
        .and_then(|e| serde_json::from_str::<Value>(&e.data).ok())
        .and_then(|v| v.pointer("/proof/checked_documents").cloned())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok());
    let documents_checked = counted.is_some();
    let documents = counted.unwrap_or_else(|| {
        procedure
            .as_ref()
            .map(|p| p.required_documents.clone())
            .unwrap_or_default()
    });
    let window = match (d.pickup_from, d.pickup_to) {
        (Some(f), Some(t)) => format!(
            "{}–{} ngày {}",
            local(f, "%H:%M"),
            local(t, "%H:%M"),
            local(f, "%d/%m/%Y")
        ),
        _ => "Không có (chỉ trả kết quả)".to_owned(),
    };
    Ok(crate::receipt::ReceiptData {
        tracking_code: d.tracking_code.clone(),
        issued_at: local(crate::db::now_utc(), "%d/%m/%Y %H:%M"),
        citizen_name: d.citizen_name.clone(),
        citizen_phone: d.phone.clone(),
        address: format!("{}, {}, {}", d.street, ward, province),
        procedure_code: d.procedure_code.clone(),
        procedure_name: procedure.map(|p| p.name).unwrap_or_default(),
        agency_name: agency,
        documents,
        documents_checked,
        postal_fee_vnd: d.postal_fee_vnd,
        agency_fee_vnd: d.agency_fee_vnd,
        total_vnd: d.total_vnd,
        pickup_window: window,
        return_method: if d.return_method == "home" {
            "Trả kết quả tại nhà"
        } else {
            "Nhận kết quả tại quầy"
        }
        .to_owned(),
        tracking_url: format!("{base}/track/{}", d.tracking_code),
        hotline: crate::pages::HOTLINE.to_owned(),
    })
}

async fn receipt(
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&STAFF)?;
    let code = code.into_inner().trim().to_uppercase();
    let base = state.settings.public_base();
    let data = state
        .db
        .read(move |c| receipt_data(c, &auth, &code, &base))
        .await?;
    let file = format!("bien-nhan-{}.pdf", data.tracking_code);
    let pdf = tokio::task::spawn_blocking(move || crate::receipt::render_pdf(&data))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{file}\""),
        ))
        .body(pdf))
}
