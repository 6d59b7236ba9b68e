//! Service figures over a set of dossiers: counts, on-time rates, lead times, failed
//! attempts, groupings; the CSV export and the SVG charts. Plain arithmetic over facts
//! fetched by the caller, so both database backends give the same answers.
//!
//! Definitions:
//! - **Pickup on time**: the latest `picked_up` is at or before the end of the pickup
//!   window; a dossier still waiting (`requested`/`scheduled`) whose window has ended
//!   counts as late.
//! - **Hand-over on time**: for every `picked_up`, the next lodging at the agency
//!   (`handed_over` or `received`) is within the hand-over deadline (working hours,
//!   holidays excluded); a pickup not yet lodged past its deadline counts as late.
//! - **Return on time**: for a result going home, `delivered` is by the close of the
//!   working day after `result_ready`; one not delivered past that deadline is late.
//! - A rate is `on_time / (on_time + late)`, `null` when nothing was due.
//! - **Lead times** (hours): `pickup` intake → first pickup; `handover` each pickup →
//!   its lodging; `processing` first lodging → latest result; `return` result →
//!   delivery; `total` intake → completion. Mean, and p90 by nearest rank: the value at
//!   1-based rank ⌈0.9·n⌉ of the sorted sample.

use crate::domain::deadlines::{handover_by, return_by, DeadlinePolicy, WorkCalendar};
use crate::timefmt::to_vn;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// One recorded event, as reports need it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFact {
    pub kind: String,
    pub status_after: String,
    /// When it happened (naive UTC).
    pub at: NaiveDateTime,
    /// `failed` events: the reason.
    pub fail_reason: Option<String>,
    /// The courier of the event's task, if any.
    pub courier_id: Option<i64>,
}

/// One dossier with its events in recorded order.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierFacts {
    pub id: i64,
    pub status: String,
    pub agency_id: i64,
    /// The post office of the courier who picked it up (or was assigned), if any.
    pub post_office_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub pickup_to: Option<NaiveDateTime>,
    pub result_goes_home: bool,
    pub events: Vec<EventFact>,
}

/// On time versus late among what was due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    pub on_time: u64,
    pub late: u64,
    pub rate: Option<f64>,
}

impl Rate {
    fn add(&mut self, on_time: bool) {
        if on_time {
            self.on_time += 1;
        } else {
            self.late += 1;
        }
        let due = self.on_time + self.late;
        self.rate = Some(self.on_time as f64 / due as f64);
    }
}

/// The three service promises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OnTime {
    pub pickup: Rate,
    pub handover: Rate,
    #[serde(rename = "return")]
    pub return_: Rate,
}

/// Mean and p90 of a sample of hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LeadTime {
    pub count: usize,
    pub mean_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// p90 by nearest rank (`None` for an empty sample).
pub fn p90(sample: &[f64]) -> Option<f64> {
    percentile_nearest_rank(sample, 90)
}

/// The value at 1-based rank ⌈p/100 · n⌉ of the sorted sample.
pub fn percentile_nearest_rank(sample: &[f64], p: u32) -> Option<f64> {
    if sample.is_empty() {
        return None;
    }
    let mut v = sample.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let rank = ((p as usize * n).div_ceil(100)).clamp(1, n);
    Some(v[rank - 1])
}

impl LeadTime {
    fn of(sample: &[f64]) -> Self {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        Self {
            count: sample.len(),
            mean_hours: (!sample.is_empty())
                .then(|| round(sample.iter().sum::<f64>() / sample.len() as f64)),
            p90_hours: p90(sample).map(round),
        }
    }
}

/// Lead times of the phases of a dossier's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LeadTimes {
    pub pickup: LeadTime,
    pub handover: LeadTime,
    pub processing: LeadTime,
    #[serde(rename = "return")]
    pub return_: LeadTime,
    pub total: LeadTime,
}

/// A group's figures (by agency, post office, day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group<K: Serialize> {
    pub key: K,
    pub dossiers: u64,
    pub completed: u64,
    pub on_time: OnTime,
}

/// A courier's work in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CourierFigures {
    pub courier_id: i64,
    pub pickups: u64,
    pub deliveries: u64,
    pub failed_attempts: u64,
}

/// One day's spread of work between the couriers who worked that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySpread {
    pub day: NaiveDate,
    /// Couriers with at least one task done or failed that day.
    pub couriers: u32,
    pub max_tasks: u32,
    pub min_tasks: u32,
    /// `max_tasks / min_tasks`.
    pub ratio: f64,
}

/// How evenly work spread between couriers: per Vietnam day with two couriers or
/// more at work, the ratio of the busiest courier's tasks (done or failed: picked up,
/// handed over, collected, delivered, failed) to the least busy one's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadSpread {
    /// Days with two couriers or more at work.
    pub days: u32,
    /// Mean of the days' ratios (1 = perfectly even).
    pub mean_ratio: Option<f64>,
    /// The day with the largest ratio.
    pub worst: Option<DaySpread>,
}

/// Kinds of events that close (or fail) one task of a courier.
const TASK_ENDS: [&str; 5] = [
    "picked_up",
    "handed_over",
    "collected",
    "delivered",
    "failed",
];

/// The spread of work between couriers over the events of `dossiers`.
pub fn load_spread(dossiers: &[DossierFacts]) -> LoadSpread {
    let mut per_day: BTreeMap<NaiveDate, BTreeMap<i64, u32>> = BTreeMap::new();
    for e in dossiers.iter().flat_map(|d| &d.events) {
        if let (true, Some(c)) = (TASK_ENDS.contains(&e.kind.as_str()), e.courier_id) {
            *per_day
                .entry(to_vn(e.at).date_naive())
                .or_default()
                .entry(c)
                .or_default() += 1;
        }
    }
    let days: Vec<DaySpread> = per_day
        .into_iter()
        .filter(|(_, by)| by.len() >= 2)
        .map(|(day, by)| {
            let max_tasks = by.values().copied().max().unwrap_or(0);
            let min_tasks = by.values().copied().min().unwrap_or(0).max(1);
            DaySpread {
                day,
                couriers: by.len() as u32,
                max_tasks,
                min_tasks,
                ratio: (f64::from(max_tasks) / f64::from(min_tasks) * 100.0).round() / 100.0,
            }
        })
        .collect();
    let n = days.len();
    LoadSpread {
        days: n as u32,
        mean_ratio: (n > 0).then(|| {
            (days.iter().map(|d| d.ratio).sum::<f64>() / n as f64 * 100.0).round() / 100.0
        }),
        worst: days
            .into_iter()
            .max_by(|a, b| a.ratio.total_cmp(&b.ratio).then(b.day.cmp(&a.day))),
    }
}

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub dossiers: u64,
    pub by_status: BTreeMap<String, u64>,
    pub on_time: OnTime,
    pub lead_times: LeadTimes,
    pub failed_attempts: BTreeMap<String, u64>,
    pub by_agency: Vec<Group<i64>>,
    pub by_post_office: Vec<Group<i64>>,
    pub by_courier: Vec<CourierFigures>,
    pub load_spread: LoadSpread,
    pub by_day: Vec<Group<NaiveDate>>,
}

fn hours(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

fn is_lodging(kind: &str) -> bool {
    kind == "handed_over" || kind == "received"
}

/// The on-time figures of one dossier, added into `acc`.
fn on_time_of(
    d: &DossierFacts,
    cal: &WorkCalendar,
    policy: &DeadlinePolicy,
    now: NaiveDateTime,
    acc: &mut OnTime,
) {
    let last = |kind: &str| d.events.iter().rev().find(|e| e.kind == kind);
    match (last("picked_up"), d.pickup_to) {
        (Some(p), Some(to)) => acc.pickup.add(p.at <= to),
        (None, Some(to)) if matches!(d.status.as_str(), "requested" | "scheduled") && to < now => {
            acc.pickup.add(false)
        }
        _ => {}
    }
    for (i, e) in d.events.iter().enumerate() {
        if e.kind != "picked_up" {
            continue;
        }
        let due = handover_by(cal, policy, &to_vn(e.at)).naive_utc();
        match d.events[i + 1..].iter().find(|x| is_lodging(&x.kind)) {
            Some(l) => acc.handover.add(l.at <= due),
            None if due < now => acc.handover.add(false),
            None => {}
        }
    }
    if d.result_goes_home {
        if let Some(r) = last("result_ready") {
            let due = return_by(cal, policy, &to_vn(r.at)).naive_utc();
            match d
                .events
                .iter()
                .find(|x| x.kind == "delivered" && x.at >= r.at)
            {
                Some(x) => acc.return_.add(x.at <= due),
                None if due < now && d.status != "cancelled" => acc.return_.add(false),
                None => {}
            }
        }
    }
}

fn group<K: Serialize + Ord + Copy>(
    dossiers: &[DossierFacts],
    key: impl Fn(&DossierFacts) -> Option<K>,
    cal: &WorkCalendar,
    policy: &DeadlinePolicy,
    now: NaiveDateTime,
) -> Vec<Group<K>> {
    let mut groups: BTreeMap<K, Group<K>> = BTreeMap::new();
    for d in dossiers {
        let Some(k) = key(d) else { continue };
        let g = groups.entry(k).or_insert_with(|| Group {
            key: k,
            dossiers: 0,
            completed: 0,
            on_time: OnTime::default(),
        });
        g.dossiers += 1;
        g.completed += u64::from(d.status == "completed");
        on_time_of(d, cal, policy, now, &mut g.on_time);
    }
    groups.into_values().collect()
}

/// The figures of `dossiers` at `now`.
pub fn summarize(
    dossiers: &[DossierFacts],
    cal: &WorkCalendar,
    policy: &DeadlinePolicy,
    now: NaiveDateTime,
) -> Summary {
    let mut by_status = BTreeMap::new();
    let mut on_time = OnTime::default();
    let mut failed = BTreeMap::new();
    let (mut pickup, mut handover, mut processing, mut ret, mut total) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut couriers: BTreeMap<i64, CourierFigures> = BTreeMap::new();
    for d in dossiers {
        *by_status.entry(d.status.clone()).or_insert(0) += 1;
        on_time_of(d, cal, policy, now, &mut on_time);
        let first = |kind: &str| d.events.iter().find(|e| e.kind == kind);
        if let Some(p) = first("picked_up") {
            pickup.push(hours(d.created_at, p.at));
        }
        for (i, e) in d.events.iter().enumerate() {
            if e.kind == "picked_up" {
                if let Some(l) = d.events[i + 1..].iter().find(|x| is_lodging(&x.kind)) {
                    handover.push(hours(e.at, l.at));
                }
            }
        }
        let result = d.events.iter().rev().find(|e| e.kind == "result_ready");
        if let (Some(l), Some(r)) = (d.events.iter().find(|e| is_lodging(&e.kind)), result) {
            processing.push(hours(l.at, r.at));
        }
        if let Some(r) = result {
            if let Some(x) = d
                .events
                .iter()
                .find(|x| x.kind == "delivered" && x.at >= r.at)
            {
                ret.push(hours(r.at, x.at));
            }
        }
        if let Some(c) = d.events.iter().find(|e| e.status_after == "completed") {
            total.push(hours(d.created_at, c.at));
        }
        for e in &d.events {
            if e.kind == "failed" {
                let reason = e.fail_reason.clone().unwrap_or_else(|| "other".into());
                *failed.entry(reason).or_insert(0) += 1;
            }
            if let Some(cid) = e.courier_id {
                let c = couriers.entry(cid).or_insert_with(|| CourierFigures {
                    courier_id: cid,
                    ..Default::default()
                });
                match e.kind.as_str() {
                    "picked_up" => c.pickups += 1,
                    "delivered" => c.deliveries += 1,
                    "failed" => c.failed_attempts += 1,
                    _ => {}
                }
            }
        }
    }
    Summary {
        dossiers: dossiers.len() as u64,
        by_status,
        on_time,
        lead_times: LeadTimes {
            pickup: LeadTime::of(&pickup),
            handover: LeadTime::of(&handover),
            processing: LeadTime::of(&processing),
            return_: LeadTime::of(&ret),
            total: LeadTime::of(&total),
        },
        failed_attempts: failed,
        by_agency: group(dossiers, |d| Some(d.agency_id), cal, policy, now),
        by_post_office: group(dossiers, |d| d.post_office_id, cal, policy, now),
        by_courier: couriers.into_values().collect(),
        load_spread: load_spread(dossiers),
        by_day: group(
            dossiers,
            |d| Some(to_vn(d.created_at).date_naive()),
            cal,
            policy,
            now,
        ),
    }
}

/// On-time rate of all three promises together, per ISO week (Monday's date).
pub fn on_time_by_week(
    dossiers: &[DossierFacts],
    cal: &WorkCalendar,
    policy: &DeadlinePolicy,
    now: NaiveDateTime,
) -> Vec<(NaiveDate, Option<f64>)> {
    let monday = |d: &DossierFacts| {
        let day = to_vn(d.created_at).date_naive();
        day - chrono::Duration::days(day.weekday().num_days_from_monday() as i64)
    };
    group(dossiers, |d| Some(monday(d)), cal, policy, now)
        .into_iter()
        .map(|g| {
            let t = &g.on_time;
            let on = t.pickup.on_time + t.handover.on_time + t.return_.on_time;
            let due = on + t.pickup.late + t.handover.late + t.return_.late;
            (g.key, (due > 0).then(|| on as f64 / due as f64))
        })
        .collect()
}

/// Buckets of the intake-to-completion lead time, in hours.
pub const LEAD_TIME_BUCKETS: [(f64, &str); 6] = [
    (24.0, "< 1 ngày"),
    (48.0, "1–2 ngày"),
    (72.0, "2–3 ngày"),
    (120.0, "3–5 ngày"),
    (240.0, "5–10 ngày"),
    (f64::INFINITY, "> 10 ngày"),
];

/// How many completed dossiers fall in each lead-time bucket.
pub fn lead_time_histogram(dossiers: &[DossierFacts]) -> Vec<(&'static str, u64)> {
    let mut counts = vec![0u64; LEAD_TIME_BUCKETS.len()];
    for d in dossiers {
        if let Some(c) = d.events.iter().find(|e| e.status_after == "completed") {
            let h = hours(d.created_at, c.at);
            let i = LEAD_TIME_BUCKETS
                .iter()
                .position(|(limit, _)| h < *limit)
                .unwrap_or(LEAD_TIME_BUCKETS.len() - 1);
            counts[i] += 1;
        }
    }
    LEAD_TIME_BUCKETS
        .iter()
        .zip(counts)
        .map(|((_, label), n)| (*label, n))
        .collect()
}

/// One CSV field: quoted when it holds a separator, quote or line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A number as Vietnamese write it: at most one decimal, a comma before it.
pub fn number_vi(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}").replace('.', ",")
    }
}

/// A CSV document: UTF-8 byte-order mark (so Excel reads Vietnamese), CRLF lines.
pub fn csv_document(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    let line = |fields: Vec<String>| fields.join(",") + "\r\n";
    out.push_str(&line(header.iter().map(|h| csv_field(h)).collect()));
    for r in rows {
        out.push_str(&line(r.iter().map(|f| csv_field(f)).collect()));
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Largest number of category labels under the axis: more would overlap.
const MAX_AXIS_LABELS: usize = 16;
/// Narrowest bar slot (in chart units) that still gets its value written above it.
const MIN_VALUE_SLOT: f64 = 24.0;

/// A bar chart as a standalone SVG document; `values` may be missing (`None`: no bar).
/// `percent` formats values as percentages of 1. Text is sized to stay legible when
/// the chart is shown at about 500 px wide: with many bars, only every k-th category
/// is labelled and values are left to the bars' tooltips.
pub fn bar_chart_svg(title: &str, bars: &[(String, Option<f64>)], percent: bool) -> String {
    let (w, h, left, bottom, top) = (720.0, 320.0, 56.0, 76.0, 44.0);
    let plot_h = h - bottom - top;
    let max = if percent {
        1.0
    } else {
        bars.iter()
            .filter_map(|b| b.1)
            .fold(0.0f64, f64::max)
            .max(1.0)
    };
    let n = bars.len().max(1) as f64;
    let slot = (w - left - 16.0) / n;
    let bar_w = (slot * 0.7).max(1.0);
    let label_every = bars.len().div_ceil(MAX_AXIS_LABELS).max(1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" font-size=\"15\" fill=\"#222\">\
         <title>{t}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{left}\" y=\"26\" font-size=\"18\" font-weight=\"bold\">{t}</text>\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#333\"/>",
        t = xml_escape(title),
        y0 = h - bottom,
        x1 = w - 8.0,
    );
    for (i, tick) in [0.0, 0.5, 1.0].iter().enumerate() {
        let y = h - bottom - tick * plot_h;
        let label = if percent {
            format!("{:.0}%", tick * 100.0)
        } else {
            number_vi(tick * max)
        };
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\" data-tick=\"{i}\">{label}</text>",
            x = left - 6.0,
            y = y + 4.0
        ));
    }
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar_w) / 2.0;
        if let Some(v) = value {
            let bh = (v / max).clamp(0.0, 1.0) * plot_h;
            let shown = if percent {
                format!("{}%", number_vi(v * 100.0))
            } else {
                number_vi(*v)
            };
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"#c8102e\"><title>{l}: {shown}</title></rect>",
                y = h - bottom - bh,
                l = xml_escape(label),
            ));
            if slot >= MIN_VALUE_SLOT {
                svg.push_str(&format!(
                    "<text x=\"{cx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" data-value=\"{i}\">{shown}</text>",
                    cx = x + bar_w / 2.0,
                    ty = h - bottom - bh - 5.0,
                ));
            }
        }
        if i % label_every != 0 {
            continue;
        }
        svg.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{y}\" text-anchor=\"end\" transform=\"rotate(-40 {cx:.1} {y})\" data-label=\"{i}\">{l}</text>",
            cx = x + bar_w / 2.0,
            y = h - bottom + 18.0,
            l = xml_escape(label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {

    #[test]
    fn load_spread_compares_the_busiest_and_least_busy_courier_of_each_day() {
        let ev = |kind: &str, at: &str, courier: i64| EventFact {
            kind: kind.into(),
            status_after: String::new(),
            at: t(at),
            fail_reason: None,
            courier_id: Some(courier),
        };
        let mut d = DossierFacts {
            events: vec![
                // Monday: courier 1 four tasks, courier 2 one.
                ev("picked_up", "2026-11-02T09:00:00", 1),
                ev("handed_over", "2026-11-02T14:00:00", 1),
                ev("failed", "2026-11-02T15:00:00", 1),
                ev("delivered", "2026-11-02T16:00:00", 1),
                ev("picked_up", "2026-11-02T10:00:00", 2),
                ev("arrived", "2026-11-02T09:55:00", 2), // not a task's end
                // Tuesday: two each.
                ev("picked_up", "2026-11-03T09:00:00", 1),
                ev("collected", "2026-11-03T10:00:00", 1),
                ev("picked_up", "2026-11-03T09:00:00", 2),
                ev("delivered", "2026-11-03T11:00:00", 2),
                // Wednesday: one courier only, no spread.
                ev("picked_up", "2026-11-04T09:00:00", 3),
            ],
            ..journey(false, false)
        };
        d.id = 9;
        let s = load_spread(&[d]);
        assert_eq!(s.days, 2);
        assert_eq!(s.mean_ratio, Some(2.5));
        let worst = s.worst.unwrap();
        assert_eq!(
            (worst.max_tasks, worst.min_tasks, worst.couriers),
            (4, 1, 2)
        );
        assert_eq!(worst.day.to_string(), "2026-11-02");
        assert_eq!(load_spread(&[]), LoadSpread::default());
    }

    #[test]
    fn many_bars_keep_the_axis_text_legible() {
        let bars: Vec<(String, Option<f64>)> = (0..45)
            .map(|i| (format!("{:02}/11", i % 30 + 1), Some(i as f64)))
            .collect();
        let svg = bar_chart_svg("Số hồ sơ", &bars, false);
        let labels = svg.matches("data-label=").count();
        assert!((10..=16).contains(&labels), "{labels} category labels");
        assert_eq!(
            svg.matches("data-value=").count(),
            0,
            "no values crowded over narrow bars"
        );
        assert!(svg.contains("font-size=\"15\""));
        let few = bar_chart_svg("Số hồ sơ", &bars[..5], false);
        assert_eq!(few.matches("data-label=").count(), 5);
        assert_eq!(few.matches("data-value=").count(), 5);
    }

    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(number_vi(1.5), "1,5");
        assert_eq!(number_vi(88.888), "88,9");
        assert_eq!(number_vi(100.0), "100");
        assert_eq!(number_vi(0.0), "0");
    }

    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        // Local Vietnamese time → stored naive UTC.
        chrono::DateTime::parse_from_rfc3339(&format!("{s}+07:00"))
            .unwrap()
            .naive_utc()
    }

    fn ev(kind: &str, status: &str, at: &str) -> EventFact {
        EventFact {
            kind: kind.into(),
            status_after: status.into(),
            at: t(at),
            fail_reason: None,
            courier_id: Some(7),
        }
    }

    #[test]
    fn p90_by_nearest_rank() {
        assert_eq!(p90(&[]), None);
        assert_eq!(p90(&[5.0]), Some(5.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(p90(&ten), Some(9.0));
        let eleven: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        assert_eq!(p90(&eleven), Some(10.0)); // rank ⌈9.9⌉ = 10
        assert_eq!(percentile_nearest_rank(&[3.0, 1.0, 2.0], 50), Some(2.0));
        assert_eq!(percentile_nearest_rank(&[3.0, 1.0, 2.0], 100), Some(3.0));
    }

    /// Monday 23 November 2026 onwards; no holidays.
    fn journey(late_pickup: bool, late_return: bool) -> DossierFacts {
        let pickup_at = if late_pickup {
            "2026-11-23T11:30:00"
        } else {
            "2026-11-23T09:00:00"
        };
        let delivered = if late_return {
            "2026-12-01T10:00:00"
        } else {
            "2026-11-27T10:00:00"
        };
        DossierFacts {
            id: 1,
            status: "completed".into(),
            agency_id: 1,
            post_office_id: Some(3),
            created_at: t("2026-11-22T09:00:00"),
            pickup_to: Some(t("2026-11-23T11:00:00")),
            result_goes_home: true,
            events: vec![
                ev("assigned", "scheduled", "2026-11-22T10:00:00"),
                ev("picked_up", "picked_up", pickup_at),
                ev("handed_over", "at_agency", "2026-11-23T14:00:00"),
                ev("result_ready", "result_ready", "2026-11-26T09:00:00"),
                ev("collected", "out_for_delivery", "2026-11-27T08:00:00"),
                ev("delivered", "completed", delivered),
            ],
        }
    }

    #[test]
    fn on_time_rates_and_lead_times_of_known_journeys() {
        let cal = WorkCalendar::new([]);
        let now = t("2026-12-10T00:00:00");
        let ds = vec![journey(false, false), journey(true, true)];
        let s = summarize(&ds, &cal, &DeadlinePolicy::default(), now);
        assert_eq!(s.dossiers, 2);
        assert_eq!(s.by_status["completed"], 2);
        assert_eq!((s.on_time.pickup.on_time, s.on_time.pickup.late), (1, 1));
        assert_eq!(s.on_time.pickup.rate, Some(0.5));
        assert_eq!(s.on_time.handover.rate, Some(1.0));
        // Ready Thursday 26th → due by Friday 27th 17:00; Tuesday 1st is late.
        assert_eq!((s.on_time.return_.on_time, s.on_time.return_.late), (1, 1));
        // Pickup lead: 24 h and 26.5 h.
        assert_eq!(s.lead_times.pickup.mean_hours, Some(25.25));
        assert_eq!(s.lead_times.pickup.p90_hours, Some(26.5));
        assert_eq!(s.lead_times.processing.mean_hours, Some(67.0));
        assert_eq!(s.by_courier[0].pickups, 2);
        assert_eq!(s.by_agency[0].dossiers, 2);
        assert_eq!(s.by_post_office[0].key, 3);
        assert_eq!(
            s.by_day[0].key,
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
    }

    #[test]
    fn overdue_work_counts_as_late() {
        let cal = WorkCalendar::new([]);
        let mut waiting = journey(false, false);
        waiting.status = "scheduled".into();
        waiting.events.truncate(1);
        let mut carried = journey(false, false);
        carried.status = "picked_up".into();
        carried.events.truncate(2);
        let policy = DeadlinePolicy::default();
        let s = summarize(
            &[waiting.clone(), carried.clone()],
            &cal,
            &policy,
            t("2026-11-23T10:00:00"),
        );
        // Window still open, hand-over not yet due.
        assert_eq!(
            s.on_time.pickup,
            Rate {
                on_time: 1,
                late: 0,
                rate: Some(1.0)
            }
        );
        assert_eq!(s.on_time.handover.rate, None);
        let s = summarize(&[waiting, carried], &cal, &policy, t("2026-11-25T10:00:00"));
        assert_eq!((s.on_time.pickup.on_time, s.on_time.pickup.late), (1, 1));
        assert_eq!(s.on_time.handover.late, 1);
    }

    #[test]
    fn csv_escapes_and_starts_with_a_bom() {
        assert_eq!(csv_field("Nguyễn Văn An"), "Nguyễn Văn An");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        let doc = csv_document(&["mã", "tên"], &[vec!["HS1".into(), "Bình, Trần".into()]]);
        assert!(doc.starts_with('\u{feff}'));
        assert_eq!(doc, "\u{feff}mã,tên\r\nHS1,\"Bình, Trần\"\r\n");
    }

    #[test]
    fn charts_are_escaped_svg() {
        let svg = bar_chart_svg(
            "Hồ sơ <mỗi> ngày",
            &[("23/11".into(), Some(4.0)), ("24/11".into(), None)],
            false,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Hồ sơ &lt;mỗi&gt; ngày"));
        assert_eq!(svg.matches("<rect x=").count(), 1);
        let pct = bar_chart_svg("Tỷ lệ", &[("T1".into(), Some(0.75))], true);
        assert!(pct.contains(">75%<"), "{pct}");
        let pct = bar_chart_svg("Tỷ lệ", &[("T1".into(), Some(0.889))], true);
        assert!(pct.contains(">88,9%<"), "{pct}");
    }

    #[test]
    fn lead_time_histogram_buckets() {
        let h = lead_time_histogram(&[journey(false, false), journey(true, true)]);
        // 5 days 1 h → "5–10 ngày"; 9 days 1 h → "5–10 ngày".
        assert_eq!(h[4], ("5–10 ngày", 2));
        assert_eq!(h.iter().map(|x| x.1).sum::<u64>(), 2);
    }
}
