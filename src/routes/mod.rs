//! HTTP handlers, one module per resource. Handlers are thin: parse into domain
//! types, authorise, call the store, map errors.

pub mod access;
pub mod admin_units;
pub mod agencies;
pub mod auth;
pub mod cash;
pub mod complaints;
pub mod couriers;
pub mod dispatch;
pub mod docs;
pub mod dossiers;
pub mod health;
pub mod holidays;
pub mod intake;
pub mod integrations;
pub mod me;
pub mod notifications;
pub mod places;
pub mod positions;
pub mod post_offices;
pub mod procedures;
pub mod reports;
pub mod tasks;
pub mod track;
pub mod users;
pub mod zones;

use crate::error::{ApiError, ErrorCode};
use crate::routing::Routes;

/// Default page size of cursor-paged lists.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: i64 = 500;

/// Every route the service answers. The only place routes are added.
pub fn all_routes() -> Routes {
    let mut r = Routes::default();
    // Paths are matched in this order, the ones with parameters by regular expression:
    // the busiest one, public tracking, comes first.
    track::routes(&mut r);
    health::routes(&mut r);
    docs::routes(&mut r);
    auth::routes(&mut r);
    users::routes(&mut r);
    admin_units::routes(&mut r);
    agencies::routes(&mut r);
    post_offices::routes(&mut r);
    procedures::routes(&mut r);
    holidays::routes(&mut r);
    couriers::routes(&mut r);
    intake::routes(&mut r);
    dossiers::routes(&mut r);
    tasks::routes(&mut r);
    positions::routes(&mut r);
    zones::routes(&mut r);
    dispatch::routes(&mut r);
    me::routes(&mut r);
    notifications::routes(&mut r);
    integrations::routes(&mut r);
    complaints::routes(&mut r);
    reports::routes(&mut r);
    cash::routes(&mut r);
    crate::pages::routes(&mut r);
    r
}

/// Resolves `?limit=&cursor=` into `(after_id, limit)`.
pub fn paging(limit: Option<i64>, cursor: Option<&str>) -> Result<(i64, i64), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("limit phải nằm trong khoảng 1–{MAX_LIMIT}"),
        ));
    }
    let after = match cursor {
        None | Some("") => 0,
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidQuery, "cursor không hợp lệ"))?,
    };
    Ok((after, limit))
}

/// The dossier version a write was made from (`If-Match`), if the client named one;
/// called before the write (and its Idempotency-Key replay), so a malformed header is
/// refused either way.
pub fn if_match(
    req: &actix_web::HttpRequest,
) -> Result<crate::dossiers::precondition::Expect, ApiError> {
    crate::dossiers::precondition::Expect::from_header(
        req.headers()
            .get(actix_web::http::header::IF_MATCH)
            .map(|v| v.to_str().map_err(|_| ())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(paging(None, None).unwrap(), (0, 50));
        assert_eq!(paging(Some(500), Some("42")).unwrap(), (42, 500));
        assert!(paging(Some(0), None).is_err());
        assert!(paging(Some(501), None).is_err());
        assert!(paging(None, Some("abc")).is_err());
        assert!(paging(None, Some("-1")).is_err());
    }
}
