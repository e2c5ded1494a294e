#![allow(
    dead_code,
    reason = "shared by two test binaries, each using a part of it"
)]

//! A letter with a filled text field (`nomor`, object 6), optionally tagged, and the later
//! revisions an official's visible seal makes, written by hand: a new signature field merged
//! with its widget, its appearance (a Form XObject drawing an inner Form XObject, an image and
//! text in an embedded Type0 font with its CIDFont, descriptor, FontFile2 and ToUnicode map),
//! the page's `/Annots` and the form's `/Fields`.
//!
//! Objects: 1 catalog, 2 pages, 3 form, 4 page (`/Annots` direct), 5 Helvetica, 6 `nomor`,
//! 7 page content, 8 `nomor`'s appearance. Tagged: 20 structure tree root, 21 the document
//! element, 22 the parent tree (`/Nums`, keys 0 and 1), 23 a paragraph, 24 `nomor`'s Form
//! element.

use pades::pdf::update::Update;
use pades::pdf::{Dict, Document, ObjRef, Object};
use pades::{sign, verify, Report, SignatureRequest, UnixTime, VerifyOptions};

use crate::common::Seal;

pub(crate) const NOW: UnixTime = UnixTime(1_795_942_800);

pub(crate) const PAGE: ObjRef = ObjRef { num: 4, gen: 0 };

pub(crate) fn r(num: u32) -> ObjRef {
    ObjRef::new(num, 0)
}

pub(crate) fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut v = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\nendstream");
    v
}

/// The letter, unsigned.
pub(crate) fn letter(tagged: bool) -> Vec<u8> {
    letter_with(tagged, false)
}

/// The letter, tagged, with its parent tree's keys in a leaf (25) under the root node's
/// `/Kids` instead of the root node's `/Nums`.
pub(crate) fn letter_with_tree_kids() -> Vec<u8> {
    letter_with(true, true)
}

fn letter_with(tagged: bool, tree_kids: bool) -> Vec<u8> {
    let (catalog_extra, page_extra, widget_extra) = if tagged {
        (
            "/StructTreeRoot 20 0 R /MarkInfo << /Marked true >> /Lang (id-ID)",
            "/StructParents 0 /Tabs /S",
            "/StructParent 1",
        )
    } else {
        ("", "", "")
    };
    let content: &[u8] = if tagged {
        b"/P << /MCID 0 >> BDC BT /F1 12 Tf 72 760 Td (Surat rekomendasi #ttd#) Tj ET EMC"
    } else {
        b"BT /F1 12 Tf 72 760 Td (Surat rekomendasi #ttd#) Tj ET"
    };
    let mut objects: Vec<(u32, Vec<u8>)> = vec![
        (1, format!("<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R {catalog_extra} >>").into_bytes()),
        (2, b"<< /Type /Pages /Kids [4 0 R] /Count 1 /MediaBox [0 0 595 842] >>".to_vec()),
        (3, b"<< /Fields [6 0 R] /DA (/Helv 10 Tf 0 g) >>".to_vec()),
        (4, format!("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 7 0 R /Annots [6 0 R] {page_extra} >>").into_bytes()),
        (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec()),
        (6, format!("<< /FT /Tx /T (nomor) /V (800/123/2026) /Type /Annot /Subtype /Widget /Rect [72 700 272 720] /P 4 0 R /F 4 /AP << /N 8 0 R >> {widget_extra} >>").into_bytes()),
        (7, stream("", content)),
        (8, stream("/Type /XObject /Subtype /Form /BBox [0 0 200 20] /Resources << /Font << /F1 5 0 R >> >>", b"BT /F1 10 Tf 2 5 Td (800/123/2026) Tj ET")),
    ];
    if tagged {
        objects.extend([
            (20, b"<< /Type /StructTreeRoot /K 21 0 R /ParentTree 22 0 R /ParentTreeNextKey 2 >>".to_vec()),
            (21, b"<< /Type /StructElem /S /Document /P 20 0 R /K [23 0 R 24 0 R] >>".to_vec()),
            if tree_kids {
                (22, b"<< /Kids [25 0 R] >>".to_vec())
            } else {
                (22, b"<< /Nums [0 [23 0 R] 1 24 0 R] >>".to_vec())
            },
            (23, b"<< /Type /StructElem /S /P /P 21 0 R /Pg 4 0 R /K 0 >>".to_vec()),
            (24, b"<< /Type /StructElem /S /Form /P 21 0 R /Pg 4 0 R /K << /Type /OBJR /Obj 6 0 R >> /Alt (Nomor surat) >>".to_vec()),
        ]);
        if tree_kids {
            objects.push((
                25,
                b"<< /Limits [0 1] /Nums [0 [23 0 R] 1 24 0 R] >>".to_vec(),
            ));
        }
    }
    let size = objects.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = vec![None; size as usize];
    for (n, body) in &objects {
        offsets[*n as usize] = Some(out.len());
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
    for o in &offsets {
        match o {
            Some(o) => out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes()),
            None => out.extend_from_slice(b"0000000000 65535 f \n"),
        }
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

/// One later revision being written: the page's and the form's dictionaries are kept here and
/// written once at the end, whatever the helpers add to them.
pub(crate) struct Revision<'u, 'd, 'a> {
    pub(crate) u: &'u mut Update<'d, 'a>,
    pub(crate) doc: &'u Document<'a>,
    pub(crate) page: Dict,
    pub(crate) form: Dict,
}

impl Revision<'_, '_, '_> {
    pub(crate) fn dict(&self, num: u32) -> Dict {
        self.doc
            .resolve_dict(&Object::Reference(r(num)), "object")
            .expect("dict")
    }

    /// Put `num`'s dictionary with `edit` applied.
    pub(crate) fn edit(&mut self, num: u32, edit: impl FnOnce(&mut Dict)) {
        let mut d = self.dict(num);
        edit(&mut d);
        self.u.put_object(r(num), &Object::Dict(d));
    }

    /// Append `item` to the array `key` of `d`.
    pub(crate) fn push(d: &mut Dict, key: &[u8], item: Object) {
        let mut a = d
            .get(key)
            .and_then(Object::as_array)
            .map(<[Object]>::to_vec)
            .unwrap_or_default();
        a.push(item);
        d.set(key, Object::Array(a));
    }

    pub(crate) fn add_annot(&mut self, a: ObjRef) {
        Self::push(&mut self.page, b"Annots", Object::Reference(a));
    }

    pub(crate) fn add_field(&mut self, f: ObjRef) {
        Self::push(&mut self.form, b"Fields", Object::Reference(f));
        self.form.set(b"SigFlags", Object::Integer(3));
    }

    fn put(&mut self, body: Vec<u8>) -> ObjRef {
        let at = self.u.allocate();
        self.u.put(at, body);
        at
    }

    /// The seal's appearance: a Form XObject drawing an opaque background, an inner Form
    /// XObject (the QR code), an image and text in an embedded Type0 font.
    pub(crate) fn seal_appearance(&mut self) -> ObjRef {
        let font_file = self.put(stream("/Length1 16", b"\x00\x01\x00\x00fake glyf data"));
        let descriptor = self.put(
            format!("<< /Type /FontDescriptor /FontName /AAAAAA+DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 /Ascent 928 /Descent -236 /CapHeight 729 /StemV 80 /FontFile2 {font_file} >>").into_bytes(),
        );
        let cid = self.put(
            format!("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+DejaVuSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} /W [1 [600 600]] /CIDToGIDMap /Identity >>").into_bytes(),
        );
        let to_unicode = self.put(stream(
            "",
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 2 beginbfchar <0001> <0053> <0002> <0045> endbfchar endcmap end end",
        ));
        let font = self.put(
            format!("<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+DejaVuSans /Encoding /Identity-H /DescendantFonts [{cid}] /ToUnicode {to_unicode} >>").into_bytes(),
        );
        let image = self.put(stream(
            "/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8",
            &[0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0],
        ));
        let qr = self.put(stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 60 60]",
            b"0 g 0 0 10 10 re 20 0 10 10 re 0 20 10 10 re f",
        ));
        self.put(stream(
            &format!("/Type /XObject /Subtype /Form /BBox [0 0 200 110] /Resources << /XObject << /QR {qr} /Img {image} >> /Font << /F0 {font} >> >>"),
            b"q 1 g 0 0 200 110 re f Q q 1 0 0 1 5 45 cm /QR Do Q q 40 0 0 40 150 60 cm /Img Do Q BT /F0 9 Tf 70 80 Td <00010002> Tj ET",
        ))
    }

    /// A new signature field merged with its visible widget over `rect` on the page, with the
    /// seal's appearance and `extra` keys; listed by the page and the form.
    pub(crate) fn add_seal(
        &mut self,
        field: &str,
        rect: [i64; 4],
        extra: impl FnOnce(&mut Dict),
    ) -> ObjRef {
        let ap = self.seal_appearance();
        let w = self.u.allocate();
        let mut d = Dict::new();
        d.set(b"Type", name("Annot"));
        d.set(b"Subtype", name("Widget"));
        d.set(b"FT", name("Sig"));
        d.set(b"T", Object::String(field.as_bytes().to_vec()));
        d.set(b"F", Object::Integer(132));
        d.set(b"P", Object::Reference(PAGE));
        d.set(
            b"Rect",
            Object::Array(rect.iter().map(|&v| Object::Integer(v)).collect()),
        );
        d.set(
            b"TU",
            Object::String(b"Disegel oleh Sekretaris Jenderal".to_vec()),
        );
        let mut apd = Dict::new();
        apd.set(b"N", Object::Reference(ap));
        d.set(b"AP", Object::Dict(apd));
        extra(&mut d);
        self.u.put_object(w, &Object::Dict(d));
        self.add_annot(w);
        self.add_field(w);
        w
    }
}

/// `data` with one more revision, written by `edit`.
pub(crate) fn revise(data: &[u8], edit: impl FnOnce(&mut Revision<'_, '_, '_>)) -> Vec<u8> {
    let doc = Document::open(data).expect("opens");
    let mut u = Update::new(&doc);
    let page = doc
        .resolve_dict(&Object::Reference(PAGE), "page")
        .expect("page");
    let form = doc
        .resolve_dict(&Object::Reference(r(3)), "form")
        .expect("form");
    let mut rev = Revision {
        u: &mut u,
        doc: &doc,
        page: page.clone(),
        form: form.clone(),
    };
    edit(&mut rev);
    let (new_page, new_form) = (rev.page, rev.form);
    if new_page != page {
        u.put_object(PAGE, &Object::Dict(new_page));
    }
    if new_form != form {
        u.put_object(r(3), &Object::Dict(new_form));
    }
    let tail = u.finish([7; 16]).expect("update");
    let mut out = data.to_vec();
    out.extend_from_slice(&tail.bytes);
    out
}

/// `data` signed into the field `field` (made if missing), as an approval or a certification.
pub(crate) fn signed(seal: &Seal, data: &[u8], field: &str, certify: Option<u8>) -> Vec<u8> {
    let mut req = SignatureRequest::new(NOW);
    req.field = Some(field.into());
    req.certify = certify;
    sign(data, &req, &seal.signer, &seal.identity)
        .expect("sign")
        .to_vec()
}

pub(crate) fn report(seal: &Seal, data: &[u8]) -> Report {
    verify(
        data,
        &VerifyOptions {
            trust_anchors: vec![seal.cert.clone()],
            time: NOW,
        },
    )
    .expect("reads")
}

/// An official's visible seal `field` over `rect`, added and then signed.
pub(crate) fn sealed(seal: &Seal, data: &[u8], field: &str, rect: [i64; 4]) -> Vec<u8> {
    let with_field = revise(data, |rev| {
        rev.add_seal(field, rect, |_| {});
    });
    signed(seal, &with_field, field, None)
}
