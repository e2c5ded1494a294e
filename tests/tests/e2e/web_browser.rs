//! The verification page in a real browser: headless Chromium (Debian's `chromium` and
//! `chromedriver`) driven through WebDriver against a server on loopback. A letter sealed over
//! gRPC is uploaded and found genuine with its agency's name; a tampered copy is not genuine,
//! with the reason; the link in the seal's QR code (decoded from the rendered page) opens its
//! log entry; each state passes axe-core's WCAG 2.1 A/AA rules with no serious or critical
//! violation, in Indonesian and in English; the form is reachable by keyboard with a visible
//! focus, fits a 360 px window, and works with JavaScript disabled. Screenshots of every state
//! are kept under `target/test-artifacts/web/`.

use std::path::{Path, PathBuf};

use segel_tests::browser::{axe_source, Browser, Options};
use segel_tests::{corpus, poppler};

use crate::grpc::{start_web, WebServer};

/// The development agency's configured name, shown on the page for its seals.
const AGENCY: &str = "Dev Agency (development only)";

/// A letter sealed by the test server, as a person would receive it.
struct Sealed {
    file: PathBuf,
    document_id: String,
    entry_index: u64,
}

/// Seal `surat-rekomendasi.pdf` visibly over `#ttd#` through the server's gRPC API, the seal's
/// QR code linking to the server's own HTTP port.
async fn seal(web: &WebServer, work: &Path) -> Sealed {
    let s = web
        .seal_letter("surat-rekomendasi.pdf", "browser-seal")
        .await;
    let file = work.join("surat-bersegel.pdf");
    std::fs::write(&file, &s.pdf).expect("write the sealed letter");
    Sealed {
        file,
        document_id: s.document_id,
        entry_index: s.index,
    }
}

/// A copy of `sealed` with one byte of page 1's content stream changed: the same length and
/// cross-reference table (the file still parses), a different page inside the signed range.
fn tampered_copy(sealed: &Path, work: &Path) -> PathBuf {
    let mut data = std::fs::read(sealed).expect("read the sealed letter");
    let original = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    // Page 1's content is object 12 (ASCII85 of Flate); the original file is the sealed one's
    // prefix, all of it inside the signed range (the signature is in the appended update).
    assert!(
        data.starts_with(&original),
        "the seal is an incremental update"
    );
    let object = find(&original, b"\n12 0 obj").expect("page 1's content object");
    let data_start = object + find(&original[object..], b"stream\n").expect("its stream") + 7;
    let at = data_start + 100;
    assert!(
        original[at].is_ascii_graphic() && original[at] != b'~',
        "inside the stream's ASCII85 data"
    );
    // Another ASCII85 digit: the stream stays well formed, the page changes.
    data[at] = if data[at] == b'A' { b'B' } else { b'A' };
    let file = work.join("surat-diubah.pdf");
    std::fs::write(&file, data).expect("write the tampered copy");
    file
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The text of the only QR code on the sealed letter's pages, read from a rendering.
fn qr_link(sealed: &Path, work: &Path) -> Option<String> {
    let mut found = Vec::new();
    for page in 1.. {
        // Rendering past the last page fails: the pages are all read.
        let Ok(raster) = poppler::render(sealed, page, 200, false, work) else {
            break;
        };
        let raster = raster?;
        found.extend(
            poppler::qr_codes(&raster)
                .unwrap_or_else(|e| panic!("page {page}: {e:#}"))
                .into_iter()
                .map(|q| q.text),
        );
    }
    assert_eq!(found.len(), 1, "QR codes on the sealed letter: {found:?}");
    found.pop()
}

/// A browser and axe-core, or `None` when they are not installed (a failure instead when the
/// tools are required).
async fn browser(options: Options) -> Option<(Browser, String)> {
    let axe = axe_source()?;
    let b = Browser::start(options).await.expect("headless Chromium")?;
    Some((b, axe))
}

/// An attribute of the element matching `css`, waited for.
async fn attr(b: &Browser, css: &str, name: &str) -> Option<String> {
    b.wait_for(css)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
        .attr(name)
        .await
        .unwrap_or_else(|e| panic!("{css} [{name}]: {e}"))
}

/// Upload `file` from the page at `url` and wait for the verdict (`#result`) or a refusal
/// (`#error`).
async fn upload(b: &Browser, url: &str, file: &Path) {
    b.open(url).await.unwrap_or_else(|e| panic!("{e:#}"));
    b.upload(file).await.unwrap_or_else(|e| panic!("{e:#}"));
    b.wait_for("#result, #error")
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
}

async fn accessible(b: &Browser, axe: &str, state: &str) {
    b.assert_accessible(axe, state)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
}

async fn shot(b: &Browser, name: &str) {
    b.screenshot(name).await.unwrap_or_else(|e| panic!("{e:#}"));
}

async fn page_text(b: &Browser) -> String {
    b.text().await.unwrap_or_else(|e| panic!("{e:#}"))
}

/// The empty page, in Indonesian by default and in English: its language declared, the
/// upload form's hooks present, no serious or critical accessibility violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_empty_page_is_accessible_in_indonesian_and_english() {
    let web = start_web().await;
    let Some((b, axe)) = browser(Options::default()).await else {
        return;
    };
    for (query, lang) in [("", "id"), ("?lang=en", "en")] {
        b.open(&format!("{}/{query}", web.base()))
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(attr(&b, "html", "lang").await.as_deref(), Some(lang));
        for hook in [
            "form#verify-form",
            "input#file[name=file]",
            "#verify-submit",
        ] {
            b.wait_for(hook).await.unwrap_or_else(|e| panic!("{e:#}"));
        }
        shot(&b, &format!("empty-{lang}")).await;
        accessible(&b, &axe, &format!("the empty page ({lang})")).await;
    }
    b.close().await;
    web.stop().await;
}

/// A sealed letter is genuine (with the agency's name) and a tampered copy is not (with the
/// reason), in Indonesian and in English, every result accessible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_letter_is_genuine_and_a_tampered_copy_is_not() {
    let web = start_web().await;
    let work = tempfile::tempdir().expect("tempdir");
    let sealed = seal(&web, work.path()).await;
    let tampered = tampered_copy(&sealed.file, work.path());
    let Some((b, axe)) = browser(Options::default()).await else {
        return;
    };
    for (query, lang) in [("", "id"), ("?lang=en", "en")] {
        let url = format!("{}/{query}", web.base());

        upload(&b, &url, &sealed.file).await;
        assert_eq!(
            attr(&b, "#result", "data-overall").await.as_deref(),
            Some("TOTAL-PASSED"),
            "{lang}: {}",
            page_text(&b).await
        );
        assert_eq!(
            attr(&b, "#result", "data-signatures").await.as_deref(),
            Some("1")
        );
        let signature = "section.signature[data-indication][data-log-index]";
        assert_eq!(
            attr(&b, signature, "data-indication").await.as_deref(),
            Some("TOTAL-PASSED")
        );
        assert_eq!(
            attr(&b, signature, "data-log-index").await,
            Some(sealed.entry_index.to_string())
        );
        assert_eq!(attr(&b, "html", "lang").await.as_deref(), Some(lang));
        let text = page_text(&b).await;
        assert!(text.contains(AGENCY), "{lang}: no agency name in:\n{text}");
        shot(&b, &format!("passed-{lang}")).await;
        accessible(&b, &axe, &format!("a genuine letter ({lang})")).await;

        upload(&b, &url, &tampered).await;
        assert_eq!(
            attr(&b, "#result", "data-overall").await.as_deref(),
            Some("TOTAL-FAILED"),
            "{lang}: {}",
            page_text(&b).await
        );
        assert_eq!(
            attr(&b, signature, "data-indication").await.as_deref(),
            Some("TOTAL-FAILED")
        );
        let text = page_text(&b).await.to_lowercase();
        let (not_genuine, reason) = match lang {
            "en" => ("not genuine", "changed after it was signed"),
            _ => ("tidak asli", "berubah setelah ditandatangani"),
        };
        assert!(
            text.contains(not_genuine) && text.contains(reason),
            "{lang}: the page does not say `{not_genuine}` with the reason (`{reason}`):\n{text}"
        );
        shot(&b, &format!("tampered-{lang}")).await;
        accessible(&b, &axe, &format!("a tampered letter ({lang})")).await;
    }
    b.close().await;
    web.stop().await;
}

/// The link in the seal's QR code, decoded from the rendered letter, opens the document's log
/// entry, in Indonesian and in English; there the sealed letter matches the record and a
/// tampered copy does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_link_of_a_sealed_letter_opens_its_log_entry() {
    let web = start_web().await;
    let work = tempfile::tempdir().expect("tempdir");
    let sealed = seal(&web, work.path()).await;
    let Some(link) = qr_link(&sealed.file, work.path()) else {
        return;
    };
    assert_eq!(link, format!("{}/d/{}", web.base(), sealed.document_id));
    let Some((b, axe)) = browser(Options::default()).await else {
        return;
    };
    for (url, lang) in [(link.clone(), "id"), (format!("{link}?lang=en"), "en")] {
        b.open(&url).await.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            attr(&b, "#document", "data-entry-index").await,
            Some(sealed.entry_index.to_string()),
            "{url}: {}",
            page_text(&b).await
        );
        assert_eq!(attr(&b, "html", "lang").await.as_deref(), Some(lang));
        let text = page_text(&b).await;
        assert!(text.contains(AGENCY), "{lang}: no agency name in:\n{text}");
        shot(&b, &format!("document-{lang}")).await;
        accessible(&b, &axe, &format!("the document's entry ({lang})")).await;
    }
    // The entry's page compares a file with the record: the sealed letter is the recorded
    // document, a tampered copy is not (and is not genuine).
    let tampered = tampered_copy(&sealed.file, work.path());
    for (file, overall, matches) in [
        (&sealed.file, "TOTAL-PASSED", "yes"),
        (&tampered, "TOTAL-FAILED", "no"),
    ] {
        upload(&b, &link, file).await;
        assert_eq!(
            attr(&b, "#result", "data-overall").await.as_deref(),
            Some(overall),
            "{}",
            page_text(&b).await
        );
        assert_eq!(
            attr(&b, "#result", "data-match").await.as_deref(),
            Some(matches)
        );
        assert_eq!(
            attr(&b, "#document", "data-entry-index").await,
            Some(sealed.entry_index.to_string())
        );
        shot(&b, &format!("document-compared-{overall}")).await;
        accessible(
            &b,
            &axe,
            &format!("the entry compared with a file ({overall})"),
        )
        .await;
    }
    b.close().await;
    web.stop().await;
}

/// The file input is reached with Tab and shows its focus; in a 360 px window neither the
/// empty page nor a result scrolls sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_is_reachable_by_keyboard_and_fits_a_narrow_window() {
    let web = start_web().await;
    let work = tempfile::tempdir().expect("tempdir");
    let sealed = seal(&web, work.path()).await;
    let Some((b, _axe)) = browser(Options::default()).await else {
        return;
    };
    b.open(&format!("{}/", web.base()))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    b.wait_for("#file")
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    // The probe that tells the test without JavaScript it is without, seen to say "with".
    assert!(b.scripting().await.unwrap_or_else(|e| panic!("{e:#}")));
    let mut reached = Vec::new();
    for _ in 0..30 {
        press_tab(&b).await;
        let id = b
            .eval("return document.activeElement ? document.activeElement.id : '';")
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let id = id.as_str().unwrap_or_default().to_string();
        let done = id == "file";
        reached.push(id);
        if done {
            break;
        }
    }
    assert_eq!(
        reached.last().map(String::as_str),
        Some("file"),
        "Tab never reached #file; focus went through {reached:?}"
    );
    // Focus is visible: the input (or the label standing for it) draws an outline or a ring
    // while it has keyboard focus.
    let visible = b
        .eval(
            "const el = document.activeElement;
             const drawn = e => { const s = getComputedStyle(e);
               return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                 || s.boxShadow !== 'none'; };
             return { focusVisible: el.matches(':focus-visible'),
                      drawn: drawn(el) || Array.from(el.labels || []).some(drawn) };",
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        visible,
        serde_json::json!({ "focusVisible": true, "drawn": true }),
        "the focused file input shows no focus indicator"
    );
    shot(&b, "keyboard-focus").await;
    b.close().await;

    let Some((narrow, _)) = browser(Options {
        width: 360,
        height: 800,
        ..Options::default()
    })
    .await
    else {
        return;
    };
    narrow
        .open(&format!("{}/", web.base()))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    no_sideways_scroll(&narrow, "the empty page").await;
    shot(&narrow, "narrow-empty").await;
    upload(&narrow, &format!("{}/", web.base()), &sealed.file).await;
    assert_eq!(
        attr(&narrow, "#result", "data-overall").await.as_deref(),
        Some("TOTAL-PASSED")
    );
    no_sideways_scroll(&narrow, "a genuine letter").await;
    shot(&narrow, "narrow-passed").await;
    narrow.close().await;
    web.stop().await;
}

/// One press of the Tab key, sent to whatever has focus.
async fn press_tab(b: &Browser) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::key::Key;
    let tab = char::from(Key::Tab);
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab });
    b.client()
        .perform_actions(keys)
        .await
        .unwrap_or_else(|e| panic!("pressing Tab: {e}"));
}

async fn no_sideways_scroll(b: &Browser, state: &str) {
    let widths = b
        .eval("return [document.documentElement.scrollWidth, window.innerWidth];")
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let w: Vec<u64> = widths
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    let [scroll, inner] = w[..] else {
        panic!("{state}: widths {widths}");
    };
    assert!(
        inner <= 400,
        "{state}: the window is {inner} px wide, not narrow"
    );
    assert!(
        scroll <= inner,
        "{state}: the page is {scroll} px wide in a {inner} px window (sideways scroll)"
    );
}

/// With JavaScript disabled the form still posts and the result page says the letter is
/// genuine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_without_javascript() {
    let web = start_web().await;
    let work = tempfile::tempdir().expect("tempdir");
    let sealed = seal(&web, work.path()).await;
    let Some((b, _axe)) = browser(Options {
        javascript: false,
        ..Options::default()
    })
    .await
    else {
        return;
    };
    b.open(&format!("{}/", web.base()))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        !b.scripting().await.unwrap_or_else(|e| panic!("{e:#}")),
        "the page still runs scripts"
    );
    upload(&b, &format!("{}/", web.base()), &sealed.file).await;
    assert_eq!(
        attr(&b, "#result", "data-overall").await.as_deref(),
        Some("TOTAL-PASSED"),
        "{}",
        page_text(&b).await
    );
    assert!(!b.scripting().await.unwrap_or_else(|e| panic!("{e:#}")));
    let text = page_text(&b).await;
    assert!(text.contains(AGENCY), "no agency name in:\n{text}");
    shot(&b, "no-javascript-passed").await;
    b.close().await;
    web.stop().await;
}
