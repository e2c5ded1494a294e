//! Signing cost against the physical floor: one RSA private-key operation plus SHA-256 of the
//! document. Run: `cargo bench -p pades --bench sign`.
//!
//! Criterion measures each case; at the end a summary prints medians and the ratio
//! sign / (rsa + sha256) for every size, and for 1 vs 2,000 pages at equal size; and the cost of
//! a visible seal: a real letter signed invisibly and with a stamp over its `#ttd#` tag (a new
//! document id and a new name each time, as a server sees them), and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use pades::testing::synthetic_pdf;
use pades::{RsaKeySigner, SignatureAlgorithm, SignatureRequest, Signer, SignerIdentity, UnixTime};

struct Fixture {
    signer: RsaKeySigner,
    identity: SignerIdentity,
}

fn fixture() -> Fixture {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Bench e-Seal");
    let cert = params.self_signed(&key).expect("cert");
    let signer = RsaKeySigner::from_der(&key.serialize_der(), SignatureAlgorithm::RsaPkcs1Sha256)
        .expect("signer");
    let identity = SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    Fixture { signer, identity }
}

/// A two-page letter whose signature block holds `#ttd#` (tests/corpus, reportlab).
const LETTER: &[u8] = include_bytes!("../../tests/corpus/surat-rekomendasi.pdf");

/// A request for a seal over `#ttd#`, for the `n`-th official (a name not drawn before).
fn stamped(n: u64) -> SignatureRequest {
    use pades::stamp::{compose, DocumentId, Placement, StampSettings, VisibleOptions};
    let time = UnixTime(1_795_942_800);
    let settings =
        StampSettings::new("Kementerian Contoh", "https://segel.example.go.id").expect("settings");
    let visible = VisibleOptions {
        placement: Placement::Tag {
            text: "#ttd#".into(),
            width: 200.0,
            height: 110.0,
        },
        fields: [
            ("jabatan".to_string(), "Sekretaris Jenderal".to_string()),
            ("nama".to_string(), format!("Pejabat Nomor {n}")),
            ("nip".to_string(), "198001012005011001".to_string()),
        ]
        .into(),
        footer: false,
        image: None,
    };
    let mut req = SignatureRequest::new(time);
    req.appearance =
        Some(compose(&settings, &visible, &DocumentId::generate(), time).expect("compose"));
    req
}

const CASES: &[(&str, usize, usize)] = &[
    ("100KB-1page", 1, 100 * 1024),
    ("100KB-2000pages", 2000, 100 * 1024),
    ("20MB-1page", 1, 20 * 1024 * 1024),
];

fn bench(c: &mut Criterion) {
    let f = fixture();
    let req = SignatureRequest::new(UnixTime(1_795_942_800));
    let mut g = c.benchmark_group("pades");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("floor/rsa2048-sign", |b| {
        b.iter(|| f.signer.sign(black_box(b"x")).expect("sign"))
    });
    for &(name, pages, filler) in CASES {
        let pdf = synthetic_pdf(pages, filler);
        g.bench_function(format!("floor/sha256-{name}"), |b| {
            b.iter(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(&pdf)))
        });
        g.bench_function(format!("sign/{name}"), |b| {
            b.iter(|| {
                pades::sign(black_box(&pdf), &req, &f.signer, &f.identity)
                    .expect("sign")
                    .len()
            })
        });
    }
    g.bench_function("sign/letter-invisible", |b| {
        b.iter(|| {
            pades::sign(black_box(LETTER), &req, &f.signer, &f.identity)
                .expect("sign")
                .len()
        })
    });
    let mut n = 0;
    g.bench_function("sign/letter-stamped", |b| {
        b.iter(|| {
            n += 1;
            pades::sign(black_box(LETTER), &stamped(n), &f.signer, &f.identity)
                .expect("sign")
                .len()
        })
    });
    g.finish();
}

fn median<T>(mut f: impl FnMut() -> T, runs: usize) -> f64 {
    black_box(f());
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summary() {
    let f = fixture();
    let req = SignatureRequest::new(UnixTime(1_795_942_800));
    let rsa = median(|| f.signer.sign(b"x").expect("sign"), 200);
    println!(
        "\nsummary (medians)            sign       floor = rsa {:.3} ms + sha256    ratio",
        rsa * 1e3
    );
    for &(name, pages, filler) in CASES {
        let pdf = synthetic_pdf(pages, filler);
        let sha = median(
            || aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pdf),
            30,
        );
        let sign = median(
            || {
                pades::sign(&pdf, &req, &f.signer, &f.identity)
                    .expect("sign")
                    .len()
            },
            30,
        );
        println!(
            "{name:<22} {:>10.3} ms {:>10.3} ms {:>12.3} ms    {:.2}x",
            sign * 1e3,
            (rsa + sha) * 1e3,
            sha * 1e3,
            sign / (rsa + sha)
        );
    }
    let invisible = median(
        || {
            pades::sign(LETTER, &req, &f.signer, &f.identity)
                .expect("sign")
                .len()
        },
        100,
    );
    let mut n = 1_000_000;
    let seal = median(
        || {
            n += 1;
            pades::sign(LETTER, &stamped(n), &f.signer, &f.identity)
                .expect("sign")
                .len()
        },
        100,
    );
    println!(
        "letter (2 pages)       invisible {:.3} ms, stamped over #ttd# {:.3} ms: {:.2}x",
        invisible * 1e3,
        seal * 1e3,
        seal / invisible
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --all-targets` runs benches once as tests: no timing summary then.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
