//! Builds the application: storage ready, listener bound (port 0 works), server
//! configured. `main` and the tests both start the service through here.

use crate::auth::jwt::JwtKeys;
use crate::auth::limiter::WindowLimiter;
use crate::bootstrap::{self, Boot};
use crate::config::Settings;
use crate::db::Db;
use crate::extract::{path_error, query_error};
use crate::metrics::{self, Metrics};
use crate::routes;
use crate::routing;
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    /// What start-up decided (generated admin password, …).
    pub boot: Boot,
    /// The storage handle, for callers that seed data.
    pub db: Db,
    /// The outbox sender, when this process runs one (stops with the server).
    outbox: Option<crate::workers::outbox::OutboxWorker>,
}

impl Application {
    /// Opens the database, runs start-up, binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, String> {
        let (db, boot) = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || -> Result<(Db, Boot), String> {
                let db = Db::connect(&settings.database_url, settings.db_pool_size)?;
                let boot = bootstrap::run(&db, &settings)?;
                Ok((db, boot))
            })
            .await
            .map_err(|e| e.to_string())??
        };
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();

        crate::workers::spawn_trail_retention(db.clone(), settings.trail_retention_days);
        let outbox = settings.outbox_worker.then(|| {
            crate::workers::outbox::spawn(
                db.clone(),
                crate::workers::outbox::OutboxConfig::from_settings(&settings),
            )
        });
        let keys = web::Data::new(JwtKeys::new(&boot.jwt_secret));
        let metrics = web::Data::new(Metrics::default());
        let workers = settings.workers;
        let state = web::Data::new(AppState {
            db: db.clone(),
            login_limiter: WindowLimiter::new(
                settings.login_failures_per_minute,
                Duration::from_secs(60),
            ),
            zones: Default::default(),
            travel: settings.travel_times()?,
            track_limiter: WindowLimiter::new(settings.track_per_minute, Duration::from_secs(60)),
            track_cache: crate::track_cache::TrackCache::new(
                Duration::from_millis(settings.track_cache_ms),
                settings.track_cache_entries,
            ),
            presence: crate::dossiers::presence::Presence {
                evidence: crate::domain::presence::Evidence::required(
                    settings.sms_url.as_deref().is_some_and(|u| !u.is_empty()),
                ),
                otp_key: crate::domain::presence::otp_key(&boot.jwt_secret),
            },
            settings,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(keys.clone())
                .app_data(metrics.clone())
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::PayloadConfig::new(crate::extract::BODY_LIMIT))
                .wrap(from_fn(routes::access::enforce))
                .wrap(from_fn(metrics::track))
                .wrap(TracingLogger::<crate::telemetry::AccessLog>::new())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                .configure(|cfg| routes::all_routes().register(cfg))
                .default_service(web::to(routing::not_found))
        })
        .listen(listener)
        .map_err(|e| e.to_string())?
        .shutdown_timeout(10);
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            boot,
            db,
            outbox,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (tests stop and restart it on the same port).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _outbox = self.outbox;
        self.server.await
    }
}
