//! The authorization matrix: every route × every role (and no token) → 2xx-or-other,
//! 401 or 403, as the contract says; plus objects that belong to someone else. The
//! expectations are written here, independently of the server's own table.

use crate::helpers::{Backend, TestApp};
use crate::lifecycle::{assigned_request, world};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;

/// Who may call each route: "public", "staff", "signed" (the caller's HMAC, no token:
/// everyone here is refused) or a comma-separated list of roles.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/", "public"),
    ("GET", "/healthz", "public"),
    ("GET", "/readyz", "public"),
    ("GET", "/metrics", "public"),
    ("GET", "/docs", "public"),
    ("GET", "/api-spec/openapi.yaml", "public"),
    ("GET", "/courier", "public"),
    ("GET", "/operator", "public"),
    ("GET", "/dispatch", "public"),
    ("GET", "/desk", "public"),
    ("GET", "/reports", "public"),
    ("GET", "/track", "public"),
    ("GET", "/track/{tracking_code}", "public"),
    ("POST", "/track/{tracking_code}", "public"),
    ("GET", "/favicon.ico", "public"),
    ("GET", "/static/{name}", "public"),
    ("GET", "/courier/sw.js", "public"),
    ("GET", "/courier/manifest.webmanifest", "public"),
    ("POST", "/api/v1/auth/login", "public"),
    ("POST", "/api/v1/auth/refresh", "public"),
    ("GET", "/api/v1/track/{tracking_code}", "public"),
    ("POST", "/api/v1/integrations/one-stop/events", "signed"),
    ("POST", "/api/v1/auth/logout", "staff"),
    ("GET", "/api/v1/me", "staff"),
    ("GET", "/api/v1/admin-units/provinces", "staff"),
    ("GET", "/api/v1/admin-units/provinces/{code}/wards", "staff"),
    ("GET", "/api/v1/agencies", "staff"),
    ("GET", "/api/v1/agencies/{id}", "staff"),
    ("GET", "/api/v1/post-offices", "staff"),
    ("GET", "/api/v1/post-offices/{id}", "staff"),
    ("GET", "/api/v1/procedures", "staff"),
    ("GET", "/api/v1/procedures/{code}", "staff"),
    ("GET", "/api/v1/holidays", "staff"),
    ("GET", "/api/v1/dossiers/{tracking_code}", "staff"),
    (
        "GET",
        "/api/v1/dossiers/{tracking_code}/receipt.pdf",
        "staff",
    ),
    ("GET", "/api/v1/zones", "admin,dispatcher,operator"),
    ("POST", "/api/v1/users", "admin"),
    ("GET", "/api/v1/users", "admin"),
    ("PUT", "/api/v1/admin-units/wards/{code}/centre", "admin"),
    ("POST", "/api/v1/agencies", "admin"),
    ("POST", "/api/v1/post-offices", "admin"),
    ("POST", "/api/v1/procedures", "admin"),
    ("PUT", "/api/v1/holidays", "admin"),
    ("POST", "/api/v1/zones", "admin"),
    ("POST", "/api/v1/couriers", "admin"),
    ("POST", "/api/v1/webhooks", "admin"),
    ("GET", "/api/v1/webhooks", "admin"),
    ("GET", "/api/v1/outbox", "admin"),
    ("POST", "/api/v1/outbox/{id}/resend", "admin"),
    (
        "POST",
        "/api/v1/pickup-requests",
        "operator,dispatcher,admin",
    ),
    ("GET", "/api/v1/citizens", "operator,dispatcher,admin"),
    (
        "GET",
        "/api/v1/pickup-requests",
        "operator,dispatcher,admin,clerk",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/cancel",
        "operator,dispatcher",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/reschedule",
        "operator,dispatcher",
    ),
    ("POST", "/api/v1/dossiers/{tracking_code}/receive", "clerk"),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/supplement-required",
        "clerk",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/result-ready",
        "clerk",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/handed-over-at-counter",
        "clerk",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/sms-opt-out",
        "operator,dispatcher,admin",
    ),
    (
        "POST",
        "/api/v1/dossiers/{tracking_code}/complaints",
        "operator,dispatcher,admin",
    ),
    ("GET", "/api/v1/complaints", "operator,dispatcher,admin"),
    (
        "POST",
        "/api/v1/complaints/{id}/answer",
        "operator,dispatcher,admin",
    ),
    ("POST", "/api/v1/dispatch/auto-assign", "dispatcher,admin"),
    ("POST", "/api/v1/dispatch/plan", "dispatcher,admin"),
    ("POST", "/api/v1/tasks/{id}/assign", "dispatcher,admin"),
    ("GET", "/api/v1/tasks", "dispatcher,admin"),
    ("GET", "/api/v1/couriers", "dispatcher,admin"),
    ("GET", "/api/v1/couriers/{id}/route", "dispatcher,admin"),
    ("GET", "/api/v1/couriers/positions", "dispatcher,admin"),
    ("GET", "/api/v1/reports/summary", "dispatcher,admin"),
    ("GET", "/api/v1/reports/dossiers.csv", "dispatcher,admin"),
    (
        "GET",
        "/api/v1/reports/charts/{name}.svg",
        "dispatcher,admin",
    ),
    ("GET", "/api/v1/reports/cash", "dispatcher,admin"),
    ("GET", "/api/v1/reports/cash.csv", "dispatcher,admin"),
    ("POST", "/api/v1/reports/cash/handovers", "dispatcher,admin"),
    ("POST", "/api/v1/tasks/{id}/events", "courier"),
    ("POST", "/api/v1/tasks/{id}/otp", "courier"),
    ("POST", "/api/v1/me/positions", "courier"),
    ("GET", "/api/v1/me/route", "courier"),
];

const ROLES: [&str; 5] = ["admin", "dispatcher", "operator", "courier", "clerk"];

#[test]
fn the_matrix_covers_every_route_of_the_spec() {
    let spec = buuta::routes::docs::spec();
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(ops, listed, "spec routes vs the authorization matrix");
}

async fn every_route_answers_every_role_as_the_contract_says(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.one_stop_secret = Some("one-stop-secret-for-the-matrix".into())
    })
    .await
    else {
        return;
    };
    let w = world(&app).await;
    let (dossier, pickup) = assigned_request(&app, &w).await;
    let code = dossier["tracking_code"].as_str().unwrap().to_owned();
    let tokens = [
        ("admin", w.admin.clone()),
        ("dispatcher", w.dispatcher.clone()),
        ("operator", w.operator.clone()),
        ("courier", w.courier.clone()),
        ("clerk", w.clerk.clone()),
    ];
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (method, template, allowed) in MATRIX {
        // A static file's name first: the generic `{name}` is a chart's.
        let path = template
            .replace("/static/{name}", "/static/app.css")
            .replace("{tracking_code}", &code)
            .replace("{id}", &pickup.to_string())
            .replace("{code}", "82")
            .replace("{name}", "dossiers-per-day");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != Method::GET).then(|| json!({}));
        let mut callers: Vec<(&str, Option<&str>)> = vec![("anonymous", None)];
        callers.extend(tokens.iter().map(|(r, t)| (*r, Some(t.as_str()))));
        for (role, token) in callers {
            let res = app.send(method.clone(), &path, token, body.as_ref()).await;
            let status = res.status().as_u16();
            checked += 1;
            let ok = match (*allowed, role) {
                ("public", _) => status != 401 && status != 403,
                ("signed", _) => status == 401,
                (_, "anonymous") => status == 401,
                ("staff", _) => status != 401 && status != 403,
                (roles, role) if roles.split(',').any(|r| r == role) => {
                    status != 401 && status != 403
                }
                _ => status == 403,
            };
            if !ok || status >= 500 {
                wrong.push(format!("{method} {path} as {role}: {status}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(checked, MATRIX.len() * (ROLES.len() + 1));
}

/// Objects of someone else: another courier's task, another agency's dossier.
async fn other_peoples_objects_are_forbidden(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let w = world(&app).await;
    let (dossier, pickup) = assigned_request(&app, &w).await;
    let code = dossier["tracking_code"].as_str().unwrap();
    let event = json!({"type": "arrived", "at": chrono::Utc::now().to_rfc3339()});
    let (s, _) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/events"),
            &w.other_courier,
            &event,
        )
        .await;
    assert_eq!(s, 403, "another courier's task");
    let appointment = crate::lifecycle::vn_day(5).format("%Y-%m-%d");
    let receive = json!({"agency_dossier_code": "X-1", "appointment_date": appointment.to_string(), "checked_documents": ["Đơn đề nghị"]});
    let (s, _) = app
        .post(
            &format!("/api/v1/dossiers/{code}/receive"),
            &w.other_clerk,
            &receive,
        )
        .await;
    assert_eq!(s, 403, "another agency's dossier");
    // ID numbers: in full to those who check papers, masked for everyone else.
    for (token, expected) in [
        (&w.operator, "087123456789"),
        (&w.clerk, "087123456789"),
        (&w.courier, "0871******89"),
        (&w.dispatcher, "0871******89"),
    ] {
        let (_, seen) = app.get(&format!("/api/v1/dossiers/{code}"), token).await;
        assert_eq!(seen["citizen"]["id_number"], expected);
    }
    let (_, citizen) = app
        .get("/api/v1/citizens?phone=0912345678", &w.dispatcher)
        .await;
    assert_eq!(citizen["id_number"], "0871******89", "{citizen}");
    // The owner may (the event goes through).
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/events"),
            &w.courier,
            &event,
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

crate::on_both_backends!(
    every_route_answers_every_role_as_the_contract_says,
    other_peoples_objects_are_forbidden
);
