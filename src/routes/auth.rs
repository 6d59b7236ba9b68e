//! Login, refresh-token rotation and logout.

use crate::auth::jwt::{Claims, JwtKeys, ACCESS_TTL_SECS};
use crate::auth::{password, AuthUser, Role};
use crate::db::models::refresh_tokens::{self, NewRefreshToken};
use crate::db::models::users::{self, User};
use crate::db::{now_utc, DbConnection, StoreError};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// Lifetime of a refresh token.
const REFRESH_TTL_DAYS: i64 = 30;

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/auth/login", login)
        .post("/api/v1/auth/refresh", refresh)
        .post("/api/v1/auth/logout", logout);
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

/// The token pair answered by login and refresh.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
    role: Role,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "Tên đăng nhập hoặc mật khẩu không đúng",
    )
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Stores a fresh refresh token in `family` and returns it in clear (only once).
fn issue_refresh(
    conn: &mut DbConnection,
    user_id: i64,
    family: &str,
) -> Result<String, StoreError> {
    let token = new_secret();
    let now = now_utc();
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id,
            token_hash: &hash_token(&token),
            family,
            expires_at: now + chrono::Duration::days(REFRESH_TTL_DAYS),
            created_at: now,
        },
    )?;
    Ok(token)
}

fn token_pair(keys: &JwtKeys, user: &User, refresh_token: String) -> Result<TokenPair, ApiError> {
    let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal("unknown role stored"))?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user.id.to_string(),
        role,
        post_office_id: user.post_office_id,
        agency_id: user.agency_id,
        iat: now,
        exp: now + ACCESS_TTL_SECS,
    };
    Ok(TokenPair {
        access_token: keys.sign(&claims).map_err(ApiError::internal)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        role,
    })
}

fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[tracing::instrument(skip_all, fields(username = %body.0.username))]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    keys: web::Data<JwtKeys>,
    body: Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let LoginBody {
        username,
        password: pw,
    } = body.into_inner();
    let mut check = Check::new();
    let username = check.line("username", &username, 64).to_lowercase();
    if pw.is_empty() || pw.chars().count() > 256 {
        check.push(
            "password",
            ErrorCode::ValidationFailed,
            "Mật khẩu không hợp lệ",
        );
    }
    check.finish()?;

    let ip = client_ip(&req);
    if let Err(wait) = state.login_limiter.check(&username, ip, Instant::now()) {
        return Err(ApiError::rate_limited(wait));
    }
    let found = {
        let username = username.clone();
        state
            .db
            .read(move |c| users::find_by_username(c, &username))
            .await?
    };
    // Argon2 is CPU work: keep it off the async workers. Unknown users cost the same.
    let user = tokio::task::spawn_blocking(move || match found {
        Some(u) if password::verify(&pw, &u.password_hash) && u.active => Some(u),
        Some(_) => None,
        None => {
            password::verify_dummy(&pw);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = user else {
        state.login_limiter.record(&username, ip, Instant::now());
        tracing::info!("login refused");
        return Err(invalid_credentials());
    };
    state.login_limiter.clear(&username, ip);
    let user_id = user.id;
    let refresh_token = state
        .db
        .write(move |c| issue_refresh(c, user_id, &new_secret()))
        .await?;
    tracing::info!(user_id, "login");
    Ok(HttpResponse::Ok().json(token_pair(&keys, &user, refresh_token)?))
}

enum RefreshOutcome {
    Rotated(Box<User>, String),
    Refused,
}

#[tracing::instrument(skip_all)]
async fn refresh(
    state: web::Data<AppState>,
    keys: web::Data<JwtKeys>,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let hash = hash_token(body.into_inner().refresh_token.trim());
    let outcome = state
        .db
        .write(move |c| -> Result<RefreshOutcome, ApiError> {
            let now = now_utc();
            let Some(token) = refresh_tokens::find_by_hash(c, &hash)? else {
                return Ok(RefreshOutcome::Refused);
            };
            if token.revoked_at.is_some() {
                return Ok(RefreshOutcome::Refused);
            }
            if token.used_at.is_some() || !refresh_tokens::mark_used(c, token.id, now)? {
                // A used token shown again: someone holds a copy. Revoke the family.
                tracing::warn!(family = %token.family, "refresh token reuse; family revoked");
                refresh_tokens::revoke_family(c, &token.family, now)?;
                return Ok(RefreshOutcome::Refused);
            }
            if token.expires_at <= now {
                return Ok(RefreshOutcome::Refused);
            }
            let user = match users::find(c, token.user_id)? {
                Some(u) if u.active => u,
                _ => return Ok(RefreshOutcome::Refused),
            };
            let fresh = issue_refresh(c, user.id, &token.family)?;
            Ok(RefreshOutcome::Rotated(Box::new(user), fresh))
        })
        .await?;
    match outcome {
        RefreshOutcome::Rotated(user, fresh) => {
            Ok(HttpResponse::Ok().json(token_pair(&keys, &user, fresh)?))
        }
        RefreshOutcome::Refused => Err(ApiError::unauthorized(
            "Mã làm mới không hợp lệ, đã dùng hoặc đã hết hạn; vui lòng đăng nhập lại",
        )),
    }
}

#[tracing::instrument(skip_all, fields(user_id = auth.id))]
async fn logout(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let hash = hash_token(body.into_inner().refresh_token.trim());
    let user_id = auth.id;
    state
        .db
        .write(move |c| -> Result<(), ApiError> {
            if let Some(token) = refresh_tokens::find_by_hash(c, &hash)? {
                if token.user_id == user_id {
                    refresh_tokens::revoke_family(c, &token.family, now_utc())?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
