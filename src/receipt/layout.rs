//! A small page-layout engine on top of `pdf-writer`: a vertical cursor that
//! breaks pages, text measuring and greedy word wrapping, rectangles and lines.
//!
//! Coordinates are in points with the origin at the top-left corner of the
//! page and y growing downwards; they are flipped when written to the PDF.

use pdf_writer::types::{ActionType, AnnotationType};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::font::EmbeddedFont;
use super::ReceiptError;

/// A4 portrait width, in points.
pub(super) const PAGE_W: f32 = 595.28;
/// A4 portrait height, in points.
pub(super) const PAGE_H: f32 = 841.89;
/// Left and right page margin.
pub(super) const MARGIN_X: f32 = 42.0;
/// Top page margin.
pub(super) const MARGIN_TOP: f32 = 36.0;
/// Bottom page margin (below the footer).
pub(super) const MARGIN_BOTTOM: f32 = 28.0;
/// Width available between the margins.
pub(super) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

/// Resource names of the two fonts in each page's resources.
const FONT_NAMES: [&[u8]; 2] = [b"F1", b"F2"];

/// Font weight of a text run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

impl Weight {
    fn index(self) -> usize {
        match self {
            Weight::Regular => 0,
            Weight::Bold => 1,
        }
    }
}

/// How a text run looks: weight, size in points and gray level (0 = black).
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// Font weight.
    pub weight: Weight,
    /// Font size in points.
    pub size: f32,
    /// Fill gray level, 0.0 (black) to 1.0 (white).
    pub gray: f32,
}

impl Style {
    /// Black text of the given weight and size.
    pub(super) const fn new(weight: Weight, size: f32) -> Self {
        Self {
            weight,
            size,
            gray: 0.0,
        }
    }

    /// The same style in another gray level.
    pub(super) const fn gray(self, gray: f32) -> Self {
        Self { gray, ..self }
    }

    /// Distance between two baselines.
    pub(super) fn line_height(self) -> f32 {
        self.size * 1.32
    }
}

/// Horizontal alignment of a line of text within a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    /// Centered.
    Center,
    /// Flush right.
    Right,
}

/// A clickable area of a page opening a URI.
struct Link {
    page: usize,
    rect: Rect,
    uri: String,
}

/// Document metadata written to the info dictionary.
pub(super) struct DocInfo {
    /// Title shown by viewers.
    pub title: String,
    /// Subject.
    pub subject: String,
    /// Keywords (kept ASCII so that they stay greppable in the raw bytes).
    pub keywords: String,
    /// Author.
    pub author: String,
}

/// The pages being laid out, with a vertical cursor on the current page.
pub(super) struct Canvas {
    fonts: [EmbeddedFont; 2],
    pages: Vec<Content>,
    links: Vec<Link>,
    /// Page that drawing operations go to.
    current: usize,
    /// Cursor: top of the next block, from the top of the page.
    pub y: f32,
    /// Lowest y that page content may reach (the footer lives below).
    pub bottom: f32,
    /// Short line repeated at the top of continuation pages.
    running_head: String,
}

impl Canvas {
    /// A canvas with one empty page; content may reach down to `bottom`.
    pub(super) fn new(bottom: f32, running_head: String) -> Result<Self, ReceiptError> {
        Ok(Self {
            fonts: [EmbeddedFont::regular()?, EmbeddedFont::bold()?],
            pages: vec![Content::new()],
            links: Vec::new(),
            current: 0,
            y: MARGIN_TOP,
            bottom,
            running_head,
        })
    }

    /// Whether the font of `weight` has a glyph for `c`.
    #[cfg(test)]
    pub(super) fn has_glyph(&self, weight: Weight, c: char) -> bool {
        self.fonts[weight.index()].has_glyph(c)
    }

    /// Width of `text` in `style`, in points.
    pub(super) fn width(&self, style: Style, text: &str) -> f32 {
        self.fonts[style.weight.index()].width(text, style.size)
    }

    /// Number of pages so far.
    pub(super) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Makes `page` the target of drawing operations (used for footers).
    pub(super) fn select_page(&mut self, page: usize) {
        self.current = page.min(self.pages.len() - 1);
    }

    /// Starts a new page if a block of height `h` does not fit below the cursor.
    pub(super) fn ensure(&mut self, h: f32) {
        if self.y + h > self.bottom {
            self.new_page();
        }
    }

    /// Like [`Canvas::ensure`] for a block that should not be split across
    /// pages, unless it is too tall to fit on a page anyway (then it flows).
    pub(super) fn keep_together(&mut self, h: f32) {
        if h <= (self.bottom - MARGIN_TOP) / 3.0 {
            self.ensure(h);
        }
    }

    /// Starts a new page, with the running head at its top.
    pub(super) fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
        self.y = MARGIN_TOP;
        let style = Style::new(Weight::Regular, 8.5).gray(0.35);
        let head = self.fit_line(style, &self.running_head.clone(), CONTENT_W);
        self.text(MARGIN_X, self.y, style, &head);
        self.y += style.line_height() + 2.0;
        self.hline(MARGIN_X, MARGIN_X + CONTENT_W, self.y, 0.5, 0.6);
        self.y += 10.0;
    }

    /// Draws one line of text whose line box starts at `top`.
    pub(super) fn text(&mut self, x: f32, top: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        let cids = self.fonts[style.weight.index()].encode(text);
        let baseline = top + style.size * 0.98;
        let content = &mut self.pages[self.current];
        content.set_fill_gray(style.gray);
        content.begin_text();
        content.set_font(Name(FONT_NAMES[style.weight.index()]), style.size);
        content.next_line(x, PAGE_H - baseline);
        content.show(Str(&cids));
        content.end_text();
        content.set_fill_gray(0.0);
    }

    /// Draws one line of text aligned within `[x, x + w]`.
    pub(super) fn text_aligned(
        &mut self,
        x: f32,
        w: f32,
        top: f32,
        style: Style,
        text: &str,
        align: Align,
    ) {
        let tw = self.width(style, text);
        let x = match align {
            Align::Center => x + (w - tw) / 2.0,
            Align::Right => x + w - tw,
        };
        self.text(x, top, style, text);
    }

    /// Wraps `text` into lines no wider than `max_w`: greedy on white space,
    /// breaking words that are too long on their own; '\n' starts a new line.
    /// Always returns at least one (possibly empty) line.
    pub(super) fn wrap(&self, style: Style, text: &str, max_w: f32) -> Vec<String> {
        let space = self.width(style, " ");
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split_whitespace() {
                let word_w = self.width(style, word);
                if !line.is_empty() && line_w + space + word_w <= max_w {
                    line.push(' ');
                    line.push_str(word);
                    line_w += space + word_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if word_w <= max_w {
                    line.push_str(word);
                    line_w = word_w;
                } else {
                    // Hard-break an over-long word (URLs, codes) by characters.
                    line_w = 0.0;
                    for c in word.chars() {
                        let cw = self.width(style, c.encode_utf8(&mut [0; 4]));
                        if !line.is_empty() && line_w + cw > max_w {
                            lines.push(std::mem::take(&mut line));
                            line_w = 0.0;
                        }
                        line.push(c);
                        line_w += cw;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// `text` cut to fit on one line of width `max_w`, ending in '…' if cut.
    pub(super) fn fit_line(&self, style: Style, text: &str, max_w: f32) -> String {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.width(style, &text) <= max_w {
            return text;
        }
        let ellipsis_w = self.width(style, "…");
        let mut out = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            let cw = self.width(style, c.encode_utf8(&mut [0; 4]));
            if w + cw + ellipsis_w > max_w {
                break;
            }
            out.push(c);
            w += cw;
        }
        out.truncate(out.trim_end().len());
        out.push('…');
        out
    }

    /// Wraps `text` to `max_w` and draws it at the cursor, line by line,
    /// breaking pages as needed. Moves the cursor below the text.
    pub(super) fn paragraph(&mut self, x: f32, max_w: f32, style: Style, text: &str) {
        for line in self.wrap(style, text, max_w) {
            self.ensure(style.line_height());
            self.text(x, self.y, style, &line);
            self.y += style.line_height();
        }
    }

    /// Fills a rectangle (top-left corner at `x`, `top`) in the given gray.
    pub(super) fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, gray: f32) {
        self.fill_rects(&[[x, top, w, h]], gray);
    }

    /// Fills many rectangles `[x, top, w, h]` as one path (barcodes, QR codes).
    pub(super) fn fill_rects(&mut self, rects: &[[f32; 4]], gray: f32) {
        if rects.is_empty() {
            return;
        }
        let content = &mut self.pages[self.current];
        content.set_fill_gray(gray);
        for &[x, top, w, h] in rects {
            content.rect(x, PAGE_H - top - h, w, h);
        }
        content.fill_nonzero();
        content.set_fill_gray(0.0);
    }

    /// Strokes a rectangle outline.
    pub(super) fn stroke_rect(&mut self, x: f32, top: f32, w: f32, h: f32, width: f32, gray: f32) {
        let content = &mut self.pages[self.current];
        content.set_stroke_gray(gray);
        content.set_line_width(width);
        content.rect(x, PAGE_H - top - h, w, h);
        content.stroke();
    }

    /// Draws a horizontal line at `y` from `x1` to `x2`.
    pub(super) fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, gray: f32) {
        let content = &mut self.pages[self.current];
        content.set_stroke_gray(gray);
        content.set_line_width(width);
        content.move_to(x1, PAGE_H - y);
        content.line_to(x2, PAGE_H - y);
        content.stroke();
    }

    /// Makes a rectangle of the current page a link to `uri`.
    pub(super) fn link(&mut self, x: f32, top: f32, w: f32, h: f32, uri: &str) {
        self.links.push(Link {
            page: self.current,
            rect: Rect::new(x, PAGE_H - top - h, x + w, PAGE_H - top),
            uri: uri.to_owned(),
        });
    }

    /// Assembles the PDF file.
    pub(super) fn finish(self, info: &DocInfo) -> Result<Vec<u8>, ReceiptError> {
        let mut pdf = Pdf::new();
        let mut next_id = 1;
        let mut alloc = || {
            let id = Ref::new(next_id);
            next_id += 1;
            id
        };
        let catalog_id = alloc();
        let tree_id = alloc();
        let info_id = alloc();
        let font_ids: Vec<(Ref, [Ref; 4])> = (0..self.fonts.len())
            .map(|_| (alloc(), [alloc(), alloc(), alloc(), alloc()]))
            .collect();
        let page_ids: Vec<(Ref, Ref)> = (0..self.pages.len()).map(|_| (alloc(), alloc())).collect();
        let link_ids: Vec<Ref> = self.links.iter().map(|_| alloc()).collect();

        pdf.catalog(catalog_id).pages(tree_id).lang(TextStr("vi"));
        pdf.pages(tree_id)
            .kids(page_ids.iter().map(|&(page, _)| page))
            .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
        pdf.document_info(info_id)
            .title(TextStr(&info.title))
            .subject(TextStr(&info.subject))
            .keywords(TextStr(&info.keywords))
            .author(TextStr(&info.author))
            .creator(TextStr("Buuta"))
            .producer(TextStr("Buuta (pdf-writer)"));
        pdf.set_file_id((
            info.keywords.as_bytes().to_vec(),
            info.keywords.as_bytes().to_vec(),
        ));

        for (index, (content, &(page_id, content_id))) in
            self.pages.into_iter().zip(&page_ids).enumerate()
        {
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree_id)
                .contents(content_id);
            let annotations: Vec<Ref> = self
                .links
                .iter()
                .zip(&link_ids)
                .filter(|(link, _)| link.page == index)
                .map(|(_, &id)| id)
                .collect();
            if !annotations.is_empty() {
                page.annotations(annotations);
            }
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (name, (type0, _)) in FONT_NAMES.iter().zip(&font_ids) {
                fonts.pair(Name(name), *type0);
            }
            fonts.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }

        for (link, &id) in self.links.iter().zip(&link_ids) {
            let mut annotation = pdf.annotation(id);
            annotation
                .subtype(AnnotationType::Link)
                .rect(link.rect)
                .border(0.0, 0.0, 0.0, None);
            annotation
                .action()
                .action_type(ActionType::Uri)
                .uri(Str(link.uri.as_bytes()));
        }

        for (font, &(type0, parts)) in self.fonts.iter().zip(&font_ids) {
            font.write(&mut pdf, type0, parts)?;
        }
        Ok(pdf.finish())
    }
}
