//! Zones: the areas that send a pickup point to a post office and its couriers.
//!
//! Two halves, both plain Rust:
//! - reading a zone's area from GeoJSON and refusing anything that is not a clean,
//!   valid (multi)polygon inside Vietnam ([`parse_area`], [`parse_feature_collection`],
//!   [`validate_area`]);
//! - finding which zone a point lies in, or the nearest one when it lies in none
//!   ([`ZoneIndex`]), fast enough for thousands of zones.
//!
//! Coordinates follow GeoJSON: `x` is longitude, `y` is latitude (WGS84 degrees).
//!
//! Validity follows the OGC Simple Features rules that `geo`'s `Validation` checks:
//! rings simple (no self-crossing, no self-touching), rings of one polygon meeting
//! only at isolated points, holes inside their shell and not nested, parts of a
//! multipolygon neither overlapping nor sharing an edge. We do not call
//! `geo::Validation` itself: its self-intersection test compares every pair of segments
//! (about 5 s for a 16,000-vertex ring in release builds), which would let one large
//! zone stall a request. Segment pairs are found here with an R-tree instead, which also
//! tells where the ring crosses itself. Containment and overlap use `geo`'s `Relate`,
//! as `geo::Validation` does.

use std::collections::HashSet;

use ::geo::coordinate_position::CoordPos;
use ::geo::dimensions::Dimensions;
use ::geo::line_intersection::{line_intersection, LineIntersection};
use ::geo::{
    BoundingRect, ChamberlainDuquetteArea, Coord, Distance, Haversine, Intersects, Line,
    LineString, MultiPolygon, Point, Polygon, PreparedGeometry, Rect, Relate,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::Value;

use crate::domain::geo::{VIETNAM_LAT, VIETNAM_LON};

/// Most vertices (positions, closing ones included) accepted in one zone's area.
pub const MAX_VERTICES: usize = 100_000;

/// Rings smaller than this (square metres) count as having zero area.
pub const MIN_RING_AREA_M2: f64 = 1.0;

/// Work budget for the segment-intersection test: candidate pairs whose bounding boxes
/// overlap. Real boundaries need a few per segment; only contrived shapes exceed it.
const MAX_SEGMENT_PAIR_CHECKS: usize = 20_000_000;

/// Metres per degree of latitude on the mean-radius sphere that `Haversine` uses.
const METRES_PER_DEGREE: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// Why a zone's area was refused. Every variant is a client error (HTTP 422).
///
/// Indices are 0-based: `polygon` counts the parts of a MultiPolygon (0 for a Polygon);
/// `ring` is 0 for the outer ring and `k` for the `k`-th hole; `index` counts the
/// positions of a ring as given. Points are `(lon, lat)`, in GeoJSON order.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ZoneError {
    /// Not a GeoJSON geometry (or Feature): `path` names the missing or malformed member.
    #[error("not valid GeoJSON at `{path}`")]
    NotGeoJson {
        /// Where the problem is, e.g. `type` or `coordinates[0]`.
        path: String,
    },
    /// A GeoJSON object of the wrong type, e.g. a Point where a Polygon is needed.
    #[error("GeoJSON type `{found}` is not accepted; expected {expected}")]
    WrongType {
        /// The GeoJSON type(s) accepted here, e.g. `Polygon/MultiPolygon`.
        expected: &'static str,
        /// The type given.
        found: String,
    },
    /// A position that is not an array of at least two numbers.
    #[error("position at `{path}` must be [longitude, latitude]")]
    InvalidPosition {
        /// Where the position is, e.g. `coordinates[0][3]`.
        path: String,
    },
    /// A coordinate that is NaN or infinite.
    #[error("polygon {polygon}, ring {ring}: coordinate {index} is not a finite number")]
    NonFinite {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// Ring of that part (0 = outer).
        ring: usize,
        /// Position in the ring.
        index: usize,
    },
    /// A vertex outside Vietnam's bounding box (often latitude and longitude swapped).
    #[error("vertex ({lon}, {lat}) lies outside Vietnam")]
    OutsideVietnam {
        /// Longitude of the first such vertex.
        lon: f64,
        /// Latitude of the first such vertex.
        lat: f64,
    },
    /// A ring with fewer than 4 positions.
    #[error("polygon {polygon}, ring {ring} has {positions} positions; a ring needs at least 4")]
    TooFewPositions {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// Ring of that part (0 = outer).
        ring: usize,
        /// Positions given.
        positions: usize,
    },
    /// A ring whose last position differs from its first.
    #[error(
        "polygon {polygon}, ring {ring} is not closed: its last position must repeat its first"
    )]
    NotClosed {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// Ring of that part (0 = outer).
        ring: usize,
    },
    /// No polygon at all (empty `coordinates`, or a polygon without rings).
    #[error("the area has no polygon")]
    Empty,
    /// More vertices than [`MAX_VERTICES`].
    #[error("the area has {count} vertices; at most {max} are accepted")]
    TooManyVertices {
        /// Vertices given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A ring enclosing (practically) no area: repeated or collinear points.
    #[error("polygon {polygon}, ring {ring} has zero area")]
    ZeroArea {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// Ring of that part (0 = outer).
        ring: usize,
    },
    /// A ring that crosses or touches itself (bow-tie, figure eight, spike).
    #[error("polygon {polygon}, ring {ring} intersects itself at ({}, {})", at.0, at.1)]
    SelfIntersecting {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// Ring of that part (0 = outer).
        ring: usize,
        /// A point of the intersection, `(lon, lat)`.
        at: (f64, f64),
    },
    /// Two rings of one polygon cross, or run along each other.
    #[error("polygon {polygon}: two of its rings cross at ({}, {})", at.0, at.1)]
    RingsCross {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// A point of the intersection, `(lon, lat)`.
        at: (f64, f64),
    },
    /// A hole that is not inside its polygon's outer ring.
    #[error("polygon {polygon}: hole {ring} is not inside the outer ring")]
    HoleOutside {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// The hole (1-based, as rings count).
        ring: usize,
    },
    /// Two holes of one polygon overlap (one inside the other).
    #[error("polygon {polygon}: holes {first} and {second} overlap")]
    HolesOverlap {
        /// Part of the MultiPolygon.
        polygon: usize,
        /// One hole (ring number).
        first: usize,
        /// The other hole (ring number).
        second: usize,
    },
    /// Two parts of a MultiPolygon overlap.
    #[error("polygons {first} and {second} overlap")]
    PolygonsOverlap {
        /// One part.
        first: usize,
        /// The other part.
        second: usize,
    },
    /// Two parts of a MultiPolygon share an edge (they should be one polygon).
    #[error("polygons {first} and {second} share an edge")]
    PolygonsShareEdge {
        /// One part.
        first: usize,
        /// The other part.
        second: usize,
    },
    /// The boundary is too convoluted to check within the work budget.
    #[error("the boundary is too complex to validate")]
    TooComplex,
    /// A zone in an import file without a non-empty `properties.name`.
    #[error("the feature has no non-empty `properties.name`")]
    MissingName,
    /// Two zones in one import file with the same name.
    #[error("zone name `{name}` appears more than once")]
    DuplicateName {
        /// The repeated name (trimmed).
        name: String,
    },
}

impl ZoneError {
    /// Stable machine code (snake_case) for the API's problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            ZoneError::NotGeoJson { .. } => "not_geojson",
            ZoneError::WrongType { .. } => "wrong_geometry_type",
            ZoneError::InvalidPosition { .. } => "invalid_position",
            ZoneError::NonFinite { .. } => "non_finite_coordinate",
            ZoneError::OutsideVietnam { .. } => "outside_vietnam",
            ZoneError::TooFewPositions { .. } => "too_few_positions",
            ZoneError::NotClosed { .. } => "ring_not_closed",
            ZoneError::Empty => "empty_geometry",
            ZoneError::TooManyVertices { .. } => "too_many_vertices",
            ZoneError::ZeroArea { .. } => "zero_area",
            ZoneError::SelfIntersecting { .. } => "self_intersecting",
            ZoneError::RingsCross { .. } => "rings_cross",
            ZoneError::HoleOutside { .. } => "hole_outside_shell",
            ZoneError::HolesOverlap { .. } => "holes_overlap",
            ZoneError::PolygonsOverlap { .. } => "polygons_overlap",
            ZoneError::PolygonsShareEdge { .. } => "polygons_share_edge",
            ZoneError::TooComplex => "geometry_too_complex",
            ZoneError::MissingName => "missing_name",
            ZoneError::DuplicateName { .. } => "duplicate_name",
        }
    }

    /// The problem in Vietnamese, for people (polygon numbers are 1-based here).
    pub fn message_vi(&self) -> String {
        fn part(polygon: usize) -> String {
            format!("Đa giác {}", polygon + 1)
        }
        fn ring_name(ring: usize) -> String {
            if ring == 0 {
                "vòng ngoài".to_owned()
            } else {
                format!("lỗ thứ {ring}")
            }
        }
        fn point(at: (f64, f64)) -> String {
            format!("(kinh độ {:.6}, vĩ độ {:.6})", at.0, at.1)
        }
        match self {
            ZoneError::NotGeoJson { path } => {
                format!("Dữ liệu vùng không phải GeoJSON hợp lệ (lỗi tại «{path}»).")
            }
            ZoneError::WrongType { expected, found } => {
                format!("Kiểu hình học «{found}» không được chấp nhận; cần {expected}.")
            }
            ZoneError::InvalidPosition { path } => {
                format!("Tọa độ tại «{path}» phải là một cặp số [kinh độ, vĩ độ].")
            }
            ZoneError::NonFinite {
                polygon,
                ring,
                index,
            } => format!(
                "{}, {}: tọa độ thứ {} không phải là số hữu hạn.",
                part(*polygon),
                ring_name(*ring),
                index + 1
            ),
            ZoneError::OutsideVietnam { lon, lat } => format!(
                "Điểm {} nằm ngoài lãnh thổ Việt Nam. Lưu ý: GeoJSON ghi kinh độ trước, \
                 vĩ độ sau.",
                point((*lon, *lat))
            ),
            ZoneError::TooFewPositions {
                polygon,
                ring,
                positions,
            } => format!(
                "{}, {} chỉ có {positions} điểm; mỗi vòng cần ít nhất 4 điểm (điểm cuối \
                 trùng điểm đầu).",
                part(*polygon),
                ring_name(*ring)
            ),
            ZoneError::NotClosed { polygon, ring } => format!(
                "{}, {} chưa khép kín: điểm cuối phải trùng điểm đầu.",
                part(*polygon),
                ring_name(*ring)
            ),
            ZoneError::Empty => "Vùng không có đa giác nào.".to_owned(),
            ZoneError::TooManyVertices { count, max } => format!(
                "Vùng có {count} đỉnh, vượt quá giới hạn {max} đỉnh; hãy đơn giản hóa \
                 ranh giới."
            ),
            ZoneError::ZeroArea { polygon, ring } => format!(
                "{}, {} có diện tích bằng 0 (các điểm trùng nhau hoặc thẳng hàng).",
                part(*polygon),
                ring_name(*ring)
            ),
            ZoneError::SelfIntersecting { polygon, ring, at } => format!(
                "{}, {} tự cắt hoặc tự chạm tại điểm {}.",
                part(*polygon),
                ring_name(*ring),
                point(*at)
            ),
            ZoneError::RingsCross { polygon, at } => format!(
                "{}: các vòng của đa giác cắt nhau hoặc chạy dọc theo nhau tại điểm {}.",
                part(*polygon),
                point(*at)
            ),
            ZoneError::HoleOutside { polygon, ring } => format!(
                "{}: {} không nằm trọn trong vòng ngoài.",
                part(*polygon),
                ring_name(*ring)
            ),
            ZoneError::HolesOverlap {
                polygon,
                first,
                second,
            } => format!(
                "{}: {} và {} chồng lên nhau.",
                part(*polygon),
                ring_name(*first),
                ring_name(*second)
            ),
            ZoneError::PolygonsOverlap { first, second } => {
                format!("{} và đa giác {} chồng lên nhau.", part(*first), second + 1)
            }
            ZoneError::PolygonsShareEdge { first, second } => format!(
                "{} và đa giác {} có chung một đoạn cạnh; hãy gộp chúng thành một đa giác.",
                part(*first),
                second + 1
            ),
            ZoneError::TooComplex => {
                "Ranh giới vùng quá phức tạp để kiểm tra; hãy đơn giản hóa ranh giới.".to_owned()
            }
            ZoneError::MissingName => {
                "Thiếu tên vùng (thuộc tính «name» trong «properties»).".to_owned()
            }
            ZoneError::DuplicateName { name } => {
                format!("Tên vùng «{name}» xuất hiện nhiều lần trong tệp.")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// Rings of one polygon as given: positions `(lon, lat)`, closing position included.
type RawPolygon = Vec<Vec<Coord<f64>>>;

/// Reads a zone's area: a GeoJSON Polygon or MultiPolygon geometry, or a Feature whose
/// geometry is one. Checks, in order: GeoJSON shape, type, vertex count, numbers,
/// Vietnam's bounding box, ring length and closure, then [`validate_area`]. Consecutive
/// repeated positions are dropped; an elevation (third number) is ignored.
pub fn parse_area(geojson: &Value) -> Result<MultiPolygon<f64>, ZoneError> {
    let (geometry, prefix) = geometry_of(geojson)?;
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| not_geojson(prefix, "type"))?;
    let depth = match kind {
        "Polygon" => 2,
        "MultiPolygon" => 3,
        other => {
            return Err(ZoneError::WrongType {
                expected: "Polygon/MultiPolygon",
                found: other.to_owned(),
            })
        }
    };
    let coordinates = geometry
        .get("coordinates")
        .filter(|c| c.is_array())
        .ok_or_else(|| not_geojson(prefix, "coordinates"))?;
    let count = count_positions(coordinates, depth);
    if count > MAX_VERTICES {
        return Err(ZoneError::TooManyVertices {
            count,
            max: MAX_VERTICES,
        });
    }
    let path = format!("{prefix}coordinates");
    let raw: Vec<RawPolygon> = if depth == 2 {
        vec![read_polygon(coordinates, &path)?]
    } else {
        array_items(coordinates, &path)?
            .iter()
            .enumerate()
            .map(|(p, polygon)| read_polygon(polygon, &format!("{path}[{p}]")))
            .collect::<Result<_, _>>()?
    };
    build_area(raw)
}

/// Reads a `buuta import zones` file: a FeatureCollection whose features each carry a
/// Polygon or MultiPolygon and a non-empty `properties.name` (trimmed; unique in the
/// file). Returns every zone, or every problem found with its feature's index (a
/// problem with the collection itself is reported at index 0). An empty collection
/// yields no zones.
#[allow(clippy::type_complexity)]
pub fn parse_feature_collection(
    geojson: &Value,
) -> Result<Vec<(String, MultiPolygon<f64>)>, Vec<(usize, ZoneError)>> {
    let kind = geojson.get("type").and_then(Value::as_str);
    match kind {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(vec![(
                0,
                ZoneError::WrongType {
                    expected: "FeatureCollection",
                    found: other.to_owned(),
                },
            )])
        }
        None => return Err(vec![(0, not_geojson("", "type"))]),
    }
    let Some(features) = geojson.get("features").and_then(Value::as_array) else {
        return Err(vec![(0, not_geojson("", "features"))]);
    };
    let mut zones = Vec::with_capacity(features.len());
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, feature) in features.iter().enumerate() {
        match feature.get("type").and_then(Value::as_str) {
            Some("Feature") => {}
            Some(other) => {
                errors.push((
                    i,
                    ZoneError::WrongType {
                        expected: "Feature",
                        found: other.to_owned(),
                    },
                ));
                continue;
            }
            None => {
                errors.push((i, not_geojson(&format!("features[{i}]."), "type")));
                continue;
            }
        }
        let name = feature
            .get("properties")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let name = match name {
            None => {
                errors.push((i, ZoneError::MissingName));
                None
            }
            Some(n) if !seen.insert(n.to_owned()) => {
                errors.push((i, ZoneError::DuplicateName { name: n.to_owned() }));
                None
            }
            Some(n) => Some(n.to_owned()),
        };
        match parse_area(feature) {
            Ok(area) => {
                if let Some(name) = name {
                    zones.push((name, area));
                }
            }
            Err(e) => errors.push((i, e)),
        }
    }
    if errors.is_empty() {
        Ok(zones)
    } else {
        Err(errors)
    }
}

/// The geometry object, unwrapping a Feature; with the path prefix for error messages.
fn geometry_of(geojson: &Value) -> Result<(&Value, &'static str), ZoneError> {
    let Some(object) = geojson.as_object() else {
        return Err(ZoneError::NotGeoJson {
            path: "$".to_owned(),
        });
    };
    match object.get("type").and_then(Value::as_str) {
        Some("Feature") => match object.get("geometry") {
            Some(g) if g.is_object() => Ok((g, "geometry.")),
            Some(Value::Null) => Err(ZoneError::WrongType {
                expected: "Polygon/MultiPolygon",
                found: "null".to_owned(),
            }),
            _ => Err(not_geojson("", "geometry")),
        },
        Some(_) => Ok((geojson, "")),
        None => Err(not_geojson("", "type")),
    }
}

fn not_geojson(prefix: &str, member: &str) -> ZoneError {
    ZoneError::NotGeoJson {
        path: format!("{prefix}{member}"),
    }
}

fn array_items<'v>(value: &'v Value, path: &str) -> Result<&'v Vec<Value>, ZoneError> {
    value.as_array().ok_or_else(|| ZoneError::NotGeoJson {
        path: path.to_owned(),
    })
}

/// Positions under `value`, where positions sit `depth` arrays down; tolerant of junk.
fn count_positions(value: &Value, depth: usize) -> usize {
    match value {
        Value::Array(items) if depth == 0 => usize::from(!items.is_empty()),
        Value::Array(items) => items.iter().map(|v| count_positions(v, depth - 1)).sum(),
        _ => 0,
    }
}

fn read_polygon(value: &Value, path: &str) -> Result<RawPolygon, ZoneError> {
    array_items(value, path)?
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            let ring_path = format!("{path}[{r}]");
            array_items(ring, &ring_path)?
                .iter()
                .enumerate()
                .map(|(i, position)| read_position(position, &ring_path, i))
                .collect()
        })
        .collect()
}

fn read_position(value: &Value, ring_path: &str, index: usize) -> Result<Coord<f64>, ZoneError> {
    let bad = || ZoneError::InvalidPosition {
        path: format!("{ring_path}[{index}]"),
    };
    let numbers = value.as_array().ok_or_else(bad)?;
    if numbers.len() < 2 || !numbers.iter().all(Value::is_number) {
        return Err(bad());
    }
    let x = numbers[0].as_f64().ok_or_else(bad)?;
    let y = numbers[1].as_f64().ok_or_else(bad)?;
    Ok(Coord { x, y })
}

fn inside_vietnam(c: Coord<f64>) -> bool {
    (VIETNAM_LON.0..=VIETNAM_LON.1).contains(&c.x) && (VIETNAM_LAT.0..=VIETNAM_LAT.1).contains(&c.y)
}

/// Checks rings as given (numbers, box, length, closure), then builds and validates.
fn build_area(raw: Vec<RawPolygon>) -> Result<MultiPolygon<f64>, ZoneError> {
    if raw.is_empty() || raw.iter().any(|rings| rings.is_empty()) {
        return Err(ZoneError::Empty);
    }
    for (polygon, rings) in raw.iter().enumerate() {
        for (ring, coords) in rings.iter().enumerate() {
            for (index, c) in coords.iter().enumerate() {
                if !c.x.is_finite() || !c.y.is_finite() {
                    return Err(ZoneError::NonFinite {
                        polygon,
                        ring,
                        index,
                    });
                }
            }
        }
    }
    if let Some(c) = raw
        .iter()
        .flatten()
        .flatten()
        .find(|c| !inside_vietnam(**c))
    {
        return Err(ZoneError::OutsideVietnam { lon: c.x, lat: c.y });
    }
    for (polygon, rings) in raw.iter().enumerate() {
        for (ring, coords) in rings.iter().enumerate() {
            if coords.len() < 4 {
                return Err(ZoneError::TooFewPositions {
                    polygon,
                    ring,
                    positions: coords.len(),
                });
            }
            if coords.first() != coords.last() {
                return Err(ZoneError::NotClosed { polygon, ring });
            }
        }
    }
    let polygons = raw
        .into_iter()
        .map(|rings| {
            let mut rings = rings.into_iter().map(|mut coords| {
                coords.dedup();
                LineString::new(coords)
            });
            let exterior = rings.next().unwrap_or_else(|| LineString::new(vec![]));
            Polygon::new(exterior, rings.collect())
        })
        .collect();
    let area = MultiPolygon::new(polygons);
    validate_area(&area)?;
    Ok(area)
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// Checks an area already in `geo` form (e.g. built in code or read back from storage):
/// not empty, at most [`MAX_VERTICES`], finite, inside Vietnam's box, no ring of zero
/// area, rings simple, rings meeting only at points, holes inside their shell and not
/// nested, parts neither overlapping nor sharing an edge. `geo` closes rings itself, so
/// closure is checked by [`parse_area`] on the raw input.
pub fn validate_area(area: &MultiPolygon<f64>) -> Result<(), ZoneError> {
    if area.0.is_empty() || area.0.iter().any(|p| p.exterior().0.is_empty()) {
        return Err(ZoneError::Empty);
    }
    let count: usize = area.0.iter().flat_map(rings_of).map(|r| r.0.len()).sum();
    if count > MAX_VERTICES {
        return Err(ZoneError::TooManyVertices {
            count,
            max: MAX_VERTICES,
        });
    }
    for (polygon, p) in area.0.iter().enumerate() {
        for (ring, r) in rings_of(p).enumerate() {
            if let Some(index) =
                r.0.iter()
                    .position(|c| !c.x.is_finite() || !c.y.is_finite())
            {
                return Err(ZoneError::NonFinite {
                    polygon,
                    ring,
                    index,
                });
            }
            if let Some(c) = r.0.iter().find(|c| !inside_vietnam(**c)) {
                return Err(ZoneError::OutsideVietnam { lon: c.x, lat: c.y });
            }
            if is_degenerate(r) {
                return Err(ZoneError::ZeroArea { polygon, ring });
            }
        }
    }
    let mut budget = MAX_SEGMENT_PAIR_CHECKS;
    for (polygon, p) in area.0.iter().enumerate() {
        check_segments(polygon, p, &mut budget)?;
        // Only now, with simple rings, does the shoelace area mean anything (a
        // symmetric bow-tie has a signed area of zero).
        for (ring, r) in rings_of(p).enumerate() {
            if ring_area_m2(r) < MIN_RING_AREA_M2 {
                return Err(ZoneError::ZeroArea { polygon, ring });
            }
        }
        check_holes(polygon, p)?;
    }
    check_parts(area)
}

/// Fewer than 3 distinct points (4 with the closing one), or all of them within a
/// millimetre of one straight line: the ring encloses nothing, whatever its shape.
fn is_degenerate(ring: &LineString<f64>) -> bool {
    if ring.0.len() < 4 {
        return true;
    }
    let origin = ring.0[0];
    let k = origin.y.to_radians().cos();
    let local = |c: &Coord<f64>| {
        (
            (c.x - origin.x) * k * METRES_PER_DEGREE,
            (c.y - origin.y) * METRES_PER_DEGREE,
        )
    };
    let Some((fx, fy)) = ring
        .0
        .iter()
        .map(local)
        .max_by(|a, b| (a.0.hypot(a.1)).total_cmp(&b.0.hypot(b.1)))
    else {
        return true;
    };
    let length = fx.hypot(fy);
    if length < 1e-3 {
        return true;
    }
    ring.0
        .iter()
        .map(local)
        .all(|(x, y)| (x * fy - y * fx).abs() / length < 1e-3)
}

fn rings_of(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

/// Approximate area of a closed ring in square metres (shoelace on a local
/// equirectangular projection; plenty for a zero-area test).
fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let Some(origin) = ring.0.first().copied() else {
        return 0.0;
    };
    let twice: f64 = ring
        .lines()
        .map(|l| {
            let (ax, ay) = (l.start.x - origin.x, l.start.y - origin.y);
            let (bx, by) = (l.end.x - origin.x, l.end.y - origin.y);
            ax * by - bx * ay
        })
        .sum();
    let cos_lat = origin.y.to_radians().cos();
    (twice / 2.0).abs() * METRES_PER_DEGREE * METRES_PER_DEGREE * cos_lat
}

fn rect_of(a: Coord<f64>, b: Coord<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([a.x, a.y], [b.x, b.y])
}

fn xy(c: Coord<f64>) -> (f64, f64) {
    (c.x, c.y)
}

/// One boundary segment: which ring, its position in the ring, and the ring's length.
struct Segment {
    line: Line<f64>,
    ring: usize,
    index: usize,
    ring_segments: usize,
}

/// Every pair of segments of one polygon whose boxes overlap, tested exactly: a ring
/// may meet itself only where consecutive segments share their vertex; two rings may
/// meet only at isolated points, never crossing and never along a line.
fn check_segments(polygon: usize, p: &Polygon<f64>, budget: &mut usize) -> Result<(), ZoneError> {
    let mut segments = Vec::new();
    for (ring, r) in rings_of(p).enumerate() {
        let ring_segments = r.0.len().saturating_sub(1);
        segments.extend(r.lines().enumerate().map(|(index, line)| Segment {
            line,
            ring,
            index,
            ring_segments,
        }));
    }
    let tree = RTree::bulk_load(
        segments
            .iter()
            .enumerate()
            .map(|(i, s)| GeomWithData::new(Rectangle::from(rect_of(s.line.start, s.line.end)), i))
            .collect(),
    );
    for (i, a) in segments.iter().enumerate() {
        let envelope = rect_of(a.line.start, a.line.end);
        for candidate in tree.locate_in_envelope_intersecting(&envelope) {
            let j = candidate.data;
            if j <= i {
                continue;
            }
            *budget = budget.checked_sub(1).ok_or(ZoneError::TooComplex)?;
            let b = &segments[j];
            let Some(meet) = line_intersection(a.line, b.line) else {
                continue;
            };
            if a.ring == b.ring {
                // Segments are stored in ring order, so b.index > a.index here.
                let adjacent =
                    b.index == a.index + 1 || (a.index == 0 && b.index + 1 == a.ring_segments);
                let at = match meet {
                    LineIntersection::SinglePoint { .. } if adjacent => continue,
                    LineIntersection::SinglePoint { intersection, .. } => intersection,
                    LineIntersection::Collinear { intersection } => intersection.start,
                };
                return Err(ZoneError::SelfIntersecting {
                    polygon,
                    ring: a.ring,
                    at: xy(at),
                });
            }
            let at = match meet {
                LineIntersection::SinglePoint {
                    is_proper: false, ..
                } => continue,
                LineIntersection::SinglePoint { intersection, .. } => intersection,
                LineIntersection::Collinear { intersection } => intersection.start,
            };
            return Err(ZoneError::RingsCross {
                polygon,
                at: xy(at),
            });
        }
    }
    Ok(())
}

/// Pairs `(i, j)`, `i < j`, of boxes that intersect, in ascending order.
fn overlapping_pairs(rects: &[Rect<f64>]) -> Vec<(usize, usize)> {
    let aabb = |r: &Rect<f64>| rect_of(r.min(), r.max());
    let tree = RTree::bulk_load(
        rects
            .iter()
            .enumerate()
            .map(|(i, r)| GeomWithData::new(Rectangle::from(aabb(r)), i))
            .collect(),
    );
    let mut pairs: Vec<(usize, usize)> = rects
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            tree.locate_in_envelope_intersecting(&aabb(r))
                .map(|c| c.data)
                .filter(move |&j| j > i)
                .map(move |j| (i, j))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

/// Holes inside the shell and not overlapping one another (as `geo::Validation` does).
fn check_holes(polygon: usize, p: &Polygon<f64>) -> Result<(), ZoneError> {
    if p.interiors().is_empty() {
        return Ok(());
    }
    let shell = Polygon::new(p.exterior().clone(), vec![]);
    let prepared_shell = PreparedGeometry::from(&shell);
    let holes: Vec<Polygon<f64>> = p
        .interiors()
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    for (k, hole) in holes.iter().enumerate() {
        if !prepared_shell.relate(hole).is_contains() {
            return Err(ZoneError::HoleOutside {
                polygon,
                ring: k + 1,
            });
        }
    }
    let rects: Vec<Rect<f64>> = holes
        .iter()
        .filter_map(BoundingRect::bounding_rect)
        .collect();
    if rects.len() != holes.len() {
        return Err(ZoneError::Empty);
    }
    for (a, b) in overlapping_pairs(&rects) {
        let matrix = holes[a].relate(&holes[b]);
        if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
            return Err(ZoneError::HolesOverlap {
                polygon,
                first: a + 1,
                second: b + 1,
            });
        }
    }
    Ok(())
}

/// Parts of a MultiPolygon neither overlap nor share an edge (touching at points is fine).
fn check_parts(area: &MultiPolygon<f64>) -> Result<(), ZoneError> {
    if area.0.len() < 2 {
        return Ok(());
    }
    let rects: Vec<Rect<f64>> = area
        .0
        .iter()
        .filter_map(BoundingRect::bounding_rect)
        .collect();
    if rects.len() != area.0.len() {
        return Err(ZoneError::Empty);
    }
    for (first, second) in overlapping_pairs(&rects) {
        let matrix = area.0[first].relate(&area.0[second]);
        if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
            return Err(ZoneError::PolygonsOverlap { first, second });
        }
        if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Err(ZoneError::PolygonsShareEdge { first, second });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point location
// ---------------------------------------------------------------------------------------

/// Longitudes are multiplied by this in the R-tree so that box distances are roughly
/// isotropic in metres (cosine of 16°N, the middle of Vietnam).
const TREE_LON_SCALE: f64 = 0.961_261_695_938_319;

/// Relative difference under which two zone areas count as equal.
const AREA_TIE_TOLERANCE: f64 = 1e-9;

/// Difference (metres) under which two distances count as equal.
const DISTANCE_TIE_M: f64 = 1e-6;

/// Where a point falls among the zones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneMatch {
    /// The zone containing the point, or the nearest one.
    pub zone_id: i64,
    /// True when the point lies in the zone (boundary included); false means nearest,
    /// which the caller flags.
    pub inside: bool,
    /// Metres from the point to the zone (0 when inside).
    pub distance_m: f64,
}

/// One polygon of one zone.
struct Part {
    zone: usize,
    polygon: Polygon<f64>,
}

/// A zone's id and its area (m², spherical), used to prefer the smaller of overlapping
/// zones.
struct ZoneEntry {
    id: i64,
    area_m2: f64,
}

/// All zones of a deployment (or province), ready for point location: an R-tree of the
/// bounding boxes of every polygon, then exact tests on the few candidates.
///
/// Points on a zone's boundary count as inside it. Built from already validated areas;
/// empty or non-finite polygons are skipped. Expects points inside Vietnam (the
/// distance pruning assumes no antimeridian or polar crossing).
pub struct ZoneIndex {
    zones: Vec<ZoneEntry>,
    parts: Vec<Part>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    max_abs_lat: f64,
}

impl std::fmt::Debug for ZoneIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneIndex")
            .field("zones", &self.zones.len())
            .field("polygons", &self.parts.len())
            .finish()
    }
}

impl ZoneIndex {
    /// Indexes zones given as `(zone id, area)`.
    pub fn new(zones: Vec<(i64, MultiPolygon<f64>)>) -> Self {
        let mut entries = Vec::with_capacity(zones.len());
        let mut parts = Vec::new();
        let mut boxes = Vec::new();
        let mut max_abs_lat: f64 = 0.0;
        for (id, area) in zones {
            let zone = entries.len();
            entries.push(ZoneEntry {
                id,
                area_m2: area.chamberlain_duquette_unsigned_area(),
            });
            for polygon in area.0 {
                let Some(rect) = polygon.bounding_rect() else {
                    continue;
                };
                let (lo, hi) = (rect.min(), rect.max());
                if ![lo.x, lo.y, hi.x, hi.y].iter().all(|v| v.is_finite()) {
                    continue;
                }
                max_abs_lat = max_abs_lat.max(lo.y.abs()).max(hi.y.abs());
                let envelope = AABB::from_corners(
                    [lo.x * TREE_LON_SCALE, lo.y],
                    [hi.x * TREE_LON_SCALE, hi.y],
                );
                boxes.push(GeomWithData::new(Rectangle::from(envelope), parts.len()));
                parts.push(Part { zone, polygon });
            }
        }
        Self {
            zones: entries,
            parts,
            tree: RTree::bulk_load(boxes),
            max_abs_lat,
        }
    }

    /// Number of zones indexed.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// True when no zone is indexed.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zone containing the point (boundary included). Where zones overlap, the one
    /// with the smallest area wins, then the lowest id.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<i64> {
        if !lat.is_finite() || !lon.is_finite() {
            return None;
        }
        let c = Coord { x: lon, y: lat };
        let containing: Vec<&ZoneEntry> = self
            .tree
            .locate_all_at_point(&[lon * TREE_LON_SCALE, lat])
            .map(|candidate| &self.parts[candidate.data])
            .filter(|part| part.polygon.intersects(&c))
            .map(|part| &self.zones[part.zone])
            .collect();
        // Areas equal up to rounding noise (adjacent equal squares, say) count as equal,
        // so the lowest id wins whatever order the candidates come in.
        let smallest = containing
            .iter()
            .map(|z| z.area_m2)
            .min_by(f64::total_cmp)?;
        let limit = smallest + smallest.abs() * AREA_TIE_TOLERANCE;
        containing
            .iter()
            .filter(|z| z.area_m2 <= limit)
            .map(|z| z.id)
            .min()
    }

    /// The zone nearest the point and the distance in metres (haversine) from the
    /// point to that zone's closest boundary point; 0 when the point is in a zone.
    /// Ties go to the lowest id.
    pub fn nearest(&self, lat: f64, lon: f64) -> Option<(i64, f64)> {
        if !lat.is_finite() || !lon.is_finite() {
            return None;
        }
        let c = Coord { x: lon, y: lat };
        // A lower bound, in metres, of the great-circle distance to anything inside a box
        // that lies `d` tree units away: metres per degree, corrected for the tree's
        // longitude scale at the highest latitude a path could reach (plus a margin for
        // great circles bulging poleward), less 0.1 % for rounding.
        let top_lat = (lat.abs().max(self.max_abs_lat) + 2.0).min(89.0);
        let lon_factor = (top_lat.to_radians().cos() / TREE_LON_SCALE).min(1.0);
        let metres_per_unit = METRES_PER_DEGREE * lon_factor * 0.999;

        let mut best: Option<(f64, i64)> = None;
        for (candidate, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&[lon * TREE_LON_SCALE, lat])
        {
            let lower_bound = d2.sqrt() * metres_per_unit;
            if best.is_some_and(|(distance, _)| lower_bound > distance + DISTANCE_TIE_M) {
                break;
            }
            let part = &self.parts[candidate.data];
            let id = self.zones[part.zone].id;
            let distance = distance_to_polygon_m(&part.polygon, c);
            // Distances within a micrometre are a tie (rounding noise): lowest id wins.
            let better = match best {
                None => true,
                Some((d, best_id)) => {
                    distance < d - DISTANCE_TIE_M
                        || (distance <= d + DISTANCE_TIE_M && id < best_id)
                }
            };
            if better {
                best = Some((distance, id));
            }
        }
        best.map(|(distance, id)| (id, distance))
    }

    /// The zone for a pickup point: the containing zone, else the nearest (flagged by
    /// `inside: false`). `None` only when the index is empty or the point not finite.
    pub fn assign(&self, lat: f64, lon: f64) -> Option<ZoneMatch> {
        if let Some(zone_id) = self.locate(lat, lon) {
            return Some(ZoneMatch {
                zone_id,
                inside: true,
                distance_m: 0.0,
            });
        }
        self.nearest(lat, lon)
            .map(|(zone_id, distance_m)| ZoneMatch {
                zone_id,
                inside: false,
                distance_m,
            })
    }
}

/// Haversine metres from `c` to the polygon (0 inside or on it). The closest boundary
/// point is found on a local equirectangular projection centred on `c` (exact enough
/// at zone scale), then measured with `Haversine`.
fn distance_to_polygon_m(polygon: &Polygon<f64>, c: Coord<f64>) -> f64 {
    if polygon.intersects(&c) {
        return 0.0;
    }
    let k = c.y.to_radians().cos();
    let mut best = (f64::INFINITY, c);
    for line in rings_of(polygon).flat_map(LineString::lines) {
        let (ax, ay) = ((line.start.x - c.x) * k, line.start.y - c.y);
        let (dx, dy) = ((line.end.x - line.start.x) * k, line.end.y - line.start.y);
        let length2 = dx * dx + dy * dy;
        let t = if length2 > 0.0 {
            (-(ax * dx + ay * dy) / length2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (ax + t * dx, ay + t * dy);
        let d2 = px * px + py * py;
        if d2 < best.0 {
            best = (
                d2,
                Coord {
                    x: c.x + px / k,
                    y: c.y + py,
                },
            );
        }
    }
    if best.0.is_infinite() {
        return f64::INFINITY;
    }
    Haversine.distance(Point::from(c), Point::from(best.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::geo::Validation;
    use serde_json::json;

    /// An axis-aligned square ring `[lon, lat]` from (lon, lat) with side `s` degrees.
    fn square(lon: f64, lat: f64, s: f64) -> Vec<[f64; 2]> {
        vec![
            [lon, lat],
            [lon + s, lat],
            [lon + s, lat + s],
            [lon, lat + s],
            [lon, lat],
        ]
    }

    fn polygon_json(rings: Vec<Vec<[f64; 2]>>) -> Value {
        json!({"type": "Polygon", "coordinates": rings})
    }

    fn err(v: Value) -> ZoneError {
        parse_area(&v).expect_err("should be refused")
    }

    fn square_poly(lon: f64, lat: f64, s: f64) -> MultiPolygon<f64> {
        parse_area(&polygon_json(vec![square(lon, lat, s)])).unwrap()
    }

    // ---- accepted shapes ------------------------------------------------------------

    #[test]
    fn accepts_polygon_multipolygon_feature_holes_and_elevation() {
        let p = parse_area(&polygon_json(vec![square(105.0, 21.0, 0.1)])).unwrap();
        assert_eq!(p.0.len(), 1);
        assert_eq!(p.0[0].exterior().0.len(), 5);

        let with_hole = polygon_json(vec![square(105.0, 21.0, 0.1), square(105.02, 21.02, 0.02)]);
        assert_eq!(parse_area(&with_hole).unwrap().0[0].interiors().len(), 1);

        let multi = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.1)], [square(105.2, 21.0, 0.1)]
        ]});
        assert_eq!(parse_area(&multi).unwrap().0.len(), 2);

        let feature = json!({"type": "Feature", "properties": {"name": "A"},
            "geometry": polygon_json(vec![square(105.0, 21.0, 0.1)])});
        assert!(parse_area(&feature).is_ok());

        let elevation = json!({"type": "Polygon", "coordinates": [[
            [105.0, 21.0, 5.0], [105.1, 21.0, 5.0], [105.1, 21.1, 6.0], [105.0, 21.0, 5.0]
        ]]});
        assert!(parse_area(&elevation).is_ok());

        // Repeated consecutive positions are tolerated and dropped.
        let repeated = json!({"type": "Polygon", "coordinates": [[
            [105.0, 21.0], [105.1, 21.0], [105.1, 21.0], [105.1, 21.1], [105.0, 21.0]
        ]]});
        assert_eq!(parse_area(&repeated).unwrap().0[0].exterior().0.len(), 4);

        // Integers are numbers too (a triangle with integer vertices inside the box).
        let ints = json!({"type": "Polygon", "coordinates": [[[105, 21], [106, 21], [106, 22], [105, 21]]]});
        assert!(parse_area(&ints).is_ok());
    }

    #[test]
    fn accepts_touching_at_points_only() {
        // A hole touching the shell at one vertex is valid (OGC), as geo agrees.
        let touching_hole = polygon_json(vec![
            square(105.0, 21.0, 0.1),
            vec![
                [105.0, 21.05],
                [105.05, 21.02],
                [105.05, 21.08],
                [105.0, 21.05],
            ],
        ]);
        assert_eq!(parse_area(&touching_hole).map(|_| ()), Ok(()));

        // Two parts touching at a corner.
        let corner = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.1)], [square(105.1, 21.1, 0.1)]
        ]});
        assert!(parse_area(&corner).is_ok());

        // An island inside a lake (a part inside another part's hole).
        let island = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.3), square(105.1, 21.1, 0.1)],
            [square(105.12, 21.12, 0.05)]
        ]});
        assert!(parse_area(&island).is_ok());
    }

    // ---- refusals -------------------------------------------------------------------

    #[test]
    fn refuses_what_is_not_geojson() {
        assert_eq!(err(json!("Polygon")).code(), "not_geojson");
        assert_eq!(err(json!([1, 2])).code(), "not_geojson");
        assert_eq!(
            err(json!({"coordinates": []})),
            ZoneError::NotGeoJson {
                path: "type".into()
            }
        );
        assert_eq!(
            err(json!({"type": "Polygon"})),
            ZoneError::NotGeoJson {
                path: "coordinates".into()
            }
        );
        assert_eq!(
            err(json!({"type": "Polygon", "coordinates": [7]})),
            ZoneError::NotGeoJson {
                path: "coordinates[0]".into()
            }
        );
        assert_eq!(
            err(json!({"type": "Feature", "geometry": 3})),
            ZoneError::NotGeoJson {
                path: "geometry".into()
            }
        );
    }

    #[test]
    fn refuses_bad_positions() {
        let e = err(json!({"type": "Polygon", "coordinates": [[
            [105.0, 21.0], [105.1, "21.0"], [105.1, 21.1], [105.0, 21.0]
        ]]}));
        assert_eq!(
            e,
            ZoneError::InvalidPosition {
                path: "coordinates[0][1]".into()
            }
        );
        let e = err(json!({"type": "MultiPolygon", "coordinates": [[[
            [105.0, 21.0], [105.1], [105.1, 21.1], [105.0, 21.0]
        ]]]}));
        assert_eq!(
            e,
            ZoneError::InvalidPosition {
                path: "coordinates[0][0][1]".into()
            }
        );
        assert_eq!(e.code(), "invalid_position");
    }

    #[test]
    fn refuses_wrong_types() {
        let point = json!({"type": "Point", "coordinates": [105.0, 21.0]});
        assert_eq!(
            err(point),
            ZoneError::WrongType {
                expected: "Polygon/MultiPolygon",
                found: "Point".into()
            }
        );
        let line = json!({"type": "LineString", "coordinates": [[105.0, 21.0], [105.1, 21.0]]});
        assert_eq!(err(line).code(), "wrong_geometry_type");
        let collection = json!({"type": "GeometryCollection", "geometries": []});
        assert_eq!(err(collection).code(), "wrong_geometry_type");
        let null_feature = json!({"type": "Feature", "geometry": null, "properties": {}});
        assert_eq!(err(null_feature).code(), "wrong_geometry_type");
        let feature_of_point =
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.0, 21.0]}});
        assert_eq!(err(feature_of_point).code(), "wrong_geometry_type");
    }

    #[test]
    fn refuses_unclosed_and_short_rings() {
        let mut open = square(105.0, 21.0, 0.1);
        open.pop();
        assert_eq!(
            err(polygon_json(vec![open])),
            ZoneError::NotClosed {
                polygon: 0,
                ring: 0
            }
        );
        let mut open_hole = square(105.02, 21.02, 0.02);
        open_hole.pop();
        assert_eq!(
            err(polygon_json(vec![square(105.0, 21.0, 0.1), open_hole])),
            ZoneError::NotClosed {
                polygon: 0,
                ring: 1
            }
        );
        let short = vec![[105.0, 21.0], [105.1, 21.0], [105.0, 21.0]];
        assert_eq!(
            err(polygon_json(vec![short])),
            ZoneError::TooFewPositions {
                polygon: 0,
                ring: 0,
                positions: 3
            }
        );
        let multi = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.1)], [[[105.5, 21.0], [105.6, 21.0], [105.5, 21.0]]]
        ]});
        assert_eq!(
            err(multi),
            ZoneError::TooFewPositions {
                polygon: 1,
                ring: 0,
                positions: 3
            }
        );
    }

    #[test]
    fn refuses_empty_areas() {
        assert_eq!(
            err(json!({"type": "Polygon", "coordinates": []})),
            ZoneError::Empty
        );
        assert_eq!(
            err(json!({"type": "MultiPolygon", "coordinates": []})),
            ZoneError::Empty
        );
        assert_eq!(
            err(json!({"type": "MultiPolygon", "coordinates": [[]]})),
            ZoneError::Empty
        );
        assert_eq!(
            validate_area(&MultiPolygon::new(vec![])),
            Err(ZoneError::Empty)
        );
    }

    #[test]
    fn refuses_non_finite_coordinates() {
        // JSON cannot carry NaN or infinity, so this is reached through `validate_area`
        // (areas built in code or read back from storage).
        let ring = LineString::from(vec![
            (105.0, 21.0),
            (105.1, 21.0),
            (f64::NAN, 21.1),
            (105.0, 21.0),
        ]);
        let area = MultiPolygon::new(vec![Polygon::new(ring, vec![])]);
        let e = validate_area(&area).unwrap_err();
        assert_eq!(
            e,
            ZoneError::NonFinite {
                polygon: 0,
                ring: 0,
                index: 2
            }
        );
        assert_eq!(e.code(), "non_finite_coordinate");
        // And through the raw-ring check that `parse_area` uses.
        let raw = vec![vec![vec![
            Coord { x: 105.0, y: 21.0 },
            Coord {
                x: f64::INFINITY,
                y: 21.0,
            },
            Coord { x: 105.1, y: 21.1 },
            Coord { x: 105.0, y: 21.0 },
        ]]];
        assert_eq!(build_area(raw).unwrap_err().code(), "non_finite_coordinate");
    }

    #[test]
    fn refuses_vertices_outside_vietnam() {
        // Bangkok.
        let e = err(polygon_json(vec![square(100.5, 13.7, 0.1)]));
        assert_eq!(
            e,
            ZoneError::OutsideVietnam {
                lon: 100.5,
                lat: 13.7
            }
        );
        assert_eq!(e.code(), "outside_vietnam");
        // Latitude and longitude swapped: Hà Nội as [lat, lon].
        let swapped = polygon_json(vec![vec![
            [21.0, 105.0],
            [21.1, 105.0],
            [21.1, 105.1],
            [21.0, 105.0],
        ]]);
        assert_eq!(err(swapped).code(), "outside_vietnam");
        // One stray vertex is enough.
        let stray = polygon_json(vec![vec![
            [105.0, 21.0],
            [105.1, 21.0],
            [105.1, 24.0],
            [105.0, 21.0],
        ]]);
        assert_eq!(
            err(stray),
            ZoneError::OutsideVietnam {
                lon: 105.1,
                lat: 24.0
            }
        );
    }

    #[test]
    fn refuses_zero_area() {
        let collinear = vec![[105.0, 21.0], [105.1, 21.0], [105.2, 21.0], [105.0, 21.0]];
        assert_eq!(
            err(polygon_json(vec![collinear])),
            ZoneError::ZeroArea {
                polygon: 0,
                ring: 0
            }
        );
        let one_point = vec![[105.0, 21.0]; 4];
        assert_eq!(err(polygon_json(vec![one_point])).code(), "zero_area");
        let flat_hole = vec![
            [105.02, 21.05],
            [105.05, 21.05],
            [105.08, 21.05],
            [105.02, 21.05],
        ];
        // Not collinear, but a triangle of about 0.006 m².
        let tiny = vec![
            [105.0, 21.0],
            [105.000001, 21.0],
            [105.0, 21.000001],
            [105.0, 21.0],
        ];
        assert_eq!(err(polygon_json(vec![tiny])).code(), "zero_area");
        assert_eq!(
            err(polygon_json(vec![square(105.0, 21.0, 0.1), flat_hole])),
            ZoneError::ZeroArea {
                polygon: 0,
                ring: 1
            }
        );
    }

    #[test]
    fn refuses_too_many_vertices() {
        let n = MAX_VERTICES; // plus the closing position: one too many
        let ring: Vec<[f64; 2]> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                [105.5 + 0.2 * a.cos(), 16.0 + 0.2 * a.sin()]
            })
            .collect();
        assert_eq!(
            err(polygon_json(vec![ring])),
            ZoneError::TooManyVertices {
                count: MAX_VERTICES + 1,
                max: MAX_VERTICES
            }
        );
    }

    #[test]
    fn accepts_a_large_ring_quickly() {
        // Exactly at the cap: a quadratic self-intersection test would take minutes.
        let n = MAX_VERTICES - 1;
        let ring: Vec<[f64; 2]> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                [105.5 + 0.2 * a.cos(), 16.0 + 0.2 * a.sin()]
            })
            .collect();
        let started = std::time::Instant::now();
        let area = parse_area(&polygon_json(vec![ring])).unwrap();
        println!("validated {} vertices in {:?}", n + 1, started.elapsed());
        assert_eq!(area.0[0].exterior().0.len(), n + 1);

        // Large shell, large hole, and a second large part: containment and overlap
        // checks stay fast too.
        let circle = |n: usize, lon: f64, lat: f64, r: f64| -> Vec<[f64; 2]> {
            (0..=n)
                .map(|i| {
                    let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                    [lon + r * a.cos(), lat + r * a.sin()]
                })
                .collect()
        };
        let multi = json!({"type": "MultiPolygon", "coordinates": [
            [circle(40_000, 105.5, 16.0, 0.2), circle(20_000, 105.5, 16.0, 0.1)],
            [circle(30_000, 106.0, 16.0, 0.2)]
        ]});
        let started = std::time::Instant::now();
        let area = parse_area(&multi).unwrap();
        println!(
            "validated a 90,003-vertex multipolygon in {:?}",
            started.elapsed()
        );
        assert_eq!(area.0.len(), 2);
    }

    #[test]
    fn refuses_self_intersections_with_their_location() {
        // Bow-tie crossing at (105.05, 21.05).
        let bowtie = vec![
            [105.0, 21.0],
            [105.1, 21.1],
            [105.1, 21.0],
            [105.0, 21.1],
            [105.0, 21.0],
        ];
        match err(polygon_json(vec![bowtie])) {
            ZoneError::SelfIntersecting { polygon, ring, at } => {
                assert_eq!((polygon, ring), (0, 0));
                assert!(
                    (at.0 - 105.05).abs() < 1e-9 && (at.1 - 21.05).abs() < 1e-9,
                    "{at:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Figure eight through a shared vertex (self-touching ring, an "inverted hole").
        let eight = vec![
            [105.0, 21.0],
            [105.1, 21.0],
            [105.1, 21.1],
            [105.2, 21.1],
            [105.2, 21.2],
            [105.1, 21.2],
            [105.1, 21.1],
            [105.0, 21.1],
            [105.0, 21.0],
        ];
        match err(polygon_json(vec![eight])) {
            ZoneError::SelfIntersecting { at, .. } => assert_eq!(at, (105.1, 21.1)),
            other => panic!("{other:?}"),
        }
        // A spike: the ring goes out and comes back along the same line.
        let spike = vec![
            [105.0, 21.0],
            [105.1, 21.0],
            [105.2, 21.0],
            [105.1, 21.0],
            [105.1, 21.1],
            [105.0, 21.0],
        ];
        assert_eq!(err(polygon_json(vec![spike])).code(), "self_intersecting");
        // In a hole, reported on that ring, with the message naming the place.
        let bowtie_hole = vec![
            [105.02, 21.02],
            [105.08, 21.08],
            [105.08, 21.02],
            [105.02, 21.08],
            [105.02, 21.02],
        ];
        let e = err(polygon_json(vec![square(105.0, 21.0, 0.1), bowtie_hole]));
        assert!(
            matches!(e, ZoneError::SelfIntersecting { ring: 1, .. }),
            "{e:?}"
        );
        assert!(e.message_vi().contains("lỗ thứ 1"), "{}", e.message_vi());
        assert!(
            e.message_vi().contains("kinh độ 105.050000"),
            "{}",
            e.message_vi()
        );
    }

    #[test]
    fn refuses_crossing_and_misplaced_holes() {
        // A hole poking out through the shell.
        let crossing = polygon_json(vec![square(105.0, 21.0, 0.1), square(105.05, 21.02, 0.1)]);
        match err(crossing) {
            ZoneError::RingsCross { polygon: 0, at } => {
                assert!((at.0 - 105.1).abs() < 1e-9, "{at:?}")
            }
            other => panic!("{other:?}"),
        }
        // A hole sharing part of an edge with the shell.
        let along = polygon_json(vec![square(105.0, 21.0, 0.1), square(105.0, 21.02, 0.02)]);
        assert_eq!(err(along).code(), "rings_cross");
        // A hole entirely outside.
        let outside = polygon_json(vec![square(105.0, 21.0, 0.1), square(105.3, 21.0, 0.05)]);
        assert_eq!(
            err(outside),
            ZoneError::HoleOutside {
                polygon: 0,
                ring: 1
            }
        );
        // Nested holes.
        let nested = polygon_json(vec![
            square(105.0, 21.0, 0.1),
            square(105.01, 21.01, 0.08),
            square(105.03, 21.03, 0.02),
        ]);
        assert_eq!(
            err(nested),
            ZoneError::HolesOverlap {
                polygon: 0,
                first: 1,
                second: 2
            }
        );
    }

    #[test]
    fn refuses_overlapping_parts() {
        let overlap = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.1)], [square(105.3, 21.0, 0.1)], [square(105.05, 21.05, 0.1)]
        ]});
        assert_eq!(
            err(overlap),
            ZoneError::PolygonsOverlap {
                first: 0,
                second: 2
            }
        );
        let shared_edge = json!({"type": "MultiPolygon", "coordinates": [
            [square(105.0, 21.0, 0.1)], [square(105.1, 21.0, 0.1)]
        ]});
        assert_eq!(
            err(shared_edge),
            ZoneError::PolygonsShareEdge {
                first: 0,
                second: 1
            }
        );
    }

    #[test]
    fn refuses_contrived_boundaries_past_the_work_budget() {
        let mut budget = 3;
        let area = square_poly(105.0, 21.0, 0.1);
        assert_eq!(
            check_segments(0, &area.0[0], &mut budget),
            Err(ZoneError::TooComplex)
        );
        assert_eq!(ZoneError::TooComplex.code(), "geometry_too_complex");
    }

    /// Our verdict agrees with `geo::Validation` on small cases, valid and invalid.
    #[test]
    fn agrees_with_geo_validation() {
        let cases = vec![
            vec![square(105.0, 21.0, 0.1)],
            vec![square(105.0, 21.0, 0.1), square(105.02, 21.02, 0.02)],
            vec![vec![
                [105.0, 21.0],
                [105.1, 21.1],
                [105.1, 21.0],
                [105.0, 21.1],
                [105.0, 21.0],
            ]],
            vec![square(105.0, 21.0, 0.1), square(105.05, 21.02, 0.1)],
            vec![square(105.0, 21.0, 0.1), square(105.3, 21.0, 0.05)],
            vec![
                square(105.0, 21.0, 0.1),
                square(105.01, 21.01, 0.08),
                square(105.03, 21.03, 0.02),
            ],
            vec![
                square(105.0, 21.0, 0.1),
                vec![
                    [105.0, 21.05],
                    [105.05, 21.02],
                    [105.05, 21.08],
                    [105.0, 21.05],
                ],
            ],
            vec![vec![
                [105.0, 21.0],
                [105.1, 21.0],
                [105.1, 21.1],
                [105.2, 21.1],
                [105.2, 21.2],
                [105.1, 21.2],
                [105.1, 21.1],
                [105.0, 21.1],
                [105.0, 21.0],
            ]],
        ];
        for rings in cases {
            let polygon = Polygon::new(
                LineString::from(rings[0].iter().map(|c| (c[0], c[1])).collect::<Vec<_>>()),
                rings[1..]
                    .iter()
                    .map(|r| LineString::from(r.iter().map(|c| (c[0], c[1])).collect::<Vec<_>>()))
                    .collect(),
            );
            let ours = parse_area(&polygon_json(rings.clone()));
            assert_eq!(ours.is_ok(), polygon.is_valid(), "{rings:?}: {ours:?}");
        }
    }

    #[test]
    fn codes_are_unique_and_messages_speak_vietnamese() {
        let all = vec![
            ZoneError::NotGeoJson {
                path: "type".into(),
            },
            ZoneError::WrongType {
                expected: "Polygon/MultiPolygon",
                found: "Point".into(),
            },
            ZoneError::InvalidPosition {
                path: "coordinates[0][1]".into(),
            },
            ZoneError::NonFinite {
                polygon: 0,
                ring: 0,
                index: 1,
            },
            ZoneError::OutsideVietnam {
                lon: 100.5,
                lat: 13.7,
            },
            ZoneError::TooFewPositions {
                polygon: 0,
                ring: 0,
                positions: 3,
            },
            ZoneError::NotClosed {
                polygon: 0,
                ring: 0,
            },
            ZoneError::Empty,
            ZoneError::TooManyVertices { count: 2, max: 1 },
            ZoneError::ZeroArea {
                polygon: 0,
                ring: 0,
            },
            ZoneError::SelfIntersecting {
                polygon: 0,
                ring: 0,
                at: (105.0, 21.0),
            },
            ZoneError::RingsCross {
                polygon: 0,
                at: (105.0, 21.0),
            },
            ZoneError::HoleOutside {
                polygon: 0,
                ring: 1,
            },
            ZoneError::HolesOverlap {
                polygon: 0,
                first: 1,
                second: 2,
            },
            ZoneError::PolygonsOverlap {
                first: 0,
                second: 1,
            },
            ZoneError::PolygonsShareEdge {
                first: 0,
                second: 1,
            },
            ZoneError::TooComplex,
            ZoneError::MissingName,
            ZoneError::DuplicateName {
                name: "Phường 1".into(),
            },
        ];
        let codes: HashSet<&str> = all.iter().map(ZoneError::code).collect();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            let code = e.code();
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            let vi = e.message_vi();
            assert!(!vi.is_ascii(), "{code}: {vi}");
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(
            ZoneError::OutsideVietnam {
                lon: 100.5,
                lat: 13.7
            }
            .message_vi(),
            "Điểm (kinh độ 100.500000, vĩ độ 13.700000) nằm ngoài lãnh thổ Việt Nam. \
             Lưu ý: GeoJSON ghi kinh độ trước, vĩ độ sau."
        );
    }

    // ---- feature collections --------------------------------------------------------

    fn feature(name: Value, rings: Vec<Vec<[f64; 2]>>) -> Value {
        json!({"type": "Feature", "properties": {"name": name}, "geometry": polygon_json(rings)})
    }

    #[test]
    fn reads_feature_collections() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature(json!(" Phường Mỹ Phú "), vec![square(105.6, 10.4, 0.05)]),
            feature(json!("Xã Mỹ Tân"), vec![square(105.7, 10.4, 0.05)]),
        ]});
        let zones = parse_feature_collection(&fc).unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[0].0, "Phường Mỹ Phú");
        assert_eq!(zones[1].0, "Xã Mỹ Tân");
        let empty = json!({"type": "FeatureCollection", "features": []});
        assert_eq!(parse_feature_collection(&empty).unwrap().len(), 0);
    }

    #[test]
    fn reports_every_bad_feature_with_its_index() {
        let fc = json!({"type": "FeatureCollection", "features": [
            feature(json!("A"), vec![square(105.6, 10.4, 0.05)]),
            feature(json!("   "), vec![square(105.7, 10.4, 0.05)]),
            json!({"type": "Feature", "properties": {}, "geometry": polygon_json(vec![square(105.8, 10.4, 0.05)])}),
            feature(json!("A"), vec![square(105.9, 10.4, 0.05)]),
            feature(json!("B"), vec![square(100.5, 13.7, 0.05)]),
            feature(json!(42), vec![square(106.0, 10.4, 0.05)]),
            json!({"type": "Point", "coordinates": [105.0, 21.0]}),
        ]});
        let errors = parse_feature_collection(&fc).unwrap_err();
        let summary: Vec<(usize, &str)> = errors.iter().map(|(i, e)| (*i, e.code())).collect();
        assert_eq!(
            summary,
            vec![
                (1, "missing_name"),
                (2, "missing_name"),
                (3, "duplicate_name"),
                (4, "outside_vietnam"),
                (5, "missing_name"),
                (6, "wrong_geometry_type"),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_feature_collection() {
        let polygon = polygon_json(vec![square(105.6, 10.4, 0.05)]);
        assert_eq!(
            parse_feature_collection(&polygon).unwrap_err(),
            vec![(
                0,
                ZoneError::WrongType {
                    expected: "FeatureCollection",
                    found: "Polygon".into()
                }
            )]
        );
        assert_eq!(
            parse_feature_collection(&json!({"type": "FeatureCollection"})).unwrap_err()[0]
                .1
                .code(),
            "not_geojson"
        );
        assert_eq!(
            parse_feature_collection(&json!([])).unwrap_err()[0]
                .1
                .code(),
            "not_geojson"
        );
    }

    // ---- point location -------------------------------------------------------------

    #[test]
    fn locates_points_in_zones_holes_and_parts() {
        let donut = parse_area(&polygon_json(vec![
            square(105.0, 21.0, 0.1),
            square(105.04, 21.04, 0.02),
        ]))
        .unwrap();
        let two_parts = parse_area(&json!({"type": "MultiPolygon", "coordinates": [
            [square(106.0, 21.0, 0.1)], [square(106.5, 21.0, 0.1)]
        ]}))
        .unwrap();
        let index = ZoneIndex::new(vec![(1, donut), (2, two_parts)]);
        assert_eq!(index.len(), 2);
        assert!(!index.is_empty());
        assert_eq!(index.locate(21.01, 105.01), Some(1));
        assert_eq!(index.locate(21.05, 105.05), None, "in the hole");
        assert_eq!(index.locate(21.05, 106.05), Some(2));
        assert_eq!(index.locate(21.05, 106.55), Some(2), "second part");
        assert_eq!(index.locate(21.05, 106.3), None, "between the parts");
        assert_eq!(index.locate(21.0, 105.05), Some(1), "on the boundary");
        assert_eq!(index.locate(f64::NAN, 105.0), None);
    }

    #[test]
    fn overlaps_go_to_the_smallest_zone_then_lowest_id() {
        let big = square_poly(105.0, 21.0, 0.2);
        let small = square_poly(105.05, 21.05, 0.05);
        let small_twin = square_poly(105.05, 21.05, 0.05);
        let index = ZoneIndex::new(vec![(7, big.clone()), (9, small), (8, small_twin)]);
        assert_eq!(index.locate(21.07, 105.07), Some(8));
        assert_eq!(index.locate(21.01, 105.01), Some(7));
        // Same area: lowest id, whatever the input order.
        let index = ZoneIndex::new(vec![(5, big.clone()), (3, big)]);
        assert_eq!(index.locate(21.1, 105.1), Some(3));
        // A shared boundary between equal squares: lowest id.
        let index = ZoneIndex::new(vec![
            (12, square_poly(105.1, 21.0, 0.1)),
            (11, square_poly(105.0, 21.0, 0.1)),
        ]);
        assert_eq!(index.locate(21.05, 105.1), Some(11));
    }

    #[test]
    fn nearest_measures_metres_to_the_boundary() {
        let index = ZoneIndex::new(vec![
            (1, square_poly(105.0, 21.0, 0.1)),
            (2, square_poly(105.5, 21.0, 0.1)),
        ]);
        // 0.01° of latitude south of zone 1's southern edge: R·0.01·π/180 ≈ 1111.95 m.
        let (id, d) = index.nearest(20.99, 105.05).unwrap();
        assert_eq!(id, 1);
        assert!((d - 1111.95).abs() < 0.5, "{d}");
        // Closer to zone 2's western edge.
        let (id, d) = index.nearest(21.05, 105.45).unwrap();
        assert_eq!(id, 2);
        let expected = Haversine.distance(Point::new(105.45, 21.05), Point::new(105.5, 21.05));
        assert!((d - expected).abs() < 0.5, "{d} vs {expected}");
        // Inside a zone the distance is zero.
        assert_eq!(index.nearest(21.05, 105.05), Some((1, 0.0)));
        // Exactly halfway between two equal zones: lowest id.
        let index = ZoneIndex::new(vec![
            (4, square_poly(105.2, 21.0, 0.1)),
            (3, square_poly(105.0, 21.0, 0.1)),
        ]);
        assert_eq!(index.nearest(21.05, 105.15).map(|(id, _)| id), Some(3));
        // Corner distance, diagonal.
        let index = ZoneIndex::new(vec![(1, square_poly(105.0, 21.0, 0.1))]);
        let (_, d) = index.nearest(20.99, 104.99).unwrap();
        let expected = Haversine.distance(Point::new(104.99, 20.99), Point::new(105.0, 21.0));
        assert!((d - expected).abs() < 0.5, "{d} vs {expected}");
    }

    #[test]
    fn assign_combines_locate_and_nearest() {
        let index = ZoneIndex::new(vec![(1, square_poly(105.0, 21.0, 0.1))]);
        assert_eq!(
            index.assign(21.05, 105.05),
            Some(ZoneMatch {
                zone_id: 1,
                inside: true,
                distance_m: 0.0
            })
        );
        let m = index.assign(20.99, 105.05).unwrap();
        assert_eq!((m.zone_id, m.inside), (1, false));
        assert!((m.distance_m - 1111.95).abs() < 0.5);
        let empty = ZoneIndex::new(vec![]);
        assert!(empty.is_empty());
        assert_eq!(empty.assign(21.0, 105.0), None);
        assert_eq!(empty.nearest(21.0, 105.0), None);
    }

    /// A small deterministic generator (xorshift), so the test needs no `rand`.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn many_zones_agree_with_brute_force() {
        // 5,000 squares of 0.008° on a 0.01° grid (100 × 50) around Đồng Tháp, with gaps.
        let (lon0, lat0, step, side) = (105.0, 10.0, 0.01, 0.008);
        let mut zones = Vec::new();
        for row in 0..50 {
            for col in 0..100 {
                let id = (row * 100 + col) as i64 + 1;
                let ring = LineString::from(vec![
                    (lon0 + col as f64 * step, lat0 + row as f64 * step),
                    (lon0 + col as f64 * step + side, lat0 + row as f64 * step),
                    (
                        lon0 + col as f64 * step + side,
                        lat0 + row as f64 * step + side,
                    ),
                    (lon0 + col as f64 * step, lat0 + row as f64 * step + side),
                    (lon0 + col as f64 * step, lat0 + row as f64 * step),
                ]);
                zones.push((id, MultiPolygon::new(vec![Polygon::new(ring, vec![])])));
            }
        }
        let started = std::time::Instant::now();
        let index = ZoneIndex::new(zones.clone());
        println!("indexed {} zones in {:?}", index.len(), started.elapsed());
        assert_eq!(index.len(), 5000);

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let queries: Vec<(f64, f64)> = (0..2000)
            .map(|_| {
                (
                    lat0 - 0.05 + rng.next() * 0.6,
                    lon0 - 0.05 + rng.next() * 1.1,
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let answers: Vec<ZoneMatch> = queries
            .iter()
            .map(|&(lat, lon)| index.assign(lat, lon).unwrap())
            .collect();
        println!(
            "assigned {} points in {:?}",
            queries.len(),
            started.elapsed()
        );

        let mut inside = 0;
        for (&(lat, lon), got) in queries.iter().zip(&answers) {
            let c = Coord { x: lon, y: lat };
            let containing = zones
                .iter()
                .filter(|(_, a)| a.intersects(&c))
                .map(|(id, _)| *id)
                .min();
            if let Some(id) = containing {
                inside += 1;
                assert_eq!((got.zone_id, got.inside), (id, true), "{lat},{lon}");
                continue;
            }
            let (best_d, best_id) = zones
                .iter()
                .map(|(id, a)| (distance_to_polygon_m(&a.0[0], c), *id))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .unwrap();
            assert!(!got.inside);
            assert_eq!(got.zone_id, best_id, "{lat},{lon}: {got:?} vs {best_d}");
            assert_eq!(got.distance_m, best_d);
        }
        // About 64 % of the grid is covered; both branches get exercised.
        assert!(inside > 500 && inside < 1900, "{inside}");
    }
}
