//! The footer note: on every page, each page rewritten once with both its footer and (on the
//! seal's page) the seal's widget; refused on long documents and on signed ones.

use pades::stamp::{compose, DocumentId, Placement, StampError, StampSettings, VisibleOptions};
use pades::testing::synthetic_pdf;
use pades::{SignatureRequest, UnixTime};

fn footer_request(page: u32) -> SignatureRequest {
    let time = UnixTime(1_795_942_800);
    let settings =
        StampSettings::new("Kementerian Contoh", "http://127.0.0.1:8080").expect("settings");
    let visible = VisibleOptions {
        placement: Placement::Rect {
            page,
            x: 300.0,
            y: 40.0,
            width: 200.0,
            height: 110.0,
        },
        fields: Default::default(),
        footer: true,
        image: None,
    };
    let mut r = SignatureRequest::new(time);
    r.appearance =
        Some(compose(&settings, &visible, &DocumentId::generate(), time).expect("compose"));
    r
}

#[test]
fn every_page_gets_the_footer_and_the_seal_page_keeps_its_widget() {
    let pdf = synthetic_pdf(5, 0);
    let prepared = pades::prepare(&pdf, &footer_request(3), 8192).expect("prepared");
    let signed = prepared.embed(&[]).expect("embed");
    let tail = String::from_utf8_lossy(signed.tail()).into_owned();
    // One footer font resource per page, and the widget on page 3 in the same page object.
    assert_eq!(tail.matches("/SegelFooter ").count(), 5, "{tail}");
    let annots = tail.matches("/Annots").count();
    assert_eq!(annots, 1, "exactly one page lists the widget");
    // Every rewritten page carries both edits: the page with /Annots also has the footer.
    let page_with_widget = tail
        .split("endobj")
        .find(|o| o.contains("/Annots"))
        .expect("the seal's page");
    assert!(
        page_with_widget.contains("/SegelFooter"),
        "{page_with_widget}"
    );
}

#[test]
fn a_footer_is_refused_beyond_its_page_limit() {
    let pdf = synthetic_pdf(2001, 0);
    let e = pades::prepare(&pdf, &footer_request(1), 8192).expect_err("too many pages");
    assert!(
        matches!(
            e,
            pades::Error::Stamp(StampError::FooterTooManyPages { limit: 2000, .. })
        ),
        "{e}"
    );
}
