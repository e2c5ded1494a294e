//! End-to-end: every corpus file signed, then judged by our verifier and by pdfsig, qpdf,
//! openssl and pyHanko; bad inputs refused; tampering detected; double signatures kept valid.

#[path = "e2e/attack.rs"]
mod attack;
#[path = "e2e/batch.rs"]
mod batch;
#[path = "e2e/batch_outputs.rs"]
mod batch_outputs;
#[path = "e2e/batch_reports.rs"]
mod batch_reports;
#[path = "e2e/client.rs"]
mod client;
#[path = "e2e/expiry.rs"]
mod expiry;
#[path = "e2e/grpc.rs"]
mod grpc;
#[path = "e2e/hostile.rs"]
mod hostile;
#[path = "e2e/log_safety.rs"]
mod log_safety;
#[path = "e2e/lying_server.rs"]
mod lying_server;
#[path = "e2e/refusals.rs"]
mod refusals;
#[path = "e2e/seal_cli.rs"]
mod seal_cli;
#[path = "e2e/seal_corpus.rs"]
mod seal_corpus;
#[path = "e2e/seal_online.rs"]
mod seal_online;
#[path = "e2e/seal_signers.rs"]
mod seal_signers;
#[path = "e2e/web_api.rs"]
mod web_api;
#[path = "e2e/web_browser.rs"]
mod web_browser;
#[path = "e2e/web_listener.rs"]
mod web_listener;
#[path = "e2e/web_log.rs"]
mod web_log;
#[path = "e2e/web_page.rs"]
mod web_page;

use std::path::{Path, PathBuf};
use std::process::Command;

use pades::{Indication, SubIndication};
use segel_client::offline::{self, SignFileOptions};
use segel_tests::{
    corpus, manifest, openssl_check, pdfsig_check, pdfsig_says_valid, pki, pyhanko_check,
    qpdf_check, tool,
};

fn opts(key: &str, cert: &str, pss: bool) -> SignFileOptions {
    let p = pki();
    let mut request = pades::SignatureRequest::new(pades::UnixTime::now());
    request.reason = Some("Persetujuan rekomendasi".into());
    request.location = Some("Jakarta".into());
    SignFileOptions {
        key: p.file(key),
        cert: p.file(cert),
        chain: Some(p.file("dev-agency-chain.pem")),
        pss,
        request,
        seal: None,
    }
}

fn trust() -> PathBuf {
    // Our root and the corpus' other CA, in one PEM, written once per test process (tests run
    // in parallel: a file rewritten while another test reads it reads as empty).
    static TRUST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TRUST
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("segel-trust-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("dir");
            let path = dir.join("trust.pem");
            let mut pem = std::fs::read(pki().file("doc-root.pem")).expect("root");
            pem.extend(std::fs::read(corpus().join("other-ca-root.pem")).expect("other root"));
            std::fs::write(&path, pem).expect("write trust");
            path
        })
        .clone()
}

fn verify(file: &Path) -> pades::Report {
    offline::verify_file(file, &trust()).expect("verifier reads the file")
}

fn sign_and_judge(name: &str, key: &str, cert: &str, pss: bool, work: &Path) {
    let input = corpus().join(name);
    let out = work.join(format!("signed-{name}"));
    let signed = offline::sign_file(&input, &out, &opts(key, cert, pss))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let original = std::fs::read(&input).expect("input");
    let output = std::fs::read(&out).expect("output");
    assert!(
        output.starts_with(&original),
        "{name}: output does not start with the input bytes"
    );
    assert_eq!(output.len(), signed.bytes);
    let report = verify(&out);
    let expected = report.signatures.len();
    assert!(report.all_passed(), "{name}: our verifier: {report:#?}");
    assert!(expected >= 1);
    pdfsig_check(&out, expected).unwrap_or_else(|e| panic!("{e:#}"));
    qpdf_check(&out).unwrap_or_else(|e| panic!("{e:#}"));
    openssl_check(&out, work).unwrap_or_else(|e| panic!("{e:#}"));
    pyhanko_check(&out, expected).unwrap_or_else(|e| panic!("{e:#}"));
}

#[test]
fn every_corpus_file_signs_and_every_verifier_accepts_it() {
    let work = tempfile::tempdir().expect("tempdir");
    let files: Vec<String> = manifest()
        .into_iter()
        .filter(|(_, expect)| expect == "sign")
        .map(|(f, _)| f)
        .collect();
    assert!(files.len() >= 12, "corpus incomplete: {files:?}");
    for f in &files {
        sign_and_judge(f, "dev-agency.key", "dev-agency.pem", false, work.path());
    }
    // The existing text field is kept, with its value, beside the new signature field.
    let signed = std::fs::read(work.path().join("signed-acroform-textfield.pdf")).expect("read");
    let doc = pades::pdf::Document::open(&signed).expect("open");
    let root = doc.trailer().get(b"Root").cloned().expect("root");
    let catalog = doc.resolve_dict(&root, "catalog").expect("catalog");
    let form = doc
        .resolve_dict(catalog.get(b"AcroForm").expect("form"), "form")
        .expect("form");
    let fields = match doc
        .deref(form.get(b"Fields").expect("fields"))
        .expect("fields")
    {
        pades::pdf::Object::Array(a) => a,
        other => panic!("fields: {other:?}"),
    };
    let names: Vec<String> = fields
        .iter()
        .map(|f| {
            let d = doc.resolve_dict(f, "field").expect("field");
            String::from_utf8_lossy(
                d.get(b"T")
                    .and_then(pades::pdf::Object::as_string)
                    .unwrap_or_default(),
            )
            .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        vec!["nama_pemohon".to_string(), "Signature1".to_string()]
    );
    let text = doc
        .resolve_dict(&fields[0], "text field")
        .expect("text field");
    assert!(text.get(b"V").is_some(), "the text field lost its value");
    assert_eq!(
        form.get(b"SigFlags").and_then(pades::pdf::Object::as_i64),
        Some(3)
    );
}

#[test]
fn rsa_3072_and_pss_signatures_are_accepted() {
    let work = tempfile::tempdir().expect("tempdir");
    sign_and_judge(
        "surat-rekomendasi.pdf",
        "dev-agency-3072.key",
        "dev-agency-3072.pem",
        false,
        work.path(),
    );
    sign_and_judge(
        "qpdf-xref-stream.pdf",
        "dev-agency.key",
        "dev-agency.pem",
        true,
        work.path(),
    );
    sign_and_judge(
        "gs-ps2pdf.pdf",
        "dev-agency-3072.key",
        "dev-agency-3072.pem",
        true,
        work.path(),
    );
}

#[test]
fn every_bad_corpus_file_is_refused_with_a_specific_message() {
    let work = tempfile::tempdir().expect("tempdir");
    let expected = [
        ("bad/zero-bytes.pdf", "empty"),
        ("bad/gateway-error.pdf", "no %PDF- header"),
        ("bad/truncated-download.pdf", "no startxref"),
        ("bad/password-protected.pdf", "encrypted"),
        ("bad/pages-cycle.pdf", "page tree loops"),
    ];
    let listed: Vec<String> = manifest()
        .into_iter()
        .filter(|(_, e)| e == "reject")
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        listed.len(),
        expected.len(),
        "manifest lists other bad files: {listed:?}"
    );
    for (name, needle) in expected {
        let out = work.path().join("out.pdf");
        let err = offline::sign_file(
            &corpus().join(name),
            &out,
            &opts("dev-agency.key", "dev-agency.pem", false),
        )
        .expect_err(name);
        let msg = err.to_string();
        assert!(
            msg.contains(needle),
            "{name}: message {msg:?} lacks {needle:?}"
        );
        assert!(!out.exists(), "{name}: an output file was written");
        let leftovers: Vec<_> = std::fs::read_dir(work.path()).expect("dir").collect();
        assert!(
            leftovers.is_empty(),
            "{name}: temporary files left: {leftovers:?}"
        );
    }
}

#[test]
fn a_second_signature_keeps_both_valid() {
    let work = tempfile::tempdir().expect("tempdir");
    let once = work.path().join("once.pdf");
    let twice = work.path().join("twice.pdf");
    offline::sign_file(
        &corpus().join("surat-rekomendasi-cairo.pdf"),
        &once,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .expect("first");
    offline::sign_file(
        &once,
        &twice,
        &opts("dev-agency-3072.key", "dev-agency-3072.pem", true),
    )
    .expect("second");
    let report = verify(&twice);
    assert_eq!(report.signatures.len(), 2);
    assert!(report.all_passed(), "{report:#?}");
    assert!(matches!(
        report.signatures[0].coverage,
        pades::verify::Coverage::Revision { .. }
    ));
    pdfsig_check(&twice, 2).unwrap_or_else(|e| panic!("{e:#}"));
    pyhanko_check(&twice, 2).unwrap_or_else(|e| panic!("{e:#}"));
    qpdf_check(&twice).unwrap_or_else(|e| panic!("{e:#}"));
}

#[test]
fn tampering_is_reported_as_not_valid_by_us_and_by_pdfsig() {
    let work = tempfile::tempdir().expect("tempdir");
    let signed = work.path().join("signed.pdf");
    offline::sign_file(
        &corpus().join("reportlab-1page.pdf"),
        &signed,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .expect("sign");
    let data = std::fs::read(&signed).expect("read");
    let report = verify(&signed);
    let br = report.signatures[0].byte_range.clone();
    let (b, c) = (br[1] as usize, br[2] as usize);

    // A flipped byte inside the signed range (in the page content, "Hello" text or similar).
    let mut flipped = data.clone();
    let at = b / 2;
    flipped[at] ^= 0x01;
    let f1 = work.path().join("flipped.pdf");
    std::fs::write(&f1, &flipped).expect("write");
    let r = offline::verify_file(&f1, &trust());
    match r {
        Ok(r) => {
            assert_eq!(
                r.signatures[0].indication,
                Indication::TotalFailed,
                "{r:#?}"
            );
            assert_eq!(
                r.signatures[0].sub_indication,
                Some(SubIndication::HashFailure)
            );
        }
        // Flipping a byte may also break the file's syntax: that is a refusal too.
        Err(e) => eprintln!("flipped file unreadable: {e}"),
    }
    if let Some(v) = pdfsig_says_valid(&f1).ok().filter(|v| !v.is_empty()) {
        assert!(v.iter().all(|ok| !ok), "pdfsig accepted a flipped byte");
    }

    // A changed /Contents: one hex digit of the signature value changed.
    let mut changed = data.clone();
    // The RSA signature value sits at the end of the CMS; change a digit there.
    let cms_end = data[b + 1..c - 1]
        .iter()
        .rposition(|&x| x != b'0')
        .expect("cms")
        + b
        + 1;
    changed[cms_end - 10] = if changed[cms_end - 10] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let f2 = work.path().join("contents.pdf");
    std::fs::write(&f2, &changed).expect("write");
    let r = offline::verify_file(&f2, &trust()).expect("readable");
    assert_ne!(
        r.signatures[0].indication,
        Indication::TotalPassed,
        "{r:#?}"
    );
    if let Some(v) = pdfsig_says_valid(&f2).ok().filter(|v| !v.is_empty()) {
        assert!(
            v.iter().all(|ok| !ok),
            "pdfsig accepted a changed /Contents"
        );
    }
}

#[test]
fn an_existing_empty_signature_field_is_signed_into() {
    let Some(pyhanko) = tool("pyhanko") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let with_field = work.path().join("field.pdf");
    let o = Command::new(pyhanko)
        .args(["sign", "addfields", "--field", "2/350,100,550,160/Stempel"])
        .arg(corpus().join("surat-rekomendasi.pdf"))
        .arg(&with_field)
        .output()
        .expect("pyhanko addfields");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = work.path().join("signed.pdf");
    let mut o2 = opts("dev-agency.key", "dev-agency.pem", false);
    o2.request.field = Some("Stempel".into());
    let signed = offline::sign_file(&with_field, &out, &o2).expect("sign into field");
    assert_eq!(signed.field, "Stempel");
    let report = verify(&out);
    assert_eq!(report.signatures.len(), 1, "{report:#?}");
    assert_eq!(report.signatures[0].field, "Stempel");
    assert!(report.all_passed());
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    pyhanko_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    // Signing the same field again is refused.
    let again =
        offline::sign_file(&out, &work.path().join("again.pdf"), &o2).expect_err("already signed");
    assert!(again.to_string().contains("already signed"), "{again}");
}

#[test]
fn a_mismatched_key_is_refused_before_signing() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("out.pdf");
    let err = offline::sign_file(
        &corpus().join("reportlab-1page.pdf"),
        &out,
        &opts("dev-agency-3072.key", "dev-agency.pem", false),
    )
    .expect_err("mismatch");
    assert!(err.to_string().contains("does not belong"), "{err}");
    assert!(!out.exists());
}

/// Sign `bytes` (written to `work/name`) and run every judge.
fn sign_bytes_and_judge(name: &str, bytes: &[u8], work: &Path) -> PathBuf {
    let input = work.join(name);
    std::fs::write(&input, bytes).expect("write fixture");
    let out = work.join(format!("signed-{name}"));
    offline::sign_file(
        &input,
        &out,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let output = std::fs::read(&out).expect("output");
    assert!(
        output.starts_with(bytes),
        "{name}: not an incremental update"
    );
    let report = verify(&out);
    assert!(report.all_passed(), "{name}: {report:#?}");
    let n = report.signatures.len();
    pdfsig_check(&out, n).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    qpdf_check(&out).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    openssl_check(&out, work).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let extra: &[&str] = if name.starts_with("hybrid") {
        &["--no-strict-syntax"]
    } else {
        &[]
    };
    segel_tests::pyhanko_check_with(&out, n, extra).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    out
}

#[test]
fn hand_built_shapes_sign_and_verify() {
    use segel_tests::fixtures::{build, Shape};
    let work = tempfile::tempdir().expect("tempdir");
    let shapes: &[(&str, Shape)] = &[
        ("lf.pdf", Shape::default()),
        (
            "crlf-pdf13.pdf",
            Shape {
                eol: "\r\n",
                version: "1.3",
                ..Shape::default()
            },
        ),
        (
            "cr-only.pdf",
            Shape {
                eol: "\r",
                ..Shape::default()
            },
        ),
        (
            "no-id.pdf",
            Shape {
                id: false,
                ..Shape::default()
            },
        ),
        (
            "no-eol-after-eof.pdf",
            Shape {
                after_eof: b"",
                ..Shape::default()
            },
        ),
        (
            "garbage-after-eof.pdf",
            Shape {
                after_eof: b"\n\0\0\0 trailing junk from a mail gateway\n",
                ..Shape::default()
            },
        ),
        (
            "pdf20.pdf",
            Shape {
                version: "2.0",
                ..Shape::default()
            },
        ),
        (
            "hybrid.pdf",
            Shape {
                hybrid: true,
                version: "1.5",
                ..Shape::default()
            },
        ),
    ];
    for (name, shape) in shapes {
        let out = sign_bytes_and_judge(name, &build(shape), work.path());
        let data = std::fs::read(&out).expect("read");
        let tail = &data[build(shape).len()..];
        // A table stays a table (PDF/A-1 forbids xref streams).
        assert!(
            !tail.windows(10).any(|w| w == b"/Type/XRef"),
            "{name}: update used an xref stream"
        );
        if !shape.id {
            assert!(
                tail.windows(3).any(|w| w == b"/ID"),
                "{name}: no /ID created"
            );
        }
    }
}

#[test]
fn qpdf_rewritten_shapes_sign_and_verify() {
    let Some(qpdf) = tool("qpdf") else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let src = corpus().join("reportlab-12pages.pdf");
    let variants: &[(&str, &[&str])] = &[
        ("linearized.pdf", &["--linearize"]),
        (
            "linearized-objstm.pdf",
            &["--linearize", "--object-streams=generate"],
        ),
        (
            "pdf20-objstm.pdf",
            &["--force-version=2.0", "--object-streams=generate"],
        ),
    ];
    for (name, args) in variants {
        let path = work.path().join(format!("src-{name}"));
        let o = Command::new(&qpdf)
            .args(*args)
            .arg(&src)
            .arg(&path)
            .output()
            .expect("qpdf");
        assert!(
            o.status.success(),
            "qpdf {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let bytes = std::fs::read(&path).expect("read");
        let out = sign_bytes_and_judge(name, &bytes, work.path());
        // A second signature: the first one's revision is found among the linearized file's
        // markers and stays TOTAL-PASSED. (Not on the object-stream variant: there pdfsig 22
        // finds both signatures valid but reports "Unknown issue with Certificate" for the
        // second one's certificate, the same certificate it trusts for the first.)
        if *name == "linearized.pdf" {
            let once = std::fs::read(&out).expect("read");
            sign_bytes_and_judge(&format!("again-{name}"), &once, work.path());
        }
        if name.contains("objstm") {
            let data = std::fs::read(&out).expect("read");
            assert!(
                data[bytes.len()..].windows(10).any(|w| w == b"/Type/XRef"),
                "{name}: a stream file must get an xref stream"
            );
        }
    }
}

#[test]
fn signatures_by_pyhanko_stay_valid_legacy_and_certified() {
    let Some(pyhanko) = tool("pyhanko") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let p = pki();
    // adbe.pkcs7.detached (pyHanko without --use-pades), and a certification signature (DocMDP P=2).
    for (name, extra) in [
        ("legacy.pdf", &[][..]),
        ("certified.pdf", &["--certify"][..]),
    ] {
        let path = work.path().join(format!("src-{name}"));
        let o = Command::new(&pyhanko)
            .args(["sign", "addsig", "--field", "1/0,0,0,0/Earlier"])
            .args(extra)
            .args(["pemder", "--no-pass", "--key"])
            .arg(p.file("dev-agency-3072.key"))
            .arg("--cert")
            .arg(p.file("dev-agency-3072.pem"))
            .arg("--chain")
            .arg(p.file("agency-ca.pem"))
            .arg(corpus().join("fpdf2-report.pdf"))
            .arg(&path)
            .output()
            .expect("pyhanko addsig");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(&path).expect("read");
        let out = sign_bytes_and_judge(name, &bytes, work.path());
        let report = verify(&out);
        assert_eq!(report.signatures.len(), 2, "{name}");
        if name == "legacy.pdf" {
            assert_eq!(report.signatures[0].sub_filter, "adbe.pkcs7.detached");
        }
    }
}

#[test]
fn a_certification_forbidding_changes_is_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let input = work.path().join("p1.pdf");
    std::fs::write(&input, segel_tests::fixtures::certified_no_changes()).expect("write");
    let out = work.path().join("out.pdf");
    let err = offline::sign_file(
        &input,
        &out,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .expect_err("refused");
    assert!(err.to_string().contains("DocMDP /P 1"), "{err}");
    assert!(!out.exists());
}
