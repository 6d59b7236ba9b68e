//! Who may call what: one table over every route, enforced before any handler or
//! body parsing runs, so a caller without the right role learns nothing but 401/403
//! (not even whether the body would have been valid). Handlers still check objects
//! (a courier's own task, a clerk's own agency, a dispatcher's own post office).

use crate::auth::{user::authenticate, Role};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use Role::{Admin, Clerk, Courier, Dispatcher, Operator};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no token (pages, tracking, health, login, signed integrations).
    Public,
    /// Any logged-in staff member.
    Staff,
    /// Only these roles.
    Roles(&'static [Role]),
}

const ADMIN: &[Role] = &[Admin];
const DISPATCH: &[Role] = &[Dispatcher, Admin];
const COURIER: &[Role] = &[Courier];
const CLERK: &[Role] = &[Clerk];
const INTAKE: &[Role] = &[Operator, Dispatcher, Admin];
const CALL_OFF: &[Role] = &[Operator, Dispatcher];
const SEARCH: &[Role] = &[Operator, Dispatcher, Admin, Clerk];
const ZONES: &[Role] = &[Admin, Dispatcher, Operator];

/// The access rule of `METHOD path-template`; `None` for a route not in the table
/// (a unit test makes sure every served route is).
pub fn of(method: &str, path: &str) -> Option<Access> {
    use Access::*;
    if !path.starts_with("/api/") {
        return Some(Public);
    }
    Some(match (method, path) {
        ("POST", "/api/v1/auth/login" | "/api/v1/auth/refresh") => Public,
        ("GET", "/api/v1/track/{tracking_code}") => Public,
        // Signed with the one-stop system's secret instead of a token.
        ("POST", "/api/v1/integrations/one-stop/events") => Public,
        ("POST", "/api/v1/auth/logout") | ("GET", "/api/v1/me") => Staff,
        (
            "GET",
            "/api/v1/admin-units/provinces"
            | "/api/v1/admin-units/provinces/{code}/wards"
            | "/api/v1/agencies"
            | "/api/v1/agencies/{id}"
            | "/api/v1/post-offices"
            | "/api/v1/post-offices/{id}"
            | "/api/v1/procedures"
            | "/api/v1/procedures/{code}"
            | "/api/v1/holidays"
            | "/api/v1/dossiers/{tracking_code}"
            | "/api/v1/dossiers/{tracking_code}/receipt.pdf",
        ) => Staff,
        ("GET", "/api/v1/zones") => Roles(ZONES),
        (
            "POST" | "PUT",
            "/api/v1/users"
            | "/api/v1/admin-units/wards/{code}/centre"
            | "/api/v1/agencies"
            | "/api/v1/post-offices"
            | "/api/v1/procedures"
            | "/api/v1/holidays"
            | "/api/v1/zones"
            | "/api/v1/couriers"
            | "/api/v1/webhooks"
            | "/api/v1/outbox/{id}/resend",
        ) => Roles(ADMIN),
        ("GET", "/api/v1/users" | "/api/v1/webhooks" | "/api/v1/outbox") => Roles(ADMIN),
        ("POST", "/api/v1/pickup-requests") | ("GET", "/api/v1/citizens") => Roles(INTAKE),
        ("GET", "/api/v1/pickup-requests") => Roles(SEARCH),
        (
            "POST",
            "/api/v1/dossiers/{tracking_code}/cancel"
            | "/api/v1/dossiers/{tracking_code}/reschedule",
        ) => Roles(CALL_OFF),
        (
            "POST",
            "/api/v1/dossiers/{tracking_code}/receive"
            | "/api/v1/dossiers/{tracking_code}/supplement-required"
            | "/api/v1/dossiers/{tracking_code}/result-ready"
            | "/api/v1/dossiers/{tracking_code}/handed-over-at-counter",
        ) => Roles(CLERK),
        (
            "POST",
            "/api/v1/dossiers/{tracking_code}/sms-opt-out"
            | "/api/v1/dossiers/{tracking_code}/complaints"
            | "/api/v1/complaints/{id}/answer",
        )
        | ("GET", "/api/v1/complaints") => Roles(INTAKE),
        (
            "POST",
            "/api/v1/dispatch/auto-assign"
            | "/api/v1/dispatch/plan"
            | "/api/v1/tasks/{id}/assign"
            | "/api/v1/reports/cash/handovers",
        )
        | (
            "GET",
            "/api/v1/tasks"
            | "/api/v1/couriers"
            | "/api/v1/couriers/{id}/route"
            | "/api/v1/couriers/positions"
            | "/api/v1/reports/summary"
            | "/api/v1/reports/dossiers.csv"
            | "/api/v1/reports/charts/{name}.svg"
            | "/api/v1/reports/cash"
            | "/api/v1/reports/cash.csv",
        ) => Roles(DISPATCH),
        (
            "POST",
            "/api/v1/tasks/{id}/events" | "/api/v1/tasks/{id}/otp" | "/api/v1/me/positions",
        )
        | ("GET", "/api/v1/me/route") => Roles(COURIER),
        _ => return None,
    })
}

/// The middleware: 401 without a valid token, 403 with the wrong role, before the
/// handler (and its body parsing) runs. Unknown paths go on to the 404/405 answers.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let rule = crate::routing::template(req.request())
        .and_then(|pattern| of(req.method().as_str(), &pattern));
    let refusal = match rule {
        None | Some(Access::Public) => None,
        Some(rule) => match authenticate(req.request()) {
            Err(e) => Some(e),
            Ok(user) => match rule {
                Access::Roles(roles) => user.require(roles).err(),
                _ => None,
            },
        },
    };
    match refusal {
        Some(e) => {
            let res = e.error_response();
            Ok(req.into_response(res).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_route_has_a_rule() {
        let missing: Vec<(String, String)> = crate::routes::all_routes()
            .list()
            .into_iter()
            .filter(|(m, p)| of(m, p).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "routes without an access rule: {missing:?}"
        );
    }

    #[test]
    fn the_table_is_what_the_contract_says() {
        assert_eq!(
            of("GET", "/api/v1/track/{tracking_code}"),
            Some(Access::Public)
        );
        assert_eq!(of("POST", "/api/v1/users"), Some(Access::Roles(ADMIN)));
        assert_eq!(
            of("POST", "/api/v1/tasks/{id}/events"),
            Some(Access::Roles(COURIER))
        );
        assert_eq!(of("GET", "/courier"), Some(Access::Public));
        assert_eq!(of("GET", "/api/v1/nothing"), None);
    }
}
