//! The footer note on every page of a document sealed without earlier signatures: small text
//! near the bottom edge, centred, wrapped to at most [`MAX_ROWS`] rows within the page width
//! minus [`MARGIN`] on each side, in DejaVu Sans (one embedded subset for all pages).
//!
//! It is a pagination artifact (ISO 32000-1 §14.8.2.2), so a screen reader and the structure
//! tree of a tagged document leave it out of the reading order.

use std::fmt;

use pdf_writer::types::{ArtifactSubtype, ArtifactType};
use pdf_writer::{Content, Name, Str};

use super::font::{GlyphSet, Subset, Weight};
use super::layout::wrap;
use super::template::MAX_LINE_LEN;
use super::StampError;
use crate::pdf::object::ObjRef;

/// Preferred font size in points.
const SIZE: f64 = 7.0;
/// Smallest font size in points, for a long note on a narrow page.
const MIN_SIZE: f64 = 5.0;
/// Most rows.
pub(crate) const MAX_ROWS: usize = 3;
/// Left and right margin in points.
pub(crate) const MARGIN: f64 = 36.0;
/// Height of the lowest row's baseline above the bottom edge, in points.
const BOTTOM: f64 = 14.0;
/// Grey level of the text: dark grey, quieter than the letter's own text.
const GREY: f32 = 0.25;
/// Widest page in points (the largest page ISO 32000 allows).
const MAX_PAGE: f64 = 14_400.0;

/// The footer note, drawn on every page of an unsigned document (the lead adds it to pages).
pub(crate) struct Footer {
    text: String,
    subset: Subset,
}

impl fmt::Debug for Footer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Footer").field("text", &self.text).finish()
    }
}

impl Footer {
    /// Check that `text` can be drawn (glyphs in the font, length limits).
    ///
    /// # Errors
    /// [`StampError::Template`] for empty text, more than `MAX_LINE_LEN` bytes or a control
    /// character; [`StampError::MissingGlyph`] for a character DejaVu Sans lacks.
    pub(crate) fn new(text: &str) -> Result<Footer, StampError> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_LINE_LEN || text.chars().any(char::is_control) {
            return Err(StampError::Template(format!(
                "footer: 1 to {MAX_LINE_LEN} bytes of text without control characters"
            )));
        }
        let mut glyphs = GlyphSet::new(Weight::Regular);
        glyphs.add(text)?;
        Ok(Footer {
            text: text.to_string(),
            subset: glyphs.finish(),
        })
    }

    /// Content-stream operators drawing the note at the bottom of a page that is `seen_width`
    /// pt wide as the reader sees it, in the reader's coordinates (origin at the visible
    /// bottom-left corner, x to the right, y up; the lead puts a `cm` before it for crop box
    /// and rotation), wrapped in `q … Q` and marked as a pagination artifact
    /// (`/Artifact <</Type /Pagination /Subtype /Footer>> BDC … EMC`), using the font resource
    /// named `font_name`. Refuses a page too narrow for it.
    ///
    /// # Errors
    /// [`StampError::Geometry`] for a width that is not finite or larger than any page, or
    /// too narrow for the note in [`MAX_ROWS`] rows at 5 pt.
    pub(crate) fn content(&self, seen_width: f64, font_name: &str) -> Result<Vec<u8>, StampError> {
        if !seen_width.is_finite() || seen_width > MAX_PAGE {
            return Err(StampError::Geometry(format!(
                "footer: page width {seen_width} pt"
            )));
        }
        let width = seen_width - 2.0 * MARGIN;
        let face = self.subset.face();
        let mut size = SIZE;
        let rows = loop {
            let rows = (width > 0.0)
                .then(|| wrap(&self.text, face, size, width))
                .flatten()
                .filter(|r| r.len() <= MAX_ROWS);
            match rows {
                Some(rows) => break rows,
                None if size > MIN_SIZE => size -= 0.5,
                None => {
                    return Err(StampError::Geometry(format!(
                        "footer: a page {seen_width:.1} pt wide is too narrow for the note in \
                         {MAX_ROWS} lines at {MIN_SIZE} pt"
                    )))
                }
            }
        };
        let leading = size * 1.2;
        let mut c = Content::new();
        c.begin_marked_content_with_properties(Name(b"Artifact"))
            .properties()
            .artifact()
            .kind(ArtifactType::Pagination)
            .subtype(ArtifactSubtype::Footer);
        c.save_state().set_fill_gray(GREY).begin_text();
        let n = rows.len();
        for (i, row) in rows.iter().enumerate() {
            let x = (seen_width - face.width(row, size)) / 2.0;
            let y = BOTTOM + (n - 1 - i) as f64 * leading;
            c.set_font(Name(font_name.as_bytes()), size as f32)
                .set_text_matrix([1.0, 0.0, 0.0, 1.0, r3(x), r3(y)])
                .show(Str(&self.subset.encode(row)?));
        }
        c.end_text().restore_state().end_marked_content();
        let mut out = c.finish().into_vec();
        out.push(b'\n');
        Ok(out)
    }

    /// The font objects (one Type0 font for all pages): the font dictionary's reference and
    /// every object.
    pub(crate) fn font_objects(
        &self,
        alloc: &mut dyn FnMut() -> ObjRef,
    ) -> (ObjRef, Vec<(ObjRef, Vec<u8>)>) {
        self.subset
            .objects(alloc)
            .expect("the bundled DejaVu Sans subsets (checked by the font module's tests)")
    }
}

fn r3(v: f64) -> f32 {
    ((v * 1000.0).round() / 1000.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stamp::template::DEFAULT_FOOTER;

    fn footer() -> Footer {
        Footer::new(&DEFAULT_FOOTER.replace("{verify_url}", "http://127.0.0.1:8080"))
            .expect("drawable")
    }

    #[test]
    fn the_note_is_a_pagination_artifact_in_q_q() {
        let bytes = footer().content(595.0, "FSegel").expect("fits");
        let text = String::from_utf8_lossy(&bytes);
        let words: Vec<&str> = text.split_whitespace().collect();
        let s = words.join(" ");
        assert!(
            s.starts_with("/Artifact << /Type /Pagination /Subtype /Footer >> BDC q "),
            "{s}"
        );
        assert!(s.ends_with(" Q EMC"), "{s}");
        assert!(bytes.ends_with(b"EMC\n"));
        assert!(s.contains("/FSegel 7 Tf"), "{s}");
    }

    #[test]
    fn a_narrow_page_shrinks_then_refuses() {
        let f = footer();
        let wide = f.content(842.0, "F").expect("fits");
        let narrow = f.content(250.0, "F").expect("fits smaller");
        assert!(String::from_utf8_lossy(&narrow).contains(" Tf"));
        assert_ne!(wide, narrow);
        assert!(matches!(
            f.content(100.0, "F"),
            Err(StampError::Geometry(_))
        ));
        assert!(f.content(f64::NAN, "F").is_err());
        assert!(f.content(-5.0, "F").is_err());
        assert!(f.content(1e9, "F").is_err());
    }

    #[test]
    fn bad_notes_are_refused() {
        assert!(Footer::new("  ").is_err());
        assert!(Footer::new(&"a".repeat(MAX_LINE_LEN + 1)).is_err());
        assert!(Footer::new("a\nb").is_err());
        assert!(matches!(
            Footer::new("Tanda tangan 電子"),
            Err(StampError::MissingGlyph { ch: '電', .. })
        ));
    }

    #[test]
    fn the_font_is_one_type0_subset() {
        let mut n = 0;
        let (font, objects) = footer().font_objects(&mut || {
            n += 1;
            ObjRef::new(n, 0)
        });
        assert_eq!(font, ObjRef::new(1, 0));
        assert_eq!(objects.len(), 6);
        assert!(String::from_utf8_lossy(&objects[0].1).contains("/Subtype /Type0"));
    }
}
