//! An agency's desk hours on a working day, with its lunch break: when a courier can
//! hand a dossier over or collect a result there.

use chrono::{NaiveTime, Timelike};

/// Opening hours of an agency's one-stop desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgencyHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    /// The lunch break, when the desk is closed.
    pub lunch: Option<(NaiveTime, NaiveTime)>,
}

/// A given, non-blank value.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Why hours were refused: the field and a message for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursError {
    pub field: &'static str,
    pub message: &'static str,
}

fn secs(t: NaiveTime) -> f64 {
    f64::from(t.num_seconds_from_midnight())
}

fn time(field: &'static str, value: &str) -> Result<NaiveTime, HoursError> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| HoursError {
        field,
        message: "Giờ phải có dạng HH:MM, ví dụ 07:30",
    })
}

impl AgencyHours {
    /// Hours from `HH:MM` strings: opening and closing together (or neither: no hours
    /// known), a lunch break both ends or neither, inside the opening hours.
    pub fn parse(
        opens: Option<&str>,
        closes: Option<&str>,
        lunch_start: Option<&str>,
        lunch_end: Option<&str>,
    ) -> Result<Option<Self>, HoursError> {
        let (opens, closes, lunch_start, lunch_end) = (
            given(opens),
            given(closes),
            given(lunch_start),
            given(lunch_end),
        );
        let (opens, closes) = match (opens, closes) {
            (None, None) => {
                if lunch_start.is_some() || lunch_end.is_some() {
                    return Err(HoursError {
                        field: "opens_at",
                        message: "Cần giờ mở cửa và đóng cửa khi có giờ nghỉ trưa",
                    });
                }
                return Ok(None);
            }
            (Some(o), Some(c)) => (time("opens_at", o)?, time("closes_at", c)?),
            (None, Some(_)) => {
                return Err(HoursError {
                    field: "opens_at",
                    message: "Cần cả giờ mở cửa và giờ đóng cửa",
                })
            }
            (Some(_), None) => {
                return Err(HoursError {
                    field: "closes_at",
                    message: "Cần cả giờ mở cửa và giờ đóng cửa",
                })
            }
        };
        if closes <= opens {
            return Err(HoursError {
                field: "closes_at",
                message: "Giờ đóng cửa phải sau giờ mở cửa",
            });
        }
        let lunch = match (lunch_start, lunch_end) {
            (None, None) => None,
            (Some(a), Some(b)) => {
                let (a, b) = (time("lunch_start", a)?, time("lunch_end", b)?);
                if !(opens < a && a < b && b < closes) {
                    return Err(HoursError {
                        field: "lunch_start",
                        message:
                            "Giờ nghỉ trưa phải nằm trong giờ mở cửa và kết thúc sau khi bắt đầu",
                    });
                }
                Some((a, b))
            }
            (None, Some(_)) => {
                return Err(HoursError {
                    field: "lunch_start",
                    message: "Cần cả giờ bắt đầu và giờ kết thúc nghỉ trưa",
                })
            }
            (Some(_), None) => {
                return Err(HoursError {
                    field: "lunch_end",
                    message: "Cần cả giờ bắt đầu và giờ kết thúc nghỉ trưa",
                })
            }
        };
        Ok(Some(Self {
            opens,
            closes,
            lunch,
        }))
    }

    /// When a desk visit of `service` seconds may start, in seconds from midnight: the
    /// window (from opening to `service` before closing) and the break (from `service`
    /// before lunch to the end of lunch) in which it may not start.
    pub fn desk_window(&self, service: f64) -> ((f64, f64), Option<(f64, f64)>) {
        let window = (
            secs(self.opens),
            (secs(self.closes) - service).max(secs(self.opens)),
        );
        let closed = self
            .lunch
            .map(|(a, b)| ((secs(a) - service).max(window.0), secs(b)));
        (window, closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hours_with_and_without_lunch() {
        let h = AgencyHours::parse(Some("07:30"), Some("17:00"), Some("11:30"), Some("13:30"))
            .unwrap()
            .unwrap();
        let ((from, to), closed) = h.desk_window(600.0);
        assert_eq!((from, to), (7.5 * 3600.0, 17.0 * 3600.0 - 600.0));
        assert_eq!(closed, Some((11.5 * 3600.0 - 600.0, 13.5 * 3600.0)));
        let h = AgencyHours::parse(Some("08:00"), Some("16:00"), None, Some(" "))
            .unwrap()
            .unwrap();
        assert_eq!(h.desk_window(0.0), ((28_800.0, 57_600.0), None));
        assert_eq!(AgencyHours::parse(None, Some(""), None, None), Ok(None));
    }

    #[test]
    fn refuses_inconsistent_hours() {
        let field = |o, c, a, b| AgencyHours::parse(o, c, a, b).unwrap_err().field;
        assert_eq!(field(Some("7h30"), Some("17:00"), None, None), "opens_at");
        assert_eq!(field(Some("07:30"), None, None, None), "closes_at");
        assert_eq!(field(Some("17:00"), Some("07:30"), None, None), "closes_at");
        assert_eq!(field(None, None, Some("11:30"), Some("13:30")), "opens_at");
        assert_eq!(
            field(Some("07:30"), Some("17:00"), Some("13:30"), Some("11:30")),
            "lunch_start"
        );
        assert_eq!(
            field(Some("07:30"), Some("17:00"), Some("06:00"), Some("08:00")),
            "lunch_start"
        );
        assert_eq!(
            field(Some("07:30"), Some("17:00"), Some("11:30"), None),
            "lunch_end"
        );
    }
}
