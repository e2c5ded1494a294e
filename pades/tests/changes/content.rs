//! Content changes: objects the signed revision shows or refers to, whatever else lists
//! them, and revisions that try to hide a change (end-of-file markers, generation bumps).

use super::*;

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
