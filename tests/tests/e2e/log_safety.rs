//! The log under hostile or careless callers (issue 14, parts 5 and 6): idempotency bound to
//! the agency and the signing options, SignDigest entries marked as the caller's claim, every
//! request string bounded and nothing stored large enough for sled to put it in an unsynced
//! blob file, and no document reference in clear anywhere in the log.

use std::path::{Path, PathBuf};

use segel_proto::v1 as pb;
use segel_proto::v1::{log_client::LogClient, signer_client::SignerClient};
use segel_server::config;
use segel_tests::{corpus, pki};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::Code;

/// A server with two agencies (`dev` and `dev-2`, the same key) that the test client
/// (`siola-dev`) may both seal for; its log directory stays readable by the test until the
/// `Server` is dropped.
struct Server {
    port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
    log_dir: PathBuf,
    data: tempfile::TempDir,
}

async fn start() -> Server {
    let data = tempfile::tempdir().expect("tempdir");
    let log_dir = data.path().join("log");
    let mut raw = config::dev(&pki().path, &log_dir, "127.0.0.1:0");
    raw.max_document_bytes = 8 * 1024 * 1024;
    let mut second = raw.agencies[0].clone();
    second.id = "dev-2".into();
    raw.agencies.push(second);
    raw.allow[0].agencies.push("dev-2".into());
    let (port, stop, done) = super::grpc::spawn(raw).await;
    Server {
        port,
        stop,
        done,
        log_dir,
        data,
    }
}

impl Server {
    async fn channel(&self, client: Option<&str>) -> Channel {
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
        Channel::from_shared(format!("https://localhost:{}", self.port))
            .expect("uri")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
            .expect("connect")
    }

    async fn signer(&self) -> SignerClient<Channel> {
        SignerClient::new(self.channel(Some("client")).await)
    }

    /// Stop serving and close the log; the log directory stays until the result is dropped.
    async fn stop(self) -> (PathBuf, tempfile::TempDir) {
        let _ = self.stop.send(());
        self.done.await.expect("server task");
        (self.log_dir, self.data)
    }
}

fn request(agency: &str, pdf: &[u8], request_id: &str) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: agency.into(),
        pdf: pdf.to_vec().into(),
        request_id: request_id.into(),
        document_ref: "B-17/SIOLA/XI/2026".into(),
        options: Some(pb::SignOptions {
            reason: "Rekomendasi disetujui".into(),
            location: "Jakarta".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn digest_request(agency: &str, digest: [u8; 32], request_id: &str) -> pb::SignDigestRequest {
    pb::SignDigestRequest {
        agency_id: agency.into(),
        message_digest: digest.to_vec(),
        document_ref: "remote-1".into(),
        document_sha256: vec![5; 32],
        request_id: request_id.into(),
        ..Default::default()
    }
}

fn record(e: Option<&pb::LogEntry>) -> tlog::LogEntry {
    tlog::LogEntry::decode(&e.expect("entry").record).expect("record")
}

fn corpus_pdf() -> Vec<u8> {
    std::fs::read(corpus().join("fpdf2-report.pdf")).expect("corpus")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_request_id_with_another_agency_is_already_exists() {
    let server = start().await;
    let mut signer = server.signer().await;
    let pdf = corpus_pdf();
    let first = signer
        .sign_pdf(request("dev", &pdf, "surat-1"))
        .await
        .expect("signed")
        .into_inner();
    // The same id for the other agency: refused, not the first agency's entry.
    let e = signer
        .sign_pdf(request("dev-2", &pdf, "surat-1"))
        .await
        .expect_err("another agency");
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    assert!(e.message().contains("agency \"dev\""), "{e}");
    // Remote signing likewise.
    let digest = [3; 32];
    let d = signer
        .sign_digest(digest_request("dev", digest, "digest-1"))
        .await
        .expect("signed")
        .into_inner();
    let e = signer
        .sign_digest(digest_request("dev-2", digest, "digest-1"))
        .await
        .expect_err("another agency");
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    // The same everything still returns the first result, byte for byte.
    let again = signer
        .sign_pdf(request("dev", &pdf, "surat-1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.signed_pdf, first.signed_pdf);
    assert_eq!(again.entry, first.entry);
    let d2 = signer
        .sign_digest(digest_request("dev", digest, "digest-1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!((d2.cms, d2.entry), (d.cms, d.entry));
    // The other agency signs under a fresh id.
    let other = signer
        .sign_pdf(request("dev-2", &pdf, "surat-2"))
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(record(other.entry.as_ref()).agency, "dev-2");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_request_id_with_other_options_is_already_exists() {
    let server = start().await;
    let mut signer = server.signer().await;
    let pdf = corpus_pdf();
    let base = || request("dev", &pdf, "surat-9");
    let first = signer.sign_pdf(base()).await.expect("signed").into_inner();
    let with = |f: &dyn Fn(&mut pb::SignPdfRequest)| {
        let mut r = base();
        f(&mut r);
        r
    };
    let changes: Vec<(&str, pb::SignPdfRequest)> = vec![
        (
            "reason",
            with(&|r| r.options.as_mut().expect("o").reason = "Ditolak".into()),
        ),
        (
            "location",
            with(&|r| r.options.as_mut().expect("o").location = "Bandung".into()),
        ),
        (
            "contact_info",
            with(&|r| r.options.as_mut().expect("o").contact_info = "a@b.go.id".into()),
        ),
        (
            "field_name",
            with(&|r| r.options.as_mut().expect("o").field_name = "Other".into()),
        ),
        ("pss", with(&|r| r.options.as_mut().expect("o").pss = true)),
        ("page", with(&|r| r.options.as_mut().expect("o").page = 2)),
        ("document_ref", with(&|r| r.document_ref = "B-18".into())),
    ];
    for (what, r) in changes {
        let e = signer.sign_pdf(r).await.expect_err(what);
        assert_eq!(e.code(), Code::AlreadyExists, "{what}: {e}");
        assert!(e.message().contains("other signing options"), "{what}: {e}");
    }
    // Page 0 means page 1: the same request.
    let same = signer
        .sign_pdf(with(&|r| r.options.as_mut().expect("o").page = 1))
        .await
        .expect("page 1 is the default")
        .into_inner();
    assert_eq!(same.signed_pdf, first.signed_pdf);
    // A PSS signature (randomised) is returned as it was, not signed again.
    let pss = || {
        let mut r = request("dev", &pdf, "surat-pss");
        r.options.as_mut().expect("o").pss = true;
        r
    };
    let a = signer.sign_pdf(pss()).await.expect("signed").into_inner();
    let b = signer.sign_pdf(pss()).await.expect("retry").into_inner();
    assert_eq!(a.signed_pdf, b.signed_pdf);
    assert_eq!(a.entry, b.entry);
    // SignDigest: the PSS flag and the document hash are part of the request.
    let digest = [4; 32];
    signer
        .sign_digest(digest_request("dev", digest, "digest-9"))
        .await
        .expect("signed");
    for (what, r) in [
        (
            "pss",
            pb::SignDigestRequest {
                pss: true,
                ..digest_request("dev", digest, "digest-9")
            },
        ),
        (
            "document_sha256",
            pb::SignDigestRequest {
                document_sha256: vec![6; 32],
                ..digest_request("dev", digest, "digest-9")
            },
        ),
        (
            "document_ref",
            pb::SignDigestRequest {
                document_ref: "remote-2".into(),
                ..digest_request("dev", digest, "digest-9")
            },
        ),
    ] {
        let e = signer.sign_digest(r).await.expect_err(what);
        assert_eq!(e.code(), Code::AlreadyExists, "{what}: {e}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_digest_entry_records_the_document_hash_as_the_callers_claim() {
    let server = start().await;
    let mut signer = server.signer().await;
    let pdf = std::fs::read(corpus().join("gs-ps2pdf.pdf")).expect("corpus");
    let time = pades::UnixTime::now();
    let prepared =
        pades::prepare(&pdf, &pades::SignatureRequest::new(time), 16 * 1024).expect("prepare");
    let resp = signer
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            message_digest: prepared.digest().to_vec(),
            // A claim the server cannot check: it never sees the document.
            document_sha256: vec![0xcc; 32],
            request_id: "claimed-1".into(),
            ..Default::default()
        })
        .await
        .expect("signed")
        .into_inner();
    let claimed = record(resp.entry.as_ref());
    assert_eq!(claimed.document_source, tlog::DocumentSource::Caller);
    assert_eq!(claimed.document_sha256, [0xcc; 32]);
    // What anyone reading the log gets: the same mark, in the record itself.
    let mut log = LogClient::new(server.channel(None).await);
    let by_doc = log
        .get_entry(pb::GetEntryRequest {
            key: Some(pb::get_entry_request::Key::DocumentSha256(vec![0xcc; 32])),
        })
        .await
        .expect("lookup")
        .into_inner();
    assert_eq!(by_doc.entries.len(), 1);
    assert_eq!(
        record(by_doc.entries.first()).document_source,
        tlog::DocumentSource::Caller
    );
    // VerifyPdf of the finished document returns that entry, marked.
    let signed = prepared.embed(&resp.cms).expect("fits").to_vec();
    let mut verifier = pb::verifier_client::VerifierClient::new(server.channel(None).await);
    let v = verifier
        .verify_pdf(pb::VerifyPdfRequest { pdf: signed.into() })
        .await
        .expect("verify")
        .into_inner();
    let found = record(v.signatures[0].log_entry.as_ref());
    assert_eq!(found.document_source, tlog::DocumentSource::Caller);
    // A signed PDF's hash is the server's own.
    let whole = signer
        .sign_pdf(request("dev", &corpus_pdf(), "whole-1"))
        .await
        .expect("signed")
        .into_inner();
    let computed = record(whole.entry.as_ref());
    assert_eq!(computed.document_source, tlog::DocumentSource::Server);
    assert_eq!(
        computed.document_sha256[..],
        *aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &whole.signed_pdf).as_ref()
    );
    server.stop().await;
}

/// A one-page PDF whose page dictionary carries an inline array of `numbers` zeros: signing
/// rewrites that page in the update, so the update is at least that large.
fn pdf_with_a_large_page(numbers: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let filler = "0 ".repeat(numbers);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /Filler [{filler}] /Contents 4 0 R >>"),
        "<< /Length 0 >>\nstream\n\nendstream".to_string(),
    ];
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_blob_file_after_signing_with_largest_values() {
    let server = start().await;
    let mut signer = server.signer().await;
    let pdf = pdf_with_a_large_page(100_000);
    let largest = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let biggest = || pb::SignPdfRequest {
        agency_id: "dev".into(),
        pdf: pdf.clone().into(),
        request_id: largest(128, 'r'),
        document_ref: largest(256, 'd'),
        options: Some(pb::SignOptions {
            reason: largest(256, 'a'),
            location: largest(256, 'l'),
            contact_info: largest(256, 'c'),
            field_name: largest(64, 'f'),
            ..Default::default()
        }),
        ..Default::default()
    };
    // One byte more in any field: INVALID_ARGUMENT naming the field and its limit.
    type Grow = fn(&mut pb::SignPdfRequest);
    let over: [(&str, usize, Grow); 6] = [
        ("request_id", 128, |r| r.request_id.push('x')),
        ("document_ref", 256, |r| r.document_ref.push('x')),
        ("options.reason", 256, |r| {
            r.options.as_mut().expect("o").reason.push('x')
        }),
        ("options.location", 256, |r| {
            r.options.as_mut().expect("o").location.push('x')
        }),
        ("options.contact_info", 256, |r| {
            r.options.as_mut().expect("o").contact_info.push('x')
        }),
        ("options.field_name", 64, |r| {
            r.options.as_mut().expect("o").field_name.push('x')
        }),
    ];
    for (field, limit, grow) in over {
        let mut r = biggest();
        grow(&mut r);
        let e = signer.sign_pdf(r).await.expect_err(field);
        assert_eq!(e.code(), Code::InvalidArgument, "{field}: {e}");
        assert!(
            e.message().contains(&format!(
                "{field} has {} bytes; the limit is {limit}",
                limit + 1
            )),
            "{field}: {e}"
        );
    }
    let e = signer
        .sign_pdf(pb::SignPdfRequest {
            agency_id: largest(65, 'a'),
            ..biggest()
        })
        .await
        .expect_err("agency id");
    assert!(
        e.message()
            .contains("agency_id has 65 bytes; the limit is 64"),
        "{e}"
    );
    let e = signer
        .sign_digest(pb::SignDigestRequest {
            document_ref: largest(257, 'd'),
            ..digest_request("dev", [1; 32], "d")
        })
        .await
        .expect_err("digest document_ref");
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");
    assert!(e.message().contains("document_ref has 257 bytes"), "{e}");

    // The largest allowed values, on a document whose update is far above sled's blob
    // threshold; a retry; remote signing with the largest values.
    let signed = signer
        .sign_pdf(biggest())
        .await
        .expect("signed")
        .into_inner();
    assert!(
        signed.signed_pdf.len() - pdf.len() > segel_server::store::sled_backend::BLOB_THRESHOLD,
        "the update must be larger than sled's blob threshold for this test to mean anything"
    );
    let again = signer
        .sign_pdf(biggest())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.signed_pdf, signed.signed_pdf);
    signer
        .sign_digest(pb::SignDigestRequest {
            document_ref: largest(256, 'd'),
            ..digest_request("dev", [1; 32], &largest(128, 'q'))
        })
        .await
        .expect("signed");
    let mut second = biggest();
    second.request_id = largest(128, 's');
    signer.sign_pdf(second).await.expect("signed");
    let (log_dir, _data) = server.stop().await;
    let sled = log_dir.join("sled");
    assert!(sled.join("db").is_file(), "the log is where the test looks");
    let blobs: Vec<PathBuf> = files(&sled)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "blobs"))
        .collect();
    assert!(blobs.is_empty(), "sled wrote blob files: {blobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_ref_is_not_stored_in_clear() {
    let server = start().await;
    let mut signer = server.signer().await;
    // A citizen's number as the reference (file names often hold one).
    let nik = "3171234567890001";
    let pdf = corpus_pdf();
    let mut r = request("dev", &pdf, "nik-1");
    r.document_ref = nik.into();
    let signed = signer.sign_pdf(r).await.expect("signed").into_inner();
    let d = signer
        .sign_digest(pb::SignDigestRequest {
            document_ref: nik.into(),
            ..digest_request("dev", [8; 32], "nik-2")
        })
        .await
        .expect("signed")
        .into_inner();
    let other_agency = signer
        .sign_pdf(pb::SignPdfRequest {
            document_ref: nik.into(),
            ..request("dev-2", &pdf, "nik-3")
        })
        .await
        .expect("signed")
        .into_inner();
    // The records carry a keyed hash: the same reference gives another hash in another agency,
    // and nothing of it in clear.
    let (a, b, c) = (
        record(signed.entry.as_ref()),
        record(d.entry.as_ref()),
        record(other_agency.entry.as_ref()),
    );
    assert_eq!(a.document_ref, None);
    assert!(a.document_ref_hmac.is_some());
    assert_eq!(a.document_ref_hmac, b.document_ref_hmac);
    assert_ne!(a.document_ref_hmac, c.document_ref_hmac);
    let plain: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, nik.as_bytes())
        .as_ref()
        .try_into()
        .expect("32");
    assert_ne!(
        a.document_ref_hmac,
        Some(plain),
        "a plain hash is brute-forceable"
    );
    for e in [&signed.entry, &d.entry, &other_agency.entry] {
        let bytes = &e.as_ref().expect("entry").record;
        assert!(
            !contains(bytes, nik.as_bytes()),
            "the record holds the reference"
        );
    }
    // The holder (a client allowed for the agency) looks its entries up by the reference.
    let mut log = LogClient::new(server.channel(Some("client")).await);
    let found = log
        .get_entry(pb::GetEntryRequest {
            key: Some(pb::get_entry_request::Key::DocumentRef(nik.into())),
        })
        .await
        .expect("lookup")
        .into_inner();
    let mut indices: Vec<u64> = found.entries.iter().map(|e| e.index).collect();
    indices.sort_unstable();
    let mut expected: Vec<u64> = [&signed.entry, &d.entry, &other_agency.entry]
        .iter()
        .map(|e| e.as_ref().expect("entry").index)
        .collect();
    expected.sort_unstable();
    assert_eq!(indices, expected);
    // The public may not ask whether a reference was used.
    let mut public = LogClient::new(server.channel(None).await);
    let e = public
        .get_entry(pb::GetEntryRequest {
            key: Some(pb::get_entry_request::Key::DocumentRef(nik.into())),
        })
        .await
        .expect_err("no client certificate");
    assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    // Nowhere in the log's files either (records, idempotency records, keys, checkpoints).
    let (log_dir, _data) = server.stop().await;
    for f in files(&log_dir) {
        let bytes = std::fs::read(&f).expect("read");
        assert!(
            !contains(&bytes, nik.as_bytes()),
            "{} holds the reference",
            f.display()
        );
        assert!(
            !contains(&bytes, b"nik-1"),
            "{} holds a request id",
            f.display()
        );
    }
    // After a restart the lookup still works (the index is rebuilt from the records).
    let cfg = config::dev(&pki().path, &log_dir, "127.0.0.1:0")
        .resolve(pades::UnixTime::now().0)
        .expect("configuration");
    let log = segel_server::serve::open_log(&cfg).expect("reopens");
    assert_eq!(
        log.find_by_reference("dev", nik).expect("lookup").len(),
        2,
        "both entries of agency dev"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
