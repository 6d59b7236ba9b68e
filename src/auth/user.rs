//! The caller, extracted from `Authorization: Bearer <jwt>`.

use super::jwt::{Claims, JwtKeys};
use super::Role;
use crate::error::ApiError;
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// An authenticated staff member. Extracting it answers 401 when the token is
/// missing, malformed, tampered with or expired.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
    pub post_office_id: Option<i64>,
    pub agency_id: Option<i64>,
}

impl AuthUser {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    fn from_claims(c: Claims) -> Result<Self, ApiError> {
        let id = c
            .sub
            .parse()
            .map_err(|_| ApiError::unauthorized("Mã thông báo không hợp lệ"))?;
        Ok(Self {
            id,
            role: c.role,
            post_office_id: c.post_office_id,
            agency_id: c.agency_id,
        })
    }
}

/// The caller of `req`, from its bearer token (401 when missing or invalid).
pub fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| ApiError::internal("JwtKeys not configured"))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("Thiếu mã thông báo đăng nhập (Authorization: Bearer)")
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("Tiêu đề Authorization phải có dạng 'Bearer <mã>'")
        })?;
    let claims = keys
        .verify(token)
        .map_err(|_| ApiError::unauthorized("Mã thông báo không hợp lệ hoặc đã hết hạn"))?;
    AuthUser::from_claims(claims)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
