//! Races: for every transition a user can send, N identical requests at the same moment
//! (distinct `Idempotency-Key`s, as from retrying phones or two staff at once). Exactly
//! one wins, the others get 409, and the stored events match the answers one to one.
//! On SQLite one writer hides races; on PostgreSQL (READ COMMITTED) this is what the
//! row locks and conditional updates of `db` are for.
//!
//! `RACE_ROUNDS` (default 50) sets the rounds per transition.

use crate::helpers::{Backend, TestApp};
use crate::lifecycle::{
    delivery_proof, now, pickup_proof, request, task_of, user, window, world, World,
};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests per race.
const N: usize = 8;

fn rounds() -> usize {
    std::env::var("RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// A world whose two couriers can carry every round's dossiers.
struct Arena {
    w: World,
    /// Takes every task (capacity 1000).
    courier: String,
    courier_id: i64,
    /// The one tasks are reassigned to.
    other_id: i64,
    post_office_id: i64,
}

async fn arena(app: &TestApp) -> Arena {
    let w = world(app).await;
    let (_, offices) = app.get("/api/v1/post-offices", &w.admin).await;
    let office = offices["items"][0]["id"]
        .as_i64()
        .expect("the world's office");
    let po = json!({"post_office_id": office});
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for name in ["buuta8", "buuta9"] {
        let (uid, token) = user(app, &w.admin, name, "courier", po.clone()).await;
        let (s, c) = app
            .post("/api/v1/couriers", &w.admin, &json!({"user_id": uid, "post_office_id": office, "zone_ids": [],
                   "capacity": 1000, "shift_start": "00:00", "shift_end": "23:59", "vehicle": "xe máy"}))
            .await;
        assert_eq!(s, 201, "{c}");
        ids.push(c["id"].as_i64().unwrap());
        tokens.push(token);
    }
    Arena {
        w,
        courier: tokens.remove(0),
        courier_id: ids[0],
        other_id: ids[1],
        post_office_id: office,
    }
}

static KEYS: AtomicU64 = AtomicU64::new(0);

/// Sends `body` to `path` N times at once, each with its own key (and `If-Match` when
/// given); the statuses.
async fn race(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Value,
    if_match: Option<i64>,
) -> Vec<StatusCode> {
    let sends = (0..N).map(|_| {
        let key = format!(
            "race-{}-{}",
            std::process::id(),
            KEYS.fetch_add(1, Ordering::Relaxed)
        );
        let mut req = app
            .client
            .post(format!("{}{}", app.base, path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body);
        if let Some(v) = if_match {
            req = req.header("If-Match", format!("\"{v}\""));
        }
        async move {
            let res = req.send().await.expect("request sent");
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            assert!(
                status == StatusCode::OK || status == StatusCode::CONFLICT,
                "{path}: {status} {text}"
            );
            if status == StatusCode::CONFLICT {
                let p: Value = serde_json::from_str(&text).expect("problem+json");
                assert!(
                    matches!(p["code"].as_str(), Some("illegal_transition" | "conflict")),
                    "{p}"
                );
            }
            status
        }
    });
    join_all(sends).await
}

/// One winner, the rest 409.
fn one_wins(statuses: &[StatusCode], what: &str, round: usize) {
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(
        (ok, statuses.len() - ok),
        (1, N - 1),
        "{what}, round {round}: {statuses:?}"
    );
}

async fn dossier(app: &TestApp, a: &Arena, code: &str) -> Value {
    let (s, d) = app
        .get(&format!("/api/v1/dossiers/{code}"), &a.w.operator)
        .await;
    assert_eq!(s, 200, "{d}");
    d
}

fn count(d: &Value, kind: &str) -> usize {
    d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .count()
}

fn events(d: &Value) -> usize {
    d["events"].as_array().unwrap().len()
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, &body).await;
    assert_eq!(s, 200, "{path}: {v}");
    if v.get("dossier").is_some() {
        v["dossier"].clone()
    } else {
        v
    }
}

fn ev(task: i64) -> String {
    format!("/api/v1/tasks/{task}/events")
}

/// How far along a round's dossier is made before the race.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Requested,
    Scheduled,
    PickedUp,
    AtAgency,
    Received,
    CollectAssigned,
    OutForDelivery,
}

/// A fresh dossier at `stage` (its tasks with `a.courier`).
async fn at_stage(app: &TestApp, a: &Arena, stage: Stage) -> Value {
    let (s, d) = app
        .post(
            "/api/v1/pickup-requests",
            &a.w.operator,
            &request(a.w.agency_id),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let assign = json!({"courier_id": a.courier_id});
    let mut d = d;
    if stage >= Stage::Scheduled {
        let pickup = task_of(&d, "pickup");
        d = ok(
            app,
            &a.w.dispatcher,
            &format!("/api/v1/tasks/{pickup}/assign"),
            assign.clone(),
        )
        .await;
    }
    if stage >= Stage::PickedUp {
        let body = json!({"type": "picked_up", "at": now(), "proof": pickup_proof()});
        d = ok(app, &a.courier, &ev(task_of(&d, "pickup")), body).await;
    }
    if stage >= Stage::AtAgency {
        let body = json!({"type": "handed_over", "at": now()});
        d = ok(app, &a.courier, &ev(task_of(&d, "dropoff")), body).await;
    }
    if stage >= Stage::Received {
        d = ok(
            app,
            &a.w.clerk,
            &format!("/api/v1/dossiers/{code}/receive"),
            receive_body(),
        )
        .await;
    }
    if stage >= Stage::CollectAssigned {
        d = ok(
            app,
            &a.w.clerk,
            &format!("/api/v1/dossiers/{code}/result-ready"),
            json!({"outcome": "approved"}),
        )
        .await;
        let collect = task_of(&d, "collect");
        d = ok(
            app,
            &a.w.dispatcher,
            &format!("/api/v1/tasks/{collect}/assign"),
            assign,
        )
        .await;
    }
    if stage >= Stage::OutForDelivery {
        let body = json!({"type": "collected", "at": now()});
        d = ok(app, &a.courier, &ev(task_of(&d, "collect")), body).await;
    }
    d
}

fn receive_body() -> Value {
    json!({"agency_dossier_code": "000.00.12.H18-R", "appointment_date": &window(5)["from"].as_str().unwrap()[..10],
           "checked_documents": ["Đơn đề nghị", "Bản sao căn cước"]})
}

/// Who sends the racing request, where, with what; whether it names the version read.
struct Move {
    token: String,
    path: String,
    body: Value,
    if_match: bool,
    /// The event one winning request stores.
    event: &'static str,
}

/// Runs `rounds()` races of the move `make` builds on a fresh dossier at `stage`: one
/// winner, N − 1 × 409, and exactly one more `event` (and one more event in all).
async fn contest<F>(b: Backend, stage: Stage, make: F)
where
    F: Fn(&Arena, &Value) -> Move,
{
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let a = arena(&app).await;
    for round in 0..rounds() {
        let d = at_stage(&app, &a, stage).await;
        let code = d["tracking_code"].as_str().unwrap().to_owned();
        let m = make(&a, &d);
        let before = dossier(&app, &a, &code).await;
        let version = m.if_match.then(|| before["version"].as_i64().unwrap());
        let statuses = race(&app, &m.token, &m.path, &m.body, version).await;
        one_wins(&statuses, &m.path, round);
        let after = dossier(&app, &a, &code).await;
        assert_eq!(
            count(&after, m.event),
            count(&before, m.event) + 1,
            "{}: one stored {} per winning answer, round {round}",
            m.path,
            m.event
        );
        assert_eq!(
            events(&after),
            events(&before) + 1,
            "{}: nothing else stored, round {round}",
            m.path
        );
    }
}

fn task_move(
    a: &Arena,
    d: &Value,
    kind: &str,
    body: Value,
    if_match: bool,
    event: &'static str,
) -> Move {
    Move {
        token: a.courier.clone(),
        path: ev(task_of(d, kind)),
        body,
        if_match,
        event,
    }
}

fn dossier_move(
    token: &str,
    d: &Value,
    action: &str,
    body: Value,
    if_match: bool,
    event: &'static str,
) -> Move {
    Move {
        token: token.to_owned(),
        path: format!(
            "/api/v1/dossiers/{}/{action}",
            d["tracking_code"].as_str().unwrap()
        ),
        body,
        if_match,
        event,
    }
}

async fn arrived(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| {
        task_move(
            a,
            d,
            "pickup",
            json!({"type": "arrived", "at": now()}),
            false,
            "arrived",
        )
    })
    .await;
}

async fn picked_up(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| {
        let body = json!({"type": "picked_up", "at": now(), "proof": pickup_proof()});
        task_move(a, d, "pickup", body, false, "picked_up")
    })
    .await;
}

/// A failed attempt may follow another, so the racing phones name the version they saw.
async fn failed(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| {
        let body = json!({"type": "failed", "at": now(), "reason": "not_home"});
        task_move(a, d, "pickup", body, true, "failed")
    })
    .await;
}

async fn handed_over(b: Backend) {
    contest(b, Stage::PickedUp, |a, d| {
        let body = json!({"type": "handed_over", "at": now()});
        task_move(a, d, "dropoff", body, false, "handed_over")
    })
    .await;
}

async fn collected(b: Backend) {
    contest(b, Stage::CollectAssigned, |a, d| {
        let body = json!({"type": "collected", "at": now()});
        task_move(a, d, "collect", body, false, "collected")
    })
    .await;
}

async fn delivered(b: Backend) {
    contest(b, Stage::OutForDelivery, |a, d| {
        let body = json!({"type": "delivered", "at": now(), "proof": delivery_proof()});
        task_move(a, d, "deliver", body, false, "delivered")
    })
    .await;
}

/// A dossier may be received again (a correction), so two clerks name the version.
async fn receive(b: Backend) {
    contest(b, Stage::AtAgency, |a, d| {
        dossier_move(&a.w.clerk, d, "receive", receive_body(), true, "received")
    })
    .await;
}

async fn result_ready(b: Backend) {
    contest(b, Stage::Received, |a, d| {
        let body = json!({"outcome": "rejected", "note": "Không đủ điều kiện"});
        dossier_move(&a.w.clerk, d, "result-ready", body, false, "result_ready")
    })
    .await;
}

async fn supplement_required(b: Backend) {
    contest(b, Stage::Received, |a, d| {
        let body = json!({"reason": "Thiếu giấy", "missing_documents": ["Giấy khám sức khỏe"]});
        dossier_move(
            &a.w.clerk,
            d,
            "supplement-required",
            body,
            false,
            "supplement_required",
        )
    })
    .await;
}

async fn cancel(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| {
        let body = json!({"reason": "Người dân tự đi nộp"});
        dossier_move(&a.w.operator, d, "cancel", body, false, "cancelled")
    })
    .await;
}

async fn reschedule(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| {
        let body = json!({"pickup_window": window(2)});
        dossier_move(&a.w.operator, d, "reschedule", body, true, "rescheduled")
    })
    .await;
}

async fn assign(b: Backend) {
    contest(b, Stage::Requested, |a, d| Move {
        token: a.w.dispatcher.clone(),
        path: format!("/api/v1/tasks/{}/assign", task_of(d, "pickup")),
        body: json!({"courier_id": a.courier_id}),
        if_match: true,
        event: "assigned",
    })
    .await;
}

async fn reassign(b: Backend) {
    contest(b, Stage::Scheduled, |a, d| Move {
        token: a.w.dispatcher.clone(),
        path: format!("/api/v1/tasks/{}/assign", task_of(d, "pickup")),
        body: json!({"courier_id": a.other_id}),
        if_match: true,
        event: "assigned",
    })
    .await;
}

/// N route plans of one office's day at once: one plans, the rest are told it is
/// running; each new dossier is assigned once.
async fn plan(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.plan_time_limit_ms = 500).await else {
        return;
    };
    let a = arena(&app).await;
    // The office's area, so that new dossiers are its work.
    let area = crate::dispatch::square((10.40, 10.52), (105.57, 105.69));
    let zone = json!({"name": "Cao Lãnh", "post_office_id": a.post_office_id, "area": area});
    let (s, z) = app.post("/api/v1/zones", &a.w.admin, &zone).await;
    assert_eq!(s, 201, "{z}");
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let body = json!({"post_office_id": a.post_office_id, "date": day});
    for round in 0..rounds() {
        let d = at_stage(&app, &a, Stage::Requested).await;
        let code = d["tracking_code"].as_str().unwrap().to_owned();
        let statuses = race(&app, &a.w.dispatcher, "/api/v1/dispatch/plan", &body, None).await;
        one_wins(&statuses, "plan", round);
        let after = dossier(&app, &a, &code).await;
        assert_eq!(count(&after, "assigned"), 1, "round {round}: {after}");
        assert_eq!(after["status"], "scheduled");
        // Next round, a day's work of one dossier again.
        let cancel = json!({"reason": "Người dân tự đi nộp"});
        ok(
            &app,
            &a.w.operator,
            &format!("/api/v1/dossiers/{code}/cancel"),
            cancel,
        )
        .await;
    }
}

crate::on_both_backends!(
    arrived,
    picked_up,
    failed,
    handed_over,
    collected,
    delivered,
    receive,
    result_ready,
    supplement_required,
    cancel,
    reschedule,
    assign,
    reassign,
    plan,
);
