//! Citizens' complaints (entered by an operator) and their answers. The answer is due
//! by the close of the 5th working day when the agency is in the province of the
//! citizen's address, the 7th otherwise (holidays excluded).

use super::paging;
use crate::auth::{AuthUser, Role};
use crate::db::models::complaints::{self, Complaint, ComplaintFilter, NewComplaint};
use crate::db::models::{agencies, dossiers, holidays, Page};
use crate::db::{now_utc, DbConnection};
use crate::domain::deadlines::{
    complaint_answer_by, complaint_window_closes, ComplaintScope, DeadlinePolicy, WorkCalendar,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::timefmt::to_vn;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/dossiers/{tracking_code}/complaints", create)
        .get("/api/v1/complaints", list)
        .post("/api/v1/complaints/{id}/answer", answer);
}

const ROLES: [Role; 3] = [Role::Operator, Role::Dispatcher, Role::Admin];

/// A complaint as clients see it; `overdue` is judged at `now`.
pub fn view(c: &Complaint, tracking_code: &str, now: NaiveDateTime) -> Value {
    let t = |t: NaiveDateTime| to_vn(t).to_rfc3339();
    json!({
        "id": c.id, "dossier_id": c.dossier_id, "tracking_code": tracking_code,
        "content": c.content, "scope": c.scope, "status": c.status,
        "received_at": t(c.received_at), "due_at": t(c.due_at),
        "overdue": c.status == "open" && c.due_at < now,
        "answer": c.answer, "answered_at": c.answered_at.map(t), "answered_by": c.answered_by,
        "answered_late": c.answered_at.map(|a| a > c.due_at),
    })
}

fn code_of(c: &mut DbConnection, dossier_id: i64) -> Result<String, ApiError> {
    Ok(dossiers::find(c, dossier_id)?
        .map(|d| d.tracking_code)
        .unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct ComplaintBody {
    content: String,
}

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<ComplaintBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let digest = body.digest().to_owned();
    let mut check = Check::new();
    let content = check.line("content", &body.into_inner().content, 2000);
    check.finish()?;
    let code = code.into_inner().trim().to_uppercase();
    let who = auth.id;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            let d =
                dossiers::find_by_code(c, &code)?.ok_or_else(|| ApiError::not_found("hồ sơ"))?;
            let agency =
                agencies::find(c, d.agency_id)?.ok_or_else(|| ApiError::not_found("cơ quan"))?;
            let now = now_utc();
            let policy = DeadlinePolicy::default();
            if matches!(d.status.as_str(), "completed" | "cancelled") {
                let closed_on = to_vn(d.updated_at).date_naive();
                if to_vn(now).date_naive() > complaint_window_closes(&policy, closed_on) {
                    return Err(ApiError::new(
                        ErrorCode::ValidationFailed,
                        "Đã quá thời hạn khiếu nại (6 tháng kể từ khi hồ sơ kết thúc)",
                    ));
                }
            }
            let scope = if agency.province_code == d.province_code {
                ComplaintScope::WithinProvince
            } else {
                ComplaintScope::AcrossProvinces
            };
            let calendar = WorkCalendar::new(holidays::list(c)?.into_iter().map(|h| h.day));
            let due = complaint_answer_by(&calendar, &policy, &to_vn(now), scope).naive_utc();
            let id = complaints::insert(
                c,
                &NewComplaint {
                    dossier_id: d.id,
                    content,
                    scope: match scope {
                        ComplaintScope::WithinProvince => "within_province",
                        ComplaintScope::AcrossProvinces => "across_provinces",
                    }
                    .into(),
                    status: "open".into(),
                    received_at: now,
                    due_at: due,
                    created_by: who,
                    created_at: now,
                },
            )?;
            let row = complaints::find(c, id)?.ok_or_else(|| ApiError::not_found("khiếu nại"))?;
            Ok(view(&row, &d.tracking_code, now))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    overdue: Option<bool>,
    tracking_code: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let q = q.into_inner();
    let (after_id, limit) = paging(q.limit, q.cursor.as_deref())?;
    let status = q.status.filter(|s| !s.is_empty());
    if status
        .as_deref()
        .is_some_and(|s| s != "open" && s != "answered")
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "status phải là open hoặc answered",
        ));
    }
    let code = q
        .tracking_code
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    let now = now_utc();
    let items = state
        .db
        .read(move |c| -> Result<Value, ApiError> {
            let dossier_id = match code {
                Some(code) => Some(
                    dossiers::find_by_code(c, &code)?
                        .ok_or_else(|| ApiError::not_found("hồ sơ"))?
                        .id,
                ),
                None => None,
            };
            let f = ComplaintFilter {
                status,
                dossier_id,
                overdue_at: q.overdue.unwrap_or(false).then_some(now),
                after_id,
                limit,
            };
            let page = Page::from_rows(complaints::list(c, &f)?, limit, |r| r.id);
            let mut items = Vec::new();
            for row in &page.items {
                items.push(view(row, &code_of(c, row.dossier_id)?, now));
            }
            Ok(json!({"items": items, "next_cursor": page.next_cursor}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize)]
struct AnswerBody {
    answer: String,
}

async fn answer(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<AnswerBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let digest = body.digest().to_owned();
    let mut check = Check::new();
    let text = check.line("answer", &body.into_inner().answer, 4000);
    check.finish()?;
    let id = id.into_inner();
    let who = auth.id;
    idempotency::write(&state, &auth, &req, &digest, StatusCode::OK, move |c| {
        complaints::find(c, id)?.ok_or_else(|| ApiError::not_found("khiếu nại"))?;
        let now = now_utc();
        if !complaints::answer(c, id, &text, who, now)? {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "Khiếu nại này đã được trả lời",
            ));
        }
        let row = complaints::find(c, id)?.ok_or_else(|| ApiError::not_found("khiếu nại"))?;
        Ok(view(&row, &code_of(c, row.dossier_id)?, now))
    })
    .await
}
