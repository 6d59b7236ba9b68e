use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{request, window, world};
use reqwest::Method;
use serde_json::json;

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

fn square(lat: (f64, f64), lon: (f64, f64)) -> serde_json::Value {
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
}

crate::on_both_backends!(
    dispatcher_lists_tasks_and_courier_routes,
    auto_assign_follows_zones_shifts_and_capacity,
);
