//! Unit tests of the planner on small hand-made problems.

use super::*;

/// Five points on a line at x = 0, 10, 20, 30, 40; travel time equals distance.
fn line_matrix() -> Matrix {
    let xs = [0., 10., 20., 30., 40.];
    let table: Vec<Vec<f64>> = xs
        .iter()
        .map(|a| xs.iter().map(|b: &f64| (a - b).abs()).collect())
        .collect();
    Matrix {
        durations: table.clone(),
        distances: table,
    }
}

fn stop(location: usize) -> Stop {
    Stop {
        location,
        window: None,
        service: 0.,
        closed: None,
    }
}

fn pair(id: &str, pickup: usize, delivery: usize) -> Job {
    Job {
        id: id.to_string(),
        kind: JobKind::Pair {
            pickup: stop(pickup),
            delivery: stop(delivery),
        },
        demand: 1,
    }
}

fn vehicle(id: &str, capacity: i32) -> Vehicle {
    Vehicle {
        id: id.to_string(),
        start: 0,
        end: 0,
        shift: (0., 1000.),
        capacity,
        fixed_head: Vec::new(),
    }
}

fn settings() -> Settings {
    Settings {
        time_limit: Duration::from_secs(2),
        max_generations: Some(100),
        seed: Some(7),
    }
}

fn keys(route: &Route) -> Vec<(&str, StopPart)> {
    route
        .stops
        .iter()
        .map(|stop| (stop.job_id.as_str(), stop.part))
        .collect()
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
        vec![
            ("A", StopPart::Pickup),
            ("A", StopPart::Delivery),
            ("B", StopPart::Pickup),
            ("B", StopPart::Delivery)
        ]
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
        pickup: Stop {
            location: 1,
            window: Some((50., 100.)),
            service: 5.,
            closed: None,
        },
        delivery: stop(2),
    };
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let first_a = solution
        .routes
        .iter()
        .flat_map(|route| &route.stops)
        .find(|stop| stop.job_id == "A")
        .unwrap();
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
    let v1 = solution
        .routes
        .iter()
        .find(|route| route.vehicle_id == "v1")
        .expect("v1 keeps its route");
    assert_eq!(keys(v1)[0], ("B", StopPart::Pickup));
    // B's load is on board v1: its delivery must stay on v1.
    assert!(keys(v1).contains(&("B", StopPart::Delivery)));
    // v1 is on the road anyway, so it also takes A rather than a second vehicle.
    assert_eq!(solution.routes.len(), 1);
    assert_eq!(
        keys(v1),
        vec![
            ("B", StopPart::Pickup),
            ("B", StopPart::Delivery),
            ("A", StopPart::Pickup),
            ("A", StopPart::Delivery)
        ]
    );
    assert!((v1.distance - 100.).abs() < 1e-9);
}

#[test]
fn completed_head_is_kept_and_vehicle_returns() {
    let mut problem = two_pairs();
    problem.vehicles[1].fixed_head = vec![
        ("A".to_string(), StopPart::Pickup),
        ("A".to_string(), StopPart::Delivery),
    ];
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let v2 = solution
        .routes
        .iter()
        .find(|route| route.vehicle_id == "v2")
        .expect("v2 keeps its route");
    assert_eq!(
        &keys(v2)[..2],
        &[("A", StopPart::Pickup), ("A", StopPart::Delivery)]
    );
    assert_eq!(
        solution.routes.len(),
        1,
        "v2 is already out: it takes B as well"
    );
}

#[test]
fn impossible_window_is_unassigned_with_reason() {
    let mut problem = two_pairs();
    problem.jobs.push(Job {
        id: "C".to_string(),
        kind: JobKind::Pair {
            pickup: Stop {
                location: 4,
                window: Some((0., 5.)),
                service: 0.,
                closed: None,
            },
            delivery: stop(1),
        },
        demand: 1,
    });
    problem.jobs.push(Job {
        id: "D".to_string(),
        kind: JobKind::Single {
            stop: Stop {
                location: 2,
                window: Some((30., 20.)),
                service: 0.,
                closed: None,
            },
        },
        demand: 1,
    });
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    let reasons: HashMap<&str, &str> = solution
        .unassigned
        .iter()
        .map(|(id, reason)| (id.as_str(), reason.as_str()))
        .collect();
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
            Job {
                id: "drop".to_string(),
                kind: JobKind::Single { stop: stop(2) },
                demand: -2,
            },
            Job {
                id: "collect".to_string(),
                kind: JobKind::Single { stop: stop(3) },
                demand: 2,
            },
        ],
    };
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    // The vehicle leaves full, so it must drop before it collects.
    assert_eq!(
        keys(&solution.routes[0]),
        vec![("drop", StopPart::Single), ("collect", StopPart::Single)]
    );
}

#[test]
fn bad_fixed_head_is_rejected() {
    let mut problem = two_pairs();
    problem.vehicles[0].fixed_head = vec![("A".to_string(), StopPart::Delivery)];
    assert!(matches!(
        solve(&problem, &settings()),
        Err(PlanError::InvalidProblem(_))
    ));
    problem.vehicles[0].fixed_head = vec![("nope".to_string(), StopPart::Single)];
    assert!(matches!(
        solve(&problem, &settings()),
        Err(PlanError::InvalidProblem(_))
    ));
}

fn good() -> (Problem, Solution) {
    let problem = two_pairs();
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    (problem, solution)
}

fn rejection(problem: &Problem, solution: &Solution) -> String {
    check(problem, solution)
        .expect_err("must be rejected")
        .join("\n")
}

#[test]
fn checker_rejects_delivery_before_pickup() {
    let (problem, mut solution) = good();
    solution.routes[0].stops.swap(0, 1);
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("delivery before pickup"), "{errors}");
}

#[test]
fn checker_rejects_window_violation() {
    let (mut problem, solution) = good();
    problem.jobs[1].kind = JobKind::Pair {
        pickup: Stop {
            location: 3,
            window: Some((0., 25.)),
            service: 0.,
            closed: None,
        },
        delivery: stop(4),
    };
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("outside the window"), "{errors}");
}

#[test]
fn checker_rejects_overload() {
    let (mut problem, solution) = good();
    problem.jobs[0].demand = 2;
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("over capacity"), "{errors}");
}

#[test]
fn checker_rejects_missing_and_duplicate_jobs_and_bad_times() {
    let (problem, mut solution) = good();
    let stop = solution.routes[0].stops.pop().unwrap();
    solution.routes[0].stops.insert(0, stop.clone());
    solution.routes[0].stops.push(stop);
    solution.routes[0].stops[1].start += 1.;
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("already served"), "{errors}");
    assert!(errors.contains("the matrix gives"), "{errors}");
    let (problem, mut solution) = good();
    solution.routes.clear();
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("neither served nor unassigned"), "{errors}");
}

#[test]
fn checker_rejects_moved_fixed_head() {
    let (mut problem, solution) = good();
    problem.vehicles[0].fixed_head = vec![("B".to_string(), StopPart::Pickup)];
    problem.vehicles[1].fixed_head = vec![("B".to_string(), StopPart::Pickup)];
    let errors = rejection(&problem, &solution);
    assert!(errors.contains("fixed head"), "{errors}");
}

/// A pseudo-random problem on a 100 x 100 grid mixing pairs, pickup-only and delivery-only
/// singles, windows, tight capacities and two vehicles already on the road.
fn mixed_problem() -> Problem {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let points: Vec<(f64, f64)> = (0..61)
        .map(|_| (next(100) as f64, next(100) as f64))
        .collect();
    let table: Vec<Vec<f64>> = points
        .iter()
        .map(|a| {
            points
                .iter()
                .map(|b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
                .collect()
        })
        .collect();
    let mut windowed = |location: usize| {
        let from = next(400) as f64;
        Stop {
            location,
            window: Some((from, from + 150. + next(200) as f64)),
            service: 5.,
            closed: None,
        }
    };
    let mut jobs: Vec<Job> = (0..25)
        .map(|idx| Job {
            id: format!("pair{idx}"),
            kind: JobKind::Pair {
                pickup: windowed(1 + 2 * idx),
                delivery: windowed(2 + 2 * idx),
            },
            demand: 1 + (idx % 3) as i32,
        })
        .collect();
    for idx in 0..10 {
        jobs.push(Job {
            id: format!("single{idx}"),
            kind: JobKind::Single {
                stop: Stop {
                    location: 51 + idx,
                    window: None,
                    service: 3.,
                    closed: None,
                },
            },
            demand: if idx % 2 == 0 { 1 } else { -1 },
        });
    }
    let mut vehicles: Vec<Vehicle> = (0..5)
        .map(|idx| Vehicle {
            id: format!("car{idx}"),
            start: 0,
            end: 0,
            shift: (0., 1000.),
            capacity: 5,
            fixed_head: Vec::new(),
        })
        .collect();
    vehicles[1].fixed_head = vec![("pair3".to_string(), StopPart::Pickup)];
    vehicles[2].fixed_head = vec![
        ("single0".to_string(), StopPart::Single),
        ("pair4".to_string(), StopPart::Pickup),
        ("pair4".to_string(), StopPart::Delivery),
    ];
    Problem {
        matrix: Matrix {
            durations: table.clone(),
            distances: table,
        },
        vehicles,
        jobs,
    }
}

#[test]
fn mixed_problem_with_heads_is_feasible_and_keeps_heads() {
    let problem = mixed_problem();
    let settings = Settings {
        time_limit: Duration::from_millis(1500),
        max_generations: Some(200),
        seed: Some(3),
    };
    let solution = solve(&problem, &settings).expect("solves");
    if let Err(errors) = check(&problem, &solution) {
        panic!("infeasible: {errors:#?}");
    }
    for vehicle in &problem.vehicles {
        if vehicle.fixed_head.is_empty() {
            continue;
        }
        let route = solution
            .routes
            .iter()
            .find(|route| route.vehicle_id == vehicle.id)
            .expect("route");
        let head: Vec<(&str, StopPart)> = vehicle
            .fixed_head
            .iter()
            .map(|(id, part)| (id.as_str(), *part))
            .collect();
        assert_eq!(&keys(route)[..head.len()], &head[..]);
    }
    let car1 = solution
        .routes
        .iter()
        .find(|route| route.vehicle_id == "car1")
        .unwrap();
    assert!(
        keys(car1).contains(&("pair3", StopPart::Delivery)),
        "on-board load stays on car1"
    );
    assert!(solution
        .routes
        .iter()
        .all(|route| route.stops.iter().all(|stop| stop.start >= stop.arrival)));
}

/// Regression for an intermittent overload (seen in the mixed problem above about one run
/// in six): a delivery-only single is loaded at the start depot, so on a vehicle with a
/// fixed head it rides through the head; the solver and the polish only counted it against
/// the room left after the head. Here v1 (capacity `capacity`) already picked up and
/// dropped P (2 units) in its head; S (deliver 1 unit) fits after the head, but through
/// the head only if the capacity is 3.
fn head_then_depot_load(capacity: i32) -> Problem {
    let mut v1 = vehicle("v1", capacity);
    v1.fixed_head = vec![
        ("P".to_string(), StopPart::Pickup),
        ("P".to_string(), StopPart::Delivery),
    ];
    let mut p = pair("P", 1, 2);
    p.demand = 2;
    Problem {
        matrix: line_matrix(),
        vehicles: vec![v1],
        jobs: vec![
            p,
            Job {
                id: "S".to_string(),
                kind: JobKind::Single { stop: stop(3) },
                demand: -1,
            },
        ],
    }
}

/// Settings whose outcome does not depend on the machine's speed: few generations, a
/// fixed seed and a time limit far beyond what the tiny problems need.
fn generous_settings() -> Settings {
    Settings {
        time_limit: Duration::from_secs(10),
        max_generations: Some(20),
        seed: Some(1),
    }
}

#[test]
fn depot_load_does_not_overload_the_fixed_head() {
    let problem = head_then_depot_load(2);
    let prepared = prepare(&problem).expect("valid");
    let start = prepared.starts[0].expect("v1 has time left");
    assert_eq!((start.capacity, start.depot_room), (2, 0));

    // vrp-core alone: S does not fit on v1 (a few generations are plenty for one job).
    let outcome = vrp::run(
        &problem,
        &prepared.tasks,
        &prepared.starts,
        &generous_settings(),
        Instant::now() + Duration::from_secs(10),
    )
    .expect("solves");
    assert!(outcome.routes.is_empty(), "{:?}", outcome.routes);
    assert_eq!(outcome.unassigned.len(), 1, "{:?}", outcome.unassigned);
    assert!(outcome.unassigned[0].1.contains("capacity"));

    // The polish alone, given S unplaced: it tries to insert it (before any deadline
    // check) and must not find a place.
    let mut improver = improve::Improver::new(
        &problem,
        &prepared.tasks,
        &prepared.starts,
        &HashMap::new(),
        Instant::now(),
        improve::Rng::new(1),
    );
    improver.search();
    assert!(improver.routes().is_empty(), "{:?}", improver.routes());

    // The whole planner.
    let solution = solve(&problem, &generous_settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    assert_eq!(solution.unassigned.len(), 1);
    assert_eq!(solution.unassigned[0].0, "S");
    assert_eq!(solution.routes.len(), 1);
    assert_eq!(solution.routes[0].stops.len(), 2, "the head only");
}

#[test]
fn depot_load_that_fits_through_the_head_is_planned() {
    let problem = head_then_depot_load(3);
    let solution = solve(&problem, &generous_settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    assert!(solution.unassigned.is_empty(), "{:?}", solution.unassigned);
    assert_eq!(
        keys(&solution.routes[0]),
        vec![
            ("P", StopPart::Pickup),
            ("P", StopPart::Delivery),
            ("S", StopPart::Single)
        ]
    );
}

/// The last guard of `solve`: planned stops that break a constraint (here an overload and
/// a missed window, as if a solver had erred) are taken out and reported unassigned, the
/// rest of the route is kept in its order, and the checker accepts the result.
#[test]
fn infeasible_planned_route_is_repaired_before_returning() {
    let mut problem = Problem {
        matrix: line_matrix(),
        vehicles: vec![vehicle("v1", 1), vehicle("v2", 1)],
        jobs: vec![pair("A", 1, 2), pair("B", 3, 4), pair("C", 1, 2)],
    };
    problem.jobs[2].kind = JobKind::Pair {
        pickup: stop(1),
        delivery: Stop {
            location: 2,
            window: Some((0., 15.)),
            service: 0.,
            closed: None,
        },
    };
    let prepared = prepare(&problem).expect("valid");
    let (a, b, c) = (0, 1, 2);
    let planned = HashMap::from([
        (
            0,
            vec![
                (a, StopPart::Pickup),
                (b, StopPart::Pickup), // two on board with capacity 1
                (a, StopPart::Delivery),
                (b, StopPart::Delivery),
            ],
        ),
        (1, vec![(c, StopPart::Pickup), (c, StopPart::Delivery)]), // at 20, window ends at 15
    ]);
    let solution = assemble(&problem, &prepared.heads, planned, Vec::new());
    check(&problem, &solution).expect("repaired");
    let unassigned: Vec<&str> = solution
        .unassigned
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(unassigned.len(), 2, "{unassigned:?}");
    assert!(unassigned.contains(&"B") && unassigned.contains(&"C"));
    assert_eq!(solution.routes.len(), 1, "v2 has nothing left");
    assert_eq!(
        keys(&solution.routes[0]),
        vec![("A", StopPart::Pickup), ("A", StopPart::Delivery)]
    );
}

/// Issue 13: an agency's lunch break is a gap in its window: service never starts in it,
/// a vehicle arriving in it waits, and the checker refuses a route that starts in it.
#[test]
fn service_waits_out_a_break_in_the_window() {
    let mut problem = two_pairs();
    problem.jobs.truncate(1);
    // Drop-off at x = 20 (arrival 20): open 0..500, closed from 15 to 60.
    if let JobKind::Pair { delivery, .. } = &mut problem.jobs[0].kind {
        delivery.window = Some((0., 500.));
        delivery.closed = Some((15., 60.));
        delivery.service = 5.;
    }
    let solution = solve(&problem, &settings()).expect("solves");
    check(&problem, &solution).expect("feasible");
    assert!(solution.unassigned.is_empty(), "{solution:?}");
    let drop = &solution.routes[0].stops[1];
    assert_eq!((drop.arrival, drop.start, drop.departure), (20., 60., 65.));

    // A route that starts service during the break is refused by the checker.
    let mut bad = solution.clone();
    bad.routes[0].stops[1].start = 20.;
    bad.routes[0].stops[1].departure = 25.;
    let errors = format!("{:?}", check(&problem, &bad).unwrap_err());
    assert!(errors.contains("the matrix gives 20/60/65"), "{errors}");

    // A break that the shift cannot wait out leaves the job unassigned.
    if let JobKind::Pair { delivery, .. } = &mut problem.jobs[0].kind {
        delivery.closed = Some((15., 2000.));
    }
    let solution = solve(&problem, &settings()).expect("solves");
    assert_eq!(solution.unassigned.len(), 1, "{solution:?}");
}
