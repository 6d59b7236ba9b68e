//! End-to-end tests in headless Chromium: each user's page driven like a person
//! would, against the real app (SQLite, demo province). Screenshots of every page
//! at phone and desktop sizes go to `target/screenshots` (see `harness::screenshot_dir`).

mod harness;

use harness::{App, Browser};

/// The calendar day `days_ahead` from today in Vietnam (UTC+7).
fn vn_day(days_ahead: i64) -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7) + chrono::Duration::days(days_ahead))
        .date_naive()
}

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
    let tomorrow = vn_day(1).format("%Y-%m-%d");
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
    // Kept on the phone is not a success: the notice is a warning, not green.
    b.until(
        "the offline warning",
        "document.querySelector('#toast.show.warn')?.textContent.includes('sẽ tự gửi khi có mạng')",
    )
    .await;
    let colour = b
        .js("return getComputedStyle(document.querySelector('#toast')).backgroundColor;")
        .await;
    assert_eq!(colour, "rgb(255, 213, 79)", "offline notice colour");
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

/// The tracking page tells a citizen what comes next: the procedure, how and when the
/// result comes back once it is ready (not the old pickup appointment), the phone
/// digits never in the address, and a wrong code in plain words with the hotline.
#[tokio::test]
async fn tracking_page_tells_citizens_what_comes_next() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    let token = app.token("tongdai", "buuta-demo").await;
    let list = app
        .get(
            "/api/v1/pickup-requests?status=result_ready&limit=100",
            &token,
        )
        .await;
    let mut home = None;
    for item in list["items"].as_array().unwrap() {
        let code = item["tracking_code"].as_str().unwrap();
        let d = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
        if d["return_method"] == "home" && d["service"] != "send" {
            home = Some(d);
            break;
        }
    }
    let d = home.expect("a ready result going home in the demo");
    let code = d["tracking_code"].as_str().unwrap().to_owned();
    let phone = d["citizen"]["phone"].as_str().unwrap().to_owned();
    let last4 = &phone[phone.len() - 4..];
    b.size(PHONE.0, PHONE.1).await;
    b.goto(&format!("{}/track/{code}", app.base)).await;
    b.wait("#return-when").await;
    let shown = b
        .js("return [!!document.querySelector('#pickup-when'), document.querySelector('#procedure-name')?.textContent || ''];")
        .await;
    assert_eq!(
        shown[0], false,
        "no pickup appointment once the result is ready"
    );
    assert!(!shown[1].as_str().unwrap().is_empty(), "procedure named");
    b.fill("#phone_last4", last4).await;
    b.click("form.phone-form button[type=submit]").await;
    b.until(
        "the masked name",
        "[...document.querySelectorAll('.facts dd')].some(d => d.textContent.includes('*'))",
    )
    .await;
    let url = b.client.current_url().await.unwrap().to_string();
    assert!(
        !url.contains(last4) && !url.contains("phone"),
        "digits stay out of the address: {url}"
    );
    shots(&b, "track-result-ready", PHONE).await;
    assert_no_page_errors(&b, "track").await;
    // A mistyped code (wrong check digit).
    b.goto(&format!("{}/track", app.base)).await;
    b.fill("#code", "HS000000000VN").await;
    b.click("form.track-form button[type=submit]").await;
    let alert = b.wait("p.error[role=alert]").await.text().await.unwrap();
    assert!(alert.contains("Mã tra cứu không đúng"), "{alert}");
    let body = b.js("return document.body.innerText;").await;
    assert!(body.as_str().unwrap().contains("1900 54 54 81"), "{body}");
    assert!(!body.as_str().unwrap().contains("số kiểm tra"), "{body}");
    shots(&b, "track-wrong-code", PHONE).await;
    // An unknown address in a browser is a page, not JSON.
    b.goto(&format!("{}/khong-co-trang-nay", app.base)).await;
    let h1 = b.wait("#not-found h1").await.text().await.unwrap();
    assert_eq!(h1, "Không tìm thấy trang");
    shots(&b, "not-found", PHONE).await;
}

/// The operator's console by keyboard: ↓ then Enter takes the first ward suggestion
/// and a second Enter moves on; an edited field loses its old error and a new submit
/// shows only what is still wrong; a past day is flagged; a return-only request titles
/// its address for the return; the confirmation repeats the address and the documents.
#[tokio::test]
async fn operator_console_keyboard_errors_and_confirmation() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/operator", "tongdai").await;
    b.fill("#phone", "0987654000").await;
    b.fill("#full_name", "Lê Văn Tám").await;
    // The ward list opens with nothing highlighted; ↓ highlights the first.
    b.fill("#ward", "my tho").await;
    b.until(
        "ward suggestions",
        "document.querySelectorAll('#ward-list [role=option]').length > 1",
    )
    .await;
    let first = b
        .js("return document.querySelector('#ward-list [role=option]').dataset.code;")
        .await;
    let first_name = b
        .js("return document.querySelector('#ward-list [role=option] .opt-main').textContent;")
        .await;
    let first_name = first_name.as_str().unwrap().to_owned();
    let ward = b.wait("#ward").await;
    ward.send_keys("\u{E015}").await.unwrap(); // ↓
    ward.send_keys("\u{E007}").await.unwrap(); // Enter
    let chosen = b
        .until(
            "a ward chosen",
            "document.querySelector('#ward').dataset.wardCode",
        )
        .await;
    assert_eq!(chosen, first, "↓ then Enter takes the first suggestion");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    b.wait("#ward").await.send_keys("\u{E007}").await.unwrap();
    b.until(
        "Enter moved on",
        "document.activeElement && document.activeElement.id === 'street'",
    )
    .await;
    // Submit with the street and procedure missing: errors beside those fields.
    b.click("#submit").await;
    b.wait("[data-field='address.street'][aria-invalid=true]")
        .await;
    let before = b
        .js("return document.querySelectorAll('#intake-form .field .field-error').length;")
        .await;
    assert!(before.as_u64().unwrap() >= 2, "{before}");
    b.fill("#street", "12 Ấp Bắc").await;
    let street_errors = b
        .js("return document.querySelector('#street').closest('.field').querySelectorAll('.field-error').length;")
        .await;
    assert_eq!(street_errors, 0, "the edited field's error is gone");
    b.click("#submit").await;
    b.wait("[data-field='procedure_code'][aria-invalid=true]")
        .await;
    let per_field = b
        .js("return Math.max(...[...document.querySelectorAll('#intake-form .field')].map(f => f.querySelectorAll(':scope > .field-error, :scope .field-error').length));")
        .await;
    assert_eq!(per_field, 1, "one error per field, never old beside new");
    let street_errors = b
        .js("return document.querySelector('#street').closest('.field').querySelectorAll('.field-error').length;")
        .await;
    assert_eq!(street_errors, 0);
    // A past day is flagged at once.
    let yesterday = vn_day(-2).format("%Y-%m-%d");
    b.js(&format!(
        "const d = document.querySelector('#pickup-date'); d.value = '{yesterday}'; \
         d.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    ))
    .await;
    let hint = b
        .wait("#pickup-day-hint[data-state=past]")
        .await
        .text()
        .await
        .unwrap();
    assert!(hint.contains("đã qua"), "{hint}");
    // Return only: the address is where the result goes.
    b.wait("#service")
        .await
        .select_by_value("return")
        .await
        .unwrap();
    let title = b.wait("#h-address").await.text().await.unwrap();
    assert_eq!(title, "2. Địa chỉ trả kết quả");
    b.wait("#service")
        .await
        .select_by_value("both")
        .await
        .unwrap();
    // Finish the request; the confirmation repeats the address and the documents.
    b.fill("#procedure", "giay phep lai xe").await;
    b.click("#procedure-list [role=option][data-code='1.001193']")
        .await;
    b.wait("#agency option[value='1']").await;
    b.wait("#agency").await.select_by_value("1").await.unwrap();
    let tomorrow = vn_day(1).format("%Y-%m-%d");
    b.js(&format!(
        "const d = document.querySelector('#pickup-date'); d.value = '{tomorrow}'; \
         d.dispatchEvent(new Event('change', {{bubbles: true}})); \
         document.querySelector('.slots .slot[data-slot]').click(); return true;"
    ))
    .await;
    shots(&b, "operator-errors", DESKTOP).await;
    b.click("#submit").await;
    let address = b.wait("#result-address").await.text().await.unwrap();
    assert!(
        address.contains("12 Ấp Bắc") && address.contains(&first_name),
        "{address}"
    );
    let docs = b
        .js("return document.querySelectorAll('#result-documents li').length;")
        .await;
    assert!(docs.as_u64().unwrap() >= 1, "{docs}");
    shots(&b, "operator-confirmation", DESKTOP).await;
    assert_no_page_errors(&b, "operator").await;
}

/// Records a failed pickup of `code` as its courier would (through the API).
async fn fail_pickup(app: &App, code: &str, reason: &str) -> i64 {
    let (courier, pickup) = holder(app, code, "pickup").await;
    let token = app.token(&courier, "buuta-demo").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/tasks/{pickup}/events", app.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", format!("fail-{pickup}"))
        .json(&serde_json::json!({"type": "failed", "at": chrono::Utc::now().to_rfc3339(), "reason": reason}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    pickup
}

/// The operator finds a dossier by phone or code, sees the failed attempt, books a
/// new time, and cancels another request (with a second press to confirm).
#[tokio::test]
async fn operator_finds_reschedules_and_cancels() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    let token = app.token("tongdai", "buuta-demo").await;
    let list = app
        .get("/api/v1/pickup-requests?status=scheduled&limit=100", &token)
        .await;
    let items = list["items"].as_array().unwrap();
    let code = items[0]["tracking_code"].as_str().unwrap().to_owned();
    let other = items[1]["tracking_code"].as_str().unwrap().to_owned();
    fail_pickup(&app, &code, "not_home").await;
    let d = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
    let phone = d["citizen"]["phone"].as_str().unwrap().to_owned();

    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/operator", "tongdai").await;
    // By phone: the citizen's dossiers (one opens at once, several are listed).
    b.fill("#find-q", &format!("{phone}\u{E007}")).await;
    b.until(
        "found by phone",
        &format!("document.querySelector('#found[data-tracking-code=\"{code}\"]') || document.querySelector('#find-result [data-tracking-code=\"{code}\"]')"),
    )
    .await;
    // By code, spaces and lower case allowed.
    b.fill("#find-q", &format!("{}\u{E007}", code.to_lowercase()))
        .await;
    b.wait(&format!("#found[data-tracking-code='{code}']"))
        .await;
    let failure = b.wait("#found-failure").await.text().await.unwrap();
    assert!(failure.contains("Không có người ở nhà"), "{failure}");
    let day = vn_day(3).format("%Y-%m-%d");
    b.js(&format!(
        "document.querySelector('#resched-date').value = '{day}'; \
         document.querySelector('#resched-from').value = '13:30'; \
         document.querySelector('#resched-to').value = '17:00'; return true;"
    ))
    .await;
    shots(&b, "operator-find", DESKTOP).await;
    b.click("#reschedule").await;
    b.until(
        "the new window shown",
        "document.querySelector('#found-window')?.textContent.startsWith('13:30')",
    )
    .await;
    let d = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
    let last = d["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "rescheduled", "{d}");
    assert!(
        d["pickup_window"]["from"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{day}T13:30")),
        "{d}"
    );
    // The failure is answered by the new time: no longer shown as open.
    assert_eq!(
        b.js("return !!document.querySelector('#found-failure');")
            .await,
        false
    );
    // Cancel another one: a reason, then a second press.
    b.js("window.scrollTo(0, 0); return true;").await;
    b.fill("#find-q", &format!("{other}\u{E007}")).await;
    b.wait(&format!("#found[data-tracking-code='{other}']"))
        .await;
    b.fill("#cancel-reason", "Người dân đã tự nộp hồ sơ").await;
    b.click("#cancel-dossier").await;
    let armed = b.wait("#cancel-dossier").await.text().await.unwrap();
    assert!(armed.contains("xác nhận"), "{armed}");
    assert_eq!(dossier_status(&app, &other).await, "scheduled");
    b.click("#cancel-dossier").await;
    b.wait("#found-status[data-status=cancelled]").await;
    assert_eq!(dossier_status(&app, &other).await, "cancelled");
    assert_no_page_errors(&b, "operator find").await;
}

/// The desk keeps dossiers still with a courier apart from those at the counter,
/// fills the page with the lists when nothing is open, and asks before recording a
/// result (a refusal needs its reason).
#[tokio::test]
async fn desk_separates_lists_and_confirms_results() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/desk", "motcua").await;
    b.until(
        "the lists loaded",
        "document.querySelector('#incoming-count')?.textContent !== '…' && document.querySelector('#with-courier-count')?.textContent !== '…'",
    )
    .await;
    let statuses = b
        .js("return [[...document.querySelectorAll('#with-courier-list li[data-status]')].map(l => l.dataset.status), \
             [...document.querySelectorAll('#incoming-list li[data-status]')].map(l => l.dataset.status)];")
        .await;
    for s in statuses[0].as_array().unwrap() {
        assert!(
            matches!(s.as_str(), Some("picked_up" | "in_transit")),
            "{statuses}"
        );
    }
    let at_desk = statuses[1].as_array().unwrap();
    assert!(!at_desk.is_empty(), "{statuses}");
    for s in at_desk {
        assert!(
            matches!(
                s.as_str(),
                Some("at_agency" | "supplement_required" | "requested")
            ),
            "{statuses}"
        );
    }
    let side = b
        .js("return document.querySelector('.desk-side').getBoundingClientRect().width;")
        .await;
    assert!(side.as_f64().unwrap() > 900.0, "lists use the page: {side}");
    shots(&b, "desk-idle", DESKTOP).await;
    let code = b
        .js("return document.querySelector('#incoming-list li[data-status=at_agency]').dataset.trackingCode;")
        .await;
    let code = code.as_str().unwrap().to_owned();
    b.click(&format!(
        "#incoming-list li[data-tracking-code='{code}'] button"
    ))
    .await;
    b.wait(&format!("#dossier[data-tracking-code='{code}']"))
        .await;
    b.click("#outcome-rejected").await;
    b.click("#result-ready").await;
    b.wait("[data-field=note][aria-invalid=true]").await;
    b.fill("#result-note", "Thiếu xác nhận của địa phương")
        .await;
    b.click("#result-ready").await;
    let confirm = b
        .wait("#result-confirm:not([hidden])")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        confirm.contains("TỪ CHỐI") && confirm.contains(&code),
        "{confirm}"
    );
    shots(&b, "desk-confirm-refusal", DESKTOP).await;
    assert_eq!(dossier_status(&app, &code).await, "at_agency");
    b.click("#cancel-result-ready").await;
    assert_eq!(
        b.js("return document.querySelector('#result-confirm').hidden;")
            .await,
        true
    );
    b.click("#result-ready").await;
    b.click("#confirm-result-ready").await;
    b.wait("#dossier-status[data-status=result_ready]").await;
    let token = app.token("dieuphoi", "buuta-demo").await;
    let d = app.get(&format!("/api/v1/dossiers/{code}"), &token).await;
    assert_eq!(d["outcome"], "rejected", "{d}");
    assert_no_page_errors(&b, "desk").await;
}

/// Creates a pickup request for tomorrow morning through the API and lets the
/// dispatcher's auto-assignment give it to a courier; returns its tracking code.
async fn request_for_tomorrow(app: &App, phone: &str) -> String {
    let operator = app.token("tongdai", "buuta-demo").await;
    let dispatcher = app.token("dieuphoi", "buuta-demo").await;
    let day = vn_day(1).format("%Y-%m-%d");
    let client = reqwest::Client::new();
    let d: serde_json::Value = client
        .post(format!("{}/api/v1/pickup-requests", app.base))
        .bearer_auth(&operator)
        .json(&serde_json::json!({
            "citizen": {"full_name": "Đỗ Thị Mai", "phone": phone},
            "address": {"ward_code": "29869", "street": "45 Lý Thường Kiệt", "lat": 10.478, "lon": 105.63},
            "procedure_code": "1.001193", "agency_id": 1, "service": "both", "return_method": "home",
            "pickup_window": {"from": format!("{day}T08:00:00+07:00"), "to": format!("{day}T11:00:00+07:00")}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = d["tracking_code"].as_str().expect("created").to_owned();
    let res = client
        .post(format!("{}/api/v1/dispatch/auto-assign", app.base))
        .bearer_auth(&dispatcher)
        .json(&serde_json::json!({"date": day.to_string()}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    code
}

/// The courier: a pickup ends on a receipt to show the citizen; a failed pickup says
/// so (not "Đã phân công") and its drop-off leaves the route until a new time is booked.
#[tokio::test]
async fn courier_receipt_and_failed_stop() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    let failing = request_for_tomorrow(&app, "0911000111").await;
    let (courier, pickup) = holder(&app, &failing, "pickup").await;
    let (_, dropoff) = holder(&app, &failing, "dropoff").await;
    let tomorrow = vn_day(1).format("%Y-%m-%d");
    b.size(PHONE.0, PHONE.1).await;
    b.login(&app.base, "/courier", &courier).await;
    b.click(&format!("[data-date='{tomorrow}']")).await;
    b.wait(&format!("[data-task-id='{dropoff}']")).await;
    b.click(&format!("[data-task-id='{pickup}'] a.stop-link"))
        .await;
    b.click("[data-action=failed]").await;
    b.wait("#fail-reason")
        .await
        .select_by_value("not_home")
        .await
        .unwrap();
    b.fill("#note", "Gọi hai lần không nghe máy").await;
    b.click("#submit-action").await;
    b.until(
        "failure sent",
        "document.querySelector('#outbox-count')?.textContent.trim() === '0'",
    )
    .await;
    b.until(
        "the list shows the failure",
        &format!("document.querySelector(\"li[data-task-id='{pickup}'][data-status=failed]\")"),
    )
    .await;
    let badge = b
        .wait(&format!("li[data-task-id='{pickup}'] .badge.status"))
        .await
        .text()
        .await
        .unwrap();
    assert!(badge.contains("Không thành công"), "{badge}");
    assert!(!badge.contains("Đã phân công"), "{badge}");
    let dropoff_shown = b
        .js(&format!(
            "return !!document.querySelector(\"li[data-task-id='{dropoff}']\");"
        ))
        .await;
    assert_eq!(dropoff_shown, false, "the drop-off waits off the route");
    b.wait("#hidden-dropoffs").await;
    shots(&b, "courier-failed", PHONE).await;

    // A pickup that works ends on the receipt.
    let ok = request_for_tomorrow(&app, "0911000222").await;
    let (courier2, pickup2) = holder(&app, &ok, "pickup").await;
    if courier2 != courier {
        b.login(&app.base, "/courier", &courier2).await;
        b.click(&format!("[data-date='{tomorrow}']")).await;
    } else {
        b.click("[aria-label='Tải lại tuyến']").await;
    }
    b.click(&format!("[data-task-id='{pickup2}'] a.stop-link"))
        .await;
    b.click("[data-action=picked_up]").await;
    b.js("document.querySelectorAll('input[name=\"checked-docs\"]').forEach(c => { if (!c.checked) c.click(); }); return true;").await;
    b.fill("#seal-number", "NB445566").await;
    b.js(SIGN).await;
    b.click("#submit-action").await;
    let receipt = b
        .wait(&format!("#pickup-receipt[data-tracking-code='{ok}']"))
        .await;
    let text = receipt.text().await.unwrap();
    assert!(text.contains(&ok) && text.contains("NB445566"), "{text}");
    let docs = b
        .js("return document.querySelectorAll('#receipt-docs li').length;")
        .await;
    assert!(docs.as_u64().unwrap() >= 1, "{docs}");
    b.until(
        "pickup sent",
        "document.querySelector('#outbox-count')?.textContent.trim() === '0'",
    )
    .await;
    shots(&b, "courier-receipt", PHONE).await;
    b.click("#receipt-done").await;
    b.wait("#stops").await;
    assert_no_page_errors(&b, "courier").await;
}

/// The dispatcher reconciles a courier's day on the reports page: what was due, what
/// the courier recorded, the cashier's count in a dialog (a blank cashier is refused
/// and records nothing), the short line shown at once, the CSV downloaded.
#[tokio::test]
async fn reports_reconcile_cash_and_record_the_handover() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = App::start().await;
    let token = app.token("dieuphoi", "buuta-demo").await;
    b.size(DESKTOP.0, DESKTOP.1).await;
    b.login(&app.base, "/reports", "dieuphoi").await;
    b.wait("#cash[data-state=ready]").await;
    b.wait("#summary[data-state=ready]").await;
    let spread = b
        .js("const p = document.querySelector('#load-spread'); return [Number(p.dataset.days), p.textContent];")
        .await;
    assert!(spread[0].as_i64().unwrap() > 0, "{spread}");
    assert!(spread[1].as_str().unwrap().contains("lần"), "{spread}");
    // Dates read and are typed day/month/year whatever the browser's language.
    let shown = b
        .js("return [document.querySelector('#from-text').value, document.querySelector('label[for=from-text]')?.textContent];")
        .await;
    assert_eq!(
        shown[0],
        vn_day(-29).format("%d/%m/%Y").to_string(),
        "{shown}"
    );
    assert_eq!(shown[1], "Từ ngày");
    let from = vn_day(-6);
    b.js("document.querySelector('#from-text').value = ''; return true;")
        .await;
    b.fill("#from-text", &from.format("%d%m%Y").to_string())
        .await;
    assert_eq!(
        b.js("return [document.querySelector('#from-text').value, document.querySelector('#from').value];")
            .await,
        serde_json::json!([from.format("%d/%m/%Y").to_string(), from.to_string()]),
        "typed digits get their slashes and set the date"
    );
    b.click("#apply").await;
    b.until(
        "the period applied",
        &format!("location.search.includes('from={from}') && document.querySelector('#cash').dataset.state === 'ready'"),
    )
    .await;
    let today = vn_day(0).to_string();
    let row = b
        .js(&format!(
            "const r = document.querySelector('#cash-lines tr[data-status=pending][data-day=\"{today}\"]'); \
             return r && [r.dataset.courierId, r.querySelector('.expected').dataset.value, r.querySelector('.collected').dataset.value];"
        ))
        .await;
    let row = row
        .as_array()
        .unwrap_or_else(|| panic!("a pending day today: {row}"));
    let courier: i64 = row[0].as_str().unwrap().parse().unwrap();
    let expected: i64 = row[1].as_str().unwrap().parse().unwrap();
    let collected: i64 = row[2].as_str().unwrap().parse().unwrap();
    assert!(expected > 0 && collected > 0, "{row:?}");
    shots(&b, "reports-cash", DESKTOP).await;

    let sel = format!("#cash-lines tr[data-courier-id='{courier}'][data-day='{today}']");
    b.click(&format!("{sel} button.record-handover")).await;
    b.wait("#handover-dialog[open]").await;
    let prefilled = b
        .js("return document.querySelector('#handover-amount').value;")
        .await;
    assert_eq!(prefilled, collected.to_string());
    // No cashier: refused beside the field, nothing recorded.
    b.click("#handover-save").await;
    b.wait("[data-field=cashier_name][aria-invalid=true]").await;
    let cash = |v: &serde_json::Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["courier_id"] == courier && l["day"] == today.as_str())
            .cloned()
            .unwrap()
    };
    let before = app.get("/api/v1/reports/cash", &token).await;
    assert!(cash(&before)["handover"].is_null(), "{before}");

    let counted = collected - 5_000;
    b.js(&format!(
        "const a = document.querySelector('#handover-amount'); a.value = '{counted}'; \
         a.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
    ))
    .await;
    b.fill("#handover-cashier", "Lê Thu Ngân").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#handover-form .field-error').length;")
            .await,
        0,
        "the old error goes once the field is filled"
    );
    b.fill("#handover-note", "Thiếu 5.000 đồng, bưu tá nộp bù ngày mai")
        .await;
    shots(&b, "reports-cash-handover", DESKTOP).await;
    b.click("#handover-save").await;
    b.wait(&format!("{sel}[data-status=short]")).await;
    let gap = b
        .js(&format!(
            "return document.querySelector(\"{sel} .gap\").dataset.value;"
        ))
        .await;
    assert_eq!(gap, (counted - expected).to_string());
    assert_eq!(
        b.js("return !!document.querySelector('#handover-dialog');")
            .await,
        false,
        "the dialog closed"
    );
    let after = app.get("/api/v1/reports/cash", &token).await;
    let line = cash(&after);
    assert_eq!(line["handover"]["amount_vnd"], counted, "{line}");
    assert_eq!(line["handover"]["cashier_name"], "Lê Thu Ngân");
    assert_eq!(line["status"], "short");
    assert_eq!(
        b.js(&format!(
            "return document.querySelectorAll(\"{sel} button.record-handover\").length;"
        ))
        .await,
        0,
        "recorded once: no second button"
    );

    b.click("#cash-csv").await;
    b.until(
        "the CSV saved",
        "document.querySelector('#toast')?.textContent.includes('CSV đối soát')",
    )
    .await;
    shots(&b, "reports-cash-recorded", DESKTOP).await;
    assert_no_page_errors(&b, "reports cash").await;
}
