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
//! for what `examples/load.rs` can reach on this machine.
//!
//! A second part does the same work behind the same gRPC stack as the server (tonic over
//! rustls, the `Signer` service's `SignPdf` with the server's window sizes, eight connections
//! shared by the callers as in `examples/load.rs`), hashing and signing on the async worker:
//! the difference to the first part is what the transport costs, and the difference to
//! `examples/load.rs` is what the server's own work (PDF, log, limits) costs.
//!
//! `cargo run --release -p segel-server --example floor [-- SECONDS_PER_LEVEL]`
//! (`SEGEL_FLOOR_LEVELS=2,4,16` picks the numbers of concurrent callers of the first part,
//! `SEGEL_FLOOR_GRPC_LEVELS=16,64` those of the second.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, rand::SystemRandom, signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use segel_proto::v1 as pb;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The bytes a signed PDF's incremental update adds (signature room, dictionaries, xref).
const UPDATE: usize = 10 * 1024;

/// CPU time of this process's live threads whose names start with `prefix`, and of the
/// whole process (live and ended threads), from `/proc/self`.
fn cpu(prefix: &str) -> (Duration, Duration) {
    fn ticks(stat: &str) -> (String, u64) {
        let Some((head, rest)) = stat.rsplit_once(')') else {
            return (String::new(), 0);
        };
        let name = head.split_once('(').map_or("", |(_, n)| n).to_string();
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| {
            f.get(n - 3)
                .and_then(|w| w.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (name, field(14) + field(15))
    }
    let mut threads = 0;
    for t in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) {
            let (name, t) = ticks(&stat);
            if name.starts_with(prefix) {
                threads += t;
            }
        }
    }
    let process = std::fs::read_to_string("/proc/self/stat")
        .map(|s| ticks(&s).1)
        .unwrap_or(0);
    (
        Duration::from_millis(threads * 10),
        Duration::from_millis(process * 10),
    )
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

/// The same work as [`serve`] behind the server's gRPC stack: `SignPdf` only.
struct FloorSigner {
    key: Arc<signature::RsaKeyPair>,
    rng: SystemRandom,
}

#[tonic::async_trait]
impl pb::signer_server::Signer for FloorSigner {
    async fn sign_pdf(
        &self,
        req: tonic::Request<pb::SignPdfRequest>,
    ) -> Result<tonic::Response<pb::SignPdfResponse>, tonic::Status> {
        let doc = req.into_inner().pdf;
        let hash = digest::digest(&digest::SHA256, &doc);
        let mut attrs = [0u8; 200];
        attrs[..32].copy_from_slice(hash.as_ref());
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, &attrs, &mut sig)
            .map_err(|_| tonic::Status::internal("RSA signing failed"))?;
        let mut out = Vec::with_capacity(doc.len() + UPDATE);
        out.extend_from_slice(&doc);
        out.resize(doc.len() + UPDATE - sig.len(), 0x20);
        out.extend_from_slice(&sig);
        Ok(tonic::Response::new(pb::SignPdfResponse {
            signed_pdf: out.into(),
            ..Default::default()
        }))
    }

    type SignPdfStreamStream = std::pin::Pin<
        Box<
            dyn tokio_stream::Stream<Item = Result<pb::SignPdfStreamResponse, tonic::Status>>
                + Send,
        >,
    >;

    async fn sign_pdf_stream(
        &self,
        _: tonic::Request<tonic::Streaming<pb::SignPdfStreamRequest>>,
    ) -> Result<tonic::Response<Self::SignPdfStreamStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not part of the floor"))
    }

    async fn sign_digest(
        &self,
        _: tonic::Request<pb::SignDigestRequest>,
    ) -> Result<tonic::Response<pb::SignDigestResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not part of the floor"))
    }

    async fn list_agencies(
        &self,
        _: tonic::Request<pb::ListAgenciesRequest>,
    ) -> Result<tonic::Response<pb::ListAgenciesResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("not part of the floor"))
    }
}

/// The gRPC part: a tonic server with [`FloorSigner`] on its own runtime, callers on another,
/// at each of `levels`; returns the best rate.
fn grpc_part(
    certs: &std::path::Path,
    key: Arc<signature::RsaKeyPair>,
    doc: &[u8],
    secs: u64,
    levels: &[usize],
) -> anyhow::Result<f64> {
    use tonic::transport::{
        Certificate, Channel, ClientTlsConfig, Identity, Server, ServerTlsConfig,
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    let read = |n: &str| std::fs::read(certs.join(n));
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(read("server.pem")?, read("server.key")?))
        .client_ca_root(Certificate::from_pem(read("tls-ca.pem")?))
        .client_auth_optional(true);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    server_rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let incoming = tokio_stream::StreamExt::map(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            |s| {
                s.inspect(|s| {
                    let _ = s.set_nodelay(true);
                })
            },
        );
        Server::builder()
            .tls_config(tls)?
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(16 << 20))
            .add_service(
                pb::signer_server::SignerServer::new(FloorSigner {
                    key,
                    rng: SystemRandom::new(),
                })
                .max_decoding_message_size(8 << 20)
                .max_encoding_message_size(8 << 20),
            )
            .serve_with_incoming(incoming)
            .await?;
        anyhow::Ok(())
    });
    let client_tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("tls-ca.pem")?))
        .identity(Identity::from_pem(read("client.pem")?, read("client.key")?))
        .domain_name("localhost");
    let doc = bytes::Bytes::copy_from_slice(doc);
    let mut peak: f64 = 0.0;
    println!("gRPC floor: the same work behind tonic (SignPdf), eight connections");
    println!(
        "{:>8} {:>8} {:>7} {:>7} {:>14} {:>14} {:>14}",
        "callers", "sig/s", "p50 ms", "p99 ms", "total µs/sig", "server µs/sig", "client µs/sig"
    );
    for &callers in levels {
        let (lat, wall, client, total) = client_rt.block_on(async {
            let mut channels = Vec::new();
            for _ in 0..callers.min(8) {
                channels.push(
                    Channel::from_shared(format!("https://localhost:{port}"))?
                        .tls_config(client_tls.clone())?
                        .initial_stream_window_size(Some(4 << 20))
                        .initial_connection_window_size(Some(16 << 20))
                        .connect()
                        .await?,
                );
            }
            let start = Instant::now();
            let end = start + Duration::from_secs(secs);
            let (client0, total0) = cpu("client");
            let mut tasks = Vec::new();
            for w in 0..callers {
                let mut c =
                    pb::signer_client::SignerClient::new(channels[w % channels.len()].clone())
                        .max_decoding_message_size(8 << 20);
                let doc = doc.clone();
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    while Instant::now() < end {
                        let t = Instant::now();
                        let r = c
                            .sign_pdf(pb::SignPdfRequest {
                                agency_id: "dev".into(),
                                pdf: doc.clone(),
                                ..Default::default()
                            })
                            .await?;
                        anyhow::ensure!(
                            r.get_ref().signed_pdf.len() == doc.len() + UPDATE,
                            "short reply"
                        );
                        lat.push(t.elapsed());
                    }
                    anyhow::Ok(lat)
                }));
            }
            let mut lat = Vec::new();
            for t in tasks {
                lat.extend(t.await??);
            }
            let wall = start.elapsed().as_secs_f64();
            let (client1, total1) = cpu("client");
            anyhow::Ok((lat, wall, client1 - client0, total1 - total0))
        })?;
        let rate = report(callers, lat, wall, client, total);
        peak = peak.max(rate);
    }
    Ok(peak)
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
    let p = |q: f64| lat[((n - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
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

fn openssl_rsa2048() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-multi", "2", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("rsa 2048"))?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    nums.iter().rev().nth(1).copied()
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let levels: Vec<usize> = std::env::var("SEGEL_FLOOR_LEVELS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![2, 4, 8, 16]);
    let dir = tempfile::tempdir()?;
    let certs = dir.path().join("certs");
    segel_devpki::generate(&certs)?;

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
    let key = match PrivateKeyDer::from_pem_file(certs.join("dev-agency.key"))? {
        PrivateKeyDer::Pkcs8(k) => Arc::new(
            signature::RsaKeyPair::from_pkcs8(k.secret_pkcs8_der())
                .map_err(|e| anyhow::anyhow!("agency key: {e}"))?,
        ),
        _ => anyhow::bail!("agency key is not PKCS#8"),
    };

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    {
        let server_config = server_config.clone();
        let key = key.clone();
        std::thread::Builder::new()
            .name("server-accept".into())
            .spawn(move || {
                for tcp in listener.incoming().flatten() {
                    let (c, k) = (server_config.clone(), key.clone());
                    let _ = std::thread::Builder::new()
                        .name("server".into())
                        .spawn(move || serve(tcp, c, k));
                }
            })?;
    }

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
        let barrier = Arc::new(Barrier::new(callers + 1));
        let start = Instant::now() + Duration::from_millis(200);
        let end = start + Duration::from_secs(secs);
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
        let (client0, total0) = cpu("client");
        barrier.wait();
        let wall = start.elapsed().as_secs_f64();
        let (client1, total1) = cpu("client");
        barrier.wait();
        let mut lat = Vec::new();
        for t in threads {
            lat.extend(
                t.join()
                    .map_err(|_| anyhow::anyhow!("client thread panicked"))??,
            );
        }
        let rate = report(callers, lat, wall, client1 - client0, total1 - total0);
        peak = peak.max(rate);
    }
    let grpc_levels: Vec<usize> = std::env::var("SEGEL_FLOOR_GRPC_LEVELS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![16, 64]);
    let grpc_peak = grpc_part(&certs, key, &doc, secs, &grpc_levels)?;
    match openssl_rsa2048() {
        Some(o) => println!(
            "openssl speed -multi 2 rsa2048: {o:.0} sign/s; floor peak {peak:.0} sig/s = {:.0}% of it; gRPC floor peak {grpc_peak:.0} sig/s = {:.0}%",
            peak / o * 100.0,
            grpc_peak / o * 100.0
        ),
        None => println!("openssl speed not available"),
    }
    Ok(())
}
