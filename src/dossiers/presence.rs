//! Proof that the citizen was at the door, against the store: sending a one-time code to
//! the citizen's phone (through the SMS outbox), checking it, and the evidence, identity
//! and checklist rules a pickup or delivery must meet (`domain::presence`).

use super::actions::lock_task;
use crate::auth::{AuthUser, Role};
use crate::db::models::{couriers, dossiers::Dossier, procedures, task_otps, tasks::Task};
use crate::db::DbConnection;
use crate::domain::dossier::TaskEventType;
use crate::domain::notify::Sms;
use crate::domain::presence::{self as rules, Evidence, OtpVerdict, StoredCode};
use crate::error::{ApiError, ErrorCode, FieldError};
use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};

/// The rules in force: which evidence is required, and the key codes are hashed with.
#[derive(Debug, Clone)]
pub struct Presence {
    pub evidence: Evidence,
    pub otp_key: Vec<u8>,
}

/// Where a code was sent.
#[derive(Debug, Clone)]
pub struct SentCode {
    pub phone_masked: String,
    pub expires_at: NaiveDateTime,
}

/// 422 on one field; the answer's code is the field's (`invalid_otp` or
/// `validation_failed`).
fn field(path: &str, code: ErrorCode, message: impl Into<String>) -> ApiError {
    let message = message.into();
    let mut e = ApiError::validation(vec![FieldError::new(path, code, message.clone())]);
    e.code = code;
    e.detail = message;
    e
}

fn own_task(conn: &mut DbConnection, auth: &AuthUser, task: &Task) -> Result<(), ApiError> {
    let courier = couriers::find_by_user(conn, auth.id)?;
    if auth.role != Role::Courier
        || task.courier_id.is_none()
        || courier.as_ref().map(|c| c.id) != task.courier_id
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Nhiệm vụ này không được giao cho bạn",
        ));
    }
    Ok(())
}

fn masked(phone: &str) -> String {
    let n = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 3 >= n { c } else { '*' })
        .collect()
}

/// The courier at the door asks for a code: it goes to the dossier's phone by SMS.
/// 409 without an SMS gateway (a signature is required then), 429 after
/// [`rules::OTP_MAX_SENDS`] codes in [`rules::OTP_RESEND_WINDOW_MINUTES`] minutes.
pub fn send_code(
    conn: &mut DbConnection,
    auth: &AuthUser,
    task_id: i64,
    presence: &Presence,
    now: NaiveDateTime,
) -> Result<SentCode, ApiError> {
    let (task, d) = lock_task(conn, task_id)?;
    own_task(conn, auth, &task)?;
    if presence.evidence != Evidence::Otp {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Chưa cấu hình cổng SMS nên không gửi được mã OTP: hãy lấy chữ ký của người dân",
        ));
    }
    let pickup = match (task.kind.as_str(), task.status.as_str()) {
        ("pickup", "assigned" | "in_progress") => true,
        ("deliver", "assigned" | "in_progress") => false,
        ("pickup" | "deliver", _) => {
            return Err(ApiError::new(
                ErrorCode::IllegalTransition,
                "Nhiệm vụ không còn mở nên không gửi mã OTP",
            ))
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::IllegalTransition,
                "Chỉ gửi mã OTP khi lấy hồ sơ hoặc giao kết quả tại nhà người dân",
            ))
        }
    };
    let since = now - Duration::minutes(rules::OTP_RESEND_WINDOW_MINUTES);
    if task_otps::issued_since(conn, task.id, since)? >= rules::OTP_MAX_SENDS {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "Đã gửi {} mã OTP trong {} phút; vui lòng đợi rồi gửi lại",
                rules::OTP_MAX_SENDS,
                rules::OTP_RESEND_WINDOW_MINUTES
            ),
        );
        e.retry_after_secs = Some(60);
        return Err(e);
    }
    let code = rules::new_code();
    let expires_at = now + Duration::minutes(rules::OTP_TTL_MINUTES);
    task_otps::insert(
        conn,
        task.id,
        &rules::hash(&presence.otp_key, task.id, &code),
        expires_at,
        now,
    )?;
    let sms = Sms::Otp {
        code: d.tracking_code.clone(),
        otp: code,
        pickup,
    };
    crate::notify::queue_otp(conn, &d, &sms, now)?;
    Ok(SentCode {
        phone_masked: masked(&d.phone),
        expires_at,
    })
}

/// The verdict on `given` for the task's code in force (no write).
fn verdict(
    conn: &mut DbConnection,
    presence: &Presence,
    task_id: i64,
    given: &str,
    now: NaiveDateTime,
) -> Result<(OtpVerdict, Option<task_otps::TaskOtp>), ApiError> {
    let stored = task_otps::latest(conn, task_id)?;
    let v = rules::check(
        &presence.otp_key,
        task_id,
        stored.as_ref().map(|s| StoredCode {
            hash: &s.code_hash,
            expired: s.expires_at <= now,
            tries: s.tries,
            used: s.used_at.is_some(),
        }),
        given,
    );
    Ok((v, stored))
}

/// Before an event that carries a code: a wrong code counts one try in a transaction of
/// its own (so the count stands although the event is refused) and the event is
/// refused with 422 `invalid_otp`. Runs under the dossier's lock, so guesses sent
/// together are counted one by one.
pub fn count_wrong_code(
    conn: &mut DbConnection,
    presence: &Presence,
    task_id: i64,
    given: &str,
    now: NaiveDateTime,
) -> Result<Option<ApiError>, ApiError> {
    lock_task(conn, task_id)?;
    let (v, stored) = verdict(conn, presence, task_id, given, now)?;
    if let (OtpVerdict::Wrong { .. }, Some(s)) = (&v, &stored) {
        task_otps::count_try(conn, s.id)?;
    }
    Ok(match v {
        OtpVerdict::Valid => None,
        other => Some(field("proof.otp", ErrorCode::InvalidOtp, other.vi())),
    })
}

fn has_image(proof: &Value, key: &str) -> bool {
    proof
        .get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a pickup's or delivery's proof against the dossier and the rules in force,
/// spends the code it carries, and returns the proof to store (with what the server
/// worked out: the missing documents of an incomplete pickup). 422 and nothing spent
/// when it falls short.
pub fn accept_proof(
    conn: &mut DbConnection,
    presence: &Presence,
    event: TaskEventType,
    task: &Task,
    d: &Dossier,
    proof: Option<Value>,
    now: NaiveDateTime,
) -> Result<Option<Value>, ApiError> {
    if !matches!(event, TaskEventType::PickedUp | TaskEventType::Delivered) {
        return Ok(proof);
    }
    let mut proof = proof.unwrap_or_else(|| json!({}));
    if event == TaskEventType::PickedUp {
        let required = procedures::find(conn, &d.procedure_code)?
            .map(|p| p.required_documents)
            .unwrap_or_default();
        let checked = strings(proof.get("checked_documents"));
        let missing = rules::missing_documents(&required, &checked);
        if !missing.is_empty() {
            let flagged = |k: &str| proof.get(k).and_then(Value::as_bool) == Some(true);
            if !(flagged("incomplete") && flagged("citizen_guided")) {
                return Err(field(
                    "proof.checked_documents",
                    ErrorCode::ValidationFailed,
                    format!(
                        "Còn thiếu giấy tờ: {}. Hướng dẫn người dân bổ sung; nếu vẫn nhận hồ sơ thiếu, đánh dấu “đã hướng dẫn” và “hồ sơ chưa đủ”",
                        missing.join("; ")
                    ),
                ));
            }
            proof["missing_documents"] = json!(missing);
        } else if let Some(obj) = proof.as_object_mut() {
            obj.remove("incomplete");
        }
    } else {
        let given = proof
            .get("receiver_id_number")
            .and_then(Value::as_str)
            .unwrap_or("");
        if given.trim().is_empty() {
            return Err(field(
                "proof.receiver_id_number",
                ErrorCode::ValidationFailed,
                "Cần số định danh (căn cước) của người nhận",
            ));
        }
        rules::check_recipient_id(d.id_number.as_deref(), given).map_err(|e| {
            field(
                "proof.receiver_id_number",
                ErrorCode::ValidationFailed,
                e.vi(),
            )
        })?;
    }
    match presence.evidence {
        Evidence::Signature => {
            if !has_image(&proof, "signature_png") {
                return Err(field(
                    "proof.signature_png",
                    ErrorCode::ValidationFailed,
                    "Cần chữ ký của người dân (chưa cấu hình SMS nên không dùng được mã OTP)",
                ));
            }
        }
        Evidence::Otp => {
            let given = proof
                .get("otp")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if given.is_empty() {
                return Err(field(
                    "proof.otp",
                    ErrorCode::InvalidOtp,
                    "Cần mã OTP mà người dân nhận qua SMS",
                ));
            }
            let (v, stored) = verdict(conn, presence, task.id, &given, now)?;
            match (v, stored) {
                (OtpVerdict::Valid, Some(s)) if task_otps::mark_used(conn, s.id, now)? => {
                    proof["otp"] = json!("verified");
                    proof["otp_id"] = json!(s.id);
                }
                (OtpVerdict::Valid, _) => {
                    return Err(field(
                        "proof.otp",
                        ErrorCode::InvalidOtp,
                        OtpVerdict::Used.vi(),
                    ))
                }
                (other, _) => return Err(field("proof.otp", ErrorCode::InvalidOtp, other.vi())),
            }
        }
    }
    Ok(Some(proof))
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn phones_are_masked_but_their_ends() {
        assert_eq!(masked("0912345678"), "09*****678");
    }
}
