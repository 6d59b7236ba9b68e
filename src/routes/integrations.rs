//! Inbound events of the provincial one-stop system (Hệ thống thông tin giải quyết thủ
//! tục hành chính): `received` and `result_ready` for a dossier, signed with the shared
//! secret.
//!
//! Checks, in order: a secret is configured (else 503); `X-Buuta-Signature` is
//! `sha256=<hex HMAC-SHA256(secret, body)>` (else 401 `invalid_signature`); the body's
//! `timestamp` (Unix seconds, equal to `X-Buuta-Timestamp` when that is sent) is within
//! the allowed skew (else 401 `stale_timestamp`); the exact signed message was not seen
//! before (else 409 `replayed`). An `event_id` already applied (a retry signed anew)
//! answers 200 with `duplicate: true` and changes nothing.

use crate::db::models::{dossiers, webhooks};
use crate::db::now_utc;
use crate::domain::dossier::Outcome;
use crate::domain::notify::{fresh, verify};
use crate::dossiers::actions;
use crate::dossiers::record::Actor;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{parse_json, BODY_LIMIT};
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/integrations/one-stop/events", one_stop_event);
}

#[derive(Debug, Deserialize)]
struct OneStopBody {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    timestamp: i64,
    tracking_code: Option<String>,
    agency_dossier_code: Option<String>,
    appointment_date: Option<NaiveDate>,
    outcome: Option<String>,
    note: Option<String>,
}

enum Applied {
    Fresh { code: String, status: String },
    Duplicate { code: Option<String> },
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(ErrorCode::MalformedJson, "Không đọc được dữ liệu gửi lên")
        })?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "Dữ liệu gửi lên vượt quá giới hạn",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn one_stop_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = state
        .settings
        .one_stop_secret
        .clone()
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "Chưa cấu hình kết nối hệ thống một cửa (BUUTA_ONE_STOP_SECRET)",
        ));
    };
    let body = read_body(payload).await?;
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header("X-Buuta-Signature").unwrap_or_default();
    if !verify(secret.as_bytes(), &body, &signature) {
        return Err(ApiError::new(
            ErrorCode::InvalidSignature,
            "Chữ ký X-Buuta-Signature không khớp với nội dung (sha256=<hex HMAC-SHA256>)",
        ));
    }
    let b: OneStopBody = parse_json(&body)?;
    let now = chrono::Utc::now().timestamp();
    let skew = state.settings.one_stop_max_skew_secs as i64;
    let header_ts = header("X-Buuta-Timestamp");
    if header_ts.is_some_and(|t| t.trim() != b.timestamp.to_string()) {
        return Err(ApiError::new(
            ErrorCode::StaleTimestamp,
            "X-Buuta-Timestamp khác trường timestamp đã ký",
        ));
    }
    if !fresh(b.timestamp, now, skew) {
        return Err(ApiError::new(
            ErrorCode::StaleTimestamp,
            format!("Thời điểm ký lệch quá {skew} giây so với máy chủ"),
        ));
    }

    let mut check = Check::new();
    let event_id = check.line("event_id", &b.event_id, 200);
    let kind = b.kind.trim().to_owned();
    let code = b
        .tracking_code
        .as_deref()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    let agency_code = check.opt_line("agency_dossier_code", b.agency_dossier_code.as_deref(), 64);
    let note = check.opt_line("note", b.note.as_deref(), 500);
    let mut outcome = None;
    match kind.as_str() {
        "received" => {
            if code.is_none() {
                check.push(
                    "tracking_code",
                    ErrorCode::ValidationFailed,
                    "Sự kiện received cần mã hồ sơ (tracking_code)",
                );
            }
            if agency_code.is_none() {
                check.push(
                    "agency_dossier_code",
                    ErrorCode::ValidationFailed,
                    "Sự kiện received cần mã hồ sơ của cơ quan",
                );
            }
            if b.appointment_date.is_none() {
                check.push(
                    "appointment_date",
                    ErrorCode::ValidationFailed,
                    "Sự kiện received cần ngày hẹn trả kết quả",
                );
            }
        }
        "result_ready" => {
            if code.is_none() && agency_code.is_none() {
                check.push(
                    "tracking_code",
                    ErrorCode::ValidationFailed,
                    "Cần mã hồ sơ (tracking_code) hoặc mã hồ sơ của cơ quan",
                );
            }
            outcome = Outcome::parse(b.outcome.as_deref().unwrap_or("").trim())
                .map_err(|_| {
                    check.push(
                        "outcome",
                        ErrorCode::ValidationFailed,
                        "Kết quả phải là approved hoặc rejected",
                    )
                })
                .ok();
        }
        _ => check.push(
            "type",
            ErrorCode::ValidationFailed,
            "Loại sự kiện phải là received hoặc result_ready",
        ),
    }
    check.finish()?;

    let limits = state.settings.attempt_limits();
    let zones = state.zones.clone();
    let appointment = b.appointment_date;
    let applied = state
        .db
        .write(move |c| -> Result<Applied, ApiError> {
            if webhooks::one_stop_signature_seen(c, &signature)? {
                return Err(ApiError::new(
                    ErrorCode::Replayed,
                    "Thông điệp này (cùng chữ ký) đã được nhận trước đó",
                ));
            }
            if let Some(seen) = webhooks::one_stop_event(c, &event_id)? {
                let code = match seen.dossier_id {
                    Some(id) => dossiers::find(c, id)?.map(|d| d.tracking_code),
                    None => None,
                };
                return Ok(Applied::Duplicate { code });
            }
            let d = match (&code, &agency_code) {
                (Some(code), _) => dossiers::find_by_code(c, code)?,
                (None, Some(ac)) => dossiers::find_by_agency_code(c, ac)?,
                (None, None) => None,
            }
            .ok_or_else(|| ApiError::not_found("hồ sơ"))?;
            // The write decides from the dossier's state: under its lock (see `db`).
            let d = actions::reload(c, d.id)?;
            let actor = Actor {
                user_id: None,
                role: "one_stop".into(),
                at: now_utc(),
                lat: None,
                lon: None,
                note,
            };
            match (kind.as_str(), outcome) {
                ("received", _) => {
                    let (Some(ac), Some(date)) = (agency_code.as_deref(), appointment) else {
                        return Err(ApiError::internal("received fields checked"));
                    };
                    actions::receive_as(c, &d, &actor, ac, date, &[], false, limits)?;
                }
                (_, Some(outcome)) => {
                    let index = zones.get(c)?;
                    actions::result_ready_as(c, &d, &actor, outcome, &index, limits)?;
                }
                _ => return Err(ApiError::internal("event type checked")),
            }
            webhooks::insert_one_stop_event(
                c,
                &webhooks::OneStopEvent {
                    event_id,
                    signature,
                    dossier_id: Some(d.id),
                    kind,
                    received_at: now_utc(),
                },
            )?;
            let after = dossiers::find(c, d.id)?.ok_or_else(|| ApiError::not_found("hồ sơ"))?;
            Ok(Applied::Fresh {
                code: after.tracking_code,
                status: after.status,
            })
        })
        .await?;
    Ok(match applied {
        Applied::Fresh { code, status } => HttpResponse::Ok().json(json!({
            "event_id": b.event_id.trim(), "duplicate": false, "tracking_code": code, "status": status,
        })),
        Applied::Duplicate { code } => HttpResponse::Ok().json(json!({
            "event_id": b.event_id.trim(), "duplicate": true, "tracking_code": code,
        })),
    })
}
