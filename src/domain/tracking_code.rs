//! Tracking codes: the UPU S10 identifier printed on every dossier's receipt.
//!
//! Form: two letters (service indicator), eight digits (serial), one check digit,
//! and the country code `VN`, e.g. `EB123456785VN`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// Weights of UPU S10 applied to the eight serial digits, left to right.
pub const S10_WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
/// Serials must fit in eight digits.
pub const MAX_SERIAL: u64 = 99_999_999;
/// Country code that ends every code issued by Buuta.
pub const COUNTRY: &str = "VN";

/// Why a tracking code was refused or could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingCodeError {
    /// Not two letters, nine digits and `VN`.
    #[error("a tracking code is two letters, nine digits and VN, e.g. EB123456785VN")]
    BadFormat,
    /// Well formed, but the check digit does not match the serial (a typo).
    #[error("the check digit of the tracking code is wrong (expected {expected}, found {found})")]
    BadCheckDigit {
        /// Check digit computed from the serial.
        expected: u8,
        /// Check digit that was given.
        found: u8,
    },
    /// An issuing prefix must be exactly two ASCII letters.
    #[error("a tracking code prefix is exactly two letters")]
    BadPrefix,
    /// The sequence ran past what eight digits can hold.
    #[error("serial {0} does not fit in eight digits")]
    SerialOutOfRange(u64),
}

/// S10 check digit of eight serial digits (each 0–9), so a code can be checked offline.
pub fn check_digit(digits: [u8; 8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(S10_WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c as u8,
    }
}

/// A well-formed tracking code whose check digit is right; the only way to name a dossier publicly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct TrackingCode(String);

impl TrackingCode {
    /// Reads a code typed or scanned by a person: trims it and accepts lower case.
    pub fn parse(input: &str) -> Result<Self, TrackingCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let well_formed = b.len() == 13
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..11].iter().all(u8::is_ascii_digit)
            && &code[11..] == COUNTRY;
        if !well_formed {
            return Err(TrackingCodeError::BadFormat);
        }
        let expected = check_digit(serial_digits(&b[2..10]));
        let found = b[10] - b'0';
        if expected != found {
            return Err(TrackingCodeError::BadCheckDigit { expected, found });
        }
        Ok(Self(code))
    }

    /// Builds the code for a new dossier from a prefix (e.g. "HS") and a database sequence value.
    pub fn issue(prefix: &str, serial: u64) -> Result<Self, TrackingCodeError> {
        let prefix = prefix.to_ascii_uppercase();
        if prefix.len() != 2 || !prefix.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(TrackingCodeError::BadPrefix);
        }
        if serial > MAX_SERIAL {
            return Err(TrackingCodeError::SerialOutOfRange(serial));
        }
        let digits = format!("{serial:08}");
        let check = check_digit(serial_digits(digits.as_bytes()));
        Ok(Self(format!("{prefix}{digits}{check}{COUNTRY}")))
    }

    /// The two-letter service indicator, for grouping codes by issuer.
    pub fn prefix(&self) -> &str {
        &self.0[..2]
    }

    /// The eight-digit serial, to find the sequence value the code was issued from.
    pub fn serial(&self) -> u64 {
        self.0[2..10]
            .parse()
            .expect("eight ASCII digits, checked by parse")
    }

    /// The normalised code, e.g. for storage and URLs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Turns eight ASCII digits (already checked) into their values.
fn serial_digits(ascii: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    for (o, c) in out.iter_mut().zip(ascii) {
        *o = c - b'0';
    }
    out
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TrackingCode {
    type Err = TrackingCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TrackingCode {
    type Error = TrackingCodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for TrackingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_follows_s10() {
        let cases: [([u8; 8], u8); 4] = [
            ([1, 2, 3, 4, 5, 6, 7, 8], 5), // the reference example, sum 204
            ([0, 0, 0, 0, 0, 0, 1, 7], 8), // API.md's HS000000178VN
            ([0, 0, 0, 0, 0, 0, 0, 0], 5), // sum 0: 11 → 5
            ([0, 0, 0, 0, 0, 0, 0, 3], 1), // sum 21: 11 − 10 = 1
        ];
        for (digits, want) in cases {
            assert_eq!(check_digit(digits), want, "{digits:?}");
        }
        // 6·2 = 12, 12 mod 11 = 1, 11 − 1 = 10 → 0
        assert_eq!(check_digit([0, 0, 0, 6, 0, 0, 0, 0]), 0);
    }

    #[test]
    fn parses_and_normalises_valid_codes() {
        for (input, want) in [
            ("EB123456785VN", "EB123456785VN"),
            ("  eb123456785vn \n", "EB123456785VN"),
            ("HS000000178VN", "HS000000178VN"),
        ] {
            let code = TrackingCode::parse(input).unwrap();
            assert_eq!(code.as_str(), want);
            assert_eq!(code.to_string(), want);
        }
        let code: TrackingCode = "EB123456785VN".parse().unwrap();
        assert_eq!(code.prefix(), "EB");
        assert_eq!(code.serial(), 12_345_678);
    }

    #[test]
    fn refuses_malformed_codes() {
        for input in [
            "",
            "EB12345678VN",    // too short
            "EB1234567855VN",  // too long
            "E1123456785VN",   // digit in prefix
            "EB12345678AVN",   // letter as check digit
            "EB123456785US",   // not Vietnam
            "ÉB123456785VN",   // non-ASCII letter
            "EB 123456785VN",  // inner space
            "EB123456785VN\0", // control char
        ] {
            assert_eq!(
                TrackingCode::parse(input),
                Err(TrackingCodeError::BadFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn refuses_wrong_check_digit() {
        assert_eq!(
            TrackingCode::parse("EB123456784VN"),
            Err(TrackingCodeError::BadCheckDigit {
                expected: 5,
                found: 4
            })
        );
    }

    #[test]
    fn issues_codes_that_parse_back() {
        let code = TrackingCode::issue("hs", 17).unwrap();
        assert_eq!(code.as_str(), "HS000000178VN");
        for serial in [0, 1, 12_345_678, MAX_SERIAL] {
            let code = TrackingCode::issue("EB", serial).unwrap();
            assert_eq!(TrackingCode::parse(code.as_str()), Ok(code.clone()));
            assert_eq!(code.serial(), serial);
        }
    }

    #[test]
    fn refuses_to_issue_bad_prefix_or_serial() {
        for prefix in ["", "H", "HSX", "H1", "Đ1"] {
            assert_eq!(
                TrackingCode::issue(prefix, 1),
                Err(TrackingCodeError::BadPrefix),
                "{prefix:?}"
            );
        }
        assert_eq!(
            TrackingCode::issue("HS", 100_000_000),
            Err(TrackingCodeError::SerialOutOfRange(100_000_000))
        );
    }

    #[test]
    fn serde_round_trips_through_the_string() {
        let code = TrackingCode::parse("eb123456785vn").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"EB123456785VN\"");
        let back: TrackingCode = serde_json::from_str("\"eb123456785vn\"").unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<TrackingCode>("\"EB123456784VN\"").is_err());
    }
}
