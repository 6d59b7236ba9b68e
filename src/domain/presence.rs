//! Proof that the citizen was there: one-time codes sent to the citizen's phone, the
//! evidence a pickup or delivery needs, the recipient's identity check and the doorstep
//! document checklist. Plain rules, no storage.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a code may be used after it was sent.
pub const OTP_TTL_MINUTES: i64 = 10;
/// Wrong tries before a code is spent.
pub const OTP_MAX_TRIES: i32 = 5;
/// Codes one task may be sent within [`OTP_RESEND_WINDOW_MINUTES`].
pub const OTP_MAX_SENDS: i64 = 3;
/// See [`OTP_MAX_SENDS`].
pub const OTP_RESEND_WINDOW_MINUTES: i64 = 15;
/// Digits in a code.
pub const OTP_DIGITS: usize = 6;
/// Trailing digits of the recipient's ID number that must match at least.
pub const ID_DIGITS_MATCHED: usize = 4;

/// The key codes are hashed with, derived from the server's signing secret (so every
/// node of one deployment agrees on it, and it is not the token key itself).
pub fn otp_key(server_secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(server_secret).expect("HMAC takes any key");
    mac.update(b"buuta one-time codes v1");
    mac.finalize().into_bytes().to_vec()
}

/// A fresh code of [`OTP_DIGITS`] digits, uniformly drawn.
pub fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..OTP_DIGITS)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// The stored form of `code` for `task_id`: HMAC-SHA256 under the server's key, so the
/// digits cannot be read back from the database, nor a code moved to another task.
pub fn hash(key: &[u8], task_id: i64, code: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{task_id}:{code}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A stored code as the check needs it.
#[derive(Debug, Clone)]
pub struct StoredCode<'a> {
    pub hash: &'a str,
    pub expired: bool,
    pub tries: i32,
    pub used: bool,
}

/// What checking a given code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpVerdict {
    Valid,
    /// Wrong digits; `left` tries remain after this one.
    Wrong {
        left: i32,
    },
    NoneSent,
    Expired,
    Used,
    TooManyTries,
}

impl OtpVerdict {
    /// The courier's message.
    pub fn vi(&self) -> String {
        match self {
            OtpVerdict::Valid => "Mã OTP hợp lệ".into(),
            OtpVerdict::Wrong { left: 0 } => {
                "Mã OTP không đúng; mã này đã hết lượt thử, hãy gửi mã mới".into()
            }
            OtpVerdict::Wrong { left } => format!("Mã OTP không đúng (còn {left} lần thử)"),
            OtpVerdict::NoneSent => {
                "Chưa gửi mã OTP cho nhiệm vụ này; hãy bấm “Gửi mã OTP” trước".into()
            }
            OtpVerdict::Expired => "Mã OTP đã hết hạn; hãy gửi mã mới".into(),
            OtpVerdict::Used => "Mã OTP đã được dùng; hãy gửi mã mới".into(),
            OtpVerdict::TooManyTries => "Mã OTP đã hết lượt thử; hãy gửi mã mới".into(),
        }
    }
}

/// Checks `given` against the task's code in force.
pub fn check(key: &[u8], task_id: i64, stored: Option<StoredCode<'_>>, given: &str) -> OtpVerdict {
    let Some(s) = stored else {
        return OtpVerdict::NoneSent;
    };
    if s.used {
        return OtpVerdict::Used;
    }
    if s.expired {
        return OtpVerdict::Expired;
    }
    if s.tries >= OTP_MAX_TRIES {
        return OtpVerdict::TooManyTries;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{task_id}:{given}").as_bytes());
    match hex::decode(s.hash) {
        Ok(expected) if mac.verify_slice(&expected).is_ok() => OtpVerdict::Valid,
        _ => OtpVerdict::Wrong {
            left: OTP_MAX_TRIES - s.tries - 1,
        },
    }
}

/// What a pickup or delivery must carry as evidence of the citizen's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// A code sent to the citizen's phone (an SMS gateway is configured).
    Otp,
    /// The citizen's drawn signature (no SMS gateway: no code can reach the citizen).
    Signature,
}

impl Evidence {
    /// The rule in force.
    pub fn required(sms_configured: bool) -> Self {
        if sms_configured {
            Evidence::Otp
        } else {
            Evidence::Signature
        }
    }
}

/// Why the recipient's ID digits were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMismatch {
    /// Not 4–12 digits.
    Malformed,
    /// The dossier has no ID number, so the whole 12 digits are needed.
    NeedsFullNumber,
    /// They are not the dossier's.
    Mismatch,
}

impl IdMismatch {
    /// The courier's message.
    pub fn vi(&self) -> &'static str {
        match self {
            IdMismatch::Malformed => "Số định danh người nhận gồm 4–12 chữ số",
            IdMismatch::NeedsFullNumber => {
                "Hồ sơ chưa có số định danh: cần ghi đủ 12 chữ số trên căn cước của người nhận"
            }
            IdMismatch::Mismatch => {
                "Số định danh người nhận không khớp với hồ sơ: chỉ giao cho người đứng tên hoặc người được ủy quyền có giấy tờ hợp lệ"
            }
        }
    }
}

/// Checks the recipient's ID number (at least its last [`ID_DIGITS_MATCHED`] digits, or
/// all 12) against the dossier's; without one on the dossier, all 12 are required.
pub fn check_recipient_id(dossier_id_number: Option<&str>, given: &str) -> Result<(), IdMismatch> {
    let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    if !(ID_DIGITS_MATCHED..=12).contains(&given.len())
        || !given.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(IdMismatch::Malformed);
    }
    match dossier_id_number {
        None => {
            if given.len() == 12 {
                Ok(())
            } else {
                Err(IdMismatch::NeedsFullNumber)
            }
        }
        Some(own) if own.ends_with(&given) => Ok(()),
        Some(_) => Err(IdMismatch::Mismatch),
    }
}

/// The procedure's required documents that the courier's checklist does not name
/// (compared without case, accents or extra spaces).
pub fn missing_documents(required: &[String], checked: &[String]) -> Vec<String> {
    let norm = |s: &str| crate::domain::text::fold(s);
    let checked: Vec<String> = checked.iter().map(|c| norm(c)).collect();
    required
        .iter()
        .filter(|r| !checked.contains(&norm(r)))
        .cloned()
        .collect()
}

/// The documents the courier recorded that the clerk's count does not name.
pub fn shortfall(courier: &[String], desk: &[String]) -> Vec<String> {
    missing_documents(courier, desk)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"k";

    fn stored(h: &str) -> StoredCode<'_> {
        StoredCode {
            hash: h,
            expired: false,
            tries: 0,
            used: false,
        }
    }

    #[test]
    fn codes_have_six_digits_and_vary() {
        let a = new_code();
        assert_eq!(a.len(), OTP_DIGITS);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let many: std::collections::HashSet<String> = (0..50).map(|_| new_code()).collect();
        assert!(many.len() > 40, "codes repeat too often: {}", many.len());
    }

    #[test]
    fn the_right_code_for_the_right_task_is_valid() {
        let h = hash(KEY, 7, "123456");
        assert_eq!(check(KEY, 7, Some(stored(&h)), "123456"), OtpVerdict::Valid);
        assert_eq!(
            check(KEY, 7, Some(stored(&h)), "123457"),
            OtpVerdict::Wrong { left: 4 }
        );
        // Another task's code, or another server key, does not pass.
        assert!(matches!(
            check(KEY, 8, Some(stored(&h)), "123456"),
            OtpVerdict::Wrong { .. }
        ));
        assert!(matches!(
            check(b"other", 7, Some(stored(&h)), "123456"),
            OtpVerdict::Wrong { .. }
        ));
        assert!(!h.contains("123456"));
    }

    #[test]
    fn spent_codes_are_refused_even_when_right() {
        let h = hash(KEY, 1, "000111");
        let mut s = stored(&h);
        s.used = true;
        assert_eq!(check(KEY, 1, Some(s.clone()), "000111"), OtpVerdict::Used);
        s.used = false;
        s.expired = true;
        assert_eq!(
            check(KEY, 1, Some(s.clone()), "000111"),
            OtpVerdict::Expired
        );
        s.expired = false;
        s.tries = OTP_MAX_TRIES;
        assert_eq!(
            check(KEY, 1, Some(s.clone()), "000111"),
            OtpVerdict::TooManyTries
        );
        s.tries = OTP_MAX_TRIES - 1;
        assert_eq!(
            check(KEY, 1, Some(s), "999999"),
            OtpVerdict::Wrong { left: 0 }
        );
        assert_eq!(check(KEY, 1, None, "000111"), OtpVerdict::NoneSent);
    }

    #[test]
    fn recipient_id_digits() {
        let own = Some("087123456789");
        assert_eq!(check_recipient_id(own, "6789"), Ok(()));
        assert_eq!(check_recipient_id(own, "087123456789"), Ok(()));
        assert_eq!(check_recipient_id(own, "0871 2345 6789"), Ok(()));
        assert_eq!(check_recipient_id(own, "6788"), Err(IdMismatch::Mismatch));
        assert_eq!(check_recipient_id(own, "789"), Err(IdMismatch::Malformed));
        assert_eq!(check_recipient_id(own, "67a9"), Err(IdMismatch::Malformed));
        assert_eq!(
            check_recipient_id(None, "6789"),
            Err(IdMismatch::NeedsFullNumber)
        );
        assert_eq!(check_recipient_id(None, "087123456789"), Ok(()));
    }

    #[test]
    fn missing_documents_by_name() {
        let required = vec!["Tờ khai".to_owned(), "Bản sao căn cước".to_owned()];
        assert!(
            missing_documents(&required, &["to khai".into(), "Bản sao  căn cước".into()])
                .is_empty()
        );
        assert_eq!(
            missing_documents(&required, &["Tờ khai".into()]),
            vec!["Bản sao căn cước".to_owned()]
        );
        assert_eq!(
            shortfall(&["A".into(), "B".into()], &["a".into()]),
            vec!["B".to_owned()]
        );
    }

    #[test]
    fn evidence_follows_the_gateway() {
        assert_eq!(Evidence::required(true), Evidence::Otp);
        assert_eq!(Evidence::required(false), Evidence::Signature);
    }
}
