//! Post offices: courier bases.

use super::admin_units::ward_province;
use super::paging;
use super::places::PlaceBody;
use crate::auth::{AuthUser, Role};
use crate::db::models::post_offices::{self, NewPostOffice, PostOfficeFilter};
use crate::db::now_utc;
use crate::domain::text::fold;
use crate::error::ApiError;
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/post-offices", create)
        .get("/api/v1/post-offices", list)
        .get("/api/v1/post-offices/{id}", get);
}

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<PlaceBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let mut check = Check::new();
    let place = body.into_inner().check(&mut check);
    check.finish()?;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| -> Result<_, ApiError> {
            let province_code = ward_province(c, "ward_code", &place.ward_code)?;
            Ok(post_offices::insert(
                c,
                &NewPostOffice {
                    name_folded: fold(&place.name),
                    name: place.name,
                    ward_code: place.ward_code,
                    province_code,
                    address: place.address,
                    lat: place.lat,
                    lon: place.lon,
                    created_at: now_utc(),
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
    let filter = PostOfficeFilter {
        folded_query: fold(q.q.as_deref().unwrap_or("")),
        province_code: q.province_code.filter(|s| !s.is_empty()),
        after_id,
        limit,
    };
    let page = state
        .db
        .read(move |c| post_offices::list(c, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn get(
    _auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let office = state.db.read(move |c| post_offices::find(c, id)).await?;
    office
        .map(|o| HttpResponse::Ok().json(o))
        .ok_or_else(|| ApiError::not_found("bưu cục"))
}
