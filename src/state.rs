//! What every handler can reach: storage, settings, limiters.

use crate::auth::limiter::WindowLimiter;
use crate::config::Settings;
use crate::db::Db;

/// Shared application state (behind `web::Data`).
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub login_limiter: WindowLimiter,
    /// Public tracking look-ups per client address.
    pub track_limiter: WindowLimiter,
    /// Public tracking answers, kept briefly.
    pub track_cache: crate::track_cache::TrackCache,
    /// Zones located by point, refreshed when zones are added.
    pub zones: std::sync::Arc<crate::zone_cache::ZoneCache>,
    /// Travel-time matrices (geodesic, or a routing engine with geodesic fallback).
    pub travel: std::sync::Arc<dyn crate::clients::travel::TravelTimes>,
    /// What proves the citizen was at the door (OTP with an SMS gateway, else a signature).
    pub presence: crate::dossiers::presence::Presence,
}
