//! Working-day arithmetic for dossier deadlines.
//!
//! Deadlines count working days and working hours in Vietnam's local time (+07:00):
//! Saturdays, Sundays and the configured public holidays are off, and a working day
//! runs 07:30–11:30 and 13:30–17:00 (7.5 hours). A deadline "N working days after"
//! a moment ends at the close of the N-th working day after that moment's date.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Weekday,
};
use serde::{Deserialize, Serialize};

use crate::domain::time_window::{vn_offset, TimeWindow};

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => panic!("valid time of day"),
    }
}

/// Offices open in the morning.
pub const MORNING_START: NaiveTime = hm(7, 30);
/// Lunch break starts.
pub const MORNING_END: NaiveTime = hm(11, 30);
/// Offices reopen after lunch.
pub const AFTERNOON_START: NaiveTime = hm(13, 30);
/// Offices close; a "by the end of the day" deadline falls here.
pub const AFTERNOON_END: NaiveTime = hm(17, 0);
/// Standard office hours of Vietnamese public bodies, as `[start, end)` periods.
pub const OFFICE_HOURS: [(NaiveTime, NaiveTime); 2] = [
    (MORNING_START, MORNING_END),
    (AFTERNOON_START, AFTERNOON_END),
];

/// Why a set of working periods was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A day needs at least one working period, or no deadline would ever fall.
    #[error("a working day needs at least one working period")]
    NoPeriods,
    /// Periods must each start before they end, in order, without overlapping.
    #[error("working periods must be ordered and must not overlap")]
    BadPeriods,
}

/// Which days and hours count, built from the configured holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl WorkCalendar {
    /// A calendar with standard office hours and the given public holidays.
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
            periods: OFFICE_HOURS.to_vec(),
        }
    }

    /// A calendar with other working periods (e.g. a province's summer hours).
    pub fn with_periods(
        holidays: impl IntoIterator<Item = NaiveDate>,
        periods: Vec<(NaiveTime, NaiveTime)>,
    ) -> Result<Self, CalendarError> {
        if periods.is_empty() {
            return Err(CalendarError::NoPeriods);
        }
        let ordered =
            periods.iter().all(|(s, e)| s < e) && periods.windows(2).all(|w| w[0].1 <= w[1].0);
        if !ordered {
            return Err(CalendarError::BadPeriods);
        }
        Ok(Self {
            holidays: holidays.into_iter().collect(),
            periods,
        })
    }

    /// Whether `date` is a configured holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// Monday to Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = next_date(date);
        while !self.is_working_day(d) {
            d = next_date(d);
        }
        d
    }

    /// The `n`-th working day after `date` (`date` itself never counts; `n = 0` gives `date`).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        (0..n).fold(date, |d, _| self.next_working_day(d))
    }

    /// Working time in one working day (7 h 30 with office hours).
    pub fn working_time_per_day(&self) -> TimeDelta {
        self.periods.iter().map(|(s, e)| *e - *s).sum()
    }

    /// Closing time of `date`, where "by the end of that day" deadlines fall.
    pub fn end_of_day(&self, date: NaiveDate) -> DateTime<FixedOffset> {
        let close = self.periods.last().expect("checked non-empty").1;
        at_vn(date.and_time(close))
    }

    /// `t` itself if it is working time, else the next opening (a deadline clock restarts there).
    pub fn next_working_moment<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> DateTime<FixedOffset> {
        at_vn(self.next_slot(local(t)).0)
    }

    /// `t` plus `hours` of working time; a deadline that uses up a period ends at its close.
    pub fn add_working_hours<Tz: TimeZone>(
        &self,
        t: &DateTime<Tz>,
        hours: u32,
    ) -> DateTime<FixedOffset> {
        self.add_working_time(t, TimeDelta::hours(i64::from(hours)))
    }

    /// `t` plus a working duration; zero or negative durations give `t` back in +07:00.
    pub fn add_working_time<Tz: TimeZone>(
        &self,
        t: &DateTime<Tz>,
        amount: TimeDelta,
    ) -> DateTime<FixedOffset> {
        let mut now = local(t);
        let mut left = amount;
        if left <= TimeDelta::zero() {
            return at_vn(now);
        }
        loop {
            let (start, end) = self.next_slot(now);
            if left <= end - start {
                return at_vn(start + left);
            }
            left -= end - start;
            now = end;
        }
    }

    /// The working stretch `[from, period end)` at or after `n`, local time.
    fn next_slot(&self, n: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
        let (mut date, mut time) = (n.date(), n.time());
        loop {
            if self.is_working_day(date) {
                if let Some((s, e)) = self.periods.iter().find(|(_, e)| time < *e) {
                    return (date.and_time(time.max(*s)), date.and_time(*e));
                }
            }
            date = next_date(date);
            time = NaiveTime::MIN;
        }
    }
}

fn next_date(d: NaiveDate) -> NaiveDate {
    d.succ_opt().expect("dates far before year 262143")
}

fn local<Tz: TimeZone>(t: &DateTime<Tz>) -> NaiveDateTime {
    t.with_timezone(&vn_offset()).naive_local()
}

fn at_vn(n: NaiveDateTime) -> DateTime<FixedOffset> {
    vn_offset()
        .from_local_datetime(&n)
        .single()
        .expect("a fixed offset maps every local time once")
}

/// Service-level promises, from configuration (defaults follow DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// Working hours from pickup to hand-over at the agency (8: the next working day).
    pub handover_working_hours: u32,
    /// Working days from `result_ready` to the result at the citizen's door.
    pub return_working_days: u32,
    /// Working days to answer a complaint inside one province.
    pub complaint_days_within_province: u32,
    /// Working days to answer a complaint that spans provinces.
    pub complaint_days_across_provinces: u32,
    /// Months during which a citizen may complain.
    pub complaint_window_months: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self {
            handover_working_hours: 8,
            return_working_days: 1,
            complaint_days_within_province: 5,
            complaint_days_across_provinces: 7,
            complaint_window_months: 6,
        }
    }
}

/// Whether a complaint involves one province or several; sets the answer deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintScope {
    /// Pickup, agency and delivery all in one province.
    WithinProvince,
    /// Any two of them in different provinces.
    AcrossProvinces,
}

/// The pickup is promised by the end of its window.
pub fn pickup_by(window: &TimeWindow) -> DateTime<FixedOffset> {
    window.to()
}

/// The dossier must be lodged at the agency this many working hours after pickup.
pub fn handover_by<Tz: TimeZone>(
    calendar: &WorkCalendar,
    policy: &DeadlinePolicy,
    picked_up_at: &DateTime<Tz>,
) -> DateTime<FixedOffset> {
    calendar.add_working_hours(picked_up_at, policy.handover_working_hours)
}

/// The result must be home by the close of the next working day(s) after it is ready.
pub fn return_by<Tz: TimeZone>(
    calendar: &WorkCalendar,
    policy: &DeadlinePolicy,
    result_ready_at: &DateTime<Tz>,
) -> DateTime<FixedOffset> {
    let ready_on = local(result_ready_at).date();
    calendar.end_of_day(calendar.add_working_days(ready_on, policy.return_working_days))
}

/// The postal side must answer a complaint by the close of the 5th (or 7th) working day.
pub fn complaint_answer_by<Tz: TimeZone>(
    calendar: &WorkCalendar,
    policy: &DeadlinePolicy,
    received_at: &DateTime<Tz>,
    scope: ComplaintScope,
) -> DateTime<FixedOffset> {
    let days = match scope {
        ComplaintScope::WithinProvince => policy.complaint_days_within_province,
        ComplaintScope::AcrossProvinces => policy.complaint_days_across_provinces,
    };
    let received_on = local(received_at).date();
    calendar.end_of_day(calendar.add_working_days(received_on, days))
}

/// Last calendar day on which a complaint about a dossier closed on `closed_on` is accepted.
pub fn complaint_window_closes(policy: &DeadlinePolicy, closed_on: NaiveDate) -> NaiveDate {
    closed_on
        .checked_add_months(Months::new(policy.complaint_window_months))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// National Day 2026 (1–2 September, as configured) and a Tết 2027 break around
    /// Lunar New Year's Day, Saturday 6 February 2027: Thursday 4 to Wednesday 10.
    fn calendar() -> WorkCalendar {
        let tet = (4..=10).map(|day| NaiveDate::from_ymd_opt(2027, 2, day).unwrap());
        WorkCalendar::new([d("2026-09-01"), d("2026-09-02")].into_iter().chain(tet))
    }

    #[test]
    fn the_test_dates_fall_on_the_expected_weekdays() {
        assert_eq!(d("2026-09-02").weekday(), Weekday::Wed);
        assert_eq!(d("2027-02-06").weekday(), Weekday::Sat);
        assert_eq!(d("2027-02-11").weekday(), Weekday::Thu);
        assert_eq!(d("2026-11-23").weekday(), Weekday::Mon);
    }

    #[test]
    fn weekends_and_holidays_are_off() {
        let cal = calendar();
        for (date, working) in [
            ("2026-11-23", true),  // Monday
            ("2026-11-27", true),  // Friday
            ("2026-11-28", false), // Saturday
            ("2026-11-29", false), // Sunday
            ("2026-09-02", false), // National Day
            ("2026-09-03", true),
            ("2027-02-08", false), // Tết, Monday
            ("2027-02-11", true),
        ] {
            assert_eq!(cal.is_working_day(d(date)), working, "{date}");
        }
        assert!(cal.is_holiday(d("2027-02-06")) && !cal.is_holiday(d("2026-11-28")));
    }

    #[test]
    fn adds_working_days() {
        let cal = calendar();
        for (from, n, want) in [
            ("2026-11-23", 0, "2026-11-23"),
            ("2026-11-23", 1, "2026-11-24"),
            ("2026-11-27", 1, "2026-11-30"), // Friday → Monday
            ("2026-11-28", 1, "2026-11-30"), // from a Saturday
            ("2026-08-28", 2, "2026-09-03"), // Fri → Mon 31 → (1–2 Sep off) Thu 3
            ("2027-02-03", 1, "2027-02-11"), // over Tết
            ("2027-02-03", 5, "2027-02-17"),
            ("2026-11-23", 10, "2026-12-07"),
        ] {
            assert_eq!(cal.add_working_days(d(from), n), d(want), "{from} + {n}");
        }
    }

    #[test]
    fn finds_the_next_working_moment() {
        let cal = calendar();
        for (at, want) in [
            ("2026-11-23T09:00:00+07:00", "2026-11-23T09:00:00+07:00"),
            ("2026-11-23T07:30:00+07:00", "2026-11-23T07:30:00+07:00"),
            ("2026-11-23T06:00:00+07:00", "2026-11-23T07:30:00+07:00"),
            ("2026-11-23T11:30:00+07:00", "2026-11-23T13:30:00+07:00"), // lunch
            ("2026-11-23T17:00:00+07:00", "2026-11-24T07:30:00+07:00"),
            ("2026-11-27T18:00:00+07:00", "2026-11-30T07:30:00+07:00"), // weekend
            ("2026-08-31T20:00:00+07:00", "2026-09-03T07:30:00+07:00"), // National Day
            ("2026-11-23T02:00:00Z", "2026-11-23T09:00:00+07:00"),      // UTC in, +07:00 out
            ("2026-11-22T23:00:00Z", "2026-11-23T07:30:00+07:00"),      // 06:00 Monday local
        ] {
            let got = cal.next_working_moment(&t(at));
            assert_eq!(got.to_rfc3339(), want, "{at}");
        }
    }

    #[test]
    fn adds_working_hours_across_breaks_weekends_and_holidays() {
        let cal = calendar();
        for (at, hours, want) in [
            ("2026-11-23T08:00:00+07:00", 0, "2026-11-23T08:00:00+07:00"),
            ("2026-11-23T08:00:00+07:00", 2, "2026-11-23T10:00:00+07:00"),
            ("2026-11-23T10:00:00+07:00", 2, "2026-11-23T14:00:00+07:00"), // over lunch
            ("2026-11-23T07:30:00+07:00", 4, "2026-11-23T11:30:00+07:00"), // ends at the break
            ("2026-11-23T09:00:00+07:00", 8, "2026-11-24T09:30:00+07:00"),
            ("2026-11-27T15:00:00+07:00", 8, "2026-11-30T15:30:00+07:00"), // Friday
            ("2026-11-28T10:00:00+07:00", 8, "2026-12-01T08:00:00+07:00"), // Saturday pickup
            ("2026-08-31T16:00:00+07:00", 2, "2026-09-03T08:30:00+07:00"),
            ("2027-02-03T16:00:00+07:00", 8, "2027-02-11T16:30:00+07:00"), // Tết
        ] {
            let got = cal.add_working_hours(&t(at), hours);
            assert_eq!(got.to_rfc3339(), want, "{at} + {hours} h");
        }
        let half = cal.add_working_time(&t("2026-11-23T11:00:00+07:00"), TimeDelta::minutes(45));
        assert_eq!(half.to_rfc3339(), "2026-11-23T13:45:00+07:00");
        assert_eq!(cal.working_time_per_day(), TimeDelta::minutes(450));
    }

    #[test]
    fn dossier_deadlines() {
        let cal = calendar();
        let policy = DeadlinePolicy::default();
        let window =
            TimeWindow::parse_rfc3339("2026-11-23T08:00:00+07:00", "2026-11-23T11:00:00+07:00")
                .unwrap();
        assert_eq!(pickup_by(&window).to_rfc3339(), "2026-11-23T11:00:00+07:00");
        let handover = handover_by(&cal, &policy, &t("2026-11-23T09:00:00+07:00"));
        assert_eq!(handover.to_rfc3339(), "2026-11-24T09:30:00+07:00");
        for (ready, want) in [
            ("2026-11-23T08:00:00+07:00", "2026-11-24T17:00:00+07:00"),
            ("2026-11-27T16:59:00+07:00", "2026-11-30T17:00:00+07:00"), // Friday
            ("2026-11-28T09:00:00+07:00", "2026-11-30T17:00:00+07:00"), // Saturday
            ("2026-08-31T10:00:00+07:00", "2026-09-03T17:00:00+07:00"),
            ("2027-02-03T16:00:00+07:00", "2027-02-11T17:00:00+07:00"),
            ("2026-11-23T18:30:00Z", "2026-11-25T17:00:00+07:00"), // already Tuesday in Vietnam
        ] {
            assert_eq!(
                return_by(&cal, &policy, &t(ready)).to_rfc3339(),
                want,
                "{ready}"
            );
        }
    }

    #[test]
    fn complaint_deadlines() {
        let cal = calendar();
        let policy = DeadlinePolicy::default();
        let received = t("2027-02-03T10:00:00+07:00");
        let within = complaint_answer_by(&cal, &policy, &received, ComplaintScope::WithinProvince);
        let across = complaint_answer_by(&cal, &policy, &received, ComplaintScope::AcrossProvinces);
        assert_eq!(within.to_rfc3339(), "2027-02-17T17:00:00+07:00");
        assert_eq!(across.to_rfc3339(), "2027-02-19T17:00:00+07:00");
        let sat = t("2026-11-28T10:00:00+07:00");
        let within = complaint_answer_by(&cal, &policy, &sat, ComplaintScope::WithinProvince);
        assert_eq!(within.to_rfc3339(), "2026-12-04T17:00:00+07:00");
        assert_eq!(
            complaint_window_closes(&policy, d("2026-11-23")),
            d("2027-05-23")
        );
        assert_eq!(
            complaint_window_closes(&policy, d("2026-08-31")),
            d("2027-02-28")
        );
    }

    #[test]
    fn policy_and_periods_are_configurable() {
        let policy: DeadlinePolicy =
            serde_json::from_str(r#"{"handover_working_hours": 4}"#).unwrap();
        assert_eq!(policy.handover_working_hours, 4);
        assert_eq!(policy.complaint_days_across_provinces, 7);
        assert!(serde_json::from_str::<DeadlinePolicy>(r#"{"handover_hours": 4}"#).is_err());

        let summer =
            WorkCalendar::with_periods([], vec![(hm(7, 0), hm(11, 0)), (hm(13, 0), hm(16, 30))])
                .unwrap();
        let got = summer.add_working_hours(&t("2026-06-01T10:00:00+07:00"), 2);
        assert_eq!(got.to_rfc3339(), "2026-06-01T14:00:00+07:00");
        assert_eq!(
            summer.end_of_day(d("2026-06-01")).to_rfc3339(),
            "2026-06-01T16:30:00+07:00"
        );

        for bad in [
            vec![],
            vec![(hm(11, 0), hm(7, 0))],
            vec![(hm(7, 0), hm(12, 0)), (hm(11, 0), hm(17, 0))],
            vec![(hm(13, 0), hm(17, 0)), (hm(7, 0), hm(11, 0))],
        ] {
            assert!(
                WorkCalendar::with_periods([], bad.clone()).is_err(),
                "{bad:?}"
            );
        }
    }
}
