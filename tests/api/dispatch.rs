use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{request, world};
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

crate::on_both_backends!(dispatcher_lists_tasks_and_courier_routes);
