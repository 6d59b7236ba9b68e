//! Auto-assignment by cheapest feasible insertion.
//!
//! Each courier has a current route: a start (where and when they are free), the
//! stops already assigned, in order, and an end (the post office by the end of the
//! shift). A new job (a pickup with its drop-off, or a single stop) is tried at every
//! position of every eligible courier's route; the courier whose route grows least in
//! travel time, with every window, the shift end and the capacity still kept, gets
//! it. Ties go to the courier with fewer stops, then the lower id, so the same input
//! always gives the same answer.
//!
//! Cheapest insertion alone piles work on one courier: a job next to an existing route
//! costs less than the round trip of an idle courier, so every job after the first
//! would join the first route. To spread the day over the couriers on shift, each stop
//! already on a courier's route adds [`BALANCE_S_PER_STOP`] to the cost of giving them
//! one more job: a busier courier gets it only when they save that much travel.
//!
//! Feasibility checks are O(1) per position from precomputed earliest starts and
//! latest allowed starts (slack), so one job costs O(n²) per route of n stops.

/// Travel time in seconds between two location indices.
pub trait TravelTime {
    /// Seconds from `a` to `b`.
    fn secs(&self, a: usize, b: usize) -> f64;
}

impl TravelTime for Vec<Vec<f64>> {
    fn secs(&self, a: usize, b: usize) -> f64 {
        self[a][b]
    }
}

/// One stop of a route or of a job (times in seconds on one clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    pub location: usize,
    /// Earliest and latest service start.
    pub window: (f64, f64),
    /// Seconds spent at the stop.
    pub service: f64,
    /// Load change when leaving the stop (+ picked up, − delivered).
    pub load: i32,
}

/// A courier's current plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CourierRoute {
    pub courier_id: i64,
    /// Where and when the courier is free to start.
    pub start: (usize, f64),
    /// Where the route ends (the post office) and the latest arrival (shift end).
    pub end: (usize, f64),
    pub capacity: i32,
    /// Load carried at the start.
    pub initial_load: i32,
    pub stops: Vec<Stop>,
}

/// A job to place: a pickup and its delivery (same courier, pickup first), or one stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Job {
    Pair(Stop, Stop),
    Single(Stop),
}

/// Where a job goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Insertion {
    pub courier_id: i64,
    /// Index in the courier's stop list where the (first) stop is inserted.
    pub first_at: usize,
    /// Index (in the list after the first insertion) of the second stop, for pairs.
    pub second_at: Option<usize>,
    /// Added travel time, seconds.
    pub added_secs: f64,
}

/// Why no courier could take a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoFit {
    /// No courier was eligible (zone, shift, day).
    NoEligibleCourier,
    /// Couriers exist but none can keep the windows, shift end and capacity.
    NoFeasiblePosition,
}

/// Schedule facts of a route, precomputed for O(1) insertion checks.
struct Timeline {
    /// Node locations: start, stops…, end.
    loc: Vec<usize>,
    /// Departure time from each node (start: free time).
    dep: Vec<f64>,
    /// Latest service start at each node that keeps the rest feasible.
    latest: Vec<f64>,
    /// Load when leaving each node.
    load: Vec<i32>,
    feasible: bool,
}

fn timeline(r: &CourierRoute, t: &impl TravelTime) -> Timeline {
    let n = r.stops.len();
    let mut loc = Vec::with_capacity(n + 2);
    loc.push(r.start.0);
    loc.extend(r.stops.iter().map(|s| s.location));
    loc.push(r.end.0);
    let mut dep = vec![r.start.1; n + 2];
    let mut load = vec![r.initial_load; n + 2];
    let mut feasible = r.initial_load <= r.capacity;
    for (k, s) in r.stops.iter().enumerate() {
        let node = k + 1;
        let arrive = dep[node - 1] + t.secs(loc[node - 1], loc[node]);
        let begin = arrive.max(s.window.0);
        feasible &= begin <= s.window.1;
        dep[node] = begin + s.service;
        load[node] = load[node - 1] + s.load;
        feasible &= load[node] <= r.capacity && load[node] >= 0;
    }
    let end_arrival = dep[n] + t.secs(loc[n], loc[n + 1]);
    feasible &= end_arrival <= r.end.1;
    dep[n + 1] = end_arrival;
    let mut latest = vec![f64::INFINITY; n + 2];
    latest[n + 1] = r.end.1;
    for node in (1..=n).rev() {
        let s = &r.stops[node - 1];
        let by_next = latest[node + 1] - t.secs(loc[node], loc[node + 1]) - s.service;
        latest[node] = s.window.1.min(by_next);
    }
    Timeline {
        loc,
        dep,
        latest,
        load,
        feasible,
    }
}

/// Service start at `s` when arriving from a node departed at `from_dep`.
fn begin_at(from_dep: f64, from_loc: usize, s: &Stop, t: &impl TravelTime) -> f64 {
    (from_dep + t.secs(from_loc, s.location)).max(s.window.0)
}

/// Whether arriving at node `next` after departing `loc` at `dep` keeps the rest feasible.
fn fits_before(
    tl: &Timeline,
    next: usize,
    loc: usize,
    dep: f64,
    stops: &[Stop],
    t: &impl TravelTime,
) -> bool {
    let arrive = dep + t.secs(loc, tl.loc[next]);
    let begin = if next <= stops.len() {
        arrive.max(stops[next - 1].window.0)
    } else {
        arrive
    };
    begin <= tl.latest[next]
}

/// The cheapest feasible insertion of `job` into `route`, if any.
pub fn best_insertion(route: &CourierRoute, job: &Job, t: &impl TravelTime) -> Option<Insertion> {
    let tl = timeline(route, t);
    if !tl.feasible {
        return None;
    }
    let stops = &route.stops;
    let n = stops.len();
    let mut best: Option<Insertion> = None;
    let mut consider = |first_at: usize, second_at: Option<usize>, added: f64| {
        if best.is_none_or(|b| added < b.added_secs - 1e-9) {
            best = Some(Insertion {
                courier_id: route.courier_id,
                first_at,
                second_at,
                added_secs: added,
            });
        }
    };
    match *job {
        Job::Single(x) => {
            for i in 0..=n {
                // Insert between node i and node i+1.
                let after = tl.load[i] + x.load;
                if after > route.capacity || after < 0 {
                    continue;
                }
                if x.load > 0 && (i + 1..=n).any(|k| tl.load[k] + x.load > route.capacity) {
                    continue;
                }
                let begin = begin_at(tl.dep[i], tl.loc[i], &x, t);
                if begin > x.window.1
                    || !fits_before(&tl, i + 1, x.location, begin + x.service, stops, t)
                {
                    continue;
                }
                let added = t.secs(tl.loc[i], x.location) + t.secs(x.location, tl.loc[i + 1])
                    - t.secs(tl.loc[i], tl.loc[i + 1]);
                consider(i, None, added);
            }
        }
        Job::Pair(p, d) => {
            let q = p.load;
            for i in 0..=n {
                if tl.load[i] + q > route.capacity {
                    continue;
                }
                let p_begin = begin_at(tl.dep[i], tl.loc[i], &p, t);
                if p_begin > p.window.1 {
                    continue;
                }
                let p_dep = p_begin + p.service;
                let add_p = t.secs(tl.loc[i], p.location);
                // Walk the delivery position forward from right after the pickup.
                let (mut prev_loc, mut prev_dep) = (p.location, p_dep);
                let mut load_ok = true;
                for j in i..=n {
                    // Delivery between `prev` (p or original node j) and original node j+1.
                    let d_begin = begin_at(prev_dep, prev_loc, &d, t);
                    if load_ok
                        && d_begin <= d.window.1
                        && fits_before(&tl, j + 1, d.location, d_begin + d.service, stops, t)
                    {
                        let added = if j == i {
                            add_p
                                + t.secs(p.location, d.location)
                                + t.secs(d.location, tl.loc[i + 1])
                                - t.secs(tl.loc[i], tl.loc[i + 1])
                        } else {
                            add_p + t.secs(p.location, tl.loc[i + 1])
                                - t.secs(tl.loc[i], tl.loc[i + 1])
                                + t.secs(tl.loc[j], d.location)
                                + t.secs(d.location, tl.loc[j + 1])
                                - t.secs(tl.loc[j], tl.loc[j + 1])
                        };
                        consider(i, Some(j + 1), added);
                    }
                    if j == n {
                        break;
                    }
                    // Move past original node j+1 with the pickup on board.
                    let node = j + 1;
                    let s = &stops[node - 1];
                    let begin = (prev_dep + t.secs(prev_loc, s.location)).max(s.window.0);
                    if begin > s.window.1 {
                        break;
                    }
                    load_ok &= tl.load[node] + q <= route.capacity;
                    prev_loc = s.location;
                    prev_dep = begin + s.service;
                }
            }
        }
    }
    best
}

/// Seconds of travel a courier must save, per stop already on their route, to be
/// given a job over a courier with fewer stops (5 minutes, a door stop's service time).
pub const BALANCE_S_PER_STOP: f64 = 300.0;

/// The courier to give `job` to among `routes` (already filtered to the eligible): the
/// least added travel plus [`BALANCE_S_PER_STOP`] per stop already planned.
pub fn choose(routes: &[CourierRoute], job: &Job, t: &impl TravelTime) -> Result<Insertion, NoFit> {
    if routes.is_empty() {
        return Err(NoFit::NoEligibleCourier);
    }
    let mut best: Option<(Insertion, f64, usize)> = None;
    for r in routes {
        let Some(ins) = best_insertion(r, job, t) else {
            continue;
        };
        let score = ins.added_secs + BALANCE_S_PER_STOP * r.stops.len() as f64;
        let better = match &best {
            None => true,
            Some((b, best_score, stops)) => {
                let by_cost = score < best_score - 1e-6;
                let tie = (score - best_score).abs() <= 1e-6;
                by_cost || (tie && (r.stops.len(), ins.courier_id) < (*stops, b.courier_id))
            }
        };
        if better {
            best = Some((ins, score, r.stops.len()));
        }
    }
    best.map(|(i, ..)| i).ok_or(NoFit::NoFeasiblePosition)
}

/// Applies an insertion to the route (so the next job sees it).
pub fn apply(route: &mut CourierRoute, job: &Job, ins: &Insertion) {
    match *job {
        Job::Single(x) => route.stops.insert(ins.first_at, x),
        Job::Pair(p, d) => {
            route.stops.insert(ins.first_at, p);
            route
                .stops
                .insert(ins.second_at.unwrap_or(ins.first_at + 1), d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Locations on a line, 60 s apart per unit.
    fn line(n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|a| (0..n).map(|b| (a as f64 - b as f64).abs() * 60.0).collect())
            .collect()
    }

    fn stop(location: usize, load: i32) -> Stop {
        Stop {
            location,
            window: (0.0, 1e9),
            service: 0.0,
            load,
        }
    }

    fn route(id: i64, stops: Vec<Stop>) -> CourierRoute {
        CourierRoute {
            courier_id: id,
            start: (0, 0.0),
            end: (0, 1e9),
            capacity: 10,
            initial_load: 0,
            stops,
        }
    }

    fn feasible(r: &CourierRoute, t: &Vec<Vec<f64>>) -> bool {
        timeline(r, t).feasible
    }

    #[test]
    fn inserts_a_pair_where_the_route_grows_least() {
        let t = line(10);
        let r = route(1, vec![stop(5, 1), stop(9, -1)]);
        let job = Job::Pair(stop(6, 1), stop(7, -1));
        let ins = best_insertion(&r, &job, &t).unwrap();
        assert_eq!(ins.added_secs, 0.0, "on the way: no detour");
        let mut r2 = r.clone();
        apply(&mut r2, &job, &ins);
        let locs: Vec<usize> = r2.stops.iter().map(|s| s.location).collect();
        assert_eq!(locs, [5, 6, 7, 9]);
        assert!(feasible(&r2, &t));
    }

    #[test]
    fn respects_windows_capacity_and_shift_end() {
        let t = line(10);
        // Stop 5 must be served within 5 minutes: the far pickup can only come after it.
        let mut five = stop(5, 0);
        five.window = (0.0, 300.0);
        let r = route(1, vec![five]);
        let job = Job::Pair(stop(8, 1), stop(7, -1));
        let ins = best_insertion(&r, &job, &t).unwrap();
        let mut r2 = r.clone();
        apply(&mut r2, &job, &ins);
        assert!(feasible(&r2, &t));
        let locs: Vec<usize> = r2.stops.iter().map(|s| s.location).collect();
        assert_eq!(locs, [5, 8, 7]);
        // A pickup whose window closed before anyone can get there does not fit.
        let mut late = stop(9, 1);
        late.window = (0.0, 100.0);
        assert!(best_insertion(&r, &Job::Pair(late, stop(1, -1)), &t).is_none());
        // Full courier: no room.
        let mut full = route(2, vec![stop(1, 10), stop(2, -10)]);
        full.capacity = 10;
        assert!(
            best_insertion(&full, &Job::Pair(stop(1, 1), stop(2, -1)), &t).is_some(),
            "after the drop"
        );
        // Already carrying a full load from the start: nothing more fits.
        full.stops = vec![];
        full.initial_load = 10;
        assert!(best_insertion(&full, &Job::Pair(stop(3, 1), stop(4, -1)), &t).is_none());
        // Shift ends too soon for a far stop.
        let mut short = route(3, vec![]);
        short.end = (0, 500.0);
        assert!(best_insertion(&short, &Job::Single(stop(9, 0)), &t).is_none());
        assert!(best_insertion(&short, &Job::Single(stop(4, 0)), &t).is_some());
    }

    #[test]
    fn choice_is_cheapest_then_least_loaded_then_lowest_id() {
        let t = line(10);
        let job = Job::Pair(stop(2, 1), stop(3, -1));
        let mut near = route(7, vec![]);
        near.start = (2, 0.0);
        near.end = (2, 1e9);
        let mut far = route(3, vec![]);
        far.start = (9, 0.0);
        far.end = (9, 1e9);
        assert_eq!(
            choose(&[far.clone(), near.clone()], &job, &t)
                .unwrap()
                .courier_id,
            7
        );
        let a = route(5, vec![]);
        let b = route(4, vec![]);
        assert_eq!(
            choose(&[a.clone(), b.clone()], &job, &t)
                .unwrap()
                .courier_id,
            4
        );
        assert_eq!(
            choose(&[b, a], &job, &t).unwrap().courier_id,
            4,
            "order does not matter"
        );
        assert_eq!(choose(&[], &job, &t), Err(NoFit::NoEligibleCourier));
        let mut tight = route(1, vec![]);
        tight.end = (0, 10.0);
        assert_eq!(choose(&[tight], &job, &t), Err(NoFit::NoFeasiblePosition));
    }

    /// Tasks per courier after auto-assigning `jobs` pairs near the office to `couriers`
    /// couriers who all start there: (max, min).
    fn spread(couriers: i64, jobs: usize) -> (usize, usize) {
        let t = line(20);
        let mut routes: Vec<CourierRoute> = (1..=couriers).map(|id| route(id, vec![])).collect();
        for i in 0..jobs {
            let job = Job::Pair(stop(1 + i % 4, 1), stop(2, -1));
            let ins = choose(&routes, &job, &t).unwrap();
            let r = routes
                .iter_mut()
                .find(|r| r.courier_id == ins.courier_id)
                .unwrap();
            apply(r, &job, &ins);
            assert!(feasible(r, &t));
        }
        let counts: Vec<usize> = routes.iter().map(|r| r.stops.len() / 2).collect();
        (*counts.iter().max().unwrap(), *counts.iter().min().unwrap())
    }

    #[test]
    fn work_spreads_over_couriers_on_shift() {
        // Issue 13: twelve jobs, three idle couriers at the office: not 12/0/0.
        assert_eq!(spread(3, 12), (4, 4));
        assert_eq!(spread(2, 5), (3, 2));
        // A far job still goes to the courier already near it when the saving is large.
        let t = line(200);
        let mut near = route(1, vec![stop(150, 1), stop(151, -1)]);
        near.end = (0, 1e9);
        let idle = route(2, vec![]);
        let job = Job::Pair(stop(152, 1), stop(151, -1));
        assert_eq!(choose(&[near, idle], &job, &t).unwrap().courier_id, 1);
    }

    #[test]
    fn every_chosen_insertion_keeps_the_route_feasible() {
        // Randomised but seeded: many jobs into few routes, each result re-checked.
        let t = line(30);
        let mut routes: Vec<CourierRoute> = (1..=3).map(|id| route(id, vec![])).collect();
        let mut seed = 42u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..60 {
            let (a, b) = (next() % 30, next() % 30);
            let start = (next() % 3000) as f64;
            let mut p = stop(a, 1);
            p.window = (start, start + 1800.0);
            let mut d = stop(b, -1);
            d.window = (start, start + 5400.0);
            let job = Job::Pair(p, d);
            if let Ok(ins) = choose(&routes, &job, &t) {
                let r = routes
                    .iter_mut()
                    .find(|r| r.courier_id == ins.courier_id)
                    .unwrap();
                apply(r, &job, &ins);
                assert!(
                    feasible(r, &t),
                    "route {} infeasible after insert",
                    r.courier_id
                );
            }
        }
        assert!(routes.iter().map(|r| r.stops.len()).sum::<usize>() > 20);
    }
}
