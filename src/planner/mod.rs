//! Route planner: per post office and day, a pickup-and-delivery problem with time
//! windows, capacities and vehicle shifts over all open tasks.
//!
//! The rest of the service only sees the plain types of this module ([`Problem`],
//! [`Settings`], [`Solution`]) and the two functions [`solve`] and [`check`]; the solver
//! library stays inside the private `vrp` submodule.
//!
//! # Solver choice
//!
//! The optimisation is done by [`vrp-core`](https://docs.rs/vrp-core) 1.25 (Apache-2.0), the
//! core of the `reinterpretcat/vrp` project, followed by a short polish of our own:
//! - vrp-core is a real metaheuristic for rich VRPs (ruin-and-recreate with local search in
//!   an evolutionary, self-tuning hyper-heuristic); it is pure Rust with no native or network
//!   dependency, so it builds on every machine of the project and in CI and runs in-process
//!   (VROOM or OR-Tools would need a C++ build or a Python sidecar); and it expresses exactly
//!   what we need: paired pickup/delivery jobs with dynamic load ("multi jobs"), static
//!   pickups and deliveries, time windows, capacities, per-vehicle start/end places and
//!   shifts, custom hard constraints, custom lexicographic objectives, and termination by
//!   time or generations. Its specifics stay in the private `vrp` submodule.
//! - Alone, vrp-core converges slowly within the few seconds a dispatcher waits: on the
//!   Li & Lim benchmark (`benches/lilim.rs`, 3 s per instance on 2 cores) it reached the
//!   best-known vehicle count on about 35 of 56 instances with a mean distance gap of about
//!   +4% on those. So vrp-core gets the first 30% of the time limit (initial
//!   solutions, vehicle minimisation) and the private `improve` submodule polishes its
//!   answer for the rest: an iterated local search (ruin and recreate of related pickup and
//!   delivery pairs, then pair relocation, or-opt and 2-opt* moves) whose every candidate is
//!   replayed against all constraints. Together: best-known vehicle count on about 46 of 56
//!   instances with a mean gap of about +0.7%, in 2.9 s.
//!
//! # Model
//!
//! - A [`JobKind::Pair`] is picked up at `pickup` and dropped at `delivery` by the same
//!   vehicle, pickup first; it occupies `demand` units in between.
//! - A [`JobKind::Single`] has a sign convention: `demand >= 0` is a **pickup-only** load
//!   (collected at the stop and carried to the vehicle's end depot); `demand < 0` is a
//!   **delivery-only** load of `-demand` units (loaded at the vehicle's start depot before
//!   the shift and dropped at the stop).
//!   The planner cannot know which vehicle already carries such a load: when re-planning
//!   after departure, express a load already on board as a [`JobKind::Pair`] whose pickup
//!   is in that vehicle's fixed head.
//! - Vehicles leave their start at `shift.0` and must be back at their end by `shift.1`.
//!   Service must *start* inside the stop's window; waiting before the window is allowed.
//!   A stop may also have a [`Stop::closed`] break inside its window (an agency's lunch):
//!   service does not start during it; arriving in it means waiting until it ends.
//! - Objective, lexicographic (the Li & Lim ranking): fewest unassigned jobs, then fewest
//!   vehicles, then least total distance.
//!
//! # Fixed heads (re-planning)
//!
//! A vehicle's [`Vehicle::fixed_head`] lists the stops it already started, in order. They
//! stay the first stops of its route, untouched. Their times are recomputed from the
//! matrix as if the vehicle left its start at `shift.0` (the planner has no clock); their
//! windows are not enforced since they are history. The solver then plans the rest of the
//! day from the last head stop, at its departure time, with:
//! - pairs whose pickup is in the head and whose delivery is not: the load is on board, so
//!   the delivery is a delivery of goods already carried, bound to that vehicle;
//! - pickup-only singles done in the head: their load stays on board to the end depot, so
//!   they reduce the remaining capacity;
//! - delivery-only singles given to the vehicle: they are loaded at its start depot, so
//!   they ride through the whole head as well; the vehicle only takes as many as fit on top
//!   of the head's highest load (as [`check`] counts it), not just in the room left after
//!   the head;
//! - jobs fully done in the head leave the optimisation (but stay in the route).
//!
//! Before returning, every route is replayed by the checker's own rules; should one still
//! break a constraint, its offending planned jobs are reported unassigned instead.
//!
//! A vehicle with a fixed head always gets a route (at least head and return), and using it
//! for more work costs no extra vehicle in the objective. A vehicle whose head already ends
//! after its shift gets nothing more; loads on board it are reported unassigned.
//!
//! # Threads and time
//!
//! vrp-core evaluates its offspring in parallel on rayon's global pool (one thread per
//! core); the polish runs on the calling thread. [`solve`] blocks for up to about 97% of
//! [`Settings::time_limit`]: call it from a blocking context (e.g. `web::block`).

mod check;
mod improve;
mod vrp;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

pub use check::check;

/// Travel between locations (indices into the matrix); `f64` so that Li & Lim's Euclidean
/// distances stay exact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    /// Travel durations in seconds, `durations[from][to]`.
    pub durations: Vec<Vec<f64>>,
    /// Travel distances in metres, `distances[from][to]`.
    pub distances: Vec<Vec<f64>>,
}

impl Matrix {
    /// Number of locations of the matrix.
    pub fn size(&self) -> usize {
        self.durations.len()
    }
}

/// One place to visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// Index of the location in the [`Matrix`].
    pub location: usize,
    /// Earliest and latest service start, seconds from day start; `None` means any time
    /// within the vehicle's shift.
    pub window: Option<(f64, f64)>,
    /// Service duration in seconds.
    pub service: f64,
    /// A break `(from, to)` when service may not start, strictly between the two (e.g.
    /// an agency's lunch, from its start less the service time to its end); a vehicle
    /// arriving in it waits until `to`. `None`: no break.
    pub closed: Option<(f64, f64)>,
}

impl Stop {
    /// When service starts for a vehicle arriving at `arrival`: not before the window
    /// opens, and not during the break.
    pub fn service_start(&self, arrival: f64) -> f64 {
        let start = self.window.map_or(arrival, |window| arrival.max(window.0));
        match self.closed {
            Some((from, to)) if start > from && start < to => to,
            _ => start,
        }
    }
}

/// What a job asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// A pickup and its delivery, served by the same vehicle, pickup first.
    Pair {
        /// Where the load is collected.
        pickup: Stop,
        /// Where the load is dropped.
        delivery: Stop,
    },
    /// A single stop: pickup-only when the job's demand is `>= 0` (carried to the end
    /// depot), delivery-only when it is `< 0` (loaded at the start depot).
    Single {
        /// The stop.
        stop: Stop,
    },
}

/// A task to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Unique job id.
    pub id: String,
    /// Pair or single stop.
    pub kind: JobKind,
    /// Units carried. For a [`JobKind::Pair`]: carried between pickup and delivery (must be
    /// `>= 0`). For a [`JobKind::Single`]: `>= 0` is a pickup-only load carried to the end
    /// depot, `< 0` a delivery-only load of `-demand` units loaded at the start depot.
    pub demand: i32,
}

/// Which part of a job a stop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopPart {
    /// The pickup of a [`JobKind::Pair`].
    Pickup,
    /// The delivery of a [`JobKind::Pair`].
    Delivery,
    /// The stop of a [`JobKind::Single`].
    Single,
}

/// A courier and their vehicle for the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Vehicle {
    /// Unique vehicle id.
    pub id: String,
    /// Start location (matrix index).
    pub start: usize,
    /// End location (matrix index).
    pub end: usize,
    /// Shift: departure from `start` at `.0`, back at `end` by `.1` (seconds from day start).
    pub shift: (f64, f64),
    /// Capacity in the same units as [`Job::demand`].
    pub capacity: i32,
    /// Stops this vehicle already started, in order, as (job id, which part): kept as the
    /// route's head.
    pub fixed_head: Vec<(String, StopPart)>,
}

/// A planning problem: one post office, one day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Problem {
    /// Travel durations and distances between all locations.
    pub matrix: Matrix,
    /// Available vehicles.
    pub vehicles: Vec<Vehicle>,
    /// Open jobs (including those whose stops are in a fixed head).
    pub jobs: Vec<Job>,
}

/// Solver settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Wall-clock budget of [`solve`], which returns within it (about 97% of it is used
    /// on problems large enough to need it; small ones stop earlier).
    pub time_limit: Duration,
    /// Optional cap on the number of generations of vrp-core's search (the polish that
    /// follows still runs until it stops improving or the time is up).
    pub max_generations: Option<usize>,
    /// Asks for a repeatable search when set; repeatability is best-effort only. The seed
    /// seeds our polish's generator, but vrp-core 1.25 only offers one fixed-seed generator
    /// (the value cannot be passed on), keeps it per thread, runs its search on several
    /// threads (rayon) and stops on time, so two runs can still differ.
    pub seed: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(3),
            max_generations: None,
            seed: None,
        }
    }
}

/// A stop of a planned route, with its times.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStop {
    /// The job served.
    pub job_id: String,
    /// Which part of the job.
    pub part: StopPart,
    /// Location (matrix index).
    pub location: usize,
    /// Arrival time, seconds from day start.
    pub arrival: f64,
    /// Service start (the ETA given to the citizen), seconds from day start.
    pub start: f64,
    /// Departure time, seconds from day start.
    pub departure: f64,
}

/// The route of one vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The vehicle driving it.
    pub vehicle_id: String,
    /// Stops in visiting order (fixed head first).
    pub stops: Vec<PlannedStop>,
    /// Distance of the whole tour, start depot to end depot, metres.
    pub distance: f64,
    /// Duration of the whole tour, from leaving the start depot to arriving at the end
    /// depot, seconds.
    pub duration: f64,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Solution {
    /// One route per used vehicle.
    pub routes: Vec<Route>,
    /// Jobs that could not be planned, as (job id, reason).
    pub unassigned: Vec<(String, String)>,
}

impl Solution {
    /// Total distance of all routes.
    pub fn total_distance(&self) -> f64 {
        self.routes.iter().map(|route| route.distance).sum()
    }
}

/// Why planning failed as a whole (single jobs that cannot be served are reported in
/// [`Solution::unassigned`] instead).
#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    /// The problem is malformed (bad matrix, unknown location, duplicate id, bad fixed head…).
    InvalidProblem(String),
    /// The solver library failed.
    Solver(String),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::InvalidProblem(msg) => write!(f, "invalid planning problem: {msg}"),
            PlanError::Solver(msg) => write!(f, "route solver failed: {msg}"),
        }
    }
}

impl std::error::Error for PlanError {}

/// Plans routes for all jobs of `problem` within `settings.time_limit`.
///
/// Jobs that no vehicle can serve come back in [`Solution::unassigned`] with a reason;
/// vehicles' fixed heads stay the first stops of their routes. Every stop gets arrival,
/// service start (ETA) and departure times computed from the matrix.
pub fn solve(problem: &Problem, settings: &Settings) -> Result<Solution, PlanError> {
    let began = Instant::now();
    let Prepared {
        heads,
        tasks,
        starts,
        mut unassigned,
    } = prepare(problem)?;

    let mut outcome = if tasks.is_empty() {
        vrp::Outcome::default()
    } else {
        vrp::run(
            problem,
            &tasks,
            &starts,
            settings,
            began + settings.time_limit.mul_f64(SEARCH_SHARE),
        )?
    };
    if !tasks.is_empty() && starts.iter().any(Option::is_some) {
        let mut improver = improve::Improver::new(
            problem,
            &tasks,
            &starts,
            &outcome.routes,
            began + settings.time_limit.mul_f64(POLISH_SHARE),
            improve::Rng::new(settings.seed.unwrap_or_else(clock_seed)),
        );
        improver.search();
        outcome.routes = improver.routes();
        let placed: HashSet<usize> = outcome
            .routes
            .values()
            .flatten()
            .map(|(job, _)| *job)
            .collect();
        outcome.unassigned.retain(|(job, _)| !placed.contains(job));
    }

    unassigned.extend(
        outcome
            .unassigned
            .into_iter()
            .map(|(job, reason)| (problem.jobs[job].id.clone(), reason)),
    );
    Ok(assemble(problem, &heads, outcome.routes, unassigned))
}

/// What the solvers work on, derived from the problem and the fixed heads.
struct Prepared {
    /// Each vehicle's fixed head, replayed.
    heads: Vec<Head>,
    /// What is left to plan.
    tasks: Vec<Task>,
    /// Where and when each vehicle becomes available (`None`: its shift is over).
    starts: Vec<Option<SolverStart>>,
    /// Jobs no vehicle can serve, found without the solvers, as (job id, reason).
    unassigned: Vec<(String, String)>,
}

/// Validates `problem`, replays the fixed heads and derives the solvers' tasks and starts.
fn prepare(problem: &Problem) -> Result<Prepared, PlanError> {
    validate(problem)?;
    let index = JobIndex::new(problem);
    let heads = problem
        .vehicles
        .iter()
        .map(|vehicle| Head::simulate(problem, &index, vehicle))
        .collect::<Result<Vec<_>, _>>()?;

    let mut unassigned = Vec::new();
    let mut tasks = Vec::new();
    let done: HashSet<(usize, StopPart)> = heads
        .iter()
        .flat_map(|head| head.parts.iter().copied())
        .collect();
    let bound: HashMap<usize, usize> = heads
        .iter()
        .enumerate()
        .flat_map(|(vehicle, head)| head.pending.iter().map(move |job| (*job, vehicle)))
        .collect();

    for (job_idx, job) in problem.jobs.iter().enumerate() {
        let task = match &job.kind {
            JobKind::Pair { pickup, delivery } => {
                match (
                    done.contains(&(job_idx, StopPart::Pickup)),
                    done.contains(&(job_idx, StopPart::Delivery)),
                ) {
                    (true, true) => continue,
                    (true, false) => Task::OnBoardDelivery {
                        job: job_idx,
                        stop: delivery.clone(),
                        demand: job.demand,
                        vehicle: bound[&job_idx],
                    },
                    _ => Task::Pair {
                        job: job_idx,
                        pickup: pickup.clone(),
                        delivery: delivery.clone(),
                        demand: job.demand,
                    },
                }
            }
            JobKind::Single { stop } => {
                if done.contains(&(job_idx, StopPart::Single)) {
                    continue;
                }
                Task::Single {
                    job: job_idx,
                    stop: stop.clone(),
                    demand: job.demand,
                }
            }
        };
        if let Some(reason) = task.obviously_infeasible(problem) {
            unassigned.push((job.id.clone(), reason));
        } else {
            tasks.push(task);
        }
    }

    let starts: Vec<Option<SolverStart>> = problem
        .vehicles
        .iter()
        .zip(&heads)
        .map(|(vehicle, head)| {
            (head.departure <= vehicle.shift.1).then(|| SolverStart {
                location: head.location,
                time: head.departure,
                capacity: (vehicle.capacity - head.carried_to_end).max(0),
                depot_room: (vehicle.capacity - head.peak).max(0),
                has_head: !head.stops.is_empty(),
            })
        })
        .collect();
    Ok(Prepared {
        heads,
        tasks,
        starts,
        unassigned,
    })
}

/// Builds the solution from the heads and the solvers' stops after them, then makes sure
/// [`check`] accepts every route: the solvers' models are meant to match the checker's,
/// but should a route still break a constraint, the planned jobs that break it are taken
/// out and reported unassigned rather than handed out as an infeasible plan.
///
/// A route whose fixed head alone already breaks a constraint (history: e.g. a head that
/// ends after the shift) cannot be repaired and is kept as planned.
fn assemble(
    problem: &Problem,
    heads: &[Head],
    mut planned: HashMap<usize, Vec<(usize, StopPart)>>,
    mut unassigned: Vec<(String, String)>,
) -> Solution {
    let mut routes = Vec::new();
    for (vehicle_idx, (vehicle, head)) in problem.vehicles.iter().zip(heads).enumerate() {
        let mut stops = planned.remove(&vehicle_idx).unwrap_or_default();
        if head.stops.is_empty() && stops.is_empty() {
            continue;
        }
        let mut route = build_route(problem, vehicle, head, &stops);
        if !check::route_errors(problem, vehicle, &route).is_empty() {
            let dropped = repair(problem, vehicle, head, &mut stops);
            for job in dropped {
                unassigned.push((
                    problem.jobs[job].id.clone(),
                    "left out by the final feasibility check of its route".to_string(),
                ));
            }
            if head.stops.is_empty() && stops.is_empty() {
                continue;
            }
            route = build_route(problem, vehicle, head, &stops);
        }
        routes.push(route);
    }
    Solution { routes, unassigned }
}

/// Takes out of `stops` (the planned stops after `head`) the jobs that make the route
/// infeasible for [`check`], keeping the others in their order: jobs are kept one by one,
/// on-board deliveries first, each only if the route stays feasible with it. Returns the
/// jobs taken out. Leaves `stops` as it is when the head alone is already infeasible.
fn repair(
    problem: &Problem,
    vehicle: &Vehicle,
    head: &Head,
    stops: &mut Vec<(usize, StopPart)>,
) -> Vec<usize> {
    let feasible = |stops: &[(usize, StopPart)]| {
        check::route_errors(
            problem,
            vehicle,
            &build_route(problem, vehicle, head, stops),
        )
        .is_empty()
    };
    if !feasible(&[]) {
        tracing::error!(
            vehicle = %vehicle.id,
            "planner: the fixed head alone breaks a constraint; route kept as planned"
        );
        return Vec::new();
    }
    let mut order: Vec<usize> = Vec::new();
    for (job, _) in stops.iter() {
        if !order.contains(job) {
            order.push(*job);
        }
    }
    // On-board deliveries (the pickup is in the head) first: they cannot be unassigned
    // without leaving a job half served.
    order.sort_by_key(|job| !head.pending.contains(job));
    let mut kept: HashSet<usize> = HashSet::new();
    let mut dropped = Vec::new();
    for job in order {
        kept.insert(job);
        let candidate: Vec<(usize, StopPart)> = stops
            .iter()
            .copied()
            .filter(|(other, _)| kept.contains(other))
            .collect();
        if !feasible(&candidate) {
            kept.remove(&job);
            dropped.push(job);
        }
    }
    stops.retain(|(job, _)| kept.contains(job));
    if !dropped.is_empty() {
        tracing::warn!(
            vehicle = %vehicle.id,
            dropped = dropped.len(),
            "planner: a planned route broke a constraint; its offending jobs are unassigned"
        );
    }
    dropped
}

/// The route of `vehicle`: its head, then `planned` with times from the matrix.
fn build_route(
    problem: &Problem,
    vehicle: &Vehicle,
    head: &Head,
    planned: &[(usize, StopPart)],
) -> Route {
    let mut stops = head.stops.clone();
    let mut location = head.location;
    let mut time = head.departure;
    let mut distance = head.distance;
    for &(job, part) in planned {
        let stop = part_stop(&problem.jobs[job], part).expect("solver parts match their jobs");
        let arrival = time + problem.matrix.durations[location][stop.location];
        let start = stop.service_start(arrival);
        let departure = start + stop.service;
        distance += problem.matrix.distances[location][stop.location];
        stops.push(PlannedStop {
            job_id: problem.jobs[job].id.clone(),
            part,
            location: stop.location,
            arrival,
            start,
            departure,
        });
        location = stop.location;
        time = departure;
    }
    distance += problem.matrix.distances[location][vehicle.end];
    let end_arrival = time + problem.matrix.durations[location][vehicle.end];
    Route {
        vehicle_id: vehicle.id.clone(),
        stops,
        distance,
        duration: end_arrival - vehicle.shift.0,
    }
}

/// Share of the time limit given to vrp-core's search; the polish gets the time up to
/// `POLISH_SHARE`, and the rest is a margin for building the answer. Tuned on Li & Lim:
/// 0.1-0.3 gave the best results, 0.5 and more clearly worse distances.
const SEARCH_SHARE: f64 = 0.3;
/// Share of the time limit after which the polish stops at the latest.
const POLISH_SHARE: f64 = 0.97;

/// A seed for the polish's generator when none is configured.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// A job (or what is left of it after the fixed heads) as handed to the solver.
#[derive(Debug, Clone)]
pub(crate) enum Task {
    /// A whole pickup-and-delivery pair.
    Pair {
        job: usize,
        pickup: Stop,
        delivery: Stop,
        demand: i32,
    },
    /// The delivery of a pair whose pickup is in `vehicle`'s fixed head: the load is on board.
    OnBoardDelivery {
        job: usize,
        stop: Stop,
        demand: i32,
        vehicle: usize,
    },
    /// A single stop (sign of `demand` tells pickup-only or delivery-only).
    Single { job: usize, stop: Stop, demand: i32 },
}

impl Task {
    /// Reason why no vehicle could ever serve this task, found without the solver.
    fn obviously_infeasible(&self, problem: &Problem) -> Option<String> {
        let stops: Vec<&Stop> = match self {
            Task::Pair {
                pickup, delivery, ..
            } => vec![pickup, delivery],
            Task::OnBoardDelivery { stop, .. } | Task::Single { stop, .. } => vec![stop],
        };
        if let Some(stop) = stops
            .iter()
            .find(|stop| stop.window.is_some_and(|(from, to)| from > to))
        {
            let (from, to) = stop.window.unwrap_or_default();
            return Some(format!(
                "empty time window: earliest {from} is after latest {to}"
            ));
        }
        let demand = match self {
            Task::Pair { demand, .. }
            | Task::OnBoardDelivery { demand, .. }
            | Task::Single { demand, .. } => demand.unsigned_abs(),
        };
        let max_capacity = problem
            .vehicles
            .iter()
            .map(|vehicle| vehicle.capacity.max(0) as u32)
            .max()
            .unwrap_or(0);
        if problem.vehicles.is_empty() {
            return Some("no vehicle available".to_string());
        }
        if demand > max_capacity {
            return Some(format!(
                "demand {demand} exceeds every vehicle's capacity (at most {max_capacity})"
            ));
        }
        None
    }
}

/// Where and when a vehicle becomes available to the solver (after its fixed head).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SolverStart {
    location: usize,
    time: f64,
    /// Room after the head: capacity less the pickup-only loads collected in the head.
    capacity: i32,
    /// Room for delivery-only singles planned after the head: they are loaded at the start
    /// depot, so they ride through the whole head and must fit on top of its peak load.
    depot_room: i32,
    has_head: bool,
}

/// Finds jobs by id and the stop of each part.
struct JobIndex<'a> {
    by_id: HashMap<&'a str, usize>,
}

impl<'a> JobIndex<'a> {
    fn new(problem: &'a Problem) -> Self {
        Self {
            by_id: problem
                .jobs
                .iter()
                .enumerate()
                .map(|(idx, job)| (job.id.as_str(), idx))
                .collect(),
        }
    }
}

/// The stop of `part` of `job`, if the part fits the job's kind.
pub(crate) fn part_stop(job: &Job, part: StopPart) -> Option<&Stop> {
    match (&job.kind, part) {
        (JobKind::Pair { pickup, .. }, StopPart::Pickup) => Some(pickup),
        (JobKind::Pair { delivery, .. }, StopPart::Delivery) => Some(delivery),
        (JobKind::Single { stop }, StopPart::Single) => Some(stop),
        _ => None,
    }
}

/// A vehicle's fixed head, replayed from its start at the shift start.
struct Head {
    stops: Vec<PlannedStop>,
    parts: Vec<(usize, StopPart)>,
    /// Pairs picked up in the head and not delivered in it.
    pending: Vec<usize>,
    /// Pickup-only singles collected in the head: on board until the end depot.
    carried_to_end: i32,
    /// Highest load along the head (from the start, as [`check`] counts it), not counting
    /// the delivery-only singles planned after the head: those are loaded at the start
    /// depot too, so they ride through the whole head on top of this.
    peak: i32,
    location: usize,
    departure: f64,
    distance: f64,
}

impl Head {
    fn simulate(
        problem: &Problem,
        index: &JobIndex<'_>,
        vehicle: &Vehicle,
    ) -> Result<Head, PlanError> {
        let mut head = Head {
            stops: Vec::new(),
            parts: Vec::new(),
            pending: Vec::new(),
            carried_to_end: 0,
            peak: 0,
            location: vehicle.start,
            departure: vehicle.shift.0,
            distance: 0.,
        };
        // Load along the head relative to what it left the start with (the head's own
        // delivery-only singles), and its highest value.
        let (mut loaded_at_start, mut relative, mut highest) = (0, 0, 0);
        for (job_id, part) in &vehicle.fixed_head {
            let invalid = |msg: &str| {
                PlanError::InvalidProblem(format!(
                    "vehicle {}: fixed head {job_id}: {msg}",
                    vehicle.id
                ))
            };
            let job_idx = *index
                .by_id
                .get(job_id.as_str())
                .ok_or_else(|| invalid("unknown job"))?;
            let job = &problem.jobs[job_idx];
            let stop =
                part_stop(job, *part).ok_or_else(|| invalid("part does not match the job kind"))?;
            match part {
                StopPart::Pickup => head.pending.push(job_idx),
                StopPart::Delivery => {
                    let pos = head
                        .pending
                        .iter()
                        .position(|pending| *pending == job_idx)
                        .ok_or_else(|| {
                            invalid("delivery without its pickup earlier in the same head")
                        })?;
                    head.pending.remove(pos);
                }
                StopPart::Single if job.demand >= 0 => head.carried_to_end += job.demand,
                StopPart::Single => loaded_at_start -= job.demand,
            }
            relative += match part {
                StopPart::Delivery => -job.demand,
                StopPart::Pickup | StopPart::Single => job.demand,
            };
            highest = highest.max(relative);
            let arrival = head.departure + problem.matrix.durations[head.location][stop.location];
            let start = stop.service_start(arrival);
            let departure = start + stop.service;
            head.distance += problem.matrix.distances[head.location][stop.location];
            head.stops.push(PlannedStop {
                job_id: job_id.clone(),
                part: *part,
                location: stop.location,
                arrival,
                start,
                departure,
            });
            head.parts.push((job_idx, *part));
            head.location = stop.location;
            head.departure = departure;
        }
        head.peak = loaded_at_start + highest;
        Ok(head)
    }
}

/// Rejects malformed problems before any solving.
fn validate(problem: &Problem) -> Result<(), PlanError> {
    let invalid = |msg: String| Err(PlanError::InvalidProblem(msg));
    let size = problem.matrix.size();
    let matrix_ok = problem.matrix.distances.len() == size
        && problem
            .matrix
            .durations
            .iter()
            .chain(&problem.matrix.distances)
            .all(|row| row.len() == size);
    if !matrix_ok {
        return invalid(format!(
            "matrix must be square and both tables {size}x{size}"
        ));
    }
    if problem
        .matrix
        .durations
        .iter()
        .chain(&problem.matrix.distances)
        .flatten()
        .any(|v| !v.is_finite() || *v < 0.)
    {
        return invalid("matrix values must be finite and non-negative".to_string());
    }
    let check_stop = |owner: &str, stop: &Stop| -> Result<(), PlanError> {
        if stop.location >= size {
            return invalid(format!(
                "{owner}: location {} outside the matrix ({size})",
                stop.location
            ));
        }
        let window_ok = stop
            .window
            .is_none_or(|(from, to)| from.is_finite() && to.is_finite())
            && stop
                .closed
                .is_none_or(|(from, to)| from.is_finite() && to.is_finite() && from <= to);
        if !window_ok || !stop.service.is_finite() || stop.service < 0. {
            return invalid(format!(
                "{owner}: window and service must be finite, service non-negative"
            ));
        }
        Ok(())
    };
    let mut job_ids = HashSet::new();
    for job in &problem.jobs {
        if !job_ids.insert(job.id.as_str()) {
            return invalid(format!("duplicate job id {}", job.id));
        }
        match &job.kind {
            JobKind::Pair { pickup, delivery } => {
                check_stop(&job.id, pickup)?;
                check_stop(&job.id, delivery)?;
                if job.demand < 0 {
                    return invalid(format!("job {}: a pair's demand must be >= 0", job.id));
                }
            }
            JobKind::Single { stop } => check_stop(&job.id, stop)?,
        }
    }
    let mut vehicle_ids = HashSet::new();
    let mut head_parts = HashSet::new();
    for vehicle in &problem.vehicles {
        if !vehicle_ids.insert(vehicle.id.as_str()) {
            return invalid(format!("duplicate vehicle id {}", vehicle.id));
        }
        if vehicle.start >= size || vehicle.end >= size {
            return invalid(format!(
                "vehicle {}: start or end outside the matrix ({size})",
                vehicle.id
            ));
        }
        if !(vehicle.shift.0.is_finite() && vehicle.shift.1.is_finite())
            || vehicle.shift.0 > vehicle.shift.1
        {
            return invalid(format!(
                "vehicle {}: shift must be finite and start before its end",
                vehicle.id
            ));
        }
        for (job_id, part) in &vehicle.fixed_head {
            if !head_parts.insert((job_id.as_str(), *part)) {
                return invalid(format!(
                    "job {job_id} ({part:?}) is in more than one fixed head"
                ));
            }
        }
    }
    // A pair split across two heads (pickup on one vehicle, delivery on another) is invalid.
    let mut head_owner: HashMap<&str, &str> = HashMap::new();
    for vehicle in &problem.vehicles {
        for (job_id, _) in &vehicle.fixed_head {
            if let Some(owner) = head_owner.insert(job_id.as_str(), vehicle.id.as_str()) {
                if owner != vehicle.id {
                    return invalid(format!(
                        "job {job_id} is split across the fixed heads of {owner} and {}",
                        vehicle.id
                    ));
                }
            }
        }
    }
    Ok(())
}
