//! The comparison of two revisions, on documents built here (no signature needs to verify for
//! the classification: a signature value is a dictionary with `/ByteRange` and `/Contents`).

use super::*;
use crate::pdf::object::Dict;
use crate::pdf::update::Update;

/// A letter with an empty signature field `Segel` (5) merged with its visible widget, its
/// placeholder appearance 6, on page 3.
fn with_empty_visible_field() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [5 0 R] >>",
        "<< /Producer (test) >>",
        "<< /FT /Sig /T (Segel) /Type /Annot /Subtype /Widget /Rect [350 100 550 210] /P 3 0 R /AP << /N 6 0 R >> >>",
        "<< /Type /XObject /Subtype /Form /BBox [0 0 200 110] /Length 0 >>\nstream\n\nendstream",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(b"xref\n0 7\n0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    out
}

/// `data` with field 5 given a (fake) signature value and, if `redraw`, a new appearance.
fn signed_into_field(data: &[u8], redraw: bool, sign: bool) -> Vec<u8> {
    let doc = Document::open(data).expect("opens");
    let mut u = Update::new(&doc);
    let mut field = doc
        .resolve_dict(&Object::Reference(ObjRef::new(5, 0)), "field")
        .expect("field");
    if sign {
        let v = u.allocate();
        u.put(
            v,
            b"<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>".to_vec(),
        );
        field.set(b"V", Object::Reference(v));
    }
    if redraw {
        let ap = u.allocate();
        u.put(
            ap,
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 110] /Length 20 >>\nstream\n1 g 0 0 200 110 re f\nendstream"
                .to_vec(),
        );
        let mut apd = Dict::new();
        apd.set(b"N", Object::Reference(ap));
        field.set(b"AP", Object::Dict(apd));
    }
    u.put_object(ObjRef::new(5, 0), &Object::Dict(field));
    let tail = u.finish([1; 16]).expect("update");
    let mut out = data.to_vec();
    out.extend_from_slice(&tail.bytes);
    out
}

fn changes(before: &[u8], after: &[u8]) -> Vec<Change> {
    let signed = Document::open(before).expect("opens");
    let last = Document::open(after).expect("opens");
    let history = History::new(&last, &|| false);
    history.changes_after(&signed, &last)
}

#[test]
fn a_prepared_field_drawn_as_it_is_signed_is_named() {
    let base = with_empty_visible_field();
    let after = signed_into_field(&base, true, true);
    let found = changes(&base, &after);
    assert!(
        found.iter().all(|c| c.level <= ChangeLevel::Signatures),
        "{found:#?}"
    );
    let named: Vec<_> = found
        .iter()
        .filter(|c| c.what.contains("visible signature widget"))
        .collect();
    assert_eq!(named.len(), 1, "{found:#?}");
    assert!(
        named[0].what.contains("page 1 at [350 100 550 210]"),
        "{}",
        named[0].what
    );
    // Signed without a new appearance: nothing new is drawn, nothing is named.
    let plain = signed_into_field(&base, false, true);
    let found = changes(&base, &plain);
    assert!(
        found
            .iter()
            .all(|c| !c.what.contains("visible signature widget")),
        "{found:#?}"
    );
    // Redrawn without being signed: the page shows something else than what was signed.
    let redrawn = signed_into_field(&base, true, false);
    let found = changes(&base, &redrawn);
    assert!(
        found.iter().any(|c| c.level == ChangeLevel::Annotations
            && c.what.contains("changed but its value did not")),
        "{found:#?}"
    );
}
