//! Sixty demo dossiers of today spread over every status, and a history of completed
//! dossiers over the past weeks (so the reports show trends), all made by the same
//! services the handlers call (intake, assignment, courier events, clerk actions), so
//! each one carries the events its status implies. Past steps are written at the
//! moments they stand for (`db::as_if_at`), some of them late; the couriers' cash
//! hand-overs of past days are recorded too. Names, streets and phones are made up.

use crate::auth::{AuthUser, Role};
use crate::config::Settings;
use crate::db::models::cash;
use crate::db::models::{couriers, holidays, tasks, users, zones as zone_rows};
use crate::db::{as_if_at, now_utc, DbConnection};
use crate::domain::deadlines::WorkCalendar;
use crate::domain::dossier::{
    DossierEvent, DossierStatus, Outcome, ReturnMethod, Service, TaskEventType,
};
use crate::domain::phone::Phone;
use crate::domain::time_window::TimeWindow;
use crate::dossiers::actions::{self, TaskEventInput};
use crate::dossiers::intake::{self, ValidRequest};
use crate::dossiers::record::{record, Actor};
use crate::error::ApiError;
use crate::zone_cache::ZoneCache;
use chrono::{Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde_json::json;

const SURNAMES: [&str; 10] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng", "Bùi", "Đỗ",
];
const MIDDLE: [&str; 6] = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Quốc"];
const GIVEN: [&str; 12] = [
    "An", "Bình", "Châu", "Dũng", "Giang", "Hạnh", "Khoa", "Linh", "Nam", "Phương", "Tuấn", "Yến",
];
const STREETS: [&str; 8] = [
    "Nguyễn Huệ",
    "Lý Thường Kiệt",
    "Trần Hưng Đạo",
    "Hùng Vương",
    "Lê Lợi",
    "Nguyễn Trãi",
    "30 Tháng 4",
    "Phạm Hữu Lầu",
];

/// Where demo citizens live: (ward code, centre lat, lon, desk index, office index).
const AREAS: [(&str, f64, f64, usize); 4] = [
    ("29869", 10.478, 105.630, 0), // Cao Lãnh, north zone
    ("29888", 10.435, 105.640, 0), // Mỹ Trà, south zone
    ("29905", 10.295, 105.755, 1), // Sa Đéc
    ("28261", 10.362, 106.360, 2), // Mỹ Tho
];

/// How far each demo dossier goes, with how many of them.
const PLAN: [(DossierStatus, usize); 10] = [
    (DossierStatus::Requested, 14),
    (DossierStatus::Scheduled, 10),
    (DossierStatus::PickedUp, 6),
    (DossierStatus::InTransit, 2),
    (DossierStatus::AtAgency, 8),
    (DossierStatus::SupplementRequired, 3),
    (DossierStatus::ResultReady, 5),
    (DossierStatus::OutForDelivery, 4),
    (DossierStatus::Completed, 5),
    (DossierStatus::Cancelled, 3),
];

fn user(conn: &mut DbConnection, username: &str) -> Result<AuthUser, ApiError> {
    let u = users::find_by_username(conn, username)?
        .ok_or_else(|| ApiError::internal(format!("demo user {username} missing")))?;
    Ok(AuthUser {
        id: u.id,
        role: Role::parse(&u.role).unwrap_or(Role::Operator),
        post_office_id: u.post_office_id,
        agency_id: u.agency_id,
    })
}

/// The agency a demo dossier goes to, and a procedure of its level.
fn procedure_for(desk: usize, n: usize) -> &'static str {
    const PROVINCE: [&str; 2] = ["1.001193", "1.004227"];
    const COMMUNE: [&str; 3] = ["1.000894", "2.000908", "1.010757"];
    if desk == 0 {
        PROVINCE[n % PROVINCE.len()]
    } else {
        COMMUNE[n % COMMUNE.len()]
    }
}

/// What every demo dossier is made with.
struct Ctx {
    tariff: crate::domain::fees::Tariff,
    prefix: String,
    limits: crate::domain::dossier::AttemptLimits,
    zones: std::sync::Arc<crate::domain::zones::ZoneIndex>,
    calendar: WorkCalendar,
    operator: AuthUser,
    dispatcher: AuthUser,
    desks: Vec<i64>,
    vn: FixedOffset,
}

impl Ctx {
    /// `day` at `hh:mm` Vietnam time, as stored (naive UTC).
    fn at(&self, day: NaiveDate, (h, m): (u32, u32)) -> Result<NaiveDateTime, ApiError> {
        day.and_hms_opt(h, m, 0)
            .and_then(|t| self.vn.from_local_datetime(&t).single())
            .map(|t| t.naive_utc())
            .ok_or_else(|| ApiError::internal("demo time"))
    }

    fn slot(
        &self,
        day: NaiveDate,
        from: (u32, u32),
        to: (u32, u32),
    ) -> Result<TimeWindow, ApiError> {
        let at = |hm| self.at(day, hm).map(|t| self.vn.from_utc_datetime(&t));
        TimeWindow::parse(at(from)?, at(to)?).map_err(ApiError::internal)
    }

    /// Takes demo citizen `n`'s request for `window`.
    fn request(
        &self,
        conn: &mut DbConnection,
        n: usize,
        service: Service,
        method: ReturnMethod,
        window: TimeWindow,
    ) -> Result<i64, ApiError> {
        let (ward, lat, lon, desk) = AREAS[n % AREAS.len()];
        let name = format!(
            "{} {} {}",
            SURNAMES[n % SURNAMES.len()],
            MIDDLE[(n / 3) % MIDDLE.len()],
            GIVEN[(n * 7) % GIVEN.len()]
        );
        let phone = Phone::parse(&format!(
            "09{:08}",
            (12_345_678 + n * 104_729) % 100_000_000
        ))
        .map_err(ApiError::internal)?;
        // Spread the points over a few hundred metres around the area's centre.
        let dlat = ((n * 37) % 21) as f64 * 0.0009 - 0.009;
        let dlon = ((n * 53) % 19) as f64 * 0.0010 - 0.009;
        let req = ValidRequest {
            full_name: name,
            phone,
            id_number: None,
            ward_code: ward.into(),
            street: format!("{} {}", 10 + (n * 13) % 240, STREETS[n % STREETS.len()]),
            point: Some((lat + dlat, lon + dlon)),
            procedure_code: procedure_for(desk, n).into(),
            agency_id: self.desks[desk.min(self.desks.len() - 1)],
            service,
            return_method: method,
            window: Some(window),
            note: n.is_multiple_of(4).then(|| "Gọi trước khi đến".to_owned()),
            sms_opt_out: n.is_multiple_of(9),
        };
        intake::create(
            conn,
            &self.operator,
            req,
            &self.tariff,
            &self.prefix,
            &self.zones,
        )
    }
}

/// Loads the dossiers; returns how many were made.
pub fn load(conn: &mut DbConnection, settings: &Settings) -> Result<usize, ApiError> {
    let ctx = Ctx {
        tariff: settings.tariff().map_err(ApiError::internal)?,
        prefix: settings.tracking_prefix.clone(),
        limits: settings.attempt_limits(),
        zones: ZoneCache::default().get(conn)?,
        calendar: WorkCalendar::new(holidays::list(conn)?.into_iter().map(|h| h.day)),
        operator: user(conn, "tongdai")?,
        dispatcher: user(conn, "admin")?,
        desks: {
            use crate::db::schema::agencies::dsl;
            use diesel::prelude::*;
            dsl::agencies
                .select(dsl::id)
                .order(dsl::id)
                .load(conn)
                .map_err(crate::db::StoreError::from)?
        },
        vn: FixedOffset::east_opt(7 * 3600).ok_or_else(|| ApiError::internal("offset"))?,
    };
    let today: NaiveDate = (now_utc() + Duration::hours(7)).date();
    let mut made = history(conn, &ctx, today)?;
    let first = made;
    for (goal, count) in PLAN {
        for _ in 0..count {
            let n = made - first;
            made += 1;
            let (service, method) = match n % 7 {
                0 => (Service::Send, ReturnMethod::Counter),
                3 => (Service::Both, ReturnMethod::Counter),
                _ => (Service::Both, ReturnMethod::Home),
            };
            // Open requests spread over today's and tomorrow's slots; the rest were
            // picked up this morning.
            let window = match (goal, n % 3) {
                (DossierStatus::Requested | DossierStatus::Scheduled, 0) => {
                    ctx.slot(today, (13, 30), (17, 0))?
                }
                (DossierStatus::Requested | DossierStatus::Scheduled, 1) => {
                    ctx.slot(today + Duration::days(1), (8, 0), (11, 0))?
                }
                _ => ctx.slot(today, (8, 0), (11, 0))?,
            };
            let id = ctx.request(conn, n, service, method, window)?;
            advance(conn, &ctx, id, goal, None)?;
        }
    }
    Ok(made)
}

/// When each step of a past dossier happened (naive UTC).
#[derive(Debug, Clone, Copy)]
struct Steps {
    assigned: NaiveDateTime,
    picked_up: NaiveDateTime,
    handed_over: NaiveDateTime,
    received: NaiveDateTime,
    result_ready: NaiveDateTime,
    collected: NaiveDateTime,
    delivered: NaiveDateTime,
}

/// Runs `f` at `when` if given, else now.
fn at<T>(when: Option<NaiveDateTime>, f: impl FnOnce() -> T) -> T {
    match when {
        Some(t) => as_if_at(t, f),
        None => f(),
    }
}

/// Weeks of history before today.
const HISTORY_WEEKS: i64 = 7;

/// Completed dossiers of the past weeks: 8–14 picked up on each working day from
/// `HISTORY_WEEKS` weeks ago until the day whose last step would not be over yet;
/// about one in ten late at one step (more in the oldest weeks); then each courier's cash hand-over of each of
/// those days (a few short or over). Returns how many dossiers were made.
fn history(conn: &mut DbConnection, ctx: &Ctx, today: NaiveDate) -> Result<usize, ApiError> {
    let now = now_utc();
    let cal = &ctx.calendar;
    let mut made = 0;
    let mut day = today - Duration::weeks(HISTORY_WEEKS);
    let first = day;
    while day < today {
        if !cal.is_working_day(day) {
            day += Duration::days(1);
            continue;
        }
        let count = 8 + (day.ordinal() as usize + made) % 7;
        for j in 0..count as i64 {
            let n = 1000 + made;
            let mins = Duration::minutes;
            // Even ones booked for the morning slot, odd ones for the afternoon.
            let (k, morning) = (j / 2, j % 2 == 0);
            let (slot_from, slot_to) = if morning {
                ((8, 0), (11, 0))
            } else {
                ((13, 30), (17, 0))
            };
            let booked = ctx.at(day, if morning { (7, 0) } else { (11, 40) })? + mins(3 * k);
            let picked_up = if n.is_multiple_of(11) {
                ctx.at(day, slot_to)? + mins(25) // after the appointment's end
            } else {
                ctx.at(day, slot_from)? + mins(10 + 25 * k)
            };
            let handed_over = if n.is_multiple_of(13) {
                ctx.at(cal.next_working_day(day), (15, 30))? // past 8 working hours
            } else if morning {
                ctx.at(day, (14, 0))? + mins(5 * k)
            } else {
                ctx.at(cal.next_working_day(day), (8, 0))? + mins(5 * k)
            };
            let result_day = cal.add_working_days(day, 1 + (n % 3) as u32);
            // More late returns in the oldest weeks: the trend the weekly chart shows.
            let early = day < first + Duration::weeks(3);
            let home_day = if n.is_multiple_of(9) || (early && n.is_multiple_of(4)) {
                cal.add_working_days(result_day, 2) // late: not the next working day
            } else {
                cal.next_working_day(result_day)
            };
            let steps = Steps {
                assigned: booked + mins(20),
                picked_up,
                handed_over,
                received: handed_over + mins(12),
                result_ready: ctx.at(result_day, (9, 0))? + mins(7 * j),
                collected: ctx.at(home_day, (8, 0))? + mins(j),
                delivered: ctx.at(home_day, (9, 0))? + mins(20 * j),
            };
            if steps.delivered > now - Duration::hours(1) {
                continue;
            }
            let method = if n.is_multiple_of(5) {
                ReturnMethod::Counter
            } else {
                ReturnMethod::Home
            };
            let window = ctx.slot(day, slot_from, slot_to)?;
            let id = at(Some(booked), || {
                ctx.request(conn, n, Service::Both, method, window)
            })?;
            advance(conn, ctx, id, DossierStatus::Completed, Some(&steps))?;
            made += 1;
        }
        day += Duration::days(1);
    }
    hand_over_cash(conn, ctx, first, today)?;
    Ok(made)
}

/// Every courier's cash of each past day, handed to the cashier at 17:30: the count
/// matches what was recorded, but for a few days short or over.
fn hand_over_cash(
    conn: &mut DbConnection,
    ctx: &Ctx,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let visits = cash::collections(conn, ctx.at(from, (0, 0))?, ctx.at(today, (0, 0))?)?;
    let lines = crate::domain::cash::reconcile(&visits, &[]);
    for (i, line) in lines.iter().enumerate() {
        let (gap, note) = match i % 17 {
            5 if line.collected_vnd >= 100_000 => {
                (-20_000, Some("Thiếu 20.000 đồng, bưu tá nộp bù hôm sau"))
            }
            11 => (10_000, Some("Thừa 10.000 đồng tiền lẻ của người dân")),
            _ => (0, None),
        };
        cash::insert(
            conn,
            &cash::NewHandover {
                courier_id: line.courier_id,
                day: line.day,
                amount_vnd: line.collected_vnd + gap,
                collected_vnd: line.collected_vnd,
                cashier_name: "Lê Thu Ngân".into(),
                note: note.map(str::to_owned),
                recorded_by: ctx.dispatcher.id,
                recorded_at: ctx.at(line.day, (17, 30))?,
            },
        )?;
    }
    Ok(())
}

/// Moves dossier `id` from `requested` to `goal` through the real services, each step
/// at its moment in `steps` when given (a past dossier), else now.
fn advance(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    goal: DossierStatus,
    steps: Option<&Steps>,
) -> Result<(), ApiError> {
    use DossierStatus as S;
    let rank = |s: S| match s {
        S::Requested | S::Cancelled => 0,
        S::Scheduled => 1,
        S::PickedUp => 2,
        S::InTransit => 3,
        S::AtAgency => 4,
        S::SupplementRequired => 5,
        S::ResultReady => 6,
        S::OutForDelivery => 7,
        S::Completed => 8,
    };
    let when = |step: fn(&Steps) -> NaiveDateTime| steps.map(step);
    let (dispatcher, limits, zones) = (&ctx.dispatcher, ctx.limits, &ctx.zones);
    let d = actions::reload(conn, id)?;
    let code = d.tracking_code.clone();
    if goal == S::Cancelled {
        actions::cancel(
            conn,
            dispatcher,
            &code,
            "Người dân báo không cần nữa",
            limits,
        )?;
        return Ok(());
    }
    let target = rank(goal);
    if target < 1 || d.service == "return" {
        return Ok(());
    }
    let pickup = open_task(conn, id, "pickup")?;
    let courier = courier_for(conn, &pickup)?;
    at(when(|s| s.assigned), || {
        actions::assign(conn, dispatcher, pickup.id, courier.1.id, false, limits)
    })?;
    if target < 2 {
        return Ok(());
    }
    let documents = required_documents(conn, &d)?;
    let proof = json!({"checked_documents": documents, "seal_number": format!("NB{:06}", id),
                       "fees_collected_vnd": d.total_vnd, "signature_png": DEMO_SIGNATURE});
    at(when(|s| s.picked_up), || {
        courier_event(
            conn,
            &courier.0,
            pickup.id,
            TaskEventType::PickedUp,
            Some(proof),
            limits,
        )
    })?;
    if goal == S::InTransit {
        let d = actions::reload(conn, id)?;
        let actor = Actor::staff(&courier.0);
        record(
            conn,
            &d,
            limits,
            &DossierEvent::Transferred,
            None,
            &actor,
            None,
        )?;
        return Ok(());
    }
    if target < 4 {
        return Ok(());
    }
    let dropoff = open_task(conn, id, "dropoff")?;
    at(when(|s| s.handed_over), || {
        courier_event(
            conn,
            &courier.0,
            dropoff.id,
            TaskEventType::HandedOver,
            None,
            limits,
        )
    })?;
    let clerk = clerk_of(conn, d.agency_id)?;
    let documents = required_documents(conn, &d)?;
    at(when(|s| s.received), || {
        let appointment = (now_utc() + Duration::days(5)).date();
        actions::receive(
            conn,
            &clerk,
            &code,
            &format!("000.00.{:02}.H{:05}", d.agency_id, id),
            appointment,
            &documents,
            false,
            limits,
        )
    })?;
    if goal == S::SupplementRequired {
        actions::supplement_required(
            conn,
            &clerk,
            &code,
            "Thiếu bản sao giấy tờ tùy thân",
            &["Bản chụp căn cước".to_owned()],
            &ctx.calendar,
            zones,
            limits,
        )?;
        return Ok(());
    }
    if target < 6 {
        return Ok(());
    }
    at(when(|s| s.result_ready), || {
        actions::result_ready(conn, &clerk, &code, Outcome::Approved, None, zones, limits)
    })?;
    if target < 7 {
        return Ok(());
    }
    if d.return_method == "counter" || d.service == "send" {
        if d.return_method == "counter" && d.service != "send" && goal == S::Completed {
            at(when(|s| s.delivered), || {
                actions::handed_over_at_counter(conn, &clerk, &code, limits)
            })?;
        }
        return Ok(());
    }
    let collect = open_task(conn, id, "collect")?;
    let courier = courier_for(conn, &collect)?;
    at(when(|s| s.collected), || -> Result<(), ApiError> {
        actions::assign(conn, dispatcher, collect.id, courier.1.id, false, limits)?;
        courier_event(
            conn,
            &courier.0,
            collect.id,
            TaskEventType::Collected,
            None,
            limits,
        )
    })?;
    if target < 8 {
        return Ok(());
    }
    let deliver = open_task(conn, id, "deliver")?;
    let proof = json!({"receiver_name": d.citizen_name, "signature_png": DEMO_SIGNATURE,
                       "receiver_id_number": d.id_number.clone().unwrap_or_else(|| format!("087{:09}", id))});
    at(when(|s| s.delivered), || {
        courier_event(
            conn,
            &courier.0,
            deliver.id,
            TaskEventType::Delivered,
            Some(proof),
            limits,
        )
    })?;
    Ok(())
}

fn open_task(conn: &mut DbConnection, dossier: i64, kind: &str) -> Result<tasks::Task, ApiError> {
    tasks::of_dossier(conn, dossier)?
        .into_iter()
        .find(|t| t.kind == kind && !matches!(t.status.as_str(), "done" | "cancelled" | "failed"))
        .ok_or_else(|| ApiError::internal(format!("demo: no open {kind} task")))
}

/// A courier of the task's zone (spread by dossier), as (login, courier row).
fn courier_for(
    conn: &mut DbConnection,
    task: &tasks::Task,
) -> Result<(AuthUser, couriers::Courier), ApiError> {
    let mut all = couriers::list(conn, None)?;
    all.sort_by_key(|c| c.id);
    let ids: Vec<i64> = all.iter().map(|c| c.id).collect();
    let pairs = zone_rows::courier_zone_pairs(conn, &ids)?;
    let fits: Vec<couriers::Courier> = all
        .into_iter()
        .filter(|c| c.days_off == "[]" && pairs.contains(&(c.id, task.zone_id.unwrap_or(-1))))
        .collect();
    let pick = fits
        .get(task.dossier_id as usize % fits.len().max(1))
        .cloned()
        .ok_or_else(|| ApiError::internal("demo: no courier for the zone"))?;
    let u = users::find(conn, pick.user_id)?.ok_or_else(|| ApiError::internal("demo user"))?;
    Ok((
        AuthUser {
            id: u.id,
            role: Role::Courier,
            post_office_id: u.post_office_id,
            agency_id: None,
        },
        pick,
    ))
}

fn clerk_of(conn: &mut DbConnection, agency_id: i64) -> Result<AuthUser, ApiError> {
    Ok(AuthUser {
        id: users::list(conn, Some("clerk"), 0, 500)?
            .items
            .into_iter()
            .find(|u| u.role == "clerk" && u.agency_id == Some(agency_id))
            .or(users::find_by_username(conn, "admin")?)
            .map(|u| u.id)
            .ok_or_else(|| ApiError::internal("demo clerk"))?,
        role: Role::Clerk,
        post_office_id: None,
        agency_id: Some(agency_id),
    })
}

fn courier_event(
    conn: &mut DbConnection,
    courier: &AuthUser,
    task_id: i64,
    event: TaskEventType,
    proof: Option<serde_json::Value>,
    limits: crate::domain::dossier::AttemptLimits,
) -> Result<(), ApiError> {
    let input = TaskEventInput {
        event,
        at: now_utc(),
        lat: None,
        lon: None,
        note: None,
        fail_reason: None,
        proof,
    };
    // The demo has no SMS gateway: the citizen signs.
    let presence = crate::dossiers::presence::Presence {
        evidence: crate::domain::presence::Evidence::Signature,
        otp_key: Vec::new(),
    };
    actions::task_event(conn, courier, task_id, &input, limits, &presence)?;
    Ok(())
}

/// A drawn signature as the courier app sends it (a 1×1 PNG, base64).
const DEMO_SIGNATURE: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// The procedure's documents: the demo citizens bring all of them.
fn required_documents(
    conn: &mut DbConnection,
    d: &crate::db::models::dossiers::Dossier,
) -> Result<Vec<String>, ApiError> {
    Ok(
        crate::db::models::procedures::find(conn, &d.procedure_code)?
            .map(|p| p.required_documents)
            .unwrap_or_default(),
    )
}
