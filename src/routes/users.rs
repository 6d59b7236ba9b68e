//! Staff accounts, managed by admins.

use super::paging;
use crate::auth::{password, AuthUser, Role};
use crate::db::models::{agencies, post_offices, users};
use crate::db::now_utc;
use crate::domain::phone::Phone;
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
    r.post("/api/v1/users", create).get("/api/v1/users", list);
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub full_name: String,
    pub role: String,
    pub post_office_id: Option<i64>,
    pub agency_id: Option<i64>,
    pub phone: Option<String>,
}

/// A user ready to store: every field checked, the password still in clear.
pub struct ValidUser {
    pub new: users::NewUser,
    pub password: String,
}

/// Checks a user body (shape only; references are checked in the transaction).
pub fn validate(body: CreateUser) -> Result<ValidUser, ApiError> {
    let mut check = Check::new();
    let username = body.username.trim().to_lowercase();
    let username_ok = (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !username_ok {
        check.push(
            "username",
            ErrorCode::ValidationFailed,
            "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới, gạch ngang",
        );
    }
    let pw_len = body.password.chars().count();
    if !(8..=128).contains(&pw_len) {
        check.push(
            "password",
            ErrorCode::ValidationFailed,
            "Mật khẩu phải dài 8–128 ký tự",
        );
    }
    let full_name = check.line("full_name", &body.full_name, 200);
    let role = Role::parse(body.role.trim());
    if role.is_none() {
        check.push(
            "role",
            ErrorCode::ValidationFailed,
            "Vai trò phải là một trong: admin, dispatcher, operator, courier, clerk",
        );
    }
    if role == Some(Role::Clerk) && body.agency_id.is_none() {
        check.push(
            "agency_id",
            ErrorCode::ValidationFailed,
            "Cán bộ một cửa phải thuộc một cơ quan",
        );
    }
    if matches!(role, Some(Role::Courier | Role::Dispatcher)) && body.post_office_id.is_none() {
        check.push(
            "post_office_id",
            ErrorCode::ValidationFailed,
            "Bưu tá và điều phối viên phải thuộc một bưu cục",
        );
    }
    let phone = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match Phone::parse(p) {
            Ok(p) => Some(p.as_str().to_owned()),
            Err(_) => {
                check.push(
                    "phone",
                    ErrorCode::ValidationFailed,
                    "Số điện thoại Việt Nam không hợp lệ",
                );
                None
            }
        },
    };
    check.finish()?;
    Ok(ValidUser {
        new: users::NewUser {
            username,
            password_hash: String::new(),
            full_name,
            role: role.map(Role::as_str).unwrap_or_default().to_owned(),
            post_office_id: body.post_office_id,
            agency_id: body.agency_id,
            phone,
            active: true,
            created_at: now_utc(),
        },
        password: body.password,
    })
}

/// Stores a checked user: references must exist, the username must be free.
pub fn insert(
    conn: &mut crate::db::DbConnection,
    new: &users::NewUser,
) -> Result<users::User, ApiError> {
    let mut check = Check::new();
    if let Some(id) = new.post_office_id {
        if post_offices::find(conn, id)?.is_none() {
            check.push(
                "post_office_id",
                ErrorCode::ValidationFailed,
                "Bưu cục không tồn tại",
            );
        }
    }
    if let Some(id) = new.agency_id {
        if agencies::find(conn, id)?.is_none() {
            check.push(
                "agency_id",
                ErrorCode::ValidationFailed,
                "Cơ quan không tồn tại",
            );
        }
    }
    check.finish()?;
    if users::find_by_username(conn, &new.username)?.is_some() {
        return Err(ApiError::new(
            ErrorCode::AlreadyExists,
            format!("Tên đăng nhập '{}' đã được dùng", new.username),
        ));
    }
    Ok(users::insert(conn, new)?)
}

#[tracing::instrument(skip_all, fields(admin = auth.id))]
async fn create(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let ValidUser {
        mut new,
        password: pw,
    } = validate(body.into_inner())?;
    new.password_hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            let user = insert(c, &new)?;
            tracing::info!(user_id = user.id, role = %user.role, "user created");
            Ok(user)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    role: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let (after, limit) = paging(q.limit, q.cursor.as_deref())?;
    let role = match q.role.as_deref() {
        None | Some("") => None,
        Some(r) => Some(
            Role::parse(r)
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidQuery, "role không hợp lệ"))?
                .as_str(),
        ),
    };
    let page = state
        .db
        .read(move |c| users::list(c, role, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
