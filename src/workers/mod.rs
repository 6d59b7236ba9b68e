//! Background work that runs beside the HTTP server.

pub mod outbox;

use crate::db::models::positions;
use crate::db::{now_utc, Db};
use std::time::Duration;

/// Deletes position trail points older than the retention, once an hour.
pub fn spawn_trail_retention(db: Db, retention_days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let before = now_utc() - chrono::Duration::days(i64::from(retention_days));
            match db.write(move |c| positions::purge_trail(c, before)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "position trail purged"),
                Err(e) => tracing::warn!(error = %e, "position trail purge failed"),
            }
        }
    });
}
