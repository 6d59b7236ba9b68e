//! Agencies: where dossiers are lodged.

use super::admin_units::ward_province;
use super::paging;
use super::places::PlaceBody;
use crate::auth::{AuthUser, Role};
use crate::db::models::agencies::{self, AgencyFilter, NewAgency};
use crate::db::now_utc;
use crate::domain::agency_hours::AgencyHours;
use crate::domain::text::fold;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/agencies", create)
        .get("/api/v1/agencies", list)
        .get("/api/v1/agencies/{id}", get);
}

/// Allowed agency levels.
pub const LEVELS: [&str; 2] = ["province", "commune"];

#[derive(Debug, Deserialize)]
struct CreateAgency {
    name: String,
    ward_code: String,
    address: String,
    lat: f64,
    lon: f64,
    level: String,
    opening_hours: Option<String>,
    opens_at: Option<String>,
    closes_at: Option<String>,
    lunch_start: Option<String>,
    lunch_end: Option<String>,
}

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<CreateAgency>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let body = body.into_inner();
    let mut check = Check::new();
    let place = PlaceBody {
        name: body.name,
        ward_code: body.ward_code,
        address: body.address,
        lat: body.lat,
        lon: body.lon,
    }
    .check(&mut check);
    let level = body.level.trim().to_owned();
    if !LEVELS.contains(&level.as_str()) {
        check.push(
            "level",
            ErrorCode::ValidationFailed,
            "Cấp cơ quan phải là 'province' hoặc 'commune'",
        );
    }
    let opening_hours = check.opt_line("opening_hours", body.opening_hours.as_deref(), 200);
    let hours = match AgencyHours::parse(
        body.opens_at.as_deref(),
        body.closes_at.as_deref(),
        body.lunch_start.as_deref(),
        body.lunch_end.as_deref(),
    ) {
        Ok(hours) => hours,
        Err(e) => {
            check.push(e.field, ErrorCode::ValidationFailed, e.message);
            None
        }
    };
    let hhmm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
    check.finish()?;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| -> Result<_, ApiError> {
            let province_code = ward_province(c, "ward_code", &place.ward_code)?;
            Ok(agencies::insert(
                c,
                &NewAgency {
                    name_folded: fold(&place.name),
                    name: place.name,
                    level,
                    ward_code: place.ward_code,
                    province_code,
                    address: place.address,
                    lat: place.lat,
                    lon: place.lon,
                    opening_hours,
                    created_at: now_utc(),
                    opens_at: hours.map(|h| hhmm(h.opens)),
                    closes_at: hours.map(|h| hhmm(h.closes)),
                    lunch_start: hours.and_then(|h| h.lunch).map(|l| hhmm(l.0)),
                    lunch_end: hours.and_then(|h| h.lunch).map(|l| hhmm(l.1)),
                },
            )?)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    province_code: Option<String>,
    level: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    _auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (after_id, limit) = paging(q.limit, q.cursor.as_deref())?;
    let q = q.into_inner();
    let filter = AgencyFilter {
        folded_query: fold(q.q.as_deref().unwrap_or("")),
        province_code: q.province_code.filter(|s| !s.is_empty()),
        level: q.level.filter(|s| !s.is_empty()),
        after_id,
        limit,
    };
    let page = state.db.read(move |c| agencies::list(c, &filter)).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn get(
    _auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let agency = state.db.read(move |c| agencies::find(c, id)).await?;
    agency
        .map(|a| HttpResponse::Ok().json(a))
        .ok_or_else(|| ApiError::not_found("cơ quan"))
}
