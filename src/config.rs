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
    #[arg(long, env = "BUUTA_DEMO", global = true)]
    pub demo: Option<bool>,

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

    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "BUUTA_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,
}

impl Settings {
    /// Whether the demo province is to be loaded.
    pub fn demo_enabled(&self) -> bool {
        self.demo
            .unwrap_or(self.database_url == "sqlite://buuta.db")
    }

    /// Settings for tests and tools: defaults with another database.
    pub fn for_database(database_url: &str) -> Self {
        Settings {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".into(),
            jwt_secret: None,
            admin_password: None,
            demo: Some(false),
            db_pool_size: 8,
            login_failures_per_minute: 10,
            log_format: "pretty".into(),
            workers: 2,
        }
    }
}
