//! Unit tests of the planner on small hand-made problems.

use super::*;

/// Five points on a line at x = 0, 10, 20, 30, 40; travel time equals distance.
fn line_matrix() -> Matrix {
    let xs = [0., 10., 20., 30., 40.];
    let table: Vec<Vec<f64>> = xs.iter().map(|a| xs.iter().map(|b: &f64| (a - b).abs()).collect()).collect();
    Matrix { durations: table.clone(), distances: table }
}

fn stop(location: usize) -> Stop {
    Stop { location, window: None, service: 0. }
}

fn pair(id: &str, pickup: usize, delivery: usize) -> Job {
    Job { id: id.to_string(), kind: JobKind::Pair { pickup: stop(pickup), delivery: stop(delivery) }, demand: 1 }
}

fn vehicle(id: &str, capacity: i32) -> Vehicle {
    Vehicle { id: id.to_string(), start: 0, end: 0, shift: (0., 1000.), capacity, fixed_head: Vec::new() }
}

fn settings() -> Settings {
    Settings { time_limit: Duration::from_secs(2), max_generations: Some(100), seed: Some(7) }
}

fn keys(route: &Route) -> Vec<(&str, StopPart)> {
    route.stops.iter().map(|stop| (stop.job_id.as_str(), stop.part)).collect()
}

/// Two pairs on a line and vehicles of capacity 1: the only optimum is one vehicle going
/// out along the line, serving A then B, and back: distance 80.
fn two_pairs() -> Problem {
    Problem {
        matrix: line_matrix(),
        vehicles: vec![vehicle("v1", 1), vehicle("v2", 1)],
        jobs: vec![pair("A", 1, 2), pair("B", 3, 4)],
    }
}

#[test]
fn solves_small_pdptw_to_its_known_optimum() {
    let problem = two_pairs();
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    assert!(solution.unassigned.is_empty());
    assert_eq!(solution.routes.len(), 1, "one vehicle is enough");
    let route = &solution.routes[0];
    assert_eq!(
        keys(route),
        vec![("A", StopPart::Pickup), ("A", StopPart::Delivery), ("B", StopPart::Pickup), ("B", StopPart::Delivery)]
    );
    assert!((route.distance - 80.).abs() < 1e-9);
    assert!((route.duration - 80.).abs() < 1e-9);
    let etas: Vec<f64> = route.stops.iter().map(|stop| stop.start).collect();
    assert_eq!(etas, vec![10., 20., 30., 40.]);
}

#[test]
fn waits_for_window_and_reports_eta() {
    let mut problem = two_pairs();
    problem.jobs[0].kind = JobKind::Pair {
        pickup: Stop { location: 1, window: Some((50., 100.)), service: 5. },
        delivery: stop(2),
    };
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let first_a = solution.routes.iter().flat_map(|route| &route.stops).find(|stop| stop.job_id == "A").unwrap();
    assert!(first_a.start >= 50. && first_a.departure == first_a.start + 5.);
}

#[test]
fn fixed_head_stays_first_after_replanning() {
    let mut problem = two_pairs();
    // v1 already picked B up: from scratch the solver would start with A.
    problem.vehicles[0].fixed_head = vec![("B".to_string(), StopPart::Pickup)];
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    assert!(solution.unassigned.is_empty());
    let v1 = solution.routes.iter().find(|route| route.vehicle_id == "v1").expect("v1 keeps its route");
    assert_eq!(keys(v1)[0], ("B", StopPart::Pickup));
    // B's load is on board v1: its delivery must stay on v1.
    assert!(keys(v1).contains(&("B", StopPart::Delivery)));
    // v1 is on the road anyway, so it also takes A rather than a second vehicle.
    assert_eq!(solution.routes.len(), 1);
    assert_eq!(
        keys(v1),
        vec![("B", StopPart::Pickup), ("B", StopPart::Delivery), ("A", StopPart::Pickup), ("A", StopPart::Delivery)]
    );
    assert!((v1.distance - 100.).abs() < 1e-9);
}

#[test]
fn completed_head_is_kept_and_vehicle_returns() {
    let mut problem = two_pairs();
    problem.vehicles[1].fixed_head = vec![("A".to_string(), StopPart::Pickup), ("A".to_string(), StopPart::Delivery)];
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let v2 = solution.routes.iter().find(|route| route.vehicle_id == "v2").expect("v2 keeps its route");
    assert_eq!(&keys(v2)[..2], &[("A", StopPart::Pickup), ("A", StopPart::Delivery)]);
    assert_eq!(solution.routes.len(), 1, "v2 is already out: it takes B as well");
}

#[test]
fn impossible_window_is_unassigned_with_reason() {
    let mut problem = two_pairs();
    problem.jobs.push(Job {
        id: "C".to_string(),
        kind: JobKind::Pair { pickup: Stop { location: 4, window: Some((0., 5.)), service: 0. }, delivery: stop(1) },
        demand: 1,
    });
    problem.jobs.push(Job {
        id: "D".to_string(),
        kind: JobKind::Single { stop: Stop { location: 2, window: Some((30., 20.)), service: 0. } },
        demand: 1,
    });
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let reasons: HashMap<&str, &str> =
        solution.unassigned.iter().map(|(id, reason)| (id.as_str(), reason.as_str())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons["C"].contains("time window"), "{reasons:?}");
    assert!(reasons["D"].contains("empty time window"), "{reasons:?}");
}

#[test]
fn singles_follow_the_demand_sign() {
    let problem = Problem {
        matrix: line_matrix(),
        vehicles: vec![vehicle("v1", 2)],
        jobs: vec![
            Job { id: "drop".to_string(), kind: JobKind::Single { stop: stop(2) }, demand: -2 },
            Job { id: "collect".to_string(), kind: JobKind::Single { stop: stop(3) }, demand: 2 },
        ],
    };
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    // The vehicle leaves full, so it must drop before it collects.
    assert_eq!(keys(&solution.routes[0]), vec![("drop", StopPart::Single), ("collect", StopPart::Single)]);
}

#[test]
fn bad_fixed_head_is_rejected() {
    let mut problem = two_pairs();
    problem.vehicles[0].fixed_head = vec![("A".to_string(), StopPart::Delivery)];
    assert!(matches!(solve(&problem, &settings()), Err(PlanError::InvalidProblem(_))));
    problem.vehicles[0].fixed_head = vec![("nope".to_string(), StopPart::Single)];
    assert!(matches!(solve(&problem, &settings()), Err(PlanError::InvalidProblem(_))));
}

fn good() -> (Problem, Solution) {
    let problem = two_pairs();
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    (problem, solution)
}

fn errors(problem: &Problem, solution: &Solution) -> String {
    check(problem, solution).expect_err("must be rejected").join("\n")
}

#[test]
fn checker_rejects_delivery_before_pickup() {
    let (problem, mut solution) = good();
    solution.routes[0].stops.swap(0, 1);
    let errors = errors(&problem, &solution);
    assert!(errors.contains("delivery before pickup"), "{errors}");
}

#[test]
fn checker_rejects_window_violation() {
    let (mut problem, solution) = good();
    problem.jobs[1].kind =
        JobKind::Pair { pickup: Stop { location: 3, window: Some((0., 25.)), service: 0. }, delivery: stop(4) };
    let errors = errors(&problem, &solution);
    assert!(errors.contains("outside the window"), "{errors}");
}

#[test]
fn checker_rejects_overload() {
    let (mut problem, solution) = good();
    problem.jobs[0].demand = 2;
    let errors = errors(&problem, &solution);
    assert!(errors.contains("over capacity"), "{errors}");
}

#[test]
fn checker_rejects_missing_and_duplicate_jobs_and_bad_times() {
    let (problem, mut solution) = good();
    let stop = solution.routes[0].stops.pop().unwrap();
    solution.routes[0].stops.insert(0, stop.clone());
    solution.routes[0].stops.push(stop);
    solution.routes[0].stops[1].start += 1.;
    let errors = errors(&problem, &solution);
    assert!(errors.contains("already served"), "{errors}");
    assert!(errors.contains("the matrix gives"), "{errors}");
    let (problem, mut solution) = good();
    solution.routes.clear();
    let errors = errors(&problem, &solution);
    assert!(errors.contains("neither served nor unassigned"), "{errors}");
}

#[test]
fn checker_rejects_moved_fixed_head() {
    let (mut problem, solution) = good();
    problem.vehicles[0].fixed_head = vec![("B".to_string(), StopPart::Pickup)];
    problem.vehicles[1].fixed_head = vec![("B".to_string(), StopPart::Pickup)];
    let errors = errors(&problem, &solution);
    assert!(errors.contains("fixed head"), "{errors}");
}
