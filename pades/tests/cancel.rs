//! `verify_until`: a caller that stops waiting stops the work.

use std::cell::Cell;

use pades::testing::synthetic_pdf;
use pades::verify::verify_until;
use pades::{sign, Error, RsaKeySigner, SignatureAlgorithm, SignatureRequest, SignerIdentity};
use pades::{UnixTime, VerifyOptions};

const NOW: UnixTime = UnixTime(1_795_942_800);

fn signed_pdf() -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Cancel Test Seal");
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = RsaKeySigner::from_der(&key.serialize_der(), SignatureAlgorithm::RsaPkcs1Sha256)
        .expect("signer");
    let identity = SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    // 40 MiB, so that hashing it takes ten slices.
    let pdf = synthetic_pdf(2, 40 << 20);
    let out = sign(&pdf, &SignatureRequest::new(NOW), &signer, &identity)
        .expect("sign")
        .to_vec();
    (out, cert.der().to_vec())
}

#[test]
fn verification_stops_when_the_caller_stops_waiting() {
    let (pdf, cert) = signed_pdf();
    let opts = VerifyOptions {
        trust_anchors: vec![cert],
        time: NOW,
    };
    // Never stopped: the answer.
    let asked = Cell::new(0u32);
    let report = verify_until(&pdf, &opts, &|| {
        asked.set(asked.get() + 1);
        false
    })
    .expect("reads");
    assert!(report.all_passed(), "{report:#?}");
    let whole = asked.get();
    assert!(whole >= 10, "asked {whole} times over 40 MiB");
    // Stopped after the second question: no answer, and no more questions than a few.
    let asked = Cell::new(0u32);
    let err = verify_until(&pdf, &opts, &|| {
        asked.set(asked.get() + 1);
        asked.get() > 2
    })
    .expect_err("stopped");
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(
        asked.get() <= 4,
        "asked {} times after stopping",
        asked.get()
    );
}
