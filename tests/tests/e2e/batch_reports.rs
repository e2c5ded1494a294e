//! What a batch reports beyond signed and failed: files a stop left `not started`, and
//! per-document references given in a file, checked whole before anything is signed.

use std::path::Path;
use std::sync::Arc;

use segel_client::batch::{BatchOptions, DocumentRefs, FileResult, Outcome};
use segel_client::online::Client;
use segel_tests::corpus;

use crate::client::{cli, log_size, output, settings, text};
use crate::grpc::start;

/// `n` small distinct letters in `dir`, named `surat-0.pdf`, `surat-1.pdf`, …
fn letters(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for i in 0..n {
        std::fs::write(
            dir.join(format!("surat-{i}.pdf")),
            pades::testing::synthetic_pdf(1, 2000 + 31 * i),
        )
        .expect("write");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_a_stop_left_unstarted_are_not_started_not_failed() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    letters(&input, 8);
    let client = Arc::new(
        Client::connect(&settings(&server, &work.path().join("state")))
            .await
            .expect("connect"),
    );
    let mut opts = BatchOptions::new("dev", &input, &outdir);
    opts.jobs = 1;
    // Stopped at once: the file in flight finishes, no other starts.
    let summary = segel_client::batch::run(
        client,
        opts.clone(),
        Arc::new(|_: &FileResult, _: usize| {}),
        std::future::ready(()),
    )
    .await
    .expect("batch");
    assert!(summary.interrupted);
    assert_eq!(summary.failed(), 0, "{:?}", summary.files);
    assert!(summary.not_started() >= 1, "{:?}", summary.files);
    assert_eq!(summary.signed() + summary.not_started(), 8);
    assert_eq!(log_size(&server).await, summary.signed() as u64);
    let report: serde_json::Value = serde_json::from_str(&summary.to_json(&opts)).expect("json");
    assert_eq!(report["not_started"], summary.not_started());
    assert_eq!(report["failed"], 0);
    for f in report["files"].as_array().expect("files") {
        if f["status"] == "not started" {
            assert!(f["log_index"].is_null() && f["signed_in"].is_null(), "{f}");
            assert!(
                f["reason"].as_str().expect("reason").contains("rerun"),
                "{f}"
            );
        } else {
            assert_eq!(f["status"], "signed", "{f}");
        }
    }
    let csv = summary.to_csv();
    assert_eq!(
        csv.lines().filter(|l| l.contains(",not started,")).count(),
        summary.not_started()
    );
    for r in &summary.files {
        if r.outcome == Outcome::NotStarted {
            assert!(!outdir.join(&r.file).exists(), "{}", r.file.display());
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_references_from_a_file_are_logged_for_their_files() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir, state) = (
        work.path().join("in"),
        work.path().join("out"),
        work.path().join("state"),
    );
    letters(&input.join("keluar"), 2);
    std::fs::copy(
        corpus().join("surat-rekomendasi.pdf"),
        input.join("lampiran, 1.pdf"),
    )
    .expect("copy");
    let refs = work.path().join("refs.csv");
    std::fs::write(
        &refs,
        "file,document_ref\n\
         keluar/surat-0.pdf,B-17/2026\n\
         \"lampiran, 1.pdf\",B-17/2026\n\
         ./keluar/surat-1.pdf\tB-18/2026\n",
    )
    .expect("write");
    let report = work.path().join("report.json");
    let mut c = cli(&server, &state);
    c.args(["batch", "--agency", "dev", "--document-refs"])
        .arg(&refs)
        .arg("--report")
        .arg(&report)
        .arg(&input)
        .arg(&outdir);
    let o = output(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let index_of = |name: &str| {
        r["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["file"] == name)
            .and_then(|f| f["log_index"].as_u64())
            .unwrap_or_else(|| panic!("{name} in {r}"))
    };
    // The holder finds each file's entry by its reference; one reference may name several.
    let found = |reference: &'static str| {
        let mut c = cli(&server, &state);
        c.args(["log", "entry", "--document-ref", reference]);
        async move {
            let o = output(c).await;
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
            let mut indexes: Vec<u64> = v
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| e["index"].as_u64().expect("index"))
                .collect();
            indexes.sort_unstable();
            indexes
        }
    };
    let mut b17 = vec![index_of("keluar/surat-0.pdf"), index_of("lampiran, 1.pdf")];
    b17.sort_unstable();
    assert_eq!(found("B-17/2026").await, b17);
    assert_eq!(found("B-18/2026").await, [index_of("keluar/surat-1.pdf")]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_references_file_with_bad_lines_is_refused_whole_with_line_numbers() {
    let server = start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir, state) = (
        work.path().join("in"),
        work.path().join("out"),
        work.path().join("state"),
    );
    letters(&input, 3);
    let run = |refs: String| {
        let refs_file = work.path().join("refs.csv");
        std::fs::write(&refs_file, refs).expect("write");
        let mut c = cli(&server, &state);
        c.args(["batch", "--agency", "dev", "--document-refs"])
            .arg(&refs_file)
            .arg(&input)
            .arg(&outdir);
        output(c)
    };
    // Lines that are wrong in themselves: a path twice, a reference too long.
    let o = run(format!(
        "surat-0.pdf,B-1\nsurat-0.pdf,B-2\nsurat-1.pdf,{}\n",
        "x".repeat(segel_client::batch::MAX_DOCUMENT_REF + 1)
    ))
    .await;
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("line 2: surat-0.pdf: given twice (first on line 1)"),
        "{t}"
    );
    assert!(
        t.contains("line 3: surat-1.pdf: the reference has 257 bytes"),
        "{t}"
    );
    // A path that is not a PDF of the batch.
    let o = run("surat-0.pdf,B-1\nsurat-9.pdf,B-9\n".into()).await;
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("line 2: surat-9.pdf: no such PDF in the input folder"),
        "{t}"
    );
    // Nothing was signed or written.
    assert_eq!(log_size(&server).await, 0);
    assert!(std::fs::read_dir(&outdir).map_or(true, |mut d| d.next().is_none()));
    // The library refuses it the same way, naming the file.
    let refs = DocumentRefs::parse("surat-0.pdf,B-1\nnope.pdf,B-2\n").expect("parses");
    assert!(refs
        .check_known(&[Path::new("surat-0.pdf").into()])
        .is_err());
    server.stop().await;
}
