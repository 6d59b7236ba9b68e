//! Lays out the receipt: header, tracking code with barcode and QR code,
//! sections, signature boxes and the footer on every page.

use qrcode::{Color, EcLevel, QrCode};

use super::code128;
use super::layout::{Align, Canvas, Style, Weight, CONTENT_W, MARGIN_BOTTOM, MARGIN_X, PAGE_H};
use super::{format_vnd, ReceiptData, ReceiptError};

const TITLE: Style = Style::new(Weight::Bold, 15.0);
const SUBTITLE: Style = Style::new(Weight::Regular, 8.5).gray(0.3);
const CAPTION: Style = Style::new(Weight::Bold, 8.0).gray(0.3);
const SECTION: Style = Style::new(Weight::Bold, 10.5);
const LABEL: Style = Style::new(Weight::Regular, 9.5).gray(0.3);
const VALUE: Style = Style::new(Weight::Regular, 10.0);
const VALUE_BOLD: Style = Style::new(Weight::Bold, 10.0);
const NOTE: Style = Style::new(Weight::Regular, 8.5).gray(0.3);
const FOOTER: Style = Style::new(Weight::Regular, 8.0).gray(0.25);

/// Largest and smallest size of the tracking code text.
const CODE_SIZE_MAX: f32 = 26.0;
const CODE_SIZE_MIN: f32 = 12.0;
/// Side of the QR code (without quiet zone), in points.
const QR_SIZE: f32 = 104.0;
/// Gap between the left block and the QR code (covers the barcode quiet zone).
const QR_GAP: f32 = 24.0;
/// Barcode bar height and widest module, in points.
const BARCODE_H: f32 = 42.0;
const BARCODE_MODULE_MAX: f32 = 1.5;
/// Width of the label column of key/value rows.
const LABEL_W: f32 = 128.0;
/// Height of the signature boxes.
const SIGNATURE_H: f32 = 96.0;
/// Most lines the footer text may take.
const FOOTER_MAX_LINES: usize = 3;
/// Room kept on the right of the footer for the page number.
const PAGE_NUMBER_W: f32 = 64.0;

/// Lays out the whole receipt on a new canvas, footers included.
pub(super) fn compose(data: &ReceiptData) -> Result<Canvas, ReceiptError> {
    let symbols = code128::encode(&data.tracking_code)?;
    let qr = QrCode::with_error_correction_level(data.tracking_url.as_bytes(), EcLevel::M)?;

    let running_head = format!("Biên nhận hồ sơ {} (tiếp theo)", data.tracking_code);
    // The footer height depends only on its text: measure it first so the
    // content knows where each page ends.
    let mut canvas = Canvas::new(PAGE_H, running_head)?;
    let footer_lines = footer_lines(&canvas, data);
    let footer_h = footer_lines.len() as f32 * FOOTER.line_height() + 8.0;
    canvas.bottom = PAGE_H - MARGIN_BOTTOM - footer_h - 6.0;

    header(&mut canvas);
    identity(&mut canvas, data, &symbols, &qr);

    section(&mut canvas, "Người nộp");
    row(&mut canvas, "Họ và tên", &data.citizen_name, VALUE_BOLD);
    row(&mut canvas, "Điện thoại", &data.citizen_phone, VALUE);
    row(&mut canvas, "Địa chỉ", &data.address, VALUE);

    section(&mut canvas, "Thủ tục");
    row(&mut canvas, "Mã thủ tục", &data.procedure_code, VALUE);
    row(&mut canvas, "Tên thủ tục", &data.procedure_name, VALUE_BOLD);
    row(&mut canvas, "Cơ quan giải quyết", &data.agency_name, VALUE);

    documents(&mut canvas, data);
    fees(&mut canvas, data);

    section(&mut canvas, "Thời gian hẹn lấy");
    canvas.paragraph(
        MARGIN_X + 6.0,
        CONTENT_W - 12.0,
        VALUE_BOLD,
        &data.pickup_window,
    );
    canvas.y += 2.0;
    section(&mut canvas, "Hình thức nhận kết quả");
    canvas.paragraph(MARGIN_X + 6.0, CONTENT_W - 12.0, VALUE, &data.return_method);

    signatures(&mut canvas, data);
    footers(&mut canvas, &footer_lines);
    Ok(canvas)
}

/// Title lines and a rule.
fn header(canvas: &mut Canvas) {
    canvas.paragraph(
        MARGIN_X,
        CONTENT_W,
        TITLE,
        "BƯU CHÍNH CÔNG ÍCH — BIÊN NHẬN HỒ SƠ",
    );
    canvas.paragraph(
        MARGIN_X,
        CONTENT_W,
        SUBTITLE,
        "Tiếp nhận hồ sơ thủ tục hành chính tại nhà. Người nộp giữ phiếu này để tra cứu và nhận kết quả.",
    );
    canvas.y += 4.0;
    canvas.hline(MARGIN_X, MARGIN_X + CONTENT_W, canvas.y, 1.2, 0.0);
    canvas.y += 10.0;
}

/// Tracking code, barcode and issue date on the left; QR code on the right.
fn identity(canvas: &mut Canvas, data: &ReceiptData, symbols: &[u8], qr: &QrCode) {
    let left_w = CONTENT_W - QR_SIZE - QR_GAP;
    let top = canvas.y;

    // Left block.
    canvas.text(MARGIN_X, canvas.y, CAPTION, "MÃ HỒ SƠ");
    canvas.y += CAPTION.line_height();
    let mut code_style = Style::new(Weight::Bold, CODE_SIZE_MAX);
    while code_style.size > CODE_SIZE_MIN && canvas.width(code_style, &data.tracking_code) > left_w
    {
        code_style.size -= 1.0;
    }
    canvas.paragraph(MARGIN_X, left_w, code_style, &data.tracking_code);
    canvas.y += 4.0;

    let widths = code128::modules(symbols);
    let total_modules: u32 = widths.iter().map(|&w| u32::from(w)).sum();
    let module = (left_w / total_modules as f32).min(BARCODE_MODULE_MAX);
    let mut x = MARGIN_X;
    let mut bars = Vec::with_capacity(widths.len() / 2 + 1);
    for (i, &w) in widths.iter().enumerate() {
        let bar_w = f32::from(w) * module;
        if i % 2 == 0 {
            bars.push([x, canvas.y, bar_w, BARCODE_H]);
        }
        x += bar_w;
    }
    canvas.fill_rects(&bars, 0.0);
    canvas.y += BARCODE_H + 8.0;
    let issued = format!("Ngày lập phiếu: {}", data.issued_at);
    canvas.paragraph(MARGIN_X, left_w, VALUE, &issued);
    let left_bottom = canvas.y;

    // Right block: QR code modules as filled squares, with a caption. The
    // page margin and the gap give it its quiet zone on the sides; keep four
    // modules of white below the header rule too.
    let qr_x = MARGIN_X + CONTENT_W - QR_SIZE;
    let n = qr.width();
    let cell = QR_SIZE / n as f32;
    let top = top + (4.0 * cell - 10.0).max(0.0);
    let modules: Vec<[f32; 4]> = qr
        .to_colors()
        .into_iter()
        .enumerate()
        .filter(|&(_, color)| color == Color::Dark)
        .map(|(i, _)| {
            let (col, row) = ((i % n) as f32, (i / n) as f32);
            // Overlap neighbours slightly so that no hairline gaps show.
            [
                qr_x + col * cell,
                top + row * cell,
                cell + 0.02,
                cell + 0.02,
            ]
        })
        .collect();
    canvas.fill_rects(&modules, 0.0);
    canvas.link(qr_x, top, QR_SIZE, QR_SIZE, &data.tracking_url);
    let caption_top = top + QR_SIZE + 8.0;
    canvas.text_aligned(
        qr_x - 10.0,
        QR_SIZE + 20.0,
        caption_top,
        VALUE_BOLD,
        "Quét để tra cứu",
        Align::Center,
    );
    let right_bottom = caption_top + VALUE_BOLD.line_height();

    canvas.y = left_bottom.max(right_bottom) + 4.0;
}

/// A section title on a light gray band.
fn section(canvas: &mut Canvas, title: &str) {
    // Keep the title with at least two lines of its content.
    canvas.ensure(SECTION.line_height() + 10.0 + 2.0 * VALUE.line_height());
    canvas.y += 6.0;
    let band_h = SECTION.line_height() + 4.0;
    canvas.fill_rect(MARGIN_X, canvas.y, CONTENT_W, band_h, 0.9);
    canvas.text(MARGIN_X + 6.0, canvas.y + 2.5, SECTION, title);
    canvas.y += band_h + 4.0;
}

/// A label in the left column and a wrapped value on the right.
fn row(canvas: &mut Canvas, label: &str, value: &str, style: Style) {
    let value_x = MARGIN_X + 6.0 + LABEL_W;
    let value_w = CONTENT_W - LABEL_W - 12.0;
    let labels = canvas.wrap(LABEL, label, LABEL_W - 8.0);
    let values = canvas.wrap(style, value, value_w);
    let lh = style.line_height();
    let count = labels.len().max(values.len());
    canvas.keep_together(count as f32 * lh);
    for i in 0..count {
        canvas.ensure(lh);
        if let Some(label) = labels.get(i) {
            canvas.text(MARGIN_X + 6.0, canvas.y + 0.5, LABEL, label);
        }
        if let Some(value) = values.get(i) {
            canvas.text(value_x, canvas.y, style, value);
        }
        canvas.y += lh;
    }
    canvas.y += 1.5;
}

/// The documents counted at pickup, or the list still to be checked.
fn documents(canvas: &mut Canvas, data: &ReceiptData) {
    if data.documents_checked {
        section(canvas, "Giấy tờ đã kiểm đếm");
    } else {
        section(canvas, "Giấy tờ cần kiểm đếm");
        let note = if data.documents.is_empty() {
            "Chưa kiểm đếm: nhân viên bưu chính sẽ kiểm đếm giấy tờ khi nhận hồ sơ."
        } else {
            "Chưa kiểm đếm: nhân viên bưu chính sẽ kiểm đếm các giấy tờ dưới đây khi nhận hồ sơ."
        };
        canvas.paragraph(MARGIN_X + 6.0, CONTENT_W - 12.0, NOTE, note);
        canvas.y += 2.0;
    }
    if data.documents.is_empty() {
        if data.documents_checked {
            canvas.paragraph(
                MARGIN_X + 6.0,
                CONTENT_W - 12.0,
                VALUE,
                "Không có giấy tờ nào.",
            );
        }
        return;
    }

    let box_w = if data.documents_checked { 0.0 } else { 14.0 };
    let number_w = 24.0;
    let text_x = MARGIN_X + 6.0 + box_w + number_w;
    let text_w = CONTENT_W - 12.0 - box_w - number_w;
    let lh = VALUE.line_height();
    for (i, document) in data.documents.iter().enumerate() {
        let lines = canvas.wrap(VALUE, document, text_w);
        canvas.keep_together(lines.len() as f32 * lh);
        for (j, line) in lines.iter().enumerate() {
            canvas.ensure(lh);
            if j == 0 {
                if !data.documents_checked {
                    canvas.stroke_rect(MARGIN_X + 6.0, canvas.y + 2.0, 8.5, 8.5, 0.7, 0.0);
                }
                canvas.text_aligned(
                    MARGIN_X + 6.0 + box_w,
                    number_w - 6.0,
                    canvas.y,
                    VALUE,
                    &format!("{}.", i + 1),
                    Align::Right,
                );
            }
            canvas.text(text_x, canvas.y, VALUE, line);
            canvas.y += lh;
        }
        canvas.y += 1.0;
    }
    if data.documents_checked {
        let total = format!("Tổng cộng: {} loại giấy tờ", data.documents.len());
        canvas.paragraph(MARGIN_X + 6.0, CONTENT_W - 12.0, NOTE, &total);
    }
}

/// Fees, right-aligned amounts, with the total under a rule.
fn fees(canvas: &mut Canvas, data: &ReceiptData) {
    section(canvas, "Lệ phí");
    let amount_w = 150.0;
    let amount_x = MARGIN_X + CONTENT_W - 6.0 - amount_w;
    let label_w = amount_x - MARGIN_X - 18.0;
    let rows = [
        ("Cước dịch vụ bưu chính", data.postal_fee_vnd, LABEL, VALUE),
        (
            "Phí, lệ phí thủ tục hành chính",
            data.agency_fee_vnd,
            LABEL,
            VALUE,
        ),
        ("Tổng cộng", data.total_vnd, VALUE_BOLD, VALUE_BOLD),
    ];
    for (i, (label, amount, label_style, amount_style)) in rows.into_iter().enumerate() {
        let lh = amount_style.line_height();
        canvas.ensure(lh + 4.0);
        if i == rows.len() - 1 {
            canvas.y += 2.0;
            canvas.hline(
                MARGIN_X + 6.0,
                MARGIN_X + CONTENT_W - 6.0,
                canvas.y,
                0.6,
                0.2,
            );
            canvas.y += 3.0;
        }
        let label = canvas.fit_line(label_style, label, label_w);
        canvas.text(MARGIN_X + 6.0, canvas.y + 0.5, label_style, &label);
        let amount = format_vnd(amount);
        canvas.text_aligned(
            amount_x,
            amount_w,
            canvas.y,
            amount_style,
            &amount,
            Align::Right,
        );
        canvas.y += lh;
    }
}

/// Two boxes side by side for the signatures.
fn signatures(canvas: &mut Canvas, data: &ReceiptData) {
    canvas.ensure(SIGNATURE_H + 14.0);
    canvas.y += 12.0;
    let gap = 18.0;
    let box_w = (CONTENT_W - gap) / 2.0;
    let top = canvas.y;
    let boxes = [
        ("Người nộp hồ sơ", data.citizen_name.as_str()),
        ("Nhân viên bưu chính", ""),
    ];
    for (i, (title, name)) in boxes.into_iter().enumerate() {
        let x = MARGIN_X + i as f32 * (box_w + gap);
        canvas.stroke_rect(x, top, box_w, SIGNATURE_H, 0.7, 0.2);
        canvas.text_aligned(x, box_w, top + 6.0, VALUE_BOLD, title, Align::Center);
        canvas.text_aligned(
            x,
            box_w,
            top + 6.0 + VALUE_BOLD.line_height(),
            NOTE,
            "(Ký, ghi rõ họ tên)",
            Align::Center,
        );
        if !name.is_empty() {
            let name = canvas.fit_line(VALUE, name, box_w - 16.0);
            let name_top = top + SIGNATURE_H - VALUE.line_height() - 4.0;
            canvas.text_aligned(x, box_w, name_top, VALUE, &name, Align::Center);
        }
    }
    canvas.y = top + SIGNATURE_H;
}

/// The footer text (hotline and tracking URL), wrapped and capped in lines.
fn footer_lines(canvas: &Canvas, data: &ReceiptData) -> Vec<String> {
    let text = format!(
        "Tổng đài hỗ trợ: {} · Tra cứu hồ sơ: {}",
        data.hotline, data.tracking_url
    );
    let max_w = CONTENT_W - PAGE_NUMBER_W;
    let mut lines = canvas.wrap(FOOTER, &text, max_w);
    if lines.len() > FOOTER_MAX_LINES {
        lines.truncate(FOOTER_MAX_LINES);
        let last = format!("{} …", lines[FOOTER_MAX_LINES - 1]);
        lines[FOOTER_MAX_LINES - 1] = canvas.fit_line(FOOTER, &last, max_w);
    }
    lines
}

/// Draws the footer, with page numbers, at the bottom of every page.
fn footers(canvas: &mut Canvas, lines: &[String]) {
    let pages = canvas.page_count();
    let lh = FOOTER.line_height();
    let top = PAGE_H - MARGIN_BOTTOM - lines.len() as f32 * lh;
    for page in 0..pages {
        canvas.select_page(page);
        canvas.hline(MARGIN_X, MARGIN_X + CONTENT_W, top - 5.0, 0.5, 0.5);
        for (i, line) in lines.iter().enumerate() {
            canvas.text(MARGIN_X, top + i as f32 * lh, FOOTER, line);
        }
        let number = format!("Trang {}/{}", page + 1, pages);
        canvas.text_aligned(MARGIN_X, CONTENT_W, top, FOOTER, &number, Align::Right);
    }
}
