//! Page geometry (ISO 32000-2 §7.7.3.3, §14.11.2): the media box, the crop box (clipped to the
//! media box) and `/Rotate`, and the mapping between what a reader sees and user space.

use super::{num, Rect};
use crate::pdf::object::Object;
use crate::stamp::StampError;

/// Slack for comparisons with the page edges, in points (rounding in callers' arithmetic).
const EDGE_SLACK: f64 = 1e-6;
/// Largest page coordinate accepted (ISO 32000-2 Annex C allows 14,400 units of up to 75000
/// user-unit scale; anything larger is not a page).
const MAX_COORD: f64 = 1e7;
/// The default media box when a page has none usable (US Letter, as viewers assume).
const LETTER: Rect = Rect {
    x0: 0.0,
    y0: 0.0,
    x1: 612.0,
    y1: 792.0,
};

/// The geometry of a page: media box, crop box (clipped to the media box; default the media
/// box) and rotation, inherited through the page tree as ISO 32000-2 §7.7.3.4 says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageBox {
    /// The media box, normalised.
    pub media: Rect,
    /// The visible area: the crop box clipped to the media box.
    pub crop: Rect,
    /// The effective rotation, clockwise: 0, 90, 180 or 270.
    pub rotate: u16,
}

impl PageBox {
    /// The geometry from the (inherited) values of `/MediaBox`, `/CropBox` and `/Rotate`.
    /// Unusable values fall back: no media box is US Letter, a crop box outside the media box
    /// is the media box, a rotation that is not a multiple of 90 is 0.
    pub fn from_entries(
        media: Option<&Object>,
        crop: Option<&Object>,
        rotate: Option<&Object>,
    ) -> Self {
        let media = media.and_then(rect_of).unwrap_or(LETTER);
        let crop = crop
            .and_then(rect_of)
            .and_then(|c| c.intersect(&media))
            .unwrap_or(media);
        let rotate = match rotate.and_then(Object::as_i64) {
            Some(r) if r % 90 == 0 => u16::try_from(r.rem_euclid(360)).unwrap_or(0),
            _ => 0,
        };
        Self {
            media,
            crop,
            rotate,
        }
    }

    /// The crop box size as a reader sees it (swapped for 90 and 270).
    pub fn seen_size(&self) -> (f64, f64) {
        let (w, h) = (self.crop.x1 - self.crop.x0, self.crop.y1 - self.crop.y0);
        if self.rotate % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// The matrix [a b c d e f] from the reader's coordinates (origin at the visible
    /// bottom-left corner, x right, y up, in points) to user space.
    pub fn seen_to_user(&self) -> [f64; 6] {
        let Rect { x0, y0, x1, y1 } = self.crop;
        match self.rotate {
            90 => [0.0, 1.0, -1.0, 0.0, x1, y0],
            180 => [-1.0, 0.0, 0.0, -1.0, x1, y1],
            270 => [0.0, -1.0, 1.0, 0.0, x0, y1],
            _ => [1.0, 0.0, 0.0, 1.0, x0, y0],
        }
    }

    /// The inverse of [`PageBox::seen_to_user`].
    pub fn user_to_seen(&self) -> [f64; 6] {
        let [a, b, c, d, e, f] = self.seen_to_user();
        // The matrix is a rotation by a multiple of 90 degrees: its inverse is its transpose.
        let (ia, ib, ic, id) = (a, c, b, d);
        [ia, ib, ic, id, -(e * ia + f * ic), -(e * ib + f * id)]
    }

    /// A rectangle given from the visible top-left corner (x right, y DOWN, as a person
    /// measures a page) to user space.
    ///
    /// # Errors
    /// [`StampError::Geometry`] for a position or size that is not finite, or a size that is
    /// not positive; [`StampError::OffPage`] for one that leaves the visible page.
    pub fn rect_from_top_left(
        &self,
        page: u32,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    ) -> Result<Rect, StampError> {
        if ![x, y, w, h].iter().all(|v| v.is_finite()) {
            return Err(StampError::Geometry(format!(
                "the position ({x}, {y}) and size ({w} x {h}) must be finite numbers"
            )));
        }
        if w <= 0.0 || h <= 0.0 {
            return Err(StampError::Geometry(format!(
                "the size {w} x {h} pt must be positive"
            )));
        }
        let (pw, ph) = self.seen_size();
        if x < -EDGE_SLACK || y < -EDGE_SLACK || x + w > pw + EDGE_SLACK || y + h > ph + EDGE_SLACK
        {
            return Err(StampError::OffPage {
                page,
                x,
                y,
                width: w,
                height: h,
                page_width: pw,
                page_height: ph,
            });
        }
        let m = self.seen_to_user();
        let (ax, ay) = apply(&m, x, ph - y - h);
        let (bx, by) = apply(&m, x + w, ph - y);
        Ok(Rect::new(ax, ay, bx, by))
    }
}

/// Apply the matrix `m` to the point (`x`, `y`).
pub(super) fn apply(m: &[f64; 6], x: f64, y: f64) -> (f64, f64) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}

/// A rectangle array of four finite numbers with an area, normalised.
pub(crate) fn rect_of(o: &Object) -> Option<Rect> {
    let a = o.as_array()?;
    let v: Vec<f64> = a.iter().filter_map(num).collect();
    if a.len() != 4 || v.len() != 4 || v.iter().any(|c| c.abs() > MAX_COORD) {
        return None;
    }
    let r = Rect::new(v[0], v[1], v[2], v[3]);
    (r.x1 > r.x0 && r.y1 > r.y0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(v: &[f64]) -> Object {
        Object::Array(v.iter().map(|&x| Object::Real(x)).collect())
    }

    fn page(rotate: i64) -> PageBox {
        PageBox::from_entries(
            Some(&nums(&[0.0, 0.0, 600.0, 800.0])),
            Some(&nums(&[100.0, 50.0, 500.0, 750.0])),
            Some(&Object::Integer(rotate)),
        )
    }

    #[test]
    fn crop_box_and_rotation_fall_back_sanely() {
        let p = PageBox::from_entries(
            Some(&nums(&[600.0, 800.0, 0.0, 0.0])),
            Some(&nums(&[700.0, 900.0, 800.0, 1000.0])),
            Some(&Object::Integer(-90)),
        );
        assert_eq!(p.crop, Rect::new(0.0, 0.0, 600.0, 800.0));
        assert_eq!(p.rotate, 270);
        assert_eq!(
            PageBox::from_entries(None, None, Some(&Object::Integer(45))).rotate,
            0
        );
        let nan = nums(&[0.0, f64::NAN, 1.0, 1.0]);
        assert_eq!(PageBox::from_entries(Some(&nan), None, None).media, LETTER);
        assert_eq!(page(0).crop, Rect::new(100.0, 50.0, 500.0, 750.0));
    }

    #[test]
    fn top_left_rectangles_land_where_the_reader_sees_them() {
        // Crop box 400 x 700 at (100, 50). A 40 x 20 box 10 pt from the left, 30 from the top.
        let r = page(0)
            .rect_from_top_left(1, 10.0, 30.0, 40.0, 20.0)
            .expect("fits");
        assert_eq!(r, Rect::new(110.0, 700.0, 150.0, 720.0));
        // Rotated 90 clockwise: seen 700 wide, 400 high; the seen top-left corner is the
        // user's bottom-left (100, 50), seen x runs along user +y, seen y down along user +x.
        let p = page(90);
        assert_eq!(p.seen_size(), (700.0, 400.0));
        let r = p
            .rect_from_top_left(1, 10.0, 30.0, 40.0, 20.0)
            .expect("fits");
        assert_eq!(r, Rect::new(130.0, 60.0, 150.0, 100.0));
        let r = page(180)
            .rect_from_top_left(1, 10.0, 30.0, 40.0, 20.0)
            .expect("fits");
        assert_eq!(r, Rect::new(450.0, 80.0, 490.0, 100.0));
        let r = page(270)
            .rect_from_top_left(1, 10.0, 30.0, 40.0, 20.0)
            .expect("fits");
        assert_eq!(r, Rect::new(450.0, 700.0, 470.0, 740.0));
        for rot in [0, 90, 180, 270] {
            let p = page(rot);
            let m = p.seen_to_user();
            let i = p.user_to_seen();
            let (ux, uy) = apply(&m, 3.0, 7.0);
            assert_eq!(apply(&i, ux, uy), (3.0, 7.0), "rotate {rot}");
        }
    }

    #[test]
    fn refuses_what_leaves_the_page_or_is_not_a_size() {
        let p = page(90);
        assert!(matches!(
            p.rect_from_top_left(2, 690.0, 0.0, 20.0, 20.0),
            Err(StampError::OffPage { page: 2, .. })
        ));
        assert!(matches!(
            p.rect_from_top_left(1, -1.0, 0.0, 20.0, 20.0),
            Err(StampError::OffPage { .. })
        ));
        for (w, h) in [
            (0.0, 1.0),
            (1.0, -1.0),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
        ] {
            assert!(matches!(
                p.rect_from_top_left(1, 0.0, 0.0, w, h),
                Err(StampError::Geometry(_))
            ));
        }
        assert!(matches!(
            p.rect_from_top_left(1, f64::NEG_INFINITY, 0.0, 1.0, 1.0),
            Err(StampError::Geometry(_))
        ));
    }
}
