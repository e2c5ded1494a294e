//! The staged API from outside the crate, and the re-prepare path when a signer returns a longer
//! CMS than announced.

use pades::error::SignerError;
use pades::testing::synthetic_pdf;
use pades::{
    prepare, verify, Indication, RsaKeySigner, SignatureAlgorithm, SignatureRequest, Signer,
    SignerIdentity, UnixTime, VerifyOptions,
};

const NOW: UnixTime = UnixTime(1_795_942_800);

fn key_and_cert(alg: SignatureAlgorithm) -> (RsaKeySigner, Vec<u8>) {
    key_and_cert_sized(alg, rcgen::RsaKeySize::_2048)
}

fn key_and_cert_sized(alg: SignatureAlgorithm, size: rcgen::RsaKeySize) -> (RsaKeySigner, Vec<u8>) {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Staged Test Seal");
    let now = rcgen::date_time_ymd(2026, 1, 1);
    params.not_before = now;
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = RsaKeySigner::from_der(&key.serialize_der(), alg).expect("signer");
    (signer, cert.der().to_vec())
}

fn check(pdf: &[u8], cert: &[u8]) {
    let report = verify(
        pdf,
        &VerifyOptions {
            trust_anchors: vec![cert.to_vec()],
            time: NOW,
        },
    )
    .expect("reads");
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(
        report.signatures[0].indication,
        Indication::TotalPassed,
        "{report:#?}"
    );
}

#[test]
fn stages_run_one_by_one() {
    let (signer, cert) = key_and_cert(SignatureAlgorithm::RsaPssSha256);
    let identity = SignerIdentity::new(vec![cert.clone()]).expect("identity");
    let pdf = synthetic_pdf(3, 1000);
    let mut req = SignatureRequest::new(NOW);
    req.page = 3;
    let capacity = identity.content_info_len(signer.algorithm(), signer.signature_len());
    let prepared = prepare(&pdf, &req, capacity).expect("prepare");
    let attrs = identity.signed_attributes(&prepared.digest());
    let sig = signer.sign(&attrs).expect("sign");
    let cms = identity.content_info(&attrs, signer.algorithm(), &sig);
    assert_eq!(cms.len(), capacity, "the size estimate is exact");
    let signed = prepared.embed(&cms).expect("fits");
    check(&signed.to_vec(), &cert);
}

#[test]
fn a_document_prepared_from_a_shared_buffer_crosses_threads_and_embeds_the_same_bytes() {
    let (signer, cert) = key_and_cert(SignatureAlgorithm::RsaPkcs1Sha256);
    let identity = SignerIdentity::new(vec![cert.clone()]).expect("identity");
    let shared = std::sync::Arc::new(synthetic_pdf(2, 5000));
    let req = SignatureRequest::new(NOW);
    let capacity = identity.content_info_len(signer.algorithm(), signer.signature_len());

    let borrowed = prepare(shared.as_slice(), &req, capacity).expect("prepare borrowed");
    let attrs = identity.signed_attributes(&borrowed.digest());
    let cms = identity.content_info(
        &attrs,
        signer.algorithm(),
        &signer.sign(&attrs).expect("sign"),
    );
    let expected = borrowed.embed(&cms).expect("fits").to_vec();

    // The prepared document owns its share of the input: it outlives this scope's borrow and
    // moves to another thread, which digests and embeds without preparing again.
    let owned = prepare(std::sync::Arc::clone(&shared), &req, capacity).expect("prepare shared");
    let (digest, signed) = std::thread::spawn(move || {
        let digest = owned.digest();
        (digest, owned.embed(&cms).expect("fits"))
    })
    .join()
    .expect("thread");
    assert_eq!(
        digest,
        pades::sha256(&covered_bytes(&expected, &signed.byte_range()))
    );
    assert_eq!(
        signed.to_vec(),
        expected,
        "the same bytes as the borrowed path"
    );
    assert_eq!(signed.parts()[0], shared.as_slice());
    check(&expected, &cert);
}

/// The bytes a `/ByteRange` covers.
fn covered_bytes(file: &[u8], br: &[usize; 4]) -> Vec<u8> {
    let mut v = file[br[0]..br[0] + br[1]].to_vec();
    v.extend_from_slice(&file[br[2]..br[2] + br[3]]);
    v
}

/// A signer that announces shorter signatures than it makes (as a remote signer might).
struct Understated(RsaKeySigner);

impl Signer for Understated {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
    fn signature_len(&self) -> usize {
        self.0.signature_len() - 100
    }
    fn public_key(&self) -> &[u8] {
        self.0.public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign(message)
    }
}

#[test]
fn a_cms_larger_than_announced_is_re_prepared_not_failed() {
    let (signer, cert) = key_and_cert(SignatureAlgorithm::RsaPkcs1Sha256);
    let identity = SignerIdentity::new(vec![cert.clone()]).expect("identity");
    let pdf = synthetic_pdf(1, 10);
    let req = SignatureRequest::new(NOW);
    let lying = Understated(signer);
    let small = identity.content_info_len(lying.algorithm(), lying.signature_len());
    assert!(matches!(
        prepare(&pdf, &req, small)
            .expect("prepare")
            .embed(&vec![0x30; small + 100]),
        Err(pades::Error::ContentsTooSmall { .. })
    ));
    let signed = pades::sign(&pdf, &req, &lying, &identity).expect("re-prepared");
    check(&signed.to_vec(), &cert);
}

#[test]
fn a_flipped_bit_anywhere_in_the_signed_ranges_fails() {
    let (signer, cert) = key_and_cert(SignatureAlgorithm::RsaPkcs1Sha256);
    let identity = SignerIdentity::new(vec![cert.clone()]).expect("identity");
    let pdf = synthetic_pdf(2, 300);
    let signed = pades::sign(&pdf, &SignatureRequest::new(NOW), &signer, &identity)
        .expect("sign")
        .to_vec();
    check(&signed, &cert);
    // Every 97th byte of the original part: a flip is never TOTAL-PASSED (or the file no
    // longer reads at all).
    for i in (0..pdf.len()).step_by(97) {
        let mut bad = signed.clone();
        bad[i] ^= 0x20;
        let opts = VerifyOptions {
            trust_anchors: vec![cert.clone()],
            time: NOW,
        };
        if let Ok(r) = verify(&bad, &opts) {
            assert!(
                !r.all_passed(),
                "flip at {i} still TOTAL-PASSED: {:?}",
                r.signatures
            );
        }
    }
}

#[test]
fn rsa_4096_signs_with_both_paddings() {
    let pdf = synthetic_pdf(1, 100);
    for alg in [
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPssSha256,
    ] {
        let (signer, cert) = key_and_cert_sized(alg, rcgen::RsaKeySize::_4096);
        assert_eq!(signer.signature_len(), 512);
        let identity = SignerIdentity::new(vec![cert.clone()]).expect("identity");
        let signed =
            pades::sign(&pdf, &SignatureRequest::new(NOW), &signer, &identity).expect("sign");
        check(&signed.to_vec(), &cert);
    }
}
