//! Signatures: one value shared by many fields, and many dictionaries each covering the
//! whole file.

use super::*;

/// A one-page document of about `filler` bytes, signed once.
fn signed_pdf(filler: usize) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hostile Test Seal");
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = pades::RsaKeySigner::from_der(
        &key.serialize_der(),
        pades::SignatureAlgorithm::RsaPkcs1Sha256,
    )
    .expect("signer");
    let identity = pades::SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    let input = pades::testing::synthetic_pdf(1, filler);
    pades::sign(
        &input,
        &SignatureRequest::new(UnixTime(1_795_000_000)),
        &signer,
        &identity,
    )
    .expect("signs")
    .to_vec()
}

/// A signed document, then an update adding 2,000 signature fields whose `/V` is the one
/// signature; the file is padded to 1 MB so that each re-hash would cost a megabyte.
fn shared_signature_value() -> Vec<u8> {
    use pades::pdf::object::{Dict, Object};
    use pades::pdf::update::Update;
    use pades::pdf::Document;
    let signed = signed_pdf(1_000_000);
    let doc = Document::open(&signed).expect("opens");
    let root = doc.trailer().get(b"Root").cloned().expect("root");
    let catalog = doc.resolve_dict(&root, "catalog").expect("catalog");
    let form_obj = catalog.get(b"AcroForm").cloned().expect("form");
    let form_ref = form_obj.as_ref().expect("indirect form");
    let mut form = doc.resolve_dict(&form_obj, "form").expect("form");
    let fields = doc
        .deref(form.get(b"Fields").expect("fields"))
        .expect("fields");
    let mut fields = fields.as_array().expect("array").to_vec();
    let first = doc.resolve_dict(&fields[0], "field").expect("field");
    let v = first.get(b"V").cloned().expect("value");
    let mut update = Update::new(&doc);
    for i in 0..2000 {
        let r = update.allocate();
        let mut f = Dict::new();
        f.set(b"FT", Object::Name(b"Sig".to_vec()));
        f.set(b"T", Object::String(format!("Copy{i}").into_bytes()));
        f.set(b"V", v.clone());
        update.put_object(r, &Object::Dict(f));
        fields.push(Object::Reference(r));
    }
    form.set(b"Fields", Object::Array(fields));
    update.put_object(form_ref, &Object::Dict(form));
    let tail = update.finish([7; 16]).expect("update");
    let mut out = signed.clone();
    out.extend_from_slice(&tail.bytes);
    out
}

#[test]
fn a_signature_shared_by_fields_is_checked_once() {
    holds_budget(
        "signatures::a_signature_shared_by_fields_is_checked_once",
        shared_signature_value,
        Expect::Report(|report| {
            assert_eq!(report.signatures.len(), 2001);
            let copies = report
                .signatures
                .iter()
                .filter(|s| s.reason.contains("is already the value of field"))
                .count();
            assert_eq!(copies, 2000, "{:?}", report.signatures[1].reason);
        }),
    );
}

/// A signed document, then an update adding 1,000 signature dictionaries of their own (each a
/// copy of the CMS), each with a byte range that covers the whole 5 MB file: every one is
/// hashed over the whole file.
fn many_whole_file_signatures() -> Vec<u8> {
    use pades::pdf::object::{Dict, Object};
    use pades::pdf::update::Update;
    use pades::pdf::Document;
    const PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";
    let signed = signed_pdf(200_000);
    let doc = Document::open(&signed).expect("opens");
    let root = doc.trailer().get(b"Root").cloned().expect("root");
    let catalog = doc.resolve_dict(&root, "catalog").expect("catalog");
    let form_obj = catalog.get(b"AcroForm").cloned().expect("form");
    let form_ref = form_obj.as_ref().expect("indirect form");
    let mut form = doc.resolve_dict(&form_obj, "form").expect("form");
    let mut fields = doc
        .deref(form.get(b"Fields").expect("fields"))
        .expect("fields")
        .as_array()
        .expect("array")
        .to_vec();
    let first = doc.resolve_dict(&fields[0], "field").expect("field");
    let sig = doc
        .resolve_dict(first.get(b"V").expect("value"), "sig")
        .expect("sig");
    let cms = sig
        .get(b"Contents")
        .and_then(Object::as_string)
        .expect("contents");
    let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
    let mut update = Update::new(&doc);
    let mut sigs = Vec::new();
    for i in 0..1000 {
        let s = update.allocate();
        update.put(
            s,
            format!(
                "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached\
                 /ByteRange{PLACEHOLDER}/Contents<{hex}>>>"
            )
            .into_bytes(),
        );
        sigs.push(s);
        let f = update.allocate();
        let mut d = Dict::new();
        d.set(b"FT", Object::Name(b"Sig".to_vec()));
        d.set(b"T", Object::String(format!("Whole{i}").into_bytes()));
        d.set(b"V", Object::Reference(s));
        update.put_object(f, &Object::Dict(d));
        fields.push(Object::Reference(f));
    }
    form.set(b"Fields", Object::Array(fields));
    update.put_object(form_ref, &Object::Dict(form));
    let mut tail = update.finish([7; 16]).expect("update");
    let base = signed.len();
    let total = base + tail.bytes.len();
    for (r, body) in tail.body_offsets.clone() {
        if !sigs.contains(&r) {
            continue;
        }
        let text = &tail.bytes[body..];
        let find = |what: &[u8]| {
            text.windows(what.len())
                .position(|w| w == what)
                .expect("in the body")
        };
        let br = body + find(b"/ByteRange") + "/ByteRange".len();
        let open = base + body + find(b"/Contents<") + "/Contents".len();
        let close = open + 1 + hex.len() + 1;
        let value = format!("[0 {open} {close} {}]", total - close);
        let value = format!("{value:<width$}", width = PLACEHOLDER.len());
        tail.bytes[br..br + value.len()].copy_from_slice(value.as_bytes());
    }
    let mut out = signed;
    out.extend_from_slice(&tail.bytes);
    out
}

#[test]
fn signatures_that_each_cover_the_file_share_one_hash_budget() {
    holds_budget(
        "signatures::signatures_that_each_cover_the_file_share_one_hash_budget",
        many_whole_file_signatures,
        Expect::VerifyFails("work units"),
    );
}
