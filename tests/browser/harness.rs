//! Browser test plumbing: the real app on a port we can stop and restart, Debian's
//! chromedriver driving headless Chromium, screenshots to a folder.

use buuta::config::Settings;
use buuta::startup::Application;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long to wait for something to appear on a page.
pub const WAIT: Duration = Duration::from_secs(15);

/// The app under test: SQLite in a temporary folder, the demo province loaded.
pub struct App {
    pub base: String,
    pub port: u16,
    settings: Settings,
    handle: Option<actix_web::dev::ServerHandle>,
    _dir: tempfile::TempDir,
}

impl App {
    pub async fn start() -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings =
            Settings::for_database(&format!("sqlite://{}/buuta.db", dir.path().display()));
        settings.admin_password = Some("admin-password-1".into());
        settings.jwt_secret = Some("browser-test-secret-0123456789abcdef".into());
        settings.demo = Some(true);
        settings.db_pool_size = 4;
        let mut app = App {
            base: String::new(),
            port: 0,
            settings,
            handle: None,
            _dir: dir,
        };
        app.run().await;
        app
    }

    async fn run(&mut self) {
        let built = Application::build(self.settings.clone())
            .await
            .expect("app builds");
        self.port = built.port();
        self.base = format!("http://127.0.0.1:{}", self.port);
        // Restarts bind the same port, so the pages find their server again.
        self.settings.bind = format!("127.0.0.1:{}", self.port);
        self.handle = Some(built.handle());
        tokio::spawn(built.run_until_stopped());
    }

    /// Stops the server (the browser then sees no network).
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop(false).await;
        }
    }

    /// Starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.settings.demo = Some(false);
        for _ in 0..50 {
            if std::net::TcpListener::bind(&self.settings.bind).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.run().await;
    }

    /// Logs in over the API; returns the access token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let res: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["access_token"].as_str().expect("login").to_owned()
    }

    /// GET with a token, as JSON.
    pub async fn get(&self, path: &str, token: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null)
    }
}

/// A chromedriver process and a session in headless Chromium. One at a time: the
/// tests hold a lock so two browsers never compete for the machine's two cores.
pub struct Browser {
    driver: Child,
    pub client: Client,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    /// Starts Chromium, or explains what is missing: with `BUUTA_REQUIRE_BROWSER=1`
    /// (set by `.ci/run`) a missing browser fails the test, otherwise it is skipped loudly.
    pub async fn start() -> Option<Browser> {
        let driver_bin =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if !std::path::Path::new(&driver_bin).exists() || !std::path::Path::new(&chromium).exists()
        {
            let msg = format!(
                "browser tests need {chromium} and {driver_bin} (apt-get install chromium chromium-driver)"
            );
            if std::env::var("BUUTA_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let turn = TURN.lock().await;
        // reqwest and fantoccini bring two TLS back ends; pick one for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir").keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--lang=vi-VN", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        driver,
                        client,
                        _turn: turn,
                    })
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer: {last:?}");
    }

    /// Sets the viewport's outer size.
    pub async fn size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Waits for a CSS selector and returns the element.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Types into the element found by `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.ok();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks like a person: waits for the element; if something (a toast, an
    /// animation) is over it, waits a moment and tries again.
    pub async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..20 {
            let el = self.wait(css).await;
            match el.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("click {css}: {last:?}");
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// Polls `script` (a JS expression) until it is truthy.
    pub async fn until(&self, what: &str, script: &str) -> Value {
        self.until_within(what, script, WAIT).await
    }

    /// Like `until`, for what waits on a retry timer.
    pub async fn until_long(&self, what: &str, script: &str) -> Value {
        self.until_within(what, script, WAIT * 4).await
    }

    async fn until_within(&self, what: &str, script: &str, limit: Duration) -> Value {
        let start = std::time::Instant::now();
        loop {
            let v = self.js(&format!("return ({script});")).await;
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}: {script}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Logs in through the page's own form as `username`.
    pub async fn login(&self, base: &str, page: &str, username: &str) {
        self.goto(&format!("{base}{page}")).await;
        self.js("localStorage.clear(); return true;").await;
        self.goto(&format!("{base}{page}")).await;
        self.fill("#login-user", username).await;
        self.fill("#login-pass", "buuta-demo").await;
        self.click("form.login button[type=submit]").await;
        self.until("logged in", "document.querySelector('#who .who-name')")
            .await;
    }

    /// Saves a screenshot as `<folder>/<name>.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Messages the page logged as errors (CSP violations included).
    pub async fn console_errors(&self) -> Vec<String> {
        let v = self.js("return (window.__errors || []).slice();").await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where screenshots go: `BUUTA_SCREENSHOTS`, else `target/screenshots` in the crate.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("BUUTA_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"))
}
