//! Cash reconciliation (đối soát thu hộ): what each courier should have collected on
//! a day (the postal fee and the agency fee of every dossier picked up, or delivered
//! when only the return leg was asked for), what the courier recorded as collected,
//! and what the post office cashier counted at the shift-end hand-over.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One collection at a citizen's door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub courier_id: i64,
    /// The Vietnam calendar day of the pickup (or delivery).
    pub day: NaiveDate,
    /// The postal fee (cước) owed on this visit.
    pub postal_fee_vnd: i64,
    /// The agency fee (lệ phí) collected on the agency's behalf on this visit.
    pub agency_fee_vnd: i64,
    /// What the courier recorded as taken from the citizen.
    pub collected_vnd: i64,
}

/// A recorded shift-end hand-over of a courier's cash to the cashier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handover {
    pub courier_id: i64,
    pub day: NaiveDate,
    /// The cash the cashier counted.
    pub amount_vnd: i64,
    /// What the records said the courier had collected when the cash was counted.
    pub collected_vnd: i64,
    pub cashier_name: String,
    pub note: Option<String>,
    /// When it was recorded, RFC 3339 in Vietnam time.
    pub recorded_at: String,
}

/// Where a courier's day stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CashStatus {
    /// Collected, not handed over yet.
    Pending,
    /// The cash counted equals what should have been collected.
    Matched,
    /// Less cash than should have been collected.
    Short,
    /// More cash than should have been collected.
    Over,
}

impl CashStatus {
    pub fn label_vi(self) -> &'static str {
        match self {
            CashStatus::Pending => "Chưa nộp",
            CashStatus::Matched => "Khớp",
            CashStatus::Short => "Thiếu",
            CashStatus::Over => "Thừa",
        }
    }
}

/// One courier's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashLine {
    pub courier_id: i64,
    pub day: NaiveDate,
    /// Door visits with a fee.
    pub collections: u32,
    pub expected_postal_vnd: i64,
    pub expected_agency_vnd: i64,
    pub expected_vnd: i64,
    pub collected_vnd: i64,
    /// `collected − expected`: below zero when the courier undercharged.
    pub collection_gap_vnd: i64,
    pub handover: Option<Handover>,
    /// `counted − expected`, once handed over.
    pub handover_gap_vnd: Option<i64>,
    pub status: CashStatus,
}

/// Totals over lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CashTotals {
    pub expected_vnd: i64,
    pub collected_vnd: i64,
    pub handed_over_vnd: i64,
    /// Collected on days not handed over yet.
    pub pending_vnd: i64,
    pub lines: u32,
    pub pending: u32,
    pub matched: u32,
    pub short: u32,
    pub over: u32,
}

/// Lines by day then courier: every (courier, day) with a collection or a hand-over.
pub fn reconcile(collections: &[Collection], handovers: &[Handover]) -> Vec<CashLine> {
    let mut lines: BTreeMap<(NaiveDate, i64), CashLine> = BTreeMap::new();
    let blank = |courier_id, day| CashLine {
        courier_id,
        day,
        collections: 0,
        expected_postal_vnd: 0,
        expected_agency_vnd: 0,
        expected_vnd: 0,
        collected_vnd: 0,
        collection_gap_vnd: 0,
        handover: None,
        handover_gap_vnd: None,
        status: CashStatus::Pending,
    };
    for c in collections {
        let l = lines
            .entry((c.day, c.courier_id))
            .or_insert_with(|| blank(c.courier_id, c.day));
        l.collections += 1;
        l.expected_postal_vnd += c.postal_fee_vnd;
        l.expected_agency_vnd += c.agency_fee_vnd;
        l.expected_vnd += c.postal_fee_vnd + c.agency_fee_vnd;
        l.collected_vnd += c.collected_vnd;
    }
    for h in handovers {
        lines
            .entry((h.day, h.courier_id))
            .or_insert_with(|| blank(h.courier_id, h.day))
            .handover = Some(h.clone());
    }
    lines
        .into_values()
        .map(|mut l| {
            l.collection_gap_vnd = l.collected_vnd - l.expected_vnd;
            l.handover_gap_vnd = l.handover.as_ref().map(|h| h.amount_vnd - l.expected_vnd);
            l.status = match l.handover_gap_vnd {
                None => CashStatus::Pending,
                Some(0) => CashStatus::Matched,
                Some(g) if g < 0 => CashStatus::Short,
                Some(_) => CashStatus::Over,
            };
            l
        })
        .collect()
}

pub fn totals(lines: &[CashLine]) -> CashTotals {
    let mut t = CashTotals::default();
    for l in lines {
        t.lines += 1;
        t.expected_vnd += l.expected_vnd;
        t.collected_vnd += l.collected_vnd;
        match &l.handover {
            Some(h) => t.handed_over_vnd += h.amount_vnd,
            None => t.pending_vnd += l.collected_vnd,
        }
        match l.status {
            CashStatus::Pending => t.pending += 1,
            CashStatus::Matched => t.matched += 1,
            CashStatus::Short => t.short += 1,
            CashStatus::Over => t.over += 1,
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn visit(courier_id: i64, d: u32, postal: i64, agency: i64, collected: i64) -> Collection {
        Collection {
            courier_id,
            day: day(d),
            postal_fee_vnd: postal,
            agency_fee_vnd: agency,
            collected_vnd: collected,
        }
    }

    fn handed(courier_id: i64, d: u32, amount: i64) -> Handover {
        Handover {
            courier_id,
            day: day(d),
            amount_vnd: amount,
            collected_vnd: amount,
            cashier_name: "Thu ngân".into(),
            note: None,
            recorded_at: String::new(),
        }
    }

    #[test]
    fn a_day_is_summed_per_courier_and_judged_on_the_cash_counted() {
        let lines = reconcile(
            &[
                visit(1, 7, 30_000, 50_000, 80_000),
                visit(1, 7, 30_000, 0, 30_000),
                visit(2, 7, 30_000, 50_000, 70_000),
                visit(1, 8, 20_000, 0, 20_000),
            ],
            &[handed(1, 7, 110_000), handed(2, 7, 70_000), handed(3, 7, 0)],
        );
        assert_eq!(lines.len(), 4);
        let one = &lines[0];
        assert_eq!((one.courier_id, one.day, one.collections), (1, day(7), 2));
        assert_eq!(
            (one.expected_postal_vnd, one.expected_agency_vnd),
            (60_000, 50_000)
        );
        assert_eq!((one.expected_vnd, one.collected_vnd), (110_000, 110_000));
        assert_eq!(one.status, CashStatus::Matched);
        let two = &lines[1];
        assert_eq!(two.collection_gap_vnd, -10_000);
        assert_eq!(two.handover_gap_vnd, Some(-10_000));
        assert_eq!(two.status, CashStatus::Short);
        // A hand-over with nothing collected still shows (and is judged).
        assert_eq!(
            (lines[2].courier_id, lines[2].status),
            (3, CashStatus::Matched)
        );
        assert_eq!(
            (lines[3].day, lines[3].status),
            (day(8), CashStatus::Pending)
        );
        let t = totals(&lines);
        assert_eq!((t.expected_vnd, t.collected_vnd), (210_000, 200_000));
        assert_eq!((t.handed_over_vnd, t.pending_vnd), (180_000, 20_000));
        assert_eq!(
            (t.lines, t.pending, t.matched, t.short, t.over),
            (4, 1, 2, 1, 0)
        );
    }

    #[test]
    fn more_cash_than_expected_is_over() {
        let lines = reconcile(&[visit(1, 7, 30_000, 0, 30_000)], &[handed(1, 7, 40_000)]);
        assert_eq!(lines[0].status, CashStatus::Over);
        assert_eq!(lines[0].handover_gap_vnd, Some(10_000));
        assert_eq!(CashStatus::Over.label_vi(), "Thừa");
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(reconcile(&[], &[]).is_empty());
        assert_eq!(totals(&[]), CashTotals::default());
    }
}
