//! Configuration: one TOML file (raw, as written) resolved into checked settings (files read,
//! keys loaded and matched to their certificates, permissions and validity checked).
//!
//! ```toml
//! listen = "127.0.0.1:50051"          # gRPC over TLS
//! data = "data"                       # the signature log directory
//! origin = "segel.dev/log"            # the log's origin line (its public name)
//! max_document_bytes = 52428800       # larger requests: RESOURCE_EXHAUSTED
//! max_concurrent_signatures = 64      # signings in progress at once
//! request_timeout_secs = 30
//! trust_anchors = ["certs-dev/doc-root.pem"]   # for VerifyPdf
//! metrics_listen = "127.0.0.1:9464"   # Prometheus text on plain HTTP (optional; keep local)
//! http_listen = "0.0.0.0:8080"        # verification page, JSON APIs, log tiles (optional;
//!                                     # `[http]`: see `config::http`)
//! # Limits against hostile callers (VerifyPdf needs no client certificate):
//! max_concurrent_verifications = 2    # VerifyPdf running at once (default: one per core)
//! max_queued_verifications = 2        # waiting beyond those (default: one per core); more:
//!                                     # RESOURCE_EXHAUSTED at once
//! max_connections = 1024              # open connections, handshakes included; beyond: closed
//! max_connections_per_address = 64    # the same from one IPv4 address or IPv6 /64
//! max_concurrent_streams = 64         # HTTP/2 streams per connection (sent in SETTINGS)
//! idle_timeout_secs = 120             # a connection with no bytes either way for this long is
//!                                     # closed (must exceed request_timeout_secs)
//!
//! [tls]
//! cert = "certs-dev/server.pem"
//! key = "certs-dev/server.key"
//! client_ca = "certs-dev/tls-ca.pem"  # client certificates for signing
//! handshake_timeout_secs = 10         # a TLS handshake not finished by then is closed
//! client_crl = "certs-dev/clients.crl" # optional: revoked client certificates (PEM or DER,
//!                                     # signed by the client CA); re-read when it changes
//! crl_check_secs = 5                  # how often at most the CRL file is looked at
//!
//! [[agency]]
//! id = "dev"
//! name = "Dev Agency"
//! key = "certs-dev/dev-agency.key"    # PKCS#8 or PKCS#1 PEM, mode 0600
//! cert = "certs-dev/dev-agency.pem"
//! chain = "certs-dev/dev-agency-chain.pem"
//! [agency.stamp]                      # visible seals (optional; see `config::stamp`)
//! verify_url = "http://127.0.0.1:8080"
//!
//! [[allow]]                           # who may seal for which agency
//! client = "siola-dev"                # the client certificate's subject CN
//! agencies = ["dev"]
//! ```

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pades::{RsaKeySigner, SignatureAlgorithm, Signer as _, SignerIdentity};

mod http;
mod stamp;
pub use http::{HttpConfig, RawHttp, DEFAULT_MAX_UPLOAD_BYTES};
pub use stamp::{is_png_or_jpeg, RawStamp, MAX_STAMP_IMAGE};

/// Configuration problems, each naming the file or setting at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// The TOML does not parse or has unknown or missing settings.
    #[error("configuration: {0}")]
    Toml(String),
    /// An agency cannot be used.
    #[error("agency {id}: {message}")]
    Agency {
        /// The agency id.
        id: String,
        /// Why.
        message: String,
    },
    /// A setting is out of range or inconsistent.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The file as written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Listen address.
    pub listen: String,
    /// Log directory.
    pub data: PathBuf,
    /// Log origin line.
    #[serde(default = "default_origin")]
    pub origin: String,
    /// Largest document accepted.
    #[serde(default = "default_max_doc")]
    pub max_document_bytes: usize,
    /// Concurrent signings.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_signatures: usize,
    /// Per-request deadline.
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// Trust anchors for verification (PEM files).
    #[serde(default)]
    pub trust_anchors: Vec<PathBuf>,
    /// Prometheus metrics address (plain HTTP; keep it local). None: no metrics.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// VerifyPdf calls running at once.
    #[serde(default = "default_per_core")]
    pub max_concurrent_verifications: usize,
    /// VerifyPdf calls waiting for a slot beyond those running; more are RESOURCE_EXHAUSTED.
    #[serde(default = "default_per_core")]
    pub max_queued_verifications: usize,
    /// Open connections (TLS handshakes included); further ones are closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open connections from one IPv4 address or one IPv6 /64.
    #[serde(default = "default_max_per_address")]
    pub max_connections_per_address: usize,
    /// HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[serde(default = "default_max_streams")]
    pub max_concurrent_streams: u32,
    /// A connection that moved no byte either way for this long is closed.
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: u64,
    /// The HTTP listener's address (verification page, JSON APIs, the log's tiles); none: not
    /// served.
    #[serde(default)]
    pub http_listen: Option<String>,
    /// The HTTP listener's settings.
    #[serde(default)]
    pub http: RawHttp,
    /// TLS settings.
    pub tls: RawTls,
    /// Agencies.
    #[serde(default, rename = "agency")]
    pub agencies: Vec<RawAgency>,
    /// Authorisation policy.
    #[serde(default, rename = "allow")]
    pub allow: Vec<RawAllow>,
}

fn default_origin() -> String {
    "segel.dev/log".into()
}
fn default_max_doc() -> usize {
    50 * 1024 * 1024
}
fn default_concurrency() -> usize {
    64
}
fn default_timeout() -> u64 {
    30
}
fn default_per_core() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_per_address() -> usize {
    64
}
fn default_max_streams() -> u32 {
    64
}
fn default_idle() -> u64 {
    120
}
fn default_handshake() -> u64 {
    10
}
fn default_crl_check() -> u64 {
    5
}

/// `[tls]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA of client certificates (PEM).
    pub client_ca: PathBuf,
    /// Seconds a TLS handshake may take before the connection is closed.
    #[serde(default = "default_handshake")]
    pub handshake_timeout_secs: u64,
    /// Revoked client certificates: CRLs (PEM or DER) signed by the client CA. Optional.
    #[serde(default)]
    pub client_crl: Option<PathBuf>,
    /// Seconds between looks at the CRL file for a change (0: at every new connection).
    #[serde(default = "default_crl_check")]
    pub crl_check_secs: u64,
}

/// `[[agency]]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgency {
    /// Agency id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Private key (PEM, PKCS#8 or PKCS#1).
    pub key: PathBuf,
    /// Signer certificate (PEM).
    pub cert: PathBuf,
    /// Further chain certificates (PEM).
    #[serde(default)]
    pub chain: Option<PathBuf>,
    /// For an encrypted key (`ENCRYPTED PRIVATE KEY`, PKCS#8 PBES2): the environment variable
    /// holding its passphrase…
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// …or a file (mode 0600) holding it. Never on the command line.
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// Visible seals (`[agency.stamp]`); none: invisible signatures only.
    #[serde(default)]
    pub stamp: Option<RawStamp>,
}

/// `[[allow]]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllow {
    /// Client certificate subject CN.
    pub client: String,
    /// Agencies it may seal for.
    pub agencies: Vec<String>,
}

/// One agency, ready to sign.
pub struct Agency {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// RSA PKCS#1 v1.5 signer.
    pub pkcs1: Arc<RsaKeySigner>,
    /// RSASSA-PSS signer (same key).
    pub pss: Arc<RsaKeySigner>,
    /// Certificate and chain.
    pub identity: SignerIdentity,
    /// DER chain, signer first (as configured, root included if given).
    pub chain: Vec<Vec<u8>>,
    /// SHA-256 of the signer certificate.
    pub cert_sha256: [u8; 32],
    /// The signer certificate's validity: checked at every signature.
    pub validity: crate::expiry::Validity,
    /// How its visible seals look (none: no `[agency.stamp]`, invisible signatures only).
    pub stamp: Option<pades::stamp::StampSettings>,
}

impl std::fmt::Debug for Agency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agency")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Checked configuration.
#[derive(Debug)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Log directory.
    pub data: PathBuf,
    /// Log origin line.
    pub origin: String,
    /// Largest document.
    pub max_document_bytes: usize,
    /// Concurrent signings.
    pub max_concurrent_signatures: usize,
    /// Deadline.
    pub request_timeout: std::time::Duration,
    /// Verification anchors (DER).
    pub trust_anchors: Vec<Vec<u8>>,
    /// Metrics address.
    pub metrics_listen: Option<SocketAddr>,
    /// Server certificate PEM.
    pub tls_cert_pem: Vec<u8>,
    /// The server certificate's validity (watched for expiry while serving).
    pub tls_cert_validity: crate::expiry::Validity,
    /// Server key PEM.
    pub tls_key_pem: zeroize::Zeroizing<Vec<u8>>,
    /// Client CA PEM.
    pub client_ca_pem: Vec<u8>,
    /// The client CRL file and its CRLs as read at start-up (DER, each checked to be signed by
    /// a client CA certificate).
    pub client_crl: Option<(PathBuf, Vec<Vec<u8>>)>,
    /// How often at most the CRL file is looked at for a change.
    pub crl_check: std::time::Duration,
    /// TLS handshake deadline.
    pub handshake_timeout: std::time::Duration,
    /// VerifyPdf calls running at once.
    pub max_concurrent_verifications: usize,
    /// VerifyPdf calls waiting beyond those.
    pub max_queued_verifications: usize,
    /// Open connections.
    pub max_connections: usize,
    /// Open connections per IPv4 address or IPv6 /64.
    pub max_connections_per_address: usize,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Idle connection timeout.
    pub idle_timeout: std::time::Duration,
    /// The HTTP listener, if configured.
    pub http: Option<HttpConfig>,
    /// Agencies by id.
    pub agencies: HashMap<String, Agency>,
    /// Client CN → agencies.
    pub allow: HashMap<String, HashSet<String>>,
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Private key files must not be readable by group or others.
fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::File {
            path: path.to_path_buf(),
            message: format!(
                "private key file has mode {mode:o}; it must not be readable by others (chmod 600)"
            ),
        });
    }
    read(path).map(zeroize::Zeroizing::new)
}

impl RawConfig {
    /// Parse TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Toml`] with the parser's message (line and column).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// Resolve: read every file, load and check every key, at time `now` (Unix seconds).
    ///
    /// # Errors
    /// The first problem found, naming the agency, file or setting.
    pub fn resolve(&self, now: i64) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError::Invalid(format!("listen = {:?} is not an address:port", self.listen))
        })?;
        if self.max_concurrent_signatures == 0 || self.max_document_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "max_concurrent_signatures must be ≥ 1 and max_document_bytes ≥ 1024".into(),
            ));
        }
        if self.max_concurrent_verifications == 0
            || self.max_connections == 0
            || self.max_connections_per_address == 0
            || self.max_concurrent_streams == 0
            || self.tls.handshake_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "max_concurrent_verifications, max_connections, max_connections_per_address, \
                 max_concurrent_streams and tls.handshake_timeout_secs must be ≥ 1"
                    .into(),
            ));
        }
        if self.idle_timeout_secs <= self.request_timeout_secs.max(1) {
            return Err(ConfigError::Invalid(format!(
                "idle_timeout_secs ({}) must exceed request_timeout_secs ({}): a request in \
                 progress must not be cut as idle",
                self.idle_timeout_secs, self.request_timeout_secs
            )));
        }
        let client_ca_pem = read(&self.tls.client_ca)?;
        let client_crl = match &self.tls.client_crl {
            None => None,
            Some(p) => {
                let crls = crate::tls::read_crls(&read(p)?, &client_ca_pem).map_err(|e| {
                    ConfigError::File {
                        path: p.clone(),
                        message: e.to_string(),
                    }
                })?;
                Some((p.clone(), crls))
            }
        };
        let mut trust_anchors = Vec::new();
        for p in &self.trust_anchors {
            trust_anchors.extend(pades::pem::certificates(&read(p)?).map_err(|e| {
                ConfigError::File {
                    path: p.clone(),
                    message: e.0,
                }
            })?);
        }
        let mut agencies = HashMap::new();
        for a in &self.agencies {
            let agency = load_agency(a)?;
            if agencies.insert(a.id.clone(), agency).is_some() {
                return Err(ConfigError::Invalid(format!(
                    "agency {} is configured twice",
                    a.id
                )));
            }
        }
        let mut allow: HashMap<String, HashSet<String>> = HashMap::new();
        for r in &self.allow {
            for id in &r.agencies {
                if !agencies.contains_key(id) {
                    return Err(ConfigError::Invalid(format!(
                        "[[allow]] for client {:?} names unknown agency {id:?}",
                        r.client
                    )));
                }
                allow
                    .entry(r.client.clone())
                    .or_default()
                    .insert(id.clone());
            }
        }
        let tls_cert_pem = read(&self.tls.cert)?;
        let tls_cert_validity =
            certificate_validity(&tls_cert_pem, now).map_err(|message| ConfigError::File {
                path: self.tls.cert.clone(),
                message,
            })?;
        let tls_key_pem = read_secret(&self.tls.key)?;
        // The TLS key must belong to its certificate, as each agency key to its own.
        crate::tls::check_key_pair(&tls_cert_pem, &tls_key_pem, &self.tls.cert, &self.tls.key)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let metrics_listen = match &self.metrics_listen {
            None => None,
            Some(a) => Some(a.parse().map_err(|_| {
                ConfigError::Invalid(format!("metrics_listen = {a:?} is not an address:port"))
            })?),
        };
        let http = self.http.resolve(self.http_listen.as_deref())?;
        Ok(Config {
            listen,
            metrics_listen,
            http,
            data: self.data.clone(),
            origin: self.origin.clone(),
            max_document_bytes: self.max_document_bytes,
            max_concurrent_signatures: self.max_concurrent_signatures,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            trust_anchors,
            tls_cert_pem,
            tls_cert_validity,
            tls_key_pem,
            client_ca_pem,
            client_crl,
            crl_check: std::time::Duration::from_secs(self.tls.crl_check_secs),
            handshake_timeout: std::time::Duration::from_secs(self.tls.handshake_timeout_secs),
            max_concurrent_verifications: self.max_concurrent_verifications,
            max_queued_verifications: self.max_queued_verifications,
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            max_concurrent_streams: self.max_concurrent_streams,
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
            agencies,
            allow,
        })
    }
}

fn load_agency(a: &RawAgency) -> Result<Agency, ConfigError> {
    let err = |message: String| ConfigError::Agency {
        id: a.id.clone(),
        message,
    };
    if a.id.is_empty()
        || a.id.len() > 64
        || !a
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err("the id must be 1-64 characters of [A-Za-z0-9_-]".into()));
    }
    let key_pem = read_secret(&a.key)?;
    let pem_err = |e: pades::pem::PemError| err(format!("{}: {}", a.key.display(), e.0));
    let der = match pades::pem::encrypted_private_key(&key_pem).map_err(pem_err)? {
        Some(enc) => decrypt_key(a, &enc).map_err(err)?,
        None => pades::pem::private_key(&key_pem).map_err(pem_err)?,
    };
    let pkcs1 = RsaKeySigner::from_der(&der, SignatureAlgorithm::RsaPkcs1Sha256)
        .map_err(|e| err(format!("{}: {e}", a.key.display())))?;
    let pss = RsaKeySigner::from_der(&der, SignatureAlgorithm::RsaPssSha256)
        .map_err(|e| err(format!("{}: {e}", a.key.display())))?;
    drop(der);
    let mut chain = pades::pem::certificates(&read(&a.cert)?)
        .map_err(|e| err(format!("{}: {}", a.cert.display(), e.0)))?;
    chain.truncate(1);
    if let Some(c) = &a.chain {
        chain.extend(
            pades::pem::certificates(&read(c)?)
                .map_err(|e| err(format!("{}: {}", c.display(), e.0)))?,
        );
    }
    let identity = SignerIdentity::new(chain.clone()).map_err(|e| err(e.to_string()))?;
    if identity.public_key() != pkcs1.public_key() {
        return Err(err(format!(
            "the key {} does not belong to the certificate {}",
            a.key.display(),
            a.cert.display()
        )));
    }
    // A certificate outside its validity does not stop the server: that agency is refused at
    // every signature (FAILED_PRECONDITION) while the others serve, and the start and
    // `--check` say so.
    let validity =
        crate::expiry::Validity::of_der(&chain[0]).map_err(|e| err(format!("certificate: {e}")))?;
    let mut cert_sha256 = [0; 32];
    cert_sha256
        .copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &chain[0]).as_ref());
    let stamp = a
        .stamp
        .as_ref()
        .map(|s| s.resolve(&a.name))
        .transpose()
        .map_err(err)?;
    Ok(Agency {
        id: a.id.clone(),
        name: a.name.clone(),
        pkcs1: Arc::new(pkcs1),
        pss: Arc::new(pss),
        identity,
        chain,
        cert_sha256,
        validity,
        stamp,
    })
}

/// The validity of the first certificate of a PEM chain, which must hold at `now`.
fn certificate_validity(pem: &[u8], now: i64) -> Result<crate::expiry::Validity, String> {
    let validity = crate::expiry::Validity::of_pem_chain(pem)?;
    validity
        .check(now)
        .map_err(|e| format!("the certificate {e}"))?;
    Ok(validity)
}

/// Decrypt a PKCS#8 PBES2 key with the passphrase from the environment or a 0600 file.
fn decrypt_key(a: &RawAgency, encrypted: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let passphrase = match (&a.passphrase_env, &a.passphrase_file) {
        (Some(var), None) => zeroize::Zeroizing::new(
            std::env::var(var)
                .map_err(|_| format!("the key is encrypted and ${var} is not set"))?
                .into_bytes(),
        ),
        (None, Some(path)) => {
            let mut p = read_secret(path).map_err(|e| e.to_string())?;
            while p.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                p.pop();
            }
            p
        }
        (Some(_), Some(_)) => return Err("give passphrase_env or passphrase_file, not both".into()),
        (None, None) => {
            return Err(format!(
                "{} is encrypted: set passphrase_env or passphrase_file",
                a.key.display()
            ))
        }
    };
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted)
        .map_err(|e| format!("{}: not a PKCS#8 encrypted key: {e}", a.key.display()))?;
    let doc = info.decrypt(passphrase.as_slice()).map_err(|_| {
        format!(
            "{}: wrong passphrase or unsupported encryption",
            a.key.display()
        )
    })?;
    Ok(zeroize::Zeroizing::new(doc.as_bytes().to_vec()))
}

/// Where development mode serves the verification page, the JSON APIs and the log's tiles
/// unless told otherwise (`--http-listen`).
pub const DEV_HTTP_LISTEN: &str = "127.0.0.1:8080";

/// Where development mode serves its metrics unless told otherwise (`--metrics-listen`).
pub const DEV_METRICS_LISTEN: &str = "127.0.0.1:9464";

/// Development mode's metrics setting (`--metrics-listen`): an address, or `off` for none, so
/// that development servers can run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    /// No metrics.
    Off,
    /// Prometheus text on plain HTTP at this address.
    At(SocketAddr),
}

impl std::str::FromStr for MetricsListen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "off" {
            return Ok(Self::Off);
        }
        s.parse()
            .map(Self::At)
            .map_err(|_| format!("{s:?} is neither an address:port nor `off`"))
    }
}

impl MetricsListen {
    /// The configuration's `metrics_listen` for this setting.
    pub fn setting(self) -> Option<String> {
        match self {
            Self::Off => None,
            Self::At(a) => Some(a.to_string()),
        }
    }
}

/// The development configuration over `certs` (generated by `--dev`), log in `data`, without
/// metrics (see [`MetricsListen`]).
pub fn dev(certs: &Path, data: &Path, listen: &str) -> RawConfig {
    RawConfig {
        listen: listen.into(),
        data: data.to_path_buf(),
        origin: default_origin(),
        max_document_bytes: default_max_doc(),
        max_concurrent_signatures: default_concurrency(),
        request_timeout_secs: default_timeout(),
        trust_anchors: vec![certs.join("doc-root.pem")],
        metrics_listen: None,
        max_concurrent_verifications: default_per_core(),
        max_queued_verifications: default_per_core(),
        max_connections: default_max_connections(),
        max_connections_per_address: default_max_per_address(),
        max_concurrent_streams: default_max_streams(),
        idle_timeout_secs: default_idle(),
        http_listen: Some(DEV_HTTP_LISTEN.into()),
        http: RawHttp::default(),
        tls: RawTls {
            cert: certs.join("server.pem"),
            key: certs.join("server.key"),
            client_ca: certs.join("tls-ca.pem"),
            handshake_timeout_secs: default_handshake(),
            client_crl: None,
            crl_check_secs: default_crl_check(),
        },
        agencies: vec![RawAgency {
            id: "dev".into(),
            name: "Dev Agency (development only)".into(),
            key: certs.join("dev-agency.key"),
            cert: certs.join("dev-agency.pem"),
            chain: Some(certs.join("dev-agency-chain.pem")),
            passphrase_env: None,
            passphrase_file: None,
            stamp: Some(RawStamp::dev()),
        }],
        allow: vec![RawAllow {
            client: "siola-dev".into(),
            agencies: vec!["dev".into()],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn now() -> i64 {
        pades::UnixTime::now().0
    }

    fn pki() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let certs = t.path().join("certs");
        segel_devpki::generate(&certs).expect("dev PKI");
        (t, certs)
    }

    #[test]
    fn the_dev_configuration_resolves_and_bad_ones_say_why() {
        let (t, certs) = pki();
        let raw = dev(&certs, &t.path().join("log"), "127.0.0.1:0");
        let cfg = raw.resolve(now()).expect("dev config");
        assert_eq!(cfg.agencies.len(), 1);
        assert!(cfg.allow["siola-dev"].contains("dev"));

        // A key readable by others.
        std::fs::set_permissions(
            certs.join("dev-agency.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let e = raw.resolve(now()).expect_err("refused").to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(
            certs.join("dev-agency.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");

        // A key that belongs to another certificate.
        let mut wrong = raw.clone();
        wrong.agencies[0].key = certs.join("dev-agency-3072.key");
        let e = wrong.resolve(now()).expect_err("refused").to_string();
        assert!(
            e.contains("agency dev") && e.contains("does not belong"),
            "{e}"
        );

        // An expired TLS server certificate (the development one lasts a year, its agency
        // certificate three), naming the file.
        let e = raw
            .resolve(now() + 2 * 365 * 86_400)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("server.pem") && e.contains("the certificate expired at"),
            "{e}"
        );

        // Policy naming an unknown agency; unknown settings.
        let mut bad = raw.clone();
        bad.allow[0].agencies.push("ghost".into());
        assert!(bad
            .resolve(now())
            .expect_err("refused")
            .to_string()
            .contains("unknown agency \"ghost\""));
        assert!(RawConfig::parse("listen = \"x\"\nbogus = 1\n")
            .expect_err("refused")
            .to_string()
            .contains("bogus"));
    }

    /// Two development servers side by side: each resolves to the metrics address it was
    /// given, or to none when metrics are off.
    #[test]
    fn dev_configurations_take_their_metrics_address_or_none() {
        let (t, certs) = pki();
        let default: MetricsListen = DEV_METRICS_LISTEN.parse().expect("the default parses");
        let second: MetricsListen = "127.0.0.1:9465".parse().expect("an address");
        let off: MetricsListen = "off".parse().expect("off");
        let resolved =
            [("50051", default), ("50052", second), ("50053", off)].map(|(port, metrics)| {
                let mut raw = dev(&certs, &t.path().join(port), &format!("127.0.0.1:{port}"));
                raw.metrics_listen = metrics.setting();
                raw.resolve(now()).expect("dev config")
            });
        let metrics = resolved.each_ref().map(|c| c.metrics_listen);
        assert_eq!(
            metrics,
            [
                Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
                Some(SocketAddr::from(([127, 0, 0, 1], 9465))),
                None,
            ]
        );
        assert_ne!(resolved[0].listen, resolved[1].listen);
        assert_ne!(resolved[0].data, resolved[1].data);
        let e = "localhost".parse::<MetricsListen>().expect_err("no port");
        assert!(e.contains("neither an address:port nor `off`"), "{e}");
    }

    #[test]
    fn encrypted_agency_keys_need_their_passphrase() {
        let (t, certs) = pki();
        let pass = t.path().join("pass");
        std::fs::write(&pass, "rahasia-sekali\n").expect("write");
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let enc = t.path().join("enc.key");
        let o = std::process::Command::new("openssl")
            .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in"])
            .arg(certs.join("dev-agency.key"))
            .arg("-out")
            .arg(&enc)
            .arg("-passout")
            .arg(format!("file:{}", pass.display()))
            .output();
        let Ok(o) = o else {
            eprintln!("openssl not available; skipping");
            return;
        };
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::set_permissions(&enc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let mut raw = dev(&certs, &t.path().join("log"), "127.0.0.1:0");
        raw.agencies[0].key = enc;
        let e = raw.resolve(now()).expect_err("no passphrase").to_string();
        assert!(e.contains("encrypted"), "{e}");
        raw.agencies[0].passphrase_file = Some(pass.clone());
        raw.resolve(now())
            .expect("decrypts with the passphrase file");
        std::fs::write(&pass, "salah\n").expect("write");
        let e = raw
            .resolve(now())
            .expect_err("wrong passphrase")
            .to_string();
        assert!(e.contains("wrong passphrase"), "{e}");
    }
}
