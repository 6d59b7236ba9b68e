//! A courier's working time: daily shift hours and days off (weekdays or dates).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// When a courier works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub start: NaiveTime,
    pub end: NaiveTime,
    weekdays_off: Vec<Weekday>,
    dates_off: Vec<NaiveDate>,
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

impl Shift {
    /// Builds a shift from `HH:MM` times and day-off names (`sun`, `2026-12-24`);
    /// `None` when a time does not parse or the shift ends before it starts.
    pub fn parse(start: &str, end: &str, days_off: &[String]) -> Option<Self> {
        let start = NaiveTime::parse_from_str(start, "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(end, "%H:%M").ok()?;
        if end <= start {
            return None;
        }
        let mut weekdays_off = Vec::new();
        let mut dates_off = Vec::new();
        for d in days_off {
            if let Some(w) = weekday(d) {
                weekdays_off.push(w);
            } else if let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                dates_off.push(date);
            }
        }
        Some(Self {
            start,
            end,
            weekdays_off,
            dates_off,
        })
    }

    /// Whether the courier works at all on `date` (local).
    pub fn works_on(&self, date: NaiveDate) -> bool {
        !self.weekdays_off.contains(&date.weekday()) && !self.dates_off.contains(&date)
    }

    /// Whether `local` (Vietnam time) falls inside a working shift.
    pub fn is_on(&self, local: NaiveDateTime) -> bool {
        self.works_on(local.date()) && (self.start..self.end).contains(&local.time())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn shift_hours_and_days_off() {
        let s = Shift::parse("07:30", "17:00", &["sun".into(), "2026-12-24".into()]).unwrap();
        assert!(s.is_on(at("2026-11-23 07:30"))); // Monday
        assert!(!s.is_on(at("2026-11-23 17:00")));
        assert!(!s.is_on(at("2026-11-23 06:59")));
        assert!(!s.is_on(at("2026-11-22 10:00")), "Sunday off");
        assert!(!s.is_on(at("2026-12-24 10:00")), "a date off");
        assert!(s.works_on(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
        assert!(Shift::parse("17:00", "07:30", &[]).is_none());
        assert!(Shift::parse("7h", "17:00", &[]).is_none());
    }
}
