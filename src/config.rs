//! Settings: every field has a default so `cargo run --release` just works, and an
//! environment variable (the contract of API.md, "Running") to override it.

use clap::Args;

/// Service configuration, read from flags or the environment.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://buuta.db",
        global = true
    )]
    pub database_url: String,

    /// Listen address of the API and pages.
    #[arg(
        long,
        env = "BUUTA_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Signing secret of access tokens; when unset one is generated and kept in the database.
    #[arg(long, env = "BUUTA_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Password of the `admin` user created on first start (generated and printed when unset).
    #[arg(
        long,
        env = "BUUTA_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Load the demo province on first start. Defaults to on for the embedded default
    /// database (so a fresh `cargo run` has something to show) and off otherwise.
    #[arg(long, env = "BUUTA_DEMO", global = true, num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: Option<bool>,

    /// Map tile URL template of the dispatcher board's background, e.g.
    /// `https://tile.example.vn/{z}/{x}/{y}.png`; without it the board draws our own data only.
    #[arg(long, env = "BUUTA_TILE_URL", global = true)]
    pub tile_url: Option<String>,

    /// Database connections in the pool.
    #[arg(long, env = "BUUTA_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Wrong passwords allowed per username and client address in a minute.
    #[arg(
        long,
        env = "BUUTA_LOGIN_FAILURES_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub login_failures_per_minute: u32,

    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(
        long,
        env = "BUUTA_LOG_FORMAT",
        default_value = "pretty",
        global = true
    )]
    pub log_format: String,

    /// Postal fee of the send leg (door → agency), VND.
    #[arg(
        long,
        env = "BUUTA_FEE_SEND_VND",
        default_value_t = 15_000,
        global = true
    )]
    pub fee_send_vnd: i64,

    /// Postal fee of the return leg (agency → door), VND.
    #[arg(
        long,
        env = "BUUTA_FEE_RETURN_VND",
        default_value_t = 10_000,
        global = true
    )]
    pub fee_return_vnd: i64,

    /// Two letters that start every tracking code (UPU S10 service indicator).
    #[arg(
        long,
        env = "BUUTA_TRACKING_PREFIX",
        default_value = "HS",
        global = true
    )]
    pub tracking_prefix: String,

    /// Failed pickup attempts before the dossier is cancelled.
    #[arg(
        long,
        env = "BUUTA_MAX_PICKUP_ATTEMPTS",
        default_value_t = 3,
        global = true
    )]
    pub max_pickup_attempts: u32,

    /// Failed delivery attempts before the result is held at the post office.
    #[arg(
        long,
        env = "BUUTA_MAX_DELIVERY_ATTEMPTS",
        default_value_t = 3,
        global = true
    )]
    pub max_delivery_attempts: u32,

    /// Public tracking look-ups allowed per client address per minute.
    #[arg(
        long,
        env = "BUUTA_TRACK_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub track_per_minute: u32,

    /// Milliseconds a public tracking answer may be served from memory (0: never).
    /// Buuta's own writes drop it at once, on every node (on PostgreSQL through
    /// LISTEN/NOTIFY); this bounds how long a change made outside Buuta may go unseen.
    #[arg(
        long,
        env = "BUUTA_TRACK_CACHE_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub track_cache_ms: u64,

    /// Public tracking answers kept in memory at most.
    #[arg(
        long,
        env = "BUUTA_TRACK_CACHE_ENTRIES",
        default_value_t = 100_000,
        global = true
    )]
    pub track_cache_entries: usize,

    /// Public base URL printed in receipts' QR codes (defaults to the bind address).
    #[arg(long, env = "BUUTA_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Days a courier's GPS trail is kept.
    #[arg(
        long,
        env = "BUUTA_TRAIL_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub trail_retention_days: u32,

    /// Base URL of an OSRM-compatible routing engine (table API); geodesic when unset.
    #[arg(long, env = "BUUTA_ROUTING_URL", global = true)]
    pub routing_url: Option<String>,

    /// Time allowed to the routing engine before falling back to geodesic, ms.
    #[arg(
        long,
        env = "BUUTA_ROUTING_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub routing_timeout_ms: u64,

    /// Road distance over straight-line distance, for geodesic travel times.
    #[arg(long, env = "BUUTA_CIRCUITY", default_value_t = 1.3, global = true)]
    pub circuity: f64,

    /// Courier speed for geodesic travel times, km/h.
    #[arg(long, env = "BUUTA_SPEED_KMH", default_value_t = 25.0, global = true)]
    pub speed_kmh: f64,

    /// Time the route planner may spend on one post office's day, ms.
    #[arg(
        long,
        env = "BUUTA_PLAN_TIME_LIMIT_MS",
        default_value_t = 3000,
        global = true
    )]
    pub plan_time_limit_ms: u64,

    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "BUUTA_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,

    /// SMS (or Zalo ZNS) gateway: messages are POSTed here as JSON `{delivery_id,
    /// phone, text, …}`; when unset SMS deliveries are marked `skipped`.
    #[arg(long, env = "BUUTA_SMS_URL", global = true)]
    pub sms_url: Option<String>,

    /// Bearer token sent to the SMS gateway.
    #[arg(long, env = "BUUTA_SMS_TOKEN", hide_env_values = true, global = true)]
    pub sms_token: Option<String>,

    /// Run the outbox sender (SMS and webhooks) in this process.
    #[arg(long, env = "BUUTA_OUTBOX_WORKER", default_value_t = true, global = true,
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub outbox_worker: bool,

    /// How often the outbox sender looks for due deliveries, ms.
    #[arg(
        long,
        env = "BUUTA_OUTBOX_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub outbox_poll_ms: u64,

    /// Hours after which an undeliverable message is given up (marked dead).
    #[arg(
        long,
        env = "BUUTA_OUTBOX_GIVE_UP_HOURS",
        default_value_t = 48,
        global = true
    )]
    pub outbox_give_up_hours: u64,

    /// First retry delay of a failed delivery, ms (doubles each time, with jitter).
    #[arg(
        long,
        env = "BUUTA_OUTBOX_RETRY_BASE_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub outbox_retry_base_ms: u64,

    /// Longest retry delay, ms.
    #[arg(
        long,
        env = "BUUTA_OUTBOX_RETRY_MAX_MS",
        default_value_t = 3_600_000,
        global = true
    )]
    pub outbox_retry_max_ms: u64,

    /// How long a sender holds a claimed delivery before another may take it over, s.
    #[arg(
        long,
        env = "BUUTA_OUTBOX_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub outbox_lease_secs: u64,

    /// Time allowed to the SMS gateway or a webhook receiver per delivery, ms.
    #[arg(
        long,
        env = "BUUTA_OUTBOX_SEND_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub outbox_send_timeout_ms: u64,

    /// Shared secret of the provincial one-stop system (HMAC-SHA256 of inbound events);
    /// when unset the inbound endpoint answers 503.
    #[arg(
        long,
        env = "BUUTA_ONE_STOP_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub one_stop_secret: Option<String>,

    /// Largest clock difference accepted on signed inbound messages, s.
    #[arg(
        long,
        env = "BUUTA_ONE_STOP_MAX_SKEW_SECS",
        default_value_t = 300,
        global = true
    )]
    pub one_stop_max_skew_secs: u64,
}

impl Settings {
    /// `scheme://host[:port]` of the tile URL, for the pages' Content-Security-Policy.
    pub fn tile_origin(&self) -> Option<String> {
        let url = self.tile_url.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next().filter(|h| !h.is_empty())?;
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}');
        (matches!(scheme, "http" | "https") && host.chars().all(ok))
            .then(|| format!("{scheme}://{}", host.replace("{s}", "*")))
    }

    /// Whether the demo province is to be loaded.
    pub fn demo_enabled(&self) -> bool {
        self.demo
            .unwrap_or(self.database_url == "sqlite://buuta.db")
    }

    /// Attempt limits of the state machine.
    pub fn attempt_limits(&self) -> crate::domain::dossier::AttemptLimits {
        crate::domain::dossier::AttemptLimits {
            max_pickup_attempts: self.max_pickup_attempts,
            max_delivery_attempts: self.max_delivery_attempts,
        }
    }

    /// The postal tariff.
    pub fn tariff(&self) -> Result<crate::domain::fees::Tariff, String> {
        crate::domain::fees::Tariff::new(self.fee_send_vnd, self.fee_return_vnd, Vec::new())
            .map_err(|e| format!("invalid tariff: {e}"))
    }

    /// The travel-time provider these settings describe.
    pub fn travel_times(
        &self,
    ) -> Result<std::sync::Arc<dyn crate::clients::travel::TravelTimes>, String> {
        use crate::clients::travel::{Geodesic, Osrm};
        let geodesic = Geodesic::new(self.circuity, self.speed_kmh)
            .ok_or("BUUTA_CIRCUITY and BUUTA_SPEED_KMH must be positive")?;
        Ok(
            match self.routing_url.as_deref().filter(|u| !u.is_empty()) {
                Some(url) => std::sync::Arc::new(
                    Osrm::new(
                        url,
                        std::time::Duration::from_millis(self.routing_timeout_ms),
                        geodesic,
                    )
                    .map_err(|e| format!("routing engine client: {e}"))?,
                ),
                None => std::sync::Arc::new(geodesic),
            },
        )
    }

    /// Base URL of the public pages.
    pub fn public_base(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Settings for tests and tools: defaults with another database.
    pub fn for_database(database_url: &str) -> Self {
        Settings {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".into(),
            jwt_secret: None,
            admin_password: None,
            demo: Some(false),
            tile_url: None,
            db_pool_size: 8,
            login_failures_per_minute: 10,
            log_format: "pretty".into(),
            workers: 2,
            fee_send_vnd: 15_000,
            fee_return_vnd: 10_000,
            tracking_prefix: "HS".into(),
            max_pickup_attempts: 3,
            max_delivery_attempts: 3,
            track_per_minute: 60,
            track_cache_ms: 60_000,
            track_cache_entries: 100_000,
            public_url: None,
            trail_retention_days: 30,
            routing_url: None,
            routing_timeout_ms: 2000,
            circuity: 1.3,
            speed_kmh: 25.0,
            plan_time_limit_ms: 1000,
            sms_url: None,
            sms_token: None,
            outbox_worker: true,
            outbox_poll_ms: 1000,
            outbox_give_up_hours: 48,
            outbox_retry_base_ms: 10_000,
            outbox_retry_max_ms: 3_600_000,
            outbox_lease_secs: 60,
            outbox_send_timeout_ms: 10_000,
            one_stop_secret: None,
            one_stop_max_skew_secs: 300,
        }
    }
}
