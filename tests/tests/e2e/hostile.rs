//! The server under hostile callers, over real TLS on loopback with the server in process:
//! VerifyPdf's admission limit, the TLS handshake deadline, the connection limit, HTTP/2
//! settings, idle connections, `--dev` on a public address, ambiguous client identities and
//! revoked client certificates (CRL reloaded without restart).
//!
//! No timing assertions: each waits for an event (a closed socket, a refusal) with a generous
//! outer bound that only turns a hang into a failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams,
    SerialNumber,
};
use segel_proto::v1 as pb;
use segel_proto::v1::{signer_client::SignerClient, verifier_client::VerifierClient};
use segel_server::config::{self, RawConfig};
use segel_tests::{corpus, pki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::Code;

/// Bound on any wait for an event: a hang fails the test instead of stalling the suite.
const PATIENCE: Duration = Duration::from_secs(60);

struct Server {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    _data: tempfile::TempDir,
}

fn raw_config(data: &Path) -> RawConfig {
    config::dev(&pki().path, &data.join("log"), "127.0.0.1:0")
}

async fn start(adjust: impl FnOnce(&mut RawConfig)) -> Server {
    let data = tempfile::tempdir().expect("tempdir");
    let mut raw = raw_config(data.path());
    raw.max_document_bytes = 4 * 1024 * 1024;
    adjust(&mut raw);
    let (port, stop, done) = super::grpc::spawn(raw).await;
    Server {
        port,
        stop: Some(stop),
        done,
        _data: data,
    }
}

impl Server {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(PATIENCE, self.done)
            .await
            .expect("the server stops")
            .expect("server task");
    }

    /// A gRPC channel, with the client certificate and key of the given PEM files.
    async fn channel(
        &self,
        client: Option<(&Path, &Path)>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(
                std::fs::read(pki().file("tls-ca.pem")).expect("ca"),
            ))
            .domain_name("localhost");
        if let Some((cert, key)) = client {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(cert).expect("cert"),
                std::fs::read(key).expect("key"),
            ));
        }
        Channel::from_shared(format!("https://localhost:{}", self.port))
            .expect("uri")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
    }

    /// A TLS connection speaking HTTP/2 by ALPN, without a client certificate.
    async fn tls(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        tls_over(tcp).await
    }

    /// A TCP connection to the server from the loopback address `from` (127.0.0.0/8).
    async fn tcp_from(&self, from: [u8; 4]) -> TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind((std::net::Ipv4Addr::from(from), 0).into())
            .expect("bind");
        socket
            .connect(([127, 0, 0, 1], self.port).into())
            .await
            .expect("connect")
    }
}

/// TLS over `tcp`, speaking HTTP/2 by ALPN, without a client certificate.
async fn tls_over(tcp: TcpStream) -> tokio_rustls::client::TlsStream<TcpStream> {
    {
        let mut roots = rustls::RootCertStore::empty();
        for c in pades::pem::certificates(&std::fs::read(pki().file("tls-ca.pem")).expect("ca"))
            .expect("ca pem")
        {
            roots.add(c.into()).expect("root");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .expect("TLS handshake")
    }
}

/// Read until the peer closes the connection (end of stream or an error such as a reset), or
/// fail after [`PATIENCE`].
async fn closed_by_peer(s: &mut (impl AsyncReadExt + Unpin)) {
    let mut buf = [0u8; 4096];
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the server did not close the connection");
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("small");
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// An HPACK header block of literal fields without indexing (names and values < 127 bytes).
fn hpack(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in headers {
        b.push(0);
        b.push(u8::try_from(name.len()).expect("short"));
        b.extend(name.as_bytes());
        b.push(u8::try_from(value.len()).expect("short"));
        b.extend(value.as_bytes());
    }
    b
}

/// The server's first frame after our preface: its SETTINGS, as (identifier, value) pairs.
async fn server_settings(s: &mut (impl AsyncReadExt + AsyncWriteExt + Unpin)) -> Vec<(u16, u32)> {
    s.write_all(PREFACE).await.expect("preface");
    s.write_all(&frame(4, 0, 0, &[])).await.expect("settings");
    let mut head = [0u8; 9];
    s.read_exact(&mut head).await.expect("a frame");
    assert_eq!(head[3], 4, "the server's first frame is SETTINGS");
    let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.expect("settings payload");
    payload
        .chunks_exact(6)
        .map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u32::from_be_bytes([p[2], p[3], p[4], p[5]]),
            )
        })
        .collect()
}

/// The opening of an HTTP/2 connection with one VerifyPdf call whose message never finishes
/// arriving: the preface, SETTINGS, the call's HEADERS, and the start of a 1000-byte message.
fn slow_verify_call() -> Vec<u8> {
    let mut opening = PREFACE.to_vec();
    opening.extend(frame(4, 0, 0, &[]));
    let headers = hpack(&[
        (":method", "POST"),
        (":scheme", "https"),
        (":path", "/segel.v1.Verifier/VerifyPdf"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]);
    opening.extend(frame(1, 0x4, 1, &headers));
    opening.extend(frame(0, 0, 1, &[0, 0, 0, 0x03, 0xe8, 0x0a]));
    opening
}

fn small_pdf() -> Vec<u8> {
    std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_pdf_over_capacity_is_resource_exhausted() {
    let server = start(|c| {
        c.max_concurrent_verifications = 1;
        c.max_queued_verifications = 0;
    })
    .await;
    // One caller takes the only slot: a VerifyPdf call whose document never finishes arriving.
    let mut slow = server.tls().await;
    slow.write_all(&slow_verify_call())
        .await
        .expect("the slow call");

    // Every other caller is refused at once, with the limit named; once the slow call is
    // known to the server (any later round trip), that is certain.
    let mut verifier = VerifierClient::new(server.channel(None).await.expect("connect"));
    let mut refused = None;
    for _ in 0..100 {
        match verifier
            .verify_pdf(pb::VerifyPdfRequest {
                pdf: small_pdf().into(),
            })
            .await
        {
            Err(e) if e.code() == Code::ResourceExhausted => {
                refused = Some(e);
                break;
            }
            Err(e) => panic!("unexpected refusal: {e:?}"),
            Ok(_) => tokio::task::yield_now().await,
        }
    }
    let refused = refused.expect("a caller beyond the limit is refused");
    assert!(
        refused.message().contains("verifying 1 documents")
            && refused.message().contains("0 more waiting"),
        "{}",
        refused.message()
    );

    // The slow caller goes away: its slot is free again.
    drop(slow);
    let mut passed = false;
    for _ in 0..500 {
        match verifier
            .verify_pdf(pb::VerifyPdfRequest {
                pdf: small_pdf().into(),
            })
            .await
        {
            Ok(_) => {
                passed = true;
                break;
            }
            Err(e) if e.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert!(passed, "the slot of a caller that went away is released");
    server.stop().await;
}

/// A gRPC VerifyPdf call whose message never finishes arriving holds its call's place, not the
/// verification slot the page and the JSON APIs share: HTTP uploads are verified meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_grpc_calls_do_not_take_the_slots_of_http_uploads() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut raw = raw_config(data.path());
    raw.max_concurrent_verifications = 1;
    raw.max_queued_verifications = 0;
    let web = super::grpc::spawn_web(raw).await;
    let tcp = TcpStream::connect(("127.0.0.1", web.grpc_port))
        .await
        .expect("connect");
    let mut slow = tls_over(tcp).await;
    slow.write_all(&slow_verify_call())
        .await
        .expect("the slow call");

    // Once the slow call holds the gRPC calls' only place, other gRPC calls are refused...
    let mut verifier = VerifierClient::new(web.channel(None).await);
    let mut held = false;
    for _ in 0..100 {
        match verifier
            .verify_pdf(pb::VerifyPdfRequest {
                pdf: small_pdf().into(),
            })
            .await
        {
            Err(e) if e.code() == Code::ResourceExhausted => {
                held = true;
                break;
            }
            Err(e) => panic!("unexpected refusal: {e:?}"),
            Ok(_) => tokio::task::yield_now().await,
        }
    }
    assert!(held, "the slow call holds the gRPC calls' place");
    // ...but an HTTP upload is verified: the slow call holds no verification slot.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/verify", web.base()))
        .header("content-type", "application/pdf")
        .body(small_pdf())
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
    drop(slow);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_tls_handshake_is_closed() {
    let server = start(|c| c.tls.handshake_timeout_secs = 1).await;
    // A TCP connection that never sends its ClientHello.
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    closed_by_peer(&mut tcp).await;
    // A well-behaved client is still served.
    let channel = server.channel(None).await.expect("connect");
    VerifierClient::new(channel)
        .verify_pdf(pb::VerifyPdfRequest {
            pdf: small_pdf().into(),
        })
        .await
        .expect("verified");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_refuses_excess() {
    let server = start(|c| {
        c.max_connections = 2;
        // Only the limit may close the excess connection, not the handshake deadline.
        c.tls.handshake_timeout_secs = 3600;
    })
    .await;
    let first = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let _second = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    // Beyond the limit: closed at once, without a handshake.
    let mut third = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("the kernel accepts the connection");
    closed_by_peer(&mut third).await;
    // One of the two goes away: a real client gets its place.
    drop(first);
    let mut served = false;
    for _ in 0..500 {
        if let Ok(channel) = server.channel(None).await {
            if VerifierClient::new(channel)
                .verify_pdf(pb::VerifyPdfRequest {
                    pdf: small_pdf().into(),
                })
                .await
                .is_ok()
            {
                served = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(served, "a freed place is given to the next connection");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_limited() {
    let server = start(|c| {
        c.max_connections = 100;
        c.max_connections_per_address = 2;
        // Only the limit may close the excess connection, not the handshake deadline.
        c.tls.handshake_timeout_secs = 3600;
    })
    .await;
    let _first = server.tcp_from([127, 0, 0, 2]).await;
    let _second = server.tcp_from([127, 0, 0, 2]).await;
    // A third from the same address: closed at once.
    let mut third = server.tcp_from([127, 0, 0, 2]).await;
    closed_by_peer(&mut third).await;
    // Another address is served meanwhile.
    let mut other = tls_over(server.tcp_from([127, 0, 0, 3]).await).await;
    let settings = server_settings(&mut other).await;
    assert!(!settings.is_empty());
    drop(other);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_streams_is_advertised() {
    let server = start(|c| c.max_concurrent_streams = 7).await;
    let mut tls = server.tls().await;
    let settings = server_settings(&mut tls).await;
    // SETTINGS_MAX_CONCURRENT_STREAMS is 0x3.
    assert!(
        settings.contains(&(0x3, 7)),
        "SETTINGS without MAX_CONCURRENT_STREAMS = 7: {settings:?}"
    );
    drop(tls);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_closed() {
    let server = start(|c| {
        c.request_timeout_secs = 1;
        c.idle_timeout_secs = 2;
    })
    .await;
    // A full HTTP/2 connection that then sends nothing.
    let mut tls = server.tls().await;
    let settings = server_settings(&mut tls).await;
    assert!(!settings.is_empty());
    closed_by_peer(&mut tls).await;
    server.stop().await;
}

/// The server binary of this build, brought up to date once per test process.
pub(crate) fn server_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(build_server).clone()
}

fn build_server() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target/<profile>");
    let bin = profile_dir.join("segel-server");
    {
        let mut cmd = std::process::Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "segel-server", "--bin", "segel-server"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let o = cmd.output().expect("cargo build segel-server");
        assert!(
            o.status.success(),
            "building segel-server: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    bin
}

#[test]
fn dev_refuses_non_loopback_listen() {
    let work = tempfile::tempdir().expect("tempdir");
    let certs = work.path().join("certs");
    for listen in ["0.0.0.0:50051", "[::]:50051", "192.0.2.7:50051"] {
        let o = std::process::Command::new(server_bin())
            .args(["--dev", "--check", "--listen", listen, "--certs"])
            .arg(&certs)
            .arg("--data")
            .arg(work.path().join("data"))
            .output()
            .expect("run segel-server");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{listen}: accepted");
        assert!(
            stderr.contains("not a loopback address") && stderr.contains("development PKI"),
            "{listen}: {stderr}"
        );
        assert!(
            !certs.exists(),
            "{listen}: the development PKI was generated"
        );
    }
    // Loopback is accepted.
    let o = std::process::Command::new(server_bin())
        .args(["--dev", "--check", "--listen", "[::1]:50051", "--certs"])
        .arg(&certs)
        .arg("--data")
        .arg(work.path().join("data"))
        .output()
        .expect("run segel-server");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The distinguished name of the development TLS root (as `devpki` writes it).
fn tls_ca_name() -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "ID");
    d.push(
        DnType::OrganizationName,
        "Segel Development (NOT FOR PRODUCTION)",
    );
    d.push(DnType::CommonName, "Segel Dev TLS Root");
    d
}

fn tls_ca() -> Issuer<'static, KeyPair> {
    let key =
        KeyPair::from_pem(&std::fs::read_to_string(pki().file("tls-ca.key")).expect("tls-ca key"))
            .expect("key");
    let mut p = CertificateParams::default();
    p.distinguished_name = tls_ca_name();
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Issuer::new(p, key)
}

/// A client certificate issued by the development TLS root with the subject `names` (CN
/// attributes, in order) and `serial`, written as PEM files in `dir`.
fn client_cert(dir: &Path, file: &str, names: &[&str], serial: u64) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Segel Clients");
    for (i, n) in names.iter().enumerate() {
        // rcgen keeps one value per attribute type; further CNs go in under CN's own OID.
        let ty = if i == 0 {
            DnType::CommonName
        } else {
            DnType::CustomDnType(vec![2, 5, 4, 3])
        };
        dn.push(ty, *n);
    }
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from(serial));
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(30);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, &tls_ca()).expect("client certificate");
    let (c, k) = (
        dir.join(format!("{file}.pem")),
        dir.join(format!("{file}.key")),
    );
    std::fs::write(&c, cert.pem()).expect("write");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    (c, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_with_two_common_names_is_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let (cert, key) = client_cert(
        work.path(),
        "two-names",
        &["siola-dev", "unauthorised-dev"],
        0x2c2c,
    );
    let server = start(|_| {}).await;
    let mut signer = SignerClient::new(
        server
            .channel(Some((&cert, &key)))
            .await
            .expect("the TLS layer accepts the certificate"),
    );
    let e = match signer.list_agencies(pb::ListAgenciesRequest {}).await {
        Ok(r) => panic!(
            "a certificate with two CNs was taken as a caller allowed for {:?}",
            r.into_inner()
                .agencies
                .iter()
                .map(|a| &a.id)
                .collect::<Vec<_>>()
        ),
        Err(e) => e,
    };
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    assert!(e.message().contains("2 common names"), "{}", e.message());
    let e = signer
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            request_id: "two-names-1".into(),
            message_digest: vec![7; 32],
            ..Default::default()
        })
        .await
        .expect_err("signing refused");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    // The same name alone is the allowed caller.
    let (one, one_key) = client_cert(work.path(), "one-name", &["siola-dev"], 0x1c1c);
    let agencies = SignerClient::new(server.channel(Some((&one, &one_key))).await.expect("ok"))
        .list_agencies(pb::ListAgenciesRequest {})
        .await
        .expect("listed")
        .into_inner()
        .agencies;
    assert_eq!(agencies.len(), 1);
    server.stop().await;
}

/// A CRL of the development TLS root revoking `serials`.
fn crl(serials: &[u64], number: u64, issuer: &Issuer<'_, KeyPair>) -> String {
    let now = time::OffsetDateTime::now_utc();
    CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(1),
        next_update: now + time::Duration::days(7),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|s| RevokedCertParams {
                serial_number: SerialNumber::from(*s),
                revocation_time: now - time::Duration::minutes(1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer)
    .expect("CRL")
    .pem()
    .expect("pem")
}

/// Replace `path` at once (a new file renamed over it), as a CA's publisher would.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Can this client certificate list its agencies (the TLS layer accepts it)?
async fn accepted(server: &Server, cert: &Path, key: &Path) -> Result<(), String> {
    let channel = server
        .channel(Some((cert, key)))
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    SignerClient::new(channel)
        .list_agencies(pb::ListAgenciesRequest {})
        .await
        .map(|_| ())
        .map_err(|e| {
            // A refusal by the TLS layer, not by the service.
            assert!(
                !matches!(e.code(), Code::PermissionDenied | Code::Unauthenticated),
                "refused by the service, not the TLS layer: {e:?}"
            );
            format!("{e:?}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_client_certificate_is_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let ca = tls_ca();
    let (cert, key) = client_cert(work.path(), "soon-revoked", &["siola-dev"], 0x5e5e);
    let dev = (pki().file("client.pem"), pki().file("client.key"));
    let crl_path = work.path().join("clients.crl");
    std::fs::write(&crl_path, crl(&[], 1, &ca)).expect("write");

    // At start-up, a CRL that does not parse or that another CA signed is refused, naming it.
    let data = tempfile::tempdir().expect("tempdir");
    let now = pades::UnixTime::now().0;
    let mut raw = raw_config(data.path());
    let junk = work.path().join("junk.crl");
    std::fs::write(
        &junk,
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
    )
    .expect("write");
    raw.tls.client_crl = Some(junk.clone());
    let e = raw.resolve(now).expect_err("junk CRL").to_string();
    assert!(
        e.contains("junk.crl") && e.contains("does not parse"),
        "{e}"
    );
    let stranger = Issuer::new(
        {
            let mut p = CertificateParams::default();
            p.distinguished_name = tls_ca_name();
            p
        },
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key"),
    );
    let forged = work.path().join("forged.crl");
    std::fs::write(&forged, crl(&[0x1c1c], 9, &stranger)).expect("write");
    raw.tls.client_crl = Some(forged.clone());
    let e = raw.resolve(now).expect_err("forged CRL").to_string();
    assert!(
        e.contains("forged.crl") && e.contains("not signed by a client CA certificate"),
        "{e}"
    );

    let server = start(|c| {
        c.tls.client_crl = Some(crl_path.clone());
        c.tls.crl_check_secs = 0;
    })
    .await;
    accepted(&server, &cert, &key)
        .await
        .expect("not revoked yet");

    // Revoked while the server runs: the next connection is refused.
    replace(&crl_path, &crl(&[0x5e5e], 2, &ca));
    accepted(&server, &cert, &key)
        .await
        .expect_err("a revoked certificate is refused");
    accepted(&server, &dev.0, &dev.1)
        .await
        .expect("others are still served");

    // A replacement that is not acceptable (signed by another key, or junk) is refused and
    // the CRL in force stays.
    replace(&crl_path, &std::fs::read_to_string(&forged).expect("read"));
    accepted(&server, &cert, &key)
        .await
        .expect_err("still revoked");
    replace(&crl_path, "not a CRL");
    accepted(&server, &cert, &key)
        .await
        .expect_err("still revoked");
    accepted(&server, &dev.0, &dev.1)
        .await
        .expect("others are still served");
    server.stop().await;
}
