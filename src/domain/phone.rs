//! Vietnamese phone numbers, as a citizen or operator types them.
//!
//! Accepted: `0…`, `+84…`, `84…` (also `+84 0…`), with spaces, dots, dashes or
//! parentheses as separators. Stored as `0` + national significant number:
//! mobiles are 10 digits (`03`, `05`, `07`, `08`, `09`), landlines 11 digits
//! (`02` + area code, e.g. `028 3822 1234`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// Digits of a mobile number in national form (with the leading `0`).
pub const MOBILE_DIGITS: usize = 10;
/// Digits of a landline number in national form (with the leading `0`).
pub const LANDLINE_DIGITS: usize = 11;

/// Which network a number belongs to; only mobiles can receive SMS notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    /// `03`, `05`, `07`, `08`, `09` + 8 digits.
    Mobile,
    /// `02` + area code + subscriber number, 11 digits in all.
    Landline,
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but blanks and separators.
    #[error("the phone number is empty")]
    Empty,
    /// A character that is neither a digit nor an allowed separator.
    #[error("the phone number contains {0:?}; only digits, spaces, dots, dashes and parentheses are allowed")]
    InvalidCharacter(char),
    /// A `+` followed by another country code.
    #[error("only Vietnamese numbers (+84) are accepted")]
    NotVietnamese,
    /// Neither `0`, `+84` nor `84` at the start.
    #[error("a phone number starts with 0, +84 or 84")]
    MissingPrefix,
    /// The digit after the leading `0` names no mobile or landline range.
    #[error("no Vietnamese mobile or landline number starts with 0{0}")]
    UnknownPrefix(char),
    /// Right prefix, wrong number of digits.
    #[error("a Vietnamese {kind} number has {expected} digits (0 included), this one has {found}")]
    WrongLength {
        /// "mobile" or "landline".
        kind: &'static str,
        /// Digits required in national form.
        expected: usize,
        /// Digits given in national form.
        found: usize,
    },
}

impl PhoneError {
    /// The problem in Vietnamese, for people.
    pub fn vi(&self) -> String {
        match self {
            Self::Empty => "số điện thoại trống".into(),
            Self::InvalidCharacter(c) => {
                format!(
                    "có ký tự “{c}”; chỉ được dùng chữ số, dấu cách, dấu chấm, gạch ngang và ngoặc"
                )
            }
            Self::NotVietnamese => "chỉ nhận số Việt Nam (+84)".into(),
            Self::MissingPrefix => "số điện thoại bắt đầu bằng 0, +84 hoặc 84".into(),
            Self::UnknownPrefix(d) => {
                format!("không có đầu số di động hay cố định nào bắt đầu bằng 0{d}")
            }
            Self::WrongLength {
                kind,
                expected,
                found,
            } => format!(
                "số {} có {expected} chữ số (kể cả số 0 đầu), số này có {found}",
                if *kind == "mobile" {
                    "di động"
                } else {
                    "cố định"
                }
            ),
        }
    }
}

/// A Vietnamese phone number in national form, e.g. "0912345678"; finds returning citizens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Phone(String);

impl Phone {
    /// Reads a number in any usual Vietnamese notation and normalises it.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        let plus = input.starts_with('+');
        let mut digits = String::with_capacity(input.len());
        for c in input.chars().skip(usize::from(plus)) {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                _ => return Err(PhoneError::InvalidCharacter(c)),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        let nsn = match (plus, digits.strip_prefix('0')) {
            (false, Some(national)) => national,
            (true, _) => after_country_code(&digits).ok_or(PhoneError::NotVietnamese)?,
            (false, None) => after_country_code(&digits).ok_or(PhoneError::MissingPrefix)?,
        };
        let national = format!("0{nsn}");
        let (kind, expected) = match nsn.chars().next() {
            Some('3' | '5' | '7' | '8' | '9') => ("mobile", MOBILE_DIGITS),
            Some('2') => ("landline", LANDLINE_DIGITS),
            Some(c) => return Err(PhoneError::UnknownPrefix(c)),
            None => {
                return Err(PhoneError::WrongLength {
                    kind: "mobile",
                    expected: MOBILE_DIGITS,
                    found: 1,
                })
            }
        };
        if national.len() != expected {
            return Err(PhoneError::WrongLength {
                kind,
                expected,
                found: national.len(),
            });
        }
        Ok(Self(national))
    }

    /// Mobile or landline, so notices go only where SMS can arrive.
    pub fn kind(&self) -> PhoneKind {
        if self.0.starts_with("02") {
            PhoneKind::Landline
        } else {
            PhoneKind::Mobile
        }
    }

    /// The last four digits, which a citizen gives to see their own tracking details.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// International form, e.g. "+84912345678", for SMS gateways.
    pub fn e164(&self) -> String {
        format!("+84{}", &self.0[1..])
    }

    /// The national form, e.g. "0912345678", for storage and search.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The national significant number after `84`, also when written "84 (0) 912…" by habit.
fn after_country_code(digits: &str) -> Option<&str> {
    let nsn = digits.strip_prefix("84")?;
    Some(nsn.strip_prefix('0').unwrap_or(nsn))
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_every_usual_notation() {
        let cases = [
            ("0912345678", "0912345678", PhoneKind::Mobile),
            ("+84912345678", "0912345678", PhoneKind::Mobile),
            ("84912345678", "0912345678", PhoneKind::Mobile),
            ("+84 (0) 912 345 678", "0912345678", PhoneKind::Mobile),
            ("0912.345.678", "0912345678", PhoneKind::Mobile),
            ("  091-234-5678 ", "0912345678", PhoneKind::Mobile),
            ("0321234567", "0321234567", PhoneKind::Mobile),
            ("0561234567", "0561234567", PhoneKind::Mobile),
            ("0761234567", "0761234567", PhoneKind::Mobile),
            ("0841234567", "0841234567", PhoneKind::Mobile),
            ("(028) 3822 1234", "02838221234", PhoneKind::Landline),
            ("+84 24 3825 3536", "02438253536", PhoneKind::Landline),
            ("842773851234", "02773851234", PhoneKind::Landline),
        ];
        for (input, want, kind) in cases {
            let p = Phone::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(p.as_str(), want, "{input:?}");
            assert_eq!(p.kind(), kind, "{input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_vietnamese_number() {
        use PhoneError::*;
        let wrong = |kind, expected, found| WrongLength {
            kind,
            expected,
            found,
        };
        let cases = [
            ("", Empty),
            (" - . ", Empty),
            ("+", Empty),
            ("0912a45678", InvalidCharacter('a')),
            ("0912/345678", InvalidCharacter('/')),
            ("09123+45678", InvalidCharacter('+')),
            ("+1 202 555 0100", NotVietnamese),
            ("912345678", MissingPrefix),
            ("0084912345678", UnknownPrefix('0')),
            ("0112345678", UnknownPrefix('1')),
            ("0412345678", UnknownPrefix('4')),
            ("0612345678", UnknownPrefix('6')),
            ("0", wrong("mobile", 10, 1)),
            ("091234567", wrong("mobile", 10, 9)),
            ("09123456789", wrong("mobile", 10, 11)),
            ("8491234567", wrong("mobile", 10, 9)),
            ("0283822123", wrong("landline", 11, 10)),
            ("028382212345", wrong("landline", 11, 12)),
        ];
        for (input, want) in cases {
            assert_eq!(Phone::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn gives_last_four_and_international_form() {
        let p = Phone::parse("091 234 5678").unwrap();
        assert_eq!(p.last4(), "5678");
        assert_eq!(p.e164(), "+84912345678");
        let l = Phone::parse("02838221234").unwrap();
        assert_eq!(l.last4(), "1234");
        assert_eq!(l.e164(), "+842838221234");
    }

    #[test]
    fn serde_uses_the_national_form() {
        let p: Phone = serde_json::from_str("\"+84 912 345 678\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"0912345678\"");
        assert!(serde_json::from_str::<Phone>("\"12345\"").is_err());
    }
}
