//! Code 128 (ISO/IEC 15417) encoder for printable ASCII text.
//!
//! Uses code set B for text and switches to code set C (digit pairs) for runs
//! of digits long enough to make the symbol shorter. The output is the list of
//! bar and space widths, in modules, ready to be drawn as filled rectangles.

/// Bar/space widths (bar, space, bar, space, bar, space) of symbol values 0..=105.
const PATTERNS: [[u8; 6]; 106] = [
    [2, 1, 2, 2, 2, 2], // 0
    [2, 2, 2, 1, 2, 2],
    [2, 2, 2, 2, 2, 1],
    [1, 2, 1, 2, 2, 3],
    [1, 2, 1, 3, 2, 2],
    [1, 3, 1, 2, 2, 2],
    [1, 2, 2, 2, 1, 3],
    [1, 2, 2, 3, 1, 2],
    [1, 3, 2, 2, 1, 2],
    [2, 2, 1, 2, 1, 3],
    [2, 2, 1, 3, 1, 2], // 10
    [2, 3, 1, 2, 1, 2],
    [1, 1, 2, 2, 3, 2],
    [1, 2, 2, 1, 3, 2],
    [1, 2, 2, 2, 3, 1],
    [1, 1, 3, 2, 2, 2],
    [1, 2, 3, 1, 2, 2],
    [1, 2, 3, 2, 2, 1],
    [2, 2, 3, 2, 1, 1],
    [2, 2, 1, 1, 3, 2],
    [2, 2, 1, 2, 3, 1], // 20
    [2, 1, 3, 2, 1, 2],
    [2, 2, 3, 1, 1, 2],
    [3, 1, 2, 1, 3, 1],
    [3, 1, 1, 2, 2, 2],
    [3, 2, 1, 1, 2, 2],
    [3, 2, 1, 2, 2, 1],
    [3, 1, 2, 2, 1, 2],
    [3, 2, 2, 1, 1, 2],
    [3, 2, 2, 2, 1, 1],
    [2, 1, 2, 1, 2, 3], // 30
    [2, 1, 2, 3, 2, 1],
    [2, 3, 2, 1, 2, 1],
    [1, 1, 1, 3, 2, 3],
    [1, 3, 1, 1, 2, 3],
    [1, 3, 1, 3, 2, 1],
    [1, 1, 2, 3, 1, 3],
    [1, 3, 2, 1, 1, 3],
    [1, 3, 2, 3, 1, 1],
    [2, 1, 1, 3, 1, 3],
    [2, 3, 1, 1, 1, 3], // 40
    [2, 3, 1, 3, 1, 1],
    [1, 1, 2, 1, 3, 3],
    [1, 1, 2, 3, 3, 1],
    [1, 3, 2, 1, 3, 1],
    [1, 1, 3, 1, 2, 3],
    [1, 1, 3, 3, 2, 1],
    [1, 3, 3, 1, 2, 1],
    [3, 1, 3, 1, 2, 1],
    [2, 1, 1, 3, 3, 1],
    [2, 3, 1, 1, 3, 1], // 50
    [2, 1, 3, 1, 1, 3],
    [2, 1, 3, 3, 1, 1],
    [2, 1, 3, 1, 3, 1],
    [3, 1, 1, 1, 2, 3],
    [3, 1, 1, 3, 2, 1],
    [3, 3, 1, 1, 2, 1],
    [3, 1, 2, 1, 1, 3],
    [3, 1, 2, 3, 1, 1],
    [3, 3, 2, 1, 1, 1],
    [3, 1, 4, 1, 1, 1], // 60
    [2, 2, 1, 4, 1, 1],
    [4, 3, 1, 1, 1, 1],
    [1, 1, 1, 2, 2, 4],
    [1, 1, 1, 4, 2, 2],
    [1, 2, 1, 1, 2, 4],
    [1, 2, 1, 4, 2, 1],
    [1, 4, 1, 1, 2, 2],
    [1, 4, 1, 2, 2, 1],
    [1, 1, 2, 2, 1, 4],
    [1, 1, 2, 4, 1, 2], // 70
    [1, 2, 2, 1, 1, 4],
    [1, 2, 2, 4, 1, 1],
    [1, 4, 2, 1, 1, 2],
    [1, 4, 2, 2, 1, 1],
    [2, 4, 1, 2, 1, 1],
    [2, 2, 1, 1, 1, 4],
    [4, 1, 3, 1, 1, 1],
    [2, 4, 1, 1, 1, 2],
    [1, 3, 4, 1, 1, 1],
    [1, 1, 1, 2, 4, 2], // 80
    [1, 2, 1, 1, 4, 2],
    [1, 2, 1, 2, 4, 1],
    [1, 1, 4, 2, 1, 2],
    [1, 2, 4, 1, 1, 2],
    [1, 2, 4, 2, 1, 1],
    [4, 1, 1, 2, 1, 2],
    [4, 2, 1, 1, 1, 2],
    [4, 2, 1, 2, 1, 1],
    [2, 1, 2, 1, 4, 1],
    [2, 1, 4, 1, 2, 1], // 90
    [4, 1, 2, 1, 2, 1],
    [1, 1, 1, 1, 4, 3],
    [1, 1, 1, 3, 4, 1],
    [1, 3, 1, 1, 4, 1],
    [1, 1, 4, 1, 1, 3],
    [1, 1, 4, 3, 1, 1],
    [4, 1, 1, 1, 1, 3],
    [4, 1, 1, 3, 1, 1],
    [1, 1, 3, 1, 4, 1],
    [1, 1, 4, 1, 3, 1], // 100
    [3, 1, 1, 1, 4, 1],
    [4, 1, 1, 1, 3, 1],
    [2, 1, 1, 4, 1, 2], // 103: Start A
    [2, 1, 1, 2, 1, 4], // 104: Start B
    [2, 1, 1, 2, 3, 2], // 105: Start C
];

/// The stop pattern, including the final two-module termination bar.
const STOP: [u8; 7] = [2, 3, 3, 1, 1, 1, 2];

/// Symbol value that starts a symbol in code set B.
const START_B: u8 = 104;
/// Symbol value that starts a symbol in code set C.
const START_C: u8 = 105;
/// Symbol value that switches to code set B (when in code set C).
const CODE_B: u8 = 100;
/// Symbol value that switches to code set C (when in code set B).
const CODE_C: u8 = 99;

/// Recommended quiet zone on each side of the symbol, in modules.
pub const QUIET_ZONE_MODULES: u32 = 10;

/// Why a text cannot be encoded as Code 128.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Code128Error {
    /// Nothing to encode.
    #[error("cannot encode an empty text as Code 128")]
    Empty,
    /// A character outside printable ASCII (code set B and C only).
    #[error("character {0:?} cannot be encoded in Code 128 B/C")]
    UnsupportedChar(char),
}

/// Encodes `text` into Code 128 symbol values: the start symbol, the data
/// symbols (with code set switches) and the check symbol. The stop pattern is
/// not included (see [`modules`]).
pub fn encode(text: &str) -> Result<Vec<u8>, Code128Error> {
    if text.is_empty() {
        return Err(Code128Error::Empty);
    }
    if let Some(c) = text.chars().find(|c| !matches!(c, ' '..='~')) {
        return Err(Code128Error::UnsupportedChar(c));
    }
    let bytes = text.as_bytes();
    let digit_run = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };

    let lead = digit_run(0);
    let mut in_c = lead >= 4 || (lead == bytes.len() && lead % 2 == 0);
    let mut symbols = vec![if in_c { START_C } else { START_B }];
    let mut i = 0;
    while i < bytes.len() {
        if in_c {
            if digit_run(i) >= 2 {
                symbols.push((bytes[i] - b'0') * 10 + (bytes[i + 1] - b'0'));
                i += 2;
            } else {
                symbols.push(CODE_B);
                in_c = false;
            }
        } else {
            let run = digit_run(i);
            let reaches_end = i + run == bytes.len();
            if run >= 6 || (run >= 4 && reaches_end) {
                // Keep an odd leading digit in code set B so that set C gets pairs.
                if run % 2 == 1 {
                    symbols.push(bytes[i] - b' ');
                    i += 1;
                }
                symbols.push(CODE_C);
                in_c = true;
            } else {
                symbols.push(bytes[i] - b' ');
                i += 1;
            }
        }
    }
    symbols.push(check_symbol(&symbols));
    Ok(symbols)
}

/// Computes the modulo-103 check symbol for a start symbol followed by data
/// symbols: start + sum(position * value), positions counted from 1.
pub fn check_symbol(symbols: &[u8]) -> u8 {
    let sum: u64 = symbols
        .iter()
        .enumerate()
        .map(|(pos, &value)| u64::from(value) * (pos as u64).max(1))
        .sum();
    (sum % 103) as u8
}

/// Expands symbol values (as returned by [`encode`]) into alternating bar and
/// space widths in modules, starting with a bar and ending with the stop
/// pattern. Quiet zones are not included.
pub fn modules(symbols: &[u8]) -> Vec<u8> {
    let mut widths = Vec::with_capacity(symbols.len() * 6 + STOP.len());
    for &symbol in symbols {
        widths.extend_from_slice(&PATTERNS[usize::from(symbol)]);
    }
    widths.extend_from_slice(&STOP);
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let total: u8 = pattern.iter().sum();
            assert_eq!(total, 11, "symbol {value} is not 11 modules wide");
            let bars = pattern[0] + pattern[2] + pattern[4];
            assert_eq!(bars % 2, 0, "symbol {value} has odd bar parity");
            assert!(seen.insert(*pattern), "symbol {value} is duplicated");
        }
        assert_eq!(STOP.iter().sum::<u8>(), 13);
    }

    #[test]
    fn check_symbol_of_known_inputs() {
        // "Wikipedia" in code set B: 104 + 55*1 + 73*2 + ... = 3281 ≡ 88 (mod 103).
        let symbols = encode("Wikipedia").unwrap();
        assert_eq!(symbols[0], START_B);
        assert_eq!(*symbols.last().unwrap(), 88);

        // All digits, even length: pure code set C.
        assert_eq!(encode("123456").unwrap(), vec![START_C, 12, 34, 56, 44]);

        // A UPU S10 tracking code: one digit in B, then pairs in C, back to B.
        assert_eq!(
            encode("EB123456785VN").unwrap(),
            vec![START_B, 37, 34, 17, CODE_C, 23, 45, 67, 85, CODE_B, 54, 46, 16]
        );
    }

    #[test]
    fn short_digit_runs_stay_in_code_set_b() {
        // A run of 4 digits in the middle does not pay for two switches.
        assert_eq!(
            encode("AB1234CD").unwrap()[..9],
            [START_B, 33, 34, 17, 18, 19, 20, 35, 36]
        );
        // A trailing run of 4 digits switches to C once.
        let trailing = encode("AB1234").unwrap();
        assert_eq!(trailing[..6], [START_B, 33, 34, CODE_C, 12, 34]);
        // Odd number of leading digits: pairs in C, last digit in B.
        let odd = encode("12345").unwrap();
        assert_eq!(odd[..5], [START_C, 12, 34, CODE_B, 21]);
    }

    #[test]
    fn rejects_unencodable_text() {
        assert_eq!(encode(""), Err(Code128Error::Empty));
        assert_eq!(encode("Mã"), Err(Code128Error::UnsupportedChar('ã')));
        assert_eq!(encode("A\tB"), Err(Code128Error::UnsupportedChar('\t')));
    }

    #[test]
    fn modules_end_with_stop_pattern() {
        let symbols = encode("EB123456785VN").unwrap();
        let widths = modules(&symbols);
        assert_eq!(widths.len(), symbols.len() * 6 + 7);
        assert_eq!(widths[widths.len() - 7..], STOP);
        let total: u32 = widths.iter().map(|&w| u32::from(w)).sum();
        assert_eq!(total, symbols.len() as u32 * 11 + 13);
    }
}
