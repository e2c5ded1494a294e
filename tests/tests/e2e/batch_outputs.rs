//! The batch's outputs under a hostile output folder, against a real server: symbolic links
//! planted at an output's name, at an output subfolder or at a temporary file's name are never
//! written through; an output folder that overlaps the input folder is refused before anything
//! is signed; and the log hears no file path unless asked to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use segel_client::batch::{BatchOptions, FileResult, Outcome};
use segel_client::online::{Client, EntryKey};

use crate::client::{cli, log_size, output, settings, text};
use crate::grpc::start;

const VICTIM: &[u8] = b"a file outside the output folder that the batch must not touch\n";

/// `names` (relative paths) under `dir`, each a small PDF of its own (`seed` tells calls apart).
fn pdfs(dir: &Path, seed: usize, names: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        let i = i + 10 * seed;
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, pades::testing::synthetic_pdf(1, 2000 + 131 * i)).expect("write");
    }
}

/// The report's entry for `file`: (status, reason).
fn status(report: &serde_json::Value, file: &str) -> (String, String) {
    let f = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["file"] == file)
        .unwrap_or_else(|| panic!("{file} not in the report: {report:#}"));
    (
        f["status"].as_str().expect("status").to_string(),
        f["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// Run `segel batch --agency dev EXTRA… INPUT OUTPUT --report R`: (exit code, output, report).
async fn batch(
    server: &crate::grpc::TestServer,
    work: &Path,
    extra: &[&str],
    input: &Path,
    outdir: &Path,
) -> (Option<i32>, String, serde_json::Value) {
    let report = work.join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut c = cli(server, &work.join("state"));
    c.args(["batch", "--agency", "dev"])
        .args(extra)
        .arg("--report")
        .arg(&report)
        .arg(input)
        .arg(outdir);
    let o = output(c).await;
    let r = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    (o.status.code(), text(&o), r)
}

/// A symbolic link at an output's name (a rerun's output, or one planted there) is refused for
/// that file: reported with its path, the link and its target left as they are; the other
/// files are signed and the exit code says that one failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_symlink_output_is_refused_and_nothing_written_through_it() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    pdfs(&input, 0, &["a.pdf", "b.pdf"]);
    let victim = work.path().join("victim.pdf");
    std::fs::write(&victim, VICTIM).expect("victim");
    std::fs::create_dir_all(&outdir).expect("mkdir");
    let link = outdir.join("a.pdf");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    for extra in [&[][..], &["--digest-only"][..]] {
        let (code, out, report) = batch(&server, work.path(), extra, &input, &outdir).await;
        assert_eq!(code, Some(1), "{extra:?}: {out}");
        let (st, reason) = status(&report, "a.pdf");
        assert_eq!(st, "failed", "{extra:?}: {report:#}");
        assert!(
            reason.contains("symbolic link") && reason.contains(&link.display().to_string()),
            "{extra:?}: {reason}"
        );
        assert_ne!(
            status(&report, "b.pdf").0,
            "failed",
            "{extra:?}: {report:#}"
        );
        assert!(
            std::fs::read(&victim).expect("victim") == VICTIM,
            "{extra:?}: written through {}",
            link.display()
        );
        assert!(std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_link(&link).expect("link"), victim);
    }
    // Signed once (b.pdf), then skipped.
    assert_eq!(log_size(&server).await, 1);
    server.stop().await;
}

/// An output subfolder that is a symbolic link (`out/sub -> elsewhere`) is refused for every
/// file below it: nothing is created or written there, not even a deeper folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinked_output_subfolder_is_refused() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    pdfs(&input, 0, &["sub/c.pdf", "sub/deeper/e.pdf", "d.pdf"]);
    let elsewhere = work.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    std::fs::create_dir_all(&outdir).expect("mkdir");
    let link = outdir.join("sub");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let (code, out, report) = batch(&server, work.path(), &[], &input, &outdir).await;
    assert_eq!(code, Some(1), "{out}");
    for file in ["sub/c.pdf", "sub/deeper/e.pdf"] {
        let (st, reason) = status(&report, file);
        assert_eq!(st, "failed", "{report:#}");
        assert!(
            reason.contains("symbolic link") && reason.contains(&link.display().to_string()),
            "{reason}"
        );
    }
    assert_eq!(status(&report, "d.pdf").0, "signed", "{report:#}");
    assert_eq!(
        std::fs::read_dir(&elsewhere).expect("dir").count(),
        0,
        "something was written through the link"
    );
    assert_eq!(log_size(&server).await, 1);
    server.stop().await;
}

/// Every file the batch writes is created new: a symbolic link (or any file) already at the
/// name of a temporary file is neither followed nor truncated nor renamed into place, for
/// small outputs and for large ones written with direct I/O.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_temp_file_is_not_followed() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::write(
        input.join("small.pdf"),
        pades::testing::synthetic_pdf(1, 3000),
    )
    .expect("w");
    std::fs::write(
        input.join("large.pdf"),
        pades::testing::synthetic_pdf(2, 300_000),
    )
    .expect("write");
    std::fs::create_dir_all(&outdir).expect("mkdir");
    let client = Arc::new(
        Client::connect(&settings(&server, &work.path().join("state")))
            .await
            .expect("connect"),
    );
    // The batch runs in this process: its temporary files carry this process's id.
    let pid = std::process::id();
    for (k, digest_only) in [false, true].into_iter().enumerate() {
        let out = outdir.join(format!("run{k}"));
        std::fs::create_dir_all(&out).expect("mkdir");
        let mut planted = Vec::new();
        for name in ["small.pdf", "large.pdf"] {
            let victim = work.path().join(format!("victim-{k}-{name}"));
            std::fs::write(&victim, VICTIM).expect("victim");
            let tmp = out.join(format!(".{name}.segel-{pid}.tmp"));
            std::os::unix::fs::symlink(&victim, &tmp).expect("symlink");
            planted.push((name, victim, tmp));
        }
        let mut opts = BatchOptions::new("dev", &input, &out);
        opts.digest_only = digest_only;
        let summary = segel_client::batch::run(
            client.clone(),
            opts,
            Arc::new(|_: &FileResult, _: usize| {}),
            std::future::pending::<()>(),
        )
        .await
        .expect("batch");
        for r in &summary.files {
            assert!(
                matches!(r.outcome, Outcome::Signed { .. }),
                "digest-only {digest_only}: {r:?}"
            );
        }
        for (name, victim, tmp) in planted {
            assert!(
                std::fs::read(&victim).expect("victim") == VICTIM,
                "digest-only {digest_only}: written through {}",
                tmp.display()
            );
            let meta = std::fs::symlink_metadata(out.join(name)).expect("output");
            assert!(meta.file_type().is_file(), "{name}: {meta:?}");
            let signed = std::fs::read(out.join(name)).expect("output");
            assert!(signed.starts_with(&std::fs::read(input.join(name)).expect("input")));
            assert!(signed.len() > 300_000 || name == "small.pdf");
        }
    }
    server.stop().await;
}

/// The output folder may not contain the input folder, be it, or lie inside it (compared as
/// canonical paths, so `..` and symbolic links do not hide it): refused before anything is
/// signed or written, naming both folders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_folder_containing_input_is_refused() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let top = work.path().join("top");
    let input = top.join("in");
    pdfs(&input, 0, &["a.pdf", "x/b.pdf"]);
    let alias = work.path().join("alias");
    std::os::unix::fs::symlink(&top, &alias).expect("symlink");
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let mut all = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p.clone());
                }
                all.push(p);
            }
        }
        all.sort();
        all
    };
    let before = listing(&top);
    for outdir in [
        top.clone(),
        input.join(".."),
        alias.clone(),
        input.clone(),
        input.join("signed"),
        input.join("x/new/deeper"),
    ] {
        let (code, out, _) = batch(&server, work.path(), &[], &input, &outdir).await;
        assert_eq!(code, Some(2), "{}: {out}", outdir.display());
        assert!(
            out.contains("output folder") && out.contains("input folder"),
            "{}: {out}",
            outdir.display()
        );
        assert_eq!(listing(&top), before, "{}", outdir.display());
    }
    assert_eq!(log_size(&server).await, 0);
    // A sibling folder is fine.
    let (code, out, _) = batch(&server, work.path(), &[], &input, &top.join("out")).await;
    assert_eq!(code, Some(0), "{out}");
    server.stop().await;
}

/// File names hold citizens' names and ID numbers, and the log is public: by default the
/// batch sends no document reference at all; `--document-ref-from-path` sends the file's path
/// (which the server keeps only as a hash).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_sends_no_file_paths_by_default() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let name = "Budi Santoso 3171012345678901.pdf";
    let (input, outdir) = (work.path().join("in"), work.path().join("out"));
    pdfs(&input, 0, &[name, "warga/Siti Aminah 3174055512990002.pdf"]);
    for extra in [&[][..], &["--digest-only"][..]] {
        let out = outdir.join(extra.len().to_string());
        let (code, text, _) = batch(&server, work.path(), extra, &input, &out).await;
        assert_eq!(code, Some(0), "{extra:?}: {text}");
    }
    let client = Client::connect(&settings(&server, &work.path().join("state")))
        .await
        .expect("connect");
    let size = log_size(&server).await;
    assert_eq!(size, 4);
    for i in 0..size {
        let e = client.entries(EntryKey::Index(i)).await.expect("entry");
        assert_eq!(e[0].record.document_ref, None, "entry {i}");
        assert_eq!(e[0].record.document_ref_hmac, None, "entry {i}");
        let logged = String::from_utf8_lossy(&e[0].encoded);
        for secret in ["Budi", "3171012345678901", "Siti", "warga", ".pdf"] {
            assert!(!logged.contains(secret), "entry {i} holds {secret:?}");
        }
    }
    // Asked for: each file's path goes with its request.
    let other = work.path().join("other");
    pdfs(&other, 1, &["B-7 2026.pdf"]);
    let (code, text, _) = batch(
        &server,
        work.path(),
        &["--document-ref-from-path"],
        &other,
        &work.path().join("other-out"),
    )
    .await;
    assert_eq!(code, Some(0), "{text}");
    let e = client.entries(EntryKey::Index(size)).await.expect("entry");
    // …and is logged as a keyed hash only, never in clear.
    assert!(e[0].record.document_ref_hmac.is_some(), "{:?}", e[0].record);
    assert_eq!(e[0].record.document_ref, None, "{:?}", e[0].record);
    assert!(!String::from_utf8_lossy(&e[0].encoded).contains("B-7"));
    server.stop().await;
}
