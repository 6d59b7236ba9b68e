//! Inbound events of the provincial one-stop system: signed, fresh, never replayed.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{assigned_request, now, pickup_proof, world};
use buuta::domain::notify::sign;
use reqwest::Response;
use serde_json::{json, Value};

const SECRET: &str = "one-stop-shared-secret-2026";

async fn send(app: &TestApp, body: &Value, secret: &str, header_ts: Option<i64>) -> Response {
    let text = body.to_string();
    let mut req = app
        .client
        .post(format!("{}/api/v1/integrations/one-stop/events", app.base))
        .header("Content-Type", "application/json")
        .header(
            "X-Buuta-Signature",
            sign(secret.as_bytes(), text.as_bytes()),
        );
    if let Some(ts) = header_ts {
        req = req.header("X-Buuta-Timestamp", ts.to_string());
    }
    req.body(text).send().await.unwrap()
}

async fn status_of(app: &TestApp, token: &str, code: &str) -> String {
    app.get(&format!("/api/v1/dossiers/{code}"), token).await.1["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ts() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn one_stop_events_are_verified_and_move_the_dossier(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| {
        s.one_stop_secret = Some(SECRET.into());
    })
    .await
    else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/events"),
            &w.courier,
            &json!({"type": "picked_up", "at": now(), "proof": pickup_proof()}),
        )
        .await;
    assert_eq!(s, 200);
    let appointment = crate::lifecycle::vn_day(7).format("%Y-%m-%d").to_string();
    let received = |t: i64, id: &str| {
        json!({"event_id": id, "type": "received", "timestamp": t, "tracking_code": code,
               "agency_dossier_code": "000.00.12.H18-261123-0042", "appointment_date": appointment})
    };
    // A bad signature: refused, nothing changes.
    let res = send(&app, &received(ts(), "OS-1"), "wrong-secret-000000", None).await;
    assert_problem(res, 401, "invalid_signature").await;
    let text = received(ts(), "OS-1").to_string();
    let res = app
        .client
        .post(format!("{}/api/v1/integrations/one-stop/events", app.base))
        .header("Content-Type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_signature").await;
    // A body changed after signing.
    let signed = received(ts(), "OS-1").to_string();
    let res = app
        .client
        .post(format!("{}/api/v1/integrations/one-stop/events", app.base))
        .header("Content-Type", "application/json")
        .header(
            "X-Buuta-Signature",
            sign(SECRET.as_bytes(), signed.as_bytes()),
        )
        .body(signed.replace("OS-1", "OS-2"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_signature").await;
    // An old timestamp (correctly signed): refused.
    let res = send(&app, &received(ts() - 3600, "OS-1"), SECRET, None).await;
    assert_problem(res, 401, "stale_timestamp").await;
    // A header timestamp that is not the signed one.
    let t = ts();
    let res = send(&app, &received(t, "OS-1"), SECRET, Some(t + 1)).await;
    assert_problem(res, 401, "stale_timestamp").await;
    assert_eq!(status_of(&app, &w.operator, &code).await, "picked_up");

    // A good one moves the dossier.
    let good = received(t, "OS-1");
    let res = send(&app, &good, SECRET, Some(t)).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (v["duplicate"].clone(), v["status"].clone()),
        (json!(false), json!("at_agency"))
    );
    let (_, d) = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.operator)
        .await;
    assert_eq!(d["agency_dossier_code"], "000.00.12.H18-261123-0042");
    let last = d["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["type"].clone(), last["actor_role"].clone()),
        (json!("received"), json!("one_stop"))
    );
    let events = d["events"].as_array().unwrap().len();

    // The same signed message again: a replay, refused.
    let res = send(&app, &good, SECRET, Some(t)).await;
    assert_problem(res, 409, "replayed").await;
    // The same event re-sent with a fresh signature (a retry): accepted, no change.
    let res = send(&app, &received(ts() + 1, "OS-1"), SECRET, None).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["duplicate"], true);
    let (_, d) = app
        .get(&format!("/api/v1/dossiers/{code}"), &w.operator)
        .await;
    assert_eq!(d["events"].as_array().unwrap().len(), events);

    // result_ready by the agency's own code; a bad outcome is a 422 and changes nothing.
    let ready = |id: &str, outcome: &str| {
        json!({"event_id": id, "type": "result_ready", "timestamp": ts(),
               "agency_dossier_code": "000.00.12.H18-261123-0042", "outcome": outcome})
    };
    let res = send(&app, &ready("OS-2", "maybe"), SECRET, None).await;
    assert_problem(res, 422, "validation_failed").await;
    let res = send(&app, &ready("OS-2", "approved"), SECRET, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(status_of(&app, &w.operator, &code).await, "result_ready");
    // An event the status does not allow: 409, and its id stays unused.
    let mut again = received(ts(), "OS-3");
    again["type"] = json!("received");
    let res = send(&app, &again, SECRET, None).await;
    assert_problem(res, 409, "illegal_transition").await;
    let mut unknown = ready("OS-4", "approved");
    unknown["agency_dossier_code"] = json!("không-có");
    let res = send(&app, &unknown, SECRET, None).await;
    assert_problem(res, 404, "not_found").await;
    let res = send(&app, &json!({"event_id": "x"}), SECRET, None).await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn one_stop_without_a_secret_is_unavailable(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let body = json!({"event_id": "OS-1", "type": "received", "timestamp": ts()});
    let res = send(&app, &body, SECRET, None).await;
    assert_problem(res, 503, "unavailable").await;
}

crate::on_both_backends!(
    one_stop_events_are_verified_and_move_the_dossier,
    one_stop_without_a_secret_is_unavailable,
);
