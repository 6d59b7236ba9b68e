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
    let answer = with_lease(&state, office, date, async {
        crate::dispatch::auto_assign(&state, &auth, office, date).await
    })
    .await?;
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
    let answer = with_lease(&state, office, date, async {
        crate::plan::plan(&state, &auth, office, date).await
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Runs one planning job (route plan or auto-assignment) for a post office's day while
/// holding its lease, on whichever node: a second one meanwhile is refused with 409
/// instead of planning the same work from the same snapshot. A node that dies leaves
/// the lease to expire.
async fn with_lease<T>(
    state: &AppState,
    office: i64,
    date: NaiveDate,
    job: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    use crate::db::models::leases;
    let holder = crate::bootstrap::random_hex(8);
    let hold = chrono::Duration::milliseconds(state.settings.plan_time_limit_ms as i64)
        + chrono::Duration::seconds(60);
    let who = holder.clone();
    let taken = state
        .db
        .write(move |c| -> Result<bool, ApiError> {
            let now = crate::db::now_utc();
            Ok(leases::acquire(c, office, date, &who, now, now + hold)?)
        })
        .await?;
    if !taken {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Bưu cục này đang được lập lộ trình hoặc phân công cho ngày {}; vui lòng đợi vài giây rồi xem kết quả",
                date.format("%d/%m/%Y")
            ),
        ));
    }
    let out = job.await;
    let released = state
        .db
        .write(move |c| -> Result<(), ApiError> { Ok(leases::release(c, office, date, &holder)?) })
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e.detail, "planning lease not released; it expires by itself");
    }
    out
}
