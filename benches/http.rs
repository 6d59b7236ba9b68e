//! HTTP load benchmark: the real server (the release `buuta` binary) runs as a child
//! process on a fresh database (SQLite file in a temporary directory, or a fresh
//! PostgreSQL database), and this process drives it over many keep-alive connections.
//! Beside it, a bare actix-web "hello" server (this binary again, `--hello-server`) runs
//! as another child process with the same worker count: its rate is the framework's
//! ceiling on this machine, and public tracking is reported as a share of it.
//!
//! Run: `cargo bench --bench http -- [--backend sqlite|postgres|both] [--duration 10]
//! [--warmup 2] [--connections 64] [--runs 3] [--only track,intake]`.
//!
//! Scenarios (closed loop: every connection sends its next request as soon as the
//! previous answer is in; only 2xx answers are counted and timed):
//! - `hello`: `GET /hello` on the bare actix-web server;
//! - `track`: `GET /api/v1/track/{code}` over every dossier created so far;
//! - `intake`: `POST /api/v1/pickup-requests` (a new citizen each time, durable: the
//!   answer comes after the commit);
//! - `events`: `POST /api/v1/tasks/{id}/events`, each one a real state change: every
//!   dossier walks `arrived` (pickup), `picked_up`, `arrived` (drop-off), `handed_over`;
//!   the dossiers are those of the intake scenario, assigned (untimed) in between;
//! - `positions`: `POST /api/v1/me/positions`, 10 fixes a batch, one courier per
//!   connection, times strictly increasing so every fix is stored.
//!
//! Writes carry a fresh `Idempotency-Key`, as a retrying client's would; answers that
//! are not real writes (a replay, a batch with ignored fixes) count as failures.
//!
//! Besides rates and latencies, the table gives the CPU time (user + system, from
//! `/proc`) the server process and this process spent per counted answer: on a small
//! machine where both share the cores, that separates the server's cost from the load
//! generator's. The server's pid is printed, for `perf record -p PID` while it runs.

use clap::{Parser, ValueEnum};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::Client;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Password of every user the benchmark creates.
const PASSWORD: &str = "bench-password-123";
/// Open pickups a courier may hold (the API's maximum).
const CAPACITY: usize = 1000;
/// Fixes in one GPS batch.
const FIXES_PER_BATCH: usize = 10;
/// Courier events a dossier goes through, in order: (task, type).
const CYCLE: [(Leg, &str); 4] = [
    (Leg::Pickup, "arrived"),
    (Leg::Pickup, "picked_up"),
    (Leg::Dropoff, "arrived"),
    (Leg::Dropoff, "handed_over"),
];

#[derive(Parser, Debug, Clone)]
#[command(about = "HTTP load benchmark of the buuta server")]
struct Args {
    /// Database(s) to run on.
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendArg,
    /// Measured seconds per scenario and run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds before each measurement.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent keep-alive connections (and couriers).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Runs per scenario; the table shows the median of each column.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// HTTP worker threads of both servers (0: actix-web's default, one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Scenarios to measure, comma separated (default: all). `events` walks the dossiers
    /// made by `intake` (plus a few seeded ones): keep `intake` with it.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// PostgreSQL server; a fresh database is created on it and dropped afterwards.
    #[arg(
        long,
        env = "BUUTA_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// The server binary (default: the one cargo built beside this bench).
    #[arg(long, default_value = env!("CARGO_BIN_EXE_buuta"))]
    server_bin: PathBuf,
    /// Internal: run the bare actix-web server on this port.
    #[arg(long, hide = true)]
    hello_server: Option<u16>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Hello,
    Track,
    Intake,
    Events,
    Positions,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::Hello,
        Scenario::Track,
        Scenario::Intake,
        Scenario::Events,
        Scenario::Positions,
    ];

    fn label(self) -> &'static str {
        match self {
            Scenario::Hello => "hello (bare actix-web)",
            Scenario::Track => "tracking look-up",
            Scenario::Intake => "intake create",
            Scenario::Events => "courier event",
            Scenario::Positions => "GPS batch (10 fixes)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Pickup,
    Dropoff,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(port) = args.hello_server {
        return match hello_server(port, args.workers) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("hello server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The framework's ceiling: one route, a small JSON body, nothing else.
fn hello_server(port: u16, workers: usize) -> Result<(), String> {
    use actix_web::{web, App, HttpResponse, HttpServer};
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(|| {
            App::new().route(
                "/hello",
                web::get().to(|| async { HttpResponse::Ok().json(json!({"hello": "world"})) }),
            )
        })
        .bind(("127.0.0.1", port))
        .map_err(|e| e.to_string())?;
        if workers > 0 {
            server = server.workers(workers);
        }
        server.run().await.map_err(|e| e.to_string())
    })
}

// ---------------------------------------------------------------------------------
// Child processes

/// A server in a child process, killed when dropped.
struct Proc {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `path` until it answers 200 (or the process dies, or a minute passes).
    async fn wait_ready(&mut self, client: &Client, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(format!("{}{path}", self.base)).send().await {
                if res.status().is_success() {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "server exited ({status}) before it was ready:\n{}",
                    tail(&self.log)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("server not ready after 60 s:\n{}", tail(&self.log)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn log_file(dir: &Path, name: &str) -> Result<(PathBuf, Stdio, Stdio), String> {
    let path = dir.join(name);
    let out = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    Ok((path, out.into(), err.into()))
}

async fn start_hello(args: &Args, dir: &Path, client: &Client) -> Result<Proc, String> {
    let port = free_port()?;
    let (log, out, err) = log_file(dir, "hello.log")?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .args(["--hello-server", &port.to_string()])
        .args(["--workers", &args.workers.to_string()])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start the hello server: {e}"))?;
    let mut hello = Proc {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    hello.wait_ready(client, "/hello").await?;
    Ok(hello)
}

async fn start_buuta(
    args: &Args,
    dir: &Path,
    database_url: &str,
    client: &Client,
) -> Result<Proc, String> {
    let port = free_port()?;
    let (log, out, err) = log_file(dir, "buuta.log")?;
    let mut cmd = Command::new(&args.server_bin);
    cmd.arg("serve")
        .env("DATABASE_URL", database_url)
        .env("BUUTA_BIND", format!("127.0.0.1:{port}"))
        .env("BUUTA_ADMIN_PASSWORD", PASSWORD)
        .env("BUUTA_JWT_SECRET", "http-bench-secret-not-for-production")
        .env("BUUTA_DEMO", "false")
        // One client address sends everything: lift the per-address limits.
        .env("BUUTA_TRACK_PER_MINUTE", "1000000000")
        .env("BUUTA_LOGIN_FAILURES_PER_MINUTE", "1000000000")
        // A log line per request would measure the terminal, not the server.
        .env("RUST_LOG", "warn")
        .env("BUUTA_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if args.workers > 0 {
        cmd.env("BUUTA_WORKERS", args.workers.to_string());
    } else {
        cmd.env_remove("BUUTA_WORKERS");
    }
    let child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start {} (build it with cargo build --release): {e}",
            args.server_bin.display()
        )
    })?;
    let mut server = Proc {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    server.wait_ready(client, "/readyz").await?;
    Ok(server)
}

/// A PostgreSQL database made for one run, dropped afterwards.
struct PgDatabase {
    server: String,
    name: String,
}

impl PgDatabase {
    fn create(server: &str) -> Result<Self, String> {
        let name = format!("buuta_bench_{}", std::process::id());
        let mut c = PgConnection::establish(server)
            .map_err(|e| format!("cannot connect to PostgreSQL at {server}: {e}"))?;
        // Two statements: CREATE DATABASE may not run inside a (multi-statement) transaction.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            c.batch_execute(&sql)
                .map_err(|e| format!("cannot create database {name}: {e}"))?;
        }
        Ok(Self {
            server: server.to_owned(),
            name,
        })
    }

    fn url(&self) -> String {
        buuta::db::pg_url_with_database(&self.server, &self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.server) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

// ---------------------------------------------------------------------------------
// CPU accounting (Linux): user + system time of a process, in seconds.

fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) / 100.0)
}

// ---------------------------------------------------------------------------------
// The world the scenarios act in, built over HTTP.

/// One dossier a courier will walk through [`CYCLE`].
#[derive(Debug, Clone)]
struct Walk {
    pickup: i64,
    dropoff: i64,
    stage: usize,
}

/// What one connection owns across runs: its client, its courier and its work.
struct Conn {
    index: usize,
    client: Client,
    courier_token: String,
    courier_id: i64,
    /// Dossiers assigned to this connection's courier, not yet handed over.
    walks: VecDeque<Walk>,
    /// Created by this connection in the last intake run: (code, pickup, dropoff).
    created: Vec<(String, i64, i64)>,
    /// GPS fixes sent so far (their times follow each other by 1 ms).
    fixes_sent: u64,
    /// Requests sent so far, for unique phones and keys.
    serial: u64,
    rng: u64,
}

impl Conn {
    fn next_random(&mut self) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.rng >> 33
    }

    fn key(&mut self, what: &str) -> String {
        self.serial += 1;
        format!("bench-{what}-{}-{}", self.index, self.serial)
    }
}

/// Shared, read-only during a scenario.
struct World {
    base: String,
    hello: String,
    operator: String,
    dispatcher: String,
    agency_id: i64,
    /// Tracking codes of every dossier created so far.
    codes: Arc<Vec<String>>,
    /// First GPS time of the couriers (a day ago, well inside the accepted 2 days).
    gps_origin: chrono::DateTime<chrono::Utc>,
}

async fn post(
    client: &Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<Value, String> {
    let mut req = client.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("POST {url}: {e}"))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("POST {url}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("POST {url}: {e}: {text}"))
}

/// POSTs a write with `key` as its `Idempotency-Key`: `(status, replayed, body)`, or
/// the failure of a request that got no answer.
async fn post_write(
    client: &Client,
    url: String,
    token: &str,
    key: String,
    body: &Value,
) -> Result<(reqwest::StatusCode, bool, String), Outcome> {
    let res = client
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .map_err(|e| Outcome::Failed(e.to_string()))?;
    let status = res.status();
    let replayed = res.headers().contains_key("idempotent-replayed");
    Ok((status, replayed, res.text().await.unwrap_or_default()))
}

async fn login(client: &Client, base: &str, username: &str) -> Result<String, String> {
    let v = post(
        client,
        &format!("{base}/api/v1/auth/login"),
        None,
        &json!({"username": username, "password": PASSWORD}),
    )
    .await?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login {username}: no token in {v}"))
}

async fn create_user(
    client: &Client,
    base: &str,
    admin: &str,
    username: &str,
    role: &str,
    extra: Value,
) -> Result<i64, String> {
    let mut body = json!({"username": username, "password": PASSWORD,
                          "full_name": "Nguyễn Văn Đo", "role": role});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let v = post(client, &format!("{base}/api/v1/users"), Some(admin), &body).await?;
    v["id"]
        .as_i64()
        .ok_or_else(|| format!("user {username}: {v}"))
}

fn id_of(v: &Value, what: &str) -> Result<i64, String> {
    v["id"]
        .as_i64()
        .ok_or_else(|| format!("{what}: no id in {v}"))
}

/// The body of a pickup request from a new caller.
fn intake_body(agency_id: i64, serial: u64) -> Value {
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    json!({
        "citizen": {"full_name": "Trần Thị Bình", "phone": format!("09{:08}", serial % 100_000_000),
                    "id_number": "087123456789"},
        "address": {"ward_code": "29869", "street": format!("{} Nguyễn Huệ", serial % 1000 + 1),
                    "lat": 10.4602, "lon": 105.6329},
        "procedure_code": "1.001234", "agency_id": agency_id, "service": "both",
        "pickup_window": {"from": format!("{day}T08:00:00+07:00"), "to": format!("{day}T11:00:00+07:00")},
        "return_method": "home", "note": "Gọi trước khi đến"
    })
}

/// (code, pickup task, drop-off task) of a created dossier.
fn created_of(d: &Value) -> Option<(String, i64, i64)> {
    let code = d["tracking_code"].as_str()?.to_owned();
    let tasks = d["tasks"].as_array()?;
    let find = |kind: &str| {
        tasks
            .iter()
            .find(|t| t["kind"] == kind)
            .and_then(|t| t["id"].as_i64())
    };
    Some((code, find("pickup")?, find("dropoff")?))
}

/// Admin data, users of every role, one courier per connection, and a few dossiers.
async fn build_world(args: &Args, base: &str, hello: &str) -> Result<(World, Vec<Conn>), String> {
    let client = Client::new();
    let admin = login(&client, base, "admin").await?;
    let url = |p: &str| format!("{base}{p}");
    let agency = post(&client, &url("/api/v1/agencies"), Some(&admin),
        &json!({"name": "Trung tâm Phục vụ hành chính công tỉnh Đồng Tháp", "level": "province",
                "ward_code": "29869", "address": "Số 12 đường 30/4", "lat": 10.4602, "lon": 105.6329})).await?;
    let office = post(
        &client,
        &url("/api/v1/post-offices"),
        Some(&admin),
        &json!({"name": "Bưu cục Cao Lãnh", "ward_code": "29869", "address": "85 Nguyễn Huệ",
                "lat": 10.4555, "lon": 105.6361}),
    )
    .await?;
    post(
        &client,
        &url("/api/v1/procedures"),
        Some(&admin),
        &json!({"code": "1.001234", "name": "Cấp đổi giấy phép lái xe", "agency_level": "province",
                "agency_fee_vnd": 135000, "processing_days": 5,
                "required_documents": ["Đơn đề nghị", "Bản sao căn cước"]}),
    )
    .await?;
    let office_id = id_of(&office, "post office")?;
    let po = json!({"post_office_id": office_id});
    create_user(&client, base, &admin, "bench_op", "operator", json!({})).await?;
    create_user(
        &client,
        base,
        &admin,
        "bench_disp",
        "dispatcher",
        po.clone(),
    )
    .await?;
    // Couriers, a few at a time (each user costs the server a password hash).
    let mut couriers = vec![(0i64, String::new()); args.connections];
    let mut set = JoinSet::new();
    for i in 0..args.connections {
        let (client, base, admin, po) =
            (client.clone(), base.to_owned(), admin.clone(), po.clone());
        set.spawn(async move {
            let name = format!("bench_c{i}");
            let uid = create_user(&client, &base, &admin, &name, "courier", po).await?;
            let c = post(
                &client,
                &format!("{base}/api/v1/couriers"),
                Some(&admin),
                &json!({"user_id": uid, "post_office_id": office_id, "zone_ids": [],
                        "capacity": CAPACITY, "shift_start": "00:00", "shift_end": "23:59",
                        "vehicle": "xe máy"}),
            )
            .await?;
            let token = login(&client, &base, &name).await?;
            Ok::<_, String>((i, id_of(&c, "courier")?, token))
        });
        if set.len() >= 4 {
            let (i, id, token) = set
                .join_next()
                .await
                .ok_or("join")?
                .map_err(|e| e.to_string())??;
            couriers[i] = (id, token);
        }
    }
    while let Some(r) = set.join_next().await {
        let (i, id, token) = r.map_err(|e| e.to_string())??;
        couriers[i] = (id, token);
    }
    let world = World {
        base: base.to_owned(),
        hello: hello.to_owned(),
        operator: login(&client, base, "bench_op").await?,
        dispatcher: login(&client, base, "bench_disp").await?,
        agency_id: id_of(&agency, "agency")?,
        codes: Arc::new(Vec::new()),
        gps_origin: chrono::Utc::now() - chrono::Duration::days(1),
    };
    let conns = couriers
        .into_iter()
        .enumerate()
        .map(|(index, (courier_id, courier_token))| Conn {
            index,
            client: Client::builder()
                .pool_max_idle_per_host(4)
                .tcp_nodelay(true)
                .build()
                .expect("HTTP client"),
            courier_token,
            courier_id,
            walks: VecDeque::new(),
            created: Vec::new(),
            fixes_sent: 0,
            serial: (index as u64) << 32,
            rng: 0x9E37_79B9_7F4A_7C15 ^ index as u64,
        })
        .collect();
    Ok((world, conns))
}

/// Seeds a few dossiers per connection (so tracking has something to find before the
/// first intake run), each assigned to that connection's courier.
async fn seed(world: &mut World, conns: &mut Vec<Conn>, per_conn: usize) -> Result<(), String> {
    let shared = Arc::new(SetupCtx::of(world));
    let mut set = JoinSet::new();
    for mut conn in conns.drain(..) {
        let ctx = shared.clone();
        set.spawn(async move {
            for _ in 0..per_conn {
                let serial = conn.serial;
                conn.serial += 1;
                let d = post(
                    &conn.client,
                    &format!("{}/api/v1/pickup-requests", ctx.base),
                    Some(&ctx.operator),
                    &intake_body(ctx.agency_id, serial),
                )
                .await?;
                conn.created
                    .push(created_of(&d).ok_or("created dossier without tasks")?);
            }
            Ok::<_, String>(conn)
        });
    }
    while let Some(r) = set.join_next().await {
        conns.push(r.map_err(|e| e.to_string())??);
    }
    conns.sort_by_key(|c| c.index);
    assign_created(world, conns).await?;
    Ok(())
}

/// What setup tasks need of the world.
struct SetupCtx {
    base: String,
    operator: String,
    dispatcher: String,
    agency_id: i64,
}

impl SetupCtx {
    fn of(w: &World) -> Self {
        Self {
            base: w.base.clone(),
            operator: w.operator.clone(),
            dispatcher: w.dispatcher.clone(),
            agency_id: w.agency_id,
        }
    }
}

/// Untimed: assigns what each connection created to its own courier, adds the codes
/// to the tracking set. Returns how many assignments were refused (courier full).
async fn assign_created(world: &mut World, conns: &mut Vec<Conn>) -> Result<usize, String> {
    let mut codes: Vec<String> = world.codes.as_ref().clone();
    let shared = Arc::new(SetupCtx::of(world));
    let mut set = JoinSet::new();
    for mut conn in conns.drain(..) {
        let ctx = shared.clone();
        set.spawn(async move {
            let mut refused = 0;
            let created = std::mem::take(&mut conn.created);
            let mut new_codes = Vec::with_capacity(created.len());
            for (code, pickup, dropoff) in created {
                new_codes.push(code);
                if conn.walks.len() + 10 >= CAPACITY {
                    refused += 1;
                    continue;
                }
                let res = post(
                    &conn.client,
                    &format!("{}/api/v1/tasks/{pickup}/assign", ctx.base),
                    Some(&ctx.dispatcher),
                    &json!({"courier_id": conn.courier_id}),
                )
                .await;
                match res {
                    Ok(_) => conn.walks.push_back(Walk {
                        pickup,
                        dropoff,
                        stage: 0,
                    }),
                    Err(_) => refused += 1,
                }
            }
            Ok::<_, String>((conn, new_codes, refused))
        });
    }
    let mut refused = 0;
    while let Some(r) = set.join_next().await {
        let (conn, new_codes, n) = r.map_err(|e| e.to_string())??;
        conns.push(conn);
        codes.extend(new_codes);
        refused += n;
    }
    conns.sort_by_key(|c| c.index);
    world.codes = Arc::new(codes);
    Ok(refused)
}

// ---------------------------------------------------------------------------------
// The load loop

/// What one request came to.
enum Outcome {
    /// A 2xx that did what the scenario means (a real write for writes).
    Ok,
    /// Anything else; the text is kept for the first few.
    Failed(String),
    /// The connection has no more work of this kind.
    Exhausted,
}

/// Per-request context, cheap to clone into each connection's task.
#[derive(Clone)]
struct Target {
    scenario: Scenario,
    base: Arc<str>,
    hello: Arc<str>,
    operator: Arc<str>,
    agency_id: i64,
    codes: Arc<Vec<String>>,
    gps_origin: chrono::DateTime<chrono::Utc>,
}

async fn status_only(res: reqwest::Result<reqwest::Response>) -> Outcome {
    match res {
        Ok(res) => {
            let status = res.status();
            // Read the body so the connection can serve the next request.
            let body = res.bytes().await;
            match body {
                Ok(_) if status.is_success() => Outcome::Ok,
                Ok(b) => Outcome::Failed(format!("{status} {}", String::from_utf8_lossy(&b))),
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

async fn one(conn: &mut Conn, t: &Target) -> Outcome {
    match t.scenario {
        Scenario::Hello => {
            status_only(conn.client.get(format!("{}/hello", t.hello)).send().await).await
        }
        Scenario::Track => {
            if t.codes.is_empty() {
                return Outcome::Exhausted;
            }
            let i = conn.next_random() as usize % t.codes.len();
            let url = format!("{}/api/v1/track/{}", t.base, t.codes[i]);
            status_only(conn.client.get(url).send().await).await
        }
        Scenario::Intake => {
            let key = conn.key("intake");
            let body = intake_body(t.agency_id, conn.serial);
            let url = format!("{}/api/v1/pickup-requests", t.base);
            let (status, replayed, text) =
                match post_write(&conn.client, url, &t.operator, key, &body).await {
                    Ok(answer) => answer,
                    Err(failed) => return failed,
                };
            if status.as_u16() != 201 || replayed {
                return Outcome::Failed(format!("{status} {text}"));
            }
            match serde_json::from_str::<Value>(&text)
                .ok()
                .as_ref()
                .and_then(created_of)
            {
                Some(c) => {
                    conn.created.push(c);
                    Outcome::Ok
                }
                None => Outcome::Failed(format!("unexpected answer {text}")),
            }
        }
        Scenario::Events => {
            let Some(walk) = conn.walks.front().cloned() else {
                return Outcome::Exhausted;
            };
            let (leg, kind) = CYCLE[walk.stage];
            let task = match leg {
                Leg::Pickup => walk.pickup,
                Leg::Dropoff => walk.dropoff,
            };
            let mut body = json!({"type": kind, "at": chrono::Utc::now().to_rfc3339(),
                                  "lat": 10.4602, "lon": 105.6329});
            if kind == "picked_up" {
                body["proof"] = json!({"checked_documents": ["Đơn đề nghị", "Bản sao căn cước"],
                                       "seal_number": format!("NP-{task}"), "signature_png": SIGNATURE,
                                       "fees_collected_vnd": 160000});
            }
            let key = conn.key("event");
            let url = format!("{}/api/v1/tasks/{task}/events", t.base);
            let (status, replayed, text) =
                match post_write(&conn.client, url, &conn.courier_token, key, &body).await {
                    Ok(answer) => answer,
                    Err(failed) => return failed,
                };
            if status.is_success() && !replayed {
                if walk.stage + 1 == CYCLE.len() {
                    conn.walks.pop_front();
                } else if let Some(w) = conn.walks.front_mut() {
                    w.stage += 1;
                }
                Outcome::Ok
            } else {
                // Do not retry an event the server refused: move on to the next dossier.
                conn.walks.pop_front();
                Outcome::Failed(format!("{status} {text}"))
            }
        }
        Scenario::Positions => {
            let first = conn.fixes_sent;
            conn.fixes_sent += FIXES_PER_BATCH as u64;
            let batch: Vec<Value> = (0..FIXES_PER_BATCH as u64)
                .map(|k| {
                    let at = t.gps_origin + chrono::Duration::milliseconds((first + k) as i64);
                    let step = ((first + k) % 1000) as f64 * 1e-5;
                    json!({"lat": 10.45 + step, "lon": 105.63 + step,
                           "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                           "accuracy_m": 8.0})
                })
                .collect();
            let res = conn
                .client
                .post(format!("{}/api/v1/me/positions", t.base))
                .bearer_auth(&conn.courier_token)
                .json(&batch)
                .send()
                .await;
            let res = match res {
                Ok(r) => r,
                Err(e) => return Outcome::Failed(e.to_string()),
            };
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            let stored = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["accepted"].as_u64());
            if status.is_success() && stored == Some(FIXES_PER_BATCH as u64) {
                Outcome::Ok
            } else {
                Outcome::Failed(format!("{status} {text}"))
            }
        }
    }
}

/// One measurement of one scenario.
#[derive(Debug, Clone, Default)]
struct Measure {
    ok: u64,
    failed: u64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_cpu_us: Option<f64>,
    client_cpu_us: Option<f64>,
    exhausted: usize,
}

/// Runs `t.scenario` on every connection at once: warm-up, then the measured window.
/// Answers that complete inside the window are counted; 2xx ones are timed.
async fn drive(
    conns: &mut Vec<Conn>,
    t: Target,
    warmup: Duration,
    duration: Duration,
    server_pid: &str,
) -> Result<Measure, String> {
    let start = Instant::now();
    let (from, until) = (start + warmup, start + warmup + duration);
    let mut set = JoinSet::new();
    for mut conn in conns.drain(..) {
        let t = t.clone();
        set.spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(4096);
            let (mut failed, mut exhausted) = (0u64, false);
            let mut errors: Vec<String> = Vec::new();
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                let outcome = one(&mut conn, &t).await;
                let t1 = Instant::now();
                let counted = t1 >= from && t1 <= until && t0 >= from;
                match outcome {
                    Outcome::Ok if counted => {
                        lat.push((t1 - t0).as_micros().min(u32::MAX as u128) as u32)
                    }
                    Outcome::Ok => {}
                    Outcome::Failed(e) => {
                        if counted {
                            failed += 1;
                        }
                        if errors.len() < 3 {
                            errors.push(e);
                        }
                    }
                    Outcome::Exhausted => {
                        exhausted = true;
                        break;
                    }
                }
            }
            (conn, lat, failed, exhausted, errors)
        });
    }
    // CPU time of both processes over the measured window.
    tokio::time::sleep_until(from.into()).await;
    let cpu_at_start = (cpu_seconds(server_pid), cpu_seconds("self"));
    tokio::time::sleep_until(until.into()).await;
    let cpu_at_end = (cpu_seconds(server_pid), cpu_seconds("self"));
    let mut all: Vec<u32> = Vec::new();
    let mut m = Measure::default();
    let mut errors = Vec::new();
    while let Some(r) = set.join_next().await {
        let (conn, lat, failed, exhausted, errs) = r.map_err(|e| e.to_string())?;
        conns.push(conn);
        all.extend(lat);
        m.failed += failed;
        m.exhausted += usize::from(exhausted);
        errors.extend(errs);
    }
    conns.sort_by_key(|c| c.index);
    if !errors.is_empty() {
        eprintln!(
            "  {}: {} failed answers, e.g. {}",
            t.scenario.label(),
            m.failed,
            errors[0].chars().take(300).collect::<String>()
        );
    }
    all.sort_unstable();
    m.ok = all.len() as u64;
    m.rate = m.ok as f64 / duration.as_secs_f64();
    let pct = |p: f64| {
        if all.is_empty() {
            0.0
        } else {
            all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
        }
    };
    m.p50_ms = pct(0.50);
    m.p99_ms = pct(0.99);
    if m.ok > 0 {
        let per = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1e6 / m.ok as f64);
        m.server_cpu_us = per(cpu_at_start.0, cpu_at_end.0);
        m.client_cpu_us = per(cpu_at_start.1, cpu_at_end.1);
    }
    Ok(m)
}

// ---------------------------------------------------------------------------------
// Runs and the table

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Column-wise medians of several measurements.
fn median_of(runs: &[Measure]) -> Measure {
    let col = |f: &dyn Fn(&Measure) -> f64| median(runs.iter().map(f).collect());
    let opt = |f: &dyn Fn(&Measure) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| median(v))
    };
    Measure {
        ok: col(&|m| m.ok as f64) as u64,
        failed: col(&|m| m.failed as f64) as u64,
        rate: col(&|m| m.rate),
        p50_ms: col(&|m| m.p50_ms),
        p99_ms: col(&|m| m.p99_ms),
        server_cpu_us: opt(&|m| m.server_cpu_us),
        client_cpu_us: opt(&|m| m.client_cpu_us),
        exhausted: runs.iter().map(|m| m.exhausted).max().unwrap_or(0),
    }
}

fn cpu_cell(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into())
}

fn print_table(title: &str, rows: &[(Scenario, Vec<Measure>)]) {
    println!();
    println!("{title}");
    println!(
        "| scenario | requests | 2xx/s | p50 ms | p99 ms | non-2xx | server CPU µs/req | load generator CPU µs/req | 2xx/s of each run |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (s, runs) in rows {
        let m = median_of(runs);
        let each: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.rate)).collect();
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} |",
            s.label(),
            m.ok,
            m.rate,
            m.p50_ms,
            m.p99_ms,
            m.failed,
            cpu_cell(m.server_cpu_us),
            cpu_cell(m.client_cpu_us),
            each.join(", ")
        );
        if m.exhausted > 0 {
            println!(
                "  (warning: {} connections ran out of work before the end; the rate is a lower bound)",
                m.exhausted
            );
        }
    }
    let runs_of = |s: Scenario| rows.iter().find(|(x, _)| *x == s).map(|(_, r)| r);
    if let (Some(hello), Some(track)) = (runs_of(Scenario::Hello), runs_of(Scenario::Track)) {
        // Per run, so both figures come from the same minute of the machine's life.
        let ratios: Vec<f64> = track
            .iter()
            .zip(hello)
            .map(|(t, h)| t.rate / h.rate)
            .collect();
        let (h, t) = (median_of(hello), median_of(track));
        println!(
            "tracking / hello: {:.0}% of the 2xx/s (median of the per-run ratios; the medians above give {:.0}%)",
            median(ratios) * 100.0,
            t.rate / h.rate * 100.0
        );
        if let (Some(hc), Some(tc)) = (h.server_cpu_us, t.server_cpu_us) {
            println!(
                "server CPU per request: hello {hc:.0} µs, tracking {tc:.0} µs, a ratio of {:.0}% (the load generator's own cost left out)",
                hc / tc * 100.0
            );
        }
    }
}

fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cores} cores ({model}), {mem}, load average {load}")
}

async fn run(args: Args) -> Result<(), String> {
    if args.connections == 0 || args.runs == 0 || args.duration == 0 {
        return Err("--connections, --runs and --duration must be positive".into());
    }
    let scenarios: Vec<Scenario> = if args.only.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        Scenario::ALL
            .into_iter()
            .filter(|s| args.only.contains(s))
            .collect()
    };
    let backends = match args.backend {
        BackendArg::Sqlite => vec![BackendArg::Sqlite],
        BackendArg::Postgres => vec![BackendArg::Postgres],
        BackendArg::Both => vec![BackendArg::Sqlite, BackendArg::Postgres],
    };
    println!("machine: {}", machine());
    println!(
        "server: {} (run from a private copy); {} connections, {} s measured after {} s warm-up, {} run(s); server and load generator share the machine",
        args.server_bin.display(),
        args.connections,
        args.duration,
        args.warmup,
        args.runs
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // The target directory may be shared with other checkouts that rebuild the binary
    // at any time: run a private copy of the one built for this bench.
    let private = dir.path().join("buuta");
    std::fs::copy(&args.server_bin, &private)
        .map_err(|e| format!("cannot copy {}: {e}", args.server_bin.display()))?;
    let args = Args {
        server_bin: private,
        ..args
    };
    let probe = Client::new();
    let hello = start_hello(&args, dir.path(), &probe).await?;
    for backend in backends {
        let (database_url, _pg, name) = match backend {
            BackendArg::Postgres => {
                let db = PgDatabase::create(&args.pg_url)?;
                let url = db.url();
                (url, Some(db), "PostgreSQL")
            }
            _ => (
                format!("sqlite://{}/bench.db", dir.path().display()),
                None,
                "SQLite",
            ),
        };
        let server = start_buuta(&args, dir.path(), &database_url, &probe).await?;
        println!(
            "\n{name}: server pid {}, hello pid {}, setting up over HTTP…",
            server.pid(),
            hello.pid()
        );
        let rows = measure_backend(&args, &scenarios, &server, &hello).await?;
        print_table(
            &format!(
                "{name} — median of {} run(s), {} connections, {} s each",
                args.runs, args.connections, args.duration
            ),
            &rows,
        );
        drop(server);
    }
    drop(hello);
    Ok(())
}

async fn measure_backend(
    args: &Args,
    scenarios: &[Scenario],
    server: &Proc,
    hello: &Proc,
) -> Result<Vec<(Scenario, Vec<Measure>)>, String> {
    let setup_started = Instant::now();
    let (mut world, mut conns) = build_world(args, &server.base, &hello.base).await?;
    seed(&mut world, &mut conns, 4).await?;
    println!(
        "  setup: {} couriers, {} dossiers in {:.1} s",
        conns.len(),
        world.codes.len(),
        setup_started.elapsed().as_secs_f64()
    );
    let mut tokens_at = Instant::now();
    let mut cache_seen = track_cache_counts(&server.base).await.unwrap_or((0, 0));
    let mut rows: Vec<(Scenario, Vec<Measure>)> =
        scenarios.iter().map(|s| (*s, Vec::new())).collect();
    let server_pid = server.pid().to_string();
    let hello_pid = hello.pid().to_string();
    let (warmup, duration) = (
        Duration::from_secs(args.warmup),
        Duration::from_secs(args.duration),
    );
    for run in 1..=args.runs {
        if tokens_at.elapsed() > Duration::from_secs(10 * 60) {
            refresh_tokens(&mut world, &mut conns).await?;
            tokens_at = Instant::now();
        }
        for (scenario, results) in rows.iter_mut() {
            let target = Target {
                scenario: *scenario,
                base: world.base.as_str().into(),
                hello: world.hello.as_str().into(),
                operator: world.operator.as_str().into(),
                agency_id: world.agency_id,
                codes: world.codes.clone(),
                gps_origin: world.gps_origin,
            };
            let pid = if *scenario == Scenario::Hello {
                &hello_pid
            } else {
                &server_pid
            };
            let m = drive(&mut conns, target, warmup, duration, pid).await?;
            println!(
                "  run {run}: {:<24} {:>8.0} 2xx/s  p50 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}",
                scenario.label(),
                m.rate,
                m.p50_ms,
                m.p99_ms,
                m.failed
            );
            results.push(m);
            if *scenario == Scenario::Track {
                if let Some((hits, misses)) = track_cache_counts(&server.base).await {
                    let (h, n) = (hits - cache_seen.0, misses - cache_seen.1);
                    cache_seen = (hits, misses);
                    println!(
                        "         answered from the server's tracking cache: {:.1}% of {} look-ups (warm-up included)",
                        100.0 * h as f64 / (h + n).max(1) as f64,
                        h + n
                    );
                }
            }
            if *scenario == Scenario::Intake {
                // Untimed: the new dossiers go to the couriers for the events scenario.
                let t = Instant::now();
                let refused = assign_created(&mut world, &mut conns).await?;
                let queued: usize = conns.iter().map(|c| c.walks.len()).sum();
                println!(
                    "         assigned the new dossiers in {:.1} s: {queued} queued for courier events{}",
                    t.elapsed().as_secs_f64(),
                    if refused > 0 {
                        format!(", {refused} not assigned (couriers full)")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    Ok(rows)
}

/// The server's tracking cache counters `(hits, misses)`, read from `/metrics`.
async fn track_cache_counts(base: &str) -> Option<(u64, u64)> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let count = |result: &str| -> Option<u64> {
        let prefix = format!("buuta_track_cache_lookups_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))?
            .trim()
            .parse()
            .ok()
    };
    Some((count("hit")?, count("miss")?))
}

async fn refresh_tokens(world: &mut World, conns: &mut [Conn]) -> Result<(), String> {
    let client = Client::new();
    world.operator = login(&client, &world.base, "bench_op").await?;
    world.dispatcher = login(&client, &world.base, "bench_disp").await?;
    for c in conns.iter_mut() {
        c.courier_token = login(&client, &world.base, &format!("bench_c{}", c.index)).await?;
    }
    Ok(())
}

/// A drawn signature as the courier app sends it (a 1×1 PNG, base64): the bench server
/// has no SMS gateway, so pickups carry the citizen's signature.
const SIGNATURE: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
