//! The pages and the demo province: what a newcomer sees in the first minute.

use crate::helpers::{Backend, TestApp};
use crate::lifecycle::{assigned_request, world};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

async fn text(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

/// Demo data: three post offices, ten couriers, sixty dossiers over every status,
/// logins of every role, and work left for the dispatcher.
async fn demo_province_has_every_status(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo = Some(true)).await else {
        return;
    };
    let dispatcher = app.login("dieuphoi", "buuta-demo").await;
    for who in [
        "tongdai",
        "buuta1",
        "buuta10",
        "motcua",
        "motcua2",
        "dieuphoi3",
    ] {
        app.login(who, "buuta-demo").await;
    }
    let (_, list) = app
        .get("/api/v1/pickup-requests?limit=500", &dispatcher)
        .await;
    let all = list["items"].as_array().unwrap();
    // Sixty of today in every status, and weeks of completed history before them.
    let today = crate::lifecycle::vn_day(0).to_string();
    let (items, past): (Vec<&Value>, Vec<&Value>) = all
        .iter()
        .partition(|d| d["created_at"].as_str().unwrap().starts_with(&today));
    assert_eq!(items.len(), 60);
    assert!(past.len() >= 150, "{} past dossiers", past.len());
    assert!(past.iter().all(|d| d["status"] == "completed"), "{past:?}");
    let oldest = past
        .iter()
        .map(|d| d["created_at"].as_str().unwrap()[..10].to_owned())
        .min()
        .unwrap();
    assert!(
        oldest <= crate::lifecycle::vn_day(-35).to_string(),
        "history starts five weeks back or more: {oldest}"
    );
    // The reports show trends: a month of days with dossiers, past days' cash handed
    // over (a few days short or over), today's still to hand over.
    let (_, summary) = app.get("/api/v1/reports/summary", &dispatcher).await;
    assert!(
        summary["by_day"].as_array().unwrap().len() >= 15,
        "{summary}"
    );
    let from = crate::lifecycle::vn_day(-30);
    let admin = app.admin().await;
    let (_, cash) = app
        .get(&format!("/api/v1/reports/cash?from={from}"), &admin)
        .await;
    let count = |k: &str| cash["totals"][k].as_i64().unwrap();
    assert!(
        count("matched") >= 10 && count("short") + count("over") >= 1,
        "{}",
        cash["totals"]
    );
    assert!(count("pending") >= 1, "today's cash is not handed over yet");
    for line in cash["items"].as_array().unwrap() {
        let counted = &line["handover"]["amount_vnd"];
        assert!(counted.is_null() || counted.as_i64() >= Some(0), "{line}");
    }
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for d in &items {
        *by_status
            .entry(d["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for s in [
        "requested",
        "scheduled",
        "picked_up",
        "in_transit",
        "at_agency",
        "supplement_required",
        "result_ready",
        "out_for_delivery",
        "completed",
        "cancelled",
    ] {
        assert!(
            by_status.get(s).copied().unwrap_or(0) > 0,
            "no {s}: {by_status:?}"
        );
    }
    let (_, offices) = app.get("/api/v1/post-offices", &dispatcher).await;
    assert_eq!(
        offices["items"].as_array().map(Vec::len),
        Some(3),
        "{offices}"
    );
    let (_, couriers) = app.get("/api/v1/couriers", &dispatcher).await;
    assert_eq!(couriers.as_array().map(Vec::len), Some(10), "{couriers}");
    // A completed dossier's public timeline tells its whole story.
    let done = items.iter().find(|d| d["status"] == "completed").unwrap();
    let code = done["tracking_code"].as_str().unwrap();
    let (status, track) = app.get(&format!("/api/v1/track/{code}"), "").await;
    assert_eq!(status, 200);
    assert!(track["timeline"].as_array().unwrap().len() >= 5, "{track}");
    // The dispatcher has open requests to assign: tomorrow's (today's shifts may be
    // over by the time the test runs).
    let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(7 + 24)).date_naive();
    let (status, assigned) = app
        .post(
            "/api/v1/dispatch/auto-assign",
            &dispatcher,
            &json!({"date": tomorrow}),
        )
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert!(
        !assigned["assignments"].as_array().unwrap().is_empty(),
        "{assigned}"
    );
}

/// `GET /api/v1/me` tells the pages who logged in.
async fn me_names_the_caller(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let w = world(&app).await;
    let (status, me) = app.get("/api/v1/me", &w.courier).await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "buuta1");
    assert_eq!(me["role"], "courier");
    assert_eq!(me["courier_id"], w.courier_id);
    let (_, me) = app.get("/api/v1/me", &w.clerk).await;
    assert_eq!(me["agency_id"], w.agency_id);
    assert_eq!(me["courier_id"], Value::Null);
    assert_eq!(app.get("/api/v1/me", "garbage").await.0, 401);
}

/// The tracking page is rendered on the server, escapes, and answers errors as pages.
async fn tracking_page_renders_the_timeline(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let w = world(&app).await;
    let (dossier, _) = assigned_request(&app, &w).await;
    let code = dossier["tracking_code"].as_str().unwrap();
    let (status, headers, html) = text(&app, &format!("/track/{}", code.to_lowercase())).await;
    assert_eq!(status, 200);
    assert!(html.contains(code), "{html}");
    assert!(html.contains("Đã lên lịch lấy hồ sơ"), "{html}");
    assert!(html.contains("Hành trình"));
    for private in [
        "Trần Thị Bình",
        "T*** T** B***",
        "0912345678",
        "Nguyễn Huệ",
        "087123456789",
    ] {
        assert!(
            !html.contains(private),
            "no personal data without the digits: {private}"
        );
    }
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    // The right last four digits show the masked name and the ward; they travel in
    // a form's body (POST), never in the address: digits in the query reveal nothing.
    assert!(html.contains("method=\"post\""), "{html}");
    let post = |digits: &'static str| {
        app.client
            .post(format!("{}/track/{code}", app.base))
            .form(&[("phone_last4", digits)])
            .send()
    };
    let html = post("5678").await.unwrap().text().await.unwrap();
    assert!(
        html.contains("T*** T** B***") && html.contains("Phường Cao Lãnh"),
        "{html}"
    );
    assert!(!html.contains("Nguyễn Huệ") && !html.contains("Trần Thị Bình"));
    let html = post("0000").await.unwrap().text().await.unwrap();
    assert!(!html.contains("T*** T** B***") && html.contains("không khớp"));
    let (_, _, html) = text(&app, &format!("/track/{code}?phone_last4=5678")).await;
    assert!(!html.contains("T*** T** B***"), "{html}");
    // The procedure is named; the pickup appointment is shown while it is ahead.
    assert!(html.contains("Cấp đổi giấy phép lái xe"), "{html}");
    assert!(html.contains("Hẹn lấy hồ sơ"), "{html}");
    // Errors are pages too, with the API's status codes, in words citizens use and
    // with the hotline.
    let (status, _, html) = text(&app, "/track/HS000000000VN").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("Mã tra cứu không đúng"), "{html}");
    assert!(html.contains("1900 54 54 81"), "{html}");
    assert!(!html.contains("số kiểm tra"), "{html}");
    let (status, _, html) = text(&app, "/track/HS999999990VN").await;
    assert!(status == 404 || status == 400, "{status}");
    assert!(html.contains("Tra cứu"));
    // The search form redirects to the code's page; markup in input is escaped.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/track?code=%20{}%20",
            app.base,
            code.to_lowercase()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/track/{code}"));
    let (_, _, html) = text(&app, "/track/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!html.contains("<script>alert"), "{html}");
}

/// A failed pickup tells the citizen why and how to book again; an assignment shows
/// once with what the courier comes for; a wrong code speaks plainly, with the hotline.
async fn public_tracking_explains_failures_and_assignments(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let w = world(&app).await;
    let (dossier, pickup) = assigned_request(&app, &w).await;
    let code = dossier["tracking_code"].as_str().unwrap();
    // Reassigned to the same courier: still one line for the citizen.
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/assign"),
            &w.dispatcher,
            &json!({"courier_id": w.courier_id}),
        )
        .await;
    assert!(s == 200 || s == 409, "{s} {v}");
    let (s, v) = app
        .post(
            &format!("/api/v1/tasks/{pickup}/events"),
            &w.courier,
            &json!({"type": "failed", "at": crate::lifecycle::now(), "reason": "not_home"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, track) = app.get(&format!("/api/v1/track/{code}"), "").await;
    assert_eq!(s, 200, "{track}");
    assert_eq!(track["procedure_name"], "Cấp đổi giấy phép lái xe");
    assert_eq!(track["hotline"], "1900 54 54 81");
    let failure = &track["last_failure"];
    assert_eq!(failure["task"], "pickup", "{track}");
    assert_eq!(failure["reason_label"], "Không có người ở nhà", "{track}");
    assert!(
        failure["next_step"]
            .as_str()
            .unwrap()
            .contains("1900 54 54 81"),
        "{track}"
    );
    let labels: Vec<&str> = track["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels
            .iter()
            .filter(|l| l.starts_with("Đã phân công bưu tá"))
            .count(),
        1,
        "{labels:?}"
    );
    assert!(labels.contains(&"Chưa lấy được hồ sơ"), "{labels:?}");
    let (_, _, html) = text(&app, &format!("/track/{code}")).await;
    assert!(html.contains("Lý do: Không có người ở nhà"), "{html}");
    assert!(html.contains("tel:1900545481"), "{html}");
    // A wrong check digit, in the API too.
    let (s, bad) = app.get("/api/v1/track/HS000000000VN", "").await;
    assert_eq!(s, 400);
    let detail = bad["detail"].as_str().unwrap();
    assert!(
        detail.contains("Mã tra cứu không đúng") && detail.contains("1900 54 54 81"),
        "{detail}"
    );
    assert!(!detail.contains("số kiểm tra"), "{detail}");
}

crate::on_both_backends!(
    demo_province_has_every_status,
    me_names_the_caller,
    tracking_page_renders_the_timeline,
    public_tracking_explains_failures_and_assignments
);

/// Every page and static file loads nothing from another host: no absolute URL in
/// HTML, JS or CSS but map deep links (opened by the user) and XML namespaces.
#[tokio::test]
async fn pages_load_nothing_from_other_hosts() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let allowed = [
        "http://www.w3.org/2000/svg",
        "https://www.google.com/maps/",
        "https://www.openstreetmap.org/",
        // Problem type identifiers quoted in the API reference's text (never fetched).
        "https://buuta.vn/problems/",
    ];
    let mut checked = 0;
    let mut queue: Vec<String> = [
        "/",
        "/docs",
        "/track",
        "/courier",
        "/operator",
        "/dispatch",
        "/desk",
        "/reports",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    queue.push("/courier/sw.js".into());
    queue.push("/courier/manifest.webmanifest".into());
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (status, headers, body) = text(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        checked += 1;
        let ctype = headers["content-type"].to_str().unwrap().to_owned();
        if ctype.starts_with("text/html") && path != "/" && path != "/docs" {
            assert!(headers.contains_key("content-security-policy"), "{path}");
        }
        // Follow every local script, stylesheet, icon and manifest reference.
        for cap in body
            .split(['"', '\'', '?'])
            .filter(|s| s.starts_with("/static/") && s.len() > "/static/".len())
        {
            queue.push(cap.to_owned());
        }
        let mut rest = body.as_str();
        while let Some(i) = rest.find("http") {
            let tail = &rest[i..];
            if tail.starts_with("http://") || tail.starts_with("https://") {
                assert!(
                    allowed.iter().any(|a| tail.starts_with(a)),
                    "{path} refers to another host: {}",
                    &tail[..tail.len().min(80)]
                );
            }
            rest = &rest[i + 4..];
        }
    }
    assert!(checked >= 15, "checked only {checked} files");
}

/// CORS is closed (no other origin may read answers) and pages refuse framing and
/// sniffing.
#[tokio::test]
async fn cors_is_closed_and_pages_carry_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let res = app
        .client
        .get(format!("{}/api/v1/track/HS000000015VN", app.base))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/pickup-requests", app.base),
        )
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!res.status().is_success(), "{}", res.status());
    assert!(res.headers().get("access-control-allow-origin").is_none());
    for page in ["/operator", "/track", "/", "/docs"] {
        let (_, headers, _) = text(&app, page).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{page}: {csp}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

/// An unknown address answers a Vietnamese 404 page to a browser and problem+json to
/// API clients (and to any path under `/api/`); browsers find a favicon.
#[tokio::test]
async fn unknown_urls_answer_a_page_to_browsers_and_problems_to_clients() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let get = |path: &str, accept: Option<&str>| {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        req.send()
    };
    let res = get("/khong-co-trang-nay", Some(browser_accept))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(res.headers().contains_key("content-security-policy"));
    let html = res.text().await.unwrap();
    assert!(html.contains("Không tìm thấy trang"), "{html}");
    assert!(html.contains("href=\"/track\""), "{html}");
    for (path, accept) in [
        ("/khong-co-trang-nay", None),
        ("/khong-co-trang-nay", Some("application/json")),
        ("/api/v1/khong-co", Some(browser_accept)),
    ] {
        let res = get(path, accept).await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path} {accept:?}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{body}");
    }
    let res = get("/favicon.ico", None).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().starts_with("<svg"));
}
