//! The dispatcher's machine: auto-assignment.

use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::Json;
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/dispatch/auto-assign", auto_assign)
        .post("/api/v1/dispatch/plan", plan);
}

#[derive(Debug, Deserialize)]
struct AutoAssignBody {
    post_office_id: Option<i64>,
    date: Option<NaiveDate>,
}

/// The post office a dispatcher works for, or the one an admin names.
fn office_of(auth: &AuthUser, asked: Option<i64>) -> Result<i64, ApiError> {
    match (auth.role, auth.post_office_id, asked) {
        (Role::Dispatcher, Some(own), Some(other)) if own != other => Err(ApiError::forbidden()),
        (Role::Dispatcher, Some(own), _) => Ok(own),
        (_, _, Some(asked)) => Ok(asked),
        _ => Err(ApiError::validation(vec![FieldError::new(
            "post_office_id",
            ErrorCode::ValidationFailed,
            "Cần chọn bưu cục",
        )])),
    }
}

async fn auto_assign(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<AutoAssignBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    let b = body.into_inner();
    let office = office_of(&auth, b.post_office_id)?;
    let date = b
        .date
        .unwrap_or_else(|| crate::timefmt::to_vn(crate::db::now_utc()).date_naive());
    let answer = crate::dispatch::auto_assign(&state, &auth, office, date).await?;
    Ok(HttpResponse::Ok().json(answer))
}

async fn plan(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<AutoAssignBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Dispatcher, Role::Admin])?;
    let b = body.into_inner();
    let office = office_of(&auth, b.post_office_id)?;
    let date = b
        .date
        .unwrap_or_else(|| crate::timefmt::to_vn(crate::db::now_utc()).date_naive());
    let answer = crate::plan::plan(&state, &auth, office, date).await?;
    Ok(HttpResponse::Ok().json(answer))
}
