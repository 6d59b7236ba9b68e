//! Route planning as an application service: one post office, one day, all open
//! tasks and the couriers working that day become a pickup-and-delivery problem for
//! [`crate::planner`]; stops already started stay as each route's fixed head. The
//! answer is stored (assignments, sequence, ETA on each task) and becomes each
//! courier's `GET /me/route`.
//!
//! - Each courier's stops are numbered 1..n in the order of that courier's route, with
//!   ETAs from that route; open stops the plan does not place lose any older number.
//! - What is left of a dossier a courier already carries (the drop-off after a pickup,
//!   the delivery after a collection) stays on that courier's route.
//! - Desk stops (drop-off, result collection) keep to the agency's opening hours and
//!   avoid its lunch break; a late pickup whose hand-over cannot be made before closing
//!   is planned alone, and the courier hands the dossier over on a later day.
//! - Between plans, [`refresh_routes`] renumbers and re-times the routes a manual
//!   reassignment, a cancellation or an auto-assignment changed.

use crate::auth::AuthUser;
use crate::clients::travel::Point;
use crate::db::models::tasks;
use crate::dispatch::{
    desk_window, load_snapshot, secs, time_secs, CourierInfo, DESK_SERVICE_S, DOOR_SERVICE_S,
};
use crate::domain::agency_hours::AgencyHours;
use crate::dossiers::actions;
use crate::error::ApiError;
use crate::planner::{self, Job, JobKind, Matrix, Problem, Settings, Stop, StopPart, Vehicle};
use crate::state::AppState;
use crate::timefmt::to_vn;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::Connection;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A task as a stop to plan: a door stop in its window; a desk stop (drop-off, result
/// collection) within its agency's opening hours, outside the lunch break.
fn stop(
    t: &tasks::Task,
    location: usize,
    date: NaiveDate,
    hours: &HashMap<i64, AgencyHours>,
) -> Stop {
    let door = matches!(t.kind.as_str(), "pickup" | "deliver");
    let service = if door { DOOR_SERVICE_S } else { DESK_SERVICE_S };
    let own = match (t.window_from, t.window_to) {
        (Some(f), Some(to)) => Some((secs(date, f), secs(date, to))),
        _ => None,
    };
    let (window, closed) = if door {
        (own, None)
    } else {
        desk_window(own, hours.get(&t.dossier_id), service)
    };
    Stop {
        location,
        window,
        service,
        closed,
    }
}

/// The UTC time of `s` seconds after local midnight of `date`.
fn at(date: NaiveDate, s: f64) -> NaiveDateTime {
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default()
        + chrono::Duration::milliseconds((s * 1000.0) as i64);
    local - chrono::Duration::hours(7)
}

/// Couriers who share a zone plan together (a courier without zones serves them all);
/// returns the groups of courier indices.
fn courier_groups(couriers: &[CourierInfo]) -> Vec<Vec<usize>> {
    if couriers.iter().any(|k| k.zones.is_empty()) {
        return vec![(0..couriers.len()).collect()];
    }
    let mut group: Vec<usize> = (0..couriers.len()).collect();
    fn root(g: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while g[r] != r {
            r = g[r];
        }
        g[i] = r;
        r
    }
    for a in 0..couriers.len() {
        for b in a + 1..couriers.len() {
            if couriers[a]
                .zones
                .iter()
                .any(|z| couriers[b].zones.contains(z))
            {
                let (ra, rb) = (root(&mut group, a), root(&mut group, b));
                group[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..couriers.len() {
        let r = root(&mut group, i);
        out.entry(r).or_default().push(i);
    }
    out.into_values().collect()
}

type Held = Vec<(tasks::Task, Option<i64>)>;

/// A stored stop: task id, position on its courier's route (1..n), ETA.
type Numbered = (i64, i32, NaiveDateTime);

/// What one route's commit stored, and the dossiers it refused with the reason.
type Stored = (Vec<Numbered>, Vec<(i64, String)>);

/// Plans one post office's day and stores the plan.
pub async fn plan(
    state: &AppState,
    auth: &AuthUser,
    office_id: i64,
    date: NaiveDate,
) -> Result<Value, ApiError> {
    let snap = state
        .db
        .read(move |c| load_snapshot(c, office_id, date))
        .await?;
    // Every open task of the day, held or not, grouped by dossier.
    let mut by_dossier: BTreeMap<i64, Held> = BTreeMap::new();
    for k in &snap.couriers {
        for t in &k.open {
            by_dossier
                .entry(t.dossier_id)
                .or_default()
                .push((t.clone(), Some(k.id)));
        }
    }
    for t in &snap.unassigned {
        by_dossier
            .entry(t.dossier_id)
            .or_default()
            .push((t.clone(), None));
    }
    let groups = courier_groups(&snap.couriers);
    let budget = state.settings.plan_time_limit_ms / groups.len().max(1) as u64;
    let mut routes = Vec::new();
    let mut unassigned = Vec::new();
    let mut left = by_dossier;
    for group in &groups {
        let members: Vec<&CourierInfo> = group.iter().map(|i| &snap.couriers[*i]).collect();
        let serves = |ts: &Held| {
            let held_here = ts
                .iter()
                .any(|(_, h)| h.is_some_and(|h| members.iter().any(|k| k.id == h)));
            let zone = ts.iter().find_map(|(t, _)| t.zone_id);
            held_here
                || members
                    .iter()
                    .any(|k| k.zones.is_empty() || zone.is_some_and(|z| k.zones.contains(&z)))
        };
        let (mine, rest): (BTreeMap<i64, Held>, BTreeMap<i64, Held>) =
            left.into_iter().partition(|(_, ts)| serves(ts));
        left = rest;
        let (r, u) = plan_group(
            state,
            auth,
            date,
            snap.office,
            &members,
            mine,
            &snap.desk_hours,
            budget.max(200),
        )
        .await?;
        routes.extend(r);
        unassigned.extend(u);
    }
    for ts in left.values() {
        for (t, _) in ts {
            unassigned.push(json!({"task_id": t.id, "reason": "Không có bưu tá phụ trách khu vực này trong ngày"}));
        }
    }
    Ok(json!({"routes": routes, "unassigned": unassigned}))
}

/// Solves and stores one group of couriers with the work they can do.
#[allow(clippy::too_many_arguments)]
async fn plan_group(
    state: &AppState,
    auth: &AuthUser,
    date: NaiveDate,
    office: (f64, f64),
    couriers: &[&CourierInfo],
    by_dossier: BTreeMap<i64, Held>,
    hours: &HashMap<i64, AgencyHours>,
    time_limit_ms: u64,
) -> Result<(Vec<Value>, Vec<Value>), ApiError> {
    let now = crate::db::now_utc();
    let today = to_vn(now).date_naive() == date;
    let mut points = vec![Point {
        lat: office.0,
        lon: office.1,
    }];
    let mut push = |lat: f64, lon: f64| {
        points.push(Point { lat, lon });
        points.len() - 1
    };
    let mut jobs = Vec::new();
    let mut heads: BTreeMap<i64, Vec<(String, StopPart)>> = BTreeMap::new();
    // Dossiers a courier already carries: their load is on board from the start.
    let mut on_board: BTreeMap<i64, Vec<(String, StopPart)>> = BTreeMap::new();
    let mut task_of: HashMap<(String, StopPart), i64> = HashMap::new();
    for (dossier_id, ts) in &by_dossier {
        let id = dossier_id.to_string();
        let first = ts
            .iter()
            .find(|(t, _)| matches!(t.kind.as_str(), "pickup" | "collect"));
        let second = ts
            .iter()
            .find(|(t, _)| matches!(t.kind.as_str(), "dropoff" | "deliver"));
        let kind = match (first, second) {
            (Some((a, _)), Some((b, _))) => {
                task_of.insert((id.clone(), StopPart::Pickup), a.id);
                task_of.insert((id.clone(), StopPart::Delivery), b.id);
                JobKind::Pair {
                    pickup: stop(a, push(a.lat, a.lon), date, hours),
                    delivery: stop(b, push(b.lat, b.lon), date, hours),
                }
            }
            // The pickup (or collection) is done: the holder carries the dossier, so
            // what is left of it stays on the holder's route. It is planned as a pair
            // whose pickup is a stop of no time at the post office, first in the
            // holder's fixed head: the planner then binds the rest to that vehicle.
            (None, Some((b, Some(holder)))) => {
                task_of.insert((id.clone(), StopPart::Delivery), b.id);
                on_board
                    .entry(*holder)
                    .or_default()
                    .push((id.clone(), StopPart::Pickup));
                JobKind::Pair {
                    pickup: Stop {
                        location: 0,
                        window: None,
                        service: 0.0,
                        closed: None,
                    },
                    delivery: stop(b, push(b.lat, b.lon), date, hours),
                }
            }
            (Some((a, _)), None) | (None, Some((a, _))) => {
                task_of.insert((id.clone(), StopPart::Single), a.id);
                JobKind::Single {
                    stop: stop(a, push(a.lat, a.lon), date, hours),
                }
            }
            (None, None) => continue,
        };
        // A started stop stays first on its courier's route.
        for (t, holder) in ts {
            if let (Some(k), "in_progress") = (holder, t.status.as_str()) {
                let part = match (&kind, t.kind.as_str()) {
                    (JobKind::Single { .. }, _) => StopPart::Single,
                    (_, "pickup" | "collect") => StopPart::Pickup,
                    _ => StopPart::Delivery,
                };
                heads.entry(*k).or_default().push((id.clone(), part));
            }
        }
        let demand = i32::from(matches!(kind, JobKind::Pair { .. }));
        jobs.push(Job { id, kind, demand });
    }
    let vehicles: Vec<Vehicle> = couriers
        .iter()
        .map(|k| {
            let start = time_secs(k.shift.start);
            Vehicle {
                id: k.id.to_string(),
                start: 0,
                end: 0,
                shift: (
                    if today {
                        start.max(secs(date, now))
                    } else {
                        start
                    },
                    time_secs(k.shift.end),
                ),
                capacity: k.capacity,
                fixed_head: on_board
                    .remove(&k.id)
                    .unwrap_or_default()
                    .into_iter()
                    .chain(heads.remove(&k.id).unwrap_or_default())
                    .collect(),
            }
        })
        .collect();
    // A courier whose shift is already over today takes no more work; what is bound to
    // them (a dossier they carry, a stop they started) is not handed to anyone else but
    // reported and left as it is.
    let (vehicles, done_for_today): (Vec<Vehicle>, Vec<Vehicle>) =
        vehicles.into_iter().partition(|v| v.shift.0 < v.shift.1);
    let stranded: Vec<&String> = done_for_today
        .iter()
        .flat_map(|v| v.fixed_head.iter().map(|(job, _)| job))
        .collect();
    let mut bound_elsewhere: Vec<Value> = Vec::new();
    jobs.retain(|j: &Job| {
        if !stranded.contains(&&j.id) {
            return true;
        }
        bound_elsewhere.extend(left_with(
            &task_of,
            &j.id,
            "Bưu tá đang giữ hồ sơ hoặc đã bắt đầu điểm dừng này đã hết ca",
        ));
        false
    });
    if vehicles.is_empty() {
        let reason = "Ca làm việc của các bưu tá trong ngày đã kết thúc";
        let mut left: Vec<Value> = jobs
            .iter()
            .flat_map(|j| left_with(&task_of, &j.id, reason))
            .collect();
        left.extend(bound_elsewhere);
        return Ok((Vec::new(), left));
    }
    let m = state.travel.matrix(&points).await;
    // A pickup whose hand-over cannot be made before the agency closes (a late pickup
    // window) is planned alone: the courier carries the dossier back to the post office
    // and hands it over on a later day, whose plan keeps it with them.
    let earliest = vehicles
        .iter()
        .map(|v| v.shift.0)
        .fold(f64::INFINITY, f64::min);
    let mut next_day: Vec<Value> = Vec::new();
    for job in jobs.iter_mut() {
        let JobKind::Pair { pickup, delivery } = &job.kind else {
            continue;
        };
        // Only hand-overs at a desk (a delivery to a citizen keeps its own day).
        let Some((_, desk_closes)) = delivery
            .window
            .filter(|_| delivery.service == DESK_SERVICE_S)
        else {
            continue;
        };
        if pickup.location == 0 && pickup.service == 0.0 {
            continue; // already on board
        }
        let start = pickup.service_start(pickup.window.map_or(earliest, |w| w.0.max(earliest)));
        let at_desk = start + pickup.service + m.durations_s[pickup.location][delivery.location];
        if delivery.service_start(at_desk) <= desk_closes {
            continue;
        }
        if let Some(t) = task_of.remove(&(job.id.clone(), StopPart::Delivery)) {
            next_day.push(json!({"task_id": t,
                "reason": "Cơ quan đã hết giờ làm việc: bưu tá giữ hồ sơ và giao vào ngày làm việc kế tiếp"}));
        }
        if let Some(t) = task_of.remove(&(job.id.clone(), StopPart::Pickup)) {
            task_of.insert((job.id.clone(), StopPart::Single), t);
        }
        job.kind = JobKind::Single {
            stop: pickup.clone(),
        };
    }
    let problem = Problem {
        matrix: Matrix {
            durations: m.durations_s,
            distances: m.distances_m,
        },
        vehicles,
        jobs,
    };
    let settings = Settings {
        time_limit: Duration::from_millis(time_limit_ms),
        max_generations: None,
        seed: Some(2026),
    };
    let solution = tokio::task::spawn_blocking(move || planner::solve(&problem, &settings))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;

    // Store: assignments (through the same rules and events as a dispatcher's),
    // then each stop's sequence and ETA.
    let limits = state.settings.attempt_limits();
    let task_dossier: HashMap<i64, i64> = by_dossier
        .values()
        .flatten()
        .map(|(t, _)| (t.id, t.dossier_id))
        .collect();
    let mut left_out = bound_elsewhere;
    left_out.extend(next_day);
    let mut routes = Vec::new();
    let mut stored_tasks: Vec<i64> = Vec::new();
    for route in &solution.routes {
        let courier: i64 = route.vehicle_id.parse().map_err(ApiError::internal)?;
        // The courier's real stops in route order (the post-office stops that stand for
        // dossiers already on board are no stops to make).
        let planned: Vec<(i64, NaiveDateTime, usize)> = route
            .stops
            .iter()
            .filter_map(|s| {
                task_of
                    .get(&(s.job_id.clone(), s.part))
                    .map(|t| (*t, at(date, s.start), s.location))
            })
            .collect();
        let who = auth.clone();
        let to_store = planned.clone();
        // A stop the courier may not take (zone, day off, capacity) is left out with the
        // reason, together with the rest of its dossier; the others are stored, numbered
        // 1..n in the order of this courier's route, each with its ETA on this route.
        let (stored, refused) = state
            .db
            .write_retrying(move |c| -> Result<Stored, ApiError> {
                let mut refused: Vec<(i64, String)> = Vec::new();
                let mut stored: Vec<Numbered> = Vec::new();
                for (task_id, eta, _) in &to_store {
                    // Under the dossier's lock (see `db`): the plan was made from a
                    // snapshot, and a stop done or cancelled since is left alone.
                    let (t, _) = actions::lock_task(c, *task_id)?;
                    if refused.iter().any(|(d, _)| *d == t.dossier_id) {
                        continue;
                    }
                    if !actions::is_open(&t) {
                        refused.push((
                            t.dossier_id,
                            "Nhiệm vụ đã thay đổi trong lúc lập lộ trình".to_owned(),
                        ));
                        continue;
                    }
                    if t.courier_id != Some(courier)
                        && (t.courier_id.is_none()
                            || matches!(t.kind.as_str(), "pickup" | "collect"))
                    {
                        // A savepoint: a refusal undoes this stop only, and on
                        // PostgreSQL leaves the transaction usable.
                        let assigned = c.transaction(|c| {
                            actions::assign(c, &who, *task_id, courier, false, limits)
                        });
                        match assigned {
                            Ok(_) => {}
                            Err(e) if e.retryable => return Err(e),
                            Err(e) => {
                                refused.push((t.dossier_id, e.detail));
                                continue;
                            }
                        }
                    } else if t.courier_id != Some(courier) {
                        // Never move a stop of a dossier someone else carries.
                        refused.push((t.dossier_id, "Hồ sơ đang do bưu tá khác giữ".to_owned()));
                        continue;
                    }
                    let seq = stored.len() as i32 + 1;
                    tasks::set_plan(c, *task_id, seq, *eta)?;
                    stored.push((*task_id, seq, *eta));
                }
                Ok((stored, refused))
            })
            .await?;
        for (task_id, ..) in &planned {
            if stored.iter().any(|(t, ..)| t == task_id) {
                continue;
            }
            let dossier = task_dossier.get(task_id);
            let reason = refused
                .iter()
                .find(|(d, _)| Some(d) == dossier)
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            left_out.push(json!({"task_id": task_id, "reason": reason}));
        }
        stored_tasks.extend(stored.iter().map(|(t, ..)| *t));
        if stored.is_empty() {
            continue;
        }
        let json_stops: Vec<Value> = stored
            .iter()
            .map(|(task_id, seq, eta)| {
                let loc = planned
                    .iter()
                    .find(|(t, ..)| t == task_id)
                    .map_or(0, |(_, _, loc)| *loc);
                json!({"task_id": task_id, "seq": seq, "eta": to_vn(*eta).to_rfc3339(),
                       "lat": points[loc].lat, "lon": points[loc].lon})
            })
            .collect();
        routes.push(json!({"courier_id": courier, "stops": json_stops,
                           "distance_m": route.distance.round(), "duration_s": route.duration.round()}));
    }
    // Open stops this plan did not place keep no number or ETA of an older plan.
    let stale: Vec<i64> = task_dossier
        .keys()
        .copied()
        .filter(|t| !stored_tasks.contains(t))
        .collect();
    if !stale.is_empty() {
        state
            .db
            .write_retrying(move |c| -> Result<(), ApiError> {
                for task_id in &stale {
                    let (t, _) = actions::lock_task(c, *task_id)?;
                    if actions::is_open(&t) && (t.seq.is_some() || t.eta.is_some()) {
                        tasks::clear_plan(c, *task_id)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    let mut unassigned: Vec<Value> = solution
        .unassigned
        .iter()
        .flat_map(|(job, reason)| left_with(&task_of, job, reason))
        .collect();
    unassigned.extend(left_out);
    Ok((routes, unassigned))
}

/// The tasks of planner job `job`, each left out of the plan with `reason`.
fn left_with(task_of: &HashMap<(String, StopPart), i64>, job: &str, reason: &str) -> Vec<Value> {
    [StopPart::Pickup, StopPart::Delivery, StopPart::Single]
        .into_iter()
        .filter_map(|p| task_of.get(&(job.to_owned(), p)).copied())
        .map(|t| json!({"task_id": t, "reason": reason}))
        .collect()
}

/// The local day a task is due: its window's, else its partner's (a drop-off goes with
/// its pickup, a delivery with its collection), else today.
pub(crate) fn day_of(t: &tasks::Task, siblings: &[tasks::Task]) -> NaiveDate {
    let window_day = |t: &tasks::Task| t.window_from.map(|f| to_vn(f).date_naive());
    window_day(t)
        .or_else(|| {
            let partner = match t.kind.as_str() {
                "dropoff" => "pickup",
                "collect" => "deliver",
                "pickup" => "dropoff",
                _ => "collect",
            };
            siblings
                .iter()
                .filter(|p| p.kind == partner && p.window_from.is_some())
                .min_by_key(|p| (p.id - t.id).abs())
                .and_then(window_day)
        })
        .unwrap_or_else(|| to_vn(crate::db::now_utc()).date_naive())
}

/// What [`refresh_routes`] reads of one courier's day.
struct Day {
    office: (f64, f64),
    shift: (f64, f64),
    open: Vec<tasks::Task>,
    hours: HashMap<i64, AgencyHours>,
}

/// After a change outside route planning (a manual reassignment, a cancellation, an
/// auto-assignment), renumbers and re-times each of `couriers`' routes of `date` at
/// once, without waiting for the next plan: started stops stay first, the others keep
/// their planned order, stops not in the route yet go where they add least travel
/// (windows and shift end kept when possible, else last); ETAs follow this courier's
/// own route from the post office, as the planner's do. Written under each task's lock,
/// only for stops still open and still this courier's.
pub async fn refresh_routes(
    state: &AppState,
    couriers: Vec<i64>,
    date: NaiveDate,
) -> Result<(), ApiError> {
    use crate::db::models::{couriers as courier_rows, post_offices};
    use crate::domain::dispatch::{apply, best_insertion, CourierRoute, Job as InsertJob};
    use crate::domain::shift::Shift;
    let now = crate::db::now_utc();
    let today = to_vn(now).date_naive() == date;
    let mut seen = Vec::new();
    for courier in couriers {
        if seen.contains(&courier) {
            continue;
        }
        seen.push(courier);
        let day = state
            .db
            .read(move |c| -> Result<Option<Day>, ApiError> {
                let Some(k) = courier_rows::find(c, courier)? else {
                    return Ok(None);
                };
                let Some(office) = post_offices::find(c, k.post_office_id)? else {
                    return Ok(None);
                };
                let days_off: Vec<String> = serde_json::from_str(&k.days_off).unwrap_or_default();
                let Some(shift) = Shift::parse(&k.shift_start, &k.shift_end, &days_off) else {
                    return Ok(None);
                };
                let open = tasks::open_of_courier(c, courier)?;
                let open = crate::dispatch::retain_due(c, open, date)?;
                let hours = crate::dispatch::desk_hours_of(c, open.iter())?;
                Ok(Some(Day {
                    office: (office.lat, office.lon),
                    shift: (time_secs(shift.start), time_secs(shift.end)),
                    open,
                    hours,
                }))
            })
            .await?;
        let Some(day) = day else { continue };
        if day.open.is_empty() {
            continue;
        }
        let start_time = if today {
            day.shift.0.max(secs(date, now))
        } else {
            day.shift.0
        };
        let mut points = vec![Point {
            lat: day.office.0,
            lon: day.office.1,
        }];
        points.extend(day.open.iter().map(|t| Point {
            lat: t.lat,
            lon: t.lon,
        }));
        let matrix = state.travel.matrix(&points).await.durations_s;
        // Task index i is at matrix location i + 1.
        let (mut started, mut planned, mut loose) = (Vec::new(), Vec::new(), Vec::new());
        for (i, t) in day.open.iter().enumerate() {
            match (t.status.as_str(), t.seq) {
                ("in_progress", _) => started.push(i),
                (_, Some(_)) => planned.push(i),
                _ => loose.push(i),
            }
        }
        let by_seq = |i: &usize| (day.open[*i].seq.unwrap_or(i32::MAX), day.open[*i].id);
        started.sort_by_key(by_seq);
        planned.sort_by_key(by_seq);
        // Place the loose stops, a dossier's two together, in the not-started part.
        let insert_stop = |i: usize| {
            crate::dispatch::stop_of(
                &day.open[i],
                i + 1,
                date,
                day.hours.get(&day.open[i].dossier_id),
            )
        };
        let mut route = CourierRoute {
            courier_id: courier,
            start: (0, start_time),
            end: (0, day.shift.1),
            capacity: i32::MAX / 2,
            initial_load: i32::MAX / 4,
            stops: planned.iter().map(|i| insert_stop(*i)).collect(),
        };
        let mut order = planned.clone();
        let mut done = Vec::new();
        for &i in &loose {
            if done.contains(&i) {
                continue;
            }
            let pairs = |x: usize, y: usize| {
                day.open[x].dossier_id == day.open[y].dossier_id
                    && matches!(
                        (day.open[x].kind.as_str(), day.open[y].kind.as_str()),
                        ("pickup", "dropoff") | ("collect", "deliver")
                    )
            };
            let partner = loose
                .iter()
                .copied()
                .filter(|j| *j != i && !done.contains(j))
                .find_map(|j| {
                    if pairs(i, j) {
                        Some((i, j))
                    } else if pairs(j, i) {
                        Some((j, i))
                    } else {
                        None
                    }
                });
            let (job, members) = match partner {
                Some((p, d)) => (InsertJob::Pair(insert_stop(p), insert_stop(d)), vec![p, d]),
                None => (InsertJob::Single(insert_stop(i)), vec![i]),
            };
            done.extend(members.iter().copied());
            match best_insertion(&route, &job, &matrix) {
                Some(ins) => {
                    apply(&mut route, &job, &ins);
                    order.insert(ins.first_at, members[0]);
                    if members.len() == 2 {
                        order.insert(ins.second_at.unwrap_or(ins.first_at + 1), members[1]);
                    }
                }
                None => {
                    for m in members {
                        route.stops.push(insert_stop(m));
                        order.push(m);
                    }
                }
            }
        }
        // Times along the route, as the planner counts them.
        let mut time = start_time;
        let mut at_loc = 0;
        let mut numbered = Vec::new();
        for (n, i) in started.iter().chain(order.iter()).enumerate() {
            let s = stop(&day.open[*i], *i + 1, date, &day.hours);
            let arrival = time + matrix[at_loc][s.location];
            let begin = s.service_start(arrival);
            numbered.push((day.open[*i].id, n as i32 + 1, at(date, begin)));
            time = begin + s.service;
            at_loc = s.location;
        }
        state
            .db
            .write_retrying(move |c| -> Result<(), ApiError> {
                for (task_id, seq, eta) in &numbered {
                    let (t, _) = actions::lock_task(c, *task_id)?;
                    if actions::is_open(&t) && t.courier_id == Some(courier) {
                        tasks::set_plan(c, *task_id, *seq, *eta)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    Ok(())
}
