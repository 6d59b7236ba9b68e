//! The printable receipt (biên nhận hồ sơ) the courier leaves with the citizen:
//! an A4 portrait PDF with the tracking code as text, a Code 128 barcode and a
//! QR code to the public tracking page, the citizen, the procedure, the
//! documents counted, the fees, the pickup window and signature boxes.
//!
//! Everything is drawn as vectors with `pdf-writer`; the DejaVu Sans fonts
//! (from the `dejavu` crate, compiled into the binary) are embedded as subsets
//! with a ToUnicode map, so Vietnamese renders everywhere and text can be
//! copied or extracted. No network or system font is used at run time.
//! Texts are normalized to NFC first; they are not shaped (no kerning or
//! ligatures), which Vietnamese in precomposed form does not need.

pub mod code128;
mod compose;
mod font;
mod layout;

/// Everything printed on the receipt, already formatted for people.
#[derive(Debug, Clone, Default)]
pub struct ReceiptData {
    /// Tracking code, e.g. "EB123456785VN" (printable ASCII: it is also a barcode).
    pub tracking_code: String,
    /// When the receipt was issued, e.g. "23/11/2026 08:15".
    pub issued_at: String,
    /// Citizen's full name, e.g. "Nguyễn Văn An".
    pub citizen_name: String,
    /// Citizen's phone number, e.g. "0912 345 678".
    pub citizen_phone: String,
    /// Pickup address, e.g. "123 Nguyễn Huệ, Phường Cao Lãnh, Đồng Tháp".
    pub address: String,
    /// Code of the administrative procedure.
    pub procedure_code: String,
    /// Name of the procedure, e.g. "Cấp đổi giấy phép lái xe".
    pub procedure_name: String,
    /// Agency that handles the procedure.
    pub agency_name: String,
    /// Documents counted at pickup; before counting, the required documents
    /// (printed as "to be checked"). May be empty.
    pub documents: Vec<String>,
    /// True once the documents were counted at pickup.
    pub documents_checked: bool,
    /// Postal service fee, in VND.
    pub postal_fee_vnd: i64,
    /// Agency fee for the procedure, in VND.
    pub agency_fee_vnd: i64,
    /// Total to pay, in VND.
    pub total_vnd: i64,
    /// Agreed pickup window, e.g. "08:00–11:00 ngày 23/11/2026".
    pub pickup_window: String,
    /// How the result is returned, e.g. "Trả kết quả tại nhà".
    pub return_method: String,
    /// Public tracking page, encoded in the QR code.
    pub tracking_url: String,
    /// Support hotline, e.g. "1900 0000".
    pub hotline: String,
}

/// Why a receipt could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The tracking code cannot be drawn as a Code 128 barcode (empty, or not
    /// printable ASCII).
    #[error("tracking code cannot be printed as a barcode: {0}")]
    Barcode(#[from] code128::Code128Error),
    /// The tracking URL does not fit in a QR code.
    #[error("tracking URL cannot be printed as a QR code: {0}")]
    QrCode(#[from] qrcode::types::QrError),
    /// The embedded font could not be read or subsetted (a bug, not bad input).
    #[error("embedded font: {0}")]
    Font(String),
}

/// Renders an A4 portrait PDF (more pages if the texts are very long).
///
/// The document info Title is "Biên nhận hồ sơ {tracking_code}" (stored as
/// UTF-16, as PDF requires for non-ASCII text); the tracking code also appears
/// verbatim in the ASCII Keywords entry and in the link on the QR code.
pub fn render_pdf(data: &ReceiptData) -> Result<Vec<u8>, ReceiptError> {
    let data = &data.to_nfc();
    let canvas = compose::compose(data)?;
    let info = layout::DocInfo {
        title: format!("Biên nhận hồ sơ {}", data.tracking_code),
        subject: format!("Biên nhận hồ sơ: {}", data.procedure_name),
        keywords: data.tracking_code.clone(),
        author: "Bưu chính công ích".to_owned(),
    };
    canvas.finish(&info)
}

impl ReceiptData {
    /// A copy with every text in Unicode NFC. Decomposed Vietnamese (base
    /// letter + combining marks, as some keyboards and macOS produce) would
    /// otherwise print with stacked marks colliding, since text is not shaped.
    fn to_nfc(&self) -> Self {
        let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
        let n = |text: &str| nfc.normalize(text).into_owned();
        Self {
            tracking_code: n(&self.tracking_code),
            issued_at: n(&self.issued_at),
            citizen_name: n(&self.citizen_name),
            citizen_phone: n(&self.citizen_phone),
            address: n(&self.address),
            procedure_code: n(&self.procedure_code),
            procedure_name: n(&self.procedure_name),
            agency_name: n(&self.agency_name),
            documents: self.documents.iter().map(|d| n(d)).collect(),
            documents_checked: self.documents_checked,
            postal_fee_vnd: self.postal_fee_vnd,
            agency_fee_vnd: self.agency_fee_vnd,
            total_vnd: self.total_vnd,
            pickup_window: n(&self.pickup_window),
            return_method: n(&self.return_method),
            tracking_url: self.tracking_url.clone(),
            hotline: n(&self.hotline),
        }
    }
}

/// Formats VND like "135.000 ₫" (Vietnamese thousands separator '.').
pub fn format_vnd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3 + 6);
    if amount < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out.push_str(" ₫");
    out
}

#[cfg(test)]
mod tests {
    use super::layout::{Canvas, Weight};
    use super::*;

    fn sample() -> ReceiptData {
        ReceiptData {
            tracking_code: "EB123456785VN".into(),
            issued_at: "23/11/2026 08:15".into(),
            citizen_name: "Nguyễn Văn An".into(),
            citizen_phone: "0912 345 678".into(),
            address: "123 Nguyễn Huệ, Phường Cao Lãnh, Đồng Tháp".into(),
            procedure_code: "1.002804".into(),
            procedure_name: "Cấp đổi giấy phép lái xe".into(),
            agency_name: "Sở Xây dựng tỉnh Đồng Tháp".into(),
            documents: vec![
                "Đơn đề nghị đổi giấy phép lái xe (bản chính)".into(),
                "Giấy khám sức khỏe của người lái xe".into(),
                "Bản sao giấy phép lái xe".into(),
            ],
            documents_checked: true,
            postal_fee_vnd: 35_000,
            agency_fee_vnd: 135_000,
            total_vnd: 170_000,
            pickup_window: "08:00–11:00 ngày 23/11/2026".into(),
            return_method: "Trả kết quả tại nhà".into(),
            tracking_url: "http://127.0.0.1:8080/track/EB123456785VN".into(),
            hotline: "1900 0000".into(),
        }
    }

    /// Decodes the UTF-16BE hex string of the info dictionary's /Title.
    fn title_of(pdf: &[u8]) -> String {
        let text = String::from_utf8_lossy(pdf);
        let start = text.find("/Title <").expect("a hex /Title") + "/Title <".len();
        let hex = &text[start..start + text[start..].find('>').unwrap()];
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(bytes[..2], [0xFE, 0xFF], "UTF-16BE byte order mark");
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    #[test]
    fn format_vnd_groups_thousands_with_dots() {
        assert_eq!(format_vnd(135_000), "135.000 ₫");
        assert_eq!(format_vnd(0), "0 ₫");
        assert_eq!(format_vnd(999), "999 ₫");
        assert_eq!(format_vnd(1_000), "1.000 ₫");
        assert_eq!(format_vnd(1_234_567), "1.234.567 ₫");
        assert_eq!(format_vnd(-50_000), "-50.000 ₫");
        assert_eq!(format_vnd(i64::MIN), "-9.223.372.036.854.775.808 ₫");
    }

    #[test]
    fn fonts_cover_vietnamese_and_dong_sign() {
        let canvas = Canvas::new(800.0, String::new()).unwrap();
        let alphabet = "ĐđƠơƯư–—…₫·\
            ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ\
            àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ";
        for weight in [Weight::Regular, Weight::Bold] {
            for c in alphabet.chars() {
                assert!(canvas.has_glyph(weight, c), "{weight:?} lacks {c:?}");
            }
        }
    }

    #[test]
    fn renders_a_pdf_with_the_tracking_code_in_its_title() {
        let mut data = sample();
        data.citizen_name = "Tôn Nữ Thị Hoàng Phương Thảo Nguyễn Phúc Vĩnh Thụy Bảo Đại ".repeat(3);
        data.address = "Số 123/45/6 đường Nguyễn Thị Minh Khai, khóm Mỹ Tây, \
            Phường Cao Lãnh, tỉnh Đồng Tháp (gần chợ, hẻm đối diện trường tiểu học, \
            gọi trước khi đến)"
            .repeat(2);
        data.procedure_name = "Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp \
            (trường hợp giấy phép lái xe bị hỏng, hết hạn sử dụng hoặc có sai sót thông tin)"
            .into();
        data.documents
            .push("Giấy tờ tùy thân: căn cước công dân hoặc hộ chiếu còn thời hạn ".repeat(4));
        data.tracking_url = format!("{}?ref={}", data.tracking_url, "x".repeat(150));

        let pdf = render_pdf(&data).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(contains(&pdf, "EB123456785VN"));
        assert_eq!(title_of(&pdf), "Biên nhận hồ sơ EB123456785VN");
        assert!(contains(&pdf, "/Keywords (EB123456785VN)"));
        assert!(contains(&pdf, "/FontFile2"));
        assert!(contains(&pdf, "/ToUnicode"));
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    }

    #[test]
    fn decomposed_vietnamese_is_composed_before_printing() {
        let mut data = sample();
        // "Nguyễn" as n-g-u-y-e + U+0302 (circumflex) + U+0303 (tilde) + n.
        data.citizen_name = "Nguye\u{302}\u{303}n Va\u{306}n An".into();
        assert_eq!(data.to_nfc().citizen_name, "Nguyễn Văn An");
        assert!(render_pdf(&data).is_ok());
    }

    #[test]
    fn long_document_lists_continue_on_more_pages() {
        let mut data = sample();
        data.documents = (1..=60)
            .map(|i| format!("Giấy tờ kèm theo số {i}: bản sao có chứng thực"))
            .collect();
        let pdf = render_pdf(&data).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        let count: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(count >= 2, "expected a second page, got {count}");
    }

    #[test]
    fn renders_unchecked_and_empty_document_lists() {
        let mut data = sample();
        data.documents_checked = false;
        assert!(render_pdf(&data).is_ok());
        data.documents.clear();
        assert!(render_pdf(&data).is_ok());
        data.documents_checked = true;
        assert!(render_pdf(&data).is_ok());
    }

    #[test]
    fn rejects_tracking_codes_that_cannot_be_barcoded() {
        let mut data = sample();
        data.tracking_code = "MÃ-123".into();
        assert!(matches!(render_pdf(&data), Err(ReceiptError::Barcode(_))));
        data.tracking_code.clear();
        assert!(matches!(render_pdf(&data), Err(ReceiptError::Barcode(_))));
    }

    #[test]
    fn rejects_urls_too_long_for_a_qr_code() {
        let mut data = sample();
        data.tracking_url = "x".repeat(5_000);
        assert!(matches!(render_pdf(&data), Err(ReceiptError::QrCode(_))));
    }
}
