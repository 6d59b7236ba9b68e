//! Hotline intake: pickup requests and returning callers.

use super::paging;
use crate::auth::{AuthUser, Role};
use crate::db::models::dossiers::{self, DossierFilter};
use crate::db::models::{citizens, Page};
use crate::domain::dossier::DossierStatus;
use crate::domain::phone::Phone;
use crate::dossiers::intake;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/pickup-requests", create)
        .get("/api/v1/pickup-requests", search)
        .get("/api/v1/citizens", citizen_by_phone);
}

/// Roles that take calls.
const INTAKE_ROLES: [Role; 3] = [Role::Operator, Role::Dispatcher, Role::Admin];

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<intake::PickupRequestBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&INTAKE_ROLES)?;
    let digest = body.digest().to_owned();
    let valid = intake::validate(body.into_inner())?;
    let tariff = state.settings.tariff().map_err(ApiError::internal)?;
    let prefix = state.settings.tracking_prefix.clone();
    let who = auth.clone();
    let zones = state.zones.clone();
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            let index = zones.get(c)?;
            let id = intake::create(c, &who, valid, &tariff, &prefix, &index)?;
            super::dossiers::staff_view(c, id, who.role)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    status: Option<String>,
    phone: Option<String>,
    ward_code: Option<String>,
    agency_id: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn bad_query(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("Tham số {what} không hợp lệ"),
    )
}

/// `YYYY-MM-DD` (local day start) or RFC 3339.
fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(crate::timefmt::vn()).single())
        .map(|t| t.naive_utc())
}

async fn search(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Operator, Role::Dispatcher, Role::Admin, Role::Clerk])?;
    let (after_id, limit) = paging(q.limit, q.cursor.as_deref())?;
    let q = q.into_inner();
    let nonempty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let status = match nonempty(q.status) {
        Some(s) => Some(
            DossierStatus::parse(&s)
                .map_err(|_| bad_query("status"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let phone = match nonempty(q.phone) {
        Some(p) => Some(
            Phone::parse(&p)
                .map_err(|_| bad_query("phone"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let from = match nonempty(q.from) {
        Some(s) => Some(parse_time(&s).ok_or_else(|| bad_query("from"))?),
        None => None,
    };
    let to = match nonempty(q.to) {
        Some(s) => Some(parse_time(&s).ok_or_else(|| bad_query("to"))?),
        None => None,
    };
    // A clerk sees only their own agency's dossiers.
    let agency_id = if auth.role == Role::Clerk {
        auth.agency_id.or(Some(-1))
    } else {
        q.agency_id
    };
    let filter = DossierFilter {
        status,
        phone,
        ward_code: nonempty(q.ward_code),
        agency_id,
        from,
        to,
        after_id,
        limit,
    };
    let rows = state.db.read(move |c| dossiers::search(c, &filter)).await?;
    let page = Page::from_rows(rows, limit, |d| d.id);
    let items: Vec<_> = page
        .items
        .iter()
        .map(|d| {
            json!({"id": d.id, "tracking_code": d.tracking_code, "status": d.status,
                   "status_label": DossierStatus::parse(&d.status).map(|s| s.label_vi()).unwrap_or(""),
                   "citizen_name": d.citizen_name, "phone": d.phone, "ward_code": d.ward_code,
                   "street": d.street, "procedure_code": d.procedure_code, "agency_id": d.agency_id,
                   "service": d.service, "return_method": d.return_method,
                   "created_at": crate::timefmt::to_vn(d.created_at).to_rfc3339()})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": page.next_cursor})))
}

#[derive(Debug, Deserialize)]
struct CitizenQuery {
    phone: String,
}

async fn citizen_by_phone(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<CitizenQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&INTAKE_ROLES)?;
    let phone = Phone::parse(&q.phone).map_err(|_| bad_query("phone"))?;
    let found = state
        .db
        .read(move |c| -> Result<_, ApiError> {
            let Some(citizen) = citizens::find_by_phone(c, phone.as_str())? else {
                return Ok(None);
            };
            let places = citizens::places(c, citizen.id)?;
            Ok(Some((citizen, places)))
        })
        .await?;
    let (citizen, places) =
        found.ok_or_else(|| ApiError::not_found("người dân với số điện thoại này"))?;
    let mut v = serde_json::to_value(&citizen).map_err(ApiError::internal)?;
    if !super::dossiers::SEE_ID_NUMBERS.contains(&auth.role) {
        super::dossiers::mask_id_number_at(&mut v, "/id_number");
    }
    v["addresses"] = serde_json::to_value(&places).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(v))
}
