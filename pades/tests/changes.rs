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

#[path = "changes/content.rs"]
mod content;
#[path = "changes/filling.rs"]
mod filling;
#[path = "changes/signatures.rs"]
mod signatures;
#[path = "changes/widgets.rs"]
mod widgets;

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
