//! Sealing stops when the certificate does: an agency whose e-seal certificate expires while
//! the server runs is refused from that second on (FAILED_PRECONDITION naming the agency and
//! the expiry), nothing more is logged, and the other agencies and health go on as before; a
//! certificate not valid yet is refused the same way.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RsaKeySize, PKCS_RSA_SHA256,
};
use segel_proto::v1 as pb;
use segel_proto::v1::{log_client::LogClient, signer_client::SignerClient};
use segel_server::config::{self, RawAgency};
use segel_tests::{fixtures, pki};
use tonic::transport::Channel;
use tonic::Code;

/// Seconds the short-lived certificate lives after it is made: time enough to start a server
/// and sign once, short enough to wait for.
const LIFETIME: i64 = 5;

fn now() -> i64 {
    pades::UnixTime::now().0
}

/// The development agency CA, as an rcgen issuer (its subject as `segel-devpki` writes it).
fn agency_ca() -> Issuer<'static, KeyPair> {
    let key = KeyPair::from_pem(
        &std::fs::read_to_string(pki().file("agency-ca.key")).expect("agency-ca key"),
    )
    .expect("key");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "ID");
    dn.push(
        DnType::OrganizationName,
        "Segel Development (NOT FOR PRODUCTION)",
    );
    dn.push(DnType::CommonName, "Segel Dev Agency CA");
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Issuer::new(p, key)
}

/// An RSA-2048 e-seal key (generated ahead: it is the slow part).
fn seal_key() -> KeyPair {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).expect("RSA key")
}

/// An e-seal certificate for `key` valid from `not_before` to `not_after` (Unix seconds),
/// issued by the development agency CA, written with its key (0600) into `dir`.
fn seal(dir: &Path, key: &KeyPair, not_before: i64, not_after: i64) -> (PathBuf, PathBuf) {
    let at = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).expect("time");
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "ID");
    dn.push(DnType::CommonName, "Short-lived e-Seal");
    p.distinguished_name = dn;
    p.not_before = at(not_before);
    p.not_after = at(not_after);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    let cert = p.signed_by(key, &agency_ca()).expect("certificate");
    let (c, k) = (dir.join("short.pem"), dir.join("short.key"));
    std::fs::write(&c, cert.pem()).expect("write certificate");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    (c, k)
}

/// A running server with the development agency `dev` and the agency `short` (the
/// certificate `cert`), both allowed to `siola-dev`, its configuration checked at `resolve_at`.
struct Server {
    port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(dir: &Path, (cert, key): (PathBuf, PathBuf), resolve_at: i64) -> Server {
    let mut raw = config::dev(&pki().path, &dir.join("log"), "127.0.0.1:0");
    raw.agencies.push(RawAgency {
        id: "short".into(),
        name: "Short-lived Agency".into(),
        key,
        cert,
        chain: Some(pki().file("dev-agency-chain.pem")),
        passphrase_env: None,
        passphrase_file: None,
        stamp: None,
    });
    raw.allow[0].agencies.push("short".into());
    let cfg = raw.resolve(resolve_at).expect("configuration");
    let (port, stop, done) = super::grpc::serve_config(cfg).await;
    Server { port, stop, done }
}

impl Server {
    /// A channel with the `siola-dev` client certificate.
    async fn channel(&self) -> Channel {
        super::grpc::client_channel(self.port, Some("client")).await
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.expect("server task");
    }
}

fn sign_request(agency: &str, request_id: &str) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: agency.into(),
        pdf: fixtures::build(&fixtures::Shape::default()).into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

fn digest_request(agency: &str, request_id: &str, signing_time: i64) -> pb::SignDigestRequest {
    pb::SignDigestRequest {
        agency_id: agency.into(),
        message_digest: vec![7; 32],
        request_id: request_id.into(),
        signing_time,
        ..Default::default()
    }
}

/// SignPdfStream's answer, or the status it ended with.
async fn sign_stream(
    signer: &mut SignerClient<Channel>,
    agency: &str,
    request_id: &str,
) -> Result<(), tonic::Status> {
    use pb::sign_pdf_stream_request::Part;
    let mut meta = sign_request(agency, request_id);
    let pdf = std::mem::take(&mut meta.pdf);
    let parts = vec![
        pb::SignPdfStreamRequest {
            part: Some(Part::Metadata(meta)),
        },
        pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(pdf)),
        },
    ];
    let mut answer = signer
        .sign_pdf_stream(tokio_stream::iter(parts))
        .await?
        .into_inner();
    while answer.message().await?.is_some() {}
    Ok(())
}

/// The log's size by its latest checkpoint.
async fn log_size(channel: &Channel) -> u64 {
    let cp = LogClient::new(channel.clone())
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("checkpoint")
        .into_inner();
    let note = tlog::SignedNote::parse(&cp.note).expect("note");
    tlog::Checkpoint::parse(&note.text)
        .expect("checkpoint")
        .size
}

/// A refusal for `agency`'s certificate: FAILED_PRECONDITION naming the agency, `what` and
/// the time.
fn assert_refused(e: &tonic::Status, agency: &str, what: &str, at: i64) {
    assert_eq!(e.code(), Code::FailedPrecondition, "{e}");
    let expected = if what.contains("expired") {
        "CERTIFICATE_EXPIRED"
    } else {
        "CERTIFICATE_NOT_YET_VALID"
    };
    assert_eq!(super::grpc::reason(e).as_deref(), Some(expected), "{e}");
    let m = e.message();
    let time = pades::UnixTime(at).rfc3339();
    assert!(
        m.contains(&format!("agency {agency:?}")) && m.contains(what) && m.contains(&time),
        "{m:?} should name {agency:?}, {what:?} and {time}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_certificate_that_expires_while_serving_stops_its_seals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = seal_key();
    let made = now();
    let not_after = made + LIFETIME;
    let server = start(
        dir.path(),
        seal(dir.path(), &key, made - 60, not_after),
        made,
    )
    .await;
    let channel = server.channel().await;
    let mut signer = SignerClient::new(channel.clone());

    let first = signer
        .sign_pdf(sign_request("short", "while-valid"))
        .await
        .unwrap_or_else(|e| {
            panic!("signed while the certificate is valid (a slow machine may need a longer LIFETIME): {e}")
        })
        .into_inner();
    let first_index = first.entry.as_ref().expect("entry").index;
    assert_eq!(log_size(&channel).await, 1);

    // The one inherent wait: until the certificate's notAfter has passed.
    while now() <= not_after {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let e = signer
        .sign_pdf(sign_request("short", "after-expiry"))
        .await
        .expect_err("refused after notAfter");
    assert_refused(&e, "short", "expired at", not_after);
    let e = sign_stream(&mut signer, "short", "after-expiry-stream")
        .await
        .expect_err("the stream is refused too");
    assert_refused(&e, "short", "expired at", not_after);
    let e = signer
        .sign_digest(digest_request("short", "after-expiry-digest", 0))
        .await
        .expect_err("a digest is refused too");
    assert_refused(&e, "short", "expired at", not_after);
    assert_eq!(log_size(&channel).await, 1, "a refusal was logged");

    // A retry of the request signed while the certificate was valid gets that answer: nothing
    // new is signed.
    let again = signer
        .sign_pdf(sign_request("short", "while-valid"))
        .await
        .expect("the earlier answer")
        .into_inner();
    assert_eq!(again.entry.expect("entry").index, first_index);
    assert_eq!(log_size(&channel).await, 1);

    // The other agency goes on sealing, and the server stays SERVING.
    signer
        .sign_pdf(sign_request("dev", "other-agency"))
        .await
        .expect("dev still signs");
    assert_eq!(log_size(&channel).await, 2);
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "segel.v1.Signer".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_not_valid_yet_and_a_digest_claiming_a_time_past_expiry_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = now();
    let not_before = made + 3600;
    // A clock that was ahead when the server started: the configuration saw a valid
    // certificate; the signing time is before its notBefore.
    let server = start(
        dir.path(),
        seal(dir.path(), &seal_key(), not_before, made + 86_400),
        not_before + 60,
    )
    .await;
    let channel = server.channel().await;
    let mut signer = SignerClient::new(channel.clone());
    let e = signer
        .sign_pdf(sign_request("short", "too-early"))
        .await
        .expect_err("refused before notBefore");
    assert_refused(&e, "short", "not valid before", not_before);
    let e = signer
        .sign_digest(digest_request("short", "too-early-digest", 0))
        .await
        .expect_err("refused before notBefore");
    assert_refused(&e, "short", "not valid before", not_before);

    // A digest for `dev`, whose document claims a signing time after the certificate's
    // notAfter, is refused as expired.
    let dev_not_after = segel_server::expiry::Validity::of_pem_chain(
        &std::fs::read(pki().file("dev-agency.pem")).expect("dev-agency.pem"),
    )
    .expect("validity")
    .not_after;
    let e = signer
        .sign_digest(digest_request("dev", "claims-later", dev_not_after + 1))
        .await
        .expect_err("refused: claimed time after notAfter");
    assert_refused(&e, "dev", "expired at", dev_not_after);
    assert_eq!(log_size(&channel).await, 0, "a refusal was logged");
    signer
        .sign_digest(digest_request("dev", "claims-now", now()))
        .await
        .expect("a digest at a time within the validity signs");
    assert_eq!(log_size(&channel).await, 1);
    server.stop().await;
}

/// `segel-server --config FILE --check` over the development configuration plus `short` with
/// the certificate `cert`.
fn check(dir: &Path, (cert, key): (PathBuf, PathBuf)) -> std::process::Output {
    let p = pki();
    let path = |name: &str| format!("{:?}", p.file(name).display().to_string());
    let file = |f: &Path| format!("{:?}", f.display().to_string());
    let toml = format!(
        "listen = \"127.0.0.1:0\"\ndata = {data}\n\n[tls]\ncert = {tls_cert}\nkey = {tls_key}\n\
         client_ca = {ca}\n\n[[agency]]\nid = \"dev\"\nname = \"Dev\"\nkey = {dev_key}\n\
         cert = {dev_cert}\nchain = {chain}\n\n[[agency]]\nid = \"short\"\nname = \"Short\"\n\
         key = {key}\ncert = {cert}\nchain = {chain}\n\n[[allow]]\nclient = \"siola-dev\"\n\
         agencies = [\"dev\", \"short\"]\n",
        data = file(&dir.join("data")),
        tls_cert = path("server.pem"),
        tls_key = path("server.key"),
        ca = path("tls-ca.pem"),
        dev_key = path("dev-agency.key"),
        dev_cert = path("dev-agency.pem"),
        chain = path("dev-agency-chain.pem"),
        key = file(&key),
        cert = file(&cert),
    );
    let config = dir.join("segel.toml");
    std::fs::write(&config, toml).expect("write configuration");
    std::process::Command::new(crate::hostile::server_bin())
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .output()
        .expect("run segel-server --check")
}

#[test]
fn check_warns_within_30_days_and_names_agencies_that_cannot_seal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = seal_key();
    let made = now();
    // An hour short of ten days: nine whole days left, however long the check takes to start.
    let soon = made + 10 * 86_400 - 3_600;
    let o = check(dir.path(), seal(dir.path(), &key, made - 60, soon));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected = format!(
        "WARNING: agency \"short\"'s e-seal certificate expires in 9 day(s), at {}: renew it",
        pades::UnixTime(soon).rfc3339()
    );
    assert!(stdout.contains(&expected), "{expected:?} not in:\n{stdout}");
    assert!(
        stdout.contains("certificate: agency \"dev\"'s e-seal certificate is valid until")
            && stdout.contains("certificate: the TLS server certificate is valid until"),
        "{stdout}"
    );

    // An expired agency certificate does not stop the server (the other agencies serve, and a
    // restart must not take them down): --check passes and says the agency is refused.
    let gone = made - 60;
    let o = check(dir.path(), seal(dir.path(), &key, made - 86_400, gone));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected = format!(
        "ERROR: agency \"short\"'s e-seal certificate expired at {}: its agency is refused until it is replaced",
        pades::UnixTime(gone).rfc3339()
    );
    assert!(stdout.contains(&expected), "{expected:?} not in:\n{stdout}");
    // Not yet valid: the same.
    let later = made + 86_400;
    let o = check(dir.path(), seal(dir.path(), &key, later, later + 86_400));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("ERROR: agency \"short\"'s e-seal certificate is not valid before"),
        "{stdout}"
    );
}
