//! Batches through the `segel` CLI and the library against a real server: a 300-file batch with
//! bad files mixed in, resuming after Ctrl-C and after SIGKILL without duplicate log entries, a
//! digest-only rerun that lost its signing time, digest-only signing of a 100 MB file and many
//! jobs over large scans within the memory budget.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use segel_client::online::{Client, SignRequest};
use segel_tests::{corpus, manifest, openssl_check, pdfsig_check, pyhanko_check, qpdf_check};

use crate::client::{cli, log_size, output, settings, text};
use crate::grpc::{start, TestServer};

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
    let mut index_of = std::collections::HashMap::new();
    for f in files {
        let name = f["file"].as_str().expect("file");
        if f["status"] == "signed" {
            let index = f["log_index"].as_u64().expect("index");
            assert!(indexes.insert(index));
            index_of.insert(name.to_string(), index);
            assert_eq!(f["signed_in"], "this run", "{f}");
            assert!(
                f["logged_at"].as_str().is_some_and(|t| t.ends_with('Z')),
                "{f}"
            );
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
    // Each skipped file keeps the log entry the first run logged, looked up in the log, and
    // says it was signed in an earlier run (the corpus' names hold no commas).
    assert!(
        csv.starts_with("file,output,status,log_index,logged_at,signed_in,"),
        "{csv}"
    );
    for line in csv.lines().filter(|l| l.contains(",skipped,")) {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(
            cols[3].parse::<u64>().ok(),
            index_of.get(cols[0]).copied(),
            "{line}"
        );
        assert!(cols[4].ends_with('Z'), "{line}");
        assert_eq!(cols[5], "earlier run", "{line}");
    }
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
        // Ctrl-C: the files in flight finish, nothing partial is left; the files never
        // started are `not started`, not failed: exit 130 unless a file reached failed (1).
        let o = interrupt_batch(batch(), &outdir, 40, "-INT").await;
        let t = text(&o);
        assert!(t.contains("interrupted"), "{t}");
        let failed_none = t.contains(" 0 failed,");
        assert_eq!(
            o.status.code(),
            Some(if failed_none { 130 } else { 1 }),
            "{t}"
        );
        assert!(!t.contains(" 0 not started"), "{t}");
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
            t.contains(" 0 not started of 300 files")
                && t.contains(&format!(" {} failed,", bad.len())),
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
