//! End-to-end load benchmark: an in-process server over mutual TLS on loopback, clients in the
//! same process signing 100 KB PDFs at several concurrency levels; signatures/s and p50/p99
//! latency, printed next to `openssl speed -multi 2 rsa2048` measured in the same run, then an
//! open-loop run at half the peak rate for the p99 there.
//!
//! `cargo run --release -p segel-server --example load [-- SECONDS_PER_LEVEL]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use segel_proto::v1 as pb;
use segel_proto::v1::signer_client::SignerClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn request(pdf: &[u8]) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: "dev".into(),
        pdf: pdf.to_vec(),
        request_id: String::new(),
        document_ref: String::new(),
        options: None,
        size_hint: 0,
    }
}

fn openssl_rsa2048() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-multi", "2", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rsa 2048 bits 0.000xxx 0.0000yy  sign/s verify/s" (columns vary by version).
    let line = text
        .lines()
        .find(|l| l.starts_with("rsa 2048") || l.contains("rsa  2048"))?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // [2048, sign_time, verify_time, sign/s, verify/s] or with more columns in OpenSSL 3.
    nums.iter().rev().nth(1).copied()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir()?;
    let certs = dir.path().join("certs");
    segel_server::devpki::generate(&certs)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let cfg =
        segel_server::config::dev(&certs, &dir.path().join("log"), "127.0.0.1:0").resolve(now)?;
    let log = segel_server::serve::open_log(&cfg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(segel_server::serve::serve(cfg, log, listener, async {
        let _ = stopped.await;
    }));
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(
            certs.join("tls-ca.pem"),
        )?))
        .identity(Identity::from_pem(
            std::fs::read(certs.join("client.pem"))?,
            std::fs::read(certs.join("client.key"))?,
        ))
        .domain_name("localhost");
    let pdf = Arc::new(pades::testing::synthetic_pdf(1, 100 * 1024));
    println!("document: {} bytes; {secs} s per level", pdf.len());
    let mut peak: f64 = 0.0;
    println!(
        "{:>11} {:>10} {:>9} {:>9}",
        "concurrency", "sig/s", "p50 ms", "p99 ms"
    );
    for conc in [1usize, 4, 16, 64] {
        // A few connections shared by the workers, as a client library would.
        let channels: Vec<Channel> = {
            let mut v = Vec::new();
            for _ in 0..conc.min(8) {
                v.push(
                    Channel::from_shared(format!("https://localhost:{port}"))?
                        .tls_config(tls.clone())?
                        .initial_stream_window_size(Some(4 << 20))
                        .initial_connection_window_size(Some(16 << 20))
                        .connect()
                        .await?,
                );
            }
            v
        };
        let end = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for w in 0..conc {
            let mut c = SignerClient::new(channels[w % channels.len()].clone());
            let pdf = pdf.clone();
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
        let mut lat: Vec<Duration> = Vec::new();
        for t in tasks {
            lat.extend(t.await?);
        }
        let rate = lat.len() as f64 / started.elapsed().as_secs_f64();
        lat.sort_unstable();
        peak = peak.max(rate);
        println!(
            "{conc:>11} {rate:>10.0} {:>9.2} {:>9.2}",
            percentile(&lat, 0.5).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3
        );
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
    let _ = stop.send(());
    server.await??;
    match openssl_rsa2048() {
        Some(o) => println!(
            "openssl speed -multi 2 rsa2048: {o:.0} sign/s; Segel peak {peak:.0} sig/s = {:.0}% of it",
            peak / o * 100.0
        ),
        None => println!("openssl speed not available"),
    }
    Ok(())
}
