//! The HTTP listener's settings: `http_listen` and `[http]` as written, resolved into
//! [`HttpConfig`] (the TLS files read and matched, every limit checked).
//!
//! ```toml
//! http_listen = "0.0.0.0:8080"        # the verification page, the JSON APIs, the log's tiles
//!
//! [http]                              # optional; every key has a default
//! cert = "/etc/segel/web.pem"         # TLS for this listener (both or neither; without them
//! key = "/etc/segel/web.key"          # it speaks plain HTTP, for a reverse proxy in front)
//! max_upload_bytes = 26214400         # a larger upload: 413 (default 25 MiB)
//! max_concurrent_uploads = 16         # uploads being received at once; more: 429 (default 16)
//! max_uploads_per_address = 4         # …from one IPv4 address or IPv6 /64 (default 4; behind a
//!                                     # reverse proxy, as many as max_concurrent_uploads)
//! max_connections = 1024              # open connections; beyond: closed at once
//! max_connections_per_address = 64    # the same from one IPv4 address or IPv6 /64
//! header_timeout_secs = 10            # request headers not complete by then: connection closed
//! ```
//!
//! Uploads are verified under the same limits as gRPC `VerifyPdf`
//! (`max_concurrent_verifications`, `max_queued_verifications`, `request_timeout_secs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{read, read_secret, ConfigError};

/// `[http]` as written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// TLS certificate chain (PEM) of this listener; with `key`, or neither.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// TLS private key (PEM, mode 0600).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Largest upload accepted, in bytes.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: usize,
    /// Uploads being received at once (each holds up to `max_upload_bytes` in memory).
    #[serde(default = "default_max_uploads")]
    pub max_concurrent_uploads: usize,
    /// Uploads being received at once from one IPv4 address or IPv6 /64.
    #[serde(default = "default_max_uploads_per_address")]
    pub max_uploads_per_address: usize,
    /// Open connections.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections from one IPv4 address or IPv6 /64.
    #[serde(default = "default_max_per_address")]
    pub max_connections_per_address: usize,
    /// Seconds a client has to send its request headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
}

impl Default for RawHttp {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            max_upload_bytes: default_max_upload(),
            max_concurrent_uploads: default_max_uploads(),
            max_uploads_per_address: default_max_uploads_per_address(),
            max_connections: default_max_connections(),
            max_connections_per_address: default_max_per_address(),
            header_timeout_secs: default_header_timeout(),
        }
    }
}

/// The default upload limit: 25 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;

fn default_max_upload() -> usize {
    DEFAULT_MAX_UPLOAD_BYTES
}
fn default_max_uploads() -> usize {
    16
}
fn default_max_uploads_per_address() -> usize {
    4
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_per_address() -> usize {
    64
}
fn default_header_timeout() -> u64 {
    10
}

/// The HTTP listener, resolved.
#[derive(Clone)]
pub struct HttpConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS certificate chain and key (PEM), when this listener speaks HTTPS itself.
    pub tls: Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)>,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Uploads being received at once.
    pub max_concurrent_uploads: usize,
    /// Uploads being received at once from one IPv4 address or IPv6 /64.
    pub max_uploads_per_address: usize,
    /// Open connections.
    pub max_connections: usize,
    /// Open connections per IPv4 address or IPv6 /64.
    pub max_connections_per_address: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("listen", &self.listen)
            .field("tls", &self.tls.is_some())
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpConfig {
    /// Plain HTTP on `listen` with every default limit.
    pub fn plain_defaults(listen: SocketAddr) -> Self {
        let d = RawHttp::default();
        Self {
            listen,
            tls: None,
            max_upload_bytes: d.max_upload_bytes,
            max_concurrent_uploads: d.max_concurrent_uploads,
            max_uploads_per_address: d.max_uploads_per_address,
            max_connections: d.max_connections,
            max_connections_per_address: d.max_connections_per_address,
            header_timeout: Duration::from_secs(d.header_timeout_secs),
        }
    }
}

impl RawHttp {
    /// Resolve with the listen address `listen` (`http_listen`; none: no listener, and `[http]`
    /// must then be left out or empty of TLS files).
    ///
    /// # Errors
    /// A bad address, a TLS file that cannot be read or does not match, a limit of 0.
    pub fn resolve(&self, listen: Option<&str>) -> Result<Option<HttpConfig>, ConfigError> {
        let Some(listen) = listen else {
            if self.cert.is_some() || self.key.is_some() {
                return Err(ConfigError::Invalid(
                    "[http] names TLS files but http_listen is not set: set http_listen, or \
                     leave out http.cert and http.key"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let listen: SocketAddr = listen.parse().map_err(|_| {
            ConfigError::Invalid(format!("http_listen = {listen:?} is not an address:port"))
        })?;
        if self.max_upload_bytes < 1024
            || self.max_concurrent_uploads == 0
            || self.max_uploads_per_address == 0
            || self.max_connections == 0
            || self.max_connections_per_address == 0
            || self.header_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "http.max_upload_bytes must be ≥ 1024, and http.max_concurrent_uploads, \
                 http.max_uploads_per_address, http.max_connections, \
                 http.max_connections_per_address and http.header_timeout_secs ≥ 1"
                    .into(),
            ));
        }
        let tls = match (&self.cert, &self.key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let cert_pem = read(cert)?;
                let key_pem = read_secret(key)?;
                crate::tls::check_key_pair(&cert_pem, &key_pem, cert, key)
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?;
                Some((cert_pem, key_pem))
            }
            _ => {
                return Err(ConfigError::Invalid(
                    "http.cert and http.key go together: give both for HTTPS, or neither for \
                     plain HTTP behind a reverse proxy"
                        .into(),
                ))
            }
        };
        Ok(Some(HttpConfig {
            listen,
            tls,
            max_upload_bytes: self.max_upload_bytes,
            max_concurrent_uploads: self.max_concurrent_uploads,
            max_uploads_per_address: self.max_uploads_per_address,
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
        }))
    }
}
