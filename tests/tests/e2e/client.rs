//! The client library and the `segel` CLI against a real server over mutual TLS: online
//! sign/verify/log, and the helpers the batch tests (`batch.rs`, `batch_outputs.rs`) share.

use std::path::Path;
use std::process::{Command, Output};

use segel_client::online::Client;
use segel_client::settings::Settings;
use segel_proto::v1 as pb;
use segel_proto::v1::log_client::LogClient;
use segel_tests::{corpus, pdfsig_check, pki, qpdf_check};

use crate::grpc::{start, TestServer};

/// The CLI, connected to `server` as the allowed client, keeping its state in `state`.
pub(crate) fn cli(server: &TestServer, state: &Path) -> Command {
    let p = pki();
    let mut c = Command::new(segel_tests::segel_bin());
    c.arg("--server")
        .arg(format!("https://localhost:{}", server.port))
        .arg("--ca")
        .arg(p.file("tls-ca.pem"))
        .arg("--client-cert")
        .arg(p.file("client.pem"))
        .arg("--client-key")
        .arg(p.file("client.key"))
        .arg("--state")
        .arg(state)
        .env_remove("SEGEL_SERVER")
        .env_remove("SEGEL_CONFIG");
    c
}

pub(crate) async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("runs segel"))
        .await
        .expect("join")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) async fn log_size(server: &TestServer) -> u64 {
    let cp = LogClient::new(server.channel(None).await)
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("checkpoint")
        .into_inner();
    let note = tlog::SignedNote::parse(&cp.note).expect("note");
    tlog::Checkpoint::parse(&note.text)
        .expect("checkpoint")
        .size
}

pub(crate) fn settings(server: &TestServer, state: &Path) -> Settings {
    let p = pki();
    Settings {
        server: Some(format!("https://localhost:{}", server.port)),
        ca: Some(p.file("tls-ca.pem")),
        cert: Some(p.file("client.pem")),
        key: Some(p.file("client.key")),
        log_key: None,
        state: Some(state.to_path_buf()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_sign_verify_and_log_commands() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("state");
    let out = work.path().join("signed.pdf");
    let mut c = cli(&server, &state);
    c.args(["sign", "--agency", "dev", "--reason", "Disetujui"])
        .arg(corpus().join("surat-rekomendasi.pdf"))
        .arg("-o")
        .arg(&out)
        .args(["--document-ref", "B-1/2026", "--request-id", "cli-1"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("log entry 0"), "{}", text(&o));
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    qpdf_check(&out).unwrap_or_else(|e| panic!("{e:#}"));
    // Online verification: passed, with the log entry proven.
    let mut c = cli(&server, &state);
    c.arg("verify").arg(&out).arg("--json");
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["overall"], "TOTAL-PASSED");
    assert_eq!(v["signatures"][0]["log_entry"]["index"], 0);
    // The reference is logged only as its keyed hash; the document hash is the server's.
    let logged = &v["signatures"][0]["log_entry"];
    assert!(logged["document_ref"].is_null(), "{logged}");
    assert_eq!(logged["document_ref_hmac"].as_str().map(str::len), Some(64));
    assert_eq!(logged["document_source"], "server");
    // The holder finds it by the reference.
    let mut c = cli(&server, &state);
    c.args(["log", "entry", "--document-ref", "B-1/2026"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(found[0]["index"], 0, "{found}");
    // A document signed elsewhere: not passed (untrusted), not in the log; exit 1.
    let mut c = cli(&server, &state);
    c.arg("verify").arg(corpus().join("signed-other-ca.pdf"));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not in this log"), "{}", text(&o));
    // log entry --file finds it; log proof + the offline check accept it.
    let mut c = cli(&server, &state);
    c.args(["log", "entry", "--file"]).arg(&out);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["index"], 0);
    let mut c = cli(&server, &state);
    c.args(["log", "proof", "0"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let proof_file = work.path().join("proof.json");
    std::fs::write(&proof_file, &o.stdout).expect("write");
    let key = Client::connect(&settings(&server, &state))
        .await
        .expect("connect")
        .view()
        .await
        .verifier_key();
    let check = |file: &Path| {
        let mut c = Command::new(segel_tests::segel_bin());
        c.args(["log", "check"]).arg(file).args(["--log-key", &key]);
        c
    };
    let o = output(check(&proof_file)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The same proof with a changed record is refused offline.
    let mut p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proof_file).expect("r")).expect("proof json");
    let rec = p["record"].as_str().expect("record").to_string();
    let flipped = if rec.starts_with('A') { "B" } else { "A" };
    p["record"] = serde_json::Value::String(format!("{flipped}{}", &rec[1..]));
    let bad = work.path().join("bad-proof.json");
    std::fs::write(&bad, serde_json::to_vec(&p).expect("json")).expect("write");
    let o = output(check(&bad)).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // log checkpoint prints the signed note.
    let mut c = cli(&server, &state);
    c.args(["log", "checkpoint"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\n1\n"));
    // One file by digest, with a request id: a retry gets the same entry (the server keeps the
    // signing time with the request id).
    let by_digest = work.path().join("digest.pdf");
    for _ in 0..2 {
        let mut c = cli(&server, &state);
        c.args([
            "sign",
            "--agency",
            "dev",
            "--digest-only",
            "--request-id",
            "d-1",
        ])
        .arg(corpus().join("gs-ps2pdf.pdf"))
        .arg("-o")
        .arg(&by_digest);
        let o = output(c).await;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("log entry 1 "), "{}", text(&o));
    }
    assert_eq!(log_size(&server).await, 2);
    pdfsig_check(&by_digest, 1).unwrap_or_else(|e| panic!("{e:#}"));
    // Without a client certificate signing is refused (1, the server's reason); a server
    // that is not there is a connection error (2) that says what to do.
    let p = pki();
    let mut c = Command::new(segel_tests::segel_bin());
    c.arg("--server")
        .arg(format!("https://localhost:{}", server.port))
        .arg("--ca")
        .arg(p.file("tls-ca.pem"))
        .arg("--state")
        .arg(&state)
        .args(["sign", "--agency", "dev"])
        .arg(corpus().join("surat-rekomendasi.pdf"))
        .arg("-o")
        .arg(work.path().join("x.pdf"));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Unauthenticated"), "{}", text(&o));
    assert!(!work.path().join("x.pdf").exists());
    let mut c = Command::new(segel_tests::segel_bin());
    c.args(["--server", "https://localhost:1", "--ca"])
        .arg(p.file("tls-ca.pem"))
        .arg("--state")
        .arg(&state)
        .args(["log", "checkpoint"]);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is the server running"), "{}", text(&o));
    // A document above the unary limit is streamed up; only its update comes back
    // (`update_only`), and the output is the input followed by it, valid for pdfsig.
    let big = work.path().join("big.pdf");
    let big_out = work.path().join("big-signed.pdf");
    let big_pdf = pades::testing::synthetic_pdf(2, 6 * 1024 * 1024);
    std::fs::write(&big, &big_pdf).expect("write");
    let mut c = cli(&server, &state);
    c.args(["sign", "--agency", "dev"])
        .arg(&big)
        .arg("-o")
        .arg(&big_out);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let signed = std::fs::read(&big_out).expect("output");
    assert!(signed.starts_with(&big_pdf) && signed.len() > big_pdf.len());
    pdfsig_check(&big_out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_with_an_agency_not_allowed_lists_the_allowed_ones_and_logs_nothing() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("state");
    let out = work.path().join("signed.pdf");
    let mut c = cli(&server, &state);
    c.args(["sign", "--agency", "kemenkeu"])
        .arg(corpus().join("surat-rekomendasi.pdf"))
        .arg("-o")
        .arg(&out);
    let o = output(c).await;
    // The command cannot run as given: a usage error, as in `segel batch`.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("may not seal for agency \"kemenkeu\"; it may for: dev"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    assert_eq!(log_size(&server).await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_ca_the_server_certificate_is_checked_against_the_system_roots() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let mut s = settings(&server, &work.path().join("state"));
    // The development server's certificate comes from a private CA, which no system trusts.
    s.ca = None;
    let e = Client::connect(&s)
        .await
        .expect_err("a private CA is not a system root");
    let m = e.to_string();
    assert!(e.is_connection(), "{m}");
    assert!(
        m.contains("system's root certificates") && m.contains("--ca"),
        "{m}"
    );
    server.stop().await;
}
