//! Where a visible stamp goes: a page and a rectangle in its user space.
//!
//! - [`Placement::Rect`]: a rectangle measured from the top-left corner of the page as the
//!   reader sees it (crop box and `/Rotate` applied, [`PageBox`]).
//! - [`Placement::Tag`]: over the first occurrence of a text in page order, found by
//!   interpreting each page's content stream (text operators, fonts and their encodings,
//!   ToUnicode CMaps, form XObjects; see `content` and `fonts`). The stamp, upright as seen,
//!   holds the tag's glyph box near its top-left corner and is moved (never shrunk) to stay on
//!   the visible page.
//!
//! ```text
//!  pages (tree walk, inherited /Resources /MediaBox /CropBox /Rotate)
//!    └─ content stream ─▶ lexer ─▶ text operators ─▶ glyphs (font: codes, text, widths)
//!                                                     └─▶ matcher (tag) ─▶ glyph box (user space)
//!                                                                           └─▶ PageBox ─▶ Located
//! ```
//!
//! Reading is bounded by the document's work budget (every object read and byte inflated), and
//! each part has limits of its own (see the modules). A font, a content stream or a resource
//! that cannot be read is treated as absent; only a spent budget or a broken page tree stops
//! the search.

mod afm;
mod balance;
mod cmap;
mod content;
mod encodings;
mod fonts;
mod geometry;
mod lexer;
mod pages;

pub(crate) use balance::page_balance;
pub(crate) use geometry::rect_of;
pub use geometry::PageBox;
pub(crate) use pages::{each_page, Page};

use crate::error::{Error, Result};
use crate::pdf::budget::Scope;
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::Document;
use crate::stamp::{Placement, StampError};

/// How far (points) the stamp's edges stand outside the tag's box when the page allows.
const TAG_MARGIN: f64 = 2.0;
/// Longest tag searched for, in characters (matching holds and compares this many).
pub const MAX_TAG_CHARS: usize = 256;

/// A rectangle in a page's default user space, normalised (x0 <= x1, y0 <= y1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x0: f64,
    /// Bottom.
    pub y0: f64,
    /// Right.
    pub x1: f64,
    /// Top.
    pub y1: f64,
}

impl Rect {
    /// The rectangle with corners (`ax`, `ay`) and (`bx`, `by`), normalised.
    pub fn new(ax: f64, ay: f64, bx: f64, by: f64) -> Self {
        Self {
            x0: ax.min(bx),
            y0: ay.min(by),
            x1: ax.max(bx),
            y1: ay.max(by),
        }
    }

    /// Width.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    /// Height.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, o: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }

    /// The common part, if it has an area.
    pub fn intersect(&self, o: &Rect) -> Option<Rect> {
        let r = Rect {
            x0: self.x0.max(o.x0),
            y0: self.y0.max(o.y0),
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
        };
        (r.x1 > r.x0 && r.y1 > r.y0).then_some(r)
    }

    /// The bounding box of points, if all are finite.
    pub(crate) fn around(points: &[(f64, f64)]) -> Option<Rect> {
        if !points.iter().all(|(x, y)| x.is_finite() && y.is_finite()) {
            return None;
        }
        let (&(x, y), rest) = points.split_first()?;
        Some(rest.iter().fold(Rect::new(x, y, x, y), |r, &(x, y)| {
            r.union(&Rect::new(x, y, x, y))
        }))
    }
}

/// Where a visible stamp goes, in the terms the signer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Page, 1-based.
    pub page: u32,
    /// The page object.
    pub page_ref: ObjRef,
    /// The widget's `/Rect` in user space.
    pub rect: Rect,
    /// The page's effective `/Rotate` (0, 90, 180, 270).
    pub rotate: u16,
    /// The stamp's width as the reader sees it.
    pub width: f64,
    /// The stamp's height as the reader sees it.
    pub height: f64,
}

/// Where a tag's first occurrence is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagHit {
    /// Page, 1-based.
    pub page: u32,
    /// The union of the tag's glyph boxes, in the page's user space.
    pub rect: Rect,
}

/// Find where `placement` puts the stamp (a [`Placement::Tag`] or [`Placement::Rect`];
/// [`Placement::Field`] takes the field's own rectangle and is the signer's business).
///
/// # Errors
/// [`StampError::TagNotFound`], [`StampError::OffPage`], [`StampError::Geometry`] (a size that
/// is not a positive finite number, or a stamp smaller than the tag), [`StampError::Placement`]
/// for a field placement; a page that does not exist, a broken page tree, a spent budget.
pub(crate) fn locate(doc: &Document<'_>, catalog: &Dict, placement: &Placement) -> Result<Located> {
    match placement {
        Placement::Rect {
            page,
            x,
            y,
            width,
            height,
        } => {
            let p = pages::page(doc, catalog, *page)?;
            let rect = p
                .geometry
                .rect_from_top_left(*page, *x, *y, *width, *height)?;
            Ok(Located {
                page: *page,
                page_ref: p.r,
                rect,
                rotate: p.geometry.rotate,
                width: *width,
                height: *height,
            })
        }
        Placement::Tag {
            text,
            width,
            height,
        } => {
            let (w, h) = (*width, *height);
            if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
                return Err(StampError::Geometry(format!(
                    "the stamp size {w} x {h} pt must be positive finite numbers"
                ))
                .into());
            }
            let (page, tag, direction) =
                search(doc, catalog, text)?.ok_or_else(|| StampError::TagNotFound(text.clone()))?;
            // The stamp follows the tag's text: on a page turned by /Rotate whose text was not
            // turned with it (a portrait letter shown sideways), it lies along the letter's
            // lines as the tag does, not across them. Its box is laid out in the frame where
            // that text reads upright.
            let frame = PageBox {
                rotate: direction,
                ..page.geometry
            };
            let rect = over_tag(&frame, page.number, tag, w, h)?;
            Ok(Located {
                page: page.number,
                page_ref: page.r,
                rect,
                rotate: direction,
                width: w,
                height: h,
            })
        }
        Placement::Field => Err(StampError::Placement(
            "a stamp in an existing signature field takes that field's rectangle".into(),
        )
        .into()),
    }
}

/// The stamp's rectangle (user space) of `w` x `h` seen points over the tag box `tag`.
fn over_tag(g: &PageBox, page: u32, tag: Rect, w: f64, h: f64) -> Result<Rect> {
    let m = g.user_to_seen();
    let seen = Rect::around(&[
        geometry::apply(&m, tag.x0, tag.y0),
        geometry::apply(&m, tag.x1, tag.y1),
    ])
    .ok_or_else(|| StampError::Geometry("the tag's box is not finite".into()))?;
    if seen.width() > w || seen.height() > h {
        return Err(StampError::Geometry(format!(
            "the stamp ({w:.1} x {h:.1} pt) is smaller than the tag's text ({:.1} x {:.1} pt), which it must cover",
            seen.width(),
            seen.height()
        ))
        .into());
    }
    let (pw, ph) = g.seen_size();
    // From the top-left corner, y down.
    let (tag_left, tag_right) = (seen.x0, seen.x1);
    let (tag_top, tag_bottom) = (ph - seen.y1, ph - seen.y0);
    let fit = |pref: f64, near: f64, far: f64, size: f64, page: f64| {
        let lo = (far - size).max(0.0);
        let hi = near.min(page - size);
        (lo <= hi).then(|| pref.clamp(lo, hi))
    };
    let x = fit(tag_left - TAG_MARGIN, tag_left, tag_right, w, pw);
    let y = fit(tag_top - TAG_MARGIN, tag_top, tag_bottom, h, ph);
    match (x, y) {
        (Some(x), Some(y)) => Ok(g.rect_from_top_left(page, x, y, w, h)?),
        _ => Err(StampError::OffPage {
            page,
            x: tag_left - TAG_MARGIN,
            y: tag_top - TAG_MARGIN,
            width: w,
            height: h,
            page_width: pw,
            page_height: ph,
        }
        .into()),
    }
}

/// The first occurrence of `tag` in page order: its page, glyph box and the direction of its
/// text (0, 90, 180 or 270 degrees counter-clockwise in user space).
fn search(
    doc: &Document<'_>,
    catalog: &Dict,
    tag: &str,
) -> Result<Option<(pages::Page, Rect, u16)>> {
    let chars = tag.chars().count();
    if chars == 0 || chars > MAX_TAG_CHARS {
        return Err(StampError::Placement(format!(
            "a tag must have 1 to {MAX_TAG_CHARS} characters, not {chars}"
        ))
        .into());
    }
    let mut fonts = content::FontCache::new();
    let mut matcher = content::Matcher::new(tag);
    pages::each_page(doc, catalog, |page| {
        let hit = content::Page::new(doc, &mut fonts, &mut matcher)
            .search(&page.dict, page.resources.as_ref())?;
        Ok(hit.map(|r| (page.clone(), r, matcher.direction())))
    })
}

/// Where the first occurrence of `tag` is (page and glyph box in user space), or `None`.
///
/// # Errors
/// A file that does not open, a broken page tree, a spent work budget;
/// [`StampError::Placement`] for an empty tag or one longer than [`MAX_TAG_CHARS`].
pub fn find_tag(pdf: &[u8], tag: &str) -> Result<Option<TagHit>> {
    with_catalog(pdf, |doc, catalog| {
        Ok(search(doc, catalog, tag)?.map(|(p, rect, _)| TagHit {
            page: p.number,
            rect,
        }))
    })
}

/// The located stamp of a placement in a whole PDF (for tests and clients).
///
/// # Errors
/// As [`find_tag`], and the refusals of placing the stamp.
pub fn locate_in(pdf: &[u8], placement: &Placement) -> Result<Located> {
    with_catalog(pdf, |doc, catalog| locate(doc, catalog, placement))
}

fn with_catalog<T>(pdf: &[u8], f: impl FnOnce(&Document<'_>, &Dict) -> Result<T>) -> Result<T> {
    let scope = Scope::enter(pdf.len());
    let doc = Document::open(pdf)?;
    let root = doc
        .trailer()
        .get(b"Root")
        .cloned()
        .ok_or_else(|| Error::structure("the trailer has no /Root"))?;
    let catalog = doc.resolve_dict(&root, "the catalog")?;
    let out = f(&doc, &catalog);
    scope.check()?;
    out
}

/// A finite number (integer or real).
pub(crate) fn num(o: &Object) -> Option<f64> {
    match o {
        // Integers beyond 2^53 lose precision, which does not matter for geometry.
        #[allow(clippy::cast_precision_loss)]
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) if r.is_finite() => Some(*r),
        _ => None,
    }
}

/// Keep a spent budget as an error; anything else unreadable is absent.
pub(crate) fn soft<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Limit(e)) => Err(Error::Limit(e)),
        Err(_) => Ok(None),
    }
}
