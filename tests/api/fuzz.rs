//! Random bodies against the write routes that parse the most: courier events and
//! intake. Whatever comes, the answer is never a 5xx, and refused bodies change nothing.

use crate::helpers::{Backend, TestApp};
use crate::lifecycle::{assigned_request, world};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

/// JSON shaped like an event body, with every field sometimes wrong.
fn event_body() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just(Value::Null),
        "\\PC{0,30}".prop_map(Value::String),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!([])),
        Just(json!({})),
    ];
    let kind = prop_oneof![
        Just(json!("arrived")),
        Just(json!("picked_up")),
        Just(json!("failed")),
        Just(json!("delivered")),
        text.clone(),
    ];
    let at = prop_oneof![
        Just(json!(chrono::Utc::now().to_rfc3339())),
        Just(json!("2026-13-45T99:00:00+07:00")),
        Just(json!("1970-01-01T00:00:00Z")),
        text.clone(),
    ];
    let proof = prop_oneof![
        Just(
            json!({"checked_documents": ["Đơn"], "seal_number": "NB1", "fees_collected_vnd": 0, "otp": "1234"})
        ),
        Just(json!({"otp": "12"})),
        Just(json!({"signature_png": ""})),
        Just(json!({"checked_documents": [], "seal_number": null})),
        text.clone(),
    ];
    (kind, at, text.clone(), text.clone(), proof, text).prop_map(|(kind, at, lat, reason, proof, note)| {
        json!({"type": kind, "at": at, "lat": lat, "lon": 105.63, "reason": reason, "proof": proof, "note": note})
    })
}

async fn random_event_bodies_never_break_the_server(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let w = world(&app).await;
    let (dossier, pickup) = assigned_request(&app, &w).await;
    let code = dossier["tracking_code"].as_str().unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = event_body();
    let mut refused = 0;
    for _ in 0..150 {
        let body = strategy.new_tree(&mut runner).unwrap().current();
        let (_, before) = app
            .get(&format!("/api/v1/dossiers/{code}"), &w.dispatcher)
            .await;
        let (status, answer) = app
            .post(&format!("/api/v1/tasks/{pickup}/events"), &w.courier, &body)
            .await;
        assert!(status.as_u16() < 500, "{status} for {body}: {answer}");
        if status != 200 {
            refused += 1;
            let (_, after) = app
                .get(&format!("/api/v1/dossiers/{code}"), &w.dispatcher)
                .await;
            assert_eq!(before, after, "a refused body changed the dossier: {body}");
        }
    }
    assert!(refused > 100, "most random bodies are refused ({refused})");
}

crate::on_both_backends!(random_event_bodies_never_break_the_server);
