//! Several signers on one letter and the footer note, judged by every validator: a reviewer's
//! invisible initials then the official's visible seal; a certified seal followed by a later
//! signature; FieldMDP locks; the footer on every page of an unsigned letter only.

use std::path::Path;

use pades::stamp::{compose, DocumentId, Placement, StampError, StampSettings, VisibleOptions};
use pades::verify::ChangeLevel;
use segel_tests::{corpus, poppler};

use super::seal_corpus::{judged, page_pdf, signer, signer_of};
use super::verify;

const VERIFY_URL: &str = "http://127.0.0.1:8080";

/// A request for a seal over `#ttd#` (with the footer if asked), or an invisible one.
fn request(field: &str, visible: bool, footer: bool) -> pades::SignatureRequest {
    let time = pades::UnixTime::now();
    let mut r = pades::SignatureRequest::new(time);
    r.field = Some(field.into());
    if visible || footer {
        let settings = StampSettings::new("Kementerian Contoh", VERIFY_URL).expect("settings");
        let options = VisibleOptions {
            placement: Placement::Tag {
                text: "#ttd#".into(),
                width: 200.0,
                height: 110.0,
            },
            fields: [("nama".to_string(), "Budi Santoso".to_string())].into(),
            footer,
            image: None,
        };
        let id = DocumentId::generate();
        r.appearance = Some(compose(&settings, &options, &id, time).expect("compose"));
    }
    r
}

fn sign(input: &[u8], request: &pades::SignatureRequest) -> Result<Vec<u8>, pades::Error> {
    let (signer, identity) = signer();
    Ok(pades::sign(input, request, &signer, &identity)?.to_vec())
}

/// Sign with the other development key (RSA-3072): a second person. (pdfsig of poppler 22
/// cannot validate the certificate of a second signature made with the same certificate as
/// the first — pyHanko's own double signatures fail it alike — so two signers use two keys.)
fn sign_as_reviewer(
    input: &[u8],
    request: &pades::SignatureRequest,
) -> Result<Vec<u8>, pades::Error> {
    let (signer, identity) = signer_of("dev-agency-3072.key", "dev-agency-3072.pem");
    Ok(pades::sign(input, request, &signer, &identity)?.to_vec())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

#[test]
fn a_reviewers_initials_then_the_officials_seal_both_stay_valid() {
    let work = tempfile::tempdir().expect("tempdir");
    let letter = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("letter");
    let initials = sign_as_reviewer(&letter, &request("Paraf", false, false)).expect("initials");
    let mut official = request("Pejabat", true, false);
    official.lock_fields = true;
    let sealed = sign(&initials, &official).expect("seal");
    let first = write(work.path(), "initials.pdf", &initials);
    let out = write(work.path(), "sealed.pdf", &sealed);
    judged("initials then seal", &first, &out);

    let report = verify(&out);
    assert_eq!(report.signatures.len(), 2);
    // The reviewer's report names the official's seal drawn over the page.
    let reviewer = &report.signatures[0];
    assert!(
        reviewer
            .changes
            .iter()
            .any(|c| c.level == ChangeLevel::Signatures
                && c.what.contains("visible signature widget")
                && c.what.contains("page 2")),
        "the later seal is not named: {:#?}",
        reviewer.changes
    );
    // The seal locks both signed fields.
    let text = String::from_utf8_lossy(&sealed[initials.len()..]).into_owned();
    assert!(
        text.contains("/FieldMDP") && text.contains("(Paraf)") && text.contains("(Pejabat)"),
        "no FieldMDP lock of both fields in the seal's revision"
    );
}

#[test]
fn a_certified_seal_allows_a_later_signature_and_refuses_a_footer() {
    let work = tempfile::tempdir().expect("tempdir");
    let letter = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("letter");
    let mut certified = request("Pejabat", true, false);
    certified.certify = Some(2);
    let sealed = sign(&letter, &certified).expect("certified seal");
    let received =
        sign_as_reviewer(&sealed, &request("Penerima", false, false)).expect("later signature");
    let out = write(work.path(), "received.pdf", &received);
    judged(
        "certified then signed",
        &write(work.path(), "sealed.pdf", &sealed),
        &out,
    );
    let report = verify(&out);
    assert_eq!(report.signatures[0].certification, Some(2));

    // A footer would change every page under both signatures: refused, nothing made.
    let e = sign(&received, &request("Lagi", true, true)).expect_err("footer on a signed letter");
    assert!(
        matches!(
            e,
            pades::Error::Stamp(StampError::FooterOnSignedDocument(_))
        ),
        "{e}"
    );
    // A certification with no changes allowed refuses any later seal.
    let mut locked = request("Pejabat", true, false);
    locked.certify = Some(1);
    let no_changes = sign(&letter, &locked).expect("P=1 seal");
    let e = sign(&no_changes, &request("Lagi", true, false)).expect_err("seal after P=1");
    assert!(matches!(e, pades::Error::CertifiedNoChanges), "{e}");
}

#[test]
fn the_footer_is_on_every_page_at_the_bottom_as_seen() {
    let work = tempfile::tempdir().expect("tempdir");
    for name in [
        "reportlab-12pages.pdf",
        "surat-rotate90.pdf",
        "surat-cropbox.pdf",
        "surat-chromium.pdf",
    ] {
        let input = corpus().join(name);
        let letter = std::fs::read(&input).expect("letter");
        let tagged = String::from_utf8_lossy(&letter).contains("#ttd#")
            || pades::place::find_tag(&letter, "#ttd#")
                .expect("search")
                .is_some();
        let mut r = request("Pejabat", true, true);
        if !tagged {
            let Some(a) = r.appearance.as_mut() else {
                unreachable!()
            };
            a.placement = Placement::Rect {
                page: 1,
                x: 300.0,
                y: 40.0,
                width: 200.0,
                height: 110.0,
            };
        }
        let signed = sign(&letter, &r).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = write(work.path(), name, &signed);
        judged(name, &input, &out);
        let (Some(before), Some(after)) = (
            poppler::word_boxes(&input).expect("pdftotext"),
            poppler::word_boxes(&out).expect("pdftotext"),
        ) else {
            return;
        };
        assert_eq!(before.len(), after.len(), "{name}: pages");
        for (i, (old, new)) in before.iter().zip(&after).enumerate() {
            let footer = new
                .find("keasliannya,")
                .unwrap_or_else(|| panic!("{name}: no footer on page {}", i + 1));
            // pdftotext -bbox measures from the top-left corner as the reader sees the page:
            // the footer lies below every word of the letter.
            let lowest = old.words.iter().map(|(_, b)| b.y_max).fold(0.0, f64::max);
            assert!(
                footer.y_min > lowest,
                "{name}: the footer on page {} at {footer:?} is not below the letter's text \
                 (lowest word ends at {lowest})",
                i + 1
            );
        }
    }
}

/// A tagged letter (Chromium's print-to-PDF) sealed twice: the first seal joins the structure
/// tree, the second does not touch it, so every validator keeps both signatures (pyHanko judges
/// structure-tree edits after a signature as modifications).
#[test]
fn a_tagged_letter_sealed_twice_keeps_both_signatures_for_every_judge() {
    let work = tempfile::tempdir().expect("tempdir");
    let letter = std::fs::read(corpus().join("surat-chromium.pdf")).expect("letter");
    let first = sign(&letter, &request("Pejabat", true, false)).expect("first seal");
    let mut second = request("Pengesah", true, false);
    if let Some(a) = second.appearance.as_mut() {
        a.placement = Placement::Rect {
            page: 1,
            x: 40.0,
            y: 40.0,
            width: 200.0,
            height: 110.0,
        };
    }
    let twice = sign_as_reviewer(&first, &second).expect("second seal");
    let once = write(work.path(), "once.pdf", &first);
    let out = write(work.path(), "twice.pdf", &twice);
    judged("tagged, sealed twice", &once, &out);
    let added = String::from_utf8_lossy(&first[letter.len()..]).into_owned();
    // (A page carries /StructParents; a widget /StructParent.)
    assert!(
        added.contains("/StructParent "),
        "the first seal joins the tree"
    );
    let later = String::from_utf8_lossy(&twice[first.len()..]).into_owned();
    assert!(
        !later.contains("/StructParent ") && !later.contains("/StructElem"),
        "the second seal leaves the structure tree alone"
    );
}

/// Page content that leaves the graphics state bent (a scale left in force, states left
/// pushed, or states popped that it never pushed) does not bend the footer: it spans the page
/// at the bottom as the reader sees it.
#[test]
fn the_footer_is_not_bent_by_unbalanced_page_content() {
    let work = tempfile::tempdir().expect("tempdir");
    for (name, content) in [
        (
            "scaled-and-pushed",
            "0.5 0 0 0.5 0 0 cm q 0 0 1 rg 10 10 50 50 re f",
        ),
        (
            "popped-then-scaled",
            "Q 0.5 0 0 0.5 0 0 cm 0 0 1 rg 10 10 50 50 re f",
        ),
        (
            "pushed-twice",
            "q q 0.25 0 0 0.25 300 300 cm 0 0 1 rg 0 0 50 50 re f",
        ),
    ] {
        let input = write(
            work.path(),
            &format!("{name}.pdf"),
            &page_pdf((595.0, 842.0), 0, content.as_bytes()),
        );
        let letter = std::fs::read(&input).expect("input");
        let mut r = request("Pejabat", true, true);
        if let Some(a) = r.appearance.as_mut() {
            a.placement = Placement::Rect {
                page: 1,
                x: 300.0,
                y: 100.0,
                width: 200.0,
                height: 110.0,
            };
        }
        let signed = sign(&letter, &r).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = write(work.path(), &format!("{name}-signed.pdf"), &signed);
        let Some(pages) = poppler::word_boxes(&out).expect("pdftotext") else {
            return;
        };
        let footer = pages[0]
            .find("keasliannya,")
            .unwrap_or_else(|| panic!("{name}: no footer"));
        // Unbent, the footer's words lie in the lowest 40 pt of the 842 pt page, and its
        // lines span more than half of its width.
        assert!(footer.y_min > 800.0, "{name}: footer at {footer:?}");
        let words: Vec<_> = pages[0]
            .words
            .iter()
            .filter(|(_, b)| b.y_min > 800.0)
            .collect();
        let left = words.iter().map(|(_, b)| b.x_min).fold(f64::MAX, f64::min);
        let right = words.iter().map(|(_, b)| b.x_max).fold(0.0, f64::max);
        assert!(
            right - left > 300.0,
            "{name}: footer from {left} to {right}"
        );
    }
}
