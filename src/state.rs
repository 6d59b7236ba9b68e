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
}
