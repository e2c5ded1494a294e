//! Verification time of a 4 MB PDF carrying 8 signatures in 8 incremental revisions.
//! Run: `cargo bench -p pades --bench verify`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use pades::testing::synthetic_pdf;
use pades::{
    verify, RsaKeySigner, SignatureAlgorithm, SignatureRequest, SignerIdentity, UnixTime,
    VerifyOptions,
};

const NOW: UnixTime = UnixTime(1_795_942_800);

fn eight_signatures() -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Bench e-Seal");
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = RsaKeySigner::from_der(&key.serialize_der(), SignatureAlgorithm::RsaPkcs1Sha256)
        .expect("signer");
    let identity = SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    let mut pdf = synthetic_pdf(4, 4 * 1024 * 1024);
    for _ in 0..8 {
        pdf = pades::sign(&pdf, &SignatureRequest::new(NOW), &signer, &identity)
            .expect("sign")
            .to_vec();
    }
    (pdf, cert.der().to_vec())
}

fn bench(c: &mut Criterion) {
    let (pdf, cert) = eight_signatures();
    let opts = VerifyOptions {
        trust_anchors: vec![cert],
        time: NOW,
    };
    let report = verify(&pdf, &opts).expect("verify");
    assert_eq!(report.signatures.len(), 8);
    assert!(report.all_passed(), "{report:#?}");
    let mut g = c.benchmark_group("pades");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function(
        format!("verify/4MB-8-signatures ({} bytes)", pdf.len()),
        |b| b.iter(|| verify(black_box(&pdf), &opts).expect("verify")),
    );
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
