//! Couriers: a courier-role user at a post office with shift and capacity.

use crate::auth::{AuthUser, Role};
use crate::db::models::couriers::{self, NewCourier};
use crate::db::models::{post_offices, users, zones};
use crate::db::now_utc;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveTime;
use serde::Deserialize;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/couriers", create)
        .get("/api/v1/couriers", list);
}

#[derive(Debug, Deserialize)]
struct CreateCourier {
    user_id: i64,
    post_office_id: i64,
    #[serde(default)]
    zone_ids: Vec<i64>,
    capacity: i64,
    shift_start: String,
    shift_end: String,
    vehicle: Option<String>,
    #[serde(default)]
    days_off: Vec<String>,
}

/// Weekday names accepted in `days_off` (besides `YYYY-MM-DD` dates).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<CreateCourier>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    check.range("capacity", b.capacity, 1, 1000);
    let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
    let (start, end) = (time(&b.shift_start), time(&b.shift_end));
    if start.is_none() {
        check.push(
            "shift_start",
            ErrorCode::ValidationFailed,
            "Giờ bắt đầu ca theo dạng HH:MM",
        );
    }
    if end.is_none() {
        check.push(
            "shift_end",
            ErrorCode::ValidationFailed,
            "Giờ kết thúc ca theo dạng HH:MM",
        );
    }
    if let (Some(s), Some(e)) = (start, end) {
        if s >= e {
            check.push(
                "shift_end",
                ErrorCode::ValidationFailed,
                "Giờ kết thúc ca phải sau giờ bắt đầu",
            );
        }
    }
    if b.zone_ids.len() > 100 {
        check.push(
            "zone_ids",
            ErrorCode::ValidationFailed,
            "Tối đa 100 khu vực",
        );
    }
    let zone_ids = b.zone_ids.clone();
    let vehicle = check.opt_line("vehicle", b.vehicle.as_deref(), 50);
    let mut days_off = Vec::new();
    for (i, d) in b.days_off.iter().enumerate() {
        let d = d.trim().to_lowercase();
        let is_date = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_ok();
        if (WEEKDAYS.contains(&d.as_str()) || is_date) && days_off.len() < 400 {
            days_off.push(d);
        } else {
            check.push(
                &format!("days_off[{i}]"),
                ErrorCode::ValidationFailed,
                "Ngày nghỉ là thứ trong tuần (mon…sun) hoặc ngày YYYY-MM-DD",
            );
        }
    }
    check.finish()?;
    let new = NewCourier {
        user_id: b.user_id,
        post_office_id: b.post_office_id,
        capacity: b.capacity as i32,
        shift_start: start
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default(),
        shift_end: end
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default(),
        vehicle,
        active: true,
        created_at: now_utc(),
        days_off: serde_json::to_string(&days_off).map_err(ApiError::internal)?,
    };
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| -> Result<_, ApiError> {
            let mut check = Check::new();
            match users::find(c, new.user_id)? {
                Some(u) if u.role == "courier" => {}
                _ => check.push(
                    "user_id",
                    ErrorCode::ValidationFailed,
                    "Cần một người dùng có vai trò courier",
                ),
            }
            if post_offices::find(c, new.post_office_id)?.is_none() {
                check.push(
                    "post_office_id",
                    ErrorCode::ValidationFailed,
                    "Bưu cục không tồn tại",
                );
            }
            for (i, z) in zone_ids.iter().enumerate() {
                match zones::find(c, *z)? {
                    Some(zone) if zone.post_office_id == new.post_office_id => {}
                    _ => check.push(
                        &format!("zone_ids[{i}]"),
                        ErrorCode::ValidationFailed,
                        "Khu vực không tồn tại hoặc thuộc bưu cục khác",
                    ),
                }
            }
            check.finish()?;
            if couriers::find_by_user(c, new.user_id)?.is_some() {
                return Err(ApiError::new(
                    ErrorCode::AlreadyExists,
                    "Người dùng này đã là bưu tá",
                ));
            }
            let courier = couriers::insert(c, &new)?;
            zones::set_courier_zones(c, courier.id, &zone_ids)?;
            with_zones(c, vec![courier]).map(|mut v| v.remove(0))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    post_office_id: Option<i64>,
}

async fn list(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin, Role::Dispatcher])?;
    let po = q.post_office_id;
    let rows = state
        .db
        .read(move |c| -> Result<_, ApiError> {
            let list = couriers::list(c, po)?;
            with_zones(c, list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Couriers as served: the row plus their zone ids and the person's name.
fn with_zones(
    c: &mut crate::db::DbConnection,
    list: Vec<couriers::Courier>,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let ids: Vec<i64> = list.iter().map(|k| k.id).collect();
    let pairs = zones::courier_zone_pairs(c, &ids)?;
    list.into_iter()
        .map(|k| {
            let mut v = serde_json::to_value(&k).map_err(ApiError::internal)?;
            let mine: Vec<i64> = pairs
                .iter()
                .filter(|(cid, _)| *cid == k.id)
                .map(|(_, z)| *z)
                .collect();
            v["zone_ids"] = serde_json::json!(mine);
            v["full_name"] = serde_json::json!(
                crate::db::models::users::find(c, k.user_id)?.map(|u| u.full_name)
            );
            Ok(v)
        })
        .collect()
}
