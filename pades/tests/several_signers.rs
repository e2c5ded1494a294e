//! Several signers on one letter: a reviewer's invisible initials then an official's visible
//! seal, a certification then a seal, field locks; and what a later "signature" revision may
//! try to smuggle in with the seal (page content, resources, annotations, widgets that no
//! signature field owns), each of which the earlier signature's report must refuse or name.
//!
//! The later seals are written by hand (see `several_signers/letter.rs`) and then signed with
//! the engine, as a signer that signs into an existing empty field does.

mod common;
#[path = "several_signers/letter.rs"]
mod letter;

use letter::*;
use pades::pdf::{Dict, ObjRef, Object};
use pades::verify::ChangeLevel;
use pades::Indication;

use common::Seal;

fn seal() -> Seal {
    common::seal("Sekretariat Jenderal")
}

/// The first signature's report must not be TOTAL-PASSED, with `needle` in its reason.
fn refused(seal: &Seal, what: &str, data: &[u8], needle: &str) {
    let r = report(seal, data);
    let s = &r.signatures[0];
    assert_ne!(s.indication, Indication::TotalPassed, "{what}: {s:#?}");
    assert!(
        s.reason.contains(needle),
        "{what}: the reason {:?} does not say {needle:?}; changes {:#?}",
        s.reason,
        s.changes
    );
}

/// The reviewer's invisible initials (`Paraf`) on the letter.
fn reviewed(seal: &Seal) -> Vec<u8> {
    signed(seal, &letter(false), "Paraf", None)
}

/// The seal's revision with `smuggle` done in the same revision, then signed.
fn sealed_with(
    seal: &Seal,
    data: &[u8],
    smuggle: impl FnOnce(&mut Revision<'_, '_, '_>, ObjRef),
) -> Vec<u8> {
    let with_field = revise(data, |rev| {
        let w = rev.add_seal("Segel", [350, 100, 550, 210], |_| {});
        smuggle(rev, w);
    });
    signed(seal, &with_field, "Segel", None)
}

#[test]
fn initials_then_a_visible_seal_both_pass_and_the_seal_is_named() {
    let seal = seal();
    let data = sealed(&seal, &reviewed(&seal), "Segel", [350, 100, 550, 210]);
    let r = report(&seal, &data);
    assert!(r.all_passed(), "{r:#?}");
    assert_eq!(r.signatures.len(), 2);
    let first = &r.signatures[0];
    let named: Vec<_> = first
        .changes
        .iter()
        .filter(|c| c.what.contains("visible signature widget"))
        .collect();
    assert_eq!(named.len(), 1, "{:#?}", first.changes);
    let c = named[0];
    assert_eq!(c.level, ChangeLevel::Signatures);
    assert_eq!(c.field.as_deref(), Some("Segel"));
    assert!(
        c.what.contains("page 1") && c.what.contains("[350 100 550 210]"),
        "{}",
        c.what
    );
}

#[test]
fn two_visible_seals_are_each_named() {
    let seal = seal();
    let once = sealed(&seal, &reviewed(&seal), "Segel", [350, 100, 550, 210]);
    let twice = sealed(&seal, &once, "Segel2", [50, 100, 250, 210]);
    let r = report(&seal, &twice);
    assert!(r.all_passed(), "{r:#?}");
    let named = |i: usize| {
        r.signatures[i]
            .changes
            .iter()
            .filter(|c| c.what.contains("visible signature widget"))
            .count()
    };
    assert_eq!(named(0), 2, "the initials see both seals");
    assert_eq!(named(1), 1, "the first seal sees the second");
}

#[test]
fn an_invisible_later_signature_is_not_named_as_visible() {
    let seal = seal();
    let data = signed(&seal, &reviewed(&seal), "Paraf2", None);
    let r = report(&seal, &data);
    assert!(r.all_passed(), "{r:#?}");
    assert!(r.signatures[0]
        .changes
        .iter()
        .all(|c| !c.what.contains("visible signature widget")));
}

#[test]
fn a_certification_allows_a_later_seal_at_p2_and_nothing_at_p1() {
    let seal = seal();
    let p2 = signed(&seal, &letter(false), "Sertifikasi", Some(2));
    let data = sealed(&seal, &p2, "Segel", [350, 100, 550, 210]);
    let r = report(&seal, &data);
    assert!(r.all_passed(), "{r:#?}");
    assert_eq!(r.signatures[0].certification, Some(2));

    // P=1: the engine refuses to sign again, and a seal added by another signer is refused.
    let p1 = signed(&seal, &letter(false), "Sertifikasi", Some(1));
    let mut req = pades::SignatureRequest::new(NOW);
    req.field = Some("Segel".into());
    assert!(pades::sign(&p1[..], &req, &seal.signer, &seal.identity).is_err());
    let added = revise(&p1, |rev| {
        rev.add_seal("Segel", [350, 100, 550, 210], |_| {});
    });
    refused(
        &seal,
        "a seal after P=1",
        &added,
        "not allowed after an certification DocMDP /P 1",
    );
}

/// The letter with an empty invisible signature field `Sertifikasi` that locks itself and
/// `nomor` (a field's `/Lock`), certified with P=3 (annotations allowed, so that only the
/// lock refuses what follows).
fn locked(seal: &Seal) -> Vec<u8> {
    let with_field = revise(&letter(false), |rev| {
        let lock = rev.u.allocate();
        rev.u.put(
            lock,
            b"<< /Type /SigFieldLock /Action /Include /Fields [(Sertifikasi) (nomor)] >>".to_vec(),
        );
        let f = rev.u.allocate();
        rev.u.put(
            f,
            format!("<< /FT /Sig /T (Sertifikasi) /Lock {lock} /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 4 0 R >>").into_bytes(),
        );
        rev.add_annot(f);
        rev.add_field(f);
    });
    signed(seal, &with_field, "Sertifikasi", Some(3))
}

/// The object number of the field named `name` in the final revision of `data`.
fn field_num(data: &[u8], name: &str) -> u32 {
    let doc = pades::pdf::Document::open(data).expect("opens");
    let form = doc
        .resolve_dict(&Object::Reference(r(3)), "form")
        .expect("form");
    form.get(b"Fields")
        .and_then(Object::as_array)
        .expect("fields")
        .iter()
        .filter_map(Object::as_ref)
        .find(|f| {
            doc.resolve_dict(&Object::Reference(*f), "field")
                .ok()
                .and_then(|d| d.get(b"T").and_then(Object::as_string).map(<[u8]>::to_vec))
                .as_deref()
                == Some(name.as_bytes())
        })
        .expect("the field")
        .num
}

#[test]
fn a_locked_field_cannot_move_change_its_appearance_or_value() {
    let seal = seal();
    let base = locked(&seal);
    let sealed_after = sealed(&seal, &base, "Segel", [350, 100, 550, 210]);
    let verdict = report(&seal, &sealed_after);
    assert!(
        verdict.all_passed(),
        "a seal on unlocked fields: {verdict:#?}"
    );

    let cert = field_num(&base, "Sertifikasi");
    let moved = revise(&base, |rev| {
        rev.edit(cert, |d| {
            d.set(
                b"Rect",
                Object::Array([300, 300, 500, 400].map(Object::Integer).to_vec()),
            );
        });
    });
    refused(
        &seal,
        "locked widget moved",
        &moved,
        "field Sertifikasi is locked",
    );
    let redrawn = revise(&base, |rev| {
        let ap = rev.seal_appearance();
        rev.edit(cert, |d| {
            let mut apd = Dict::new();
            apd.set(b"N", Object::Reference(ap));
            d.set(b"AP", Object::Dict(apd));
        });
    });
    refused(
        &seal,
        "locked appearance",
        &redrawn,
        "field Sertifikasi is locked",
    );
    let nomor = revise(&base, |rev| {
        rev.edit(6, |d| {
            let mut apd = Dict::new();
            apd.set(b"N", Object::Reference(r(8)));
            apd.set(b"D", Object::Reference(r(8)));
            d.set(b"AP", Object::Dict(apd));
        });
    });
    refused(&seal, "locked text field", &nomor, "field nomor is locked");
    let changed = revise(&base, |rev| {
        rev.edit(6, |d| d.set(b"V", Object::String(b"999".to_vec())));
    });
    refused(&seal, "locked value", &changed, "field nomor is locked");
    // `nomor` taken out of the form (the signature field itself stays, or there would be no
    // signature left to report on).
    let removed = revise(&base, |rev| {
        rev.form.set(
            b"Fields",
            Object::Array(vec![Object::Reference(ObjRef::new(cert, 0))]),
        );
    });
    refused(&seal, "locked field removed", &removed, "removed");
}

#[test]
fn a_seal_revision_cannot_add_page_content() {
    let seal = seal();
    let base = reviewed(&seal);
    let data = sealed_with(&seal, &base, |rev, _| {
        let more = rev.u.allocate();
        let text = "BT /F1 12 Tf 72 600 Td (LUNAS) Tj ET";
        rev.u.put(
            more,
            format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()).into_bytes(),
        );
        rev.page.set(
            b"Contents",
            Object::Array(vec![Object::Reference(r(7)), Object::Reference(more)]),
        );
    });
    refused(&seal, "new page content", &data, "/Contents changed");
}

#[test]
fn a_seal_revision_cannot_replace_the_page_content() {
    let seal = seal();
    let data = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let text = "BT /F1 12 Tf 72 760 Td (Surat penolakan) Tj ET";
        rev.u.put(
            r(7),
            format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()).into_bytes(),
        );
    });
    refused(&seal, "replaced content", &data, "stream object 7");
}

#[test]
fn a_seal_revision_cannot_add_a_form_xobject_to_the_page_resources() {
    let seal = seal();
    let data = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let x = rev.seal_appearance();
        let mut res = rev
            .page
            .get(b"Resources")
            .and_then(Object::as_dict)
            .cloned()
            .expect("resources");
        let mut xo = Dict::new();
        xo.set(b"Stamp", Object::Reference(x));
        res.set(b"XObject", Object::Dict(xo));
        rev.page.set(b"Resources", Object::Dict(res));
    });
    refused(&seal, "new page resources", &data, "/Resources changed");
}

#[test]
fn a_seal_revision_cannot_redefine_what_the_page_draws() {
    let seal = seal();
    // The seal's revision also replaces the page's font.
    let data = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        rev.u.put(
            r(5),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>".to_vec(),
        );
    });
    refused(&seal, "replaced font", &data, "which a page draws");
}

#[test]
fn a_seal_revision_cannot_add_an_annotation_with_an_appearance() {
    let seal = seal();
    let data = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let ap = rev.seal_appearance();
        let a = rev.u.allocate();
        rev.u.put(
            a,
            format!("<< /Type /Annot /Subtype /Stamp /Rect [72 700 272 720] /AP << /N {ap} >> >>")
                .into_bytes(),
        );
        rev.add_annot(a);
    });
    refused(&seal, "stamp annotation", &data, "was added");
}

#[test]
fn a_seal_revision_cannot_add_a_widget_no_signature_field_owns() {
    let seal = seal();
    // A second widget that points at the new signature field, which does not list it.
    let orphan = sealed_with(&seal, &reviewed(&seal), |rev, w| {
        let ap = rev.seal_appearance();
        let extra = rev.u.allocate();
        rev.u.put(
            extra,
            format!("<< /Type /Annot /Subtype /Widget /Parent {w} /Rect [72 700 272 720] /P 4 0 R /AP << /N {ap} >> >>").into_bytes(),
        );
        rev.add_annot(extra);
    });
    refused(
        &seal,
        "orphan widget",
        &orphan,
        "does not list it among its /Kids",
    );
    // A signature widget with a field name of its own that the form does not list.
    let unlisted = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let ap = rev.seal_appearance();
        let extra = rev.u.allocate();
        rev.u.put(
            extra,
            format!("<< /FT /Sig /T (Palsu) /Type /Annot /Subtype /Widget /Rect [72 700 272 720] /P 4 0 R /AP << /N {ap} >> >>").into_bytes(),
        );
        rev.add_annot(extra);
    });
    refused(
        &seal,
        "unlisted widget",
        &unlisted,
        "outside the form's fields",
    );
    // A widget with no field at all.
    let bare = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let ap = rev.seal_appearance();
        let extra = rev.u.allocate();
        rev.u.put(
            extra,
            format!("<< /Type /Annot /Subtype /Widget /Rect [72 700 272 720] /AP << /N {ap} >> >>")
                .into_bytes(),
        );
        rev.add_annot(extra);
    });
    refused(&seal, "bare widget", &bare, "was added");
}

#[test]
fn a_seal_revision_cannot_add_a_widget_to_an_existing_text_field() {
    let seal = seal();
    // The new widget claims the filled text field `nomor` as its parent: a second place that
    // shows (or claims to show) its value.
    let data = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let ap = rev.seal_appearance();
        let extra = rev.u.allocate();
        rev.u.put(
            extra,
            format!("<< /Type /Annot /Subtype /Widget /Parent 6 0 R /Rect [350 300 550 320] /P 4 0 R /AP << /N {ap} >> >>").into_bytes(),
        );
        rev.add_annot(extra);
    });
    refused(&seal, "widget of a text field", &data, "was added");
    // The same, with the text field listing it as a kid.
    let kid = sealed_with(&seal, &reviewed(&seal), |rev, _| {
        let ap = rev.seal_appearance();
        let extra = rev.u.allocate();
        rev.u.put(
            extra,
            format!("<< /Type /Annot /Subtype /Widget /Parent 6 0 R /Rect [350 300 550 320] /P 4 0 R /AP << /N {ap} >> >>").into_bytes(),
        );
        rev.add_annot(extra);
        rev.edit(6, |d| {
            d.set(b"Kids", Object::Array(vec![Object::Reference(extra)]))
        });
    });
    refused(&seal, "kid of a text field", &kid, "was added");
}

#[test]
fn an_unsigned_visible_signature_widget_is_refused() {
    let seal = seal();
    let data = revise(&reviewed(&seal), |rev| {
        rev.add_seal("Segel", [350, 100, 550, 210], |_| {});
    });
    refused(
        &seal,
        "unsigned seal",
        &data,
        "unsigned visible signature widget",
    );
}
