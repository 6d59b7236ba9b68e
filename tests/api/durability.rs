//! Faults: the server killed with SIGKILL in the middle of a burst of writes, and
//! two server processes on one PostgreSQL database.

use crate::helpers::{Backend, Node, TestApp, TestDb};
use crate::lifecycle::{request, window, world};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Every create that answered 201 before `kill -9` is there after the restart, with
/// its tasks and its public timeline; the ones cut off leave nothing half-written.
async fn acknowledged_creates_survive_kill_9(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let mut node = Node::start(&db.url);
    let app = TestApp::at(&node.base, &db.url);
    let w = world(&app).await;
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for i in 0..24 {
        let (base, token, acked) = (node.base.clone(), w.operator.clone(), acked.clone());
        let body = request(w.agency_id);
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                let res = client
                    .post(format!("{base}/api/v1/pickup-requests"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("burst-{i}-{n}"))
                    .json(&body)
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != 201 {
                    continue;
                }
                let Ok(v) = res.json::<Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap()
                    .push(v["tracking_code"].as_str().unwrap().to_owned());
            }
        }));
    }
    while acked.lock().unwrap().len() < 120 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    node.kill9();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 120);

    let node = Node::start(&db.url);
    let app = TestApp::at(&node.base, &db.url);
    let token = app.login("tongdai", "password-123").await;
    for code in &acked {
        let (status, d) = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
        assert_eq!(status, 200, "{code} was acknowledged but is gone");
        let kinds: BTreeSet<&str> = d["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, BTreeSet::from(["pickup", "dropoff"]), "{d}");
        let (status, t) = app.get(&format!("/api/v1/track/{code}"), "").await;
        assert_eq!(status, 200);
        assert_eq!(t["status"], "requested");
    }
    // Nothing half-written: every stored dossier (acknowledged or cut off) is whole.
    let (_, list) = app.get("/api/v1/pickup-requests?limit=500", &token).await;
    let items = list["items"].as_array().unwrap();
    assert!(items.len() >= acked.len());
    for d in items {
        let code = d["tracking_code"].as_str().unwrap();
        let (_, full) = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
        assert_eq!(full["tasks"].as_array().unwrap().len(), 2, "{full}");
    }
}

/// Two processes on one PostgreSQL database, the test alternating between them:
/// concurrent auto-assignments and route plans never give a task to two couriers.
async fn two_nodes_never_assign_a_task_twice(backend: Backend) {
    if backend == Backend::Sqlite {
        return; // one embedded database file belongs to one process
    }
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let (a, b) = (Node::start(&db.url), Node::start(&db.url));
    let (na, nb) = (TestApp::at(&a.base, &db.url), TestApp::at(&b.base, &db.url));
    let w = world(&na).await;
    let square = json!({"type": "Polygon", "coordinates": [[[105.57, 10.40], [105.69, 10.40], [105.69, 10.52], [105.57, 10.52], [105.57, 10.40]]]});
    let (s, _) = na
        .post(
            "/api/v1/zones",
            &w.admin,
            &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square}),
        )
        .await;
    assert_eq!(s, 201);
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    for i in 0..24 {
        let node = if i % 2 == 0 { &na } else { &nb };
        let mut req = request(w.agency_id);
        let hour = 8 + (i % 6);
        req["pickup_window"] = json!({"from": format!("{day}T{hour:02}:00:00+07:00"), "to": format!("{day}T{:02}:00:00+07:00", hour + 2)});
        req["address"]["lat"] = json!(10.43 + 0.003 * i as f64);
        req["address"]["lon"] = json!(105.60 + 0.002 * ((i * 7) % 24) as f64);
        let (s, d) = node
            .post("/api/v1/pickup-requests", &w.operator, &req)
            .await;
        assert_eq!(s, 201, "{d}");
    }
    let body = json!({"post_office_id": 1, "date": day});
    let calls = [
        na.post("/api/v1/dispatch/auto-assign", &w.dispatcher, &body),
        nb.post("/api/v1/dispatch/auto-assign", &w.dispatcher, &body),
        na.post("/api/v1/dispatch/plan", &w.dispatcher, &body),
        nb.post("/api/v1/dispatch/plan", &w.dispatcher, &body),
        nb.post("/api/v1/dispatch/auto-assign", &w.dispatcher, &body),
    ];
    for (status, v) in futures_join(calls).await {
        assert!(status == 200 || status == 409, "{status}: {v}");
    }
    // Each task sits on exactly one courier, and on that courier's route only.
    let (_, tasks) = na
        .get(
            &format!("/api/v1/tasks?date={day}&limit=500"),
            &w.dispatcher,
        )
        .await;
    let tasks = tasks["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{tasks}"));
    assert_eq!(tasks.len(), 48);
    let (_, couriers) = nb.get("/api/v1/couriers", &w.dispatcher).await;
    let mut on_routes: BTreeMap<i64, i64> = BTreeMap::new();
    for k in couriers.as_array().unwrap() {
        let id = k["id"].as_i64().unwrap();
        let (_, route) = na
            .get(
                &format!("/api/v1/couriers/{id}/route?date={day}"),
                &w.dispatcher,
            )
            .await;
        for stop in route["stops"].as_array().unwrap() {
            let task = stop["id"].as_i64().unwrap();
            assert!(
                on_routes.insert(task, id).is_none(),
                "task {task} on two routes"
            );
        }
    }
    for t in tasks {
        let id = t["id"].as_i64().unwrap();
        match t["courier_id"].as_i64() {
            Some(k) => assert_eq!(on_routes.get(&id), Some(&k), "task {id}"),
            None => assert!(!on_routes.contains_key(&id), "task {id}"),
        }
    }
    // A pickup and its drop-off always travel together.
    let (_, list) = nb
        .get("/api/v1/pickup-requests?limit=500", &w.dispatcher)
        .await;
    for d in list["items"].as_array().unwrap() {
        let code = d["tracking_code"].as_str().unwrap();
        let (_, full) = nb
            .get(&format!("/api/v1/dossiers/{code}"), &w.dispatcher)
            .await;
        let holders: BTreeSet<Option<i64>> = full["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["courier_id"].as_i64())
            .collect();
        assert_eq!(holders.len(), 1, "{full}");
    }
}

/// Runs the requests at the same time.
async fn futures_join<F>(calls: [F; 5]) -> Vec<(reqwest::StatusCode, Value)>
where
    F: std::future::Future<Output = (reqwest::StatusCode, Value)>,
{
    let [c1, c2, c3, c4, c5] = calls;
    let (r1, r2, r3, r4, r5) = tokio::join!(c1, c2, c3, c4, c5);
    vec![r1, r2, r3, r4, r5]
}

/// Passwords, tokens and ID numbers never reach the log, even at debug level.
async fn secrets_never_reach_the_log(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let node = Node::start_with(&db.url, &[("RUST_LOG", "debug")]);
    let app = TestApp::at(&node.base, &db.url);
    let w = world(&app).await;
    let (status, pair) = app.login_raw("tongdai", "password-123").await;
    assert_eq!(status, 200);
    let (access, refresh) = (
        pair["access_token"].as_str().unwrap().to_owned(),
        pair["refresh_token"].as_str().unwrap().to_owned(),
    );
    let (s, d) = app
        .post("/api/v1/pickup-requests", &access, &request(w.agency_id))
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, _) = app
        .post(
            "/api/v1/auth/refresh",
            "",
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.login_raw("tongdai", "wrong-password-456").await;
    assert_eq!(s, 401);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = node.output.lock().unwrap().join("\n");
    assert!(
        log.contains("/api/v1/pickup-requests"),
        "the log is captured"
    );
    for secret in [
        "password-123",
        "wrong-password-456",
        crate::helpers::ADMIN_PASSWORD,
        crate::helpers::JWT_SECRET,
        access.as_str(),
        refresh.as_str(),
        "087123456789",
    ] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }
}

crate::on_both_backends!(
    acknowledged_creates_survive_kill_9,
    two_nodes_never_assign_a_task_twice,
    secrets_never_reach_the_log
);
