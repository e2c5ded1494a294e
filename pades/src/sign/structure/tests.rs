//! The seal in the structure tree: what is written for each shape of tree, hostile trees,
//! and the verifier's view of it.

use super::*;

/// A PDF of `objects` (numbered as given), catalog 1, page 3.
fn pdf(objects: &[(u32, String)]) -> Vec<u8> {
    let size = objects.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = vec![None; size as usize];
    for (n, body) in objects {
        offsets[*n as usize] = Some(out.len());
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
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

/// A tagged document whose structure root (4) has `root` for its entries after the type.
fn tagged(root: &str, more: &[(u32, &str)]) -> Vec<u8> {
    let mut objects =
        vec![
        (
            1,
            "<< /Type /Catalog /Pages 2 0 R /StructTreeRoot 4 0 R /MarkInfo << /Marked true >> >>"
                .to_string(),
        ),
        (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
        (3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".into()),
        (4, format!("<< /Type /StructTreeRoot {root} >>")),
    ];
    objects.extend(more.iter().map(|(n, b)| (*n, (*b).to_string())));
    pdf(&objects)
}

/// Tag a widget on `input`: the key, the widget's and the form element's references and
/// the updated file.
fn tag(input: &[u8]) -> Result<(Option<i64>, ObjRef, Vec<u8>)> {
    let doc = Document::open(input)?;
    let catalog = doc.resolve_dict(&Object::Reference(ObjRef::new(1, 0)), "catalog")?;
    let mut update = Update::new(&doc);
    let widget = update.allocate();
    let key = tag_widget(
        &mut update,
        &doc,
        &catalog,
        widget,
        ObjRef::new(3, 0),
        "Segel elektronik",
    )?;
    let tail = update.finish([1; 16])?;
    let mut out = input.to_vec();
    out.extend_from_slice(&tail.bytes);
    Ok((key, widget, out))
}

fn get(doc: &Document<'_>, n: u32) -> Object {
    doc.resolve(ObjRef::new(n, 0)).expect("reads")
}

/// The form element that `key` maps to in a flat `/Nums`, checked against `widget`.
fn form_of(doc: &Document<'_>, nums: &[Object], key: i64, widget: ObjRef) -> Dict {
    let at = nums
        .chunks(2)
        .find(|p| p[0].as_i64() == Some(key))
        .and_then(|p| p[1].as_ref())
        .expect("the key is in the parent tree");
    let form = doc
        .resolve_dict(&Object::Reference(at), "form")
        .expect("form");
    assert_eq!(form.get(b"S").and_then(Object::as_name), Some(&b"Form"[..]));
    let objr = form.get(b"K").and_then(Object::as_dict).expect("objr");
    assert_eq!(objr.get(b"Obj").and_then(Object::as_ref), Some(widget));
    assert_eq!(
        form.get(b"Alt").and_then(Object::as_string),
        Some(&b"Segel elektronik"[..])
    );
    form
}

#[test]
fn an_untagged_document_is_left_alone() {
    let input = pdf(&[
        (1, "<< /Type /Catalog /Pages 2 0 R >>".into()),
        (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
        (3, "<< /Type /Page /Parent 2 0 R >>".into()),
    ]);
    let (key, _, out) = tag(&input).expect("tags");
    assert_eq!(key, None);
    let doc = Document::open(&out).expect("opens");
    assert_eq!(doc.sections()[0].objects.len(), 0, "nothing written");
}

#[test]
fn the_seal_joins_the_document_element_and_the_parent_tree() {
    let input = tagged(
        "/K 5 0 R /ParentTree 6 0 R /ParentTreeNextKey 3",
        &[
            (
                5,
                "<< /Type /StructElem /S /Document /P 4 0 R /K [7 0 R] >>",
            ),
            (6, "<< /Nums [0 [7 0 R] 1 7 0 R] >>"),
            (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
        ],
    );
    let (key, widget, out) = tag(&input).expect("tags");
    assert_eq!(key, Some(3));
    let doc = Document::open(&out).expect("opens");
    let mut rewritten = doc.sections()[0].objects.clone();
    rewritten.retain(|&n| n <= 7);
    rewritten.sort_unstable();
    assert_eq!(
        rewritten,
        vec![4, 5, 6],
        "root, document element, parent tree"
    );
    let root = get(&doc, 4);
    let root = root.as_dict().expect("root");
    assert_eq!(root.get(b"ParentTreeNextKey"), Some(&Object::Integer(4)));
    let nums = get(&doc, 6).as_dict().expect("node").clone();
    let nums = nums.get(b"Nums").and_then(Object::as_array).expect("nums");
    assert_eq!(nums.len(), 6);
    let form = form_of(&doc, nums, 3, widget);
    assert_eq!(
        form.get(b"P").and_then(Object::as_ref),
        Some(ObjRef::new(5, 0))
    );
    let element = get(&doc, 5);
    let kids = element.as_dict().and_then(|d| d.get(b"K")).expect("kids");
    assert_eq!(kids.as_array().map(<[Object]>::len), Some(2));
}

#[test]
fn a_parent_tree_with_kids_gets_a_new_leaf_and_a_stale_next_key_is_raised() {
    let input = tagged(
        "/K [5 0 R 8 0 R] /ParentTree 6 0 R /ParentTreeNextKey 2",
        &[
            (5, "<< /Type /StructElem /S /P /P 4 0 R /K 0 /Pg 3 0 R >>"),
            (6, "<< /Kids [9 0 R] >>"),
            (8, "<< /Type /StructElem /S /P /P 4 0 R /K 1 /Pg 3 0 R >>"),
            (9, "<< /Limits [0 10] /Nums [0 [5 0 R 8 0 R] 10 5 0 R] >>"),
        ],
    );
    let (key, widget, out) = tag(&input).expect("tags");
    assert_eq!(
        key,
        Some(11),
        "one past the largest key, not the stale next key"
    );
    let doc = Document::open(&out).expect("opens");
    let node = get(&doc, 6);
    let kids = node
        .as_dict()
        .and_then(|d| d.get(b"Kids"))
        .and_then(Object::as_array)
        .expect("kids");
    let leaf = doc.resolve_dict(&kids[1], "leaf").expect("a new leaf");
    assert_eq!(
        leaf.get(b"Limits"),
        Some(&Object::Array(vec![
            Object::Integer(11),
            Object::Integer(11)
        ]))
    );
    let nums = leaf.get(b"Nums").and_then(Object::as_array).expect("nums");
    let form = form_of(&doc, nums, 11, widget);
    // Two top-level elements: the seal joins the root.
    assert_eq!(
        form.get(b"P").and_then(Object::as_ref),
        Some(ObjRef::new(4, 0))
    );
    let root = get(&doc, 4);
    let k = root.as_dict().and_then(|d| d.get(b"K")).expect("K");
    assert_eq!(k.as_array().map(<[Object]>::len), Some(3));
}

#[test]
fn indirect_arrays_are_rewritten_in_place_and_a_missing_tree_is_made() {
    let input = tagged(
        "/K 5 0 R",
        &[
            (5, "<< /Type /StructElem /S /Document /P 4 0 R /K 6 0 R >>"),
            (6, "[7 0 R]"),
            (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
        ],
    );
    let (key, widget, out) = tag(&input).expect("tags");
    assert_eq!(key, Some(0));
    let doc = Document::open(&out).expect("opens");
    let mut rewritten = doc.sections()[0].objects.clone();
    rewritten.retain(|&n| n <= 7);
    rewritten.sort_unstable();
    assert_eq!(
        rewritten,
        vec![4, 6],
        "the root and the element's kids array"
    );
    assert_eq!(get(&doc, 6).as_array().map(<[Object]>::len), Some(2));
    let root = get(&doc, 4);
    let tree = root
        .as_dict()
        .and_then(|d| d.get(b"ParentTree"))
        .expect("a parent tree");
    let tree = doc.resolve_dict(tree, "tree").expect("tree");
    let nums = tree.get(b"Nums").and_then(Object::as_array).expect("nums");
    form_of(&doc, nums, 0, widget);
}

#[test]
fn a_single_kid_dictionary_becomes_an_array() {
    let input = tagged(
        "/K 5 0 R /ParentTree << /Nums [] >>",
        &[(
            5,
            "<< /Type /StructElem /S /Document /K << /Type /MCR /Pg 3 0 R /MCID 0 >> >>",
        )],
    );
    let (key, _, out) = tag(&input).expect("tags");
    assert_eq!(key, Some(0));
    let doc = Document::open(&out).expect("opens");
    let element = get(&doc, 5);
    let k = element.as_dict().and_then(|d| d.get(b"K")).expect("K");
    let k = k.as_array().expect("an array now");
    assert!(matches!(k[0], Object::Dict(_)) && k[1].as_ref().is_some());
}

#[test]
fn hostile_trees_are_refused() {
    let refused = |root: &str, more: &[(u32, &str)], needle: &str| {
        let err = tag(&tagged(root, more)).expect_err(needle).to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    };
    // A cycle in the parent tree.
    refused(
        "/ParentTree 6 0 R",
        &[(6, "<< /Kids [7 0 R] >>"), (7, "<< /Kids [6 0 R] >>")],
        "cycle",
    );
    // A parent tree 100 levels deep.
    let chain: Vec<(u32, String)> = (10..110)
        .map(|n| (n, format!("<< /Kids [{} 0 R] >>", n + 1)))
        .chain([(110, "<< /Nums [0 4 0 R] >>".to_string())])
        .collect();
    let chain: Vec<(u32, &str)> = chain.iter().map(|(n, s)| (*n, s.as_str())).collect();
    refused("/ParentTree 10 0 R", &chain, "deeper");
    // A key that cannot be followed by another.
    refused(
        "/ParentTree << /Nums [9223372036854775807 4 0 R] >>",
        &[],
        "overflows",
    );
    refused("/ParentTreeNextKey 9223372036854775807", &[], "overflows");
    // One object playing the element's kids array and the parent tree's /Nums.
    refused(
        "/K 5 0 R /ParentTree << /Nums 6 0 R >>",
        &[
            (5, "<< /Type /StructElem /S /Document /K 6 0 R >>"),
            (6, "[]"),
        ],
        "two parts",
    );
    refused("/ParentTree 6 0 R", &[(6, "(text)")], "node is a string");
    refused("/K (text)", &[], "/K is a string");
    // A structure tree root held in the catalog itself.
    let direct = pdf(&[
        (
            1,
            "<< /Type /Catalog /Pages 2 0 R /StructTreeRoot << /K [] >> >>".into(),
        ),
        (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into()),
        (3, "<< /Type /Page /Parent 2 0 R >>".into()),
    ]);
    let err = tag(&direct).expect_err("direct root").to_string();
    assert!(err.contains("directly in the catalog"), "{err}");
}

/// A signer's seal on `data`: a visible signature field `field` on page 3 tagged by
/// [`tag_widget`], listed by the page and the form, in a revision of its own.
fn with_tagged_seal(data: &[u8], field: &str) -> Vec<u8> {
    let doc = Document::open(data).expect("opens");
    let catalog = doc
        .resolve_dict(&Object::Reference(ObjRef::new(1, 0)), "catalog")
        .expect("catalog");
    let mut update = Update::new(&doc);
    let widget = update.allocate();
    let page = ObjRef::new(3, 0);
    let key = tag_widget(&mut update, &doc, &catalog, widget, page, field)
        .expect("tags")
        .expect("tagged");
    let mut w = Dict::new();
    w.set(b"Type", Object::Name(b"Annot".to_vec()));
    w.set(b"Subtype", Object::Name(b"Widget".to_vec()));
    w.set(b"FT", Object::Name(b"Sig".to_vec()));
    w.set(b"T", Object::String(field.as_bytes().to_vec()));
    w.set(b"P", Object::Reference(page));
    w.set(b"StructParent", Object::Integer(key));
    w.set(
        b"Rect",
        Object::Array([300, 100, 500, 210].map(Object::Integer).to_vec()),
    );
    update.put_object(widget, &Object::Dict(w));
    let add = |d: &mut Dict, key: &[u8]| {
        let mut a = d
            .get(key)
            .and_then(Object::as_array)
            .map(<[Object]>::to_vec)
            .unwrap_or_default();
        a.push(Object::Reference(widget));
        d.set(key, Object::Array(a));
    };
    let mut p = doc
        .resolve_dict(&Object::Reference(page), "page")
        .expect("page");
    add(&mut p, b"Annots");
    update.put_object(page, &Object::Dict(p));
    match catalog.get(b"AcroForm") {
        Some(Object::Reference(f)) => {
            let mut form = doc
                .resolve_dict(&Object::Reference(*f), "form")
                .expect("form");
            add(&mut form, b"Fields");
            update.put_object(*f, &Object::Dict(form));
        }
        _ => {
            let mut c = catalog.clone();
            let mut form = c
                .get(b"AcroForm")
                .and_then(Object::as_dict)
                .cloned()
                .unwrap_or_default();
            add(&mut form, b"Fields");
            c.set(b"AcroForm", Object::Dict(form));
            update.put_object(ObjRef::new(1, 0), &Object::Dict(c));
        }
    }
    let tail = update.finish([3; 16]).expect("update");
    let mut out = data.to_vec();
    out.extend_from_slice(&tail.bytes);
    out
}

#[test]
fn what_the_signer_adds_to_the_structure_tree_keeps_earlier_signatures_valid() {
    use crate::time::UnixTime;
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = crate::RsaKeySigner::from_der(
        &key.serialize_der(),
        crate::SignatureAlgorithm::RsaPkcs1Sha256,
    )
    .expect("signer");
    let identity = crate::SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    let now = UnixTime(1_795_942_800);
    let sign = |data: &[u8], field: &str| {
        let mut req = crate::SignatureRequest::new(now);
        req.field = Some(field.into());
        crate::sign(data, &req, &signer, &identity)
            .expect("signs")
            .to_vec()
    };
    let verified = |data: &[u8]| {
        crate::verify(
            data,
            &crate::VerifyOptions {
                trust_anchors: vec![cert.der().to_vec()],
                time: now,
            },
        )
        .expect("reads")
    };
    for tree in [
        "/K 5 0 R /ParentTree 6 0 R /ParentTreeNextKey 1",
        "/K [5 0 R 7 0 R] /ParentTree 6 0 R",
        "/K 5 0 R /ParentTree 8 0 R /ParentTreeNextKey 1",
        "/K 5 0 R",
    ] {
        let input = tagged(
            tree,
            &[
                (5, "<< /Type /StructElem /S /Document /P 4 0 R /K 9 0 R >>"),
                (6, "<< /Nums [0 [7 0 R]] >>"),
                (7, "<< /Type /StructElem /S /P /P 5 0 R /K 0 /Pg 3 0 R >>"),
                (8, "<< /Kids [10 0 R] >>"),
                (9, "[7 0 R]"),
                (10, "<< /Limits [0 0] /Nums [0 [7 0 R]] >>"),
            ],
        );
        let reviewed = sign(&input, "Paraf");
        let sealed = sign(&with_tagged_seal(&reviewed, "Segel"), "Segel");
        let report = verified(&sealed);
        assert!(report.all_passed(), "{tree}: {report:#?}");
        let named = report.signatures[0]
            .changes
            .iter()
            .filter(|c| c.what.contains("joined the structure tree"))
            .count();
        assert!(named >= 2, "{tree}: {:#?}", report.signatures[0].changes);
        // A second seal is tagged after the first, and both earlier signatures stay valid.
        let twice = sign(&with_tagged_seal(&sealed, "Segel2"), "Segel2");
        let report = verified(&twice);
        assert!(report.all_passed(), "{tree}, twice: {report:#?}");
    }
}

#[test]
fn a_negative_next_key_starts_at_zero() {
    let (key, _, _) = tag(&tagged("/ParentTreeNextKey -5", &[])).expect("tags");
    assert_eq!(key, Some(0));
}
