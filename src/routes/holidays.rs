//! Public holidays used by working-day deadlines; admins replace the list whole.

use crate::auth::{AuthUser, Role};
use crate::db::models::holidays::{self, Holiday};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashSet;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/holidays", list)
        .put("/api/v1/holidays", replace);
}

/// Most holidays kept at once (several years ahead).
const MAX_HOLIDAYS: usize = 1000;

#[derive(Debug, Deserialize)]
struct HolidayBody {
    date: NaiveDate,
    name: String,
}

async fn list(_auth: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state.db.read(holidays::list).await?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn replace(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<Vec<HolidayBody>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let body = body.into_inner();
    let mut check = Check::new();
    if body.len() > MAX_HOLIDAYS {
        check.push(
            "body",
            ErrorCode::ValidationFailed,
            format!("Tối đa {MAX_HOLIDAYS} ngày nghỉ"),
        );
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(body.len());
    for (i, h) in body.iter().enumerate() {
        let name = check.line(&format!("[{i}].name"), &h.name, 200);
        if !seen.insert(h.date) {
            check.push(
                &format!("[{i}].date"),
                ErrorCode::ValidationFailed,
                "Ngày bị trùng",
            );
        }
        let year = chrono::Datelike::year(&h.date);
        if !(2000..=2100).contains(&year) {
            check.push(
                &format!("[{i}].date"),
                ErrorCode::ValidationFailed,
                "Năm phải trong khoảng 2000–2100",
            );
        }
        rows.push(Holiday { day: h.date, name });
    }
    check.finish()?;
    rows.sort_by_key(|h| h.day);
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::OK,
        move |c| -> Result<_, ApiError> {
            holidays::replace_all(c, &rows)?;
            Ok(holidays::list(c)?)
        },
    )
    .await
}
