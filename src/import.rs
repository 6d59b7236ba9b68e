//! `buuta import …`: bulk loads from files, all or nothing.

use crate::db::models::admin_units;
use crate::db::{Db, StoreError};
use crate::domain::geo::LatLon;
use crate::domain::ward_code::WardCode;

/// One ward centre to set.
#[derive(Debug, Clone, PartialEq)]
pub struct WardCentre {
    pub ward_code: String,
    pub lat: f64,
    pub lon: f64,
}

/// Parses `ward_code,lat,lon` lines (a header line is allowed); every bad line is
/// reported with its number, and nothing is returned unless all are good.
pub fn parse_ward_centres(text: &str) -> Result<Vec<WardCentre>, Vec<String>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("ward_code")) {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let n = i + 1;
        let [code, lat, lon] = cols[..] else {
            errors.push(format!("dòng {n}: cần 3 cột ward_code,lat,lon"));
            continue;
        };
        let Ok(code) = WardCode::parse(code) else {
            errors.push(format!("dòng {n}: mã xã/phường '{code}' phải gồm 5 chữ số"));
            continue;
        };
        match (lat.parse::<f64>(), lon.parse::<f64>()) {
            (Ok(lat), Ok(lon)) if LatLon::parse(lat, lon).is_ok() => rows.push(WardCentre {
                ward_code: code.as_str().to_owned(),
                lat,
                lon,
            }),
            _ => errors.push(format!(
                "dòng {n}: tọa độ không hợp lệ hoặc nằm ngoài Việt Nam"
            )),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Sets every centre in one transaction; an unknown ward code aborts the whole file.
pub fn apply_ward_centres(db: &Db, rows: &[WardCentre]) -> Result<usize, String> {
    db.write_blocking(|c| -> Result<usize, ImportError> {
        for row in rows {
            if !admin_units::set_centre(c, &row.ward_code, row.lat, row.lon)? {
                return Err(ImportError::Invalid(format!(
                    "mã xã/phường '{}' không có trong danh mục 2025",
                    row.ward_code
                )));
            }
        }
        Ok(rows.len())
    })
    .map_err(|e| e.to_string())
}

/// Loads zones from a GeoJSON FeatureCollection (each feature: a `name` property and a
/// Polygon/MultiPolygon) into one post office, all or nothing; returns how many.
pub fn import_zones(db: &Db, post_office_id: i64, text: &str) -> Result<usize, String> {
    use crate::db::models::{post_offices, zones};
    use crate::domain::zones::parse_feature_collection;
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("tệp không phải JSON hợp lệ: {e}"))?;
    let parsed = parse_feature_collection(&json).map_err(|errs| {
        errs.iter()
            .map(|(i, e)| format!("đối tượng {}: {} ({})", i + 1, e.message_vi(), e.code()))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let features = json["features"].as_array().cloned().unwrap_or_default();
    db.write_blocking(|c| -> Result<usize, ImportError> {
        if post_offices::find(c, post_office_id)?.is_none() {
            return Err(ImportError::Invalid(format!(
                "bưu cục {post_office_id} không tồn tại"
            )));
        }
        let now = crate::db::now_utc();
        for (i, (name, _)) in parsed.iter().enumerate() {
            let geometry = features
                .get(i)
                .map(|f| f.get("geometry").cloned().unwrap_or_else(|| f.clone()))
                .unwrap_or_default();
            zones::insert(c, name, post_office_id, &geometry.to_string(), now)?;
        }
        Ok(parsed.len())
    })
    .map_err(|e| e.to_string())
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Store(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_centres_and_reports_every_bad_line() {
        let ok =
            parse_ward_centres("ward_code,lat,lon\n29869,10.46,105.63\n\n29905, 10.29 ,105.75\n")
                .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            ok[1],
            WardCentre {
                ward_code: "29905".into(),
                lat: 10.29,
                lon: 105.75
            }
        );
        let errs = parse_ward_centres("29869,10.46\nabc,10,105\n29869,48.8,2.3\n29869,x,105\n")
            .unwrap_err();
        assert_eq!(errs.len(), 4);
        assert!(errs[0].starts_with("dòng 1"));
        assert!(errs[2].contains("ngoài Việt Nam"));
    }
}
