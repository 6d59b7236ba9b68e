//! `Idempotency-Key` for writes: the same key and body give the first answer again
//! and change nothing; the same key with another body is 422. The answer is stored in
//! the same transaction as the write, so a retry never sees one without the other.

use crate::auth::AuthUser;
use crate::db::models::idempotency;
use crate::db::{now_utc, DbConnection};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Header carrying the key.
pub const HEADER: &str = "Idempotency-Key";

enum Outcome {
    Fresh(Value),
    Replay(idempotency::Stored),
}

pub fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            "Idempotency-Key phải gồm 1–200 ký tự ASCII in được",
        ));
    }
    Ok(Some(key.to_owned()))
}

fn replay(stored: &idempotency::Stored, hash: &str) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != hash {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key này đã dùng cho một yêu cầu khác",
        ));
    }
    let status = StatusCode::from_u16(stored.status as u16).unwrap_or(StatusCode::OK);
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(stored.body.clone()))
}

/// Runs `op` in one write transaction (once per key), answering `success` with its JSON.
pub async fn write<T, F>(
    state: &AppState,
    auth: &AuthUser,
    req: &HttpRequest,
    body_digest: &str,
    success: StatusCode,
    op: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    let op = move |c: &mut DbConnection| {
        op(c).and_then(|v| serde_json::to_value(v).map_err(ApiError::internal))
    };
    let Some(key) = key_of(req)? else {
        let body = state.db.write(op).await?;
        return Ok(HttpResponse::build(success).json(body));
    };
    let hash = hex::encode(Sha256::digest(
        format!("{} {}\n{}", req.method(), req.path(), body_digest).as_bytes(),
    ));
    let user = auth.id;
    let result = {
        let (key, hash) = (key.clone(), hash.clone());
        state
            .db
            .write(move |c| -> Result<Outcome, ApiError> {
                if let Some(stored) = idempotency::find(c, user, &key)? {
                    return Ok(Outcome::Replay(stored));
                }
                let body = op(c)?;
                idempotency::insert(
                    c,
                    user,
                    &key,
                    &hash,
                    success.as_u16() as i32,
                    &body.to_string(),
                    now_utc(),
                )?;
                Ok(Outcome::Fresh(body))
            })
            .await
    };
    match result {
        Ok(Outcome::Fresh(body)) => Ok(HttpResponse::build(success).json(body)),
        Ok(Outcome::Replay(stored)) => replay(&stored, &hash),
        Err(e) => {
            // A concurrent twin may have won the key while we worked: answer as it did.
            let stored = state
                .db
                .read(move |c| idempotency::find(c, user, &key))
                .await?;
            match stored {
                Some(stored) => replay(&stored, &hash),
                None => Err(e),
            }
        }
    }
}
