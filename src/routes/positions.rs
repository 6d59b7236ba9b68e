//! Courier GPS: batches from the phone, latest positions for the dispatcher.

use crate::auth::{AuthUser, Role};
use crate::db::models::couriers;
use crate::db::models::positions::{self, Fix};
use crate::db::now_utc;
use crate::domain::shift::Shift;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::routing::Routes;
use crate::state::AppState;
use crate::timefmt::to_vn;
use crate::validate::Check;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SubsecRound};
use serde::Deserialize;
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/me/positions", post_positions)
        .get("/api/v1/couriers/positions", latest);
}

/// Most fixes accepted in one batch.
const MAX_BATCH: usize = 500;

#[derive(Debug, Deserialize)]
struct FixBody {
    lat: f64,
    lon: f64,
    at: String,
    accuracy_m: Option<f64>,
}

/// Checks a batch: inside Vietnam, sane times, strictly increasing.
fn check_batch(batch: &[FixBody]) -> Result<Vec<Fix>, ApiError> {
    let mut check = Check::new();
    if batch.is_empty() || batch.len() > MAX_BATCH {
        check.push(
            "body",
            ErrorCode::ValidationFailed,
            format!("Gửi từ 1 đến {MAX_BATCH} vị trí mỗi lần"),
        );
    }
    let now = chrono::Utc::now();
    let mut fixes = Vec::with_capacity(batch.len());
    for (i, f) in batch.iter().enumerate() {
        check.latlon(&format!("[{i}]."), f.lat, f.lon);
        let at = match DateTime::parse_from_rfc3339(f.at.trim()) {
            Ok(t)
                if t > now + chrono::Duration::minutes(5)
                    || t < now - chrono::Duration::days(2) =>
            {
                check.push(
                    &format!("[{i}].at"),
                    ErrorCode::ValidationFailed,
                    "Thời điểm phải trong 2 ngày gần đây",
                );
                None
            }
            Ok(t) => Some(t.naive_utc().trunc_subsecs(6)),
            Err(_) => {
                check.push(
                    &format!("[{i}].at"),
                    ErrorCode::ValidationFailed,
                    "Thời điểm phải theo RFC 3339",
                );
                None
            }
        };
        if let Some(a) = f.accuracy_m {
            if !(0.0..=10_000.0).contains(&a) {
                check.push(
                    &format!("[{i}].accuracy_m"),
                    ErrorCode::ValidationFailed,
                    "Độ chính xác từ 0 đến 10.000 m",
                );
            }
        }
        if let (Some(at), Some(prev)) = (at, fixes.last().map(|p: &Fix| p.at)) {
            if at <= prev {
                check.push(
                    &format!("[{i}].at"),
                    ErrorCode::ValidationFailed,
                    "Các vị trí phải theo thứ tự thời gian tăng dần",
                );
            }
        }
        if let Some(at) = at {
            fixes.push(Fix {
                lat: f.lat,
                lon: f.lon,
                at,
                accuracy_m: f.accuracy_m,
            });
        }
    }
    check.finish()?;
    Ok(fixes)
}

async fn post_positions(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<Vec<FixBody>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Courier])?;
    let fixes = check_batch(&body.0)?;
    let user = auth.id;
    let (accepted, ignored) = state
        .db
        .write(move |c| -> Result<(usize, usize), ApiError> {
            let courier = couriers::find_by_user(c, user)?.ok_or_else(|| {
                ApiError::new(ErrorCode::Forbidden, "Tài khoản chưa được gắn làm bưu tá")
            })?;
            // Replays of fixes already stored (an offline phone sending again) are dropped.
            let last = positions::last(c, courier.id)?.map(|p| p.at);
            let fresh: Vec<Fix> = fixes
                .iter()
                .copied()
                .filter(|f| last.is_none_or(|l| f.at > l))
                .collect();
            positions::record(c, courier.id, &fresh, now_utc())?;
            Ok((fresh.len(), fixes.len() - fresh.len()))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(json!({"accepted": accepted, "ignored": ignored})))
}

#[derive(Debug, Deserialize)]
struct LatestQuery {
    post_office_id: Option<i64>,
    /// Also list couriers who are off shift now.
    #[serde(default)]
    all: bool,
}

async fn latest(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<LatestQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    // A dispatcher sees their own post office.
    let office = match auth.role {
        Role::Dispatcher => auth.post_office_id.or(q.post_office_id),
        _ => q.post_office_id,
    };
    let all = q.all;
    let rows = state
        .db
        .read(move |c| -> Result<Vec<serde_json::Value>, ApiError> {
            let now_local = to_vn(now_utc()).naive_local();
            let list: Vec<_> = couriers::list(c, office)?
                .into_iter()
                .filter(|k| k.active)
                .filter(|k| {
                    let days: Vec<String> = serde_json::from_str(&k.days_off).unwrap_or_default();
                    all || Shift::parse(&k.shift_start, &k.shift_end, &days)
                        .is_some_and(|s| s.is_on(now_local))
                })
                .collect();
            let ids: Vec<i64> = list.iter().map(|k| k.id).collect();
            let last = positions::last_of(c, &ids)?;
            Ok(last
                .into_iter()
                .map(|p| {
                    let courier = list.iter().find(|k| k.id == p.courier_id);
                    json!({"courier_id": p.courier_id, "user_id": courier.map(|k| k.user_id),
                           "post_office_id": courier.map(|k| k.post_office_id),
                           "lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m,
                           "at": to_vn(p.at).to_rfc3339()})
                })
                .collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
