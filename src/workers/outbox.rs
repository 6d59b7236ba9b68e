//! The outbox sender: claims due deliveries under a lease, sends them (SMS gateway or
//! webhook receiver), and marks them sent, retries them later with backoff, or gives
//! them up as dead after the horizon.
//!
//! Delivery is at least once: a sender that dies between sending and marking leaves
//! the row `sending`; when its lease lapses another sender (or the restarted one) sends
//! it again with the same `delivery_id`, which receivers use to drop the copy. With
//! several nodes on one PostgreSQL database claims use `FOR UPDATE SKIP LOCKED`, so each
//! delivery is sent by one node.

use crate::config::Settings;
use crate::db::models::outbox::{self, Delivery};
use crate::db::models::webhooks::{self, Webhook};
use crate::db::{now_utc, Db};
use crate::domain::notify::{backoff, gives_up, sign};
use crate::error::ApiError;
use std::collections::HashMap;
use std::time::Duration;

/// The SMS gateway: where messages go and the token that goes with them.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    pub url: String,
    pub token: Option<String>,
}

/// How the sender works (from [`Settings`], or set by tests).
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub poll: Duration,
    pub lease: Duration,
    pub give_up: chrono::Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub send_timeout: Duration,
    pub batch: i64,
    pub sms: Option<SmsGateway>,
}

impl OutboxConfig {
    /// The sender these settings describe.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            poll: Duration::from_millis(s.outbox_poll_ms.max(10)),
            lease: Duration::from_secs(s.outbox_lease_secs.max(1)),
            give_up: chrono::Duration::hours(s.outbox_give_up_hours.min(24 * 365) as i64),
            retry_base: Duration::from_millis(s.outbox_retry_base_ms.max(1)),
            retry_cap: Duration::from_millis(s.outbox_retry_max_ms.max(1)),
            send_timeout: Duration::from_millis(s.outbox_send_timeout_ms.max(1)),
            batch: 50,
            sms: s
                .sms_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .map(|url| SmsGateway {
                    url: url.trim().to_owned(),
                    token: s.sms_token.clone().filter(|t| !t.is_empty()),
                }),
        }
    }
}

/// A running sender; dropping or aborting it stops it at once (even mid-send).
pub struct OutboxWorker {
    handle: tokio::task::JoinHandle<()>,
}

impl OutboxWorker {
    /// Stops the sender now, as a crash would: claimed rows stay `sending` until
    /// their lease lapses.
    pub fn abort(&self) {
        self.handle.abort();
    }
}

impl Drop for OutboxWorker {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Starts a sender on the current tokio runtime.
pub fn spawn(db: Db, config: OutboxConfig) -> OutboxWorker {
    let handle = tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(config.send_timeout)
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "outbox sender cannot build its HTTP client");
                return;
            }
        };
        let owner = crate::notify::new_delivery_id();
        loop {
            match run_once(&db, &client, &config, &owner).await {
                Ok(n) if n as i64 >= config.batch => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.detail, "outbox round failed"),
            }
            tokio::time::sleep(config.poll).await;
        }
    });
    OutboxWorker { handle }
}

/// One round: claim what is due, send it, record the outcomes. Returns how many
/// deliveries were claimed.
pub async fn run_once(
    db: &Db,
    client: &reqwest::Client,
    config: &OutboxConfig,
    owner: &str,
) -> Result<usize, ApiError> {
    let (owner_c, lease, batch) = (owner.to_owned(), config.lease, config.batch);
    let (claimed, hooks) = db
        .write(
            move |c| -> Result<(Vec<Delivery>, HashMap<i64, Webhook>), ApiError> {
                let now = now_utc();
                let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
                let claimed = outbox::claim_due(c, &owner_c, now, until, batch)?;
                let mut hooks = HashMap::new();
                for id in claimed.iter().filter_map(|d| d.webhook_id) {
                    if let Some(h) = webhooks::find(c, id)? {
                        hooks.insert(id, h);
                    }
                }
                Ok((claimed, hooks))
            },
        )
        .await?;
    let n = claimed.len();
    let sends = claimed.into_iter().map(|d| {
        let hook = d.webhook_id.and_then(|id| hooks.get(&id).cloned());
        async move {
            let outcome = send(client, config, &d, hook.as_ref()).await;
            (d, outcome)
        }
    });
    let outcomes = futures_util::future::join_all(sends).await;
    let (owner, config) = (owner.to_owned(), config.clone());
    db.write(move |c| -> Result<(), ApiError> {
        let now = now_utc();
        for (d, outcome) in outcomes {
            match outcome {
                Outcome::Sent => {
                    outbox::mark_sent(c, d.id, &owner, now)?;
                }
                Outcome::Skip(reason) => {
                    outbox::mark_skipped(c, d.id, &owner, &reason)?;
                }
                Outcome::Fail(error) => {
                    let failed = (d.attempts + 1).max(1) as u32;
                    let wait = backoff(
                        failed,
                        config.retry_base,
                        config.retry_cap,
                        rand::random::<f64>(),
                    );
                    let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    let dead = gives_up(d.queued_at, next, config.give_up);
                    if dead {
                        tracing::warn!(delivery_id = %d.delivery_id, error = %error, "delivery given up");
                    }
                    outbox::mark_failed(c, d.id, &owner, &error, next, dead)?;
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(n)
}

enum Outcome {
    Sent,
    Skip(String),
    Fail(String),
}

async fn send(
    client: &reqwest::Client,
    config: &OutboxConfig,
    d: &Delivery,
    hook: Option<&Webhook>,
) -> Outcome {
    let request = match d.kind.as_str() {
        "sms" => {
            let Some(gw) = &config.sms else {
                return Outcome::Skip("Chưa cấu hình cổng SMS (BUUTA_SMS_URL)".into());
            };
            let mut r = client
                .post(&gw.url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &d.delivery_id)
                .body(d.body.clone());
            if let Some(token) = &gw.token {
                r = r.bearer_auth(token);
            }
            r
        }
        "webhook" => {
            let Some(hook) = hook.filter(|h| h.active) else {
                return Outcome::Fail("Webhook đã bị xóa hoặc ngừng hoạt động".into());
            };
            let timestamp = chrono::Utc::now().timestamp();
            let body = match stamped(&d.body, timestamp) {
                Some(b) => b,
                None => return Outcome::Fail("Nội dung đã lưu không phải JSON".into()),
            };
            client
                .post(&hook.url)
                .header("Content-Type", "application/json")
                .header("X-Buuta-Delivery", &d.delivery_id)
                .header("X-Buuta-Event", &d.event_type)
                .header("X-Buuta-Timestamp", timestamp.to_string())
                .header(
                    "X-Buuta-Signature",
                    sign(hook.secret.as_bytes(), body.as_bytes()),
                )
                .body(body)
        }
        other => return Outcome::Fail(format!("Loại gửi không rõ: {other}")),
    };
    match request.send().await {
        Ok(res) if res.status().is_success() => Outcome::Sent,
        Ok(res) => Outcome::Fail(format!("HTTP {}", res.status().as_u16())),
        Err(e) => Outcome::Fail(format!("Không gửi được: {e}")),
    }
}

/// The stored JSON body with `timestamp` (Unix seconds) added, as sent and signed.
pub fn stamped(body: &str, timestamp: i64) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.as_object_mut()?
        .insert("timestamp".into(), timestamp.into());
    Some(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timestamp_joins_the_body() {
        let b = stamped(r#"{"delivery_id":"x","event":"delivered"}"#, 1_790_000_000).unwrap();
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["timestamp"], 1_790_000_000i64);
        assert_eq!(v["delivery_id"], "x");
        assert!(stamped("[1]", 1).is_none());
        assert!(stamped("nope", 1).is_none());
    }

    #[test]
    fn settings_without_gateway_mean_no_sms() {
        let mut s = Settings::for_database("sqlite://x.db");
        assert!(OutboxConfig::from_settings(&s).sms.is_none());
        s.sms_url = Some("http://127.0.0.1:9/sms".into());
        s.sms_token = Some("t".into());
        let c = OutboxConfig::from_settings(&s);
        assert_eq!(c.sms.unwrap().token.as_deref(), Some("t"));
        assert_eq!(c.give_up, chrono::Duration::hours(48));
    }
}
