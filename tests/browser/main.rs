//! End-to-end tests in headless Chromium: each user's page driven like a person
//! would, against the real app (SQLite, demo province). Screenshots of every page
//! at phone and desktop sizes go to `target/screenshots` (see `harness::screenshot_dir`).

mod harness;

use harness::{App, Browser};

/// Phone and desktop viewports.
const PHONE: (u32, u32) = (360, 740);
const DESKTOP: (u32, u32) = (1280, 800);

/// The public pages render, with no script errors or blocked content, at both sizes.
#[tokio::test]
async fn public_pages_render_on_phone_and_desktop() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    let token = app.token("dieuphoi", "buuta-demo").await;
    let list = app
        .get("/api/v1/pickup-requests?status=at_agency&limit=1", &token)
        .await;
    let code = list["items"][0]["tracking_code"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, (w, h)) in [("phone", PHONE), ("desktop", DESKTOP)] {
        b.size(w, h).await;
        b.goto(&format!("{}/", app.base)).await;
        b.wait("ul.list a[href='/track']").await;
        b.shot(&format!("index-{name}")).await;
        b.goto(&format!("{}/track", app.base)).await;
        b.fill("#code", &code.to_lowercase()).await;
        b.click("form.track-form button[type=submit]").await;
        b.wait(".timeline li").await;
        let badge = b.wait(".status-badge").await.text().await.unwrap();
        assert_eq!(badge, "Đã nộp tại cơ quan");
        let url = b.client.current_url().await.unwrap();
        assert!(url.path().ends_with(&code), "{url}");
        b.shot(&format!("track-{name}")).await;
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "{errors:?}");
        b.goto(&format!("{}/docs", app.base)).await;
        b.wait("h1").await;
        b.shot(&format!("docs-{name}")).await;
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "{errors:?}");
    }
}

/// The username of the courier holding the dossier's open task of `kind`, and the task id.
/// A finger stroke across the signature pad.
const SIGN: &str = "const c = document.querySelector('#signature'); const r = c.getBoundingClientRect(); \
    const ev = (t, x, y) => c.dispatchEvent(new PointerEvent(t, {bubbles: true, clientX: r.left + x, clientY: r.top + y, pointerId: 1})); \
    ev('pointerdown', 20, 20); ev('pointermove', 80, 40); ev('pointermove', 140, 30); ev('pointerup', 140, 30); return true;";

async fn holder(app: &App, code: &str, kind: &str) -> (String, i64) {
    let dispatcher = app.token("dieuphoi", "buuta-demo").await;
    let admin = app.token("admin", "admin-password-1").await;
    let d = app
        .get(&format!("/api/v1/dossiers/{code}"), &dispatcher)
        .await;
    let task = d["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == kind && t["status"] != "cancelled")
        .unwrap_or_else(|| panic!("no {kind} task: {d}"))
        .clone();
    let courier_id = task["courier_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{kind} not assigned: {task}"));
    let couriers = app.get("/api/v1/couriers", &dispatcher).await;
    let user_id = couriers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == courier_id)
        .unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let users = app
        .get("/api/v1/users?role=courier&limit=500", &admin)
        .await;
    let username = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    (username, task["id"].as_i64().unwrap())
}

async fn dossier_status(app: &App, code: &str) -> String {
    let token = app.token("dieuphoi", "buuta-demo").await;
    app.get(&format!("/api/v1/dossiers/{code}"), &token).await["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Screenshots of the page now at phone and desktop sizes, then back to `keep`.
async fn shots(b: &Browser, name: &str, keep: (u32, u32)) {
    for (size, (w, h)) in [("phone", PHONE), ("desktop", DESKTOP)] {
        b.size(w, h).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        b.shot(&format!("{name}-{size}")).await;
    }
    b.size(keep.0, keep.1).await;
}

async fn assert_no_page_errors(b: &Browser, page: &str) {
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "{page}: {errors:?}");
}

/// A request goes through every user's page: the operator takes the call, the
/// dispatcher auto-assigns, the courier (on a phone) records arrival and pickup,
/// the clerk receives it, the citizen follows it.
#[tokio::test]
async fn a_request_goes_through_every_page() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;

    // Operator, on a desktop, keyboard and mouse.
    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/operator", "tongdai").await;
    b.fill("#phone", "0987654321").await;
    b.fill("#full_name", "Phạm Thị Hoa").await;
    b.until(
        "the phone was looked up",
        "document.querySelector('#citizen-status[data-state=new]')",
    )
    .await;
    b.fill("#ward", "cao lanh").await;
    b.click("#ward-list [role=option][data-code='29869']").await;
    b.fill("#street", "45 Lý Thường Kiệt").await;
    b.js("document.querySelector('#pin-details').open = true; return true;")
        .await;
    b.fill("#lat", "10.4780").await;
    b.fill("#lon", "105.6300").await;
    b.fill("#procedure", "giay phep lai xe").await;
    b.click("#procedure-list [role=option][data-code='1.001193']")
        .await;
    b.wait("#agency option[value='1']").await;
    b.wait("#agency").await.select_by_value("1").await.unwrap();
    b.until(
        "the fee quote",
        "document.querySelector('#fee-total')?.textContent.includes('₫')",
    )
    .await;
    // Tomorrow morning: couriers have room then at any hour the test runs.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    b.js(&format!(
        "const d = document.querySelector('#pickup-date'); d.value = '{tomorrow}'; \
         d.dispatchEvent(new Event('change', {{bubbles: true}})); \
         document.querySelector('.slots .slot[data-slot]').click(); return true;"
    ))
    .await;
    shots(&b, "operator-form", DESKTOP).await;
    b.click("#submit").await;
    let code = b
        .wait("#tracking-code")
        .await
        .text()
        .await
        .unwrap()
        .trim()
        .to_owned();
    assert!(code.starts_with("HS") && code.ends_with("VN"), "{code}");
    assert_eq!(dossier_status(&app, &code).await, "requested");
    shots(&b, "operator-done", DESKTOP).await;
    assert_no_page_errors(&b, "operator").await;

    // Dispatcher runs auto-assign.
    b.login(&app.base, "/dispatch", "dieuphoi").await;
    b.wait("#map").await;
    b.js(&format!(
        "const d = document.querySelector('#date'); d.value = '{tomorrow}'; \
         d.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    ))
    .await;
    b.click("#auto-assign").await;
    b.until(
        "auto-assign finished",
        "document.querySelector('#auto-result')?.textContent.length > 0",
    )
    .await;
    let result = b
        .js("return document.querySelector('#auto-result').textContent;")
        .await;
    assert_eq!(dossier_status(&app, &code).await, "scheduled", "{result}");
    shots(&b, "dispatch", DESKTOP).await;
    assert_no_page_errors(&b, "dispatch").await;

    // The dispatcher's reports: figures and charts of the demo province.
    b.click("#reports-link").await;
    b.wait("#summary[data-state=ready]").await;
    b.until(
        "the charts loaded",
        "document.querySelectorAll('#charts img[src^=\"blob:\"]').length === 3",
    )
    .await;
    shots(&b, "reports", DESKTOP).await;
    assert_no_page_errors(&b, "reports").await;

    // The courier, on a phone, records arrival and pickup.
    let (courier, pickup) = holder(&app, &code, "pickup").await;
    b.size(PHONE.0, PHONE.1).await;
    b.login(&app.base, "/courier", &courier).await;
    b.click(&format!("[data-date='{tomorrow}']")).await;
    shots(&b, "courier-route", PHONE).await;
    b.click(&format!("[data-task-id='{pickup}']")).await;
    // The whole registered name: the result goes to this person only.
    b.until(
        "the citizen's full name",
        "document.querySelector('.citizen')?.textContent.trim().split(/\\s+/).length > 1",
    )
    .await;
    b.click("[data-action=arrived]").await;
    b.click("#submit-action").await;
    b.until(
        "arrival sent",
        "document.querySelector('#outbox-count')?.textContent.trim() === '0'",
    )
    .await;
    b.click("[data-action=picked_up]").await;
    b.js("document.querySelectorAll('input[name=\"checked-docs\"], #proof-docs input[type=checkbox]').forEach(c => { if (!c.checked) c.click(); }); return true;").await;
    b.fill("#seal-number", "NB778899").await;
    // No SMS gateway here: the citizen signs on the screen.
    b.js(SIGN).await;
    shots(&b, "courier-pickup-form", PHONE).await;
    b.click("#submit-action").await;
    b.until(
        "pickup sent",
        "document.querySelector('#outbox-count')?.textContent.trim() === '0'",
    )
    .await;
    let mut status = String::new();
    for _ in 0..50 {
        status = dossier_status(&app, &code).await;
        if status == "picked_up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, "picked_up");
    shots(&b, "courier-after-pickup", PHONE).await;
    assert_no_page_errors(&b, "courier").await;

    // The clerk receives it at the desk (a scanner types the code and Enter).
    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/desk", "motcua").await;
    b.fill("#scan", &format!("{code}\u{E007}")).await;
    b.wait(&format!("#dossier[data-tracking-code='{code}']"))
        .await;
    b.click("#check-all-docs").await;
    b.fill("#agency-dossier-code", "000.00.82.H12345").await;
    shots(&b, "desk", DESKTOP).await;
    b.click("#receive").await;
    b.wait("#dossier-status[data-status=at_agency]").await;
    assert_eq!(dossier_status(&app, &code).await, "at_agency");
    assert_no_page_errors(&b, "desk").await;

    // The citizen follows it on the tracking page.
    b.size(PHONE.0, PHONE.1).await;
    b.goto(&format!("{}/track/{code}", app.base)).await;
    let badge = b.wait(".status-badge").await.text().await.unwrap();
    assert_eq!(badge, "Đã nộp tại cơ quan");
    let steps = b
        .js("return document.querySelectorAll('.timeline li').length;")
        .await;
    assert!(steps.as_u64().unwrap() >= 4, "{steps}");
    shots(&b, "track-after-receive", PHONE).await;
}

/// The courier keeps working with no network: two actions wait as "chờ gửi", survive
/// a reload from the service worker's cache, and reach the server exactly once and
/// in order when it is back.
#[tokio::test]
async fn courier_works_offline_and_replays_in_order() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let mut app = App::start().await;
    let dispatcher = app.token("dieuphoi", "buuta-demo").await;
    let list = app
        .get(
            "/api/v1/pickup-requests?status=scheduled&limit=100",
            &dispatcher,
        )
        .await;
    let code = list["items"][0]["tracking_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (courier, pickup) = holder(&app, &code, "pickup").await;

    b.size(PHONE.0, PHONE.1).await;
    b.login(&app.base, "/courier", &courier).await;
    b.wait(&format!("[data-task-id='{pickup}']")).await;
    // The service worker takes control (a reload makes sure it serves this page).
    b.until("service worker ready", "navigator.serviceWorker && navigator.serviceWorker.controller !== null || (location.reload(), false)").await;
    b.wait(&format!("[data-task-id='{pickup}']")).await;

    app.stop().await;
    b.click(&format!("[data-task-id='{pickup}']")).await;
    b.click("[data-action=arrived]").await;
    b.click("#submit-action").await;
    b.until(
        "one pending",
        "document.querySelector('#outbox-count')?.textContent.trim() === '1'",
    )
    .await;
    b.click("[data-action=picked_up]").await;
    b.js("document.querySelectorAll('input[name=\"checked-docs\"], #proof-docs input[type=checkbox]').forEach(c => { if (!c.checked) c.click(); }); return true;").await;
    b.fill("#seal-number", "NB001122").await;
    b.js(SIGN).await;
    b.click("#submit-action").await;
    b.until(
        "two pending",
        "document.querySelector('#outbox-count')?.textContent.trim() === '2'",
    )
    .await;
    b.wait(".badge.pending").await;
    shots(&b, "courier-offline", PHONE).await;

    // A reload with no server: the page comes from the cache, the queue from IndexedDB.
    b.goto(&format!("{}/courier", app.base)).await;
    b.until(
        "still two pending after reload",
        "document.querySelector('#outbox-count')?.textContent.trim() === '2'",
    )
    .await;
    let down = reqwest::get(format!("{}/healthz", app.base)).await;
    assert!(down.is_err(), "the server is down");

    app.restart().await;
    b.until_long(
        "the queue drained",
        "document.querySelector('#outbox-count')?.textContent.trim() === '0'",
    )
    .await;
    let dispatcher = app.token("dieuphoi", "buuta-demo").await;
    let d = app
        .get(&format!("/api/v1/dossiers/{code}"), &dispatcher)
        .await;
    assert_eq!(d["status"], "picked_up", "{d}");
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["task_id"] == pickup)
        .filter_map(|e| e["type"].as_str().or(e["kind"].as_str()))
        .filter(|k| matches!(*k, "arrived" | "picked_up"))
        .collect();
    assert_eq!(kinds, ["arrived", "picked_up"], "{d}");
    shots(&b, "courier-back-online", PHONE).await;
    assert_no_page_errors(&b, "courier offline").await;
}
