//! Finding the tag in small hand-made PDFs, one feature each, checked against the expected
//! geometry and against poppler's word boxes; and rectangles measured on rotated and cropped
//! pages as the reader sees them.

mod place_support;

use pades::place::{find_tag, locate_in, Rect};
use pades::stamp::{Placement, StampError};
use place_support::{assert_close, one_page, poppler_user_box, stream, HELVETICA};

/// Check our box against the expected one and against poppler's.
fn check(pdf: &[u8], tag: &str, expected: Option<Rect>) -> Rect {
    let hit = find_tag(pdf, tag).expect("reads").expect("found");
    assert_eq!(hit.page, 1);
    if let Some(e) = expected {
        assert_close(hit.rect, e, 1e-6, "expected geometry");
    }
    if let Some((page, oracle)) = poppler_user_box(pdf, tag) {
        assert_eq!(page, 1);
        assert_close(hit.rect, oracle, 3.0, "poppler");
    }
    hit.rect
}

// Helvetica widths: # 556, t 278, d 556: "#ttd#" is 2224 thousandths of an em.
const TTD: f64 = 2.224;

#[test]
fn tj_kerning_splits_the_tag() {
    let pdf = one_page(
        "",
        b"BT /F1 12 Tf 100 700 Td [(#t) 40 (td#)] TJ ET",
        HELVETICA,
        &[],
    );
    let w = TTD * 12.0 - 0.040 * 12.0;
    check(
        &pdf,
        "#ttd#",
        Some(Rect::new(100.0, 700.0 - 2.4, 100.0 + w, 700.0 + 9.6)),
    );
}

#[test]
fn two_tj_operators_and_text_state() {
    // Character spacing 1 and horizontal scaling 50%: each glyph advances (w*12 + 1) * 0.5.
    let pdf = one_page(
        "",
        b"BT /F1 12 Tf 1 Tc 50 Tz 100 700 Td (#tt) Tj (d#) Tj ET",
        HELVETICA,
        &[],
    );
    // The box ends where the last glyph's width ends (its spacing after it is not ink): four
    // spacings of 1 pt, all at half width.
    let end = 100.0 + (TTD * 12.0 + 4.0) * 0.5;
    let r = check(&pdf, "#ttd#", None);
    assert!(
        (r.x0 - 100.0).abs() < 1e-9 && (r.x1 - end).abs() < 1e-9,
        "{r:?} vs {end}"
    );
}

#[test]
fn cm_and_tm_scaling() {
    let pdf = one_page(
        "",
        b"q 2 0 0 2 10 20 cm BT /F1 10 Tf 1.5 0 0 1.5 50 100 Tm (#ttd#) Tj ET Q",
        HELVETICA,
        &[],
    );
    // Text space to user: scale 1.5 then 2, origin (10 + 2*50, 20 + 2*100).
    let s = 10.0 * 1.5 * 2.0;
    check(
        &pdf,
        "#ttd#",
        Some(Rect::new(
            110.0,
            220.0 - 0.2 * s,
            110.0 + TTD * s,
            220.0 + 0.8 * s,
        )),
    );
}

#[test]
fn differences_encoding_and_explicit_widths() {
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 65 /LastChar 67 \
                /Widths [556 278 556] /Encoding << /BaseEncoding /WinAnsiEncoding \
                /Differences [65 /numbersign /t /d] >> >>";
    let pdf = one_page("", b"BT /F1 20 Tf 50 600 Td (ABBCA) Tj ET", font, &[]);
    check(
        &pdf,
        "#ttd#",
        Some(Rect::new(50.0, 596.0, 50.0 + TTD * 20.0, 616.0)),
    );
}

#[test]
fn a_tag_inside_a_form_xobject() {
    let pdf = pdf_with_form();
    check(
        &pdf,
        "#ttd#",
        Some(Rect::new(
            150.0,
            150.0 - 2.4,
            150.0 + TTD * 12.0,
            150.0 + 9.6,
        )),
    );
}

fn pdf_with_form() -> Vec<u8> {
    let page = "/Resources << /XObject << /X1 6 0 R >> >>";
    let form = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 300 300] /Matrix [1 0 0 1 100 100] \
         /Resources << /Font << /F1 5 0 R >> >>",
        b"BT /F1 12 Tf 50 50 Td (#ttd#) Tj ET",
    );
    // The page's own /Resources (with /XObject only) replace the default in one_page: build
    // it by hand.
    place_support::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 600 800] >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /Contents 4 0 R {page} >>").into_bytes(),
        stream("", b"q /X1 Do Q"),
        HELVETICA.as_bytes().to_vec(),
        form,
    ])
}

#[test]
fn an_absent_tag_is_refused_by_name() {
    let pdf = one_page("", b"BT /F1 12 Tf 100 700 Td (#ttd) Tj ET", HELVETICA, &[]);
    assert_eq!(find_tag(&pdf, "#ttd#").expect("reads"), None);
    let err = locate_in(
        &pdf,
        &Placement::Tag {
            text: "#ttd#".into(),
            width: 200.0,
            height: 110.0,
        },
    )
    .expect_err("absent");
    assert!(matches!(err, pades::Error::Stamp(StampError::TagNotFound(ref t)) if t == "#ttd#"));
}

/// A page with `extra` geometry entries and the word MARK at user (x, y).
fn marked(extra: &str, x: f64, y: f64) -> Vec<u8> {
    one_page(
        extra,
        format!("BT /F1 12 Tf {x} {y} Td (MARK) Tj ET").as_bytes(),
        HELVETICA,
        &[],
    )
}

#[test]
fn crop_box_offset_from_the_media_box() {
    let pdf = marked("/CropBox [100 150 500 750]", 150.0, 600.0);
    let hit = check(&pdf, "MARK", None);
    // Measured from the crop box's top-left corner: 50 pt right, about 150 - 9.6 pt down.
    let l = locate_in(
        &pdf,
        &Placement::Rect {
            page: 1,
            x: 50.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        },
    )
    .expect("fits");
    assert_eq!(l.rect, Rect::new(150.0, 740.0, 160.0, 750.0));
    assert!(hit.x0 >= 150.0 - 1e-9);
    let off = locate_in(
        &pdf,
        &Placement::Rect {
            page: 1,
            x: 395.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        },
    );
    assert!(
        matches!(off, Err(pades::Error::Stamp(StampError::OffPage { .. }))),
        "{off:?}"
    );
}

#[test]
fn rotated_pages_as_the_reader_sees_them() {
    for rotate in [90, 180, 270] {
        // Poppler reports the word as seen; mapping that through our geometry must give the
        // box we find in user space.
        let pdf = marked(
            &format!("/Rotate {rotate} /CropBox [20 30 580 770]"),
            200.0,
            300.0,
        );
        let hit = find_tag(&pdf, "MARK").expect("reads").expect("found");
        if let Some((_, oracle)) = poppler_user_box(&pdf, "MARK") {
            assert_close(hit.rect, oracle, 3.0, &format!("/Rotate {rotate}"));
        }
        let l = locate_in(
            &pdf,
            &Placement::Tag {
                text: "MARK".into(),
                width: 120.0,
                height: 60.0,
            },
        )
        .expect("placed");
        // The text is not turned with the page (the reader sees it turned): the stamp follows
        // the text, so it is not turned either, and its user-space box is 120 wide, 60 high.
        assert_eq!(l.rotate, 0);
        let (w, h) = (120.0, 60.0);
        assert!(
            (l.rect.width() - w).abs() < 1e-9 && (l.rect.height() - h).abs() < 1e-9,
            "{l:?}"
        );
        assert!(
            l.rect.x0 <= hit.rect.x0
                && l.rect.y0 <= hit.rect.y0
                && l.rect.x1 >= hit.rect.x1
                && l.rect.y1 >= hit.rect.y1,
            "/Rotate {rotate}: {l:?} must cover {hit:?}"
        );
    }
}

#[test]
fn rotate_inherited_from_the_page_tree() {
    let pdf = place_support::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Rotate 90 /MediaBox [0 0 600 800] >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R >>".to_vec(),
    ]);
    let l = locate_in(
        &pdf,
        &Placement::Rect {
            page: 1,
            x: 0.0,
            y: 0.0,
            width: 100.0,
            height: 50.0,
        },
    )
    .expect("fits");
    // Seen 800 x 600; its top-left corner is the user's bottom-left.
    assert_eq!(l.rotate, 90);
    assert_eq!(l.rect, Rect::new(0.0, 0.0, 50.0, 100.0));
    assert!(locate_in(
        &pdf,
        &Placement::Rect {
            page: 2,
            x: 0.0,
            y: 0.0,
            width: 100.0,
            height: 50.0,
        },
    )
    .is_err());
}

#[test]
fn a_tag_at_the_page_edge_moves_the_stamp_inward() {
    let pdf = marked("", 560.0, 20.0);
    let hit = find_tag(&pdf, "MARK").expect("reads").expect("found").rect;
    let l = locate_in(
        &pdf,
        &Placement::Tag {
            text: "MARK".into(),
            width: 200.0,
            height: 110.0,
        },
    )
    .expect("placed");
    // Pushed left to the right edge and down to the bottom edge, still covering the tag.
    assert_eq!(l.rect, Rect::new(400.0, 0.0, 600.0, 110.0));
    assert!(l.rect.x0 <= hit.x0 && l.rect.x1 >= hit.x1 && l.rect.y1 >= hit.y1);
    let too_big = locate_in(
        &pdf,
        &Placement::Tag {
            text: "MARK".into(),
            width: 700.0,
            height: 110.0,
        },
    );
    assert!(
        matches!(
            too_big,
            Err(pades::Error::Stamp(StampError::OffPage { .. }))
        ),
        "{too_big:?}"
    );
    let too_small = locate_in(
        &pdf,
        &Placement::Tag {
            text: "MARK".into(),
            width: 5.0,
            height: 110.0,
        },
    );
    assert!(
        matches!(too_small, Err(pades::Error::Stamp(StampError::Geometry(_)))),
        "{too_small:?}"
    );
}
