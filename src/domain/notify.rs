//! What citizens and other systems are told, and how deliveries are retried and signed.
//!
//! - **SMS**: which dossier event sends which message ([`sms_for`]) and its Vietnamese
//!   text ([`Sms::text`]). "Courier on the way" goes out when a courier is put on the
//!   pickup (with the task's ETA when the planner set one, else the booked window) and
//!   when the courier has collected the result for home delivery (with the delivery
//!   task's ETA when known).
//! - **Retries**: exponential backoff with "equal jitter" ([`backoff`]): attempt `n`
//!   waits between half and all of `base · 2^(n-1)`, capped; a delivery whose next try
//!   would fall after `queued_at + horizon` is given up (dead).
//! - **Signatures**: `X-Buuta-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, where
//!   the body carries a `timestamp` (Unix seconds) equal to the `X-Buuta-Timestamp`
//!   header, so the timestamp is covered by the signature and a receiver can refuse
//!   stale or replayed messages.

use crate::domain::dossier::{DossierEvent, TaskKind};
use chrono::{DateTime, FixedOffset};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// One SMS to a citizen, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sms {
    /// Intake: the request is taken (with the booked pickup window, if any).
    RequestReceived {
        code: String,
        window: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    },
    /// A courier is coming to pick the dossier up.
    CourierComingForPickup {
        code: String,
        eta: Option<DateTime<FixedOffset>>,
        window: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    },
    /// A courier is bringing the result home.
    CourierBringingResult {
        code: String,
        eta: Option<DateTime<FixedOffset>>,
    },
    /// The dossier was taken at the door.
    PickedUp { code: String },
    /// The agency wants more documents.
    SupplementNeeded { code: String, what: Vec<String> },
    /// The agency decided; `home` says whether a courier brings the result.
    ResultReady { code: String, home: bool },
    /// The result reached the citizen.
    Delivered { code: String },
    /// A one-time code the citizen reads out to the courier at the door.
    Otp {
        code: String,
        otp: String,
        pickup: bool,
    },
}

fn hm_date(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M ngày %d/%m/%Y").to_string()
}

fn window_text((from, to): &(DateTime<FixedOffset>, DateTime<FixedOffset>)) -> String {
    format!(
        "{}–{} ngày {}",
        from.format("%H:%M"),
        to.format("%H:%M"),
        from.format("%d/%m/%Y")
    )
}

impl Sms {
    /// The stable name of the message (the outbox `event_type` of SMS rows).
    pub fn name(&self) -> &'static str {
        match self {
            Sms::RequestReceived { .. } => "sms.request_received",
            Sms::CourierComingForPickup { .. } => "sms.courier_on_the_way",
            Sms::CourierBringingResult { .. } => "sms.courier_on_the_way",
            Sms::PickedUp { .. } => "sms.picked_up",
            Sms::SupplementNeeded { .. } => "sms.supplement_needed",
            Sms::ResultReady { .. } => "sms.result_ready",
            Sms::Delivered { .. } => "sms.delivered",
            Sms::Otp { .. } => "sms.otp",
        }
    }

    /// The Vietnamese text sent to the citizen.
    pub fn text(&self) -> String {
        match self {
            Sms::RequestReceived { code, window } => match window {
                Some(w) => format!(
                    "Buuta: Đã tiếp nhận yêu cầu lấy hồ sơ {code}. Bưu tá sẽ đến trong khung giờ {}. Tra cứu bằng mã {code}.",
                    window_text(w)
                ),
                None => format!(
                    "Buuta: Đã tiếp nhận yêu cầu trả kết quả tại nhà cho hồ sơ {code}. Tra cứu bằng mã {code}."
                ),
            },
            Sms::CourierComingForPickup { code, eta, window } => match (eta, window) {
                (Some(eta), _) => format!(
                    "Buuta: Bưu tá đang đến lấy hồ sơ {code}, dự kiến đến lúc {}.",
                    hm_date(eta)
                ),
                (None, Some(w)) => format!(
                    "Buuta: Bưu tá sẽ đến lấy hồ sơ {code} trong khung giờ {}.",
                    window_text(w)
                ),
                (None, None) => format!("Buuta: Bưu tá sẽ đến lấy hồ sơ {code}."),
            },
            Sms::CourierBringingResult { code, eta } => match eta {
                Some(eta) => format!(
                    "Buuta: Bưu tá đang mang kết quả hồ sơ {code} đến cho ông/bà, dự kiến đến lúc {}.",
                    hm_date(eta)
                ),
                None => format!(
                    "Buuta: Bưu tá đang mang kết quả hồ sơ {code} đến cho ông/bà."
                ),
            },
            Sms::PickedUp { code } => format!(
                "Buuta: Bưu tá đã lấy hồ sơ {code} và sẽ nộp tại cơ quan giải quyết."
            ),
            Sms::SupplementNeeded { code, what } => format!(
                "Buuta: Hồ sơ {code} cần bổ sung: {}. Bưu tá sẽ liên hệ để lấy giấy tờ bổ sung.",
                what.join("; ")
            ),
            Sms::ResultReady { code, home: true } => format!(
                "Buuta: Hồ sơ {code} đã có kết quả. Bưu tá sẽ mang kết quả đến tận nhà cho ông/bà."
            ),
            Sms::ResultReady { code, home: false } => format!(
                "Buuta: Hồ sơ {code} đã có kết quả. Mời ông/bà đến nhận tại quầy của cơ quan giải quyết."
            ),
            Sms::Delivered { code } => format!(
                "Buuta: Kết quả hồ sơ {code} đã được giao thành công. Cảm ơn ông/bà đã sử dụng dịch vụ."
            ),
            Sms::Otp { code, otp, pickup } => format!(
                "Buuta: Mã xác nhận {} hồ sơ {code} là {otp}. Chỉ đọc mã cho bưu tá khi bưu tá đang ở trước mặt ông/bà. Mã có hiệu lực {} phút.",
                if *pickup { "giao hồ sơ cho bưu tá," } else { "nhận kết quả" },
                crate::domain::presence::OTP_TTL_MINUTES
            ),
        }
    }
}

/// What [`sms_for`] needs to know besides the event.
#[derive(Debug, Clone, Default)]
pub struct SmsFacts {
    pub code: String,
    /// The booked pickup window.
    pub window: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    /// ETA of the pickup task (for `assigned`) or of the delivery task (for `collected`).
    pub eta: Option<DateTime<FixedOffset>>,
    /// Whether the result goes home.
    pub result_goes_home: bool,
    /// The documents the agency asked for (for `supplement_required`).
    pub missing_documents: Vec<String>,
}

/// The SMS a recorded event sends, if any.
pub fn sms_for(event: &DossierEvent, facts: &SmsFacts) -> Option<Sms> {
    let code = facts.code.clone();
    match event {
        DossierEvent::Assigned {
            task: TaskKind::Pickup,
        } => Some(Sms::CourierComingForPickup {
            code,
            eta: facts.eta,
            window: facts.window,
        }),
        DossierEvent::Collected if facts.result_goes_home => Some(Sms::CourierBringingResult {
            code,
            eta: facts.eta,
        }),
        DossierEvent::PickedUp => Some(Sms::PickedUp { code }),
        DossierEvent::SupplementRequired => Some(Sms::SupplementNeeded {
            code,
            what: facts.missing_documents.clone(),
        }),
        DossierEvent::ResultReady { .. } => Some(Sms::ResultReady {
            code,
            home: facts.result_goes_home,
        }),
        DossierEvent::Delivered => Some(Sms::Delivered { code }),
        _ => None,
    }
}

/// Event types a webhook may subscribe to: every dossier event, plus `requested`
/// (intake) and `*` (everything).
pub fn webhook_event_types() -> Vec<&'static str> {
    vec![
        "*",
        "requested",
        "assigned",
        "unassigned",
        "rescheduled",
        "cancelled",
        "arrived",
        "picked_up",
        "failed",
        "transferred",
        "handed_over",
        "received",
        "supplement_required",
        "result_ready",
        "collected",
        "delivered",
        "held_at_post_office",
        "handed_over_at_counter",
    ]
}

/// Whether a subscription to `subscribed` wants `event`.
pub fn subscribed_to(subscribed: &[String], event: &str) -> bool {
    subscribed.iter().any(|s| s == "*" || s == event)
}

/// How long to wait after the `failed_attempts`-th failure (≥ 1): half of
/// `base · 2^(n-1)` plus `jitter` (in `[0, 1)`) of the other half, capped at `cap`.
pub fn backoff(failed_attempts: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = failed_attempts.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exp).min(cap);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    full / 2 + full.mul_f64(jitter) / 2
}

/// Whether a delivery queued at `queued_at` should be given up rather than tried at `next`.
pub fn gives_up(
    queued_at: chrono::NaiveDateTime,
    next: chrono::NaiveDateTime,
    horizon: chrono::Duration,
) -> bool {
    next > queued_at + horizon
}

type HmacSha256 = Hmac<Sha256>;

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a `sha256=<hex>` header against the body, in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Whether a message stamped `timestamp` (Unix seconds) is fresh at `now`.
pub fn fresh(timestamp: i64, now: i64, max_skew_secs: i64) -> bool {
    (now - timestamp).abs() <= max_skew_secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dossier::{FailReason, Outcome};

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn facts() -> SmsFacts {
        SmsFacts {
            code: "HS000000178VN".into(),
            window: Some((
                t("2026-11-23T08:00:00+07:00"),
                t("2026-11-23T11:00:00+07:00"),
            )),
            eta: None,
            result_goes_home: true,
            missing_documents: vec!["Giấy khám sức khỏe".into(), "Ảnh 3x4".into()],
        }
    }

    #[test]
    fn templates_speak_vietnamese_with_the_facts() {
        let f = facts();
        let received = Sms::RequestReceived {
            code: f.code.clone(),
            window: f.window,
        };
        assert_eq!(
            received.text(),
            "Buuta: Đã tiếp nhận yêu cầu lấy hồ sơ HS000000178VN. Bưu tá sẽ đến trong khung giờ 08:00–11:00 ngày 23/11/2026. Tra cứu bằng mã HS000000178VN."
        );
        let coming = sms_for(
            &DossierEvent::Assigned {
                task: TaskKind::Pickup,
            },
            &SmsFacts {
                eta: Some(t("2026-11-23T09:15:00+07:00")),
                ..f.clone()
            },
        )
        .unwrap();
        assert_eq!(
            coming.text(),
            "Buuta: Bưu tá đang đến lấy hồ sơ HS000000178VN, dự kiến đến lúc 09:15 ngày 23/11/2026."
        );
        let coming = sms_for(
            &DossierEvent::Assigned {
                task: TaskKind::Pickup,
            },
            &f,
        )
        .unwrap();
        assert!(coming
            .text()
            .contains("trong khung giờ 08:00–11:00 ngày 23/11/2026"));
        let supplement = sms_for(&DossierEvent::SupplementRequired, &f).unwrap();
        assert!(supplement
            .text()
            .contains("cần bổ sung: Giấy khám sức khỏe; Ảnh 3x4."));
        let ready = sms_for(
            &DossierEvent::ResultReady {
                outcome: Outcome::Approved,
            },
            &f,
        )
        .unwrap();
        assert!(ready.text().contains("mang kết quả đến tận nhà"));
        let counter = sms_for(
            &DossierEvent::ResultReady {
                outcome: Outcome::Rejected,
            },
            &SmsFacts {
                result_goes_home: false,
                ..f.clone()
            },
        )
        .unwrap();
        assert!(counter.text().contains("nhận tại quầy"));
        assert!(sms_for(&DossierEvent::Delivered, &f)
            .unwrap()
            .text()
            .contains("đã được giao thành công"));
        assert!(sms_for(&DossierEvent::PickedUp, &f)
            .unwrap()
            .text()
            .contains("đã lấy hồ sơ HS000000178VN"));
    }

    #[test]
    fn only_the_listed_events_send_sms() {
        let f = facts();
        for quiet in [
            DossierEvent::Assigned {
                task: TaskKind::Collect,
            },
            DossierEvent::Arrived {
                task: TaskKind::Pickup,
            },
            DossierEvent::HandedOver,
            DossierEvent::Received,
            DossierEvent::Failed {
                task: TaskKind::Pickup,
                reason: FailReason::NotHome,
                attempt: 1,
            },
        ] {
            assert_eq!(sms_for(&quiet, &f), None, "{quiet:?}");
        }
        // Collected goes home only when the result does.
        assert!(sms_for(&DossierEvent::Collected, &f).is_some());
        let counter = SmsFacts {
            result_goes_home: false,
            ..f
        };
        assert_eq!(sms_for(&DossierEvent::Collected, &counter), None);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(3600);
        assert_eq!(backoff(1, base, cap, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(2, base, cap, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(3, base, cap, 0.5), Duration::from_secs(30));
        assert_eq!(backoff(4, base, cap, 0.0), Duration::from_secs(40));
        // 10 s · 2^19 is far beyond the cap.
        assert_eq!(backoff(20, base, cap, 1.0), cap);
        assert_eq!(backoff(200, base, cap, 0.0), cap / 2);
        assert_eq!(backoff(1, base, cap, f64::NAN), Duration::from_secs(5));
        for j in [0.0, 0.3, 0.99] {
            let d = backoff(3, base, cap, j);
            assert!(d >= Duration::from_secs(20) && d <= Duration::from_secs(40));
        }
    }

    #[test]
    fn give_up_after_the_horizon() {
        let q = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap();
        let h = chrono::Duration::hours(48);
        assert!(!gives_up(q, q + chrono::Duration::hours(47), h));
        assert!(!gives_up(q, q + h, h));
        assert!(gives_up(q, q + h + chrono::Duration::seconds(1), h));
    }

    #[test]
    fn signatures_verify_and_detect_tampering() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(b"Jefe", b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jefe", b"what do ya want for nothing!", &sig));
        assert!(!verify(b"Jeff", b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jefe", b"x", "sha1=00"));
        assert!(!verify(b"Jefe", b"x", "sha256=zz"));
    }

    #[test]
    fn freshness_allows_the_skew_both_ways() {
        assert!(fresh(1000, 1300, 300));
        assert!(fresh(1300, 1000, 300));
        assert!(!fresh(1000, 1301, 300));
        assert!(!fresh(1301, 1000, 300));
    }

    #[test]
    fn subscriptions_match_by_name_or_star() {
        assert!(subscribed_to(&["*".into()], "delivered"));
        assert!(subscribed_to(&["delivered".into()], "delivered"));
        assert!(!subscribed_to(&["picked_up".into()], "delivered"));
        assert!(webhook_event_types().contains(&"result_ready"));
    }
}
