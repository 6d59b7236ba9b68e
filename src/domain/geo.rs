//! Coordinates: a WGS84 point that is known to lie inside Vietnam.

use serde::{Deserialize, Serialize};

/// Rough bounding box of Vietnam's mainland and islands (API.md, "Conventions").
pub const VIETNAM_LAT: (f64, f64) = (8.0, 23.5);
/// Longitude range of the same box, reaching the Hoàng Sa and Trường Sa islands.
pub const VIETNAM_LON: (f64, f64) = (102.0, 117.5);

/// Why a coordinate pair was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LatLonError {
    /// Not a finite number (NaN or infinity).
    #[error("coordinates must be finite numbers")]
    NotFinite,
    /// A valid WGS84 point, but outside the country.
    #[error("coordinates lie outside Vietnam")]
    OutsideVietnam,
}

/// A point inside Vietnam; constructing one is the only way to prove the check ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

impl LatLon {
    /// Accepts a point only when it lies inside Vietnam's bounding box.
    pub fn parse(lat: f64, lon: f64) -> Result<Self, LatLonError> {
        if !lat.is_finite() || !lon.is_finite() {
            return Err(LatLonError::NotFinite);
        }
        let inside = (VIETNAM_LAT.0..=VIETNAM_LAT.1).contains(&lat)
            && (VIETNAM_LON.0..=VIETNAM_LON.1).contains(&lon);
        if inside {
            Ok(Self { lat, lon })
        } else {
            Err(LatLonError::OutsideVietnam)
        }
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_points_in_vietnam() {
        let p = LatLon::parse(10.4602, 105.6329).unwrap();
        assert_eq!((p.lat(), p.lon()), (10.4602, 105.6329));
        // Trường Sa (Spratly) islands are inside the box.
        assert!(LatLon::parse(8.65, 111.92).is_ok());
    }

    #[test]
    fn refuses_points_abroad_and_non_finite() {
        assert_eq!(
            LatLon::parse(13.75, 100.5),
            Err(LatLonError::OutsideVietnam)
        ); // Bangkok
        assert_eq!(LatLon::parse(48.85, 2.35), Err(LatLonError::OutsideVietnam));
        assert_eq!(LatLon::parse(f64::NAN, 105.0), Err(LatLonError::NotFinite));
        assert_eq!(
            LatLon::parse(10.0, f64::INFINITY),
            Err(LatLonError::NotFinite)
        );
    }
}
