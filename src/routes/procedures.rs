//! The procedure catalogue, with accent-insensitive search.

use super::agencies::LEVELS;
use crate::auth::{AuthUser, Role};
use crate::db::models::procedures::{self, ProcedureRow};
use crate::db::now_utc;
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
    r.post("/api/v1/procedures", create)
        .get("/api/v1/procedures", search)
        .get("/api/v1/procedures/{code}", get);
}

/// Most search results returned at once.
const SEARCH_LIMIT: i64 = 500;
/// Most required documents a procedure may list.
const MAX_DOCUMENTS: usize = 50;

#[derive(Debug, Deserialize)]
struct CreateProcedure {
    code: String,
    name: String,
    agency_level: String,
    agency_fee_vnd: i64,
    processing_days: i64,
    required_documents: Vec<String>,
}

fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<CreateProcedure>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let code = b.code.trim().to_owned();
    if !valid_code(&code) {
        check.push(
            "code",
            ErrorCode::ValidationFailed,
            "Mã thủ tục gồm 1–32 ký tự: chữ, số, dấu chấm, gạch ngang, gạch dưới",
        );
    }
    let name = check.line("name", &b.name, 500);
    let level = b.agency_level.trim().to_owned();
    if !LEVELS.contains(&level.as_str()) {
        check.push(
            "agency_level",
            ErrorCode::ValidationFailed,
            "Cấp cơ quan phải là 'province' hoặc 'commune'",
        );
    }
    check.range("agency_fee_vnd", b.agency_fee_vnd, 0, 100_000_000);
    check.range("processing_days", b.processing_days, 0, 365);
    if b.required_documents.len() > MAX_DOCUMENTS {
        check.push(
            "required_documents",
            ErrorCode::ValidationFailed,
            format!("Tối đa {MAX_DOCUMENTS} giấy tờ"),
        );
    }
    let documents: Vec<String> = b
        .required_documents
        .iter()
        .enumerate()
        .map(|(i, d)| check.line(&format!("required_documents[{i}]"), d, 300))
        .collect();
    check.finish()?;
    let row = ProcedureRow {
        name_folded: fold(&name),
        code,
        name,
        agency_level: level,
        agency_fee_vnd: b.agency_fee_vnd,
        processing_days: b.processing_days as i32,
        required_documents: serde_json::to_string(&documents).map_err(ApiError::internal)?,
        created_at: now_utc(),
    };
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| -> Result<_, ApiError> {
            if procedures::find(c, &row.code)?.is_some() {
                return Err(ApiError::new(
                    ErrorCode::AlreadyExists,
                    format!("Mã thủ tục '{}' đã có", row.code),
                ));
            }
            Ok(procedures::insert(c, &row)?)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
    agency_level: Option<String>,
}

async fn search(
    _auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let folded = fold(q.q.as_deref().unwrap_or(""));
    if folded.len() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "Từ khóa tìm kiếm quá dài",
        ));
    }
    let level = q.agency_level.clone().filter(|l| !l.is_empty());
    if let Some(l) = &level {
        if !LEVELS.contains(&l.as_str()) {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "agency_level không hợp lệ",
            ));
        }
    }
    let rows = state
        .db
        .read(move |c| procedures::search(c, &folded, level.as_deref(), SEARCH_LIMIT))
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn get(
    _auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let found = state.db.read(move |c| procedures::find(c, &code)).await?;
    found
        .map(|p| HttpResponse::Ok().json(p))
        .ok_or_else(|| ApiError::not_found("thủ tục"))
}
