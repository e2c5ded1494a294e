//! The gRPC server over real TLS on loopback (ephemeral port, no sleeps): signing with mutual
//! TLS and policy, the signed output judged by the external verifiers, VerifyPdf finding the log
//! entry, proofs checked against the signed checkpoint, refusals with the right codes,
//! idempotent retries, and 200 concurrent signings.

use std::sync::Arc;

use segel_proto::v1 as pb;
use segel_proto::v1::{
    log_client::LogClient, signer_client::SignerClient, verifier_client::VerifierClient,
};
use segel_server::config;
use segel_tests::{corpus, openssl_check, pdfsig_check, pki, pyhanko_check, qpdf_check};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::Code;

pub(crate) struct TestServer {
    pub(crate) port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    _data: tempfile::TempDir,
}

pub(crate) async fn start(max_document_bytes: usize) -> TestServer {
    let data = tempfile::tempdir().expect("tempdir");
    let mut raw = config::dev(&pki().path, &data.path().join("log"), "127.0.0.1:0");
    raw.max_document_bytes = max_document_bytes;
    let (port, stop, done) = spawn(raw).await;
    TestServer {
        port,
        stop: Some(stop),
        done,
        _data: data,
    }
}

/// Serve the configuration `raw` on a fresh loopback port: the port, the sender that stops
/// the server, and its task.
pub(crate) async fn spawn(
    raw: config::RawConfig,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let cfg = raw
        .resolve(pades::UnixTime::now().0)
        .expect("configuration");
    serve_config(cfg).await
}

/// Serve a resolved configuration on a fresh loopback port: the port, the sender that stops
/// the server, and its task.
pub(crate) async fn serve_config(
    cfg: config::Config,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let log = segel_server::serve::open_log(&cfg).expect("log");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        segel_server::serve::serve(cfg, log, listener, async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    (port, stop, done)
}

/// A server with its HTTP listener (the verification page, the JSON APIs, the log's tiles),
/// both on fresh loopback ports.
pub(crate) struct WebServer {
    /// The gRPC port (TLS).
    pub(crate) grpc_port: u16,
    /// The HTTP port (plain HTTP unless the configuration's `[http]` gives TLS files).
    pub(crate) http_port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    _data: Option<tempfile::TempDir>,
}

/// The development configuration with its log in a new temporary folder, served with its
/// HTTP listener.
pub(crate) async fn start_web() -> WebServer {
    let data = tempfile::tempdir().expect("tempdir");
    let raw = config::dev(&pki().path, &data.path().join("log"), "127.0.0.1:0");
    let mut web = spawn_web(raw).await;
    web._data = Some(data);
    web
}

/// Serve `raw` with its HTTP listener (`raw.http_listen` is replaced by a fresh loopback
/// port, and every agency's seal links to it: its QR codes open this server's pages).
pub(crate) async fn spawn_web(mut raw: config::RawConfig) -> WebServer {
    let http = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let http_port = http.local_addr().expect("addr").port();
    raw.http_listen = Some(format!("127.0.0.1:{http_port}"));
    for a in &mut raw.agencies {
        if let Some(stamp) = &mut a.stamp {
            stamp.verify_url = Some(format!("http://127.0.0.1:{http_port}"));
        }
    }
    let cfg = raw
        .resolve(pades::UnixTime::now().0)
        .expect("configuration");
    let log = segel_server::serve::open_log(&cfg).expect("log");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let grpc_port = listener.local_addr().expect("addr").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        segel_server::serve::serve_with_http(cfg, log, listener, Some(http), async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    WebServer {
        grpc_port,
        http_port,
        stop: Some(stop),
        done,
        _data: None,
    }
}

/// A letter sealed visibly over its `#ttd#` tag through the gRPC API.
pub(crate) struct SealedLetter {
    /// The whole signed PDF.
    pub(crate) pdf: Vec<u8>,
    /// The seal's document id (its QR code links to `/d/{document_id}`).
    pub(crate) document_id: String,
    /// Its log entry.
    pub(crate) index: u64,
}

impl WebServer {
    /// Seal the corpus letter `name` visibly over its `#ttd#` tag with request id `request_id`.
    pub(crate) async fn seal_letter(&self, name: &str, request_id: &str) -> SealedLetter {
        let mut signer =
            segel_proto::v1::signer_client::SignerClient::new(self.channel(Some("client")).await);
        let r = signer
            .sign_pdf(pb::SignPdfRequest {
                agency_id: "dev".into(),
                pdf: std::fs::read(corpus().join(name)).expect("corpus").into(),
                request_id: request_id.into(),
                options: Some(pb::SignOptions {
                    visible: Some(pb::VisibleSeal {
                        tag: "#ttd#".into(),
                        fields: [
                            ("nama".to_string(), "Budi Santoso".to_string()),
                            ("jabatan".to_string(), "Sekretaris Jenderal".to_string()),
                            ("nip".to_string(), "198001012005011001".to_string()),
                        ]
                        .into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("sealed")
            .into_inner();
        pades::stamp::DocumentId::parse(&r.document_id).expect("a visible seal's document id");
        SealedLetter {
            pdf: r.signed_pdf.to_vec(),
            document_id: r.document_id,
            index: r.entry.expect("a log entry").index,
        }
    }

    /// `http://127.0.0.1:PORT` of the HTTP listener.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// A gRPC channel with the development client certificate `client`, or none.
    pub(crate) async fn channel(&self, client: Option<&str>) -> Channel {
        client_channel(self.grpc_port, client).await
    }

    /// Stop both listeners and wait for the server to finish.
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.done.await.expect("server task");
    }
}

impl TestServer {
    pub(crate) async fn channel(&self, client: Option<&str>) -> Channel {
        client_channel(self.port, client).await
    }

    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.done.await.expect("server task");
    }
}

/// A TLS channel to a test server on `port`, with the development client certificate `client`
/// (`client.pem` / `client.key` for `Some("client")`), or none.
pub(crate) async fn client_channel(port: u16, client: Option<&str>) -> Channel {
    let p = pki();
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(
            std::fs::read(p.file("tls-ca.pem")).expect("ca"),
        ))
        .domain_name("localhost");
    if let Some(name) = client {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(p.file(&format!("{name}.pem"))).expect("cert"),
            std::fs::read(p.file(&format!("{name}.key"))).expect("key"),
        ));
    }
    Channel::from_shared(format!("https://localhost:{port}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect")
}

fn request(pdf: Vec<u8>, request_id: &str) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: "dev".into(),
        pdf: pdf.into(),
        request_id: request_id.into(),
        size_hint: 0,
        update_only: false,
        document_ref: "B-17/SIOLA/XI/2026".into(),
        options: Some(pb::SignOptions {
            reason: "Rekomendasi disetujui".into(),
            location: "Jakarta".into(),
            ..Default::default()
        }),
    }
}

/// Check a signed checkpoint note with the log's key and an inclusion proof against it.
fn check_proof(cp: &pb::Checkpoint, entry: &pb::LogEntry, proof: &pb::InclusionProof) {
    let verifier = tlog::NoteVerifier::parse(&cp.verifier_key).expect("verifier key");
    let note = tlog::SignedNote::parse(&cp.note).expect("note");
    note.verify(&[verifier])
        .expect("checkpoint signed by the log key");
    let c = tlog::Checkpoint::parse(&note.text).expect("checkpoint");
    assert_eq!(tlog::leaf_hash(&entry.record).to_vec(), entry.leaf_hash);
    let leaf: [u8; 32] = entry.leaf_hash.as_slice().try_into().expect("32");
    let hashes: Vec<[u8; 32]> = proof
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into().expect("32"))
        .collect();
    assert_eq!(proof.tree_size, c.size);
    tlog::verify_inclusion(&leaf, entry.index, c.size, &hashes, &c.root)
        .expect("inclusion proof verifies");
}

/// The checkpoint in a signed note (its signature is checked by [`check_proof`]).
fn checkpoint_of(cp: &pb::Checkpoint) -> tlog::Checkpoint {
    let note = tlog::SignedNote::parse(&cp.note).expect("note");
    tlog::Checkpoint::parse(&note.text).expect("checkpoint")
}

/// Check a consistency proof between two checkpoints.
fn check_consistency(p: &pb::ConsistencyProof, old: &tlog::Checkpoint, new: &tlog::Checkpoint) {
    let hashes: Vec<[u8; 32]> = p
        .hashes
        .iter()
        .map(|h| h.as_slice().try_into().expect("32"))
        .collect();
    tlog::verify_consistency(old.size, new.size, &hashes, &old.root, &new.root)
        .expect("the consistency proof verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_verify_and_prove_over_mutual_tls() {
    let server = start(4 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let resp = signer
        .sign_pdf(request(pdf.clone(), "req-1"))
        .await
        .expect("signed")
        .into_inner();
    assert!(resp.signed_pdf.starts_with(&pdf));
    let entry = resp.entry.clone().expect("entry");
    check_proof(
        resp.checkpoint.as_ref().expect("cp"),
        &entry,
        resp.inclusion_proof.as_ref().expect("proof"),
    );
    // The first entry of the log: no previous checkpoint, so no consistency proof.
    assert!(resp.consistency_proof.is_none());
    // The next signature carries the proof from this checkpoint to its own.
    let other_pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let next = signer
        .sign_pdf(request(other_pdf, "req-next"))
        .await
        .expect("signed")
        .into_inner();
    let (c1, c2) = (
        checkpoint_of(resp.checkpoint.as_ref().expect("cp")),
        checkpoint_of(next.checkpoint.as_ref().expect("cp")),
    );
    let p = next
        .consistency_proof
        .expect("a consistency proof from the previous checkpoint");
    assert_eq!((p.old_size, p.new_size), (c1.size, c2.size));
    check_consistency(&p, &c1, &c2);
    let record = tlog::LogEntry::decode(&entry.record).expect("record");
    assert_eq!(record.agency, "dev");
    assert_eq!(record.caller, "CN=siola-dev");
    // The reference only as its keyed hash (tests/tests/e2e/log_privacy.rs checks it).
    assert_eq!(record.document_ref, None);
    assert!(record.document_ref_hmac.is_some());

    // The external judges accept what the server signed.
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("signed.pdf");
    std::fs::write(&out, &resp.signed_pdf).expect("write");
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    qpdf_check(&out).unwrap_or_else(|e| panic!("{e:#}"));
    openssl_check(&out, work.path()).unwrap_or_else(|e| panic!("{e:#}"));
    pyhanko_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));

    // VerifyPdf, without a client certificate: passes and finds the log entry.
    let mut verifier = VerifierClient::new(server.channel(None).await);
    let v = verifier
        .verify_pdf(pb::VerifyPdfRequest {
            pdf: resp.signed_pdf.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(v.overall, "TOTAL-PASSED");
    let sig = &v.signatures[0];
    let found = sig
        .log_entry
        .clone()
        .expect("the signature is found in the log");
    assert_eq!(found.index, entry.index);
    check_proof(
        v.checkpoint.as_ref().expect("cp"),
        &found,
        sig.inclusion_proof.as_ref().expect("proof"),
    );
    // An unsigned corpus file: no signatures, not in the log.
    let other = verifier
        .verify_pdf(pb::VerifyPdfRequest {
            pdf: std::fs::read(corpus().join("signed-other-ca.pdf"))
                .expect("corpus")
                .into(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(other.signatures.iter().all(|s| s.log_entry.is_none()));

    // Log reads, open to all.
    let mut log = LogClient::new(server.channel(None).await);
    let cp = log
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("cp")
        .into_inner();
    assert!(cp.note.starts_with("segel.dev/log\n"));
    let by_doc = log
        .get_entry(pb::GetEntryRequest {
            key: Some(pb::get_entry_request::Key::DocumentSha256(
                record.document_sha256.to_vec(),
            )),
        })
        .await
        .expect("by document")
        .into_inner();
    assert_eq!(by_doc.entries.len(), 1);
    assert_eq!(by_doc.entries[0].index, entry.index);

    // Standard health checking.
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel(None).await);
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "segel.v1.Signer".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // ListAgencies for the allowed client.
    let agencies = signer
        .list_agencies(pb::ListAgenciesRequest {})
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        agencies
            .agencies
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        vec!["dev"]
    );
    assert!(agencies.agencies[0].certificate_chain.len() >= 2);
    server.stop().await;
}

/// The reason of a refusal: the `google.rpc.ErrorInfo` in its details, which must be of
/// domain `segel` when there is one.
pub(crate) fn reason(s: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    let info = s.get_details_error_info()?;
    assert_eq!(info.domain, "segel", "{s:?}");
    Some(info.reason)
}

/// `s` has `code` and the ErrorInfo reason `want`.
#[track_caller]
pub(crate) fn assert_refused(s: &tonic::Status, code: Code, want: &str) {
    assert_eq!(s.code(), code, "{s:?}");
    assert_eq!(reason(s).as_deref(), Some(want), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_right_codes() {
    let limit = 256 * 1024;
    let server = start(limit).await;
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    // No client certificate.
    let mut anon = SignerClient::new(server.channel(None).await);
    let e = anon
        .sign_pdf(request(pdf.clone(), "r-anon"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::Unauthenticated, "CLIENT_CERTIFICATE_REQUIRED");
    // A valid client without rights.
    let mut denied = SignerClient::new(server.channel(Some("client-denied")).await);
    let e = denied
        .sign_pdf(request(pdf.clone(), "r-denied"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::PermissionDenied, "AGENCY_NOT_ALLOWED");
    let mut ok = SignerClient::new(server.channel(Some("client")).await);
    // Unknown agency.
    let mut r = request(pdf.clone(), "r-nope");
    r.agency_id = "nope".into();
    let e = ok.sign_pdf(r).await.expect_err("refused");
    assert_refused(&e, Code::NotFound, "UNKNOWN_AGENCY");
    // Bad PDFs: the engine's specific reason.
    let enc = std::fs::read(corpus().join("bad/password-protected.pdf")).expect("corpus");
    let e = ok
        .sign_pdf(request(enc, "r-enc"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "ENCRYPTED_PDF");
    assert!(e.message().contains("encrypted"), "{}", e.message());
    let html = std::fs::read(corpus().join("bad/gateway-error.pdf")).expect("corpus");
    let e = ok
        .sign_pdf(request(html, "r-html"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "NOT_A_PDF");
    assert!(e.message().contains("no %PDF- header"), "{}", e.message());
    let cut = std::fs::read(corpus().join("bad/truncated-download.pdf")).expect("corpus");
    let e = ok
        .sign_pdf(request(cut, "r-cut"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "INVALID_PDF");
    let locked = segel_tests::fixtures::certified_no_changes();
    let e = ok
        .sign_pdf(request(locked, "r-locked"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "DOCUMENT_LOCKED");
    // Too large.
    let mut big = pdf.clone();
    big.resize(limit + 1000, b' ');
    let e = ok
        .sign_pdf(request(big, "r-big"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::ResourceExhausted, "DOCUMENT_TOO_LARGE");
    assert_eq!(
        tonic_types::StatusExt::get_details_error_info(&e)
            .and_then(|i| i.metadata.get("max_bytes").cloned())
            .as_deref(),
        Some("262144")
    );
    // One order for every request: its shape, then the caller's rights, then the size. A
    // malformed digest is INVALID_ARGUMENT whoever sends it; a well-formed one from a caller
    // without rights is PERMISSION_DENIED.
    let digest = |d: Vec<u8>| pb::SignDigestRequest {
        agency_id: "dev".into(),
        request_id: "r-digest".into(),
        message_digest: d,
        ..Default::default()
    };
    let e = denied
        .sign_digest(digest(vec![1; 31]))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "INVALID_DIGEST");
    assert!(e.message().contains("message_digest"), "{e}");
    let e = denied
        .sign_digest(digest(vec![1; 32]))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::PermissionDenied, "AGENCY_NOT_ALLOWED");
    // Looking up by document reference: a malformed reference is INVALID_ARGUMENT, a
    // well-formed one without a client certificate UNAUTHENTICATED.
    let mut log = LogClient::new(server.channel(None).await);
    let by_ref = |r: String| pb::GetEntryRequest {
        key: Some(pb::get_entry_request::Key::DocumentRef(r)),
    };
    let e = log
        .get_entry(by_ref("x".repeat(300)))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "FIELD_TOO_LONG");
    let e = log
        .get_entry(by_ref("B-17/2026".into()))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::Unauthenticated, "CLIENT_CERTIFICATE_REQUIRED");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_idempotent_and_200_concurrent_signings_get_distinct_entries() {
    let server = start(4 * 1024 * 1024).await;
    let channel = server.channel(Some("client")).await;
    let mut signer = SignerClient::new(channel.clone());
    let pdf = std::fs::read(corpus().join("fpdf2-report.pdf")).expect("corpus");
    let a = signer
        .sign_pdf(request(pdf.clone(), "surat-42"))
        .await
        .expect("first")
        .into_inner();
    let b = signer
        .sign_pdf(request(pdf.clone(), "surat-42"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        a.entry.as_ref().map(|e| e.index),
        b.entry.as_ref().map(|e| e.index)
    );
    assert_eq!(
        a.signed_pdf, b.signed_pdf,
        "a retry returns the same signed PDF"
    );
    // The same retry asking for the update alone: the tail of that signed PDF, nothing else.
    let c = signer
        .sign_pdf(pb::SignPdfRequest {
            update_only: true,
            ..request(pdf.clone(), "surat-42")
        })
        .await
        .expect("retry, update only")
        .into_inner();
    assert!(c.signed_pdf.is_empty(), "no document sent back");
    assert_eq!(&a.signed_pdf[..pdf.len()], &pdf[..]);
    assert_eq!(c.update, a.signed_pdf[pdf.len()..], "the update alone");
    assert_eq!(
        c.entry.as_ref().map(|e| e.index),
        a.entry.as_ref().map(|e| e.index)
    );
    let other = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let e = signer
        .sign_pdf(request(other.clone(), "surat-42"))
        .await
        .expect_err("another document");
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");

    // 200 concurrent signings.
    let pdf = Arc::new(other);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut c = SignerClient::new(channel.clone());
        let pdf = pdf.clone();
        tasks.push(tokio::spawn(async move {
            c.sign_pdf(request(pdf.to_vec(), &format!("bulk-{i}")))
                .await
                .map(|r| r.into_inner())
        }));
    }
    let mut indices = Vec::new();
    for t in tasks {
        let r = t.await.expect("task").expect("signed");
        indices.push(r.entry.expect("entry").index);
    }
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), 200, "every signing has its own entry");
    let mut log = LogClient::new(server.channel(None).await);
    let cp = log
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("cp")
        .into_inner();
    let note = tlog::SignedNote::parse(&cp.note).expect("note");
    let c = tlog::Checkpoint::parse(&note.text).expect("checkpoint");
    assert_eq!(c.size, 201);
    let first = checkpoint_of(a.checkpoint.as_ref().expect("cp"));
    let p = log
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            old_size: first.size,
            new_size: c.size,
        })
        .await
        .expect("proof")
        .into_inner();
    check_consistency(&p, &first, &c);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_mb_document_is_signed_by_streaming() {
    use pb::sign_pdf_stream_request::Part;
    use pb::sign_pdf_stream_response::Part as Out;
    let server = start(64 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = pades::testing::synthetic_pdf(3, 30 * 1024 * 1024);
    let mut meta_req = request(Vec::new(), "big-1");
    meta_req.size_hint = pdf.len() as u64;
    let mut parts = vec![pb::SignPdfStreamRequest {
        part: Some(Part::Metadata(meta_req)),
    }];
    for c in pdf.chunks(1 << 20) {
        parts.push(pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(c.to_vec().into())),
        });
    }
    let mut stream = signer
        .sign_pdf_stream(tokio_stream::iter(parts.clone()))
        .await
        .expect("stream accepted")
        .into_inner();
    let meta = match stream.message().await.expect("first").and_then(|m| m.part) {
        Some(Out::Metadata(m)) => m,
        other => panic!("metadata first, got {other:?}"),
    };
    let mut signed = Vec::with_capacity(pdf.len() + 64 * 1024);
    while let Some(m) = stream.message().await.expect("chunk") {
        match m.part {
            Some(Out::Chunk(c)) => signed.extend_from_slice(&c),
            other => panic!("only chunks after the metadata, got {other:?}"),
        }
    }
    assert!(signed.starts_with(&pdf));
    let entry = meta.entry.expect("entry");
    check_proof(
        meta.checkpoint.as_ref().expect("cp"),
        &entry,
        meta.inclusion_proof.as_ref().expect("proof"),
    );
    let record = tlog::LogEntry::decode(&entry.record).expect("record");
    let doc = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &signed);
    assert_eq!(
        record.document_sha256.as_slice(),
        doc.as_ref(),
        "the log names the document received"
    );
    let anchors = segel_client::pem::read_certificates(&pki().file("doc-root.pem")).expect("root");
    let report = pades::verify(
        &signed,
        &pades::VerifyOptions {
            trust_anchors: anchors,
            time: pades::UnixTime::now(),
        },
    )
    .expect("reads");
    assert!(report.all_passed(), "{report:#?}");
    // The same request again, asking for the update alone: one message, the metadata carrying
    // the update of the same signed document (an idempotent retry), and no chunks.
    let mut again = parts.clone();
    if let Some(Part::Metadata(m)) = &mut again[0].part {
        m.update_only = true;
    }
    let mut stream = signer
        .sign_pdf_stream(tokio_stream::iter(again))
        .await
        .expect("stream accepted")
        .into_inner();
    let only = match stream.message().await.expect("first").and_then(|m| m.part) {
        Some(Out::Metadata(m)) => m,
        other => panic!("metadata first, got {other:?}"),
    };
    assert!(
        stream.message().await.expect("end").is_none(),
        "no chunks follow the update"
    );
    assert_eq!(only.update, signed[pdf.len()..], "the update alone");
    assert_eq!(only.entry.map(|e| e.index), Some(entry.index));
    // A stream that does not start with metadata is refused.
    let e = signer
        .sign_pdf_stream(tokio_stream::iter(vec![pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(vec![1, 2].into())),
        }]))
        .await;
    let code = match e {
        Err(s) => s.code(),
        Ok(r) => r.into_inner().message().await.expect_err("refused").code(),
    };
    assert_eq!(code, Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_signing_by_digest() {
    let server = start(4 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = std::fs::read(corpus().join("gs-ps2pdf.pdf")).expect("corpus");
    // The caller prepares the PDF itself, with room for the CMS.
    let time = pades::UnixTime::now();
    let prepared =
        pades::prepare(&pdf, &pades::SignatureRequest::new(time), 16 * 1024).expect("prepare");
    let digest_request = || pb::SignDigestRequest {
        agency_id: "dev".into(),
        message_digest: prepared.digest().to_vec(),
        document_ref: "remote-1".into(),
        pss: true,
        document_sha256: Vec::new(),
        request_id: "digest-1".into(),
        signing_time: time.0,
        document_id: String::new(),
    };
    let resp = signer
        .sign_digest(digest_request())
        .await
        .expect("signed")
        .into_inner();
    // A retry with the same request id returns the same CMS and entry; no second entry.
    let size_before = resp.inclusion_proof.as_ref().expect("proof").tree_size;
    let again = signer
        .sign_digest(digest_request())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.cms, resp.cms);
    assert_eq!(again.entry, resp.entry);
    assert_eq!(
        again.inclusion_proof.as_ref().expect("proof").tree_size,
        size_before
    );
    // The same request id with another digest is refused, naming the first signing time (so
    // that a caller who prepared the file anew can prepare the same bytes again).
    let e = signer
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            message_digest: vec![7; 32],
            request_id: "digest-1".into(),
            signing_time: time.0 + 60,
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(e.code(), Code::AlreadyExists);
    assert_eq!(
        e.metadata()
            .get("segel-signing-time")
            .and_then(|v| v.to_str().ok()),
        Some(time.0.to_string().as_str())
    );
    let entry = resp.entry.expect("entry");
    check_proof(
        resp.checkpoint.as_ref().expect("cp"),
        &entry,
        resp.inclusion_proof.as_ref().expect("proof"),
    );
    let record = tlog::LogEntry::decode(&entry.record).expect("record");
    assert_eq!(record.message_digest, prepared.digest());
    let signed = prepared.embed(&resp.cms).expect("fits").to_vec();
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("remote.pdf");
    std::fs::write(&out, &signed).expect("write");
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    let mut verifier = VerifierClient::new(server.channel(None).await);
    let v = verifier
        .verify_pdf(pb::VerifyPdfRequest { pdf: signed.into() })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(v.overall, "TOTAL-PASSED");
    assert_eq!(
        v.signatures[0].log_entry.as_ref().map(|e| e.index),
        Some(entry.index)
    );
    // A digest of the wrong length is refused.
    let e = signer
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            request_id: "digest-short".into(),
            message_digest: vec![1; 20],
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "INVALID_DIGEST");
    server.stop().await;
}
