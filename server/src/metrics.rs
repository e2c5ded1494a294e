//! Prometheus metrics on a separate local port: `GET /metrics` (any path answers the same).
//!
//! - `segel_signatures_total{agency, outcome}` — signing requests (SignPdf, SignPdfStream,
//!   SignDigest) by outcome (`ok`, or the gRPC code name); `agency` is `unknown` for an agency
//!   the configuration does not name, so callers cannot make up label values;
//! - `segel_sign_seconds{agency}` — time to sign and log one document;
//! - `segel_log_size` — entries in the log;
//! - `segel_commit_batch_size` — appends made durable per group commit;
//! - `segel_certificate_expiry_timestamp_seconds{agency}` — each agency's e-seal certificate's
//!   notAfter (Unix seconds), set at start-up ([`crate::expiry`]);
//! - `segel_tls_certificate_expiry_timestamp_seconds` — the TLS server certificate's notAfter
//!   (a gauge of its own, so that the agency gauge keeps one label set).

use std::net::SocketAddr;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Install the recorder (once per process) and return its handle.
///
/// # Errors
/// If another recorder is installed already.
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets(&[
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
        ])
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

/// Serve the metrics text on `addr` (plain HTTP/1.0, one response per connection).
///
/// # Errors
/// If the address cannot be bound.
pub async fn serve(addr: SocketAddr, handle: PrometheusHandle) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(2), sock.read(&mut buf))
                        .await;
                let body = handle.render();
                let head = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    Ok(local)
}
