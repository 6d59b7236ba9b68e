//! Public tracking: no account, no personal data unless the phone's last digits
//! match (then masked), limited per client address.

use crate::db::models::{admin_units, agencies, events, tasks};
use crate::domain::tracking_code::TrackingCode;
use crate::dossiers::{actions, view};
use crate::error::{ApiError, ErrorCode};
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use std::time::Instant;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/track/{tracking_code}", track);
}

#[derive(Debug, Deserialize)]
struct TrackQuery {
    phone_last4: Option<String>,
}

async fn track(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<TrackQuery>,
) -> Result<HttpResponse, ApiError> {
    let body = lookup(&req, &state, &code, q.phone_last4.as_deref()).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The public view of a dossier, for the API and the tracking page alike: counted
/// against the caller's address, no personal data unless `phone_last4` matches.
pub async fn lookup(
    req: &HttpRequest,
    state: &AppState,
    code: &str,
    phone_last4: Option<&str>,
) -> Result<Value, ApiError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let now = Instant::now();
    if let Err(wait) = state.track_limiter.check("track", ip, now) {
        return Err(ApiError::rate_limited(wait));
    }
    state.track_limiter.record("track", ip, now);
    let code = TrackingCode::parse(code.trim()).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidTrackingCode,
            "Mã hồ sơ không hợp lệ (sai định dạng hoặc sai số kiểm tra)",
        )
    })?;
    let digits = phone_last4
        .map(str::to_owned)
        .filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()));
    state
        .db
        .read(move |c| -> Result<_, ApiError> {
            let d = actions::load(c, code.as_str())?;
            let agency = agencies::find(c, d.agency_id)?
                .map(|a| a.name)
                .unwrap_or_default();
            let evs = events::of_dossier(c, d.id)?;
            let eta = tasks::of_dossier(c, d.id)?
                .into_iter()
                .filter(|t| matches!(t.status.as_str(), "assigned" | "in_progress"))
                .find_map(|t| t.eta);
            let reveal = match digits {
                Some(dg) if d.phone.ends_with(&dg) => Some(
                    admin_units::find_ward(c, &d.ward_code)?
                        .map(|w| w.name)
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            Ok(view::public(&d, &agency, &evs, eta, reveal.as_deref()))
        })
        .await
}
