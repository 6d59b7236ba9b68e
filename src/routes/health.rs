//! Liveness, readiness and metrics for the platform that runs us.

use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/metrics", metrics);
}

/// The process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Migrations are done (they run before we listen) and the database answers.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ok = state
        .db
        .read(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(crate::db::StoreError::from)
        })
        .await;
    match ok {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Err(_) => Err(ApiError::new(
            ErrorCode::Unavailable,
            "Cơ sở dữ liệu không trả lời",
        )),
    }
}

/// Prometheus text exposition.
async fn metrics(state: web::Data<AppState>, m: web::Data<Metrics>) -> HttpResponse {
    let mut text = m.render(state.db.pool_state());
    Metrics::render_track_cache(&mut text, state.track_cache.counts());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
