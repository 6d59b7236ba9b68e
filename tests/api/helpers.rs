//! Test harness: the real app on port 0 with a fresh database per test, SQLite
//! always and PostgreSQL when `TEST_DATABASE_URL` names a server.

use buuta::config::Settings;
use buuta::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

/// Password of the first admin in every test app.
pub const ADMIN_PASSWORD: &str = "admin-password-123";
/// Signing secret of every test app (tests forge tokens with it).
pub const JWT_SECRET: &str = "test-secret-for-buuta-integration-tests";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The app's storage (tests seed data or start workers with it).
    pub db: buuta::db::Db,
    /// The database the app runs on (a twin app can share it).
    pub database_url: String,
    pg_database: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

fn pg_server_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

impl TestApp {
    /// Starts an app on `backend`; `None` when PostgreSQL is asked for but not configured.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`spawn`](Self::spawn), letting the test adjust the settings.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        let url = db.url.clone();
        let (dir, pg_database) = db.into_parts();
        let mut settings = Settings::for_database(&url);
        // Tests that want the outbox sender turn it on (see `notifications`).
        settings.outbox_worker = false;
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        settings.jwt_secret = Some(JWT_SECRET.into());
        settings.db_pool_size = 4;
        adjust(&mut settings);
        let app = Application::build(settings).await.expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let db = app.db.clone();
        tokio::spawn(app.run_until_stopped());
        Some(TestApp {
            base,
            client: Client::new(),
            db,
            database_url: url,
            pg_database,
            _dir: dir,
        })
    }

    /// A client for a server started elsewhere (e.g. a [`Node`]) on `database_url`;
    /// owns no database (the caller's [`TestDb`] does).
    pub fn at(base: &str, database_url: &str) -> TestApp {
        TestApp {
            base: base.to_owned(),
            client: Client::new(),
            db: buuta::db::Db::connect(database_url, 2).expect("database reachable"),
            database_url: database_url.to_owned(),
            pg_database: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A second app on this app's database (another node of one deployment).
    pub async fn spawn_twin(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings::for_database(&self.database_url);
        settings.outbox_worker = false;
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        settings.jwt_secret = Some(JWT_SECRET.into());
        settings.db_pool_size = 4;
        adjust(&mut settings);
        let app = Application::build(settings).await.expect("twin app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let db = app.db.clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            client: Client::new(),
            db,
            database_url: self.database_url.clone(),
            pg_database: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request sent")
    }

    /// GET with a token; returns status and JSON (Null when the body is not JSON).
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        into_json(self.send(Method::GET, path, Some(token), None).await).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        into_json(self.send(Method::POST, path, Some(token), Some(body)).await).await
    }

    /// Logs in and returns the whole answer.
    pub async fn login_raw(&self, username: &str, password: &str) -> (StatusCode, Value) {
        into_json(
            self.send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"username": username, "password": password})),
            )
            .await,
        )
        .await
    }

    /// Logs in and returns the access token (panics on failure).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self.login_raw(username, password).await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The admin's access token.
    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg_database.take() {
            drop_pg(server, name);
        }
    }
}

/// A fresh database: a SQLite file in a temporary folder, or a new PostgreSQL
/// database dropped at the end.
pub struct TestDb {
    pub url: String,
    dir: Option<tempfile::TempDir>,
    pg_database: Option<(String, String)>,
}

impl TestDb {
    /// `None` when PostgreSQL is asked for but `TEST_DATABASE_URL` is not set.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Some(TestDb {
                url: format!("sqlite://{}/buuta.db", dir.path().display()),
                dir: Some(dir),
                pg_database: None,
            }),
            Backend::Postgres => {
                let Some(server) = pg_server_url() else {
                    eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped");
                    return None;
                };
                let name = format!("buuta_t_{}", buuta::bootstrap::random_hex(8));
                let admin = server.clone();
                let create = name.clone();
                tokio::task::spawn_blocking(move || {
                    let mut c =
                        PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
                    c.batch_execute(&format!("CREATE DATABASE {create}"))
                        .expect("create test database");
                })
                .await
                .unwrap();
                Some(TestDb {
                    url: buuta::db::pg_url_with_database(&server, &name),
                    dir: Some(dir),
                    pg_database: Some((server, name)),
                })
            }
        }
    }

    fn into_parts(mut self) -> (tempfile::TempDir, Option<(String, String)>) {
        (self.dir.take().expect("folder"), self.pg_database.take())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg_database.take() {
            drop_pg(server, name);
        }
    }
}

fn drop_pg(server: String, name: String) {
    let _ = std::thread::spawn(move || {
        if let Ok(mut c) = PgConnection::establish(&server) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    })
    .join();
}

/// Reads `stream` line by line on a thread: keeps each line in `into`, echoes it when
/// `BUUTA_NODE_LOGS` is set, and shows it to `each`.
fn drain(
    stream: impl std::io::Read + Send + 'static,
    echo_prefix: &'static str,
    into: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    mut each: impl FnMut(&str) + Send + 'static,
) {
    use std::io::BufRead;
    std::thread::spawn(move || {
        let echo = std::env::var_os("BUUTA_NODE_LOGS").is_some();
        for line in std::io::BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
        {
            if echo {
                eprintln!("{echo_prefix} {line}");
            }
            each(&line);
            into.lock().unwrap().push(line);
        }
    });
}

/// A server process of the real binary, for kill -9 and two-node tests.
pub struct Node {
    child: std::process::Child,
    pub base: String,
    /// Everything the process printed (its log), line by line.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Node {
    /// Starts `buuta serve` on `database_url` and a free port; returns once it listens.
    pub fn start(database_url: &str) -> Node {
        Self::start_with(database_url, &[])
    }

    /// Like [`start`](Self::start), with more environment (later entries win).
    pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> Node {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_buuta"));
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BUUTA_BIND", "127.0.0.1:0")
            .env("BUUTA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BUUTA_JWT_SECRET", JWT_SECRET)
            .env("BUUTA_DEMO", "false")
            .env("BUUTA_DB_POOL_SIZE", "8")
            .env("BUUTA_TRACK_PER_MINUTE", "100000")
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("buuta starts");
        // Both streams are kept for tests that read them (the log is stderr) and
        // echoed with BUUTA_NODE_LOGS; stdout's first URL is the address.
        let output: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        drain(stderr, "[node log]", output.clone(), |_| {});
        let stdout = child.stdout.take().expect("stdout");
        let mut sent = false;
        drain(stdout, "[node]", output.clone(), move |line| {
            if let (false, Some(i)) = (sent, line.find("http://")) {
                let url = line[i..].split_whitespace().next().unwrap_or("").to_owned();
                let _ = tx.send(url);
                sent = true;
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("buuta printed its address");
        Node {
            child,
            base,
            output,
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Status and JSON body of a response (Null when not JSON).
pub async fn into_json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a problem+json error with the given status and code.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// Runs each listed `async fn name(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}
