//! The OpenAPI document and the router must list the same operations.

use crate::helpers::{Backend, TestApp};
use buuta::routes::{all_routes, docs};
use reqwest::Method;
use std::collections::BTreeSet;

fn spec_operations() -> BTreeSet<(String, String)> {
    let spec = docs::spec();
    let paths = spec["paths"].as_object().expect("spec has paths");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_served_route_is_in_the_spec_and_vice_versa() {
    let served: BTreeSet<(String, String)> = all_routes().list().into_iter().collect();
    let spec = spec_operations();
    let missing_from_spec: Vec<_> = served.difference(&spec).collect();
    let not_served: Vec<_> = spec.difference(&served).collect();
    assert!(
        missing_from_spec.is_empty() && not_served.is_empty(),
        "served but not in api-spec/openapi.yaml: {missing_from_spec:?}\nin the spec but not served: {not_served:?}"
    );
}

#[test]
fn spec_is_openapi_3_1() {
    assert_eq!(docs::spec()["openapi"], "3.1.0");
}

#[tokio::test]
async fn docs_page_renders_the_spec_offline() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let res = app.send(Method::GET, "/docs", None, None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("/api/v1/auth/login"));
    assert!(
        !html.contains("http://") || !html.contains("<script src"),
        "no external scripts"
    );
    assert!(!html.contains("<script"), "the reference needs no script");
    // A real reference: a table of contents, Markdown rendered (no raw backticks),
    // shared answers resolved to their descriptions, schemas with their fields.
    assert!(html.contains("<nav class=\"toc\""), "table of contents");
    assert!(
        html.contains("href=\"#op-trackDossier\""),
        "TOC links operations"
    );
    assert!(
        html.contains("href=\"#schema-PublicTracking\""),
        "TOC links schemas"
    );
    assert!(!html.contains('`'), "Markdown is rendered, not shown raw");
    assert!(
        !html.contains(" ; "),
        "answers are described, not listed bare"
    );
    let spec: serde_json::Value =
        serde_yaml::from_str(include_str!("../../api-spec/openapi.yaml")).unwrap();
    let invalid = spec["components"]["responses"]["InvalidTrackingCode"]["description"]
        .as_str()
        .unwrap();
    let first_words: String = invalid.split('`').next().unwrap().trim().to_owned();
    assert!(!first_words.is_empty());
    let op = &html[html
        .find("id=\"op-trackDossier\"")
        .expect("operation anchor")..];
    let op = &op[..op[1..]
        .find("<section class=\"op\"")
        .map_or(op.len(), |i| i + 1)];
    assert!(op.contains(&first_words), "400 says why: {first_words}");
    assert!(op.contains("<code>phone_last4</code>"), "{op}");
    assert!(op.contains("Không cần đăng nhập"), "who may call it");
    let schema = &html[html.find("id=\"schema-PublicTracking\"").expect("schema")..];
    assert!(schema.contains("<code>tracking_code</code>") && schema.contains("bắt buộc"));
    // Who may call what comes from the access table.
    let cancel = &html[html.find("id=\"op-cancelDossier\"").unwrap()..];
    assert!(cancel[..2000.min(cancel.len())].contains("<code>operator</code>"));
    let res = app
        .send(Method::GET, "/api-spec/openapi.yaml", None, None)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("openapi: 3.1.0"));
}
