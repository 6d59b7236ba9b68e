//! Travel-time matrices between stops, for dispatch and route planning.
//!
//! Two providers behind one trait, [`TravelTimes`]:
//! - [`Geodesic`] (the default): haversine distance times a road-circuity factor, at a
//!   fixed speed. Pure, synchronous underneath, never fails.
//! - [`Osrm`]: a road router's table API (OSRM `GET /table/v1/driving/...`), with a
//!   bounded per-pair cache. It never fails either: when OSRM errs, times out, answers
//!   something other than `"Ok"` or answers garbage, the missing rows fall back to
//!   [`Geodesic`], and pairs OSRM finds no route for (`null`) take the geodesic values.
//!   Fallbacks are logged with `tracing::warn!`.
//!
//! The trait returns a boxed future rather than using `async fn` in the trait, so it
//! stays object-safe: the service holds an `Arc<dyn TravelTimes>` chosen from its
//! configuration, and tests can plug in their own provider. No `async_trait` needed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ::geo::{Distance, Haversine};
use serde::{Deserialize, Serialize};

use crate::domain::geo::LatLon;

/// Default factor from straight-line to road distance.
pub const DEFAULT_CIRCUITY: f64 = 1.3;
/// Default travel speed: a motorbike in town.
pub const DEFAULT_SPEED_KMH: f64 = 25.0;
/// OSRM's own default `--max-table-size`: at most this many sources × destinations
/// squared per request.
pub const DEFAULT_MAX_TABLE_SIZE: usize = 100;
/// Default cache size, in ordered point pairs per generation (two generations are kept).
pub const DEFAULT_CACHE_PAIRS: usize = 200_000;
/// Most OSRM requests spent on one matrix; rows beyond go geodesic.
const MAX_REQUESTS_PER_MATRIX: usize = 64;

/// A stop, WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

impl From<LatLon> for Point {
    fn from(p: LatLon) -> Self {
        Self {
            lat: p.lat(),
            lon: p.lon(),
        }
    }
}

/// Travel from every point to every point: `durations_s[i][j]` seconds and
/// `distances_m[i][j]` metres from point `i` to point `j` (0 on the diagonal).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    /// Seconds, row = from, column = to.
    pub durations_s: Vec<Vec<f64>>,
    /// Metres, row = from, column = to.
    pub distances_m: Vec<Vec<f64>>,
}

impl Matrix {
    fn zeros(n: usize) -> Self {
        Self {
            durations_s: vec![vec![0.0; n]; n],
            distances_m: vec![vec![0.0; n]; n],
        }
    }

    fn set(&mut self, i: usize, j: usize, (duration_s, distance_m): (f64, f64)) {
        self.durations_s[i][j] = duration_s;
        self.distances_m[i][j] = distance_m;
    }
}

/// The future a [`TravelTimes`] provider returns.
pub type MatrixFuture<'a> = Pin<Box<dyn Future<Output = Matrix> + Send + 'a>>;

/// Something that answers travel-time matrices. Infallible: providers fall back
/// internally, so callers always get a full matrix of finite numbers for finite points.
pub trait TravelTimes: Send + Sync {
    /// The matrix between `points`, in their order.
    fn matrix<'a>(&'a self, points: &'a [Point]) -> MatrixFuture<'a>;
}

// ---------------------------------------------------------------------------------------
// Geodesic
// ---------------------------------------------------------------------------------------

/// Straight-line (haversine) distance × `circuity`, driven at `speed_kmh`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geodesic {
    /// Road distance over straight-line distance (≥ 1).
    pub circuity: f64,
    /// Average speed, km/h (> 0).
    pub speed_kmh: f64,
}

impl Default for Geodesic {
    fn default() -> Self {
        Self {
            circuity: DEFAULT_CIRCUITY,
            speed_kmh: DEFAULT_SPEED_KMH,
        }
    }
}

impl Geodesic {
    /// A provider with these parameters, or `None` unless `circuity` is finite and at
    /// least 1 and `speed_kmh` finite and positive.
    pub fn new(circuity: f64, speed_kmh: f64) -> Option<Self> {
        let ok =
            circuity.is_finite() && circuity >= 1.0 && speed_kmh.is_finite() && speed_kmh > 0.0;
        ok.then_some(Self {
            circuity,
            speed_kmh,
        })
    }

    /// `(duration_s, distance_m)` from one point to another.
    pub fn pair(&self, from: Point, to: Point) -> (f64, f64) {
        let straight = Haversine.distance(
            ::geo::Point::new(from.lon, from.lat),
            ::geo::Point::new(to.lon, to.lat),
        );
        let distance_m = straight * self.circuity;
        (distance_m / (self.speed_kmh / 3.6), distance_m)
    }

    /// The whole matrix, synchronously.
    pub fn compute(&self, points: &[Point]) -> Matrix {
        let mut matrix = Matrix::zeros(points.len());
        for (i, &from) in points.iter().enumerate() {
            for (j, &to) in points.iter().enumerate() {
                if i != j {
                    matrix.set(i, j, self.pair(from, to));
                }
            }
        }
        matrix
    }
}

impl TravelTimes for Geodesic {
    fn matrix<'a>(&'a self, points: &'a [Point]) -> MatrixFuture<'a> {
        Box::pin(std::future::ready(self.compute(points)))
    }
}

// ---------------------------------------------------------------------------------------
// OSRM
// ---------------------------------------------------------------------------------------

/// A point as a cache key: degrees × 10⁵, rounded (about a metre).
type PointKey = (i64, i64);

fn key(p: Point) -> PointKey {
    ((p.lat * 1e5).round() as i64, (p.lon * 1e5).round() as i64)
}

/// Ordered pair → `(duration_s, distance_m)`, bounded: when the current generation is
/// full it becomes the previous one and the older previous one is dropped, so at most
/// twice `capacity` pairs are held and recently used pairs survive.
struct PairCache {
    capacity: usize,
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<(PointKey, PointKey), (f64, f64)>,
    previous: HashMap<(PointKey, PointKey), (f64, f64)>,
}

impl Generations {
    fn get(&mut self, pair: (PointKey, PointKey), capacity: usize) -> Option<(f64, f64)> {
        if let Some(&value) = self.current.get(&pair) {
            return Some(value);
        }
        let value = self.previous.remove(&pair)?;
        self.insert(pair, value, capacity);
        Some(value)
    }

    fn insert(&mut self, pair: (PointKey, PointKey), value: (f64, f64), capacity: usize) {
        self.current.insert(pair, value);
        if self.current.len() >= capacity {
            self.previous = std::mem::take(&mut self.current);
        }
    }
}

impl PairCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            generations: Mutex::new(Generations::default()),
        }
    }

    /// The lock; a panic elsewhere while holding it leaves plain data, still usable.
    fn lock(&self) -> MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn len(&self) -> usize {
        let g = self.lock();
        g.current.len() + g.previous.len()
    }
}

/// Why an OSRM request gave nothing usable (logged, then geodesic is used).
#[derive(Debug, thiserror::Error)]
enum OsrmError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("malformed response: {0}")]
    Json(#[from] serde_json::Error),
    #[error("OSRM answered code {code:?}: {message}")]
    Code { code: String, message: String },
    #[error("response has {rows} rows of lengths {lengths:?}; expected {want_rows} × {want_cols}")]
    Shape {
        rows: usize,
        lengths: Vec<usize>,
        want_rows: usize,
        want_cols: usize,
    },
}

/// The parts of an OSRM table response we read.
#[derive(Deserialize)]
struct TableResponse {
    code: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    durations: Option<Vec<Vec<Option<f64>>>>,
    #[serde(default)]
    distances: Option<Vec<Vec<Option<f64>>>>,
}

/// Rows of an OSRM answer: `(durations, distances)`, one row per requested source.
type Rows = (Vec<Vec<Option<f64>>>, Vec<Vec<Option<f64>>>);

/// OSRM's table API with a per-pair cache and geodesic fallback.
///
/// Cache policy: a matrix whose pairs are all cached costs no request. Otherwise the
/// rows (sources) with at least one missing pair are asked for, against all points as
/// destinations, in as few requests as OSRM's table-size limit allows; other rows come
/// from the cache. Answered pairs are cached, including `null` (no route) pairs with
/// their geodesic stand-in, since OSRM answers the same way until its data changes.
/// Failed requests are not cached: rows they covered go geodesic this time and are
/// asked again next time. After the first failed request of a matrix, the remaining
/// rows go geodesic without further requests, so a dead server costs one timeout.
pub struct Osrm {
    base_url: String,
    timeout: Duration,
    client: reqwest::Client,
    fallback: Geodesic,
    max_table_size: usize,
    cache: PairCache,
}

impl std::fmt::Debug for Osrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Osrm")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("fallback", &self.fallback)
            .field("max_table_size", &self.max_table_size)
            .field("cached_pairs", &self.cached_pairs())
            .finish()
    }
}

impl Osrm {
    /// A client for the OSRM server at `base_url` (e.g. `http://127.0.0.1:5000`), each
    /// request bounded by `timeout` (connecting included), falling back to `fallback`.
    /// Fails only if the HTTP client cannot be built (TLS initialisation).
    pub fn new(
        base_url: impl Into<String>,
        timeout: Duration,
        fallback: Geodesic,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            timeout,
            client,
            fallback,
            max_table_size: DEFAULT_MAX_TABLE_SIZE,
            cache: PairCache::new(DEFAULT_CACHE_PAIRS),
        })
    }

    /// Keeps at most about `2 × pairs` ordered pairs in the cache.
    pub fn with_cache_capacity(mut self, pairs: usize) -> Self {
        self.cache = PairCache::new(pairs);
        self
    }

    /// Matches the server's `--max-table-size` (sources × destinations per request at
    /// most its square).
    pub fn with_max_table_size(mut self, size: usize) -> Self {
        self.max_table_size = size.max(1);
        self
    }

    /// Ordered pairs currently cached.
    pub fn cached_pairs(&self) -> usize {
        self.cache.len()
    }

    /// The matrix: cache first, OSRM for rows with missing pairs, geodesic on failure.
    pub async fn compute(&self, points: &[Point]) -> Matrix {
        let n = points.len();
        let mut matrix = Matrix::zeros(n);
        if n < 2 {
            return matrix;
        }
        let keys: Vec<PointKey> = points.iter().map(|&p| key(p)).collect();
        let mut missing_rows = Vec::new();
        {
            let mut cache = self.cache.lock();
            for i in 0..n {
                let mut complete = true;
                for j in (0..n).filter(|&j| j != i) {
                    match cache.get((keys[i], keys[j]), self.cache.capacity) {
                        Some(value) => matrix.set(i, j, value),
                        None => complete = false,
                    }
                }
                if !complete {
                    missing_rows.push(i);
                }
            }
        }
        if missing_rows.is_empty() {
            return matrix;
        }

        let cells = self.max_table_size.saturating_mul(self.max_table_size);
        let rows_per_request = cells / n;
        if rows_per_request == 0 {
            tracing::warn!(
                points = n,
                max_table_size = self.max_table_size,
                "too many points for one OSRM table row; using geodesic travel times"
            );
            self.fill_geodesic(&mut matrix, points, &missing_rows);
            return matrix;
        }
        let chunks: Vec<&[usize]> = missing_rows.chunks(rows_per_request).collect();
        let mut unreachable = 0usize;
        for (c, rows) in chunks.iter().enumerate() {
            let failure = if c >= MAX_REQUESTS_PER_MATRIX {
                Some("too many table requests for one matrix".to_owned())
            } else {
                match self.fetch_rows(points, rows).await {
                    Ok(answer) => {
                        unreachable += self.store_rows(&mut matrix, points, &keys, rows, answer);
                        None
                    }
                    Err(e) => Some(e.to_string()),
                }
            };
            if let Some(reason) = failure {
                let rest: Vec<usize> = chunks[c..].iter().flat_map(|r| r.iter().copied()).collect();
                tracing::warn!(
                    error = %reason,
                    points = n,
                    rows = rest.len(),
                    "OSRM table unavailable; using geodesic travel times for those rows"
                );
                self.fill_geodesic(&mut matrix, points, &rest);
                break;
            }
        }
        if unreachable > 0 {
            tracing::warn!(
                pairs = unreachable,
                "OSRM found no route between some points; using geodesic travel times for them"
            );
        }
        matrix
    }

    /// Geodesic values for every off-diagonal pair of `rows`.
    fn fill_geodesic(&self, matrix: &mut Matrix, points: &[Point], rows: &[usize]) {
        for &i in rows {
            for j in (0..points.len()).filter(|&j| j != i) {
                matrix.set(i, j, self.fallback.pair(points[i], points[j]));
            }
        }
    }

    /// Writes and caches an answer; returns how many pairs had no route.
    fn store_rows(
        &self,
        matrix: &mut Matrix,
        points: &[Point],
        keys: &[PointKey],
        rows: &[usize],
        (durations, distances): Rows,
    ) -> usize {
        let mut unreachable = 0;
        let mut cache = self.cache.lock();
        for (r, &i) in rows.iter().enumerate() {
            for j in (0..points.len()).filter(|&j| j != i) {
                let value = match (durations[r][j], distances[r][j]) {
                    (Some(t), Some(d))
                        if t.is_finite() && d.is_finite() && t >= 0.0 && d >= 0.0 =>
                    {
                        (t, d)
                    }
                    _ => {
                        unreachable += 1;
                        self.fallback.pair(points[i], points[j])
                    }
                };
                matrix.set(i, j, value);
                cache.insert((keys[i], keys[j]), value, self.cache.capacity);
            }
        }
        unreachable
    }

    /// One table request: `rows` as sources, every point as a destination.
    async fn fetch_rows(&self, points: &[Point], rows: &[usize]) -> Result<Rows, OsrmError> {
        let coordinates: Vec<String> = points
            .iter()
            .map(|p| format!("{:.6},{:.6}", p.lon, p.lat))
            .collect();
        let mut url = format!(
            "{}/table/v1/driving/{}?annotations=duration,distance",
            self.base_url,
            coordinates.join(";")
        );
        if rows.len() < points.len() {
            let sources: Vec<String> = rows.iter().map(usize::to_string).collect();
            url.push_str("&sources=");
            url.push_str(&sources.join(";"));
        }
        let response = self.client.get(&url).send().await?;
        if !response.status().is_success() {
            return Err(OsrmError::Status(response.status().as_u16()));
        }
        let body = response.bytes().await?;
        let table: TableResponse = serde_json::from_slice(&body)?;
        if table.code != "Ok" {
            return Err(OsrmError::Code {
                code: table.code,
                message: table.message.unwrap_or_default(),
            });
        }
        let durations = table.durations.unwrap_or_default();
        let distances = table.distances.unwrap_or_default();
        for grid in [&durations, &distances] {
            if grid.len() != rows.len() || grid.iter().any(|row| row.len() != points.len()) {
                return Err(OsrmError::Shape {
                    rows: grid.len(),
                    lengths: grid.iter().map(Vec::len).collect(),
                    want_rows: rows.len(),
                    want_cols: points.len(),
                });
            }
        }
        Ok((durations, distances))
    }
}

impl TravelTimes for Osrm {
    fn matrix<'a>(&'a self, points: &'a [Point]) -> MatrixFuture<'a> {
        Box::pin(self.compute(points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{web, App, HttpResponse, HttpServer};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    const HA_NOI: Point = Point {
        lat: 21.0285,
        lon: 105.8542,
    };
    const HAI_PHONG: Point = Point {
        lat: 20.8449,
        lon: 106.6881,
    };
    const CAO_LANH: Point = Point {
        lat: 10.4602,
        lon: 105.6329,
    };
    const SA_DEC: Point = Point {
        lat: 10.2905,
        lon: 105.7561,
    };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
    }

    fn assert_matrix_close(got: &Matrix, want: &Matrix) {
        let n = want.durations_s.len();
        assert_eq!(got.durations_s.len(), n);
        for i in 0..n {
            for j in 0..n {
                assert!(
                    close(got.durations_s[i][j], want.durations_s[i][j])
                        && close(got.distances_m[i][j], want.distances_m[i][j]),
                    "({i},{j}): got {:?} want {:?}",
                    (got.durations_s[i][j], got.distances_m[i][j]),
                    (want.durations_s[i][j], want.distances_m[i][j])
                );
            }
        }
    }

    // ---- geodesic -------------------------------------------------------------------

    #[test]
    fn geodesic_ha_noi_to_hai_phong() {
        let g = Geodesic::default();
        let straight = Haversine.distance(
            ::geo::Point::new(HA_NOI.lon, HA_NOI.lat),
            ::geo::Point::new(HAI_PHONG.lon, HAI_PHONG.lat),
        );
        // About 89 km as the crow flies (the road is longer, hence the circuity).
        assert!((88_000.0..90_000.0).contains(&straight), "{straight}");
        let (duration_s, distance_m) = g.pair(HA_NOI, HAI_PHONG);
        assert!(close(distance_m, straight * 1.3));
        assert!(close(duration_s, straight * 1.3 / (25_000.0 / 3600.0)));
        // ≈ 115.7 km at 25 km/h ≈ 4 h 38 min.
        assert!((16_500.0..16_800.0).contains(&duration_s), "{duration_s}");
    }

    #[test]
    fn geodesic_matrix_shape_and_symmetry() {
        let g = Geodesic::new(1.5, 30.0).unwrap();
        let points = [HA_NOI, HAI_PHONG, CAO_LANH];
        let m = g.compute(&points);
        assert_eq!(m.durations_s.len(), 3);
        for i in 0..3 {
            assert_eq!((m.durations_s[i][i], m.distances_m[i][i]), (0.0, 0.0));
            for j in 0..3 {
                assert_eq!(m.distances_m[i][j], m.distances_m[j][i]);
                if i != j {
                    assert!(m.durations_s[i][j] > 0.0);
                    assert!(close(
                        m.durations_s[i][j],
                        m.distances_m[i][j] / (30.0 / 3.6)
                    ));
                }
            }
        }
        assert_eq!(g.compute(&[]), Matrix::default());
        assert_eq!(g.compute(&[HA_NOI]), Matrix::zeros(1));
    }

    #[test]
    fn geodesic_refuses_nonsense_parameters() {
        assert!(Geodesic::new(1.0, 25.0).is_some());
        assert!(Geodesic::new(0.9, 25.0).is_none());
        assert!(Geodesic::new(1.3, 0.0).is_none());
        assert!(Geodesic::new(1.3, -5.0).is_none());
        assert!(Geodesic::new(f64::NAN, 25.0).is_none());
        assert!(Geodesic::new(1.3, f64::INFINITY).is_none());
    }

    #[actix_web::test]
    async fn geodesic_works_as_a_trait_object() {
        let provider: Arc<dyn TravelTimes> = Arc::new(Geodesic::default());
        let points = [HA_NOI, HAI_PHONG];
        let m = provider.matrix(&points).await;
        assert_eq!(m, Geodesic::default().compute(&points));
    }

    #[test]
    fn cache_stays_bounded_and_keeps_recent_pairs() {
        let cache = PairCache::new(3);
        let k = |i: i64| ((i, 0), (0, i));
        for i in 0..10 {
            cache.lock().insert(k(i), (i as f64, 0.0), cache.capacity);
            assert!(cache.len() <= 6, "{}", cache.len());
        }
        let mut g = cache.lock();
        assert_eq!(g.get(k(9), 3), Some((9.0, 0.0)));
        assert_eq!(g.get(k(0), 3), None);
    }

    // ---- OSRM against a real local HTTP server ---------------------------------------

    #[derive(Clone, Copy, PartialEq)]
    enum Behaviour {
        Answer,
        Fail500,
        Stall,
        NullFirstPair,
        NotOk,
        Garbage,
    }

    struct Server {
        behaviour: Behaviour,
        hits: Arc<AtomicUsize>,
    }

    /// What the fake router says about a pair: clearly not geodesic.
    fn fake(from: Point, to: Point) -> (f64, f64) {
        let d = 1000.0 + 100_000.0 * ((from.lat - to.lat).abs() + (from.lon - to.lon).abs());
        (d / 7.0, d)
    }

    fn parse_points(coordinates: &str) -> Vec<Point> {
        coordinates
            .split(';')
            .map(|pair| {
                let (lon, lat) = pair.split_once(',').unwrap();
                Point {
                    lat: lat.parse().unwrap(),
                    lon: lon.parse().unwrap(),
                }
            })
            .collect()
    }

    async fn table(
        state: web::Data<Server>,
        path: web::Path<String>,
        query: web::Query<HashMap<String, String>>,
    ) -> HttpResponse {
        state.hits.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            query.get("annotations").map(String::as_str),
            Some("duration,distance")
        );
        let points = parse_points(&path);
        let sources: Vec<usize> = match query.get("sources") {
            Some(s) => s.split(';').map(|i| i.parse().unwrap()).collect(),
            None => (0..points.len()).collect(),
        };
        let mut durations = Vec::new();
        let mut distances = Vec::new();
        for &i in &sources {
            let (mut drow, mut mrow) = (Vec::new(), Vec::new());
            for (j, &to) in points.iter().enumerate() {
                let (t, d) = if i == j {
                    (0.0, 0.0)
                } else {
                    fake(points[i], to)
                };
                if state.behaviour == Behaviour::NullFirstPair && i == 0 && j == 1 {
                    drow.push(serde_json::Value::Null);
                    mrow.push(serde_json::Value::Null);
                } else {
                    drow.push(t.into());
                    mrow.push(d.into());
                }
            }
            durations.push(drow);
            distances.push(mrow);
        }
        match state.behaviour {
            Behaviour::Fail500 => HttpResponse::InternalServerError().body("boom"),
            Behaviour::Stall => {
                actix_web::rt::time::sleep(Duration::from_secs(5)).await;
                HttpResponse::Ok().json(serde_json::json!({"code": "Ok"}))
            }
            Behaviour::NotOk => HttpResponse::Ok()
                .json(serde_json::json!({"code": "NoTable", "message": "no table for you"})),
            Behaviour::Garbage => HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"code\": \"Ok\", \"durations\": [[0, "),
            Behaviour::Answer | Behaviour::NullFirstPair => HttpResponse::Ok().json(
                serde_json::json!({"code": "Ok", "durations": durations, "distances": distances}),
            ),
        }
    }

    /// Starts a router on a free port; returns its base URL and its hit counter.
    fn spawn_router(behaviour: Behaviour) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let state = web::Data::new(Server {
            behaviour,
            hits: hits.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/table/v1/driving/{coordinates}", web::get().to(table))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let address = server.addrs()[0];
        actix_web::rt::spawn(server.run());
        (format!("http://{address}/"), hits)
    }

    fn osrm(base: &str, timeout_ms: u64) -> Osrm {
        Osrm::new(base, Duration::from_millis(timeout_ms), Geodesic::default()).unwrap()
    }

    fn expected_fake(points: &[Point]) -> Matrix {
        let mut m = Matrix::zeros(points.len());
        for (i, &a) in points.iter().enumerate() {
            for (j, &b) in points.iter().enumerate() {
                if i != j {
                    m.set(i, j, fake(a, b));
                }
            }
        }
        m
    }

    #[actix_web::test]
    async fn osrm_answers_are_used_and_cached() {
        let (base, hits) = spawn_router(Behaviour::Answer);
        let provider = osrm(&base, 2000);
        let points = [CAO_LANH, SA_DEC, HA_NOI];
        let m = provider.matrix(&points).await;
        assert_matrix_close(&m, &expected_fake(&points));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(provider.cached_pairs(), 6);

        // Same points again, in another order: all from the cache.
        let again = [HA_NOI, CAO_LANH, SA_DEC];
        let m = provider.matrix(&again).await;
        assert_matrix_close(&m, &expected_fake(&again));
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        // A subset is cached too.
        let _ = provider.matrix(&[SA_DEC, HA_NOI]).await;
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        // A new point: only the rows with missing pairs are asked for (here all four,
        // since every old row lacks its pair to the new point), in one request.
        let more = [CAO_LANH, SA_DEC, HA_NOI, HAI_PHONG];
        let m = provider.matrix(&more).await;
        assert_matrix_close(&m, &expected_fake(&more));
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(provider.cached_pairs(), 12);
    }

    #[actix_web::test]
    async fn osrm_requests_respect_the_table_size() {
        let (base, hits) = spawn_router(Behaviour::Answer);
        // 2 × 2 = 4 cells per request: with 3 points, one source row per request.
        let provider = osrm(&base, 2000).with_max_table_size(2);
        let points = [CAO_LANH, SA_DEC, HA_NOI];
        let m = provider.matrix(&points).await;
        assert_matrix_close(&m, &expected_fake(&points));
        assert_eq!(hits.load(Ordering::SeqCst), 3);
        let _ = provider.matrix(&points).await;
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[actix_web::test]
    async fn osrm_server_error_falls_back_to_geodesic() {
        let (base, hits) = spawn_router(Behaviour::Fail500);
        let provider = osrm(&base, 2000);
        let points = [CAO_LANH, SA_DEC, HA_NOI];
        let m = provider.matrix(&points).await;
        assert_matrix_close(&m, &Geodesic::default().compute(&points));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // Failures are not cached: the next matrix asks again.
        let _ = provider.matrix(&points).await;
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(provider.cached_pairs(), 0);
    }

    #[actix_web::test]
    async fn osrm_stall_falls_back_within_the_timeout() {
        let (base, hits) = spawn_router(Behaviour::Stall);
        // Several requests' worth of rows, yet one timeout in total.
        let provider = osrm(&base, 300).with_max_table_size(2);
        let points = [CAO_LANH, SA_DEC, HA_NOI];
        let started = Instant::now();
        let m = provider.matrix(&points).await;
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert_matrix_close(&m, &Geodesic::default().compute(&points));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[actix_web::test]
    async fn osrm_null_pairs_take_geodesic_values() {
        let (base, _hits) = spawn_router(Behaviour::NullFirstPair);
        let provider = osrm(&base, 2000);
        let points = [CAO_LANH, SA_DEC, HA_NOI];
        let m = provider.matrix(&points).await;
        let mut want = expected_fake(&points);
        want.set(0, 1, Geodesic::default().pair(CAO_LANH, SA_DEC));
        assert_matrix_close(&m, &want);
    }

    #[actix_web::test]
    async fn osrm_refusals_and_garbage_fall_back() {
        for behaviour in [Behaviour::NotOk, Behaviour::Garbage] {
            let (base, hits) = spawn_router(behaviour);
            let provider = osrm(&base, 2000);
            let points = [CAO_LANH, SA_DEC];
            let m = provider.matrix(&points).await;
            assert_matrix_close(&m, &Geodesic::default().compute(&points));
            assert_eq!(hits.load(Ordering::SeqCst), 1);
        }
    }

    #[actix_web::test]
    async fn osrm_unreachable_server_falls_back() {
        // Bind a port, then free it: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let provider = osrm(&format!("http://127.0.0.1:{port}"), 500);
        let points = [HA_NOI, HAI_PHONG];
        let m = provider.matrix(&points).await;
        assert_matrix_close(&m, &Geodesic::default().compute(&points));
    }

    #[actix_web::test]
    async fn osrm_trivial_inputs_need_no_request() {
        let (base, hits) = spawn_router(Behaviour::Answer);
        let provider = osrm(&base, 2000);
        assert_eq!(provider.matrix(&[]).await, Matrix::default());
        assert_eq!(provider.matrix(&[HA_NOI]).await, Matrix::zeros(1));
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }
}
