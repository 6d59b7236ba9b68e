//! Ward (commune-level unit) codes from the official 2025 list: five digits.
//!
//! Only the syntax is checked here; whether the ward exists is a database question.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// Length of an official commune-level code.
pub const WARD_CODE_DIGITS: usize = 5;

/// Why a ward code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WardCodeError {
    /// Not five characters.
    #[error("a ward code has 5 digits, this one has {0} characters")]
    WrongLength(usize),
    /// Five characters, not all ASCII digits.
    #[error("a ward code contains only digits")]
    NotDigits,
}

/// A syntactically valid ward code, e.g. "29869"; addresses are a street line plus this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct WardCode(String);

impl WardCode {
    /// Accepts exactly five ASCII digits, surrounding blanks trimmed; leading zeros are kept.
    pub fn parse(input: &str) -> Result<Self, WardCodeError> {
        let code = input.trim();
        let len = code.chars().count();
        if len != WARD_CODE_DIGITS {
            return Err(WardCodeError::WrongLength(len));
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WardCodeError::NotDigits);
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as stored and looked up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for WardCode {
    type Err = WardCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for WardCode {
    type Error = WardCodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for WardCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_five_digits() {
        for (input, want) in [("29869", "29869"), (" 00004 ", "00004"), ("32248", "32248")] {
            assert_eq!(WardCode::parse(input).unwrap().as_str(), want);
        }
    }

    #[test]
    fn refuses_other_shapes() {
        use WardCodeError::*;
        for (input, want) in [
            ("", WrongLength(0)),
            ("2986", WrongLength(4)),
            ("298690", WrongLength(6)),
            ("2986a", NotDigits),
            ("29 69", NotDigits),
            ("-2986", NotDigits),
            ("２９８６９", NotDigits), // full-width digits
        ] {
            assert_eq!(WardCode::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn serde_uses_the_string() {
        let w: WardCode = serde_json::from_str("\"00004\"").unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), "\"00004\"");
        assert!(serde_json::from_str::<WardCode>("\"4\"").is_err());
        assert!(serde_json::from_str::<WardCode>("4").is_err()); // a number loses zeros
    }
}
