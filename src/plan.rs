//! Route planning as an application service: one post office, one day, all open
//! tasks and the couriers working that day become a pickup-and-delivery problem for
//! [`crate::planner`]; stops already started stay as each route's fixed head. The
//! answer is stored (assignments, sequence, ETA on each task) and becomes each
//! courier's `GET /me/route`.

use crate::auth::AuthUser;
use crate::clients::travel::Point;
use crate::db::models::tasks;
use crate::dispatch::{load_snapshot, secs, time_secs};
use crate::dossiers::actions;
use crate::error::ApiError;
use crate::planner::{self, Job, JobKind, Matrix, Problem, Settings, Stop, StopPart, Vehicle};
use crate::state::AppState;
use crate::timefmt::to_vn;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Seconds at a door and at a desk (as in auto-assignment).
const DOOR_SERVICE_S: f64 = 300.0;
const DESK_SERVICE_S: f64 = 600.0;

fn stop(t: &tasks::Task, location: usize, date: NaiveDate) -> Stop {
    let door = matches!(t.kind.as_str(), "pickup" | "deliver");
    Stop {
        location,
        window: match (t.window_from, t.window_to) {
            (Some(f), Some(to)) => Some((secs(date, f), secs(date, to))),
            _ => None,
        },
        service: if door { DOOR_SERVICE_S } else { DESK_SERVICE_S },
    }
}

/// The UTC time of `s` seconds after local midnight of `date`.
fn at(date: NaiveDate, s: f64) -> NaiveDateTime {
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default()
        + chrono::Duration::milliseconds((s * 1000.0) as i64);
    local - chrono::Duration::hours(7)
}

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
    let now = crate::db::now_utc();
    let today = to_vn(now).date_naive() == date;

    let mut points = vec![Point {
        lat: snap.office.0,
        lon: snap.office.1,
    }];
    let mut push = |lat: f64, lon: f64| {
        points.push(Point { lat, lon });
        points.len() - 1
    };
    // Every open task of the day, held or not, grouped by dossier.
    let mut by_dossier: BTreeMap<i64, Vec<(tasks::Task, Option<i64>)>> = BTreeMap::new();
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
    let mut jobs = Vec::new();
    let mut heads: BTreeMap<i64, Vec<(String, StopPart)>> = BTreeMap::new();
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
                    pickup: stop(a, push(a.lat, a.lon), date),
                    delivery: stop(b, push(b.lat, b.lon), date),
                }
            }
            (Some((a, _)), None) | (None, Some((a, _))) => {
                task_of.insert((id.clone(), StopPart::Single), a.id);
                JobKind::Single {
                    stop: stop(a, push(a.lat, a.lon), date),
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
    let vehicles: Vec<Vehicle> = snap
        .couriers
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
                fixed_head: heads.remove(&k.id).unwrap_or_default(),
            }
        })
        .collect();
    let m = state.travel.matrix(&points).await;
    let problem = Problem {
        matrix: Matrix {
            durations: m.durations_s,
            distances: m.distances_m,
        },
        vehicles,
        jobs,
    };
    let settings = Settings {
        time_limit: Duration::from_millis(state.settings.plan_time_limit_ms),
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
    let mut routes = Vec::new();
    for route in &solution.routes {
        let courier: i64 = route.vehicle_id.parse().map_err(ApiError::internal)?;
        let mut stops = Vec::new();
        for (seq, s) in route.stops.iter().enumerate() {
            let Some(task_id) = task_of.get(&(s.job_id.clone(), s.part)).copied() else {
                continue;
            };
            stops.push((task_id, seq as i32 + 1, at(date, s.start), s.location));
        }
        let who = auth.clone();
        let planned = stops.clone();
        state
            .db
            .write(move |c| -> Result<(), ApiError> {
                for (task_id, seq, eta, _) in &planned {
                    let t =
                        tasks::find(c, *task_id)?.ok_or_else(|| ApiError::not_found("nhiệm vụ"))?;
                    if t.courier_id != Some(courier)
                        && matches!(t.kind.as_str(), "pickup" | "collect")
                    {
                        actions::assign(c, &who, *task_id, courier, false, limits)?;
                    }
                    tasks::set_plan(c, *task_id, *seq, *eta)?;
                }
                Ok(())
            })
            .await?;
        let json_stops: Vec<Value> = stops
            .iter()
            .map(|(task_id, seq, eta, loc)| {
                json!({"task_id": task_id, "seq": seq, "eta": to_vn(*eta).to_rfc3339(),
                       "lat": points[*loc].lat, "lon": points[*loc].lon})
            })
            .collect();
        routes.push(json!({"courier_id": courier, "stops": json_stops,
                           "distance_m": route.distance.round(), "duration_s": route.duration.round()}));
    }
    let unassigned: Vec<Value> = solution
        .unassigned
        .iter()
        .flat_map(|(job, reason)| {
            [StopPart::Pickup, StopPart::Delivery, StopPart::Single]
                .into_iter()
                .filter_map(|p| task_of.get(&(job.clone(), p)).copied())
                .map(|t| json!({"task_id": t, "reason": reason}))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(json!({"routes": routes, "unassigned": unassigned}))
}
