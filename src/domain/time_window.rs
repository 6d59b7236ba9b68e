//! Time windows: when the citizen will be home for a pickup or a delivery.
//!
//! Stored and shown in Vietnam's offset (+07:00, no daylight saving), whatever offset
//! the caller wrote.

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, TimeZone};
use serde::{Deserialize, Serialize, Serializer};

/// Vietnam's offset from UTC (Indochina Time, no daylight saving).
pub const VIETNAM_OFFSET_SECS: i32 = 7 * 3600;
/// Shortest window a courier can be held to.
pub const MIN_WINDOW_MINUTES: i64 = 30;
/// Longest window: more than a working day says nothing useful.
pub const MAX_WINDOW_HOURS: i64 = 12;

const VN_OFFSET: FixedOffset = match FixedOffset::east_opt(VIETNAM_OFFSET_SECS) {
    Some(offset) => offset,
    None => panic!("+07:00 is a valid offset"),
};

/// Vietnam's offset, to show every time the way citizens and staff read clocks.
pub fn vn_offset() -> FixedOffset {
    VN_OFFSET
}

/// Why a time window was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeWindowError {
    /// A bound is not an RFC 3339 time with offset.
    #[error("`{0}` is not an RFC 3339 time with offset, e.g. 2026-11-23T08:00:00+07:00")]
    BadTime(String),
    /// `to` is not after `from`.
    #[error("the window must end after it starts")]
    Reversed,
    /// Shorter than [`MIN_WINDOW_MINUTES`].
    #[error("the window lasts {minutes} minutes; it must last at least {MIN_WINDOW_MINUTES}")]
    TooShort {
        /// Length given, in whole minutes.
        minutes: i64,
    },
    /// Longer than [`MAX_WINDOW_HOURS`].
    #[error("the window lasts {minutes} minutes; it must last at most {MAX_WINDOW_HOURS} hours")]
    TooLong {
        /// Length given, in whole minutes.
        minutes: i64,
    },
    /// The window is already over.
    #[error("the window ended at {0}, which is in the past")]
    InThePast(String),
}

impl TimeWindowError {
    /// The problem in Vietnamese, for people.
    pub fn vi(&self) -> String {
        match self {
            Self::BadTime(t) => format!(
                "“{t}” không phải thời điểm RFC 3339 có múi giờ, ví dụ 2026-11-23T08:00:00+07:00"
            ),
            Self::Reversed => "giờ kết thúc phải sau giờ bắt đầu".into(),
            Self::TooShort { minutes } => {
                format!("khung giờ dài {minutes} phút; tối thiểu {MIN_WINDOW_MINUTES} phút")
            }
            Self::TooLong { minutes } => {
                format!("khung giờ dài {minutes} phút; tối đa {MAX_WINDOW_HOURS} giờ")
            }
            Self::InThePast(t) => format!("khung giờ đã kết thúc lúc {t}"),
        }
    }
}

/// A checked interval `[from, to)` in +07:00 during which a stop is promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct TimeWindow {
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
}

impl TimeWindow {
    /// Accepts a window that starts before it ends and lasts 30 minutes to 12 hours.
    pub fn parse<Tz: TimeZone>(
        from: DateTime<Tz>,
        to: DateTime<Tz>,
    ) -> Result<Self, TimeWindowError> {
        let (from, to) = (from.with_timezone(&VN_OFFSET), to.with_timezone(&VN_OFFSET));
        if to <= from {
            return Err(TimeWindowError::Reversed);
        }
        let minutes = (to - from).num_minutes();
        if to - from < TimeDelta::minutes(MIN_WINDOW_MINUTES) {
            return Err(TimeWindowError::TooShort { minutes });
        }
        if to - from > TimeDelta::hours(MAX_WINDOW_HOURS) {
            return Err(TimeWindowError::TooLong { minutes });
        }
        Ok(Self { from, to })
    }

    /// Reads both bounds as RFC 3339 strings, as they arrive in JSON.
    pub fn parse_rfc3339(from: &str, to: &str) -> Result<Self, TimeWindowError> {
        let read = |s: &str| {
            DateTime::parse_from_rfc3339(s.trim())
                .map_err(|_| TimeWindowError::BadTime(s.to_owned()))
        };
        Self::parse(read(from)?, read(to)?)
    }

    /// Refuses a window that is already over at `now`, so nobody books the past.
    /// A window that has started but not ended is still accepted.
    pub fn validate_not_past<Tz: TimeZone>(
        &self,
        now: &DateTime<Tz>,
    ) -> Result<(), TimeWindowError> {
        if self.to <= *now {
            Err(TimeWindowError::InThePast(rfc3339(&self.to)))
        } else {
            Ok(())
        }
    }

    /// Start of the window, in +07:00.
    pub fn from(&self) -> DateTime<FixedOffset> {
        self.from
    }

    /// End of the window (exclusive), in +07:00; the pickup deadline.
    pub fn to(&self) -> DateTime<FixedOffset> {
        self.to
    }

    /// Length of the window, for planning.
    pub fn duration(&self) -> TimeDelta {
        self.to - self.from
    }

    /// Whether `t` falls inside, to tell an on-time stop from a late one.
    pub fn contains<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> bool {
        self.from <= *t && *t < self.to
    }
}

/// RFC 3339 in +07:00 with seconds (fractions only when present).
fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&VN_OFFSET)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The JSON shape of a window before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    from: String,
    to: String,
}

impl TryFrom<RawWindow> for TimeWindow {
    type Error = TimeWindowError;

    fn try_from(raw: RawWindow) -> Result<Self, Self::Error> {
        Self::parse_rfc3339(&raw.from, &raw.to)
    }
}

impl Serialize for TimeWindow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire {
            from: String,
            to: String,
        }
        Wire {
            from: rfc3339(&self.from),
            to: rfc3339(&self.to),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn accepts_windows_within_limits() {
        for (from, to) in [
            ("2026-11-23T08:00:00+07:00", "2026-11-23T11:00:00+07:00"),
            ("2026-11-23T08:00:00+07:00", "2026-11-23T08:30:00+07:00"), // exactly 30 min
            ("2026-11-23T06:00:00+07:00", "2026-11-23T18:00:00+07:00"), // exactly 12 h
            ("2026-11-23T23:00:00+07:00", "2026-11-24T01:00:00+07:00"), // over midnight
        ] {
            let w = TimeWindow::parse_rfc3339(from, to).unwrap();
            assert_eq!((w.from(), w.to()), (t(from), t(to)));
        }
    }

    #[test]
    fn converts_other_offsets_to_vietnam_time() {
        let w = TimeWindow::parse_rfc3339("2026-11-23T01:00:00Z", "2026-11-23T04:00:00Z").unwrap();
        assert_eq!(w.from().to_rfc3339(), "2026-11-23T08:00:00+07:00");
        assert_eq!(w.to().offset().local_minus_utc(), VIETNAM_OFFSET_SECS);
        let utc = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
        let w2 = TimeWindow::parse(utc, utc + TimeDelta::hours(3)).unwrap();
        assert_eq!(w, w2);
    }

    #[test]
    fn refuses_bad_windows() {
        use TimeWindowError::*;
        let d = "2026-11-23T";
        for (from, to, want) in [
            ("08:00:00+07:00", "08:00:00+07:00", Reversed),
            ("11:00:00+07:00", "08:00:00+07:00", Reversed),
            ("08:00:00+07:00", "08:29:59+07:00", TooShort { minutes: 29 }),
            ("06:00:00+07:00", "18:00:01+07:00", TooLong { minutes: 720 }),
            // 08:00+07:00 is 01:00Z: the same instant, whatever the offsets say
            ("08:00:00+07:00", "01:00:00+00:00", Reversed),
        ] {
            let got = TimeWindow::parse_rfc3339(&format!("{d}{from}"), &format!("{d}{to}"));
            assert_eq!(got, Err(want), "{from}–{to}");
        }
        for bad in ["", "2026-11-23 08:00", "2026-11-23T08:00:00", "tomorrow"] {
            assert_eq!(
                TimeWindow::parse_rfc3339(bad, "2026-11-23T11:00:00+07:00"),
                Err(BadTime(bad.to_owned()))
            );
        }
    }

    #[test]
    fn refuses_windows_already_over() {
        let w = TimeWindow::parse_rfc3339("2026-11-23T08:00:00+07:00", "2026-11-23T11:00:00+07:00")
            .unwrap();
        assert!(w.validate_not_past(&t("2026-11-22T20:00:00+07:00")).is_ok());
        assert!(w.validate_not_past(&t("2026-11-23T10:59:59+07:00")).is_ok()); // started, not over
        let at_end = Utc.with_ymd_and_hms(2026, 11, 23, 4, 0, 0).unwrap(); // 11:00 +07:00
        assert_eq!(
            w.validate_not_past(&at_end),
            Err(TimeWindowError::InThePast(
                "2026-11-23T11:00:00+07:00".into()
            ))
        );
    }

    #[test]
    fn contains_is_half_open() {
        let w = TimeWindow::parse_rfc3339("2026-11-23T08:00:00+07:00", "2026-11-23T11:00:00+07:00")
            .unwrap();
        assert!(w.contains(&t("2026-11-23T08:00:00+07:00")));
        assert!(w.contains(&t("2026-11-23T10:59:00+07:00")));
        assert!(!w.contains(&t("2026-11-23T11:00:00+07:00")));
        assert!(!w.contains(&t("2026-11-23T07:59:00+07:00")));
        assert_eq!(w.duration(), TimeDelta::hours(3));
    }

    #[test]
    fn serde_round_trips_in_vietnam_time() {
        let w: TimeWindow = serde_json::from_str(
            r#"{"from": "2026-11-23T01:00:00Z", "to": "2026-11-23T04:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(w).unwrap(),
            serde_json::json!({"from": "2026-11-23T08:00:00+07:00", "to": "2026-11-23T11:00:00+07:00"})
        );
        let back: TimeWindow = serde_json::from_value(serde_json::to_value(w).unwrap()).unwrap();
        assert_eq!(back, w);
        for bad in [
            r#"{"from": "2026-11-23T11:00:00+07:00", "to": "2026-11-23T08:00:00+07:00"}"#,
            r#"{"from": "2026-11-23T08:00:00+07:00"}"#,
            r#"{"from": "2026-11-23T08:00:00+07:00", "to": "2026-11-23T11:00:00+07:00", "x": 1}"#,
        ] {
            assert!(serde_json::from_str::<TimeWindow>(bad).is_err(), "{bad}");
        }
    }
}
