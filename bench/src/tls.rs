//! The development PKI the tools serve with, and their callers' side of mutual TLS.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A temporary folder holding a freshly generated development PKI in its `certs` folder (see
/// `segel_devpki::FILES`); the folder goes when the returned handle is dropped.
///
/// # Errors
/// When the folder cannot be made or the PKI not written.
pub fn temporary_pki() -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let certs = dir.path().join("certs");
    segel_devpki::generate(&certs)?;
    Ok((dir, certs))
}

/// The caller's TLS for a server of the development PKI in `certs`: its TLS root, the `client`
/// certificate and key, and `localhost` as the server's name.
///
/// # Errors
/// When a file cannot be read.
pub fn client_tls(certs: &Path) -> std::io::Result<ClientTlsConfig> {
    let read = |name: &str| std::fs::read(certs.join(name));
    Ok(ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("tls-ca.pem")?))
        .identity(Identity::from_pem(read("client.pem")?, read("client.key")?))
        .domain_name("localhost"))
}

/// A connection to `https://localhost:{port}` over `tls`, with the server's flow-control
/// windows (4 MiB a stream, 16 MiB the connection).
///
/// # Errors
/// When the connection or its TLS handshake fails.
pub async fn connect(port: u16, tls: &ClientTlsConfig) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("https://localhost:{port}"))?
        .tls_config(tls.clone())?
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(16 << 20))
        .connect()
        .await?)
}
