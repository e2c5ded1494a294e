//! What the verifier accepts after an approval signature, on a signed form built here:
//! appearance swaps (a filled field's `/AP`, its appearance stream, a check box's or radio
//! button's `/AS`) and objects that the signed revision referred to while they did not exist
//! must not pass; filling an empty field, a later signature and validation data must.
//!
//! The form (object numbers fixed; `/Size` 29):
//! - 5 `amount`, text, filled `(100.000)`, appearance stream 16;
//! - 6 `note`, text, empty, empty appearance stream 17;
//! - 7 `agree`, check box, `/V /Off`, `/AS /Off`; 12 `checked`, check box, `/V /Yes`;
//! - 9 `choice`, radio group `/V /A`, widgets 10 (`/AS /A`) and 11 (`/AS /Off`);
//! - 20 `total`, text, filled `(100.000)`, shown by its kid widget 21 (appearance 22);
//! - 23 a FreeText annotation whose author (`/T`) is `Kepala Dinas` (appearance 24), listed
//!   among the fields too;
//! - 27 an empty invisible signature field `Locked` whose `/Lock` (28) includes `amount`;
//! - the page font 14 is also listed in the page's `/Annots`;
//! - page 4 sits under the intermediate page tree node 25, has its resources in 26 (typed
//!   `/DSS`, as anything may be), refers to the image XObject 90 and lists annotation 91,
//!   neither of which exists.

mod common;

use common::Seal;
use pades::pdf::update::Update;
use pades::pdf::{Dict, Document, ObjRef, Object};
use pades::verify::ChangeLevel;
use pades::{sign, verify, Indication, Report, SignatureRequest, UnixTime, VerifyOptions};

const NOW: UnixTime = UnixTime(1_795_942_800);

fn seal() -> Seal {
    common::seal("Form Test Seal")
}

fn stream(text: &str) -> String {
    format!("<< /Type /XObject /Subtype /Form /BBox [0 0 200 20] /Length {} >>\nstream\n{text}\nendstream", text.len())
}

/// The form described at the top of this file, unsigned.
fn form_pdf() -> Vec<u8> {
    let tx = |v: &str| format!("BT /F1 10 Tf 2 5 Td ({v}) Tj ET");
    let objects: Vec<(u32, String)> = vec![
        (1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>".into()),
        (2, "<< /Type /Pages /Kids [25 0 R] /Count 1 /MediaBox [0 0 595 842] >>".into()),
        (3, "<< /Fields [5 0 R 6 0 R 7 0 R 9 0 R 12 0 R 20 0 R 23 0 R 27 0 R] /DA (/F1 10 Tf 0 g) >>".into()),
        (4, "<< /Type /Page /Parent 25 0 R /Resources 26 0 R /Contents 13 0 R /Annots [5 0 R 6 0 R 7 0 R 10 0 R 11 0 R 12 0 R 21 0 R 23 0 R 91 0 R 27 0 R 14 0 R] >>".into()),
        (5, "<< /FT /Tx /T (amount) /V (100.000) /Type /Annot /Subtype /Widget /Rect [100 700 300 720] /P 4 0 R /AP << /N 16 0 R >> >>".into()),
        (6, "<< /FT /Tx /T (note) /Type /Annot /Subtype /Widget /Rect [100 650 300 670] /P 4 0 R /AP << /N 17 0 R >> >>".into()),
        (7, "<< /FT /Btn /T (agree) /V /Off /AS /Off /Type /Annot /Subtype /Widget /Rect [100 600 115 615] /P 4 0 R /MK << /CA (4) >> /AP << /N << /Yes 18 0 R /Off 19 0 R >> >> >>".into()),
        (8, "<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >>".into()),
        (9, "<< /FT /Btn /Ff 49152 /T (choice) /V /A /Kids [10 0 R 11 0 R] >>".into()),
        (10, "<< /Parent 9 0 R /AS /A /Type /Annot /Subtype /Widget /Rect [100 550 115 565] /P 4 0 R /AP << /N << /A 18 0 R /Off 19 0 R >> >> >>".into()),
        (11, "<< /Parent 9 0 R /AS /Off /Type /Annot /Subtype /Widget /Rect [130 550 145 565] /P 4 0 R /AP << /N << /B 18 0 R /Off 19 0 R >> >> >>".into()),
        (12, "<< /FT /Btn /T (checked) /V /Yes /AS /Yes /Type /Annot /Subtype /Widget /Rect [100 500 115 515] /P 4 0 R /AP << /N << /Yes 18 0 R /Off 19 0 R >> >> >>".into()),
        (13, {
            let c = "BT /F1 12 Tf 72 760 Td (Surat rekomendasi) Tj ET";
            format!("<< /Length {} >>\nstream\n{c}\nendstream", c.len())
        }),
        (14, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into()),
        (15, "<< /Producer (segel form test) >>".into()),
        (16, stream(&tx("100.000"))),
        (17, stream("")),
        (18, stream("q BT /ZaDb 10 Tf 2 3 Td (4) Tj ET Q")),
        (19, stream("")),
        (20, "<< /FT /Tx /T (total) /V (100.000) /Kids [21 0 R] >>".into()),
        (21, "<< /Parent 20 0 R /Type /Annot /Subtype /Widget /Rect [100 450 300 470] /P 4 0 R /AP << /N 22 0 R >> >>".into()),
        (22, stream(&tx("100.000"))),
        (23, "<< /Type /Annot /Subtype /FreeText /T (Kepala Dinas) /Rect [300 700 500 730] /Contents (Disetujui) /DA (/F1 12 Tf 0 g) /AP << /N 24 0 R >> >>".into()),
        (24, stream(&tx("Disetujui"))),
        (25, "<< /Type /Pages /Parent 2 0 R /Kids [4 0 R] /Count 1 >>".into()),
        (26, "<< /Type /DSS /Font << /F1 14 0 R >> /XObject << /Logo 90 0 R >> >>".into()),
        (27, "<< /FT /Sig /T (Locked) /Lock 28 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 4 0 R >>".into()),
        (28, "<< /Type /SigFieldLock /Action /Include /Fields [(amount)] >>".into()),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (n, body) in &objects {
        offsets.push(out.len());
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 29\n0000000000 65535 f \n");
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 29 /Root 1 0 R /Info 15 0 R >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

fn signed(seal: &Seal, pdf: &[u8], field: &str) -> Vec<u8> {
    let mut req = SignatureRequest::new(NOW);
    req.field = Some(field.into());
    sign(pdf, &req, &seal.signer, &seal.identity)
        .expect("sign")
        .to_vec()
}

fn report(seal: &Seal, pdf: &[u8]) -> Report {
    verify(
        pdf,
        &VerifyOptions {
            trust_anchors: vec![seal.cert.clone()],
            time: NOW,
        },
    )
    .expect("reads")
}

/// Append an update made by `edit`.
fn append(data: &[u8], edit: impl FnOnce(&Document<'_>, &mut Update<'_, '_>)) -> Vec<u8> {
    let doc = Document::open(data).expect("opens");
    let mut u = Update::new(&doc);
    edit(&doc, &mut u);
    let tail = u.finish([9; 16]).expect("update");
    let mut out = data.to_vec();
    out.extend_from_slice(&tail.bytes);
    out
}

fn dict(doc: &Document<'_>, num: u32) -> Dict {
    doc.resolve_dict(&Object::Reference(ObjRef::new(num, 0)), "object")
        .expect("dict")
}

/// `num`'s dictionary with `edit` applied, put into the update.
fn edit_dict(doc: &Document<'_>, u: &mut Update<'_, '_>, num: u32, edit: impl FnOnce(&mut Dict)) {
    let mut d = dict(doc, num);
    edit(&mut d);
    u.put_object(ObjRef::new(num, 0), &Object::Dict(d));
}

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

/// A new appearance stream showing `text`, as `/AP << /N ref >>`.
fn new_appearance(u: &mut Update<'_, '_>, text: &str) -> Object {
    let r = u.allocate();
    u.put(
        r,
        stream(&format!("BT /F1 10 Tf 2 5 Td ({text}) Tj ET")).into_bytes(),
    );
    let mut ap = Dict::new();
    ap.set(b"N", Object::Reference(r));
    Object::Dict(ap)
}

/// The approval signature's verdict must not be TOTAL-PASSED, with a change of at least
/// `level` whose description contains `needle`.
fn assert_refused(seal: &Seal, what: &str, pdf: &[u8], level: ChangeLevel, needle: &str) {
    let r = report(seal, pdf);
    let s = &r.signatures[0];
    assert_ne!(s.indication, Indication::TotalPassed, "{what}: {s:#?}");
    assert!(
        s.changes
            .iter()
            .any(|c| c.level >= level && c.what.contains(needle)),
        "{what}: no change of level {level:?} mentioning {needle:?}: {:#?}",
        s.changes
    );
    assert!(s.reason.contains(needle), "{what}: reason {:?}", s.reason);
}

fn assert_passes(seal: &Seal, what: &str, pdf: &[u8]) {
    let r = report(seal, pdf);
    assert!(r.all_passed(), "{what}: {r:#?}");
}

#[test]
fn the_signed_form_passes_as_signed() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    assert_passes(&seal, "as signed", &pdf);
}

#[test]
fn appearance_swap_is_not_form_filling() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The filled amount keeps /V (100.000) but shows 900.000.
    let swapped = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 5, |d| d.set(b"AP", ap));
    });
    assert_refused(
        &seal,
        "/AP of a filled field",
        &swapped,
        ChangeLevel::Annotations,
        "appearance (/AP) of field amount (object 5)",
    );
    // The same through the appearance stream object itself.
    let restreamed = append(&pdf, |_, u| {
        u.put(
            ObjRef::new(16, 0),
            stream("BT /F1 10 Tf 2 5 Td (900.000) Tj ET").into_bytes(),
        );
    });
    assert_refused(
        &seal,
        "appearance stream",
        &restreamed,
        ChangeLevel::Annotations,
        "object 16",
    );
    // An empty field's appearance painted without a value.
    let painted = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "disetujui");
        edit_dict(doc, u, 6, |d| d.set(b"AP", ap));
    });
    assert_refused(
        &seal,
        "/AP of an empty field without a value",
        &painted,
        ChangeLevel::Annotations,
        "field note",
    );
    // The widget's appearance characteristics.
    let mk = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            let mut mk = Dict::new();
            mk.set(b"CA", Object::String(b"8".to_vec()));
            d.set(b"MK", Object::Dict(mk));
        });
    });
    assert_refused(&seal, "/MK", &mk, ChangeLevel::Annotations, "/MK changed");
}

#[test]
fn check_box_and_radio_state_swaps_are_not_form_filling() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let ticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| d.set(b"AS", name("Yes")))
    });
    assert_refused(
        &seal,
        "check box /AS without /V",
        &ticked,
        ChangeLevel::Annotations,
        "appearance (/AS) of field agree",
    );
    let unticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 12, |d| d.set(b"AS", name("Off")))
    });
    assert_refused(
        &seal,
        "a ticked box shown empty",
        &unticked,
        ChangeLevel::Annotations,
        "appearance (/AS) of field checked",
    );
    let moved = append(&pdf, |doc, u| {
        edit_dict(doc, u, 10, |d| d.set(b"AS", name("Off")));
        edit_dict(doc, u, 11, |d| d.set(b"AS", name("B")));
    });
    assert_refused(
        &seal,
        "radio /AS without the group's /V",
        &moved,
        ChangeLevel::Annotations,
        "appearance (/AS) of field choice",
    );
    // A value that says one thing and a state that shows another, filled in one revision.
    let mismatched = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            d.set(b"V", name("Yes"));
            d.set(b"AS", name("Maybe"));
        });
    });
    assert_refused(
        &seal,
        "state other than the value",
        &mismatched,
        ChangeLevel::Annotations,
        "shows the state /Maybe but its value is /Yes",
    );
    // Changing the group's value with its states is a form change, not form filling.
    let rechosen = append(&pdf, |doc, u| {
        edit_dict(doc, u, 9, |d| d.set(b"V", name("B")));
        edit_dict(doc, u, 10, |d| d.set(b"AS", name("Off")));
        edit_dict(doc, u, 11, |d| d.set(b"AS", name("B")));
    });
    assert_refused(
        &seal,
        "radio value changed",
        &rechosen,
        ChangeLevel::FormChanges,
        "form field choice changed its value",
    );
}

#[test]
fn dangling_references_filled_in_later_are_content_changes() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The page's /Logo XObject (object 90) did not exist when signed.
    let logo = append(&pdf, |_, u| {
        u.put(
            ObjRef::new(90, 0),
            stream("0 0 1 rg 0 0 200 20 re f BT /F1 10 Tf 2 5 Td (BATAL) Tj ET").into_bytes(),
        );
    });
    assert_refused(
        &seal,
        "dangling XObject",
        &logo,
        ChangeLevel::Content,
        "object 90",
    );
    // Nor did the page's annotation 91.
    let annot = append(&pdf, |_, u| {
        u.put(
            ObjRef::new(91, 0),
            b"<< /Type /Annot /Subtype /FreeText /Rect [72 740 400 780] /Contents (DIBATALKAN) /DA (/F1 24 Tf 1 0 0 rg) >>".to_vec(),
        );
    });
    assert_refused(
        &seal,
        "dangling annotation",
        &annot,
        ChangeLevel::Content,
        "object 91",
    );
    // Defined one revision after an unrelated benign one: still seen.
    let later = append(
        &append(&pdf, |doc, u| {
            let ap = new_appearance(u, "catatan");
            edit_dict(doc, u, 6, |d| {
                d.set(b"V", Object::String(b"catatan".to_vec()));
                d.set(b"AP", ap);
            });
        }),
        |_, u| {
            u.put(ObjRef::new(90, 0), stream("BT (X) Tj ET").into_bytes());
        },
    );
    assert_refused(
        &seal,
        "dangling XObject after a fill",
        &later,
        ChangeLevel::Content,
        "object 90",
    );
}

#[test]
fn benign_changes_after_an_approval_signature_pass() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // Filling the empty text field, value and new appearance.
    let filled = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "lengkap");
        edit_dict(doc, u, 6, |d| {
            d.set(b"V", Object::String(b"lengkap".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_passes(&seal, "text field filled", &filled);
    let r = report(&seal, &filled);
    assert_eq!(
        r.signatures[0].changes.iter().map(|c| c.level).max(),
        Some(ChangeLevel::FormFilling),
        "{r:#?}"
    );
    // Ticking the empty check box: value and state together.
    let ticked = append(&pdf, |doc, u| {
        edit_dict(doc, u, 7, |d| {
            d.set(b"V", name("Yes"));
            d.set(b"AS", name("Yes"));
        });
    });
    assert_passes(&seal, "check box ticked", &ticked);
    // A later signature, then validation data.
    let twice = signed(&seal, &filled, "Second");
    assert_passes(&seal, "a later signature", &twice);
    let with_dss = append(&twice, |doc, u| {
        let dss = u.allocate();
        u.put(dss, b"<< /Type /DSS /Certs [] >>".to_vec());
        edit_dict(doc, u, 1, |d| d.set(b"DSS", Object::Reference(dss)));
    });
    assert_passes(&seal, "DSS added", &with_dss);
}

#[test]
fn eof_markers_do_not_reopen_the_document() {
    // 50,000 `startxref <the real section> %%EOF` lines inside a content stream, signed: each
    // chain section is opened once, whatever the markers say.
    let base = form_pdf();
    let doc = Document::open(&base).expect("opens");
    let sx = doc.startxref();
    let line = format!("startxref\n{sx}\n%%EOF\n");
    let filler: String = line.repeat(50_000);
    let pdf = append(&base, |_, u| {
        u.put(
            ObjRef::new(13, 0),
            format!(
                "<< /Length {} >>\nstream\n{filler}\nendstream",
                filler.len()
            )
            .into_bytes(),
        );
    });
    let seal = seal();
    let pdf = signed(&seal, &pdf, "Approval");
    let (revisions, opens) = pades::verify::history::revisions_examined(&pdf).expect("opens");
    assert_eq!(revisions, 3, "original, filler update, signature");
    assert!(opens <= 4, "{opens} prefixes opened");
    assert_passes(&seal, "markers in a stream", &pdf);
}

/// The reference of the signature field named `name`.
fn field_ref(doc: &Document<'_>, name: &str) -> ObjRef {
    let form = dict(doc, 3);
    pades::pdf::Object::as_array(form.get(b"Fields").expect("fields"))
        .expect("array")
        .iter()
        .filter_map(Object::as_ref)
        .find(|r| dict(doc, r.num).get(b"T").and_then(Object::as_string) == Some(name.as_bytes()))
        .expect("field")
}

/// A new widget over `rect` showing "DIBATALKAN", with `extra` keys.
fn banner_widget(u: &mut Update<'_, '_>, rect: Object, extra: impl FnOnce(&mut Dict)) -> ObjRef {
    let w = u.allocate();
    let ap = new_appearance(u, "DIBATALKAN");
    let mut d = Dict::new();
    d.set(b"Type", name("Annot"));
    d.set(b"Subtype", name("Widget"));
    d.set(b"Rect", rect);
    d.set(b"AP", ap);
    extra(&mut d);
    u.put_object(w, &Object::Dict(d));
    w
}

/// Page 4 with `annot` appended to its /Annots.
fn with_annot(doc: &Document<'_>, u: &mut Update<'_, '_>, annot: ObjRef) {
    edit_dict(doc, u, 4, |d| {
        let mut a = d
            .get(b"Annots")
            .and_then(Object::as_array)
            .expect("annots")
            .to_vec();
        a.push(Object::Reference(annot));
        d.set(b"Annots", Object::Array(a));
    });
}

#[test]
fn dss_and_info_cannot_be_pointed_at_what_the_page_shows() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The catalog's /DSS pointed at the page, then the page rewritten as "validation data".
    let dss = append(&pdf, |doc, u| {
        edit_dict(doc, u, 1, |d| {
            d.set(b"DSS", Object::Reference(ObjRef::new(4, 0)))
        });
    });
    assert_refused(
        &seal,
        "catalog /DSS at the page",
        &dss,
        ChangeLevel::Content,
        "/DSS",
    );
    let rewritten = append(&dss, |doc, u| {
        let c = u.allocate();
        u.put(
            c,
            stream("BT /F1 12 Tf 72 760 Td (HALAMAN PALSU) Tj ET").into_bytes(),
        );
        edit_dict(doc, u, 4, |d| d.set(b"Contents", Object::Reference(c)));
    });
    // Both revisions are named: the re-pointing, and the page rewrite (not "validation data").
    let r = report(&seal, &rewritten);
    assert!(
        r.signatures[0]
            .changes
            .iter()
            .any(|c| c.level == ChangeLevel::Content && c.what.contains("page object 4")),
        "{:#?}",
        r.signatures[0].changes
    );
    // The trailer's /Info pointed at the page.
    let mut info = append(&pdf, |_, u| {
        u.put(
            ObjRef::new(15, 0),
            b"<< /Producer (segel form test 2) >>".to_vec(),
        );
    });
    let at = pdf.len()
        + info[pdf.len()..]
            .windows(12)
            .position(|w| w == b"/Info 15 0 R")
            .expect("trailer /Info");
    info.splice(at..at + 12, b"/Info 4 0 R ".iter().copied());
    assert_refused(
        &seal,
        "trailer /Info at the page",
        &info,
        ChangeLevel::Content,
        "/Info",
    );
    // A resource dictionary that calls itself DSS is what the page shows.
    let typed = append(&pdf, |doc, u| {
        edit_dict(doc, u, 26, |d| {
            let mut f = Dict::new();
            f.set(b"F1", Object::Reference(ObjRef::new(8, 0)));
            d.set(b"Font", Object::Dict(f));
        });
    });
    assert_refused(
        &seal,
        "resources typed /DSS",
        &typed,
        ChangeLevel::Content,
        "object 26",
    );
}

#[test]
fn widgets_added_to_a_signed_field_or_without_a_field_are_not_signatures() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let doc = Document::open(&pdf).expect("opens");
    let approval = field_ref(&doc, "Approval");
    // A page-sized widget of the signed field, painting "DIBATALKAN".
    let kid = append(&pdf, |doc, u| {
        let rect = Object::Array([50, 50, 550, 800].map(Object::Integer).to_vec());
        let w = banner_widget(u, rect, |d| d.set(b"Parent", Object::Reference(approval)));
        with_annot(doc, u, w);
    });
    assert_refused(
        &seal,
        "widget of the signed field",
        &kid,
        ChangeLevel::Annotations,
        "was added",
    );
    // A widget that says it is a signed signature field, with no name and a fake value.
    let fake = append(&pdf, |doc, u| {
        let rect = Object::Array([50, 50, 550, 800].map(Object::Integer).to_vec());
        let w = banner_widget(u, rect, |d| {
            d.set(b"FT", name("Sig"));
            d.set(b"V", Object::Integer(1));
        });
        with_annot(doc, u, w);
    });
    assert_refused(
        &seal,
        "fake signature widget",
        &fake,
        ChangeLevel::Annotations,
        "was added",
    );
}

#[test]
fn a_value_on_a_kid_widget_or_an_annotation_is_not_a_fill() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    // The kid widget of the filled `total` gets a value of its own and shows 900.000.
    let kid = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 21, |d| {
            d.set(b"V", Object::String(b"x".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "kid widget /V",
        &kid,
        ChangeLevel::Annotations,
        "object 21",
    );
    // A markup annotation has an author in /T, which does not make it a field.
    let markup = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "DITOLAK");
        edit_dict(doc, u, 23, |d| {
            d.set(b"V", Object::String(b"DITOLAK".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "annotation /V",
        &markup,
        ChangeLevel::Annotations,
        "annotation object 23",
    );
}

#[test]
fn page_tree_nodes_are_content_even_under_a_p3_certification() {
    let seal = seal();
    let mut req = SignatureRequest::new(NOW);
    req.field = Some("Certification".into());
    req.certify = Some(3);
    let pdf = sign(&form_pdf(), &req, &seal.signer, &seal.identity)
        .expect("sign")
        .to_vec();
    assert_passes(&seal, "certified", &pdf);
    let rotated = append(&pdf, |doc, u| {
        edit_dict(doc, u, 25, |d| d.set(b"Rotate", Object::Integer(180)))
    });
    assert_refused(
        &seal,
        "node /Rotate",
        &rotated,
        ChangeLevel::Content,
        "page tree node object 25",
    );
    // An annotation change is what P=3 allows.
    let noted = append(&pdf, |doc, u| {
        edit_dict(doc, u, 23, |d| {
            d.set(b"Contents", Object::String(b"Dilihat".to_vec()))
        });
    });
    assert_passes(&seal, "annotation under P=3", &noted);
}

#[test]
fn a_generation_bump_with_the_same_bytes_is_a_change() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let doc = Document::open(&pdf).expect("opens");
    let body = {
        let o = doc.resolve(ObjRef::new(13, 0)).expect("content");
        let Object::Stream(st) = o else {
            panic!("stream")
        };
        let mut b = Vec::new();
        st.dict.write(&mut b);
        b.extend_from_slice(b"\nstream\n");
        b.extend_from_slice(&pdf[st.data.clone()]);
        b.extend_from_slice(b"\nendstream");
        b
    };
    let mut out = append(&pdf, |_, u| u.put(ObjRef::new(13, 0), body));
    let tail = pdf.len();
    let obj = tail
        + out[tail..]
            .windows(8)
            .position(|w| w == b"13 0 obj")
            .expect("obj");
    out[obj..obj + 8].copy_from_slice(b"13 1 obj");
    let row = tail
        + out[tail..]
            .windows(9)
            .position(|w| w == b" 00000 n\r")
            .expect("row");
    out[row..row + 9].copy_from_slice(b" 00001 n\r");
    assert_refused(
        &seal,
        "generation bump",
        &out,
        ChangeLevel::Content,
        "generation 1",
    );
}

#[test]
fn signatures_in_any_field_order_compare_each_revision_once() {
    // Eight signatures, then the form's /Fields reversed (the last signature is asked about
    // first): the revisions are compared once, not once per signature.
    let seal = seal();
    let mut pdf = form_pdf();
    for i in 0..8 {
        pdf = signed(&seal, &pdf, &format!("S{i}"));
    }
    let reversed = append(&pdf, |doc, u| {
        edit_dict(doc, u, 3, |d| {
            let mut f = d
                .get(b"Fields")
                .and_then(Object::as_array)
                .expect("fields")
                .to_vec();
            f.reverse();
            d.set(b"Fields", Object::Array(f));
        });
    });
    let objects = |data: &[u8]| {
        let before = pades::fuzzing::work().objects;
        let r = report(&seal, data);
        (r, pades::fuzzing::work().objects - before)
    };
    let (r, in_order) = objects(&pdf);
    assert!(r.all_passed(), "{r:#?}");
    let (r, any_order) = objects(&reversed);
    assert!(!r.all_passed(), "the reordering itself is a form change");
    assert!(
        any_order < 2 * in_order,
        "{any_order} objects read in reverse order, {in_order} in order"
    );
}

/// The lock's signature is refused for a change its lock forbids (the change itself may be
/// allowed by the certification).
fn assert_locked(seal: &Seal, what: &str, pdf: &[u8], needle: &str) {
    let r = report(seal, pdf);
    let s = &r.signatures[0];
    assert_ne!(s.indication, Indication::TotalPassed, "{what}: {s:#?}");
    assert!(s.reason.contains(needle), "{what}: reason {:?}", s.reason);
}

fn certified(seal: &Seal, field: &str, p: u8) -> Vec<u8> {
    let mut req = SignatureRequest::new(NOW);
    req.field = Some(field.into());
    req.certify = Some(p);
    sign(&form_pdf(), &req, &seal.signer, &seal.identity)
        .expect("sign")
        .to_vec()
}

#[test]
fn an_indirect_or_malformed_rect_is_visible() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    for (what, rect) in [
        ("indirect", None),
        ("five numbers", Some(vec![0, 0, 595, 842, 1])),
    ] {
        let out = append(&pdf, |doc, u| {
            let rect = match &rect {
                Some(v) => Object::Array(v.iter().map(|&i| Object::Integer(i)).collect()),
                None => {
                    let r = u.allocate();
                    u.put(r, b"[0 0 595 842]".to_vec());
                    Object::Reference(r)
                }
            };
            let w = banner_widget(u, rect, |d| {
                d.set(b"FT", name("Sig"));
                d.set(b"T", Object::String(b"Kosong".to_vec()));
            });
            with_annot(doc, u, w);
            edit_dict(doc, u, 3, |f| {
                let mut a = f
                    .get(b"Fields")
                    .and_then(Object::as_array)
                    .expect("fields")
                    .to_vec();
                a.push(Object::Reference(w));
                f.set(b"Fields", Object::Array(a));
            });
        });
        assert_refused(
            &seal,
            what,
            &out,
            ChangeLevel::Annotations,
            "unsigned visible signature widget",
        );
    }
}

#[test]
fn objects_a_page_draws_are_content_whatever_else_lists_them() {
    // The page's font is also listed as an annotation: under P=3 annotations may change,
    // what the page draws may not.
    let seal = seal();
    let pdf = certified(&seal, "Certification", 3);
    let out = append(&pdf, |doc, u| {
        edit_dict(doc, u, 14, |d| d.set(b"BaseFont", name("Courier")));
    });
    assert_refused(
        &seal,
        "font listed in /Annots",
        &out,
        ChangeLevel::Content,
        "which a page draws",
    );
}

#[test]
fn annotations_listed_among_fields_are_not_filled() {
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let out = append(&pdf, |doc, u| {
        let ap = new_appearance(u, "DITOLAK");
        edit_dict(doc, u, 23, |d| {
            d.set(b"V", Object::String(b"DITOLAK".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_refused(
        &seal,
        "FreeText in /Fields",
        &out,
        ChangeLevel::Annotations,
        "annotation object 23",
    );
}

#[test]
fn field_locks_cover_form_wide_changes_and_renamed_fields() {
    let seal = seal();
    // P=2 with `amount` locked: a form-wide redraw (/DR, /NeedAppearances) touches it.
    let p2 = certified(&seal, "Locked", 2);
    assert_passes(&seal, "certified with a lock", &p2);
    let redrawn = append(&p2, |doc, u| {
        edit_dict(doc, u, 3, |f| {
            f.set(b"NeedAppearances", Object::Bool(true));
            let mut dr = Dict::new();
            dr.set(b"Font", Object::Dict(Dict::new()));
            f.set(b"DR", Object::Dict(dr));
        });
    });
    assert_locked(&seal, "/DR under a lock", &redrawn, "fields are locked");
    // P=3 with the same lock: renaming `amount` does not free it.
    let p3 = certified(&seal, "Locked", 3);
    let renamed = append(&p3, |doc, u| {
        let ap = new_appearance(u, "900.000");
        edit_dict(doc, u, 5, |d| {
            d.set(b"T", Object::String(b"amount ".to_vec()));
            d.set(b"V", Object::String(b"900.000".to_vec()));
            d.set(b"AP", ap);
        });
    });
    assert_locked(
        &seal,
        "renamed locked field",
        &renamed,
        "field amount is locked",
    );
}

#[test]
fn an_empty_signature_field_with_an_invisible_widget_may_be_added() {
    // A placeholder for the next signer, as a field with a separate kid widget of no area.
    let seal = seal();
    let pdf = signed(&seal, &form_pdf(), "Approval");
    let out = append(&pdf, |doc, u| {
        let f = u.allocate();
        let w = banner_widget(
            u,
            Object::Array([0, 0, 0, 0].map(Object::Integer).to_vec()),
            |d| d.set(b"Parent", Object::Reference(f)),
        );
        let mut field = Dict::new();
        field.set(b"FT", name("Sig"));
        field.set(b"T", Object::String(b"Berikutnya".to_vec()));
        field.set(b"Kids", Object::Array(vec![Object::Reference(w)]));
        u.put_object(f, &Object::Dict(field));
        with_annot(doc, u, w);
        edit_dict(doc, u, 3, |d| {
            let mut a = d
                .get(b"Fields")
                .and_then(Object::as_array)
                .expect("fields")
                .to_vec();
            a.push(Object::Reference(f));
            d.set(b"Fields", Object::Array(a));
        });
    });
    assert_passes(&seal, "empty signature field added", &out);
}
