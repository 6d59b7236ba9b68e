//! Collects every bad field of a request before anything is written, so one 422
//! lists them all.

use crate::domain::geo::{LatLon, LatLonError};
use crate::domain::text::{bounded_line, TextError};
use crate::error::{ApiError, ErrorCode, FieldError};

/// Field-error collector.
#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error.
    pub fn push(&mut self, field: &str, code: ErrorCode, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// A required one-line text: trimmed, non-empty, at most `max` characters.
    pub fn line(&mut self, field: &str, value: &str, max: usize) -> String {
        match bounded_line(value, max) {
            Ok(v) => v,
            Err(e) => {
                self.push(field, ErrorCode::ValidationFailed, text_message(e));
                String::new()
            }
        }
    }

    /// An optional one-line text; blank counts as absent.
    pub fn opt_line(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        match value {
            Some(v) if !v.trim().is_empty() => Some(self.line(field, v, max)),
            _ => None,
        }
    }

    /// A coordinate pair inside Vietnam; errors land on `{prefix}lat`/`{prefix}lon`.
    pub fn latlon(&mut self, prefix: &str, lat: f64, lon: f64) -> Option<LatLon> {
        match LatLon::parse(lat, lon) {
            Ok(p) => Some(p),
            Err(LatLonError::NotFinite) => {
                self.push(
                    &format!("{prefix}lat"),
                    ErrorCode::ValidationFailed,
                    "Tọa độ không hợp lệ",
                );
                None
            }
            Err(LatLonError::OutsideVietnam) => {
                let msg =
                    "Tọa độ nằm ngoài lãnh thổ Việt Nam (vĩ độ 8,0–23,5; kinh độ 102,0–117,5)";
                if !(8.0..=23.5).contains(&lat) {
                    self.push(&format!("{prefix}lat"), ErrorCode::OutsideVietnam, msg);
                }
                if !(102.0..=117.5).contains(&lon) {
                    self.push(&format!("{prefix}lon"), ErrorCode::OutsideVietnam, msg);
                }
                None
            }
        }
    }

    /// An integer within bounds.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.push(
                field,
                ErrorCode::ValidationFailed,
                format!("Giá trị phải nằm trong khoảng {min}–{max}"),
            );
        }
    }

    /// Whether no error was found so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing was wrong, else the 422 listing every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }
}

fn text_message(e: TextError) -> String {
    match e {
        TextError::Empty => "Không được để trống".into(),
        TextError::TooLong(n) => format!("Không được dài quá {n} ký tự"),
        TextError::ControlCharacters => "Chứa ký tự điều khiển không hợp lệ".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut c = Check::new();
        assert_eq!(c.line("name", "  Bưu cục ", 50), "Bưu cục");
        c.line("address", " ", 50);
        assert!(c.latlon("", 48.0, 2.0).is_none());
        c.range("processing_days", 400, 0, 365);
        let e = c.finish().unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["address", "lat", "lon", "processing_days"]);
        assert_eq!(e.code, ErrorCode::ValidationFailed);
    }

    #[test]
    fn lone_coordinate_error_is_outside_vietnam() {
        let mut c = Check::new();
        assert!(c.latlon("address.", 10.0, 120.0).is_none());
        let e = c.finish().unwrap_err();
        assert_eq!(e.code, ErrorCode::OutsideVietnam);
        assert_eq!(e.errors[0].field, "address.lon");
    }
}
