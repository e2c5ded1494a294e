//! The verification page over a real server on loopback: a letter sealed visibly over gRPC,
//! then posted to `/` as a browser's form posts it (multipart, no JavaScript): genuine, with
//! the agency's name and its log entry; one changed byte of page content: not genuine, with
//! the reason in plain words; a non-PDF and an oversize upload: error pages with their
//! status; the seal's `/d/{id}` page, a compare there, and an unknown id.

use segel_server::config;
use segel_tests::{corpus, pki};

use crate::grpc::{spawn_web, start_web};

/// A visibly sealed `surat-rekomendasi.pdf`: the signed PDF and its document id.
async fn seal_letter(web: &crate::grpc::WebServer) -> (Vec<u8>, String) {
    let s = web.seal_letter("surat-rekomendasi.pdf", "web-page-1").await;
    (s.pdf, s.document_id)
}

/// POST `pdf` to `url` as the page's form does: status and body.
async fn post_form(url: &str, pdf: Vec<u8>, name: &str) -> (u16, String) {
    let part = reqwest::multipart::Part::bytes(pdf)
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = reqwest::Client::new()
        .post(url)
        .multipart(form)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp.text().await.expect("body");
    assert!(ct.starts_with("text/html"), "{status}: {ct}: {body}");
    (status, body)
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("get");
    (resp.status().as_u16(), resp.text().await.expect("body"))
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

/// Every `data-log-index` of the signature sections.
fn log_indexes(html: &str) -> Vec<String> {
    html.match_indices("<section class=\"signature")
        .filter_map(|(i, _)| attr(&html[i..], "class=\"signature", "data-log-index"))
        .collect()
}

/// The same bytes with one character of the letter's first page content stream changed (an
/// ASCII85 digit for another: the file still parses, the signed bytes differ).
fn with_page_content_changed(pdf: &[u8]) -> Vec<u8> {
    let obj = pdf
        .windows(9)
        .position(|w| w == b"12 0 obj\n")
        .expect("the letter's content stream");
    let data = obj
        + pdf[obj..]
            .windows(7)
            .position(|w| w == b"stream\n")
            .expect("stream")
        + 7;
    let at = data + 100;
    let mut out = pdf.to_vec();
    out[at] = if out[at] == b'a' { b'b' } else { b'a' };
    assert_ne!(out, pdf);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_page_judges_a_sealed_letter_and_a_changed_copy() {
    let web = start_web().await;
    let (pdf, id) = seal_letter(&web).await;

    // The form, in Indonesian by default, English on request.
    let (status, home) = get(&web.base()).await;
    assert_eq!(status, 200);
    assert!(home.contains("<html lang=\"id\">"), "{home}");
    assert!(home.contains("id=\"verify-form\""));
    assert_eq!(
        attr(&home, "id=\"file\"", "accept").as_deref(),
        Some(".pdf,application/pdf")
    );
    let (_, home_en) = get(&format!("{}/?lang=en", web.base())).await;
    assert!(home_en.contains("<html lang=\"en\">"));
    assert_eq!(
        attr(&home_en, "id=\"verify-form\"", "action").as_deref(),
        Some("/?lang=en")
    );

    // Genuine, with the agency's name and its log entry.
    let (status, page) = post_form(&format!("{}/", web.base()), pdf.clone(), "surat.pdf").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        attr(&page, "id=\"result\"", "data-overall").as_deref(),
        Some("TOTAL-PASSED"),
        "{page}"
    );
    assert_eq!(
        attr(&page, "id=\"result\"", "data-signatures").as_deref(),
        Some("1")
    );
    assert!(page.contains("Dev Agency (development only)"), "{page}");
    assert!(page.contains("Asli"), "{page}");
    assert!(page.contains("terverifikasi"), "{page}");
    let logged = log_indexes(&page);
    assert_eq!(logged.len(), 1);
    assert!(logged[0].parse::<u64>().is_ok(), "{logged:?}");

    // One byte of page content changed: not genuine, and why in plain words.
    let changed = with_page_content_changed(&pdf);
    let (status, page) = post_form(&format!("{}/", web.base()), changed.clone(), "x.pdf").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        attr(&page, "id=\"result\"", "data-overall").as_deref(),
        Some("TOTAL-FAILED"),
        "{page}"
    );
    assert!(page.contains("Tidak asli"), "{page}");
    assert!(
        page.contains("isi dokumen berubah setelah ditandatangani"),
        "{page}"
    );
    assert!(
        page.contains("Isi yang ditandatangani telah diubah"),
        "{page}"
    );
    assert!(
        !page.contains("tidak ada yang berubah sesudahnya"),
        "{page}"
    );
    let (_, page_en) = post_form(&format!("{}/?lang=en", web.base()), changed, "x.pdf").await;
    assert!(page_en.contains("<html lang=\"en\">"));
    assert!(page_en.contains("Not genuine"), "{page_en}");
    assert!(
        page_en.contains("the document&#39;s content changed after it was signed"),
        "{page_en}"
    );
    assert!(!page_en.contains("Tidak asli"), "a mixed-language page");

    // The QR's page: what the log holds, then a compare.
    let (status, doc) = get(&format!("{}/d/{id}", web.base())).await;
    assert_eq!(status, 200, "{doc}");
    let index = attr(&doc, "id=\"document\"", "data-entry-index").expect("entry index");
    assert_eq!(index, logged[0]);
    assert!(doc.contains("Dev Agency (development only)"));
    assert!(doc.contains(" WIB"), "{doc}");
    // A trailing slash (some QR scanners add one) leads to the same page.
    let (status, again) = get(&format!("{}/d/{id}/", web.base())).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        attr(&again, "id=\"document\"", "data-entry-index"),
        Some(index.clone())
    );
    assert_eq!(
        attr(&doc, "id=\"verify-form\"", "action").as_deref(),
        Some(format!("/d/{id}").as_str())
    );
    // The sealed letter with its page content replaced in a later revision: it still carries
    // the recorded seal, but it is not the recorded document.
    let changed = segel_tests::attacks::replace_content(&pdf);
    let (status, same) = post_form(&format!("{}/d/{id}", web.base()), pdf, "s.pdf").await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(
        attr(&same, "id=\"result\"", "data-match").as_deref(),
        Some("yes")
    );
    let (status, after) = post_form(&format!("{}/d/{id}", web.base()), changed, "c.pdf").await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        attr(&after, "id=\"result\"", "data-match").as_deref(),
        Some("changed"),
        "{after}"
    );
    assert_ne!(
        attr(&after, "id=\"result\"", "data-overall").as_deref(),
        Some("TOTAL-PASSED")
    );
    assert!(after.contains("diubah setelah disegel"), "{after}");
    let other = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let (status, not_it) = post_form(&format!("{}/d/{id}", web.base()), other, "o.pdf").await;
    assert_eq!(status, 200, "{not_it}");
    assert_eq!(
        attr(&not_it, "id=\"result\"", "data-match").as_deref(),
        Some("no")
    );
    assert_eq!(
        attr(&not_it, "id=\"result\"", "data-overall").as_deref(),
        Some("INDETERMINATE")
    );
    assert_eq!(
        attr(&not_it, "id=\"result\"", "data-signatures").as_deref(),
        Some("0")
    );

    // Unknown and malformed ids: a 404 page that says so.
    for bad in [
        "NeverLoggedId_0123456",
        "short",
        "has%20space-and-more-chars",
    ] {
        let (status, page) = get(&format!("{}/d/{bad}", web.base())).await;
        assert_eq!(status, 404, "{bad}: {page}");
        assert!(
            page.contains("Tidak ada dokumen dengan kode ini yang tercatat"),
            "{page}"
        );
        assert!(page.contains("id=\"error\""));
    }
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_page_refuses_a_non_pdf_and_an_oversize_upload_with_pages() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut raw = config::dev(&pki().path, &data.path().join("log"), "127.0.0.1:0");
    raw.http.max_upload_bytes = 16 * 1024;
    let web = spawn_web(raw).await;

    let (status, page) = post_form(
        &format!("{}/", web.base()),
        b"<html>not a pdf</html>".to_vec(),
        "x.pdf",
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert_eq!(
        attr(&page, "id=\"error\"", "data-reason").as_deref(),
        Some("NOT_A_PDF")
    );
    assert!(page.contains("Berkas ini bukan PDF"), "{page}");
    assert!(!page.contains("<html>not a pdf"), "the upload echoed");

    let (status, page) =
        post_form(&format!("{}/", web.base()), vec![b'%'; 200_000], "big.pdf").await;
    assert_eq!(status, 413, "{page}");
    assert_eq!(
        attr(&page, "id=\"error\"", "data-reason").as_deref(),
        Some("DOCUMENT_TOO_LARGE")
    );
    assert!(page.contains("Berkas terlalu besar"), "{page}");
    web.stop().await;
}
