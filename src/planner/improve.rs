//! The polish after the solver: an iterated local search (ruin and recreate of related
//! units, then local search) that runs on the solver's answer until the deadline.
//!
//! - Local search: pair relocation (within and between routes), relocation of segments of
//!   1-3 stops (or-opt), and tail exchange between two routes (2-opt*), first improvement.
//! - Ruin: a random unit and its nearest neighbours (a third of the units at most, up to
//!   [`RUIN_MAX`]), or now and then every unit of the shortest route (to save a vehicle).
//! - Recreate: each removed unit, in random order, at its cheapest feasible place, in a
//!   vehicle already used if possible.
//! - Acceptance: fewer vehicles always; else a distance up to a threshold above the current
//!   one, the threshold shrinking linearly from [`THRESHOLD`] to zero (restarting when a
//!   vehicle is saved); the best solution seen is returned.
//!
//! It works on what the solver saw: stops after the fixed heads, vehicles starting where
//! their heads end. Every candidate route is replayed in full (windows, shift end, capacity,
//! pickup before delivery on the same route, on-board loads on their vehicle, depot loads
//! through the fixed head) before it is taken.

use super::{Problem, SolverStart, Stop, StopPart, Task};
use std::collections::HashMap;
use std::time::Instant;

const EPS: f64 = 1e-7;
/// Initial acceptance threshold, relative to the current distance.
const THRESHOLD: f64 = 0.05;
/// Most units removed by one ruin.
const RUIN_MAX: usize = 40;
/// Probability (one in N) that a ruin empties the shortest route.
const ROUTE_RUIN_ONE_IN: usize = 10;
/// The search stops early after this many iterations per unit without a new best.
const IDLE_PER_UNIT: usize = 500;

/// A stop as the local search sees it.
#[derive(Debug, Clone)]
struct Node {
    key: (usize, StopPart),
    location: usize,
    from: f64,
    to: f64,
    /// A break when service may not start (see [`Stop::closed`]); `(INF, INF)` if none.
    gap: (f64, f64),
    service: f64,
    /// Load change at the stop (pickups +, deliveries -).
    change: i32,
    /// Load on board from the vehicle's start for this stop (delivery-only and on-board loads).
    initial: i32,
    /// Part of `initial` loaded at the start depot (delivery-only singles): it also rides
    /// through the vehicle's fixed head.
    depot: i32,
    /// Pair number for pickup/delivery precedence.
    pair: Option<usize>,
    is_pickup: bool,
    /// Vehicle the stop must stay on.
    bound: Option<usize>,
}

#[derive(Debug, Clone)]
struct Car {
    index: usize,
    start: usize,
    time: f64,
    end: usize,
    latest: f64,
    capacity: i32,
    /// Room for depot loads on top of the fixed head's peak load.
    depot_room: i32,
    /// Already on the road (fixed head): using it costs no vehicle.
    free: bool,
}

/// Local search state.
pub(crate) struct Improver<'a> {
    problem: &'a Problem,
    nodes: Vec<Node>,
    cars: Vec<Car>,
    routes: Vec<Vec<usize>>,
    marks: Vec<u32>,
    epoch: u32,
    deadline: Instant,
    /// Stops that move together: a pair's pickup and delivery, or one stop.
    units: Vec<Vec<usize>>,
    /// For each unit, the other units by increasing distance.
    neighbours: Vec<Vec<usize>>,
    random: Rng,
}

/// A small xorshift generator: the local search's randomness, seedable.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..bound` (`bound > 0`).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<'a> Improver<'a> {
    /// Builds the search state from the solver's routes (vehicle index to stops).
    pub(crate) fn new(
        problem: &'a Problem,
        tasks: &[Task],
        starts: &[Option<SolverStart>],
        routes: &HashMap<usize, Vec<(usize, StopPart)>>,
        deadline: Instant,
        random: Rng,
    ) -> Self {
        let mut nodes = Vec::new();
        let mut pairs = 0;
        let node = |key, stop: &Stop, change, initial, pair, is_pickup, bound| Node {
            key,
            location: stop.location,
            from: stop.window.map_or(f64::NEG_INFINITY, |w| w.0),
            to: stop.window.map_or(f64::INFINITY, |w| w.1),
            gap: stop.closed.unwrap_or((f64::INFINITY, f64::INFINITY)),
            service: stop.service,
            change,
            initial,
            depot: 0,
            pair,
            is_pickup,
            bound,
        };
        for task in tasks {
            match task {
                Task::Pair {
                    job,
                    pickup,
                    delivery,
                    demand,
                } => {
                    nodes.push(node(
                        (*job, StopPart::Pickup),
                        pickup,
                        *demand,
                        0,
                        Some(pairs),
                        true,
                        None,
                    ));
                    nodes.push(node(
                        (*job, StopPart::Delivery),
                        delivery,
                        -*demand,
                        0,
                        Some(pairs),
                        false,
                        None,
                    ));
                    pairs += 1;
                }
                Task::OnBoardDelivery {
                    job,
                    stop,
                    demand,
                    vehicle,
                } => nodes.push(node(
                    (*job, StopPart::Delivery),
                    stop,
                    -*demand,
                    *demand,
                    None,
                    false,
                    Some(*vehicle),
                )),
                Task::Single { job, stop, demand } => {
                    let initial = if *demand < 0 { -*demand } else { 0 };
                    nodes.push(Node {
                        depot: initial,
                        ..node(
                            (*job, StopPart::Single),
                            stop,
                            *demand,
                            initial,
                            None,
                            false,
                            None,
                        )
                    })
                }
            }
        }
        let by_key: HashMap<(usize, StopPart), usize> = nodes
            .iter()
            .enumerate()
            .map(|(idx, node)| (node.key, idx))
            .collect();
        let mut cars = Vec::new();
        let mut car_routes = Vec::new();
        for (index, start) in starts.iter().enumerate() {
            let Some(start) = start else { continue };
            let vehicle = &problem.vehicles[index];
            cars.push(Car {
                index,
                start: start.location,
                time: start.time,
                end: vehicle.end,
                latest: vehicle.shift.1,
                capacity: start.capacity,
                depot_room: start.depot_room,
                free: start.has_head,
            });
            let route = routes.get(&index).map(|stops| {
                stops
                    .iter()
                    .filter_map(|key| by_key.get(key).copied())
                    .collect()
            });
            car_routes.push(route.unwrap_or_default());
        }
        let mut units: Vec<Vec<usize>> = Vec::new();
        for (idx, node) in nodes.iter().enumerate() {
            match node.pair {
                Some(_) if !node.is_pickup => {}
                Some(pair) => {
                    let delivery = (idx + 1..nodes.len())
                        .find(|&other| nodes[other].pair == Some(pair))
                        .unwrap_or(idx);
                    units.push(vec![idx, delivery]);
                }
                None => units.push(vec![idx]),
            }
        }
        let distances = &problem.matrix.distances;
        let gap = |a: &Vec<usize>, b: &Vec<usize>| {
            a.iter()
                .flat_map(|&x| b.iter().map(move |&y| (x, y)))
                .map(|(x, y)| distances[nodes[x].location][nodes[y].location])
                .fold(f64::INFINITY, f64::min)
        };
        let neighbours = units
            .iter()
            .enumerate()
            .map(|(idx, unit)| {
                let mut others: Vec<(f64, usize)> = units
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != idx)
                    .map(|(other, o)| (gap(unit, o), other))
                    .collect();
                others.sort_by(|a, b| a.0.total_cmp(&b.0));
                others.into_iter().map(|(_, other)| other).collect()
            })
            .collect();
        Self {
            problem,
            nodes,
            cars,
            routes: car_routes,
            marks: vec![0; pairs],
            epoch: 0,
            deadline,
            units,
            neighbours,
            random,
        }
    }

    /// Iterated local search until the deadline: ruin a few related units, re-insert them
    /// at their cheapest feasible places, polish with the local search, keep the result
    /// when it is not much worse (threshold shrinking to zero), and return the best seen.
    pub(crate) fn search(&mut self) {
        self.insert_unplaced();
        self.run();
        let began = Instant::now();
        let mut phase = began;
        let mut phase_total = self
            .deadline
            .saturating_duration_since(began)
            .as_secs_f64()
            .max(1e-9);
        let mut best = (self.objective(), self.routes.clone());
        let mut current = best.0;
        let mut idle = 0;
        let idle_limit = IDLE_PER_UNIT * self.units.len().max(4);
        while Instant::now() < self.deadline && !self.units.is_empty() && idle < idle_limit {
            idle += 1;
            let saved = self.routes.clone();
            let removed = self.ruin();
            if !self.recreate(&removed) {
                self.routes = saved;
                continue;
            }
            self.run();
            let candidate = self.objective();
            let progress = phase.elapsed().as_secs_f64() / phase_total;
            let threshold = THRESHOLD * (1. - progress).max(0.);
            let accept = candidate.0 < current.0
                || (candidate.0 == current.0
                    && candidate.1 < current.1 * (1. + threshold * self.random.unit()));
            if accept {
                if candidate.0 < current.0 {
                    // One vehicle less: optimise distances afresh from here.
                    phase = Instant::now();
                    phase_total = self
                        .deadline
                        .saturating_duration_since(phase)
                        .as_secs_f64()
                        .max(1e-9);
                }
                current = candidate;
                if candidate.0 < best.0 .0
                    || (candidate.0 == best.0 .0 && candidate.1 < best.0 .1 - EPS)
                {
                    best = (candidate, self.routes.clone());
                    idle = 0;
                }
            } else {
                self.routes = saved;
            }
        }
        self.routes = best.1;
    }

    /// Tries to place the units the solver left out, each at its cheapest feasible place.
    fn insert_unplaced(&mut self) {
        let placed: Vec<bool> = {
            let mut placed = vec![false; self.nodes.len()];
            self.routes
                .iter()
                .flatten()
                .for_each(|&node| placed[node] = true);
            placed
        };
        let unplaced: Vec<usize> = (0..self.units.len())
            .filter(|&unit| !placed[self.units[unit][0]])
            .collect();
        for unit in unplaced {
            let nodes = self.units[unit].clone();
            let open: Vec<usize> = (0..self.routes.len())
                .filter(|&car| self.open(car))
                .collect();
            let closed: Vec<usize> = (0..self.routes.len())
                .filter(|&car| !self.open(car))
                .collect();
            if let Some((car, seq)) = self
                .cheapest(&nodes, &open)
                .or_else(|| self.cheapest(&nodes, &closed))
            {
                self.routes[car] = seq;
            }
        }
    }

    /// Removes a few units: neighbours of a random one, or a whole short route.
    fn ruin(&mut self) -> Vec<usize> {
        let mut position = vec![None; self.nodes.len()];
        for (car, route) in self.routes.iter().enumerate() {
            for &node in route {
                position[node] = Some(car);
            }
        }
        let placed: Vec<usize> = (0..self.units.len())
            .filter(|&unit| position[self.units[unit][0]].is_some())
            .collect();
        if placed.is_empty() {
            return Vec::new();
        }
        let used: Vec<usize> = (0..self.routes.len())
            .filter(|&car| !self.routes[car].is_empty() && !self.cars[car].free)
            .collect();
        let mut removed = Vec::new();
        if used.len() > 1 && self.random.below(ROUTE_RUIN_ONE_IN) == 0 {
            // Try to do without the shortest route (fewest stops).
            let car = *used
                .iter()
                .min_by_key(|&&car| self.routes[car].len())
                .unwrap_or(&used[0]);
            removed = placed
                .iter()
                .copied()
                .filter(|&unit| position[self.units[unit][0]] == Some(car))
                .collect();
        } else {
            let count = 2 + self.random.below((placed.len() / 3).clamp(1, RUIN_MAX));
            let seed = placed[self.random.below(placed.len())];
            removed.push(seed);
            for &unit in &self.neighbours[seed] {
                if removed.len() >= count {
                    break;
                }
                if position[self.units[unit][0]].is_some() && self.random.below(4) != 0 {
                    removed.push(unit);
                }
            }
        }
        let gone: Vec<usize> = removed
            .iter()
            .flat_map(|&unit| self.units[unit].iter().copied())
            .collect();
        for route in &mut self.routes {
            route.retain(|node| !gone.contains(node));
        }
        removed
    }

    /// Re-inserts `removed` units at their cheapest feasible places; `false` if one fits nowhere.
    fn recreate(&mut self, removed: &[usize]) -> bool {
        let mut order = removed.to_vec();
        for idx in (1..order.len()).rev() {
            let other = self.random.below(idx + 1);
            order.swap(idx, other);
        }
        for unit in order {
            let nodes = self.units[unit].clone();
            let open: Vec<usize> = (0..self.routes.len())
                .filter(|&car| self.open(car))
                .collect();
            let closed: Vec<usize> = (0..self.routes.len())
                .filter(|&car| !self.open(car))
                .collect();
            let Some((car, seq)) = self
                .cheapest(&nodes, &open)
                .or_else(|| self.cheapest(&nodes, &closed))
            else {
                return false;
            };
            self.routes[car] = seq;
        }
        true
    }

    /// Cheapest feasible insertion of a unit (one stop, or pickup then delivery) in `cars`.
    fn cheapest(&mut self, unit: &[usize], cars: &[usize]) -> Option<(usize, Vec<usize>)> {
        let mut best: Option<(f64, usize, Vec<usize>)> = None;
        for &car in cars {
            let route = self.routes[car].clone();
            let first = self.nodes[unit[0]].location;
            for i in 0..=route.len() {
                let before = self.prev(car, &route, i);
                let after = self.loc(car, &route, Some(i));
                let head_delta =
                    self.dist(before, first) + self.dist(first, after) - self.dist(before, after);
                if best.as_ref().is_some_and(|b| head_delta >= b.0) && unit.len() == 1 {
                    continue;
                }
                if unit.len() == 1 {
                    let mut seq = route.clone();
                    seq.insert(i, unit[0]);
                    if self.feasible(car, &seq) {
                        best = Some((head_delta, car, seq));
                    }
                    continue;
                }
                let second = self.nodes[unit[1]].location;
                for j in i..=route.len() {
                    let delta = if i == j {
                        self.dist(before, first)
                            + self.dist(first, second)
                            + self.dist(second, after)
                            - self.dist(before, after)
                    } else {
                        let before_j = self.prev(car, &route, j);
                        let after_j = self.loc(car, &route, Some(j));
                        head_delta + self.dist(before_j, second) + self.dist(second, after_j)
                            - self.dist(before_j, after_j)
                    };
                    if best.as_ref().is_some_and(|b| delta >= b.0) {
                        continue;
                    }
                    let mut seq = route.clone();
                    seq.insert(j, unit[1]);
                    seq.insert(i, unit[0]);
                    if self.feasible(car, &seq) {
                        best = Some((delta, car, seq));
                    }
                }
            }
        }
        best.map(|(_, car, seq)| (car, seq))
    }

    /// The improved routes, vehicle index to stops.
    pub(crate) fn routes(&self) -> HashMap<usize, Vec<(usize, StopPart)>> {
        self.cars
            .iter()
            .zip(&self.routes)
            .filter(|(_, route)| !route.is_empty())
            .map(|(car, route)| {
                (
                    car.index,
                    route.iter().map(|&node| self.nodes[node].key).collect(),
                )
            })
            .collect()
    }

    /// (vehicles, distance) of the current routes.
    pub(crate) fn objective(&self) -> (usize, f64) {
        let mut result = (0, 0.);
        for (car, seq) in self.routes.iter().enumerate() {
            result.0 += self.counts(car, seq);
            result.1 += self.route_distance(car, seq);
        }
        result
    }

    fn dist(&self, from: usize, to: usize) -> f64 {
        self.problem.matrix.distances[from][to]
    }

    /// Location at position `pos` of `seq` on car `car`: `None` is the start, `len` the end.
    fn loc(&self, car: usize, seq: &[usize], pos: Option<usize>) -> usize {
        match pos {
            None => self.cars[car].start,
            Some(p) if p >= seq.len() => self.cars[car].end,
            Some(p) => self.nodes[seq[p]].location,
        }
    }

    fn prev(&self, car: usize, seq: &[usize], pos: usize) -> usize {
        self.loc(car, seq, pos.checked_sub(1))
    }

    /// Distance of a route; an empty route of a vehicle not on the road costs nothing.
    fn route_distance(&self, car: usize, seq: &[usize]) -> f64 {
        if seq.is_empty() && !self.cars[car].free {
            return 0.;
        }
        let mut loc = self.cars[car].start;
        let mut total = 0.;
        for &node in seq {
            total += self.dist(loc, self.nodes[node].location);
            loc = self.nodes[node].location;
        }
        total + self.dist(loc, self.cars[car].end)
    }

    fn counts(&self, car: usize, seq: &[usize]) -> usize {
        usize::from(!seq.is_empty() && !self.cars[car].free)
    }

    /// Full replay of a route: windows, shift, capacity, precedence, binding.
    fn feasible(&mut self, car: usize, seq: &[usize]) -> bool {
        let spec = &self.cars[car];
        let durations = &self.problem.matrix.durations;
        let mut load: i32 = seq.iter().map(|&node| self.nodes[node].initial).sum();
        if load > spec.capacity {
            return false;
        }
        let depot: i32 = seq.iter().map(|&node| self.nodes[node].depot).sum();
        if depot > spec.depot_room {
            return false;
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|mark| *mark = 0);
            self.epoch = 1;
        }
        let mut open = 0usize;
        let mut loc = spec.start;
        let mut time = spec.time;
        for &idx in seq {
            let node = &self.nodes[idx];
            if node.bound.is_some_and(|bound| bound != spec.index) {
                return false;
            }
            if let Some(pair) = node.pair {
                if node.is_pickup {
                    self.marks[pair] = self.epoch;
                    open += 1;
                } else if self.marks[pair] != self.epoch {
                    return false;
                } else {
                    open -= 1;
                }
            }
            let arrival = time + durations[loc][node.location];
            let mut start = arrival.max(node.from);
            if start > node.gap.0 && start < node.gap.1 {
                start = node.gap.1;
            }
            if start > node.to + EPS {
                return false;
            }
            time = start + node.service;
            load += node.change;
            if load > spec.capacity {
                return false;
            }
            loc = node.location;
        }
        open == 0 && time + durations[loc][spec.end] <= spec.latest + EPS
    }

    /// Takes the change `(car, new route)` if it is feasible and better (fewer vehicles, or
    /// as many and shorter).
    fn try_apply(&mut self, changes: Vec<(usize, Vec<usize>)>) -> bool {
        let (mut vehicles, mut distance) = (0isize, 0.);
        for (car, seq) in &changes {
            vehicles +=
                self.counts(*car, seq) as isize - self.counts(*car, &self.routes[*car]) as isize;
            distance +=
                self.route_distance(*car, seq) - self.route_distance(*car, &self.routes[*car]);
        }
        if vehicles > 0 || (vehicles == 0 && distance > -EPS) {
            return false;
        }
        for (car, seq) in &changes {
            if !self.feasible(*car, seq) {
                return false;
            }
        }
        for (car, seq) in changes {
            self.routes[car] = seq;
        }
        true
    }

    /// Runs the local search until no move improves or the deadline passes.
    pub(crate) fn run(&mut self) {
        loop {
            if Instant::now() >= self.deadline {
                return;
            }
            let improved = self.relocate_pair() || self.relocate_segment() || self.exchange_tails();
            if !improved {
                return;
            }
        }
    }

    /// Whether `car` may receive stops: used already, or on the road anyway.
    fn open(&self, car: usize) -> bool {
        !self.routes[car].is_empty() || self.cars[car].free
    }

    fn relocate_pair(&mut self) -> bool {
        for from in 0..self.routes.len() {
            let route = self.routes[from].clone();
            for a in 0..route.len() {
                let Some(pair) = self.nodes[route[a]]
                    .pair
                    .filter(|_| self.nodes[route[a]].is_pickup)
                else {
                    continue;
                };
                let Some(b) =
                    (a + 1..route.len()).find(|&b| self.nodes[route[b]].pair == Some(pair))
                else {
                    continue;
                };
                let (p, d) = (route[a], route[b]);
                let rest: Vec<usize> = route
                    .iter()
                    .copied()
                    .filter(|&node| node != p && node != d)
                    .collect();
                let removal = self.route_distance(from, &rest) - self.route_distance(from, &route);
                let emptied = rest.is_empty() && !self.cars[from].free;
                for to in 0..self.routes.len() {
                    if Instant::now() >= self.deadline {
                        return false;
                    }
                    if to != from && !self.open(to) {
                        continue;
                    }
                    let target = if to == from {
                        rest.clone()
                    } else {
                        self.routes[to].clone()
                    };
                    let (pl, dl) = (self.nodes[p].location, self.nodes[d].location);
                    for i in 0..=target.len() {
                        let before = self.prev(to, &target, i);
                        let after_i = self.loc(to, &target, Some(i));
                        for j in i..=target.len() {
                            let insertion = if i == j {
                                self.dist(before, pl) + self.dist(pl, dl) + self.dist(dl, after_i)
                                    - self.dist(before, after_i)
                            } else {
                                let before_j = self.prev(to, &target, j);
                                let after_j = self.loc(to, &target, Some(j));
                                self.dist(before, pl) + self.dist(pl, after_i)
                                    - self.dist(before, after_i)
                                    + self.dist(before_j, dl)
                                    + self.dist(dl, after_j)
                                    - self.dist(before_j, after_j)
                            };
                            let empty_target = target.is_empty() && !self.cars[to].free;
                            if !(emptied && to != from)
                                && (empty_target || removal + insertion > -EPS)
                            {
                                continue;
                            }
                            let mut seq = target.clone();
                            seq.insert(j, d);
                            seq.insert(i, p);
                            let changes = if to == from {
                                vec![(from, seq)]
                            } else {
                                vec![(from, rest.clone()), (to, seq)]
                            };
                            if self.try_apply(changes) {
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }

    fn relocate_segment(&mut self) -> bool {
        for from in 0..self.routes.len() {
            let route = self.routes[from].clone();
            for len in 1..=3usize {
                for a in 0..route.len().saturating_sub(len - 1) {
                    let segment = &route[a..a + len];
                    let mut rest = route[..a].to_vec();
                    rest.extend_from_slice(&route[a + len..]);
                    let (first, last) = (
                        self.nodes[segment[0]].location,
                        self.nodes[segment[len - 1]].location,
                    );
                    let removal = self.dist(
                        self.prev(from, &route, a),
                        self.loc(from, &route, Some(a + len)),
                    ) - self.dist(self.prev(from, &route, a), first)
                        - self.dist(last, self.loc(from, &route, Some(a + len)));
                    let emptied = rest.is_empty() && !self.cars[from].free;
                    for to in 0..self.routes.len() {
                        if Instant::now() >= self.deadline {
                            return false;
                        }
                        if to != from && !self.open(to) {
                            continue;
                        }
                        let target = if to == from {
                            rest.clone()
                        } else {
                            self.routes[to].clone()
                        };
                        for i in 0..=target.len() {
                            if to == from && i == a {
                                continue;
                            }
                            let before = self.prev(to, &target, i);
                            let after = self.loc(to, &target, Some(i));
                            let insertion = self.dist(before, first) + self.dist(last, after)
                                - self.dist(before, after);
                            if !(emptied && to != from) && removal + insertion > -EPS {
                                continue;
                            }
                            let mut seq = target.clone();
                            seq.splice(i..i, segment.iter().copied());
                            let changes = if to == from {
                                vec![(from, seq)]
                            } else {
                                vec![(from, rest.clone()), (to, seq)]
                            };
                            if self.try_apply(changes) {
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }

    fn exchange_tails(&mut self) -> bool {
        for first in 0..self.routes.len() {
            for second in first + 1..self.routes.len() {
                if Instant::now() >= self.deadline {
                    return false;
                }
                let (a, b) = (self.routes[first].clone(), self.routes[second].clone());
                if !self.open(first) || !self.open(second) {
                    continue;
                }
                for i in 0..=a.len() {
                    for j in 0..=b.len() {
                        if (i == a.len() && j == b.len()) || (i == 0 && j == 0) {
                            continue;
                        }
                        let (pa, pb) = (self.prev(first, &a, i), self.prev(second, &b, j));
                        let (na, nb) =
                            (self.loc(first, &a, Some(i)), self.loc(second, &b, Some(j)));
                        let (ea, eb) = (self.cars[first].end, self.cars[second].end);
                        // The tails change vehicles, so they end at the other vehicle's end.
                        let na2 = if j == b.len() { ea } else { nb };
                        let nb2 = if i == a.len() { eb } else { na };
                        let tail_a_end = if i == a.len() {
                            0.
                        } else {
                            self.dist(self.nodes[a[a.len() - 1]].location, eb)
                                - self.dist(self.nodes[a[a.len() - 1]].location, ea)
                        };
                        let tail_b_end = if j == b.len() {
                            0.
                        } else {
                            self.dist(self.nodes[b[b.len() - 1]].location, ea)
                                - self.dist(self.nodes[b[b.len() - 1]].location, eb)
                        };
                        let delta = self.dist(pa, na2) + self.dist(pb, nb2)
                            - self.dist(pa, na)
                            - self.dist(pb, nb)
                            + tail_a_end
                            + tail_b_end;
                        let new_a: Vec<usize> = a[..i].iter().chain(&b[j..]).copied().collect();
                        let new_b: Vec<usize> = b[..j].iter().chain(&a[i..]).copied().collect();
                        let fewer = self.counts(first, &new_a) + self.counts(second, &new_b)
                            < self.counts(first, &a) + self.counts(second, &b);
                        if !fewer && delta > -EPS {
                            continue;
                        }
                        if self.try_apply(vec![(first, new_a), (second, new_b)]) {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }
}
