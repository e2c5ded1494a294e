//! The load tool's batch phase: `segel batch` over the same server, `files` distinct ~100 KB
//! PDFs per batch signed into another folder (outputs through a temporary file and a rename, one
//! filesystem sync at the end), in rounds that alternate with the peak level so that each batch
//! is compared with the peak measured just before and just after it (a virtual machine's speed
//! can drift by ±20% from minute to minute).
//!
//! Environment: `SEGEL_BATCH_JOBS=16,64`, `SEGEL_BATCH_MODES=whole,digest,cli-whole,cli-digest`,
//! `SEGEL_LOAD_ROUNDS=5`, `SEGEL_CLI=PATH`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use segel_bench::env_list;
use segel_bench::proc::{self, Stolen};
use segel_client::batch::{BatchOptions, FileResult};
use segel_client::online::Client;
use segel_client::settings::Settings;

use crate::{cpu_split, Bench};

/// How a batch of the batch phase runs.
#[derive(Clone, Copy)]
enum Mode {
    /// `segel_client::batch::run` in this process; `true`: digest-only.
    Library(bool),
    /// The `segel batch` binary in a process of its own; `true`: `--digest-only`.
    Cli(bool),
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Library(false) => "whole",
            Mode::Library(true) => "digest-only",
            Mode::Cli(false) => "segel CLI, whole",
            Mode::Cli(true) => "segel CLI, digest-only",
        }
    }
}

/// What every batch of the phase shares.
struct Batches<'a> {
    certs: &'a Path,
    work: &'a Path,
    files: usize,
    settings: Settings,
    client: Arc<Client>,
    /// The `segel` binary, when it is built.
    cli: Option<PathBuf>,
}

/// The batch phase (see the module's doc), after the closed-loop levels found the peak at
/// `peak_level` callers, measured for `secs` each, with the whole machine's CPU per signature
/// `peak_machine`.
pub(crate) async fn batch_phase(
    bench: &Bench,
    certs: &Path,
    work: &Path,
    files: usize,
    (peak_level, secs): (usize, u64),
    peak_machine: Duration,
) -> anyhow::Result<()> {
    let write_floor = write_floor(work, files, peak_machine)?;
    let settings = Settings {
        server: Some(format!("https://localhost:{}", bench.port)),
        ca: Some(certs.join("tls-ca.pem")),
        cert: Some(certs.join("client.pem")),
        key: Some(certs.join("client.key")),
        log_key: None,
        state: Some(work.join("client-state")),
    };
    let client = Arc::new(Client::connect(&settings).await?);
    let levels = env_list(
        "SEGEL_BATCH_JOBS",
        |x| x.parse::<usize>().ok(),
        vec![16, 64],
    );
    let batches = Batches {
        certs,
        work,
        files,
        settings,
        client,
        cli: segel_cli(),
    };
    let modes = modes(batches.cli.as_deref());
    let rounds = std::env::var("SEGEL_LOAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1);
    println!(
        "{rounds} rounds, each: the peak level ({peak_level} callers, {secs} s), then the batches; a last peak level closes"
    );
    let mut run = 0;
    // Per round: the peak before it, and each mode's best rate.
    let mut peaks = Vec::new();
    // Per mode and round: the best rate, and the share stolen during that run.
    let mut best: Vec<Vec<(f64, f64)>> = vec![Vec::new(); modes.len()];
    for round in 0..=rounds {
        let p = bench
            .level(peak_level, Duration::from_secs(secs), false)
            .await?;
        println!(
            "round {round}: peak level {:.0} sig/s, machine {:.0} µs/sig, {:.0}% of the machine's time stolen by the hypervisor",
            p.rate,
            p.machine_per_sig.as_secs_f64() * 1e6,
            p.stolen * 100.0
        );
        peaks.push((p.rate, p.stolen));
        if round == rounds {
            break;
        }
        for (m, &mode) in modes.iter().enumerate() {
            let mut round_best = (0.0, 0.0);
            for &jobs in &levels {
                let (rate, stolen) = batches.measure(bench, mode, jobs, round, run).await?;
                run += 1;
                if rate > round_best.0 {
                    round_best = (rate, stolen);
                }
            }
            best[m].push(round_best);
        }
    }
    for (m, mode) in modes.iter().enumerate() {
        let mode = mode.name();
        println!(
            "batch ({mode}): share of the peak around it, per round: {} (goal ≥ 85%; ceiling for whole documents here {:.0}%)",
            shares(&best[m], &peaks, false),
            write_floor * 100.0
        );
        println!(
            "batch ({mode}): the same per unstolen second (the hypervisor's share taken out of every rate): {}",
            shares(&best[m], &peaks, true)
        );
    }
    Ok(())
}

/// What a batch does that the load tool does not: write its outputs (each through a temporary
/// file and a rename, then one filesystem sync), here alone, for as many files of a signed
/// output's size as the batch will write. Signing at the peak's cost per signature
/// (`peak_machine`) plus this bounds the batch's rate on this machine from above: returns that
/// ceiling as a share of the peak. The files stay until the tool ends, like every batch's
/// folders.
fn write_floor(work: &Path, files: usize, peak_machine: Duration) -> anyhow::Result<f64> {
    let out = work.join("write-floor");
    std::fs::create_dir_all(&out)?;
    let doc = pades::testing::synthetic_pdf(1, 100 * 1024);
    let update = vec![b' '; 10 * 1024];
    let (m0, _) = proc::machine();
    let t0 = Instant::now();
    for i in 0..files {
        segel_client::offline::write_atomically_unsynced(
            &out.join(format!("surat-{i:05}.pdf")),
            &[&doc, &update],
        )?;
    }
    segel_client::offline::sync_filesystem(&out)?;
    let wall = t0.elapsed();
    let (m1, _) = proc::machine();
    let per_file = (m1 - m0).div_f64(files as f64);
    let ceiling = peak_machine.as_secs_f64() / (peak_machine + per_file).as_secs_f64();
    println!(
        "writing {files} signed-size outputs alone (temporary + rename, one filesystem sync): {:.0} files/s, machine {:.0} µs/file; with the peak's {:.0} µs/signature the batch's ceiling here is {:.0}% of the peak",
        files as f64 / wall.as_secs_f64(),
        per_file.as_secs_f64() * 1e6,
        peak_machine.as_secs_f64() * 1e6,
        ceiling * 100.0
    );
    Ok(ceiling)
}

/// The modes to run: `SEGEL_BATCH_MODES=whole,digest,cli-whole,cli-digest` picks among whole
/// documents over the network (`segel batch`) and digest-only (`segel batch --digest-only`:
/// prepared here, only the hash crosses), through the library in this process, and the same
/// through the real `segel` binary (`cli`) in a process of its own (its start, connection and
/// final sync counted). All of them by default; the `cli-` ones only when the binary is built.
fn modes(cli: Option<&Path>) -> Vec<Mode> {
    let mut default_modes = vec![Mode::Library(false), Mode::Library(true)];
    match cli {
        Some(path) => {
            println!("the real CLI: {}", path.display());
            default_modes.extend([Mode::Cli(false), Mode::Cli(true)]);
        }
        None => println!(
            "the real CLI is not built (cargo build --release -p segel-cli, or SEGEL_CLI=PATH): its batches are skipped"
        ),
    }
    env_list(
        "SEGEL_BATCH_MODES",
        |m| match m {
            "whole" => Some(Mode::Library(false)),
            "digest" => Some(Mode::Library(true)),
            "cli-whole" if cli.is_some() => Some(Mode::Cli(false)),
            "cli-digest" if cli.is_some() => Some(Mode::Cli(true)),
            _ => None,
        },
        default_modes,
    )
}

impl Batches<'_> {
    /// One batch of round `round` in `mode` with `jobs` jobs, the `run`th of the phase: prints
    /// its line, returns its rate (files/s) and the share of the machine stolen meanwhile.
    async fn measure(
        &self,
        bench: &Bench,
        mode: Mode,
        jobs: usize,
        round: usize,
        run: usize,
    ) -> anyhow::Result<(f64, f64)> {
        let files = self.files;
        // Documents of their own for each run: the same ones again would be idempotent
        // retries, answered without signing.
        let input = self.work.join(format!("batch-in-{run}"));
        std::fs::create_dir_all(&input)?;
        for i in 0..files {
            std::fs::write(
                input.join(format!("surat-{i:05}.pdf")),
                pades::testing::synthetic_pdf(1, 100 * 1024 + run * files + i),
            )?;
        }
        // On disk before the batch starts, as a real batch's inputs are: otherwise the
        // batch would pay for writing back its own inputs.
        segel_client::offline::sync_filesystem(&input)?;
        let output = self.work.join(format!("batch-out-{run}"));
        let stolen = Stolen::now();
        let (server0, client0) = cpu_split();
        let children0 = proc::children_cpu();
        let (machine0, _) = proc::machine();
        let (size0, commits0) = (bench.log.size(), bench.log.commits());
        let proofs0 = self.client.consistency_proofs_fetched();
        let (elapsed, proofs) = match mode {
            Mode::Library(digest_only) => {
                let elapsed = self
                    .library(mode, &input, &output, jobs, digest_only)
                    .await?;
                (
                    elapsed,
                    (self.client.consistency_proofs_fetched() - proofs0).to_string(),
                )
            }
            Mode::Cli(digest_only) => {
                let report = self.work.join(format!("report-{run}.json"));
                let elapsed = self
                    .cli(mode, &input, &output, &report, jobs, digest_only)
                    .await?;
                (elapsed, "-".to_string())
            }
        };
        let stolen = stolen.share();
        let (server1, client1) = cpu_split();
        let children1 = proc::children_cpu();
        let (machine1, _) = proc::machine();
        let rate = files as f64 / elapsed.as_secs_f64();
        println!(
            "round {round}: batch ({}) of {files} × 100 KB, --jobs {jobs}: {rate:.0} files/s ({:.1} s), server {:.0} µs/file, client {:.0} µs/file, machine {:.0} µs/file, {:.1} sigs/commit, {} consistency proofs, {:.0}% stolen",
            mode.name(),
            elapsed.as_secs_f64(),
            (server1 - server0).as_secs_f64() / files as f64 * 1e6,
            ((client1 - client0) + (children1 - children0)).as_secs_f64() / files as f64 * 1e6,
            (machine1 - machine0).as_secs_f64() / files as f64 * 1e6,
            (bench.log.size() - size0) as f64 / (bench.log.commits() - commits0).max(1) as f64,
            proofs,
            stolen * 100.0,
        );
        Ok((rate, stolen))
    }

    /// A batch through `segel_client::batch::run` in this process; returns its time.
    async fn library(
        &self,
        mode: Mode,
        input: &Path,
        output: &Path,
        jobs: usize,
        digest_only: bool,
    ) -> anyhow::Result<Duration> {
        let mut opts = BatchOptions::new("dev", input, output);
        opts.jobs = jobs;
        opts.digest_only = digest_only;
        let summary = segel_client::batch::run(
            self.client.clone(),
            opts,
            Arc::new(|_: &FileResult, _: usize| {}),
            std::future::pending::<()>(),
        )
        .await?;
        anyhow::ensure!(
            summary.signed() == self.files,
            "batch ({}): {} of {} signed",
            mode.name(),
            summary.signed(),
            self.files
        );
        Ok(summary.elapsed)
    }

    /// A batch through the `segel` binary in a process of its own, its JSON report written to
    /// `report`; returns its time, the process's start and end included.
    async fn cli(
        &self,
        mode: Mode,
        input: &Path,
        output: &Path,
        report: &Path,
        jobs: usize,
        digest_only: bool,
    ) -> anyhow::Result<Duration> {
        let path = self
            .cli
            .as_deref()
            .expect("a CLI mode only when it is built");
        let certs = self.certs;
        let mut cmd = std::process::Command::new(path);
        cmd.arg("--server")
            .arg(self.settings.server.clone().unwrap_or_default())
            .arg("--ca")
            .arg(certs.join("tls-ca.pem"))
            .arg("--client-cert")
            .arg(certs.join("client.pem"))
            .arg("--client-key")
            .arg(certs.join("client.key"))
            .arg("--state")
            .arg(self.work.join("cli-state"))
            .args(["batch", "--agency", "dev", "--jobs", &jobs.to_string()])
            .arg(input)
            .arg(output)
            .arg("--report")
            .arg(report)
            // This run's settings only, not a pinned key or file of the caller's.
            .env_remove("SEGEL_CONFIG")
            .env_remove("SEGEL_LOG_KEY");
        if digest_only {
            cmd.arg("--digest-only");
        }
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let (out, elapsed) = tokio::task::spawn_blocking(move || {
            let t0 = Instant::now();
            cmd.output().map(|out| (out, t0.elapsed()))
        })
        .await??;
        anyhow::ensure!(
            out.status.success(),
            "segel batch ({}): {}: {}",
            mode.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(report)?)?;
        let signed = report["signed"].as_u64().unwrap_or(0);
        anyhow::ensure!(
            signed == self.files as u64,
            "segel batch ({}): {signed} of {} signed",
            mode.name(),
            self.files
        );
        Ok(elapsed)
    }
}

/// Each round's best rate in `best` against the mean of the `peaks` measured just before and
/// after it, listed and summed up as median and lowest; with `adjust`, every rate is counted per
/// unstolen second of the machine.
fn shares(best: &[(f64, f64)], peaks: &[(f64, f64)], adjust: bool) -> String {
    let per = |(rate, stolen): (f64, f64)| {
        if adjust {
            rate / (1.0 - stolen).max(0.05)
        } else {
            rate
        }
    };
    let mut v: Vec<f64> = best
        .iter()
        .enumerate()
        .map(|(r, &b)| per(b) / ((per(peaks[r]) + per(peaks[r + 1])) / 2.0))
        .collect();
    let list = v
        .iter()
        .map(|x| format!("{:.0}%", x * 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    v.sort_by(f64::total_cmp);
    format!(
        "{list}; median {:.0}%, lowest {:.0}%",
        v[v.len() / 2] * 100.0,
        v[0] * 100.0
    )
}

/// The `segel` binary: `SEGEL_CLI`, or the one cargo built into this tool's own folder
/// (`target/release/segel` for `target/release/load`).
fn segel_cli() -> Option<PathBuf> {
    let path = match std::env::var_os("SEGEL_CLI") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe().ok()?.parent()?.join("segel"),
    };
    path.is_file().then_some(path)
}
