//! HTTP upload load: an in-process server with its HTTP listener (plain HTTP on loopback, the
//! default verification limits: one running and one queued verification per core), callers in
//! the same process uploading a signed 100 KB PDF to `POST /api/v1/verify` in a closed loop at
//! several concurrency levels. Per level: verdicts/s, busy refusals (429) per second, anything
//! else (there must be none), p50/p99 of the verdicts; printed next to the engine alone
//! verifying the same document on every core (the ceiling).
//!
//! `cargo run --release -p segel-bench --bin load_http [-- SECONDS_PER_LEVEL]`
//!
//! Environment: `SEGEL_LOAD_LEVELS=1,4,16,64` (concurrency levels), `SEGEL_LOAD_BACKOFF_MS=0`
//! (how long a caller waits after a 429 before its next upload; by default none: the worst
//! case, each refused caller at once asks again).

use std::time::{Duration, Instant};

use segel_bench::{env_list, percentile, tls};
use segel_proto::v1 as pb;
use segel_proto::v1::signer_client::SignerClient;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One level's answers.
#[derive(Default)]
struct Tally {
    verdicts: Vec<Duration>,
    busy: u64,
    other: u64,
}

fn main() -> anyhow::Result<()> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .enable_all()
        .build()?;
    client_rt.block_on(run(server_rt.handle().clone()))
}

async fn run(server_rt: tokio::runtime::Handle) -> anyhow::Result<()> {
    let secs = segel_bench::seconds_arg(5);
    let backoff = Duration::from_millis(
        std::env::var("SEGEL_LOAD_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let (dir, certs) = tls::temporary_pki()?;
    let http_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    http_listener.set_nonblocking(true)?;
    let http_port = http_listener.local_addr()?.port();
    let mut raw = segel_server::config::dev(&certs, &dir.path().join("log"), "127.0.0.1:0");
    raw.http_listen = Some(format!("127.0.0.1:{http_port}"));
    // The callers all come from loopback: the per-address connection limit is not measured.
    raw.http.max_connections_per_address = 1024;
    // Every caller is on loopback: the per-address share of upload places would be the limit.
    raw.http.max_uploads_per_address = raw.http.max_concurrent_uploads;
    let cfg = raw.resolve(pades::UnixTime::now().0)?;
    let anchors = cfg.trust_anchors.clone();
    let (running, queued) = (
        cfg.max_concurrent_verifications,
        cfg.max_queued_verifications,
    );
    let log = segel_server::serve::open_log(&cfg)?;
    let grpc_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    grpc_listener.set_nonblocking(true)?;
    let grpc_port = grpc_listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(async move {
        segel_server::serve::serve_with_http(
            cfg,
            log,
            tokio::net::TcpListener::from_std(grpc_listener)?,
            Some(tokio::net::TcpListener::from_std(http_listener)?),
            async {
                let _ = stopped.await;
            },
        )
        .await?;
        anyhow::Ok(())
    });

    // One signed, logged document.
    let mut signer = SignerClient::new(tls::connect(grpc_port, &tls::client_tls(&certs)?).await?);
    let pdf = signer
        .sign_pdf(pb::SignPdfRequest {
            agency_id: "dev".into(),
            pdf: pades::testing::synthetic_pdf(1, 100 * 1024).into(),
            request_id: "load-http".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .signed_pdf;
    let opts = pades::VerifyOptions {
        trust_anchors: anchors,
        time: pades::UnixTime::now(),
    };
    anyhow::ensure!(
        pades::verify(&pdf, &opts)?.all_passed(),
        "the document verifies"
    );
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let engine = engine_rate(&pdf, &opts, cores);
    println!(
        "document: {} bytes, signed and logged; limits: {running} running + {queued} queued; \
         {secs} s per level",
        pdf.len()
    );
    println!("engine alone on {cores} threads: {engine:.0} verifications/s");
    println!(
        "{:>11} {:>10} {:>8} {:>7} {:>7} {:>7} {:>11}",
        "concurrency", "verdicts/s", "429/s", "other", "p50 ms", "p99 ms", "of engine"
    );
    let base = format!("http://127.0.0.1:{http_port}/api/v1/verify");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    for conc in env_list(
        "SEGEL_LOAD_LEVELS",
        |x| x.parse::<usize>().ok(),
        vec![1, 4, 16, 64],
    ) {
        let end = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let (http, base, pdf) = (http.clone(), base.clone(), pdf.clone());
            tasks.push(tokio::spawn(async move {
                let mut t = Tally::default();
                while Instant::now() < end {
                    let at = Instant::now();
                    let r = http
                        .post(&base)
                        .header("content-type", "application/pdf")
                        .body(pdf.clone())
                        .send()
                        .await;
                    match r.map(|r| r.status().as_u16()) {
                        Ok(200) => t.verdicts.push(at.elapsed()),
                        Ok(429) => {
                            t.busy += 1;
                            tokio::time::sleep(backoff).await;
                        }
                        _ => t.other += 1,
                    }
                }
                t
            }));
        }
        let mut all = Tally::default();
        for task in tasks {
            let t = task.await?;
            all.verdicts.extend(t.verdicts);
            all.busy += t.busy;
            all.other += t.other;
        }
        let wall = started.elapsed().as_secs_f64();
        all.verdicts.sort_unstable();
        let rate = all.verdicts.len() as f64 / wall;
        println!(
            "{conc:>11} {rate:>10.0} {:>8.0} {:>7} {:>7.2} {:>7.2} {:>10.0}%",
            all.busy as f64 / wall,
            all.other,
            percentile(&all.verdicts, 0.5).as_secs_f64() * 1e3,
            percentile(&all.verdicts, 0.99).as_secs_f64() * 1e3,
            rate / engine * 100.0
        );
    }
    let _ = stop.send(());
    server.await??;
    dir.close()?;
    Ok(())
}

/// Verifications per second of the engine alone on `threads` threads for about a second.
fn engine_rate(pdf: &[u8], opts: &pades::VerifyOptions, threads: usize) -> f64 {
    let end = Instant::now() + Duration::from_secs(1);
    let started = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while Instant::now() < end {
                        if pades::verify(pdf, opts).is_ok() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}
