//! Li & Lim PDPTW benchmark of the route planner.
//!
//! Solves every instance of `$LILIM_DIR` (default `../shared/bench/lilim` beside the crate)
//! with the same `buuta::planner::solve` the service uses, checks each solution with
//! `buuta::planner::check` (and that no task is left unserved), and compares with the
//! best-known solutions of `bks.csv` (fewest vehicles first, then distance).
//!
//! Environment:
//! - `LILIM_DIR`: instances directory;
//! - `LILIM_ONLY=lc101,lr201`: only these instances;
//! - `LILIM_SECONDS` (default 3): time limit per instance;
//! - `LILIM_GENERATIONS`: optional cap on solver generations.
//!
//! Exits non-zero when any solution is infeasible or leaves a task unserved.

use buuta::planner::{check, solve, Job, JobKind, Matrix, Problem, Settings, Stop, Vehicle};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Best-known solution of an instance.
struct Bks {
    vehicles: usize,
    distance: f64,
}

/// Reads one Li & Lim instance: node 0 is the depot; one pair per pickup node; distances
/// Euclidean and unrounded; travel time equals distance.
fn read_instance(path: &Path) -> Result<Problem, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<f64> = parse_numbers(lines.next().ok_or("empty file")?)?;
    if header.len() < 2 {
        return Err(format!(
            "{}: the first line needs vehicles and capacity",
            path.display()
        ));
    }
    let (vehicle_count, capacity) = (header[0] as usize, header[1] as i32);
    let nodes: Vec<Vec<f64>> = lines.map(parse_numbers).collect::<Result<_, _>>()?;
    if nodes.iter().any(|node| node.len() < 9) {
        return Err(format!(
            "{}: a node line has fewer than 9 fields",
            path.display()
        ));
    }
    if nodes.is_empty()
        || nodes
            .iter()
            .enumerate()
            .any(|(idx, node)| node[0] as usize != idx)
    {
        return Err(format!("{}: node ids must be 0, 1, 2, ...", path.display()));
    }
    let table: Vec<Vec<f64>> = nodes
        .iter()
        .map(|a| {
            nodes
                .iter()
                .map(|b| ((a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt())
                .collect()
        })
        .collect();
    let stop = |idx: usize| Stop {
        location: idx,
        window: Some((nodes[idx][4], nodes[idx][5])),
        service: nodes[idx][6],
        closed: None,
    };
    let jobs = nodes
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, node)| node[8] > 0.)
        .map(|(idx, node)| Job {
            id: format!("p{idx}"),
            kind: JobKind::Pair {
                pickup: stop(idx),
                delivery: stop(node[8] as usize),
            },
            demand: node[3] as i32,
        })
        .collect();
    let vehicles = (0..vehicle_count)
        .map(|idx| Vehicle {
            id: format!("v{idx}"),
            start: 0,
            end: 0,
            shift: (nodes[0][4], nodes[0][5]),
            capacity,
            fixed_head: Vec::new(),
        })
        .collect();
    Ok(Problem {
        matrix: Matrix {
            durations: table.clone(),
            distances: table,
        },
        vehicles,
        jobs,
    })
}

fn parse_numbers(line: &str) -> Result<Vec<f64>, String> {
    line.split_whitespace()
        .map(|field| {
            field
                .parse::<f64>()
                .map_err(|err| format!("{field:?}: {err}"))
        })
        .collect()
}

fn read_bks(dir: &Path) -> Result<HashMap<String, Bks>, String> {
    let path = dir.join("bks.csv");
    let text =
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let bad = || format!("bks.csv: bad line {line:?}");
            let vehicles = fields
                .get(2)
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(bad)?;
            let distance = fields
                .get(3)
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(bad)?;
            Ok((fields[0].trim().to_string(), Bks { vehicles, distance }))
        })
        .collect()
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("lilim: {err}");
            ExitCode::from(2)
        }
    }
}

/// Runs the benchmark; `Ok(false)` when some solution is infeasible or incomplete.
fn run() -> Result<bool, String> {
    let dir = std::env::var_os("LILIM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/bench/lilim"
            ))
        });
    let only: Option<Vec<String>> = std::env::var("LILIM_ONLY")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .map(|value| {
            value
                .split(',')
                .map(|name| name.trim().to_string())
                .collect()
        });
    let seconds: f64 = match std::env::var("LILIM_SECONDS") {
        Ok(value) => value
            .parse()
            .map_err(|err| format!("LILIM_SECONDS={value:?}: {err}"))?,
        Err(_) => 3.,
    };
    if !(seconds.is_finite() && seconds > 0.) {
        return Err(format!(
            "LILIM_SECONDS must be a positive number, not {seconds}"
        ));
    }
    let max_generations = match std::env::var("LILIM_GENERATIONS") {
        Ok(value) => Some(
            value
                .parse()
                .map_err(|err| format!("LILIM_GENERATIONS={value:?}: {err}"))?,
        ),
        Err(_) => None,
    };
    let settings = Settings {
        time_limit: Duration::from_secs_f64(seconds),
        max_generations,
        seed: None,
    };
    let bks = read_bks(&dir)?;

    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|err| format!("{}: {err}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_suffix(".txt"))
                .map(str::to_string)
        })
        .filter(|name| only.as_ref().is_none_or(|only| only.contains(name)))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no instance found in {}", dir.display()));
    }

    println!(
        "Li & Lim PDPTW, {} instance(s), {seconds} s limit each, from {}",
        names.len(),
        dir.display()
    );
    println!(
        "{:<8} {:>4} {:>10} {:>4} {:>10} {:>8} {:>6} {:>10}",
        "instance", "veh", "distance", "bks", "bks dist", "gap %", "secs", "feasible"
    );
    let (mut feasible, mut reached, mut gaps, mut total_secs, mut max_secs) =
        (0, 0, Vec::new(), 0., 0f64);
    for name in &names {
        let problem = read_instance(&dir.join(format!("{name}.txt")))?;
        let started = Instant::now();
        let solution = solve(&problem, &settings).map_err(|err| format!("{name}: {err}"))?;
        let secs = started.elapsed().as_secs_f64();
        total_secs += secs;
        max_secs = max_secs.max(secs);
        let verdict = match check(&problem, &solution) {
            Err(errors) => {
                for error in errors.iter().take(10) {
                    eprintln!("{name}: {error}");
                }
                format!("NO ({})", errors.len())
            }
            Ok(()) if !solution.unassigned.is_empty() => {
                format!("NO ({} unserved)", solution.unassigned.len())
            }
            Ok(()) => {
                feasible += 1;
                "yes".to_string()
            }
        };
        let vehicles = solution.routes.len();
        let distance = solution.total_distance();
        let (bks_vehicles, bks_distance, gap) = match bks.get(name) {
            Some(best) => {
                let gap = (distance - best.distance) / best.distance * 100.;
                if vehicles <= best.vehicles && verdict == "yes" {
                    reached += 1;
                    gaps.push(gap);
                }
                (
                    best.vehicles.to_string(),
                    format!("{:.2}", best.distance),
                    format!("{gap:+.2}"),
                )
            }
            None => ("-".to_string(), "-".to_string(), "-".to_string()),
        };
        println!(
            "{name:<8} {vehicles:>4} {distance:>10.2} {bks_vehicles:>4} {bks_distance:>10} {gap:>8} {secs:>6.2} {verdict:>10}"
        );
    }
    let count = names.len();
    let mean_gap = if gaps.is_empty() {
        f64::NAN
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    println!("instances feasible: {feasible}/{count}");
    println!("BKS vehicle count reached: {reached}/{count}");
    println!("mean distance gap on those: {mean_gap:+.2}%");
    println!(
        "mean seconds per instance: {:.2} (max {max_secs:.2})",
        total_secs / count as f64
    );
    Ok(feasible == count)
}
