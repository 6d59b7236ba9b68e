//! End-to-end tests in headless Chromium: each user's page driven like a person
//! would, against the real app (SQLite, demo province). Screenshots of every page
//! at phone and desktop sizes go to `target/screenshots` (see `harness::screenshot_dir`).

#[allow(dead_code)] // the offline test uses the rest (being written)
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
