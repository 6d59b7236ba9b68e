//! The outbox over HTTP: SMS and webhooks of a whole journey reach a real local
//! receiver, signed, once each, through failures, a dying sender and two nodes.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{now, pickup_proof, request, task_of, window, world, World};
use crate::presence::otp;
use crate::receiver::{Hit, Receiver};
use buuta::config::Settings;
use buuta::domain::notify::verify;
use buuta::workers::outbox::{self, OutboxConfig};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub const HOOK_SECRET: &str = "webhook-secret-0123456789";
const SMS_TOKEN: &str = "sms-token-abc";

/// Fast sender settings against `receiver`.
fn fast_outbox(s: &mut Settings, receiver: &Receiver) {
    s.outbox_worker = true;
    s.sms_url = Some(format!("{}/sms", receiver.base));
    s.sms_token = Some(SMS_TOKEN.into());
    s.outbox_poll_ms = 20;
    s.outbox_retry_base_ms = 40;
    s.outbox_retry_max_ms = 200;
    s.outbox_send_timeout_ms = 5000;
}

async fn subscribe(app: &TestApp, admin: &str, receiver: &Receiver, events: Value) -> Value {
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            admin,
            &json!({"url": format!("{}/hooks", receiver.base), "secret": HOOK_SECRET, "events": events}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    hook
}

/// Every outbox row, through the admin API.
pub async fn outbox_rows(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(
                &format!("/api/v1/outbox?limit=500&cursor={cursor}{query}"),
                admin,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return rows,
        }
    }
}

async fn wait_all_sent(app: &TestApp, admin: &str, secs: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let rows = outbox_rows(app, admin, "").await;
        if !rows.is_empty() && rows.iter().all(|r| r["status"] == "sent") {
            return rows;
        }
        if tokio::time::Instant::now() > deadline {
            let open: Vec<_> = rows.iter().filter(|r| r["status"] != "sent").collect();
            panic!("outbox not drained in {secs} s: {open:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn check_webhook_signature(hit: &Hit) {
    let sig = hit.header("x-buuta-signature");
    assert!(
        verify(HOOK_SECRET.as_bytes(), hit.body.as_bytes(), sig),
        "signature verifies: {sig} over {}",
        hit.body
    );
    assert!(!verify(b"another-secret-0000000", hit.body.as_bytes(), sig));
    let ts: i64 = hit.header("x-buuta-timestamp").parse().unwrap();
    assert_eq!(
        hit.json["timestamp"], ts,
        "the signed body carries the timestamp"
    );
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 120);
    assert_eq!(hit.header("x-buuta-delivery"), hit.delivery_id());
}

async fn post_ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, &body).await;
    assert_eq!(s, 200, "{path}: {v}");
    if v.get("dossier").is_some() {
        v["dossier"].clone()
    } else {
        v
    }
}

/// Picks the dossier up with the code texted to the citizen, hands it over.
async fn carry_with_code(app: &TestApp, w: &World, receiver: &Receiver, pickup: i64, dropoff: i64) {
    let mut proof = pickup_proof();
    proof["otp"] = json!(otp(app, receiver, &w.courier, pickup).await);
    let ev = |t: i64| format!("/api/v1/tasks/{t}/events");
    post_ok(
        app,
        &w.courier,
        &ev(pickup),
        json!({"type": "picked_up", "at": now(), "proof": proof}),
    )
    .await;
    post_ok(
        app,
        &w.courier,
        &ev(dropoff),
        json!({"type": "handed_over", "at": now()}),
    )
    .await;
}

/// Drives one dossier through the whole journey (with a supplement and a failed
/// delivery); returns its tracking code.
async fn full_journey(app: &TestApp, w: &World, receiver: &Receiver) -> String {
    let (status, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let dp = format!("/api/v1/dossiers/{code}");
    let assign = json!({"courier_id": w.courier_id});
    let (pickup, dropoff) = (task_of(&d, "pickup"), task_of(&d, "dropoff"));
    post_ok(
        app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        assign.clone(),
    )
    .await;
    post_ok(
        app,
        &w.courier,
        &format!("/api/v1/tasks/{pickup}/events"),
        json!({"type": "arrived", "at": now()}),
    )
    .await;
    carry_with_code(app, w, receiver, pickup, dropoff).await;
    let receive = json!({"agency_dossier_code": "000.00.12.H18-261123-0001",
                         "appointment_date": &window(5)["from"].as_str().unwrap()[..10],
                         "checked_documents": ["Đơn đề nghị", "Bản sao căn cước"]});
    post_ok(app, &w.clerk, &format!("{dp}/receive"), receive.clone()).await;
    let d = post_ok(
        app,
        &w.clerk,
        &format!("{dp}/supplement-required"),
        json!({"reason": "Thiếu giấy khám sức khỏe", "missing_documents": ["Giấy khám sức khỏe"]}),
    )
    .await;
    let (pickup2, dropoff2) = (task_of(&d, "pickup"), task_of(&d, "dropoff"));
    post_ok(
        app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup2}/assign"),
        assign.clone(),
    )
    .await;
    carry_with_code(app, w, receiver, pickup2, dropoff2).await;
    post_ok(app, &w.clerk, &format!("{dp}/receive"), receive).await;
    let d = post_ok(
        app,
        &w.clerk,
        &format!("{dp}/result-ready"),
        json!({"outcome": "approved"}),
    )
    .await;
    let (collect, deliver) = (task_of(&d, "collect"), task_of(&d, "deliver"));
    post_ok(
        app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{collect}/assign"),
        assign,
    )
    .await;
    let ev = |t: i64| format!("/api/v1/tasks/{t}/events");
    post_ok(
        app,
        &w.courier,
        &ev(collect),
        json!({"type": "collected", "at": now()}),
    )
    .await;
    post_ok(
        app,
        &w.courier,
        &ev(deliver),
        json!({"type": "failed", "at": now(), "reason": "not_home"}),
    )
    .await;
    let mut proof = crate::lifecycle::delivery_proof();
    proof["otp"] = json!(otp(app, receiver, &w.courier, deliver).await);
    let d = post_ok(
        app,
        &w.courier,
        &ev(deliver),
        json!({"type": "delivered", "at": now(), "proof": proof}),
    )
    .await;
    assert_eq!(d["status"], "completed");
    code
}

async fn a_whole_journey_notifies_exactly_once_through_failures(b: Backend) {
    let receiver = Receiver::start(3);
    let Some(app) = TestApp::spawn_with(b, |s| fast_outbox(s, &receiver)).await else {
        return;
    };
    let w = world(&app).await;
    subscribe(&app, &w.admin, &receiver, json!(["*"])).await;
    let code = full_journey(&app, &w, &receiver).await;

    let expected_sms = [
        "sms.request_received",
        "sms.courier_on_the_way",
        "sms.otp",
        "sms.picked_up",
        "sms.supplement_needed",
        "sms.courier_on_the_way",
        "sms.otp",
        "sms.picked_up",
        "sms.result_ready",
        "sms.courier_on_the_way",
        "sms.otp",
        "sms.delivered",
    ];
    let expected_hooks = [
        "requested",
        "assigned",
        "arrived",
        "picked_up",
        "handed_over",
        "received",
        "supplement_required",
        "assigned",
        "picked_up",
        "handed_over",
        "received",
        "result_ready",
        "assigned",
        "collected",
        "failed",
        "delivered",
    ];
    let total = expected_sms.len() + expected_hooks.len();
    let rows = wait_all_sent(&app, &w.admin, 30).await;
    assert_eq!(rows.len(), total, "one delivery per message");

    // The receiver failed the first 3 requests, then got each delivery exactly once.
    let hits = receiver.hits();
    assert_eq!(hits.iter().filter(|h| !h.accepted).count(), 3);
    let accepted = receiver.accepted();
    let ids: BTreeSet<String> = accepted.iter().map(Hit::delivery_id).collect();
    assert_eq!(ids.len(), accepted.len(), "no delivery accepted twice");
    let row_ids: BTreeSet<String> = rows
        .iter()
        .map(|r| r["delivery_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, row_ids, "every queued delivery arrived");
    let retried: Vec<_> = rows.iter().filter(|r| r["attempts"] != 1).collect();
    assert!(!retried.is_empty() && retried.iter().all(|r| r["attempts"].as_i64().unwrap() > 1));

    // SMS: the expected messages, to the citizen, with the gateway token, in Vietnamese.
    let mut sms: Vec<&Hit> = accepted.iter().filter(|h| h.path == "/sms").collect();
    sms.sort_by_key(|h| {
        rows.iter()
            .position(|r| r["delivery_id"] == h.json["delivery_id"])
            .unwrap()
    });
    let kinds: Vec<&str> = sms
        .iter()
        .map(|h| h.json["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, expected_sms);
    for h in &sms {
        assert_eq!(h.json["phone"], "0912345678");
        assert_eq!(h.header("authorization"), format!("Bearer {SMS_TOKEN}"));
        assert_eq!(h.header("idempotency-key"), h.delivery_id());
        assert!(h.json["text"].as_str().unwrap().contains(&code));
    }
    assert!(sms[0].json["text"]
        .as_str()
        .unwrap()
        .contains("Đã tiếp nhận yêu cầu lấy hồ sơ"));
    assert!(sms[4].json["text"]
        .as_str()
        .unwrap()
        .contains("cần bổ sung: Giấy khám sức khỏe"));

    // Webhooks: every event, in order, signed over the body with the timestamp in it.
    let mut hooks: Vec<&Hit> = accepted.iter().filter(|h| h.path == "/hooks").collect();
    hooks.sort_by_key(|h| {
        rows.iter()
            .position(|r| r["delivery_id"] == h.json["delivery_id"])
            .unwrap()
    });
    let events: Vec<&str> = hooks
        .iter()
        .map(|h| h.json["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, expected_hooks);
    for h in &hooks {
        check_webhook_signature(h);
        assert_eq!(h.json["tracking_code"], code.as_str());
        assert_eq!(h.header("x-buuta-event"), h.json["event"].as_str().unwrap());
    }
    assert_eq!(hooks.last().unwrap().json["status"], "completed");
    assert_eq!(
        hooks.last().unwrap().json["previous_status"],
        "out_for_delivery"
    );
    // Failed tries were signed too, and retried with the same delivery id.
    for h in hits.iter().filter(|h| !h.accepted && h.path == "/hooks") {
        check_webhook_signature(h);
        assert!(ids.contains(&h.delivery_id()));
    }
}

async fn opted_out_citizens_get_no_sms(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let mut body = request(w.agency_id);
    body["sms_opt_out"] = json!(true);
    let (status, quiet) = app
        .post("/api/v1/pickup-requests", &w.operator, &body)
        .await;
    assert_eq!(status, 201, "{quiet}");
    let (status, loud) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    assert_eq!(status, 201);
    let loud_code = loud["tracking_code"].as_str().unwrap();
    let sms = |code: &str| {
        let (app, admin, code) = (&app, w.admin.clone(), code.to_owned());
        async move {
            outbox_rows(app, &admin, &format!("&tracking_code={code}"))
                .await
                .into_iter()
                .filter(|r| r["kind"] == "sms")
                .count()
        }
    };
    assert_eq!(sms(quiet["tracking_code"].as_str().unwrap()).await, 0);
    assert_eq!(sms(loud_code).await, 1);

    // Opting out later stops further messages; opting in again resumes them.
    let (s, v) = app
        .post(
            &format!("/api/v1/dossiers/{loud_code}/sms-opt-out"),
            &w.operator,
            &json!({"opt_out": true}),
        )
        .await;
    assert_eq!((s.as_u16(), &v["sms_opt_out"]), (200, &json!(true)), "{v}");
    let pickup = task_of(&loud, "pickup");
    let assign = json!({"courier_id": w.courier_id});
    post_ok(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        assign,
    )
    .await;
    assert_eq!(sms(loud_code).await, 1);
    app.post(
        &format!("/api/v1/dossiers/{loud_code}/sms-opt-out"),
        &w.operator,
        &json!({"opt_out": false}),
    )
    .await;
    post_ok(
        &app,
        &w.courier,
        &format!("/api/v1/tasks/{pickup}/events"),
        json!({"type": "picked_up", "at": now(), "proof": pickup_proof()}),
    )
    .await;
    assert_eq!(sms(loud_code).await, 2);

    // Without a gateway the worker marks SMS skipped; an admin can resend them.
    let worker = outbox::spawn(app.db.clone(), fast_config(&app));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let rows = outbox_rows(&app, &w.admin, "&status=skipped").await;
        if rows.len() == 2 || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(worker);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let id = rows[0]["id"].as_i64().unwrap();
    let (s, v) = app
        .post(&format!("/api/v1/outbox/{id}/resend"), &w.admin, &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "pending");
    assert_eq!(v["delivery_id"], rows[0]["delivery_id"], "same delivery id");
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/outbox/{id}/resend"),
            Some(&w.admin),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
    let res = app
        .send(
            Method::GET,
            "/api/v1/outbox?status=lost",
            Some(&w.admin),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(Method::GET, "/api/v1/outbox", Some(&w.operator), None)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

fn fast_config(app: &TestApp) -> OutboxConfig {
    let _ = app;
    let mut s = Settings::for_database("sqlite://unused.db");
    s.outbox_poll_ms = 20;
    s.outbox_retry_base_ms = 40;
    s.outbox_retry_max_ms = 200;
    OutboxConfig::from_settings(&s)
}

async fn a_sender_killed_mid_flight_loses_nothing(b: Backend) {
    let receiver = Receiver::start(0);
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    subscribe(&app, &w.admin, &receiver, json!(["*"])).await;
    let (d, _) = crate::lifecycle::assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let queued = outbox_rows(&app, &w.admin, "").await;
    assert_eq!(queued.len(), 4, "intake and assignment: 2 SMS, 2 webhooks");

    let mut config = fast_config(&app);
    config.sms = Some(outbox::SmsGateway {
        url: format!("{}/sms", receiver.base),
        token: None,
    });
    config.lease = Duration::from_secs(1);
    receiver.hold();
    let first = outbox::spawn(app.db.clone(), config.clone());
    receiver
        .wait_until(10, "all 4 in flight", |h| h.len() == 4)
        .await;
    // Killed while all four requests are in flight (sent, never answered).
    first.abort();
    drop(first);
    let stuck = outbox_rows(&app, &w.admin, "&status=sending").await;
    assert_eq!(stuck.len(), 4, "the dead sender's claims stay leased");
    receiver.release();

    let second = outbox::spawn(app.db.clone(), config);
    let rows = wait_all_sent(&app, &w.admin, 20).await;
    drop(second);
    assert_eq!(rows.len(), 4);
    let hits = receiver.hits();
    let mut copies: BTreeMap<String, Vec<&Hit>> = BTreeMap::new();
    for h in &hits {
        copies.entry(h.delivery_id()).or_default().push(h);
    }
    let row_ids: BTreeSet<String> = rows
        .iter()
        .map(|r| r["delivery_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        copies.keys().cloned().collect::<BTreeSet<_>>(),
        row_ids,
        "nothing lost, nothing unknown"
    );
    for (id, hs) in &copies {
        assert_eq!(hs.len(), 2, "{id}: once to the dead sender, once after");
        assert!(hs.iter().filter(|h| h.accepted).count() == 1);
        // The copy is the same message: same delivery id, same content.
        let strip = |h: &Hit| {
            let mut v = h.json.clone();
            v.as_object_mut().unwrap().remove("timestamp");
            v
        };
        assert_eq!(strip(hs[0]), strip(hs[1]));
        assert_eq!(hs[0].json["tracking_code"], code.as_str());
    }
}

/// Two nodes on one PostgreSQL database, both sending: 200 status changes, each
/// delivery sent exactly once in total.
#[tokio::test]
async fn two_nodes_send_each_delivery_once() {
    let receiver = Receiver::start(0);
    let Some(a) = TestApp::spawn_with(Backend::Postgres, |s| fast_outbox(s, &receiver)).await
    else {
        return;
    };
    let b = a.spawn_twin(|s| fast_outbox(s, &receiver)).await;
    let w = world(&a).await;
    subscribe(&a, &w.admin, &receiver, json!(["*"])).await;
    let mut changes = 0;
    for i in 0..100 {
        let node = if i % 2 == 0 { &a } else { &b };
        let other = if i % 2 == 0 { &b } else { &a };
        let (s, d) = node
            .post(
                "/api/v1/pickup-requests",
                &w.operator,
                &request(w.agency_id),
            )
            .await;
        assert_eq!(s, 201, "{d}");
        let pickup = task_of(&d, "pickup");
        let code = d["tracking_code"].as_str().unwrap();
        post_ok(
            other,
            &w.dispatcher,
            &format!("/api/v1/tasks/{pickup}/assign"),
            json!({"courier_id": w.courier_id}),
        )
        .await;
        let d = post_ok(
            node,
            &w.operator,
            &format!("/api/v1/dossiers/{code}/cancel"),
            json!({"reason": "Người dân tự đi nộp"}),
        )
        .await;
        assert_eq!(d["status"], "cancelled");
        changes += 2;
    }
    assert_eq!(changes, 200);
    // Per dossier: 2 SMS (received, on the way) and 3 webhooks (requested, assigned, cancelled).
    let rows = wait_all_sent(&a, &w.admin, 60).await;
    assert_eq!(rows.len(), 500);
    let hits = receiver.hits();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for h in &hits {
        *count.entry(h.delivery_id()).or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(count.len(), 500);
    assert_eq!(hits.len(), 500);
}

crate::on_both_backends!(
    a_whole_journey_notifies_exactly_once_through_failures,
    opted_out_citizens_get_no_sms,
    a_sender_killed_mid_flight_loses_nothing,
);
