//! The page's tests: verdicts rendered from verifications (passed with its log entry, failed,
//! no signature), hostile strings from a document rendered inert, the language switch, and
//! whole requests through [`crate::http::router`] (the form, refusals as pages, `/d/{id}`
//! unknown, the static files).

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pades::verify::{CertificateInfo, Change, ChangeLevel, Check, Coverage, SignatureReport};
use pades::{Indication, SubIndication, UnixTime};
use tower::ServiceExt;

use super::templates::{Frame, VerdictPage};
use super::text::Lang;
use super::view::ResultView;
use crate::reply::{Checkpoint, InclusionProof};
use crate::service::Segel;
use crate::verification::{CheckedSignature, LogMatch, Verification};

/// A development server's core over a fresh PKI and log (the directory lives as long as the
/// first value).
fn segel() -> (tempfile::TempDir, Arc<Segel>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    let raw = crate::config::dev(&certs, &dir.path().join("log"), "127.0.0.1:0");
    let cfg = raw.resolve(UnixTime::now().0).expect("config");
    let log = crate::serve::open_log(&cfg).expect("log");
    (dir, Segel::new(cfg, log))
}

fn app(segel: Arc<Segel>) -> axum::Router {
    crate::http::router(
        segel,
        &crate::http::HttpSettings {
            max_upload_bytes: 1 << 20,
            max_concurrent_uploads: 4,
            max_uploads_per_address: 4,
            tls: false,
            request_timeout: Duration::from_secs(60),
        },
    )
}

/// Send `req`: status, headers, body as text.
async fn send(
    segel: &Arc<Segel>,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app(segel.clone()).oneshot(req).await.expect("answer");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// A browser's form post of `pdf` as the field `file`.
fn post_file(uri: &str, pdf: &[u8], name: &str) -> Request<Body> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(pdf);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    Request::post(uri)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .expect("request")
}

/// The value of attribute `name` on the element whose start tag contains `marker`.
fn attr(html: &str, marker: &str, name: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!(" {name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

fn report(indication: Indication, sub: Option<SubIndication>) -> SignatureReport {
    let passed = indication == Indication::TotalPassed;
    SignatureReport {
        field: "Signature1".into(),
        sub_filter: "ETSI.CAdES.detached".into(),
        signer: Some("CN=Budi".into()),
        claimed_time: Some(UnixTime(1_796_444_580)),
        byte_range: vec![0, 10, 20, 30],
        coverage: Coverage::WholeFile,
        level: None,
        certification: None,
        changes: Vec::new(),
        indication,
        sub_indication: sub,
        reason: "engine reason".into(),
        checks: vec![
            Check {
                name: "message-digest",
                passed: sub != Some(SubIndication::HashFailure),
                detail: "digest".into(),
            },
            Check {
                name: "chain",
                passed,
                detail: "chain".into(),
            },
        ],
        message_digest: Some([1; 32]),
        signature_sha256: Some([2; 32]),
        certificate: Some(CertificateInfo {
            subject: "CN=Budi Santoso, O=Kementerian Dalam Negeri".into(),
            common_name: Some("Budi Santoso".into()),
            organization: Some("Kementerian Dalam Negeri".into()),
            issuer: "CN=Agency CA".into(),
            serial: "0A1B".into(),
            not_before: UnixTime(1_700_000_000),
            not_after: UnixTime(1_900_000_000),
            sha256: [3; 32],
        }),
        digest_algorithm: Some("SHA-256"),
        signature_algorithm: Some("RSA PKCS#1 v1.5 SHA-256"),
    }
}

fn logged(index: u64) -> LogMatch {
    LogMatch {
        index,
        entry: tlog::LogEntry {
            index,
            time_ms: 1_796_444_580_000,
            agency: "dev".into(),
            certificate_sha256: [3; 32],
            caller: "siola-dev".into(),
            message_digest: [1; 32],
            signature_sha256: [2; 32],
            document_sha256: [0xab; 32],
            document_source: tlog::DocumentSource::Unrecorded,
            document_ref: None,
            document_ref_hmac: None,
            document_id_sha256: tlog::DocumentIdHash::Absent,
        },
        record: Vec::new(),
        document_id: None,
        proof: InclusionProof {
            leaf_index: index,
            tree_size: index + 1,
            hashes: Vec::new(),
        },
        proof_verified: true,
    }
}

fn verification(overall: Indication, signatures: Vec<CheckedSignature>) -> Verification {
    Verification {
        overall,
        signatures,
        checkpoint: Checkpoint {
            note: "segel.dev/log\n1\nAAAA\n".into(),
            verifier_key: "segel.dev/log+00000000+AA".into(),
        },
        size: 8,
    }
}

fn render(v: &Verification, segel: &Segel, lang: Lang, file: Option<&str>) -> String {
    let f = Frame::new(lang, lang.texts().result_title, "/", 1 << 20);
    let r = ResultView::new(v, segel, lang, file, None);
    VerdictPage { f, r }.render().expect("renders")
}

#[test]
fn a_passed_signature_in_the_log_is_genuine_with_its_agency_and_entry() {
    let (_dir, segel) = segel();
    let v = verification(
        Indication::TotalPassed,
        vec![CheckedSignature {
            report: report(Indication::TotalPassed, None),
            log: Some(logged(7)),
        }],
    );
    let html = render(&v, &segel, Lang::Id, Some("surat.pdf"));
    assert!(html.contains("<html lang=\"id\">"));
    assert_eq!(
        attr(&html, "id=\"result\"", "data-overall").as_deref(),
        Some("TOTAL-PASSED")
    );
    assert_eq!(
        attr(&html, "id=\"result\"", "data-signatures").as_deref(),
        Some("1")
    );
    assert_eq!(
        attr(&html, "class=\"signature", "data-log-index").as_deref(),
        Some("7")
    );
    assert_eq!(
        attr(&html, "class=\"signature", "data-indication").as_deref(),
        Some("TOTAL-PASSED")
    );
    for words in [
        "Asli",
        "Dev Agency (development only)",
        "Budi Santoso",
        "Kementerian Dalam Negeri",
        "5 Desember 2026 pukul 11.23 WIB",
        "entri nomor 7",
        "terverifikasi",
        "tidak ada yang berubah sesudahnya",
        "penerbit yang dipercaya",
        "/static/icon-good.svg",
        &"ab".repeat(32),
    ] {
        assert!(html.contains(words), "{words:?} missing:\n{html}");
    }
    assert!(attr(&html, "id=\"result\"", "role").as_deref() == Some("status"));
    assert!(html.contains("autofocus"));
    assert!(html.contains("dokumen tidak berubah"));

    // Passed, with changes its signature allows after it: never "unchanged".
    let mut later = report(Indication::TotalPassed, None);
    later.coverage = Coverage::Revision { end: 10 };
    let v = verification(
        Indication::TotalPassed,
        vec![CheckedSignature {
            report: later,
            log: Some(logged(7)),
        }],
    );
    for lang in [Lang::Id, Lang::En] {
        let html = render(&v, &segel, lang, None);
        assert!(
            !html.contains("tidak berubah") && !html.contains("unchanged"),
            "{html}"
        );
        assert!(html.contains(lang.texts().overall_passed_changed), "{html}");
    }
}

#[test]
fn a_failed_signature_says_why_in_plain_words_and_what_changed() {
    let (_dir, segel) = segel();
    let mut changed = report(
        Indication::TotalFailed,
        Some(SubIndication::SigConstraintsFailure),
    );
    changed.coverage = Coverage::Revision { end: 10 };
    changed.changes = vec![
        Change {
            revision_end: 20,
            level: ChangeLevel::Content,
            object: Some(4),
            field: None,
            every_field: false,
            what: "page 1 content stream replaced".into(),
        },
        Change {
            revision_end: 20,
            level: ChangeLevel::Signatures,
            object: Some(9),
            field: Some("Segel2".into()),
            every_field: false,
            what: "signature field added".into(),
        },
    ];
    let v = verification(
        Indication::TotalFailed,
        vec![
            CheckedSignature {
                report: report(Indication::TotalFailed, Some(SubIndication::HashFailure)),
                log: None,
            },
            CheckedSignature {
                report: changed,
                log: None,
            },
        ],
    );
    let html = render(&v, &segel, Lang::Id, None);
    assert_eq!(
        attr(&html, "id=\"result\"", "data-overall").as_deref(),
        Some("TOTAL-FAILED")
    );
    assert_eq!(
        attr(&html, "id=\"result\"", "data-signatures").as_deref(),
        Some("2")
    );
    for words in [
        "Tidak asli",
        "isi dokumen berubah setelah ditandatangani",
        "Isi yang ditandatangani telah diubah",
        "dokumen diubah setelah ditandatangani melebihi yang diizinkan",
        "isi dokumen diubah (halaman, teks atau gambar)",
        "page 1 content stream replaced",
        "tanda tangan atau segel baru ditambahkan",
        "Segel2",
        "HASH_FAILURE",
        "tidak tercatat di log publik",
        "/static/icon-bad.svg",
    ] {
        assert!(html.contains(words), "{words:?} missing:\n{html}");
    }
    assert!(!html.contains("tidak ada yang berubah sesudahnya"));
    assert_eq!(
        attr(&html, "class=\"signature", "data-log-index").as_deref(),
        Some("")
    );
}

#[test]
fn no_signature_is_indeterminate_with_count_zero_and_says_so() {
    let (_dir, segel) = segel();
    // Whatever the engine's overall says for an empty list, nothing vouches for the file.
    let v = verification(Indication::TotalPassed, Vec::new());
    let html = render(&v, &segel, Lang::En, None);
    assert_eq!(
        attr(&html, "id=\"result\"", "data-overall").as_deref(),
        Some("INDETERMINATE")
    );
    assert_eq!(
        attr(&html, "id=\"result\"", "data-signatures").as_deref(),
        Some("0")
    );
    assert!(html.contains("This document carries no electronic signature."));
    assert!(!html.contains("class=\"signature"));
}

#[test]
fn hostile_strings_from_a_document_render_inert() {
    let (_dir, segel) = segel();
    let mut r = report(Indication::TotalPassed, None);
    let evil = "<script>alert(1)</script>\"' onmouseover=x \u{202e}fdp.exe";
    r.field = evil.into();
    r.reason = evil.into();
    r.checks[0].detail = evil.into();
    if let Some(c) = r.certificate.as_mut() {
        c.common_name = Some(evil.into());
        c.organization = Some(evil.into());
        c.subject = evil.into();
        c.issuer = evil.into();
    }
    r.changes = vec![Change {
        revision_end: 1,
        level: ChangeLevel::FormFilling,
        object: None,
        field: Some(evil.into()),
        every_field: false,
        what: evil.into(),
    }];
    let v = verification(
        Indication::TotalPassed,
        vec![CheckedSignature {
            report: r,
            log: None,
        }],
    );
    let html = render(&v, &segel, Lang::Id, Some(evil));
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("\"' onmouseover"), "{html}");
    assert!(!html.contains('\u{202e}'), "a direction override survived");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    // The only script is our own file.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("src=\"/static/segel.js\""));
}

#[test]
fn english_pages_are_english_throughout() {
    let (_dir, segel) = segel();
    let v = verification(
        Indication::TotalFailed,
        vec![CheckedSignature {
            report: report(Indication::TotalFailed, Some(SubIndication::HashFailure)),
            log: Some(logged(3)),
        }],
    );
    let en = render(&v, &segel, Lang::En, None);
    assert!(en.contains("<html lang=\"en\">"));
    for words in [
        "Not genuine",
        "the document&#39;s content changed after it was signed",
        "5 December 2026, 11:23 WIB",
        "entry number 3",
    ] {
        assert!(en.contains(words), "{words:?} missing:\n{en}");
    }
    for indonesian in ["Tidak asli", "tanda tangan", "pukul", "Periksa", "Berkas"] {
        assert!(
            !en.contains(indonesian),
            "{indonesian:?} on an English page"
        );
    }
    // The switch link leads to the Indonesian page; the form keeps English.
    assert_eq!(attr(&en, "class=\"switch\"", "href").as_deref(), Some("/"));
    assert_eq!(
        attr(&en, "id=\"verify-form\"", "action").as_deref(),
        Some("/?lang=en")
    );
    let id = render(&v, &segel, Lang::Id, None);
    assert_eq!(
        attr(&id, "class=\"switch\"", "href").as_deref(),
        Some("/?lang=en")
    );
    for english in ["Not genuine", "Technical details", "entry number"] {
        assert!(!id.contains(english), "{english:?} on an Indonesian page");
    }
}

#[tokio::test]
async fn the_form_has_its_hooks_in_both_languages() {
    let (_dir, segel) = segel();
    let (status, headers, html) = send(&segel, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    assert!(html.contains("<html lang=\"id\">"));
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(html.contains("<label for=\"file\">"));
    assert_eq!(
        attr(&html, "id=\"verify-form\"", "method").as_deref(),
        Some("post")
    );
    assert_eq!(
        attr(&html, "id=\"verify-form\"", "enctype").as_deref(),
        Some("multipart/form-data")
    );
    assert_eq!(attr(&html, "id=\"file\"", "name").as_deref(), Some("file"));
    assert_eq!(attr(&html, "id=\"file\"", "type").as_deref(), Some("file"));
    assert_eq!(
        attr(&html, "id=\"verify-submit\"", "type").as_deref(),
        Some("submit")
    );
    assert_eq!(html.matches("<h1").count(), 1);
    for landmark in [
        "<header",
        "<main",
        "<footer",
        "class=\"skip\" href=\"#main\"",
    ] {
        assert!(html.contains(landmark), "{landmark}");
    }
    // Nothing from elsewhere, nothing inline.
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains(" style=") && !html.contains("<style"));
    let (_, _, en) = send(&segel, get("/?lang=en")).await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Check a document"));
}

#[tokio::test]
async fn refusals_are_pages_with_their_status() {
    let (_dir, segel) = segel();
    let (status, _, html) = send(&segel, post_file("/", b"GIF89a not a pdf", "x.pdf")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(
        attr(&html, "id=\"error\"", "data-reason").as_deref(),
        Some("NOT_A_PDF")
    );
    assert!(html.contains("Berkas ini bukan PDF"));
    assert!(
        html.contains("id=\"verify-form\""),
        "the form is offered again"
    );

    // A form without the field `file`.
    let req = Request::post("/?lang=en")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(
            "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ--\r\n",
        ))
        .expect("request");
    let (status, _, html) = send(&segel, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("<html lang=\"en\">"));
    assert_eq!(
        attr(&html, "id=\"error\"", "data-reason").as_deref(),
        Some("INVALID_REQUEST")
    );

    // Too large for the listener's limit.
    let big = vec![b'%'; (1 << 20) + 1];
    let (status, _, html) = send(&segel, post_file("/", &big, "big.pdf")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        attr(&html, "id=\"error\"", "data-reason").as_deref(),
        Some("DOCUMENT_TOO_LARGE")
    );
}

#[tokio::test]
async fn a_pdf_without_signatures_says_so() {
    let (_dir, segel) = segel();
    let pdf = pades::testing::synthetic_pdf(1, 100);
    let (status, _, html) = send(&segel, post_file("/", &pdf, "plain.pdf")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        attr(&html, "id=\"result\"", "data-overall").as_deref(),
        Some("INDETERMINATE")
    );
    assert_eq!(
        attr(&html, "id=\"result\"", "data-signatures").as_deref(),
        Some("0")
    );
    assert!(html.contains("Dokumen ini tidak memuat tanda tangan elektronik."));
    assert!(html.contains("plain.pdf"));
}

#[tokio::test]
async fn unknown_and_malformed_document_ids_are_404_pages() {
    let (_dir, segel) = segel();
    for uri in [
        "/d/NeverLoggedId_0123456",
        "/d/short",
        "/d/%3Cscript%3Ealert(1)%3C%2Fscript%3E_long_enough",
        "/d/%FF%FE-not-utf8-at-all-xx",
        "/d/NeverLoggedId_0123456?lang=en",
    ] {
        let (status, _, html) = send(&segel, get(uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {html}");
        assert!(html.contains("id=\"error\""), "{uri}");
        assert!(!html.contains("<script>"), "{uri}");
        if uri.ends_with("lang=en") {
            assert!(html.contains("No document with this code is recorded."));
        } else {
            assert!(html.contains("Tidak ada dokumen dengan kode ini yang tercatat."));
            assert!(html.contains("kode QR"), "how to check for typos");
        }
    }
    // Posting to an unknown id is a 404 too, whatever the upload.
    let pdf = pades::testing::synthetic_pdf(1, 10);
    let (status, _, _) = send(&segel, post_file("/d/NeverLoggedId_0123456", &pdf, "a.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn static_files_are_served_with_their_type_and_cached() {
    let (_dir, segel) = segel();
    for (path, media) in [
        ("/static/segel.css", "text/css; charset=utf-8"),
        ("/static/segel.js", "text/javascript; charset=utf-8"),
        ("/static/icon-good.svg", "image/svg+xml"),
        ("/static/icon-bad.svg", "image/svg+xml"),
        ("/static/icon-unsure.svg", "image/svg+xml"),
        ("/static/logo.svg", "image/svg+xml"),
    ] {
        let (status, headers, body) = send(&segel, get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some(media),
            "{path}"
        );
        assert_eq!(
            headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("public, max-age=86400"),
            "{path}"
        );
        assert!(
            !body.contains("http://") || path.ends_with(".svg"),
            "{path}"
        );
    }
    for missing in ["/static/nope.css", "/static/..%2Fmod.rs", "/static/"] {
        let (status, _, _) = send(&segel, get(missing)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn a_late_request_on_an_entry_page_is_refused_with_a_form_back_to_it() {
    let (_dir, segel) = segel();
    let state = crate::http::HttpState {
        segel,
        max_upload_bytes: 1 << 20,
        uploads: Arc::new(tokio::sync::Semaphore::new(1)),
        max_concurrent_uploads: 1,
        upload_sources: crate::limits::PerAddress::new(1),
        max_uploads_per_address: 1,
        tls: false,
        request_timeout: Duration::from_secs(1),
    };
    let late = crate::status::HttpRefusal::new(crate::status::Reason::Cancelled, "too late");
    let id = "NeverLoggedId_0123456";
    for (path, form) in [
        (format!("/d/{id}"), format!("/d/{id}")),
        ("/d/not<an>id".to_string(), "/".to_string()),
        ("/".to_string(), "/".to_string()),
    ] {
        let resp = super::refusal_page(&state, &path, Some("lang=en"), &late);
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let html = String::from_utf8_lossy(&body).into_owned();
        assert!(html.contains("<html lang=\"en\""), "{html}");
        let action = attr(&html, "id=\"verify-form\"", "action").expect("a form");
        assert!(
            action == form || action.starts_with(&format!("{form}?")),
            "{path}: {action}"
        );
    }
}
