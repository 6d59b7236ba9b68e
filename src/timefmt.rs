//! How times leave the service: RFC 3339 in Vietnam's offset (+07:00).

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Serializer;

/// Vietnam's UTC offset; the country has no daylight saving.
pub fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// A stored naive-UTC timestamp as a +07:00 time.
pub fn to_vn(t: NaiveDateTime) -> DateTime<FixedOffset> {
    t.and_utc().with_timezone(&vn())
}

/// serde helper: `#[serde(serialize_with = "crate::timefmt::ser")]`.
pub fn ser<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_vn(*t).to_rfc3339())
}

/// serde helper for optional timestamps.
pub fn ser_opt<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_shown_at_plus_seven() {
        let t = NaiveDateTime::parse_from_str("2026-11-23 01:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(to_vn(t).to_rfc3339(), "2026-11-23T08:00:00+07:00");
    }
}
