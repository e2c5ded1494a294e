//! Test and benchmark access to the stamp's drawing (the `testing` feature): the crate-internal
//! drawing functions, with object numbers counted from a given first number.

use super::appearance::draw_stamp;
use super::footer::Footer;
use super::{Appearance, StampError};
use crate::pdf::object::ObjRef;

/// A drawn stamp: its form XObject and every object, numbered from the first number given.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnStamp {
    /// The form XObject (the widget's normal appearance).
    pub form: ObjRef,
    /// (reference, body) pairs: each object's bytes without `N 0 obj` / `endobj`.
    pub objects: Vec<(ObjRef, Vec<u8>)>,
}

/// Draws `appearance` into a `width` x `height` pt box for a page rotated by `rotate`, numbering
/// new objects from `first`.
///
/// # Errors
/// As the engine's stamp drawing: bad geometry, text, image or link.
pub fn draw(
    appearance: &Appearance,
    width: f64,
    height: f64,
    rotate: u16,
    first: u32,
) -> Result<DrawnStamp, StampError> {
    let mut next = first;
    let drawn = draw_stamp(appearance, width, height, rotate, &mut || {
        let r = ObjRef::new(next, 0);
        next += 1;
        r
    })?;
    Ok(DrawnStamp {
        form: drawn.form,
        objects: drawn.objects,
    })
}

/// A drawn footer note.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnFooter {
    /// Content-stream operators for one page.
    pub content: Vec<u8>,
    /// The font dictionary (the resource the content names).
    pub font: ObjRef,
    /// (reference, body) pairs of the font's objects.
    pub objects: Vec<(ObjRef, Vec<u8>)>,
}

/// The footer `text` on a page `seen_width` pt wide: its content operators (font resource
/// `font_name`), its font dictionary and the font's objects numbered from `first`.
///
/// # Errors
/// As the engine's footer: bad text or a page too narrow.
pub fn footer(
    text: &str,
    seen_width: f64,
    font_name: &str,
    first: u32,
) -> Result<DrawnFooter, StampError> {
    let footer = Footer::new(text)?;
    let content = footer.content(seen_width, font_name)?;
    let mut next = first;
    let (font, objects) = footer.font_objects(&mut || {
        let r = ObjRef::new(next, 0);
        next += 1;
        r
    });
    Ok(DrawnFooter {
        content,
        font,
        objects,
    })
}
