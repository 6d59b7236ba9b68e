//! Auto-assignment as an application service: reads a post office's couriers, their
//! current routes and the unassigned work of a day, asks the travel-time provider
//! for one matrix, places each job with the domain's cheapest feasible insertion, and
//! records each assignment through the same `assign` as a dispatcher's click.

use crate::auth::AuthUser;
use crate::clients::travel::Point;
use crate::db::models::{agencies, couriers, dossiers, positions, post_offices, tasks, zones};
use crate::db::now_utc;
use crate::domain::agency_hours::AgencyHours;
use crate::domain::dispatch::{apply, choose, CourierRoute, Job, NoFit, Stop};
use crate::domain::shift::Shift;
use crate::dossiers::actions;
use crate::error::ApiError;
use crate::state::AppState;
use crate::timefmt::to_vn;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Seconds spent at a citizen's door.
pub(crate) const DOOR_SERVICE_S: f64 = 300.0;
/// Seconds at an agency desk.
pub(crate) const DESK_SERVICE_S: f64 = 600.0;
/// A position older than this is not where the courier is now.
const FRESH_POSITION_S: i64 = 30 * 60;

/// A courier working on the day, with their route so far.
pub(crate) struct CourierInfo {
    pub id: i64,
    pub capacity: i32,
    pub shift: Shift,
    pub zones: Vec<i64>,
    pub position: Option<(f64, f64, NaiveDateTime)>,
    pub open: Vec<tasks::Task>,
}

/// A post office's day as read from storage.
pub(crate) struct Snapshot {
    pub office: (f64, f64),
    pub couriers: Vec<CourierInfo>,
    pub unassigned: Vec<tasks::Task>,
    /// Desk hours of each dossier's agency, by dossier id (agencies with hours only).
    pub desk_hours: HashMap<i64, AgencyHours>,
}

/// The desk hours of the agencies of these tasks' dossiers, by dossier id.
pub(crate) fn desk_hours_of<'a>(
    c: &mut crate::db::DbConnection,
    tasks: impl Iterator<Item = &'a tasks::Task>,
) -> Result<HashMap<i64, AgencyHours>, ApiError> {
    let mut ids: Vec<i64> = tasks.map(|t| t.dossier_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let of_dossier = dossiers::agencies_of(c, &ids)?;
    let mut agency_ids: Vec<i64> = of_dossier.iter().map(|(_, a)| *a).collect();
    agency_ids.sort_unstable();
    agency_ids.dedup();
    let hours: HashMap<i64, AgencyHours> = agencies::of_ids(c, &agency_ids)?
        .iter()
        .filter_map(|a| a.hours().map(|h| (a.id, h)))
        .collect();
    Ok(of_dossier
        .into_iter()
        .filter_map(|(d, a)| hours.get(&a).map(|h| (d, *h)))
        .collect())
}

/// A span of seconds from local midnight, `(from, to)`.
pub(crate) type Span = (f64, f64);

/// The window of a desk stop (drop-off, result collection) of `service` seconds: the
/// task's own window, if any, within the agency's opening hours; and the lunch break.
pub(crate) fn desk_window(
    own: Option<Span>,
    hours: Option<&AgencyHours>,
    service: f64,
) -> (Option<Span>, Option<Span>) {
    let Some(hours) = hours else {
        return (own, None);
    };
    let (open, closed) = hours.desk_window(service);
    let window = match own {
        Some((from, to)) => (from.max(open.0), to.min(open.1)),
        None => open,
    };
    (Some(window), closed)
}

/// Appends a point to the matrix's list and returns its index.
fn index_of(lat: f64, lon: f64, points: &mut Vec<Point>) -> usize {
    points.push(Point { lat, lon });
    points.len() - 1
}

/// Whether task `t` is work for local day `date`, given the tasks of its dossier. A
/// task with a window is due on its window's day. A windowless one goes with its
/// partner (a drop-off with its pickup, a collection with its delivery): due on the
/// partner's day, and on every later day once the partner is done (the courier still
/// holds the dossier). Without any window it is due every day.
fn due_on(t: &tasks::Task, siblings: &[tasks::Task], date: NaiveDate) -> bool {
    if let Some(from) = t.window_from {
        return to_vn(from).date_naive() == date;
    }
    let partner = match t.kind.as_str() {
        "dropoff" => "pickup",
        "collect" => "deliver",
        _ => return true,
    };
    let nearest = siblings
        .iter()
        .filter(|p| {
            p.dossier_id == t.dossier_id
                && p.kind == partner
                && p.status != "cancelled"
                && p.window_from.is_some()
        })
        .min_by_key(|p| (p.id - t.id).abs());
    match nearest {
        Some(p) => {
            let day = p.window_from.map(|f| to_vn(f).date_naive());
            day == Some(date) || (p.status == "done" && day.is_some_and(|d| d <= date))
        }
        None => true,
    }
}

/// Keeps the tasks due on `date` (see [`due_on`]); the partners of windowless tasks
/// are read in one query.
pub(crate) fn retain_due(
    c: &mut crate::db::DbConnection,
    tasks: Vec<tasks::Task>,
    date: NaiveDate,
) -> Result<Vec<tasks::Task>, ApiError> {
    let mut need: Vec<i64> = tasks
        .iter()
        .filter(|t| t.window_from.is_none())
        .map(|t| t.dossier_id)
        .collect();
    need.sort_unstable();
    need.dedup();
    let siblings = tasks::of_dossiers(c, &need)?;
    Ok(tasks
        .into_iter()
        .filter(|t| due_on(t, &siblings, date))
        .collect())
}

/// Reads a post office's couriers working on `date` and the day's unassigned tasks.
pub(crate) fn load_snapshot(
    c: &mut crate::db::DbConnection,
    office_id: i64,
    date: NaiveDate,
) -> Result<Snapshot, ApiError> {
    let office = post_offices::find(c, office_id)?.ok_or_else(|| ApiError::not_found("bưu cục"))?;
    let all = couriers::list(c, Some(office_id))?;
    let ids: Vec<i64> = all.iter().map(|k| k.id).collect();
    let pairs = zones::courier_zone_pairs(c, &ids)?;
    let last = positions::last_of(c, &ids)?;
    let mut list = Vec::new();
    for k in all.into_iter().filter(|k| k.active) {
        let days: Vec<String> = serde_json::from_str(&k.days_off).unwrap_or_default();
        let Some(shift) = Shift::parse(&k.shift_start, &k.shift_end, &days) else {
            continue;
        };
        if !shift.works_on(date) {
            continue;
        }
        let open = tasks::open_of_courier(c, k.id)?;
        let mut open = retain_due(c, open, date)?;
        open.sort_by_key(|t| {
            (
                t.seq.unwrap_or(i32::MAX),
                t.window_from.is_none(),
                t.window_from,
                t.id,
            )
        });
        list.push(CourierInfo {
            id: k.id,
            capacity: k.capacity,
            shift,
            zones: pairs
                .iter()
                .filter(|(cid, _)| *cid == k.id)
                .map(|(_, z)| *z)
                .collect(),
            position: last
                .iter()
                .find(|p| p.courier_id == k.id)
                .map(|p| (p.lat, p.lon, p.at)),
            open,
        });
    }
    let office_zones = zones::ids_of_office(c, office_id)?;
    let filter = tasks::TaskFilter {
        status: Some("unassigned".into()),
        office: Some((office_zones, Vec::new())),
        after_id: 0,
        limit: 20_000,
    };
    let unassigned = tasks::list(c, &filter)?;
    let unassigned = retain_due(c, unassigned, date)?;
    let desk_hours = desk_hours_of(
        c,
        list.iter()
            .flat_map(|k| k.open.iter())
            .chain(unassigned.iter()),
    )?;
    Ok(Snapshot {
        office: (office.lat, office.lon),
        couriers: list,
        unassigned,
        desk_hours,
    })
}

/// Seconds since local midnight of `date`.
pub(crate) fn secs(date: NaiveDate, t: NaiveDateTime) -> f64 {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (to_vn(t).naive_local() - midnight).num_seconds() as f64
}

/// Seconds of a clock time since midnight.
pub(crate) fn time_secs(t: chrono::NaiveTime) -> f64 {
    f64::from(chrono::Timelike::num_seconds_from_midnight(&t))
}

/// A task as a stop of insertion. A desk stop keeps within the agency's opening hours
/// when `hours` are given (insertion has no breaks: the lunch break is left to the
/// planner). Auto-assignment gives none: a dossier picked up late may be handed over on
/// a later day, which the route plan decides.
pub(crate) fn stop_of(
    t: &tasks::Task,
    location: usize,
    date: NaiveDate,
    hours: Option<&AgencyHours>,
) -> Stop {
    let door = matches!(t.kind.as_str(), "pickup" | "deliver");
    let service = if door { DOOR_SERVICE_S } else { DESK_SERVICE_S };
    let own = match (t.window_from, t.window_to) {
        (Some(f), Some(to)) => Some((secs(date, f), secs(date, to))),
        _ => None,
    };
    let own = if door {
        own
    } else {
        desk_window(own, hours, service).0
    };
    Stop {
        location,
        window: own.unwrap_or((0.0, 2.0 * 86_400.0)),
        service,
        load: if matches!(t.kind.as_str(), "pickup" | "collect") {
            1
        } else {
            -1
        },
    }
}

/// Runs auto-assignment for one post office and day; answers the contract's
/// `{assignments: [{task_id, courier_id}], unassigned: [{task_id, reason}]}`.
pub async fn auto_assign(
    state: &AppState,
    auth: &AuthUser,
    office_id: i64,
    date: NaiveDate,
) -> Result<Value, ApiError> {
    let snap = state
        .db
        .read(move |c| load_snapshot(c, office_id, date))
        .await?;
    let now = now_utc();
    let today = to_vn(now).date_naive() == date;

    // One matrix over: the office, each courier's start, every stop.
    let mut points = vec![Point {
        lat: snap.office.0,
        lon: snap.office.1,
    }];
    let mut routes = Vec::new();
    for k in &snap.couriers {
        let start_loc = match k.position {
            Some((lat, lon, at)) if today && (now - at).num_seconds() <= FRESH_POSITION_S => {
                index_of(lat, lon, &mut points)
            }
            _ => 0,
        };
        let shift_start = time_secs(k.shift.start);
        let start_time = if today {
            shift_start.max(secs(date, now))
        } else {
            shift_start
        };
        let stops: Vec<Stop> = k
            .open
            .iter()
            .map(|t| stop_of(t, index_of(t.lat, t.lon, &mut points), date, None))
            .collect();
        let picked_up = stops.iter().filter(|s| s.load < 0).count() as i32
            - stops.iter().filter(|s| s.load > 0).count() as i32;
        routes.push(CourierRoute {
            courier_id: k.id,
            start: (start_loc, start_time),
            end: (0, time_secs(k.shift.end)),
            capacity: k.capacity,
            initial_load: picked_up.max(0),
            stops,
        });
    }
    // Jobs: the unassigned tasks of one dossier form a pair (pickup → drop-off,
    // collection → delivery); ordered by window start, then dossier, for determinism.
    let mut by_dossier: BTreeMap<i64, Vec<&tasks::Task>> = BTreeMap::new();
    for t in &snap.unassigned {
        by_dossier.entry(t.dossier_id).or_default().push(t);
    }
    let mut jobs = Vec::new();
    for (dossier_id, ts) in by_dossier {
        let first = ts
            .iter()
            .find(|t| matches!(t.kind.as_str(), "pickup" | "collect"))
            .copied();
        let second = ts
            .iter()
            .find(|t| matches!(t.kind.as_str(), "dropoff" | "deliver"))
            .copied();
        let (head, job) = match (first, second) {
            (Some(a), Some(b)) => {
                let (ia, ib) = (
                    index_of(a.lat, a.lon, &mut points),
                    index_of(b.lat, b.lon, &mut points),
                );
                (
                    a,
                    Job::Pair(stop_of(a, ia, date, None), stop_of(b, ib, date, None)),
                )
            }
            (Some(a), None) | (None, Some(a)) => (
                a,
                Job::Single(stop_of(a, index_of(a.lat, a.lon, &mut points), date, None)),
            ),
            (None, None) => continue,
        };
        let members: Vec<i64> = ts.iter().map(|t| t.id).collect();
        jobs.push((
            head.window_from,
            dossier_id,
            head.id,
            head.zone_id,
            members,
            job,
        ));
    }
    jobs.sort_by_key(|j| (j.0.is_none(), j.0, j.1));

    let matrix = state.travel.matrix(&points).await.durations_s;
    let limits = state.settings.attempt_limits();
    let mut assignments = Vec::new();
    let mut unassigned = Vec::new();
    for (_, _, head_id, zone, members, job) in jobs {
        let eligible: Vec<CourierRoute> = routes
            .iter()
            .filter(|r| {
                // The same rules as a manual assignment: zone, and dossiers held < capacity.
                let k = snap.couriers.iter().find(|k| k.id == r.courier_id);
                let in_zone = k.is_some_and(|k| {
                    k.zones.is_empty() || zone.is_some_and(|z| k.zones.contains(&z))
                });
                let held = r.initial_load + r.stops.iter().filter(|s| s.load > 0).count() as i32;
                in_zone && held < r.capacity
            })
            .cloned()
            .collect();
        match choose(&eligible, &job, &matrix) {
            Ok(ins) => {
                let who = auth.clone();
                let courier = ins.courier_id;
                let done = state
                    .db
                    .write_retrying(move |c| {
                        actions::assign(c, &who, head_id, courier, true, limits)
                    })
                    .await;
                match done {
                    Ok(_) => {
                        if let Some(r) = routes.iter_mut().find(|r| r.courier_id == courier) {
                            apply(r, &job, &ins);
                        }
                        assignments.extend(
                            members
                                .iter()
                                .map(|t| json!({"task_id": t, "courier_id": courier})),
                        );
                    }
                    Err(e) => unassigned.extend(
                        members
                            .iter()
                            .map(|t| json!({"task_id": t, "reason": e.detail})),
                    ),
                }
            }
            Err(no_fit) => {
                let reason = match no_fit {
                    NoFit::NoEligibleCourier => "Không có bưu tá phù hợp (khu vực, ngày làm việc)",
                    NoFit::NoFeasiblePosition => {
                        "Không bưu tá nào kịp khung giờ, trước khi hết ca và còn chỗ"
                    }
                };
                unassigned.extend(
                    members
                        .iter()
                        .map(|t| json!({"task_id": t, "reason": reason})),
                );
            }
        }
    }
    // The new stops take their place and ETA on each route at once.
    let mut touched: Vec<i64> = assignments
        .iter()
        .filter_map(|a| a["courier_id"].as_i64())
        .collect();
    touched.sort_unstable();
    touched.dedup();
    if let Err(e) = crate::plan::refresh_routes(state, touched, date).await {
        tracing::warn!(error = %e.detail, "routes not re-timed after auto-assignment");
    }
    Ok(json!({"assignments": assignments, "unassigned": unassigned}))
}
