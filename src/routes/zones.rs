//! Zones: GeoJSON areas served by a post office.

use crate::auth::{AuthUser, Role};
use crate::db::models::{post_offices, zones};
use crate::db::now_utc;
use crate::domain::zones::{parse_area, ZoneError};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/zones", create).get("/api/v1/zones", list);
}

/// A refused geometry as a 422 naming the problem.
pub fn geometry_error(field: &str, e: &ZoneError) -> ApiError {
    let code = if e.code() == "outside_vietnam" {
        ErrorCode::OutsideVietnam
    } else {
        ErrorCode::InvalidGeometry
    };
    ApiError::validation(vec![FieldError::new(
        field,
        code,
        format!("{} ({})", e.message_vi(), e.code()),
    )])
}

/// A zone as served.
pub fn zone_json(z: &zones::Zone) -> Value {
    json!({
        "id": z.id, "name": z.name, "post_office_id": z.post_office_id,
        "area": serde_json::from_str::<Value>(&z.area).unwrap_or(Value::Null),
        "created_at": crate::timefmt::to_vn(z.created_at).to_rfc3339(),
    })
}

#[derive(Debug, Deserialize)]
struct CreateZone {
    name: String,
    post_office_id: i64,
    area: Value,
}

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<CreateZone>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let name = check.line("name", &b.name, 200);
    check.finish()?;
    parse_area(&b.area).map_err(|e| geometry_error("area", &e))?;
    let area = b.area.to_string();
    let office = b.post_office_id;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            if post_offices::find(c, office)?.is_none() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "post_office_id",
                    ErrorCode::ValidationFailed,
                    "Bưu cục không tồn tại",
                )]));
            }
            let id = zones::insert(c, &name, office, &area, now_utc())?;
            let zone = zones::find(c, id)?.ok_or_else(|| ApiError::not_found("khu vực"))?;
            Ok(zone_json(&zone))
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
    auth.require(&[Role::Admin, Role::Dispatcher, Role::Operator])?;
    let office = q.post_office_id;
    let rows = state.db.read(move |c| zones::list(c, office)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(zone_json).collect::<Vec<_>>()))
}
