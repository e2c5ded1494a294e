//! The `segel` binary: exit codes, messages, and that nothing is written on failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn segel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segel"))
        .args(args)
        .output()
        .expect("runs segel")
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The development PKI, from its generator crate.
fn pki(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    certs
}

#[test]
fn sign_then_verify_exit_codes_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = pki(dir.path());
    let out = dir.path().join("signed.pdf");
    let o = segel(&[
        "sign",
        s(&corpus("surat-rekomendasi.pdf")),
        "-o",
        s(&out),
        "--agency-key",
        s(&certs.join("dev-agency.key")),
        "--agency-cert",
        s(&certs.join("dev-agency.pem")),
        "--agency-chain",
        s(&certs.join("dev-agency-chain.pem")),
        "--reason",
        "Rekomendasi disetujui",
        "--field",
        "Stempel",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let root = certs.join("doc-root.pem");
    let o = segel(&["verify", s(&out), "--trust", s(&root)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let first = text.lines().next().expect("a line");
    assert!(first.starts_with("#1 Stempel: TOTAL-PASSED"), "{first}");
    let o = segel(&["verify", s(&out), "--trust", s(&root), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["all_passed"], true);
    assert_eq!(v["signatures"][0]["indication"], "TOTAL-PASSED");
    assert_eq!(v["signatures"][0]["field"], "Stempel");

    // Untrusted root: 1, INDETERMINATE.
    let o = segel(&[
        "verify",
        s(&out),
        "--trust",
        s(&corpus("other-ca-root.pem")),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["signatures"][0]["indication"], "INDETERMINATE");
    assert_eq!(
        v["signatures"][0]["sub_indication"],
        "NO_CERTIFICATE_CHAIN_FOUND"
    );

    // No signature at all: 1.
    let o = segel(&[
        "verify",
        s(&corpus("reportlab-1page.pdf")),
        "--trust",
        s(&root),
    ]);
    assert_eq!(o.status.code(), Some(1));

    // Unreadable input or usage error: 2.
    let o = segel(&[
        "verify",
        s(&dir.path().join("missing.pdf")),
        "--trust",
        s(&root),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = segel(&[
        "verify",
        s(&corpus("bad/gateway-error.pdf")),
        "--trust",
        s(&root),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no %PDF- header"));
    let o = segel(&["verify"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_refused_document_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = pki(dir.path());
    let out = dir.path().join("out.pdf");
    let o = segel(&[
        "sign",
        s(&corpus("bad/password-protected.pdf")),
        "-o",
        s(&out),
        "--agency-key",
        s(&certs.join("dev-agency.key")),
        "--agency-cert",
        s(&certs.join("dev-agency.pem")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("encrypted"));
    assert!(!out.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("certs")],
        "temporary files left behind"
    );
    // A missing key file is unreadable input: 2.
    let o = segel(&[
        "sign",
        s(&corpus("reportlab-1page.pdf")),
        "-o",
        s(&out),
        "--agency-key",
        s(&dir.path().join("nope.key")),
        "--agency-cert",
        s(&certs.join("dev-agency.pem")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn verify_without_a_server_points_to_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Command::new(env!("CARGO_BIN_EXE_segel"))
        .arg("verify")
        .arg(corpus("reportlab-1page.pdf"))
        .env_remove("SEGEL_SERVER")
        .env_remove("SEGEL_CONFIG")
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .expect("runs segel");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--server URL") && err.contains("--trust ROOTS"),
        "{err}"
    );
}
