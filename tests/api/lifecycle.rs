//! The life of a dossier over HTTP, on both backends.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::reference::{agency_body, post_office_body, procedure_body};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A province with one agency, post office, procedure and a user of every role.
pub struct World {
    pub admin: String,
    pub operator: String,
    pub dispatcher: String,
    pub courier: String,
    pub courier_id: i64,
    pub other_courier: String,
    pub clerk: String,
    pub other_clerk: String,
    pub agency_id: i64,
}

pub async fn user(
    app: &TestApp,
    admin: &str,
    username: &str,
    role: &str,
    extra: Value,
) -> (i64, String) {
    let mut body = json!({"username": username, "password": "password-123", "full_name": "Nguyễn Văn Thử", "role": role});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let (status, created) = app.post("/api/v1/users", admin, &body).await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_i64().unwrap(),
        app.login(username, "password-123").await,
    )
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let (_, agency) = app.post("/api/v1/agencies", &admin, &agency_body()).await;
    let mut other = agency_body();
    other["name"] = json!("Trung tâm khác");
    let (_, other_agency) = app.post("/api/v1/agencies", &admin, &other).await;
    let (_, office) = app
        .post("/api/v1/post-offices", &admin, &post_office_body())
        .await;
    assert_eq!(
        app.post("/api/v1/procedures", &admin, &procedure_body())
            .await
            .0,
        201
    );
    let po = json!({"post_office_id": office["id"]});
    let (_, operator) = user(app, &admin, "tongdai", "operator", json!({})).await;
    let (_, dispatcher) = user(app, &admin, "dieuphoi", "dispatcher", po.clone()).await;
    let (cuid, courier) = user(app, &admin, "buuta1", "courier", po.clone()).await;
    let (ouid, other_courier) = user(app, &admin, "buuta2", "courier", po.clone()).await;
    let (_, clerk) = user(
        app,
        &admin,
        "motcua",
        "clerk",
        json!({"agency_id": agency["id"]}),
    )
    .await;
    let (_, other_clerk) = user(
        app,
        &admin,
        "motcua2",
        "clerk",
        json!({"agency_id": other_agency["id"]}),
    )
    .await;
    let mut courier_id = 0;
    for uid in [cuid, ouid] {
        let (status, c) = app
            .post("/api/v1/couriers", &admin, &json!({"user_id": uid, "post_office_id": office["id"], "zone_ids": [],
                   "capacity": 20, "shift_start": "07:30", "shift_end": "17:00", "vehicle": "xe máy"}))
            .await;
        assert_eq!(status, 201, "{c}");
        if uid == cuid {
            courier_id = c["id"].as_i64().unwrap();
        }
    }
    World {
        admin,
        operator,
        dispatcher,
        courier,
        courier_id,
        other_courier,
        clerk,
        other_clerk,
        agency_id: agency["id"].as_i64().unwrap(),
    }
}

/// A fresh pickup request whose pickup (and drop-off) went to `w.courier`.
pub async fn assigned_request(app: &TestApp, w: &World) -> (Value, i64) {
    let (status, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    let pickup = task_of(&d, "pickup");
    let assign = json!({"courier_id": w.courier_id});
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/assign"),
            &w.dispatcher,
            &assign,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (v["dossier"].clone(), pickup)
}

/// The calendar day `days_ahead` from today in Vietnam (UTC+7): between 17:00 and
/// 24:00 UTC, "tomorrow" in UTC is already today there.
pub fn vn_day(days_ahead: i64) -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7) + chrono::Duration::days(days_ahead))
        .date_naive()
}

pub fn window(days_ahead: i64) -> Value {
    let day = vn_day(days_ahead).format("%Y-%m-%d");
    json!({"from": format!("{day}T08:00:00+07:00"), "to": format!("{day}T11:00:00+07:00")})
}

pub fn request(agency_id: i64) -> Value {
    json!({
        "citizen": {"full_name": "Trần Thị Bình", "phone": "0912345678", "id_number": "087123456789"},
        "address": {"ward_code": "29869", "street": "123 Nguyễn Huệ", "lat": 10.4602, "lon": 105.6329},
        "procedure_code": "1.001234", "agency_id": agency_id, "service": "both",
        "pickup_window": window(1), "return_method": "home", "note": "Gọi trước khi đến"
    })
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn task_of(d: &Value, kind: &str) -> i64 {
    d["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["kind"] == kind)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// A drawn signature as the courier app sends it (a 1×1 PNG, base64).
pub const SIGNATURE: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// A complete pickup proof; the test apps have no SMS gateway, so the citizen signs.
pub fn pickup_proof() -> Value {
    json!({"checked_documents": ["Đơn đề nghị", "Bản sao căn cước"], "seal_number": "NP-0001",
           "signature_png": SIGNATURE, "fees_collected_vnd": 160000})
}

/// A complete delivery proof for the test citizen (ID number ending 6789).
pub fn delivery_proof() -> Value {
    json!({"receiver_name": "Trần Thị Bình", "receiver_id_number": "6789", "signature_png": SIGNATURE})
}

async fn step(app: &TestApp, token: &str, path: &str, body: Value, status: &str) -> Value {
    let (s, v) = app.post(path, token, &body).await;
    assert_eq!(s, StatusCode::OK, "{path}: {v}");
    let d = if v.get("dossier").is_some() {
        v["dossier"].clone()
    } else {
        v
    };
    assert_eq!(d["status"], status, "{path}");
    let code = d["tracking_code"].as_str().unwrap();
    // The public timeline follows every step.
    let res = app
        .send(Method::GET, &format!("/api/v1/track/{code}"), None, None)
        .await;
    let public: Value = res.json().await.unwrap();
    assert_eq!(public["status"], status);
    assert_eq!(
        public["timeline"].as_array().unwrap().last().unwrap()["status"],
        status
    );
    assert_status_is_the_fold(&d);
    d
}

/// The courier picks the dossier up (with proof) and hands it over at the agency.
pub async fn carry_to_agency(app: &TestApp, w: &World, pickup: i64, dropoff: i64) {
    let picked = json!({"type": "picked_up", "at": now(), "proof": pickup_proof()});
    event(app, &w.courier, pickup, picked, "picked_up").await;
    let handed = json!({"type": "handed_over", "at": now()});
    event(app, &w.courier, dropoff, handed, "at_agency").await;
}

/// The stored status always equals the fold of the stored events.
fn assert_status_is_the_fold(d: &Value) {
    use buuta::domain::dossier::{fold, AttemptLimits, Ctx, DossierEvent, ReturnMethod, Service};
    let ctx = Ctx::new(
        Service::parse(d["service"].as_str().unwrap()).unwrap(),
        ReturnMethod::parse(d["return_method"].as_str().unwrap()).unwrap(),
        AttemptLimits::default(),
    )
    .unwrap();
    let events: Vec<DossierEvent> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_value(e["data"].clone()).expect("stored event parses"))
        .collect();
    let folded = fold(&events, &ctx).expect("stored events fold");
    assert_eq!(folded.as_str(), d["status"].as_str().unwrap());
}

async fn event(app: &TestApp, token: &str, task: i64, body: Value, status: &str) -> Value {
    step(
        app,
        token,
        &format!("/api/v1/tasks/{task}/events"),
        body,
        status,
    )
    .await
}

async fn a_dossier_lives_its_whole_life(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (status, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["status"], "requested");
    assert_eq!(
        d["fees"],
        json!({"postal_fee_vnd": 25000, "agency_fee_vnd": 135000, "total_vnd": 160000})
    );
    assert_eq!(d["location_approximate"], false);
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("HS") && code.ends_with("VN") && code.len() == 13);
    let dp = format!("/api/v1/dossiers/{code}");

    let pickup = task_of(&d, "pickup");
    let dropoff = task_of(&d, "dropoff");
    let assign = json!({"courier_id": w.courier_id});
    let d = step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        assign.clone(),
        "scheduled",
    )
    .await;
    assert!(d["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "assigned" && t["courier_id"] == w.courier_id));

    // Only the assigned courier may act.
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{pickup}/events"),
            Some(&w.other_courier),
            Some(&json!({"type": "arrived", "at": now()})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    event(
        &app,
        &w.courier,
        pickup,
        json!({"type": "arrived", "at": now(), "lat": 10.46, "lon": 105.63}),
        "scheduled",
    )
    .await;
    event(&app, &w.courier, pickup, json!({"type": "picked_up", "at": now(), "lat": 10.4601, "lon": 105.6328, "proof": pickup_proof()}), "picked_up").await;
    event(
        &app,
        &w.courier,
        dropoff,
        json!({"type": "handed_over", "at": now()}),
        "at_agency",
    )
    .await;

    // A clerk of another agency is refused.
    let receive = json!({"agency_dossier_code": "000.00.12.H18-261123-0001", "appointment_date": window(5)["from"].as_str().unwrap()[..10],
                         "checked_documents": ["Đơn đề nghị", "Bản sao căn cước"]});
    let res = app
        .send(
            Method::POST,
            &format!("{dp}/receive"),
            Some(&w.other_clerk),
            Some(&receive),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    step(
        &app,
        &w.clerk,
        &format!("{dp}/receive"),
        receive.clone(),
        "at_agency",
    )
    .await;

    let d = step(
        &app,
        &w.clerk,
        &format!("{dp}/supplement-required"),
        json!({"reason": "Thiếu giấy khám sức khỏe", "missing_documents": ["Giấy khám sức khỏe"]}),
        "supplement_required",
    )
    .await;
    let pickup2 = task_of(&d, "pickup");
    let dropoff2 = task_of(&d, "dropoff");
    assert_ne!(pickup2, pickup);
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup2}/assign"),
        assign.clone(),
        "supplement_required",
    )
    .await;
    carry_to_agency(&app, &w, pickup2, dropoff2).await;
    step(
        &app,
        &w.clerk,
        &format!("{dp}/receive"),
        receive,
        "at_agency",
    )
    .await;

    let d = step(
        &app,
        &w.clerk,
        &format!("{dp}/result-ready"),
        json!({"outcome": "approved"}),
        "result_ready",
    )
    .await;
    let collect = task_of(&d, "collect");
    let deliver = task_of(&d, "deliver");
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{collect}/assign"),
        assign,
        "result_ready",
    )
    .await;
    event(
        &app,
        &w.courier,
        collect,
        json!({"type": "collected", "at": now()}),
        "out_for_delivery",
    )
    .await;
    event(
        &app,
        &w.courier,
        deliver,
        json!({"type": "failed", "at": now(), "reason": "not_home"}),
        "out_for_delivery",
    )
    .await;
    let d = event(
        &app,
        &w.courier,
        deliver,
        json!({"type": "delivered", "at": now(), "proof": delivery_proof()}),
        "completed",
    )
    .await;

    // The event log tells the whole story, in order.
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
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
            "delivered"
        ]
    );
    let (_, full) = app.get(&dp, &w.operator).await;
    assert_eq!(full["status"], "completed");
    assert_eq!(full["events"].as_array().unwrap().len(), kinds.len());
    // Nothing more can happen to a completed dossier.
    let res = app
        .send(
            Method::POST,
            &format!("{dp}/cancel"),
            Some(&w.operator),
            Some(&json!({"reason": "x"})),
        )
        .await;
    assert_problem(res, 409, "illegal_transition").await;
}

async fn public_tracking_hides_personal_data(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (_, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let code = d["tracking_code"].as_str().unwrap();
    for query in ["", "?phone_last4=0000", "?phone_last4=5678"] {
        let res = app
            .send(
                Method::GET,
                &format!("/api/v1/track/{code}{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        let raw = res.text().await.unwrap();
        for secret in [
            "0912345678",
            "912345678",
            "087123456789",
            "Trần Thị Bình",
            "Nguyễn Huệ",
            "123 ",
        ] {
            assert!(!raw.contains(secret), "{query}: leaked {secret}: {raw}");
        }
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["status_label"], "Đã tiếp nhận yêu cầu");
        if query.ends_with("5678") {
            assert_eq!(v["citizen_name_masked"], "T*** T** B***");
            assert_eq!(v["address_masked"], "Phường Cao Lãnh");
        } else {
            assert!(v.get("citizen_name_masked").is_none());
        }
    }
    let mut bad = code.to_owned();
    bad.replace_range(10..11, if &code[10..11] == "0" { "1" } else { "0" });
    let res = app
        .send(Method::GET, &format!("/api/v1/track/{bad}"), None, None)
        .await;
    assert_problem(res, 400, "invalid_tracking_code").await;
    let res = app
        .send(Method::GET, "/api/v1/track/EB123456785VN", None, None)
        .await;
    assert_problem(res, 404, "not_found").await;
}

async fn conflicting_events_have_one_winner(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, pickup) = assigned_request(&app, &w).await;
    let path = format!("/api/v1/tasks/{pickup}/events");
    let body = json!({"type": "picked_up", "at": now(), "proof": pickup_proof()});
    let sends = (0..8).map(|_| app.send(Method::POST, &path, Some(&w.courier), Some(&body)));
    let statuses: Vec<u16> = futures_util::future::join_all(sends)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    let (_, full) = app
        .get(
            &format!("/api/v1/dossiers/{}", d["tracking_code"].as_str().unwrap()),
            &w.operator,
        )
        .await;
    let picked = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "picked_up")
        .count();
    assert_eq!(picked, 1);
}

async fn retried_create_makes_one_dossier(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let body = request(w.agency_id);
    let url = format!("{}/api/v1/pickup-requests", app.base);
    let sends = (0..5).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&w.operator)
            .header("Idempotency-Key", "call-2026-0001")
            .json(&body)
            .send()
    });
    let mut answers = Vec::new();
    for res in futures_util::future::join_all(sends).await {
        let res = res.unwrap();
        assert_eq!(res.status(), 201);
        answers.push(res.json::<Value>().await.unwrap());
    }
    assert!(
        answers.windows(2).all(|p| p[0] == p[1]),
        "identical answers"
    );
    let (_, list) = app.get("/api/v1/pickup-requests", &w.operator).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The same key with another body is refused.
    let mut other = body.clone();
    other["note"] = json!("khác");
    let res = app
        .client
        .post(&url)
        .bearer_auth(&w.operator)
        .header("Idempotency-Key", "call-2026-0001")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "idempotency_key_reused").await;
}

async fn public_tracking_is_rate_limited(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.track_per_minute = 3).await else {
        return;
    };
    for _ in 0..3 {
        let res = app
            .send(Method::GET, "/api/v1/track/EB123456785VN", None, None)
            .await;
        assert_eq!(res.status(), 404);
    }
    let res = app
        .send(Method::GET, "/api/v1/track/EB123456785VN", None, None)
        .await;
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_problem(res, 429, "rate_limited").await;
}

async fn third_failed_pickup_cancels_and_third_failed_delivery_holds(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (_, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let pickup = task_of(&d, "pickup");
    let assign = json!({"courier_id": w.courier_id});
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        assign.clone(),
        "scheduled",
    )
    .await;
    let fail = json!({"type": "failed", "at": now(), "reason": "not_home"});
    event(&app, &w.courier, pickup, fail.clone(), "scheduled").await;
    event(&app, &w.courier, pickup, fail.clone(), "scheduled").await;
    let d = event(&app, &w.courier, pickup, fail.clone(), "cancelled").await;
    assert!(
        d["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "cancelled"),
        "{d}"
    );
    assert_eq!(
        d["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == "pickup")
            .unwrap()["attempts"],
        3
    );

    // Delivery: three failures hold the result at the post office; a fourth is refused.
    let (_, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let (pickup, dropoff) = (task_of(&d, "pickup"), task_of(&d, "dropoff"));
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        assign.clone(),
        "scheduled",
    )
    .await;
    carry_to_agency(&app, &w, pickup, dropoff).await;
    let d = step(
        &app,
        &w.clerk,
        &format!("/api/v1/dossiers/{code}/result-ready"),
        json!({"outcome": "rejected"}),
        "result_ready",
    )
    .await;
    let (collect, deliver) = (task_of(&d, "collect"), task_of(&d, "deliver"));
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{collect}/assign"),
        assign,
        "result_ready",
    )
    .await;
    event(
        &app,
        &w.courier,
        collect,
        json!({"type": "collected", "at": now()}),
        "out_for_delivery",
    )
    .await;
    for _ in 0..2 {
        event(&app, &w.courier, deliver, fail.clone(), "out_for_delivery").await;
    }
    let d = event(&app, &w.courier, deliver, fail.clone(), "out_for_delivery").await;
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"held_at_post_office"), "{kinds:?}");
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{deliver}/events"),
            Some(&w.courier),
            Some(&fail),
        )
        .await;
    assert_problem(res, 409, "illegal_transition").await;
}

async fn estimated_location_is_replaced_by_the_pickup_fix(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let mut body = request(w.agency_id);
    body["address"] = json!({"ward_code": "29869", "street": "45 Lý Thường Kiệt"});
    let (status, d) = app
        .post("/api/v1/pickup-requests", &w.operator, &body)
        .await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["location_approximate"], true);
    // No earlier fix and no ward centre: the agency's point stands in.
    assert_eq!(
        (d["address"]["lat"].as_f64(), d["address"]["lon"].as_f64()),
        (Some(10.4602), Some(105.6329))
    );
    let pickup = task_of(&d, "pickup");
    step(
        &app,
        &w.dispatcher,
        &format!("/api/v1/tasks/{pickup}/assign"),
        json!({"courier_id": w.courier_id}),
        "scheduled",
    )
    .await;
    let d = event(&app, &w.courier, pickup,
                  json!({"type": "picked_up", "at": now(), "lat": 10.4711, "lon": 105.6402, "proof": pickup_proof()}), "picked_up").await;
    assert_eq!(d["location_approximate"], false);
    assert_eq!(d["address"]["lat"].as_f64(), Some(10.4711));
    // The same citizen and street next time: the GPS fix is reused.
    let (_, again) = app
        .post("/api/v1/pickup-requests", &w.operator, &body)
        .await;
    assert_eq!(again["location_approximate"], true);
    assert_eq!(
        (
            again["address"]["lat"].as_f64(),
            again["address"]["lon"].as_f64()
        ),
        (Some(10.4711), Some(105.6402))
    );
    // Another street in the ward falls back to the ward centre set by an admin.
    let admin = app.admin().await;
    let res = app
        .send(
            Method::PUT,
            "/api/v1/admin-units/wards/29869/centre",
            Some(&admin),
            Some(&json!({"lat": 10.4650, "lon": 105.6400})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .send(
            Method::PUT,
            "/api/v1/admin-units/wards/29869/centre",
            Some(&w.operator),
            Some(&json!({"lat": 10.4650, "lon": 105.6400})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .send(
            Method::PUT,
            "/api/v1/admin-units/wards/29869/centre",
            Some(&admin),
            Some(&json!({"lat": 1.0, "lon": 105.6400})),
        )
        .await;
    assert_problem(res, 422, "outside_vietnam").await;
    let mut elsewhere = body.clone();
    elsewhere["address"]["street"] = json!("9 Hùng Vương");
    let (_, third) = app
        .post("/api/v1/pickup-requests", &w.operator, &elsewhere)
        .await;
    assert_eq!(
        (
            third["address"]["lat"].as_f64(),
            third["address"]["lon"].as_f64()
        ),
        (Some(10.4650), Some(105.6400))
    );
    // The returning caller is found by phone with the remembered address.
    let (status, citizen) = app
        .get("/api/v1/citizens?phone=%2B84912345678", &w.operator)
        .await;
    assert_eq!(status, 200);
    assert_eq!(citizen["full_name"], "Trần Thị Bình");
    let streets: Vec<&str> = citizen["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["street"].as_str().unwrap())
        .collect();
    assert!(streets.contains(&"45 Lý Thường Kiệt"), "{streets:?}");
}

async fn the_courier_sees_the_route_in_order(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (d, _) = assigned_request(&app, &w).await;
    let (status, route) = app.get("/api/v1/me/route", &w.courier).await;
    assert_eq!(status, 200, "{route}");
    let stops = route["stops"].as_array().unwrap();
    let kinds: Vec<&str> = stops.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["pickup", "dropoff"]);
    assert_eq!(stops[0]["citizen_first_name"], "Bình");
    assert_eq!(stops[0]["phone"], "0912345678");
    assert_eq!(
        stops[0]["required_documents"],
        json!(["Đơn đề nghị", "Bản sao căn cước"])
    );
    assert_eq!(stops[0]["tracking_code"], d["tracking_code"]);
    let tomorrow = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let later = window(3)["from"].as_str().unwrap()[..10].to_owned();
    let (_, on_day) = app
        .get(&format!("/api/v1/me/route?date={tomorrow}"), &w.courier)
        .await;
    assert_eq!(on_day["stops"].as_array().unwrap().len(), 2);
    let (_, other_day) = app
        .get(&format!("/api/v1/me/route?date={later}"), &w.courier)
        .await;
    assert_eq!(
        other_day["stops"].as_array().unwrap().len(),
        0,
        "the drop-off goes with its pickup's day"
    );
    // Once picked up, the courier holds the dossier: the drop-off stays on later days.
    let pickup = task_of(&d, "pickup");
    let picked = json!({"type": "picked_up", "at": now(), "proof": pickup_proof()});
    event(&app, &w.courier, pickup, picked, "picked_up").await;
    let (_, other_day) = app
        .get(&format!("/api/v1/me/route?date={later}"), &w.courier)
        .await;
    let kinds: Vec<&str> = other_day["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["dropoff"]);
    let (_, empty) = app.get("/api/v1/me/route", &w.other_courier).await;
    assert_eq!(empty["stops"], json!([]));
    let res = app
        .send(
            Method::GET,
            "/api/v1/me/route?date=mai",
            Some(&w.courier),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(Method::GET, "/api/v1/me/route", Some(&w.operator), None)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

async fn staff_search_pickup_requests(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (_, first) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let mut other = request(w.agency_id);
    other["citizen"]["phone"] = json!("0987654321");
    other["address"]["ward_code"] = json!("29905");
    let (status, second) = app
        .post("/api/v1/pickup-requests", &w.operator, &other)
        .await;
    assert_eq!(status, 201, "{second}");
    let code = first["tracking_code"].as_str().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/dossiers/{code}/cancel"),
            &w.operator,
            &json!({"reason": "Đổi ý"}),
        )
        .await;
    assert_eq!(s, 200);
    let codes = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["tracking_code"].as_str().unwrap().to_owned())
            .collect()
    };
    let tomorrow = vn_day(2).format("%Y-%m-%d").to_string();
    for (query, expected) in [
        (
            "status=cancelled".to_owned(),
            vec![first["tracking_code"].clone()],
        ),
        (
            "status=requested".to_owned(),
            vec![second["tracking_code"].clone()],
        ),
        (
            "phone=%2B84987654321".to_owned(),
            vec![second["tracking_code"].clone()],
        ),
        (
            "ward_code=29869".to_owned(),
            vec![first["tracking_code"].clone()],
        ),
        (
            format!("agency_id={}", w.agency_id),
            vec![
                first["tracking_code"].clone(),
                second["tracking_code"].clone(),
            ],
        ),
        (format!("from={tomorrow}"), vec![]),
        (
            format!("to={tomorrow}&from=2020-01-01"),
            vec![
                first["tracking_code"].clone(),
                second["tracking_code"].clone(),
            ],
        ),
    ] {
        let (status, page) = app
            .get(&format!("/api/v1/pickup-requests?{query}"), &w.operator)
            .await;
        assert_eq!(status, 200, "{query}: {page}");
        let expected: Vec<String> = expected
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes(&page), expected, "{query}");
    }
    let (_, clerk_view) = app.get("/api/v1/pickup-requests", &w.other_clerk).await;
    assert_eq!(
        codes(&clerk_view),
        Vec::<String>::new(),
        "another agency's clerk sees none"
    );
    for bad in ["status=lost", "phone=123", "from=yesterday", "limit=0"] {
        let res = app
            .send(
                Method::GET,
                &format!("/api/v1/pickup-requests?{bad}"),
                Some(&w.operator),
                None,
            )
            .await;
        assert_problem(res, 400, "invalid_query").await;
    }
}

crate::on_both_backends!(
    staff_search_pickup_requests,
    the_courier_sees_the_route_in_order,
    third_failed_pickup_cancels_and_third_failed_delivery_holds,
    estimated_location_is_replaced_by_the_pickup_fix,
    public_tracking_is_rate_limited,
    a_dossier_lives_its_whole_life,
    public_tracking_hides_personal_data,
    conflicting_events_have_one_winner,
    retried_create_makes_one_dossier,
    receipt_pdf_carries_the_tracking_code,
);

async fn receipt_pdf_carries_the_tracking_code(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (_, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let code = d["tracking_code"].as_str().unwrap();
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/dossiers/{code}/receipt.pdf"),
            Some(&w.operator),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.windows(code.len()).any(|w| w == code.as_bytes()),
        "the code is in the file"
    );
    // When poppler is installed (CI installs it), the text must read back in Vietnamese.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.pdf");
    std::fs::write(&path, &pdf).unwrap();
    if let Ok(out) = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(code), "{text}");
        assert!(
            text.contains("Trần Thị Bình") && text.contains("Cấp đổi giấy phép lái xe"),
            "{text}"
        );
    }
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/dossiers/{code}/receipt.pdf"),
            Some(&w.other_clerk),
            None,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}
