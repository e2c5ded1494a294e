//! Finding the tag in the shared corpus letters (reportlab with the standard fonts, cairo with
//! CFF subsets whose text comes only through ToUnicode, fpdf2 with a Type0 Identity-H
//! TrueType font), checked against poppler's word boxes.

mod place_support;

use pades::place::{find_tag, locate_in, Rect};
use pades::stamp::{Placement, StampError, DEFAULT_HEIGHT, DEFAULT_WIDTH};
use place_support::{assert_close, poppler_user_box};

fn corpus(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/");
    std::fs::read(format!("{path}{name}")).expect("corpus file")
}

fn check_against_poppler(file: &str, word: &str, page: u32) -> Rect {
    let pdf = corpus(file);
    let hit = find_tag(&pdf, word).expect("reads").expect("found");
    assert_eq!(hit.page, page, "{file}: {word}");
    if let Some((p, oracle)) = poppler_user_box(&pdf, word) {
        assert_eq!(p, page);
        assert_close(hit.rect, oracle, 3.0, &format!("{file}: {word}"));
    }
    hit.rect
}

#[test]
fn reportlab_letter_with_standard_fonts() {
    let r = check_against_poppler("surat-rekomendasi.pdf", "#ttd#", 2);
    assert!(r.width() > 15.0 && r.width() < 30.0, "{r:?}");
}

#[test]
fn cairo_letter_through_to_unicode() {
    check_against_poppler("surat-rekomendasi-cairo.pdf", "#ttd#", 2);
}

#[test]
fn fpdf2_type0_identity_h() {
    check_against_poppler("fpdf2-ttf-unicode.pdf", "Pembayaran", 1);
    check_against_poppler("fpdf2-ttf-unicode.pdf", "0815/KEU/2025", 1);
    check_against_poppler("fpdf2-ttf-unicode.pdf", "1.250.000,00", 1);
}

#[test]
fn the_stamp_covers_the_tag_from_its_top_left_corner() {
    let pdf = corpus("surat-rekomendasi.pdf");
    let tag = find_tag(&pdf, "#ttd#").expect("reads").expect("found").rect;
    let placement = Placement::Tag {
        text: "#ttd#".into(),
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
    };
    let l = locate_in(&pdf, &placement).expect("placed");
    assert_eq!((l.page, l.rotate), (2, 0));
    assert_eq!((l.width, l.height), (DEFAULT_WIDTH, DEFAULT_HEIGHT));
    assert!((l.rect.width() - DEFAULT_WIDTH).abs() < 1e-9);
    assert!((l.rect.height() - DEFAULT_HEIGHT).abs() < 1e-9);
    assert!(
        l.rect.x0 <= tag.x0 && l.rect.x1 >= tag.x1 && l.rect.y0 <= tag.y0 && l.rect.y1 >= tag.y1
    );
    assert!((tag.x0 - l.rect.x0 - 2.0).abs() < 1e-9, "{l:?} {tag:?}");
    assert!((l.rect.y1 - tag.y1 - 2.0).abs() < 1e-9, "{l:?} {tag:?}");
}

#[test]
fn a_missing_tag_is_named_and_other_pages_are_read() {
    let pdf = corpus("reportlab-12pages.pdf");
    assert_eq!(find_tag(&pdf, "#no-such-tag#").expect("reads"), None);
    let err = locate_in(
        &pdf,
        &Placement::Tag {
            text: "#no-such-tag#".into(),
            width: 200.0,
            height: 110.0,
        },
    )
    .expect_err("not found");
    assert!(
        matches!(err, pades::Error::Stamp(StampError::TagNotFound(ref t)) if t == "#no-such-tag#"),
        "{err}"
    );
    assert!(err.to_string().contains("#no-such-tag#"));
}

/// The first occurrence of each word of at least six characters (up to 40 a file), as poppler
/// reads it, is found where poppler puts it (other producers: ghostscript, fpdf2 with core fonts, qpdf's
/// object streams).
#[test]
fn words_of_other_producers_agree_with_poppler() {
    for file in [
        "gs-ps2pdf.pdf",
        "fpdf2-report.pdf",
        "reportlab-1page.pdf",
        "qpdf-xref-stream.pdf",
        "surat-rekomendasi-cairo.pdf",
        "fpdf2-ttf-unicode.pdf",
    ] {
        let pdf = corpus(file);
        let Some(words) = place_support::poppler_words(&pdf) else {
            return;
        };
        let mut checked = 0;
        for (i, (page, word, [x0, y0, x1, y1])) in words.iter().enumerate() {
            // The first occurrence in reading order, which for these producers is content order.
            let first = word.chars().count() >= 6
                && words[..i].iter().all(|w| !w.1.contains(word.as_str()));
            if !first || checked >= 40 {
                continue;
            }
            let hit = find_tag(&pdf, word).expect("reads").expect("found");
            assert_eq!(hit.page, *page, "{file}: {word}");
            let oracle = locate_in(
                &pdf,
                &Placement::Rect {
                    page: *page,
                    x: *x0,
                    y: *y0,
                    width: x1 - x0,
                    height: y1 - y0,
                },
            )
            .expect("on the page")
            .rect;
            assert_close(hit.rect, oracle, 3.0, &format!("{file}: {word}"));
            checked += 1;
        }
        assert!(checked >= 3, "{file}: only {checked} words checked");
    }
}
