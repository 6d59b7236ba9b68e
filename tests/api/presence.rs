//! Proof that the citizen was there, over HTTP: the one-time code sent by SMS (or a
//! signature where no SMS gateway is configured), the recipient's ID number at
//! delivery, the doorstep checklist against the procedure, and the desk's count
//! against the courier's.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{
    assigned_request, delivery_proof, now, pickup_proof, task_of, window, world, World, SIGNATURE,
};
use crate::receiver::Receiver;
use buuta::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// An app whose SMS go to `receiver` (so pickups and deliveries need a code).
pub fn with_sms(s: &mut Settings, receiver: &Receiver) {
    s.outbox_worker = true;
    s.sms_url = Some(format!("{}/sms", receiver.base));
    s.sms_token = Some("sms-token".into());
    s.outbox_poll_ms = 20;
    s.outbox_retry_base_ms = 40;
    s.outbox_retry_max_ms = 200;
    s.outbox_send_timeout_ms = 5000;
}

/// The codes texted so far, oldest first.
fn codes_sent(receiver: &Receiver) -> Vec<String> {
    receiver
        .accepted()
        .iter()
        .filter(|h| h.path == "/sms" && h.json["type"] == "sms.otp")
        .map(|h| {
            let text = h.json["text"].as_str().unwrap();
            let after = text.split(" là ").nth(1).expect("the code follows “là”");
            after.chars().take_while(char::is_ascii_digit).collect()
        })
        .collect()
}

/// Asks the server to text the citizen a code for `task` and reads it off the SMS
/// gateway, as the citizen would read it off the phone.
pub async fn otp(app: &TestApp, receiver: &Receiver, courier: &str, task: i64) -> String {
    let before = codes_sent(receiver).len();
    let (s, v) = app
        .post(&format!("/api/v1/tasks/{task}/otp"), courier, &json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let codes = codes_sent(receiver);
        if codes.len() > before {
            let code = codes.last().unwrap().clone();
            assert_eq!(code.len(), 6, "{code}");
            return code;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the code never reached the gateway"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn dossier(app: &TestApp, w: &World, code: &str) -> Value {
    let (s, d) = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.operator)
        .await;
    assert_eq!(s, 200, "{d}");
    d
}

fn events_of(d: &Value) -> Vec<String> {
    d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn post_event(app: &TestApp, token: &str, task: i64, body: Value) -> reqwest::Response {
    app.send(
        Method::POST,
        &format!("/api/v1/tasks/{task}/events"),
        Some(token),
        Some(&body),
    )
    .await
}

fn picked(proof: Value) -> Value {
    json!({"type": "picked_up", "at": now(), "proof": proof})
}

/// With an SMS gateway: no code, a wrong code, too many tries, an expired code, a
/// code of another task, a used code are all 422 `invalid_otp` and record nothing;
/// the right code records the pickup once.
async fn a_pickup_needs_the_code_texted_to_the_citizen(b: Backend) {
    let receiver = Receiver::start(0);
    let Some(app) = TestApp::spawn_with(b, |s| with_sms(s, &receiver)).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let before = events_of(&dossier(&app, &w, &code).await);

    // The route tells the app which proof to collect.
    let (_, route) = app.get("/api/v1/me/route", &w.courier).await;
    let stop = route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == pickup)
        .unwrap()
        .clone();
    assert_eq!(stop["evidence"], "otp", "{stop}");

    // A signature alone is not enough here.
    let res = post_event(&app, &w.courier, pickup, picked(pickup_proof())).await;
    assert_problem(res, 422, "invalid_otp").await;

    // Only the assigned courier may have a code sent.
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{pickup}/otp"),
            Some(&w.other_courier),
            None,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    let first = otp(&app, &receiver, &w.courier, pickup).await;
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut proof = pickup_proof();
    proof["otp"] = json!(wrong);
    for _ in 0..5 {
        let res = post_event(&app, &w.courier, pickup, picked(proof.clone())).await;
        assert_problem(res, 422, "invalid_otp").await;
    }
    // Five wrong tries spend the code: even the right one is refused now.
    proof["otp"] = json!(first);
    refused(
        post_event(&app, &w.courier, pickup, picked(proof.clone())).await,
        "hết lượt thử",
    )
    .await;

    // A fresh code that has expired is refused too.
    let second = otp(&app, &receiver, &w.courier, pickup).await;
    expire_codes(&app, pickup).await;
    proof["otp"] = json!(second);
    refused(
        post_event(&app, &w.courier, pickup, picked(proof.clone())).await,
        "hết hạn",
    )
    .await;

    // The third code in 15 minutes is the last one.
    let third = otp(&app, &receiver, &w.courier, pickup).await;
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{pickup}/otp"),
            Some(&w.courier),
            None,
        )
        .await;
    assert_problem(res, 429, "rate_limited").await;
    assert_eq!(
        events_of(&dossier(&app, &w, &code).await),
        before,
        "nothing recorded"
    );

    proof["otp"] = json!(third);
    let res = post_event(&app, &w.courier, pickup, picked(proof.clone())).await;
    assert_eq!(res.status(), 200);
    let d = dossier(&app, &w, &code).await;
    assert_eq!(d["status"], "picked_up");
    let pickups = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "picked_up")
        .collect::<Vec<_>>();
    assert_eq!(pickups.len(), 1);
    let stored = pickups[0].to_string();
    assert!(
        !stored.contains(&third),
        "the code itself is not stored: {stored}"
    );
    assert!(stored.contains("verified"), "{stored}");

    // The code cannot be used again, even on the next task of the same dossier.
    let dropoff = task_of(&d, "dropoff");
    let body = json!({"type": "handed_over", "at": now()});
    assert_eq!(
        post_event(&app, &w.courier, dropoff, body).await.status(),
        200
    );
    let mut delivery = delivery_proof();
    delivery["otp"] = json!(third);
    let supplement = receive_and_return(&app, &w, &code).await;
    let deliver = task_of(&supplement, "deliver");
    let res = post_event(
        &app,
        &w.courier,
        deliver,
        json!({"type": "delivered", "at": now(), "proof": delivery}),
    )
    .await;
    assert_problem(res, 422, "invalid_otp").await;
    let mut delivery = delivery_proof();
    delivery["otp"] = json!(otp(&app, &receiver, &w.courier, deliver).await);
    let res = post_event(
        &app,
        &w.courier,
        deliver,
        json!({"type": "delivered", "at": now(), "proof": delivery}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(dossier(&app, &w, &code).await["status"], "completed");
}

/// A 422 `invalid_otp` whose message says `why`.
async fn refused(res: reqwest::Response, why: &str) {
    let body = assert_problem(res, 422, "invalid_otp").await;
    assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
}

/// Every code of `task` expires now (the clock moved on ten minutes).
async fn expire_codes(app: &TestApp, task: i64) {
    app.db
        .write(move |c| -> Result<(), buuta::error::ApiError> {
            use buuta::db::schema::task_otps;
            use diesel::prelude::*;
            let past = buuta::db::now_utc() - chrono::Duration::minutes(1);
            diesel::update(task_otps::table.filter(task_otps::task_id.eq(task)))
                .set(task_otps::expires_at.eq(past))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// From `at_agency`: received, result ready, collected; the dossier with its deliver
/// task assigned to `w.courier` and on the way.
async fn receive_and_return(app: &TestApp, w: &World, code: &str) -> Value {
    let dp = format!("/api/v1/dossiers/{code}");
    let receive = json!({"agency_dossier_code": "000.00.12.H18-1", "appointment_date": &window(5)["from"].as_str().unwrap()[..10],
                         "checked_documents": ["Đơn đề nghị", "Bản sao căn cước"]});
    let (s, v) = app.post(&format!("{dp}/receive"), &w.clerk, &receive).await;
    assert_eq!(s, 200, "{v}");
    let (s, d) = app
        .post(
            &format!("{dp}/result-ready"),
            &w.clerk,
            &json!({"outcome": "approved"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let collect = task_of(&d, "collect");
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{collect}/assign"),
            &w.dispatcher,
            &json!({"courier_id": w.courier_id}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let body = json!({"type": "collected", "at": now()});
    let res = post_event(app, &w.courier, collect, body).await;
    assert_eq!(res.status(), 200);
    dossier(app, w, code).await
}

/// Without an SMS gateway the citizen signs: no signature is 422, and no code can be
/// sent (409).
async fn without_sms_the_citizen_signs(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{pickup}/otp"),
            Some(&w.courier),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
    // A photo of the papers is proof of something, but not of the citizen's consent.
    let mut unsigned = pickup_proof();
    unsigned.as_object_mut().unwrap().remove("signature_png");
    unsigned["photo"] = json!(SIGNATURE);
    let res = post_event(&app, &w.courier, pickup, picked(unsigned)).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "proof.signature_png", "{body}");
    assert_eq!(dossier(&app, &w, &code).await["status"], "scheduled");
    let (_, route) = app.get("/api/v1/me/route", &w.courier).await;
    let stop = &route["stops"][0];
    assert_eq!(stop["evidence"], "signature");
    // The whole registered name, not only the first name.
    assert_eq!(stop["citizen_name"], "Trần Thị Bình", "{stop}");
    assert!(stop["dossier_version"].as_i64().unwrap() >= 1, "{stop}");
    let res = post_event(&app, &w.courier, pickup, picked(pickup_proof())).await;
    assert_eq!(res.status(), 200);
}

/// The doorstep checklist covers the procedure's documents: a missing one is named
/// and refused, unless the courier records that the citizen was guided and marks the
/// pickup incomplete.
async fn the_checklist_covers_the_procedures_documents(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let mut short = pickup_proof();
    short["checked_documents"] = json!(["đơn đề nghị"]);
    let res = post_event(&app, &w.courier, pickup, picked(short.clone())).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "proof.checked_documents");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Bản sao căn cước"),
        "{body}"
    );
    short["incomplete"] = json!(true);
    let res = post_event(&app, &w.courier, pickup, picked(short.clone())).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(dossier(&app, &w, &code).await["status"], "scheduled");

    short["citizen_guided"] = json!(true);
    let res = post_event(&app, &w.courier, pickup, picked(short)).await;
    assert_eq!(res.status(), 200);
    let d = dossier(&app, &w, &code).await;
    let stored = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "picked_up")
        .unwrap()
        .to_string();
    assert!(
        stored.contains("missing_documents") && stored.contains("Bản sao căn cước"),
        "{stored}"
    );

    // At the desk: fewer documents than the courier took is a warning first.
    let dropoff = task_of(&d, "dropoff");
    let body = json!({"type": "handed_over", "at": now()});
    assert_eq!(
        post_event(&app, &w.courier, dropoff, body).await.status(),
        200
    );
    let dp = format!("/api/v1/dossiers/{code}/receive");
    let day = window(5)["from"].as_str().unwrap()[..10].to_owned();
    let mut receive = json!({"agency_dossier_code": "000.00.12.H18-2", "appointment_date": day,
                             "checked_documents": []});
    let res = app
        .send(Method::POST, &dp, Some(&w.clerk), Some(&receive))
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "checked_documents");
    receive["checked_documents"] = json!(["Tờ khai"]);
    let res = app
        .send(Method::POST, &dp, Some(&w.clerk), Some(&receive))
        .await;
    let body = assert_problem(res, 409, "document_shortfall").await;
    assert!(
        body["detail"].as_str().unwrap().contains("đơn đề nghị"),
        "{body}"
    );
    assert_eq!(dossier(&app, &w, &code).await["status"], "at_agency");
    receive["accept_shortfall"] = json!(true);
    let (s, v) = app.post(&dp, &w.clerk, &receive).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        events_of(&v).last().map(String::as_str),
        Some("received"),
        "{v}"
    );
}

/// A result goes to the registered citizen only: the recipient's ID number must end
/// like the dossier's.
async fn a_result_goes_to_the_holder_of_the_id(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    crate::lifecycle::carry_to_agency(&app, &w, pickup, task_of(&d, "dropoff")).await;
    let d = receive_and_return(&app, &w, &code).await;
    let deliver = task_of(&d, "deliver");
    for (id, field) in [
        (json!(null), "proof.receiver_id_number"),
        (json!("1234"), "proof.receiver_id_number"),
        (json!("89"), "proof.receiver_id_number"),
    ] {
        let mut proof = delivery_proof();
        proof["receiver_id_number"] = id;
        let res = post_event(
            &app,
            &w.courier,
            deliver,
            json!({"type": "delivered", "at": now(), "proof": proof}),
        )
        .await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(dossier(&app, &w, &code).await["status"], "out_for_delivery");
    let proof = json!({"receiver_name": "Trần Thị Bình", "receiver_id_number": "087123456789",
                       "signature_png": SIGNATURE});
    let res = post_event(
        &app,
        &w.courier,
        deliver,
        json!({"type": "delivered", "at": now(), "proof": proof}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(dossier(&app, &w, &code).await["status"], "completed");
}

crate::on_both_backends!(
    a_pickup_needs_the_code_texted_to_the_citizen,
    without_sms_the_citizen_signs,
    the_checklist_covers_the_procedures_documents,
    a_result_goes_to_the_holder_of_the_id,
);
