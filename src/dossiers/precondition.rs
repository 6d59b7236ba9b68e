//! `If-Match`: a write made from an earlier read of a dossier names that read's version
//! (the `ETag` of `GET /api/v1/dossiers/{code}`, the `version` field of its views), and
//! is refused with 409 when the dossier moved since. Without the header a write decides
//! from the dossier as it is when its lock is taken.

use crate::db::models::dossiers::Dossier;
use crate::error::{ApiError, ErrorCode};

/// The longest `If-Match` value the API accepts (the spec's `maxLength`).
pub const MAX_LEN: usize = 200;

/// What the client expects the dossier's version to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// No `If-Match`, or `If-Match: *`.
    Any,
    /// One or more versions (`"7"`, `W/"7"`, `7`); anything else never matches.
    Versions(Vec<Option<i32>>),
}

impl Expect {
    /// The header's value, if it was sent: longer than the contract's `MAX_LEN` is 422
    /// (before anything is looked up, a replay of an Idempotency-Key included); a value
    /// that is not text never matches.
    pub fn from_header(value: Option<Result<&str, ()>>) -> Result<Self, ApiError> {
        match value {
            None => Ok(Expect::Any),
            Some(Ok(v)) if v.len() > MAX_LEN => Err(ApiError::new(
                ErrorCode::ValidationFailed,
                format!("If-Match dài tối đa {MAX_LEN} ký tự"),
            )),
            Some(Ok(v)) => Ok(Self::parse(v)),
            Some(Err(())) => Ok(Expect::Versions(vec![None])),
        }
    }

    /// Parses an `If-Match` value.
    pub fn parse(raw: &str) -> Self {
        if raw.trim() == "*" {
            return Expect::Any;
        }
        Expect::Versions(
            raw.split(',')
                .map(|tag| {
                    let t = tag.trim();
                    let t = t.strip_prefix("W/").unwrap_or(t);
                    let t = t
                        .strip_prefix('"')
                        .and_then(|t| t.strip_suffix('"'))
                        .unwrap_or(t);
                    t.parse::<i32>().ok()
                })
                .collect(),
        )
    }

    /// Whether the client named a version at all.
    pub fn is_any(&self) -> bool {
        matches!(self, Expect::Any)
    }

    /// 409 unless `d` is at a version the client expects.
    pub fn check(&self, d: &Dossier) -> Result<(), ApiError> {
        match self {
            Expect::Any => Ok(()),
            Expect::Versions(v) if v.contains(&Some(d.version)) => Ok(()),
            Expect::Versions(_) => Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "Hồ sơ đã thay đổi kể từ lần bạn xem (nay ở phiên bản {}, trạng thái “{}”); vui lòng tải lại rồi thử lại",
                    d.version,
                    crate::domain::dossier::DossierStatus::parse(&d.status)
                        .map(|s| s.label_vi())
                        .unwrap_or("?"),
                ),
            )),
        }
    }
}

/// The `ETag` of a dossier at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(Expect::parse("*"), Expect::Any);
        assert_eq!(Expect::parse("\"7\""), Expect::Versions(vec![Some(7)]));
        assert_eq!(Expect::parse("W/\"7\""), Expect::Versions(vec![Some(7)]));
        assert_eq!(Expect::parse("7"), Expect::Versions(vec![Some(7)]));
        assert_eq!(
            Expect::parse("\"3\", \"x\""),
            Expect::Versions(vec![Some(3), None])
        );
        assert!(!Expect::parse("\"x\"").is_any());
        let long = "0".repeat(MAX_LEN + 1);
        let refused = Expect::from_header(Some(Ok(&long)))
            .expect_err("too long for the contract, even though it reads as 0");
        assert_eq!(refused.code.status().as_u16(), 422);
        assert_eq!(
            Expect::from_header(Some(Ok(&long[1..]))).unwrap(),
            Expect::Versions(vec![Some(0)])
        );
        assert_eq!(Expect::from_header(None).unwrap(), Expect::Any);
    }
}
