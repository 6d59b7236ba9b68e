//! Citizen identity numbers (số định danh cá nhân / CCCD): 12 digits.
//!
//! The first three digits are the province of birth registration (001–096 in the
//! 2016 code list), the fourth encodes century and sex, the next two the year of
//! birth, the last six are random. The check here is loose on purpose: 12 digits,
//! province code not `000`. The province list predates the 2025 reorganisation and
//! may be extended, so a range check would reject genuine numbers sooner or later.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// Length of a citizen identity number.
pub const ID_NUMBER_DIGITS: usize = 12;
/// Leading digits kept visible by [`IdNumber::masked`] (the province code).
pub const MASK_KEEP_START: usize = 3;
/// Trailing digits kept visible by [`IdNumber::masked`].
pub const MASK_KEEP_END: usize = 2;

/// Why an identity number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// A character other than a digit (spaces between groups are allowed).
    #[error("a citizen ID number contains only digits")]
    NotDigits,
    /// Not 12 digits; old 9-digit CMND numbers are no longer accepted.
    #[error("a citizen ID number has 12 digits, this one has {0}")]
    WrongLength(usize),
    /// `000` is no province.
    #[error("a citizen ID number cannot start with 000")]
    NoProvince,
}

/// A 12-digit citizen identity number; personal data, so its `Debug` is masked.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Reads a number as printed on the card, spaces between groups allowed.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let digits: String = input.chars().filter(|c| *c != ' ').collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdNumberError::NotDigits);
        }
        if digits.len() != ID_NUMBER_DIGITS {
            return Err(IdNumberError::WrongLength(digits.len()));
        }
        if digits.starts_with("000") {
            return Err(IdNumberError::NoProvince);
        }
        Ok(Self(digits))
    }

    /// The province code (first three digits), for statistics without the person.
    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    /// For screens and logs: keeps the province code and the last two digits,
    /// e.g. "087*******89"; the fourth digit (sex and century) stays hidden.
    pub fn masked(&self) -> String {
        let hidden = ID_NUMBER_DIGITS - MASK_KEEP_START - MASK_KEEP_END;
        format!(
            "{}{}{}",
            &self.0[..MASK_KEEP_START],
            "*".repeat(hidden),
            &self.0[ID_NUMBER_DIGITS - MASK_KEEP_END..]
        )
    }

    /// The full number, for storage and for the courier checking the card at the door.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IdNumber {
    type Err = IdNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_twelve_digits_with_optional_group_spaces() {
        for (input, want) in [
            ("087123456789", "087123456789"),
            (" 087 123 456 789 ", "087123456789"),
            ("001099000001", "001099000001"),
            ("096305012345", "096305012345"),
        ] {
            let id = IdNumber::parse(input).unwrap();
            assert_eq!(id.as_str(), want);
            assert_eq!(id.to_string(), want);
        }
        assert_eq!(
            IdNumber::parse("087123456789").unwrap().province_code(),
            "087"
        );
    }

    #[test]
    fn refuses_other_shapes() {
        use IdNumberError::*;
        for (input, want) in [
            ("", WrongLength(0)),
            ("123456789", WrongLength(9)), // old CMND
            ("0871234567890", WrongLength(13)),
            ("08712345678", WrongLength(11)),
            ("08712345678a", NotDigits),
            ("087-123-456-789", NotDigits),
            ("０８７１２３４５６７８９", NotDigits), // full-width digits
            ("000123456789", NoProvince),
        ] {
            assert_eq!(IdNumber::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn masks_all_but_province_and_last_two() {
        let id = IdNumber::parse("087123456789").unwrap();
        assert_eq!(id.masked(), "087*******89");
        assert_eq!(format!("{id:?}"), "IdNumber(\"087*******89\")");
    }

    #[test]
    fn serde_uses_the_digits() {
        let id: IdNumber = serde_json::from_str("\"087 123 456 789\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"087123456789\"");
        assert!(serde_json::from_str::<IdNumber>("\"000123456789\"").is_err());
    }
}
