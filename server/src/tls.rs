//! TLS for the server: the rustls configuration (client certificates optional, checked against
//! the client CA and, when configured, its CRL, re-read when the file changes) and the accept
//! loop (a limit on open connections, a deadline for the handshake, an idle timeout).
//!
//! tonic's own TLS has no CRL hook and no connection limit, so the server builds its rustls
//! configuration here and hands tonic finished TLS streams.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;

use crate::config::Config;
use crate::limits::{Conn, PerAddress};

/// What is wrong with the TLS material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server certificate or key, or the client CA.
    #[error("TLS: {0}")]
    Material(String),
    /// A certificate revocation list.
    #[error("client CRL: {0}")]
    Crl(String),
    /// A private key that does not belong to the certificate it is configured with.
    #[error("TLS: the key {key} does not belong to the certificate {cert}")]
    KeyMismatch {
        /// The certificate (chain) file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// A certificate or key file that cannot be used.
    #[error("TLS: {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Check that the server's certificate chain `cert_pem` (read from `cert`) and its private key
/// `key_pem` (read from `key`) parse and belong together: the key's public half is the one in
/// the first certificate. The file names are only for the error.
///
/// # Errors
/// [`TlsError::File`] for a file that does not parse (naming it), [`TlsError::KeyMismatch`]
/// (naming both) for a key of another certificate.
pub fn check_key_pair(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert: &Path,
    key: &Path,
) -> Result<(), TlsError> {
    let file = |path: &Path, message: String| TlsError::File {
        path: path.to_path_buf(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| file(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(file(cert, "no -----BEGIN CERTIFICATE----- block".into()));
    }
    let der = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| file(key, format!("not a PEM private key: {e}")))?;
    let signing_key = provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| file(key, format!("unusable private key: {e}")))?;
    match rustls::sign::CertifiedKey::new(chain, signing_key).keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            })
        }
        Err(e) => Err(file(cert, format!("unusable certificate: {e}"))),
    }
}

/// The CRLs of `text` (PEM `X509 CRL` blocks, or one DER CRL), each checked to be a CRL signed
/// by one of the client CA certificates of `client_ca_pem`. Returned as DER.
///
/// # Errors
/// No CRL, one that does not parse, or one not signed by a client CA certificate.
pub fn read_crls(text: &[u8], client_ca_pem: &[u8]) -> Result<Vec<Vec<u8>>, TlsError> {
    let crl_err = |m: String| TlsError::Crl(m);
    let ders: Vec<Vec<u8>> = if text.trim_ascii_start().starts_with(b"-----BEGIN") {
        CertificateRevocationListDer::pem_slice_iter(text)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| crl_err(format!("bad PEM: {e}")))?
    } else {
        vec![text.to_vec()]
    };
    if ders.is_empty() {
        return Err(crl_err("no -----BEGIN X509 CRL----- block".into()));
    }
    let cas = pades::pem::certificates(client_ca_pem)
        .map_err(|e| TlsError::Material(format!("client CA: {}", e.0)))?;
    let cas: Vec<x509_parser::certificate::X509Certificate<'_>> = cas
        .iter()
        .map(|c| {
            x509_parser::parse_x509_certificate(c)
                .map(|(_, c)| c)
                .map_err(|e| TlsError::Material(format!("client CA: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let now = x509_parser::time::ASN1Time::now();
    for (i, der) in ders.iter().enumerate() {
        let n = i + 1;
        let (rest, crl) = x509_parser::parse_x509_crl(der)
            .map_err(|e| crl_err(format!("CRL {n} does not parse: {e}")))?;
        if !rest.is_empty() {
            return Err(crl_err(format!("CRL {n} is followed by stray bytes")));
        }
        let signed = cas.iter().any(|ca| {
            ca.subject().as_raw() == crl.issuer().as_raw()
                && crl.verify_signature(ca.public_key()).is_ok()
        });
        if !signed {
            return Err(crl_err(format!(
                "CRL {n} (issuer {}) is not signed by a client CA certificate",
                crl.issuer()
            )));
        }
        if crl.next_update().is_some_and(|t| t < now) {
            tracing::warn!(
                crl = n,
                issuer = %crl.issuer(),
                "the client CRL is past its nextUpdate; it is still applied — publish a new one"
            );
        }
    }
    Ok(ders)
}

/// The file's identity and version: a change of any of them means "read it again".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &std::path::Path) -> io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    Ok(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        inode: m.ino(),
    })
}

struct CrlWatch {
    path: PathBuf,
    every: Duration,
    /// When the file was last looked at, and what it was then.
    state: Mutex<(Instant, Option<Stamp>)>,
}

/// The server's TLS configuration, rebuilt when the client CRL file changes.
pub struct Acceptor {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca_pem: Vec<u8>,
    crl: Option<CrlWatch>,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("crl", &self.crl.as_ref().map(|c| &c.path))
            .finish_non_exhaustive()
    }
}

impl Acceptor {
    /// The TLS configuration of `config` with its start-up CRLs.
    ///
    /// # Errors
    /// Unusable certificates, key or CRLs.
    pub fn new(config: &Config) -> Result<Self, TlsError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&config.tls_cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| TlsError::Material(format!("server certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&config.tls_key_pem)
            .map_err(|e| TlsError::Material(format!("server key: {e}")))?;
        let (crl, crls) = match &config.client_crl {
            None => (None, Vec::new()),
            Some((path, crls)) => (
                Some(CrlWatch {
                    path: path.clone(),
                    every: config.crl_check,
                    // No stamp yet: the first look re-reads the file, so that a change between
                    // the start-up read and now is not missed.
                    state: Mutex::new((Instant::now(), None)),
                }),
                crls.clone(),
            ),
        };
        let current = build(&chain, &key, &config.client_ca_pem, crls)?;
        Ok(Self {
            chain,
            key,
            client_ca_pem: config.client_ca_pem.clone(),
            crl,
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// The configuration for a new connection, after re-reading the CRL file if it is due
    /// for a look and has changed. A changed file that is not acceptable is logged and the
    /// CRLs in force are kept.
    pub async fn config(self: &Arc<Self>) -> Arc<ServerConfig> {
        if self.crl_due() {
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.reload()).await;
        }
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn crl_due(&self) -> bool {
        let Some(w) = &self.crl else { return false };
        let Ok(mut s) = w.state.lock() else {
            return false;
        };
        if s.0.elapsed() < w.every && !w.every.is_zero() {
            return false;
        }
        s.0 = Instant::now();
        true
    }

    /// Look at the CRL file; when it changed, read, check and apply it.
    pub fn reload(&self) {
        let Some(w) = &self.crl else { return };
        let now = stamp(&w.path).ok();
        {
            let Ok(mut s) = w.state.lock() else { return };
            if s.1 == now {
                return;
            }
            s.1.clone_from(&now);
        }
        let result = std::fs::read(&w.path)
            .map_err(|e| TlsError::Crl(format!("{}: {e}", w.path.display())))
            .and_then(|text| read_crls(&text, &self.client_ca_pem))
            .and_then(|crls| build(&self.chain, &self.key, &self.client_ca_pem, crls));
        match result {
            Ok(cfg) => {
                if let Ok(mut c) = self.current.write() {
                    *c = Arc::new(cfg);
                }
                tracing::info!(path = %w.path.display(), "client CRL read and applied");
            }
            Err(e) => tracing::error!(
                path = %w.path.display(),
                error = %e,
                "the changed client CRL is refused; the previous one stays in force"
            ),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The rustls configuration: the server's certificate, client certificates optional and checked
/// against the client CA and `crls`, ALPN h2.
fn build(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    client_ca_pem: &[u8],
    crls: Vec<Vec<u8>>,
) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(client_ca_pem) {
        let c = c.map_err(|e| TlsError::Material(format!("client CA: {e}")))?;
        roots
            .add(c)
            .map_err(|e| TlsError::Material(format!("client CA: {e}")))?;
    }
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated();
    if !crls.is_empty() {
        // Every client certificate must be covered by a CRL of its issuer (unknown status
        // is refused); the client CA itself is the configured anchor.
        verifier = verifier
            .with_crls(crls.into_iter().map(CertificateRevocationListDer::from))
            .only_check_end_entity_revocation();
    }
    let verifier = verifier
        .build()
        .map_err(|e| TlsError::Crl(format!("{e}")))?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Material(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.to_vec(), key.clone_key())
        .map_err(|e| TlsError::Material(format!("server certificate and key: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// The rustls configuration of the HTTP listener (`[http]` cert and key): no client
/// certificates, ALPN `http/1.1`.
///
/// # Errors
/// An unusable certificate or key.
pub fn web_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<ServerConfig, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Material(format!("http.cert: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::Material(format!("http.key: {e}")))?;
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Material(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Material(format!("http.cert and http.key: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Connection limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Open connections, handshakes included.
    pub max_connections: usize,
    /// Open connections from one IPv4 address or IPv6 /64.
    pub max_per_address: usize,
    /// Deadline of the TLS handshake.
    pub handshake_timeout: Duration,
    /// A connection with no bytes either way for this long is closed.
    pub idle_timeout: Duration,
}

/// Accept TCP connections on `listener` and hand the finished TLS streams out, in a task of
/// its own that ends (closing the listener) when the returned stream is dropped.
///
/// Beyond `max_connections` open connections (or `max_per_address` from the new connection's
/// address) a new one is closed at once; a handshake not
/// finished within `handshake_timeout` is closed.
pub fn incoming(
    listener: TcpListener,
    acceptor: Arc<Acceptor>,
    limits: ConnLimits,
) -> tokio_stream::wrappers::ReceiverStream<Result<TlsStream<Conn>, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let open = Arc::new(Semaphore::new(limits.max_connections));
        let per_address = PerAddress::new(limits.max_per_address);
        let mut last_warning: Option<Instant> = None;
        loop {
            let accepted = tokio::select! {
                () = tx.closed() => break,
                a = listener.accept() => a,
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: try again shortly, not in a loop.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let slots = match (
                open.clone().try_acquire_owned(),
                per_address.take(peer.ip()),
            ) {
                (Ok(permit), Some(address)) => (permit, address),
                (total, _) => {
                    metrics::counter!("segel_connections_refused_total").increment(1);
                    if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        last_warning = Some(Instant::now());
                        tracing::warn!(
                            max_connections = limits.max_connections,
                            max_per_address = limits.max_per_address,
                            peer = %peer.ip(),
                            limit = if total.is_err() { "total" } else { "per address" },
                            "connection limit reached: closing new connections"
                        );
                    }
                    drop(tcp);
                    continue;
                }
            };
            // Small gRPC messages must not wait for Nagle's algorithm and delayed ACKs.
            let _ = tcp.set_nodelay(true);
            let conn = Conn::new(tcp, slots, limits.idle_timeout);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let config = acceptor.config().await;
                let handshake = tokio_rustls::TlsAcceptor::from(config).accept(conn);
                match tokio::time::timeout(limits.handshake_timeout, handshake).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => {
                        metrics::counter!("segel_tls_handshake_timeouts_total").increment(1);
                        tracing::debug!("TLS handshake not finished in time: closed");
                    }
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let certs = t.path().join("certs");
        segel_devpki::generate(&certs).expect("dev PKI");
        (t, certs)
    }

    fn check(certs: &Path, cert: &str, key: &str) -> Result<(), TlsError> {
        let (c, k) = (certs.join(cert), certs.join(key));
        let cert_pem = std::fs::read(&c).expect("read cert");
        let key_pem = std::fs::read(&k).expect("read key");
        check_key_pair(&cert_pem, &key_pem, &c, &k)
    }

    #[test]
    fn a_key_of_its_certificate_passes() {
        let (_t, certs) = pki();
        check(&certs, "server.pem", "server.key").expect("the pair matches");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let (_t, certs) = pki();
        let e = check(&certs, "server.pem", "client.key").expect_err("mismatch");
        assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e:?}");
        let m = e.to_string();
        assert!(m.contains("server.pem") && m.contains("client.key"), "{m}");
    }

    #[test]
    fn a_file_that_is_not_pem_is_refused_by_name() {
        let (_t, certs) = pki();
        let e = check(&certs, "server.key", "server.key").expect_err("no certificate");
        assert!(e.to_string().contains("server.key"), "{e}");
        let e = check(&certs, "server.pem", "server.pem").expect_err("no key");
        assert!(
            matches!(&e, TlsError::File { path, .. } if path.ends_with("server.pem")),
            "{e:?}"
        );
    }
}
