//! Regressions found by schemathesis (.ci/schemathesis): inputs the spec calls invalid
//! must get a 4xx problem and change nothing.

use crate::helpers::{assert_problem, Backend, TestApp, ADMIN_PASSWORD};
use crate::reference::procedure_body;
use reqwest::Method;
use serde_json::json;

/// serde reads a struct from an array, field by field: `[null, null]` passed for the
/// auto-assign body and `["admin", "…"]` logged in. A body the spec says is an object
/// must be one.
async fn an_object_body_sent_as_an_array_is_422(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!(["admin", ADMIN_PASSWORD])),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "body", "{body}");

    let admin = app.admin().await;
    for path in ["/api/v1/dispatch/auto-assign", "/api/v1/dispatch/plan"] {
        let res = app
            .send(Method::POST, path, Some(&admin), Some(&json!([null, null])))
            .await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "body", "{path}: {body}");
    }

    // Lists still take arrays, and objects still work.
    let res = app
        .send(
            Method::PUT,
            "/api/v1/holidays",
            Some(&admin),
            Some(&json!([])),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, _) = app.login_raw("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
}

/// `5.0` is an integer to JSON Schema, so the spec's `type: integer` allows it; serde
/// refused it for an `i64` (422 on a valid request).
async fn whole_numbers_written_with_a_fraction_are_integers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.admin().await;
    let mut body = procedure_body();
    body["processing_days"] = json!(5.0);
    body["agency_fee_vnd"] = json!(135000.0);
    let (status, created) = app.post("/api/v1/procedures", &admin, &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["processing_days"], 5);
    assert_eq!(created["agency_fee_vnd"], 135000);

    // A fraction is still refused, and nothing is written.
    let mut body = procedure_body();
    body["code"] = json!("1.009999");
    body["processing_days"] = json!(5.5);
    let res = app
        .send(
            Method::POST,
            "/api/v1/procedures",
            Some(&admin),
            Some(&body),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "processing_days");
    let (status, _) = app.get("/api/v1/procedures/1.009999", &admin).await;
    assert_eq!(status, 404);
}

crate::on_both_backends!(
    an_object_body_sent_as_an_array_is_422,
    whole_numbers_written_with_a_fraction_are_integers,
);
