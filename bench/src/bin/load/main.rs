//! End-to-end load benchmark: an in-process server over mutual TLS on loopback, clients in the
//! same process signing 100 KB PDFs at several concurrency levels; signatures/s and p50/p99
//! latency, printed next to `openssl speed -multi 2 rsa2048` measured in the same run, then an
//! open-loop run at half the peak rate for the p99 there.
//!
//! `cargo run --release -p segel-bench --bin load [-- SECONDS_PER_LEVEL]`
//!
//! Per level it prints the rate, p50/p99, the CPU per signature of the server's threads, of
//! the load generator's and of the whole machine (`/proc/stat`: also the kernel's own threads),
//! context switches per signature and signatures per log commit. The batch phase ([`batch`])
//! then writes the batch's outputs alone (the ceiling that leaves), and signs 1,000 files
//! through `segel_client::batch::run` with whole documents and digest-only, in rounds that
//! alternate with the peak level: each round's batch is compared with the mean of the peaks
//! measured just before and just after it.
//!
//! Environment: `SEGEL_LOAD_LEVELS=16,64` (concurrency levels), `SEGEL_LOAD_CONNECTIONS=N`
//! (connections the callers share, 8 by default), `SEGEL_LOAD_UPDATE_ONLY=0` (whole signed documents back instead of
//! the update alone, which the client library asks for), `SEGEL_LOAD_BATCH=N` (files in the batch phase, 0 skips it),
//! `SEGEL_BATCH_JOBS=16,64`, `SEGEL_BATCH_MODES=whole,digest,cli-whole,cli-digest`,
//! `SEGEL_LOAD_ROUNDS=5`, `SEGEL_CLI=PATH` (the `segel` binary the `cli-` modes run; by
//! default `target/release/segel`, built by `cargo build --release -p segel-cli`).

mod batch;

use std::time::{Duration, Instant};

use segel_bench::proc::{self, Stolen};
use segel_bench::{env_list, openssl, percentile, tls};
use segel_proto::v1 as pb;
use segel_proto::v1::signer_client::SignerClient;
use tonic::transport::{Channel, ClientTlsConfig};

/// mimalloc: the request path allocates per request (frames, messages, PDF objects); the
/// system allocator's locks and consolidation showed as several percent of CPU under load.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time (user + system) used so far by this process's threads, split into the server's
/// (its runtime, blocking pool, log and sled threads) and the load generator's (the `client`
/// runtime's and the main thread), from `/proc`. Threads that ended are not counted (the
/// server's are long-lived).
fn cpu_split() -> (Duration, Duration) {
    let t = proc::thread_cpu(|name| name.starts_with("client") || name == "load");
    (t.others, t.picked)
}

/// Every request carries a fresh idempotency key (the server requires one), so the server also
/// hashes the input and keeps the retry record, as for any caller. Every request asks
/// for the update alone (`update_only`, as the client library does: the server's best peak);
/// `SEGEL_LOAD_UPDATE_ONLY=0` asks for the whole signed document back instead.
fn request(pdf: &bytes::Bytes) -> pb::SignPdfRequest {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static UPDATE_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let update_only = *UPDATE_ONLY
        .get_or_init(|| std::env::var("SEGEL_LOAD_UPDATE_ONLY").map_or(true, |v| v != "0"));
    pb::SignPdfRequest {
        agency_id: "dev".into(),
        pdf: pdf.clone(),
        request_id: format!(
            "load-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
        document_ref: String::new(),
        options: None,
        size_hint: 0,
        update_only,
    }
}

/// What a closed-loop level needs: the server's port, the clients' TLS, the document, and a
/// view of the log (for signatures per commit).
struct Bench {
    port: u16,
    tls: ClientTlsConfig,
    pdf: bytes::Bytes,
    log: std::sync::Arc<segel_server::store::Log>,
}

/// One closed-loop level's figures.
struct Level {
    rate: f64,
    /// The whole machine's CPU per signature (see [`proc::machine`]).
    machine_per_sig: Duration,
    /// The share of the machine's time stolen meanwhile (see [`Stolen`]).
    stolen: f64,
}

impl Bench {
    /// `conc` callers signing in a closed loop for `time` over a few shared connections; prints
    /// the level's line when `print`.
    async fn level(&self, conc: usize, time: Duration, print: bool) -> anyhow::Result<Level> {
        // A few connections shared by the workers, as a client library would.
        // SEGEL_LOAD_CONNECTIONS=1 puts every caller on one connection (as `segel batch`).
        let connections = std::env::var("SEGEL_LOAD_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(8)
            .clamp(1, conc.max(1));
        let mut channels: Vec<Channel> = Vec::new();
        for _ in 0..connections {
            channels.push(tls::connect(self.port, &self.tls).await?);
        }
        let end = Instant::now() + time;
        let mut tasks = Vec::new();
        for w in 0..conc {
            let mut c = SignerClient::new(channels[w % channels.len()].clone());
            let pdf = self.pdf.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    c.sign_pdf(request(&pdf)).await.expect("sign");
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let started = Instant::now();
        let stolen = Stolen::now();
        let (server0, client0) = cpu_split();
        let (machine0, switches0) = proc::machine();
        let (size0, commits0) = (self.log.size(), self.log.commits());
        let mut lat: Vec<Duration> = Vec::new();
        for t in tasks {
            lat.extend(t.await?);
        }
        let wall = started.elapsed().as_secs_f64();
        let rate = lat.len() as f64 / wall;
        let stolen = stolen.share();
        let (server1, client1) = cpu_split();
        let (machine1, switches1) = proc::machine();
        let n = lat.len().max(1) as f64;
        let per_commit =
            (self.log.size() - size0) as f64 / (self.log.commits() - commits0).max(1) as f64;
        let server_cpu = (server1 - server0).as_secs_f64();
        let client_cpu = (client1 - client0).as_secs_f64();
        lat.sort_unstable();
        if print {
            println!(
                "{conc:>11} {rate:>8.0} {:>7.2} {:>7.2} {:>12.2} {:>14.0} {:>14.0} {:>15.0} {:>13.1} {per_commit:>12.1}",
                percentile(&lat, 0.5).as_secs_f64() * 1e3,
                percentile(&lat, 0.99).as_secs_f64() * 1e3,
                server_cpu / wall,
                server_cpu / n * 1e6,
                client_cpu / n * 1e6,
                (machine1 - machine0).as_secs_f64() / n * 1e6,
                (switches1 - switches0) as f64 / n,
            );
        }
        Ok(Level {
            rate,
            machine_per_sig: (machine1 - machine0).div_f64(n),
            stolen,
        })
    }
}

fn main() -> anyhow::Result<()> {
    // The server and the load generator on runtimes of their own (named threads), so that the
    // CPU each uses can be told apart.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        // Threads that end take their CPU time with them (see cpu_split): keep them.
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    // The client library's runtime, as the `segel` CLI runs it (a bounded blocking pool).
    let client_rt = segel_client::runtime_builder()
        .thread_name("client")
        .thread_keep_alive(Duration::from_secs(3600))
        .build()?;
    client_rt.block_on(run(server_rt.handle().clone()))
}

async fn run(server_rt: tokio::runtime::Handle) -> anyhow::Result<()> {
    let secs = segel_bench::seconds_arg(5);
    let (dir, certs) = tls::temporary_pki()?;
    let cfg = segel_server::config::dev(&certs, &dir.path().join("log"), "127.0.0.1:0")
        .resolve(pades::UnixTime::now().0)?;
    let log = segel_server::serve::open_log(&cfg)?;
    let log_view = log.clone();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let port = std_listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        segel_server::serve::serve(cfg, log, listener, async {
            let _ = stopped.await;
        })
        .await?;
        anyhow::Ok(())
    });
    let tls = tls::client_tls(&certs)?;
    let pdf = bytes::Bytes::from(pades::testing::synthetic_pdf(1, 100 * 1024));
    println!("document: {} bytes; {secs} s per level", pdf.len());
    let mut peak: f64 = 0.0;
    // The whole machine's CPU per signature at the peak (see `proc::machine`).
    let mut peak_machine = Duration::ZERO;
    println!(
        "{:>11} {:>8} {:>7} {:>7} {:>12} {:>14} {:>14} {:>15} {:>13} {:>12}",
        "concurrency",
        "sig/s",
        "p50 ms",
        "p99 ms",
        "server cores",
        "server µs/sig",
        "client µs/sig",
        "machine µs/sig",
        "switches/sig",
        "sigs/commit"
    );
    // SEGEL_LOAD_LEVELS=16,64 runs only those concurrency levels (e.g. under a profiler).
    let levels = env_list(
        "SEGEL_LOAD_LEVELS",
        |x| x.parse::<usize>().ok(),
        vec![1, 4, 16, 64],
    );
    let bench = Bench {
        port,
        tls: tls.clone(),
        pdf: pdf.clone(),
        log: log_view.clone(),
    };
    let mut peak_level = 64;
    for conc in levels {
        let l = bench.level(conc, Duration::from_secs(secs), true).await?;
        if l.rate > peak {
            peak = l.rate;
            peak_machine = l.machine_per_sig;
            peak_level = conc;
        }
    }
    // Open loop at half the peak rate.
    let half = peak / 2.0;
    let ch = Channel::from_shared(format!("https://localhost:{port}"))?
        .tls_config(tls.clone())?
        .connect()
        .await?;
    let interval = Duration::from_secs_f64(1.0 / half);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    while Instant::now() < end {
        ticker.tick().await;
        let mut c = SignerClient::new(ch.clone());
        let pdf = pdf.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            c.sign_pdf(request(&pdf)).await.expect("sign");
            t.elapsed()
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.push(t.await?);
    }
    lat.sort_unstable();
    println!(
        "open loop at {half:.0} sig/s (half the peak): p50 {:.2} ms, p99 {:.2} ms over {} signatures",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.len()
    );
    // The batch phase: the client library's folder signing (what `segel batch` runs) over the
    // same server, 1,000 files of 100 KB by default (SEGEL_LOAD_BATCH=N, 0 to skip).
    let batch_files: usize = std::env::var("SEGEL_LOAD_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    if batch_files > 0 {
        batch::batch_phase(
            &bench,
            &certs,
            dir.path(),
            batch_files,
            (peak_level, secs),
            peak_machine,
        )
        .await?;
    }
    let _ = stop.send(());
    server.await??;
    drop(server_rt);
    match openssl::rsa2048_signs_per_second() {
        Some(o) => println!(
            "openssl speed -multi 2 rsa2048: {o:.0} sign/s; Segel peak {peak:.0} sig/s = {:.0}% of it",
            peak / o * 100.0
        ),
        None => println!("openssl speed not available"),
    }
    // The work folder (the PKI, the log and every batch's files) goes.
    dir.close()?;
    Ok(())
}
