use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{assigned_request, request, task_of, window, world};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;

async fn dispatcher_lists_tasks_and_courier_routes(b: Backend) {
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
    let (_, list) = app.get("/api/v1/tasks?status=unassigned", &w.admin).await;
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pickup", "dropoff"]);
    assert_eq!(list["items"][0]["tracking_code"], d["tracking_code"]);
    let pickup = list["items"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/assign"),
            &w.dispatcher,
            &json!({"courier_id": w.courier_id}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, unassigned) = app.get("/api/v1/tasks?status=unassigned", &w.admin).await;
    assert_eq!(unassigned["items"], json!([]));
    let (_, assigned) = app
        .get("/api/v1/tasks?status=assigned", &w.dispatcher)
        .await;
    assert_eq!(
        assigned["items"].as_array().unwrap().len(),
        2,
        "the dispatcher's office holds them"
    );
    let (status, route) = app
        .get(
            &format!("/api/v1/couriers/{}/route", w.courier_id),
            &w.dispatcher,
        )
        .await;
    assert_eq!(status, 200, "{route}");
    let kinds: Vec<&str> = route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pickup", "dropoff"]);
    let res = app
        .send(
            Method::GET,
            "/api/v1/couriers/999/route",
            Some(&w.dispatcher),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .send(
            Method::GET,
            "/api/v1/tasks?status=lost",
            Some(&w.dispatcher),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(Method::GET, "/api/v1/tasks", Some(&w.courier), None)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

pub fn square(lat: (f64, f64), lon: (f64, f64)) -> serde_json::Value {
    json!({"type": "Polygon", "coordinates": [[[lon.0, lat.0], [lon.1, lat.0], [lon.1, lat.1], [lon.0, lat.1], [lon.0, lat.0]]]})
}

async fn auto_assign_follows_zones_shifts_and_capacity(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let admin = &w.admin;
    let mut office = crate::reference::post_office_body();
    office["name"] = json!("Bưu cục Mỹ Trà");
    let (_, office) = app.post("/api/v1/post-offices", admin, &office).await;
    let po = office["id"].as_i64().unwrap();
    let (s, zone_a) = app.post("/api/v1/zones", admin, &json!({"name": "Khu A", "post_office_id": po, "area": square((10.44, 10.48), (105.61, 105.65))})).await;
    assert_eq!(s, 201, "{zone_a}");
    let (_, zone_b) = app.post("/api/v1/zones", admin, &json!({"name": "Khu B", "post_office_id": po, "area": square((10.49, 10.53), (105.61, 105.65))})).await;
    let (za, zb) = (
        zone_a["id"].as_i64().unwrap(),
        zone_b["id"].as_i64().unwrap(),
    );
    // Refused geometry names the problem.
    let bow = json!({"type": "Polygon", "coordinates": [[[105.61, 10.44], [105.65, 10.48], [105.65, 10.44], [105.61, 10.48], [105.61, 10.44]]]});
    let res = app
        .send(
            Method::POST,
            "/api/v1/zones",
            Some(admin),
            Some(&json!({"name": "Nơ", "post_office_id": po, "area": bow})),
        )
        .await;
    let p = assert_problem(res, 422, "invalid_geometry").await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("self_intersecting"),
        "{p}"
    );

    let courier = |name: &'static str,
                   zones: Vec<i64>,
                   capacity: i64,
                   days_off: Vec<&'static str>| {
        let app = &app;
        async move {
            let (_, u) = app.post("/api/v1/users", admin, &json!({"username": name, "password": "password-123", "full_name": "Bưu tá", "role": "courier", "post_office_id": po})).await;
            let (s, c) = app.post("/api/v1/couriers", admin, &json!({"user_id": u["id"], "post_office_id": po, "zone_ids": zones, "capacity": capacity,
                                                                      "shift_start": "07:00", "shift_end": "18:00", "days_off": days_off})).await;
            assert_eq!(s, 201, "{c}");
            c["id"].as_i64().unwrap()
        }
    };
    let off = courier(
        "nghi",
        vec![za],
        10,
        vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    .await;
    let full = courier("day", vec![za], 1, vec![]).await;
    let in_a = courier("khua", vec![za], 10, vec![]).await;
    let in_b = courier("khub", vec![zb], 10, vec![]).await;

    // The full courier already holds one dossier.
    let (_, first) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let first_pickup = first["tasks"][0]["id"].as_i64().unwrap();
    assert_eq!(first["tasks"][0]["kind"], "pickup");
    let (s, _) = app
        .post(
            &format!("/api/v1/tasks/{first_pickup}/assign"),
            admin,
            &json!({"courier_id": full}),
        )
        .await;
    assert_eq!(s, 200);
    // Manual assignment to an ineligible courier is refused with the reason.
    let (_, second) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let second_pickup = second["tasks"][0]["id"].as_i64().unwrap();
    for (courier, why) in [(in_b, "khu vực"), (off, "nghỉ"), (full, "đủ số hồ sơ")] {
        let res = app
            .send(
                Method::POST,
                &format!("/api/v1/tasks/{second_pickup}/assign"),
                Some(admin),
                Some(&json!({"courier_id": courier})),
            )
            .await;
        let p = assert_problem(res, 409, "conflict").await;
        assert!(p["detail"].as_str().unwrap().contains(why), "{p}");
    }
    // A request in no zone goes to the nearest zone (B) and is flagged.
    let mut outside = request(w.agency_id);
    outside["address"]["lat"] = json!(10.535);
    outside["citizen"]["phone"] = json!("0987000111");
    let (_, third) = app
        .post("/api/v1/pickup-requests", &w.operator, &outside)
        .await;
    let (_, tasks) = app
        .get(
            &format!("/api/v1/tasks?status=unassigned&post_office_id={po}"),
            admin,
        )
        .await;
    let third_tasks: Vec<&serde_json::Value> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["tracking_code"] == third["tracking_code"])
        .collect();
    assert_eq!(third_tasks.len(), 2);
    assert!(
        third_tasks
            .iter()
            .all(|t| t["zone_id"] == zb && t["outside_zone"] == true),
        "{third_tasks:?}"
    );

    let date = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let (s, result) = app
        .post(
            "/api/v1/dispatch/auto-assign",
            admin,
            &json!({"post_office_id": po, "date": date}),
        )
        .await;
    assert_eq!(s, 200, "{result}");
    let courier_of = |task: i64| {
        result["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["task_id"] == task)
            .map(|a| a["courier_id"].as_i64().unwrap())
    };
    assert_eq!(
        courier_of(second_pickup),
        Some(in_a),
        "zone A's available courier: {result}"
    );
    assert_eq!(
        courier_of(third_tasks[0]["id"].as_i64().unwrap()),
        Some(in_b),
        "{result}"
    );
    assert_eq!(result["unassigned"], json!([]));
    // Running it again finds nothing left to do: deterministic and idempotent.
    let (_, again) = app
        .post(
            "/api/v1/dispatch/auto-assign",
            admin,
            &json!({"post_office_id": po, "date": date}),
        )
        .await;
    assert_eq!(again, json!({"assignments": [], "unassigned": []}));

    // Planning the day respects zones too: each courier only gets their zones' work.
    let (s, plan) = app
        .post(
            "/api/v1/dispatch/plan",
            admin,
            &json!({"post_office_id": po, "date": date}),
        )
        .await;
    assert_eq!(s, 200, "{plan}");
    let (_, all) = app
        .get(
            &format!("/api/v1/tasks?post_office_id={po}&limit=500"),
            admin,
        )
        .await;
    let zone_of = |task: &serde_json::Value| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == *task)
            .unwrap()["zone_id"]
            .as_i64()
    };
    let mut planned = 0;
    for route in plan["routes"].as_array().unwrap() {
        let allowed = match route["courier_id"].as_i64().unwrap() {
            c if c == in_b => zb,
            c if c == in_a || c == full => za,
            other => panic!("courier {other} should not be planned: {plan}"),
        };
        for stop in route["stops"].as_array().unwrap() {
            assert_eq!(zone_of(&stop["task_id"]), Some(allowed), "{plan}");
            planned += 1;
        }
    }
    // Every task is planned or reported with its reason (the planner's capacity is the
    // load carried at once; a refused stop, e.g. a courier's dossier limit, is reported).
    let reported = plan["unassigned"].as_array().unwrap();
    assert!(reported
        .iter()
        .all(|u| !u["reason"].as_str().unwrap().is_empty()));
    assert_eq!(
        planned + reported.len(),
        6,
        "three dossiers, two stops each: {plan}"
    );
    assert!(planned >= 4, "{plan}");
}

/// Late in the day every shift is over: planning today is an empty plan, not a 500.
async fn plan_after_every_shift_ended_is_empty(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    app.db
        .write(move |c| -> Result<(), buuta::error::ApiError> {
            use buuta::db::schema::couriers;
            use diesel::prelude::*;
            diesel::update(couriers::table)
                .set((
                    couriers::shift_start.eq("00:00"),
                    couriers::shift_end.eq("00:01"),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (s, plan) = app
        .post("/api/v1/dispatch/plan", &w.dispatcher, &json!({}))
        .await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(plan["routes"], json!([]), "{plan}");
}

crate::on_both_backends!(
    plan_after_every_shift_ended_is_empty,
    dispatcher_lists_tasks_and_courier_routes,
    auto_assign_follows_zones_shifts_and_capacity,
    plan_gives_feasible_routes_and_keeps_started_stops,
    tracking_shows_a_new_plan_at_once,
    plan_numbers_each_route_and_keeps_carried_dossiers,
    plan_keeps_desk_stops_inside_agency_hours,
    routes_follow_reassignment_cancellation_and_new_work_at_once,
    auto_assign_spreads_work_over_couriers_on_shift,
);

/// The dispatcher's plan of `day` (the plan must succeed).
async fn plan_day(app: &TestApp, token: &str, day: &str) -> serde_json::Value {
    let (s, plan) = app
        .post("/api/v1/dispatch/plan", token, &json!({"date": day}))
        .await;
    assert_eq!(s, 200, "{plan}");
    plan
}

/// The public answer for `code`.
async fn public(app: &TestApp, code: &str) -> serde_json::Value {
    let res = app
        .send(Method::GET, &format!("/api/v1/track/{code}"), None, None)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Public tracking look-ups answered from the server's memory so far.
async fn track_cache_hits(app: &TestApp) -> u64 {
    let res = app.send(Method::GET, "/metrics", None, None).await;
    let text = res.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("buuta_track_cache_lookups_total{result=\"hit\"} "))
        .expect("the tracking cache is in /metrics")
        .parse()
        .unwrap()
}

/// The public answer for `code` once `app` answers it from memory: a repeated look-up
/// is a cache hit. (On PostgreSQL a node keeps nothing until its change listener is up,
/// which may take a moment after start-up.)
async fn cached_public(app: &TestApp, code: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let first = public(app, code).await;
        let hits = track_cache_hits(app).await;
        let again = public(app, code).await;
        if track_cache_hits(app).await == hits + 1 {
            assert_eq!(again, first);
            return first;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never answered from memory"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Public tracking answers are kept in memory for a moment, yet a change committed on
/// this node shows at once: here the ETA of a route plan, which changes only the task.
async fn tracking_shows_a_new_plan_at_once(b: Backend) {
    let adjust = |s: &mut buuta::config::Settings| {
        s.plan_time_limit_ms = 500;
        s.track_per_minute = 1_000_000;
    };
    let Some(app) = TestApp::spawn_with(b, adjust).await else {
        return;
    };
    let w = world(&app).await;
    let (d, _) = assigned_request(&app, &w).await;
    let code = d["tracking_code"].as_str().unwrap();
    let before = cached_public(&app, code).await;
    assert_eq!(before["status"], "scheduled");
    // The assignment timed the courier's route at once (from their 07:30 shift start,
    // the pickup waits for its 08:00 window).
    assert!(before["eta"].is_string(), "{before}");
    // The courier now starts at 09:00: the next plan moves the ETA, and only the task.
    app.db
        .write(move |c| -> Result<(), buuta::error::ApiError> {
            use buuta::db::schema::couriers;
            use diesel::prelude::*;
            diesel::update(couriers::table)
                .set(couriers::shift_start.eq("09:00"))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    plan_day(&app, &w.dispatcher, &day).await;
    let after = public(&app, code).await;
    assert_eq!(after["status"], "scheduled");
    assert!(
        after["eta"].is_string() && after["eta"] != before["eta"],
        "the plan's ETA shows at once: {before} then {after}"
    );
}

/// Seconds by motorbike between two points: haversine × 1.3 at 25 km/h (the default provider).
fn travel_s(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let (dp, dl) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin() * 1.3 / (25_000.0 / 3600.0)
}

async fn plan_gives_feasible_routes_and_keeps_started_stops(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.plan_time_limit_ms = 1500).await else {
        return;
    };
    let w = world(&app).await;
    let admin = &w.admin;
    let (s, _) = app.post("/api/v1/zones", admin, &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square((10.40, 10.52), (105.57, 105.69))})).await;
    assert_eq!(s, 201);
    let (_, u) = app.post("/api/v1/users", admin, &json!({"username": "buuta3", "password": "password-123", "full_name": "Bưu tá", "role": "courier", "post_office_id": 1})).await;
    let (s, _) = app.post("/api/v1/couriers", admin, &json!({"user_id": u["id"], "post_office_id": 1, "capacity": 20, "shift_start": "07:30", "shift_end": "17:00"})).await;
    assert_eq!(s, 201);
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let mut windows = BTreeMap::new();
    for i in 0..15 {
        let mut req = request(w.agency_id);
        let hour = 8 + (i % 7);
        req["pickup_window"] = json!({"from": format!("{day}T{hour:02}:00:00+07:00"), "to": format!("{day}T{:02}:00:00+07:00", hour + 1)});
        req["address"]["lat"] = json!(10.43 + 0.004 * i as f64);
        req["address"]["lon"] = json!(105.60 + 0.003 * ((i * 7) % 15) as f64);
        let (s, d) = app.post("/api/v1/pickup-requests", &w.operator, &req).await;
        assert_eq!(s, 201, "{d}");
        for t in d["tasks"].as_array().unwrap() {
            windows.insert(
                t["id"].as_i64().unwrap(),
                (
                    t["kind"].as_str().unwrap().to_owned(),
                    t["window"].clone(),
                    d["id"].as_i64().unwrap(),
                ),
            );
        }
    }
    assert_eq!(windows.len(), 30);
    let plan = plan_day(&app, &w.dispatcher, &day).await;
    assert_eq!(plan["unassigned"], json!([]), "{plan}");
    let check = |plan: &serde_json::Value| {
        let mut seen = Vec::new();
        for route in plan["routes"].as_array().unwrap() {
            let stops = route["stops"].as_array().unwrap();
            let mut prev: Option<(chrono::DateTime<chrono::FixedOffset>, (f64, f64), f64)> = None;
            let mut picked = Vec::new();
            for s in stops {
                let id = s["task_id"].as_i64().unwrap();
                let eta = chrono::DateTime::parse_from_rfc3339(s["eta"].as_str().unwrap()).unwrap();
                let here = (s["lat"].as_f64().unwrap(), s["lon"].as_f64().unwrap());
                let (kind, win, dossier) = &windows[&id];
                if let Some((t, p, service)) = prev {
                    let earliest = t + chrono::Duration::milliseconds(
                        ((service + travel_s(p, here)) * 1000.0) as i64 - 1000,
                    );
                    assert!(eta >= earliest, "task {id}: ETA {eta} before {earliest}");
                }
                if let Some(from) = win["from"].as_str() {
                    let (from, to) = (
                        chrono::DateTime::parse_from_rfc3339(from).unwrap(),
                        chrono::DateTime::parse_from_rfc3339(win["to"].as_str().unwrap()).unwrap(),
                    );
                    assert!(
                        eta >= from && eta <= to,
                        "task {id}: ETA {eta} outside {from}–{to}"
                    );
                }
                match kind.as_str() {
                    "pickup" => picked.push(*dossier),
                    _ => assert!(picked.contains(dossier), "drop-off {id} before its pickup"),
                }
                let service = if matches!(kind.as_str(), "pickup" | "deliver") {
                    300.0
                } else {
                    600.0
                };
                prev = Some((eta, here, service));
                seen.push(id);
            }
            assert!(
                route["distance_m"].as_f64().unwrap() > 0.0
                    && route["duration_s"].as_f64().unwrap() > 0.0
            );
        }
        seen.sort();
        assert_eq!(
            seen,
            windows.keys().copied().collect::<Vec<_>>(),
            "every task planned once"
        );
    };
    check(&plan);

    // The plan is each courier's route; starting a stop pins it first on re-planning.
    let route = &plan["routes"][0];
    let courier_id = route["courier_id"].as_i64().unwrap();
    let token = match courier_id {
        id if id == w.courier_id => w.courier.clone(),
        id if id == w.courier_id + 1 => w.other_courier.clone(),
        _ => app.login("buuta3", "password-123").await,
    };
    let (_, mine) = app
        .get(&format!("/api/v1/me/route?date={day}"), &token)
        .await;
    let my_stops = mine["stops"].as_array().unwrap();
    let planned: Vec<&serde_json::Value> = route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["task_id"])
        .collect();
    let served: Vec<&serde_json::Value> = my_stops.iter().map(|s| &s["id"]).collect();
    assert_eq!(served, planned, "GET /me/route follows the plan");
    let started = planned[1].as_i64().unwrap();
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{started}/events"),
            &token,
            &json!({"type": "arrived", "at": chrono::Utc::now().to_rfc3339()}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let replan = plan_day(&app, &w.dispatcher, &day).await;
    let again = replan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["courier_id"] == courier_id)
        .unwrap();
    assert_eq!(
        again["stops"][0]["task_id"], started,
        "the started stop stays first: {again}"
    );
}

/// Two nodes on one PostgreSQL database: an answer node B keeps in memory is dropped
/// as soon as node A commits a change to its dossier (LISTEN/NOTIFY), long before the
/// answer's 60 s life ends.
#[tokio::test]
async fn another_nodes_change_shows_at_once() {
    // Both nodes poll tracking from one address: lift its per-address limit.
    let lift = |s: &mut buuta::config::Settings| s.track_per_minute = 1_000_000;
    let Some(a) = TestApp::spawn_with(Backend::Postgres, lift).await else {
        return;
    };
    let b = a.spawn_twin(lift).await;
    let w = world(&a).await;
    let (_, d) = a
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let code = d["tracking_code"].as_str().unwrap();
    assert_eq!(cached_public(&b, code).await["status"], "requested");
    let pickup = task_of(&d, "pickup");
    let (s, v) = a
        .post(
            &format!("/api/v1/tasks/{pickup}/assign"),
            &w.dispatcher,
            &json!({"courier_id": w.courier_id}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while public(&b, code).await["status"] != "scheduled" {
        assert!(
            std::time::Instant::now() < deadline,
            "node B still shows the old status 5 s after node A's commit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The id of the courier whose user logs in with `token`.
async fn courier_id_of(app: &TestApp, admin: &str, token: &str) -> i64 {
    let (_, me) = app.get("/api/v1/me", token).await;
    let (_, list) = app.get("/api/v1/couriers", admin).await;
    let items = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .expect("a courier list");
    items
        .iter()
        .find(|k| k["user_id"] == me["id"])
        .unwrap_or_else(|| panic!("no courier for {me} in {list}"))["id"]
        .as_i64()
        .unwrap()
}

/// A request at a point of its own, with a pickup window tomorrow from `hour`.
fn request_at(agency_id: i64, i: usize, hour: usize) -> serde_json::Value {
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let mut req = request(agency_id);
    req["pickup_window"] = json!({"from": format!("{day}T{hour:02}:00:00+07:00"), "to": format!("{day}T{:02}:00:00+07:00", hour + 2)});
    req["address"]["lat"] = json!(10.43 + 0.005 * i as f64);
    req["address"]["lon"] = json!(105.60 + 0.004 * ((i * 7) % 11) as f64);
    req
}

/// Each courier's stored route, as the board and the courier app read it: open stops
/// in route order, `(task id, seq, eta)`.
async fn stored_route(
    app: &TestApp,
    token: &str,
    courier: i64,
    day: &str,
) -> Vec<(i64, i64, String)> {
    let (s, r) = app
        .get(
            &format!("/api/v1/couriers/{courier}/route?date={day}"),
            token,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    r["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["seq"].as_i64().unwrap_or(-1),
                t["eta"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Issue 13: a plan numbers each courier's stops 1..n with ETAs of that courier's own
/// route; the stops of dossiers a courier already carries stay on that courier's route,
/// and the board, the courier app and the plan's answer agree.
async fn plan_numbers_each_route_and_keeps_carried_dossiers(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.plan_time_limit_ms = 1000).await else {
        return;
    };
    let w = world(&app).await;
    let (s, _) = app.post("/api/v1/zones", &w.admin, &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square((10.40, 10.52), (105.57, 105.69))})).await;
    assert_eq!(s, 201);
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let a = w.courier_id;
    let bee = courier_id_of(&app, &w.admin, &w.other_courier).await;
    // B carries three dossiers (picked up, drop-off at the agency still to do).
    let (mut carried, mut codes) = (Vec::new(), Vec::new());
    for i in 0..3 {
        let (s, d) = app
            .post(
                "/api/v1/pickup-requests",
                &w.operator,
                &request_at(w.agency_id, i, 8),
            )
            .await;
        assert_eq!(s, 201, "{d}");
        let (pickup, dropoff) = (task_of(&d, "pickup"), task_of(&d, "dropoff"));
        let (s, v) = app
            .post(
                &format!("/api/v1/tasks/{pickup}/assign"),
                &w.dispatcher,
                &json!({"courier_id": bee}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let picked = json!({"type": "picked_up", "at": crate::lifecycle::now(), "proof": crate::lifecycle::pickup_proof()});
        let (s, v) = app
            .post(
                &format!("/api/v1/tasks/{pickup}/events"),
                &w.other_courier,
                &picked,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        carried.push(dropoff);
        codes.push(d["tracking_code"].as_str().unwrap().to_owned());
    }
    // B holds the papers: a dispatcher cannot hand B's drop-off to A.
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{}/assign", carried[0]),
            &w.dispatcher,
            &json!({"courier_id": a}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("đang giữ hồ sơ"),
        "{v}"
    );
    let (_, d) = app
        .get(&format!("/api/v1/dossiers/{}", codes[0]), &w.dispatcher)
        .await;
    let t = d["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == carried[0])
        .unwrap();
    assert_eq!(t["courier_id"], bee, "unchanged: {t}");
    // Re-assigning it to its holder stays allowed (a no-op for the route).
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{}/assign", carried[0]),
            &w.dispatcher,
            &json!({"courier_id": bee}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // A has started a stop: their route is under way.
    let (s, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request_at(w.agency_id, 3, 8),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let started = task_of(&d, "pickup");
    let (s, _) = app
        .post(
            &format!("/api/v1/tasks/{started}/assign"),
            &w.dispatcher,
            &json!({"courier_id": a}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{started}/events"),
            &w.courier,
            &json!({"type": "arrived", "at": crate::lifecycle::now()}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Open work nobody holds yet.
    for i in 4..10 {
        let (s, d) = app
            .post(
                "/api/v1/pickup-requests",
                &w.operator,
                &request_at(w.agency_id, i, 8 + i % 5),
            )
            .await;
        assert_eq!(s, 201, "{d}");
    }

    let plan = plan_day(&app, &w.dispatcher, &day).await;
    let routes = plan["routes"].as_array().unwrap();
    let route_of = |k: i64| routes.iter().find(|r| r["courier_id"] == k);
    let b_route =
        route_of(bee).unwrap_or_else(|| panic!("B carries dossiers, so B has a route: {plan}"));
    let b_tasks: Vec<i64> = b_route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["task_id"].as_i64().unwrap())
        .collect();
    for t in &carried {
        assert!(
            b_tasks.contains(t),
            "carried drop-off {t} stays with B: {plan}"
        );
    }
    let mut total = 0;
    for r in routes {
        let k = r["courier_id"].as_i64().unwrap();
        let stops = r["stops"].as_array().unwrap();
        let seqs: Vec<i64> = stops.iter().map(|s| s["seq"].as_i64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=stops.len() as i64).collect::<Vec<_>>(),
            "courier {k}: stops 1..n: {plan}"
        );
        let etas: Vec<chrono::DateTime<chrono::FixedOffset>> = stops
            .iter()
            .map(|s| chrono::DateTime::parse_from_rfc3339(s["eta"].as_str().unwrap()).unwrap())
            .collect();
        assert!(
            etas.windows(2).all(|p| p[0] <= p[1]),
            "courier {k}: ETAs follow the route: {plan}"
        );
        // The board and the courier app read the same route, numbers and ETAs.
        let stored = stored_route(&app, &w.dispatcher, k, &day).await;
        let answered: Vec<(i64, i64, String)> = stops
            .iter()
            .map(|s| {
                (
                    s["task_id"].as_i64().unwrap(),
                    s["seq"].as_i64().unwrap(),
                    s["eta"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            stored, answered,
            "courier {k}: the stored route is the plan"
        );
        total += stops.len();
    }
    let token_of = |k: i64| {
        if k == a {
            w.courier.clone()
        } else {
            w.other_courier.clone()
        }
    };
    for k in [a, bee] {
        let (_, mine) = app
            .get(&format!("/api/v1/me/route?date={day}"), &token_of(k))
            .await;
        let mine: Vec<i64> = mine["stops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        let planned: Vec<i64> = route_of(k)
            .map(|r| {
                r["stops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["task_id"].as_i64().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(mine, planned, "courier {k}: the app shows the plan's order");
    }
    assert_eq!(
        total + plan["unassigned"].as_array().unwrap().len(),
        3 + 2 + 12,
        "{plan}"
    );
}

/// Issue 13: hand-overs at an agency are planned inside its opening hours and outside
/// its lunch break (an agency states them as `opens_at`…`lunch_end`).
async fn plan_keeps_desk_stops_inside_agency_hours(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.plan_time_limit_ms = 800).await else {
        return;
    };
    let w = world(&app).await;
    let admin = &w.admin;
    let (s, _) = app.post("/api/v1/zones", admin, &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square((10.40, 10.52), (105.57, 105.69))})).await;
    assert_eq!(s, 201);
    // Inconsistent hours are refused with the field named.
    for (patch, field) in [
        (
            json!({"opens_at": "17:00", "closes_at": "07:30"}),
            "closes_at",
        ),
        (
            json!({"opens_at": "07:30", "closes_at": "17:00", "lunch_start": "11:30"}),
            "lunch_end",
        ),
        (
            json!({"opens_at": "7h30", "closes_at": "17:00"}),
            "opens_at",
        ),
    ] {
        let mut body = crate::reference::agency_body();
        body.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        let res = app
            .send(Method::POST, "/api/v1/agencies", Some(admin), Some(&body))
            .await;
        let p = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let mut body = crate::reference::agency_body();
    body["name"] = json!("Bộ phận Một cửa có giờ làm việc");
    body.as_object_mut().unwrap().extend(
        json!({"opens_at": "07:30", "closes_at": "17:00", "lunch_start": "11:30", "lunch_end": "13:30"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let (s, agency) = app.post("/api/v1/agencies", admin, &body).await;
    assert_eq!(s, 201, "{agency}");
    assert_eq!(agency["lunch_start"], "11:30");
    // The couriers start at 06:00, before the agency opens.
    app.db
        .write(move |c| -> Result<(), buuta::error::ApiError> {
            use buuta::db::schema::couriers;
            use diesel::prelude::*;
            diesel::update(couriers::table)
                .set(couriers::shift_start.eq("06:00"))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    // Picked up at the agency's door from 06:00 and from 11:20: without the hours, the
    // hand-overs would be at about 06:05 and 11:25.
    let mut dropoffs = Vec::new();
    for (from, to) in [("06:00", "06:30"), ("11:20", "11:50")] {
        let mut req = request(agency["id"].as_i64().unwrap());
        req["pickup_window"] =
            json!({"from": format!("{day}T{from}:00+07:00"), "to": format!("{day}T{to}:00+07:00")});
        let (s, d) = app.post("/api/v1/pickup-requests", &w.operator, &req).await;
        assert_eq!(s, 201, "{d}");
        dropoffs.push(task_of(&d, "dropoff"));
    }
    let plan = plan_day(&app, &w.dispatcher, &day).await;
    assert_eq!(plan["unassigned"], json!([]), "{plan}");
    let mut seen = 0;
    for stop in plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap())
    {
        if !dropoffs.contains(&stop["task_id"].as_i64().unwrap()) {
            continue;
        }
        seen += 1;
        let eta = chrono::DateTime::parse_from_rfc3339(stop["eta"].as_str().unwrap()).unwrap();
        let at = eta.format("%H:%M:%S").to_string();
        assert!(
            at.as_str() >= "07:30:00" && at.as_str() <= "16:50:00",
            "hand-over at {at}, outside 07:30–17:00: {plan}"
        );
        assert!(
            !(at.as_str() > "11:20:00" && at.as_str() < "13:30:00"),
            "hand-over at {at}, in the lunch break: {plan}"
        );
    }
    assert_eq!(seen, 2, "{plan}");
}

/// The stored route of courier `k` is numbered 1..n, every stop has an ETA, and the
/// ETAs follow the order.
fn assert_numbered(route: &[(i64, i64, String)], k: i64) {
    let seqs: Vec<i64> = route.iter().map(|s| s.1).collect();
    assert_eq!(
        seqs,
        (1..=route.len() as i64).collect::<Vec<_>>(),
        "courier {k}: {route:?}"
    );
    let etas: Vec<chrono::DateTime<chrono::FixedOffset>> = route
        .iter()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(&s.2)
                .unwrap_or_else(|_| panic!("courier {k}: no ETA: {route:?}"))
        })
        .collect();
    assert!(
        etas.windows(2).all(|p| p[0] <= p[1]),
        "courier {k}: {route:?}"
    );
}

/// Issue 13: a manual reassignment, a cancellation and a new assignment renumber and
/// re-time the routes concerned at once; the started stop stays first.
async fn routes_follow_reassignment_cancellation_and_new_work_at_once(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, |s| s.plan_time_limit_ms = 800).await else {
        return;
    };
    let w = world(&app).await;
    let (s, _) = app.post("/api/v1/zones", &w.admin, &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square((10.40, 10.52), (105.57, 105.69))})).await;
    assert_eq!(s, 201);
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let a = w.courier_id;
    let bee = courier_id_of(&app, &w.admin, &w.other_courier).await;
    let mut dossiers = Vec::new();
    for i in 0..4 {
        let (s, d) = app
            .post(
                "/api/v1/pickup-requests",
                &w.operator,
                &request_at(w.agency_id, i, 8 + 2 * i),
            )
            .await;
        assert_eq!(s, 201, "{d}");
        let pickup = task_of(&d, "pickup");
        let (s, v) = app
            .post(
                &format!("/api/v1/tasks/{pickup}/assign"),
                &w.dispatcher,
                &json!({"courier_id": a}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        dossiers.push((
            d["tracking_code"].as_str().unwrap().to_owned(),
            pickup,
            task_of(&d, "dropoff"),
        ));
    }
    // Both couriers work 07:30–17:00: the plan may use one of them or both.
    let plan = plan_day(&app, &w.dispatcher, &day).await;
    assert_eq!(plan["unassigned"], json!([]), "{plan}");
    // Whoever holds the first pickup starts it.
    let holder_of = |t: i64| {
        plan["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["stops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["task_id"] == t)
            })
            .unwrap()["courier_id"]
            .as_i64()
            .unwrap()
    };
    let first = dossiers[0].1;
    let k1 = holder_of(first);
    let token = if k1 == a {
        w.courier.clone()
    } else {
        w.other_courier.clone()
    };
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{first}/events"),
            &token,
            &json!({"type": "arrived", "at": crate::lifecycle::now()}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let other = if k1 == a { bee } else { a };

    // Move the third dossier to the other courier by hand.
    let (_, moved_pickup, moved_dropoff) = dossiers[2].clone();
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{moved_pickup}/assign"),
            &w.dispatcher,
            &json!({"courier_id": other}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for k in [k1, other] {
        let route = stored_route(&app, &w.dispatcher, k, &day).await;
        assert_numbered(&route, k);
    }
    let theirs = stored_route(&app, &w.dispatcher, other, &day).await;
    let ids: Vec<i64> = theirs.iter().map(|s| s.0).collect();
    assert!(
        ids.contains(&moved_pickup) && ids.contains(&moved_dropoff),
        "{theirs:?}"
    );
    let pos = |t: i64| ids.iter().position(|x| *x == t).unwrap();
    assert!(pos(moved_pickup) < pos(moved_dropoff), "{theirs:?}");
    let mine = stored_route(&app, &w.dispatcher, k1, &day).await;
    assert_eq!(mine[0].0, first, "the started stop stays first: {mine:?}");
    assert!(!mine.iter().any(|s| s.0 == moved_pickup), "{mine:?}");

    // Cancel the fourth dossier: its stops leave, the rest is renumbered.
    let (code, p4, _) = dossiers[3].clone();
    let k4 = if stored_route(&app, &w.dispatcher, k1, &day)
        .await
        .iter()
        .any(|s| s.0 == p4)
    {
        k1
    } else {
        other
    };
    let (s, v) = app
        .post(
            &format!("/api/v1/dossiers/{code}/cancel"),
            &w.operator,
            &json!({"reason": "Công dân tự nộp"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let route = stored_route(&app, &w.dispatcher, k4, &day).await;
    assert_numbered(&route, k4);
    assert!(!route.iter().any(|s| s.0 == p4), "{route:?}");

    // New work given by hand joins the route with a number and an ETA at once.
    let (s, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request_at(w.agency_id, 7, 13),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let fresh = task_of(&d, "pickup");
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{fresh}/assign"),
            &w.dispatcher,
            &json!({"courier_id": k1}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let route = stored_route(&app, &w.dispatcher, k1, &day).await;
    assert_numbered(&route, k1);
    assert_eq!(route[0].0, first, "{route:?}");
    assert!(route.iter().any(|s| s.0 == fresh), "{route:?}");

    // The started stop fails (nobody home): it waits for a new appointment on the same
    // courier, and the route stays numbered 1..n with ETAs in order.
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{first}/events"),
            &token,
            &json!({"type": "failed", "at": crate::lifecycle::now(), "reason": "not_home"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let after = stored_route(&app, &w.dispatcher, k1, &day).await;
    assert_numbered(&after, k1);
    assert!(after.iter().any(|s| s.0 == fresh), "{after:?}");
}

/// Issue 13: auto-assignment spreads a day's work over the couriers on shift instead of
/// piling it on one (12 dossiers, 3 couriers starting at the office: 12/0/0 before).
async fn auto_assign_spreads_work_over_couriers_on_shift(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let admin = &w.admin;
    let (s, _) = app.post("/api/v1/zones", admin, &json!({"name": "Cao Lãnh", "post_office_id": 1, "area": square((10.40, 10.52), (105.57, 105.69))})).await;
    assert_eq!(s, 201);
    let (_, u) = app.post("/api/v1/users", admin, &json!({"username": "buuta3", "password": "password-123", "full_name": "Bưu tá", "role": "courier", "post_office_id": 1})).await;
    let (s, c) = app.post("/api/v1/couriers", admin, &json!({"user_id": u["id"], "post_office_id": 1, "capacity": 20, "shift_start": "07:30", "shift_end": "17:00"})).await;
    assert_eq!(s, 201, "{c}");
    for i in 0..12 {
        let (s, d) = app
            .post(
                "/api/v1/pickup-requests",
                &w.operator,
                &request_at(w.agency_id, i, 8 + i % 6),
            )
            .await;
        assert_eq!(s, 201, "{d}");
    }
    let day = window(1)["from"].as_str().unwrap()[..10].to_owned();
    let (s, result) = app
        .post(
            "/api/v1/dispatch/auto-assign",
            &w.dispatcher,
            &json!({"date": day}),
        )
        .await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["unassigned"], json!([]), "{result}");
    let mut per: BTreeMap<i64, usize> = BTreeMap::new();
    for k in [w.courier_id, w.courier_id + 1, c["id"].as_i64().unwrap()] {
        per.insert(k, 0);
    }
    for a in result["assignments"].as_array().unwrap() {
        *per.entry(a["courier_id"].as_i64().unwrap()).or_default() += 1;
    }
    let (max, min) = (*per.values().max().unwrap(), *per.values().min().unwrap());
    eprintln!("auto-assign spread (tasks per courier): {per:?}, max/min {max}/{min}");
    assert!(min > 0 && max <= 2 * min, "work piles up: {per:?}");
    // Each courier's route is numbered and timed at once.
    for k in per.keys() {
        let route = stored_route(&app, &w.dispatcher, *k, &day).await;
        assert_numbered(&route, *k);
    }
}
