//! The only place that knows about `vrp-core`: translates [`Task`]s and vehicle starts into
//! a vrp-core problem, runs its solver, and translates the answer back into stop orders.

use super::{Problem, Settings, SolverStart, Stop, StopPart, Task};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use vrp_core::construction::heuristics::UnassignmentInfo;
use vrp_core::models::common::TimeWindow;
use vrp_core::models::problem::Single;
use vrp_core::prelude::*;
use vrp_core::rosomaxa::evolution::TelemetryMode;
use vrp_core::rosomaxa::termination::Termination;
use vrp_core::rosomaxa::utils::{Parallelism, Quota};
use vrp_core::solver::{
    MaxGenerationTermination, MaxTimeTermination, RefinementContext, TargetCompositeTermination,
};

/// What the solver decided, in the planner's terms.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Vehicle index to its stops after the fixed head, in order, as (job index, part).
    pub routes: HashMap<usize, Vec<(usize, StopPart)>>,
    /// Unplanned jobs as (job index, reason).
    pub unassigned: Vec<(usize, String)>,
}

const TIME_CODE: ViolationCode = ViolationCode(1);
const CAPACITY_CODE: ViolationCode = ViolationCode(2);
const BINDING_CODE: ViolationCode = ViolationCode(3);

/// Dimension key: index of the planner job a vrp-core job (single or multi) stands for.
struct JobKey;
/// Dimension key: (job index, part) of a vrp-core single (one stop).
struct StopKey;
/// Dimension key: vehicle index a job is bound to (its load is already on board).
struct BoundKey;
/// Dimension key: units a delivery-only single loads at the start depot.
struct DepotKey;
/// Dimension key: [`VehicleTag`] of a vrp-core vehicle.
struct VehicleKey;

#[derive(Debug, Clone, Copy)]
struct VehicleTag {
    index: usize,
    has_head: bool,
    /// Room for delivery-only singles (see [`SolverStart`]).
    depot_room: i32,
}

/// Runs vrp-core on `tasks` with the vehicles that have a `start` (vehicles whose shift is
/// over after their fixed head have none).
pub(crate) fn run(
    problem: &Problem,
    tasks: &[Task],
    starts: &[Option<SolverStart>],
    settings: &Settings,
    deadline: Instant,
) -> Result<Outcome, super::PlanError> {
    let mut outcome = Outcome::default();
    let mut solvable = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task {
            Task::OnBoardDelivery { job, vehicle, .. } if starts[*vehicle].is_none() => {
                outcome.unassigned.push((
                    *job,
                    format!(
                        "the load is on board vehicle {} whose shift is over",
                        problem.vehicles[*vehicle].id
                    ),
                ))
            }
            _ if starts.iter().all(Option::is_none) => outcome
                .unassigned
                .push((task_job(task), "no vehicle has shift time left".to_string())),
            _ => solvable.push(task),
        }
    }
    if solvable.is_empty() {
        return Ok(outcome);
    }

    let solver_err = |err: GenericError| super::PlanError::Solver(err.to_string());
    let flat = |table: &Vec<Vec<f64>>| table.iter().flatten().copied().collect::<Vec<_>>();
    let transport: Arc<dyn TransportCost> = Arc::new(
        SimpleTransportCost::new(
            flat(&problem.matrix.durations),
            flat(&problem.matrix.distances),
        )
        .map_err(solver_err)?,
    );

    let jobs = solvable
        .iter()
        .map(|task| build_job(task))
        .collect::<GenericResult<Vec<_>>>()
        .map_err(solver_err)?;
    let vehicles = problem
        .vehicles
        .iter()
        .zip(starts)
        .enumerate()
        .filter_map(|(index, (vehicle, start))| start.map(|start| (index, vehicle, start)))
        .map(|(index, vehicle, start)| {
            VehicleBuilder::default()
                .id(&vehicle.id)
                .add_detail(
                    VehicleDetailBuilder::default()
                        .set_start_location(start.location)
                        .set_start_time(start.time)
                        .set_end_location(vehicle.end)
                        .set_end_time(vehicle.shift.1)
                        .build()?,
                )
                .capacity(SingleDimLoad::new(start.capacity))
                .dimension(|dimens| {
                    dimens.set_value::<VehicleKey, _>(VehicleTag {
                        index,
                        has_head: start.has_head,
                        depot_room: start.depot_room,
                    })
                })
                .build()
        })
        .collect::<GenericResult<Vec<_>>>()
        .map_err(solver_err)?;

    let goal = build_goal(transport.clone()).map_err(solver_err)?;
    let vrp_problem = Arc::new(
        ProblemBuilder::default()
            .add_jobs(jobs.into_iter())
            .add_vehicles(vehicles.into_iter())
            .with_goal(goal)
            .with_transport_cost(transport)
            .with_logger(Arc::new(|_: &str| {}))
            .build()
            .map_err(solver_err)?,
    );

    let limit = deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64()
        .max(0.01);
    let random: Arc<dyn Random> = if settings.seed.is_some() {
        Arc::new(DefaultRandom::new_repeatable())
    } else {
        Arc::new(DefaultRandom::default())
    };
    let environment = Arc::new(Environment::new(
        random,
        Some(Arc::new(Deadline(
            Instant::now() + std::time::Duration::from_secs_f64(limit),
        ))),
        Parallelism::default(),
        Arc::new(|_: &str| {}),
        false,
    ));
    let mut config = VrpConfigBuilder::new(vrp_problem.clone())
        .set_environment(environment)
        .set_telemetry_mode(TelemetryMode::None)
        .prebuild()
        .and_then(|builder| builder.build())
        .map_err(solver_err)?;
    let mut terminations: Vec<
        Box<dyn Termination<Context = RefinementContext, Objective = GoalContext>>,
    > = vec![Box::new(MaxTimeTermination::new(limit))];
    if let Some(generations) = settings.max_generations {
        terminations.push(Box::new(MaxGenerationTermination::new(generations)));
    }
    config.termination = Box::new(TargetCompositeTermination::new(terminations));

    let solution = Solver::new(vrp_problem, config)
        .solve()
        .map_err(solver_err)?;

    for route in &solution.routes {
        let Some(tag) = route
            .actor
            .vehicle
            .dimens
            .get_value::<VehicleKey, VehicleTag>()
        else {
            continue;
        };
        let stops: Vec<(usize, StopPart)> = route
            .tour
            .all_activities()
            .filter_map(|activity| activity.job.as_ref())
            .filter_map(|single| {
                single
                    .dimens
                    .get_value::<StopKey, (usize, StopPart)>()
                    .copied()
            })
            .collect();
        if !stops.is_empty() {
            outcome.routes.insert(tag.index, stops);
        }
    }
    for (job, info) in &solution.unassigned {
        if let Some(index) = job.dimens().get_value::<JobKey, usize>() {
            outcome.unassigned.push((*index, reason(info)));
        }
    }
    Ok(outcome)
}

/// Stops the solver's inner loops at the deadline.
struct Deadline(Instant);

impl Quota for Deadline {
    fn is_reached(&self) -> bool {
        Instant::now() >= self.0
    }
}

fn task_job(task: &Task) -> usize {
    match task {
        Task::Pair { job, .. } | Task::OnBoardDelivery { job, .. } | Task::Single { job, .. } => {
            *job
        }
    }
}

fn build_single(
    stop: &Stop,
    demand: Demand<SingleDimLoad>,
    tag: (usize, StopPart),
) -> GenericResult<Single> {
    let window = stop
        .window
        .map_or_else(TimeWindow::max, |(from, to)| TimeWindow::new(from, to));
    // A break inside the window splits it in two.
    let windows = match stop.closed {
        Some((from, to)) => {
            let mut parts = Vec::new();
            if window.start <= from {
                parts.push(TimeWindow::new(window.start, from.min(window.end)));
            }
            if to <= window.end {
                parts.push(TimeWindow::new(to.max(window.start), window.end));
            }
            if parts.is_empty() {
                parts.push(window);
            }
            parts
        }
        None => vec![window],
    };
    SingleBuilder::default()
        .demand(demand)
        .dimension(|dimens| {
            dimens.set_value::<StopKey, _>(tag);
            dimens.set_value::<JobKey, _>(tag.0);
        })
        .location(stop.location)?
        .duration(stop.service)?
        .times(windows)?
        .build()
}

fn build_job(task: &Task) -> GenericResult<Job> {
    match task {
        Task::Pair {
            job,
            pickup,
            delivery,
            demand,
        } => MultiBuilder::default()
            .dimension(|dimens| {
                dimens.set_value::<JobKey, _>(*job);
            })
            .add_job(build_single(
                pickup,
                Demand::pudo_pickup(*demand),
                (*job, StopPart::Pickup),
            )?)
            .add_job(build_single(
                delivery,
                Demand::pudo_delivery(*demand),
                (*job, StopPart::Delivery),
            )?)
            .build_as_job(),
        Task::OnBoardDelivery {
            job,
            stop,
            demand,
            vehicle,
        } => {
            let mut single =
                build_single(stop, Demand::delivery(*demand), (*job, StopPart::Delivery))?;
            single.dimens.set_value::<BoundKey, _>(*vehicle);
            Ok(Job::Single(Arc::new(single)))
        }
        Task::Single { job, stop, demand } => {
            let load = if *demand >= 0 {
                Demand::pickup(*demand)
            } else {
                Demand::delivery(-*demand)
            };
            let mut single = build_single(stop, load, (*job, StopPart::Single))?;
            if *demand < 0 {
                single.dimens.set_value::<DepotKey, _>(-*demand);
            }
            Ok(Job::Single(Arc::new(single)))
        }
    }
}

/// Lexicographic goal: fewest unassigned jobs, then fewest vehicles, then least distance;
/// hard constraints: time windows and shifts, capacity, on-board loads stay on their vehicle,
/// depot loads fit through the fixed head.
fn build_goal(transport: Arc<dyn TransportCost>) -> GenericResult<GoalContext> {
    let unassigned = MinimizeUnassignedBuilder::new("min-unassigned").build()?;
    let tours = FeatureBuilder::default()
        .with_name("min-tours")
        .with_objective(FleetObjective)
        .build()?;
    let distance = TransportFeatureBuilder::new("min-distance")
        .set_transport_cost(transport)
        .set_time_constrained(true)
        .set_violation_code(TIME_CODE)
        .build_minimize_distance()?;
    let capacity = CapacityFeatureBuilder::<SingleDimLoad>::new("capacity")
        .set_violation_code(CAPACITY_CODE)
        .build()?;
    let binding = FeatureBuilder::default()
        .with_name("on-board")
        .with_constraint(BindingConstraint)
        .build()?;
    let depot = FeatureBuilder::default()
        .with_name("depot-loads")
        .with_constraint(DepotRoomConstraint)
        .build()?;
    GoalContextBuilder::with_features(&[unassigned, tours, distance, capacity, binding, depot])?
        .build()
}

/// Our tag of the route's vehicle.
fn tag_of(route_ctx: &RouteContext) -> Option<&VehicleTag> {
    route_ctx
        .route()
        .actor
        .vehicle
        .dimens
        .get_value::<VehicleKey, VehicleTag>()
}

fn has_head(route_ctx: &RouteContext) -> bool {
    tag_of(route_ctx).is_some_and(|tag| tag.has_head)
}

/// Counts vehicles in use, except those already on the road (a fixed head): using them for
/// more work costs no extra vehicle.
struct FleetObjective;

impl FeatureObjective for FleetObjective {
    fn fitness(&self, solution: &InsertionContext) -> Cost {
        solution
            .solution
            .routes
            .iter()
            .filter(|route_ctx| route_ctx.route().tour.has_jobs() && !has_head(route_ctx))
            .count() as Cost
    }

    fn estimate(&self, move_ctx: &MoveContext<'_>) -> Cost {
        match move_ctx {
            MoveContext::Route { route_ctx, .. }
                if route_ctx.route().tour.job_count() == 0 && !has_head(route_ctx) =>
            {
                1.
            }
            _ => 0.,
        }
    }
}

/// A delivery whose load is on board may only go to that vehicle.
struct BindingConstraint;

impl FeatureConstraint for BindingConstraint {
    fn evaluate(&self, move_ctx: &MoveContext<'_>) -> Option<ConstraintViolation> {
        let MoveContext::Route { route_ctx, job, .. } = move_ctx else {
            return None;
        };
        let bound = job.dimens().get_value::<BoundKey, usize>()?;
        let vehicle = tag_of(route_ctx)?;
        if vehicle.index == *bound {
            None
        } else {
            ConstraintViolation::fail(BINDING_CODE)
        }
    }
}

/// Delivery-only singles are loaded at the start depot, so on a vehicle with a fixed head
/// they ride through the whole head: their sum must fit on top of the head's peak load
/// ([`VehicleTag::depot_room`]). vrp-core's capacity only sees the load from the end of the
/// head on. (Without a head the room is the capacity, which vrp-core already enforces.)
struct DepotRoomConstraint;

impl FeatureConstraint for DepotRoomConstraint {
    fn evaluate(&self, move_ctx: &MoveContext<'_>) -> Option<ConstraintViolation> {
        let MoveContext::Route { route_ctx, job, .. } = move_ctx else {
            return None;
        };
        let units = *job.dimens().get_value::<DepotKey, i32>()?;
        let vehicle = tag_of(route_ctx)?;
        if !vehicle.has_head {
            return None;
        }
        let loaded: i32 = route_ctx
            .route()
            .tour
            .jobs()
            .filter(|other| *other != *job)
            .filter_map(|other| other.dimens().get_value::<DepotKey, i32>())
            .sum();
        if loaded + units > vehicle.depot_room {
            ConstraintViolation::fail(CAPACITY_CODE)
        } else {
            None
        }
    }
}

fn reason(info: &UnassignmentInfo) -> String {
    let code = match info {
        UnassignmentInfo::Simple(code) => Some(*code),
        UnassignmentInfo::Detailed(details) => {
            let mut counts: HashMap<ViolationCode, usize> = HashMap::new();
            for (_, code) in details {
                *counts.entry(*code).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by_key(|(code, count)| (*count, -code.0))
                .map(|(code, _)| code)
        }
        UnassignmentInfo::Unknown => None,
    };
    match code {
        Some(TIME_CODE) => {
            "cannot be served within its time windows and the vehicles' shifts".to_string()
        }
        Some(CAPACITY_CODE) => "does not fit in the remaining capacity of any vehicle".to_string(),
        Some(BINDING_CODE) => "its load is on board a vehicle that cannot serve it".to_string(),
        _ => "no feasible vehicle found within the time limit".to_string(),
    }
}
