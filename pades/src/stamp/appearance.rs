//! The drawn stamp: the form XObject a signature widget shows as its normal appearance
//! (`/AP /N`, ISO 32000-1 §12.5.5 and §8.10), with the fonts and image it uses.
//!
//! The stamp as the reader sees it, `width` x `height` points:
//!
//! ```text
//! ┌──────────────────────────────────────────┐  opaque white background, thin grey border
//! │ ┌──────────┐  [image, if any: at most    │
//! │ │ QR code  │   35 % of the height]       │  QR code: error correction M, quiet zone
//! │ │ (link)   │  Ditandatangani secara      │  included, square, full height minus
//! │ │          │  elektronik oleh:           │  padding (the text keeps at least 45 % of
//! │ │          │  **Kementerian Contoh**     │  the width), at least 20 mm
//! │ └──────────┘  1 Januari 2027 08:00 WIB   │  text: wrapped, shrunk from 9 to 5 pt
//! └──────────────────────────────────────────┘
//! ```
//!
//! The image and the text form one block, centred vertically beside the QR code. Nothing is
//! transparent (PDF/A): the background, the border, the QR code, the image (composited onto
//! white when it had an alpha channel) and the text are all opaque.
//!
//! The form's `/BBox` is `[0 0 width height]`; its `/Matrix` turns it by the page's `/Rotate`
//! counter-clockwise, so that on a page the viewer turns clockwise it reads upright.

use pdf_writer::{Chunk, Content, Filter, Name, Rect, Str};

use super::font::{deflate, GlyphSet, Subset, Weight};
use super::image::Image;
use super::layout::{self, Laid};
use super::pdfobj::{body_of, pdf_ref};
use super::{Appearance, QrCode, StampError, MIN_SIZE_PT};
use crate::pdf::object::ObjRef;

/// Inner padding between the border and the content, in points.
const PAD: f64 = 3.0;
/// Space between the QR code (whose quiet zone is white already) and the text, in points.
const GAP: f64 = 2.0;
/// Border line width in points.
const BORDER: f64 = 0.75;
/// Border grey level (0 black, 1 white).
const BORDER_GREY: f32 = 0.4;
/// Share of the width the text column keeps at least.
const TEXT_SHARE: f64 = 0.45;
/// Narrowest text column in points.
const MIN_TEXT_WIDTH: f64 = 40.0;
/// Largest share of the inner height the image takes.
const IMAGE_SHARE: f64 = 0.35;
/// Longest form content (bytes) written without compression.
const STORED_CONTENT: usize = 8 * 1024;
/// Largest stamp side in points.
pub(crate) const MAX_SIDE_PT: f64 = 2000.0;
/// Smallest stamp height in points: the QR code's 20 mm and the padding.
pub(crate) const MIN_HEIGHT_PT: f64 = MIN_SIZE_PT + 2.0 * PAD;
/// Smallest stamp width in points: the QR code, the gap, a narrow text column, the padding.
pub(crate) const MIN_WIDTH_PT: f64 = MIN_SIZE_PT + 2.0 * PAD + GAP + MIN_TEXT_WIDTH;

/// A drawn stamp: the form XObject to use as the widget's /AP /N, and every object it needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Drawn {
    /// The form XObject.
    pub(crate) form: ObjRef,
    /// (reference, body) pairs; a body is what `crate::pdf::update::Update::put(r, body)`
    /// takes: the object's bytes without `N G obj` / `endobj` (a dictionary, or a dictionary +
    /// stream).
    pub(crate) objects: Vec<(ObjRef, Vec<u8>)>,
}

/// Draw `appearance` (lines, QR link, optional image) into a `width` x `height` pt box as the
/// reader sees it, for a page whose /Rotate is `rotate` (0, 90, 180 or 270): the form's /BBox
/// is [0 0 width height] and its /Matrix turns it so that it reads upright on that page (the
/// widget's /Rect, set by the lead, is the box in the page's user space). `alloc` gives new
/// object numbers.
///
/// The same inputs give the same bytes (subset tags are derived from the glyphs).
///
/// # Errors
/// - [`StampError::Geometry`]: a size that is not finite, smaller than
///   [`MIN_WIDTH_PT`] x [`MIN_HEIGHT_PT`], larger than [`MAX_SIDE_PT`], or a rotation other
///   than 0, 90, 180, 270.
/// - [`StampError::Template`] (too much text), [`StampError::MissingGlyph`],
///   [`StampError::TextDoesNotFit`], [`StampError::Image`], [`StampError::Qr`].
pub(crate) fn draw_stamp(
    appearance: &Appearance,
    width: f64,
    height: f64,
    rotate: u16,
    alloc: &mut dyn FnMut() -> ObjRef,
) -> Result<Drawn, StampError> {
    check_box(width, height)?;
    let matrix = rotation(rotate, width, height)?;
    layout::check_lines(&appearance.lines)?;
    let qr = QrCode::new(&appearance.link)?;
    let image = appearance
        .image
        .as_deref()
        .map(Image::read_kept)
        .transpose()?;

    // Columns: the QR code on the left, the text (and image) on the right.
    let inner_h = height - 2.0 * PAD;
    let text_min = MIN_TEXT_WIDTH.max(width * TEXT_SHARE);
    let qr_size = inner_h.min(width - 2.0 * PAD - GAP - text_min);
    if qr_size < MIN_SIZE_PT {
        return Err(StampError::Geometry(format!(
            "a {width:.1} x {height:.1} pt stamp leaves {qr_size:.1} pt for the QR code, which \
             needs {MIN_SIZE_PT:.1} pt (20 mm); make it at least {:.1} pt wide",
            MIN_SIZE_PT + 2.0 * PAD + GAP + text_min
        )));
    }
    let text_x = PAD + qr_size + GAP;
    let text_w = width - PAD - text_x;

    // The image on top of the text column, scaled to fit, aspect ratio kept.
    let image_box = image.as_ref().map(|img| {
        let scale =
            (text_w / f64::from(img.width)).min(inner_h * IMAGE_SHARE / f64::from(img.height));
        (f64::from(img.width) * scale, f64::from(img.height) * scale)
    });
    let image_h = image_box.map_or(0.0, |(_, h)| h + GAP);
    let laid = layout::fit(
        &appearance.lines,
        text_w,
        inner_h - image_h,
        layout::MAX_SIZE,
        layout::MIN_SIZE,
    )?;

    // Subsets of the faces used.
    let mut regular = GlyphSet::new(Weight::Regular);
    let mut bold = GlyphSet::new(Weight::Bold);
    for row in &laid.rows {
        if row.bold { &mut bold } else { &mut regular }.add(&row.text)?;
    }
    let regular = (!regular.is_empty()).then(|| regular.finish());
    let bold = (!bold.is_empty()).then(|| bold.finish());

    // Content: background and border, QR code, image, text.
    let mut content = Vec::with_capacity(4096);
    content.extend_from_slice(&frame(width, height));
    content.push(b'\n');
    content.extend_from_slice(&qr.content(PAD, (height - qr_size) / 2.0, qr_size)?);
    let block_h = image_h + laid.height();
    let top = height / 2.0 + block_h / 2.0;
    if let Some((w, h)) = image_box {
        let mut c = Content::new();
        c.save_state()
            .transform([r3(w), 0.0, 0.0, r3(h), r3(text_x), r3(top - h)])
            .x_object(Name(b"Im1"))
            .restore_state();
        content.extend_from_slice(&c.finish());
        content.push(b'\n');
    }
    content.extend_from_slice(&text(
        &laid,
        text_x,
        top - image_h,
        regular.as_ref(),
        bold.as_ref(),
    )?);

    let form = alloc();
    let mut objects = Vec::new();
    let regular_ref = match &regular {
        Some(s) => Some(push_font(s, alloc, &mut objects)?),
        None => None,
    };
    let bold_ref = match &bold {
        Some(s) => Some(push_font(s, alloc, &mut objects)?),
        None => None,
    };
    let image_ref = image.as_ref().map(|img| {
        let r = alloc();
        objects.push((r, img.object(r)));
        r
    });

    // A stamp's content is a few kilobytes: compressing it would cost more time (setting up
    // the compressor) than the bytes it saves cost to write and hash. Long text is compressed.
    let packed = (content.len() > STORED_CONTENT).then(|| deflate(&content));
    let mut c = Chunk::new();
    {
        let mut f = c.form_xobject(pdf_ref(form), packed.as_deref().unwrap_or(&content));
        f.bbox(Rect::new(0.0, 0.0, r3(width), r3(height)))
            .matrix(matrix);
        if packed.is_some() {
            f.filter(Filter::FlateDecode);
        }
        let mut res = f.resources();
        {
            let mut fonts = res.fonts();
            if let Some(r) = regular_ref {
                fonts.pair(Name(b"F1"), pdf_ref(r));
            }
            if let Some(r) = bold_ref {
                fonts.pair(Name(b"F2"), pdf_ref(r));
            }
        }
        if let Some(r) = image_ref {
            res.x_objects().pair(Name(b"Im1"), pdf_ref(r));
        }
    }
    objects.insert(0, (form, body_of(&c, form)));
    Ok(Drawn { form, objects })
}

/// Refuses a box that is not finite, too small for a readable stamp, or absurdly large.
fn check_box(width: f64, height: f64) -> Result<(), StampError> {
    if !width.is_finite() || !height.is_finite() {
        return Err(StampError::Geometry(format!(
            "the stamp size {width} x {height} pt is not a pair of finite numbers"
        )));
    }
    if width > MAX_SIDE_PT || height > MAX_SIDE_PT {
        return Err(StampError::Geometry(format!(
            "a {width:.1} x {height:.1} pt stamp is larger than {MAX_SIDE_PT} pt a side"
        )));
    }
    if width < MIN_WIDTH_PT || height < MIN_HEIGHT_PT {
        return Err(StampError::Geometry(format!(
            "a {width:.1} x {height:.1} pt stamp is too small for a QR code of 20 mm and its \
             text; it needs at least {MIN_WIDTH_PT:.1} x {MIN_HEIGHT_PT:.1} pt"
        )));
    }
    Ok(())
}

/// The form's `/Matrix` for a page turned clockwise by `rotate` degrees: the box turned
/// counter-clockwise by as much and moved back to the positive quadrant.
fn rotation(rotate: u16, width: f64, height: f64) -> Result<[f32; 6], StampError> {
    let (w, h) = (r3(width), r3(height));
    match rotate {
        0 => Ok([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
        90 => Ok([0.0, 1.0, -1.0, 0.0, h, 0.0]),
        180 => Ok([-1.0, 0.0, 0.0, -1.0, w, h]),
        270 => Ok([0.0, -1.0, 1.0, 0.0, 0.0, w]),
        r => Err(StampError::Geometry(format!(
            "page rotation {r}: only 0, 90, 180 and 270 degrees"
        ))),
    }
}

/// Opaque white background over the whole box and a thin grey border inside it.
fn frame(width: f64, height: f64) -> Vec<u8> {
    let half = BORDER / 2.0;
    let mut c = Content::new();
    c.save_state()
        .set_fill_gray(1.0)
        .rect(0.0, 0.0, r3(width), r3(height))
        .fill_nonzero()
        .set_stroke_gray(BORDER_GREY)
        .set_line_width(BORDER as f32)
        .rect(r3(half), r3(half), r3(width - BORDER), r3(height - BORDER))
        .stroke()
        .restore_state();
    c.finish().into_vec()
}

/// The rows of `laid` in black, the first row's top at `top`, left edge at `x`: each row's
/// glyphs (ascender to descender) centred in its leading, so no glyph leaves the block.
fn text(
    laid: &Laid,
    x: f64,
    top: f64,
    regular: Option<&Subset>,
    bold: Option<&Subset>,
) -> Result<Vec<u8>, StampError> {
    let mut c = Content::new();
    c.save_state().set_fill_gray(0.0).begin_text();
    let leading = laid.leading();
    for (i, row) in laid.rows.iter().enumerate() {
        if row.text.is_empty() {
            continue;
        }
        let (subset, name) = if row.bold {
            (bold, Name(b"F2"))
        } else {
            (regular, Name(b"F1"))
        };
        let Some(subset) = subset else { continue };
        let face = subset.face();
        let (ascent, descent) = (face.ascent(laid.size), face.descent(laid.size));
        let slack = (leading - (ascent - descent)) / 2.0;
        let baseline = top - i as f64 * leading - slack - ascent;
        c.set_font(name, r3(laid.size))
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, r3(x), r3(baseline)])
            .show(Str(&subset.encode(&row.text)?));
    }
    c.end_text().restore_state();
    let mut out = c.finish().into_vec();
    out.push(b'\n');
    Ok(out)
}

/// Writes a subset's objects, returning its font dictionary.
fn push_font(
    subset: &Subset,
    alloc: &mut dyn FnMut() -> ObjRef,
    objects: &mut Vec<(ObjRef, Vec<u8>)>,
) -> Result<ObjRef, StampError> {
    let (font, mut objs) = subset.objects(alloc)?;
    objects.append(&mut objs);
    Ok(font)
}

/// A length rounded to thousandths of a point, as pdf-writer's number type.
fn r3(v: f64) -> f32 {
    ((v * 1000.0).round() / 1000.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stamp::{Placement, StampLine};

    fn appearance(lines: &[(&str, bool)]) -> Appearance {
        Appearance {
            placement: Placement::Field,
            lines: lines
                .iter()
                .map(|(t, b)| StampLine {
                    text: (*t).into(),
                    bold: *b,
                })
                .collect(),
            link: "http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv".into(),
            image: None,
            footer: None,
            alt_text: String::new(),
        }
    }

    fn draw(a: &Appearance, w: f64, h: f64, rotate: u16) -> Result<Drawn, StampError> {
        let mut next = 100;
        draw_stamp(a, w, h, rotate, &mut || {
            next += 1;
            ObjRef::new(next, 0)
        })
    }

    #[test]
    fn a_stamp_is_a_form_with_its_fonts() {
        let a = appearance(&[("Ditandatangani oleh:", false), ("Kementerian", true)]);
        let d = draw(&a, 200.0, 110.0, 0).expect("drawn");
        assert_eq!(d.form, ObjRef::new(101, 0));
        assert_eq!(d.objects[0].0, d.form);
        // Form + two fonts of six objects each.
        assert_eq!(d.objects.len(), 13);
        let form = String::from_utf8_lossy(&d.objects[0].1);
        assert!(form.contains("/BBox [0 0 200 110]"), "{form}");
        assert!(
            form.contains("/F1 102 0 R") && form.contains("/F2 108 0 R"),
            "{form}"
        );
        for (_, body) in &d.objects {
            let s = String::from_utf8_lossy(body);
            assert!(!s.contains("SMask") && !s.contains("/CA "), "{s}");
        }
    }

    #[test]
    fn rotation_turns_the_box_counter_clockwise() {
        assert_eq!(
            rotation(90, 200.0, 110.0).expect("90"),
            [0.0, 1.0, -1.0, 0.0, 110.0, 0.0]
        );
        assert_eq!(
            rotation(270, 200.0, 110.0).expect("270"),
            [0.0, -1.0, 1.0, 0.0, 0.0, 200.0]
        );
        assert!(rotation(45, 200.0, 110.0).is_err());
        // Every corner of the box lands in the positive quadrant.
        for r in [0, 90, 180, 270] {
            let [a, b, c, d, e, f] = rotation(r, 200.0, 110.0).expect("turn");
            for (x, y) in [(0.0, 0.0), (200.0, 0.0), (0.0, 110.0), (200.0, 110.0)] {
                let (u, v) = (a * x + c * y + e, b * x + d * y + f);
                assert!(u >= 0.0 && v >= 0.0, "{r}: ({u}, {v})");
            }
        }
    }

    #[test]
    fn bad_sizes_are_refused() {
        let a = appearance(&[("x", false)]);
        for (w, h) in [
            (f64::NAN, 110.0),
            (200.0, f64::INFINITY),
            (50.0, 110.0),
            (200.0, 40.0),
            (2001.0, 110.0),
            (-200.0, 110.0),
        ] {
            assert!(
                matches!(draw(&a, w, h, 0), Err(StampError::Geometry(_))),
                "{w} x {h}"
            );
        }
    }

    #[test]
    fn short_content_is_stored_and_long_content_compressed() {
        let a = appearance(&[("Budi Santoso", true), ("NIP. 1987", false)]);
        let d = draw(&a, 200.0, 110.0, 0).expect("drawn");
        let form = String::from_utf8_lossy(&d.objects[0].1);
        assert!(!form.contains("/Filter"), "{form}");
        assert!(form.contains(" re\n"), "the content is readable as written");

        let long = "Kementerian Dalam Negeri Republik Indonesia ".repeat(4);
        let lines: Vec<(&str, bool)> = (0..30).map(|_| (long.as_str(), false)).collect();
        let d = draw(&appearance(&lines), 1900.0, 1000.0, 0).expect("drawn");
        let form = &d.objects[0].1;
        let text = String::from_utf8_lossy(form);
        assert!(text.contains("/Filter /FlateDecode"), "{text}");
        assert!(
            form.len() < STORED_CONTENT,
            "compressed: {} bytes",
            form.len()
        );
    }

    #[test]
    fn drawing_is_deterministic() {
        let a = appearance(&[("Budi Santoso", true), ("NIP. 1987", false)]);
        assert_eq!(draw(&a, 200.0, 110.0, 90), draw(&a, 200.0, 110.0, 90));
    }
}
