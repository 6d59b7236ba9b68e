//! Provinces and communes of the 2025 map, with accent-insensitive search.

use crate::auth::AuthUser;
use crate::db::models::admin_units;
use crate::db::DbConnection;
use crate::domain::text::fold;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/admin-units/provinces", provinces)
        .get("/api/v1/admin-units/provinces/{code}/wards", wards)
        .put("/api/v1/admin-units/wards/{code}/centre", set_centre);
}

/// The province of a ward, or a 422 `unknown_ward_code` on `field`.
pub fn ward_province(conn: &mut DbConnection, field: &str, code: &str) -> Result<String, ApiError> {
    let code = code.trim();
    let ward = if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        admin_units::find_ward(conn, code)?
    } else {
        None
    };
    ward.map(|w| w.province_code).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            field,
            ErrorCode::UnknownWardCode,
            format!("Mã xã/phường '{code}' không có trong danh mục 2025"),
        )])
    })
}

async fn provinces(_auth: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state.db.read(admin_units::list_provinces).await?;
    Ok(HttpResponse::Ok().json(rows))
}

#[derive(Debug, Deserialize)]
struct WardQuery {
    q: Option<String>,
}

async fn wards(
    _auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<WardQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let folded = fold(q.q.as_deref().unwrap_or(""));
    if folded.len() > 100 {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "Từ khóa tìm kiếm quá dài",
        ));
    }
    let rows = state
        .db
        .read(move |c| -> Result<_, ApiError> {
            if !admin_units::province_exists(c, &code)? {
                return Err(ApiError::not_found("tỉnh/thành phố này"));
            }
            Ok(admin_units::list_wards(c, &code, &folded)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

#[derive(Debug, Deserialize)]
struct CentreBody {
    lat: f64,
    lon: f64,
}

async fn set_centre(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: crate::extract::Json<CentreBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[crate::auth::Role::Admin])?;
    let code = path.into_inner();
    let body = body.into_inner();
    let mut check = crate::validate::Check::new();
    check.latlon("", body.lat, body.lon);
    check.finish()?;
    let ward = state
        .db
        .write(move |c| -> Result<_, ApiError> {
            if !admin_units::set_centre(c, &code, body.lat, body.lon)? {
                return Err(ApiError::not_found("xã/phường này"));
            }
            Ok(admin_units::find_ward(c, &code)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ward))
}
