use crate::helpers::{Backend, TestApp};
use reqwest::Method;

async fn health_readiness_and_metrics(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let res = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(res.status(), 200);
    let res = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );

    // A request to a templated route and an unknown path show up in the metrics.
    app.send(Method::GET, "/api/v1/agencies/7", None, None)
        .await;
    app.send(Method::GET, "/no/such/page", None, None).await;
    let text = app
        .send(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"buuta_http_requests_total{method="GET",route="/readyz",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/agencies/{id}",status="401""#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(text.contains("buuta_http_request_duration_seconds_bucket"));
    assert!(text.contains("buuta_db_pool_connections{state=\"open\"}"));
}

crate::on_both_backends!(health_readiness_and_metrics);
