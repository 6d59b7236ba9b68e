//! Independent feasibility check of a [`Solution`]: it trusts nothing the solver says and
//! replays every route from the matrix.

use super::{part_stop, JobKind, Problem, Route, Solution, StopPart, Vehicle};
use std::collections::{HashMap, HashSet};

/// Relative tolerance for comparing times and distances.
const EPS: f64 = 1e-6;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= EPS * a.abs().max(b.abs()).max(1.)
}

fn not_after(a: f64, b: f64) -> bool {
    a <= b + EPS * a.abs().max(b.abs()).max(1.)
}

/// Independent feasibility check (does not trust the solver): every job served once by one
/// vehicle, pickup before its delivery on the same route, service starts inside windows and
/// shifts, capacity never exceeded along the route, fixed heads first and in order, times
/// consistent with the matrix (arrival = previous departure + travel; start = max(arrival,
/// window start); departure = start + service), route distance and duration as replayed.
///
/// Stops of a vehicle's fixed head are history: their window is not enforced (everything
/// else is). Loads follow the [`Job::demand`](super::Job::demand) convention: a vehicle
/// leaves its start carrying all delivery-only singles of its route.
///
/// Returns every violation found, as readable messages.
pub fn check(problem: &Problem, solution: &Solution) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let size = problem.matrix.size();
    let square = problem.matrix.distances.len() == size
        && problem
            .matrix
            .durations
            .iter()
            .chain(&problem.matrix.distances)
            .all(|row| row.len() == size);
    if !square {
        return Err(vec![format!(
            "the matrix is not square ({size} rows of durations)"
        )]);
    }
    let jobs = job_index(problem);
    let vehicles: HashMap<&str, usize> = problem
        .vehicles
        .iter()
        .enumerate()
        .map(|(idx, vehicle)| (vehicle.id.as_str(), idx))
        .collect();

    // (job index, part) -> (route index, position)
    let mut served: HashMap<(usize, StopPart), (usize, usize)> = HashMap::new();
    let mut used_vehicles = HashSet::new();

    for (route_idx, route) in solution.routes.iter().enumerate() {
        let Some(&vehicle_idx) = vehicles.get(route.vehicle_id.as_str()) else {
            errors.push(format!(
                "route {route_idx}: unknown vehicle {}",
                route.vehicle_id
            ));
            continue;
        };
        let vehicle = &problem.vehicles[vehicle_idx];
        let who = format!("vehicle {}", vehicle.id);
        if vehicle.start >= size || vehicle.end >= size {
            errors.push(format!("{who}: start or end outside the matrix"));
            continue;
        }
        if !used_vehicles.insert(vehicle_idx) {
            errors.push(format!("{who}: more than one route"));
        }

        for (pos, stop) in route.stops.iter().enumerate() {
            let Some(&job_idx) = jobs.get(stop.job_id.as_str()) else {
                continue;
            };
            if part_stop(&problem.jobs[job_idx], stop.part).is_none() {
                continue;
            }
            if let Some((other_route, other_pos)) =
                served.insert((job_idx, stop.part), (route_idx, pos))
            {
                errors.push(format!(
                    "{who}, stop {pos} ({} {:?}): already served by route {other_route} at stop {other_pos}",
                    stop.job_id, stop.part
                ));
            }
        }
        replay_route(problem, &jobs, vehicle, route, &mut errors);
    }

    for vehicle in &problem.vehicles {
        if !vehicle.fixed_head.is_empty()
            && !solution
                .routes
                .iter()
                .any(|route| route.vehicle_id == vehicle.id)
        {
            errors.push(format!(
                "vehicle {}: has a fixed head but no route",
                vehicle.id
            ));
        }
    }

    let mut unassigned = HashSet::new();
    for (job_id, _) in &solution.unassigned {
        match jobs.get(job_id.as_str()) {
            None => errors.push(format!("unassigned job {job_id} is unknown")),
            Some(&idx) => {
                if !unassigned.insert(idx) {
                    errors.push(format!("job {job_id} is unassigned twice"));
                }
            }
        }
    }

    let head_parts: HashSet<(&str, StopPart)> = problem
        .vehicles
        .iter()
        .flat_map(|vehicle| {
            vehicle
                .fixed_head
                .iter()
                .map(|(id, part)| (id.as_str(), *part))
        })
        .collect();
    for (idx, job) in problem.jobs.iter().enumerate() {
        let parts: &[StopPart] = match job.kind {
            JobKind::Pair { .. } => &[StopPart::Pickup, StopPart::Delivery],
            JobKind::Single { .. } => &[StopPart::Single],
        };
        let places: Vec<Option<(usize, usize)>> = parts
            .iter()
            .map(|part| served.get(&(idx, *part)).copied())
            .collect();
        let served_count = places.iter().flatten().count();
        let is_unassigned = unassigned.contains(&idx);
        let in_a_head = parts
            .iter()
            .any(|part| head_parts.contains(&(job.id.as_str(), *part)));
        match (served_count, is_unassigned) {
            (0, true) if in_a_head => {
                errors.push(format!("job {}: in a fixed head but unassigned", job.id))
            }
            (0, true) => {}
            (0, false) => errors.push(format!("job {}: neither served nor unassigned", job.id)),
            (_, true) => errors.push(format!("job {}: both served and unassigned", job.id)),
            (count, false) if count < parts.len() => {
                errors.push(format!("job {}: only partly served", job.id))
            }
            _ => {}
        }
        if let [Some((pickup_route, _)), Some((delivery_route, _))] = places[..] {
            // Their order on one route is checked with the route.
            if pickup_route != delivery_route {
                errors.push(format!(
                    "job {}: pickup and delivery on different routes",
                    job.id
                ));
            }
        }
        if let JobKind::Pair { .. } = job.kind {
            if job.demand < 0 {
                errors.push(format!("job {}: a pair's demand must be >= 0", job.id));
            }
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Each job's position in `problem.jobs`, by id.
fn job_index(problem: &Problem) -> HashMap<&str, usize> {
    problem
        .jobs
        .iter()
        .enumerate()
        .map(|(idx, job)| (job.id.as_str(), idx))
        .collect()
}

/// The violations of one route taken alone (everything [`check`] verifies that does not
/// depend on the other routes or on the list of unassigned jobs).
pub(crate) fn route_errors(problem: &Problem, vehicle: &Vehicle, route: &Route) -> Vec<String> {
    let jobs = job_index(problem);
    let mut errors = Vec::new();
    if vehicle.start >= problem.matrix.size() || vehicle.end >= problem.matrix.size() {
        errors.push(format!(
            "vehicle {}: start or end outside the matrix",
            vehicle.id
        ));
    } else {
        replay_route(problem, &jobs, vehicle, route, &mut errors);
    }
    errors
}

/// Replays `route` of `vehicle` from the matrix: fixed head, loads, times, windows, shift,
/// pickup before delivery within the route, distance and duration.
fn replay_route(
    problem: &Problem,
    jobs: &HashMap<&str, usize>,
    vehicle: &Vehicle,
    route: &Route,
    errors: &mut Vec<String>,
) {
    let size = problem.matrix.size();
    let who = format!("vehicle {}", vehicle.id);
    // Fixed head first and in order.
    let head = &vehicle.fixed_head;
    let head_ok = route.stops.len() >= head.len()
        && head
            .iter()
            .zip(&route.stops)
            .all(|((id, part), stop)| stop.job_id == *id && stop.part == *part);
    if !head_ok {
        errors.push(format!(
            "{who}: the route does not begin with the vehicle's fixed head {head:?}"
        ));
    }

    // Initial load: every delivery-only single of the route is on board from the start.
    let mut load: i64 = route
        .stops
        .iter()
        .filter(|stop| stop.part == StopPart::Single)
        .filter_map(|stop| jobs.get(stop.job_id.as_str()))
        .map(|&idx| problem.jobs[idx].demand)
        .filter(|demand| *demand < 0)
        .map(|demand| -i64::from(demand))
        .sum();
    let capacity = i64::from(vehicle.capacity);
    if load > capacity {
        errors.push(format!(
            "{who}: leaves with load {load} over capacity {capacity}"
        ));
    }

    let mut location = vehicle.start;
    let mut time = vehicle.shift.0;
    let mut distance = 0.;
    let mut replay_ok = true;
    for (pos, stop) in route.stops.iter().enumerate() {
        let at = format!("{who}, stop {pos} ({} {:?})", stop.job_id, stop.part);
        let Some(&job_idx) = jobs.get(stop.job_id.as_str()) else {
            errors.push(format!("{at}: unknown job"));
            replay_ok = false;
            continue;
        };
        let job = &problem.jobs[job_idx];
        let Some(spec) = part_stop(job, stop.part) else {
            errors.push(format!("{at}: part does not match the job kind"));
            replay_ok = false;
            continue;
        };
        if stop.location != spec.location || spec.location >= size {
            errors.push(format!(
                "{at}: location {} but the job's is {}",
                stop.location, spec.location
            ));
            replay_ok = false;
            continue;
        }

        let arrival = time + problem.matrix.durations[location][spec.location];
        let mut start = arrival.max(spec.window.map_or(arrival, |window| window.0));
        // Service does not start during a break: arriving in it means waiting it out.
        if let Some((from, to)) = spec.closed {
            if start > from && start < to {
                start = to;
            }
        }
        let departure = start + spec.service;
        distance += problem.matrix.distances[location][spec.location];
        if !(close(stop.arrival, arrival)
            && close(stop.start, start)
            && close(stop.departure, departure))
        {
            errors.push(format!(
                "{at}: times {}/{}/{} but the matrix gives {arrival}/{start}/{departure}",
                stop.arrival, stop.start, stop.departure
            ));
        }
        let in_head = pos < head.len();
        if let Some((from, to)) = spec.window {
            let inside = not_after(from, start) && not_after(start, to);
            if !in_head && !inside {
                errors.push(format!(
                    "{at}: service starts at {start}, outside the window [{from}, {to}]"
                ));
            }
        }
        if !not_after(vehicle.shift.0, start) || !not_after(start, vehicle.shift.1) {
            errors.push(format!(
                "{at}: service starts at {start}, outside the shift {:?}",
                vehicle.shift
            ));
        }

        let demand = i64::from(job.demand);
        load += match (stop.part, demand >= 0) {
            (StopPart::Pickup, _) | (StopPart::Single, true) => demand,
            (StopPart::Delivery, _) => -demand,
            (StopPart::Single, false) => demand,
        };
        if load > capacity {
            errors.push(format!("{at}: load {load} over capacity {capacity}"));
        }
        location = spec.location;
        time = departure;
    }
    if replay_ok {
        distance += problem.matrix.distances[location][vehicle.end];
        let end = time + problem.matrix.durations[location][vehicle.end];
        if !not_after(end, vehicle.shift.1) {
            errors.push(format!(
                "{who}: back at the end at {end}, after the shift end {}",
                vehicle.shift.1
            ));
        }
        if !close(route.distance, distance) {
            errors.push(format!(
                "{who}: distance {} but the matrix gives {distance}",
                route.distance
            ));
        }
        if !close(route.duration, end - vehicle.shift.0) {
            errors.push(format!(
                "{who}: duration {} but the matrix gives {}",
                route.duration,
                end - vehicle.shift.0
            ));
        }
    }

    // A pair served on this route: its pickup first.
    for (pos, stop) in route.stops.iter().enumerate() {
        if stop.part != StopPart::Delivery {
            continue;
        }
        let pickup_after = route.stops[pos + 1..]
            .iter()
            .any(|other| other.part == StopPart::Pickup && other.job_id == stop.job_id);
        if pickup_after {
            errors.push(format!("job {}: delivery before pickup", stop.job_id));
        }
    }
}
