//! The client library and the `segel` CLI against a real server over mutual TLS: online
//! sign/verify/log, a 300-file batch with bad files mixed in, resuming after Ctrl-C and after
//! SIGKILL without duplicate log entries, digest-only signing of a 100 MB file with bounded
//! memory; and a fake server whose tampered checkpoints and proofs the client refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use segel_client::online::{Client, SignRequest};
use segel_client::settings::Settings;
use segel_client::ClientError;
use segel_proto::v1 as pb;
use segel_proto::v1::log_client::LogClient;
use segel_tests::{corpus, manifest, openssl_check, pdfsig_check, pki, pyhanko_check, qpdf_check};
use tonic::{Request, Response, Status};

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

/// 300 files in three folders: the corpus' good files, unique synthetic letters, and 15 bad
/// files (the corpus' bad ones, three copies each). Returns (good, bad) relative paths.
fn batch_input(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for sub in ["a", "b/c", "d"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    for (f, expect) in manifest() {
        let src = corpus().join(&f);
        let name = Path::new(&f).file_name().expect("name").to_owned();
        if expect == "sign" {
            let rel = Path::new("a").join(&name);
            std::fs::copy(&src, dir.join(&rel)).expect("copy");
            good.push(rel);
        } else if expect == "reject" {
            for sub in ["a", "b/c", "d"] {
                let rel = Path::new(sub).join(format!("bad-{}", name.to_string_lossy()));
                std::fs::copy(&src, dir.join(&rel)).expect("copy");
                bad.push(rel);
            }
        }
    }
    let mut i = 0;
    while good.len() + bad.len() < 300 {
        let sub = ["b/c", "d"][i % 2];
        let rel = Path::new(sub).join(format!("surat-{i:03}.PDF"));
        std::fs::write(
            dir.join(&rel),
            pades::testing::synthetic_pdf(1 + i % 3, 3000 + 97 * i),
        )
        .expect("write");
        good.push(rel);
        i += 1;
    }
    (good, bad)
}

fn no_temporary_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let n = p.file_name().expect("name").to_string_lossy().to_string();
                assert!(!n.ends_with(".tmp"), "partial output left: {}", p.display());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_300_files_with_bad_ones_then_a_rerun_that_skips() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir, state) = (
        work.path().join("in"),
        work.path().join("out"),
        work.path().join("state"),
    );
    let (good, bad) = batch_input(&input);
    assert_eq!(good.len() + bad.len(), 300);
    let report = work.path().join("report.json");
    let mut c = cli(&server, &state);
    c.args(["batch", "--agency", "dev", "--jobs", "16", "--report"])
        .arg(&report)
        .arg(&input)
        .arg(&outdir);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let files = r["files"].as_array().expect("files");
    let failures: Vec<String> = files
        .iter()
        .filter(|f| f["status"] != "signed")
        .map(|f| format!("{}: {}", f["file"], f["reason"]))
        .collect();
    assert_eq!(r["signed"], good.len(), "{failures:#?}");
    assert_eq!(r["failed"], bad.len());
    assert_eq!(files.len(), 300);
    let mut indexes = std::collections::BTreeSet::new();
    for f in files {
        let name = f["file"].as_str().expect("file");
        if f["status"] == "signed" {
            assert!(indexes.insert(f["log_index"].as_u64().expect("index")));
        } else {
            assert_eq!(f["status"], "failed", "{f}");
            assert!(name.contains("bad-"), "{name} failed: {f}");
            let reason = f["reason"].as_str().expect("reason");
            let expected = [
                ("zero-bytes", "empty"),
                ("gateway-error", "no %PDF- header"),
                ("truncated-download", "no startxref"),
                ("password-protected", "encrypted"),
                ("pages-cycle", "page tree loops"),
            ]
            .iter()
            .find(|(k, _)| name.contains(k))
            .map(|(_, v)| *v)
            .expect("a known bad file");
            assert!(reason.contains(expected), "{name}: {reason}");
        }
    }
    // One entry per signed file, nothing else.
    assert_eq!(indexes.len(), good.len());
    assert_eq!(log_size(&server).await, good.len() as u64);
    no_temporary_files(&outdir);
    // The judges: every output for pdfsig and qpdf, a sample for openssl and pyHanko.
    for (i, rel) in good.iter().enumerate() {
        let out = outdir.join(rel);
        let original = std::fs::read(input.join(rel)).expect("input");
        let signed = std::fs::read(&out).expect("output");
        assert!(signed.starts_with(&original), "{}", rel.display());
        let expected = if rel.to_string_lossy().contains("signed-other-ca") {
            2
        } else {
            1
        };
        pdfsig_check(&out, expected).unwrap_or_else(|e| panic!("{e:#}"));
        qpdf_check(&out).unwrap_or_else(|e| panic!("{e:#}"));
        if i % 60 == 0 {
            openssl_check(&out, work.path()).unwrap_or_else(|e| panic!("{e:#}"));
            pyhanko_check(&out, expected).unwrap_or_else(|e| panic!("{e:#}"));
        }
    }
    // A rerun skips every signed file and logs nothing new; CSV report this time.
    let csv = work.path().join("report.csv");
    let mut c = cli(&server, &state);
    c.args(["batch", "--agency", "dev", "--jobs", "16", "--report"])
        .arg(&csv)
        .arg(&input)
        .arg(&outdir);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let csv = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(
        csv.lines().filter(|l| l.contains(",skipped,")).count(),
        good.len()
    );
    assert_eq!(
        csv.lines().filter(|l| l.contains(",failed,")).count(),
        bad.len()
    );
    assert_eq!(log_size(&server).await, good.len() as u64);
    // Inputs untouched.
    for rel in &good {
        assert!(!std::fs::read(input.join(rel)).expect("input").is_empty());
    }
    server.stop().await;
}

/// Start a batch, wait until `at_least` outputs exist, then send `signal`.
async fn interrupt_batch(mut c: Command, outdir: &Path, at_least: usize, signal: &str) -> Output {
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn segel");
    let pid = child.id().to_string();
    let outdir = outdir.to_path_buf();
    let signal = signal.to_string();
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let n = count_pdfs(&outdir);
            if n >= at_least || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = Command::new("kill").args([&signal, &pid]).status();
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join")
}

fn count_pdfs(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("pdf")) {
                n += 1;
            }
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_batch_resumes_without_duplicate_entries() {
    for digest_only in [false, true] {
        let server = start(8 * 1024 * 1024).await;
        let work = tempfile::tempdir().expect("tempdir");
        let (input, outdir, state) = (
            work.path().join("in"),
            work.path().join("out"),
            work.path().join("state"),
        );
        let (good, bad) = batch_input(&input);
        let batch = || {
            let mut c = cli(&server, &state);
            c.args(["batch", "--agency", "dev", "--jobs", "4"]);
            if digest_only {
                c.arg("--digest-only");
            }
            c.arg(&input).arg(&outdir);
            c
        };
        // Ctrl-C: the files in flight finish, nothing partial is left, exit 1.
        let o = interrupt_batch(batch(), &outdir, 40, "-INT").await;
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("interrupted"), "{}", text(&o));
        no_temporary_files(&outdir);
        let after_int = count_pdfs(&outdir);
        assert!(after_int < good.len(), "the batch was not interrupted");
        // SIGKILL: no chance to clean up.
        let o = interrupt_batch(batch(), &outdir, after_int + 40, "-KILL").await;
        assert_eq!(o.status.code(), None, "{}", text(&o));
        // The rerun completes; every good file has exactly one entry.
        let o = output(batch()).await;
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("failed of 300 files") && t.contains(&format!(" {} failed", bad.len())),
            "{t}"
        );
        assert_eq!(
            log_size(&server).await,
            good.len() as u64,
            "digest_only {digest_only}: duplicate or missing log entries"
        );
        no_temporary_files(&outdir);
        for rel in &good {
            let out = outdir.join(rel);
            let expected = if rel.to_string_lossy().contains("signed-other-ca") {
                2
            } else {
                1
            };
            pdfsig_check(&out, expected).unwrap_or_else(|e| panic!("{e:#}"));
        }
        server.stop().await;
    }
}

/// A digest-only request that reached the server, whose file was then lost (a crash before
/// the output was written): the rerun prepares the file at another time, is told the first
/// one, prepares the same bytes again and gets the same entry back, with no second entry. A
/// named time far from when its entry was logged (a server backdating the file) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_rerun_that_lost_its_signing_time_gets_the_same_entry() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    std::fs::create_dir_all(&input).expect("mkdir");
    let client = Arc::new(
        Client::connect(&settings(&server, &work.path().join("state")))
            .await
            .expect("connect"),
    );
    let agencies = client.agencies().await.expect("agencies");
    let capacity =
        segel_client::batch::cms_capacity(agencies.iter().find(|a| a.id == "dev").expect("dev"));
    // First attempts, as the batch would have made them, prepared `ago` seconds before now
    // (and logged now): the signed bytes they lead to, and their log index.
    let first_attempt = |name: &'static str, ago: i64| {
        let (client, input, outdir) = (client.clone(), input.clone(), outdir.clone());
        async move {
            let pdf = std::fs::read(corpus().join("gs-ps2pdf.pdf")).expect("corpus");
            std::fs::write(input.join(name), &pdf).expect("write");
            let time = pades::UnixTime::now().0 - ago;
            let prepared = pades::prepare(
                &pdf,
                &pades::SignatureRequest::new(pades::UnixTime(time)),
                capacity,
            )
            .expect("prepare");
            let mut req = SignRequest::new("dev");
            req.request_id = segel_client::batch::request_id(
                "dev",
                Path::new(name),
                &pades::sha256(&pdf),
                Some(&outdir),
            );
            let sealed = client
                .sign_digest(&req, prepared.digest(), time)
                .await
                .expect("first attempt");
            let signed = prepared.embed(&sealed.cms).expect("embed").to_vec();
            (signed, sealed.entry.index)
        }
    };
    let (signed, index) = first_attempt("surat.pdf", 60).await;
    let _ = first_attempt("mundur.pdf", 3600).await;
    assert_eq!(log_size(&server).await, 2);
    // The rerun: the first file signed with its first attempt's entry; the second refused.
    let mut opts = segel_client::batch::BatchOptions::new("dev", &input, &outdir);
    opts.digest_only = true;
    let summary = segel_client::batch::run(
        client.clone(),
        opts,
        Arc::new(|_: &segel_client::batch::FileResult, _: usize| {}),
        std::future::pending::<()>(),
    )
    .await
    .expect("batch");
    let outcome = |name: &str| {
        summary
            .files
            .iter()
            .find(|f| f.file == Path::new(name))
            .map(|f| f.outcome.clone())
            .expect("a result")
    };
    assert!(
        matches!(outcome("surat.pdf"), segel_client::batch::Outcome::Signed { log_index } if log_index == index),
        "{:?}",
        outcome("surat.pdf")
    );
    assert!(
        matches!(&outcome("mundur.pdf"), segel_client::batch::Outcome::Failed { reason } if reason.contains("logged at")),
        "{:?}",
        outcome("mundur.pdf")
    );
    assert_eq!(log_size(&server).await, 2);
    // The output is the file as first prepared, with the first attempt's CMS; no output for
    // the refused one.
    assert_eq!(
        std::fs::read(outdir.join("surat.pdf")).expect("output"),
        signed
    );
    assert!(!outdir.join("mundur.pdf").exists());
    pdfsig_check(&outdir.join("surat.pdf"), 1).unwrap_or_else(|e| panic!("{e:#}"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_only_signs_100_mb_with_bounded_memory() {
    // The server takes documents of at most 4 MB: the 100 MB file can only go by digest.
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir, state) = (
        work.path().join("in"),
        work.path().join("out"),
        work.path().join("state"),
    );
    std::fs::create_dir_all(&input).expect("mkdir");
    let big = input.join("scan-100mb.pdf");
    std::fs::write(&big, pades::testing::synthetic_pdf(3, 100 * 1024 * 1024)).expect("write");
    let size = std::fs::metadata(&big).expect("meta").len();
    // Whole: refused for its size.
    let mut c = cli(&server, &state);
    c.args(["sign", "--agency", "dev"])
        .arg(&big)
        .arg("-o")
        .arg(work.path().join("whole.pdf"));
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("ResourceExhausted"), "{}", text(&o));
    // By digest, under python's getrusage for the child's peak memory.
    let peak = batch_peak_rss(&server, &state, &["--digest-only"], &input, &outdir).await;
    eprintln!(
        "digest-only, {size} bytes: peak RSS {peak} bytes ({:.2}× the file)",
        peak as f64 / size as f64
    );
    assert!(
        peak < size + size / 2,
        "peak RSS {peak} for a {size}-byte file: more than 1.5× the file"
    );
    let out = outdir.join("scan-100mb.pdf");
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    qpdf_check(&out).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(log_size(&server).await, 1);
    server.stop().await;
}

/// Run `segel batch --agency dev EXTRA… INPUT OUTPUT` against `server`, under python's
/// getrusage for the child's peak memory; it must exit 0. The peak resident set, in bytes.
async fn batch_peak_rss(
    server: &TestServer,
    state: &Path,
    extra: &[&str],
    input: &Path,
    outdir: &Path,
) -> u64 {
    let c = cli(server, state);
    let mut args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.extend(["batch", "--agency", "dev"].iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(input.display().to_string());
    args.push(outdir.display().to_string());
    let mut py = Command::new("python3");
    py.arg("-c")
        .arg(
            "import resource, subprocess, sys\n\
             r = subprocess.run(sys.argv[1:])\n\
             print('maxrss_kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
             sys.exit(r.returncode)",
        )
        .arg(segel_tests::segel_bin())
        .args(&args);
    let o = output(py).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let kb: u64 = text(&o)
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb "))
        .and_then(|v| v.trim().parse().ok())
        .expect("maxrss");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_jobs_over_large_scans_stay_within_the_memory_budget() {
    // Four 24 MB scans, 16 jobs, a budget of 32 MiB of inputs: one scan in memory at a time.
    // Without the budget all four are read at once (~100 MB).
    let server = start(64 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, state) = (work.path().join("in"), work.path().join("state"));
    std::fs::create_dir_all(&input).expect("mkdir");
    let size = 24 * 1024 * 1024;
    for i in 0..4 {
        std::fs::write(
            input.join(format!("scan-{i}.pdf")),
            pades::testing::synthetic_pdf(1, size + i),
        )
        .expect("write");
    }
    for (mode, outdir) in [
        (&["--digest-only"][..], work.path().join("out-digest")),
        (&[][..], work.path().join("out-whole")),
    ] {
        let mut extra = vec!["--jobs", "16", "--memory-mib", "32"];
        extra.extend_from_slice(mode);
        let peak = batch_peak_rss(&server, &state, &extra, &input, &outdir).await;
        eprintln!(
            "{mode:?}: four {size}-byte scans, --jobs 16 --memory-mib 32: peak RSS {peak} bytes ({:.2}× one scan)",
            peak as f64 / size as f64
        );
        assert!(
            peak < 3 * size as u64,
            "{mode:?}: peak RSS {peak} for four {size}-byte scans under a 32 MiB budget: more than 3× one scan"
        );
        for i in 0..4 {
            pdfsig_check(&outdir.join(format!("scan-{i}.pdf")), 1)
                .unwrap_or_else(|e| panic!("{e:#}"));
        }
    }
    assert_eq!(log_size(&server).await, 8);
    server.stop().await;
}

// ---- A fake server: validly signed by its own key, lying about its tree. ----

#[derive(Clone)]
struct Fake {
    signer: Arc<tlog::NoteSigner>,
    /// Checkpoints handed out by GetCheckpoint, in turn (the last one repeats).
    checkpoints: Arc<Mutex<Vec<pb::Checkpoint>>>,
    /// The consistency proof it gives, whatever is asked.
    consistency: Vec<Vec<u8>>,
    /// SignPdf's answer: (entry, checkpoint note, inclusion proof hashes, tree size).
    signed: Option<(pb::LogEntry, String, Vec<Vec<u8>>, u64)>,
    /// SignPdf's answers in turn, before `signed` (their `signed_pdf` is filled in).
    answers: Arc<Mutex<Vec<pb::SignPdfResponse>>>,
}

impl Fake {
    fn note(&self, size: u64, root: tlog::Hash) -> String {
        let cp = tlog::Checkpoint {
            origin: self.signer.verifier().name().to_string(),
            size,
            root,
            extensions: Vec::new(),
        };
        self.signer.sign(&cp.to_text()).expect("sign note")
    }
    fn cp(&self, note: String) -> pb::Checkpoint {
        pb::Checkpoint {
            note,
            verifier_key: self.signer.verifier().to_vkey(),
        }
    }
}

#[tonic::async_trait]
impl pb::log_server::Log for Fake {
    async fn get_checkpoint(
        &self,
        _: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        let mut q = self.checkpoints.lock().expect("lock");
        let cp = if q.len() > 1 {
            q.remove(0)
        } else {
            q[0].clone()
        };
        Ok(Response::new(cp))
    }
    async fn get_entry(
        &self,
        _: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn get_inclusion_proof(
        &self,
        _: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn get_consistency_proof(
        &self,
        r: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let r = r.into_inner();
        Ok(Response::new(pb::ConsistencyProof {
            old_size: r.old_size,
            new_size: r.new_size,
            hashes: self.consistency.clone(),
        }))
    }
}

type Chunks = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<pb::SignPdfStreamResponse, Status>> + Send>,
>;

#[tonic::async_trait]
impl pb::signer_server::Signer for Fake {
    async fn sign_pdf(
        &self,
        r: Request<pb::SignPdfRequest>,
    ) -> Result<Response<pb::SignPdfResponse>, Status> {
        let mut pdf = r.into_inner().pdf.to_vec();
        pdf.extend_from_slice(b"\n% fake update\n");
        {
            let mut q = self.answers.lock().expect("lock");
            if !q.is_empty() {
                let mut a = q.remove(0);
                a.signed_pdf = pdf.into();
                return Ok(Response::new(a));
            }
        }
        let (entry, note, hashes, size) = self.signed.clone().ok_or(Status::internal("no"))?;
        // As a server from before `update_only`: the whole signed PDF, whatever was asked.
        Ok(Response::new(pb::SignPdfResponse {
            signed_pdf: pdf.into(),
            update: Default::default(),
            inclusion_proof: Some(pb::InclusionProof {
                leaf_index: entry.index,
                tree_size: size,
                hashes,
            }),
            entry: Some(entry),
            checkpoint: Some(self.cp(note)),
            consistency_proof: None,
        }))
    }
    type SignPdfStreamStream = Chunks;
    async fn sign_pdf_stream(
        &self,
        _: Request<tonic::Streaming<pb::SignPdfStreamRequest>>,
    ) -> Result<Response<Chunks>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn sign_digest(
        &self,
        _: Request<pb::SignDigestRequest>,
    ) -> Result<Response<pb::SignDigestResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn list_agencies(
        &self,
        _: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        Ok(Response::new(pb::ListAgenciesResponse::default()))
    }
}

/// Serve `fake` over TLS with the development server certificate; returns its port.
async fn serve_fake(fake: Fake) -> u16 {
    use tonic::transport::{Identity, Server, ServerTlsConfig};
    let p = pki();
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(
        std::fs::read(p.file("server.pem")).expect("cert"),
        std::fs::read(p.file("server.key")).expect("key"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = Server::builder()
            .tls_config(tls)
            .expect("tls")
            .add_service(pb::log_server::LogServer::new(fake.clone()))
            .add_service(pb::signer_server::SignerServer::new(fake))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    port
}

/// The size of the newest checkpoint `client` has accepted.
async fn newest_size(client: &Client) -> u64 {
    client
        .view()
        .await
        .newest()
        .expect("newest")
        .checkpoint
        .size
}

/// A refusal for a consistency proof from size 2 to size 3 that does not check out.
fn inconsistent_2_to_3(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Log {
            source: segel_client::logcheck::LogCheckError::Inconsistent { old: 2, new: 3, .. },
            ..
        }
    )
}

fn record(index: u64, pdf: &[u8]) -> Vec<u8> {
    tlog::LogEntry {
        index,
        time_ms: 1_796_000_000_000,
        agency: "dev".into(),
        certificate_sha256: [1; 32],
        caller: "CN=siola-dev".into(),
        message_digest: [2; 32],
        signature_sha256: [3; 32],
        document_sha256: pades::sha256(pdf),
        document_source: tlog::DocumentSource::Server,
        document_ref: None,
        document_ref_hmac: None,
    }
    .encode()
    .expect("record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_server_is_caught_by_the_client() {
    let (signer, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let signer = Arc::new(signer);
    let work = tempfile::tempdir().expect("tempdir");
    let leaf = |b: &[u8]| tlog::leaf_hash(b);
    let (a0, a1) = (leaf(b"a0"), leaf(b"a1"));
    let (b0, b1, b2) = (leaf(b"b0"), leaf(b"b1"), leaf(b"b2"));
    let root_a = tlog::node_hash(&a0, &a1);
    let root_b = tlog::node_hash(&tlog::node_hash(&b0, &b1), &b2);
    let base = Fake {
        signer: signer.clone(),
        checkpoints: Arc::new(Mutex::new(Vec::new())),
        consistency: vec![b2.to_vec()],
        signed: None,
        answers: Arc::new(Mutex::new(Vec::new())),
    };
    let connect = |port: u16, state: &str| {
        let p = pki();
        let s = Settings {
            server: Some(format!("https://localhost:{port}")),
            ca: Some(p.file("tls-ca.pem")),
            cert: Some(p.file("client.pem")),
            key: Some(p.file("client.key")),
            log_key: Some(signer.verifier().to_vkey()),
            state: Some(work.path().join(state)),
        };
        async move { Client::connect(&s).await }
    };
    // 1. A history rewritten: size 2 (tree A), then size 3 of another tree (B), with B's own
    //    consistency proof: refused.
    let fake = base.clone();
    *fake.checkpoints.lock().expect("lock") =
        vec![fake.cp(fake.note(2, root_a)), fake.cp(fake.note(3, root_b))];
    let port = serve_fake(fake).await;
    let client = connect(port, "s1").await.expect("first checkpoint is fine");
    let e = client.checkpoint().await.expect_err("rewritten history");
    assert!(inconsistent_2_to_3(&e), "{e}");
    // The newest accepted checkpoint stays the first one, in memory and on disk: a new
    // client with the same state refuses tree B too.
    assert_eq!(newest_size(&client).await, 2);
    let e = connect(port, "s1")
        .await
        .expect_err("remembered across runs");
    assert!(
        e.to_string().contains("consistency from size 2 to 3"),
        "{e}"
    );

    // 2. Two trees of the same size shown in turn: a fork.
    let fake = base.clone();
    let other = tlog::node_hash(&b0, &b1);
    *fake.checkpoints.lock().expect("lock") =
        vec![fake.cp(fake.note(2, root_a)), fake.cp(fake.note(2, other))];
    let port = serve_fake(fake).await;
    let client = connect(port, "s2").await.expect("first");
    let e = client.checkpoint().await.expect_err("fork");
    assert!(e.to_string().contains("forked"), "{e}");

    // 3. A checkpoint whose text was changed after signing.
    let fake = base.clone();
    let forged = fake.note(2, root_a).replacen("\n2\n", "\n5\n", 1);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(forged)];
    let port = serve_fake(fake).await;
    let e = connect(port, "s3").await.expect_err("forged note");
    assert!(e.to_string().contains("checkpoint"), "{e}");

    // 4. A signing answer whose inclusion proof was tampered with: refused; and one whose
    //    entry does not hash the returned PDF: refused.
    let input = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let mut signed_pdf = input.clone();
    signed_pdf.extend_from_slice(b"\n% fake update\n");
    let rec = record(1, &signed_pdf);
    let l0 = leaf(b"earlier entry");
    let l1 = tlog::leaf_hash(&rec);
    let root = tlog::node_hash(&l0, &l1);
    let entry = pb::LogEntry {
        index: 1,
        leaf_hash: l1.to_vec(),
        record: rec,
    };
    for (hashes, what) in [
        (vec![l0.to_vec()], "honest"),
        (vec![leaf(b"tampered").to_vec()], "tampered proof"),
    ] {
        let mut fake = base.clone();
        let note = fake.note(2, root);
        *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note.clone())];
        fake.signed = Some((entry.clone(), note, hashes, 2));
        let port = serve_fake(fake).await;
        let client = connect(port, &format!("s4-{what}")).await.expect("connect");
        let r = client
            .sign_pdf(&SignRequest::new("dev"), input.clone().into())
            .await;
        match what {
            "honest" => {
                let sealed = r.expect("an honest answer is accepted");
                assert_eq!(sealed.entry.index, 1);
            }
            _ => {
                let e = r.expect_err(what);
                assert!(e.to_string().contains("inclusion proof"), "{what}: {e}");
            }
        }
    }
    let mut fake = base.clone();
    let wrong = record(1, b"another document");
    let lw = tlog::leaf_hash(&wrong);
    let root_w = tlog::node_hash(&l0, &lw);
    let note = fake.note(2, root_w);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note.clone())];
    fake.signed = Some((
        pb::LogEntry {
            index: 1,
            leaf_hash: lw.to_vec(),
            record: wrong,
        },
        note,
        vec![l0.to_vec()],
        2,
    ));
    let port = serve_fake(fake).await;
    let client = connect(port, "s5").await.expect("connect");
    let e = client
        .sign_pdf(&SignRequest::new("dev"), input.into())
        .await
        .expect_err("entry for another document");
    assert!(
        e.to_string().contains("does not hash the signed PDF"),
        "{e}"
    );

    // 5. A server presenting another log key than the pinned one.
    let (other_signer, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let mut fake = base.clone();
    fake.signer = Arc::new(other_signer);
    let note = fake.note(2, root_a);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note)];
    let port = serve_fake(fake).await;
    let e = connect(port, "s6").await.expect_err("other key");
    assert!(e.to_string().contains("log key"), "{e}");

    // 6. Trusted on first use (no pinned key): the key is kept per server, and the same
    //    server later presenting another key is refused, saying where the trusted key is kept.
    let (second, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let fake = base.clone();
    let mut by_second = base.clone();
    by_second.signer = Arc::new(second);
    *fake.checkpoints.lock().expect("lock") = vec![
        fake.cp(fake.note(2, root_a)),
        by_second.cp(by_second.note(2, root_a)),
    ];
    let port = serve_fake(fake).await;
    let p = pki();
    let tofu = Settings {
        server: Some(format!("https://localhost:{port}")),
        ca: Some(p.file("tls-ca.pem")),
        cert: None,
        key: None,
        log_key: None,
        state: Some(work.path().join("s7")),
    };
    let first = Client::connect(&tofu).await.expect("first use");
    assert_eq!(
        first.view().await.verifier_key(),
        signer.verifier().to_vkey()
    );
    drop(first);
    let e = Client::connect(&tofu).await.expect_err("key changed");
    assert!(e.to_string().contains("trusted on first use"), "{e}");

    // 7. Consistency proofs carried by signing answers (from the log's previous checkpoint):
    //    used instead of a request when they link the sizes needed, kept for an older
    //    checkpoint arriving later, and checked like fetched ones. Tree: L0, L1 (entry 1),
    //    L2 (entry 2).
    let signed_input = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let mut out = signed_input.clone();
    out.extend_from_slice(b"\n% fake update\n");
    let (rec1, rec2) = (record(1, &out), record(2, &out));
    let (l0, l1, l2) = (
        leaf(b"earlier entry"),
        tlog::leaf_hash(&rec1),
        tlog::leaf_hash(&rec2),
    );
    let h01 = tlog::node_hash(&l0, &l1);
    let root3 = tlog::node_hash(&h01, &l2);
    let consistency = |old: u64, new: u64, hashes: &[tlog::Hash]| pb::ConsistencyProof {
        old_size: old,
        new_size: new,
        hashes: hashes.iter().map(|h| h.to_vec()).collect(),
    };
    let answer =
        |fake: &Fake, index: u64, rec: &[u8], size: u64, root, path: &[tlog::Hash], offered| {
            pb::SignPdfResponse {
                signed_pdf: Default::default(),
                update: Default::default(),
                entry: Some(pb::LogEntry {
                    index,
                    leaf_hash: tlog::leaf_hash(rec).to_vec(),
                    record: rec.to_vec(),
                }),
                checkpoint: Some(fake.cp(fake.note(size, root))),
                inclusion_proof: Some(pb::InclusionProof {
                    leaf_index: index,
                    tree_size: size,
                    hashes: path.iter().map(|h| h.to_vec()).collect(),
                }),
                consistency_proof: offered,
            }
        };
    // Entry 2 with checkpoint 3, carrying `path` as its proof from size 2.
    let answer2 = |fake: &Fake, path: tlog::Hash| {
        answer(
            fake,
            2,
            &rec2,
            3,
            root3,
            &[h01],
            Some(consistency(2, 3, &[path])),
        )
    };
    // The client knows size 1. Entry 2 comes with checkpoint 3 and the proof 2 → 3 (not the
    // 1 → 3 needed: fetched, honestly); then entry 1 with the older checkpoint 2, linked to 3
    // through the kept proof 2 → 3, with no request.
    let mut fake = base.clone();
    fake.consistency = vec![l1.to_vec(), l2.to_vec()];
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(1, l0))];
    *fake.answers.lock().expect("lock") = vec![
        answer2(&fake, l2),
        answer(
            &fake,
            1,
            &rec1,
            2,
            h01,
            &[l0],
            Some(consistency(1, 2, &[l1])),
        ),
    ];
    let port = serve_fake(fake).await;
    let client = connect(port, "s8").await.expect("connect");
    for index in [2, 1] {
        let sealed = client
            .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
            .await
            .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        assert_eq!(sealed.entry.index, index);
    }
    assert_eq!(client.consistency_proofs_fetched(), 1);
    assert_eq!(newest_size(&client).await, 3);
    // The client knows size 2: the carried proof 2 → 3 is used (the fake's own answer to a
    // request would not check out), and a tampered one is refused.
    for (path, what) in [(l2, "carried"), (leaf(b"tampered"), "tampered")] {
        let fake = base.clone();
        *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(2, h01))];
        *fake.answers.lock().expect("lock") = vec![answer2(&fake, path)];
        let port = serve_fake(fake).await;
        let client = connect(port, &format!("s9-{what}")).await.expect("connect");
        let r = client
            .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
            .await;
        assert_eq!(client.consistency_proofs_fetched(), 0, "{what}");
        match what {
            "carried" => assert_eq!(r.expect(what).entry.index, 2),
            _ => {
                let e = r.expect_err(what);
                assert!(inconsistent_2_to_3(&e), "{e}");
            }
        }
    }
    // A kept proof cannot vouch for a fork: after checkpoint 3 (reached by a fetched proof
    // 1 → 3, carrying 2 → 3), a checkpoint of size 2 with another root is refused.
    let mut fake = base.clone();
    fake.consistency = vec![l1.to_vec(), l2.to_vec()];
    let forked = tlog::node_hash(&l0, &leaf(b"another entry 1"));
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(1, l0))];
    *fake.answers.lock().expect("lock") = vec![
        answer2(&fake, l2),
        answer(&fake, 1, &rec1, 2, forked, &[l0], None),
    ];
    let port = serve_fake(fake).await;
    let client = connect(port, "s10").await.expect("connect");
    client
        .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
        .await
        .expect("entry 2");
    let e = client
        .sign_pdf(&SignRequest::new("dev"), signed_input.into())
        .await
        .expect_err("fork at size 2");
    assert!(inconsistent_2_to_3(&e), "{e}");
}
