//! Every life-cycle write refuses each bad field with a 4xx problem and changes nothing.

use crate::errors::mutate;
use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{assigned_request, window, world};
use reqwest::Method;
use serde_json::{json, Value};

type Bad = (&'static str, Option<Value>, &'static str);

async fn every_life_cycle_write_refuses_bad_fields(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let (_, before) = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.operator)
        .await;
    let (_, couriers_before) = app.get("/api/v1/couriers", &w.admin).await;

    let long = json!("ơ".repeat(501));
    let past = json!("2020-01-01T08:00:00+07:00");
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let now = chrono::Utc::now().to_rfc3339();
    let picked = json!({"type": "picked_up", "at": now, "lat": 10.46, "lon": 105.63, "proof": {"checked_documents": ["Đơn đề nghị", "Bản sao căn cước"], "seal_number": "NP-1", "otp": "1234", "signature_png": crate::lifecycle::SIGNATURE, "fees_collected_vnd": 0}});
    let table: Vec<(&str, String, Value, Vec<Bad>)> = vec![
        (
            &w.operator,
            format!("/api/v1/dossiers/{code}/cancel"),
            json!({"reason": "Người dân đổi ý"}),
            vec![
                ("/reason", Some(json!(" ")), "reason"),
                ("/reason", None, "reason"),
                ("/reason", Some(long.clone()), "reason"),
            ],
        ),
        (
            &w.operator,
            format!("/api/v1/dossiers/{code}/reschedule"),
            json!({"pickup_window": window(2)}),
            vec![
                ("/pickup_window", None, "pickup_window"),
                ("/pickup_window/from", Some(past.clone()), "pickup_window"),
                (
                    "/pickup_window/to",
                    Some(window(2)["from"].clone()),
                    "pickup_window",
                ),
                ("/pickup_window/to", Some(json!("x")), "pickup_window"),
            ],
        ),
        (
            &w.clerk,
            format!("/api/v1/dossiers/{code}/receive"),
            json!({"agency_dossier_code": "H18-1", "appointment_date": window(5)["from"].as_str().unwrap()[..10], "checked_documents": ["Đơn"]}),
            vec![
                (
                    "/agency_dossier_code",
                    Some(json!("")),
                    "agency_dossier_code",
                ),
                (
                    "/appointment_date",
                    Some(json!("2020-01-01")),
                    "appointment_date",
                ),
                ("/appointment_date", Some(json!("mai")), "appointment_date"),
                (
                    "/checked_documents",
                    Some(json!("Đơn")),
                    "checked_documents",
                ),
                ("/checked_documents", Some(json!([""])), "checked_documents"),
            ],
        ),
        (
            &w.clerk,
            format!("/api/v1/dossiers/{code}/supplement-required"),
            json!({"reason": "Thiếu", "missing_documents": ["Giấy khám"]}),
            vec![
                ("/reason", Some(json!("")), "reason"),
                ("/missing_documents", Some(json!([])), "missing_documents"),
                (
                    "/missing_documents",
                    Some(json!([" "])),
                    "missing_documents",
                ),
            ],
        ),
        (
            &w.clerk,
            format!("/api/v1/dossiers/{code}/result-ready"),
            json!({"outcome": "approved"}),
            vec![
                ("/outcome", Some(json!("maybe")), "outcome"),
                ("/outcome", None, "outcome"),
                ("/note", Some(long.clone()), "note"),
            ],
        ),
        (
            &w.courier,
            format!("/api/v1/tasks/{pickup}/events"),
            picked.clone(),
            vec![
                ("/type", Some(json!("teleport")), "type"),
                ("/at", Some(json!("hôm qua")), "at"),
                ("/at", Some(json!(future)), "at"),
                ("/lat", Some(json!(48.8)), "lat"),
                ("/lon", None, "lon"),
                ("/proof", None, "proof"),
                ("/proof/seal_number", None, "proof.seal_number"),
                (
                    "/proof/checked_documents",
                    Some(json!([])),
                    "proof.checked_documents",
                ),
                (
                    "/proof/fees_collected_vnd",
                    Some(json!(-5)),
                    "proof.fees_collected_vnd",
                ),
                ("/proof/otp", Some(json!("12")), "proof.otp"),
                ("/note", Some(long.clone()), "note"),
            ],
        ),
        (
            &w.courier,
            format!("/api/v1/tasks/{pickup}/events"),
            json!({"type": "failed", "at": now, "reason": "not_home"}),
            vec![
                ("/reason", None, "reason"),
                ("/reason", Some(json!("bored")), "reason"),
            ],
        ),
        (
            &w.dispatcher,
            format!("/api/v1/tasks/{pickup}/assign"),
            json!({"courier_id": w.courier_id}),
            vec![
                ("/courier_id", Some(json!("x")), "courier_id"),
                ("/courier_id", Some(json!(999)), "courier_id"),
            ],
        ),
        (
            &w.admin,
            "/api/v1/couriers".to_owned(),
            json!({"user_id": 1, "post_office_id": 1, "zone_ids": [], "capacity": 10, "shift_start": "07:30", "shift_end": "17:00"}),
            vec![
                ("/capacity", Some(json!(0)), "capacity"),
                ("/shift_start", Some(json!("25:00")), "shift_start"),
                ("/shift_end", Some(json!("06:00")), "shift_end"),
                ("/zone_ids", Some(json!([1])), "zone_ids"),
                ("/user_id", Some(json!(1)), "user_id"),
                ("/post_office_id", Some(json!(999)), "post_office_id"),
            ],
        ),
    ];
    for (token, path, valid, bad) in &table {
        for (pointer, value, field) in bad {
            let body = mutate(valid, pointer, value.clone());
            let res = app.send(Method::POST, path, Some(token), Some(&body)).await;
            assert!(
                res.status().is_client_error(),
                "{path} {pointer}: {}",
                res.status()
            );
            let status = res.status().as_u16();
            let code_ = if *field == "lat" && value.is_some() {
                "outside_vietnam"
            } else {
                "validation_failed"
            };
            let problem = assert_problem(res, status, code_).await;
            assert_eq!(status, 422, "{path} {pointer}: {problem}");
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(
                fields.iter().any(|f| f.starts_with(field)),
                "{path} {pointer}: {fields:?}"
            );
        }
    }
    let (_, after) = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.operator)
        .await;
    assert_eq!(before, after, "a refused write changed the dossier");
    let (_, couriers_after) = app.get("/api/v1/couriers", &w.admin).await;
    assert_eq!(couriers_before, couriers_after);
}

crate::on_both_backends!(every_life_cycle_write_refuses_bad_fields);
