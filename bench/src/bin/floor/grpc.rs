//! The gRPC part of the floor: the same work as the blocking part behind the same gRPC stack as
//! the server (tonic over rustls, the `Signer` service's `SignPdf` with the server's window
//! sizes, eight connections shared by the callers as in the load tool), hashing and signing on
//! the async worker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, rand::SystemRandom, signature};
use segel_bench::tls;
use segel_proto::v1 as pb;

use crate::{cpu, report, UPDATE};

/// The same work as the blocking part's server behind the server's gRPC stack: `SignPdf` only.
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
/// at each of `levels` for `secs` each; returns the best rate.
pub(crate) fn grpc_part(
    certs: &std::path::Path,
    key: Arc<signature::RsaKeyPair>,
    doc: &[u8],
    secs: u64,
    levels: &[usize],
) -> anyhow::Result<f64> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    let port = serve(&server_rt, certs, key)?;
    let client_tls = tls::client_tls(certs)?;
    let doc = bytes::Bytes::copy_from_slice(doc);
    let mut peak: f64 = 0.0;
    println!("gRPC floor: the same work behind tonic (SignPdf), eight connections");
    println!(
        "{:>8} {:>8} {:>7} {:>7} {:>14} {:>14} {:>14}",
        "callers", "sig/s", "p50 ms", "p99 ms", "total µs/sig", "server µs/sig", "client µs/sig"
    );
    for &callers in levels {
        let (lat, wall, client, total) = client_rt.block_on(level(
            port,
            &client_tls,
            &doc,
            callers,
            Duration::from_secs(secs),
        ))?;
        let rate = report(callers, lat, wall, client, total);
        peak = peak.max(rate);
    }
    Ok(peak)
}

/// Serves [`FloorSigner`] with `key` over mutual TLS with the development PKI in `certs`, on
/// `rt`; returns the port on the loopback address.
fn serve(
    rt: &tokio::runtime::Runtime,
    certs: &std::path::Path,
    key: Arc<signature::RsaKeyPair>,
) -> anyhow::Result<u16> {
    use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
    let read = |n: &str| std::fs::read(certs.join(n));
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(read("server.pem")?, read("server.key")?))
        .client_ca_root(Certificate::from_pem(read("tls-ca.pem")?))
        .client_auth_optional(true);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    rt.spawn(async move {
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
    Ok(port)
}

/// `callers` callers signing `doc` in a closed loop for `time` over at most eight shared
/// connections to `port`: their latencies, the wall time in seconds, and the CPU time of the
/// callers' threads and of the whole process meanwhile.
async fn level(
    port: u16,
    client_tls: &tonic::transport::ClientTlsConfig,
    doc: &bytes::Bytes,
    callers: usize,
    time: Duration,
) -> anyhow::Result<(Vec<Duration>, f64, Duration, Duration)> {
    let mut channels = Vec::new();
    for _ in 0..callers.min(8) {
        channels.push(tls::connect(port, client_tls).await?);
    }
    let start = Instant::now();
    let end = start + time;
    let (client0, total0) = cpu();
    let mut tasks = Vec::new();
    for w in 0..callers {
        let mut c = pb::signer_client::SignerClient::new(channels[w % channels.len()].clone())
            .max_decoding_message_size(8 << 20);
        let doc = doc.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                n += 1;
                let r = c
                    .sign_pdf(pb::SignPdfRequest {
                        agency_id: "dev".into(),
                        pdf: doc.clone(),
                        // The server requires one: unique per caller and request.
                        request_id: format!("floor-{w}-{n}"),
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
    let (client1, total1) = cpu();
    anyhow::Ok((lat, wall, client1 - client0, total1 - total0))
}
