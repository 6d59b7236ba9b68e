//! Every create route refuses bad input with problem+json 4xx and writes nothing.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::reference::{agency_body, post_office_body, procedure_body};
use reqwest::Method;
use serde_json::{json, Value};

struct Case {
    method: Method,
    path: &'static str,
    list: &'static str,
    valid: Value,
    /// (JSON pointer to replace, new value or None to remove, expected status, expected code)
    bad: Vec<(&'static str, Option<Value>, u16, &'static str)>,
}

fn cases() -> Vec<Case> {
    let long = |n: usize| json!("ơ".repeat(n));
    vec![
        Case {
            method: Method::POST,
            path: "/api/v1/users",
            list: "/api/v1/users",
            valid: json!({"username": "operator7", "password": "password-123", "full_name": "Lê Văn Cường", "role": "operator"}),
            bad: vec![
                ("/username", Some(json!("ab")), 422, "validation_failed"),
                ("/username", Some(json!("Có Dấu")), 422, "validation_failed"),
                ("/username", Some(json!(5)), 422, "validation_failed"),
                ("/username", None, 422, "validation_failed"),
                ("/password", Some(json!("short")), 422, "validation_failed"),
                ("/full_name", Some(json!("  ")), 422, "validation_failed"),
                ("/full_name", Some(long(201)), 422, "validation_failed"),
                ("/role", Some(json!("king")), 422, "validation_failed"),
                ("/phone", Some(json!("12345")), 422, "validation_failed"),
                (
                    "/post_office_id",
                    Some(json!(999)),
                    422,
                    "validation_failed",
                ),
                ("/agency_id", Some(json!("x")), 422, "validation_failed"),
            ],
        },
        Case {
            method: Method::POST,
            path: "/api/v1/agencies",
            list: "/api/v1/agencies",
            valid: agency_body(),
            bad: vec![
                ("/name", Some(json!("")), 422, "validation_failed"),
                ("/name", Some(long(201)), 422, "validation_failed"),
                ("/name", None, 422, "validation_failed"),
                ("/level", Some(json!("district")), 422, "validation_failed"),
                ("/ward_code", Some(json!("99999")), 422, "unknown_ward_code"),
                ("/ward_code", Some(json!("abc")), 422, "unknown_ward_code"),
                ("/address", Some(json!("")), 422, "validation_failed"),
                ("/lat", Some(json!(48.85)), 422, "outside_vietnam"),
                ("/lon", Some(json!(2.35)), 422, "outside_vietnam"),
                ("/lat", Some(json!("10.5")), 422, "validation_failed"),
                ("/opening_hours", Some(long(201)), 422, "validation_failed"),
            ],
        },
        Case {
            method: Method::POST,
            path: "/api/v1/post-offices",
            list: "/api/v1/post-offices",
            valid: post_office_body(),
            bad: vec![
                ("/name", Some(json!("")), 422, "validation_failed"),
                ("/ward_code", Some(json!("00000")), 422, "unknown_ward_code"),
                (
                    "/address",
                    Some(json!("\u{0007}")),
                    422,
                    "validation_failed",
                ),
                ("/lat", Some(json!(7.9)), 422, "outside_vietnam"),
                ("/lon", Some(json!(117.6)), 422, "outside_vietnam"),
                ("/lon", None, 422, "validation_failed"),
            ],
        },
        Case {
            method: Method::POST,
            path: "/api/v1/procedures",
            list: "/api/v1/procedures",
            valid: procedure_body(),
            bad: vec![
                ("/code", Some(json!("")), 422, "validation_failed"),
                (
                    "/code",
                    Some(json!("có dấu cách")),
                    422,
                    "validation_failed",
                ),
                ("/name", Some(json!("")), 422, "validation_failed"),
                (
                    "/agency_level",
                    Some(json!("ministry")),
                    422,
                    "validation_failed",
                ),
                ("/agency_fee_vnd", Some(json!(-1)), 422, "validation_failed"),
                (
                    "/agency_fee_vnd",
                    Some(json!(1.5)),
                    422,
                    "validation_failed",
                ),
                (
                    "/processing_days",
                    Some(json!(400)),
                    422,
                    "validation_failed",
                ),
                (
                    "/required_documents",
                    Some(json!("một chuỗi")),
                    422,
                    "validation_failed",
                ),
                (
                    "/required_documents",
                    Some(json!([""])),
                    422,
                    "validation_failed",
                ),
            ],
        },
        Case {
            method: Method::POST,
            path: "/api/v1/pickup-requests",
            list: "/api/v1/pickup-requests",
            valid: crate::lifecycle::request(1),
            bad: vec![
                (
                    "/citizen/full_name",
                    Some(json!("")),
                    422,
                    "validation_failed",
                ),
                ("/citizen/full_name", None, 422, "validation_failed"),
                (
                    "/citizen/phone",
                    Some(json!("12345")),
                    422,
                    "validation_failed",
                ),
                (
                    "/citizen/phone",
                    Some(json!("+1 202 555 0100")),
                    422,
                    "validation_failed",
                ),
                (
                    "/citizen/id_number",
                    Some(json!("12345")),
                    422,
                    "validation_failed",
                ),
                (
                    "/address/ward_code",
                    Some(json!("99999")),
                    422,
                    "unknown_ward_code",
                ),
                (
                    "/address/street",
                    Some(json!("  ")),
                    422,
                    "validation_failed",
                ),
                ("/address/lat", Some(json!(48.85)), 422, "outside_vietnam"),
                ("/address/lon", None, 422, "validation_failed"),
                (
                    "/procedure_code",
                    Some(json!("9.999999")),
                    422,
                    "validation_failed",
                ),
                ("/agency_id", Some(json!(999)), 422, "validation_failed"),
                (
                    "/service",
                    Some(json!("teleport")),
                    422,
                    "validation_failed",
                ),
                (
                    "/return_method",
                    Some(json!("drone")),
                    422,
                    "validation_failed",
                ),
                ("/pickup_window", None, 422, "validation_failed"),
                (
                    "/pickup_window/from",
                    Some(json!("2020-01-01T08:00:00+07:00")),
                    422,
                    "validation_failed",
                ),
                (
                    "/pickup_window/to",
                    Some(json!("not a time")),
                    422,
                    "validation_failed",
                ),
                ("/note", Some(long(501)), 422, "validation_failed"),
            ],
        },
        Case {
            method: Method::PUT,
            path: "/api/v1/holidays",
            list: "/api/v1/holidays",
            valid: json!([{"date": "2026-09-02", "name": "Quốc khánh"}]),
            bad: vec![
                (
                    "/0/date",
                    Some(json!("2026-13-01")),
                    422,
                    "validation_failed",
                ),
                (
                    "/0/date",
                    Some(json!("1999-01-01")),
                    422,
                    "validation_failed",
                ),
                ("/0/name", Some(json!("")), 422, "validation_failed"),
                ("/0/name", None, 422, "validation_failed"),
                (
                    "/1",
                    Some(json!({"date": "2026-09-02", "name": "Trùng"})),
                    422,
                    "validation_failed",
                ),
            ],
        },
    ]
}

pub fn mutate(valid: &Value, pointer: &str, value: Option<Value>) -> Value {
    let mut body = valid.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => {
            let i: usize = key.parse().unwrap();
            if i < items.len() {
                items[i] = v
            } else {
                items.push(v)
            }
        }
        (other, _) => panic!("cannot mutate {other}"),
    }
    body
}

fn count(list: &Value) -> usize {
    list.get("items")
        .unwrap_or(list)
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

async fn every_bad_input_is_a_4xx_problem_and_writes_nothing(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let token = app.admin().await;
    // The intake case (after the agency and procedure cases) uses what they created.
    for case in cases() {
        let before = count(&app.get(case.list, &token).await.1);
        let url = format!("{}{}", app.base, case.path);

        // Malformed JSON, a 5 MB body, a wrong content type.
        let res = app
            .client
            .request(case.method.clone(), &url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{\"name\": tru,")
            .send()
            .await
            .unwrap();
        assert_problem(res, 400, "malformed_json").await;
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
        let res = app
            .client
            .request(case.method.clone(), &url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap();
        assert_problem(res, 413, "payload_too_large").await;
        let res = app
            .client
            .request(case.method.clone(), &url)
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(case.valid.to_string())
            .send()
            .await
            .unwrap();
        assert_problem(res, 415, "unsupported_media_type").await;

        for (pointer, value, status, code) in &case.bad {
            let body = mutate(&case.valid, pointer, value.clone());
            let res = app
                .send(case.method.clone(), case.path, Some(&token), Some(&body))
                .await;
            let problem = assert_problem(res, *status, code).await;
            let field = pointer.trim_start_matches('/').replace('/', ".");
            let listed: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(
                listed
                    .iter()
                    .any(|f| f.contains(field.split('.').next_back().unwrap())
                        || field.starts_with(f)
                        || field.starts_with(char::is_numeric)),
                "{} {pointer}: errors {listed:?}",
                case.path
            );
        }
        let after = count(&app.get(case.list, &token).await.1);
        assert_eq!(
            before, after,
            "{}: a refused request wrote something",
            case.path
        );

        // The untouched body is accepted, so each refusal above was about its field;
        // sent again with the same Idempotency-Key it answers the same and writes once.
        let mut answers = Vec::new();
        for _ in 0..2 {
            let res = app
                .client
                .request(case.method.clone(), &url)
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("once-{}", case.path))
                .json(&case.valid)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert!(
                status.is_success(),
                "{}: valid body refused: {text}",
                case.path
            );
            answers.push((status, text));
        }
        assert_eq!(answers[0], answers[1], "{}: a replay differs", case.path);
        let written = count(&app.get(case.list, &token).await.1);
        assert!(
            written <= after + 1,
            "{}: the replay wrote again",
            case.path
        );
    }
}

async fn unknown_routes_and_methods_are_problems(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let res = app
        .send(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .send(Method::DELETE, "/api/v1/agencies", None, None)
        .await;
    assert_problem(res, 405, "method_not_allowed").await;
    let token = app.admin().await;
    let res = app
        .send(Method::GET, "/api/v1/users?limit=9999", Some(&token), None)
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(Method::GET, "/api/v1/users?limit=abc", Some(&token), None)
        .await;
    assert_problem(res, 400, "invalid_query").await;
}

/// An `If-Match` longer than the contract's 200 characters is 422 and changes nothing,
/// also when it comes with the key of a request already answered (no replay of it).
async fn an_overlong_if_match_is_refused_even_with_a_used_key(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = crate::lifecycle::world(&app).await;
    let (d, pickup) = crate::lifecycle::assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let url = format!("{}/api/v1/tasks/{pickup}/assign", app.base);
    let send = |if_match: Option<String>| {
        let mut req = app
            .client
            .post(&url)
            .bearer_auth(&w.dispatcher)
            .header("Idempotency-Key", "assign-once")
            .json(&serde_json::json!({"courier_id": w.courier_id}));
        if let Some(v) = if_match {
            req = req.header("If-Match", v);
        }
        req.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 200);
    let before = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.dispatcher)
        .await
        .1;
    for long in ["0".repeat(201), format!("\"{}\"", "7".repeat(199))] {
        let res = send(Some(long)).await.unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.headers().get("Idempotent-Replayed").is_none());
    }
    let after = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.dispatcher)
        .await
        .1;
    assert_eq!(before, after);
}

crate::on_both_backends!(
    an_overlong_if_match_is_refused_even_with_a_used_key,
    every_bad_input_is_a_4xx_problem_and_writes_nothing,
    unknown_routes_and_methods_are_problems
);
