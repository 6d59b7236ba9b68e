//! Cash reconciliation: what a courier should have collected on a day, what was
//! recorded at the door, the cashier's count at the shift-end hand-over, the CSV; bad
//! input changes nothing; concurrent hand-overs of one day: exactly one wins.

use crate::helpers::{Backend, TestApp};
use crate::lifecycle::{
    assigned_request, delivery_proof, now, pickup_proof, request, vn_day, world, World,
};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Picks up a fresh request with `short` dong less than its fees; its total fee.
async fn picked_up_short_by(app: &TestApp, w: &World, short: i64) -> i64 {
    let (d, pickup) = assigned_request(app, w).await;
    let total = d["fees"]["total_vnd"].as_i64().unwrap();
    let mut proof = pickup_proof();
    proof["fees_collected_vnd"] = json!(total - short);
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/events"),
            &w.courier,
            &json!({"type": "picked_up", "at": now(), "proof": proof}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    total
}

async fn cash(app: &TestApp, token: &str, query: &str) -> Value {
    let (s, v) = app
        .get(&format!("/api/v1/reports/cash{query}"), token)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn a_couriers_day_is_reconciled_and_handed_over_once(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let first = picked_up_short_by(&app, &w, 0).await;
    let second = picked_up_short_by(&app, &w, 10_000).await;
    let today = vn_day(0).to_string();

    let report = cash(&app, &w.dispatcher, "").await;
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{report}");
    let line = &items[0];
    assert_eq!(line["courier_id"], w.courier_id);
    assert_eq!(line["day"], today.as_str());
    assert_eq!(line["collections"], 2);
    assert_eq!(line["expected_vnd"], first + second);
    assert_eq!(
        line["expected_postal_vnd"].as_i64().unwrap()
            + line["expected_agency_vnd"].as_i64().unwrap(),
        first + second
    );
    assert_eq!(line["collected_vnd"], first + second - 10_000);
    assert_eq!(line["collection_gap_vnd"], -10_000);
    assert_eq!(line["status"], "pending");
    assert_eq!(line["status_label"], "Chưa nộp");
    assert_eq!(report["totals"]["pending_vnd"], first + second - 10_000);

    // Bad input: a clear 4xx each, and nothing recorded.
    let body = |amount: Value, day: &str, cashier: &str| json!({"courier_id": w.courier_id, "day": day, "amount_vnd": amount, "cashier_name": cashier});
    let tomorrow = vn_day(1).to_string();
    for (bad, status) in [
        (body(json!(1000), &tomorrow, "Lê Thu Ngân"), 422),
        (body(json!(-1), &today, "Lê Thu Ngân"), 422),
        (body(json!(1000), &today, "   "), 422),
        (body(json!("nhiều"), &today, "Lê Thu Ngân"), 422),
        (
            json!({"courier_id": 999_999, "day": today, "amount_vnd": 1, "cashier_name": "A"}),
            404,
        ),
        (
            json!({"courier_id": w.courier_id, "day": today, "amount_vnd": 1, "cashier_name": "A", "tip": 1}),
            422,
        ),
    ] {
        let (s, v) = app
            .post("/api/v1/reports/cash/handovers", &w.dispatcher, &bad)
            .await;
        assert_eq!(s.as_u16(), status, "{bad} → {v}");
    }
    for q in [
        "?from=2026-13-01",
        "?to=",
        "?from=2026-12-10&to=2026-12-01",
        "?from=2026-01-01&to=2026-12-01",
    ] {
        let (s, v) = app
            .get(&format!("/api/v1/reports/cash{q}"), &w.dispatcher)
            .await;
        assert_eq!(s, 400, "{q} → {v}");
    }
    let (s, _) = app
        .get("/api/v1/reports/cash?post_office_id=999999", &w.dispatcher)
        .await;
    assert_eq!(s, 403, "a dispatcher sees their own post office only");
    assert_eq!(
        cash(&app, &w.dispatcher, "").await,
        report,
        "nothing changed"
    );

    // The cashier counts what the courier brings: 10 000 short of what was due.
    let counted = first + second - 10_000;
    let (s, v) = app
        .post(
            "/api/v1/reports/cash/handovers",
            &w.dispatcher,
            &body(json!(counted), &today, "Lê Thu Ngân"),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "short");
    assert_eq!(v["handover_gap_vnd"], -10_000);
    assert_eq!(v["handover"]["amount_vnd"], counted);
    assert_eq!(v["handover"]["collected_vnd"], counted);
    assert_eq!(v["handover"]["cashier_name"], "Lê Thu Ngân");
    let after = cash(&app, &w.admin, "").await;
    assert_eq!(after["items"][0], v);
    assert_eq!(after["totals"]["short"], 1);
    assert_eq!(after["totals"]["handed_over_vnd"], counted);
    assert_eq!(after["totals"]["pending_vnd"], 0);

    // Once per courier and day.
    let (s, v) = app
        .post(
            "/api/v1/reports/cash/handovers",
            &w.dispatcher,
            &body(json!(first + second), &today, "Người khác"),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("Lê Thu Ngân"), "{v}");
    assert_eq!(cash(&app, &w.admin, "").await, after);

    // The export has the same line.
    let res = app
        .send(
            Method::GET,
            "/api/v1/reports/cash.csv",
            Some(&w.dispatcher),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("doi-soat-thu-ho-"));
    let text = res.text().await.unwrap();
    let rows: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].contains("Thủ quỹ nhận (đồng)"), "{text}");
    for want in [
        vn_day(0).format("%d/%m/%Y").to_string(),
        format!(",{counted},"),
        "Thiếu".to_owned(),
        "Lê Thu Ngân".to_owned(),
    ] {
        assert!(rows[1].contains(&want), "{want} in {}", rows[1]);
    }
}

/// N cashiers record the same courier's day at once, each a different count: one
/// 201, the rest 409, and the stored hand-over is the winner's.
async fn concurrent_handovers_of_one_day_record_one(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    const N: i64 = 8;
    for round in 0..10 {
        let day = vn_day(-round).to_string();
        let sends = (0..N).map(|i| {
            let body = json!({"courier_id": w.courier_id, "day": day, "amount_vnd": 1000 * (i + 1),
                              "cashier_name": format!("Thủ quỹ {i}")});
            let req = app
                .client
                .post(format!("{}/api/v1/reports/cash/handovers", app.base))
                .bearer_auth(&w.dispatcher)
                .header("Idempotency-Key", format!("cash-{round}-{i}"))
                .json(&body);
            async move {
                let res = req.send().await.expect("sent");
                (i, res.status())
            }
        });
        let answers = join_all(sends).await;
        let won: Vec<i64> = answers
            .iter()
            .filter(|(_, s)| *s == StatusCode::CREATED)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|(_, s)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
            "{answers:?}"
        );
        let v = cash(&app, &w.dispatcher, &format!("?from={day}&to={day}")).await;
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{v}");
        assert_eq!(items[0]["handover"]["amount_vnd"], 1000 * (won[0] + 1));
    }
}

/// A return-only dossier (the citizen lodged it at the desk) is paid for at the door
/// when its result comes home: that delivery carries the fees and what was collected.
async fn a_return_only_dossier_is_paid_at_delivery(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let mut body = request(w.agency_id);
    body["service"] = json!("return");
    body.as_object_mut().unwrap().remove("pickup_window");
    body["agency_dossier_code"] = json!("000.00.01.H99-261207-0001");
    let (s, d) = app
        .post("/api/v1/pickup-requests", &w.operator, &body)
        .await;
    assert_eq!(s, 201, "{d}");
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let total = d["fees"]["total_vnd"].as_i64().unwrap();
    let (s, d) = app
        .post(
            &format!("/api/v1/dossiers/{code}/result-ready"),
            &w.clerk,
            &json!({"outcome": "approved"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let task = |kind: &str| {
        d["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == kind)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (collect, deliver) = (task("collect"), task("deliver"));
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{collect}/assign"),
            &w.dispatcher,
            &json!({"courier_id": w.courier_id}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for (task, body) in [
        (collect, json!({"type": "collected", "at": now()})),
        (deliver, {
            let mut proof = delivery_proof();
            proof["fees_collected_vnd"] = json!(total);
            json!({"type": "delivered", "at": now(), "proof": proof})
        }),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/tasks/{task}/events"), &w.courier, &body)
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let report = cash(&app, &w.dispatcher, "").await;
    let line = &report["items"][0];
    assert_eq!(line["collections"], 1, "{report}");
    assert_eq!(line["expected_vnd"], total);
    assert_eq!(line["collected_vnd"], total);
    assert_eq!(line["collection_gap_vnd"], 0);
}

crate::on_both_backends!(
    a_return_only_dossier_is_paid_at_delivery,
    a_couriers_day_is_reconciled_and_handed_over_once,
    concurrent_handovers_of_one_day_record_one
);
