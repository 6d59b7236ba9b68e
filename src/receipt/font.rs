//! Embedded TrueType fonts (DejaVu Sans, shipped by the `dejavu` crate) written
//! to the PDF as subsetted Type0/CIDFontType2 fonts with a ToUnicode map, so the
//! text renders with Vietnamese diacritics and stays extractable.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::ReceiptError;

/// Character collection of fonts addressed by glyph id (Identity-H).
const IDENTITY: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// One font face embedded in the document, tracking the glyphs used so far.
pub(super) struct EmbeddedFont {
    /// PostScript name with a subset tag, e.g. `BUUTAR+DejaVuSans`.
    base_name: String,
    data: &'static [u8],
    face: Face<'static>,
    units_per_em: f32,
    /// Old glyph id -> glyph id in the subset (which is also the CID we write).
    remapper: GlyphRemapper,
    /// Glyph id in the subset -> the character it shows (for ToUnicode).
    to_unicode: BTreeMap<u16, char>,
}

impl EmbeddedFont {
    /// DejaVu Sans regular.
    pub(super) fn regular() -> Result<Self, ReceiptError> {
        Self::new(dejavu::sans::regular(), "BUUTAR+DejaVuSans")
    }

    /// DejaVu Sans bold.
    pub(super) fn bold() -> Result<Self, ReceiptError> {
        Self::new(dejavu::sans::bold(), "BUUTAB+DejaVuSans-Bold")
    }

    fn new(data: &'static [u8], base_name: &str) -> Result<Self, ReceiptError> {
        let face =
            Face::parse(data, 0).map_err(|e| ReceiptError::Font(format!("{base_name}: {e}")))?;
        Ok(Self {
            base_name: base_name.to_owned(),
            data,
            units_per_em: f32::from(face.units_per_em()),
            face,
            remapper: GlyphRemapper::new(),
            to_unicode: BTreeMap::new(),
        })
    }

    /// Whether the font has a glyph for `c`.
    pub(super) fn has_glyph(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    /// The glyph printed for `c`, its advance in font units and the character
    /// it actually shows: control characters and other white space become a
    /// space, characters without a glyph become '?'.
    fn glyph(&self, c: char) -> (GlyphId, f32, char) {
        let shown = if c.is_whitespace() || c.is_control() {
            ' '
        } else if self.has_glyph(c) {
            c
        } else {
            '?'
        };
        let gid = self.face.glyph_index(shown).unwrap_or(GlyphId(0));
        let advance = self.face.glyph_hor_advance(gid).unwrap_or(0);
        (gid, f32::from(advance), shown)
    }

    /// Width of `text` set at `size` points, in points.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.glyph(c).1).sum();
        units * size / self.units_per_em
    }

    /// Encodes `text` as big-endian 2-byte CIDs for a `Tj` operator, adding
    /// its glyphs to the subset.
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (gid, _, shown) = self.glyph(c);
            let cid = self.remapper.remap(gid.0);
            self.to_unicode.entry(cid).or_insert(shown);
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// Writes the font objects: the Type0 font at `type0`, and its descendant
    /// CID font, descriptor, ToUnicode map and subsetted font program at the
    /// four refs in `parts`.
    pub(super) fn write(
        &self,
        pdf: &mut Pdf,
        type0: Ref,
        parts: [Ref; 4],
    ) -> Result<(), ReceiptError> {
        let [cid_ref, descriptor_ref, cmap_ref, file_ref] = parts;
        let name = Name(self.base_name.as_bytes());
        let scale = 1000.0 / self.units_per_em;

        let program = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| ReceiptError::Font(format!("{}: {e}", self.base_name)))?;

        pdf.type0_font(type0)
            .base_font(name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_ref)
            .to_unicode(cmap_ref);

        let widths: Vec<f32> = self
            .remapper
            .remapped_gids()
            .map(|old| f32::from(self.face.glyph_hor_advance(GlyphId(old)).unwrap_or(0)) * scale)
            .collect();
        let mut cid = pdf.cid_font(cid_ref);
        cid.subtype(CidFontType::Type2)
            .base_font(name)
            .system_info(IDENTITY)
            .font_descriptor(descriptor_ref)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let bbox = self.face.global_bounding_box();
        let ascent = f32::from(self.face.ascender()) * scale;
        let descent = f32::from(self.face.descender()) * scale;
        let cap_height = self
            .face
            .capital_height()
            .map_or(ascent, |h| f32::from(h) * scale);
        let weight = f32::from(self.face.weight().to_number());
        pdf.font_descriptor(descriptor_ref)
            .name(name)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(descent)
            .cap_height(cap_height)
            .stem_v(10.0 + 0.244 * (weight - 50.0))
            .font_file2(file_ref);

        let mut cmap = UnicodeCmap::new(Name(b"Buuta-UTF16"), IDENTITY);
        for (&cid, &c) in &self.to_unicode {
            cmap.pair(cid, c);
        }
        let cmap = cmap.finish();
        pdf.cmap(cmap_ref, &cmap)
            .name(Name(b"Buuta-UTF16"))
            .system_info(IDENTITY);

        let length1 = i32::try_from(program.len())
            .map_err(|_| ReceiptError::Font(format!("{}: subset too large", self.base_name)))?;
        pdf.stream(file_ref, &program)
            .pair(Name(b"Length1"), length1);
        Ok(())
    }
}
