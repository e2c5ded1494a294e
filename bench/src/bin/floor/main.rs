//! The floor of the load benchmark: the least work any signing service does for a 100 KB
//! document sent over mutual TLS on loopback, with the load generator on the same machine, and
//! nothing else. Per request the client sends the document (a length and the bytes) through
//! rustls; the server decrypts it, hashes it with SHA-256, signs 200 bytes of attributes
//! carrying that hash with RSA-2048 (aws-lc, as the server does), and sends back the document
//! plus 10 KB (the size of a signed PDF's update) through rustls; the client decrypts it. No
//! gRPC, no HTTP/2, no PDF parsing, no log, no async runtime: one blocking thread per
//! connection on each side, which is the fewest thread hand-offs a request can have.
//!
//! Its rate, next to `openssl speed -multi 2 rsa2048` measured in the same run, is the ceiling
//! for what the load tool (`load`) can reach on this machine.
//!
//! A second part ([`grpc`]) does the same work behind the same gRPC stack as the server (tonic
//! over rustls, the `Signer` service's `SignPdf` with the server's window sizes, eight
//! connections shared by the callers as in the load tool), hashing and signing on the async
//! worker: the difference to the first part is what the transport costs, and the difference to
//! the load tool is what the server's own work (PDF, log, limits) costs.
//!
//! `cargo run --release -p segel-bench --bin floor [-- SECONDS_PER_LEVEL]`
//! (`SEGEL_FLOOR_LEVELS=2,4,16` picks the numbers of concurrent callers of the first part,
//! `SEGEL_FLOOR_GRPC_LEVELS=16,64` those of the second.)

mod grpc;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, rand::SystemRandom, signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use segel_bench::{env_list, openssl, percentile, proc, tls};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The bytes a signed PDF's incremental update adds (signature room, dictionaries, xref).
const UPDATE: usize = 10 * 1024;

/// CPU time of this process's live `client` threads, and of the whole process (live and ended
/// threads), from `/proc/self`.
fn cpu() -> (Duration, Duration) {
    let client = proc::thread_cpu(|name| name.starts_with("client")).picked;
    (client, proc::process_cpu())
}

fn read_message(conn: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut len = [0u8; 4];
    match conn.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    buf.resize(u32::from_be_bytes(len) as usize, 0);
    conn.read_exact(buf)?;
    Ok(true)
}

fn write_message(conn: &mut impl Write, parts: &[&[u8]]) -> std::io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    conn.write_all(&(len as u32).to_be_bytes())?;
    for p in parts {
        conn.write_all(p)?;
    }
    conn.flush()
}

/// One server connection: hash, sign, answer, until the client hangs up.
fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    key: Arc<signature::RsaKeyPair>,
) -> anyhow::Result<()> {
    tcp.set_nodelay(true)?;
    let conn = rustls::ServerConnection::new(config)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let rng = SystemRandom::new();
    let mut doc = Vec::new();
    let mut sig = vec![0u8; key.public_modulus_len()];
    let update = vec![0x20u8; UPDATE];
    while read_message(&mut tls, &mut doc)? {
        let hash = digest::digest(&digest::SHA256, &doc);
        // Signed attributes: content type, signing time, message digest, signing certificate.
        let mut attrs = [0u8; 200];
        attrs[..32].copy_from_slice(hash.as_ref());
        key.sign(&signature::RSA_PKCS1_SHA256, &rng, &attrs, &mut sig)
            .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
        write_message(&mut tls, &[&doc, &update[..UPDATE - sig.len()], &sig])?;
    }
    Ok(())
}

/// Print one level's row; returns its rate.
fn report(
    callers: usize,
    mut lat: Vec<Duration>,
    wall: f64,
    client: Duration,
    total: Duration,
) -> f64 {
    lat.sort_unstable();
    let n = lat.len() as f64;
    let rate = n / wall;
    let total = total.as_secs_f64();
    let client = client.as_secs_f64();
    let p = |q: f64| percentile(&lat, q).as_secs_f64() * 1e3;
    println!(
        "{callers:>8} {rate:>8.0} {:>7.2} {:>7.2} {:>14.0} {:>14.0} {:>14.0}",
        p(0.5),
        p(0.99),
        total / n * 1e6,
        (total - client) / n * 1e6,
        client / n * 1e6
    );
    rate
}

fn main() -> anyhow::Result<()> {
    let secs = segel_bench::seconds_arg(4);
    let levels = env_list(
        "SEGEL_FLOOR_LEVELS",
        |x| x.parse::<usize>().ok(),
        vec![2, 4, 8, 16],
    );
    let (_dir, certs) = tls::temporary_pki()?;
    let (server_config, client_config) = rustls_configs(&certs)?;
    let key = agency_key(&certs)?;
    let addr = spawn_server(server_config, key.clone())?;

    let doc = Arc::new(pades::testing::synthetic_pdf(1, 100 * 1024));
    println!(
        "floor: {} bytes each way + {UPDATE} back, mutual TLS (rustls, aws-lc), SHA-256 + RSA-2048; {secs} s per level",
        doc.len()
    );
    println!(
        "{:>8} {:>8} {:>7} {:>7} {:>14} {:>14} {:>14}",
        "callers", "sig/s", "p50 ms", "p99 ms", "total µs/sig", "server µs/sig", "client µs/sig"
    );
    let mut peak: f64 = 0.0;
    for callers in levels {
        let rate = level(
            addr,
            &client_config,
            &doc,
            callers,
            Duration::from_secs(secs),
        )?;
        peak = peak.max(rate);
    }
    let grpc_levels = env_list(
        "SEGEL_FLOOR_GRPC_LEVELS",
        |x| x.parse::<usize>().ok(),
        vec![16, 64],
    );
    let grpc_peak = grpc::grpc_part(&certs, key, &doc, secs, &grpc_levels)?;
    match openssl::rsa2048_signs_per_second() {
        Some(o) => println!(
            "openssl speed -multi 2 rsa2048: {o:.0} sign/s; floor peak {peak:.0} sig/s = {:.0}% of it; gRPC floor peak {grpc_peak:.0} sig/s = {:.0}%",
            peak / o * 100.0,
            grpc_peak / o * 100.0
        ),
        None => println!("openssl speed not available"),
    }
    Ok(())
}

/// The server's and the callers' rustls configurations for mutual TLS with the development PKI
/// in `certs` (aws-lc as the provider, as the server has).
fn rustls_configs(
    certs: &std::path::Path,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>)> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let load_certs = |name: &str| -> anyhow::Result<Vec<CertificateDer<'static>>> {
        Ok(CertificateDer::pem_file_iter(certs.join(name))?.collect::<Result<_, _>>()?)
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certs("tls-ca.pem")? {
        roots.add(c)?;
    }
    let roots = Arc::new(roots);
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    )
    .build()?;
    let server_config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                load_certs("server.pem")?,
                PrivateKeyDer::from_pem_file(certs.join("server.key"))?,
            )?,
    );
    let client_config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                load_certs("client.pem")?,
                PrivateKeyDer::from_pem_file(certs.join("client.key"))?,
            )?,
    );
    Ok((server_config, client_config))
}

/// The dev agency's RSA key from the development PKI in `certs`.
fn agency_key(certs: &std::path::Path) -> anyhow::Result<Arc<signature::RsaKeyPair>> {
    match PrivateKeyDer::from_pem_file(certs.join("dev-agency.key"))? {
        PrivateKeyDer::Pkcs8(k) => Ok(Arc::new(
            signature::RsaKeyPair::from_pkcs8(k.secret_pkcs8_der())
                .map_err(|e| anyhow::anyhow!("agency key: {e}"))?,
        )),
        _ => anyhow::bail!("agency key is not PKCS#8"),
    }
}

/// Accepts connections on a loopback port in a thread of its own and serves each (see
/// [`serve`]) in another; returns the address.
fn spawn_server(
    config: Arc<rustls::ServerConfig>,
    key: Arc<signature::RsaKeyPair>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("server-accept".into())
        .spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (c, k) = (config.clone(), key.clone());
                let _ = std::thread::Builder::new()
                    .name("server".into())
                    .spawn(move || serve(tcp, c, k));
            }
        })?;
    Ok(addr)
}

/// `callers` blocking callers, one connection each, sending `doc` to the server at `addr` in a
/// closed loop for `time` after one warm-up request each; prints the level's row and returns
/// its rate.
fn level(
    addr: std::net::SocketAddr,
    client_config: &Arc<rustls::ClientConfig>,
    doc: &Arc<Vec<u8>>,
    callers: usize,
    time: Duration,
) -> anyhow::Result<f64> {
    let barrier = Arc::new(Barrier::new(callers + 1));
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + time;
    let mut threads = Vec::new();
    for _ in 0..callers {
        let (config, doc, barrier) = (client_config.clone(), doc.clone(), barrier.clone());
        threads.push(std::thread::Builder::new().name("client".into()).spawn(
            move || -> anyhow::Result<Vec<Duration>> {
                let tcp = TcpStream::connect(addr)?;
                tcp.set_nodelay(true)?;
                let conn =
                    rustls::ClientConnection::new(config, ServerName::try_from("localhost")?)?;
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut reply = Vec::new();
                let mut lat = Vec::new();
                // One warm-up request (handshake), then wait for the others.
                write_message(&mut tls, &[&doc])?;
                read_message(&mut tls, &mut reply)?;
                std::thread::sleep(start.saturating_duration_since(Instant::now()));
                while Instant::now() < end {
                    let t = Instant::now();
                    write_message(&mut tls, &[&doc])?;
                    anyhow::ensure!(read_message(&mut tls, &mut reply)?, "server hung up");
                    anyhow::ensure!(reply.len() == doc.len() + UPDATE, "short reply");
                    lat.push(t.elapsed());
                }
                barrier.wait();
                barrier.wait();
                Ok(lat)
            },
        )?);
    }
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let (client0, total0) = cpu();
    barrier.wait();
    let wall = start.elapsed().as_secs_f64();
    let (client1, total1) = cpu();
    barrier.wait();
    let mut lat = Vec::new();
    for t in threads {
        lat.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("client thread panicked"))??,
        );
    }
    Ok(report(
        callers,
        lat,
        wall,
        client1 - client0,
        total1 - total0,
    ))
}
