//! `segel batch`: the progress bar or per-file lines, Ctrl-C, the report file and the summary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use segel_client::batch::{self, BatchOptions, FileResult, Outcome};
use segel_client::offline;
use segel_client::online::Client;
use segel_client::ClientError;

use crate::exit;

/// Run a batch with `client`, reporting each file as it ends; the exit code.
pub(crate) async fn run_batch(
    client: Arc<Client>,
    opts: BatchOptions,
    report: Option<PathBuf>,
) -> Result<u8, ClientError> {
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let on_result: batch::OnResult = {
        let bar = bar.clone();
        let failed = failed.clone();
        Arc::new(move |r: &FileResult, total: usize| {
            let line = match &r.outcome {
                Outcome::Signed { log_index } => format!(
                    "signed  {} -> {} (log entry {log_index}{})",
                    r.file.display(),
                    r.output.display(),
                    r.document_id
                        .as_deref()
                        .map(|id| format!(", document id {id}"))
                        .unwrap_or_default()
                ),
                Outcome::Skipped { reason } => match r.logged {
                    Some(l) => format!(
                        "skipped {}: {reason}, in an earlier run (log entry {})",
                        r.file.display(),
                        l.index
                    ),
                    None => format!("skipped {}: {reason}", r.file.display()),
                },
                Outcome::NotStarted => format!("not started {}", r.file.display()),
                Outcome::Failed { reason } => {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    format!("FAILED  {}: {reason}", r.file.display())
                }
            };
            match &bar {
                Some(b) => {
                    b.set_length(total as u64);
                    if matches!(r.outcome, Outcome::Failed { .. }) {
                        b.println(&line);
                    }
                    b.set_message(format!(
                        "{} failed",
                        failed.load(std::sync::atomic::Ordering::Relaxed)
                    ));
                    b.inc(1);
                }
                None => println!("{line}"),
            }
        })
    };
    let stop = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "segel: stopping: the files in flight finish, no new ones start \
                 (Ctrl-C again to quit at once; outputs are never partial)"
            );
            tokio::spawn(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("segel: quitting; rerun the same command to continue");
                    std::process::exit(130);
                }
            });
        } else {
            std::future::pending::<()>().await;
        }
    };
    let summary = batch::run(client, opts.clone(), on_result, stop).await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(path) = &report {
        let text = if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
        {
            summary.to_csv()
        } else {
            summary.to_json(&opts)
        };
        offline::write_atomically(path, &[text.as_bytes()])?;
    }
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "{} signed, {} skipped, {} failed, {} not started of {} files in {secs:.1} s \
         ({:.1} signed/s){}",
        summary.signed(),
        summary.skipped(),
        summary.failed(),
        summary.not_started(),
        summary.files.len(),
        summary.signed() as f64 / secs.max(1e-9),
        if summary.interrupted {
            "; interrupted: rerun the same command to continue"
        } else {
            ""
        }
    );
    Ok(if summary.failed() > 0 {
        exit::NOT_PASSED
    } else if summary.not_started() > 0 {
        exit::INTERRUPTED
    } else {
        exit::OK
    })
}
