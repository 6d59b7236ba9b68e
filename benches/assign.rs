//! Auto-assignment latency: one new job against 200 couriers holding 5,000 open
//! tasks between them (every courier eligible: the worst case, no zone filter).
//! Run: `cargo bench --bench assign`. Prints p50/p99/max over many new jobs.

use buuta::domain::dispatch::{apply, best_insertion, choose, CourierRoute, Job, Stop, TravelTime};
use std::time::Instant;

/// Geodesic travel time on the fly (haversine × 1.3 at 25 km/h), as the service's default.
struct Geodesic(Vec<(f64, f64)>);

impl TravelTime for Geodesic {
    fn secs(&self, a: usize, b: usize) -> f64 {
        let ((la, lo), (lb, lob)) = (self.0[a], self.0[b]);
        let (p1, p2) = (la.to_radians(), lb.to_radians());
        let (dp, dl) = ((lb - la).to_radians(), (lob - lo).to_radians());
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        let metres = 2.0 * 6_371_008.8 * h.sqrt().asin();
        metres * 1.3 / (25_000.0 / 3600.0)
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    let mut rng = Rng(2026);
    let mut points = vec![(10.46, 105.63)]; // the post office
    let new_point = |rng: &mut Rng, points: &mut Vec<(f64, f64)>| {
        points.push((10.43 + rng.next() * 0.06, 105.60 + rng.next() * 0.06));
        points.len() - 1
    };
    let day = 8.0 * 3600.0;
    let job = |rng: &mut Rng, points: &mut Vec<(f64, f64)>| {
        let start = day + rng.next() * 7.0 * 3600.0;
        let p = Stop {
            location: new_point(rng, points),
            window: (start, start + 3.0 * 3600.0),
            service: 300.0,
            load: 1,
        };
        let d = Stop {
            location: new_point(rng, points),
            window: (start, 17.5 * 3600.0),
            service: 600.0,
            load: -1,
        };
        Job::Pair(p, d)
    };
    let mut routes: Vec<CourierRoute> = (0..200)
        .map(|id| CourierRoute {
            courier_id: id,
            start: (0, 7.5 * 3600.0),
            end: (0, 18.0 * 3600.0),
            capacity: 30,
            initial_load: 0,
            stops: Vec::new(),
        })
        .collect();
    // Fill every route to 25 stops (5,000 tasks) by feasible insertion.
    let mut tries = 0;
    while routes.iter().any(|r| r.stops.len() < 25) && tries < 200_000 {
        tries += 1;
        let j = job(&mut rng, &mut points);
        let tt = Geodesic(points.clone());
        let idx = tries % routes.len();
        if routes[idx].stops.len() >= 25 {
            continue;
        }
        if let Some(ins) = best_insertion(&routes[idx], &j, &tt) {
            apply(&mut routes[idx], &j, &ins);
        }
    }
    let tasks: usize = routes.iter().map(|r| r.stops.len()).sum();
    let tt_base = points.len();
    let mut samples = Vec::new();
    let mut placed = 0;
    for _ in 0..500 {
        points.truncate(tt_base);
        let j = job(&mut rng, &mut points);
        let tt = Geodesic(points.clone());
        let t0 = Instant::now();
        let res = choose(&routes, &j, &tt);
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
        placed += usize::from(res.is_ok());
    }
    samples.sort_by(f64::total_cmp);
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!("auto-assign of one job: 200 couriers, {tasks} open tasks, all eligible, geodesic on the fly");
    println!(
        "samples {}  placed {placed}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        samples.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
