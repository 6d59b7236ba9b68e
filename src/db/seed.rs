//! Reference data loaded at first start: the 34 provinces and 3,321 communes of
//! the 2025 administrative map (the official list, shipped in `data/`).

use super::models::admin_units::{self, Province, Ward};
use super::{DbConnection, StoreError};
use crate::domain::text::fold;
use std::collections::BTreeMap;

/// `province_code,province_name,province_type,ward_code,ward_name,ward_type`.
const ADMIN_UNITS_CSV: &str = include_str!("../../data/vn_admin_units_2025.csv");

/// Parses the shipped list into rows.
pub fn parse_admin_units(csv: &str) -> Result<(Vec<Province>, Vec<Ward>), String> {
    let mut provinces = BTreeMap::new();
    let mut wards = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [pcode, pname, ptype, wcode, wname, wtype] = cols[..] else {
            return Err(format!("line {}: expected 6 columns", i + 1));
        };
        provinces
            .entry(pcode.to_owned())
            .or_insert_with(|| Province {
                code: pcode.to_owned(),
                name: pname.to_owned(),
                kind: ptype.to_owned(),
                name_folded: fold(pname),
            });
        wards.push(Ward {
            code: wcode.to_owned(),
            name: wname.to_owned(),
            kind: wtype.to_owned(),
            province_code: pcode.to_owned(),
            name_folded: fold(wname),
            centre_lat: None,
            centre_lon: None,
        });
    }
    Ok((provinces.into_values().collect(), wards))
}

/// Loads the administrative units if the tables are empty (call in a transaction).
pub fn load_admin_units(conn: &mut DbConnection) -> Result<bool, StoreError> {
    if admin_units::count_provinces(conn)? > 0 {
        return Ok(false);
    }
    let (provinces, wards) = parse_admin_units(ADMIN_UNITS_CSV).map_err(StoreError::Other)?;
    admin_units::insert_all(conn, &provinces, &wards)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_has_34_provinces_and_3321_communes() {
        let (provinces, wards) = parse_admin_units(ADMIN_UNITS_CSV).unwrap();
        assert_eq!(provinces.len(), 34);
        assert_eq!(wards.len(), 3321);
        assert_eq!(
            wards.iter().filter(|w| w.province_code == "82").count(),
            102
        );
        let cao_lanh = wards.iter().find(|w| w.code == "29869").unwrap();
        assert_eq!(cao_lanh.name, "Phường Cao Lãnh");
        assert_eq!(cao_lanh.name_folded, "phuong cao lanh");
    }

    #[test]
    fn malformed_lines_are_reported() {
        let err = parse_admin_units("header\n01,Hà Nội\n").unwrap_err();
        assert!(err.contains("line 2"));
    }
}
