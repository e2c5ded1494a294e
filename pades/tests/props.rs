//! Property tests: the parser round-trips what the writer emits and never panics on garbage;
//! the byte range of every prepared signature is exactly the file minus the `/Contents` string.

use pades::fuzzing;
use pades::pdf::{Dict, ObjRef, Object};
use pades::testing::synthetic_pdf;
use pades::{prepare, SignatureRequest, UnixTime};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn leaf() -> impl Strategy<Value = Object> {
    prop_oneof![
        Just(Object::Null),
        any::<bool>().prop_map(Object::Bool),
        any::<i64>().prop_map(Object::Integer),
        (-1.0e9f64..1.0e9).prop_map(|r| Object::Real(if r.fract() == 0.0 { r + 0.5 } else { r })),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Object::String),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Object::Name),
        (0u32..100_000, 0u16..10).prop_map(|(n, g)| Object::Reference(ObjRef::new(n, g))),
    ]
}

fn object() -> impl Strategy<Value = Object> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Object::Array),
            proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..10), inner), 0..8)
                .prop_map(|entries| {
                    let mut d = Dict::new();
                    for (k, v) in entries {
                        if !matches!(v, Object::Null) {
                            d.set(&k, v);
                        }
                    }
                    Object::Dict(d)
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        .. ProptestConfig::default()
    })]

    #[test]
    fn written_objects_parse_back_identically(obj in object()) {
        let mut out = Vec::new();
        obj.write(&mut out);
        let back = fuzzing::parse_object_value(&out).expect("what we write parses");
        prop_assert_eq!(back, obj);
        out.extend_from_slice(b" tail");
        prop_assert_eq!(fuzzing::skip_matches_parse(&out), Some(true));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzzing::parse_object(&data);
        fuzzing::open_document(&data);
        fuzzing::parse_cms(&data);
    }

    #[test]
    fn mutated_pdfs_never_panic(pages in 1usize..4, at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut pdf = synthetic_pdf(pages, 64);
        let i = at.index(pdf.len());
        pdf[i] = byte;
        fuzzing::open_document(&pdf);
        let c = cut.index(pdf.len());
        fuzzing::open_document(&pdf[..c]);
    }

    #[test]
    fn byte_range_is_the_file_minus_contents(pages in 1usize..30, filler in 0usize..5000, capacity in 100usize..9000, page_pick in any::<prop::sample::Index>(), pick_first in any::<bool>()) {
        let pdf = synthetic_pdf(pages, filler);
        let mut req = SignatureRequest::new(UnixTime(1_795_942_800));
        req.page = page_pick.index(pages) as u32 + 1;
        req.reason = Some("Uji (properti) \u{e9}".into());
        let prepared = prepare(&pdf, &req, capacity).expect("prepares");
        let [a, b, c, d] = prepared.byte_range();
        prop_assert_eq!(a, 0);
        prop_assert_eq!(c - b, capacity * 2 + 2, "gap is exactly <hex digits>");
        let input_first = pick_first;
        let (digest, input_sha256) = if input_first {
            let h = prepared.input_sha256();
            (prepared.digest(), h)
        } else {
            let d = prepared.digest();
            (d, prepared.input_sha256())
        };
        let expect_input = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pdf);
        prop_assert_eq!(&input_sha256[..], expect_input.as_ref(), "hash of the input alone");
        let signed = prepared.embed(&[0x30, 0x00]).expect("fits");
        let full = signed.to_vec();
        let expect_whole = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &full);
        prop_assert_eq!(&signed.document_sha256()[..], expect_whole.as_ref());
        prop_assert_eq!(&signed.input_sha256()[..], expect_input.as_ref());
        prop_assert!(full.starts_with(&pdf));
        prop_assert_eq!(c + d, full.len());
        prop_assert_eq!(full[b], b'<');
        prop_assert_eq!(full[c - 1], b'>');
        let mut covered = full[..b].to_vec();
        covered.extend_from_slice(&full[c..]);
        let expect = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &covered);
        prop_assert_eq!(&digest[..], expect.as_ref());
        // The /ByteRange written in the file says the same.
        let text = String::from_utf8_lossy(&full[pdf.len()..]).into_owned();
        let written = format!("/ByteRange[0 {b} {c} {d}]");
        prop_assert!(text.contains(&written), "{} not in update", written);
    }
}

mod verifier {
    use super::*;
    use pades::{verify, RsaKeySigner, SignatureAlgorithm, SignerIdentity, VerifyOptions};
    use std::sync::OnceLock;

    /// One signed synthetic document and its trust anchor, made once.
    fn signed() -> &'static (Vec<u8>, Vec<u8>, [usize; 4]) {
        static S: OnceLock<(Vec<u8>, Vec<u8>, [usize; 4])> = OnceLock::new();
        S.get_or_init(|| {
            let key =
                rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                    .expect("key");
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "Prop Seal");
            params.not_before = rcgen::date_time_ymd(2026, 1, 1);
            params.not_after = rcgen::date_time_ymd(2030, 1, 1);
            let cert = params.self_signed(&key).expect("cert");
            let signer =
                RsaKeySigner::from_der(&key.serialize_der(), SignatureAlgorithm::RsaPkcs1Sha256)
                    .expect("signer");
            let identity = SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
            let pdf = synthetic_pdf(3, 200);
            let s = pades::sign(
                &pdf,
                &SignatureRequest::new(UnixTime(1_795_942_800)),
                &signer,
                &identity,
            )
            .expect("sign");
            (s.to_vec(), cert.der().to_vec(), s.byte_range())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        /// Any single changed byte: no panic, and if the byte is signed, never TOTAL-PASSED.
        #[test]
        fn a_changed_signed_byte_never_passes(at in any::<prop::sample::Index>(), delta in 1u8..=255) {
            let (data, cert, [_, a, b, _]) = signed();
            let i = at.index(data.len());
            let mut bad = data.clone();
            bad[i] = bad[i].wrapping_add(delta);
            let opts = VerifyOptions { trust_anchors: vec![cert.clone()], time: UnixTime(1_795_942_800) };
            if let Ok(r) = verify(&bad, &opts) {
                let in_gap = i > *a && i < b - 1;
                if !in_gap {
                    prop_assert!(!r.all_passed(), "byte {} changed yet passed", i);
                }
            }
        }

        /// Random bytes appended (an unsigned "revision" of garbage or a truncated update)
        /// never panic the verifier.
        #[test]
        fn appended_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (data, cert, _) = signed();
            let mut more = data.clone();
            more.extend_from_slice(&tail);
            let opts = VerifyOptions { trust_anchors: vec![cert.clone()], time: UnixTime(1_795_942_800) };
            let _ = verify(&more, &opts);
        }
    }
}
