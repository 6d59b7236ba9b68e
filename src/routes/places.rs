//! What agencies and post offices share: a named place at a ward, with an address
//! and coordinates inside Vietnam.

use crate::validate::Check;
use serde::Deserialize;

/// The place fields of a create body.
#[derive(Debug, Deserialize)]
pub struct PlaceBody {
    pub name: String,
    pub ward_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
}

/// A place whose fields passed the shape checks (the ward is checked in storage).
#[derive(Debug)]
pub struct ValidPlace {
    pub name: String,
    pub ward_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
}

impl PlaceBody {
    /// Checks every field into `check`.
    pub fn check(&self, check: &mut Check) -> ValidPlace {
        let name = check.line("name", &self.name, 200);
        let address = check.line("address", &self.address, 300);
        let ward_code = self.ward_code.trim().to_owned();
        check.latlon("", self.lat, self.lon);
        ValidPlace {
            name,
            ward_code,
            address,
            lat: self.lat,
            lon: self.lon,
        }
    }
}
