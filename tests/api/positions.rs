use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::world;
use reqwest::Method;
use serde_json::json;

async fn courier_positions_are_batched_monotonic_and_shown(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let t = |mins: i64| (chrono::Utc::now() - chrono::Duration::minutes(mins)).to_rfc3339();
    let batch = json!([{"lat": 10.4601, "lon": 105.6301, "at": t(3), "accuracy_m": 8.0},
                       {"lat": 10.4605, "lon": 105.6305, "at": t(2)}]);
    let (status, body) = app.post("/api/v1/me/positions", &w.courier, &batch).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({"accepted": 2, "ignored": 0}));
    // The same batch again (an offline phone replaying) changes nothing.
    let (_, body) = app.post("/api/v1/me/positions", &w.courier, &batch).await;
    assert_eq!(body, json!({"accepted": 0, "ignored": 2}));
    let (_, body) = app
        .post(
            "/api/v1/me/positions",
            &w.courier,
            &json!([{"lat": 10.47, "lon": 105.64, "at": t(1)}]),
        )
        .await;
    assert_eq!(body["accepted"], 1);

    for (bad, field) in [
        (json!([]), "body"),
        (json!([{"lat": 48.8, "lon": 2.3, "at": t(1)}]), "[0].lat"),
        (
            json!([{"lat": 10.4, "lon": 105.6, "at": t(1)}, {"lat": 10.4, "lon": 105.6, "at": t(2)}]),
            "[1].at",
        ),
        (
            json!([{"lat": 10.4, "lon": 105.6, "at": "hôm nay"}]),
            "[0].at",
        ),
        (
            json!([{"lat": 10.4, "lon": 105.6, "at": t(1), "accuracy_m": -1}]),
            "[0].accuracy_m",
        ),
    ] {
        let res = app
            .send(
                Method::POST,
                "/api/v1/me/positions",
                Some(&w.courier),
                Some(&bad),
            )
            .await;
        let status = res.status().as_u16();
        assert_eq!(status, 422, "{bad}");
        let p: serde_json::Value = res.json().await.unwrap();
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{bad}: {p}"
        );
    }
    let res = app
        .send(
            Method::POST,
            "/api/v1/me/positions",
            Some(&w.operator),
            Some(&batch),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    let (status, list) = app
        .get("/api/v1/couriers/positions?all=true", &w.dispatcher)
        .await;
    assert_eq!(status, 200, "{list}");
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["courier_id"] == w.courier_id)
        .unwrap();
    assert_eq!(
        (mine["lat"].as_f64(), mine["lon"].as_f64()),
        (Some(10.47), Some(105.64))
    );
    let res = app
        .send(
            Method::GET,
            "/api/v1/couriers/positions",
            Some(&w.courier),
            None,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

crate::on_both_backends!(courier_positions_are_batched_monotonic_and_shown);
