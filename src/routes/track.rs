//! Public tracking: no account, no personal data unless the phone's last digits
//! match (then masked), limited per client address.

use crate::db::changes::Key;
use crate::db::models::{
    admin_units, agencies, couriers, events, holidays, post_offices, procedures, tasks,
};
use crate::domain::deadlines::WorkCalendar;
use crate::domain::tracking_code::TrackingCode;
use crate::dossiers::{actions, view};
use crate::error::{ApiError, ErrorCode};
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
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
    let now = Instant::now();
    let code = admit(&req, &state, &code, now)?;
    if let Some(digits) = last4(q.phone_last4.as_deref()) {
        let (view, _) = load(&state, code, Some(digits)).await?;
        return Ok(HttpResponse::Ok().json(view));
    }
    let changes = state.db.changes();
    if let Some(body) = state.track_cache.get(code.as_str(), changes, now) {
        return Ok(json(body));
    }
    let read_at = changes.now();
    let key = code.as_str().to_owned();
    let (view, rows) = load(&state, code, None).await?;
    let body = Bytes::from(serde_json::to_vec(&view).map_err(ApiError::internal)?);
    state
        .track_cache
        .put(&key, body.clone(), rows, changes, read_at, now);
    Ok(json(body))
}

fn json(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body)
}

/// The public view of a dossier, for the API and the tracking page alike: counted
/// against the caller's address, no personal data unless `phone_last4` matches.
pub async fn lookup(
    req: &HttpRequest,
    state: &AppState,
    code: &str,
    phone_last4: Option<&str>,
) -> Result<Value, ApiError> {
    let code = admit(req, state, code, Instant::now())?;
    Ok(load(state, code, last4(phone_last4)).await?.0)
}

/// Counts the look-up against the caller's address and parses the code.
fn admit(
    req: &HttpRequest,
    state: &AppState,
    code: &str,
    now: Instant,
) -> Result<TrackingCode, ApiError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if let Err(wait) = state.track_limiter.check("track", ip, now) {
        return Err(ApiError::rate_limited(wait));
    }
    state.track_limiter.record("track", ip, now);
    TrackingCode::parse(code.trim()).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidTrackingCode,
            format!(
                "Mã tra cứu không đúng. Hãy xem lại mã in trên biên nhận (ví dụ HS000000178VN) \
                 hoặc gọi tổng đài {} để được giúp.",
                crate::pages::HOTLINE
            ),
        )
    })
}

/// Four digits, or nothing (anything else reveals nothing).
fn last4(phone_last4: Option<&str>) -> Option<String> {
    phone_last4
        .map(str::to_owned)
        .filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads the view and the rows it was built from.
async fn load(
    state: &AppState,
    code: TrackingCode,
    digits: Option<String>,
) -> Result<(Value, Vec<Key>), ApiError> {
    state
        .db
        .read(move |c| -> Result<_, ApiError> {
            let d = actions::load(c, code.as_str())?;
            let agency = agencies::find(c, d.agency_id)?;
            let evs = events::of_dossier(c, d.id)?;
            let tasks = tasks::of_dossier(c, d.id)?;
            let open = |t: &&tasks::Task| matches!(t.status.as_str(), "assigned" | "in_progress");
            let eta = tasks.iter().filter(open).find_map(|t| t.eta);
            let deliver = tasks
                .iter()
                .rfind(|t| t.kind == "deliver" && t.status != "cancelled");
            let post_office = match deliver.and_then(|t| t.courier_id) {
                Some(id) => match couriers::find(c, id)? {
                    Some(k) => {
                        post_offices::find(c, k.post_office_id)?.map(|p| (p.name, p.address))
                    }
                    None => None,
                },
                None => None,
            };
            let calendar = WorkCalendar::new(holidays::list(c)?.into_iter().map(|h| h.day));
            let deadlines = view::deadlines(&d, &evs, &calendar, crate::db::now_utc());
            let facts = view::PublicFacts {
                agency_name: agency.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                agency_address: agency
                    .as_ref()
                    .map(|a| a.address.clone())
                    .unwrap_or_default(),
                agency_hours: agency.and_then(|a| a.opening_hours),
                procedure_name: procedures::find(c, &d.procedure_code)?
                    .map(|p| p.name)
                    .unwrap_or_default(),
                post_office,
                eta,
                delivery_window: deliver.and_then(|t| t.window_from.zip(t.window_to)),
                return_by: deadlines["return_by"].as_str().map(str::to_owned),
                hotline: crate::pages::HOTLINE.to_owned(),
            };
            let reveal = match digits {
                Some(dg) if d.phone.ends_with(&dg) => Some(
                    admin_units::find_ward(c, &d.ward_code)?
                        .map(|w| w.name)
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            let rows = std::iter::once(Key::Dossier(d.id))
                .chain(tasks.iter().map(|t| Key::Task(t.id)))
                .collect();
            Ok((view::public(&d, &facts, &evs, reveal.as_deref()), rows))
        })
        .await
}
