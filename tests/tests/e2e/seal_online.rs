//! Visible seals through the server: the stamp drawn with the agency's template, the document id
//! answered and logged as its SHA-256, found again by `GetEntry`, kept by an idempotent retry;
//! refusals (a tag not in the document, an agency without stamp settings, malformed ids); the
//! agency's stamp settings in `ListAgencies`; remote signing by digest with a document id.

use segel_proto::v1 as pb;
use segel_proto::v1::{log_client::LogClient, signer_client::SignerClient};
use segel_server::config;
use segel_tests::{corpus, pki};
use tonic::Code;
use tonic_types::StatusExt;

use crate::grpc::{client_channel, spawn};

/// The development configuration plus agency `plain`: the same key, no `[agency.stamp]`.
fn config_with_plain_agency(dir: &std::path::Path) -> config::RawConfig {
    let mut raw = config::dev(&pki().path, &dir.join("log"), "127.0.0.1:0");
    let mut plain = raw.agencies[0].clone();
    plain.id = "plain".into();
    plain.name = "Plain Agency".into();
    plain.stamp = None;
    raw.agencies.push(plain);
    raw.allow[0].agencies.push("plain".into());
    raw
}

fn seal_request(agency: &str, tag: &str, request_id: &str) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: agency.into(),
        pdf: std::fs::read(corpus().join("surat-rekomendasi.pdf"))
            .expect("corpus")
            .into(),
        request_id: request_id.into(),
        update_only: true,
        options: Some(pb::SignOptions {
            visible: Some(pb::VisibleSeal {
                tag: tag.into(),
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
    }
}

fn reason(s: &tonic::Status) -> String {
    s.get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

async fn entry_by_id(
    log: &mut LogClient<tonic::transport::Channel>,
    id: &str,
) -> Vec<pb::LogEntry> {
    log.get_entry(pb::GetEntryRequest {
        key: Some(pb::get_entry_request::Key::DocumentId(id.into())),
    })
    .await
    .expect("lookup")
    .into_inner()
    .entries
}

fn record(e: &pb::LogEntry) -> tlog::LogEntry {
    tlog::LogEntry::decode(&e.record).expect("record")
}

/// Everything that needs no drawing: ListAgencies, refusals before signing, SignDigest with a
/// document id found by GetEntry (open to anyone), retries, malformed ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_ids_are_logged_as_hashes_and_found_by_anyone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, stop, done) = spawn(config_with_plain_agency(dir.path())).await;
    let mut signer = SignerClient::new(client_channel(port, Some("client")).await);
    let mut anyone = LogClient::new(client_channel(port, None).await);

    // ListAgencies: the template a digest-only client draws with; none for `plain`.
    let agencies = signer
        .list_agencies(pb::ListAgenciesRequest::default())
        .await
        .expect("agencies")
        .into_inner()
        .agencies;
    let dev = agencies.iter().find(|a| a.id == "dev").expect("dev");
    let stamp = dev.stamp.as_ref().expect("dev has stamp settings");
    assert_eq!(stamp.verify_url, "http://127.0.0.1:8080");
    assert_eq!(
        stamp.template,
        pades::stamp::StampTemplate::seal_default().sources()
    );
    let settings = segel_proto::stamp_settings(&dev.name, stamp).expect("parses back");
    assert_eq!(
        settings.template,
        pades::stamp::StampTemplate::seal_default()
    );
    let plain = agencies.iter().find(|a| a.id == "plain").expect("plain");
    assert!(plain.stamp.is_none());

    // A visible seal for an agency without stamp settings: refused, nothing logged.
    let size = |c: pb::Checkpoint| c.note.lines().nth(1).map(str::to_string);
    let before = size(
        anyone
            .get_checkpoint(pb::GetCheckpointRequest::default())
            .await
            .expect("cp")
            .into_inner(),
    );
    let e = signer
        .sign_pdf(seal_request("plain", "#ttd#", "plain-1"))
        .await
        .expect_err("no stamp settings");
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(reason(&e), "STAMP_NOT_CONFIGURED");
    assert!(e.message().contains("\"plain\""), "{}", e.message());
    // Hostile options are refused at the edge.
    let mut nan = seal_request("dev", "#ttd#", "nan-1");
    if let Some(v) = nan.options.as_mut().and_then(|o| o.visible.as_mut()) {
        v.width = f64::NAN;
    }
    let e = signer.sign_pdf(nan).await.expect_err("NaN width");
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::InvalidArgument, "INVALID_STAMP")
    );
    let e = signer
        .sign_pdf(seal_request("dev", &"#".repeat(65), "long-tag"))
        .await
        .expect_err("long tag");
    assert_eq!(reason(&e), "FIELD_TOO_LONG");

    // Remote signing by digest with the caller's document id.
    let pdf = std::fs::read(corpus().join("gs-ps2pdf.pdf")).expect("corpus");
    let time = pades::UnixTime::now();
    let prepared =
        pades::prepare(&pdf, &pades::SignatureRequest::new(time), 16 * 1024).expect("prepare");
    let id = pades::stamp::DocumentId::generate();
    let digest = |request_id: &str, document_id: &str| pb::SignDigestRequest {
        agency_id: "dev".into(),
        message_digest: prepared.digest().to_vec(),
        request_id: request_id.into(),
        signing_time: time.0,
        document_id: document_id.into(),
        ..Default::default()
    };
    let signed = signer
        .sign_digest(digest("digest-id-1", id.as_str()))
        .await
        .expect("signed")
        .into_inner();
    let entry = signed.entry.expect("entry");
    let logged = record(&entry);
    assert_eq!(logged.version(), 3);
    assert_eq!(
        logged.document_id_sha256,
        tlog::DocumentIdHash::Present(pades::sha256(id.as_str().as_bytes()))
    );
    assert!(
        !entry
            .record
            .windows(id.as_str().len())
            .any(|w| w == id.as_str().as_bytes()),
        "the id itself never enters the log"
    );
    // Found by anyone holding the id (no client certificate).
    let found = entry_by_id(&mut anyone, id.as_str()).await;
    assert_eq!(found, vec![entry.clone()]);
    assert!(entry_by_id(&mut anyone, NEVER_LOGGED).await.is_empty());
    // A retry gives the same entry; the same request id with another document id is another
    // request.
    let again = signer
        .sign_digest(digest("digest-id-1", id.as_str()))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!((again.cms, again.entry), (signed.cms, Some(entry.clone())));
    let e = signer
        .sign_digest(digest("digest-id-1", NEVER_LOGGED))
        .await
        .expect_err("other id");
    assert_eq!(e.code(), Code::AlreadyExists);
    // The refusal names the first time and document id, so that a caller that lost them can
    // prepare the same document (and draw the same seal) again.
    let meta = |key: &str| {
        e.metadata()
            .get(key)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(
        meta(segel_proto::SIGNING_TIME_METADATA),
        Some(time.0.to_string())
    );
    assert_eq!(
        meta(segel_proto::DOCUMENT_ID_METADATA).as_deref(),
        Some(id.as_str())
    );
    let e = signer
        .sign_digest(digest("digest-id-1", ""))
        .await
        .expect_err("without the id");
    assert_eq!(e.code(), Code::AlreadyExists);
    // Another request may not claim a logged document id.
    let e = signer
        .sign_digest(digest("digest-id-2", id.as_str()))
        .await
        .expect_err("an id in use");
    assert_eq!(
        (e.code(), reason(&e)),
        (Code::AlreadyExists, "DOCUMENT_ID_IN_USE".to_string())
    );
    // An invisible signature records "no document id".
    let invisible = signer
        .sign_digest(digest("digest-no-id", ""))
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(
        record(&invisible.entry.expect("entry")).document_id_sha256,
        tlog::DocumentIdHash::Absent
    );
    // Malformed ids, in SignDigest and in GetEntry.
    for bad in [
        "short",
        "with space 0123456789",
        "ab/cdefghijklmnopq",
        &"x".repeat(65),
    ] {
        let e = signer
            .sign_digest(digest("digest-bad", bad))
            .await
            .expect_err("bad id");
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::InvalidArgument, "INVALID_DOCUMENT_ID")
        );
        let e = anyone
            .get_entry(pb::GetEntryRequest {
                key: Some(pb::get_entry_request::Key::DocumentId(bad.into())),
            })
            .await
            .expect_err("bad id");
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::InvalidArgument, "INVALID_DOCUMENT_ID")
        );
    }
    // Nothing was logged for the refusals: only the two digests.
    let after = anyone
        .get_checkpoint(pb::GetCheckpointRequest::default())
        .await
        .expect("cp")
        .into_inner();
    let (b, a): (u64, u64) = (
        before.and_then(|s| s.parse().ok()).expect("size"),
        size(after).and_then(|s| s.parse().ok()).expect("size"),
    );
    assert_eq!(a, b + 2);
    let _ = stop.send(());
    done.await.expect("server");
}

/// A well-formed id that was never logged.
const NEVER_LOGGED: &str = "NeverLoggedId_0123456";

/// A seal over `#ttd#`: the answer's document id, logged as its hash and found by it, kept by
/// a retry with the same bytes; other seal options under the same request id are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visible_seal_answers_its_document_id_and_a_retry_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, stop, done) = spawn(config_with_plain_agency(dir.path())).await;
    let mut signer = SignerClient::new(client_channel(port, Some("client")).await);
    let mut anyone = LogClient::new(client_channel(port, None).await);

    let first = signer
        .sign_pdf(seal_request("dev", "#ttd#", "seal-1"))
        .await
        .expect("sealed")
        .into_inner();
    assert_eq!(first.document_id.len(), 22, "{:?}", first.document_id);
    pades::stamp::DocumentId::parse(&first.document_id).expect("a document id");
    let entry = first.entry.clone().expect("entry");
    assert_eq!(
        record(&entry).document_id_sha256,
        tlog::DocumentIdHash::Present(pades::sha256(first.document_id.as_bytes()))
    );
    assert_eq!(
        entry_by_id(&mut anyone, &first.document_id).await,
        vec![entry]
    );
    assert!(
        first
            .update
            .windows(b"/Widget".len())
            .any(|w| w == b"/Widget"),
        "a widget annotation"
    );

    // A retry: the same id, the same bytes, no new entry.
    let again = signer
        .sign_pdf(seal_request("dev", "#ttd#", "seal-1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.document_id, first.document_id);
    assert_eq!(again.update, first.update);
    assert_eq!(again.entry, first.entry);
    // The same request id with other seal options is another request.
    let mut other = seal_request("dev", "#ttd#", "seal-1");
    if let Some(v) = other.options.as_mut().and_then(|o| o.visible.as_mut()) {
        v.fields.insert("nama".into(), "Siti Aminah".into());
    }
    let e = signer.sign_pdf(other).await.expect_err("other fields");
    assert_eq!(e.code(), Code::AlreadyExists);

    // An invisible signature answers no document id.
    let mut invisible = seal_request("dev", "", "plain-sig");
    if let Some(o) = invisible.options.as_mut() {
        o.visible = None;
    }
    let plain = signer
        .sign_pdf(invisible)
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(plain.document_id, "");
    assert_eq!(
        record(&plain.entry.expect("entry")).document_id_sha256,
        tlog::DocumentIdHash::Absent
    );
    let _ = stop.send(());
    done.await.expect("server");

    // The operator changes the agency's template and restarts: the retry cannot rebuild the
    // same bytes any more, and says so (not INTERNAL, and no second entry).
    let mut changed = config_with_plain_agency(dir.path());
    if let Some(stamp) = changed.agencies[0].stamp.as_mut() {
        stamp.template = Some(
            [
                "Versi dua",
                "?{jabatan}",
                "*{instansi}",
                "?*{nama}",
                "?NIP. {nip}",
                "{tanggal}",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    let (port, stop, done) = spawn(changed).await;
    let mut signer = SignerClient::new(client_channel(port, Some("client")).await);
    let e = signer
        .sign_pdf(seal_request("dev", "#ttd#", "seal-1"))
        .await
        .expect_err("not rebuildable");
    assert_eq!(
        (e.code(), reason(&e)),
        (
            Code::FailedPrecondition,
            "RETRY_NOT_REBUILDABLE".to_string()
        ),
        "{e:?}"
    );
    assert!(
        e.message().contains(&format!(
            "entry {}",
            first.entry.as_ref().map_or(0, |e| e.index)
        )),
        "{e:?}"
    );
    let _ = stop.send(());
    done.await.expect("server");
}

/// The widget has a real rectangle, and a tag that does not occur is refused naming it, with
/// nothing logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_not_in_the_document_is_refused_and_nothing_is_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, stop, done) = spawn(config_with_plain_agency(dir.path())).await;
    let mut signer = SignerClient::new(client_channel(port, Some("client")).await);
    let mut anyone = LogClient::new(client_channel(port, None).await);
    let sealed = signer
        .sign_pdf(seal_request("dev", "#ttd#", "seal-drawn"))
        .await
        .expect("sealed")
        .into_inner();
    assert!(
        !sealed
            .update
            .windows(b"/Rect[0 0 0 0]".len())
            .any(|w| w == b"/Rect[0 0 0 0]"),
        "the stamp's widget has a rectangle on the page"
    );
    // A tag that does not occur: refused naming it, nothing logged.
    let size_before = sealed.inclusion_proof.as_ref().expect("proof").tree_size;
    let e = signer
        .sign_pdf(seal_request("dev", "#tidak-ada#", "seal-2"))
        .await
        .expect_err("no such tag");
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::InvalidArgument, "TAG_NOT_FOUND")
    );
    assert!(e.message().contains("#tidak-ada#"), "{}", e.message());
    assert_eq!(
        e.get_details_error_info().expect("info").metadata["tag"],
        "#tidak-ada#"
    );
    let cp = anyone
        .get_checkpoint(pb::GetCheckpointRequest::default())
        .await
        .expect("cp")
        .into_inner();
    assert_eq!(
        cp.note.lines().nth(1).and_then(|s| s.parse::<u64>().ok()),
        Some(size_before)
    );
    let _ = stop.send(());
    done.await.expect("server");
}

/// SignPdfStream with a seal: the metadata answer names the document id, which the log entry
/// carries as its hash; the whole signed document comes back in chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_seal_answers_its_document_id() {
    use pb::sign_pdf_stream_request::Part;
    use pb::sign_pdf_stream_response::Part as Out;
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, stop, done) = spawn(config_with_plain_agency(dir.path())).await;
    let mut signer = SignerClient::new(client_channel(port, Some("client")).await);
    let mut meta = seal_request("dev", "#ttd#", "stream-seal-1");
    let pdf = std::mem::take(&mut meta.pdf);
    meta.update_only = false;
    meta.size_hint = pdf.len() as u64;
    let mut parts = vec![pb::SignPdfStreamRequest {
        part: Some(Part::Metadata(meta)),
    }];
    for c in pdf.chunks(4096) {
        parts.push(pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(c.to_vec().into())),
        });
    }
    let mut stream = signer
        .sign_pdf_stream(tokio_stream::iter(parts))
        .await
        .expect("stream accepted")
        .into_inner();
    let answer = match stream.message().await.expect("first").and_then(|m| m.part) {
        Some(Out::Metadata(m)) => m,
        other => panic!("metadata first, got {other:?}"),
    };
    let mut signed = Vec::new();
    while let Some(m) = stream.message().await.expect("chunk") {
        if let Some(Out::Chunk(c)) = m.part {
            signed.extend_from_slice(&c);
        }
    }
    assert!(signed.starts_with(&pdf));
    pades::stamp::DocumentId::parse(&answer.document_id).expect("a document id");
    assert_eq!(
        record(&answer.entry.expect("entry")).document_id_sha256,
        tlog::DocumentIdHash::Present(pades::sha256(answer.document_id.as_bytes()))
    );
    let _ = stop.send(());
    done.await.expect("server");
}
