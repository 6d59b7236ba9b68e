//! Text rules shared by every name-like field: folding for accent-insensitive search
//! and the bounds a human-entered name must respect.

/// Folds Vietnamese text for search: diacritics stripped (đ → d), lower case,
/// single spaces. `"Phường  Cao Lãnh"` and `"phuong cao lanh"` fold alike.
pub fn fold(text: &str) -> String {
    let plain = deunicode::deunicode(text).to_lowercase();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why a name-like field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("contains control characters")]
    ControlCharacters,
}

/// A trimmed, non-empty, bounded, printable line of text (names, addresses).
pub fn bounded_line(raw: &str, max_chars: usize) -> Result<String, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong(max_chars));
    }
    if text.chars().any(char::is_control) {
        return Err(TextError::ControlCharacters);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_strips_vietnamese_diacritics() {
        assert_eq!(fold("Phường Cao Lãnh"), "phuong cao lanh");
        assert_eq!(fold("  Đồng   Tháp "), "dong thap");
        assert_eq!(fold("Đặc khu Phú Quốc"), "dac khu phu quoc");
        assert_eq!(fold("cao lanh"), fold("CAO LÃNH"));
    }

    #[test]
    fn bounded_line_trims_and_bounds() {
        assert_eq!(bounded_line("  Bưu cục A ", 10).unwrap(), "Bưu cục A");
        assert_eq!(bounded_line("   ", 10), Err(TextError::Empty));
        assert_eq!(bounded_line("ơơơơơ", 4), Err(TextError::TooLong(4)));
        assert!(
            bounded_line("ơơơơ", 4).is_ok(),
            "counts characters, not bytes"
        );
        assert_eq!(
            bounded_line("a\u{0}b", 10),
            Err(TextError::ControlCharacters)
        );
    }
}
